"""``bmlkg diff OLD NEW``: statements added and removed between two builds, in readable form.

OLD and NEW are each an export file (``.ttl``, ``.nt``, ``.owl``/``.rdf``, ``.jsonld``) or a source folder.
Blank nodes (OWL restrictions, lists) are compared after canonical relabelling, so an unchanged axiom is not
reported as removed and added again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..store.errors import InputError
from ..store.graph import load, parse_source
from ..store.vocab import curie


@dataclass
class GraphDiff:
    added: list[tuple[str, str, str]] = field(default_factory=list)
    removed: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not self.added and not self.removed

    def lines(self) -> list[str]:
        out = [f"- {s} {p} {o}" for s, p, o in self.removed]
        out += [f"+ {s} {p} {o}" for s, p, o in self.added]
        return out

    def summary(self) -> str:
        return f"{len(self.added)} statement(s) added, {len(self.removed)} removed"


def _triples_of(path: Path) -> set[tuple[str, str, str]]:
    import pyoxigraph as ox
    import rdflib
    from rdflib.compare import to_canonical_graph

    if path.is_dir():
        kg = load(path)
        data = ox.serialize(kg.triples, format=ox.RdfFormat.N_TRIPLES)
    elif path.exists():
        if path.suffix not in (".ttl", ".nt", ".owl", ".rdf", ".jsonld"):
            raise InputError(f"{path}: unknown RDF file type (use .ttl, .nt, .owl, .rdf or .jsonld, or a source folder)")
        data = ox.serialize(parse_source(path), format=ox.RdfFormat.N_TRIPLES)
    else:
        raise InputError(f"{path}: no such file or folder")
    graph = rdflib.Graph().parse(data=data.decode("utf-8"), format="nt")
    canon = to_canonical_graph(graph)
    return {(_show(s), _show(p), _show(o)) for s, p, o in canon}


def _show(term) -> str:
    import rdflib

    if isinstance(term, rdflib.URIRef):
        short = curie(str(term))
        return short if short != str(term) else f"<{term}>"
    if isinstance(term, rdflib.BNode):
        return f"_:{str(term)[:12]}"
    return term.n3()


def diff(old: Path | str, new: Path | str) -> GraphDiff:
    a, b = _triples_of(Path(old)), _triples_of(Path(new))
    return GraphDiff(added=sorted(b - a), removed=sorted(a - b))
