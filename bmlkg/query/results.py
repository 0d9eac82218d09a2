"""SPARQL query results as one engine-neutral model, and their serialisations.

Every engine (embedded Oxigraph, rdflib, a remote endpoint) turns its answer into a :class:`Result`:
the projected variables and, per row, an RDF term per bound variable (:class:`Cell`, the model of the
W3C SPARQL 1.1 Query Results JSON format). From it come

* ``rows()``: plain Python rows (``str``, ``int``, ``Decimal``, ``float``, ``bool``) that pandas takes;
* ``to_json()``: W3C SPARQL 1.1 Query Results JSON, readable by any SPARQL tool;
* ``to_csv()`` / ``to_tsv()``: the W3C SPARQL 1.1 Query Results CSV and TSV formats;
* ``to_table()``: an aligned text table for people, IRIs shortened to CURIEs.

``from_json`` reads the JSON format back with strict checks, so a truncated or malformed answer from an
endpoint is refused as a whole instead of giving partial rows.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from ..store.vocab import curie

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
INTEGER_TYPES = {
    XSD + t for t in (
        "integer", "int", "long", "short", "byte", "nonNegativeInteger", "nonPositiveInteger",
        "positiveInteger", "negativeInteger", "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte",
    )
}
DECIMAL_TYPE = XSD + "decimal"
FLOAT_TYPES = {XSD + "double", XSD + "float"}
BOOLEAN_TYPE = XSD + "boolean"
STRING_TYPE = XSD + "string"
NUMERIC_TYPES = INTEGER_TYPES | FLOAT_TYPES | {DECIMAL_TYPE}
TABLE_CELL_MAX = 70


class ResultsFormatError(ValueError):
    """A results document that does not follow the SPARQL 1.1 Query Results JSON format."""


@dataclass(frozen=True)
class Cell:
    """One RDF term in a result row: ``type`` is ``uri``, ``literal`` or ``bnode`` (as in the JSON format)."""

    type: str
    value: str
    datatype: str | None = None
    lang: str | None = None

    # -- conversions ---------------------------------------------------------------------------
    def to_python(self):
        """The plain Python value: IRIs and strings as ``str``, numbers as ``int``/``Decimal``/``float``."""
        if self.type == "bnode":
            return "_:" + self.value
        if self.type != "literal" or self.datatype is None:
            return self.value
        try:
            if self.datatype in INTEGER_TYPES:
                return int(self.value)
            if self.datatype == DECIMAL_TYPE:
                return Decimal(self.value)
            if self.datatype in FLOAT_TYPES:
                return float(self.value)
        except (ValueError, InvalidOperation):
            return self.value
        if self.datatype == BOOLEAN_TYPE:
            return self.value.strip() in ("true", "1")
        return self.value

    def to_json(self) -> dict:
        out = {"type": self.type, "value": self.value}
        if self.lang:
            out["xml:lang"] = self.lang
        elif self.datatype and self.datatype != STRING_TYPE:
            out["datatype"] = self.datatype
        return out

    def to_ntriples(self) -> str:
        """The term in N-Triples syntax (used by the TSV format)."""
        if self.type == "uri":
            return f"<{self.value}>"
        if self.type == "bnode":
            return f"_:{self.value}"
        text = '"' + _escape(self.value) + '"'
        if self.lang:
            return f"{text}@{self.lang}"
        if self.datatype and self.datatype != STRING_TYPE:
            return f"{text}^^<{self.datatype}>"
        return text

    def display(self) -> str:
        """Short human form: CURIEs for IRIs, the lexical form for literals."""
        if self.type == "uri":
            return curie(self.value)
        if self.type == "bnode":
            return "_:" + self.value
        return self.value

    @property
    def is_numeric(self) -> bool:
        return self.type == "literal" and self.datatype in NUMERIC_TYPES

    def comparable(self):
        """A key under which engines agree: numbers by value (``6.00`` = ``6``), strings without xsd:string."""
        if self.is_numeric:
            try:
                return ("number", Decimal(self.value))
            except InvalidOperation:
                return ("literal", self.value, self.datatype)
        if self.type == "literal" and self.datatype == BOOLEAN_TYPE and self.value in ("1", "0"):
            return ("literal", "true" if self.value == "1" else "false", BOOLEAN_TYPE, "")  # same xsd:boolean value
        if self.type == "literal":
            datatype = None if self.datatype in (STRING_TYPE, RDF_LANGSTRING) else self.datatype
            return ("literal", self.value, datatype, (self.lang or "").lower())
        if self.type == "bnode":
            return ("bnode",)  # blank node labels are local to each store
        return (self.type, self.value)

    @classmethod
    def from_json(cls, obj) -> "Cell":
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str) or not isinstance(obj.get("value"), str):
            raise ResultsFormatError(f"a binding is not an RDF term object: {str(obj)[:80]!r}")
        kind = obj["type"]
        if kind == "typed-literal":  # the SPARQL 1.0 JSON note's spelling
            kind = "literal"
        if kind not in ("uri", "literal", "bnode"):
            raise ResultsFormatError(f"unknown RDF term type {kind!r}")
        lang = obj.get("xml:lang")
        datatype = obj.get("datatype")
        if kind == "literal" and lang:
            datatype = RDF_LANGSTRING
        return cls(kind, obj["value"], datatype if kind == "literal" else None, lang if kind == "literal" else None)


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", "\\r").replace("\t", "\\t"))


@dataclass
class Result:
    """The answer to a SELECT (``variables`` and ``bindings``) or an ASK query (``boolean``)."""

    variables: list[str] = field(default_factory=list)
    bindings: list[dict[str, Cell]] = field(default_factory=list)
    boolean: bool | None = None

    def __len__(self) -> int:
        return len(self.bindings)

    def rows(self) -> list[dict]:
        """Plain rows: one dict per solution, unbound variables left out."""
        return [{v: row[v].to_python() for v in self.variables if v in row} for row in self.bindings]

    def comparable(self) -> list[tuple]:
        """Rows as tuples of engine-independent keys (see :meth:`Cell.comparable`), in order."""
        return [tuple(row[v].comparable() if v in row else None for v in self.variables) for row in self.bindings]

    # -- serialisations ------------------------------------------------------------------------
    def to_json(self) -> str:
        if self.boolean is not None:
            doc = {"head": {}, "boolean": self.boolean}
        else:
            doc = {
                "head": {"vars": list(self.variables)},
                "results": {"bindings": [
                    {v: row[v].to_json() for v in self.variables if v in row} for row in self.bindings
                ]},
            }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        if self.boolean is not None:
            writer.writerow(["boolean"])
            writer.writerow(["true" if self.boolean else "false"])
            return out.getvalue()
        writer.writerow(self.variables)
        for row in self.bindings:
            writer.writerow([_csv_value(row.get(v)) for v in self.variables])
        return out.getvalue()

    def to_tsv(self) -> str:
        if self.boolean is not None:
            return "?boolean\n" + ("true" if self.boolean else "false") + "\n"
        lines = ["\t".join("?" + v for v in self.variables)]
        for row in self.bindings:
            lines.append("\t".join(row[v].to_ntriples() if v in row else "" for v in self.variables))
        return "\n".join(lines) + "\n"

    def to_table(self) -> str:
        if self.boolean is not None:
            return ("yes" if self.boolean else "no") + "\n"
        if not self.variables:
            return "(no columns)\n"
        cells = [[_clip(row[v].display()) if v in row else "" for v in self.variables] for row in self.bindings]
        widths = [max([len(v)] + [len(r[i]) for r in cells]) for i, v in enumerate(self.variables)]
        line = lambda values: "  ".join(s.ljust(w) for s, w in zip(values, widths)).rstrip()  # noqa: E731
        out = [line(self.variables), line(["-" * w for w in widths])]
        out += [line(r) for r in cells]
        out.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
        return "\n".join(out) + "\n"

    def serialise(self, fmt: str) -> str:
        return {"json": self.to_json, "csv": self.to_csv, "tsv": self.to_tsv, "table": self.to_table}[fmt]()


def cell_from_oxigraph(term) -> Cell:
    """The Cell for a pyoxigraph term (NamedNode, BlankNode, Literal)."""
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return Cell("uri", term.value)
    if isinstance(term, ox.BlankNode):
        return Cell("bnode", term.value)
    if isinstance(term, ox.Literal):
        return Cell("literal", term.value, term.datatype.value, term.language)
    return Cell("literal", str(term))  # RDF 1.2 triple terms: shown as text


def triples_result(triples: list[tuple[Cell, Cell, Cell]]) -> Result:
    """CONSTRUCT/DESCRIBE answers as rows (subject, predicate, object), sorted."""
    triples.sort(key=lambda t: tuple(c.comparable() for c in t))
    return Result(variables=["subject", "predicate", "object"],
                  bindings=[dict(zip(("subject", "predicate", "object"), t)) for t in triples])


def _csv_value(cell: Cell | None) -> str:
    if cell is None:
        return ""
    return "_:" + cell.value if cell.type == "bnode" else cell.value


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TABLE_CELL_MAX else text[: TABLE_CELL_MAX - 1] + "…"


_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _value(text: str, pos: int):
    """One JSON value at ``pos``; returns (value, position after it)."""
    try:
        return _DECODER.raw_decode(text, _WS.match(text, pos).end())
    except RecursionError:
        raise ResultsFormatError("JSON nested too deeply") from None
    except ValueError as exc:
        raise ResultsFormatError(f"not valid JSON ({exc})") from None


def _expect(text: str, pos: int, chars: str) -> tuple[str, int]:
    pos = _WS.match(text, pos).end()
    if pos >= len(text) or text[pos] not in chars:
        found = repr(text[pos]) if pos < len(text) else "the end"
        raise ResultsFormatError(f"not valid JSON (expected {' or '.join(repr(c) for c in chars)} at character "
                                 f"{pos}, found {found})")
    return text[pos], pos + 1


def _members(text: str, pos: int):
    """Iterate the members of the JSON object starting at ``pos``: yields (key, position of its value);
    the caller reads the value and sends back the position after it."""
    _ch, pos = _expect(text, pos, "{")
    end_or_key = _WS.match(text, pos).end()
    if end_or_key < len(text) and text[end_or_key] == "}":
        return end_or_key + 1
    while True:
        key, pos = _value(text, pos)
        if not isinstance(key, str):
            raise ResultsFormatError("not valid JSON (an object key is not a string)")
        _ch, pos = _expect(text, pos, ":")
        pos = yield key, pos
        ch, pos = _expect(text, pos, ",}")
        if ch == "}":
            return pos


def from_json(text: str | bytes, max_rows: int | None = None) -> Result:
    """Parse a complete SPARQL 1.1 Query Results JSON document; raise ResultsFormatError on any defect.

    Read as a stream of solutions: each solution is decoded on its own and turned into cells at once, so
    memory stays near the size of the answer (a whole-document ``json.loads`` took about 15 times it), and
    nesting is bounded. More than ``max_rows`` solutions is an error.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ResultsFormatError(f"not valid JSON ({exc})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    head = boolean = variables = None
    bindings: list | None = None
    pending: list = []
    members = _members(text, 0)
    try:
        key, pos = next(members)
        while True:
            if key == "results":
                pos = _read_results(text, pos, pending, max_rows)
                bindings = pending
            else:
                value, pos = _value(text, pos)
                if key == "head":
                    head = value
                elif key == "boolean":
                    boolean = value
            key, pos = members.send(pos)
    except StopIteration as stop:
        pos = stop.value
    if text[_WS.match(text, pos).end():].strip():
        raise ResultsFormatError("not valid JSON (extra data after the document)")
    if not isinstance(head, dict):
        raise ResultsFormatError("no 'head' object")
    if boolean is not None:
        if not isinstance(boolean, bool):
            raise ResultsFormatError("'boolean' is not true or false")
        return Result(boolean=boolean)
    variables = head.get("vars")
    if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables):
        raise ResultsFormatError("'head.vars' is not a list of variable names")
    if bindings is None:
        raise ResultsFormatError("no 'results.bindings' list")
    declared = set(variables)
    rows = []
    for row in bindings:
        unknown = set(row) - declared
        if unknown:
            raise ResultsFormatError(f"a solution binds undeclared variable(s) {sorted(unknown)}")
        rows.append({v: row[v] for v in variables if v in row})
    return Result(variables=list(variables), bindings=rows)


