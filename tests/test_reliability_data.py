"""Data is never code: hostile parameter values are bound as data or refused, never run as SPARQL."""

from __future__ import annotations

import pytest

from bmlkg.query import engines as lib
from bmlkg.store.errors import InputError
from bmlkg.query.sparqltext import tokenize, variables

from .conftest import run_cli

HOSTILE_TEXT = [
    'x" } ?s ?p ?o {',
    "x\n} ?s ?p ?o {\n",
    "x # } ?s ?p ?o {",
    "x\\u0022 } ?s ?p ?o { \\u0022",
    "x\\\" } UNION { ?s ?p ?o } #",
    "Bunkyo Health Study' } ?s ?p ?o { '",
    "\u2028} ?s ?p ?o {",
]
HOSTILE_IRIS = [
    "javascript:alert(1)",
    "file:///etc/passwd",
    "https://example.org/a> ?s ?p ?o . <x",
    "https://example.org/a\n> ?s ?p ?o",
    "bml:KneePain> } ?s ?p ?o { <x",
    "<https://w3id.org/bmlkg/KneePain>",
]


@pytest.mark.parametrize("value", HOSTILE_TEXT, ids=range(len(HOSTILE_TEXT)))
def test_hostile_text_is_one_literal_and_matches_nothing(kg, value):
    query = lib.get_query("cq-study-results")
    bound = lib.bind(kg, query, {"study": value})
    before, after = tokenize(query.text), tokenize(bound)
    assert [t.text for t in before if t.kind != "STRING"] == [t.text for t in after if t.kind != "STRING"]
    assert variables(bound) == variables(query.text)
    assert kg.query("cq-study-results", study=value) == kg.query("cq-study-results", study="no such study") == []


@pytest.mark.parametrize("value", HOSTILE_IRIS, ids=range(len(HOSTILE_IRIS)))
def test_hostile_iri_is_refused_or_matches_nothing(kg, value):
    try:
        rows = kg.query("claims-citing-source", source=value)
    except InputError as err:
        assert "source" in str(err)
    else:
        assert rows == []


@pytest.mark.parametrize("value", ["javascript:alert(1)", "file:///etc/passwd", 'x" } ?s ?p ?o {'])
def test_hostile_values_through_the_cli_exit_2_or_match_nothing(value):
    proc = run_cli("query", "claims-citing-source", "--param", f"source={value}", "--format", "json")
    assert proc.returncode in (0, 2), proc.stderr
    assert "Traceback" not in proc.stderr
    if proc.returncode == 0:
        assert '"bindings": []' in proc.stdout.replace("\n", "").replace('"bindings":[]', '"bindings": []')


@pytest.mark.parametrize("text", [
    "INSERT DATA { <a:x> <a:y> <a:z> }",
    "DELETE WHERE { ?s ?p ?o }",
    "LOAD <http://example.org/x>",
    "CLEAR ALL",
    "DROP ALL",
    "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
])
def test_user_sparql_refusals_through_the_cli(text):
    proc = run_cli("sparql", "-", input=text)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_a_literal_mentioning_insert_is_fine():
    proc = run_cli("sparql", "-", input='SELECT ?x WHERE { BIND("INSERT DATA and DROP ALL" AS ?x) }')
    assert proc.returncode == 0, proc.stderr
    assert "INSERT DATA and DROP ALL" in proc.stdout
