"""The HTTP side of the query layer: query a SPARQL endpoint (SPARQL 1.1 Protocol) within one deadline.

Uploading is :mod:`bmlkg.query.push`; serving the graph is :mod:`bmlkg.query.serve`.

* :func:`select_remote` sends a query to an endpoint's query URL and reads the answer completely within
  one deadline. Anything short of a complete, well-formed answer is an :class:`EndpointError` (refused
  connection, HTTP error, a stalled socket, a cut-off or malformed document): rows are returned whole or
  not at all.
"""

from __future__ import annotations

import http.client
import socket
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import pyoxigraph as ox

from ..store.constants import VERSION
from ..store.limits import DEFAULT_MAX_ROWS, check_seconds
from ..store.errors import EndpointError, EndpointTimeout, InputError
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
    headers: tuple[tuple[str, str], ...] = ()

    def header_values(self, name: str) -> list[str]:
        """Every value of the response header ``name`` (case-insensitive), in order."""
        return [v for k, v in self.headers if k.lower() == name.lower()]


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
    timeout = DEFAULT_TIMEOUT if timeout is None else check_seconds("--timeout", timeout)
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
        if method != "HEAD" and expected is not None and expected.isdigit() and len(data) != int(expected):
            raise EndpointError(f"{url}: answer cut off after {len(data)} of {expected} bytes; no rows are shown")
        return Answer(response.status, response.reason, response.getheader("Content-Type", ""), data,
                      response.getheader("Location"), tuple(response.getheaders()))
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
def select_remote(url: str, text: str, *, timeout: float | None = None, max_rows: int | None = None) -> Result:
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
        return from_json(answer.body, max_rows=DEFAULT_MAX_ROWS if max_rows is None else max_rows)
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
