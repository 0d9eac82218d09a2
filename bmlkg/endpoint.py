"""SPARQL endpoints: query one (SPARQL 1.1 Protocol), upload to one (Graph Store Protocol), serve one.

* :func:`select_remote` sends a query to an endpoint's query URL and reads the answer completely within
  one deadline. Anything short of a complete, well-formed answer is an :class:`EndpointError` (refused
  connection, HTTP error, a stalled socket, a cut-off or malformed document): rows are returned whole or
  not at all.
* :func:`push` uploads the graph as N-Triples to a Graph Store Protocol URL (``PUT`` replaces the target
  graph, ``POST`` adds to it). For Oxigraph the store URL is ``http://HOST:PORT/store`` (``?default``).
* :func:`serve` runs a read-only Oxigraph SPARQL server on localhost with the graph loaded: it writes the
  graph, loads it with ``oxigraph load`` into a fresh store folder, starts ``oxigraph serve-read-only`` and
  stops it (and removes the folder) on Ctrl-C.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import quote, urlsplit

import pyoxigraph as ox

from .constants import VERSION
from .errors import EndpointError, EndpointTimeout, EnvironmentProblem, InputError
from .results import Cell, Result, ResultsFormatError, cell_from_oxigraph, from_json, triples_result
from .sparqltext import check_read_only

DEFAULT_TIMEOUT = 60.0
MAX_ANSWER_BYTES = 512 * 1024 * 1024
RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
USER_AGENT = f"bmlkg/{VERSION}"


# -- HTTP with one deadline ------------------------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    content_type: str
    body: bytes
    location: str | None = None


def _split(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{url!r} is not an http:// or https:// endpoint URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path


def request(method: str, url: str, *, body: bytes | None = None, headers: dict | None = None,
            timeout: float | None = None) -> Answer:
    """One HTTP exchange read to the end within ``timeout`` seconds in total, or an EndpointError."""
    timeout = DEFAULT_TIMEOUT if timeout is None else float(timeout)
    if timeout <= 0:
        raise InputError(f"--timeout must be a positive number of seconds, not {timeout:g}")
    scheme, host, port, path = _split(url)
    deadline = time.monotonic() + timeout
    kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    conn = kind(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"User-Agent": USER_AGENT, **(headers or {})})
        _settimeout(conn, deadline, url, timeout)
        response = conn.getresponse()
        expected = response.getheader("Content-Length")
        chunks, size = [], 0
        while True:
            _settimeout(conn, deadline, url, timeout)
            chunk = response.read1(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise EndpointError(f"{url}: answer larger than {MAX_ANSWER_BYTES // 2**20} MB; refused")
            chunks.append(chunk)
        data = b"".join(chunks)
        if expected is not None and expected.isdigit() and len(data) != int(expected):
            raise EndpointError(f"{url}: answer cut off after {len(data)} of {expected} bytes; no rows are shown")
        return Answer(response.status, response.reason, response.getheader("Content-Type", ""), data,
                      response.getheader("Location"))
    except (socket.timeout, TimeoutError):
        raise EndpointTimeout(f"{url}: no complete answer within {timeout:g} s (--timeout); stopped") from None
    except ConnectionRefusedError:
        raise EndpointError(f"{url}: connection refused (is the endpoint running on {host}:{port}?)") from None
    except socket.gaierror as exc:
        raise EndpointError(f"{url}: cannot resolve host {host!r} ({exc.strerror or exc})") from None
    except http.client.IncompleteRead as exc:
        raise EndpointError(f"{url}: answer cut off after {len(exc.partial)} bytes; no rows are shown") from None
    except http.client.HTTPException as exc:
        raise EndpointError(f"{url}: broken HTTP answer ({type(exc).__name__}: {exc}); no rows are shown") from None
    except OSError as exc:
        raise EndpointError(f"{url}: {exc.strerror or exc}") from None
    finally:
        conn.close()


def _settimeout(conn, deadline: float, url: str, timeout: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise EndpointTimeout(f"{url}: no complete answer within {timeout:g} s (--timeout); stopped")
    if conn.sock is not None:
        conn.sock.settimeout(remaining)


def _check_status(url: str, answer: Answer) -> None:
    if 200 <= answer.status < 300:
        return
    if 300 <= answer.status < 400:
        where = f" to {answer.location}" if answer.location else ""
        raise EndpointError(f"{url}: HTTP {answer.status} redirect{where}; give the final URL")
    detail = " ".join(answer.body[:300].decode("utf-8", "replace").split())
    raise EndpointError(f"{url}: HTTP {answer.status} {answer.reason}" + (f": {detail}" if detail else ""))


# -- SPARQL 1.1 Protocol ---------------------------------------------------------------------------
def select_remote(url: str, text: str, *, timeout: float | None = None) -> Result:
    """Run a read-only query on the endpoint at ``url`` (its query URL) and return the complete result."""
    form = check_read_only(text)
    graph_form = form in ("CONSTRUCT", "DESCRIBE")
    accept = N_TRIPLES if graph_form else f"{RESULTS_JSON}, application/json;q=0.9"
    body = "query=".encode() + quote(text, safe="").encode("ascii")
    answer = request("POST", url, body=body, timeout=timeout, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": accept,
    })
    _check_status(url, answer)
    if graph_form:
        return _triples(url, answer.body)
    try:
        return from_json(answer.body)
    except ResultsFormatError as exc:
        raise EndpointError(f"{url}: malformed SPARQL results ({exc}); no rows are shown") from None


def _triples(url: str, data: bytes) -> Result:
    try:
        triples = [q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)]
    except SyntaxError as exc:
        raise EndpointError(f"{url}: malformed N-Triples answer ({exc}); no triples are shown") from None
    rows: list[tuple[Cell, Cell, Cell]] = [
        tuple(cell_from_oxigraph(x) for x in (t.subject, t.predicate, t.object)) for t in triples
    ]
    return triples_result(rows)


# -- Graph Store Protocol --------------------------------------------------------------------------
@dataclass(frozen=True)
class PushResult:
    url: str
    method: str
    triples: int
    status: int


def store_url(url: str, graph: str | None = None) -> str:
    """The Graph Store Protocol URL: ``url`` as given if it names a graph, else ``?default`` or ``?graph=``."""
    _split(url)
    if "?" in url:
        if graph:
            raise InputError(f"{url}: the URL already names a graph; leave out --graph")
        return url
    if graph:
        try:
            ox.NamedNode(graph)
        except ValueError:
            raise InputError(f"--graph {graph!r} is not a valid IRI") from None
        return f"{url}?graph={quote(graph, safe='')}"
    return f"{url}?default"


def push(triples, url: str, *, graph: str | None = None, replace: bool = True,
         timeout: float | None = None) -> PushResult:
    """Upload ``triples`` (pyoxigraph Triples) as N-Triples: PUT replaces the graph, POST adds to it."""
    target = store_url(url, graph)
    triples = list(triples)
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    method = "PUT" if replace else "POST"
    answer = request(method, target, body=data, timeout=timeout,
                     headers={"Content-Type": N_TRIPLES, "Content-Length": str(len(data))})
    _check_status(target, answer)
    return PushResult(target, method, len(triples), answer.status)


# -- serve -----------------------------------------------------------------------------------------
def oxigraph_cli() -> str:
    """The ``oxigraph`` command (from the oxigraph Python package), beside this Python or on PATH."""
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("oxigraph")
    if found:
        return found
    raise EnvironmentProblem("the `oxigraph` command is not installed: pip install oxigraph==0.5.13 "
                             "(it provides the SPARQL server bmlkg serve runs)")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _check_port(host: str, port: int) -> None:
    if not 0 < port < 65536:
        raise InputError(f"--port {port}: not a TCP port number (1-65535)")
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise EnvironmentProblem(f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port") from None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@dataclass
class Server:
    """A running ``oxigraph serve-read-only`` process and the folder holding its store."""

    process: subprocess.Popen
    folder: Path
    host: str
    port: int

    @property
    def base(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def query_url(self) -> str:
        return self.base + "/query"

    def stop(self, grace: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_server(triples, *, host: str = "127.0.0.1", port: int = 7878, timeout_s: float | None = None,
                 ready_within: float = 30.0) -> Server:
    """Load ``triples`` into a fresh Oxigraph store folder and start a read-only server on it."""
    cli = oxigraph_cli()
    _check_port(host, port)
    folder = Path(tempfile.mkdtemp(prefix="bmlkg-serve-"))
    try:
        data = folder / "bmlkg.nt"
        data.write_bytes(ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES))
        store = folder / "store"
        loaded = subprocess.run([cli, "load", "--location", str(store), "--file", str(data)],
                                capture_output=True, text=True)
        if loaded.returncode != 0:
            raise EnvironmentProblem(f"oxigraph load failed: {_tail(loaded.stderr)}")
        command = [cli, "serve-read-only", "--location", str(store), "--bind", f"{host}:{port}"]
        if timeout_s:
            command += ["--timeout-s", str(int(max(1, timeout_s)))]
        log = open(folder / "server.log", "wb")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        log.close()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    server = Server(process, folder, host, port)
    try:
        _wait_ready(server, ready_within)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_ready(server: Server, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            log = (server.folder / "server.log").read_text("utf-8", "replace")
            raise EnvironmentProblem(f"oxigraph server exited with code {server.process.returncode}: {_tail(log)}")
        try:
            answer = request("GET", server.base + "/", timeout=2)
            if answer.status < 500:
                return
        except EndpointError:
            pass
        time.sleep(0.1)
    raise EnvironmentProblem(f"oxigraph server did not answer on {server.base} within {within:g} s")


def _tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


def serve(triples, *, host: str = "127.0.0.1", port: int = 7878, timeout_s: float | None = None,
          announce: Callable[[str], None] = print) -> int:
    """Serve the graph read-only until Ctrl-C (or SIGTERM); stop the server and clean up; return 0."""
    if not is_loopback(host):
        announce(f"warning: serving on {host}, which is not a loopback address: anyone who can reach "
                 "this machine can query the endpoint")
    server = start_server(triples, host=host, port=port, timeout_s=timeout_s)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
    try:
        announce(f"SPARQL endpoint (read-only): {server.query_url}")
        announce(f"  e.g. bmlkg query cq-mri-signal -p finding='bone marrow lesion' --endpoint {server.query_url}")
        announce("  press Ctrl-C to stop")
        code = server.process.wait()
        if code in (-signal.SIGINT, -signal.SIGTERM, 130):  # Ctrl-C reached the server first
            announce("SPARQL endpoint stopped")
            return 0
        if code != 0:
            log = (server.folder / "server.log").read_text("utf-8", "replace")
            raise EnvironmentProblem(f"oxigraph server stopped with code {code}: {_tail(log)}")
        return 0
    except KeyboardInterrupt:
        announce("stopping the SPARQL endpoint")
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
        server.stop()


def _raise_interrupt(signum, frame):  # noqa: ARG001 - signal handler signature
    raise KeyboardInterrupt
