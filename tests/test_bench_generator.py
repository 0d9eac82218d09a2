"""The benchmark's graph scaler: deterministic, same shape as the curated graph, grows by the factor.

Not a timing test: timings live in ``make bench`` (benchmarks/), never in the test suite.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections import Counter

import pyoxigraph as ox
import pytest

import bmlkg
from benchmarks import generate
from bmlkg.query.engines import bind, catalogue, example_params, select_oxigraph
from bmlkg.store.constants import QUERIES_DIR

from .conftest import REPO

BML = "https://w3id.org/bmlkg/"
CLAIM_NS = BML + "claim/"
REQUIRED = {
    "subject": BML + "subjectTerm", "predicate": BML + "predicateTerm", "object": BML + "objectTerm",
    "direction": BML + "direction", "source": "http://purl.org/dc/terms/source",
}
FACTOR = 3


@pytest.fixture(scope="module")
def template(kg):
    return generate.build_template(generate.curated(kg))


@pytest.fixture(scope="module")
def scaled_text(template):
    return generate.generate(FACTOR, seed=7, template=template)


@pytest.fixture(scope="module")
def scaled(scaled_text):
    return [q.triple for q in ox.parse(scaled_text.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)]


@pytest.fixture(scope="module")
def scaled_kg(scaled_text, tmp_path_factory):
    folder = tmp_path_factory.mktemp("scaled")
    (folder / "scaled.nt").write_text(scaled_text, encoding="utf-8")
    return bmlkg.load(folder)


def _copy_of(iri: str) -> tuple[str, int] | None:
    """('https://…/Foo', 2) for 'https://…/Foo-s2'; None for a curated or shared IRI."""
    stem, sep, k = iri.rpartition("-s")
    return (stem, int(k)) if sep and k.isdigit() else None


def test_same_seed_same_triples(template, scaled_text):
    assert generate.generate(FACTOR, seed=7, template=template) == scaled_text


def test_same_seed_same_bytes_in_another_process(scaled_text):
    """Blank nodes get parse-order names, so a fresh process (new blank-node ids, new hash seed) agrees."""
    code = ("import hashlib, sys; from benchmarks import generate; "
            f"sys.stdout.write(hashlib.sha256(generate.generate({FACTOR}, seed=7).encode()).hexdigest())")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == hashlib.sha256(scaled_text.encode()).hexdigest()


def test_another_seed_rewires_the_claims_but_keeps_the_size(template, scaled_text):
    other = generate.generate(FACTOR, seed=8, template=template)
    assert other != scaled_text
    assert other.count("\n") == scaled_text.count("\n")


def test_factor_one_is_the_curated_graph(kg, template):
    text = generate.generate(1, template=template)
    assert text.count("\n") == len(generate.curated(kg))


def test_grows_by_the_factor(kg, template, scaled, scaled_kg):
    assert len(scaled) == template.base_triples + (FACTOR - 1) * template.copy_triples
    # nearly everything is copied; only the schema (properties, value sets, domain roots) is shared
    assert template.copy_triples > 0.8 * template.base_triples
    one, many = kg.counts(), scaled_kg.counts()
    for key in ("claims", "statistics", "sources", "dois"):
        assert many[key] == FACTOR * one[key], key


def test_every_synthetic_claim_has_the_claim_structure(kg, scaled):
    by_subject: dict[str, dict[str, list]] = {}
    for t in scaled:
        if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(CLAIM_NS):
            by_subject.setdefault(t.subject.value, {}).setdefault(t.predicate.value, []).append(t.object)
    synthetic = {iri: props for iri, props in by_subject.items() if _copy_of(iri)}
    assert len(synthetic) == (FACTOR - 1) * kg.counts()["claims"]
    for iri, props in sorted(synthetic.items()):
        missing = [name for name, p in REQUIRED.items() if p not in props]
        assert not missing, f"synthetic claim {iri} lacks {missing}"
        original = by_subject[_copy_of(iri)[0]]
        assert set(props) == set(original), f"{iri} has other properties than the claim it copies"
        subject, obj = props[REQUIRED["subject"]][0], props[REQUIRED["object"]][0]
        assert subject != obj, f"{iri} was rewired into a claim about itself"
        for term in (subject, obj):  # rewired within its own copy, or to a shared schema class
            copy = _copy_of(term.value)
            assert copy is None or copy[1] == _copy_of(iri)[1], f"{iri} points into another copy: {term}"


def test_rewiring_keeps_the_degree_distribution(scaled):
    """Per predicate term, how many claims name each subject (object) term: the same multiset in every copy."""
    predicate_of, uses = {}, []
    for t in scaled:
        if t.predicate.value == REQUIRED["predicate"]:
            predicate_of[t.subject.value] = t.object.value
        elif t.predicate.value in (REQUIRED["subject"], REQUIRED["object"]):
            uses.append((t.subject.value, t.predicate.value, t.object.value))
    degrees: dict[int, Counter] = {}
    for claim, role, term in uses:
        copy = _copy_of(claim)[1] if _copy_of(claim) else 0
        stem = _copy_of(term)[0] if _copy_of(term) else term
        degrees.setdefault(copy, Counter())[(role, predicate_of[claim], stem)] += 1
    distributions = {
        copy: sorted(Counter((role, pred, n) for (role, pred, _stem), n in counts.items()).items())
        for copy, counts in degrees.items()
    }
    assert set(distributions) == set(range(FACTOR))
    for copy in range(1, FACTOR):
        assert distributions[copy] == distributions[0], f"copy {copy} changed the degree distribution"


def test_names_stay_unique_and_examples_resolve_to_curated_terms(kg, scaled_kg):
    labels = Counter(row["l"] for row in scaled_kg.select(
        "SELECT ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l }"))
    curated = Counter(row["l"] for row in kg.select(
        "SELECT ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l }"))
    duplicated_by_scaling = [l for l, n in labels.items() if n > curated.get(l, 0) and curated.get(l)]
    assert not duplicated_by_scaling[:5]
    for query in catalogue(QUERIES_DIR):
        params = example_params(query)
        assert bind(scaled_kg, query, params) == bind(kg, query, params), query.name


def test_every_query_with_rows_at_scale_one_has_rows_when_scaled(kg, scaled_kg):
    empty = []
    for query in catalogue(QUERIES_DIR):
        text = bind(kg, query, example_params(query))
        if len(select_oxigraph(kg.store, text)) and not len(select_oxigraph(scaled_kg.store, text)):
            empty.append(query.name)
    assert not empty, f"return rows on the curated graph but none on the scaled one: {empty}"
