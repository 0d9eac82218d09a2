"""Bad input gets a clear one-line error, exit 2, and changes nothing; faults never leave partial output."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import bmlkg
from bmlkg.export import rdf as export_mod
from bmlkg.store import fileio
from bmlkg.store.errors import EnvironmentProblem, InputError

from .conftest import REPO, run_cli
from .helpers import mini_source

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://e/">
  <rdf:Description rdf:about="http://e/a"><ex:p>&lol9;</ex:p></rdf:Description>
</rdf:RDF>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE r [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://e/">
  <rdf:Description rdf:about="http://e/a"><ex:p>&xxe;</ex:p></rdf:Description>
</rdf:RDF>
"""


def _case_source(tmp_path: Path, case: str) -> tuple[Path, str]:
    """A --source argument for each bad-input case, and the text the error must name."""
    src = mini_source(tmp_path / "src")
    if case == "missing path":
        return tmp_path / "does-not-exist", "does-not-exist: no such folder"
    if case == "file instead of folder":
        return src / "mini.ttl", "not a folder"
    if case == "empty file":
        (src / "empty.ttl").write_text("")
        return src, "empty.ttl: file is empty"
    if case == "binary file":
        (src / "blob.ttl").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
        return src, "blob.ttl: binary file"
    if case == "turtle syntax error":
        (src / "broken.ttl").write_text('@prefix ex: <http://e/> .\nex:a ex:b ex:c .\n\nex:d ex:e "unterminated .\n')
        return src, "broken.ttl:4"
    if case == "billion laughs":
        (src / "lol.owl").write_text(BILLION_LAUGHS)
        return src, "lol.owl:2: XML with a DOCTYPE"
    if case == "external entity":
        (src / "xxe.rdf").write_text(EXTERNAL_ENTITY)
        return src, "xxe.rdf:2: XML with a DOCTYPE"
    if case == "remote json-ld context":
        (src / "remote.jsonld").write_text('{"@context": "https://schema.org/", "@id": "http://e/a", "name": "x"}')
        return src, "remote.jsonld:1: remote JSON-LD @context"
    if case == "owl:imports over http":
        (src / "imports.ttl").write_text(
            "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
            "<http://e/o> a owl:Ontology ; owl:imports <http://purl.obolibrary.org/obo/mondo.owl> .\n")
        return src, "imports.ttl: owl:imports <http://purl.obolibrary.org/obo/mondo.owl> is not resolved"
    if case == "bad sssom row":
        (src / "x.sssom.tsv").write_text("subject_id\tpredicate_id\tobject_id\nbml:KneePain\tskos:sameAs\tHP:0030839\n")
        return src, "x.sssom.tsv:2: predicate_id 'skos:sameAs'"
    raise AssertionError(case)


CASES = ["missing path", "file instead of folder", "empty file", "binary file", "turtle syntax error",
         "billion laughs", "external entity", "remote json-ld context", "owl:imports over http", "bad sssom row"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, case):
    source, expected = _case_source(tmp_path, case)
    out = tmp_path / "out"
    out.mkdir()
    (out / "bmlkg.ttl").write_text("previous release\n")
    manifest = '{"files": {"bmlkg.ttl": {}}, "ontology": "https://w3id.org/bmlkg/bmlkg.owl"}\n'
    (out / "MANIFEST.json").write_text(manifest)  # a release bmlkg wrote, so --out is not refused as foreign
    started = time.monotonic()
    proc = run_cli("--quiet", "build", "--no-render", "--source", str(source), "--out", str(out))
    elapsed = time.monotonic() - started
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("bmlkg: error: ") and expected in lines[0], lines[0]
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert sorted(p.name for p in out.iterdir()) == ["MANIFEST.json", "bmlkg.ttl"]
    assert (out / "bmlkg.ttl").read_text() == "previous release\n"
    assert (out / "MANIFEST.json").read_text() == manifest
    if case in ("billion laughs", "external entity"):
        assert elapsed < 30  # refused before any parser sees the entities


def test_debug_shows_the_traceback(tmp_path):
    proc = run_cli("--debug", "check", "--source", str(tmp_path / "nope"))
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "InputError" in proc.stderr


@pytest.mark.parametrize("args", [
    ["build", "--no-such-option"],
    ["check", "--fail-on", "SEVERE"],
    ["check", "--format", "xml"],
    ["no-such-command"],
])
def test_unknown_command_option_or_value_exits_2_listing_choices(args):
    proc = run_cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    if args[-1] in ("SEVERE", "xml"):
        assert "is not one of" in proc.stderr


def test_failure_part_way_through_export_leaves_previous_files(tmp_path, monkeypatch):
    kg = bmlkg.load(mini_source(tmp_path / "src"))
    out = tmp_path / "out"
    first = export_mod.export(kg, out)
    before = {p.name: p.read_bytes() for p in first}

    def exploding(_triples):
        raise RuntimeError("disk pulled out mid-export")

    formats = list(export_mod.FORMATS)
    formats[2] = export_mod.Format(formats[2].name, formats[2].filename, formats[2].media_type,
                                   formats[2].rdflib_format, formats[2].description, exploding)
    monkeypatch.setattr(export_mod, "FORMATS", tuple(formats))
    kg2 = bmlkg.load(mini_source(tmp_path / "src2", 'bml:Extra a owl:Class ; rdfs:label "extra"@en .\n'))
    with pytest.raises(RuntimeError):
        export_mod.export(kg2, out)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name in before} == before
    assert not [p for p in out.iterdir() if p.name.startswith(fileio.TMP_PREFIX)]


