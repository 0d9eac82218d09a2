"""Namespaces and CURIE prefixes: the one map every module and every query uses."""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD, DefinedNamespace
from rdflib.term import URIRef

BASE = "https://w3id.org/bmlkg/"
ONTOLOGY_IRI = BASE + "bmlkg.owl"
CLAIM = Namespace(BASE + "claim/")
SRC = Namespace(BASE + "source/")
STUDY = Namespace(BASE + "study/")
BMLSH = Namespace(BASE + "shapes/")
OBO = Namespace("http://purl.obolibrary.org/obo/")
OBOINOWL = Namespace("http://www.geneontology.org/formats/oboInOwl#")
BIBO = Namespace("http://purl.org/ontology/bibo/")
VANN = Namespace("http://purl.org/vocab/vann/")
SH = Namespace("http://www.w3.org/ns/shacl#")

DEFINITION = OBO.IAO_0000115
TERM_REPLACED_BY = OBO.IAO_0100001
SYNONYM_PROPERTIES = (
    OBOINOWL.hasExactSynonym,
    OBOINOWL.hasRelatedSynonym,
    OBOINOWL.hasBroadSynonym,
    OBOINOWL.hasNarrowSynonym,
)


class BML(DefinedNamespace):
    """The schema terms the code refers to. Closed: a misspelt name is an AttributeError."""

    _fail = True
    _NS = Namespace(BASE)

    # domain roots and core terms
    Condition: URIRef
    CauseCategory: URIRef
    Feature: URIRef
    ImagingFinding: URIRef
    Symptom: URIRef
    ClinicalContext: URIRef
    HistologicalFinding: URIRef
    Outcome: URIRef
    AnatomicalLocation: URIRef
    ImagingModality: URIRef
    MRISequence: URIRef
    ScoringSystem: URIRef
    OutcomeMeasure: URIRef
    Mechanism: URIRef
    Marker: URIRef
    Treatment: URIRef
    PathologicalProcess: URIRef
    BoneMarrowOedemaSign: URIRef
    BoneMarrowLesion: URIRef
    BoneMarrowOedemaSyndrome: URIRef
    KneePain: URIRef
    # claims, sources
    Claim: URIRef
    StatisticalClaim: URIRef
    FeatureAssociation: URIRef
    TreatmentClaim: URIRef
    Study: URIRef
    SeedArticle: URIRef
    InTextSource: URIRef
    termEdge: URIRef
    # claim properties
    subjectTerm: URIRef
    predicateTerm: URIRef
    objectTerm: URIRef
    subjectRoot: URIRef
    objectRoot: URIRef
    direction: URIRef
    Supports: URIRef
    NoAssociationFound: URIRef
    Refutes: URIRef
    NotYetShown: URIRef
    RecommendationAgainst: URIRef
    certainty: URIRef
    derivedCertainty: URIRef
    HighCertaintyLevel: URIRef
    ModerateCertaintyLevel: URIRef
    LowCertaintyLevel: URIRef
    VeryLowCertaintyLevel: URIRef
    strength: URIRef
    weight: URIRef
    redFlag: URIRef
    redFlagReason: URIRef
    cause_category: URIRef
    conflictsWith: URIRef
    ageMin: URIRef
    ageMax: URIRef
    sexTerm: URIRef
    studyDesign: URIRef
    designRank: URIRef


#: The prefix map: used for Turtle/JSON-LD output, query headers, CURIEs in tables and the SSSOM file.
PREFIXES: dict[str, str] = {
    "bml": BASE,
    "claim": str(CLAIM),
    "src": str(SRC),
    "study": str(STUDY),
    "obo": str(OBO),
    "oboInOwl": str(OBOINOWL),
    "owl": str(OWL),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "bibo": str(BIBO),
    "vann": str(VANN),
    "xsd": str(XSD),
}

#: CURIE prefixes accepted in the SSSOM mapping table (object side), with their expansions.
XREF_PREFIXES: dict[str, str] = {
    "MONDO": "http://purl.obolibrary.org/obo/MONDO_",
    "HP": "http://purl.obolibrary.org/obo/HP_",
    "UBERON": "http://purl.obolibrary.org/obo/UBERON_",
    "CL": "http://purl.obolibrary.org/obo/CL_",
    "GO": "http://purl.obolibrary.org/obo/GO_",
    "CHEBI": "http://purl.obolibrary.org/obo/CHEBI_",
    "NCIT": "http://purl.obolibrary.org/obo/NCIT_",
    "STATO": "http://purl.obolibrary.org/obo/STATO_",
    "OBI": "http://purl.obolibrary.org/obo/OBI_",
    "PR": "http://purl.obolibrary.org/obo/PR_",
    "OGMS": "http://purl.obolibrary.org/obo/OGMS_",
    "SEPIO": "http://purl.obolibrary.org/obo/SEPIO_",
    "UO": "http://purl.obolibrary.org/obo/UO_",
    "ECO": "http://purl.obolibrary.org/obo/ECO_",
    "MESH": "http://id.nlm.nih.gov/mesh/",
    "RADLEX": "http://radlex.org/RID/",
    "HGNC": "http://identifiers.org/hgnc/",
}


def sparql_prefixes() -> str:
    """PREFIX declarations for every entry of PREFIXES, for queries that omit their own."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def curie(iri: str, prefixes: dict[str, str] | None = None) -> str:
    """Shorten an IRI with a prefix map (default: project and xref prefixes); unchanged when none fits."""
    best = ""
    table = prefixes if prefixes is not None else {**PREFIXES, **XREF_PREFIXES}
    for prefix, ns in table.items():
        if iri.startswith(ns) and len(ns) > len(best) and _is_local(iri[len(ns):]):
            best, short = ns, f"{prefix}:{iri[len(ns):]}"
    return short if best else iri


def expand(value: str) -> str:
    """Expand a CURIE with the prefix maps; full IRIs pass through. Raises ValueError otherwise."""
    if value.startswith(("http://", "https://")):
        return value
    prefix, sep, local = value.partition(":")
    table = {**PREFIXES, **XREF_PREFIXES}
    if not sep or prefix not in table:
        raise ValueError(f"unknown CURIE prefix in {value!r}; known: {', '.join(sorted(table))}")
    return table[prefix] + local


def _is_local(local: str) -> bool:
    return bool(local) and "/" not in local and "#" not in local
