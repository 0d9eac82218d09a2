"""The HTTP side of the query layer: query a SPARQL endpoint (SPARQL 1.1 Protocol) within one deadline.

Uploading is :mod:`bmlkg.query.push`; serving the graph is :mod:`bmlkg.query.serve`.

* :func:`select_remote` sends a query to an endpoint's query URL and reads the answer completely within
  one deadline. Anything short of a complete, well-formed answer is an :class:`EndpointError` (refused
  connection, HTTP error, a stalled socket, a cut-off or malformed document): rows are returned whole or
  not at all.
* An answer the server itself marks as incomplete is refused the same way (:func:`check_complete`): Virtuoso
  cuts a result at its ``ResultSetMaxRows`` and says so only in the ``X-SPARQL-MaxRows`` response header,
  and returns the partial result of an interrupted "anytime" query with ``X-SQL-State: S1TAT``. Such an
  answer is an :class:`EndpointError` naming the server's limit, never rows shown as complete.
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

    def header(self, name: str) -> str | None:
        """The first response header called ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

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


#: Response headers by which servers say an answer is partial, and what each means.
TRUNCATION_HEADERS = ("X-SPARQL-MaxRows",)
PARTIAL_STATES = {"S1TAT": "its execution time limit (an \"anytime\" query: MaxQueryExecutionTime / timeout)"}


def check_complete(url: str, answer: Answer, rows: int | None = None) -> None:
    """Refuse an answer the server says it truncated (``X-SPARQL-MaxRows``) or returned partially
    (``X-SQL-State: S1TAT``): an EndpointError naming the server's limit, so no partial rows are shown."""
    for name in TRUNCATION_HEADERS:
        limit = answer.header(name)
        if limit is not None:
            limit = limit.strip()
            got = f" ({rows} rows came back)" if rows is not None else ""
            raise EndpointError(
                f"{url}: the server cut the answer at its limit of {limit} rows ({name}: {limit}){got}; no rows "
                f"are shown: raise the server's limit (Virtuoso: ResultSetMaxRows in [SPARQL]) or page the query "
                f"(--param limit=… --param offset=…)")
    state = (answer.header("X-SQL-State") or "").strip().upper()
    if state in PARTIAL_STATES:
        message = " ".join((answer.header("X-SQL-Message") or "").split())
        raise EndpointError(f"{url}: the server returned a partial answer, stopped at {PARTIAL_STATES[state]}"
                            + (f" ({message})" if message else "") + "; no rows are shown")


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
        check_complete(url, answer)
        return _triples(url, answer.body)
    try:
        result = from_json(answer.body, max_rows=DEFAULT_MAX_ROWS if max_rows is None else max_rows)
    except ResultsFormatError as exc:
        raise EndpointError(f"{url}: malformed SPARQL results ({exc}); no rows are shown") from None
    check_complete(url, answer, None if result.boolean is not None else len(result.bindings))
    return result


def _triples(url: str, data: bytes) -> Result:
    try:
        triples = [q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)]
    except SyntaxError as exc:
        raise EndpointError(f"{url}: malformed N-Triples answer ({exc}); no triples are shown") from None
    rows: list[tuple[Cell, Cell, Cell]] = [
        tuple(cell_from_oxigraph(x) for x in (t.subject, t.predicate, t.object)) for t in triples
    ]
    return triples_result(rows)
