"""The SPARQL query library: discover the ``.rq`` files, bind parameters safely, run them on an engine.

>>> import bmlkg
>>> kg = bmlkg.load()
>>> rows = kg.query("cq-study-results", study="Bunkyo Health Study")   # rows: plain dicts
>>> [(str(r["estimate"]), r["directionLabel"]) for r in rows]
[('2.22', 'supports'), ('1.79', 'supports'), ('1.32', 'no association found')]
>>> "STIR sequence" in {r["sequenceLabel"] for r in kg.query("cq-mri-signal", finding="BML")}
True

Engines: ``oxigraph`` (default; the graph's in-memory store), ``rdflib`` (the same triples in an rdflib
Graph), or any SPARQL 1.1 endpoint (``endpoint=URL``, see :mod:`bmlkg.query.remote`). The same query text runs
on each.

Parameters are declared in each file's header (``#+ param: name (type) … — example: …``) and bound as
data: every value is first turned into a validated RDF term (a label is resolved to its term's IRI
through labels and synonyms, a number must parse as one, an IRI must be a valid IRI), then written into
the query's own ``VALUES ?name { … }`` block, which holds the example so the file also runs as it stands
in any SPARQL tool. Nothing a user types is ever spliced into SPARQL syntax. User-written queries (:func:`run_sparql`) are checked read-only before evaluation.

The parts of a ``GROUP_CONCAT`` value are sorted after the query runs (engines concatenate in their own
order), so a library query gives the same answer on every engine.

With ``timeout`` set, an embedded query runs in a forked worker process that is killed at the deadline
(:class:`bmlkg.QueryTimeout`); the caller's graph is untouched and the next query runs normally.
"""

from __future__ import annotations

import difflib
import multiprocessing
import os
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable, Iterable, Mapping

import pyoxigraph as ox

from .catalog import Param, QueryFile, discover
from ..store.constants import QC_QUERIES_DIR, QUERIES_DIR
from ..store.errors import BmlkgError, InputError, QueryError, QueryTimeout
from ..store.limits import DEFAULT_MAX_ROWS, MAX_NUMBER_CHARS, check_rows, check_seconds
from .results import Cell, Result, cell_from_oxigraph, triples_result
from .sparqltext import PAGE_PARAMS, bind_slice, bind_values, check_read_only, group_concat_columns, string_literal
from ..store.vocab import expand

