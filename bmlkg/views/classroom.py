"""The classroom page: one offline HTML file that computes in the browser with the library queries.

The page holds the graph as N-Triples and Oxigraph's WebAssembly build (npm ``oxigraph``, vendored in
``vendor/oxigraph/`` with its licence and digests), both gzip-compressed and base64-encoded; the page
decodes them with ``DecompressionStream`` and runs the same ``queries/*.rq`` texts the command line runs.
What both sides must agree on (spellings, text-input rules, prefixes, where each parameter's ``VALUES``
block is) is written into the page as data from the Python side, never written twice by hand.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

VENDOR = Path(__file__).resolve().parent / "vendor" / "oxigraph"
SCRIPTS = ("classroom-engine.js", "classroom-difflib.js", "classroom-dx.js", "classroom-ui.js")
WASM_DEFAULT = "module_or_path = new URL('web_bg.wasm', import.meta.url);"
WASM_REPLACED = "throw new Error('bmlkg: the WebAssembly bytes are inlined and passed to init');"
FILENAME = "classroom.html"


def vendored_digests() -> dict[str, str]:
    """File name -> SHA-256 recorded in ``SHA256SUMS`` when the files were vendored."""
    out = {}
    for line in (VENDOR / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split()
        out[name] = digest
    return out


def oxigraph_version() -> str:
    return (VENDOR / "VERSION").read_text(encoding="utf-8").strip()


def _gz64(data: bytes) -> str:
    return base64.b64encode(gzip.compress(data, compresslevel=9, mtime=0)).decode("ascii")


@lru_cache(maxsize=1)
def _wasm() -> str:
    data = (VENDOR / "web_bg.wasm").read_bytes()
    if hashlib.sha256(data).hexdigest() != vendored_digests()["web_bg.wasm"]:
        raise RuntimeError(f"{VENDOR / 'web_bg.wasm'}: SHA-256 differs from SHA256SUMS")
    return _gz64(data)


def module_script(templates: Path) -> str:
    """web.js with its fetch default replaced, then bmlkg's scripts, as one ES module."""
    web = (VENDOR / "web.js").read_text(encoding="utf-8")
    if web.count(WASM_DEFAULT) != 1:
        raise RuntimeError(f"{VENDOR / 'web.js'}: the wasm URL default was not found once; re-check the vendored file")
    parts = [web.replace(WASM_DEFAULT, WASM_REPLACED)]
    parts += [(templates / name).read_text(encoding="utf-8") for name in SCRIPTS]
    script = "\n".join(parts)
    if re.search(r"</script", script, re.IGNORECASE):
        raise RuntimeError("a script holds '</script'; it cannot be inlined")
    return script


# -- what the page needs to know, as data -----------------------------------------------------------
def _query_entries() -> list[dict]:
    """Every library query with where its parameters go: the spans of each ``VALUES ?param { … }`` block
    (found by bmlkg's SPARQL tokenizer) and the GROUP_CONCAT columns whose parts are sorted afterwards."""
    from ..query.engines import catalogue
    from ..query.sparqltext import group_concat_columns, values_blocks

    out = []
    for q in catalogue():
        out.append({
            **q.as_dict(), "text": q.text,
            "params": [p.as_dict() for p in q.params],
            "slots": {p.name: [list(span) for span in values_blocks(q.text, p.name)] for p in q.params},
            "concat": group_concat_columns(q.text),
        })
    return out


def _legend() -> dict[str, dict]:
    from .viewdata import CANDIDATE, CHECK_NEXT, INPUT, INPUT_ABSENT, INPUT_UNRESOLVED

    return {e.key: {"label": e.label, "colour": e.colour, "shape": e.shape, "font_colour": e.font_colour}
            for e in (INPUT, INPUT_ABSENT, INPUT_UNRESOLVED, CANDIDATE, CHECK_NEXT)}


def graph_ntriples(kg) -> bytes:
    """The graph the Python side queries, as sorted N-Triples (deterministic bytes)."""
    import pyoxigraph as ox

    text = kg.store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()).decode("utf-8")
    return ("\n".join(sorted(line for line in text.splitlines() if line.strip())) + "\n").encode("utf-8")


