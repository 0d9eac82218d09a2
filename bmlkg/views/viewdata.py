"""What each teaching view shows: subgraph selection and layout with networkx, no rendering.

A view answers one question. Its builder selects the nodes and edges from the :class:`~bmlkg.views.netgraph.Model`
of the graph, writes each node's tooltip (label, definition, key numbers, citation), picks colours and
shapes by kind of node, and fixes every position with a seeded or deterministic networkx layout, so the
page opens at once and looks the same on every load. :mod:`bmlkg.views.render` turns a :class:`View` into HTML.

>>> import bmlkg
>>> view = build_view(bmlkg.load(), "term", term="BML", depth=1)
>>> view.question
'What is bone marrow lesion connected to, within one step?'
>>> view.node("https://w3id.org/bmlkg/BoneMarrowOedemaSign").group      # its superclass, one step up
'imaging_finding'
"""

from __future__ import annotations

import difflib
import re
import textwrap
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable

import networkx as nx

from ..differential import differential
from ..store.errors import InputError
from ..store.graph import Store, normalise
from .layouts import column_tree, layered, rings, schema_grid
from .netgraph import (
    CERTAINTY_COLOURS, DIRECTION_COLOURS, KINDS, UNKNOWN_DIRECTION, Claim, Kind, Model, local_name, one_line,
)
from ..store.vocab import BASE, BIBO, BML, curie, expand

IS_A = "is a"
IS_A_COLOUR = "#B0B0B0"
GREY = "#8a8a8a"
#: Study designs from strongest (rank 8) to weakest (0): a sequential blue scale, dark = strong.
DESIGN_SCALE = ("#DEEBF7", "#C6DBEF", "#9ECAE1", "#6BAED6", "#4292C6", "#2171B5", "#08519C", "#08306B", "#041E45")
#: Terms whose neighbourhood the build renders (the three concepts the sources blur, and knee pain).
CORE_TERMS = (str(BML.BoneMarrowOedemaSign), str(BML.BoneMarrowLesion), str(BML.BoneMarrowOedemaSyndrome),
              str(BML.KneePain))
MAX_DEPTH = 4


# -- the view data ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LegendEntry:
    key: str
    label: str
    colour: str
    shape: str
    font_colour: str = "#111111"


@dataclass
class VNode:
    id: str
    label: str
    group: str
    tooltip: str
    x: float = 0.0
    y: float = 0.0
    size: int = 22
    border: str | None = None
    full_label: str = ""


@dataclass
class VEdge:
    source: str
    target: str
    label: str
    tooltip: str
    colour: str = GREY
    dashes: bool = False
    width: float = 1.6
    legend: str | None = None


@dataclass
class View:
    """One teaching view: the question it answers, its nodes and edges with fixed positions, its legend."""

    name: str
    slug: str
    question: str
    subtitle: str
    nodes: list[VNode] = field(default_factory=list)
    edges: list[VEdge] = field(default_factory=list)
    legend: dict[str, LegendEntry] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return f"{self.slug}.html"

    def node(self, node_id: str) -> VNode:
        return next(n for n in self.nodes if n.id == node_id)

    def edge_legend(self) -> list[tuple[str, str, bool]]:
        """(label, colour, dashed) of each kind of edge drawn; merged labels count once per part."""
        found = set()
        for e in self.edges:
            for part in e.label.split(" · "):
                if not part or part.startswith("+"):
                    continue
                if part == IS_A:
                    found.add((IS_A, IS_A_COLOUR, True))
                else:
                    found.add((e.legend or re.sub(r" \(\d+\)$", "", part), e.colour, e.dashes))
        return sorted(found)


@dataclass(frozen=True)
class Param:
    name: str
    help: str
    required: bool = True
    multiple: bool = False
    type: type = str
    default: Any = None


@dataclass(frozen=True)
class ViewSpec:
    """A view the CLI, the build and the tests iterate: name, what it shows, its parameters."""

    name: str
    description: str
    params: tuple[Param, ...]
    build: Callable[..., View]
    standard: Callable[[Model], list[dict]]
    example: dict = field(default_factory=dict)


# -- small helpers ------------------------------------------------------------------------------------
def wrap(text: str, width: int = 22, max_lines: int = 4) -> str:
    """A display label: one line, wrapped for the canvas, cut with an ellipsis when very long."""
    lines = textwrap.wrap(one_line(text), width=width, break_long_words=True) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(0, width - 1)] + "…"
    return "\n".join(lines)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:60].strip("-") or "x"


def _kind_entry(kind: Kind) -> LegendEntry:
    return LegendEntry(kind.key, kind.label, kind.colour, kind.shape, kind.font_colour)


def direction_entry(direction: str | None) -> LegendEntry:
    label, colour = DIRECTION_COLOURS.get(direction or "", UNKNOWN_DIRECTION)
    return LegendEntry(f"claim-{slugify(label)}", f"claim: {label}", colour, "box", "#ffffff")


def design_entry(model: Model, design: str | None) -> LegendEntry:
    if not design:
        return LegendEntry("design-none", "reported number: design not stated", "#E0E0E0", "ellipse")
    try:
        rank = int(model.first(design, str(BML.designRank)) or 0)
    except ValueError:
        rank = 0
    rank = max(0, min(rank, len(DESIGN_SCALE) - 1))
    font = "#ffffff" if rank >= 4 else "#111111"
    return LegendEntry(f"design-{slugify(local_name(design))}", f"reported number: {model.label(design)}",
                       DESIGN_SCALE[rank], "ellipse", font)