ENGINES = ("oxigraph", "rdflib")
FORMATS = ("table", "csv", "tsv", "json")
LIST_FORMATS = ("table", "json", "markdown")
#: Keyword arguments of :func:`query_rows` / ``KnowledgeGraph.query``; no query parameter may use them.
RESERVED = ("engine", "endpoint", "timeout")
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
XSD_DECIMAL = ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_DOI = re.compile(r"^(?:doi:|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
README_START = "<!-- queries:start -->"
README_END = "<!-- queries:end -->"


# -- the catalogue ---------------------------------------------------------------------------------
def catalogue(folder: Path | None = None) -> list[QueryFile]:
    """Every library query: ``queries/*.rq`` and the QC checks in ``queries/qc/``, sorted by name."""
    if folder is not None:
        folders = [Path(folder)]
    else:
        folders = [QUERIES_DIR, QC_QUERIES_DIR]
    found: dict[str, QueryFile] = {}
    for place in folders:
        for query in discover(place):
            if query.name in found:
                raise InputError(f"{query.path}: query name {query.name!r} is also used by {found[query.name].path}")
            found[query.name] = query
    return [found[name] for name in sorted(found)]


def tags(queries: Iterable[QueryFile]) -> list[str]:
    return sorted({t for q in queries for t in q.tags})


def with_tag(queries: list[QueryFile], tag: str | None) -> list[QueryFile]:
    if not tag:
        return queries
    known = tags(queries)
    if tag not in known:
        raise InputError(f"unknown tag {tag!r}; valid tags: {', '.join(known)}")
    return [q for q in queries if tag in q.tags]


def get_query(name: str, folder: Path | None = None) -> QueryFile:
    """The library query called ``name``; an unknown name is an InputError listing the valid ones."""
    queries = {q.name: q for q in catalogue(folder)}
    if name in queries:
        return queries[name]
    close = difflib.get_close_matches(name, list(queries), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise InputError(f"unknown query {name!r}; {hint}valid queries: {', '.join(queries)}")


def catalogue_markdown(queries: Iterable[QueryFile]) -> str:
    """The catalogue as a Markdown table (query, question, parameters), generated from the headers."""
    lines = ["| query | question | parameters |", "|---|---|---|"]
    for q in queries:
        params = "<br>".join(
            f"`{p.name}` ({_param_kind(p)}), e.g. `{p.example}`" if p.example else f"`{p.name}` ({_param_kind(p)})"
            for p in q.params
        ) or "none"
        lines.append(f"| `{q.name}` | {_md(q.summary)} | {_md(params)} |")
    return "\n".join(lines) + "\n"


def _param_kind(p: Param) -> str:
    extra = [x for x, flag in (("repeatable", p.repeatable), ("optional", p.optional)) if flag]
    return ", ".join([p.type.upper() if p.type == "iri" else p.type] + extra)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def catalogue_table(queries: Iterable[QueryFile]) -> str:
    rows = [(q.name, ", ".join(q.tags), q.summary) for q in queries]
    width = max([len("query")] + [len(r[0]) for r in rows])
    tag_width = max([len("tags")] + [len(r[1]) for r in rows])
    out = [f"{'query'.ljust(width)}  {'tags'.ljust(tag_width)}  question", f"{'-' * width}  {'-' * tag_width}  --------"]
    out += [f"{n.ljust(width)}  {t.ljust(tag_width)}  {s}" for n, t, s in rows]
    return "\n".join(out) + f"\n({len(rows)} queries)\n"


# -- parameters ------------------------------------------------------------------------------------
def example_params(query: QueryFile) -> dict[str, object]:
    """The example value of each parameter (repeatable ones split on ``;``)."""
    out: dict[str, object] = {}
    for p in query.params:
        if p.example is None:
            continue
        out[p.name] = [v.strip() for v in p.example.split(";") if v.strip()] if p.repeatable else p.example
    return out


def bind(kg, query: QueryFile, params: Mapping[str, object] | None) -> str:
    """The query text with every parameter's ``VALUES ?name { … }`` block holding validated RDF terms.

    An optional parameter left out binds ``UNDEF``; a required one left out is an InputError.
    """
    params = dict(params or {})
    declared = {p.name: p for p in query.params}
    unknown = sorted(set(params) - set(declared))
    if unknown:
        valid = ", ".join(f"{p.name} ({p.type})" for p in query.params) or "none"
        raise InputError(f"{query.name}: unknown parameter {unknown[0]!r}; valid parameters: {valid}")
    missing = [p for p in query.params if not p.optional and params.get(p.name) is None]
    if missing:
        wanted = " ".join(f"--param {p.name}={p.example!r}" if p.example else f"--param {p.name}=…" for p in missing)
        names = ", ".join(f"{p.name} ({p.type})" for p in missing)
        raise InputError(f"{query.name}: missing parameter(s) {names}; for example: {wanted}")
    text = query.text
    for p in query.params:
        value = params.get(p.name)
        if value is None or (isinstance(value, str) and not value.strip() and p.optional):
            if not p.optional:
                example = f" (e.g. --param {p.name}={p.example!r})" if p.example else ""
                raise InputError(f"{query.name}: missing parameter {p.name} ({p.type}){example}")
            if p.name not in PAGE_PARAMS:  # a page parameter left out keeps the query's default page
                text = bind_values(text, p.name, None)
            continue
        if p.name in PAGE_PARAMS:  # a page of the answer: the number of the final LIMIT / OFFSET clause
            text = bind_slice(text, p.name, _page_number(value, f"parameter {p.name} (number)"))
            continue
        values = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
        if p.repeatable and p.type != "text":  # "a; b" is two values, as in the header's example
            values = [part.strip() for v in values for part in (v.split(";") if isinstance(v, str) else [v])
                      if not isinstance(part, str) or part.strip()]
        if not values:
            raise InputError(f"{query.name}: parameter {p.name} has no value")
        if len(values) > 1 and not p.repeatable:
            raise InputError(f"{query.name}: parameter {p.name} takes one value, got {len(values)}")
        terms = [to_term(kg, p, v) for v in values]
        text = bind_values(text, p.name, [sparql_term(t) for t in terms])
    return text


def sparql_term(term) -> str:
    """The SPARQL text of a validated term; plain strings are written so that every engine reads them as
    the same data (see :func:`bmlkg.query.sparqltext.string_literal`)."""
    if isinstance(term, ox.Literal) and not term.language and term.datatype.value == XSD_STRING:
        return string_literal(term.value)
    return str(term)


def _page_number(value, where: str) -> int:
    """A ``limit``/``offset`` value: a whole number of rows, 0 or more."""
    if isinstance(value, bool):
        raise InputError(f"{where}: {value!r} is not a whole number of rows")
    text = str(value).strip()
    if not re.fullmatch(r"\d{1,9}", text):
        raise InputError(f"{where}: {text!r} is not a whole number of rows (0 or more)")
    return int(text)


def to_term(kg, param: Param, value) -> ox.NamedNode | ox.Literal:
    """Turn one typed-in value into a validated RDF term, or raise InputError naming the parameter."""
    where = f"parameter {param.name} ({param.type})"
    if param.type == "number":
        return _number(value, where)
    text = str(value).strip()
    if not text:
        raise InputError(f"{where}: empty value")
    if param.type == "label":
        return ox.NamedNode(resolve_label(kg, text, where))
    if param.type == "iri":
        return _iri(text, where)
    return ox.Literal(text)


def resolve_label(kg, text: str, where: str) -> str:
    """The IRI of the term whose label or synonym is ``text`` (case-, spacing- and spelling-insensitive).

    Unknown text is an InputError listing the closest known labels and synonyms.
    """
    if kg is None:
        raise InputError(f"{where}: labels need the loaded graph to resolve them")
    try:
        return kg.resolve(text, parameter=where).iri
    except InputError:
        from ..store.graph import normalise

        index = kg.name_index()
        close = []
        for key in difflib.get_close_matches(normalise(text), list(index), n=12, cutoff=0.0):
            label = kg.label(index[key][0][0])
            if label not in close:
                close.append(label)
        hint = f"; closest known labels: {', '.join(repr(c) for c in close[:5])}" if close else ""
        raise InputError(f"{where}: unknown label {text!r}{hint}") from None


def _number(value, where: str) -> ox.Literal:
    if isinstance(value, bool):
        raise InputError(f"{where}: {value!r} is not a number")
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=XSD_INTEGER)
    if isinstance(value, (float, Decimal)):
        value = format(Decimal(str(value)), "f")
    text = str(value).strip()
    if len(text) > MAX_NUMBER_CHARS:
        raise InputError(f"{where}: a number of {len(text):,} characters; at most {MAX_NUMBER_CHARS} are accepted")
    if not _NUMBER.match(text):
        raise InputError(f"{where}: {text!r} is not a number")
    try:
        Decimal(text)
    except InvalidOperation:
        raise InputError(f"{where}: {text!r} is not a number") from None
    if "." in text:
        return ox.Literal(text, datatype=XSD_DECIMAL)
    return ox.Literal(str(int(text)), datatype=XSD_INTEGER)


def _iri(text: str, where: str) -> ox.NamedNode:
    doi = _DOI.match(text)
    if doi:
        iri = "https://doi.org/" + doi.group(1).lower()
    else:
        try:
            iri = expand(text)
        except ValueError as exc:
            raise InputError(f"{where}: {text!r} is not an IRI, a CURIE or a DOI ({exc})") from None
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", iri):
        raise InputError(f"{where}: {text!r} is not an absolute IRI")
    try:
        return ox.NamedNode(iri)
    except ValueError as exc:
        raise InputError(f"{where}: {text!r} is not a valid IRI ({exc})") from None


# -- embedded engines ------------------------------------------------------------------------------
class RowCap:
    """Counts rows as an engine yields them; more than ``limit`` stops the query with a clear message."""

    def __init__(self, limit: int | None):
        self.limit = DEFAULT_MAX_ROWS if limit is None else limit
        self.n = 0

    def tick(self) -> None:
        self.n += 1
        if self.n > self.limit:
            raise QueryError(f"the query returned more than {self.limit:,} rows and was stopped; narrow it, add "
                             "LIMIT, or raise --max-rows")


def select_oxigraph(store: ox.Store, text: str, max_rows: int | None = None) -> Result:
    """Evaluate a read-only query on an Oxigraph store.

    The text is checked again here, as the engine reads it (second line of defence: Oxigraph would
    evaluate SERVICE by fetching the URL), with its size and nesting bounded (deep nesting overflows
    Oxigraph's stack and ends the process).
    """
    check_read_only(text)
    cap = RowCap(max_rows)
    try:
        answer = store.query(text)
        if isinstance(answer, ox.QueryBoolean):
            return Result(boolean=bool(answer))
        if isinstance(answer, ox.QueryTriples):
            return _triples(((t.subject, t.predicate, t.object) for t in answer), cell_from_oxigraph, cap)
        return _solutions([v.value for v in answer.variables], answer, cell_from_oxigraph, cap)
    except SyntaxError as exc:
        raise InputError(f"SPARQL syntax error: {_first_line(exc)}") from None
    except (OSError, RuntimeError, ValueError) as exc:
        raise QueryError(f"query failed in Oxigraph: {_first_line(exc)}") from None


def _triples(triples, cell, cap: "RowCap") -> Result:
    """A graph answer (CONSTRUCT/DESCRIBE) as rows, each engine's terms turned into cells by ``cell``."""
    rows = []
    for t in triples:
        cap.tick()
        rows.append(tuple(cell(x) for x in t))
    return triples_result(rows)


def _solutions(names: list[str], solutions, cell, cap: "RowCap") -> Result:
    """A SELECT answer as rows (unbound variables left out), each engine's terms turned into cells by ``cell``."""
    bindings = []
    for solution in solutions:
        cap.tick()
        row = {}
        for name in names:
            value = solution[name]
            if value is not None:
                row[name] = cell(value)
        bindings.append(row)
    return Result(variables=names, bindings=bindings)


def _cell_rdflib(term) -> Cell:
    import rdflib

    if isinstance(term, rdflib.URIRef):
        return Cell("uri", str(term))
    if isinstance(term, rdflib.BNode):
        return Cell("bnode", str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return Cell("literal", str(term), RDF_LANGSTRING, term.language)
        return Cell("literal", str(term), str(term.datatype) if term.datatype else XSD_STRING)
    return Cell("literal", str(term))


def select_rdflib(graph, text: str, max_rows: int | None = None) -> Result:
    """Evaluate a read-only query with rdflib's SPARQL engine (see :func:`_lazy_pure_joins`).

    Second line of defence after :func:`check_read_only`: the parsed algebra is searched for SERVICE and
    dataset clauses, rdflib's SERVICE evaluation is replaced by a refusal, and FROM graphs are never loaded.
    """
    check_read_only(text)
    cap = RowCap(max_rows)
    try:
        from rdflib.plugins.sparql import prepareQuery

        disarm_rdflib()
        prepared = prepareQuery(text)
        _refuse_remote_parts(prepared.algebra)
        _lazy_pure_joins(prepared.algebra)
        answer = graph.query(prepared)
        if answer.type == "ASK":
            return Result(boolean=bool(answer.askAnswer))
        if answer.type in ("CONSTRUCT", "DESCRIBE"):
            return _triples(answer.graph, _cell_rdflib, cap)
        return _solutions([str(v) for v in answer.vars], answer, _cell_rdflib, cap)
    except BmlkgError:
        raise
    except RecursionError:
        raise InputError("query nested too deeply for rdflib's parser") from None
    except Exception as exc:  # pyparsing errors and rdflib's evaluation errors share no base class
        kind = type(exc).__name__
        if "Parse" in kind:
            raise InputError(f"SPARQL syntax error: {_first_line(exc)}") from None
        raise QueryError(f"query failed in rdflib: {kind}: {_first_line(exc)}") from None


SERVICE_REFUSED = "SERVICE (federated query) is refused: bmlkg queries never reach other endpoints"


def _refuse_service_eval(ctx, part):  # rdflib CUSTOM_EVALS hook
    if getattr(part, "name", None) == "ServiceGraphPattern":
        raise QueryError(SERVICE_REFUSED)
    raise NotImplementedError


def disarm_rdflib() -> None:
    """rdflib must never fetch: no SERVICE evaluation, no loading of FROM graphs."""
    import rdflib.plugins.sparql as rdflib_sparql

    rdflib_sparql.SPARQL_LOAD_GRAPHS = False
    rdflib_sparql.CUSTOM_EVALS["bmlkg-no-service"] = _refuse_service_eval


def _refuse_remote_parts(node, seen: set | None = None) -> None:
    """Raise QueryError when the parsed query holds SERVICE or a dataset clause (FROM / FROM NAMED)."""
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            if item.name == "ServiceGraphPattern":
                raise QueryError(SERVICE_REFUSED)
            if dict.get(item, "datasetClause"):
                raise QueryError("FROM / FROM NAMED dataset clauses are refused: queries run on the loaded "
                                 "graph only")
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def _lazy_pure_joins(node) -> None:
    """Let rdflib pass bindings into a join's right side when that gives exactly the standard join.

    rdflib evaluates a join "lazily" (feeding each left solution's bindings into the right side) only when
    neither side contains another join, so in a group of three or more parts every later part is
    evaluated with nothing bound: a parameter's ``VALUES`` block no longer anchors an ``rdfs:subClassOf*``
    path, which then runs over every node (minutes instead of milliseconds). Feeding bindings in is
    exact when the right side only matches patterns: basic graph patterns, VALUES data, unions and joins
    of those, and BIND/FILTER whose expressions read only variables their own pattern binds (no EXISTS)
    and, for BIND, a new variable the left side does not bind. Such joins are marked lazy; everything
    else (subqueries, OPTIONAL, MINUS, aggregates, EXISTS) keeps rdflib's bottom-up evaluation.
    """
    from rdflib.plugins.sparql.parserutils import CompValue

    if isinstance(node, CompValue):
        if node.name == "Join" and not node.get("lazy"):
            left = node.get("p1")
            bound = set(left.get("_vars") or ()) if isinstance(left, CompValue) else set()
            if _pure_pattern(node.get("p2"), bound):
                node["lazy"] = True
        for value in node.values():
            _lazy_pure_joins(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _lazy_pure_joins(value)


def _pure_pattern(node, outer: set) -> bool:
    from rdflib.plugins.sparql.parserutils import CompValue

    if not isinstance(node, CompValue):
        return False
    if node.name == "BGP":
        return True
    if node.name == "ToMultiSet":
        inner = node.get("p")
        return isinstance(inner, CompValue) and inner.name == "values"
    if node.name in ("Union", "Join"):
        return _pure_pattern(node.get("p1"), outer) and _pure_pattern(node.get("p2"), outer)
    if node.name in ("Extend", "Filter"):
        inner = node.get("p")
        if not _pure_pattern(inner, outer) or not isinstance(inner, CompValue):
            return False
        used = _expression_vars(node.get("expr"))
        if used is None or not used <= set(inner.get("_vars") or ()):
            return False
        return node.name == "Filter" or node.get("var") not in outer
    return False


def _expression_vars(expr, found: set | None = None) -> set | None:
    """Variables an expression reads; None when it holds EXISTS (whose pattern sees the solution)."""
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.term import Variable

    found = set() if found is None else found
    if isinstance(expr, Variable):
        found.add(expr)
    elif isinstance(expr, CompValue):
        if expr.name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
            return None
        for value in expr.values():
            if _expression_vars(value, found) is None:
                return None
    elif isinstance(expr, (list, tuple)):
        for value in expr:
            if _expression_vars(value, found) is None:
                return None
    return found


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- the deadline ----------------------------------------------------------------------------------
def run_with_deadline(work: Callable[[], Result], timeout: float | None, shown: float | None = None) -> Result:
    """Run ``work`` in a forked worker process and kill it at the deadline (QueryTimeout).

    A forked child shares the parent's loaded graph copy-on-write, so nothing is reloaded; killing the
    child stops the query's work for real, and the parent's store is never touched by it. The worker dies
    with its parent (SIGTERM, SIGHUP or SIGKILL of bmlkg included), holds none of its output streams, and runs
    without network where the system allows (a fresh network namespace).
    """
    if timeout is None:
        return work()
    timeout = check_seconds("--timeout", timeout)
    if "fork" not in multiprocessing.get_all_start_methods():
        raise QueryError("query timeouts need os.fork (POSIX); run without --timeout on this system")
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    worker = ctx.Process(target=_worker, args=(work, sender, os.getpid()), daemon=True)
    worker.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            limit = timeout if shown is None else shown
            raise QueryTimeout(f"query stopped after {limit:g} s (--timeout); narrow it or raise the limit")
        try:
            status, payload = receiver.recv()
        except (EOFError, OSError):
            worker.join(1)
            raise QueryError(f"query worker ended without an answer (exit code {worker.exitcode})") from None
    finally:
        receiver.close()
        if worker.is_alive():
            worker.kill()
        worker.join()
    if status == "error":
        raise payload
    return payload


def _isolate_worker(parent: int) -> None:
    """First steps of a forked worker: die with the parent, default signal actions, no stdio, no network."""
    from ..store.procs import child_dies_with_parent, reset_signals_in_child

    child_dies_with_parent(parent)
    reset_signals_in_child()
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)
    except OSError:
        pass
    try:  # a network namespace of its own: even a SERVICE that got this far reaches nothing
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.unshare(0x10000000 | 0x40000000)  # CLONE_NEWUSER | CLONE_NEWNET; fails harmlessly where refused
    except (OSError, AttributeError):
        pass


def _worker(work: Callable[[], Result], sender, parent: int) -> None:
    try:
        _isolate_worker(parent)
        outcome = ("ok", work())
    except BmlkgError as exc:
        outcome = ("error", exc)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as a QueryError
        outcome = ("error", QueryError(f"query failed: {type(exc).__name__}: {_first_line(exc)}"))
    try:
        sender.send(outcome)
    finally:
        sender.close()
        os._exit(0)


# -- running ---------------------------------------------------------------------------------------
def execute(kg, text: str, *, engine: str | None = None, endpoint: str | None = None,
            timeout: float | None = None, max_rows: int | None = None) -> Result:
    """Run read-only SPARQL text on the chosen engine (embedded by default, or ``endpoint``).

    The deadline covers the whole request: reading the text (size-bounded, tokenised here) counts against it.
    """
    import time

    started = time.monotonic()
    if timeout is not None:
        timeout = check_seconds("--timeout", timeout)
    if max_rows is not None:
        check_rows("--max-rows", max_rows)
    check_read_only(text)
    limit = timeout
    if timeout is not None:
        left = timeout - (time.monotonic() - started)
        if left <= 0:
            raise QueryTimeout(f"query stopped after {timeout:g} s (--timeout) while being read; narrow it or raise "
                               "the limit")
        timeout = left
    if endpoint:
        if engine not in (None, "oxigraph"):
            raise InputError("choose either --engine or --endpoint, not both")
        from .remote import select_remote

        return select_remote(endpoint, text, timeout=timeout, max_rows=max_rows)
    engine = engine or "oxigraph"
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}; valid engines: {', '.join(ENGINES)}")
    if kg is None:
        raise InputError("no graph loaded for the embedded engine")
    if engine == "rdflib":
        graph = kg.rdflib_graph()  # built before a fork, so the worker inherits it
        return run_with_deadline(lambda: select_rdflib(graph, text, max_rows), timeout, limit)
    store = kg.store
    return run_with_deadline(lambda: select_oxigraph(store, text, max_rows), timeout, limit)


def run(kg, name: str, params: Mapping[str, object] | None = None, *, engine: str | None = None,
        endpoint: str | None = None, timeout: float | None = None, folder: Path | None = None,
        max_rows: int | None = None) -> Result:
    """Run the library query ``name`` with ``params`` bound; returns a :class:`Result`."""
    query = get_query(name, folder)
    result = execute(kg, bind(kg, query, params), engine=engine, endpoint=endpoint, timeout=timeout,
                     max_rows=max_rows)
    return sort_concatenations(result, group_concat_columns(query.text))


def sort_concatenations(result: Result, columns: Mapping[str, str]) -> Result:
    """Sort the parts of GROUP_CONCAT values: engines concatenate in their own order, so sorted parts
    make a library query's answer the same on every engine."""
    if not columns:
        return result
    for row in result.bindings:
        for name, separator in columns.items():
            cell = row.get(name)
            if cell is not None and cell.type == "literal" and separator:
                parts = sorted(cell.value.split(separator))
                row[name] = Cell(cell.type, separator.join(parts), cell.datatype, cell.lang)
    return result


def run_sparql(kg, text: str, *, engine: str | None = None, endpoint: str | None = None,
               timeout: float | None = None, max_rows: int | None = None) -> Result:
    """Run a user's own query text, read-only (updates, SERVICE and FROM are refused before evaluation)."""
    return execute(kg, text, engine=engine, endpoint=endpoint, timeout=timeout, max_rows=max_rows)


def query_rows(kg, name: str, *, engine: str | None = None, endpoint: str | None = None,
               timeout: float | None = None, **params) -> list[dict]:
    """``kg.query(name, **params)``: the rows of a library query as plain dicts."""
    return run(kg, name, params, engine=engine, endpoint=endpoint, timeout=timeout).rows()


def readme_section(queries: Iterable[QueryFile]) -> str:
    """The generated README block, markers included."""
    return f"{README_START}\n{catalogue_markdown(queries)}{README_END}"
