"""The conformance manifest ``exports/queries/``: complete, current, and passing on the embedded engine.

The manifest is read as RDF (its own ``mf:``/``qt:`` vocabulary, nothing bmlkg-specific): each
``mf:QueryEvaluationTest`` names its query, its data and its expected results, which is all another engine's
test runner needs.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pyoxigraph as ox
import pytest

from bmlkg.export.conformance import results_json
from bmlkg.query import engines as lib
from bmlkg.query.results import from_json
from bmlkg.query.sparqltext import group_concat_columns

from .conftest import EXPORTS

FOLDER = EXPORTS / "queries"
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#"
BASE = "https://example.org/bmlkg-exports/queries/manifest.ttl"


def _value(key):
    if isinstance(key, tuple):
        return [_value(k) for k in key]
    if isinstance(key, Decimal):
        return format(key.normalize(), "f") if key == key.to_integral() else str(key.normalize())
    return key


def by_value(result, text: str) -> list[str]:
    result = lib.sort_concatenations(result, group_concat_columns(text))
    return sorted(json.dumps(_value(k)) for k in result.comparable())


def manifest_tests() -> list[dict]:
    """Every test of the manifest: name, query file, data file, result file (paths relative to the folder)."""
    store = ox.Store()
    store.load(path=str(FOLDER / "manifest.ttl"), format=ox.RdfFormat.TURTLE, base_iri=BASE)
    tests = []
    for row in store.query(f"""
        PREFIX mf: <{MF}> PREFIX qt: <{QT}> PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
        SELECT ?name ?query ?data ?result WHERE {{
          ?m a mf:Manifest ; mf:entries/rdf:rest*/rdf:first ?t .
          ?t a mf:QueryEvaluationTest ; mf:name ?name ; mf:result ?result ;
             mf:action [ qt:query ?query ; qt:data ?data ] .
        }} ORDER BY ?name"""):
        tests.append({k: row[k].value for k in ("name", "query", "data", "result")})
    base = BASE.rsplit("/", 1)[0] + "/"
    for t in tests:
        for k in ("query", "data", "result"):
            t[k] = t[k][len(base):] if t[k].startswith(base) else t[k]
    return tests


def test_manifest_lists_every_library_query_once():
    tests = manifest_tests()
    names = [t["name"] for t in tests]
    assert names == sorted(q.name for q in lib.catalogue())
    for t in tests:
        assert t["query"] == f"{t['name']}.rq" and t["result"] == f"{t['name']}.srj"
        assert t["data"].endswith("bmlkg.nt")
        assert (FOLDER / t["query"]).is_file() and (FOLDER / t["result"]).is_file()
    assert sorted(p.name for p in FOLDER.iterdir()) == sorted(
        ["manifest.ttl"] + [f"{n}.rq" for n in names] + [f"{n}.srj" for n in names])


@pytest.fixture(scope="module")
def exported_store():
    store = ox.Store()
    store.bulk_load(path=str(EXPORTS / "bmlkg.nt"), format=ox.RdfFormat.N_TRIPLES)
    return store


@pytest.mark.parametrize("test", manifest_tests(), ids=lambda t: t["name"])
def test_manifest_passes_on_the_embedded_engine(exported_store, test):
    """Run the bound query file on its data (../bmlkg.nt) as any engine would; compare with the .srj by value."""
    text = (FOLDER / test["query"]).read_text(encoding="utf-8")
    got = lib.select_oxigraph(exported_store, text)
    expected = from_json((FOLDER / test["result"]).read_bytes())
    assert got.variables == expected.variables
    assert by_value(got, text) == by_value(expected, text)


def test_expected_results_are_valid_sparql_json_and_byte_stable():
    for path in sorted(FOLDER.glob("*.srj")):
        data = path.read_bytes()
        result = from_json(data)
        assert results_json(result) == data, f"{path.name}: not in the canonical layout"


def test_committed_manifest_is_not_stale(built):
    """exports/queries/ equals a fresh build byte for byte (run `make run` and commit exports/ to refresh)."""
    fresh = built / "queries"
    names = sorted(p.name for p in fresh.iterdir())
    assert names == sorted(p.name for p in FOLDER.iterdir()), "files added or removed: run `make run`"
    stale = [n for n in names if (fresh / n).read_bytes() != (FOLDER / n).read_bytes()]
    assert not stale, f"exports/queries/ is stale, run `make run` and commit exports/: {stale}"
