"""Load the ontology sources once into one graph; labels and term lookup.

The loader reads every source file of a folder (Turtle, N-Triples, RDF/XML, JSON-LD and the SSSOM mapping
table), refuses bad input with a one-line ``file:line: reason`` error, derives the term edges from supporting
claims, and keeps two views of the same triples:

* ``triples``: the parsed triples, lexical forms untouched (``0.10`` stays ``0.10``); exports use these;
* ``store``: an in-memory Oxigraph store indexing the same triples; queries use it.
"""

from __future__ import annotations

import csv
import os
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pyoxigraph as ox

from .constants import MAPPINGS_SUFFIX, ONTOLOGY_DIR, SHAPES_FILE, SOURCE_SUFFIXES
from .errors import InputError
from .vocab import BASE, DEFINITION, ONTOLOGY_IRI, PREFIXES, SYNONYM_PROPERTIES, expand

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
OWL_IMPORTS = ox.NamedNode("http://www.w3.org/2002/07/owl#imports")
MAPPING_PREDICATES = {
    "skos:exactMatch", "skos:closeMatch", "skos:broadMatch", "skos:narrowMatch", "skos:relatedMatch",
}
SSSOM_COLUMNS = ("subject_id", "predicate_id", "object_id")
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)

DERIVE_EDGES = """
PREFIX bml: <https://w3id.org/bmlkg/>
SELECT DISTINCT ?s ?p ?o WHERE {
  ?claim bml:subjectTerm ?s ; bml:predicateTerm ?p ; bml:objectTerm ?o ; bml:direction bml:Supports .
  FILTER(isIRI(?s) && isIRI(?p) && isIRI(?o))
}
"""

#: Every labelled node's labels, first label per IRI kept (:meth:`Store.labels`; the classroom page runs it too).
LABELS_QUERY = "SELECT ?s ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } ORDER BY ?s ?l"
#: Labels and synonyms of the graph's own classes (:meth:`Store.name_index`; the classroom page runs it too).
NAMES_QUERY = f"""
SELECT ?s ?name ?kind WHERE {{
  ?s a <http://www.w3.org/2002/07/owl#Class> .
  FILTER(STRSTARTS(STR(?s), "{BASE}"))
  {{ ?s <http://www.w3.org/2000/01/rdf-schema#label> ?name BIND("label" AS ?kind) }}
  UNION {{ VALUES ?p {{ {" ".join(f"<{p}>" for p in SYNONYM_PROPERTIES)} }} ?s ?p ?name BIND(STRAFTER(STR(?p), "#") AS ?kind) }}
}}"""

# The second certainty axis (ontology/bmlkg.ttl, bml:CertaintyLevel): start from the claim's design
# (bml:startingCertainty), go down by the reported certainty's bml:downgradeSteps (never below 1), cap at its
# bml:certaintyCeiling; with no starting level the ceiling is the level; rank 0 or no rank means unrated.
DERIVE_CERTAINTY = """
PREFIX bml: <https://w3id.org/bmlkg/>
SELECT DISTINCT ?claim ?level WHERE {
  ?claim bml:subjectTerm ?subject .
  OPTIONAL { ?claim bml:studyDesign/bml:startingCertainty/bml:levelRank ?start }
  OPTIONAL { ?claim bml:certainty ?reported .
             OPTIONAL { ?reported bml:downgradeSteps ?steps }
             OPTIONAL { ?reported bml:certaintyCeiling ?ceiling } }
  BIND(IF(BOUND(?start), ?start - COALESCE(?steps, 0), ?ceiling) AS ?lowered)
  BIND(IF(BOUND(?start) && ?lowered < 1, 1, ?lowered) AS ?floored)
  BIND(IF(BOUND(?ceiling) && ?ceiling < ?floored, ?ceiling, ?floored) AS ?rank)
  ?level a bml:CertaintyLevel ; bml:levelRank ?levelRank .
  FILTER(BOUND(?rank) && ?levelRank = ?rank)
  FILTER(isIRI(?claim))
}
"""
DERIVED_CERTAINTY = ox.NamedNode("https://w3id.org/bmlkg/derivedCertainty")


@dataclass(frozen=True)
class SourceFile:
    """One file the graph was loaded from."""

    path: Path
    triples: int


