"""View timings: how long a teaching view takes to build, and to be drawn and still in headless Chromium.

The views are the term-neighbourhood view (``bmlkg render term --term "bone marrow lesion" --depth N``)
through bmlkg's own code path (:func:`bmlkg.views.viewdata.build_view`, then :func:`bmlkg.views.render.to_html`), on
scaled graphs: the scale factor and depth whose view has the node count closest to each target (about 100,
1,000 and 5,000 nodes) are picked by a small search, since the neighbourhood grows with both.

Browser time is measured in the page, from navigation start (``performance.now()`` = 0): ``drawn`` when
the page marks itself ready (``body[data-ready]``, set by bmlkg's script after vis-network's first
``afterDrawing`` and the fit), ``stable`` at the first task after the next animation frame (the drawing is on
screen and the page is free to respond). Views have fixed positions and physics off, so once drawn the
network does not move; the benchmark checks that (node positions unchanged half a second later), that every node is in the network,
and that the page made no request. The median of three fresh page loads is reported.

``python -m benchmarks.views JOB OUT`` runs in its own process (job: seed, targets, work folder).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from .stats import median

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TERM = "bone marrow lesion"
#: Scale factors and depths searched for views of the target sizes (smallest graphs first).
SEARCH_FACTORS = (1, 5, 10, 20, 50, 100)
DEPTHS = (1, 2, 3, 4)
PAGE_LOADS = 3
READY_TIMEOUT_MS = 120_000
#: Installed before any page script: records when bmlkg's view script marks the page ready.
READY_PROBE = """
new MutationObserver(function () {
  if (document.body && document.body.getAttribute('data-ready') && window.__bmlkgReadyAt === undefined) {
    window.__bmlkgReadyAt = performance.now();
    requestAnimationFrame(function () {
      setTimeout(function () { window.__bmlkgIdleAt = performance.now(); }, 0);
    });
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-ready']});
"""


def bench_views(options, work: Path) -> list[dict]:
    """Run the view benchmark in a fresh process; returns the ``views`` entries of latest.json."""
    from .common import REPO, VIEW_SIZES, say

    say(options, f"views: ~{', ~'.join(str(n) for n in VIEW_SIZES)} nodes (build, then headless Chromium)")
    job = work / "views-job.json"
    out = work / "views.json"
    job.write_text(json.dumps({"seed": options.seed, "targets": list(VIEW_SIZES), "work": str(work)}),
                   encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "benchmarks.views", str(job), str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()
        return [{"target": n, "error": tail[-1] if tail else f"exit {done.returncode}"} for n in VIEW_SIZES]
    return json.loads(out.read_text(encoding="utf-8"))


_GRAPHS: dict[int, object] = {}


def _scaled_kg(factor: int, seed: int, work: Path):
    """The graph scaled by ``factor`` (loaded once per process)."""
    import bmlkg

    from . import generate

    if factor not in _GRAPHS:
        if factor == 1:
            _GRAPHS[factor] = bmlkg.load()
        else:
            folder = work / f"views-x{factor}"
            folder.mkdir(parents=True, exist_ok=True)
            template = generate.build_template(generate.curated(bmlkg.load()))
            generate.write(folder / "scaled.nt", factor, seed, template=template)
            _GRAPHS[factor] = bmlkg.load(folder)
    return _GRAPHS[factor]


def pick(targets: list[int], seed: int, work: Path) -> list[dict]:
    """For each target size, the (factor, depth) whose term view's node count is closest (log scale)."""
    import math

    from bmlkg.views.netgraph import Model
    from bmlkg.views.viewdata import build_view

    seen: list[dict] = []
    for factor in SEARCH_FACTORS:
        kg = _scaled_kg(factor, seed, work)
        model = Model(kg)
        for depth in DEPTHS:
            nodes = len(build_view(model, "term", term=TERM, depth=depth).nodes)
            seen.append({"factor": factor, "depth": depth, "nodes": nodes})
            if nodes > 2 * max(targets):
                break
        if all(any(abs(math.log(s["nodes"] / t)) < 0.2 for s in seen) for t in targets):
            break
    return [dict(min(seen, key=lambda s: abs(math.log(s["nodes"] / t))), target=t) for t in targets]


def measure(choice: dict, seed: int, work: Path, browser) -> dict:
    """Build the chosen view (timed), write it, and time it in the browser."""
    from bmlkg.views import render as views
    from bmlkg.views.netgraph import Model
    from bmlkg.views.viewdata import build_view

    kg = _scaled_kg(choice["factor"], seed, work)
    started = time.perf_counter()
    model = Model(kg)
    model_s = time.perf_counter() - started
    started = time.perf_counter()
    view = build_view(model, "term", term=TERM, depth=choice["depth"])
    html = views.to_html(view, kg)
    html_s = time.perf_counter() - started
    path = work / f"view-{len(view.nodes)}.html"
    path.write_text(html, encoding="utf-8")
    entry = {
        "target": choice["target"], "nodes": len(view.nodes), "edges": len(view.edges),
        "source": f"term view of '{TERM}', depth {choice['depth']}, graph at {choice['factor']}x",
        "model_s": round(model_s, 3), "html_s": round(html_s, 3), "html_kb": round(len(html.encode()) / 1024),
        "triples": len(kg.triples),
    }
    if browser is None:
        entry["browser_stable_s"] = None
        entry["browser_error"] = f"{CHROMIUM} not available"
        return entry
    loads = [load_in_browser(browser, path, len(view.nodes)) for _ in range(PAGE_LOADS)]
    problems = sorted({p for load in loads for p in load["problems"]})
    entry.update({
        "browser_stable_s": round(median([l["idle_ms"] for l in loads]) / 1000, 3),
        "browser_drawn_s": round(median([l["ready_ms"] for l in loads]) / 1000, 3),
        "browser_runs_s": [round(l["idle_ms"] / 1000, 3) for l in loads],
        "browser_wall_s": round(median([l["wall_s"] for l in loads]), 3),
        "requests": max(l["requests"] for l in loads), "console_errors": max(l["console_errors"] for l in loads),
        "problems": problems,
    })
    return entry


def load_in_browser(browser, path: Path, expected_nodes: int) -> dict:
    """One fresh page load: ms from navigation start until ready, and checks that the drawing is complete."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    requests, errors = [], []
    page.route("**/*", lambda route: (requests.append(route.request.url), route.continue_()
                                      if route.request.url.startswith("file://") else route.abort()))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.add_init_script(READY_PROBE)
    try:
        started = time.perf_counter()
        page.goto(path.as_uri(), wait_until="commit")
        page.wait_for_selector("body[data-ready]", state="attached", timeout=READY_TIMEOUT_MS)
        wall_s = time.perf_counter() - started
        ready_ms = page.evaluate("window.__bmlkgReadyAt")
        for _ in range(READY_TIMEOUT_MS // 50):
            idle_ms = page.evaluate("window.__bmlkgIdleAt === undefined ? null : window.__bmlkgIdleAt")
            if idle_ms is not None:
                break
            page.wait_for_timeout(50)
        problems = []
        drawn = page.evaluate("network.body.data.nodes.length")
        if drawn != expected_nodes:
            problems.append(f"{drawn} of {expected_nodes} nodes in the network")
        before = page.evaluate("JSON.stringify(network.getPositions())")
        page.wait_for_timeout(500)
        if page.evaluate("JSON.stringify(network.getPositions())") != before:
            problems.append("nodes still moving half a second after ready")
        if page.evaluate("network.physics.physicsEnabled"):
            problems.append("physics enabled")
    finally:
        page.close()
    external = [u for u in requests if not u.startswith("file://")]
    if external:
        problems.append(f"{len(external)} network request(s)")
    return {"ready_ms": ready_ms, "idle_ms": idle_ms, "wall_s": wall_s, "requests": len(external), "console_errors": len(errors),
            "problems": problems}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: python -m benchmarks.views JOB.json OUT.json\n")
        return 2
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    work = Path(job["work"])
    choices = pick(job["targets"], job["seed"], work)
    results = []
    if Path(CHROMIUM).exists():
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                results = [measure(c, job["seed"], work, browser) for c in choices]
            finally:
                browser.close()
    else:
        results = [measure(c, job["seed"], work, None) for c in choices]
    Path(argv[1]).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
