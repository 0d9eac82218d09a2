"""README.md stays true: the counts it states and the build summary it shows match the graph."""

from __future__ import annotations

import json
import re

from .conftest import EXPORTS, REPO


def _block(name: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- {name}:start -->\n(.*?)<!-- {name}:end -->", text, re.S)
    assert match, f"README.md lacks the {name} markers"
    return match.group(1)


def counts_row(kg) -> str:
    c = kg.counts()
    release = json.loads((EXPORTS / "MANIFEST.json").read_text())["triples"]
    return (f"| {release} | {c['classes']} | {c['individuals']} | {c['claims']} | {c['statistics']} | "
            f"{c['sources']} | {c['dois']} |")


def test_readme_counts_match_the_graph(kg):
    assert counts_row(kg) in _block("counts"), f"update README.md counts to: {counts_row(kg)}"


def test_readme_build_output_matches_the_graph(kg):
    c = kg.counts()
    release = json.loads((EXPORTS / "MANIFEST.json").read_text())["triples"]
    summary = (f"{release} triples · {c['classes']} classes · {c['individuals']} individuals · "
               f"{c['claims']} claims ({c['statistics']} statistical) · {c['sources']} sources ({c['dois']} with DOI)")
    block = _block("build-output")
    assert summary in block, f"re-run `make run` and paste its output into README.md; expected {summary!r}"
    assert "checks passed" in block and "exports/bmlkg.ttl" in block
