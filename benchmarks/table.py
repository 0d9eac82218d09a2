"""The printed report of ``make bench``: Markdown tables (they paste into docs/performance.md as they are)."""

from __future__ import annotations

#: The targets of issue 7, checked against a report.
TARGETS = {
    "build_s": 10.0,             # bmlkg build at scale 1, HermiT included
    "query_ms_scale1": 20.0,     # every library query, median, default engine, scale 1
    "query_ms_scale1000": 500.0,  # the same at scale 1000
    "speedup": 20.0,             # default engine vs rdflib at scale 100 and above
    "growth_exponent": 1.0,      # load and export no faster than linear (small tolerance for noise)
    "view_1000_s": 5.0,          # a 1,000-node view stable in the browser
}
EXPONENT_TOLERANCE = 0.1


def _n(value, digits: int = 2, none: str = "–") -> str:
    if value is None:
        return none
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def scale_label(s: dict) -> str:
    """``10×`` for a synthetic scale, the merge's name (``hpo merge``) for a merge scale."""
    return f"{s['factor']}×" if isinstance(s["factor"], int) else f"{s['factor']} merge"


def machine_line(m: dict) -> str:
    return (f"Machine: {m.get('cpu')}, {m.get('cores')} cores, {m.get('memory_gb')} GB RAM; {m.get('os')}; "
            f"Python {m.get('python')}; pyoxigraph {m['versions'].get('pyoxigraph')}, "
            f"rdflib {m['versions'].get('rdflib')}; {m.get('chromium') or 'no Chromium'}")


def build_table(b: dict) -> list[str]:
    if "error" in b and "stages" not in b:
        return [f"Build: could not run ({b['error']})"]
    s = b["stages"]
    return [
        f"Build at scale 1 ({_n(b.get('triples'))} triples; `bmlkg build`, median of {len(b.get('cli_runs_s', []))} runs):",
        "",
        "| total (wall) | load | SHACL | QC | HermiT | export | render | peak RSS |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {_n(b.get('total_s'))} s | {_n(s.get('load'))} s | {_n(s.get('shacl'))} s | {_n(s.get('qc'))} s | "
        f"{_n(s.get('reason'))} s | {_n(s.get('export'))} s | {_n(s.get('render'))} s | {_n(b.get('peak_rss_mb'))} MB |",
    ]


def scales_table(scales: list[dict]) -> list[str]:
    lines = [
        "Per scale (query times: the slowest library query's median / its p95; speed-up = rdflib median ÷ Oxigraph "
        "median per query; the median over all queries, where a capped rdflib run counts as its lower bound cap ÷ "
        "Oxigraph median (then the median is a lower bound, marked ≥), and the worst measured ratio; "
        "rows compared by value, GROUP_CONCAT values as sets):",
        "",
        "| factor | triples | `bmlkg.load` | label index | store load Oxigraph / rdflib "
        "| slowest query Oxigraph median / p95 | slowest query rdflib median | speed-up median (worst) | rows equal "
        "| export | peak RSS default / rdflib |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|:--|---:|---:|",
    ]
    for s in scales:
        if "error" in s:
            lines.append(f"| {scale_label(s)} | – | {s['error']} | | | | | | | | |")
            continue
        ox, rd = s["query_ms"]["oxigraph"], s["query_ms"]["rdflib"]
        capped = rd.get("capped") or []
        rd_text = f"{_n(rd.get('median'))} ms" + (f" + {len(capped)} capped at >{s['rdflib_cap_ms']:,} ms"
                                                   if capped else "")
        problems = [f"differ: {', '.join(s['mismatches'])}"] if s["mismatches"] else []
        problems += [f"failed: {', '.join(e.split(' ')[0] + ' ' + e.split(' ')[1] for e in s['errors'])}"] \
            if s.get("errors") else []
        equal = "yes" if s["results_equal"] else "NO (" + "; ".join(problems or ["nothing compared"]) + ")"
        equal += f", {s['compared']}/{len(s['queries'])} compared"
        worst = f"{s['speedup_min']:.2g}×" if s.get("speedup_min") is not None else "–"
        if s.get("export_s") is not None:
            export = f"{_n(s['export_s'])} s"
        elif s.get("export_capped_s"):
            export = f">{_n(s['export_capped_s'], 0)} s (stopped)"
        elif s.get("export_skipped"):
            export = "not run (" + s["export_skipped"].replace("stopped at the ", "") + ")"
        else:
            export = "–"
        ox_capped = ox.get("capped") or []
        ox_text = f"{_n(ox['median'])} / {_n(ox['p95'])} ms" + (
            f" + {len(ox_capped)} capped at >{s['oxigraph_cap_ms']:,} ms" if ox_capped else "")
        lines.append(
            f"| {scale_label(s)} | {_n(s['triples'])} | {_n(s['load_s']['bmlkg_load'])} s | {_n(s.get('name_index_s'))} s "
            f"| {_n(s['load_s']['oxigraph'])} s / {_n(s['load_s']['rdflib'])} s "
            f"| {ox_text} | {rd_text} "
            f"| {'≥' if s.get('speedup_median_is_lower_bound') else ''}{_n(s.get('speedup_median'), 0)}× ({worst}) "
            f"| {equal} | {export} "
            f"| {_n(s.get('peak_rss_mb'), 0)} / {_n(s.get('peak_rss_mb_rdflib'), 0)} MB |"
        )
    return lines