def page_data(kg, graph_options: dict) -> dict:
    from .. import differential as dx
    from ..evidence import GUIDELINE_STATUS, MEMBERS_QUERY, STUDY_DESIGN, _YEAR
    from ..query.results import INTEGER_TYPES
    from ..store.graph import LABELS_QUERY, NAMES_QUERY
    from ..store.vocab import PREFIXES, XREF_PREFIXES
    from .viewdata import DIFFERENTIAL_TOP

    return {
        "queries": _query_entries(),
        "prefixes": [[p, ns] for p, ns in {**PREFIXES, **XREF_PREFIXES}.items()],
        "labels_query": LABELS_QUERY,
        "names_query": NAMES_QUERY,
        "rules": dx.input_rules(),
        "check_next": {"candidates": dx.CHECK_NEXT_CANDIDATES, "features": dx.CHECK_NEXT_FEATURES},
        "scoring": dx.SCORING,
        "integer_types": sorted(INTEGER_TYPES),
        "members_queries": {"design": MEMBERS_QUERY.format(cls=STUDY_DESIGN),
                            "guideline": MEMBERS_QUERY.format(cls=GUIDELINE_STATUS)},
        "year_pattern": _YEAR.pattern,
        "differential_top": DIFFERENTIAL_TOP,
        "legend": _legend(),
        "graph_options": graph_options,
        "cases": case_suite(),
    }


def case_suite() -> list[dict]:
    """The differential case suite (a packaged copy of tests/fixtures/cases.json, checked equal by a test)."""
    from .ontodoc import TEMPLATES

    return json.loads((TEMPLATES / "classroom-cases.json").read_text(encoding="utf-8"))["cases"]


def classroom_html(kg, env, graph_options: dict, index: str | None = None) -> str:
    """The complete classroom page, rendered with ``env`` (the views' Jinja environment, which also finds
    pyvis's vis-network); ``graph_options`` are the vis-network options the other views use."""
    from .ontodoc import TEMPLATES

    page = {
        "version": kg.version() or "", "version_iri": kg.version_iri() or "", "counts": kg.counts(),
        "oxigraph_version": oxigraph_version(), "index": index, "data": page_data(kg, graph_options),
        "graph": _gz64(graph_ntriples(kg)), "wasm": _wasm(), "script": Markup(module_script(TEMPLATES)),
    }
    return env.get_template("classroom.html").render(page=page)


# -- what the browser's engine reads differently ------------------------------------------------------
#: Operators Oxigraph's browser build (npm 0.5.11) groups to the right: it reads ``a - b + c`` as
#: ``a - (b + c)`` and ``a / b * c`` as ``a / (b * c)`` (pyoxigraph 0.5.13 reads them as SPARQL says, from
#: the left). A library query must parenthesise such chains, or the page and the command line disagree.
RIGHT_GROUPED = {"-": ("+", "-"), "/": ("*", "/")}
_OPERAND_END = ("VAR", "NUMBER", "STRING", "IRI", "PNAME", "WORD")


def right_grouping_hazards(text: str) -> list[str]:
    """``line N: a - b + c``-style chains (see :data:`RIGHT_GROUPED`) in a query, as ``line N: tokens``."""
    from ..query.sparqltext import tokenize

    tokens = tokenize(text)
    found = []
    for i, tok in enumerate(tokens):
        if tok.kind != "PUNCT" or tok.text not in RIGHT_GROUPED or i == 0:
            continue
        before = tokens[i - 1]
        if before.kind not in _OPERAND_END and before.text != ")":
            continue                                     # a unary minus
        if tok.text == "/" and not _value_before(tokens, i):
            continue                                     # a property path (p/q), not a division
        depth = 0
        for later in tokens[i + 1:]:
            if later.text in ("(", "{", "["):
                depth += 1
            elif later.text in (")", "}", "]"):
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and (later.text in (",", ";", ".", "&&", "||", "=", "!=", "<", ">", "<=", ">=")
                                 or (later.kind == "WORD" and later.text.upper() in ("AS", "IN", "NOT"))):
                break
            elif depth == 0 and later.kind == "PUNCT" and later.text in RIGHT_GROUPED[tok.text]:
                found.append(f"line {tok.line}: {before.text} {tok.text} … {later.text}")
                break
    return found


def _value_before(tokens, i: int) -> bool:
    """Whether the token before ``tokens[i]`` ends a value (a variable, a number, a call or a bracketed
    expression holding one), not a path step (an IRI, ``a``, a path group)."""
    before = tokens[i - 1]
    if before.kind in ("VAR", "NUMBER"):
        return True
    if before.text != ")":
        return False
    depth, j = 0, i - 1
    while j >= 0:
        if tokens[j].text == ")":
            depth += 1
        elif tokens[j].text == "(":
            depth -= 1
            if depth == 0:
                break
        j -= 1
    inside = tokens[j + 1:i - 1]
    called = j > 0 and tokens[j - 1].kind in ("WORD", "PNAME", "IRI") and tokens[j - 1].text != "a"
    return called or any(t.kind in ("VAR", "NUMBER") for t in inside)
