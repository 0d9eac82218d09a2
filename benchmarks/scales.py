"""The per-scale measurements, each engine in its own fresh process so peak memory is the engine's own.

``python -m benchmarks.scales default JOB OUT`` — the default engine, as a user runs bmlkg on a merged graph:
``bmlkg.load`` of the scaled sources (parse, de-duplicate, derive term edges), every library query bound with
its example parameters and timed on Oxigraph, then the RDF export (``kg.export``). It also writes the loaded
graph as N-Triples for the rdflib process, and every query's bound text, so both engines run the same text
on the same triples.

``python -m benchmarks.scales rdflib JOB OUT`` — the baseline: the same N-Triples file loaded into a fresh
Oxigraph store and into an rdflib Graph (the store load is timed here too, so the two loads are measured side
by side), then the same query texts on rdflib's engine. A query that runs past the job's cap is stopped and
reported as capped (its rows are then not compared).

Each process writes its figures as JSON to OUT and every query's rows, canonicalised and sorted, to
``OUT.rows.json`` for the equality check in the parent.
"""

from __future__ import annotations

import hashlib
import json
import re
import signal
import sys
import time
from pathlib import Path

from .stats import canonical_cell, median, p95, peak_rss_mb


class Capped(BaseException):
    """Raised by the alarm inside a query that ran past its cap (a BaseException: rdflib catches Exception)."""


def _on_alarm(_signum, _frame):
    raise Capped()


def _capped(work, cap_s: float | None):
    """Run ``work()``; raise Capped when it takes longer than ``cap_s`` seconds (pure-Python work only)."""
    if not cap_s:
        return work()
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, cap_s)
    try:
        return work()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


_CONCAT = re.compile(
    r"GROUP_CONCAT\s*\((?P<expr>[^;]*?)(?:;\s*separator\s*=\s*(?P<q>[\"'])(?P<sep>.*?)(?P=q))?\s*\)\s*AS\s+\?(?P<var>\w+)",
    re.IGNORECASE,
)


def concat_separators(text: str) -> dict[str, str]:
    """Variables bound by ``GROUP_CONCAT(… ; separator="…") AS ?v`` in a query, with their separators."""
    return {m.group("var"): (m.group("sep") if m.group("sep") is not None else " ") for m in _CONCAT.finditer(text)}


def _rows(result, text: str = "") -> dict:
    """Engine-independent rows, sorted (ties of ORDER BY may come back in either order).

    GROUP_CONCAT values are compared as sorted lists: SPARQL leaves the order of the concatenated values
    open, and the engines differ. ``raw`` fingerprints the rows before that normalisation, so a difference
    in order alone is still visible.
    """
    if result.boolean is not None:
        return {"rows": [["boolean", result.boolean]], "raw": str(result.boolean)}
    separators = concat_separators(text)
    raw, rows = [], []
    for key in result.comparable():
        cells = canonical_cell(key)
        raw.append(cells)
        fixed = list(cells)
        for i, var in enumerate(result.variables):
            cell = fixed[i]
            if var in separators and isinstance(cell, list) and cell and cell[0] == "literal":
                sep = separators[var]
                parts = cell[1].split(sep) if sep else list(cell[1])
                fixed[i] = [cell[0], sep.join(sorted(parts)), *cell[2:]]
        rows.append(fixed)
    order = lambda r: json.dumps(r)  # noqa: E731
    digest = hashlib.sha256(json.dumps(sorted(raw, key=order)).encode()).hexdigest()
    return {"rows": sorted(rows, key=order), "raw": digest}


def time_queries(run_one, texts: dict[str, str], reps: int, warmup: bool, cap_s: float | None,
                 budget_s: float = 5.0, skip: dict[str, str] | None = None, first_guard=None) -> tuple[dict, dict]:
    """Time every query: one warm-up run (untimed when ``warmup``), then up to ``reps`` timed runs.

    A slow query gets fewer timed runs (as many as fit in ``budget_s``, at least one); a query that runs
    past ``cap_s`` is stopped and reported as capped; queries named in ``skip`` are not run (the reason is
    reported). An unguarded first run longer than ``budget_s`` is itself the one timing. ``first_guard(work, cap_s)``
    runs the first run when the engine cannot be stopped by a signal
    (Oxigraph evaluates in native code): it must raise :class:`Capped` at the cap. A guarded first run is never
    a timing: it runs in a forked worker, whose fork and copy-on-write page faults are no part of the query
    (measured at x1000: 240 ms for a query that reads nothing, twice the in-process time for a page query), so at
    least one in-process run is timed after it. Returns per-query figures and per-query rows (from the first run).
    """
    figures, rows = {}, {}
    for name, text in texts.items():
        if skip and name in skip:
            figures[name] = {"skipped": skip[name]}
            continue
        times: list[float] = []
        try:
            started = time.perf_counter()
            first = (first_guard or _capped)(lambda: run_one(text), cap_s)
            elapsed = time.perf_counter() - started
            if first_guard is None and (not warmup or elapsed > budget_s):  # a slow query's first run is its timing
                times.append(elapsed)
            runs = min(reps, max(1, int(budget_s / max(elapsed, 1e-9)))) - len(times)
            for _ in range(runs):
                started = time.perf_counter()
                _capped(lambda: run_one(text), cap_s)
                times.append(time.perf_counter() - started)
        except Capped:
            figures[name] = {"capped": True, "cap_ms": round(cap_s * 1000), "runs": len(times)}
            continue
        except Exception as exc:  # a query the engine cannot run is a finding, not the end of the run
            figures[name] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
            continue
        figures[name] = {
            "median": round(median(times) * 1000, 3), "p95": round(p95(times) * 1000, 3),
            "runs": len(times), "rows": len(first),
        }
        rows[name] = _rows(first, text)
    return figures, rows


