"""`bmlkg serve` under hostile clients (issue 14, items 5, 6, 9 and the serve parts of 3, 11, 12).

Loopback only; every loop is bounded. The endpoint refuses SERVICE (nothing is fetched), refuses a query
nested deep enough to overflow Oxigraph's stack and keeps answering, closes connections that stay idle or
trickle, limits connections per client address, and leaves neither its server nor its store when killed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bmlkg.query.remote import request
from bmlkg.query.serve import free_port, oxigraph_cli

from .conftest import REPO, require_tool, run_cli

IDLE_S = 1.0
PER_CLIENT = 4


def _oxigraph() -> None:
    try:
        oxigraph_cli()
    except Exception:  # noqa: BLE001 - reported as a missing component
        require_tool(False, "the oxigraph command (pip install oxigraph)")


def _start(*extra: str, tmp: Path | None = None):
    port = free_port()
    env = {**os.environ, "TMPDIR": str(tmp)} if tmp is not None else None
    process = subprocess.Popen([sys.executable, "-m", "bmlkg.cli", "serve", "--port", str(port), *extra],
                               cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("SPARQL endpoint (read-only): "):
            return process, port
    process.kill()
    raise AssertionError(f"serve did not start: {process.stderr.read()}")


def _stop(process) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def endpoint():
    _oxigraph()
    process, port = _start("--idle-timeout", str(IDLE_S), "--per-client", str(PER_CLIENT))
    try:
        yield process, port
    finally:
        _stop(process)


class Listener:
    """A loopback TCP server that only counts the connections made to it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/sparql"

    def _run(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


def _get(port: int, query: str, timeout: float = 30):
    return request("GET", f"http://127.0.0.1:{port}/query?" + urlencode({"query": query}),
                   headers={"Accept": "application/sparql-results+json"}, timeout=timeout)


def _count(port: int) -> int:
    import json

    answer = _get(port, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert answer.status == 200, answer.body
    return int(json.loads(answer.body)["results"]["bindings"][0]["n"]["value"])


# -- 5. SERVICE ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["GET", "POST form", "POST sparql-query"])
def test_service_is_refused_at_the_endpoint_and_nothing_is_fetched(endpoint, how):
    _, port = endpoint
    target = Listener()
    try:
        query = f"SELECT * WHERE {{ SERVICE <{target.url}> {{ ?s ?p ?o }} }}"
        base = f"http://127.0.0.1:{port}/query"
        if how == "GET":
            answer = _get(port, query)
        elif how == "POST form":
            answer = request("POST", base, body=urlencode({"query": query}).encode(),
                             headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
        else:
            answer = request("POST", base, body=query.encode(),
                             headers={"Content-Type": "application/sparql-query"}, timeout=30)
        time.sleep(0.5)
        assert answer.status == 400
        assert answer.body == (b"query refused: line 1: SERVICE (federated query) is refused: bmlkg queries never "
                               b"reach other endpoints\n")
        assert target.connections == 0
    finally:
        target.close()


def test_a_service_hidden_in_unicode_escapes_is_refused_too(endpoint):
    _, port = endpoint
    answer = _get(port, "SELECT ?x WHERE { # \\u000A SERVICE <http://127.0.0.1:9/s> { ?x ?p ?o } \\u000A }")
    assert answer.status == 400 and b"SERVICE (federated query) is refused" in answer.body


# -- 6. nesting ------------------------------------------------------------------------------------------
def test_a_deeply_nested_query_is_refused_and_the_endpoint_stays_up(kg, endpoint):
    process, port = endpoint
    query = "SELECT * WHERE " + "{ " * 3000 + "?s ?p ?o" + " }" * 3000
    answer = _get(port, query)
    assert answer.status == 400
    assert answer.body == (b"query refused: line 1: query nested more than 200 levels deep (brackets and braces); "
                           b"refused before evaluation\n")
    assert process.poll() is None
    assert _count(port) == len(kg)


def test_updates_and_store_writes_never_reach_the_store(kg, endpoint):
    _, port = endpoint
    base = f"http://127.0.0.1:{port}"
    update = request("POST", base + "/update", body=b"update=DROP%20ALL",
                     headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    put = request("PUT", base + "/store?default", body=b"<urn:a> <urn:b> <urn:c> .\n",
                  headers={"Content-Type": "application/n-triples"}, timeout=10)
    assert (update.status, put.status) == (404, 404)
    assert _get(port, "DROP ALL").status == 400
    assert _count(port) == len(kg)


# -- 9. slow and idle connections ------------------------------------------------------------------------------
def _connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket()
    sock.bind((source, 0))
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    return sock


def _read_all(sock: socket.socket, within: float) -> bytes:
    sock.settimeout(within)
    data = b""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
    return data


def test_idle_and_trickling_connections_are_closed_and_other_clients_are_served(kg, endpoint):
    _, port = endpoint
    idle = [_connect(port) for _ in range(PER_CLIENT)]          # one client holds every connection it may
    try:
        time.sleep(0.2)
        extra = _connect(port)
        refused = _read_all(extra, 3)
        extra.close()
        assert refused.startswith(b"HTTP/1.1 503 Service Unavailable"), refused
        # another client address is served at once while the first holds its share
        other = _connect(port, "127.0.0.2")
        other.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _read_all(other, 5).startswith(b"HTTP/1.1 200 OK")
        other.close()
        # the idle ones are answered 408 and closed after the idle time, not held for ever
        started = time.monotonic()
        for sock in idle:
            data = _read_all(sock, IDLE_S + 5)
            assert data.startswith(b"HTTP/1.1 408 Request Timeout"), data
        assert time.monotonic() - started < IDLE_S + 5
    finally:
        for sock in idle:
            sock.close()
    # a client trickling its request one byte at a time is cut off at the same deadline
    slow = _connect(port)
    started = time.monotonic()
    closed_after = None
    for byte in b"GET /query?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\n":
        try:
            slow.sendall(bytes([byte]))
        except OSError:
            closed_after = time.monotonic() - started
            break
        time.sleep(0.2)
        slow.settimeout(0.01)
        try:
            if slow.recv(65536, socket.MSG_PEEK):
                closed_after = time.monotonic() - started
                break
        except socket.timeout:
            pass
        if time.monotonic() - started > IDLE_S + 5:
            break
    slow.close()
    assert closed_after is not None and closed_after < IDLE_S + 2
    assert _count(port) == len(kg)                              # and the endpoint still answers


# -- 3. cleanup when serve is stopped or killed ----------------------------------------------------------------
def _serve_folders(tmp: Path) -> set[Path]:
    return set(tmp.glob("bmlkg-serve-*"))


def _servers_using(folder: Path) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    if str(folder).encode() in handle.read():
                        found.append(int(pid))
            except OSError:
                continue
    return found


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGKILL])
def test_serve_killed_leaves_no_server_and_no_store(sig, tmp_path):
    _oxigraph()
    process, port = _start(tmp=tmp_path)
    try:
        new = _serve_folders(tmp_path)
        assert len(new) == 1
        folder = new.pop()
        assert _servers_using(folder), "the Oxigraph server runs on the store folder"
        os.kill(process.pid, sig)
        process.wait(20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (folder.exists() or _servers_using(folder)):
        time.sleep(0.1)
    assert not folder.exists(), "the temporary store stayed"
    assert not _servers_using(folder), "the Oxigraph server outlived bmlkg serve"
    if sig == signal.SIGHUP:
        assert process.returncode == 0
    with pytest.raises(Exception):
        request("GET", f"http://127.0.0.1:{port}/", timeout=3)


# -- 11/12. options ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args,message", [
    (["--timeout", "-5"], "--timeout: must be a number of seconds above 0 and at most 604800 (a week), not -5"),
    (["--timeout", "nan"], "--timeout: must be a number of seconds above 0 and at most 604800 (a week), not nan"),
    (["--timeout", "inf"], "--timeout: must be a number of seconds above 0 and at most 604800 (a week), not inf"),
    (["--timeout", "0"], "--timeout: must be a number of seconds above 0 and at most 604800 (a week), not 0"),
    (["--host", ""], "--host: empty; give an address to listen on, such as 127.0.0.1 (loopback)"),
    (["--idle-timeout", "1e9"], "--idle-timeout: must be a number of seconds above 0 and at most 604800 (a week), "
                                "not 1e+09"),
])
def test_bad_serve_options_are_one_line(args, message):
    started = time.monotonic()
    proc = run_cli("serve", "--port", str(free_port()), *args, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"bmlkg: error: {message}"]
    assert proc.stdout == ""
    assert time.monotonic() - started < 30
