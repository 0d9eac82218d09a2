"""The ``bmlkg`` command: the only place that parses argv, prints and sets exit codes.

Exit codes: 0 ok, 1 findings or violations (report still written), 2 bad input or environment.
Errors are one line on stderr (``bmlkg: error: …``); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
import time
from enum import Enum
from pathlib import Path
from typing import Callable, List, Optional

import typer

from .store.errors import BmlkgError
from .store.procs import Terminated, terminate_on_signals

app = typer.Typer(
    add_completion=False,
    rich_markup_mode=None,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="bmlkg: knee bone marrow lesion / bone marrow oedema knowledge graph. "
    "Exit codes: 0 ok, 1 findings or violations, 2 bad input or environment.",
)
_STATE = {"debug": False, "quiet": False}


def _err(message: str) -> None:
    from .store.errors import one_line

    sys.stderr.write(f"bmlkg: error: {one_line(message)}\n")


def _progress(message: str) -> None:
    if not _STATE["quiet"]:
        sys.stderr.write(f"  … {message}\n")
        sys.stderr.flush()


def run(fn: Callable[[], int | None]) -> None:
    """Call ``fn`` and turn its result or exception into the documented exit code."""
    try:
        code = fn() or 0
    except BmlkgError as exc:
        if _STATE["debug"]:
            raise
        _err(str(exc))
        raise typer.Exit(exc.exit_code)
    except KeyboardInterrupt:
        _err("interrupted")
        raise typer.Exit(130)
    except Terminated as exc:
        _err(f"stopped by {exc.name}; nothing was left half-written")
        raise typer.Exit(exc.exit_code)
    except RecursionError:
        if _STATE["debug"]:
            raise
        _err("input nested too deeply to process (a recursion limit was reached)")
        raise typer.Exit(2)
    raise typer.Exit(code)


@app.callback()
def main_options(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks instead of one-line errors."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress messages on stderr."),
) -> None:
    _STATE["debug"] = debug
    _STATE["quiet"] = quiet


class FailOn(str, Enum):
    ERROR = "ERROR"
    WARN = "WARN"
    INFO = "INFO"
    none = "none"


class ReportFormat(str, Enum):
    table = "table"
    tsv = "tsv"
    json = "json"


SOURCE_OPT = typer.Option(None, "--source", help="Folder of ontology sources (default: the packaged ontology/).")


def _check_options(no_reasoner: bool, memory: int, timeout: float, against: Optional[Path] = None):
    from .checks.qc import CheckOptions
    from .checks.reasoning import check_limits

    if not no_reasoner:
        check_limits(memory, timeout)  # one line before anything is loaded, not a check that "could not run"

    return CheckOptions(reasoner=not no_reasoner, reasoner_memory_mb=memory, reasoner_timeout_s=timeout,
                        against_manifest=against)


def _write_report(report, fmt: ReportFormat, path: Optional[Path]) -> None:
    from .store.fileio import atomic_write

    text = {"table": report.to_table, "tsv": report.to_tsv, "json": report.to_json}[fmt.value]()
    if path is not None:
        atomic_write(path, text)
    elif text.strip():
        sys.stdout.write(_display(text, fmt.value))


@app.command()
def check(
    source: Optional[Path] = SOURCE_OPT,
    fail_on: FailOn = typer.Option(FailOn.ERROR, "--fail-on", help="Lowest level that fails the run."),
    fmt: ReportFormat = typer.Option(ReportFormat.table, "--format", help="Report format."),
    report_path: Optional[Path] = typer.Option(None, "--report", help="Write the report to this file."),
    no_reasoner: bool = typer.Option(False, "--no-reasoner", help="Skip HermiT (SHACL and QC only)."),
    reasoner_memory: int = typer.Option(2000, "--reasoner-memory", help="Java heap for HermiT, in MB."),
    reasoner_timeout: float = typer.Option(300.0, "--reasoner-timeout", help="Seconds before HermiT is stopped."),
    against: Optional[Path] = typer.Option(None, "--against", help="A released MANIFEST.json: fail if the graph "
                                           "changed but the version did not."),
) -> None:
    """Run the checks only: SHACL shapes, QC queries and HermiT. Exit 1 on findings at --fail-on level."""

    def go() -> int:
        from .build import BuildOptions, check as run_check

        opts = BuildOptions(source=source,
                            check=_check_options(no_reasoner, reasoner_memory, reasoner_timeout, against))
        result = run_check(opts, progress=_progress)
        _write_report(result.report, fmt, report_path)
        sys.stderr.write(result.report.verdict(fail_on.value) + "\n")
        if result.report.not_run:
            return 2
        return 1 if result.report.failed(fail_on.value) else 0

    run(go)


@app.command()
def build(
    source: Optional[Path] = SOURCE_OPT,
    out: Path = typer.Option(Path("exports"), "--out", help="Output folder for exports and HTML views."),
    fail_on: FailOn = typer.Option(FailOn.ERROR, "--fail-on", help="Lowest check level that stops the build."),
    report_path: Optional[Path] = typer.Option(None, "--report", help="Also write the check report (TSV) here."),
    no_render: bool = typer.Option(False, "--no-render", help="Skip the HTML views."),
    reasoner_memory: int = typer.Option(2000, "--reasoner-memory", help="Java heap for HermiT, in MB."),
    reasoner_timeout: float = typer.Option(300.0, "--reasoner-timeout", help="Seconds before HermiT is stopped."),
    force: bool = typer.Option(False, "--force", help="Write into a folder holding files bmlkg did not write, "
                               "replacing those of the same names (other files are left alone)."),
) -> None:
    """Check, export every format and render the HTML views; print a summary and where the files are.

    Only files an earlier bmlkg build recorded (MANIFEST.json, html/.bmlkg-manifest.json) are replaced or
    removed; a folder holding anything else is refused unless --force."""

    def go() -> int:
        from .build import BuildOptions, build as run_build
        from .store.vocab import curie

        opts = BuildOptions(
            source=source, out=out, render=not no_render, fail_on=fail_on.value, force=force,
            check=_check_options(False, reasoner_memory, reasoner_timeout),
        )
        started = time.monotonic()
        result = run_build(opts, progress=_progress)
        if report_path is not None:
            _write_report(result.report, ReportFormat.tsv, report_path)
        counts = result.kg.counts()
        print(f"bmlkg {result.kg.version()}  ({result.kg.version_iri()})")
        print(
            f"  {counts['triples']} triples · {counts['classes']} classes · {counts['individuals']} individuals · "
            f"{counts['claims']} claims ({counts['statistics']} statistical) · {counts['sources']} sources "
            f"({counts['dois']} with DOI)"
        )
        print(f"  {result.report.verdict(fail_on.value)}")
        warnings = [f for f in result.report.findings if f.level == "WARN"]
        for finding in warnings[:10]:
            print(f"    WARN {finding.check}: {curie(finding.entity)}")
        if len(warnings) > 10:
            print(f"    … {len(warnings) - 10} more: see `bmlkg check`")
        if not result.exported:
            sys.stdout.write(_display(result.report.to_table(), "table"))
            print("  nothing exported: fix the findings above (or see --fail-on)")
            return 1
        print(f"  HermiT: consistent, {result.inferred} inferred subclass link(s) added; "
              f"{counts['derived_edges']} term edges derived from claims; "
              f"{counts['derived_certainty']} claims given a derived certainty level")
        print(f"  exports ({len(result.written)} files) in {Path(out)}/")
        conformance = Path(out) / "queries"  # the query conformance manifest: one line, not 100+
        folded = [p for p in result.written if Path(p).parent == conformance]
        for path in result.written:
            if Path(path).parent != conformance:
                print(f"    {path}")
            elif path == folded[0]:
                print(f"    {conformance}/ ({len(folded)} files: manifest.ttl, every library query bound with "
                      f"its example and its expected results)")
        if result.html:
            print(f"  HTML views ({len(result.html)} files): open {Path(out) / 'html' / 'index.html'}")
        timing = " · ".join(f"{k} {v:.2f}s" for k, v in result.stages.items())
        print(f"  done in {time.monotonic() - started:.1f}s ({timing})")
        return 0

    run(go)


@app.command("diff")
def diff_cmd(
    old: Path = typer.Argument(..., help="Old build: an export file (.ttl/.nt/.owl/.jsonld) or a source folder."),
    new: Path = typer.Argument(..., help="New build, same kinds as OLD."),
) -> None:
    """Statements added (+) and removed (-) between two builds. Exit 0 when equal, 1 when they differ."""

    def go() -> int:
        from .checks.diff import diff

        result = diff(old, new)
        for line in result.lines():
            print(line)
        sys.stderr.write(result.summary() + "\n")
        return 0 if result.same else 1

    run(go)


# -- the SPARQL library (bmlkg/query/) ---------------------------------------
ENGINE_OPT = typer.Option(None, "--engine", help="Embedded engine: oxigraph (default) or rdflib.")
ENDPOINT_OPT = typer.Option(None, "--endpoint", help="Run on a SPARQL 1.1 endpoint (its query URL) instead.")
TIMEOUT_OPT = typer.Option(60.0, "--timeout", help="Seconds before the query is stopped.")
MAX_ROWS_OPT = typer.Option(100_000, "--max-rows", help="Stop the query when it returns more rows than this.")
RESULT_FORMAT_OPT = typer.Option("table", "--format", help="table, csv, tsv or json (W3C SPARQL results JSON).")


def _choice(option: str, value: str, valid) -> str:
    from .store.errors import InputError

    if value not in valid:
        raise InputError(f"{option}: unknown value {value!r}; valid values: {', '.join(valid)}")
    return value


def _check_limits(timeout, max_rows) -> None:
    from .store.limits import check_rows, check_seconds

    check_seconds("--timeout", timeout)
    if max_rows is not None:
        check_rows("--max-rows", max_rows)


def _display(text: str, fmt: str) -> str:
    """Table output is for a terminal: control characters from the data (escape sequences) are shown escaped.
    CSV, TSV and JSON stay byte-exact data."""
    if fmt != "table":
        return text
    from .store.errors import escape_controls

    return escape_controls(text, keep="\n\t")


def _read_query(file: str) -> str:
    """The text of a query file (or - for standard input), read with a size bound; one-line errors."""
    from .store.errors import InputError
    from .store.limits import MAX_QUERY_BYTES

    where = "standard input" if file == "-" else file
    try:
        if file == "-":
            data = sys.stdin.buffer.read(MAX_QUERY_BYTES + 1)
        else:
            path = Path(file)
            if not path.exists():
                raise InputError(f"{file}: no such file")
            if path.is_dir():
                raise InputError(f"{file}: is a folder, not a query file")
            with open(path, "rb") as handle:
                data = handle.read(MAX_QUERY_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{where}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_QUERY_BYTES:
        raise InputError(f"{where}: more than {MAX_QUERY_BYTES:,} bytes; a query file is refused beyond that")
    if b"\x00" in data:
        raise InputError(f"{where}: holds NUL bytes: not a SPARQL text file")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{where}:{line}: not UTF-8 text (byte {exc.start})") from None


def _parse_params(pairs: List[str]) -> dict:
    from .store.errors import InputError

    params: dict = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--param {pair!r}: expected NAME=VALUE")
        params.setdefault(name.strip(), []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in params.items()}


@app.command("queries")
def queries_cmd(
    tag: Optional[str] = typer.Option(None, "--tag", help="Only queries with this tag (e.g. cq, imaging, qc)."),
    fmt: str = typer.Option("table", "--format", help="table, json or markdown (the README catalogue table)."),
) -> None:
    """List the SPARQL query library: each query's name, question, tags and parameters."""

    def go() -> int:
        import json

        from .query.engines import LIST_FORMATS, catalogue, catalogue_markdown, catalogue_table, with_tag

        _choice("--format", fmt, LIST_FORMATS)
        chosen = with_tag(catalogue(), tag)
        if fmt == "json":
            sys.stdout.write(json.dumps([q.as_dict() for q in chosen], indent=2, ensure_ascii=False) + "\n")
        elif fmt == "markdown":
            sys.stdout.write(catalogue_markdown(chosen))
        else:
            sys.stdout.write(catalogue_table(chosen))
        return 0

    run(go)