def _forked(work, cap_s: float | None):
    """Run ``work`` in a forked worker killed at ``cap_s`` (the query library's own deadline mechanism)."""
    from bmlkg.store.errors import QueryTimeout
    from bmlkg.query.engines import run_with_deadline

    try:
        return run_with_deadline(work, cap_s)
    except QueryTimeout:
        raise Capped() from None


def _write(out: Path, figures: dict, rows: dict) -> None:
    out.write_text(json.dumps(figures, indent=1, sort_keys=True), encoding="utf-8")
    Path(str(out) + ".rows.json").write_text(json.dumps(rows, sort_keys=True), encoding="utf-8")


def default_engine(job: dict, out: Path) -> None:
    import pyoxigraph as ox

    import bmlkg
    from bmlkg.query.engines import bind, catalogue, example_params, select_oxigraph

    started = time.perf_counter()
    kg = bmlkg.load(job["sources"])
    load_s = time.perf_counter() - started
    Path(job["loaded_nt"]).write_bytes(ox.serialize(kg.triples, format=ox.RdfFormat.N_TRIPLES))

    started = time.perf_counter()
    kg.labels()  # both indexes are built once per graph, on the first label a user resolves: timed on their own
    kg.name_index()
    name_index_s = time.perf_counter() - started
    texts, bind_ms = {}, {}
    bind_errors = {}
    for query in catalogue(Path(job["queries_dir"])):
        started = time.perf_counter()
        try:
            texts[query.name] = bind(kg, query, example_params(query))
        except Exception as exc:  # an example that no longer resolves: reported, the others still run
            bind_errors[query.name] = {"error": f"binding the example parameters: {exc}"}
            continue
        bind_ms[query.name] = round((time.perf_counter() - started) * 1000, 3)
    Path(job["texts"]).write_text(json.dumps(texts, indent=1, sort_keys=True), encoding="utf-8")

    store = kg.store
    figures, rows = time_queries(lambda text: select_oxigraph(store, text), texts, job["reps"], True,
                                 job.get("cap_s"), job["budget_s"], job.get("skip"), first_guard=_forked)
    for name, ms in bind_ms.items():
        figures[name]["bind_ms"] = ms
    figures.update(bind_errors)
    result = {
        "triples": len(kg.triples), "derived_edges": kg.derived_edges, "bmlkg_load_s": round(load_s, 3),
        "name_index_s": round(name_index_s, 3),
        "queries": figures, "peak_rss_mb_load_query": peak_rss_mb(),
    }
    _write(out, result, rows)  # saved before the export, in case the export is stopped at its cap
    if job.get("export_skip"):
        result["export_s"], result["export_skipped"] = None, job["export_skip"]
    else:
        try:
            started = time.perf_counter()
            _capped(lambda: kg.export(job["export_dir"]), job.get("export_cap_s"))
            result["export_s"] = round(time.perf_counter() - started, 3)
        except Capped:
            result["export_s"], result["export_capped_s"] = None, job["export_cap_s"]
    if result["export_s"] is None:  # the export did not finish: time the format writers on their own
        result["export_writers_s"] = _writers(kg, job.get("export_cap_s"))
    result["peak_rss_mb"] = peak_rss_mb()
    _write(out, result, rows)


def _writers(kg, cap_s: float | None) -> dict:
    """Each export format's writer alone on the loaded triples (no blank-node canonicalisation, no sorting):
    the part of the export that does not depend on rdflib. Writers not reached within ``cap_s`` are left out."""
    from bmlkg.export.rdf import FORMATS

    out: dict = {}
    deadline = time.perf_counter() + (cap_s or 3600)
    for fmt in sorted(FORMATS, key=lambda f: f.name == "jsonld"):  # the Python JSON-LD writer last
        left = deadline - time.perf_counter()
        if left <= 0:
            out[fmt.name] = None
            continue
        try:
            started = time.perf_counter()
            _capped(lambda: fmt.writer(kg.triples), left)
            out[fmt.name] = round(time.perf_counter() - started, 3)
        except Capped:
            out[fmt.name] = None
    return out


def rdflib_engine(job: dict, out: Path) -> None:
    import pyoxigraph as ox
    import rdflib

    from bmlkg.query.engines import select_rdflib

    path = job["loaded_nt"]
    started = time.perf_counter()
    store = ox.Store()
    store.bulk_load(path=path, format=ox.RdfFormat.N_TRIPLES)
    ox_load_s = time.perf_counter() - started
    ox_triples = len(store)
    del store
    started = time.perf_counter()
    graph = rdflib.Graph()
    graph.parse(path, format="nt")
    rdflib_load_s = time.perf_counter() - started
    select_rdflib(graph, "ASK { ?s ?p ?o }")  # rdflib builds its SPARQL parser on first use: not timed
    texts = json.loads(Path(job["texts"]).read_text(encoding="utf-8"))
    figures, rows = time_queries(lambda text: select_rdflib(graph, text), texts, job["reps"],
                                 job["warmup"], job.get("cap_s"), job["budget_s"], job.get("skip"))
    _write(out, {
        "oxigraph_store_load_s": round(ox_load_s, 3), "oxigraph_store_triples": ox_triples,
        "rdflib_load_s": round(rdflib_load_s, 3), "rdflib_triples": len(graph),
        "queries": figures, "peak_rss_mb": peak_rss_mb(),
    }, rows)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in ("default", "rdflib"):
        sys.stderr.write("usage: python -m benchmarks.scales default|rdflib JOB.json OUT.json\n")
        return 2
    job = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    (default_engine if argv[0] == "default" else rdflib_engine)(job, Path(argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
