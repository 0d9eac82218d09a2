"""Serve the graph as a read-only SPARQL endpoint on loopback (``bmlkg serve``).

:func:`serve` writes the graph, loads it with ``oxigraph load`` into a fresh store folder, starts
``oxigraph serve-read-only`` on a private loopback port and puts :class:`bmlkg.query.front.Front` on the
address the user asked for: the front refuses SERVICE, updates, oversized or deeply nested queries, and
bounds idle time and connections per client, then forwards to Oxigraph. Ctrl-C, SIGTERM or SIGHUP stop both
and remove the folder; a janitor process removes it even when bmlkg is killed, and the Oxigraph server dies
with bmlkg.
"""

from __future__ import annotations

import ipaddress
import math
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

import pyoxigraph as ox

from ..store.errors import EndpointError, EnvironmentProblem, InputError
from ..store.limits import check_seconds
from ..store.procs import Janitor, die_with_parent_fn
from .front import IDLE_S, PER_CLIENT, Front

from .remote import request


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


def check_host(host: str) -> str:
    """The address to listen on: not empty, an IP address or a name this machine resolves."""
    if not host or not host.strip():
        raise InputError("--host: empty; give an address to listen on, such as 127.0.0.1 (loopback)")
    host = host.strip()
    if host != "localhost":
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise InputError(f"--host {host[:80]!r}: not an IP address; give one such as 127.0.0.1, ::1 or "
                             "0.0.0.0") from None
    return "127.0.0.1" if host == "localhost" else host


@dataclass
class Server:
    """A running ``oxigraph serve-read-only`` process behind the bmlkg front, and the folder of its store."""

    process: subprocess.Popen
    folder: Path
    host: str
    port: int
    front: "object | None" = None
    janitor: "Janitor | None" = None

    @property
    def base(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def query_url(self) -> str:
        return self.base + "/query"

    def stop(self, grace: float = 5.0) -> None:
        if self.front is not None:
            self.front.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.janitor is not None:
            self.janitor.close()


def start_server(triples, *, host: str = "127.0.0.1", port: int = 7878, timeout_s: float | None = None,
                 ready_within: float = 30.0, idle_s: float = IDLE_S, per_client: int = PER_CLIENT) -> Server:
    """Load ``triples`` into a fresh Oxigraph store folder, start a read-only server on a private loopback
    port, and the front on ``host:port``."""
    host = check_host(host)
    if timeout_s is not None:
        timeout_s = check_seconds("--timeout", timeout_s)
    check_seconds("--idle-timeout", idle_s)
    if isinstance(per_client, bool) or not isinstance(per_client, int) or not 1 <= per_client <= 1000:
        raise InputError(f"--per-client: must be a whole number from 1 to 1000, not {per_client!r}")
    cli = oxigraph_cli()
    _check_port(host, port)
    folder = Path(tempfile.mkdtemp(prefix="bmlkg-serve-"))
    janitor = Janitor(folder)
    try:
        data = folder / "bmlkg.nt"
        data.write_bytes(ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES))
        store = folder / "store"
        loaded = subprocess.run([cli, "load", "--location", str(store), "--file", str(data)],
                                capture_output=True, text=True, preexec_fn=die_with_parent_fn())
        if loaded.returncode != 0:
            raise EnvironmentProblem(f"oxigraph load failed: {_tail(loaded.stderr)}")
        data.unlink()
        backend_port = free_port("127.0.0.1")
        command = [cli, "serve-read-only", "--location", str(store), "--bind", f"127.0.0.1:{backend_port}"]
        if timeout_s:
            command += ["--timeout-s", str(max(1, math.ceil(timeout_s)))]
        log = open(folder / "server.log", "wb")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   preexec_fn=die_with_parent_fn())
        log.close()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        janitor.close()
        raise
    backend = Server(process, folder, "127.0.0.1", backend_port, janitor=janitor)
    try:
        _wait_ready(backend, ready_within)
        try:
            front = Front(host, port, backend_port, idle_s=idle_s, per_client=per_client,
                          backend_timeout_s=(timeout_s + 30) if timeout_s else None)
        except OSError as exc:
            raise EnvironmentProblem(f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another "
                                     "--port") from None
    except BaseException:
        backend.stop()
        raise
    front.start()
    return Server(process, folder, host, front.port, front=front, janitor=janitor)


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
          announce: Callable[[str], None] = print, idle_s: float = IDLE_S, per_client: int = PER_CLIENT) -> int:
    """Serve the graph read-only until Ctrl-C (or SIGTERM, SIGHUP); stop the server and clean up; return 0."""
    host = check_host(host)
    if not is_loopback(host):
        announce(f"warning: serving on {host}, which is not a loopback address: anyone who can reach "
                 "this machine can query the endpoint")
    server = start_server(triples, host=host, port=port, timeout_s=timeout_s, idle_s=idle_s, per_client=per_client)
    previous_hup = signal.signal(signal.SIGHUP, _raise_interrupt)
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
        signal.signal(signal.SIGHUP, previous_hup)
        signal.signal(signal.SIGINT, previous_int)
        server.stop()


def _raise_interrupt(signum, frame):  # noqa: ARG001 - signal handler signature
    raise KeyboardInterrupt