@app.command("query")
def query_cmd(
    name: str = typer.Argument(..., help="Query name (see `bmlkg queries`)."),
    param: List[str] = typer.Option([], "--param", "-p", help="NAME=VALUE; repeat for more values or parameters."),
    fmt: str = RESULT_FORMAT_OPT,
    engine: Optional[str] = ENGINE_OPT,
    endpoint: Optional[str] = ENDPOINT_OPT,
    timeout: float = TIMEOUT_OPT,
    max_rows: int = MAX_ROWS_OPT,
    source: Optional[Path] = SOURCE_OPT,
) -> None:
    """Run a library query with its parameters bound; results ordered, labels beside IRIs."""

    def go() -> int:
        from .api import load
        from .query.engines import ENGINES, FORMATS, get_query, run as run_query

        _choice("--format", fmt, FORMATS)
        if engine is not None:
            _choice("--engine", engine, ENGINES)
        _check_limits(timeout, max_rows)
        query = get_query(name)
        params = _parse_params(param)
        needs_graph = not endpoint or any(p.type == "label" for p in query.params)
        kg = load(source) if needs_graph else None
        result = run_query(kg, name, params, engine=engine, endpoint=endpoint, timeout=timeout, max_rows=max_rows)
        sys.stdout.write(_display(result.serialise(fmt), fmt))
        return 0

    run(go)


