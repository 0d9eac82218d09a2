"""The graph for other tools: GraphML, Neo4j bulk-import CSV and KGX TSV with Biolink categories.

All three are written from :class:`bmlkg.views.netgraph.Model`, deterministically (sorted nodes, edges and
columns), so they are byte-identical across runs and can be committed with the RDF exports.

* ``graph/bmlkg.graphml``: the property graph (terms, claims, sources, studies; every edge typed by the
  predicate's local name) for Gephi, Cytoscape and yEd.
* ``graph/bmlkg.neo4j.nodes.csv`` and ``graph/bmlkg.neo4j.relationships.csv``: the same graph in the header
  format of ``neo4j-admin database import full`` (``id:ID``, ``:LABEL``, ``:START_ID``, ``:END_ID``, ``:TYPE``).
* ``graph/bmlkg_nodes.tsv`` and ``graph/bmlkg_edges.tsv``: KGX TSV for Biolink pipelines: terms and sources
  as nodes with Biolink categories; one edge per claim between two terms (with its publications, direction
  and negation) and one ``biolink:subclass_of`` edge per is-a link between terms.
* ``graph/bmlkg_prefixes.json``: the prefix map of every CURIE prefix the two KGX files use. The Biolink
  prefix map has no prefix for bmlkg's own terms, claims and sources (``bml:``, ``claim:``, ``src:``) or for
  ``infores:``; this file declares them, and for prefixes Biolink also declares it gives Biolink's expansion
  (a test compares it with the ``biolink-model`` package's map). ``kgx validate`` accepts the files when its
  Biolink context is extended with it (docs/views.md). kgx takes a CURIE's local part to be free of ``/``, so a
  DOI is written with ``/`` as ``%2F`` (``doi:10.1002%2Fart.42831``); the ``iri`` column keeps the DOI as is.

Neo4j columns holding numbers are typed in the header (``year:int``, ``estimate:float``, ...), so
``neo4j-admin database import`` stores numbers, not strings.

>>> import bmlkg
>>> sorted(graph_format_files(bmlkg.load()))[0]
'graph/bmlkg.graphml'
"""

from __future__ import annotations

import csv
import io
import json
import re

import networkx as nx

from ..store.constants import EXPORT_STEM, GRAPH_DIR
from ..store.graph import Store
from ..views.netgraph import KINDS, SUBCLASS, Claim, Model, local_name, one_line
from ..store.vocab import BML, PREFIXES, XREF_PREFIXES, curie

GRAPHML = f"{GRAPH_DIR}/{EXPORT_STEM}.graphml"
NEO4J_NODES = f"{GRAPH_DIR}/{EXPORT_STEM}.neo4j.nodes.csv"
NEO4J_RELATIONSHIPS = f"{GRAPH_DIR}/{EXPORT_STEM}.neo4j.relationships.csv"
KGX_NODES = f"{GRAPH_DIR}/{EXPORT_STEM}_nodes.tsv"
KGX_EDGES = f"{GRAPH_DIR}/{EXPORT_STEM}_edges.tsv"
KGX_PREFIXES = f"{GRAPH_DIR}/{EXPORT_STEM}_prefixes.json"

#: Expansions of the CURIE prefixes the KGX files may use (bmlkg's own, its cross-reference targets, Biolink's).
KGX_PREFIX_EXPANSIONS: dict[str, str] = {
    **PREFIXES, **XREF_PREFIXES,
    "biolink": "https://w3id.org/biolink/vocab/",
    "infores": "https://w3id.org/biolink/infores/",
    "doi": "https://doi.org/",
}
#: KGX columns whose values are CURIEs (``|``-separated lists for the multivalued ones).
KGX_CURIE_COLUMNS = {
    "nodes": ("id", "category", "xref", "provided_by"),
    "edges": ("id", "subject", "predicate", "object", "original_predicate", "category", "primary_knowledge_source",
              "publications", "bml_direction", "bml_strength", "bml_study_design"),
}
#: Neo4j property → header type; the values are checked when written (a value of another type is an error).
NEO4J_TYPES: dict[str, str] = {
    "sampleSize": "int", "year": "int",
    **{name: "float" for name in ("estimate", "rangeLow", "rangeHigh", "valueBefore", "valueAfter", "ciLower",
                                  "ciUpper", "ciLevel", "pValue", "meanAge", "followUpValue")},
}

