"""Limits every command shares: time limits, row caps, sizes, nesting depths — one place, one message each."""

from __future__ import annotations

import math

from .errors import InputError

#: Longest time limit accepted (a week): beyond it a limit is no limit, and huge values overflow timers.
MAX_TIMEOUT_S = 7 * 24 * 3600.0
#: Rows a query may return before it is stopped (the CLI's --max-rows default is lower).
DEFAULT_MAX_ROWS = 1_000_000
CLI_MAX_ROWS = 100_000
#: Longest SPARQL text read from a file or standard input.
MAX_QUERY_BYTES = 1_000_000
#: Deepest element nesting accepted in RDF/XML (parsing time grows with its square).
MAX_XML_DEPTH = 1_000
#: Longest number a number parameter may have (digits and sign).
MAX_NUMBER_CHARS = 100


def check_seconds(option: str, value) -> float:
    """A time limit must be a finite number of seconds above 0 and at most a week; return it as a float."""
    if isinstance(value, bool):
        raise InputError(f"{option}: {value!r} is not a number of seconds")
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{option}: {str(value)[:40]!r} is not a number of seconds") from None
    if math.isnan(seconds) or math.isinf(seconds) or seconds <= 0 or seconds > MAX_TIMEOUT_S:
        shown = format(seconds, "g")
        raise InputError(f"{option}: must be a number of seconds above 0 and at most {MAX_TIMEOUT_S:g} (a week), "
                         f"not {shown}")
    return seconds


def check_rows(option: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{option}: must be a whole number of rows, at least 1, not {value!r}")
    return value