@app.command("sparql")
def sparql_cmd(
    file: str = typer.Argument(..., help="A file holding one SPARQL query, or - for standard input."),
    fmt: str = RESULT_FORMAT_OPT,
    engine: Optional[str] = ENGINE_OPT,
    endpoint: Optional[str] = ENDPOINT_OPT,
    timeout: float = TIMEOUT_OPT,
    max_rows: int = MAX_ROWS_OPT,
    source: Optional[Path] = SOURCE_OPT,
) -> None:
    """Run your own read-only SPARQL query (updates, SERVICE and FROM are refused before it runs)."""

    def go() -> int:
        from .api import load
        from .query.engines import ENGINES, FORMATS, run_sparql
        from .query.sparqltext import check_read_only

        _choice("--format", fmt, FORMATS)
        if engine is not None:
            _choice("--engine", engine, ENGINES)
        _check_limits(timeout, max_rows)
        text = _read_query(file)
        check_read_only(text)  # refuse before loading anything
        kg = None if endpoint else load(source)
        result = run_sparql(kg, text, engine=engine, endpoint=endpoint, timeout=timeout, max_rows=max_rows)
        sys.stdout.write(_display(result.serialise(fmt), fmt))
        return 0

    run(go)


GRAPH_FILE_OPT = typer.Option(None, "--file", help="An RDF file to use instead of the sources, e.g. a build's "
                                                 "exports/bmlkg.nt (with HermiT's inferred links).")