#: bml term-edge property (local name) → Biolink predicate; the bml predicate is kept as original_predicate.
BIOLINK_PREDICATES: dict[str, str] = {
    "mayCause": "biolink:has_phenotype",
    "hasHistologicalFeature": "biolink:has_phenotype",
    "associatedWith": "biolink:associated_with",
    "predicts": "biolink:associated_with",
    "explainsVarianceOf": "biolink:correlated_with",
    "riskFactorFor": "biolink:predisposes_to_condition",
    "contributesTo": "biolink:contributes_to",
    "hasMarkerTerm": "biolink:has_biomarker",
    "treats": "biolink:applied_to_treat",
    "studiedFor": "biolink:studied_to_treat",
    "achieves": "biolink:affects",
    "targets": "biolink:affects",
}
DEFAULT_PREDICATE = "biolink:related_to"
#: Claims whose edge must not be read as asserted: a null result, refuting evidence, not yet shown, advised against.
NEGATED_DIRECTIONS = (str(BML.NoAssociationFound), str(BML.Refutes), str(BML.NotYetShown), str(BML.RecommendationAgainst))
INFORES = "infores:bmlkg"

KGX_NODE_COLUMNS = ("id", "category", "name", "description", "synonym", "xref", "iri", "provided_by", "bml_kind")
KGX_EDGE_COLUMNS = (
    "id", "subject", "predicate", "object", "original_predicate", "category", "knowledge_level", "agent_type",
    "primary_knowledge_source", "publications", "negated", "bml_direction", "bml_strength", "bml_study_design",
    "bml_as_reported", "bml_claim_label",
)


def graph_format_files(kg: Store | Model) -> dict[str, tuple[bytes, str, str]]:
    """Relative file name → (bytes, media type, description), for :func:`bmlkg.export.rdf.export`."""
    model = kg if isinstance(kg, Model) else Model(kg)
    g = property_graph(model)
    nodes_csv, rels_csv = neo4j_csv(g)
    kgx_nodes, kgx_edges = kgx_tsv(model)
    prefixes = kgx_prefix_map(kgx_nodes, kgx_edges)
    return {
        GRAPHML: (graphml(g), "application/graphml+xml",
                  f"GraphML property graph ({g.number_of_nodes()} nodes: terms, claims, sources, studies; "
                  f"{g.number_of_edges()} typed edges) for Gephi, Cytoscape and yEd"),
        NEO4J_NODES: (nodes_csv, "text/csv", "Neo4j bulk-import nodes (id:ID, :LABEL, properties); see "
                      "docs/views.md for the neo4j-admin command"),
        NEO4J_RELATIONSHIPS: (rels_csv, "text/csv", "Neo4j bulk-import relationships (:START_ID, :END_ID, :TYPE)"),
        KGX_NODES: (kgx_nodes, "text/tab-separated-values",
                    "KGX nodes (terms and sources) with Biolink categories"),
        KGX_PREFIXES: (json.dumps(prefixes, indent=1, sort_keys=True).encode("utf-8") + b"\n", "application/json",
                       "Prefix map of every CURIE prefix in the KGX files (declares bml:, claim:, src:, infores:, "
                       "which the Biolink prefix map lacks); see docs/views.md for kgx validate"),
        KGX_EDGES: (kgx_edges, "text/tab-separated-values",
                    "KGX edges: one per claim between two terms (Biolink predicate, publications, negation) and "
                    "one biolink:subclass_of per is-a link"),
    }


def property_graph(model: Model) -> nx.MultiDiGraph:
    """The property graph with the few extra attributes the formats need (Neo4j labels)."""
    g = model.property_graph()
    for iri, data in g.nodes(data=True):
        data["neo4j_labels"] = ";".join(neo4j_labels(model, iri, data["kind"]))
    return g


def neo4j_labels(model: Model, iri: str, kind: str) -> list[str]:
    camel = "".join(part.capitalize() for part in kind.split("_"))
    if iri in model.claims:
        return ["Claim"] + sorted({local_name(t) for t in model.claims[iri].types} - {"Claim"})
    if kind in ("seed", "paper", "document"):
        return ["Source", camel]
    if kind == "study":
        return ["Study"]
    return ["Term", camel]


def graphml(g: nx.MultiDiGraph) -> bytes:
    out = io.BytesIO()
    clean = nx.MultiDiGraph()
    for n, data in g.nodes(data=True):
        clean.add_node(n, **{k: v for k, v in data.items() if k != "neo4j_labels"})
    for s, o, key, data in g.edges(keys=True, data=True):
        clean.add_edge(s, o, key=key, **data)
    nx.write_graphml(clean, out, encoding="utf-8", prettyprint=True, named_key_ids=True)
    return out.getvalue()