def _read_results(text: str, pos: int, out: list, max_rows: int | None) -> int:
    """Read the ``results`` object at ``pos``, appending each solution (as cells) to ``out``."""
    members = _members(text, pos)
    found = False
    try:
        key, pos = next(members)
        while True:
            if key == "bindings":
                found = True
                pos = _read_bindings(text, pos, out, max_rows)
            else:
                _skip, pos = _value(text, pos)
            key, pos = members.send(pos)
    except StopIteration as stop:
        if not found:
            raise ResultsFormatError("no 'results.bindings' list") from None
        return stop.value


def _read_bindings(text: str, pos: int, out: list, max_rows: int | None) -> int:
    ch, pos = _expect(text, pos, "[")
    after = _WS.match(text, pos).end()
    if after < len(text) and text[after] == "]":
        return after + 1
    while True:
        row, pos = _value(text, pos)
        if not isinstance(row, dict):
            raise ResultsFormatError("a solution is not an object")
        if max_rows is not None and len(out) >= max_rows:
            raise ResultsFormatError(f"more than {max_rows:,} solutions (--max-rows); narrow the query or add LIMIT")
        out.append({v: Cell.from_json(cell) for v, cell in row.items()})
        ch, pos = _expect(text, pos, ",]")
        if ch == "]":
            return pos
