"""Offline, interactive HTML teaching views: a :mod:`bmlkg.views.viewdata` view drawn with pyvis.

Each page is self-contained: vis-network, tom-select and pyvis's helper script are inlined from the copies
pyvis ships (no CDN, no ``lib/`` folder: pyvis's ``show()`` and ``write_html()`` are never called), and a
Content-Security-Policy forbids every fetch. The page is rendered by ``Network.generate_html()`` with
bmlkg's own template through an autoescaping Jinja environment: labels, definitions and citations are data,
written as escaped text or as JSON inside ``application/json`` blocks, never as markup or script.

This is the only module that imports pyvis.

>>> import bmlkg, tempfile, pathlib
>>> out = render(bmlkg.load(), "term", pathlib.Path(tempfile.mkdtemp()) / "bml.html", term="BML")
>>> out.read_text(encoding="utf-8").count("https://cdn")
0
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from ..store.errors import InputError
from ..store.fileio import RECORD, atomic_write, publish, record_text
from ..store.graph import Store
from .netgraph import Model
from .ontodoc import TEMPLATES
from .viewdata import VIEWS, View, ViewSpec, build_view

INDEX = "index.html"
ONTOLOGY_DOC = "ontology/index.html"
SHAPES_WITH_LABEL_INSIDE = ("box", "ellipse", "database", "circle", "text")

#: vis-network options shared by every view: fixed positions (physics off), hover tooltips, big type.
OPTIONS: dict[str, Any] = {
    "autoResize": True,
    "physics": {"enabled": False},
    "layout": {"randomSeed": 7, "improvedLayout": False},
    "interaction": {"hover": True, "tooltipDelay": 120, "navigationButtons": True, "zoomSpeed": 0.6,
                    "keyboard": {"enabled": True, "bindToWindow": False}, "hideEdgesOnDrag": False},
    "nodes": {"borderWidth": 1.5, "margin": 10, "shapeProperties": {"interpolation": False},
              "font": {"size": 22, "face": "system-ui, Arial, sans-serif"}},
    "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.7}},
              "smooth": {"enabled": True, "type": "curvedCW", "roundness": 0.1},
              "font": {"size": 16, "align": "middle", "color": "#333333", "strokeWidth": 0,
                       "background": "rgba(255,255,255,0.88)", "face": "system-ui, Arial, sans-serif"},
              "width": 1.6, "selectionWidth": 2, "hoverWidth": 1.5},
}


def _pyvis_templates() -> Path:
    import pyvis

    return Path(pyvis.__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    """An autoescaping environment that finds bmlkg's templates first, then pyvis's bundled libraries.

    Built once: compiling the inlined libraries (about 750 kB) is the slow part of a render. Each render
    sets the page's data in the ``view`` global and removes it afterwards.
    """
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(TEMPLATES)), FileSystemLoader(str(_pyvis_templates()))]),
        autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": True}
    env.filters["json_data"] = lambda text: Markup(htmlsafe_json_dumps(json.loads(text), sort_keys=True))
    return env


@contextmanager
def _page(context: dict) -> Iterator[Environment]:
    env = _environment()
    env.globals["view"] = context
    try:
        yield env
    finally:
        env.globals.pop("view", None)


def _node_options(view: View, node) -> dict[str, Any]:
    entry = view.legend[node.group]
    inside = entry.shape in SHAPES_WITH_LABEL_INSIDE
    border = node.border or ("#222222" if inside else entry.colour)
    colour = {"background": entry.colour, "border": border,
              "highlight": {"background": entry.colour, "border": "#000000"},
              "hover": {"background": entry.colour, "border": "#000000"}}
    font = {"color": entry.font_colour if inside else "#111111", "size": 20 if inside else 22,
            "strokeWidth": 0 if inside else 5, "strokeColor": "#ffffff"}
    return {"label": node.label, "title": node.tooltip, "x": node.x, "y": node.y, "size": node.size,
            "shape": entry.shape, "color": colour, "font": font, "borderWidth": 4 if node.border else 1.5,
            "kind": node.group, "fullLabel": node.full_label}


def _network(view: View):
    from pyvis.network import Network

    net = Network(height="100%", width="100%", directed=True, cdn_resources="in_line", heading="")
    for node in view.nodes:
        opts = _node_options(view, node)
        net.add_node(node.id, opts.pop("label"), opts.pop("shape"), opts.pop("color"), **opts)
    for edge in view.edges:
        net.add_edge(edge.source, edge.target, label=edge.label, title=edge.tooltip,
                     color={"color": edge.colour, "highlight": "#000000", "hover": "#222222"},
                     dashes=edge.dashes, width=edge.width)
    net.options = OPTIONS
    return net


def _context(view: View, kg: Store, index: str | None) -> dict:
    counts: dict[str, int] = {}
    for n in view.nodes:
        counts[n.group] = counts.get(n.group, 0) + 1
    legend = [
        {"key": e.key, "label": e.label, "colour": e.colour, "shape": e.shape,
         "count": counts.get(e.key, 0) if max(counts.values(), default=0) > 1 else 0, "filter": e.key in counts}
        for e in view.legend.values()
    ]
    search = sorted(({"id": n.id, "label": n.full_label or n.label} for n in view.nodes),
                    key=lambda s: (s["label"].casefold(), s["id"]))
    return {
        "name": view.name, "question": view.question, "subtitle": view.subtitle, "notes": view.notes,
        "n_nodes": len(view.nodes), "n_edges": len(view.edges), "legend": legend,
        "edge_legend": view.edge_legend(), "search": search, "version": kg.version() or "",
        "version_iri": kg.version_iri() or "", "index": index,
    }


def to_html(view: View, kg: Store, index: str | None = None) -> str:
    """The complete, self-contained HTML page of one view."""
    net = _network(view)
    with _page(_context(view, kg, index)) as env:
        net.templateEnv = env
        net.template_dir = str(TEMPLATES)
        net.path = "view.html"
        return net.generate_html(name="view.html")


def render(kg: Store, view: str, out: Path | str | None = None, **args: Any) -> Path:
    """Render one view to ``out`` (default: ``<view>.html`` in the current folder), atomically.

    ``args`` are the view's parameters (``term=``, ``depth=``, ``treatment=``, ``source=``, ``finding=``,
    ``context=``, ``absent=``); :data:`bmlkg.views.viewdata.VIEWS` lists them. Bad names raise InputError.
    """
    built = build_view(kg, view, **args)
    path = Path(out) if out is not None else Path.cwd() / built.filename
    if path.is_dir():
        path = path / built.filename
    if path.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"--out {path}: a view is an HTML page; give a file name ending in .html")
    atomic_write(path, to_html(built, kg))
    return path


@dataclass
class Rendered:
    view: View
    spec: ViewSpec
    html: str


def standard_pages(kg: Store, progress: Callable[[str], None] | None = None) -> dict[str, bytes]:
    """Every standard view, the index page and the ontology documentation (relative name -> bytes), with the
    folder's record of them (``.bmlkg-manifest.json``)."""
    from .ontodoc import ontology_html

    say = progress or (lambda _m: None)
    model = Model(kg)
    pages: list[Rendered] = []
    for spec in VIEWS:
        instances = spec.standard(model)
        say(f"rendering {spec.name} ({len(instances)} view{'s' if len(instances) != 1 else ''})")
        for args in instances:
            try:
                view = build_view(model, spec.name, **args)
            except InputError as exc:            # an example case the current data cannot resolve
                say(f"skipped {spec.name} {args}: {exc}")
                continue
            pages.append(Rendered(view, spec, to_html(view, kg, index=INDEX)))
    say("writing the ontology documentation")
    contents = {p.view.filename: p.html for p in pages}
    contents[ONTOLOGY_DOC] = ontology_html(model, index="../" + INDEX)
    contents[INDEX] = index_html(kg, pages)
    out = {name: text.encode("utf-8") for name, text in sorted(contents.items())}
    out[RECORD] = record_text(out)
    return out


