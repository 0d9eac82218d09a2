"""Human-readable documentation of every class and property (``exports/html/ontology/index.html``).

An equivalent of pyLODE's output written for this ontology. pyLODE 3.3.4 runs offline, but its page has no
place for what bmlkg's terms carry: definitions as ``IAO:0000115``, oboInOwl synonyms by scope, SKOS
mappings, or how a term is used by claims and term edges (it would also list every claim individual as a
class member). This page shows, for each class: label, IRI, kind, definition, synonyms, mappings,
superclasses, subclasses, restrictions and usage; for each property: label, IRI, type, definition,
super-properties, allowed subject and object roots and usage. It is one static page: no script, no
external resource, links only within the page; other IRIs are shown as text.

>>> import bmlkg
>>> "bone marrow lesion" in ontology_html(bmlkg.load())
True
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from ..store.graph import Store
from .netgraph import (
    DCT_SOURCE, KINDS, OWL, RDF_TYPE, RDFS_COMMENT, SUBCLASS, SUBPROPERTY, TERM_KINDS, Model, local_name, one_line,
)
from ..store.vocab import BASE, BML, ONTOLOGY_IRI, curie

TEMPLATES = Path(__file__).resolve().parent / "templates"
PROPERTY_TYPES = (
    (OWL + "AnnotationProperty", "annotation property"),
    (OWL + "ObjectProperty", "object property"),
    (OWL + "DatatypeProperty", "datatype property"),
)


def anchor(iri: str) -> str:
    """A fragment id for an IRI: its CURIE with every character outside [A-Za-z0-9_-] replaced."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", curie(iri))


class _Doc:
    def __init__(self, model: Model):
        self.m = model
        self.documented: set[str] = set()
        self.term_edge_properties = set(model.term_edge_properties)
        self.predicate_use: dict[str, int] = defaultdict(int)
        for t in model.kg.triples:
            self.predicate_use[t.predicate.value] += 1
        self.instances: dict[str, list[str]] = defaultdict(list)
        for s, pairs in model.out.items():
            for p, o in pairs:
                if p == RDF_TYPE:
                    self.instances[o.value].append(s)

    def ref(self, iri: str) -> dict:
        """A reference to another entity: a link when it is documented here, text otherwise."""
        return {"label": one_line(self.m.label(iri)), "curie": curie(iri),
                "href": f"#{anchor(iri)}" if iri in self.documented else None}

    def refs(self, iris) -> list[dict]:
        return sorted((self.ref(i) for i in set(iris)), key=lambda r: (r["label"].casefold(), r["curie"]))

    def grouped(self, pairs) -> list[dict]:
        """(property, term) pairs as one entry per property with its terms, sorted by label."""
        by_prop: dict[str, set[str]] = defaultdict(set)
        for p, t in pairs:
            by_prop[p].add(t)
        return [{"property": self.ref(p), "terms": self.refs(ts)}
                for p, ts in sorted(by_prop.items(), key=lambda kv: self.m.label(kv[0]).casefold())]

    def common(self, iri: str) -> dict:
        m = self.m
        synonyms: dict[str, list[str]] = defaultdict(list)
        for scope, text in m.synonyms(iri):
            synonyms[scope].append(one_line(text))
        return {
            "iri": iri, "curie": curie(iri), "anchor": anchor(iri), "label": one_line(m.label(iri)),
            "definition": one_line(m.definition(iri) or ""),
            "comments": [one_line(c) for c in m.values(iri, RDFS_COMMENT)],
            "synonyms": [{"scope": s, "texts": sorted(t)} for s, t in sorted(synonyms.items())],
            "mappings": [{"relation": rel, "target": curie(t)} for rel, t in m.mappings(iri)],
            "sources": sorted(m.citation(s) for s in m.values(iri, DCT_SOURCE)),
            "deprecated": m.deprecated(iri),
        }

    def klass(self, iri: str) -> dict:
        m = self.m
        entry = self.common(iri)
        kind = m.kind_of(iri)
        subject = sum(1 for c in m.claims_by_term.get(iri, []) if c.subject == iri)
        obj = sum(1 for c in m.claims_by_term.get(iri, []) if c.object == iri)
        out_edges = [(p, o) for s, p, o in m.term_edges if s == iri]
        in_edges = [(s, p) for s, p, o in m.term_edges if o == iri]
        entry.update({
            "kind": KINDS[kind].label if kind else "schema class",
            "superclasses": self.refs(p for p in (m.hierarchy.successors(iri) if iri in m.hierarchy else ())),
            "subclasses": self.refs(p for p in (m.hierarchy.predecessors(iri) if iri in m.hierarchy else ())),
            "restrictions": [{"property": self.ref(p), "value": self.ref(v)}
                             for p, v in sorted(set(r for pp, o in m.out.get(iri, ()) if pp == SUBCLASS
                                                    for r in m._restriction(o)))],
            "definition_axioms": [{"property": self.ref(p), "value": self.ref(v)}
                                  for p, v in m.defining_restrictions(iri)],
            "usage": {
                "claims_subject": subject, "claims_object": obj,
                "claims_other": len(m.claims_by_term.get(iri, [])) - subject - obj,
                "instances": self.refs(self.instances.get(iri, []))[:40],
                "n_instances": len(self.instances.get(iri, [])),
                "out": self.grouped(out_edges),
                "in": self.grouped((p, s) for s, p in in_edges),
            },
        })
        return entry

    def prop(self, iri: str, type_label: str) -> dict:
        m = self.m
        entry = self.common(iri)
        claims = sum(1 for c in m.claims.values() if c.predicate == iri)
        entry.update({
            "type": type_label + (" (term edge)" if iri in self.term_edge_properties else ""),
            "superproperties": self.refs(m.values(iri, SUBPROPERTY)),
            "subject_roots": self.refs(m.values(iri, str(BML.subjectRoot))),
            "object_roots": self.refs(m.values(iri, str(BML.objectRoot))),
            "domain": self.refs(m.values(iri, "http://www.w3.org/2000/01/rdf-schema#domain")),
            "range": self.refs(m.values(iri, "http://www.w3.org/2000/01/rdf-schema#range")),
            "usage": {"triples": self.predicate_use.get(iri, 0), "claims": claims},
        })
        return entry


