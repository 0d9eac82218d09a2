"""Graph formats for other tools: each read back and its node and edge counts compared with the graph.

Expected counts come from SPARQL over the loaded graph, not from the code that writes the files.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from bmlkg.export.graphformats import (
    GRAPHML, KGX_EDGES, KGX_NODES, KGX_PREFIXES, NEO4J_NODES, NEO4J_RELATIONSHIPS, NEO4J_TYPES, graph_format_files,
)

from .conftest import require_tool

PREFIXES = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX bibo: <http://purl.org/ontology/bibo/>
PREFIX bml: <https://w3id.org/bmlkg/>
"""
ROOTS = "bml:Condition bml:Feature bml:AnatomicalLocation bml:ImagingModality bml:ScoringSystem bml:Mechanism " \
        "bml:Marker bml:Treatment bml:PathologicalProcess"
TERMS = PREFIXES + f"""
SELECT DISTINCT ?n WHERE {{
  ?n a owl:Class ; rdfs:subClassOf* ?root . VALUES ?root {{ {ROOTS} }}
  FILTER(STRSTARTS(STR(?n), "https://w3id.org/bmlkg/"))
  FILTER NOT EXISTS {{ ?n owl:deprecated true }}
}}"""
CLAIMS = PREFIXES + "SELECT DISTINCT ?n WHERE { ?n a/rdfs:subClassOf* bml:Claim }"
SOURCES = PREFIXES + """
SELECT DISTINCT ?n WHERE {
  { ?n a ?k VALUES ?k { bibo:AcademicArticle bibo:Document bibo:Webpage bml:SeedArticle bml:InTextSource } }
  UNION { [] dcterms:source ?n FILTER(isIRI(?n)) }
}"""
STUDIES = PREFIXES + "SELECT DISTINCT ?n WHERE { ?n a bml:Study }"
EDGE_TRIPLES = PREFIXES + """
SELECT DISTINCT ?s ?p ?o WHERE {
  ?s ?p ?o . FILTER(isIRI(?s) && isIRI(?o))
  { VALUES ?p { rdfs:subClassOf dcterms:source bml:study bml:conflictsWith bml:subjectTerm bml:objectTerm
                bml:locationTerm bml:populationTerm bml:appliesToCondition bml:measuredWith } }
  UNION { ?p rdfs:subPropertyOf+ bml:termEdge }
}"""


def _set(kg, query: str) -> set[str]:
    return {row["n"] for row in kg.select(query)}


@pytest.fixture(scope="module")
def expected(kg):
    terms, claims, sources, studies = (_set(kg, q) for q in (TERMS, CLAIMS, SOURCES, STUDIES))
    nodes = terms | claims | sources | studies
    edges = {(r["s"], r["p"], r["o"]) for r in kg.select(EDGE_TRIPLES) if r["s"] in nodes and r["o"] in nodes}
    claim_rows = kg.select(PREFIXES + "SELECT ?c ?s ?o WHERE { ?c a/rdfs:subClassOf* bml:Claim ; "
                                      "bml:subjectTerm ?s ; bml:objectTerm ?o }")
    kgx_claims = {r["c"] for r in claim_rows if r["s"] in terms and r["o"] in terms}
    subclass = {(s, o) for s, p, o in edges if p.endswith("#subClassOf") and s in terms and o in terms}
    return {"terms": terms, "claims": claims, "sources": sources, "nodes": nodes, "edges": edges,
            "kgx_edges": len(kgx_claims) + len(subclass)}


@pytest.fixture(scope="module")
def files(kg):
    return graph_format_files(kg)


def _rows(data: bytes, delimiter: str = ",") -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8")), delimiter=delimiter))


def test_graph_is_not_trivial(expected):
    assert len(expected["terms"]) > 20 and len(expected["claims"]) > 10 and len(expected["sources"]) >= 4


def test_graphml_reads_back_with_the_graphs_counts(files, expected):
    g = nx.read_graphml(io.BytesIO(files[GRAPHML][0]))
    assert g.number_of_nodes() == len(expected["nodes"])
    assert g.number_of_edges() == len(expected["edges"])
    assert set(g.nodes) == expected["nodes"]
    lesion = g.nodes["https://w3id.org/bmlkg/BoneMarrowLesion"]
    assert lesion["label"] == "bone marrow lesion" and lesion["kind"] == "imaging_finding"
    assert "BML" in lesion["synonyms"]