@dataclass
class Term:
    """A resolved term: its IRI, label and the text that matched."""

    iri: str
    label: str
    matched: str


def source_files(source_dir: Path | str | None = None) -> list[Path]:
    """The source files of a folder, sorted; shapes are loaded separately by the checks."""
    folder = Path(source_dir) if source_dir is not None else ONTOLOGY_DIR
    if not folder.exists():
        raise InputError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder (--source takes the folder holding the .ttl files)")
    files = []
    for p in sorted(folder.iterdir()):
        if p.name == SHAPES_FILE or not (p.suffix in SOURCE_SUFFIXES or p.name.endswith(MAPPINGS_SUFFIX)):
            continue
        problem = _not_a_regular_file(p)
        if problem:
            raise InputError(f"{p}: {problem}; a source must be a regular file (move it out of {folder})")
        files.append(p)
    if not any(p.suffix in SOURCE_SUFFIXES for p in files):
        raise InputError(f"{folder}: no ontology source files (*.ttl, *.nt, *.owl, *.rdf, *.jsonld)")
    return files


def _not_a_regular_file(path: Path) -> str | None:
    """Why ``path`` is not a regular file bmlkg can read (a dangling link, a folder, a FIFO…), or None."""
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            return f"is a dangling symbolic link (to {os.readlink(path)}, which does not exist)"
        return "no such file"
    except OSError as exc:
        return f"cannot read: {exc.strerror}"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
    return f"is {kind}, not a regular file"


