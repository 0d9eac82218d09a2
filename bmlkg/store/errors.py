"""Error types with the exit codes of the CLI contract (0 ok, 1 violations, 2 bad input or environment)."""

from __future__ import annotations


class BmlkgError(Exception):
    """Base class. ``exit_code`` is what the CLI exits with; ``str(err)`` is the one-line message."""

    exit_code = 2


class InputError(BmlkgError):
    """Bad input: a missing, unreadable or malformed file, an unknown name, parameter or option."""


class EnvironmentProblem(BmlkgError):
    """Something the machine lacks or refuses: no Java, too little memory, a port in use."""


class ReasonerError(BmlkgError):
    """HermiT could not run, ran out of memory or time, or found the ontology inconsistent."""


class QueryError(BmlkgError):
    """A query could not run: refused (update, SERVICE, LOAD), timed out, or the endpoint failed."""


class QueryTimeout(QueryError):
    """The query ran longer than its time limit and was stopped."""


class EndpointError(QueryError):
    """A remote SPARQL endpoint refused the connection, failed, stalled or sent malformed results."""


class EndpointTimeout(EndpointError, QueryTimeout):
    """A remote endpoint gave no complete answer within the time limit (a stalled socket included)."""


#: Longest message shown whole, and longest unbroken run of characters (an echoed value) inside one: a 100 KB
#: label is not repeated, a list of valid names is.
MAX_MESSAGE = 4000
MAX_RUN = 300


def escape_controls(text: str, keep: str = "") -> str:
    """Control characters (terminal escape sequences among them) and invisible format characters written
    as visible escapes (``\\x1b``, ``\\ufeff``); characters in ``keep`` (e.g. newline) stay."""
    import unicodedata

    out = []
    for ch in str(text):
        if ch in keep:
            out.append(ch)
        elif ch < " " or "\x7f" <= ch <= "\x9f" or unicodedata.category(ch) in ("Cf", "Zl", "Zp", "Cs", "Co"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def one_line(message: str, limit: int = MAX_MESSAGE) -> str:
    """A message as one safe line: whitespace runs collapsed, control characters escaped, and a long echoed
    value (or, past ``limit``, the middle of the message) cut, saying how much was left out."""
    import re

    def cut(text: str, keep: int) -> str:
        head, tail = text[: keep * 2 // 3], text[-(keep // 6):]
        return f"{head} … [{len(text) - len(head) - len(tail):,} characters left out] … {tail}"

    text = escape_controls(" ".join(str(message).split()))
    text = re.sub(r"\S{%d,}" % (MAX_RUN + 1), lambda m: cut(m.group(), MAX_RUN), text)
    return cut(text, limit) if len(text) > limit else text
