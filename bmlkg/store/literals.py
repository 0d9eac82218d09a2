"""Typed literals whose lexical form does not fit their datatype (``"abc"^^xsd:integer``).

The loader keeps lexical forms as written; these are found here, reported by the checks as findings that
name the entity, the property and the source file and line, and left out of what HermiT reads (owlready2
would otherwise stop with a Java stack trace that names neither).
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox

XSD = "http://www.w3.org/2001/XMLSchema#"
_INT = r"[+-]?[0-9]+"
_DEC = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_FLOAT = r"(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?INF|NaN)"
_TZ = r"(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))?"
_DATE = r"-?[0-9]{4,}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?|24:00:00(?:\.0+)?"
PATTERNS = {
    **{name: _INT for name in ("integer", "long", "int", "short", "byte")},
    "nonNegativeInteger": r"\+?[0-9]+|-0+", "positiveInteger": r"\+?0*[1-9][0-9]*",
    "nonPositiveInteger": r"-[0-9]+|\+?0+", "negativeInteger": r"-0*[1-9][0-9]*",
    **{name: r"\+?[0-9]+" for name in ("unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte")},
    "decimal": _DEC, "double": _FLOAT, "float": _FLOAT,
    "boolean": r"true|false|1|0",
    "date": _DATE + _TZ, "dateTime": _DATE + "T(?:" + _TIME + ")" + _TZ,
    "gYear": r"-?[0-9]{4,}" + _TZ,
}
_COMPILED = {XSD + name: re.compile(pattern) for name, pattern in PATTERNS.items()}
RANGES = {"long": 63, "int": 31, "short": 15, "byte": 7}


def problem(literal: ox.Literal) -> str | None:
    """Why ``literal`` is ill-typed, or None when its lexical form fits its datatype (or it is not checked)."""
    pattern = _COMPILED.get(literal.datatype.value)
    if pattern is None:
        return None
    value = literal.value
    kind = literal.datatype.value[len(XSD):]
    if not pattern.fullmatch(value):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"{shown!r} is not a valid xsd:{kind}"
    bits = RANGES.get(kind)
    if bits is not None and len(value) <= 30 and not -(2 ** bits) <= int(value) < 2 ** bits:
        return f"{value!r} is out of the range of xsd:{kind}"
    return None


def ill_typed(triples) -> list[tuple[ox.Triple, str]]:
    """Every triple whose object is an ill-typed literal, with the reason."""
    found = []
    for t in triples:
        obj = t.object
        if isinstance(obj, ox.Literal):
            why = problem(obj)
            if why is not None:
                found.append((t, why))
    return found


def locate(paths: list[Path], literal: ox.Literal) -> str:
    """``file:line`` of the first source line that writes ``literal``'s lexical form (``file`` if not found)."""
    needles = [f'"{literal.value}"', f"'{literal.value}'", f">{literal.value}<", f'"@value": "{literal.value}"']
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if any(n in line for n in needles):
                return f"{path}:{number}"
    return str(paths[0]) if paths else "?"
