"""The curated data, one sub-test per record; each failure message says how to fix the record.

These read like the curation style guide (docs/CURATION.md): every claim cites its seed article, every
cited source exists, every term has one label and one definition, labels are unique, numbers are typed
and in range, DOIs are well formed.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

import bmlkg
from bmlkg.store.graph import normalise
from .conftest import require_tool

KG = bmlkg.load()
BML = "https://w3id.org/bmlkg/"

CLAIMS = KG.select("""
PREFIX bml: <https://w3id.org/bmlkg/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?c WHERE { ?c a ?t . ?t rdfs:subClassOf* bml:Claim } ORDER BY ?c""")
TERMS = KG.select(f"""
SELECT DISTINCT ?t WHERE {{ ?t a <http://www.w3.org/2002/07/owl#Class>
  FILTER(STRSTARTS(STR(?t), "{BML}")) }} ORDER BY ?t""")
DOIS = KG.select("""
SELECT ?s ?doi WHERE { ?s <http://purl.org/ontology/bibo/doi> ?doi } ORDER BY ?s""")


def _ids(rows, key):
    return [r[key].rsplit("/", 1)[-1] for r in rows]


def _values(subject: str, predicate: str) -> list[str]:
    return [r["o"] for r in KG.select(f"SELECT ?o WHERE {{ <{subject}> <{predicate}> ?o }}")]


def test_there_is_data():
    assert len(CLAIMS) >= 50 and len(TERMS) >= 100 and len(DOIS) >= 15


@pytest.mark.parametrize("claim", [r["c"] for r in CLAIMS], ids=_ids(CLAIMS, "c"))
def test_claim_cites_its_seed_and_existing_sources(claim):
    sources = _values(claim, "http://purl.org/dc/terms/source")
    assert sources, f"{claim}: add dcterms:source with the seed article (src:seed-00N) it was read in"
    labels = KG.labels()
    missing = [s for s in sources if s not in labels]
    assert not missing, f"{claim}: cites {missing}, which no source file defines; add it to ontology/sources.ttl"
    assert any(s.startswith(BML + "source/seed-") for s in sources), \
        f"{claim}: cite the seed article (src:seed-000..003) besides any paper"


@pytest.mark.parametrize("claim", [r["c"] for r in CLAIMS], ids=_ids(CLAIMS, "c"))
def test_claim_terms_exist(claim):
    labels = KG.labels()
    for prop in ("subjectTerm", "predicateTerm", "objectTerm"):
        values = _values(claim, BML + prop)
        assert len(values) == 1, f"{claim}: needs exactly one bml:{prop}"
        assert values[0] in labels, f"{claim}: bml:{prop} {values[0]} is not defined in any ontology file"


@pytest.mark.parametrize("term", [r["t"] for r in TERMS], ids=_ids(TERMS, "t"))
def test_term_has_one_label_and_one_definition(term):
    labels = _values(term, "http://www.w3.org/2000/01/rdf-schema#label")
    definitions = _values(term, "http://purl.obolibrary.org/obo/IAO_0000115")
    assert len(labels) == 1, f"{term}: give exactly one rdfs:label@en (has {labels})"
    assert len(definitions) == 1, f"{term}: give exactly one obo:IAO_0000115 definition (has {len(definitions)})"
    assert len(definitions[0]) >= 20, f"{term}: the definition is too short to define anything"
    assert labels[0] == " ".join(labels[0].split()), f"{term}: label has stray whitespace"


def test_labels_are_unique():
    seen = defaultdict(list)
    for iri, label in KG.labels().items():
        if iri.startswith((BML, "https://doi.org/")):
            seen[normalise(label)].append(iri)
    clashes = {k: v for k, v in seen.items() if len(v) > 1}
    assert not clashes, f"labels shared by several entities (rename one): {clashes}"


@pytest.mark.parametrize("row", DOIS, ids=[r["doi"] for r in DOIS])
def test_doi_is_well_formed_and_matches_iri(row):
    assert re.fullmatch(r"10\.\d{4,9}/\S+", row["doi"]), f"{row['s']}: bibo:doi {row['doi']!r} is not a DOI"
    assert row["s"] == "https://doi.org/" + row["doi"].lower(), \
        f"{row['s']}: the IRI must be https://doi.org/ + the lower-cased DOI"
    assert _values(row["s"], "http://purl.org/dc/terms/title"), f"{row['s']}: add dcterms:title as printed"


STATS = KG.select("""
PREFIX bml: <https://w3id.org/bmlkg/>
SELECT ?c ?p ?v WHERE {
  ?c a bml:StatisticalClaim .
  VALUES ?p { bml:estimate bml:ciLower bml:ciUpper bml:pValue bml:sampleSize bml:rangeLow bml:rangeHigh
              bml:ciLevel bml:meanAge bml:valueBefore bml:valueAfter bml:followUpValue }
  ?c ?p ?v } ORDER BY ?c ?p""")


@pytest.mark.parametrize("row", STATS, ids=[f"{r['c'].rsplit('/', 1)[-1]}-{r['p'].rsplit('/', 1)[-1]}" for r in STATS])
def test_statistic_is_a_number_in_range(row):
    triple = next(t for t in KG.triples if t.subject.value == row["c"] and t.predicate.value == row["p"])
    datatype = triple.object.datatype.value.rsplit("#", 1)[-1]
    prop = row["p"].rsplit("/", 1)[-1]
    expected = "integer" if prop == "sampleSize" else "decimal"
    assert datatype == expected, f"{row['c']}: bml:{prop} must be xsd:{expected}, not xsd:{datatype}"
    value = float(row["v"])
    if prop == "pValue":
        assert 0 <= value <= 1
    if prop == "sampleSize":
        assert value >= 1
    if prop == "ciLevel":
        assert 0 < value < 1


SEEDS_DIR = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared" / "seeds"


def _grams(text: str, n: int) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def test_definitions_and_claim_texts_are_in_our_own_words():
    """Definitions share no run of 8 words with a seed; labels and comments no run of 12 (titles excepted)."""
    require_tool(SEEDS_DIR.is_dir(), "the seed articles (../shared/seeds beside this checkout)")
    seeds = " ".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS_DIR.glob("*.txt")))
    rows = KG.select("""
    SELECT ?s ?p ?t WHERE {
      VALUES ?p { <http://purl.obolibrary.org/obo/IAO_0000115> <http://www.w3.org/2000/01/rdf-schema#label>
                  <http://www.w3.org/2000/01/rdf-schema#comment> }
      ?s ?p ?t }""")
    copied = []
    for row in rows:
        if row["s"].startswith(("https://doi.org/", BML + "source/", BML + "study/")):
            continue  # bibliographic labels may quote titles
        n = 8 if row["p"].endswith("IAO_0000115") else 12
        overlap = _grams(row["t"], n) & _grams(seeds, n)
        if overlap:
            copied.append(f"{row['s']}: {' '.join(sorted(overlap)[0])!r}")
    assert not copied, "reword these in the project's own words:\n" + "\n".join(copied)