def _graph_triples(graph_file: Optional[Path], source: Optional[Path]) -> list:
    """The triples of --file (an export), or of the graph loaded from --source."""
    from .store.errors import InputError
    from .api import load
    from .store.graph import parse_source

    if graph_file is not None:
        if source is not None:
            raise InputError("give either --file or --source, not both")
        return parse_source(graph_file)
    return load(source).triples


@app.command("serve")
def serve_cmd(
    port: int = typer.Option(7878, "--port", help="TCP port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback by default)."),
    query_timeout: Optional[float] = typer.Option(None, "--timeout", help="Seconds before the server stops a query."),
    idle_timeout: float = typer.Option(10.0, "--idle-timeout", help="Seconds a client may take to send its request "
                                       "(headers, then body) before the connection is closed."),
    per_client: int = typer.Option(16, "--per-client", help="Connections one client address may hold at once."),
    graph_file: Optional[Path] = GRAPH_FILE_OPT,
    source: Optional[Path] = SOURCE_OPT,
) -> None:
    """Serve the graph as a read-only SPARQL endpoint on localhost (Oxigraph); Ctrl-C stops it."""

    def go() -> int:
        from .query.serve import check_host, serve
        from .store.limits import check_seconds

        check_host(host)  # options are checked before the graph is loaded
        if query_timeout is not None:
            check_seconds("--timeout", query_timeout)
        check_seconds("--idle-timeout", idle_timeout)
        triples = _graph_triples(graph_file, source)
        _progress(f"loaded {len(triples)} triples; starting the Oxigraph server")

        def announce(line: str) -> None:
            print(line, flush=True)

        return serve(triples, host=host, port=port, timeout_s=query_timeout, announce=announce,
                     idle_s=idle_timeout, per_client=per_client)

    run(go)


