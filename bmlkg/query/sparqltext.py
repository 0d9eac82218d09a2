"""Reading SPARQL text safely: a tokenizer, the read-only check, and parameter VALUES blocks.

The tokenizer knows SPARQL 1.1's lexical rules (strings of all four quote styles with escapes, IRIs,
prefixed names, variables, language tags, comments), so a keyword is recognised only where the SPARQL
grammar could read it as one: ``"DELETE"`` in a string, ``<urn:load>`` in an IRI, ``ex:insert`` or
``?drop`` are data, not keywords.

* :func:`check_read_only` refuses, before anything is evaluated, any text that is not a single
  SELECT/ASK/CONSTRUCT/DESCRIBE query: updates (INSERT, DELETE, LOAD, CLEAR, DROP, CREATE, ADD, MOVE,
  COPY, WITH), federated queries (SERVICE) and dataset clauses (FROM, FROM NAMED: rdflib would fetch them
  from the web).
* :func:`bind_values` fills a query's ``VALUES ?param { … }`` block (which holds the example value, so the
  file runs as it stands in any SPARQL tool) with RDF terms that were validated and escaped first: a
  parameter is data bound to its variable, never text pasted into SPARQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..store.errors import InputError, QueryError

_TOKEN_SPEC = [
    ("WS", r"\s+"),
    ("COMMENT", r"#[^\r\n]*"),
    ("STRING", r"'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^\"\\]|\\.|\"(?!\"\"))*\"\"\""
               r"|'(?:[^'\\\r\n]|\\.)*'|\"(?:[^\"\\\r\n]|\\.)*\""),
    ("IRI", r"<[^<>\"{}|^`\\\x00-\x20]*>"),
    ("VAR", r"[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+"),
    ("LANGTAG", r"@[A-Za-z]+(?:-[A-Za-z0-9]+)*"),
    ("BNODE", r"_:[A-Za-z0-9_\u00C0-\uFFFF](?:[\w\-\u00B7\u00C0-\uFFFF]|\.(?=[\w\-]))*"),
    ("PNAME", r"(?:[A-Za-z\u00C0-\uFFFF](?:[\w\-\u00B7\u00C0-\uFFFF]|\.(?=[\w\-]))*)?:"
              r"(?:[\w\-:%\u00B7\u00C0-\uFFFF]|\\[_~.\-!$&'()*+,;=/?#@%]|\.(?=[\w\-:%]))*"),
    ("NUMBER", r"[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?"),
    ("WORD", r"[A-Za-z_][A-Za-z0-9_]*"),
    ("PUNCT", r"\^\^|&&|\|\||!=|<=|>=|[{}()\[\];,.*=<>!+\-/|^?]"),
]
_TOKENS = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _TOKEN_SPEC))

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")
REFUSED = {
    **{k: "SPARQL Update ({k}) is refused: queries run read-only" for k in UPDATE_KEYWORDS},
    "SERVICE": "SERVICE (federated query) is refused: bmlkg queries never reach other endpoints",
    "FROM": "FROM / FROM NAMED dataset clauses are refused: queries run on the loaded graph only "
            "(an engine could fetch the named IRI from the web)",
}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    line: int


def tokenize(text: str) -> list[Token]:
    """Split SPARQL text into tokens (whitespace and comments dropped); InputError on a stray character."""
    tokens: list[Token] = []
    pos, line = 0, 1
    while pos < len(text):
        match = _TOKENS.match(text, pos)
        if match is None:
            snippet = text[pos:pos + 20].splitlines()[0] if text[pos:pos + 20].strip() else repr(text[pos])
            raise InputError(f"line {line}: cannot read SPARQL at {snippet!r} (unclosed string or IRI?)")
        kind = match.lastgroup or "PUNCT"
        if kind not in ("WS", "COMMENT"):
            tokens.append(Token(kind, match.group(), pos, line))
        line += match.group().count("\n")
        pos = match.end()
    return tokens


def query_form(tokens: list[Token]) -> tuple[str, int]:
    """The query form keyword (SELECT, ASK, …) after the prologue, and its token index."""
    i = 0
    while i < len(tokens):
        word = tokens[i].text.upper() if tokens[i].kind == "WORD" else None
        if word == "BASE":
            i += 2
        elif word == "PREFIX":
            i += 3
        else:
            break
    if i >= len(tokens):
        raise InputError("empty query: no SELECT, ASK, CONSTRUCT or DESCRIBE")
    first = tokens[i]
    word = first.text.upper() if first.kind == "WORD" else ""
    if word in REFUSED:
        raise QueryError(f"line {first.line}: " + REFUSED[word].format(k=word))
    if word not in QUERY_FORMS:
        raise InputError(f"line {first.line}: expected SELECT, ASK, CONSTRUCT or DESCRIBE, found {first.text!r}")
    return word, i


#: Bounds checked before any engine sees a query (a deeply nested query overflows Oxigraph's stack).
MAX_QUERY_CHARS = 1_000_000
MAX_NESTING = 200
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
#: rdflib's own reading: ``\\u`` or ``\\U`` followed by four or (greedily) eight hex digits.
_CODEPOINT_RDFLIB = re.compile(r"\\[uU]([0-9A-Fa-f]{4}(?:[0-9A-Fa-f]{4})?)")


def expand_codepoints(text: str, rdflib_style: bool = False) -> str:
    """The text as engines that follow SPARQL 1.1 section 19.2 parse it: ``\\uXXXX`` escapes expanded first,
    anywhere (Jena and Virtuoso do; Oxigraph reads them only inside strings and IRIs); with ``rdflib_style``,
    as rdflib expands them (its pattern differs from the standard's)."""

    def expand(match: re.Match) -> str:
        code = int(match.group(1) or match.group(match.lastindex or 1), 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            line = text[:match.start()].count("\n") + 1
            raise InputError(f"line {line}: {match.group()!r} is not a Unicode code point")
        return chr(code)

    return (_CODEPOINT_RDFLIB if rdflib_style else _CODEPOINT).sub(expand, text)


def check_bounds(text: str) -> None:
    """Refuse a query too large or too deeply nested to evaluate safely (before it is even tokenised)."""
    if len(text) > MAX_QUERY_CHARS:
        raise InputError(f"query is {len(text):,} characters long; at most {MAX_QUERY_CHARS:,} are accepted")


def _check_nesting(tokens: list[Token]) -> None:
    depth = 0
    for token in tokens:
        if token.kind == "PUNCT" and token.text in "({[":
            depth += 1
            if depth > MAX_NESTING:
                raise InputError(f"line {token.line}: query nested more than {MAX_NESTING} levels deep "
                                 "(brackets and braces); refused before evaluation")
        elif token.kind == "PUNCT" and token.text in ")}]":
            depth -= 1


def check_read_only(text: str) -> str:
    """Refuse updates, SERVICE and dataset clauses before evaluation; return the query form.

    The text is checked as written (as Oxigraph parses it) and, when it holds ``\\u`` escapes, as engines
    that expand them before parsing see it (rdflib, Jena, Virtuoso): an escape cannot smuggle a keyword
    out of a comment or a string. Size and nesting are bounded first.
    """
    check_bounds(text)
    form = _check_view(tokenize(text))
    if _CODEPOINT_RDFLIB.search(text):
        views = {expand_codepoints(text), expand_codepoints(text, rdflib_style=True)}
        for expanded in sorted(views):
            try:
                tokens = tokenize(expanded)
            except InputError:
                raise QueryError("\\u escapes in this query change its structure once expanded (as SPARQL engines "
                                 "expand them before parsing); refused: write the characters themselves") from None
            _check_view(tokens)
    return form


def _check_view(tokens: list[Token]) -> str:
    _check_nesting(tokens)
    form, _ = query_form(tokens)
    for token in tokens:
        word = token.text.upper() if token.kind == "WORD" else None
        if word in REFUSED:
            raise QueryError(f"line {token.line}: " + REFUSED[word].format(k=word))
    return form


def string_literal(value: str) -> str:
    """A SPARQL string literal for ``value`` that means the same to every engine: a ``u`` right after a
    backslash is written ``\\U00000075``, so engines that expand ``\\u`` escapes first keep the value as data."""
    out, previous = ['"'], ""
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch in "uU" and previous == "\\":
            out.append("\\U00000075" if ch == "u" else "\\U00000055")  # eight digits: read alike everywhere
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        else:
            out.append(ch)
        previous = ch
    out.append('"')
    return "".join(out)


def values_blocks(text: str, variable: str) -> list[tuple[int, int]]:
    """Character spans of every ``VALUES ?variable { … }`` block (single-variable form) in the query."""
    tokens = tokenize(text)
    spans = []
    for i, token in enumerate(tokens[:-2]):
        if token.kind != "WORD" or token.text.upper() != "VALUES":
            continue
        var, brace = tokens[i + 1], tokens[i + 2]
        if var.kind != "VAR" or var.text[1:] != variable or brace.text != "{":
            continue
        close = next((t for t in tokens[i + 3:] if t.text in ("{", "}")), None)
        if close is None or close.text != "}":
            raise InputError(f"line {token.line}: VALUES ?{variable} block is not closed")
        spans.append((brace.start, close.start + 1))
    return spans


def bind_values(text: str, variable: str, terms: list[str] | None) -> str:
    """Replace the content of every ``VALUES ?variable { … }`` block with ``terms``.

    ``terms`` are RDF terms already in N-Triples syntax (validated, escaped); ``None`` binds ``UNDEF``
    (an optional parameter left unset, so ``BOUND(?variable)`` is false).
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable):
        raise InputError(f"not a SPARQL variable name: {variable!r}")
    spans = values_blocks(text, variable)
    if not spans:
        raise InputError(f"query has no 'VALUES ?{variable} {{ … }}' block for parameter {variable!r}")
    body = "{ " + ("UNDEF" if terms is None else " ".join(terms)) + " }"
    for start, end in reversed(spans):
        text = text[:start] + body + text[end:]
    return text


def variables(text: str) -> set[str]:
    """Every variable name mentioned in the query text (without ``?``/``$``)."""
    return {t.text[1:] for t in tokenize(text) if t.kind == "VAR"}


def has_order_by(text: str) -> bool:
    words = [t.text.upper() for t in tokenize(text) if t.kind == "WORD"]
    return any(a == "ORDER" and b == "BY" for a, b in zip(words, words[1:]))


def group_concat_columns(text: str) -> dict[str, str]:
    """Projected variables computed by ``(GROUP_CONCAT(… ; separator="s") AS ?v)``, with their separator."""
    tokens = tokenize(text)
    found: dict[str, str] = {}
    for i, token in enumerate(tokens):
        if token.kind != "WORD" or token.text.upper() != "GROUP_CONCAT":
            continue
        depth, separator, j = 0, " ", i + 1
        while j < len(tokens):
            t = tokens[j]
            if t.text == "(":
                depth += 1
            elif t.text == ")":
                depth -= 1
                if depth == 0:
                    break
            elif t.kind == "WORD" and t.text.upper() == "SEPARATOR" and j + 2 < len(tokens):
                separator = _string_value(tokens[j + 2].text)
            j += 1
        if j + 2 < len(tokens) and tokens[j + 1].text.upper() == "AS" and tokens[j + 2].kind == "VAR":
            found[tokens[j + 2].text[1:]] = separator
    return found


def _string_value(literal: str) -> str:
    quote = literal[:3] if literal[:3] in ('"""', "'''") else literal[:1]
    body = literal[len(quote):-len(quote)]
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), body)


