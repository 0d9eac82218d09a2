"""Node positions for the teaching views: deterministic layouts, computed once, drawn with physics off.

networkx selects the subgraphs; these functions place them. networkx's own layouts need numpy, which bmlkg
does not depend on, so the few layouts the views use are written here in plain Python: columns ordered by
the barycentre heuristic, an outline-like tree, concentric rings by distance, and a fixed grid for the
ontology overview. The same input always gives the same positions.

>>> layered([["a"], ["b", "c"]], [("a", "b"), ("a", "c")], x_gap=100, y_gap=50)
{'a': (0.0, 0.0), 'b': (100.0, -25.0), 'c': (100.0, 25.0)}
"""

from __future__ import annotations

import math
from collections import defaultdict

import networkx as nx


def layered(layers: list[list[str]], edges: list[tuple[str, str]], x_gap: float = 420, y_gap: float = 100,
            max_rows: int = 14, heights: dict[str, float] | None = None, keep_order: tuple[int, ...] = ()
            ) -> dict[str, tuple[float, float]]:
    """Columns left to right; each column ordered by the mean row of its neighbours in earlier columns
    (barycentre heuristic), wrapped into several sub-columns when longer than ``max_rows``. A column's
    row spacing is at least ``y_gap`` and at least its tallest node (``heights``, in pixels) plus a gap.
    Columns listed in ``keep_order`` keep the order they are given in (a ranking, say)."""
    neighbours: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        neighbours[a].add(b)
        neighbours[b].add(a)
    pos: dict[str, tuple[float, float]] = {}
    rank: dict[str, float] = {}
    x = 0.0
    for index, layer in enumerate(layers):
        def key(n: str) -> tuple[float, str]:
            seen = [rank[m] for m in neighbours[n] if m in rank]
            return (sum(seen) / len(seen) if seen else 1e9, n)

        ordered = list(layer) if index in keep_order else sorted(layer, key=key)
        gap = max([y_gap] + [(heights or {}).get(n, 0) + 22 for n in ordered])
        cols = max(1, math.ceil(len(ordered) / max_rows))
        rows = math.ceil(len(ordered) / cols) if ordered else 0
        for i, n in enumerate(ordered):
            col, row = divmod(i, rows) if rows else (0, 0)
            pos[n] = (x + col * x_gap * 0.75, (row - (rows - 1) / 2) * gap)
            rank[n] = i
        x += x_gap * (1 + 0.75 * (cols - 1))
    return pos


def column_tree(tree: nx.DiGraph, root: str, col_gap: float = 330, row_gap: float = 82, indent: float = 36
                ) -> dict[str, tuple[float, float]]:
    """A tree drawn as a table: the root on top, each child of the root heads a column, and the rest of its
    subtree is listed below it in depth-first order, indented by depth (like an outline)."""
    heads = sorted(tree.successors(root), key=lambda c: tree.nodes[c].get("order", c))
    pos = {root: ((len(heads) - 1) * col_gap / 2, -1.6 * row_gap)}
    for i, head in enumerate(heads):
        x = i * col_gap
        pos[head] = (x, 0.0)
        row = 1

        def walk(node: str, depth: int) -> None:
            nonlocal row
            for child in sorted(tree.successors(node), key=lambda c: tree.nodes[c].get("order", c)):
                pos[child] = (x + indent * (depth - 1), row * row_gap)
                row += 1
                walk(child, depth + 1)

        walk(head, 1)
    return pos


def rings(center: str, distance: dict[str, int], graph: nx.Graph, gap: float = 330, spacing: float = 170,
          group: dict[str, str] | None = None) -> dict[str, tuple[float, float]]:
    """Concentric rings by distance from the centre. Each ring is ordered by its parents' angles, then by
    ``group`` (kind), so nodes of one kind sit together; a crowded ring alternates between two radii so
    that neighbouring labels do not overlap."""
    pos = {center: (0.0, 0.0)}
    angle = {center: 0.0}
    by_ring: dict[int, list[str]] = defaultdict(list)
    for n, d in distance.items():
        if n != center:
            by_ring[d].append(n)
    radius = 0.0
    for d in sorted(by_ring):
        members = by_ring[d]

        def key(n: str) -> tuple[float, str, str]:
            parents = [angle[m] for m in graph.neighbors(n) if m in angle and distance.get(m) == d - 1]
            return (round(sum(parents) / len(parents), 6) if parents else 0.0, (group or {}).get(n, ""), n)

        members.sort(key=key)
        staggered = len(members) > 24
        per_node = spacing / 2 if staggered else spacing
        radius = max(radius + gap, len(members) * per_node / (2 * math.pi))
        for i, n in enumerate(members):
            a = -math.pi / 2 + 2 * math.pi * i / len(members)
            r = radius + (gap * 0.4 if staggered and i % 2 else 0.0)
            angle[n] = a
            pos[n] = (r * math.cos(a), r * math.sin(a))
        if staggered:
            radius += gap * 0.4
    return pos


#: Layout hints for the overview: each kind's place on a fixed grid (column, row), so the map is the same
#: picture in every release; related kinds sit side by side.
SCHEMA_GRID: dict[str, tuple[float, float]] = {
    "cause_category": (0, 0), "condition": (1, 0), "feature": (2, 0), "outcome": (3, 0),
    "pathological_process": (0, 1), "clinical_context": (1, 1), "imaging_finding": (2, 1), "symptom": (3, 1),
    "treatment": (4, 1), "anatomical_location": (0, 2), "imaging_modality": (1, 2),
    "histological_finding": (2, 2), "mechanism": (3, 2), "marker": (4, 2), "scoring_system": (1.5, 3),
    "claim": (3.2, 3.1), "seed": (4.4, 2.75), "paper": (4.4, 3.3), "document": (4.4, 3.85),
}


def schema_grid(kinds: dict[str, str], x_gap: float = 340, y_gap: float = 200) -> dict[str, tuple[float, float]]:
    """Positions of nodes (id → kind key) from :data:`SCHEMA_GRID`; kinds without a place go on a row below."""
    pos: dict[str, tuple[float, float]] = {}
    spare = 0
    for node_id, kind in sorted(kinds.items()):
        col, row = SCHEMA_GRID.get(kind, (None, None))
        if col is None:
            col, row = spare, 4.5
            spare += 1
        pos[node_id] = (col * x_gap, row * y_gap)
    return pos