class _Builder:
    """Collects nodes, edges and legend entries for one view; merges parallel edges."""

    def __init__(self, model: Model):
        self.model = model
        self.nodes: dict[str, VNode] = {}
        self.edges: dict[tuple[str, str], VEdge] = {}
        self.legend: dict[str, LegendEntry] = {}

    def add(self, node_id: str, label: str, entry: LegendEntry, tooltip: str, **extra) -> VNode:
        if node_id not in self.nodes:
            self.legend.setdefault(entry.key, entry)
            width = 26 if entry.shape in ("box", "ellipse", "database") else 22
            self.nodes[node_id] = VNode(node_id, wrap(label, width), entry.key, tooltip,
                                        full_label=one_line(label), **extra)
        return self.nodes[node_id]

    def term(self, iri: str, **extra) -> VNode:
        kind = KINDS[self.model.kind_of(iri) or "schema"]
        return self.add(iri, self.model.label(iri), _kind_entry(kind), term_tooltip(self.model, iri), **extra)

    def source(self, iri: str) -> VNode:
        kind = KINDS[self.model.kind_of(iri) or "document"]
        return self.add(iri, self.model.label(iri), _kind_entry(kind), source_tooltip(self.model, iri))

    def claim(self, claim: Claim, design_border: bool = False) -> VNode:
        node = self.add(claim.iri, claim.label, direction_entry(claim.direction), claim_tooltip(self.model, claim))
        if design_border and claim.one("studyDesign"):
            entry = design_entry(self.model, claim.one("studyDesign"))
            border = LegendEntry("border-" + entry.key, "border: " + entry.label.split(": ", 1)[1], entry.colour,
                                 "border")
            self.legend.setdefault(border.key, border)
            node.border = entry.colour
        level = claim.one("derivedCertainty")
        if level in CERTAINTY_COLOURS:            # certainty outranks the design border: the design has its own node
            label, colour = CERTAINTY_COLOURS[level]
            entry = LegendEntry(f"border-certainty-{slugify(label)}", f"border: derived certainty {label}", colour,
                                "border")
            self.legend.setdefault(entry.key, entry)
            node.border = colour
        return node

    def statistic(self, claim: Claim) -> VNode | None:
        text = self.model.numbers_text(claim)
        if not text:
            return None
        entry = design_entry(self.model, claim.one("studyDesign"))
        return self.add(f"{claim.iri}#numbers", text, entry, numbers_tooltip(self.model, claim))

    def link(self, source: str, target: str, label: str, tooltip: str = "", **style) -> None:
        key = (source, target)
        if key in self.edges:
            edge = self.edges[key]
            if label not in edge.label.split(" · "):
                edge.label = f"{edge.label} · {label}"
                edge.tooltip = f"{edge.tooltip}\n\n{tooltip}".strip()
                if edge.dashes and not style.get("dashes"):    # a solid relation outranks a dashed is-a
                    edge.colour, edge.dashes = style.get("colour", GREY), False
                    edge.width = style.get("width", edge.width)
            return
        self.edges[key] = VEdge(source, target, label, tooltip or label, **style)

    def is_a(self, child: str, parent: str) -> None:
        tip = f"{self.model.label(child)} is a kind of {self.model.label(parent)} (rdfs:subClassOf)"
        self.link(child, parent, IS_A, tip, colour=IS_A_COLOUR, dashes=True, width=1.2)

    def term_edge(self, s: str, p: str, o: str) -> None:
        self.link(s, o, one_line(self.model.label(p)), edge_tooltip(self.model, s, p, o))

    def heights(self) -> dict[str, float]:
        """Approximate drawn height of each node in pixels (label lines, shape), for spacing rows."""
        out = {}
        for node_id, node in self.nodes.items():
            lines = node.label.count("\n") + 1
            shape = self.legend[node.group].shape
            if shape == "ellipse":                  # an ellipse around the text is taller than a box
                out[node_id] = lines * 34 + 30
            elif shape in ("box", "database"):
                out[node_id] = lines * 24 + 22
            else:
                out[node_id] = node.size * 2 + lines * 26
        return out

    def view(self, name: str, slug: str, question: str, subtitle: str, positions: dict[str, tuple[float, float]],
             **extra) -> View:
        for node_id, node in self.nodes.items():
            node.x, node.y = (round(v, 1) for v in positions[node_id])
        nodes = sorted(self.nodes.values(), key=lambda n: n.id)
        edges = sorted(self.edges.values(), key=lambda e: (e.source, e.target))
        legend = dict(sorted(self.legend.items(), key=lambda kv: kv[1].label))
        return View(name, slug, question, subtitle, nodes, edges, legend, **extra)


# -- tooltips: plain text, shown as text by vis-network -------------------------------------------------
def _cap(items: list[str], n: int) -> list[str]:
    return items[:n] + ([f"… and {len(items) - n} more"] if len(items) > n else [])


def term_tooltip(model: Model, iri: str) -> str:
    kind = KINDS[model.kind_of(iri) or "schema"].label
    lines = [one_line(model.label(iri)), f"{kind} · {curie(iri)}"]
    if model.definition(iri):
        lines.append(one_line(model.definition(iri)))
    synonyms = [one_line(t) for _s, t in model.synonyms(iri)]
    if synonyms:
        lines.append("Also called: " + "; ".join(_cap(synonyms, 6)))
    mappings = [f"{rel} {curie(t)}" for rel, t in model.mappings(iri)]
    if mappings:
        lines.append("Mappings: " + "; ".join(mappings))
    n = len(model.claims_by_term.get(iri, []))
    if n:
        lines.append(f"Named in {n} claim(s)")
    cites = [model.citation(s) for s in model.values(iri, "http://purl.org/dc/terms/source")]
    if cites:
        lines.append("Source: " + "; ".join(_cap(cites, 4)))
    return "\n".join(lines)


