"""Shapes that make a library query cost the whole graph on Oxigraph 0.5 (docs/queries.md, "Speed at scale").

Measured on the x1000 benchmark graph (8.6 M triples) with ``oxigraph query --explain``: Oxigraph evaluates
an element joined after the start of a group per row (``Lateral``) only when it is a single triple pattern, a
property path, VALUES, or a FILTER/BIND/OPTIONAL/UNION of those; otherwise it evaluates the element on its
own, over the whole graph, and hash-joins it. These tests read each query's algebra (rdflib's parser, the same
text every engine runs) and fail on the three shapes that did that in the library:

* ``OPTIONAL { SELECT … }`` with no VALUES block (a parameter) inside: a sub-SELECT is never evaluated per
  row, so unless it is anchored inside it lists the whole graph;
* ``OPTIONAL { ?x a/b ?y }`` and ``OPTIONAL { two or more patterns }``: a join on the right of an OPTIONAL is
  evaluated on its own (2.7 s at x1000 for ``OPTIONAL { ?claim dcterms:source/bibo:doi ?doi }``);
* ``EXISTS { two or more patterns }``: Oxigraph 0.5.13 plans it as a cartesian product, per row.

The data-quality checks (queries/qc) are exempt: they read the whole graph by definition.
"""

from __future__ import annotations

import pytest
from rdflib.paths import SequencePath
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue

from bmlkg.query import engines as lib

LIBRARY = [q for q in lib.catalogue() if "qc" not in q.tags]

#: Queries that keep a flagged shape, with the measurement that made us keep it (x1000 graph). Strict: the test
#: fails as soon as the shape is gone, so the entry can be removed.
KEPT = {
    "cq-sources": "lists every source with its claims (paged); the per-row form measured no faster "
                  "(10.6 s against 10.5 s a page): sorting the 458,000 rows is the cost",
    "cq-variance-explained": "7.9 ms as it stands; the per-row form gives 4 rows instead of 2 on Virtuoso 7.2.5",
}


def _walk(node, path=()):
    """Every algebra node below ``node`` (CompValue), with the names of the nodes above it."""
    if isinstance(node, CompValue):
        yield node, path
        for value in node.values():
            yield from _walk(value, path + (node.name,))
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _walk(value, path)


def _triples(node) -> list:
    """The triple patterns a BGP-like right-hand side holds, or None when it is not a plain pattern group."""
    if isinstance(node, CompValue) and node.name == "BGP":
        return list(node.triples)
    if isinstance(node, CompValue) and node.name in ("Filter", "Extend"):
        return _triples(node.p)
    return None


def _joins(node) -> bool:
    """True when ``node`` is a join of two or more elements (a multi-pattern group or a Join)."""
    if not isinstance(node, CompValue):
        return False
    if node.name == "GroupGraphPatternSub":  # an EXISTS body, as the parser left it
        parts = node.part or []
        triples = [t for part in parts if part.name == "TriplesBlock" for t in part.triples]
        others = [part for part in parts if part.name not in ("TriplesBlock", "Filter", "Bind")]
        return len(triples) + len(others) > 1 or any(
            isinstance(t[1], SequencePath) or (isinstance(t[1], CompValue) and t[1].name == "PathSequence")
            for t in triples)
    if node.name in ("Filter", "Extend"):
        return _joins(node.p)
    if node.name == "Join":  # rdflib writes a group as Join(BGP [], …): an empty side is no element
        sides = [side for side in (node.p1, node.p2) if not (_triples(side) == [])]
        return len(sides) > 1 or (len(sides) == 1 and _joins(sides[0]))
    triples = _triples(node)
    return triples is not None and (len(triples) > 1 or any(isinstance(t[1], SequencePath) for t in triples))


def problems(text: str) -> list[str]:
    algebra = translateQuery(parseQuery(text)).algebra
    found = []
    for node, _path in _walk(algebra):
        if node.name == "LeftJoin":
            right = node.p2
            names = {n.name for n, _ in _walk(right)}
            if "Project" in names and "values" not in names:
                found.append("OPTIONAL { SELECT … } with no VALUES anchor inside: evaluated over the whole graph")
            elif _joins(right):
                found.append("OPTIONAL with two or more patterns or a sequence path: evaluated over the whole graph")
        if node.name in ("Builtin_EXISTS", "Builtin_NOTEXISTS") and _joins(node.graph):
            found.append(f"{'NOT ' if node.name.endswith('NOTEXISTS') else ''}EXISTS with two or more patterns: "
                         "a cartesian product per row in Oxigraph 0.5")
    return sorted(set(found))


@pytest.mark.parametrize("query", [
    pytest.param(q, id=q.name, marks=[pytest.mark.xfail(strict=True, reason=KEPT[q.name])] if q.name in KEPT else [])
    for q in LIBRARY])
def test_library_query_has_no_whole_graph_shape(query):
    assert problems(query.text) == []


@pytest.mark.parametrize("text,expected", [
    ("SELECT * { ?c <urn:p> ?s OPTIONAL { SELECT ?c (COUNT(*) AS ?n) { ?c <urn:q> ?x } GROUP BY ?c } }", "SELECT"),
    ("SELECT * { ?c <urn:p> ?s OPTIONAL { ?c <urn:a> ?m . ?m <urn:b> ?l } }", "two or more"),
    ("SELECT * { ?c <urn:p> ?s OPTIONAL { ?c <urn:a>/<urn:b> ?l } }", "sequence path"),
    ("SELECT * { ?c <urn:p> ?s OPTIONAL { ?c <urn:a> ?m . ?m <urn:b> ?l } }", "two or more"),
    ("SELECT * { ?c <urn:p> ?s FILTER EXISTS { ?c <urn:a> ?m . ?m <urn:b> ?l } }", "cartesian"),
    ("SELECT * { ?c <urn:p> ?s FILTER NOT EXISTS { ?c <urn:a> ?m . ?m <urn:b> ?l } }", "NOT EXISTS"),
])
def test_each_shape_is_caught(text, expected):
    found = problems(text)
    assert found and any(expected in p for p in found), found


@pytest.mark.parametrize("text", [
    "SELECT * { ?c <urn:p> ?s OPTIONAL { ?c <urn:a> ?m OPTIONAL { ?m <urn:b> ?l } } }",
    "SELECT * { ?c <urn:p> ?s FILTER EXISTS { ?c <urn:a> ?m FILTER EXISTS { ?m <urn:b> ?l } } }",
    "SELECT * { ?c <urn:p> ?s OPTIONAL { ?c <urn:a>* ?m FILTER EXISTS { ?m <urn:b> ?l } } }",
    "SELECT * { VALUES ?c { <urn:x> } OPTIONAL { SELECT ?c (COUNT(*) AS ?n) { VALUES ?c { <urn:x> } ?c <urn:q> ?x } GROUP BY ?c } }",
])
def test_per_row_shapes_pass(text):
    assert problems(text) == []
