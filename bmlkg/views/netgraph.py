"""The knowledge graph as a networkx property graph: the one projection the views and graph formats share.

Nodes are the domain terms (classes under one of the domain roots), the claims, the sources and the named
studies; value-set individuals (directions, designs, strengths, …) become properties of the claims that use
them. Edges are the triples between two such nodes whose predicate is one of :data:`EDGE_PREDICATES` or a
term edge (a sub-property of ``bml:termEdge``). Lexical forms are read from ``kg.triples``, so ``0.10``
stays ``0.10``.

>>> import bmlkg
>>> model = Model(bmlkg.load())
>>> model.kind_of("https://w3id.org/bmlkg/BoneMarrowLesion")
'imaging_finding'
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx
import pyoxigraph as ox

from ..store.graph import Store
from ..store.vocab import BASE, BIBO, BML, DEFINITION, OBOINOWL, SYNONYM_PROPERTIES, curie

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_TYPE = RDF + "type"
OWL = "http://www.w3.org/2002/07/owl#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
RDFS_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
SUBPROPERTY = "http://www.w3.org/2000/01/rdf-schema#subPropertyOf"
OWL_CLASS = "http://www.w3.org/2002/07/owl#Class"
OWL_DEPRECATED = "http://www.w3.org/2002/07/owl#deprecated"
DCT = "http://purl.org/dc/terms/"
DCT_SOURCE = DCT + "source"
SKOS = "http://www.w3.org/2004/02/skos/core#"
MAPPING_PROPERTIES = tuple(SKOS + m for m in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch"))
IN_SUBSET = str(OBOINOWL.inSubset)


@dataclass(frozen=True)
class Kind:
    """A kind of node: how views draw it and how graph formats type it."""

    key: str
    label: str
    colour: str
    shape: str
    biolink: str
    root: str | None = None
    font_colour: str = "#111111"


#: Term kinds, most specific first: a class takes the first kind whose root it falls under.
TERM_KINDS: tuple[Kind, ...] = (
    Kind("cause_category", "cause category", "#8B1A1A", "box", "biolink:Disease", None, "#ffffff"),
    Kind("histological_finding", "tissue change (histology)", "#7B3294", "diamond", "biolink:PhenotypicFeature",
         str(BML.HistologicalFinding)),
    Kind("outcome", "outcome", "#00796B", "hexagon", "biolink:PhenotypicFeature", str(BML.Outcome)),
    Kind("symptom", "symptom", "#E69F00", "triangle", "biolink:PhenotypicFeature", str(BML.Symptom)),
    Kind("clinical_context", "clinical context", "#B58900", "triangleDown", "biolink:PhenotypicFeature",
         str(BML.ClinicalContext)),
    Kind("imaging_finding", "imaging finding", "#0072B2", "dot", "biolink:PhenotypicFeature", str(BML.ImagingFinding)),
    Kind("feature", "feature", "#56B4E9", "dot", "biolink:PhenotypicFeature", str(BML.Feature)),
    Kind("imaging_modality", "imaging modality or sequence", "#4D4D4D", "box", "biolink:Procedure",
         str(BML.ImagingModality), "#ffffff"),
    Kind("scoring_system", "scoring system or outcome measure", "#8E8E38", "ellipse", "biolink:ClinicalAttribute",
         str(BML.ScoringSystem), "#ffffff"),
    Kind("pathological_process", "pathological process", "#6D4C41", "dot", "biolink:PathologicalProcess",
         str(BML.PathologicalProcess)),
    Kind("condition", "condition", "#D55E00", "dot", "biolink:Disease", str(BML.Condition)),
    Kind("anatomical_location", "anatomical location", "#8C6D31", "square", "biolink:AnatomicalEntity",
         str(BML.AnatomicalLocation)),
    Kind("mechanism", "biological mechanism", "#CC79A7", "diamond", "biolink:BiologicalProcess", str(BML.Mechanism)),
    Kind("marker", "biomarker or cell type", "#882255", "hexagon", "biolink:BiologicalEntity", str(BML.Marker)),
    Kind("treatment", "treatment", "#2E7D32", "star", "biolink:Treatment", str(BML.Treatment)),
)
#: Kinds of the other nodes.
OTHER_KINDS: tuple[Kind, ...] = (
    Kind("claim", "claim", "#1B7837", "box", "biolink:InformationContentEntity", None, "#ffffff"),
    Kind("statistic", "reported number", "#2166AC", "ellipse", "biolink:InformationContentEntity", None, "#ffffff"),
    Kind("seed", "seed article", "#333333", "box", "biolink:Publication", None, "#ffffff"),
    Kind("paper", "paper (DOI)", "#F0E442", "box", "biolink:Article"),
    Kind("document", "guideline, review or other source", "#D9D9D9", "box", "biolink:Publication"),
    Kind("study", "named study", "#BDBDBD", "ellipse", "biolink:Study"),
    Kind("schema", "schema class", "#9E9E9E", "box", "biolink:OntologyClass", None, "#ffffff"),
)
KINDS: dict[str, Kind] = {k.key: k for k in TERM_KINDS + OTHER_KINDS}
DOMAIN_ROOTS: tuple[str, ...] = tuple(
    str(r) for r in (BML.Condition, BML.Feature, BML.AnatomicalLocation, BML.ImagingModality, BML.ScoringSystem,
                     BML.Mechanism, BML.Marker, BML.Treatment, BML.PathologicalProcess)
)

#: Evidence directions: colour of a claim.
DIRECTION_COLOURS: dict[str, tuple[str, str]] = {
    str(BML.Supports): ("supports", "#1B7837"),
    str(BML.NoAssociationFound): ("no association found", "#8C6D00"),
    str(BML.Refutes): ("refutes", "#B2182B"),
    str(BML.NotYetShown): ("not yet shown", "#5E3C99"),
    str(BML.RecommendationAgainst): ("recommendation against", "#D95F02"),
}
UNKNOWN_DIRECTION = ("direction not stated", "#616161")
#: Derived certainty levels (bml:derivedCertainty): border colour of a claim, green (high) to red (very low).
CERTAINTY_COLOURS: dict[str, tuple[str, str]] = {
    str(BML.HighCertaintyLevel): ("high", "#1A9850"),
    str(BML.ModerateCertaintyLevel): ("moderate", "#A6D96A"),
    str(BML.LowCertaintyLevel): ("low", "#FDAE61"),
    str(BML.VeryLowCertaintyLevel): ("very low", "#D73027"),
}

QUALIFIERS = ("locationTerm", "populationTerm", "appliesToCondition", "measuredWith")
CLAIM_TO_TERM = ("subjectTerm", "objectTerm") + QUALIFIERS
#: Predicates that become property-graph edges (besides the term edges), with the edge type name.
EDGE_PREDICATES: dict[str, str] = {
    SUBCLASS: "subClassOf",
    DCT_SOURCE: "source",
    BASE + "study": "study",
    str(BML.conflictsWith): "conflictsWith",
    **{BASE + q: q for q in CLAIM_TO_TERM},
}
SOURCE_CLASSES = tuple(str(c) for c in (BIBO.AcademicArticle, BIBO.Document, BIBO.Webpage, BML.SeedArticle,
                                         BML.InTextSource))


def local_name(iri: str) -> str:
    return re.split(r"[/#]", iri)[-1]


def one_line(text: str | None) -> str:
    """Collapse whitespace, including U+2028/U+2029, to single spaces."""
    return " ".join((text or "").split())


@dataclass
class Claim:
    """One claim with the values views and formats need, lexical forms as written."""

    iri: str
    label: str
    types: list[str]
    props: dict[str, list[str]] = field(default_factory=dict)

    def one(self, name: str) -> str | None:
        values = self.props.get(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return self.props.get(name, [])

    @property
    def subject(self) -> str | None:
        return self.one("subjectTerm")

    @property
    def predicate(self) -> str | None:
        return self.one("predicateTerm")

    @property
    def object(self) -> str | None:
        return self.one("objectTerm")

    @property
    def direction(self) -> str | None:
        return self.one("direction")

    @property
    def sources(self) -> list[str]:
        return self.all("source")

    @property
    def has_numbers(self) -> bool:
        return any(self.one(p) for p in ("estimate", "rangeLow", "valueBefore", "valueAfter", "asReported"))


class Model:
    """Indexes over one :class:`Store` for the views and graph formats; built once, read many times."""

    def __init__(self, kg: Store):
        self.kg = kg
        out: dict[str, list[tuple[str, ox.NamedNode | ox.Literal | ox.BlankNode]]] = defaultdict(list)
        for t in kg.triples:
            if isinstance(t.subject, ox.NamedNode):
                out[t.subject.value].append((t.predicate.value, t.object))
        self.out = dict(out)

    # -- raw access ------------------------------------------------------------------------------
    def values(self, subject: str, predicate: str) -> list[str]:
        """Object values (IRIs or lexical forms) of ``subject predicate ?o``, sorted, blank nodes skipped."""
        return sorted(
            o.value for p, o in self.out.get(subject, ()) if p == predicate and not isinstance(o, ox.BlankNode)
        )

    def first(self, subject: str, predicate: str) -> str | None:
        vals = self.values(subject, predicate)
        english = [o.value for p, o in self.out.get(subject, ())
                   if p == predicate and isinstance(o, ox.Literal) and (o.language or "").startswith("en")]
        return sorted(english)[0] if english else (vals[0] if vals else None)

    def label(self, iri: str) -> str:
        return self.first(iri, RDFS_LABEL) or local_name(iri)

    def definition(self, iri: str) -> str | None:
        return self.first(iri, str(DEFINITION))

    def types(self, iri: str) -> list[str]:
        return self.values(iri, RDF_TYPE)

    def synonyms(self, iri: str) -> list[tuple[str, str]]:
        """(scope, text) pairs: scope is exact, related, broad or narrow."""
        found = []
        for prop in SYNONYM_PROPERTIES:
            scope = str(prop).split("#has")[-1].replace("Synonym", "").lower()
            found += [(scope, text) for text in self.values(iri, str(prop))]
        return found

    def mappings(self, iri: str) -> list[tuple[str, str]]:
        """(skos relation local name, target IRI) pairs."""
        return [(local_name(p), o) for p in MAPPING_PROPERTIES for o in self.values(iri, p)]

    # -- hierarchy and kinds ---------------------------------------------------------------------
    @cached_property
    def hierarchy(self) -> nx.DiGraph:
        """``rdfs:subClassOf`` between named classes, child → parent (asserted and materialised)."""
        g = nx.DiGraph()
        for s, pairs in self.out.items():
            for p, o in pairs:
                if p == SUBCLASS and isinstance(o, ox.NamedNode) and o.value != s:
                    g.add_edge(s, o.value)
        return g

    def ancestors(self, iri: str) -> set[str]:
        return nx.descendants(self.hierarchy, iri) if iri in self.hierarchy else set()

    def descendants(self, iri: str) -> set[str]:
        return nx.ancestors(self.hierarchy, iri) if iri in self.hierarchy else set()

    @cached_property
    def classes(self) -> list[str]:
        """Every non-deprecated owl:Class of the bml namespace."""
        return sorted(
            s for s, pairs in self.out.items()
            if s.startswith(BASE) and (RDF_TYPE, ox.NamedNode(OWL_CLASS)) in pairs and not self.deprecated(s)
        )

    def deprecated(self, iri: str) -> bool:
        return any(v in ("true", "1") for v in self.values(iri, OWL_DEPRECATED))

    @cached_property
    def categories(self) -> list[str]:
        """The cause categories (``oboInOwl:inSubset bml:cause_category``), sorted by label."""
        cats = [c for c in self.classes if str(BML.cause_category) in self.values(c, IN_SUBSET)]
        return sorted(cats, key=lambda c: self.label(c).casefold())

    @cached_property
    def term_kinds(self) -> dict[str, str]:
        """IRI → kind key for every domain term (a class under one of the domain roots)."""
        kinds = {}
        cats = set(self.categories)
        for c in self.classes:
            above = self.ancestors(c) | {c}
            if not above & set(DOMAIN_ROOTS):
                continue
            if c in cats:
                kinds[c] = "cause_category"
                continue
            for kind in TERM_KINDS:
                if kind.root and kind.root in above:
                    kinds[c] = kind.key
                    break
        return kinds

    def kind_of(self, iri: str) -> str | None:
        """The kind key of any node of the property graph (term, claim, source, study), else None."""
        if iri in self.term_kinds:
            return self.term_kinds[iri]
        if iri in self.claims:
            return "claim"
        if iri in self.sources:
            return self.sources[iri]
        if iri in self.studies:
            return "study"
        return None

    # -- claims, sources, studies ----------------------------------------------------------------
    @cached_property
    def claim_classes(self) -> set[str]:
        return {str(BML.Claim)} | self.descendants(str(BML.Claim))

    @cached_property
    def claims(self) -> dict[str, Claim]:
        claims = {}
        for s, pairs in self.out.items():
            types = sorted(o.value for p, o in pairs if p == RDF_TYPE and o.value in self.claim_classes)
            if not types:
                continue
            props: dict[str, list[str]] = defaultdict(list)
            for p, o in pairs:
                if isinstance(o, ox.BlankNode) or p == RDF_TYPE:
                    continue
                props[local_name(p)].append(o.value)
            claims[s] = Claim(s, self.label(s), types, {k: sorted(v) for k, v in props.items()})
        return dict(sorted(claims.items()))

    @cached_property
    def sources(self) -> dict[str, str]:
        """Source IRI → kind key (seed, paper, document) for every typed source or cited node."""
        found: dict[str, str] = {}
        candidates = {s for s, pairs in self.out.items()
                      if any(p == RDF_TYPE and o.value in SOURCE_CLASSES for p, o in pairs)}
        for pairs in self.out.values():
            candidates.update(o.value for p, o in pairs if p == DCT_SOURCE and isinstance(o, ox.NamedNode))
        for s in sorted(candidates):
            types = set(self.types(s))
            if str(BML.SeedArticle) in types:
                found[s] = "seed"
            elif self.values(s, str(BIBO.doi)) or s.startswith("https://doi.org/"):
                found[s] = "paper"
            else:
                found[s] = "document"
        return found

    @cached_property
    def studies(self) -> list[str]:
        return sorted(s for s, pairs in self.out.items()
                      if any(p == RDF_TYPE and o.value == str(BML.Study) for p, o in pairs))

    @cached_property
    def term_edge_properties(self) -> list[str]:
        """Every sub-property of ``bml:termEdge`` (transitively)."""
        g = nx.DiGraph()
        for s, pairs in self.out.items():
            for p, o in pairs:
                if p == SUBPROPERTY and isinstance(o, ox.NamedNode):
                    g.add_edge(s, o.value)
        root = str(BML.termEdge)
        return sorted(nx.ancestors(g, root)) if root in g else []

    @cached_property
    def term_edges(self) -> list[tuple[str, str, str]]:
        """Derived (subject, term-edge property, object) triples between domain terms."""
        props = set(self.term_edge_properties)
        terms = self.term_kinds
        return sorted(
            (s, p, o.value) for s, pairs in self.out.items() if s in terms
            for p, o in pairs if p in props and isinstance(o, ox.NamedNode) and o.value in terms
        )

    def supporting_claims(self, s: str, p: str, o: str) -> list[Claim]:
        """The supporting claims behind a derived term edge."""
        return [c for c in self.claims_by_triple.get((s, p, o), []) if c.direction == str(BML.Supports)]

    @cached_property
    def claims_by_triple(self) -> dict[tuple[str, str, str], list[Claim]]:
        index: dict[tuple[str, str, str], list[Claim]] = defaultdict(list)
        for c in self.claims.values():
            if c.subject and c.predicate and c.object:
                index[(c.subject, c.predicate, c.object)].append(c)
        return dict(index)

    @cached_property
    def claims_by_term(self) -> dict[str, list[Claim]]:
        """Term IRI → claims naming it as subject, object or qualifier."""
        index: dict[str, list[Claim]] = defaultdict(list)
        for c in self.claims.values():
            for name in CLAIM_TO_TERM:
                for term in c.all(name):
                    if c not in index[term]:
                        index[term].append(c)
        return dict(index)

    # -- the property graph ----------------------------------------------------------------------
    def node_ids(self) -> list[str]:
        return sorted(set(self.term_kinds) | set(self.claims) | set(self.sources) | set(self.studies))

    def property_graph(self) -> nx.MultiDiGraph:
        """Terms, claims, sources and studies with their properties; edges typed by predicate local name."""
        g = nx.MultiDiGraph()
        nodes = self.node_ids()
        for iri in nodes:
            g.add_node(iri, **self.node_properties(iri))
        node_set = set(nodes)
        types = {**EDGE_PREDICATES, **{p: local_name(p) for p in self.term_edge_properties}}
        for s in nodes:
            for p, o in sorted(self.out.get(s, ()), key=lambda po: (po[0], str(po[1]))):
                if p in types and isinstance(o, ox.NamedNode) and o.value in node_set:
                    g.add_edge(s, o.value, key=types[p], type=types[p], predicate=curie(p))
        return g

    def node_properties(self, iri: str) -> dict[str, str | int]:
        """Flat string/number properties of one node (no None values, no newlines)."""
        kind = self.kind_of(iri) or "schema"
        props: dict[str, str | int] = {
            "iri": iri, "curie": curie(iri), "label": one_line(self.label(iri)), "kind": kind,
            "kind_label": KINDS[kind].label,
        }
        definition = self.definition(iri)
        if definition:
            props["definition"] = one_line(definition)
        synonyms = [one_line(t) for _scope, t in self.synonyms(iri)]
        if synonyms:
            props["synonyms"] = " | ".join(synonyms)
        mappings = [curie(t) for _rel, t in self.mappings(iri)]
        if mappings:
            props["mappings"] = " | ".join(mappings)
        if iri in self.claims:
            props.update(self.claim_properties(self.claims[iri]))
        if kind in ("seed", "paper", "document"):
            props.update(self.source_properties(iri))
        return props

    def claim_properties(self, claim: Claim) -> dict[str, str | int]:
        props: dict[str, str | int] = {"claim_type": ", ".join(local_name(t) for t in claim.types)}
        for name in ("subjectTerm", "predicateTerm", "objectTerm"):
            if claim.one(name):
                props[name] = curie(claim.one(name))
        for name in ("direction", "studyDesign", "measure", "strength", "unitOfAnalysis", "followUpUnit",
                     "evidenceMaturity", "guidelineStatus", "regulatoryStatus", "availability", "certainty",
                     "derivedCertainty"):
            if claim.one(name):
                props[name] = one_line(self.label(claim.one(name)))
        for name in ("estimate", "rangeLow", "rangeHigh", "valueBefore", "valueAfter", "ciLower", "ciUpper",
                     "ciLevel", "pValue", "meanAge", "followUpValue", "asReported", "timeCourse",
                     "populationDescription", "frequencyDescription", "signalDescription"):
            if claim.one(name):
                props[name] = one_line(claim.one(name))
        if claim.one("sampleSize"):
            if re.fullmatch(r"[+-]?\d+", claim.one("sampleSize").strip()):
                props["sampleSize"] = int(claim.one("sampleSize"))
            else:
                props["sampleSizeText"] = one_line(claim.one("sampleSize"))
        return props

    def source_properties(self, iri: str) -> dict[str, str]:
        props = {}
        for name, pred in (("doi", str(BIBO.doi)), ("title", DCT + "title"), ("year", DCT + "issued"),
                           ("journal", DCT + "isPartOf"), ("publisher", DCT + "publisher")):
            value = self.first(iri, pred)
            if value:
                props[name] = one_line(value)
        return props

    # -- text for people -------------------------------------------------------------------------
    def citation(self, iri: str) -> str:
        """One line naming a source: its label, and the DOI when it has one."""
        doi = self.first(iri, str(BIBO.doi))
        label = one_line(self.label(iri))
        return f"{label} — doi:{doi}" if doi and doi not in label else label

    def numbers_text(self, claim: Claim) -> str | None:
        """The claim's numbers in one line: as printed when the source's wording is kept, else composed."""
        if claim.one("asReported"):
            text = one_line(claim.one("asReported"))
        else:
            parts = []
            if claim.one("measure"):
                parts.append(self.label(claim.one("measure")))
            if claim.one("estimate"):
                parts.append(claim.one("estimate"))
            if claim.one("rangeLow") and claim.one("rangeHigh"):
                parts.append(f"{claim.one('rangeLow')}–{claim.one('rangeHigh')}")
            if claim.one("valueBefore") and claim.one("valueAfter"):
                parts.append(f"{claim.one('valueBefore')} → {claim.one('valueAfter')}")
            if claim.one("ciLower") and claim.one("ciUpper"):
                parts.append(f"(CI {claim.one('ciLower')}–{claim.one('ciUpper')})")
            if claim.one("pValue"):
                parts.append(f"p = {claim.one('pValue')}")
            text = " ".join(parts)
        return text or None

    def sample_text(self, claim: Claim) -> str | None:
        bits = []
        if claim.one("sampleSize"):
            unit = self.label(claim.one("unitOfAnalysis")) if claim.one("unitOfAnalysis") else "units"
            bits.append(f"n = {claim.one('sampleSize')} {unit}{'s' if unit in ('knee', 'participant') else ''}")
        if claim.one("followUpValue"):
            unit = self.label(claim.one("followUpUnit")) if claim.one("followUpUnit") else ""
            bits.append(f"follow-up {claim.one('followUpValue')} {unit}".strip())
        if claim.one("studyDesign"):
            bits.append(self.label(claim.one("studyDesign")))
        return ", ".join(bits) or None

    # -- OWL restrictions (for the defined cause categories) -------------------------------------
    @cached_property
    def blank(self) -> dict[str, list[tuple[str, ox.NamedNode | ox.Literal | ox.BlankNode]]]:
        found: dict[str, list] = defaultdict(list)
        for t in self.kg.triples:
            if isinstance(t.subject, ox.BlankNode):
                found[t.subject.value].append((t.predicate.value, t.object))
        return dict(found)

    def _restriction(self, node) -> list[tuple[str, str]]:
        """(onProperty, someValuesFrom) of a blank restriction, or of each member of an intersection."""
        if not isinstance(node, ox.BlankNode):
            return []
        pairs = self.blank.get(node.value, [])
        prop = next((o.value for p, o in pairs if p == OWL + "onProperty"), None)
        value = next((o.value for p, o in pairs if p == OWL + "someValuesFrom" and isinstance(o, ox.NamedNode)), None)
        if prop and value:
            return [(prop, value)]
        found = []
        for p, o in pairs:
            if p == OWL + "intersectionOf":
                for member in self._list(o):
                    found += self._restriction(member)
        return found

    def _list(self, node) -> list:
        items = []
        while isinstance(node, ox.BlankNode):
            pairs = self.blank.get(node.value, [])
            items += [o for p, o in pairs if p == RDF + "first"]
            node = next((o for p, o in pairs if p == RDF + "rest"), None)
        return items

    def defining_restrictions(self, cls: str) -> list[tuple[str, str]]:
        """Existential restrictions in the ``owl:equivalentClass`` definition of a class."""
        return [r for p, o in self.out.get(cls, ()) if p == OWL + "equivalentClass" for r in self._restriction(o)]

    def inherited_restrictions(self, cls: str) -> list[tuple[str, str]]:
        """Existential restrictions a class has through ``rdfs:subClassOf``, its own or its ancestors'."""
        return [r for c in sorted({cls} | self.ancestors(cls)) for p, o in self.out.get(c, ())
                if p == SUBCLASS for r in self._restriction(o)]