def queries_table(scales: list[dict], merges: bool = False, reference: dict | None = None) -> list[str]:
    """Per query and scale: medians on both engines. ``merges``: a merge table (rows counted per column, no
    exponent, since a merge is one graph, not a series), beside ``reference`` (the 1× scale of the same run)
    with the ratio of the Oxigraph medians."""
    done = [s for s in scales if "error" not in s]
    if not done:
        return []
    names = sorted({n for s in done for n in s["queries"]})
    if merges:
        ref = reference if reference and "error" not in reference else None
        columns = ([ref] if ref else []) + done
        header = "| query | " + " | ".join(f"{scale_label(s)} Oxigraph / rdflib (rows)" for s in columns)
        header += "".join(f" | {scale_label(s)} ÷ 1× (Oxigraph)" for s in done) if ref else ""
        lines = ["Every library query on the merged graph, median milliseconds (Oxigraph / rdflib; `>` = stopped at "
                 "the cap, `≠` = rows differ; rows = the answer's rows on that graph"
                 + ("; the 1× column is the curated graph alone, measured in the same run" if ref else "") + "):",
                 "", header + " |", "|:--|" + "---:|" * (len(columns) + (len(done) if ref else 0))]
        for name in names:
            cells = []
            for s in columns:
                q = s["queries"].get(name)
                cells.append("–" if q is None else f"{_ms(q['oxigraph'])} / {_ms(q.get('rdflib'))}"
                             f"{' ≠' if q.get('equal') is False else ''} ({_n(q.get('rows'))})")
            if ref:
                base = (ref["queries"].get(name) or {}).get("oxigraph") or {}
                for s in done:
                    mine = (s["queries"].get(name) or {}).get("oxigraph") or {}
                    if "median" in base and "median" in mine:
                        cells.append(f"{mine['median'] / max(base['median'], 1e-6):.1f}×")
                    elif mine.get("capped") and "median" in base:
                        cells.append(f">{mine['cap_ms'] / max(base['median'], 1e-6):.0f}×")
                    else:
                        cells.append("–")
            lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
        return lines
    header = ("| query | rows at 1× | " + " | ".join(f"{scale_label(s)} Oxigraph / rdflib" for s in done)
              + " | k (Oxigraph) |")
    lines = ["Every library query, median milliseconds (Oxigraph / rdflib; `>` = stopped at the cap, `>…*` = not "
             "run again after the cap at a smaller scale, `≠` = rows differ; k = fitted exponent of the Oxigraph "
             "median against triples: 0 flat, 1 linear, `≥` when a larger scale was capped):", "",
             header, "|:--|---:|" + "---:|" * len(done) + "---:|"]
    for name in names:
        cells = []
        for s in done:
            q = s["queries"].get(name)
            if q is None:
                cells.append("–")
                continue
            cells.append(f"{_ms(q['oxigraph'])} / {_ms(q.get('rdflib'))}{' ≠' if q.get('equal') is False else ''}")
        rows = done[0]["queries"].get(name, {}).get("rows")
        lines.append(f"| `{name}` | {_n(rows)} | " + " | ".join(cells) + f" | {_query_exponent(done, name)} |")
    return lines