def test_neo4j_csv_in_bulk_import_form_with_the_graphs_counts(files, expected):
    nodes_text = files[NEO4J_NODES][0].decode("utf-8")
    rels_text = files[NEO4J_RELATIONSHIPS][0].decode("utf-8")
    assert nodes_text.splitlines()[0].startswith("id:ID,:LABEL,")
    assert rels_text.splitlines()[0] == ":START_ID,:END_ID,:TYPE,predicate"
    nodes = _rows(files[NEO4J_NODES][0])
    rels = _rows(files[NEO4J_RELATIONSHIPS][0])
    ids = [n["id:ID"] for n in nodes]
    assert len(ids) == len(set(ids)) == len(expected["nodes"])
    assert len(rels) == len(expected["edges"])
    assert all(r[":START_ID"] in set(ids) and r[":END_ID"] in set(ids) for r in rels)
    assert all(r[":TYPE"].replace("_", "").isalnum() and r[":TYPE"].isupper() for r in rels)
    labels = {n["id:ID"]: n[":LABEL"].split(";") for n in nodes}
    assert labels["https://w3id.org/bmlkg/BoneMarrowLesion"][0] == "Term"
    assert all(labels[c][0] == "Claim" for c in expected["claims"])
    sizes = [n["sampleSize:int"] for n in nodes if n["sampleSize:int"]]
    assert sizes and all(s.lstrip("-").isdigit() for s in sizes)
    header = nodes_text.splitlines()[0].split(",")
    assert {"year:int", "estimate:float", "sampleSize:int"} <= set(header)
    for column in header:  # every typed column holds values of its type only (neo4j-admin refuses others)
        name, _, kind = column.partition(":")
        values = [n[column] for n in nodes if n[column]]
        if kind == "int":
            assert values and all(re.fullmatch(r"-?\d+", v) for v in values), column
        elif kind == "float":
            assert values and all(isinstance(float(v), float) for v in values), column
        elif name and not name.startswith(":") and column != "id:ID":
            assert name not in NEO4J_TYPES, column
    years = {n["year:int"] for n in nodes if n["year:int"]}
    assert "2024" in years and all(1900 < int(y) < 2100 for y in years)
    assert all("\n" not in v for n in nodes for v in n.values())


def test_kgx_tsv_has_biolink_categories_and_the_graphs_counts(files, expected):
    nodes = _rows(files[KGX_NODES][0], "\t")
    edges = _rows(files[KGX_EDGES][0], "\t")
    assert len(nodes) == len(expected["terms"] | expected["sources"])
    assert len(edges) == expected["kgx_edges"]
    ids = {n["id"] for n in nodes}
    assert all(e["subject"] in ids and e["object"] in ids for e in edges)
    assert all(n["category"].startswith("biolink:") for n in nodes)
    assert all(e["predicate"].startswith("biolink:") and e["category"] == "biolink:Association" for e in edges)
    by_id = {n["id"]: n for n in nodes}
    assert by_id["bml:BoneMarrowLesion"]["category"] == "biolink:PhenotypicFeature"
    # the Bunkyo Health Study paper credited by seed 001 is a publication node, cited by claim edges
    bunkyo = "doi:10.1186%2Fs13075-025-03644-2"  # kgx refuses "/" in a CURIE's local part
    assert by_id[bunkyo]["category"] == "biolink:Article"
    assert any(bunkyo in e["publications"].split("|") for e in edges)


def test_null_results_are_negated_kgx_edges(files, kg):
    rows = kg.select(PREFIXES + "SELECT ?c WHERE { ?c bml:direction bml:NoAssociationFound ; bml:subjectTerm ?s ;"
                                " bml:objectTerm ?o }")
    edges = {e["id"]: e for e in _rows(files[KGX_EDGES][0], "\t")}
    from bmlkg.store.vocab import curie

    found = [edges[curie(r["c"])] for r in rows if curie(r["c"]) in edges]
    assert found, "the seeds report null results (e.g. BML alone and knee pain in the Bunkyo Health Study)"
    assert all(e["negated"] == "true" for e in found)


