"""Every standard view in headless Chromium (Debian's /usr/bin/chromium through Playwright), offline:
drawn nodes and edges equal the view's counts, no console error, no network request, a hover shows the
tooltip text, hostile labels stay text. A screenshot of each view is saved under pytest's tmp_path."""

from __future__ import annotations

import shutil

import pytest

import bmlkg
from bmlkg.views.netgraph import Model
from bmlkg.views.viewdata import VIEWS, build_view
from bmlkg.views.render import to_html

from .helpers import FIXTURES, mini_source

pytestmark = pytest.mark.browser
HOSTILE_LABEL = "</script><img src=x onerror=alert(1)>"
NODE_POSITION = """(id) => {
  const p = network.canvasToDOM(network.getPositions([id])[id]);
  const r = document.getElementById('mynetwork').getBoundingClientRect();
  return {x: r.left + p.x, y: r.top + p.y};
}"""
TOOLTIP_SHOWN = """() => {
  const t = document.querySelector('div.vis-tooltip');
  return t !== null && t.style.visibility === 'visible' && t.innerText.length > 0;
}"""


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


class Visit:
    """One page load with every request, console message, page error and dialog recorded."""

    def __init__(self, browser, path, width=1600, height=900):
        self.context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
        self.page = self.context.new_page()
        self.url = path.resolve().as_uri()
        self.requests, self.errors, self.dialogs = [], [], []
        self.context.route("**/*", lambda route: route.continue_() if route.request.url == self.url
                           else route.abort())
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(self.url)
        self.page.wait_for_selector("body[data-ready='1']", timeout=30_000)

    def drawn(self) -> tuple[int, int]:
        return (self.page.evaluate("network.body.nodeIndices.length"),
                self.page.evaluate("network.body.edgeIndices.length"))

    def hover(self, node_id: str) -> str:
        point = self.page.evaluate(NODE_POSITION, node_id)
        self.page.mouse.move(point["x"] - 40, point["y"] - 40)
        self.page.mouse.move(point["x"], point["y"], steps=4)
        self.page.wait_for_function(TOOLTIP_SHOWN, timeout=10_000)
        return self.page.inner_text("div.vis-tooltip")

    def network_requests(self) -> list[str]:
        return [u for u in self.requests if u != self.url and not u.startswith("data:")]

    def close(self) -> None:
        self.context.close()


def _hover_target(name: str, view) -> str:
    """A node near the middle of the view whose tooltip we check."""
    if name == "differential":
        return next(n.id for n in view.nodes if n.group == "candidate" and n.label.startswith("1. "))
    if name in ("term", "treatment", "source"):
        return {"term": lambda: view.params["term"], "treatment": lambda: view.params["treatment"],
                "source": lambda: view.params["source"]}[name]()
    xs = sorted(n.x for n in view.nodes)
    ys = sorted(n.y for n in view.nodes)
    cx, cy = xs[len(xs) // 2], ys[len(ys) // 2]
    return min(view.nodes, key=lambda n: ((n.x - cx) ** 2 + (n.y - cy) ** 2, n.id)).id


@pytest.fixture(scope="module")
def pages(kg, tmp_path_factory):
    """One page per view kind, each the first instance of the standard set the build renders."""
    from bmlkg.store.vocab import expand

    model = Model(kg)
    folder = tmp_path_factory.mktemp("views")
    out = {}
    for spec in VIEWS:
        args = spec.standard(model)[0]
        view = build_view(model, spec.name, **args)
        for key in ("term", "treatment", "source"):
            if key in view.params:
                view.params[key] = expand(view.params[key])
        path = folder / view.filename
        path.write_text(to_html(view, kg), encoding="utf-8")
        out[spec.name] = (path, view)
    return out


@pytest.mark.parametrize("name", [v.name for v in VIEWS])
def test_view_in_chromium(browser, pages, name, tmp_path):
    path, view = pages[name]
    visit = Visit(browser, path)
    try:
        assert visit.drawn() == (len(view.nodes), len(view.edges))
        target = _hover_target(name, view)
        node = view.node(target)
        text = visit.hover(target)
        visit.page.screenshot(path=str(tmp_path / f"{name}.png"))
        assert node.tooltip.splitlines()[0] in text
        assert len(text.splitlines()) >= 2
        assert visit.errors == []
        assert visit.network_requests() == []
    finally:
        visit.close()


def test_search_and_filter(browser, pages):
    path, view = pages["causes"]
    visit = Visit(browser, path)
    try:
        target = next(n for n in view.nodes if n.full_label == "osteomyelitis")
        visit.page.click(".ts-control")
        visit.page.keyboard.type("osteomyel")
        visit.page.keyboard.press("Enter")
        assert visit.page.evaluate("network.getSelectedNodes()") == [target.id]
        visit.page.uncheck("input[data-group='condition']")
        hidden = visit.page.evaluate("nodes.get({filter: n => n.hidden}).length")
        assert hidden == sum(n.group == "condition" for n in view.nodes)
        visit.page.click("#reset")
        assert visit.page.evaluate("nodes.get({filter: n => n.hidden}).length") == 0
        assert visit.errors == [] and visit.network_requests() == []
    finally:
        visit.close()


def test_hostile_label_renders_as_text_in_chromium(browser, tmp_path):
    folder = mini_source(tmp_path / "src")
    shutil.copy(FIXTURES / "hostile.ttl", folder / "hostile.ttl")
    kg = bmlkg.load(folder)
    view = build_view(kg, "term", term="bml:HostileTreatment")
    path = tmp_path / "hostile.html"
    path.write_text(to_html(view, kg), encoding="utf-8")
    visit = Visit(browser, path)
    try:
        text = visit.hover("https://w3id.org/bmlkg/HostileTreatment")
        visit.page.screenshot(path=str(tmp_path / "hostile.png"))
        assert HOSTILE_LABEL in text
        assert "<a href='javascript:alert(2)'>here</a>" in text and "{{ 7*7 }}" in text
        assert visit.page.evaluate("document.querySelectorAll('img, iframe, a[href^=\"javascript\"]').length") == 0
        assert visit.page.evaluate("document.querySelectorAll('script').length") == 8
        assert visit.dialogs == [] and visit.errors == [] and visit.network_requests() == []
        assert visit.drawn() == (len(view.nodes), len(view.edges))
    finally:
        visit.close()


def test_every_page_the_build_renders_draws_offline(browser, built):
    """All pages of exports/html/: drawn counts equal the counts the page states, no error, no request."""
    folder = built / "html"
    pages = sorted(p for p in folder.glob("*.html") if p.name != "index.html")
    assert len(pages) >= len(VIEWS)
    problems = []
    context = browser.new_context(viewport={"width": 1280, "height": 800}, offline=True)
    try:
        page = context.new_page()
        errors, requests = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        for path in pages:
            errors.clear()
            requests.clear()
            page.goto(path.resolve().as_uri())
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            stated = page.evaluate("[+document.body.dataset.nodes, +document.body.dataset.edges]")
            drawn = page.evaluate("[network.body.nodeIndices.length, network.body.edgeIndices.length]")
            extra = [u for u in requests if u != path.resolve().as_uri() and not u.startswith("data:")]
            if drawn != stated or errors or extra:
                problems.append((path.name, drawn, stated, errors[:2], extra[:2]))
    finally:
        context.close()
    assert problems == []