def merge_lines(merges: list[dict]) -> list[str]:
    """What each merge scale holds (release, sizes, the curated terms linked into it)."""
    lines = []
    for s in merges:
        m = s.get("merge") or {}
        if not m:
            continue
        bound = s.get("bound_differently")
        lines.append(
            f"Merge `{s['factor']}`: the curated graph + {m.get('name')} ({m.get('release')}, shipped in "
            f"{m.get('package')}): {_n(m.get('hpo_classes'))} classes, {_n(m.get('subclass_links'))} subClassOf "
            f"links, {_n(m.get('diseases'))} diseases with {_n(m.get('disease_phenotype_links'))} has-phenotype links "
            f"({_n(m.get('hpo_triples'))} triples); linked through {len(m.get('linked_hpo_terms', []))} curated "
            f"cross-references ({', '.join(t.rsplit('/', 1)[-1] for t in m.get('linked_hpo_terms', []))})"
            + (f"; example parameters bound differently than at 1×: {', '.join(bound) or 'none'}"
               if bound is not None else "") + ".")
    return lines


def _query_exponent(scales: list[dict], name: str) -> str:
    from .stats import fit_exponent

    points, capped = [], False
    for s in scales:
        ox = (s["queries"].get(name) or {}).get("oxigraph") or {}
        if "median" in ox:
            points.append((s["triples"], ox["median"]))
        elif ox.get("capped"):
            capped = True
    k = fit_exponent([p[0] for p in points], [p[1] for p in points]) if len(points) > 1 else None
    return "–" if k is None else f"{'≥' if capped else ''}{k:.2f}"


def _ms(figures: dict | None) -> str:
    if figures is None:
        return "–"
    if "error" in figures:
        return "failed"
    if figures.get("capped"):
        return figures["display"]
    return _n(figures["median"])


def growth_lines(growth: dict) -> list[str]:
    if not growth:
        return []
    parts = []
    for name, g in growth.items():
        steps = ", ".join(f"{l['from']}→{l['to']}×: {_n(l['exponent'])}" for l in g.get("between_scales", []))
        parts.append(f"{name.replace('_', ' ')} {_n(g['exponent'])}" + (f" ({steps})" if steps else ""))
    return ["Fitted growth exponent k (cost ∝ triples^k, least squares over the scales; 1 = linear; "
            "in brackets between consecutive scales): " + "; ".join(parts) + "."]


def views_table(views: list[dict]) -> list[str]:
    if not views:
        return []
    lines = ["Views (HTML built by bmlkg's term view and bmlkg.views.render; browser times from navigation start in "
             "headless Chromium, median of 3 loads: drawn = vis-network's first drawing done and fitted, "
             "stable = on screen and the page free again; physics is off, so the drawing does not move after):",
             "", "| nodes | edges | from | HTML build | drawn | stable | HTML size | checks |",
             "|---:|---:|:--|---:|---:|---:|---:|:--|"]
    for v in views:
        if "error" in v:
            lines.append(f"| ~{v.get('target')} | | {v['error']} | | | | | |")
            continue
        checks = "; ".join(v.get("problems") or []) or (
            f"all nodes drawn, still, {v.get('requests', 0)} requests, {v.get('console_errors', 0)} console errors"
            if v.get("browser_stable_s") is not None else v.get("browser_error", ""))
        lines.append(f"| {_n(v['nodes'])} | {_n(v.get('edges'))} | {v.get('source', '')} | {_n(v['html_s'])} s "
                     f"| {_n(v.get('browser_drawn_s'))} s | {_n(v.get('browser_stable_s'))} s "
                     f"| {_n(v.get('html_kb'), 0)} KB | {checks} |")
    return lines


