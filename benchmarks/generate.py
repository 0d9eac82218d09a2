"""Scale the curated graph by a factor with synthetic entities and claims of the same shape.

The scaled graph at factor ``f`` is the curated graph itself plus ``f - 1`` synthetic copies of its
entities (terms, claims, sources, studies). A copy keeps every class, property, claim structure and
out-degree; it differs in three ways:

* every copied IRI gets a suffix (``bml:BoneMarrowLesion`` -> ``bml:BoneMarrowLesion-s7``), and labels,
  synonyms, titles and DOIs get one too (``"bone marrow lesion (synthetic 7)"@en``), so names stay unique
  and the curated example parameters of the query library resolve to the curated terms at every scale;
* the claims of a copy are rewired: within each predicate term, the subject terms are shuffled among the
  copy's claims, and so are the object terms (a degree-preserving shuffle: each term keeps how many claims
  name it, so the degree distribution is the curated one), deterministically from the seed;
* derived term edges are not copied: :func:`bmlkg.load` derives them again from the (rewired) claims.

The schema is shared, never copied: properties, the classes used as ``rdf:type``, the domain roots
(``bml:subjectRoot`` / ``bml:objectRoot``) and their superclasses, the ontology header, and value-set
individuals (``bml:Supports``, ``bml:CohortStudy``, ...: named individuals that are not claims, not
documents and cite no source). So synthetic conditions still sit under ``bml:Condition``, synthetic claims are still
``bml:StatisticalClaim`` with ``bml:direction bml:Supports``, as a merged disease ontology's would.

Output is N-Triples text, byte-identical for the same curated graph, factor and seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from bmlkg import KnowledgeGraph, load
from bmlkg.store.vocab import BASE

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
RDF_TYPE = RDF + "type"
SUBCLASS = RDFS + "subClassOf"
SUBPROPERTY = RDFS + "subPropertyOf"
BML_SUBJECT = BASE + "subjectTerm"
BML_PREDICATE = BASE + "predicateTerm"
BML_OBJECT = BASE + "objectTerm"
TERM_EDGE = BASE + "termEdge"
DCT_SOURCE = "http://purl.org/dc/terms/source"
PROPERTY_TYPES = {
    RDF + "Property", OWL + "AnnotationProperty", OWL + "ObjectProperty", OWL + "DatatypeProperty",
    OWL + "FunctionalProperty", OWL + "TransitiveProperty", OWL + "SymmetricProperty",
}
ROOT_PROPERTIES = {BASE + "subjectRoot", BASE + "objectRoot"}
#: Literal-valued properties whose values name an entity: suffixed in copies so names stay unique.
NAME_PROPERTIES = {
    RDFS + "label", "http://www.w3.org/2004/02/skos/core#prefLabel", "http://purl.org/dc/terms/title",
    "http://www.geneontology.org/formats/oboInOwl#hasExactSynonym",
    "http://www.geneontology.org/formats/oboInOwl#hasRelatedSynonym",
    "http://www.geneontology.org/formats/oboInOwl#hasBroadSynonym",
    "http://www.geneontology.org/formats/oboInOwl#hasNarrowSynonym",
    BASE + "studyName",
}
DOI_PROPERTY = "http://purl.org/ontology/bibo/doi"
DOCUMENT_NAMESPACE = "http://purl.org/ontology/bibo/"
#: IRIs under these namespaces are entities that a copy duplicates (terms, claims, sources, studies).
ENTITY_NAMESPACES = (BASE, "https://doi.org/")
DEFAULT_SEED = 20261123
_MARK = "zzBMLKGCOPYzz"  # placeholder for the copy number inside a literal, replaced by {k}


@dataclass
class Template:
    """The curated triples, and one copy of its entities as a ``str.format`` template of N-Triples."""

    base_nt: str          # the curated graph (without derived edges), sorted N-Triples
    copy_nt: str          # one copy: placeholders {k} (copy number) and {s0}, {s1}, ... (rewired terms)
    base_triples: int
    copy_triples: int
    groups: list[tuple[list[str], list[str]]]  # per rewiring group: slot names, their curated terms
    shared: frozenset[str]
    pairs: list[tuple[str, str]]  # (subject slot, object slot) of each claim, to avoid self-loops


def curated(kg: KnowledgeGraph) -> list[ox.Triple]:
    """The curated triples without derived term edges, blank nodes renamed ``b0``, ``b1``, ... in order."""
    edge_props = _term_edge_properties(kg.triples)
    names: dict[str, ox.BlankNode] = {}

    def canon(term):
        if isinstance(term, ox.BlankNode):
            if term.value not in names:
                names[term.value] = ox.BlankNode(f"b{len(names)}")
            return names[term.value]
        return term

    out = []
    for t in kg.triples:
        if t.predicate.value in edge_props and isinstance(t.object, ox.NamedNode):
            continue
        out.append(ox.Triple(canon(t.subject), t.predicate, canon(t.object)))
    return out


def _term_edge_properties(triples: list[ox.Triple]) -> set[str]:
    children: dict[str, set[str]] = {}
    for t in triples:
        if t.predicate.value == SUBPROPERTY and isinstance(t.object, ox.NamedNode):
            children.setdefault(t.object.value, set()).add(t.subject.value)
    found, todo = set(), [TERM_EDGE]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def shared_iris(triples: list[ox.Triple]) -> frozenset[str]:
    """The schema IRIs every copy shares (see the module docstring)."""
    shared: set[str] = set()
    parents: dict[str, set[str]] = {}
    types: dict[str, set[str]] = {}
    has_source, claims = set(), set()
    for t in triples:
        s, p, o = t.subject, t.predicate.value, t.object
        shared.add(p)
        if not isinstance(o, ox.NamedNode):
            continue
        if p == RDF_TYPE:
            shared.add(o.value)
            types.setdefault(s.value, set()).add(o.value)
            if o.value in PROPERTY_TYPES or o.value == OWL + "Ontology":
                shared.add(s.value)
        elif p in ROOT_PROPERTIES:
            shared.add(o.value)
        elif p == SUBCLASS:
            parents.setdefault(s.value, set()).add(o.value)
        elif p == DCT_SOURCE:
            has_source.add(s.value)
        elif p == BML_SUBJECT:
            claims.add(s.value)
    todo = [c for c in shared if c in parents]
    while todo:
        for parent in parents.get(todo.pop(), ()):
            if parent not in shared:
                shared.add(parent)
                todo.append(parent)
    documents = {c for c in shared if _falls_under(c, parents, DOCUMENT_NAMESPACE)}
    for iri, kinds in types.items():
        if OWL + "NamedIndividual" in kinds and iri not in has_source and iri not in claims \
                and not kinds & documents:
            shared.add(iri)  # a value-set member: bml:Supports, bml:CohortStudy, bml:Knee
    return frozenset(shared)


def _falls_under(cls: str, parents: dict[str, set[str]], namespace: str) -> bool:
    """True when ``cls`` or one of its superclasses is in ``namespace`` (e.g. a bibo document class)."""
    seen, todo = set(), [cls]
    while todo:
        c = todo.pop()
        if c.startswith(namespace):
            return True
        seen.add(c)
        todo.extend(p for p in parents.get(c, ()) if p not in seen)
    return False


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def build_template(triples: list[ox.Triple], seed_slots: bool = True) -> Template:
    """Turn the curated triples into the base N-Triples and a per-copy template."""
    shared = shared_iris(triples)
    subjects = {t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)}
    copied = {s for s in subjects if s not in shared and s.startswith(ENTITY_NAMESPACES)}
    bnodes = _owned_blank_nodes(triples, copied)
    slots: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (role, predicate term) -> [(slot, term)]
    predicate_of = {t.subject.value: t.object.value for t in triples
                    if t.predicate.value == BML_PREDICATE and isinstance(t.object, ox.NamedNode)}

    def term(node) -> str:
        if isinstance(node, ox.BlankNode):
            return f"_:{node.value}s{{k}}" if node.value in bnodes else str(node)
        if isinstance(node, ox.NamedNode):
            return f"<{node.value}-s{{k}}>" if node.value in copied else str(node)
        return _escape(str(node))

    lines = []
    roles: dict[str, dict[str, str]] = {}
    for t in triples:
        s = t.subject
        if isinstance(s, ox.NamedNode) and s.value not in copied:
            continue
        if isinstance(s, ox.BlankNode) and s.value not in bnodes:
            continue
        p, o = t.predicate.value, t.object
        if p in (BML_SUBJECT, BML_OBJECT) and isinstance(o, ox.NamedNode) and s.value in predicate_of:
            group = slots.setdefault((p, predicate_of[s.value]), [])
            slot = f"s{sum(len(g) for g in slots.values())}"
            group.append((slot, o.value))
            roles.setdefault(s.value, {})[p] = slot
            obj = "{" + slot + "}"
        elif p in NAME_PROPERTIES and isinstance(o, ox.Literal):
            obj = _escape(str(_renamed_literal(o, f" (synthetic {_MARK})"))).replace(_MARK, "{k}")
        elif p == DOI_PROPERTY and isinstance(o, ox.Literal):
            obj = _escape(str(_renamed_literal(o, f"-s{_MARK}"))).replace(_MARK, "{k}")
        else:
            obj = term(o)
        lines.append(f"{term(s)} <{p}> {obj} .")
    groups = [([slot for slot, _ in members], [iri for _, iri in members])
              for _key, members in sorted(slots.items())]
    pairs = [(r[BML_SUBJECT], r[BML_OBJECT]) for _c, r in sorted(roles.items())
             if BML_SUBJECT in r and BML_OBJECT in r]
    base = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
    return Template(base, "\n".join(lines) + "\n", len(triples), len(lines), groups, shared, pairs)


def _renamed_literal(lit: ox.Literal, suffix: str) -> ox.Literal:
    if lit.language:
        return ox.Literal(lit.value + suffix, language=lit.language)
    return ox.Literal(lit.value + suffix, datatype=lit.datatype)


def _owned_blank_nodes(triples: list[ox.Triple], copied: set[str]) -> set[str]:
    """Blank nodes reachable from a copied entity (its OWL restrictions, lists): copied with it."""
    refs: dict[str, set[str]] = {}
    for t in triples:
        if isinstance(t.object, ox.BlankNode):
            refs.setdefault(t.subject.value, set()).add(t.object.value)
    owned, todo = set(), [s for s in copied if s in refs]
    while todo:
        for b in refs.get(todo.pop(), ()):
            if b not in owned:
                owned.add(b)
                todo.append(b)
    return owned


def rewire(template: Template, rng: random.Random, k: int) -> dict[str, str]:
    """Slot values of copy ``k``: each group's curated terms shuffled, with no claim about itself."""
    values: dict[str, str] = {}
    for slot_names, terms in template.groups:
        order = list(terms)
        rng.shuffle(order)
        for slot, iri in zip(slot_names, order):
            values[slot] = f"<{iri}-s{k}>" if iri not in template.shared else f"<{iri}>"
    _untie(template, values)
    return values