def test_failure_while_renaming_keeps_previous_files(tmp_path, monkeypatch):
    out = tmp_path / "out"
    fileio.atomic_write(out / "a.txt", "old a")
    fileio.atomic_write(out / "b.txt", "old b")
    real_replace = os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(fileio.os, "replace", failing_replace)
    staged = fileio.StagedWrites()
    staged.add(out / "a.txt", "new a")
    staged.add(out / "b.txt", "new b")
    with pytest.raises(EnvironmentProblem, match="no space left on device"):
        staged.commit()
    assert (out / "a.txt").read_text() == "old a" and (out / "b.txt").read_text() == "old b"
    assert not [p for p in out.iterdir() if p.name.startswith(fileio.TMP_PREFIX)]


@pytest.mark.parametrize("err,text", [(errno.ENOSPC, "no space left on device"), (errno.EACCES, "permission denied")])
def test_disk_full_or_permission_denied_is_a_clear_error(tmp_path, monkeypatch, err, text):
    from typer.testing import CliRunner

    from bmlkg.cli import app

    def failing_fsync(_fd):
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(fileio.os, "fsync", failing_fsync)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["--quiet", "build", "--no-render", "--source",
                                      str(mini_source(tmp_path / "src")), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert text in result.output and "cannot write" in result.output
    assert not out.exists() or not [p for p in out.iterdir() if not p.name.startswith(".bmlkg.lock")]


def test_two_builds_at_once_into_one_folder(tmp_path, built):
    out = tmp_path / "shared-out"
    env = {**os.environ}
    procs = [subprocess.Popen([sys.executable, "-m", "bmlkg.cli", "-q", "build", "--no-render", "--out", str(out)],
                              cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    for proc in procs:
        _stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr
    for name in ("bmlkg.ttl", "bmlkg.owl", "bmlkg.nt", "bmlkg.jsonld", "MANIFEST.json"):
        assert (out / name).read_bytes() == (built / name).read_bytes(), name
    assert not [p for p in out.iterdir() if p.name.startswith(fileio.TMP_PREFIX)]


def test_java_missing_fails_the_build_clearly(tmp_path, java):
    out = tmp_path / "out"
    proc = run_cli("-q", "build", "--no-render", "--source", str(mini_source(tmp_path / "src")), "--out", str(out),
                   env={"PATH": str(tmp_path / "empty-bin")})
    assert proc.returncode == 2, proc.stderr
    assert "HermiT needs Java" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_too_little_java_memory_fails_clearly(tmp_path, java):
    out = tmp_path / "out"
    proc = run_cli("-q", "build", "--no-render", "--reasoner-memory", "1",
                   "--source", str(mini_source(tmp_path / "src")), "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    assert "memory" in proc.stderr.lower(), proc.stderr
    assert not out.exists()


def test_reasoner_timeout_fails_clearly(tmp_path, java):
    out = tmp_path / "out"
    proc = run_cli("-q", "build", "--no-render", "--reasoner-timeout", "0.05",
                   "--source", str(mini_source(tmp_path / "src")), "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    assert "did not finish within 0.05 s" in proc.stderr, proc.stderr
    assert not out.exists()


def test_inconsistent_ontology_is_reported(tmp_path, java):
    extra = """
claim:two-directions a owl:NamedIndividual , bml:Claim ;
    rdfs:label "a claim with two directions"@en ;
    bml:subjectTerm bml:FixtureCondition ; bml:predicateTerm bml:mayCause ; bml:objectTerm bml:FixtureFinding ;
    bml:direction bml:Supports , bml:Refutes ; dcterms:source src:seed-002 .
"""
    proc = run_cli("check", "--source", str(mini_source(tmp_path / "src", extra)))
    assert proc.returncode == 1
    assert "HermiT found the ontology inconsistent" in proc.stdout


def test_changed_graph_with_same_version_fails_release_check(tmp_path, java):
    out = tmp_path / "release"
    assert run_cli("-q", "build", "--no-render", "--source", str(mini_source(tmp_path / "a")),
                   "--out", str(out)).returncode == 0
    same = run_cli("check", "--no-reasoner", "--source", str(mini_source(tmp_path / "b")),
                   "--against", str(out / "MANIFEST.json"))
    assert same.returncode == 0, same.stdout
    changed_src = mini_source(tmp_path / "c", 'bml:New a owl:Class ; rdfs:subClassOf bml:Condition ; '
                                              'rdfs:label "new"@en ; obo:IAO_0000115 "New."@en ; '
                                              'dcterms:source src:seed-002 .\n')
    changed = run_cli("check", "--no-reasoner", "--source", str(changed_src), "--against", str(out / "MANIFEST.json"))
    assert changed.returncode == 1
    assert "release-version" in changed.stdout and "bump owl:versionInfo" in changed.stdout


def test_diff_reports_added_and_removed_statements(tmp_path):
    old = mini_source(tmp_path / "old")
    new = mini_source(tmp_path / "new", 'bml:New a owl:Class ; rdfs:label "new"@en .\n')
    (new / "mini.ttl").write_text((new / "mini.ttl").read_text().replace('"fixture finding"@en', '"fixture sign"@en'))
    proc = run_cli("diff", str(old), str(new))
    assert proc.returncode == 1
    lines = set(proc.stdout.splitlines())
    assert '+ bml:New rdf:type owl:Class' in lines
    assert '+ bml:New rdfs:label "new"@en' in lines
    assert '- bml:FixtureFinding rdfs:label "fixture finding"@en' in lines
    assert '+ bml:FixtureFinding rdfs:label "fixture sign"@en' in lines
    assert "3 statement(s) added, 1 removed" in proc.stderr
    assert run_cli("diff", str(old), str(old)).returncode == 0
