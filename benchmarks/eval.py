"""``make eval``: score the differential on the case suite (top-1, top-3, mean reciprocal rank).

The suite is the project's competency cases (``../shared/competency/cases.json`` beside the checkout, read as
they are) followed by bmlkg's own in ``tests/fixtures/cases.json`` (same ids are taken once). A case is
ranked by the position of its expected entry among the differential's cause entries (cause categories and
the causes outside them, ``result.categories``): top-1 is the share ranked first, top-3 the share in the
first three, MRR the mean of 1/position (0 when absent). Figures go to stdout as a table and to
``benchmarks/eval.json`` (git-ignored); ``benchmarks/eval-baseline.json`` holds the committed figures that
``tests/test_differential_eval.py`` holds the engine to.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "fixtures" / "cases.json"
SHARED = ROOT.parent / "shared" / "competency" / "cases.json"
OUT = ROOT / "benchmarks" / "eval.json"
BASELINE = ROOT / "benchmarks" / "eval-baseline.json"


def load_cases() -> tuple[list[dict], dict[str, str]]:
    """(cases, expected_first -> CURIE): the shared cases first, then ours not already among them."""
    ours = json.loads(CASES.read_text(encoding="utf-8"))
    shared = json.loads(SHARED.read_text(encoding="utf-8"))["cases"] if SHARED.exists() else []
    ids = {c["id"] for c in shared}
    return shared + [c for c in ours["cases"] if c["id"] not in ids], ours["expected_iris"]


def rank_of(kg, case: dict, expected_iris: dict[str, str]) -> int | None:
    """1-based position of the expected entry among the differential's entries, None if it is not there."""
    from bmlkg.store.vocab import expand

    want = expand(expected_iris[case["expected_first"]])
    result = kg.differential(case["findings"], context=case.get("context", []), absent=case.get("absent", []))
    for entry in result.categories:
        if entry.iri == want:
            return entry.rank
    return None


def _figures(ranks: list[int | None]) -> dict:
    n = len(ranks)
    return {"cases": n,
            "top1": round(sum(r == 1 for r in ranks) / n, 4) if n else 0.0,
            "top3": round(sum(r is not None and r <= 3 for r in ranks) / n, 4) if n else 0.0,
            "mrr": round(sum(1 / r for r in ranks if r) / n, 4) if n else 0.0}


def evaluate(kg=None) -> dict:
    """``{"cases": N, "top1": …, "top3": …, "mrr": …, "by_category": {category: {...}}, "ranks": {id: rank}}``."""
    if kg is None:
        import bmlkg

        kg = bmlkg.load()
    cases, iris = load_cases()
    ranks = {c["id"]: rank_of(kg, c, iris) for c in cases}
    out = _figures(list(ranks.values()))
    out["by_category"] = {cat: _figures([ranks[c["id"]] for c in cases if c["expected_first"] == cat])
                          for cat in sorted({c["expected_first"] for c in cases})}
    out["ranks"] = ranks
    return out


def table(figures: dict) -> str:
    rows = [("all cases", figures)] + list(figures["by_category"].items())
    width = max(len(name) for name, _ in rows)
    lines = [f"| {'cases'.ljust(width)} | n | top-1 | top-3 | MRR |", f"|{'-' * (width + 2)}|---|---|---|---|"]
    for name, f in rows:
        lines.append(f"| {name.ljust(width)} | {f['cases']} | {f['top1']:.2f} | {f['top3']:.2f} | {f['mrr']:.2f} |")
    return "\n".join(lines)


def main() -> int:
    figures = evaluate()
    OUT.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(table(figures))
    missed = [k for k, v in figures["ranks"].items() if v != 1]
    shown = ", ".join(f"{k} (rank {figures['ranks'][k]})" for k in missed) or "none"
    print(f"\nnot first: {shown}")
    print(f"written: {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
