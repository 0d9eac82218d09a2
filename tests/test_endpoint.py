"""Remote SPARQL: the library over the SPARQL 1.1 Protocol, push (Graph Store Protocol), bmlkg serve.

The servers are real: an in-memory ``oxigraph serve`` (writable, for push) and ``bmlkg serve`` (read-only),
each started here on a free loopback port and stopped by its process id. Failure modes (refused
connection, HTTP 500, a stalled or trickling socket, a cut-off or malformed answer) come from small
socket servers in this file.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from bmlkg.query import engines as lib
from bmlkg.query.push import push
from bmlkg.query.remote import request, select_remote
from bmlkg.query.serve import free_port, oxigraph_cli
from bmlkg.store.errors import EndpointError, EndpointTimeout, EnvironmentProblem, QueryError

from .conftest import REPO, require_tool, run_cli

pytestmark = pytest.mark.endpoint
CATALOGUE = lib.catalogue()
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def _oxigraph() -> str:
    try:
        return oxigraph_cli()
    except EnvironmentProblem:
        require_tool(False, "the oxigraph command (pip install oxigraph)")
        raise


def _wait_http(url: str, process: subprocess.Popen, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert process.poll() is None, f"server exited with {process.returncode}"
        try:
            if request("GET", url, timeout=2).status < 500:
                return
        except EndpointError:
            time.sleep(0.1)
    raise AssertionError(f"no answer from {url} within {within} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def store():
    """A writable in-memory Oxigraph server; yields its base URL."""
    port = free_port()
    process = subprocess.Popen([_oxigraph(), "serve", "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(base + "/", process)
        yield base
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def pushed(store):
    """The graph pushed into the writable server with `bmlkg push`; yields the query URL."""
    proc = run_cli("push", "--endpoint", store + "/store")
    assert proc.returncode == 0, proc.stderr
    assert "pushed" in proc.stdout and "HTTP 20" in proc.stdout
    return store + "/query"


def _count(url: str) -> int:
    return select_remote(url, COUNT, timeout=30).rows()[0]["n"]


# -- push and query a real endpoint -------------------------------------------------------------------
def test_push_uploads_every_triple(kg, pushed):
    assert _count(pushed) == len(kg)


def test_push_again_replaces_and_append_adds(kg, store, pushed):
    result = push(kg.triples, store + "/store", timeout=60)
    assert (result.method, result.triples) == ("PUT", len(kg)) and _count(pushed) == len(kg)
    again = push(kg.triples[:10], store + "/store", replace=False, timeout=60)
    assert again.method == "POST" and _count(pushed) == len(kg)  # the same triples: a set, nothing new
    named = push(kg.triples[:5], store + "/store", graph="https://w3id.org/bmlkg/test-graph", timeout=60)
    assert "graph=https%3A%2F%2Fw3id.org" in named.url and _count(pushed) == len(kg)


@pytest.mark.parametrize("query", CATALOGUE, ids=[q.name for q in CATALOGUE])
def test_every_library_query_gives_the_embedded_rows(kg, pushed, query):
    params = lib.example_params(query)
    embedded = lib.run(kg, query.name, params)
    remote = lib.run(kg, query.name, params, endpoint=pushed, timeout=60)
    assert remote.variables == embedded.variables
    assert remote.comparable() == embedded.comparable()


def test_cli_query_over_the_endpoint_matches_embedded(pushed):
    args = ("query", "cq-study-results", "-p", "study=bunkyo health study", "--format", "json")
    local, remote = run_cli(*args), run_cli(*args, "--endpoint", pushed)
    assert local.returncode == remote.returncode == 0, remote.stderr
    assert json.loads(local.stdout) == json.loads(remote.stdout)


def test_labels_resolve_locally_for_an_endpoint(kg, pushed):
    rows = kg.query("cq-mri-signal", finding="BML", endpoint=pushed)
    assert rows == kg.query("cq-mri-signal", finding="bone marrow lesion")


def test_user_query_over_the_endpoint(pushed):
    proc = run_cli("sparql", "-", "--endpoint", pushed, "--format", "csv", input=COUNT)
    assert proc.returncode == 0 and int(proc.stdout.split()[1]) > 1000
    ask = select_remote(pushed, "ASK { <https://w3id.org/bmlkg/BoneMarrowLesion> ?p ?o }", timeout=10)
    assert ask.boolean is True


def test_push_a_file_then_restore(kg, store, pushed, tmp_path):
    import pyoxigraph as ox

    subset = tmp_path / "subset.nt"
    subset.write_bytes(ox.serialize(kg.triples[:100], format=ox.RdfFormat.N_TRIPLES))
    proc = run_cli("push", "--endpoint", store + "/store", "--file", str(subset))
    assert proc.returncode == 0 and "pushed 100 triples" in proc.stdout, proc.stderr
    assert _count(pushed) == 100  # PUT replaced the graph
    push(kg.triples, store + "/store", timeout=60)
    assert _count(pushed) == len(kg)


def test_push_to_nothing_is_a_clean_error():
    proc = run_cli("push", "--endpoint", f"http://127.0.0.1:{free_port()}/store", "--timeout", "5")
    assert proc.returncode == 2 and "connection refused" in proc.stderr and proc.stdout == ""
    bad = run_cli("push", "--endpoint", "ftp://example.org/store")
    assert bad.returncode == 2 and "not an http:// or https:// endpoint URL" in bad.stderr


# -- failure modes of an endpoint: whole answers or an EndpointError ----------------------------------
class Stub:
    """A loopback TCP server that answers every connection with ``behave(conn)``; counts requests."""

    def __init__(self, behave):
        self.behave = behave
        self.requests = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/query"
        self.closing = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.closing.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.requests += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        try:
            conn.recv(65536)
            self.behave(conn, self.closing)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.closing.set()
        self.sock.close()


@pytest.fixture
def stub():
    made = []

    def make(behave):
        made.append(Stub(behave))
        return made[-1]

    yield make
    for s in made:
        s.close()


def _http(status: str, body: bytes, length: int | None = None, ctype="application/sparql-results+json") -> bytes:
    length = len(body) if length is None else length
    return (f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {length}\r\n"
            "Connection: close\r\n\r\n").encode() + body


GOOD = b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"literal","value":"1"}}]}}'


def test_a_good_stub_answer_is_read_whole(stub):
    server = stub(lambda conn, _: conn.sendall(_http("200 OK", GOOD)))
    assert select_remote(server.url, "SELECT ?x WHERE {}", timeout=5).rows() == [{"x": "1"}]


def test_refused_connection():
    with pytest.raises(EndpointError, match="connection refused"):
        select_remote(f"http://127.0.0.1:{free_port()}/query", COUNT, timeout=5)


def test_http_500(stub):
    server = stub(lambda conn, _: conn.sendall(_http("500 Internal Server Error", b"boom: out of memory", ctype="text/plain")))
    with pytest.raises(EndpointError, match="HTTP 500 Internal Server Error: boom: out of memory"):
        select_remote(server.url, COUNT, timeout=5)


def test_stalled_socket_times_out(stub):
    server = stub(lambda conn, closing: closing.wait(30))
    started = time.monotonic()
    with pytest.raises(EndpointTimeout):
        select_remote(server.url, COUNT, timeout=1)
    assert time.monotonic() - started < 5


def test_trickling_answer_is_stopped_at_the_overall_deadline(stub):
    def trickle(conn, closing):
        conn.sendall(_http("200 OK", b"", length=100000))
        while not closing.wait(0.3):
            conn.sendall(b" ")

    server = stub(trickle)
    started = time.monotonic()
    with pytest.raises(EndpointTimeout):
        select_remote(server.url, COUNT, timeout=1.5)
    assert time.monotonic() - started < 5


def test_cut_off_answer_shows_no_rows(stub):
    server = stub(lambda conn, _: conn.sendall(_http("200 OK", GOOD[:40], length=len(GOOD))))
    with pytest.raises(EndpointError, match="cut off"):
        select_remote(server.url, COUNT, timeout=5)


def test_truncated_json_without_length(stub):
    def send(conn, _):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\nConnection: close\r\n\r\n"
                     + GOOD[:-9])

    server = stub(send)
    with pytest.raises(EndpointError, match="malformed SPARQL results"):
        select_remote(server.url, COUNT, timeout=5)


@pytest.mark.parametrize("body", [
    b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"uri"}}]}}',
    b'{"head":{"vars":["x"]},"results":{"bindings":[{"y":{"type":"uri","value":"urn:a"}}]}}',
    b'{"head":{"vars":["x"]}}',
    b'<html>not json</html>',
    b'{"head":{},"boolean":"yes"}',
])
def test_malformed_results(stub, body):
    server = stub(lambda conn, _: conn.sendall(_http("200 OK", body)))
    with pytest.raises(EndpointError, match="malformed"):
        select_remote(server.url, COUNT, timeout=5)


def test_cli_shows_nothing_on_a_broken_answer(stub):
    server = stub(lambda conn, _: conn.sendall(_http("200 OK", GOOD[:40], length=len(GOOD))))
    proc = run_cli("sparql", "-", "--endpoint", server.url, "--timeout", "5", input="SELECT ?x WHERE {}")
    assert proc.returncode == 2 and proc.stdout == "" and "cut off" in proc.stderr


def test_update_is_refused_before_anything_is_sent(stub):
    server = stub(lambda conn, _: conn.sendall(_http("200 OK", GOOD)))
    proc = run_cli("sparql", "-", "--endpoint", server.url, input="DROP ALL")
    assert proc.returncode == 2 and "refused" in proc.stderr
    with pytest.raises(QueryError, match="SERVICE"):
        select_remote(server.url, "SELECT * WHERE { SERVICE <http://example.org/s> { ?s ?p ?o } }")
    assert server.requests == 0


# -- bmlkg serve ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served():
    """`bmlkg serve` on a free loopback port; yields (process, query URL); stopped with Ctrl-C (SIGINT)."""
    _oxigraph()
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bmlkg.cli", "serve", "--port", str(port)], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = None
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and url is None:
            line = process.stdout.readline()
            if not line:
                break
            if line.startswith("SPARQL endpoint (read-only): "):
                url = line.split(": ", 1)[1].strip()
        assert url == f"http://127.0.0.1:{port}/query", (url, process.stderr.read() if process.poll() is not None else "")
        yield process, url
    finally:
        _stop(process)


def test_serve_answers_like_the_embedded_graph(kg, served):
    _, url = served
    assert _count(url) == len(kg)
    for name in ("cq-variance-explained", "cq-tissue-changes", "term-neighbourhood"):
        query = lib.get_query(name)
        params = lib.example_params(query)
        assert lib.run(kg, name, params, endpoint=url).comparable() == lib.run(kg, name, params).comparable()


def test_serve_refuses_updates(kg, served):
    _, url = served
    base = url.rsplit("/", 1)[0]
    answer = request("POST", base + "/update", body=b"update=INSERT%20DATA%20%7B%20%3Curn%3Aa%3E%20%3Curn%3Ab%3E%20%3Curn%3Ac%3E%20%7D",
                     headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert 400 <= answer.status < 500
    put = request("PUT", base + "/store?default", body=b"<urn:a> <urn:b> <urn:c> .\n",
                  headers={"Content-Type": "application/n-triples"}, timeout=10)
    assert 400 <= put.status < 500
    assert _count(url) == len(kg)


CLIENTS = """
import json, sys, urllib.parse, urllib.request
from concurrent.futures import ThreadPoolExecutor
url, text, n_clients, n_queries = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def client(_):
    sizes = []
    for _ in range(n_queries):
        data = urllib.parse.urlencode({"query": text}).encode()
        req = urllib.request.Request(url, data=data, headers={"Accept": "application/sparql-results+json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            sizes.append(len(json.load(resp)["results"]["bindings"]))
    return sizes
with ThreadPoolExecutor(n_clients) as pool:
    print(json.dumps([s for sizes in pool.map(client, range(n_clients)) for s in sizes]))
"""


def test_serve_survives_a_burst_of_concurrent_queries(kg, served):
    _, url = served
    query = lib.get_query("cq-study-results")
    text = lib.bind(kg, query, lib.example_params(query))
    proc = subprocess.run([sys.executable, "-c", CLIENTS, url, text, "8", "12"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    sizes = json.loads(proc.stdout)
    assert sizes == [3] * (8 * 12)
    assert _count(url) == len(kg)  # still up and answering


def test_serve_refuses_a_port_in_use():
    _oxigraph()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        proc = run_cli("serve", "--port", str(busy.getsockname()[1]), timeout=120)
    assert proc.returncode == 2 and "choose another --port" in proc.stderr


def test_serve_stops_cleanly_on_ctrl_c():
    _oxigraph()
    port = free_port()
    before = set(Path(tempfile.gettempdir()).glob("bmlkg-serve-*"))
    process = subprocess.Popen([sys.executable, "-m", "bmlkg.cli", "serve", "--port", str(port)], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not line.startswith("SPARQL endpoint"):
            line = process.stdout.readline()
            assert line or process.poll() is None, process.stderr.read()
        assert f"http://127.0.0.1:{port}/query" in line
        os.kill(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        _stop(process)
    assert process.returncode == 0, err
    assert "stopping" in out or "stopped" in out
    with pytest.raises(EndpointError, match="connection refused"):
        request("GET", f"http://127.0.0.1:{port}/", timeout=5)
    assert set(Path(tempfile.gettempdir()).glob("bmlkg-serve-*")) <= before


def test_oxigraph_cli_is_found():
    path = _oxigraph()
    assert Path(path).name == "oxigraph" and shutil.which(path) or Path(path).exists()