def claim_tooltip(model: Model, claim: Claim) -> str:
    lines = [one_line(claim.label)]
    if claim.subject and claim.object:
        pred = model.label(claim.predicate) if claim.predicate else "→"
        lines.append(f"{model.label(claim.subject)} —{pred}→ {model.label(claim.object)}")
    label, _colour = DIRECTION_COLOURS.get(claim.direction or "", UNKNOWN_DIRECTION)
    lines.append(f"Direction: {label} · {', '.join(local_name(t) for t in claim.types)}")
    for name, title in (("strength", "Strength"), ("evidenceMaturity", "Evidence"), ("guidelineStatus", "Guidelines"),
                        ("regulatoryStatus", "Regulatory"), ("availability", "Availability"),
                        ("certainty", "Certainty as reported"), ("derivedCertainty", "Certainty (derived)"),
                        ("appliesToCondition", "Applies to")):
        if claim.one(name):
            lines.append(f"{title}: {one_line(model.label(claim.one(name)))}")
    numbers = model.numbers_text(claim)
    if numbers:
        lines.append(f"Numbers: {numbers}")
    sample = model.sample_text(claim)
    if sample:
        lines.append(sample)
    cites = [model.citation(s) for s in claim.sources]
    if cites:
        lines.append("Source: " + "; ".join(cites))
    return "\n".join(lines)


def numbers_tooltip(model: Model, claim: Claim) -> str:
    lines = [model.numbers_text(claim) or "", f"Reported in: {one_line(claim.label)}"]
    for name, title in (("measure", "Measure"), ("studyDesign", "Design"), ("study", "Study")):
        if claim.one(name):
            lines.append(f"{title}: {one_line(model.label(claim.one(name)))}")
    sample = model.sample_text(claim)
    if sample:
        lines.append(sample)
    if claim.one("populationDescription"):
        lines.append(f"Population: {one_line(claim.one('populationDescription'))}")
    cites = [model.citation(s) for s in claim.sources]
    if cites:
        lines.append("Source: " + "; ".join(cites))
    return "\n".join(lines)


def source_tooltip(model: Model, iri: str) -> str:
    kind = KINDS[model.kind_of(iri) or "document"].label
    lines = [model.citation(iri), kind]
    props = model.source_properties(iri)
    if props.get("title") and props["title"] not in lines[0]:
        lines.append(props["title"])
    where = ", ".join(props[k] for k in ("journal", "publisher", "year") if props.get(k))
    if where:
        lines.append(where)
    if model.definition(iri):
        lines.append(one_line(model.definition(iri)))
    n = len(claims_citing(model, iri))
    lines.append(f"Cited by {n} claim(s)")
    return "\n".join(lines)


def edge_tooltip(model: Model, s: str, p: str, o: str) -> str:
    lines = [f"{model.label(s)} —{model.label(p)}→ {model.label(o)}"]
    claims = model.supporting_claims(s, p, o)
    if claims:
        lines.append(f"Supported by {len(claims)} claim(s):")
        for c in _cap(claims, 5):
            if isinstance(c, str):
                lines.append(c)
                continue
            cites = "; ".join(model.citation(x) for x in c.sources)
            lines.append(f"• {one_line(c.label)}" + (f" [{cites}]" if cites else ""))
    return "\n".join(lines)


def claims_citing(model: Model, source: str) -> list[Claim]:
    return [c for c in model.claims.values() if source in c.sources]


# -- resolving parameters -------------------------------------------------------------------------------
def resolve_term(model: Model, text: str, parameter: str, kinds: tuple[str, ...] | None = None) -> str:
    iri = model.kg.resolve(text, parameter=parameter).iri
    if iri not in model.term_kinds:
        raise InputError(f"{parameter}: {text!r} is not a term of the graph (it is {curie(iri)})")
    if kinds and model.term_kinds[iri] not in kinds:
        options = sorted({one_line(model.label(t)) for t, k in model.term_kinds.items() if k in kinds})
        raise InputError(
            f"{parameter}: {model.label(iri)!r} is a {KINDS[model.term_kinds[iri]].label}, not a "
            f"{' or '.join(KINDS[k].label for k in kinds)}; choose one of: {', '.join(options[:30])}"
        )
    return iri


def resolve_source(model: Model, text: str, parameter: str = "--source") -> str:
    """A source from its IRI, CURIE, DOI (any case, with or without doi: or https://doi.org/) or label."""
    raw = one_line(str(text))
    if not raw:
        raise InputError(f"{parameter}: empty value")
    candidates = [raw]
    doi = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", "", raw, flags=re.IGNORECASE)
    if doi.startswith("10."):
        candidates.append("https://doi.org/" + doi.lower())
    try:
        candidates.append(expand(raw))
    except ValueError:
        pass
    for c in candidates:
        if c in model.sources:
            return c
    by_name: dict[str, str] = {}
    for iri in model.sources:
        for name in [model.label(iri), model.first(iri, "http://purl.org/dc/terms/title") or "",
                     model.first(iri, str(BIBO.doi)) or ""]:
            if name:
                by_name.setdefault(normalise(name), iri)
    key = normalise(raw)
    if key in by_name:
        return by_name[key]
    partial = sorted({iri for name, iri in by_name.items() if key and key in name})
    if len(partial) == 1:
        return partial[0]
    close = difflib.get_close_matches(key, list(by_name), n=5, cutoff=0.5)
    hint = partial[:5] and [model.label(p) for p in partial[:5]] or close
    suffix = f"; did you mean: {', '.join(repr(h) for h in hint)}" if hint else ""
    what = "matches several sources" if len(partial) > 1 else "unknown source"
    raise InputError(f"{parameter}: {what} {raw!r} (give a DOI, a CURIE such as src:seed-000, or a title){suffix}")


