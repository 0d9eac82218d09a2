"""Issue 14, items 4, 6-8 and 10-12: no network, no runaway work, no orphan, and one-line errors everywhere.

Each test pins the exact outcome: the exit code, the one stderr line, and what did (not) happen.
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

import pyoxigraph as ox
import pytest

import bmlkg
from bmlkg.export import rdf as export_rdf
from bmlkg.query import engines
from bmlkg.query.results import ResultsFormatError, from_json
from bmlkg.store.errors import InputError, QueryError
from bmlkg.store.graph import Store

from .conftest import REPO, require_tool, run_cli
from .helpers import PREFIXES, mini_source

SERVICE_REFUSED = "SERVICE (federated query) is refused: bmlkg queries never reach other endpoints"
TIMEOUT_MSG = "must be a number of seconds above 0 and at most 604800 (a week), not"


def error_line(proc) -> str:
    """The single stderr line of a failed command (progress lines aside)."""
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("  … ")]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert lines[0].startswith("bmlkg: error: "), lines[0]
    return lines[0][len("bmlkg: error: "):]


class Stub:
    """A loopback HTTP server: counts connections and answers each with ``answer`` (bytes) or nothing."""

    def __init__(self, answer: bytes | None = None):
        self.answer = answer
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/sparql"

    def _run(self):
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            try:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                if self.answer is not None:
                    conn.sendall(self.answer)
            except OSError:
                pass
            finally:
                conn.close()

    def close(self):
        self.done.set()
        self.thread.join(2)
        self.sock.close()


def http(status: str, body: bytes, ctype: str = "application/sparql-results+json") -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode() + body


@pytest.fixture
def stub():
    made = []

    def make(answer=None):
        made.append(Stub(answer))
        return made[-1]

    yield make
    for server in made:
        server.close()


# -- 4. \u escapes and SERVICE ---------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["rdflib", "oxigraph"])
def test_service_hidden_by_unicode_escapes_never_reaches_the_network(stub, tmp_path, engine):
    target = stub()
    query = tmp_path / "q.rq"
    query.write_text(f"SELECT ?x WHERE {{ # \\u000A SERVICE <{target.url}> {{ ?x ?p ?o }} \\u000A }}\n")
    proc = run_cli("sparql", str(query), "--engine", engine, timeout=120)
    assert proc.returncode == 2
    assert error_line(proc) == f"line 2: {SERVICE_REFUSED}"
    assert target.connections == 0


def test_a_string_that_becomes_syntax_once_expanded_is_refused():
    with pytest.raises(QueryError, match="change its structure once expanded"):
        engines.check_read_only('SELECT ?x WHERE { ?x ?p "\\u0022 } " }')


def _own_network_namespace_possible() -> bool:
    """Whether a forked process may take a network namespace of its own (what the query worker does)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        import ctypes

        os._exit(0 if ctypes.CDLL("libc.so.6", use_errno=True).unshare(0x10000000 | 0x40000000) == 0 else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize("engine", ["rdflib", "oxigraph"])
def test_the_engines_refuse_service_themselves(kg, stub, monkeypatch, engine):
    """Second line of defence: with the text check switched off, the engines still fetch nothing."""
    if engine == "oxigraph":
        require_tool(_own_network_namespace_possible(), "unprivileged user and network namespaces")
    target = stub()
    monkeypatch.setattr(engines, "check_read_only", lambda text: "SELECT")
    query = f"SELECT * WHERE {{ SERVICE <{target.url}> {{ ?s ?p ?o }} }}"
    with pytest.raises(QueryError) as info:
        if engine == "rdflib":
            engines.select_rdflib(kg.rdflib_graph(), query)
        else:  # in the query worker, which has no network of its own
            engines.run_with_deadline(lambda: engines.select_oxigraph(kg.store, query), 30)
    if engine == "rdflib":
        assert str(info.value) == SERVICE_REFUSED
    time.sleep(0.3)
    assert target.connections == 0


@pytest.mark.parametrize("engine", ["rdflib", "oxigraph"])
def test_a_text_parameter_holding_backslash_u_stays_data(kg, engine):
    for value in ["\\u000A", "Bunkyo\\u000A", "a\\\\U00000041b", "x\\"]:
        text = "SELECT ?v WHERE { VALUES ?v { %s } }" % engines.sparql_term(ox.Literal(value))
        assert engines.execute(kg, text, engine=engine).bindings[0]["v"].value == value
    proc = run_cli("query", "cq-study-results", "-p", "study=Bunkyo\\u000A", "--engine", engine, "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") == 1  # the header only: the text matched nothing, as data


# -- 6. nesting and size -------------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["rdflib", "oxigraph"])
def test_a_deeply_nested_query_is_refused_before_evaluation(tmp_path, engine):
    query = tmp_path / "deep.rq"
    query.write_text("SELECT * WHERE " + "{ " * 3000 + "?s ?p ?o" + " }" * 3000 + "\n")
    proc = run_cli("sparql", str(query), "--engine", engine)
    assert proc.returncode == 2
    assert error_line(proc) == ("line 1: query nested more than 200 levels deep (brackets and braces); refused "
                                "before evaluation")


def test_the_in_process_engine_is_guarded_too(kg):
    with pytest.raises(InputError, match="nested more than 200 levels"):
        engines.select_oxigraph(kg.store, "SELECT * WHERE " + "{ " * 3000 + "?s ?p ?o" + " }" * 3000)


def test_a_huge_query_is_refused_at_once_whatever_the_timeout(tmp_path):
    query = tmp_path / "big.rq"
    query.write_text("SELECT * WHERE { ?s ?p ?o } # " + "x" * 2_000_000 + "\n")
    proc = run_cli("sparql", str(query), "--timeout", "1")
    assert proc.returncode == 2
    assert error_line(proc) == f"{query}: more than 1,000,000 bytes; a query file is refused beyond that"
    with pytest.raises(InputError, match="at most 1,000,000 are accepted"):
        engines.execute(None, "SELECT * WHERE { ?s ?p ?o } # " + "x" * 1_000_001, timeout=1)


@pytest.mark.parametrize("path", ["/dev/zero", "-"])
def test_reading_a_query_is_bounded(path):
    proc = subprocess.run([sys.executable, "-m", "bmlkg.cli", "sparql", path], cwd=REPO, capture_output=True,
                          text=True, timeout=60, stdin=open("/dev/zero") if path == "-" else None)
    assert proc.returncode == 2
    where = "standard input" if path == "-" else path
    assert error_line(proc) == f"{where}: more than 1,000,000 bytes; a query file is refused beyond that"


# -- 7. DOCTYPE anywhere, 10. XML depth ----------------------------------------------------------------------------
RDF_OPEN = '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://e/">'


def test_a_doctype_after_a_long_comment_is_refused(tmp_path):
    src = mini_source(tmp_path / "src")
    entities = "".join(f'<!ENTITY l{i + 1} "' + f"&l{i};" * 10 + '">' for i in range(9))
    (src / "laughs.owl").write_text('<?xml version="1.0"?>\n<!--' + "x" * 70_000 + '-->\n'
                                    f'<!DOCTYPE r [ <!ENTITY l0 "lol"> {entities} ]>\n{RDF_OPEN}\n'
                                    '<rdf:Description rdf:about="http://e/a"><ex:p>&l9;</ex:p></rdf:Description>'
                                    "</rdf:RDF>\n")
    proc = run_cli("check", "--no-reasoner", "--source", str(src), timeout=60)
    assert proc.returncode == 2
    assert error_line(proc) == f"{src / 'laughs.owl'}:3: XML with a DOCTYPE or ENTITY declaration is refused " \
                               "(entity expansion)"


def test_rdfxml_nesting_is_bounded(tmp_path):
    src = mini_source(tmp_path / "src")
    depth = 40_000
    (src / "deep.rdf").write_text('<?xml version="1.0"?>\n' + RDF_OPEN + "\n"
                                  + "<rdf:Description><ex:p>" * depth + "</ex:p></rdf:Description>" * depth
                                  + "</rdf:RDF>\n")
    proc = run_cli("check", "--no-reasoner", "--source", str(src), timeout=60)
    assert proc.returncode == 2
    assert error_line(proc) == (f"{src / 'deep.rdf'}:3: XML nested more than 1000 elements deep; refused (parsing "
                                "time grows with the square of the depth)")


# -- 8. the query worker dies with its parent -------------------------------------------------------------------
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }\n"


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    if int(handle.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_the_query_worker_dies_with_its_parent(tmp_path, sig):
    query = tmp_path / "slow.rq"
    query.write_text(SLOW)
    proc = subprocess.Popen([sys.executable, "-m", "bmlkg.cli", "sparql", str(query), "--timeout", "60"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        workers = []
        while time.monotonic() < deadline and not workers:
            workers = _children(proc.pid)
            time.sleep(0.05)
        assert workers, "the query worker never started"
        time.sleep(0.3)
        os.kill(proc.pid, sig)
        out, err = proc.communicate(timeout=10)     # a caller reading the output is not left hanging
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.05)
    assert not any(_alive(w) for w in workers), "the worker outlived its parent"
    assert out == b""
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 128 + sig
        name = signal.Signals(sig).name
        assert err.decode().splitlines() == [f"bmlkg: error: stopped by {name}; nothing was left half-written"]


# -- 10. unbounded work -----------------------------------------------------------------------------------------
def test_a_result_larger_than_the_row_cap_stops_with_a_clear_message(tmp_path):
    query = tmp_path / "cross.rq"
    query.write_text("SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }\n")
    proc = run_cli("sparql", str(query), "--max-rows", "1000")
    assert proc.returncode == 2
    assert error_line(proc) == ("the query returned more than 1,000 rows and was stopped; narrow it, add LIMIT, or "
                                "raise --max-rows")
    assert proc.stdout == ""


def test_a_deep_blank_node_tree_is_labelled_without_the_general_fallback(monkeypatch):
    depth = 3000
    p, v = ox.NamedNode("http://e/p"), ox.NamedNode("http://e/v")
    triples = [ox.Triple(ox.NamedNode("http://e/root"), p, ox.BlankNode("b0"))]
    for i in range(depth):
        triples += [ox.Triple(ox.BlankNode(f"b{i}"), p, ox.BlankNode(f"b{i + 1}")),
                    ox.Triple(ox.BlankNode(f"b{i}"), v, ox.Literal(str(i)))]

    def no_fallback(_kg):
        raise AssertionError("fell back to rdflib's general canonicalisation")

    monkeypatch.setattr(export_rdf, "_rdflib_canonical", no_fallback)
    first = export_rdf.canonical_triples(Store(list(triples), [], Path("."), 0))
    again = export_rdf.canonical_triples(Store(list(reversed(triples)), [], Path("."), 0))
    assert first == again and len(first) == len(triples)
    assert len({t.object.value for t in first if isinstance(t.object, ox.BlankNode)}) == depth + 1


def test_results_json_is_read_as_a_stream_with_bounded_nesting():
    good = (b'{"results": {"bindings": [{"x": {"type": "literal", "value": "1"}}, {}]}, '
            b'"head": {"vars": ["x"]}}')
    assert from_json(good).rows() == [{"x": "1"}, {}]
    with pytest.raises(ResultsFormatError, match="JSON nested too deeply"):
        from_json(b'{"head": {"vars": []}, "results": {"bindings": [' + b"[" * 100_000 + b"]}}")
    with pytest.raises(ResultsFormatError, match="more than 1 solutions"):
        from_json(good, max_rows=1)


def test_an_endpoint_answering_deeply_nested_json_is_one_line(stub):
    server = stub(http("200 OK", b"[" * 100_000))
    proc = run_cli("sparql", "-", "--endpoint", server.url, "--timeout", "10", input="SELECT ?x WHERE { ?x ?p ?o }")
    assert proc.returncode == 2
    assert error_line(proc) == (f"{server.url}: malformed SPARQL results (not valid JSON (expected '{{' at character "
                                "0, found '[')); no rows are shown")
    nested = b'{"head": {"vars": ["x"]}, "results": {"bindings": [' + b"[" * 100_000 + b"]}}"
    server = stub(http("200 OK", nested))
    proc = run_cli("sparql", "-", "--endpoint", server.url, "--timeout", "10", input="SELECT ?x WHERE { ?x ?p ?o }")
    assert proc.returncode == 2
    assert error_line(proc) == f"{server.url}: malformed SPARQL results (JSON nested too deeply); no rows are shown"


# -- 11. tracebacks that were -------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["sparql", "query", "push"])
@pytest.mark.parametrize("value,shown", [("3000000", "3e+06"), ("1e9", "1e+09"), ("inf", "inf"), ("nan", "nan"),
                                         ("-1", "-1"), ("0", "0")])
def test_timeouts_out_of_range_are_one_line(tmp_path, command, value, shown):
    if command == "sparql":
        (tmp_path / "q.rq").write_text("SELECT * WHERE { ?s ?p ?o } LIMIT 1\n")
        args = ["sparql", str(tmp_path / "q.rq")]
    elif command == "query":
        args = ["query", "cq-study-results"]
    else:
        args = ["push", "--endpoint", "http://127.0.0.1:9/store"]
    proc = run_cli(*args, "--timeout", value, timeout=60)
    assert proc.returncode == 2
    assert error_line(proc) == f"--timeout: {TIMEOUT_MSG} {shown}"


@pytest.mark.parametrize("args,message", [
    (["--reasoner-timeout", "inf"], f"--reasoner-timeout: {TIMEOUT_MSG} inf"),
    (["--reasoner-timeout", "nan"], f"--reasoner-timeout: {TIMEOUT_MSG} nan"),
    (["--reasoner-timeout", "0"], f"--reasoner-timeout: {TIMEOUT_MSG} 0"),
    (["--reasoner-timeout", "-1"], f"--reasoner-timeout: {TIMEOUT_MSG} -1"),
    (["--reasoner-memory", "10"], "--reasoner-memory: 10 MB is too little for HermiT; give at least 64"),
])
def test_reasoner_limits_are_checked_before_anything_runs(args, message):
    proc = run_cli("check", *args, timeout=60)
    assert proc.returncode == 2
    assert error_line(proc) == message
    assert proc.stdout == ""


def test_more_java_memory_than_the_machine_has_is_refused_not_blamed_on_too_little():
    proc = run_cli("check", "--reasoner-memory", "99999999", timeout=60)
    assert proc.returncode == 2
    line = error_line(proc)
    assert line.startswith("--reasoner-memory: 99999999 MB is more than this machine has (")
    assert line.endswith(" MB); give less") and "raise" not in line


def test_a_reasoner_timeout_shorter_than_java_start_still_holds(tmp_path, java):
    proc = run_cli("check", "--source", str(mini_source(tmp_path / "src")), "--reasoner-timeout", "0.001",
                   "--format", "tsv")
    assert proc.returncode == 2
    assert ("ERROR\treasoner-hermit\t\t\t\tcheck could not run: HermiT did not finish within 0.001 s (raise "
            "--reasoner-timeout)") in proc.stdout.splitlines()


def test_a_number_parameter_of_4301_digits_is_one_line():
    proc = run_cli("query", "cq-study-results", "-p", "study=Bunkyo Health Study", "--timeout", "30")
    assert proc.returncode == 0, proc.stderr
    query = next(q for q in engines.catalogue() if any(p.type == "number" for p in q.params))
    param = next(p for p in query.params if p.type == "number")
    others = [f"{p.name}={p.example}" for p in query.params if p.name != param.name and p.example and not p.optional]
    args = ["query", query.name, "-p", f"{param.name}={'9' * 4301}"]
    for other in others:
        args += ["-p", other]
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert error_line(proc) == (f"parameter {param.name} (number): a number of 4,301 characters; at most 100 are "
                                "accepted")


def test_service_in_a_sparql_shape_is_refused_naming_the_shapes_file(tmp_path, stub):
    target = stub()
    src = mini_source(tmp_path / "src")
    shapes = src / "shapes.ttl"
    text = shapes.read_text(encoding="utf-8")
    shapes.write_text(text + f"""
bml:RemoteShape a sh:NodeShape ;
    sh:targetClass bml:Condition ;
    sh:sparql [ sh:select \"\"\"
        SELECT $this WHERE {{
          SERVICE <{target.url}> {{ $this ?p ?o }}
        }}\"\"\" ] .
""", encoding="utf-8")
    line = text.count("\n") + 6
    proc = run_cli("check", "--no-reasoner", "--source", str(src), "--format", "tsv", timeout=120)
    assert proc.returncode == 2
    assert (f"ERROR\tshacl\t\t\t\tcheck could not run: {shapes}:{line}: sh:select of a shape refused: "
            f"{SERVICE_REFUSED}") in proc.stdout.splitlines()
    assert "Traceback" not in proc.stderr
    assert target.connections == 0


def test_check_against_a_deeply_nested_manifest_is_one_line(tmp_path):
    manifest = tmp_path / "MANIFEST.json"
    manifest.write_text("[" * 100_000)
    proc = run_cli("check", "--no-reasoner", "--against", str(manifest), "--format", "tsv")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    rows = [r for r in proc.stdout.splitlines() if r.startswith("ERROR\trelease-version")]
    assert rows and rows[0].startswith(f"ERROR\trelease-version\t\t\t\tcheck could not run: {manifest}: not a "
                                       "readable bmlkg MANIFEST.json (")


# -- 12. messages that name the thing ---------------------------------------------------------------------------------
def test_an_ill_typed_literal_is_a_finding_with_file_and_line(tmp_path, java):
    src = mini_source(tmp_path / "src", 'bml:FixtureCondition bml:prevalenceNote "abc"^^xsd:integer .\n')
    line = PREFIXES.count("\n") + 1
    proc = run_cli("check", "--source", str(src), "--format", "tsv")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    rows = proc.stdout.splitlines()
    assert ("ERROR\till-typed-literal\thttps://w3id.org/bmlkg/FixtureCondition\thttps://w3id.org/bmlkg/prevalenceNote\t"
            f"abc\t{src / 'extra.ttl'}:{line}: 'abc' is not a valid xsd:integer") in rows
    assert not [r for r in rows if r.startswith("ERROR\treasoner-hermit")], "HermiT ran on the rest"
    assert "owlready2" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("context", ['["https://schema.org/"]', '[{"ex": "http://e/"}, "https://schema.org/"]',
                                     '{"@import": "https://schema.org/"}'])
def test_a_remote_json_ld_context_is_named_with_its_line(tmp_path, context):
    src = mini_source(tmp_path / "src")
    (src / "remote.jsonld").write_text('{\n  "@id": "http://e/a",\n  "@context": ' + context + ',\n  "ex:n": "x"\n}\n')
    proc = run_cli("check", "--no-reasoner", "--source", str(src))
    assert proc.returncode == 2
    assert error_line(proc) == (f"{src / 'remote.jsonld'}:3: remote JSON-LD @context is not fetched (offline); "
                                "inline the context")


def test_a_byte_order_mark_is_accepted(tmp_path):
    src = mini_source(tmp_path / "src")
    (src / "bom.ttl").write_bytes(b"\xef\xbb\xbf" + PREFIXES.encode() + b'bml:BomTerm a owl:Class ; '
                                  b'rdfs:label "bom term"@en .\n')
    graph = bmlkg.load(src)
    assert graph.label("https://w3id.org/bmlkg/BomTerm") == "bom term"


@pytest.mark.parametrize("kind", ["dangling symlink", "fifo", "folder"])
def test_sources_that_are_not_regular_files_are_reported(tmp_path, kind):
    src = mini_source(tmp_path / "src")
    odd = src / "odd.ttl"
    if kind == "dangling symlink":
        odd.symlink_to(tmp_path / "missing.ttl")
        why = f"is a dangling symbolic link (to {tmp_path / 'missing.ttl'}, which does not exist)"
    elif kind == "fifo":
        os.mkfifo(odd)
        why = "is a FIFO (named pipe), not a regular file"
    else:
        odd.mkdir()
        why = "is a folder, not a file"
    proc = run_cli("check", "--no-reasoner", "--source", str(src), timeout=60)
    assert proc.returncode == 2
    assert error_line(proc) == f"{odd}: {why}; a source must be a regular file (move it out of {src})"


def test_usage_errors_are_one_line():
    for args, message in [
        (["build", "--no-such-option"], "No such option: --no-such-option"),
        (["query"], "Missing argument 'name'. (see `bmlkg query --help`)"),
        (["no-such-command"], "No such command 'no-such-command'. (see `bmlkg --help`)"),
    ]:
        proc = run_cli(*args)
        assert proc.returncode == 2
        line = error_line(proc)
        assert line.startswith(message), line
        assert "Usage:" not in proc.stderr


def test_a_huge_echoed_value_is_cut_and_terminal_escapes_are_shown_escaped(stub):
    label = "\x1b[2J" + "x" * 100_000
    proc = run_cli("query", "cq-mri-signal", "-p", f"finding={label}")
    assert proc.returncode == 2
    line = error_line(proc)
    assert len(line) < 1000 and "characters left out" in line
    assert "\x1b" not in proc.stderr and "\\x1b[2J" in line
    server = stub(http("500 Internal Server Error", b"\x1b]0;owned\x07\x1b[31mboom\x1b[0m", ctype="text/plain"))
    proc = run_cli("sparql", "-", "--endpoint", server.url, "--timeout", "10", input="SELECT ?x WHERE { ?x ?p ?o }")
    assert proc.returncode == 2
    assert error_line(proc) == (f"{server.url}: HTTP 500 Internal Server Error: \\x1b]0;owned\\x07\\x1b[31mboom"
                                "\\x1b[0m")
    assert "\x1b" not in proc.stderr


def test_escape_sequences_in_source_data_are_escaped_in_tables_but_kept_in_data(tmp_path):
    src = mini_source(tmp_path / "src", 'bml:EscTerm a owl:Class ; rdfs:label "esc \\u001B[2Jterm"@en .\n')
    query = tmp_path / "q.rq"
    query.write_text('SELECT ?l WHERE { <https://w3id.org/bmlkg/EscTerm> '
                     '<http://www.w3.org/2000/01/rdf-schema#label> ?l }\n')
    table = run_cli("sparql", str(query), "--source", str(src))
    assert table.returncode == 0, table.stderr
    assert "\x1b" not in table.stdout and "esc \\x1b[2Jterm" in table.stdout
    csv = run_cli("sparql", str(query), "--source", str(src), "--format", "csv")
    assert csv.stdout.splitlines()[1] == "esc \x1b[2Jterm"
