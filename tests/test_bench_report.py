"""How ``make bench`` turns raw measurements into its figures: percentiles, exponents, caps, equality.

No timing here: the inputs are made-up measurements, the outputs are checked exactly.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from benchmarks import run, table
from benchmarks.stats import canonical_cell, fit_exponent, median, p95


def test_median_and_nearest_rank_p95():
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 2.0, 3.0]) == 2.5
    runs = [float(i) for i in range(1, 21)]  # 20 runs: the 95th percentile is the 19th smallest
    assert p95(runs) == 19.0
    assert p95([5.0]) == 5.0
    with pytest.raises(ValueError):
        median([])


def test_fitted_exponent_recovers_linear_and_quadratic_growth():
    sizes = [1e3, 1e4, 1e5, 1e6]
    assert fit_exponent(sizes, [2e-6 * s for s in sizes]) == pytest.approx(1.0)
    assert fit_exponent(sizes, [1e-9 * s * s for s in sizes]) == pytest.approx(2.0)
    assert fit_exponent([10.0], [1.0]) is None


def test_numbers_compare_by_value_across_engines():
    """Oxigraph writes 6.00 as 6; the row keys must agree."""
    assert canonical_cell(("number", Decimal("6.00"))) == canonical_cell(("number", Decimal("6")))
    assert canonical_cell(("number", Decimal("0.10"))) == ["number", "0.1"]


def _timed(median_ms, rows=1):
    return {"median": median_ms, "p95": median_ms * 1.2, "runs": 5, "rows": rows}


def _rows(*rows):
    return {"rows": [list(r) for r in rows], "raw": repr(rows)}


def _assemble(ox_queries, rd_queries, ox_rows, rd_rows, capped_before=None):
    ox = {"triples": 1000, "derived_edges": 10, "bmlkg_load_s": 0.5, "queries": ox_queries,
          "export_s": 1.0, "peak_rss_mb": 100.0}
    rd = {"oxigraph_store_load_s": 0.1, "rdflib_load_s": 2.0, "queries": rd_queries, "peak_rss_mb": 200.0}
    return run.assemble(100, ox, rd, ox_rows, rd_rows, {"cap_s": 10.0}, capped_before or {}, {})


def test_equal_rows_and_speedups():
    entry = _assemble({"a": _timed(2.0), "b": _timed(4.0)}, {"a": _timed(100.0), "b": _timed(40.0)},
                      {"a": _rows(["x"]), "b": _rows(["y"])}, {"a": _rows(["x"]), "b": _rows(["y"])})
    assert entry["results_equal"] is True and entry["compared"] == 2
    assert entry["queries"]["a"]["speedup"] == 50.0 and entry["queries"]["b"]["speedup"] == 10.0
    assert entry["speedup_min"] == 10.0 and entry["speedup_median"] == 30.0
    assert entry["query_ms"]["oxigraph"]["median"] == 4.0  # the slowest query's median


def test_differing_rows_are_reported():
    entry = _assemble({"a": _timed(2.0)}, {"a": _timed(100.0)}, {"a": _rows(["x"])}, {"a": _rows(["x"], ["z"])})
    assert entry["results_equal"] is False and entry["mismatches"] == ["a"]
    assert entry["queries"]["a"]["difference"]["only_rdflib"] == ['["z"]']


def test_capped_queries_are_lower_bounds_and_not_compared():
    entry = _assemble({"a": _timed(2.0), "b": _timed(5.0)},
                      {"a": {"capped": True, "cap_ms": 10000, "runs": 0}, "b": {"skipped": "stopped at the cap at 10x"}},
                      {"a": _rows(["x"]), "b": _rows(["y"])}, {}, capped_before={"b": (10, 10000)})
    assert entry["compared"] == 0 and entry["results_equal"] is False
    assert entry["query_ms"]["rdflib"]["capped"] == ["a", "b"]
    assert entry["queries"]["a"]["speedup"] == ">5000"
    assert entry["queries"]["b"]["rdflib"]["display"] == ">10,000*"
    assert entry["speedup_lower_bounds"] == [2000.0, 5000.0] and entry["speedup_min"] is None
    assert entry["speedup_median"] == 3500.0 and entry["speedup_median_is_lower_bound"] is True


def test_a_failing_query_is_an_error_not_a_pass():
    entry = _assemble({"a": _timed(2.0)}, {"a": {"error": "TypeError: boom"}}, {"a": _rows(["x"])}, {})
    assert entry["results_equal"] is False
    assert entry["errors"] == ["a (rdflib): TypeError: boom"]


def test_tables_mark_caps_and_targets():
    entry = _assemble({"a": _timed(2.0)}, {"a": {"capped": True, "cap_ms": 10000, "runs": 0}}, {"a": _rows(["x"])}, {})
    report = {"machine": {"cpu": "Test CPU", "cores": 2, "memory_gb": 4, "os": "x", "python": "3",
                          "versions": {}, "chromium": None},
              "build": {"total_s": 12.0, "stages": {"load": 1.0}, "cli_runs_s": [12.0]},
              "scales": [entry], "growth": run.growth([entry]), "views": []}
    text = table.render(report)
    assert "Test CPU, 2 cores" in text
    assert ">10,000" in text
    assert "| `bmlkg build` at scale 1 < 10 s | NO | 12.0 s |" in text


def test_group_concat_order_is_not_a_difference_but_is_noted():
    from benchmarks.scales import concat_separators

    text = 'SELECT ?c (GROUP_CONCAT(DISTINCT STR(?k); separator=" ") AS ?cats) (GROUP_CONCAT(?x) AS ?xs) WHERE {}'
    assert concat_separators(text) == {"cats": " ", "xs": " "}
    same = {"rows": [["a b"]], "raw": "1"}
    entry = _assemble({"q": _timed(1.0)}, {"q": _timed(50.0)}, {"q": same}, {"q": {**same, "raw": "2"}})
    assert entry["results_equal"] is True and entry["group_concat_order_differs"] == ["q"]


def test_group_concat_values_are_sorted_before_comparing():
    from benchmarks.scales import _rows
    from bmlkg.query.results import Cell, Result

    text = 'SELECT ?c (GROUP_CONCAT(STR(?k); separator=" ") AS ?cats) WHERE {} GROUP BY ?c'

    def result(cats):
        return Result(variables=["c", "cats"], bindings=[{"c": Cell("uri", "https://x/a"), "cats": Cell("literal", cats)}])

    one, other = _rows(result("T M"), text), _rows(result("M T"), text)
    assert one["rows"] == other["rows"] and one["raw"] != other["raw"]
    assert _rows(result("M T"), "SELECT * WHERE {}")["rows"] != _rows(result("T M"), "SELECT * WHERE {}")["rows"]


def test_merge_scale_is_reported_beside_scale_1():
    from benchmarks.__main__ import _scales

    assert _scales("1,hpo") == (1, "hpo") and _scales("hpo") == ("hpo",)
    with pytest.raises(Exception, match="merge scales"):
        _scales("1,hp")
    one = _assemble({"a": _timed(2.0), "b": _timed(1.0)}, {"a": _timed(100.0), "b": _timed(3.0)},
                    {"a": _rows(["x"]), "b": _rows(["y"])}, {"a": _rows(["x"]), "b": _rows(["y"])})
    one["factor"] = 1
    ox = {"triples": 400000, "derived_edges": 10, "bmlkg_load_s": 9.0, "export_s": 50.0, "peak_rss_mb": 900.0,
          "queries": {"a": _timed(30.0), "b": {"capped": True, "cap_ms": 10000, "runs": 0}}}
    rd = {"oxigraph_store_load_s": 5.0, "rdflib_load_s": 40.0, "peak_rss_mb": 600.0,
          "queries": {"a": _timed(600.0), "b": _timed(90.0)}}
    merge = run.assemble("hpo", ox, rd, {"a": _rows(["x"])}, {"a": _rows(["x"])}, {"cap_s": 10.0}, {}, {})
    merge["merge"] = {"name": "Test ontology", "release": "r1", "package": "pkg 1", "hpo_classes": 7,
                      "linked_hpo_terms": ["http://purl.obolibrary.org/obo/HP_0000001"]}
    report = {"machine": {"cpu": "Test CPU", "cores": 2, "memory_gb": 4, "os": "x", "python": "3", "versions": {},
                          "chromium": None}, "scales": [one], "growth": run.growth([one]), "merges": [merge]}
    text = table.render(report)
    assert "Merge `hpo`: the curated graph + Test ontology (r1, shipped in pkg 1): 7 classes" in text
    assert "| hpo merge | 400,000 |" in text
    assert "| `a` | 2.00 / 100 (1) | 30.00 / 600 (1) | 15.0× |" in text
    assert "| `b` | 1.00 / 3.00 (1) | >10,000 / 90.00 (–) | >10000× |" in text


def test_a_guarded_first_run_is_never_the_timing():
    """The forked guard run of a slow query is not its figure: an in-process run is timed after it."""
    import time

    from benchmarks.scales import time_queries
    from bmlkg.query.results import Result

    calls = []

    def run_one(text, delay=0.0):
        calls.append("in-process")
        time.sleep(delay)
        return Result(variables=["x"], bindings=[])

    def guard(work, cap_s):
        calls.append("guard")
        time.sleep(0.05)  # longer than the budget below: the old rule made this run the one timing
        return work()

    figures, _rows = time_queries(run_one, {"q": "SELECT * WHERE {}"}, reps=3, warmup=True, cap_s=None,
                                  budget_s=0.01, first_guard=guard)
    assert calls == ["guard", "in-process", "in-process"]  # the guard (which ran the query once), then one timing
    assert figures["q"]["runs"] == 1 and figures["q"]["median"] < 50

    calls.clear()  # unguarded (rdflib): a slow first run is the timing, as before
    figures, _rows = time_queries(lambda text: run_one(text, delay=0.05), {"q": "SELECT * WHERE {}"}, reps=3,
                                  warmup=True, cap_s=None, budget_s=0.01)
    assert calls == ["in-process"] and figures["q"]["runs"] == 1 and figures["q"]["median"] >= 50
