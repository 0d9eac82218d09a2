"""``bmlkg push`` on the servers people use: Oxigraph, Virtuoso, Fuseki-like roots, basic and digest auth.

Real servers where they exist here: an in-memory ``oxigraph serve`` and a Virtuoso instance of its own on
loopback (its Graph Store ``/sparql-graph-crud`` after ``GRANT SPARQL_UPDATE``, and the digest-protected
``/sparql-graph-crud-auth``). Authentication is also checked against a small loopback Graph Store written here,
which verifies basic and digest (RFC 7616, MD5, ``qop=auth``) itself and records every request, so the tests
can see what was sent and when. Fuseki is not packaged for Debian: its root is imitated by that server
(``Fuseki-Request-Id`` header and the ``/$/datasets`` admin answer).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest

from bmlkg.query.push import PASSWORD_ENV, USER_ENV, Credentials, credentials, digest_authorization, push
from bmlkg.query.remote import request, select_remote
from bmlkg.query.serve import free_port, oxigraph_cli
from bmlkg.store.errors import EndpointError, EnvironmentProblem, InputError

from .conftest import require_tool, run_cli

pytestmark = pytest.mark.endpoint
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
USER, PASSWORD = "curator", "s3cret: with spaces"


def _wait(url: str, process: subprocess.Popen, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert process.poll() is None, f"server exited with {process.returncode}"
        try:
            request("GET", url, timeout=2)
            return
        except EndpointError:
            time.sleep(0.2)
    raise AssertionError(f"no answer from {url} within {within} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def _parse(body: bytes) -> set:
    return {q.triple for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)}


# -- a loopback Graph Store that checks credentials ------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def version_string(self) -> str:
        return self.server.server_header

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.server.fuseki:
            self.send_header("Fuseki-Request-Id", str(len(self.server.log)))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _authorised(self) -> bool:
        given = self.headers.get("Authorization", "")
        if self.server.mode == "basic":
            token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            return given == f"Basic {token}"
        if self.server.mode == "digest":
            if not given.startswith("Digest "):
                return False
            p = dict((k, v.strip('"')) for k, v in re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|[^,\s]+)', given[7:]))
            if p.get("nonce") != self.server.nonce or p.get("uri") != self.path or p.get("opaque") != "op4que":
                return False
            md5 = lambda t: hashlib.md5(t.encode()).hexdigest()  # noqa: E731
            ha1, ha2 = md5(f"{p['username']}:{p['realm']}:{PASSWORD}"), md5(f"{self.command}:{self.path}")
            want = md5(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:auth:{ha2}")
            return p["username"] == USER and p.get("qop") == "auth" and p.get("response") == want
        return True

    def _store(self) -> None:
        body = self._body() if self.command in ("PUT", "POST") else b""
        self.server.log.append((self.command, self.path, dict(self.headers), body))
        if not self._authorised():
            challenge = (f'Basic realm="bmlkg test"' if self.server.mode == "basic" else
                         f'Digest realm="bmlkg test", nonce="{self.server.nonce}", opaque="op4que", '
                         'qop="auth", algorithm=MD5')
            return self._reply(401, headers={"WWW-Authenticate": challenge})
        if self.command in ("PUT", "POST"):
            self.server.graphs[self.path] = body
            return self._reply(201)
        return self._reply(200)

    def do_GET(self):
        if self.path == "/":
            self.server.log.append(("GET", "/", dict(self.headers), b""))
            return self._reply(200, b"<html>admin</html>", {"Content-Type": "text/html"})
        if self.path == "/$/datasets" and self.server.fuseki:
            data = {"datasets": [{"ds.name": "/kb", "ds.state": True}, {"ds.name": "/archive"}]}
            return self._reply(200, json.dumps(data).encode(), {"Content-Type": "application/json"})
        return self._reply(404, b"not found")

    do_HEAD = do_PUT = do_POST = _store


@pytest.fixture()
def gsp():
    """Start a loopback Graph Store: gsp(mode, fuseki=False) -> server (base URL in .base, requests in .log)."""
    started = []

    def start(mode: str = "open", fuseki: bool = False, server_header: str = "bmlkg-test-store/1"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.mode, server.fuseki, server.server_header = mode, fuseki, server_header
        server.nonce, server.log, server.graphs = os.urandom(8).hex(), [], {}
        server.base = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def _netrc(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "netrc"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def test_basic_credentials_from_the_environment_sent_only_when_asked(kg, gsp):
    server = gsp("basic")
    triples = kg.triples[:50]
    result = push(triples, server.base + "/gsp", environ={USER_ENV: USER, PASSWORD_ENV: PASSWORD})
    assert (result.auth, result.method, result.triples) == ("basic", "PUT", 50)
    assert _parse(server.graphs["/gsp?default"]) == set(triples)
    first = server.log[0]
    assert first[0] == "HEAD" and "Authorization" not in first[2]  # nothing sent before the server asked
    assert [m for m, *_ in server.log].count("PUT") == 1  # the graph went over the wire once


def test_digest_credentials_from_a_netrc_entry(kg, gsp, tmp_path):
    server = gsp("digest")
    path = _netrc(tmp_path, f'machine 127.0.0.1\n  login {USER}\n  password "{PASSWORD}"\n')
    graph = "https://w3id.org/bmlkg/test"
    result = push(kg.triples[:20], server.base + "/gsp", graph=graph, replace=False, environ={"NETRC": str(path)})
    assert (result.auth, result.method) == ("digest", "POST")
    assert _parse(server.graphs["/gsp?graph=https%3A%2F%2Fw3id.org%2Fbmlkg%2Ftest"]) == set(kg.triples[:20])
    sent = " ".join(v for _m, _p, headers, _b in server.log for v in headers.values())
    assert PASSWORD not in sent and base64.b64encode(PASSWORD.encode()).decode() not in sent


def test_a_refused_password_is_reported_before_the_graph_is_sent(kg, gsp):
    server = gsp("digest")
    with pytest.raises(EndpointError, match=r"HTTP 401: the credentials of user 'curator' from "
                                            r"BMLKG_PUSH_USER/BMLKG_PUSH_PASSWORD were refused \(digest"):
        push(kg.triples, server.base + "/gsp", environ={USER_ENV: USER, PASSWORD_ENV: "wrong"})
    assert [m for m, *_ in server.log] == ["HEAD", "HEAD"] and not server.graphs


def test_without_credentials_the_error_says_how_to_give_them(kg, gsp):
    server = gsp("basic")
    with pytest.raises(EndpointError) as caught:
        push(kg.triples[:5], server.base + "/gsp", environ={"HOME": "/nonexistent"})
    message = str(caught.value)
    assert "\n" not in message and "HTTP 401" in message and "basic realm 'bmlkg test'" in message
    assert USER_ENV in message and PASSWORD_ENV in message and "machine 127.0.0.1" in message
    assert not server.graphs


def test_credentials_need_both_variables_and_a_readable_netrc(tmp_path):
    with pytest.raises(InputError, match=PASSWORD_ENV):
        credentials("127.0.0.1", {USER_ENV: USER})
    with pytest.raises(InputError, match=USER_ENV):
        credentials("127.0.0.1", {PASSWORD_ENV: PASSWORD})
    bad = _netrc(tmp_path, "machine 127.0.0.1 login a password b\nbogus\n")
    with pytest.raises(InputError, match=r"netrc:\d+: bad \w+ token .bogus."):
        credentials("127.0.0.1", {"NETRC": str(bad)})
    half = _netrc(tmp_path, "machine 127.0.0.1 login a\n")
    with pytest.raises(InputError, match=r"netrc: the entry for 127.0.0.1 needs both login and password"):
        credentials("127.0.0.1", {"NETRC": str(half)})
    other = _netrc(tmp_path, "machine example.org login a password Zq9-secret\n")
    assert credentials("127.0.0.1", {"NETRC": str(other)}) is None
    found = credentials("example.org", {"NETRC": str(other)})
    assert found == Credentials("a", "Zq9-secret", f"{other} (machine example.org)")
    assert "Zq9-secret" not in repr(found)


def test_digest_response_matches_rfc_2617_example():
    params = {"realm": "testrealm@host.com", "qop": "auth,auth-int", "nonce": "dcd98b7102dd2f0e8b11d0f600bfb0c093",
              "opaque": "5ccc069c403ebaf9f0171e9517f40e41"}
    header = digest_authorization(params, Credentials("Mufasa", "Circle Of Life", "test"), "GET", "/dir/index.html",
                                  cnonce="0a4f113b")
    assert 'response="6629fae49393a05397450978507c4ef1"' in header and "nc=00000001" in header


def test_the_command_line_takes_no_credentials_and_reads_the_environment(gsp, tmp_path):
    text = run_cli("push", "--help").stdout.lower()
    assert "--user" not in text and "--password" not in text and "bmlkg_push_user" in text
    server = gsp("basic")
    subset = tmp_path / "subset.nt"
    subset.write_text("<https://w3id.org/bmlkg/A> <http://www.w3.org/2000/01/rdf-schema#label> \"A\" .\n")
    env = {**os.environ, USER_ENV: USER, PASSWORD_ENV: PASSWORD}
    proc = run_cli("push", "--endpoint", server.base + "/gsp", "--file", str(subset), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "pushed 1 triples" in proc.stdout and "basic authentication" in proc.stdout


def test_a_fuseki_root_is_answered_with_its_datasets(kg, gsp):
    server = gsp("open", fuseki=True, server_header="Jetty")  # release-mode Fuseki sends no Server name
    with pytest.raises(InputError) as caught:
        push(kg.triples, server.base + "/")
    message = str(caught.value)
    assert "this is Fuseki" in message and f"{server.base}/archive/data or {server.base}/kb/data" in message
    assert not server.graphs and all(m == "GET" for m, *_ in server.log)


def test_an_unknown_server_root_lists_the_usual_graph_store_paths(kg, gsp):
    server = gsp("open")
    with pytest.raises(InputError, match=r"is a server root, not a Graph Store URL: .*Oxigraph: /store, "
                                         r"Fuseki: /DATASET/data, Virtuoso: /sparql-graph-crud"):
        push(kg.triples, server.base)
    assert not server.graphs


# -- Oxigraph ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def oxigraph():
    try:
        cli = oxigraph_cli()
    except EnvironmentProblem:
        require_tool(False, "the oxigraph command (pip install oxigraph)")
    port = free_port()
    process = subprocess.Popen([cli, "serve", "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base + "/", process)
        yield base
    finally:
        _stop(process)


def test_oxigraph_root_says_store_and_uploads_nothing(kg, oxigraph):
    proc = run_cli("push", "--endpoint", oxigraph + "/")
    assert proc.returncode != 0 and proc.stderr.count("\n") == 1, proc.stderr
    assert f"this is Oxigraph 0.5.13: its Graph Store is {oxigraph}/store" in proc.stderr
    assert f"bmlkg push --endpoint {oxigraph}/store" in proc.stderr
    assert select_remote(oxigraph + "/query", COUNT, timeout=30).rows()[0]["n"] == 0


def test_oxigraph_query_url_is_not_its_store(kg, oxigraph):
    with pytest.raises(EndpointError, match=rf"/query\?default: HTTP .*; this is Oxigraph .*{oxigraph}/store"):
        push(kg.triples[:3], oxigraph + "/query", timeout=30)


def test_oxigraph_named_graph_from_the_command_line(kg, oxigraph):
    graph = "https://w3id.org/bmlkg/pushed"
    proc = run_cli("push", "--endpoint", oxigraph + "/store", "--graph", graph)
    assert proc.returncode == 0 and f"pushed {len(kg)} triples" in proc.stdout, proc.stderr
    rows = select_remote(oxigraph + "/query", f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
                         timeout=30).rows()
    assert rows[0]["n"] == len(kg)


# -- Virtuoso ---------------------------------------------------------------------------------------
VIRTUOSO_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")


def _isql(port: int, sql: str) -> subprocess.CompletedProcess:
    return subprocess.run(["isql-vt", f"127.0.0.1:{port}", "dba", "dba", f"exec={sql}"], capture_output=True,
                          text=True, timeout=60)


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory):
    """Virtuoso (Debian virtuoso-opensource) of its own on loopback; yields (HTTP base URL, SQL port)."""
    require_tool(bool(shutil.which("virtuoso-t") and shutil.which("isql-vt")) and VIRTUOSO_INI.is_file(),
                 "Virtuoso (apt-get install virtuoso-opensource)")
    folder = tmp_path_factory.mktemp("virtuoso")
    sql, http = free_port(), free_port()
    ini = VIRTUOSO_INI.read_text(encoding="utf-8")
    ini = ini.replace("/var/lib/virtuoso-opensource-7/db", str(folder))
    ini = re.sub(r"(?m)^ServerPort\s*=\s*1111\s*$", f"ServerPort = 127.0.0.1:{sql}", ini)
    ini = re.sub(r"(?m)^ServerPort\s*=\s*8890\s*$", f"ServerPort = 127.0.0.1:{http}", ini)
    (folder / "virtuoso.ini").write_text(ini, encoding="utf-8")
    log = open(folder / "console.log", "wb")
    process = subprocess.Popen(["virtuoso-t", "+configfile", str(folder / "virtuoso.ini"), "+foreground"],
                               cwd=folder, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    base = f"http://127.0.0.1:{http}"
    try:
        deadline = time.monotonic() + 120
        while _isql(sql, "SELECT 1;").returncode != 0:
            assert process.poll() is None, (folder / "console.log").read_text(errors="replace")[-500:]
            assert time.monotonic() < deadline, "Virtuoso did not start within 120 s"
            time.sleep(0.5)
        _wait(base + "/", process)
        yield base, sql
    finally:
        _stop(process)


def _virtuoso_count(base: str, graph: str) -> int:
    url = f"{base}/sparql?default-graph-uri={graph.replace(':', '%3A')}"
    return int(select_remote(url, COUNT, timeout=60).rows()[0]["n"])


def test_virtuoso_root_names_its_graph_store(kg, virtuoso):
    base, _sql = virtuoso
    with pytest.raises(InputError) as caught:
        push(kg.triples, base + "/")
    message = str(caught.value)
    assert "this is Virtuoso 07.20" in message and f"{base}/sparql-graph-crud or {base}/sparql-graph-crud-auth" in message
    assert "no default graph (give --graph IRI)" in message


def test_virtuoso_without_the_grant_says_what_to_grant(kg, virtuoso):
    base, _sql = virtuoso
    with pytest.raises(EndpointError, match=r"HTTP 403 .*GRANT SPARQL_UPDATE TO \"SPARQL\""):
        push(kg.triples[:5], base + "/sparql-graph-crud", graph="urn:bmlkg:test", timeout=60)


def test_virtuoso_after_the_grant_needs_a_graph_and_takes_one(kg, virtuoso):
    base, sql = virtuoso
    assert _isql(sql, 'GRANT SPARQL_UPDATE TO "SPARQL";').returncode == 0
    with pytest.raises(EndpointError, match=r"HTTP 500 .*no default graph: give --graph IRI"):
        push(kg.triples[:5], base + "/sparql-graph-crud", timeout=60)
    proc = run_cli("push", "--endpoint", base + "/sparql-graph-crud", "--graph", "urn:bmlkg:open")
    assert proc.returncode == 0 and f"pushed {len(kg)} triples" in proc.stdout, proc.stderr
    assert _virtuoso_count(base, "urn:bmlkg:open") == len(kg)


def test_virtuoso_digest_endpoint_with_credentials(kg, virtuoso, tmp_path):
    base, _sql = virtuoso
    url = base + "/sparql-graph-crud-auth"
    with pytest.raises(EndpointError, match=r"HTTP 401: the server asks for credentials \(digest realm 'SPARQL'\)"):
        push(kg.triples[:5], url, graph="urn:bmlkg:auth", environ={"HOME": str(tmp_path)}, timeout=60)
    with pytest.raises(EndpointError, match=r"user 'dba' .* were refused \(digest authentication\)"):
        push(kg.triples[:5], url, graph="urn:bmlkg:auth", environ={USER_ENV: "dba", PASSWORD_ENV: "nope"}, timeout=60)
    netrc = _netrc(tmp_path, "machine 127.0.0.1 login dba password dba\n")
    result = push(kg.triples, url, graph="urn:bmlkg:auth", environ={"NETRC": str(netrc)}, timeout=120)
    assert result.auth == "digest" and 200 <= result.status < 300
    assert _virtuoso_count(base, "urn:bmlkg:auth") == len(kg)
