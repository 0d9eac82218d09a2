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