#: Parameters that page a query's answer: they set the numbers of its final ``LIMIT`` / ``OFFSET`` clause.
PAGE_PARAMS = ("limit", "offset")


def slice_spans(text: str) -> dict[str, tuple[int, int]]:
    """Character spans of the numbers after the query's last ``LIMIT`` and last ``OFFSET`` keywords, keyed
    ``limit`` / ``offset``.

    That is the final clause of the query, or, in a query that pages the keys of its rows in a sub-SELECT and
    adds their details after it (``{ SELECT ?claim … ORDER BY … LIMIT 1000 OFFSET 0 } OPTIONAL { … }``, with no
    clause of its own), the sub-SELECT's clause.
    """
    tokens = tokenize(text)
    spans: dict[str, tuple[int, int]] = {}
    for i in range(len(tokens) - 1):
        word = tokens[i].text.upper() if tokens[i].kind == "WORD" else ""
        if word in ("LIMIT", "OFFSET") and tokens[i + 1].kind == "NUMBER":
            number = tokens[i + 1]
            spans[word.lower()] = (number.start, number.start + len(number.text))
    return spans


def bind_slice(text: str, name: str, value: int) -> str:
    """Set the number of the query's last ``LIMIT`` (``name="limit"``) or ``OFFSET`` clause to ``value``
    (see :func:`slice_spans`)."""
    if name not in PAGE_PARAMS:
        raise InputError(f"not a paging parameter: {name!r}")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"parameter {name}: expected a whole number of rows, 0 or more, not {value!r}")
    span = slice_spans(text).get(name)
    if span is None:
        raise InputError(f"query has no '{name.upper()} n' clause for parameter {name!r}")
    return text[:span[0]] + str(value) + text[span[1]:]