@app.command("push")
def push_cmd(
    endpoint: str = typer.Option(..., "--endpoint", help="Graph Store Protocol URL: Oxigraph http://HOST:PORT/store, "
                                 "Fuseki http://HOST:PORT/DATASET/data, Virtuoso http://HOST:PORT/sparql-graph-crud."),
    graph: Optional[str] = typer.Option(None, "--graph", help="Named graph IRI (default: the default graph; "
                                        "Virtuoso has none, so give one)."),
    append: bool = typer.Option(False, "--append", help="POST (add to the graph) instead of PUT (replace it)."),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds before the upload is abandoned."),
    graph_file: Optional[Path] = GRAPH_FILE_OPT,
    source: Optional[Path] = SOURCE_OPT,
) -> None:
    """Upload the graph to a SPARQL 1.1 Graph Store (N-Triples; PUT replaces, --append adds).

    Credentials, when the server asks (basic or digest): BMLKG_PUSH_USER and BMLKG_PUSH_PASSWORD in the
    environment, or a netrc entry for the host (~/.netrc or $NETRC); never on the command line.
    """

    def go() -> int:
        from .query.push import push

        _check_limits(timeout, None)
        triples = _graph_triples(graph_file, source)
        result = push(triples, endpoint, graph=graph, replace=not append, timeout=timeout)
        auth = f", {result.auth} authentication" if result.auth else ""
        print(f"pushed {result.triples} triples to {result.url} ({result.method}, HTTP {result.status}{auth})")
        return 0

    run(go)


OUTPUT_FORMATS = ("table", "json")


@app.command("differential")
def differential_cmd(
    finding: List[str] = typer.Option([], "--finding", "-f", help="A finding as you would type it; repeat for more."),
    context: List[str] = typer.Option([], "--context", "-c", help="Context: history, age and sex ('man aged 40'), "
                                      "conditions; 'no X' means X is absent. Repeat for more."),
    absent: List[str] = typer.Option([], "--absent", "-a", help="A finding or context known to be absent; repeat."),
    fmt: str = typer.Option("table", "--format", help="table or json (schema: docs/differential.md)."),
    top: Optional[int] = typer.Option(None, "--top", help="Show only the first N categories and conditions."),
    strict: bool = typer.Option(False, "--strict", help="Fail (exit 2) when an input cannot be resolved."),
    source: Optional[Path] = SOURCE_OPT,
) -> None:
    """Rank the causes of bone marrow oedema for findings and context, with reasons, red flags and sources."""

    def go() -> int:
        from .store.errors import InputError
        from .api import load

        _choice("--format", fmt, OUTPUT_FORMATS)
        if top is not None and top < 1:
            raise InputError(f"--top: must be at least 1, not {top}")
        result = load(source).differential(finding, context=context, absent=absent, top=top, strict=strict)
        for problem in result.unresolved:
            hint = f" (closest known terms: {', '.join(problem.suggestions)})" if problem.suggestions else ""
            sys.stderr.write(f"bmlkg: warning: {problem.role} {problem.text!r} not used: {problem.reason}{hint}\n")
        sys.stdout.write(result.to_json() if fmt == "json" else _display(result.to_table(), "table"))
        return 0

    run(go)


@app.command("compare")
def compare_cmd(
    first: str = typer.Argument(..., help="A cause: condition or cause category (label, synonym or CURIE)."),
    second: str = typer.Argument(..., help="The cause to compare it with."),
    fmt: str = typer.Option("table", "--format", help="table or json (schema: docs/differential.md)."),
    source: Optional[Path] = SOURCE_OPT,
) -> None:
    """What distinguishes two causes, side by side: features with strengths, claims and sources."""

    def go() -> int:
        from .api import load

        _choice("--format", fmt, OUTPUT_FORMATS)
        result = load(source).compare(first, second)
        sys.stdout.write(result.to_json() if fmt == "json" else _display(result.to_table(), "table"))
        return 0

    run(go)