def _csv(rows: list[list], delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _neo4j_type(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


def _typed(prop: str, node: str, value) -> str | int:
    """A Neo4j property value checked against its column type (:data:`NEO4J_TYPES`)."""
    kind = NEO4J_TYPES.get(prop)
    if kind is None or value == "":
        return value
    text = str(value).strip()
    if kind == "int" and re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if kind == "float" and re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        return text
    raise ValueError(f"Neo4j export: {node} {prop} = {value!r} is not {'an integer' if kind == 'int' else 'a number'} "
                     f"(the column is typed {prop}:{kind})")


def neo4j_csv(g: nx.MultiDiGraph) -> tuple[bytes, bytes]:
    props = sorted({k for _n, d in g.nodes(data=True) for k in d} - {"neo4j_labels", "iri"})
    header = ["id:ID", ":LABEL"] + [f"{p}:{NEO4J_TYPES[p]}" if p in NEO4J_TYPES else p for p in props]
    rows: list[list] = [header]
    for n, d in sorted(g.nodes(data=True)):
        rows.append([n, d["neo4j_labels"]] + [_typed(p, n, d.get(p, "")) for p in props])
    rels: list[list] = [[":START_ID", ":END_ID", ":TYPE", "predicate"]]
    for s, o, _key, d in sorted(g.edges(keys=True, data=True), key=lambda e: (e[0], e[1], e[2])):
        rels.append([s, o, _neo4j_type(d["type"]), d["predicate"]])
    return _csv(rows), _csv(rels)


def _kgx_id(iri: str) -> str:
    """A KGX CURIE: kgx refuses ``/`` in a local part, so a DOI's ``/`` (and ``%``) are percent-encoded."""
    if iri.startswith("https://doi.org/"):
        doi = iri[len("https://doi.org/"):]
        return "doi:" + doi.replace("%", "%25").replace("/", "%2F").replace(":", "%3A").replace(" ", "%20")
    return curie(iri)


def _curies(value: str) -> list[str]:
    return [v for v in value.split("|") if v and not v.startswith(("http://", "https://"))]


def kgx_prefix_map(nodes_tsv: bytes, edges_tsv: bytes) -> dict[str, str]:
    """Prefix → expansion for every CURIE prefix in the KGX files (an unknown prefix is an error, not a guess)."""
    used: set[str] = set()
    for kind, data in (("nodes", nodes_tsv), ("edges", edges_tsv)):
        for row in csv.DictReader(io.StringIO(data.decode("utf-8")), delimiter="\t"):
            for column in KGX_CURIE_COLUMNS[kind]:
                for value in _curies(row[column]):
                    prefix, sep, _local = value.partition(":")
                    if not sep:
                        raise ValueError(f"KGX {kind} column {column}: {value!r} is not a CURIE")
                    used.add(prefix)
    unknown = sorted(used - set(KGX_PREFIX_EXPANSIONS))
    if unknown:
        raise ValueError(f"KGX export: no expansion for the CURIE prefixes {', '.join(unknown)}")
    return {p: KGX_PREFIX_EXPANSIONS[p] for p in sorted(used)}


def kgx_node_ids(model: Model) -> list[str]:
    """IRIs written as KGX nodes: every term and every source."""
    return sorted(set(model.term_kinds) | set(model.sources))


def kgx_edge_claims(model: Model) -> list[Claim]:
    """Claims written as KGX edges: those whose subject and object are both terms."""
    return [c for c in model.claims.values() if c.subject in model.term_kinds and c.object in model.term_kinds]


def kgx_subclass_edges(model: Model) -> list[tuple[str, str]]:
    return sorted((s, o) for s, o in model.hierarchy.edges if s in model.term_kinds and o in model.term_kinds)


def kgx_tsv(model: Model) -> tuple[bytes, bytes]:
    nodes: list[list] = [list(KGX_NODE_COLUMNS)]
    for iri in kgx_node_ids(model):
        kind = model.kind_of(iri) or "document"
        definition = model.definition(iri) or ""
        nodes.append([
            _kgx_id(iri), KINDS[kind].biolink, one_line(model.label(iri)), one_line(definition),
            "|".join(one_line(t) for _s, t in model.synonyms(iri)),
            "|".join(curie(t) for _r, t in model.mappings(iri)), iri, INFORES, kind,
        ])
    edges: list[list] = [list(KGX_EDGE_COLUMNS)]
    for c in kgx_edge_claims(model):
        name = local_name(c.predicate or "")
        stat = str(BML.StatisticalClaim) in c.types
        edges.append([
            curie(c.iri), _kgx_id(c.subject), BIOLINK_PREDICATES.get(name, DEFAULT_PREDICATE), _kgx_id(c.object),
            curie(c.predicate) if c.predicate else "", "biolink:Association",
            "statistical_association" if stat else "knowledge_assertion", "manual_agent", INFORES,
            "|".join(_kgx_id(s) for s in c.sources), "true" if c.direction in NEGATED_DIRECTIONS else "false",
            curie(c.direction) if c.direction else "", curie(c.one("strength")) if c.one("strength") else "",
            curie(c.one("studyDesign")) if c.one("studyDesign") else "", one_line(c.one("asReported") or ""),
            one_line(c.label),
        ])
    for s, o in kgx_subclass_edges(model):
        edges.append([f"{_kgx_id(s)}--subClassOf--{_kgx_id(o)}", _kgx_id(s), "biolink:subclass_of", _kgx_id(o),
                      curie(SUBCLASS), "biolink:Association", "knowledge_assertion", "manual_agent", INFORES,
                      "", "false", "", "", "", "", ""])
    return _csv(nodes, "\t"), _csv(edges, "\t")
