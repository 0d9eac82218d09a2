"""The front of ``bmlkg serve``: a small HTTP server in the bmlkg process between clients and Oxigraph.

Oxigraph's own server evaluates ``SERVICE`` (it would fetch any URL a query names), has no limit on query
nesting (a 12 KB query of nested groups overflows its stack and ends the endpoint for everyone) and keeps
idle connections open for ever. The front listens on the address the user asked for, and for each request:

* reads it within a deadline (:data:`IDLE_S` for the request line and headers, the same again for the
  body) and within size limits, else answers 408/413/431 and closes;
* accepts only ``GET``/``POST`` on ``/query`` (and ``GET /`` for a status line); anything else is 404/405
  (``/update`` and ``/store`` writes never reach the store);
* checks the query with :func:`bmlkg.query.sparqltext.check_read_only` (no update, no SERVICE, no FROM,
  bounded size and nesting) and answers 400 with a one-line reason when it is refused;
* forwards an accepted query to the Oxigraph server on a private loopback port and streams the answer
  back, one request per connection (``Connection: close``).

Each client address may hold at most :data:`PER_CLIENT` connections at once and the front at most
:data:`MAX_CONNECTIONS`; more are answered 503 at once and closed.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from urllib.parse import parse_qs, urlsplit

IDLE_S = 10.0
PER_CLIENT = 16
MAX_CONNECTIONS = 64
MAX_HEADER_BYTES = 32 * 1024
MAX_BODY_BYTES = 2 * 1024 * 1024
BACKEND_TIMEOUT_S = 3600.0


class _Reject(Exception):
    def __init__(self, status: int, reason: str, message: str):
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


class Front:
    """Accepts connections on ``host:port`` and serves them in threads until :meth:`close`."""

    def __init__(self, host: str, port: int, backend_port: int, *, idle_s: float = IDLE_S,
                 per_client: int = PER_CLIENT, max_connections: int = MAX_CONNECTIONS,
                 backend_timeout_s: float | None = None, check=None):
        from .sparqltext import check_read_only

        self.backend = ("127.0.0.1", backend_port)
        self.idle_s = idle_s
        self.per_client = per_client
        self.max_connections = max_connections
        self.backend_timeout_s = backend_timeout_s or BACKEND_TIMEOUT_S
        self.check = check or check_read_only
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(128)
        self.sock.settimeout(0.5)
        self._lock = threading.Lock()
        self._clients: dict[str, int] = {}
        self._open = 0
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name="bmlkg-serve-front", daemon=True)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def start(self) -> "Front":
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed.set()
        try:
            self.sock.close()
        except OSError:
            pass
        self._thread.join(2)

    # -- connections -------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                conn, address = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                if self._closed.is_set():
                    return
                time.sleep(0.05)
                continue
            client = address[0]
            with self._lock:
                busy = self._clients.get(client, 0) >= self.per_client or self._open >= self.max_connections
                if not busy:
                    self._clients[client] = self._clients.get(client, 0) + 1
                    self._open += 1
            if busy:
                self._refuse_busy(conn)
                continue
            threading.Thread(target=self._serve, args=(conn, client), daemon=True).start()

    def _refuse_busy(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(1.0)
            _send(conn, 503, "Service Unavailable", "too many connections from this address; try again shortly\n",
                  extra={"Retry-After": "1"})
        except OSError:
            pass
        finally:
            conn.close()

    def _serve(self, conn: socket.socket, client: str) -> None:
        try:
            try:
                method, target, headers, body = self._read_request(conn)
                self._handle(conn, method, target, headers, body)
            except _Reject as rej:
                _send(conn, rej.status, rej.reason, rej.message + "\n")
        except OSError:
            pass
        finally:
            try:
                conn.close()
            finally:
                with self._lock:
                    self._open -= 1
                    left = self._clients.get(client, 1) - 1
                    if left <= 0:
                        self._clients.pop(client, None)
                    else:
                        self._clients[client] = left

    def _read_request(self, conn: socket.socket):
        deadline = time.monotonic() + self.idle_s
        data = b""
        while b"\r\n\r\n" not in data:
            if len(data) > MAX_HEADER_BYTES:
                raise _Reject(431, "Request Header Fields Too Large", "request headers too large")
            chunk = _recv(conn, deadline)
            if chunk is None:
                raise _Reject(408, "Request Timeout", f"no complete request within {self.idle_s:g} s")
            if not chunk:
                raise OSError("client closed the connection")
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            raise _Reject(400, "Bad Request", "malformed request line")
        method, target = parts[0], parts[1]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise _Reject(400, "Bad Request", "malformed header line")
            headers[name.strip().lower()] = value.strip()
        if "transfer-encoding" in headers:
            raise _Reject(411, "Length Required", "send the body with a Content-Length")
        length_text = headers.get("content-length", "0")
        if not length_text.isdigit() or len(length_text) > 12:
            raise _Reject(400, "Bad Request", "bad Content-Length")
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            raise _Reject(413, "Content Too Large", f"request body larger than {MAX_BODY_BYTES // 1024} KB")
        body = rest
        deadline = time.monotonic() + self.idle_s
        while len(body) < length:
            chunk = _recv(conn, deadline)
            if chunk is None:
                raise _Reject(408, "Request Timeout", f"request body not complete within {self.idle_s:g} s")
            if not chunk:
                raise OSError("client closed the connection")
            body += chunk
        return method, target, headers, body[:length]

    # -- requests ------------------------------------------------------------------------------
    def _handle(self, conn, method: str, target: str, headers: dict, body: bytes) -> None:
        from ..store.errors import BmlkgError

        parts = urlsplit(target)
        if parts.path == "/" and method in ("GET", "HEAD"):
            _send(conn, 200, "OK", "bmlkg read-only SPARQL endpoint: send queries to /query\n")
            return
        if parts.path != "/query":
            raise _Reject(404, "Not Found", "not found: this read-only endpoint answers queries at /query only")
        if method not in ("GET", "POST"):
            raise _Reject(405, "Method Not Allowed", "use GET or POST for /query")
        query = None
        params = parse_qs(parts.query, keep_blank_values=True)
        if method == "POST":
            kind = headers.get("content-type", "").split(";")[0].strip().lower()
            if kind == "application/sparql-query":
                query = body.decode("utf-8", "replace")
            elif kind == "application/x-www-form-urlencoded":
                params = {**params, **parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)}
            else:
                raise _Reject(415, "Unsupported Media Type",
                              "POST the query as application/sparql-query or a form field 'query'")
        if query is None:
            values = params.get("query") or []
            if len(values) != 1:
                raise _Reject(400, "Bad Request", "give exactly one 'query' parameter")
            query = values[0]
        for refused in ("default-graph-uri", "named-graph-uri", "using-graph-uri", "using-named-graph-uri"):
            if refused in params:
                raise _Reject(400, "Bad Request", f"'{refused}' is refused: queries run on the served graph only")
        try:
            self.check(query)
        except BmlkgError as exc:
            raise _Reject(400, "Bad Request", "query refused: " + " ".join(str(exc).split())[:500]) from None
        self._forward(conn, query, headers.get("accept", "*/*"))

    def _forward(self, conn, query: str, accept: str) -> None:
        upstream = http.client.HTTPConnection(*self.backend, timeout=self.backend_timeout_s)
        try:
            upstream.request("POST", "/query", body=query.encode("utf-8"),
                             headers={"Content-Type": "application/sparql-query", "Accept": accept})
            response = upstream.getresponse()
            head = [f"HTTP/1.1 {response.status} {response.reason}"]
            for name, value in response.getheaders():
                if name.lower() in ("content-type", "content-length"):
                    head.append(f"{name}: {value}")
            head.append("Connection: close")
            conn.settimeout(self.idle_s)
            conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            while True:
                chunk = response.read1(65536)
                if not chunk:
                    break
                conn.sendall(chunk)
        except (OSError, http.client.HTTPException):
            try:
                _send(conn, 502, "Bad Gateway", "the SPARQL server did not answer\n")
            except OSError:
                pass
        finally:
            upstream.close()


def _recv(conn: socket.socket, deadline: float) -> bytes | None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    conn.settimeout(remaining)
    try:
        return conn.recv(65536)
    except socket.timeout:
        return None


def _send(conn, status: int, reason: str, text: str, extra: dict | None = None) -> None:
    body = text.encode("utf-8")
    head = [f"HTTP/1.1 {status} {reason}", "Content-Type: text/plain; charset=utf-8",
            f"Content-Length: {len(body)}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in (extra or {}).items()]
    conn.settimeout(5.0)
    conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