def _class_group(model: Model, iri: str) -> str:
    kind = model.kind_of(iri)
    return KINDS[kind].label if kind in KINDS else "schema and value-set classes"


def document(model: Model) -> dict:
    """The documentation as plain data: ontology header, class groups, property groups."""
    doc = _Doc(model)
    classes = [c for c in model.classes if model.first(c, "http://www.w3.org/2000/01/rdf-schema#label")]
    external_classes = sorted(
        s for s, pairs in model.out.items() if not s.startswith(BASE)
        and any(p == RDF_TYPE and o.value == OWL + "Class" for p, o in pairs)
    )
    properties: list[tuple[str, str]] = []
    for type_iri, type_label in PROPERTY_TYPES:
        for s in sorted(doc.instances.get(type_iri, [])):
            if s not in {p for p, _ in properties}:
                properties.append((s, type_label))
    doc.documented = set(classes) | set(external_classes) | {p for p, _ in properties}
    order = [k.label for k in TERM_KINDS] + ["schema and value-set classes"]
    groups: dict[str, list[dict]] = defaultdict(list)
    for c in classes + external_classes:
        groups[_class_group(model, c)].append(doc.klass(c))
    class_groups = [{"title": title, "anchor": "kind-" + re.sub(r"[^a-z0-9]+", "-", title),
                     "entries": sorted(groups[title], key=lambda e: e["label"].casefold())}
                    for title in order if groups.get(title)]
    prop_groups = []
    for title, test in (("term edges (derived from claims)", lambda p, t: p in doc.term_edge_properties),
                        ("other annotation properties", lambda p, t: t == "annotation property"
                         and p not in doc.term_edge_properties),
                        ("object properties", lambda p, t: t == "object property"),
                        ("datatype properties", lambda p, t: t == "datatype property")):
        entries = [doc.prop(p, t) for p, t in properties if test(p, t)]
        if entries:
            prop_groups.append({"title": title, "anchor": "props-" + re.sub(r"[^a-z0-9]+", "-", title),
                                "entries": sorted(entries, key=lambda e: e["label"].casefold())})
    header = {
        "iri": ONTOLOGY_IRI, "version_iri": model.kg.version_iri() or "", "version": model.kg.version() or "",
        "title": one_line(model.first(ONTOLOGY_IRI, "http://purl.org/dc/terms/title") or "bmlkg"),
        "description": one_line(model.first(ONTOLOGY_IRI, "http://purl.org/dc/terms/description") or ""),
        "license": model.first(ONTOLOGY_IRI, "http://purl.org/dc/terms/license") or "",
        "n_classes": sum(len(g["entries"]) for g in class_groups),
        "n_properties": sum(len(g["entries"]) for g in prop_groups),
    }
    return {"header": header, "class_groups": class_groups, "property_groups": prop_groups}


def ontology_html(kg: Store | Model, index: str | None = None) -> str:
    """The documentation page as HTML text."""
    model = kg if isinstance(kg, Model) else Model(kg)
    env = Environment(loader=ChoiceLoader([FileSystemLoader(str(TEMPLATES))]), autoescape=True,
                      undefined=StrictUndefined, keep_trailing_newline=True)
    return env.get_template("ontology.html").render(doc=document(model), index=index, local_name=local_name)