def _int_param(value: Any, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: {value!r} is not a whole number") from None
    if not low <= number <= high:
        raise InputError(f"{name}: {number} is out of range ({low}–{high})")
    return number


# -- the views ------------------------------------------------------------------------------------------
def ontology_view(model: Model) -> View:
    """The kinds of term (one node per domain root), how terms of each kind relate, and the evidence layer."""
    b = _Builder(model)
    counts: dict[str, list[str]] = defaultdict(list)
    for iri, kind in model.term_kinds.items():
        counts[kind].append(iri)
    kind_node: dict[str, str] = {}
    for kind in (k for k in KINDS.values() if k.key in counts):
        node_id = kind.root or str(BML.CauseCategory)
        kind_node[kind.key] = node_id
        examples = sorted(one_line(model.label(t)) for t in counts[kind.key])
        tip = "\n".join([
            f"{kind.label} ({len(examples)} terms) · {curie(node_id)}",
            one_line(model.definition(node_id) or ""),
            "For example: " + "; ".join(_cap(examples, 8)),
        ])
        b.add(node_id, f"{kind.label} ({len(examples)})", _kind_entry(kind), tip)
    for node_id in sorted(set(kind_node.values())):
        for parent in sorted(model.hierarchy.successors(node_id)) if node_id in model.hierarchy else ():
            if parent in b.nodes:
                b.is_a(node_id, parent)
    pairs: dict[tuple[str, str], dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for s, p, o in model.term_edges:
        pairs[(kind_node[model.term_kinds[s]], kind_node[model.term_kinds[o]])][p].append((s, o))
    for (ks, ko), by_pred in sorted(pairs.items()):
        ranked = sorted(by_pred.items(), key=lambda kv: (-len(kv[1]), model.label(kv[0])))
        names = [f"{one_line(model.label(p))} ({len(ex)})" for p, ex in ranked]
        label = " · ".join(names[:2]) + (f" · +{len(names) - 2}" if len(names) > 2 else "")
        tip = [f"{model.label(ks)} → {model.label(ko)}"]
        for p, ex in ranked:
            tip.append(f"{one_line(model.label(p))}: {len(ex)} edge(s), e.g. "
                       + "; ".join(f"{model.label(a)} → {model.label(c)}" for a, c in ex[:3]))
        b.link(ks, ko, label, "\n".join(tip))
    _ontology_evidence_layer(model, b, kind_node)
    positions = schema_grid({node_id: node.group for node_id, node in b.nodes.items()})
    n_terms = len(model.term_kinds)
    return b.view("ontology", "ontology", "What kinds of term does the graph hold, and how do they relate?",
                  f"{n_terms} terms in {len(kind_node)} kinds; an edge counts the derived term edges between two "
                  f"kinds. Every term edge rests on claims, which cite sources (right).", positions)


def _ontology_evidence_layer(model: Model, b: _Builder, kind_node: dict[str, str]) -> None:
    claim_id = str(BML.Claim)
    b.add(claim_id, f"claim ({len(model.claims)})", _kind_entry(KINDS["claim"]),
          f"claim · bml:Claim\n{one_line(model.definition(claim_id) or '')}\n{len(model.claims)} claims")
    by_kind: dict[str, int] = defaultdict(int)
    for c in model.claims.values():
        for s in c.sources:
            by_kind[model.kind_of(s) or "document"] += 1
    for key in sorted(by_kind):
        n_sources = sum(1 for k in model.sources.values() if k == key)
        node_id = f"{BASE}kind/{key}"
        kind = KINDS[key]
        b.add(node_id, f"{kind.label} ({n_sources})", _kind_entry(kind),
              f"{kind.label}: {n_sources} source(s), cited {by_kind[key]} time(s) by claims")
        b.link(claim_id, node_id, f"cites ({by_kind[key]})", f"claims cite a {kind.label} {by_kind[key]} time(s)")


def causes_view(model: Model) -> View:
    """The cause categories side by side, the conditions under each (an outline), red-flagged categories marked."""
    b = _Builder(model)
    center = str(BML.CauseCategory)
    tree = nx.DiGraph()
    tree.add_node(center)
    b.add(center, model.label(center), _kind_entry(KINDS["condition"]), term_tooltip(model, center), size=30)
    red = LegendEntry("red-flag", "red flag: needs urgent work-up (border)", "#D00000", "border")
    for order, cat in enumerate(model.categories):
        flagged = red_flag(model, cat)
        node = b.term(cat, border="#D00000" if flagged else None)
        if flagged:
            b.legend.setdefault(red.key, red)
            node.tooltip += f"\nRED FLAG: {one_line(flagged)}"
        tree.add_edge(center, cat, order=order)
        tree.nodes[cat]["order"] = f"{order:03d}"
        b.is_a(cat, center)
        members = category_members(model, cat)
        for cond in sorted(members, key=lambda c: model.label(c).casefold()):
            b.term(cond)
            if cond not in tree:
                _attach(tree, model, cond, members | {cat})
    for cond in sorted(set(b.nodes) - {center} - set(model.categories)):
        drawn_under = next(iter(tree.predecessors(cond)))
        for parent in sorted(model.hierarchy.successors(cond)):
            if parent in b.nodes and parent != drawn_under:
                b.is_a(cond, parent)
    for s, p, o in model.term_edges:
        if s in b.nodes and o in b.nodes:
            b.term_edge(s, p, o)
    n_cond = len(b.nodes) - 1 - len(model.categories)
    return b.view("causes", "causes", "What are the cause categories of bone marrow oedema, and which "
                  "conditions fall under each?",
                  f"{len(model.categories)} categories, {n_cond} conditions, each listed under its category "
                  "(sub-kinds indented); categories with a red border need urgent work-up.", column_tree(tree, center),
                  notes=["A condition listed under one category and linked by an 'is a' edge to another belongs "
                         "to both."])


def _attach(tree: nx.DiGraph, model: Model, cond: str, allowed: set[str]) -> None:
    """Place ``cond`` in the drawing tree under its nearest placed superclass (its parent first)."""
    parent = _tree_parent(model, cond, allowed)
    if parent not in tree:
        _attach(tree, model, parent, allowed)
    tree.add_edge(parent, cond)
    tree.nodes[cond]["order"] = model.label(cond).casefold()


def category_members(model: Model, category: str) -> set[str]:
    """Conditions under a category: asserted or HermiT-inferred subclasses, or matching its definition."""
    members = {d for d in model.descendants(category) if d in model.term_kinds}
    return members | defined_members(model, category)


def defined_members(model: Model, category: str) -> set[str]:
    """Conditions whose ``hasPathologicalProcess some P`` restriction meets the category's defining one."""
    wanted = model.defining_restrictions(category)
    if not wanted:
        return set()
    found = set()
    for cond, kind in model.term_kinds.items():
        if kind != "condition" or cond == category:
            continue
        for prop, value in model.inherited_restrictions(cond):
            if any(prop == wp and (value == wv or wv in model.ancestors(value)) for wp, wv in wanted):
                found.add(cond)
    return found


def _tree_parent(model: Model, cond: str, allowed: set[str]) -> str:
    """The nearest superclass of ``cond`` within the category's subtree (the category itself at worst)."""
    parents = [p for p in model.hierarchy.successors(cond) if p in allowed] if cond in model.hierarchy else []
    category = next(a for a in sorted(allowed) if a in model.categories)
    return sorted(parents)[0] if parents else category


def red_flag(model: Model, iri: str) -> str | None:
    """The red-flag reason of a category (or 'red flag' when no reason is given), inherited down the tree."""
    for node in [iri] + sorted(model.ancestors(iri)):
        if any(v in ("true", "1") for v in model.values(node, str(BML.redFlag))):
            return model.first(node, str(BML.redFlagReason)) or "red flag"
    return None


def treatment_view(model: Model, treatment: str) -> View:
    """A treatment (and its sub-kinds) ➜ the claims about it ➜ their numbers ➜ the sources behind them."""
    t = resolve_term(model, treatment, "--treatment", kinds=("treatment",))
    b = _Builder(model)
    heads = [t] + sorted(d for d in model.descendants(t) if d in model.term_kinds)
    for h in heads:
        b.term(h, size=30)
        for parent in model.hierarchy.successors(h) if h in model.hierarchy and h != t else ():
            if parent in heads:
                b.is_a(h, parent)
    claims: list[Claim] = []
    for h in heads:
        for c in model.claims_by_term.get(h, []):
            if (c.subject == h or c.object == h) and c not in claims:
                claims.append(c)
    stats, sources = [], []
    for c in claims:
        b.claim(c, design_border=True)
        head = c.subject if c.subject in heads else c.object
        pred = one_line(model.label(c.predicate)) if c.predicate else "claim"
        obj = model.label(c.object) if c.subject == head and c.object else model.label(c.subject or "")
        b.link(head, c.iri, pred, f"{model.label(head)} —{pred}→ {obj}\n{one_line(c.label)}",
               colour=DIRECTION_COLOURS.get(c.direction or "", UNKNOWN_DIRECTION)[1])
        stat = b.statistic(c)
        if stat:
            stats.append(stat.id)
            b.link(c.iri, stat.id, "reports", numbers_tooltip(model, c))
        for s in c.sources:
            b.source(s)
            if s not in sources:
                sources.append(s)
            b.link(stat.id if stat else c.iri, s, "source", f"{one_line(c.label)}\nSource: {model.citation(s)}")
    layers = [heads, [c.iri for c in claims], stats, sources]
    positions = layered([l for l in layers if l], list(b.edges), x_gap=500, y_gap=60, max_rows=10,
                        heights=b.heights())
    label = one_line(model.label(t))
    return b.view("treatment", f"treatment-{slugify(local_name(t))}",
                  f"What is the evidence for {label}, and where does it come from?",
                  f"{len(claims)} claims, {len(stats)} with numbers, from {len(sources)} sources. Claims are "
                  "filled by direction and outlined by study design; numbers are filled by design (darker = "
                  "stronger design).",
                  positions, params={"treatment": curie(t)})


CHAIN_PREDICATES = ("hasHistologicalFeature", "contributesTo", "hasMarkerTerm", "associatedWith", "predicts",
                    "explainsVarianceOf")
CHAIN_KINDS = ("histological_finding", "mechanism", "marker", "symptom", "outcome", "imaging_finding")


def mechanism_view(model: Model, max_depth: int = 4) -> View:
    """BML ➜ tissue change ➜ mechanism ➜ pain or progression, with the mechanisms proposed to form lesions."""
    starts = {str(BML.BoneMarrowLesion), str(BML.BoneMarrowOedemaSign)}
    starts |= {d for s in list(starts) for d in model.descendants(s) if d in model.term_kinds}
    starts = {s for s in starts if s in model.term_kinds}
    g = nx.MultiDiGraph()
    for s, p, o in model.term_edges:
        if local_name(p) in CHAIN_PREDICATES:
            g.add_edge(s, o, key=p)
    forward = set(starts)
    frontier = set(starts)
    for _ in range(max_depth):
        nxt = {o for s in frontier if s in g for o in g.successors(s)
               if model.term_kinds.get(o) in CHAIN_KINDS and o not in forward}
        forward |= nxt
        frontier = nxt
    upstream = {s for o in starts if o in g for s in g.predecessors(o)
                if model.term_kinds.get(s) in ("mechanism", "histological_finding") and s not in forward}
    upstream |= {s for o in list(upstream) if o in g for s in g.predecessors(o)
                 if model.term_kinds.get(s) == "mechanism" and s not in forward}
    ends = {n for n in forward if model.term_kinds[n] in ("symptom", "outcome")}
    side = {s for o in ends if o in g for s in g.predecessors(o)
            if model.term_kinds.get(s) in ("mechanism", "histological_finding", "marker") and s not in forward}
    side |= {o for s in list(side) if s in g for o in g.successors(s) if model.term_kinds.get(o) == "marker"}
    keep = forward | upstream | side
    b = _Builder(model)
    for n in sorted(keep):
        b.term(n, size=30 if n in starts else 22)
    for s, o, p in sorted(g.edges(keys=True)):
        if s in keep and o in keep and not (s not in upstream and o in upstream):
            b.term_edge(s, p, o)
    ranks = {"histological_finding": 2, "mechanism": 3, "marker": 4}
    layers: dict[int, list[str]] = defaultdict(list)
    for n in keep:
        rank = 0 if n in upstream else 1 if n in starts else ranks.get(model.term_kinds[n], 5)
        layers[rank].append(n)
    positions = layered([sorted(layers[r]) for r in sorted(layers)], list(b.edges), x_gap=430, y_gap=60,
                        max_rows=12, heights=b.heights())
    return b.view("mechanism", "mechanism", "How do bone marrow lesions lead to knee pain and progression?",
                  "Left to right: mechanisms proposed to form the lesion, the lesion, the tissue changes found in it, "
                  "mechanisms and their markers, then pain and progression. Every edge rests on cited claims.",
                  positions)


def term_view(model: Model, term: str, depth: Any = 1) -> View:
    """A term and everything within ``depth`` steps of it (term edges and is-a links, either direction)."""
    iri = resolve_term(model, term, "--term")
    depth = _int_param(depth, "--depth", 1, MAX_DEPTH)
    g = nx.Graph()
    g.add_nodes_from(model.term_kinds)
    for child, parent in model.hierarchy.edges:
        if child in model.term_kinds and parent in model.term_kinds:
            g.add_edge(child, parent)
    for s, _p, o in model.term_edges:
        g.add_edge(s, o)
    distance = nx.single_source_shortest_path_length(g, iri, cutoff=depth)
    keep = set(distance)
    b = _Builder(model)
    for n in sorted(keep, key=lambda n: (distance[n], n)):
        b.term(n, size=34 if n == iri else 22)
    for child, parent in sorted(model.hierarchy.edges):
        if child in keep and parent in keep:
            b.is_a(child, parent)
    for s, p, o in model.term_edges:
        if s in keep and o in keep:
            b.term_edge(s, p, o)
    label = one_line(model.label(iri))
    steps = "one step" if depth == 1 else f"{depth} steps"
    return b.view("term", f"term-{slugify(local_name(iri))}-d{depth}",
                  f"What is {label} connected to, within {steps}?",
                  f"{len(keep) - 1} terms within {steps} of {label} (term edges derived from claims, and is-a links).",
                  rings(iri, distance, g, group={n: b.nodes[n].group for n in keep}),
                  params={"term": curie(iri), "depth": depth})


def source_view(model: Model, source: str) -> View:
    """A source ➜ the claims that cite it ➜ the terms they are about, plus terms defined from it."""
    iri = resolve_source(model, source)
    b = _Builder(model)
    b.source(iri)
    claims = claims_citing(model, iri)
    terms: list[str] = []
    for c in claims:
        b.claim(c)
        b.link(c.iri, iri, "cites", f"{one_line(c.label)}\nSource: {model.citation(iri)}")
        for name, label in (("subjectTerm", "subject"), ("objectTerm", "object")):
            t = c.one(name)
            if t in model.term_kinds:
                b.term(t)
                if t not in terms:
                    terms.append(t)
                b.link(c.iri, t, label, f"{one_line(c.label)}\n{label}: {model.label(t)}")
    defined = [t for t in model.term_kinds if iri in model.values(t, "http://purl.org/dc/terms/source")]
    for t in defined:
        b.term(t)
        if t not in terms:
            terms.append(t)
        b.link(t, iri, "term source", f"{model.label(t)} cites {model.citation(iri)} as its source",
               colour="#C7C7C7", dashes=True, width=1.0)
    layers = [[iri], [c.iri for c in claims], sorted(terms)]
    positions = layered([l for l in layers if l], list(b.edges), x_gap=500, y_gap=60, max_rows=16,
                        heights=b.heights())
    slug = local_name(iri) if not iri.startswith("https://doi.org/") else "doi-" + iri[len("https://doi.org/"):]
    return b.view("source", f"source-{slugify(slug)}", f"What does {one_line(model.citation(iri))} support?",
                  f"{len(claims)} claims cite it; they and {len(defined)} term definitions name {len(terms)} terms.",
                  positions, params={"source": curie(iri)})


DIFFERENTIAL_TOP = 8
#: Teaching cases the build renders as differential views (what a student would type; no expected answer).
EXAMPLE_CASES: tuple[dict, ...] = (
    {"finding": ["bone marrow oedema", "fracture of the tibia"], "context": ["fall onto the knee"]},
    {"finding": ["bone marrow lesion", "medial femoral condyle", "cartilage loss"],
     "context": ["knee osteoarthritis", "pain when walking"]},
    {"finding": ["bone marrow oedema"], "context": ["man aged 40", "sudden unexplained knee pain", "no injury"]},
)
INPUT = LegendEntry("input", "finding or context given", "#1F4E79", "box", "#ffffff")
INPUT_ABSENT = LegendEntry("input-absent", "finding or context stated absent", "#9E9E9E", "box", "#ffffff")
INPUT_UNRESOLVED = LegendEntry("input-unresolved", "input not understood (not used)", "#FFFFFF", "box")
CANDIDATE = LegendEntry("candidate", "candidate cause (bigger = higher rank)", "#D55E00", "dot")
CHECK_NEXT = LegendEntry("check-next", "check next: tells the leading causes apart", "#F4A582", "hexagon")


def _score(value: float) -> str:
    return f"{value:g}"


def differential_view(model: Model, finding: Any = (), context: Any = (), absent: Any = ()) -> View:
    """Findings ➜ candidate causes (from the differential engine, sized by rank) ➜ findings to check next."""
    result = differential(model.kg, list(finding or ()), context=list(context or ()), absent=list(absent or ()))
    b = _Builder(model)
    input_ids: dict[str, str] = {}
    for i, item in enumerate(result.inputs):
        node_id = f"urn:bmlkg:input:{i}"
        input_ids.setdefault(item.text, node_id)
        terms = "; ".join(f"{one_line(t.label)} ({t.curie}, matched by {t.match})" for t in item.terms)
        tip = f"{one_line(item.text)}\n{item.role}, {'present' if item.present else 'absent'}\nUnderstood as: {terms}"
        if item.note:
            tip += f"\n{one_line(item.note)}"
        label = item.text if item.present else f"absent: {item.text}"
        b.add(node_id, label, INPUT if item.present else INPUT_ABSENT, tip)
    for j, problem in enumerate(result.unresolved):
        hint = f"\nClosest known terms: {', '.join(problem.suggestions)}" if problem.suggestions else ""
        b.add(f"urn:bmlkg:unresolved:{j}", problem.text, INPUT_UNRESOLVED,
              f"{one_line(problem.text)}\n{problem.role}: not used: {one_line(problem.reason)}{hint}")
    shown = [c for c in result.conditions if c.score > 0][:DIFFERENTIAL_TOP] or result.conditions[:DIFFERENTIAL_TOP]
    for c in shown:
        node = b.add(c.iri, f"{c.rank}. {c.label} ({_score(c.score)})", CANDIDATE, _candidate_tooltip(model, c),
                     size=max(14, 44 - 4 * (c.rank - 1)), border="#D00000" if c.red_flag else None)
        if c.red_flag:
            b.legend.setdefault("red-flag", LegendEntry("red-flag", "red flag: needs urgent work-up (border)",
                                                        "#D00000", "border"))
        node.full_label = one_line(c.label)
        for link in c.links:
            if link.input in input_ids:
                b.link(input_ids[link.input], c.iri, f"+{_score(link.points)} ({link.frequency} × {link.evoking})",
                       _link_tooltip(model, link, c, True), colour="#1B7837",
                       legend="supports the cause (+ points: frequency × evoking strength)")
        for link in c.counts_against:
            if link.input in input_ids:
                b.link(input_ids[link.input], c.iri, f"−{_score(abs(link.points))} ({link.role})",
                       _link_tooltip(model, link, c, False), colour="#B2182B", dashes=True,
                       legend="counts against the cause (− points)")
    checks = []
    for item in result.check_next:
        pointed = [p for p in item.points_to if p["condition"] in b.nodes]
        if not pointed:
            continue
        tip = "\n".join([one_line(item.label or model.label(item.feature)),
                         f"Check next: points to {item.n_candidates} of the {item.of} leading causes"]
                        + [f"• {one_line(p['label'] or '')} ({p['frequency']})" for p in item.points_to])
        b.add(item.feature, item.label or model.label(item.feature), CHECK_NEXT, tip)
        checks.append(item.feature)
        for p in pointed:
            b.link(p["condition"], item.feature, p["frequency"] or "points to",
                   f"If {model.label(item.feature)} is found, it points to {p['label']} ({p['frequency']})",
                   colour="#B35806", dashes=True, legend="would point to the cause (strength)")
    inputs = [n for n in b.nodes if n.startswith("urn:bmlkg:")]
    layers = [inputs, [c.iri for c in shown], checks]
    positions = layered([l for l in layers if l], list(b.edges), x_gap=520, y_gap=60, max_rows=10,
                        heights=b.heights(), keep_order=(1,))
    typed = [*(finding or ()), *(context or ()), *(f"no {a}" for a in (absent or ()))]
    return b.view("differential", "differential-" + slugify(" ".join(typed)),
                  "What could cause these findings, and what would tell the causes apart?",
                  f"Given: {'; '.join(one_line(t) for t in typed)}. {len(result.conditions)} conditions scored; "
                  f"the top {len(shown)} shown, bigger = higher rank. Score = support − against, from the sources' "
                  "wording: a teaching heuristic, not a probability.", positions,
                  params={"finding": list(finding or ()), "context": list(context or ()),
                          "absent": list(absent or ())})


def _candidate_tooltip(model: Model, c) -> str:
    lines = [f"{c.rank}. {one_line(c.label)} · {c.curie}",
             f"score {_score(c.score)} = support {_score(c.support)} − against {_score(c.against)}"]
    if c.categories:
        lines.append("Category: " + "; ".join(one_line(x["label"]) for x in c.categories))
    if model.definition(c.iri):
        lines.append(one_line(model.definition(c.iri)))
    if c.explains:
        lines.append("Explains: " + "; ".join(one_line(t) for t in c.explains))
    if c.does_not_explain:
        lines.append("Does not explain: " + "; ".join(one_line(t) for t in c.does_not_explain))
    if c.red_flag:
        lines.append(f"RED FLAG: {one_line(c.red_flag_reason or 'needs urgent work-up')}")
    if c.tell_apart_from:
        lines.append("Tell apart from: " + "; ".join(one_line(t.label or curie(t.condition)) for t in c.tell_apart_from))
    return "\n".join(lines)


def _link_tooltip(model: Model, link, c, supports: bool) -> str:
    """One input's contribution to one candidate (a dx-links row): points and how they were reached."""
    verb = "supports" if supports else "counts against"
    lines = [f"'{one_line(link.input)}' {verb} {one_line(c.label)}: {'+' if supports else '−'}{_score(abs(link.points))}"]
    if link.role == "supports":
        lines.append(f"= frequency {link.frequency} {_score(link.frequency_weight)} × {link.evoking} "
                     f"{_score(link.evoking_weight)} ({link.evoking_from}) × {_score(link.factor)}")
    else:
        lines.append(f"{link.role}" + (f" ({link.frequency})" if link.frequency else ""))
    if link.feature:
        lines.append(f"Through: {one_line(link.feature_label or model.label(link.feature))} ({link.match or link.role})")
    if link.claim_label:
        lines.append(f"Claim: {one_line(link.claim_label)}")
    cites = [model.citation(s.iri) for s in link.sources]
    if cites:
        lines.append("Source: " + "; ".join(cites))
    return "\n".join(lines)


# -- the table of views ---------------------------------------------------------------------------------
def _standard_treatments(model: Model) -> list[dict]:
    with_claims = {t for t, k in model.term_kinds.items() if k == "treatment" and any(
        c.subject == t or c.object == t for c in model.claims_by_term.get(t, []))}
    return [{"treatment": curie(t)} for t in sorted(with_claims)]


def _standard_sources(model: Model) -> list[dict]:
    cited = {s for c in model.claims.values() for s in c.sources}
    return [{"source": curie(s)} for s in sorted(cited) if s in model.sources]


def _standard_terms(model: Model) -> list[dict]:
    return [{"term": curie(t), "depth": 1} for t in CORE_TERMS if t in model.term_kinds]


VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec("ontology", "The ontology overview: every kind of term, how many there are, and which kinds the "
             "derived term edges join; claims and the sources they cite form the evidence layer.",
             (), ontology_view, lambda m: [{}]),
    ViewSpec("causes", "The cause categories of bone marrow oedema with the conditions under each; red-flagged "
             "categories (urgent work-up) have a red border.", (), causes_view, lambda m: [{}]),
    ViewSpec("mechanism", "The mechanism chain: bone marrow lesion ➜ tissue changes ➜ mechanisms and markers ➜ "
             "pain and progression, with the mechanisms proposed to form lesions.", (), mechanism_view,
             lambda m: [{}]),
    ViewSpec("differential", "A differential for a case: the findings and context given ➜ the candidate causes from "
             "the differential engine, sized by rank, with the links behind each score ➜ the findings that would "
             "tell the leading causes apart.",
             (Param("finding", "a finding as you would type it (repeat)", required=False, multiple=True),
              Param("context", "history, age and sex, conditions (repeat)", required=False, multiple=True),
              Param("absent", "a finding or context known to be absent (repeat)", required=False, multiple=True)),
             differential_view, lambda m: [dict(case) for case in EXAMPLE_CASES], dict(EXAMPLE_CASES[0])),
    ViewSpec("treatment", "A treatment's evidence: treatment ➜ claims (coloured by direction) ➜ reported numbers "
             "(coloured by study design) ➜ sources.",
             (Param("treatment", "the treatment (label, synonym or CURIE)"),), treatment_view, _standard_treatments,
             {"treatment": "subchondroplasty"}),
    ViewSpec("term", "A term's neighbourhood: every term within N steps through term edges and is-a links.",
             (Param("term", "the term (label, synonym or CURIE)"),
              Param("depth", f"how many steps out (1–{MAX_DEPTH})", required=False, type=int, default=1)),
             term_view, _standard_terms, {"term": "bone marrow lesion", "depth": 1}),
    ViewSpec("source", "Everything a source supports: source ➜ the claims citing it ➜ the terms they are about, "
             "and the terms defined from it.",
             (Param("source", "the source (DOI, CURIE such as src:seed-000, or title)"),), source_view,
             _standard_sources, {"source": "src:seed-001"}),
)


#: The classroom page (:mod:`bmlkg.views.classroom`): rendered like a view, but computed in the browser.
CLASSROOM = "classroom"


def view_names() -> list[str]:
    """Every name ``bmlkg render`` takes: the graph views, then the classroom page."""
    return [s.name for s in VIEWS] + [CLASSROOM]


def view_spec(name: str) -> ViewSpec:
    for spec in VIEWS:
        if spec.name == name:
            return spec
    raise InputError(f"unknown view {name!r}; valid views: {', '.join(view_names())}")


def build_view(kg: Store | Model, name: str, **args: Any) -> View:
    """Select and lay out one view. Unknown views, unknown or missing parameters raise InputError."""
    spec = view_spec(name)
    model = kg if isinstance(kg, Model) else Model(kg)
    given = {k: v for k, v in args.items() if v is not None and v != [] and v != ()}
    known = {p.name for p in spec.params}
    extra = sorted(set(given) - known)
    if extra:
        takes = ", ".join(f"--{p}" for p in sorted(known)) or "no parameters"
        raise InputError(f"view {name!r} does not take --{extra[0]} (it takes {takes})")
    call: dict[str, Any] = {}
    for p in spec.params:
        if p.name in given:
            value = given[p.name]
            if p.multiple and isinstance(value, str):
                value = [value]
            if not p.multiple and isinstance(value, (list, tuple)):
                if len(value) != 1:
                    raise InputError(f"view {name!r}: --{p.name} takes one value")
                value = value[0]
            call[p.name] = value
        elif p.required:
            raise InputError(f"view {name!r} needs --{p.name}: {p.help}")
        elif p.default is not None:
            call[p.name] = p.default
    return spec.build(model, **call)