def target_lines(report: dict) -> list[str]:
    """Each target of the issue: met, not met (with the figure), or not measured."""
    rows = []
    b = report.get("build", {})
    if b.get("total_s") is not None:
        rows.append(("`bmlkg build` at scale 1 < 10 s", b["total_s"] < TARGETS["build_s"], f"{b['total_s']:.1f} s"))
    by_factor = {s["factor"]: s for s in report.get("scales", []) if "error" not in s}
    if 1 in by_factor:
        m = by_factor[1]["query_ms"]["oxigraph"]["median"]
        over = sorted(n for n, q in by_factor[1]["queries"].items()
                      if q["oxigraph"].get("median", 1e9) >= TARGETS["query_ms_scale1"])
        rows.append(("every query < 20 ms median at scale 1", not over,
                     f"slowest {_n(m)} ms" + (f"; over: {', '.join(over)}" if over else "")))
    if 1000 in by_factor:
        ox = by_factor[1000]["query_ms"]["oxigraph"]
        m, capped = ox["median"], ox.get("capped") or []
        rows.append(("every query < 500 ms median at scale 1000",
                     m is not None and m < TARGETS["query_ms_scale1000"] and not capped,
                     f"slowest completed {_n(m)} ms" + (f"; {len(capped)} stopped at the cap: {', '.join(capped)}"
                                                       if capped else "")))
    for factor in (100, 1000):
        s = by_factor.get(factor)
        if s and s.get("speedup_min") is not None:
            ok = s["speedup_min"] >= TARGETS["speedup"] and s["results_equal"]
            slower = sorted(n for n, q in s["queries"].items()
                            if isinstance(q.get("speedup"), float) and q["speedup"] < TARGETS["speedup"])
            rows.append((f"Oxigraph ≥ 20× rdflib at scale {factor}, identical rows", ok,
                         f"median {'≥' if s.get('speedup_median_is_lower_bound') else ''}{s['speedup_median']:.0f}× "
                         f"({s.get('speedup_queries', '?')} measured, {len(s.get('speedup_lower_bounds', []))} "
                         f"lower bounds from capped rdflib runs), worst measured "
                         f"{s['speedup_min']:.2g}×; under 20×: {', '.join(slower) or 'none'}; rows equal: "
                         f"{'yes' if s['results_equal'] else 'no'} ({s['compared']} compared, "
                         f"{len(s['query_ms']['rdflib']['capped'])} rdflib runs capped)"))
    for name in ("bmlkg_load", "export"):
        g = report.get("growth", {}).get(name)
        if g and g["exponent"] is not None:
            rows.append((f"{name.replace('_', ' ')} grows no faster than linearly",
                         g["exponent"] <= TARGETS["growth_exponent"] + EXPONENT_TOLERANCE,
                         f"exponent {g['exponent']:.2f} over scales {g['scales']}"))
    view = min((v for v in report.get("views", []) if v.get("browser_stable_s") is not None),
               key=lambda v: abs(v["nodes"] - 1000), default=None)
    if view:
        rows.append((f"{view['nodes']:,}-node view stable < 5 s", view["browser_stable_s"] < TARGETS["view_1000_s"],
                     f"{view['browser_stable_s']:.2f} s"))
    lines = ["| target | met | measured |", "|:--|:--|:--|"]
    lines += [f"| {what} | {'yes' if ok else 'NO'} | {figure} |" for what, ok, figure in rows]
    return lines


def render(report: dict) -> str:
    parts = [[machine_line(report["machine"])]]
    if report.get("build"):
        parts.append(build_table(report["build"]))
    if report.get("scales"):
        parts.append(scales_table(report["scales"]))
        parts.append(growth_lines(report.get("growth", {})))
        parts.append(queries_table(report["scales"]))
    if report.get("merges"):
        parts.append(merge_lines(report["merges"]))
        parts.append(scales_table(report["merges"]))
        scale1 = next((s for s in report.get("scales", []) if s.get("factor") == 1), None)
        parts.append(queries_table(report["merges"], merges=True, reference=scale1))
    if report.get("views"):
        parts.append(views_table(report["views"]))
    parts.append(["Targets:", ""] + target_lines(report))
    if report.get("elapsed_s"):
        parts.append([f"Benchmark run took {report['elapsed_s']:.0f} s."])
    return "\n\n".join("\n".join(p) for p in parts if p) + "\n"