def read_source_bytes(path: Path) -> bytes:
    """Read a source file, refusing what no parser should see: missing, empty, binary, DOCTYPE XML.

    A UTF-8 byte-order mark at the start is dropped. In RDF/XML, DOCTYPE and ENTITY declarations are refused
    wherever they are, and element nesting is bounded (:func:`check_xml`).
    """
    problem = _not_a_regular_file(path)
    if problem:
        raise InputError(f"{path}: {problem}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise InputError(f"{path}: file is empty")
    if b"\x00" in data[:65536]:
        raise InputError(f"{path}: binary file, not RDF text")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: not UTF-8 text (byte {exc.start})") from exc
    if path.suffix in (".owl", ".rdf"):
        check_xml(path, data)
    if path.suffix == ".jsonld":
        remote = _REMOTE_CONTEXT.search(data)
        if remote:
            line = data[: remote.start()].count(b"\n") + 1
            raise InputError(f"{path}:{line}: remote JSON-LD @context is not fetched (offline); inline the context")
    return data


_REMOTE_CONTEXT = re.compile(rb'"@(?:context|import)"\s*:\s*(?:\[\s*)?"(?:https?|ftp|file)://', re.IGNORECASE)


def check_xml(path: Path, data: bytes) -> None:
    """Refuse DOCTYPE and ENTITY declarations anywhere in an XML document, and nesting deeper than
    :data:`bmlkg.store.limits.MAX_XML_DEPTH` (a streaming pass with expat, before any RDF parser runs)."""
    import xml.parsers.expat

    from .limits import MAX_XML_DEPTH

    found = _DOCTYPE.search(data)
    if found:
        line = data[: found.start()].count(b"\n") + 1
        raise InputError(f"{path}:{line}: XML with a DOCTYPE or ENTITY declaration is refused (entity expansion)")
    parser = xml.parsers.expat.ParserCreate()
    depth = [0]

    class _Deep(Exception):
        pass

    def start(_name, _attrs):
        depth[0] += 1
        if depth[0] > MAX_XML_DEPTH:
            raise _Deep

    def end(_name):
        depth[0] -= 1

    def declaration(*_args):
        raise _Deep("doctype")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = declaration
    parser.EntityDeclHandler = declaration
    try:
        for offset in range(0, len(data), 1 << 20):
            parser.Parse(data[offset:offset + (1 << 20)], False)
        parser.Parse(b"", True)
    except _Deep as exc:
        line = parser.CurrentLineNumber
        if exc.args:
            raise InputError(f"{path}:{line}: XML with a DOCTYPE or ENTITY declaration is refused (entity "
                             "expansion)") from None
        raise InputError(f"{path}:{line}: XML nested more than {MAX_XML_DEPTH} elements deep; refused (parsing time "
                         "grows with the square of the depth)") from None
    except xml.parsers.expat.ExpatError:
        return  # not well-formed: the RDF/XML parser reports it with its own line and column


def parse_source(path: Path) -> list[ox.Triple]:
    """Parse one RDF file into triples with a ``file:line:column: message`` error on bad syntax."""
    data = read_source_bytes(path)
    fmt = getattr(ox.RdfFormat, SOURCE_SUFFIXES[path.suffix])
    try:
        return [q.triple for q in ox.parse(data, format=fmt, base_iri=BASE)]
    except SyntaxError as exc:
        if "LoadDocumentCallback" in str(exc):
            found = re.search(rb'"@(?:context|import)"', data)
            line = data[: found.start()].count(b"\n") + 1 if found else exc.lineno or "?"
            raise InputError(f"{path}:{line}: remote JSON-LD @context is not fetched (offline); inline the "
                             "context") from None
        line = exc.lineno or "?"
        col = f":{exc.offset}" if exc.offset else ""
        message = str(exc.msg if hasattr(exc, "msg") else exc).split(": ", 1)[-1]
        raise InputError(f"{path}:{line}{col}: syntax error: {message}") from None


def parse_mappings(path: Path) -> list[ox.Triple]:
    """Turn an SSSOM TSV table into skos mapping triples, with ``file:line`` errors for bad rows."""
    text = read_source_bytes(path).decode("utf-8")
    lines = text.splitlines()
    body_start = next((i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")), None)
    if body_start is None:
        return []
    reader = csv.DictReader(io.StringIO("\n".join(lines[body_start:])), delimiter="\t")
    missing = [c for c in SSSOM_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{path}:{body_start + 1}: missing SSSOM column(s): {', '.join(missing)}")
    triples = []
    for offset, row in enumerate(reader, start=2):
        lineno = body_start + offset
        subject, predicate, obj = [(row.get(c) or "").strip() for c in SSSOM_COLUMNS]
        if not subject and not predicate and not obj:
            continue
        if predicate not in MAPPING_PREDICATES:
            raise InputError(
                f"{path}:{lineno}: predicate_id {predicate!r} is not one of {', '.join(sorted(MAPPING_PREDICATES))}"
            )
        if not subject.startswith("bml:"):
            raise InputError(f"{path}:{lineno}: subject_id {subject!r} must be a bml: CURIE")
        try:
            s, p, o = expand(subject), expand(predicate), expand(obj)
        except ValueError as exc:
            raise InputError(f"{path}:{lineno}: {exc}") from None
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*:[A-Za-z0-9_.\-]+", obj):
            raise InputError(f"{path}:{lineno}: object_id {obj!r} is not a well-formed CURIE")
        triples.append(ox.Triple(ox.NamedNode(s), ox.NamedNode(p), ox.NamedNode(o)))
    return triples


class Store:
    """The loaded graph. Build it with :func:`bmlkg.load`; every capability reads this one object."""

    def __init__(self, triples: list[ox.Triple], files: list[SourceFile], source_dir: Path, derived: int):
        self.triples = triples
        self.files = files
        self.source_dir = source_dir
        self.derived_edges = derived
        self.derived_certainty = 0
        self.store = ox.Store()
        self.store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
        self._labels: dict[str, str] | None = None
        self._names: dict[str, list[tuple[str, str]]] | None = None
        self._rdflib = None
        self.inferred: list[tuple[str, str]] = []

    # -- basic facts -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.triples)

    @property
    def shapes_path(self) -> Path:
        return self.source_dir / SHAPES_FILE

    def version_iri(self) -> str | None:
        rows = self.select(
            "SELECT ?v WHERE { <%s> <http://www.w3.org/2002/07/owl#versionIRI> ?v }" % ONTOLOGY_IRI
        )
        return rows[0]["v"] if rows else None

    def version(self) -> str | None:
        rows = self.select("SELECT ?v WHERE { <%s> <http://www.w3.org/2002/07/owl#versionInfo> ?v }" % ONTOLOGY_IRI)
        return rows[0]["v"] if rows else None

    def add_triples(self, triples: Iterable[ox.Triple]) -> int:
        """Add triples (e.g. HermiT's inferred subclass links) to both views; returns how many were new."""
        new = [t for t in triples if ox.Quad(t.subject, t.predicate, t.object) not in self.store]
        for t in new:
            self.store.add(ox.Quad(t.subject, t.predicate, t.object))
        self.triples.extend(new)
        self._rdflib = None
        self._labels = None
        self._names = None
        return len(new)

    # -- querying (internal: fixed queries written in this package) --------------------------
    def select(self, sparql: str) -> list[dict[str, str]]:
        """Run a SELECT written by this package (no user input) and return rows of plain strings."""
        result = self.store.query(sparql)
        names = [v.value for v in result.variables]
        rows = []
        for solution in result:
            row = {}
            for name in names:
                value = solution[name]
                if value is not None:
                    row[name] = value.value
            rows.append(row)
        return rows

    def counts(self) -> dict[str, int]:
        """Counts for the build summary and the README."""
        q = """
        PREFIX owl: <http://www.w3.org/2002/07/owl#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        PREFIX bml: <https://w3id.org/bmlkg/>
        PREFIX bibo: <http://purl.org/ontology/bibo/>
        SELECT
          (COUNT(DISTINCT ?c) AS ?classes) (COUNT(DISTINCT ?i) AS ?individuals)
          (COUNT(DISTINCT ?claim) AS ?claims) (COUNT(DISTINCT ?src) AS ?sources)
          (COUNT(DISTINCT ?doi) AS ?dois) (COUNT(DISTINCT ?stat) AS ?statistics)
        WHERE {
          { ?c a owl:Class FILTER(isIRI(?c) && STRSTARTS(STR(?c), "https://w3id.org/bmlkg/")) }
          UNION { ?i a owl:NamedIndividual }
          UNION { ?claim a/rdfs:subClassOf* bml:Claim }
          UNION { ?src a/rdfs:subClassOf* ?k VALUES ?k { bibo:Document bibo:AcademicArticle bibo:Webpage } }
          UNION { ?doi bibo:doi ?d }
          UNION { ?stat a bml:StatisticalClaim }
        }"""
        row = self.select(q)[0]
        out = {k: int(v) for k, v in row.items()}
        out["triples"] = len(self.triples)
        out["derived_edges"] = self.derived_edges
        out["derived_certainty"] = self.derived_certainty
        return out

    # -- labels and term resolution -----------------------------------------------------------
    def labels(self) -> dict[str, str]:
        """IRI -> English (or first) label, for every labelled node."""
        if self._labels is None:
            labels: dict[str, str] = {}
            for row in self.select(LABELS_QUERY):
                labels.setdefault(row["s"], row["l"])
            self._labels = labels
        return self._labels

    def label(self, iri: str) -> str:
        return self.labels().get(str(iri), _local_name(str(iri)))

    def definition(self, iri: str) -> str | None:
        rows = self.select(f"SELECT ?d WHERE {{ <{_safe_iri(iri)}> <{DEFINITION}> ?d }}")
        return rows[0]["d"] if rows else None

    def name_index(self) -> dict[str, list[tuple[str, str]]]:
        """Normalised name -> [(IRI, kind)] for labels and synonyms of terms (not claims or sources).

        Built once and cached (like :meth:`labels`): on a large merged graph it is the slow part of
        resolving a typed label (``make bench`` measured 25 s per resolution at 5.9M triples uncached).
        """
        if self._names is not None:
            return self._names
        index: dict[str, list[tuple[str, str]]] = {}
        for row in self.select(NAMES_QUERY):
            key = normalise(row["name"])
            entry = (row["s"], row["kind"])
            if entry not in index.setdefault(key, []):
                index[key].append(entry)
        for key in index:
            index[key].sort(key=lambda e: (e[1] != "label", e[1] != "hasExactSynonym", e[0]))
        self._names = index
        return index

    def resolve(self, text: str, parameter: str = "term") -> Term:
        """Resolve typed text (a label, synonym, CURIE or IRI) to one term of the graph.

        Matching is case-, whitespace- and British/American-spelling-insensitive. Unknown text raises
        :class:`InputError` naming the closest known labels and synonyms.
        """
        import difflib

        raw = str(text).strip()
        if not raw:
            raise InputError(f"{parameter}: empty value")
        labels = self.labels()
        if raw.startswith(("http://", "https://")) or re.fullmatch(r"[A-Za-z][\w.-]*:[\w.-]+", raw):
            try:
                iri = expand(raw)
            except ValueError:
                iri = None
            if iri and iri in labels:
                return Term(iri, labels[iri], raw)
        index = self.name_index()
        key = normalise(raw)
        if key in index:
            iri = index[key][0][0]
            return Term(iri, labels.get(iri, _local_name(iri)), raw)
        close = difflib.get_close_matches(key, list(index), n=5, cutoff=0.6)
        hint = "; did you mean: " + ", ".join(repr(c) for c in close) if close else ""
        raise InputError(f"{parameter}: unknown term {raw!r}{hint}")

    def rdflib_graph(self):
        """The same triples as an rdflib Graph (lexical forms kept), built once and cached."""
        if self._rdflib is None:
            import rdflib

            graph = rdflib.Graph()
            data = ox.serialize(self.triples, format=ox.RdfFormat.N_TRIPLES)
            graph.parse(data=data.decode("utf-8"), format="nt")
            for prefix, ns in PREFIXES.items():
                graph.bind(prefix, ns, override=True, replace=True)
            self._rdflib = graph
        return self._rdflib


def _input_rules() -> dict:
    """The text rules of ``ontology/input-rules.json`` (shared with the in-browser port): read once."""
    global _RULES
    if _RULES is None:
        import json

        _RULES = json.loads((ONTOLOGY_DIR / "input-rules.json").read_text(encoding="utf-8"))
    return _RULES


_RULES: dict | None = None


def normalise(text: str) -> str:
    """Case-, whitespace-, punctuation- and spelling-insensitive key (British and American spellings agree).

    The steps and the spelling pairs are data: ``normalise`` in ``ontology/input-rules.json``.
    """
    rules = _input_rules()["normalise"]
    key = text.casefold()
    for old, new in rules["replace"]:
        key = key.replace(old, new)
    key = " ".join(re.sub(r"[^\w\s" + re.escape(rules["keep_chars"]) + "]", " ", key).split())
    for british, american in rules["spellings"]:
        key = key.replace(british, american)
    return key


def _local_name(iri: str) -> str:
    return re.split(r"[/#]", iri)[-1]


def _safe_iri(iri: str) -> str:
    if not re.fullmatch(r"[^\s<>\"{}|^`\\]+", str(iri)):
        raise InputError(f"not a valid IRI: {iri!r}")
    return str(iri)


def load(source: Path | str | None = None, cls: type[Store] | None = None) -> Store:
    """Load every source file of ``source`` (default: the packaged ontology) into one graph.

    ``cls`` is the class to build (a subclass of :class:`Store`, such as the facade's
    :class:`bmlkg.KnowledgeGraph`). Raises :class:`bmlkg.InputError` naming the file and line for any bad input.
    """
    folder = Path(source) if source is not None else ONTOLOGY_DIR
    triples: list[ox.Triple] = []
    files: list[SourceFile] = []
    seen: set[ox.Triple] = set()
    for path in source_files(folder):
        parsed = parse_mappings(path) if path.name.endswith(MAPPINGS_SUFFIX) else parse_source(path)
        for t in parsed:
            if t.predicate == OWL_IMPORTS:
                raise InputError(
                    f"{path}: owl:imports <{t.object.value}> is not resolved (bmlkg reads nothing from the "
                    "network); copy the imported file into the source folder instead"
                )
        new = [t for t in parsed if t not in seen]
        seen.update(new)
        triples.extend(new)
        files.append(SourceFile(path, len(parsed)))
    kg = (cls or Store)(triples, files, folder, 0)
    edges = [
        ox.Triple(ox.NamedNode(r["s"]), ox.NamedNode(r["p"]), ox.NamedNode(r["o"]))
        for r in kg.select(DERIVE_EDGES)
    ]
    kg.derived_edges = kg.add_triples(sorted(edges, key=str))
    levels = [
        ox.Triple(ox.NamedNode(r["claim"]), DERIVED_CERTAINTY, ox.NamedNode(r["level"]))
        for r in kg.select(DERIVE_CERTAINTY)
    ]
    kg.derived_certainty = kg.add_triples(sorted(levels, key=str))
    return kg