@app.command("evidence")
def evidence_cmd(
    term: str = typer.Argument(..., help="A treatment, finding, mechanism or condition, or a source (DOI, CURIE)."),
    design: Optional[str] = typer.Option(None, "--design", help="Only claims of this study design (e.g. 'cohort study')."),
    min_n: Optional[int] = typer.Option(None, "--min-n", help="Only claims with at least this sample size."),
    guideline: Optional[str] = typer.Option(None, "--guideline", help="Only claims with this guideline status."),
    year: Optional[str] = typer.Option(None, "--year", help="Cited paper issued in: 2025, 2020-2025, 2020-, -2020."),
    certainty: Optional[str] = typer.Option(None, "--certainty", help="Only claims with this derived certainty level "
                                            "(high, moderate, low, very low) or this reported certainty "
                                            "(e.g. 'low certainty', 'early-phase and often uncontrolled')."),
    fmt: str = typer.Option("table", "--format", help="table or json (schema: docs/differential.md)."),
    source: Optional[Path] = SOURCE_OPT,
) -> None:
    """Every claim about a term or source: statistic, interval, sample, design, status, certainty, sources."""

    def go() -> int:
        from .store.errors import InputError
        from .api import load

        _choice("--format", fmt, OUTPUT_FORMATS)
        if min_n is not None and min_n < 0:
            raise InputError(f"--min-n: must be zero or more, not {min_n}")
        result = load(source).evidence(term, design=design, min_n=min_n, guideline=guideline, year=year,
                                       certainty=certainty)
        sys.stdout.write(result.to_json() if fmt == "json" else _display(result.to_table(), "table"))
        return 0

    run(go)


@app.command("render")
def render_cmd(
    view: str = typer.Argument(..., help="The view: ontology, causes, mechanism, differential, treatment, term, "
                               "source, or classroom (the interactive classroom page)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="HTML file to write (default: a file named after "
                                       "the view in the current folder)."),
    term: Optional[str] = typer.Option(None, "--term", help="term view: the term (label, synonym or CURIE)."),
    depth: Optional[int] = typer.Option(None, "--depth", help="term view: how many steps out (1-4, default 1)."),
    treatment: Optional[str] = typer.Option(None, "--treatment", help="treatment view: the treatment."),
    source_: Optional[str] = typer.Option(None, "--source", help="source view: a DOI, a CURIE such as "
                                          "src:seed-000, or a title."),
    finding: List[str] = typer.Option([], "--finding", "-f", help="differential view: a finding; repeat for more."),
    context: List[str] = typer.Option([], "--context", "-c", help="differential view: context; repeat for more."),
    absent: List[str] = typer.Option([], "--absent", "-a", help="differential view: an absent finding; repeat."),
    ontology: Optional[Path] = typer.Option(None, "--ontology", help="Folder of ontology sources (default: the "
                                            "packaged ontology/)."),
) -> None:
    """Render one teaching view to a self-contained HTML page that works offline; print its path."""

    def go() -> int:
        from .api import load
        from .views.viewdata import CLASSROOM, view_spec

        if view != CLASSROOM:
            view_spec(view)  # an unknown view is refused before the graph is loaded
        path = load(ontology).render(view, out, term=term, depth=depth, treatment=treatment, source=source_,
                                     finding=finding, context=context, absent=absent)
        path = Path(path)
        try:
            path = path.resolve().relative_to(Path.cwd().resolve())
        except ValueError:
            pass  # outside the working directory: print it in full
        print(path)
        return 0

    run(go)


def main() -> None:
    """Console-script entry point: usage errors are one line too (``bmlkg: error: …``, exit 2)."""
    from typer import _click as click

    terminate_on_signals()
    try:
        code = app(standalone_mode=False, prog_name="bmlkg")
    except click.exceptions.NoArgsIsHelpError as exc:  # `bmlkg` alone: the help text, as before
        sys.stdout.write(exc.ctx.get_help() + "\n" if exc.ctx is not None else "")
        code = 2
    except click.exceptions.UsageError as exc:
        hint = ""
        if exc.ctx is not None and exc.ctx.command_path:
            hint = f" (see `{exc.ctx.command_path} --help`)"
        _err(f"{exc.format_message()}{hint}")
        code = 2
    except typer.Abort:
        _err("interrupted")
        code = 130
    except Terminated as exc:
        _err(f"stopped by {exc.name}")
        code = exc.exit_code
    except click.exceptions.ClickException as exc:
        _err(exc.format_message())
        code = exc.exit_code
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
