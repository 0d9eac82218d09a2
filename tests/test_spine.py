"""The spine: loading, the build command, deterministic exports, staleness, the wheel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import rdflib
from rdflib.compare import to_isomorphic

import bmlkg
from bmlkg.export.rdf import FORMATS

from .conftest import EXPORTS, REPO, run_cli


def test_load_has_header_and_content(kg):
    assert kg.version_iri() == "https://w3id.org/bmlkg/releases/0.1.0/bmlkg.owl"
    assert kg.version() == bmlkg.__version__
    counts = kg.counts()
    assert counts["triples"] == len(kg)
    assert counts["classes"] > 20
    assert counts["sources"] >= 4


def test_build_writes_every_format_and_summary(built):
    for fmt in FORMATS:
        assert (built / fmt.filename).stat().st_size > 0, fmt.filename
    assert (built / "bmlkg.context.jsonld").exists()
    readme = (built / "README.md").read_text()
    for fmt in FORMATS:
        assert f"`{fmt.filename}`" in readme
    manifest = json.loads((built / "MANIFEST.json").read_text())
    assert manifest["versionIRI"] == "https://w3id.org/bmlkg/releases/0.1.0/bmlkg.owl"
    assert set(manifest["files"]) >= {f.filename for f in FORMATS}


@pytest.mark.parametrize("fmt", FORMATS, ids=[f.name for f in FORMATS])
def test_each_format_parses_back_isomorphic(built, fmt):
    """Every export parses back to the same graph as the Turtle release (compared canonically)."""
    reference = rdflib.Graph().parse(built / "bmlkg.nt", format="nt")
    graph = rdflib.Graph().parse(built / fmt.filename, format=fmt.rdflib_format)
    assert len(graph) == len(reference)
    a, b = to_isomorphic(graph), to_isomorphic(reference)
    if a != b:
        only_a = sorted(str(t) for t in (a - b))[:5]
        only_b = sorted(str(t) for t in (b - a))[:5]
        pytest.fail(f"{fmt.filename} differs: only in export {only_a}; only in reference {only_b}")


def test_jsonld_has_no_remote_context(built):
    doc = json.loads((built / "bmlkg.jsonld").read_text())
    assert isinstance(doc["@context"], dict)
    assert all(not str(v).startswith("http") or v.endswith(("/", "#", "_")) for v in doc["@context"].values())


def test_decimal_lexical_forms_survive_export(built, kg):
    """Numbers keep the lexical form the sources give (0.10 is not rewritten to 0.1)."""
    source_decimals = {str(t.object.value) for t in kg.triples
                       if getattr(t.object, "datatype", None) is not None
                       and t.object.datatype.value.endswith("#decimal")}
    nt = (built / "bmlkg.nt").read_text()
    for lexical in source_decimals:
        assert f'"{lexical}"^^<http://www.w3.org/2001/XMLSchema#decimal>' in nt


def test_exports_are_byte_identical_across_processes(tmp_path, java):
    outs = []
    for seed in ("1", "4242"):
        out = tmp_path / f"out{seed}"
        proc = run_cli("build", "--no-render", "--out", str(out), env={"PYTHONHASHSEED": seed})
        assert proc.returncode == 0, proc.stderr
        outs.append(out)
    for fmt in FORMATS:
        assert (outs[0] / fmt.filename).read_bytes() == (outs[1] / fmt.filename).read_bytes(), fmt.filename


def test_committed_exports_are_not_stale(built):
    """The exports committed under exports/ equal a fresh build byte for byte (run `make run` to refresh)."""
    stale = []
    for path in sorted(built.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            committed = EXPORTS / path.name
            if not committed.exists() or committed.read_bytes() != path.read_bytes():
                stale.append(path.name)
    assert not stale, f"committed exports are stale, run `make run` and commit exports/: {stale}"


def test_build_summary_output(tmp_path, java):
    proc = run_cli("build", "--no-render", "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr
    assert "checks passed" in proc.stdout
    assert "bmlkg.ttl" in proc.stdout and "triples" in proc.stdout
    assert "… OWL reasoning (HermiT) started in the background" in proc.stderr  # progress for the slow steps


def test_wheel_installs_and_builds_outside_the_repo(tmp_path, java):
    """The wheel carries ontology/ and queries/; an install of it builds from another directory."""
    dist = tmp_path / "dist"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-q", "-w", str(dist), str(REPO)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    wheel = next(dist.glob("bmlkg-*.whl"))
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "bmlkg/ontology/bmlkg.ttl" in names and "bmlkg/ontology/shapes.ttl" in names
    assert any(n.startswith("bmlkg/queries/") and n.endswith(".rq") for n in names)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    site = next(env_dir.glob("lib/python*/site-packages"))
    deps = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (site / "deps.pth").write_text("\n".join(deps) + "\n")  # dependencies only: .pth files there are not run
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
                           str(wheel)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    python = env_dir / "bin" / "python"
    proc = subprocess.run([str(python), "-c", "import bmlkg, sys; print(bmlkg.__file__)"],
                          cwd=elsewhere, capture_output=True, text=True)
    assert str(site) in proc.stdout, (proc.stdout, proc.stderr)
    proc = subprocess.run([str(python), "-m", "bmlkg", "build", "--no-render", "--out", "out"],
                          cwd=elsewhere, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
    assert proc.returncode == 0, proc.stderr
    assert (elsewhere / "out" / "bmlkg.ttl").read_bytes() == (EXPORTS / "bmlkg.ttl").read_bytes()


def test_linear_blank_node_labelling_agrees_with_rdflib(kg):
    """The tree labelling used for exports gives a graph isomorphic to rdflib's general canonical form."""
    import pyoxigraph as ox
    from rdflib.compare import isomorphic

    from bmlkg.export import rdf as export

    assert export._tree_labels(kg.triples) is not None  # the curated graph takes the linear path
    fast, general = export.canonical_triples(kg), export._rdflib_canonical(kg)

    def graph(triples):
        return rdflib.Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode(), format="nt")

    assert isomorphic(graph(fast), graph(general))
    assert len(fast) == len(kg.triples)


def test_shared_blank_node_falls_back_to_the_general_algorithm():
    import pyoxigraph as ox

    from bmlkg.export import rdf as export

    shared = ox.BlankNode("b")
    p = ox.NamedNode("http://e/p")
    triples = [ox.Triple(ox.NamedNode("http://e/a"), p, shared), ox.Triple(ox.NamedNode("http://e/c"), p, shared),
               ox.Triple(shared, p, ox.Literal("x"))]
    assert export._tree_labels(triples) is None
    twins = [ox.Triple(ox.NamedNode("http://e/a"), p, ox.BlankNode("x")), ox.Triple(ox.BlankNode("x"), p, ox.Literal("1")),
             ox.Triple(ox.NamedNode("http://e/a"), p, ox.BlankNode("y")), ox.Triple(ox.BlankNode("y"), p, ox.Literal("1"))]
    assert export._tree_labels(twins) is None
