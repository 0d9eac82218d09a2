"""Build stages at scale 1: ``bmlkg build`` as a user runs it, and its per-stage timings.

``python -m benchmarks.buildbench OUT_DIR RESULT.json`` runs :func:`bmlkg.build.build` in this (fresh)
process and writes the stage timings. The checks run at ``fail_on="none"`` so that export and render are
measured even while curators' work in progress has findings. HermiT and SHACL run on the curated graph only:
never on a scaled one (HermiT did not finish in 9.5 min at 20,000 classes).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from .stats import peak_rss_mb


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: python -m benchmarks.buildbench OUT_DIR RESULT.json\n")
        return 2
    from bmlkg.build import BuildOptions, build

    started = time.perf_counter()
    result = build(BuildOptions(out=Path(argv[0]), fail_on="none"))
    wall = time.perf_counter() - started
    counts = result.kg.counts()
    Path(argv[1]).write_text(json.dumps({
        "in_process_s": round(wall, 3),
        "stages": {k: round(v, 3) for k, v in result.stages.items()},
        "triples": counts["triples"], "classes": counts["classes"], "claims": counts["claims"],
        "exported": result.exported, "html_files": len(result.html),
        "findings": result.report.by_level(), "inferred": result.inferred,
        "peak_rss_mb": peak_rss_mb(),
    }, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
