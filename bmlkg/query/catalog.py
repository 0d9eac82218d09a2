"""The SPARQL query files: discovery and their machine-readable headers.

A query file opens with ``#+ key: value`` lines (continuation lines start with ``#+`` and two spaces):

    #+ summary: One line saying what the query answers
    #+ description: Longer text
    #+   that may continue
    #+ tags: cq, conditions
    #+ param: category (label) a cause category — example: septic
    #+ level: ERROR            (QC queries only)
    #+ columns: condition, conditionLabel
    #+ known-failure: virtuoso: what goes wrong on that engine, with a reduced reproduction (engine tests)

``param`` lines read ``NAME (TYPE[, repeatable][, optional]) description — example: VALUE``; TYPE is ``iri``,
``label`` or ``number``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..store.errors import InputError

PARAM_TYPES = ("iri", "label", "number", "text")
_PARAM = re.compile(
    r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*\((?P<spec>[^)]*)\)\s*(?P<desc>.*?)(?:\s+[—-]+\s*example:\s*(?P<example>.+))?$"
)


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    description: str
    example: str | None
    repeatable: bool = False
    optional: bool = False

    def as_dict(self) -> dict:
        return {
            "name": self.name, "type": self.type, "description": self.description,
            "example": self.example, "repeatable": self.repeatable, "optional": self.optional,
        }


@dataclass(frozen=True)
class QueryFile:
    name: str
    path: Path
    text: str
    summary: str
    description: str = ""
    tags: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    level: str | None = None
    columns: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)
    #: (engine, explanation) pairs from ``#+ known-failure: ENGINE: …`` lines: an engine bug that no equivalent
    #: SPARQL 1.1 form avoids, with its reduced reproduction; tests/test_engines.py expects that failure.
    known_failures: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict:
        return {
            "name": self.name, "summary": self.summary, "description": self.description,
            "tags": list(self.tags), "parameters": [p.as_dict() for p in self.params],
            "columns": list(self.columns),
        }


def parse_header(path: Path, text: str) -> dict[str, list[str]]:
    """Collect ``#+ key: value`` lines (with ``#+`` continuation lines) into key -> list of values."""
    header: dict[str, list[str]] = {}
    last = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("#+"):
            if line.strip() and not line.startswith("#"):
                break
            continue
        body = line[2:]
        match = re.match(r"^ ([A-Za-z_][A-Za-z_-]*):\s?(.*)$", body)
        if match:
            last = match.group(1).lower()
            header.setdefault(last, []).append(match.group(2).strip())
        elif body.startswith("  ") and last is not None:
            header[last][-1] = (header[last][-1] + " " + body.strip()).strip()
        else:
            raise InputError(f"{path}:{lineno}: malformed query header line (expected '#+ key: value')")
    return header


def parse_param(path: Path, value: str) -> Param:
    match = _PARAM.match(value.strip())
    if not match:
        raise InputError(f"{path}: malformed '#+ param:' line {value!r} (expected 'name (type) description — example: value')")
    spec = [s.strip().lower() for s in match.group("spec").split(",") if s.strip()]
    if not spec or spec[0] not in PARAM_TYPES:
        raise InputError(f"{path}: parameter {match.group('name')!r} has type {spec[:1]}, expected one of {', '.join(PARAM_TYPES)}")
    return Param(
        name=match.group("name"),
        type=spec[0],
        description=match.group("desc").strip(),
        example=(match.group("example") or "").strip() or None,
        repeatable="repeatable" in spec,
        optional="optional" in spec,
    )


def read_query(path: Path) -> QueryFile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read query: {exc}") from exc
    header = parse_header(path, text)
    if not header.get("summary"):
        raise InputError(f"{path}:1: query has no '#+ summary:' header line")
    tags = tuple(t.strip() for v in header.get("tags", []) for t in v.split(",") if t.strip())
    columns = tuple(c.strip() for v in header.get("columns", []) for c in v.split(",") if c.strip())
    known = []
    for value in header.get("known-failure", []):
        engine, sep, why = value.partition(":")
        if not sep or not engine.strip() or not why.strip():
            raise InputError(f"{path}: malformed '#+ known-failure:' line {value!r} (expected 'ENGINE: explanation')")
        known.append((engine.strip().lower(), why.strip()))
    level = (header.get("level") or [None])[0]
    if level is not None and level.upper() not in ("ERROR", "WARN", "INFO"):
        raise InputError(f"{path}: '#+ level:' must be ERROR, WARN or INFO, not {level!r}")
    return QueryFile(
        name=path.stem,
        path=path,
        text=text,
        summary=header["summary"][0],
        description=" ".join(header.get("description", [])),
        tags=tags,
        params=tuple(parse_param(path, p) for p in header.get("param", [])),
        level=level.upper() if level else None,
        columns=columns,
        known_failures=tuple(known),
    )


def discover(folder: Path) -> list[QueryFile]:
    """Every ``*.rq`` in ``folder`` (not recursive), sorted by name."""
    if not folder.is_dir():
        return []
    return [read_query(p) for p in sorted(folder.glob("*.rq"))]