def _untie(template: Template, values: dict[str, str]) -> None:
    """Swap object terms between claims of one group until no claim has subject == object."""
    group_of = {slot: names for names, _terms in template.groups for slot in names}
    subject_of = {o: s for s, o in template.pairs}
    for subject_slot, object_slot in template.pairs:
        if values[subject_slot] != values[object_slot]:
            continue
        for other in group_of[object_slot]:
            partner = subject_of.get(other)
            if values[other] != values[subject_slot] and (
                    partner is None or values[partner] != values[object_slot]):
                values[object_slot], values[other] = values[other], values[object_slot]
                break


def copies(template: Template, factor: int, seed: int = DEFAULT_SEED):
    """The scaled graph as N-Triples chunks: the curated graph, then each synthetic copy in turn."""
    if factor < 1:
        raise ValueError(f"factor must be at least 1, not {factor}")
    rng = random.Random(seed)
    yield template.base_nt
    for k in range(1, factor):
        yield template.copy_nt.format(k=k, **rewire(template, rng, k))


def generate(factor: int, seed: int = DEFAULT_SEED, kg: KnowledgeGraph | None = None,
             template: Template | None = None) -> str:
    """The scaled graph as N-Triples text: the curated graph plus ``factor - 1`` rewired synthetic copies."""
    tpl = template or build_template(curated(kg if kg is not None else load()))
    return "".join(copies(tpl, factor, seed))


def write(path: Path | str, factor: int, seed: int = DEFAULT_SEED, kg: KnowledgeGraph | None = None,
          template: Template | None = None) -> int:
    """Write the scaled graph to ``path`` (N-Triples), one copy at a time; returns the triples written."""
    tpl = template or build_template(curated(kg if kg is not None else load()))
    with open(path, "w", encoding="utf-8") as handle:
        for chunk in copies(tpl, factor, seed):
            handle.write(chunk)
    return tpl.base_triples + (factor - 1) * tpl.copy_triples
