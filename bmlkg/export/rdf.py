"""Deterministic RDF exports: one writer per format, and one format table the CLI and tests iterate.

Same input, byte-identical output, in any process and under any hash seed: blank nodes are relabelled
canonically (rdflib's ``to_canonical_graph``), triples are sorted, and each format is written from that
sorted list by pyoxigraph (or, for JSON-LD, by a small writer with sorted keys and an inline context).
All files of one export are staged and moved into place together (see :mod:`bmlkg.fileio`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pyoxigraph as ox

from ..store.constants import EXPORT_STEM, JSONLD_CONTEXT, MANIFEST, MAPPINGS_SUFFIX
from ..store.fileio import publish
from ..store.graph import Store
from ..store.vocab import PREFIXES, curie

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def canonical_triples(kg: Store) -> list[ox.Triple]:
    """The graph's triples with canonical blank-node labels, sorted by their N-Triples form.

    The blank nodes of an OWL ontology (restrictions, class expressions, RDF lists, AllDifferent axioms)
    are trees, each hanging from one named node or standing alone as an axiom, so a label made from a node's
    position (the named node and the chain of predicates down to it) and its content is canonical, and costs
    time linear in the graph.
    Graphs whose blank nodes are not such trees (shared or cyclic blank nodes, or two identical siblings)
    fall back to rdflib's general canonicalisation, which is correct but superlinear.
    """
    labels = _tree_labels(kg.triples)
    if labels is None:
        return _rdflib_canonical(kg)

    def term(t):
        return ox.BlankNode(labels[t.value]) if isinstance(t, ox.BlankNode) else t

    triples = {ox.Triple(term(t.subject), t.predicate, term(t.object)) for t in kg.triples}
    return sorted(triples, key=str)


def _tree_labels(triples: list[ox.Triple]) -> dict[str, str] | None:
    """Blank-node id -> canonical label when every blank node sits in a tree below a named node."""
    out: dict[str, list[ox.Triple]] = {}
    parent: dict[str, tuple[object, str]] = {}
    for t in triples:
        if isinstance(t.subject, ox.BlankNode):
            out.setdefault(t.subject.value, []).append(t)
        if isinstance(t.object, ox.BlankNode):
            if t.object.value in parent:
                return None  # a blank node used twice: not a tree
            parent[t.object.value] = (t.subject, t.predicate.value)
    nodes = set(out) | set(parent)
    if not nodes:
        return {}
    content = _content_hashes(nodes, out)
    if content is None:
        return None  # a cycle of blank nodes
    paths: dict[str, object] = {}
    labels = {}
    for b in sorted(nodes):
        h = _path_hasher(b, parent, content, paths)
        if h is None:
            return None  # a cycle of blank nodes
        h = h.copy()
        h.update(f" {content[b]}".encode("utf-8"))
        labels[b] = "c" + h.hexdigest()[:32]
    if len(set(labels.values())) != len(labels):
        return None  # identical siblings: only the general algorithm can tell them apart
    return labels


def _content_hashes(nodes, out: dict[str, list[ox.Triple]]) -> dict[str, str] | None:
    """Each blank node's content hash (its triples, children by their hashes), computed bottom-up without
    recursion, so a tree of any depth is labelled in linear time; None when the blank nodes form a cycle."""
    content: dict[str, str] = {}
    visiting: set[str] = set()
    for root in sorted(nodes):
        if root in content:
            continue
        stack = [(root, False)]
        while stack:
            b, expanded = stack.pop()
            if expanded:
                parts = []
                for t in out.get(b, []):
                    obj = t.object
                    shown = "_:" + content[obj.value] if isinstance(obj, ox.BlankNode) else str(obj)
                    parts.append(f"{t.predicate} {shown}")
                content[b] = hashlib.sha256("\n".join(sorted(parts)).encode("utf-8")).hexdigest()
                visiting.discard(b)
                continue
            if b in content:
                continue
            if b in visiting:
                return None
            visiting.add(b)
            stack.append((b, True))
            for t in out.get(b, []):
                if isinstance(t.object, ox.BlankNode) and t.object.value not in content:
                    if t.object.value in visiting:
                        return None
                    stack.append((t.object.value, False))
    return content


def _path_hasher(b: str, parent: dict[str, tuple[object, str]], content: dict[str, str], paths: dict):
    """A SHA-256 state that has read ``b``'s position: the named node above its tree and the chain of
    predicates (and ancestors' contents) down to it. Built from the parent's state, so the whole tree costs
    linear time however deep it is; None on a cycle."""
    chain, seen, x = [], set(), b
    while x not in paths:
        if x in seen:
            return None
        seen.add(x)
        chain.append(x)
        up = parent.get(x)
        if up is None or not isinstance(up[0], ox.BlankNode):
            break
        x = up[0].value
    for node in reversed(chain):
        up = parent.get(node)
        if up is None:
            h = hashlib.sha256(b"root")  # an axiom node such as owl:AllDifferent: labelled by its content alone
        elif isinstance(up[0], ox.BlankNode):
            h = paths[up[0].value].copy()
            h.update(f" <{up[1]}> {content[up[0].value]}".encode("utf-8"))
        else:
            h = hashlib.sha256(f"{up[0]} <{up[1]}>".encode("utf-8"))
        paths[node] = h
    return paths[b]


def _rdflib_canonical(kg: Store) -> list[ox.Triple]:
    from rdflib.compare import to_canonical_graph

    canon = to_canonical_graph(kg.rdflib_graph())
    lines = sorted(set(canon.serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines()))
    data = "\n".join(line for line in lines if line.strip()) + "\n"
    return [q.triple for q in ox.parse(data.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)]


def graph_sha256(triples: list[ox.Triple]) -> str:
    """Fingerprint of a graph: SHA-256 of its sorted canonical N-Triples."""
    return hashlib.sha256(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)).hexdigest()


def _turtle(triples: list[ox.Triple]) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)


def _rdfxml(triples: list[ox.Triple]) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.RDF_XML, prefixes=PREFIXES)


def _ntriples(triples: list[ox.Triple]) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)


def jsonld_context() -> dict:
    """The JSON-LD context: the project prefix map, nothing remote."""
    return {"@context": {p: ns for p, ns in sorted(PREFIXES.items())}}


def _jsonld_term(term) -> dict | str:
    if isinstance(term, ox.NamedNode):
        return {"@id": curie(term.value, PREFIXES)}
    if isinstance(term, ox.BlankNode):
        return {"@id": f"_:{term.value}"}
    value: dict = {"@value": term.value}
    if term.language:
        value["@language"] = term.language
    elif term.datatype.value != XSD_STRING:
        value["@type"] = curie(term.datatype.value, PREFIXES)
    return value


def _jsonld(triples: list[ox.Triple]) -> bytes:
    """Compact-IRI JSON-LD with the context inline (readable offline by any JSON-LD 1.1 processor)."""
    nodes: dict[str, dict] = {}
    for t in triples:
        sid = curie(t.subject.value, PREFIXES) if isinstance(t.subject, ox.NamedNode) else f"_:{t.subject.value}"
        node = nodes.setdefault(sid, {"@id": sid})
        if t.predicate.value == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type" and isinstance(
            t.object, (ox.NamedNode,)
        ):
            node.setdefault("@type", []).append(curie(t.object.value, PREFIXES))
        else:
            node.setdefault(curie(t.predicate.value, PREFIXES), []).append(_jsonld_term(t.object))
    graph = []
    for sid in sorted(nodes):
        node = nodes[sid]
        for key, values in node.items():
            if isinstance(values, list):
                values.sort(key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
        graph.append(node)
    doc = {**jsonld_context(), "@graph": graph}
    return (json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Format:
    """One export format: file name, media type, what reads it, and the writer."""

    name: str
    filename: str
    media_type: str
    rdflib_format: str | None
    description: str
    writer: Callable[[list[ox.Triple]], bytes]


FORMATS: tuple[Format, ...] = (
    Format("turtle", f"{EXPORT_STEM}.ttl", "text/turtle", "turtle",
           "Turtle, with the project prefixes; the most readable full release", _turtle),
    Format("rdfxml", f"{EXPORT_STEM}.owl", "application/rdf+xml", "xml",
           "RDF/XML (OWL), for Protégé, OWL API and ROBOT", _rdfxml),
    Format("jsonld", f"{EXPORT_STEM}.jsonld", "application/ld+json", "json-ld",
           f"JSON-LD 1.1 with the context inline (the same context is in {JSONLD_CONTEXT})", _jsonld),
    Format("ntriples", f"{EXPORT_STEM}.nt", "application/n-triples", "nt",
           "N-Triples, one triple a line, sorted: diff-friendly and streamable", _ntriples),
)


def readme_text(kg: Store, extra: list[tuple[str, str, str]]) -> str:
    counts = kg.counts()
    rows = [(f.filename, f.media_type, f.description) for f in FORMATS]
    rows += [
        (JSONLD_CONTEXT, "application/ld+json", "the JSON-LD context (prefix map) of bmlkg.jsonld, for reuse"),
        (f"{EXPORT_STEM}{MAPPINGS_SUFFIX}", "text/tab-separated-values",
         "SSSOM mapping table: cross-references to MONDO, HP, UBERON, CL, GO, ChEBI, NCIT, STATO, OBI"),
        (MANIFEST, "application/json", "release manifest: SHA-256, size and triple count of every file, versionIRI"),
    ]
    rows += extra
    table = "\n".join(f"| `{name}` | {media} | {what} |" for name, media, what in rows)
    return f"""# bmlkg exports

Generated by `bmlkg build` from the sources in `ontology/`; never edit these files by hand. They are
deterministic (the same sources give byte-identical files) and committed; a test fails when they are stale.

- Ontology IRI: `https://w3id.org/bmlkg/bmlkg.owl`
- Version IRI: `{kg.version_iri()}` (version {kg.version()})
- Licence: CC BY 4.0 (`https://creativecommons.org/licenses/by/4.0/`)
- Content: {counts['triples']} triples, {counts['classes']} classes, {counts['claims']} claims,
  {counts['sources']} sources. The exports are the reasoned release: HermiT's inferred subclass links and the
  term edges derived from supporting claims are included, and each claim's derived certainty level
  (bml:derivedCertainty, from the graded rule stated with bml:CertaintyLevel).

| file | media type | what it is |
|---|---|---|
{table}

`html/` (not committed) holds the interactive teaching views and the ontology documentation that
`bmlkg build` renders; open `html/index.html` in a browser, no network needed.
"""


def export_contents(kg: Store, extra_files: dict[str, tuple[bytes, str, str]] | None = None,
                    progress: Callable[[str], None] | None = None) -> dict[str, bytes]:
    """Every export file (relative name -> bytes): each RDF format, the context, mappings, README, MANIFEST.

    ``extra_files`` maps a relative file name to (bytes, media type, description), for writers defined in
    other modules (graph formats).
    """
    say = progress or (lambda _msg: None)
    say("canonicalising blank nodes and sorting triples")
    triples = canonical_triples(kg)
    contents: dict[str, bytes] = {}
    for fmt in FORMATS:
        say(f"writing {fmt.filename}")
        contents[fmt.filename] = fmt.writer(triples)
    contents[JSONLD_CONTEXT] = (json.dumps(jsonld_context(), indent=1, sort_keys=True) + "\n").encode("utf-8")
    mapping_files = [f.path for f in kg.files if f.path.name.endswith(MAPPINGS_SUFFIX)]
    if mapping_files:
        contents[f"{EXPORT_STEM}{MAPPINGS_SUFFIX}"] = b"".join(p.read_bytes() for p in mapping_files)
    extra_rows = []
    for name, (data, media, what) in sorted((extra_files or {}).items()):
        contents[name] = data
        if what:  # files without a description (e.g. the conformance queries) are listed in MANIFEST.json only
            extra_rows.append((name, media, what))
    contents["README.md"] = readme_text(kg, extra_rows).encode("utf-8")
    manifest = {
        "ontology": "https://w3id.org/bmlkg/bmlkg.owl",
        "versionIRI": kg.version_iri(),
        "version": kg.version(),
        "graph_sha256": graph_sha256(triples),
        "triples": len(triples),
        "files": {
            name: {
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
                **({"triples": len(triples)} if any(f.filename == name for f in FORMATS) else {}),
            }
            for name, data in sorted(contents.items())
        },
    }
    contents[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
    return contents


def export(kg: Store, out_dir: Path | str, extra_files: dict[str, tuple[bytes, str, str]] | None = None,
           progress: Callable[[str], None] | None = None, force: bool = False) -> list[Path]:
    """Write every export file into ``out_dir`` as one release (see :func:`bmlkg.store.fileio.publish`:
    only files an earlier bmlkg build recorded are replaced; a foreign folder is refused unless ``force``).
    Returns the paths written."""
    contents = export_contents(kg, extra_files, progress)
    return publish(out_dir, {MANIFEST: contents}, force=force)