def render_standard(kg: Store, folder: Path | str, progress: Callable[[str], None] | None = None,
                    force: bool = False) -> list[Path]:
    """Render every standard view, the index page and the ontology documentation into ``folder``.

    All files are staged and moved into place together; pages an earlier render recorded (in
    ``.bmlkg-manifest.json``) that the new set does not contain are removed afterwards, and nothing else is
    touched (a folder holding other files and no record is refused unless ``force``). Returns the paths
    written.
    """
    pages = standard_pages(kg, progress)
    return [p for p in publish(folder, {RECORD: pages}, force=force) if p.name != RECORD]


def index_html(kg: Store, pages: list[Rendered]) -> str:
    """The page that links every view and says what each shows."""
    sections = []
    for spec in VIEWS:
        mine = [p for p in pages if p.spec is spec]
        sections.append({
            "name": spec.name, "description": spec.description,
            "params": [{"name": p.name, "help": p.help} for p in spec.params],
            "pages": [{"href": p.view.filename, "question": p.view.question,
                       "n_nodes": len(p.view.nodes), "n_edges": len(p.view.edges)} for p in mine],
        })
    counts = kg.counts()
    context = {"sections": sections, "version": kg.version() or "", "version_iri": kg.version_iri() or "",
               "counts": counts, "ontology_doc": ONTOLOGY_DOC}
    with _page(context) as env:
        return env.get_template("index.html").render()