def test_graph_formats_are_byte_identical_across_processes(tmp_path):
    script = ("import bmlkg, hashlib, json; from bmlkg.export.graphformats import graph_format_files; "
              "print(json.dumps({k: hashlib.sha256(v[0]).hexdigest() "
              "for k, v in graph_format_files(bmlkg.load()).items()}))")
    digests = []
    for seed in ("0", "97"):
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                              env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"})
        assert proc.returncode == 0, proc.stderr
        digests.append(json.loads(proc.stdout))
    assert digests[0] == digests[1]
    assert set(digests[0]) == {GRAPHML, NEO4J_NODES, NEO4J_RELATIONSHIPS, KGX_NODES, KGX_EDGES, KGX_PREFIXES}


def test_build_writes_and_lists_the_graph_formats(built):
    readme = (built / "README.md").read_text(encoding="utf-8")
    manifest = json.loads((built / "MANIFEST.json").read_text(encoding="utf-8"))
    for name in (GRAPHML, NEO4J_NODES, NEO4J_RELATIONSHIPS, KGX_NODES, KGX_EDGES, KGX_PREFIXES):
        data = (built / name).read_bytes()
        assert f"`{name}`" in readme
        assert manifest["files"][name]["sha256"] == hashlib.sha256(data).hexdigest()


# -- KGX CURIEs: what kgx validate checks, offline ------------------------------------------------------
#: kgx's own CURIE test (kgx.prefix_manager.PrefixManager.is_curie, kgx 2.6): no "/" or ":" in the local part.
KGX_IS_CURIE = re.compile(r"^[^ <()>:]*:[^/ :]+$")
#: The Biolink prefix map of the pinned biolink-model release (biolink_model/prefixmaps/, MIT licence), by content.
BIOLINK_MODEL_VERSION = "4.4.6"
BIOLINK_PREFIX_MAP_SHA256 = "7874fc3288032685fac9c659cedede8e43fbeceef0e0b052f7b15490713b0875"
#: The prefixes bmlkg declares itself because Biolink's map lacks them.
OWN_PREFIXES = {"bml", "claim", "src", "infores"}


@pytest.fixture(scope="module")
def biolink_prefixes():
    spec = importlib.util.find_spec("biolink_model")
    require_tool(spec is not None and bool(spec.submodule_search_locations),
                 f"the biolink-model {BIOLINK_MODEL_VERSION} package (pip install -e '.[test]')")
    path = Path(list(spec.submodule_search_locations)[0]) / "prefixmaps" / "biolink_model_prefix_map.json"
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == BIOLINK_PREFIX_MAP_SHA256, \
        f"{path} is not the prefix map of biolink-model {BIOLINK_MODEL_VERSION}"
    return json.loads(data)


def _curie_values(rows: list[dict], columns) -> list[tuple[str, str]]:
    return [(c, v) for r in rows for c in columns for v in r[c].split("|") if v and not v.startswith("http")]


def test_every_kgx_curie_prefix_is_biolinks_or_declared_by_the_shipped_map(files, biolink_prefixes):
    from bmlkg.export.graphformats import KGX_CURIE_COLUMNS

    shipped = json.loads(files[KGX_PREFIXES][0])
    nodes, edges = _rows(files[KGX_NODES][0], "\t"), _rows(files[KGX_EDGES][0], "\t")
    used = {v.split(":", 1)[0] for _c, v in _curie_values(nodes, KGX_CURIE_COLUMNS["nodes"])
            + _curie_values(edges, KGX_CURIE_COLUMNS["edges"])}
    assert used == set(shipped)  # the shipped map declares exactly the prefixes in use
    for prefix, expansion in shipped.items():  # never a Biolink prefix redefined
        if prefix in biolink_prefixes:
            assert biolink_prefixes[prefix] == expansion, prefix
    assert set(shipped) - set(biolink_prefixes) == OWN_PREFIXES & used
    # what kgx validate checks: node ids and edge ends are CURIEs (by kgx's test) with a known prefix
    known = set(biolink_prefixes) | set(shipped)
    ends = [n["id"] for n in nodes] + [e[k] for e in edges for k in ("subject", "object")]
    assert all(KGX_IS_CURIE.match(x) and x.split(":", 1)[0] in known for x in ends), \
        sorted(x for x in ends if not KGX_IS_CURIE.match(x))[:5]


def test_kgx_node_ids_expand_to_their_iri(files):
    from urllib.parse import unquote

    shipped = json.loads(files[KGX_PREFIXES][0])
    for n in _rows(files[KGX_NODES][0], "\t"):
        prefix, local = n["id"].split(":", 1)
        assert unquote(shipped[prefix] + local) == n["iri"], n["id"]
