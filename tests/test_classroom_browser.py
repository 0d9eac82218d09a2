"""The classroom page in headless Chromium (Debian's /usr/bin/chromium through Playwright), offline, every
request but the page's own file: URL blocked and recorded. One browser and one page load for the module.

* for every case of the differential case suite (and a few typed inputs the resolver must read: a typo,
  ages and sexes, negation) ``window.bmlkg.differential`` returns exactly what ``bmlkg differential
  --format json`` prints;
* every library query with its example parameters returns the same rows as the embedded Python engine;
* the guided walk of one case, driven by the keyboard alone, reaches its summary; the quiz answers;
* the permalink (inputs in the URL fragment) restores a case; projector mode enlarges the type;
* no request and no console error; a screenshot of each tab is saved under ``build/classroom-screenshots/``
  (git-ignored) for a person to look at.
"""

from __future__ import annotations

import json
import re

import pytest

from bmlkg.query.engines import catalogue, example_params, run
from bmlkg.views import classroom
from bmlkg.views.render import classroom_page

from .conftest import REPO
from .helpers import FIXTURES

pytestmark = pytest.mark.browser
SHOTS = REPO / "build" / "classroom-screenshots"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
#: Typed inputs beyond the suite: each exercises one rule of the resolver (and its suggestions).
EXTRA_REQUESTS = (
    {"findings": ["bone marow edema", "fracture of the tibia"], "context": ["woman aged 70"], "absent": []},
    {"findings": ["Bone Marrow Oedema"], "context": ["45-year-old man", "no injury", "without fever"],
     "absent": ["subchondral fracture"]},
    {"findings": ["pain when walking", "subchondral cysts"], "context": ["aged 130"], "absent": []},
)


def _cli_json(kg, request: dict) -> dict:
    result = kg.differential(request["findings"], context=request["context"], absent=request["absent"])
    return json.loads(result.to_json())


@pytest.fixture(scope="module")
def page_file(kg, tmp_path_factory):
    path = tmp_path_factory.mktemp("classroom") / "classroom.html"
    path.write_text(classroom_page(kg), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def visit(chromium, page_file):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(viewport={"width": 1500, "height": 950}, offline=True)
        url = page_file.resolve().as_uri()
        record = {"url": url, "requests": [], "errors": []}
        context.route("**/*", lambda route: route.continue_() if route.request.url.split("#")[0] == url
                      else route.abort())
        page = context.new_page()
        page.on("request", lambda r: record["requests"].append(r.url))
        page.on("console", lambda m: record["errors"].append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: record["errors"].append(str(e)))
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']", timeout=60_000)
        record["page"] = page
        yield record
        context.close()
        browser.close()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def test_packaged_case_suite_is_the_test_suite():
    suite = json.loads((FIXTURES / "cases.json").read_text(encoding="utf-8"))["cases"]
    assert classroom.case_suite() == suite
    assert len(suite) >= 8


def test_differential_equals_the_cli_for_every_case(visit, kg):
    page = visit["page"]
    requests = [{"findings": c.get("findings", []), "context": c.get("context", []), "absent": c.get("absent", [])}
                for c in classroom.case_suite()] + list(EXTRA_REQUESTS)
    for request in requests:
        browser_result = page.evaluate("(r) => window.bmlkg.differential(r)", request)
        expected = _cli_json(kg, request)
        assert [c["iri"] for c in browser_result["conditions"]] == [c["iri"] for c in expected["conditions"]], request
        assert [(c["score"], c["support"], c["against"]) for c in browser_result["conditions"]] == \
            [(c["score"], c["support"], c["against"]) for c in expected["conditions"]], request
        assert browser_result["red_flags"] == expected["red_flags"], request
        assert browser_result == expected, request          # and everything else: links, claims, sources, notes
    assert any(u["suggestions"] for u in _cli_json(kg, EXTRA_REQUESTS[0])["unresolved"])


def test_every_case_is_drawn_with_its_text_twin(visit):
    """Each case of the suite put into the Differential tab: ranked, drawn, and its text twin lists every node."""
    page = visit["page"]
    for case in classroom.case_suite():
        request = {k: case.get(k, []) for k in ("findings", "context", "absent")}
        page.evaluate("(r) => window.bmlkg.show(r)", request)
        drawn = page.evaluate("document.getElementById('dx-graph').network.body.nodeIndices.length")
        rows = page.evaluate("document.querySelectorAll('#dx-twin table:first-of-type tbody tr').length")
        assert drawn == rows > 1, case["id"]


def test_differential_refuses_what_the_cli_refuses(visit, kg):
    """Nothing present understood: the promise rejects with the command line's one-line message."""
    from bmlkg import InputError

    request = {"findings": ["bone marow edema"], "context": [], "absent": ["injury"]}
    with pytest.raises(InputError) as cli:
        kg.differential(request["findings"], context=request["context"], absent=request["absent"])
    message = visit["page"].evaluate(
        "(r) => window.bmlkg.differential(r).then(() => null, (e) => e.name + ': ' + e.message)", request)
    assert message == f"InputError: {cli.value}"


def _concatenated(text: str) -> set[str]:
    """Columns that hold a GROUP_CONCAT, directly or through ``BIND(… ?concat … AS ?column)``: their parts come
    in the engine's own order (bmlkg sorts only the direct ones), so they are compared as sorted parts."""
    from bmlkg.query.sparqltext import group_concat_columns

    found = set(group_concat_columns(text))
    for match in re.finditer(r"BIND\((.*?)\s+AS\s+\?(\w+)\)", text, re.S):
        if any(f"?{name}" in match.group(1) for name in found):
            found.add(match.group(2))
    return found


def _canonical(bindings: list[dict], concatenated: set[str] = frozenset()) -> list[str]:
    """Rows as sorted JSON strings; blank-node labels (engine-local) and the implicit xsd:string left out."""
    out = []
    for row in bindings:
        cells = {}
        for name, cell in row.items():
            cell = dict(cell)
            if name in concatenated:
                cell["value"] = " ".join(sorted(cell["value"].split(" ")))
            if cell.get("datatype") == XSD_STRING:
                del cell["datatype"]
            if cell["type"] == "bnode":
                cell["value"] = "_"
            cells[name] = cell
        out.append(json.dumps(cells, sort_keys=True))
    return sorted(out)


def test_every_library_query_gives_the_python_rows(visit, kg):
    page = visit["page"]
    checked = []
    for query in catalogue():
        params = example_params(query)
        if any(not p.optional and p.name not in params for p in query.params):
            continue                                     # no example to run it with
        expected = run(kg, query.name, params)
        got = page.evaluate("([n, p]) => window.bmlkg.query(n, p)", [query.name, params])
        if expected.boolean is not None:
            assert got["boolean"] == expected.boolean, query.name
            continue
        assert got["head"]["vars"] == expected.variables, query.name
        concatenated = _concatenated(query.text)
        assert _canonical(got["results"]["bindings"], concatenated) == _canonical(
            json.loads(expected.to_json())["results"]["bindings"], concatenated), query.name
        checked.append(query.name)
    assert len(checked) >= len([q for q in catalogue() if not q.name.startswith("qc-")]) - 2


def test_keyboard_walk_of_a_guided_case_reaches_its_summary(visit):
    page = visit["page"]
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(40):                                  # Tab from the top of the page to the first tab
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "tab-differential":
            break
    assert page.evaluate("document.activeElement.id") == "tab-differential"
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-cases"
    assert page.is_visible("#panel-cases") and not page.is_visible("#panel-differential")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "projector"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "case-list"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "case-start"
    page.keyboard.press("Enter")
    steps = 0
    while not page.query_selector("#walk-summary") and steps < 20:
        assert page.evaluate("document.activeElement.id") == "walk-next"
        if steps == 1:
            _shot(page, "guided-case")
        page.keyboard.press("Enter")
        steps += 1
    assert page.query_selector("#walk-summary") is not None
    summary = page.inner_text("#case-walk")
    assert "Leading cause category" in summary and "The claims behind the leading causes" in summary
    assert re.search(r"\[(doi:|src:)", summary), summary[:500]
    # the quiz: Tab to its button, answer the first question by keyboard, read the explanation
    page.focus("#case-start")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "quiz-start"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    feedback = page.inner_text("fieldset.quiz .feedback")
    assert feedback.startswith(("Right.", "Not quite")) and re.search(r"\[(doi:|src:)", feedback)
    _shot(page, "quiz")


def test_differential_tab_permalink_and_projector(visit, kg):
    page = visit["page"]
    page.evaluate("window.bmlkg.select(document.getElementById('tab-differential'))")
    page.evaluate("location.hash = 'f=bone%20marrow%20oedema&f=fracture%20of%20the%20tibia&c=fall%20onto%20the%20knee'")
    page.wait_for_function("document.querySelectorAll('#dx-ranking ol.ranking > li').length > 0")
    expected = _cli_json(kg, {"findings": ["bone marrow oedema", "fracture of the tibia"],
                              "context": ["fall onto the knee"], "absent": []})
    first = page.inner_text("#dx-ranking ol.ranking > li:first-child .cause")
    assert first.startswith(expected["conditions"][0]["label"])
    drawn = page.evaluate("document.getElementById('dx-graph').network.body.nodeIndices.length")
    twin_rows = page.evaluate("document.querySelectorAll('#dx-twin table:first-of-type tbody tr').length")
    assert drawn == twin_rows > 3
    # typing with the keyboard: the preview applies the command line's matching rules
    page.focus("#dx-text")
    page.keyboard.type("osteomy")
    assert "osteomyelitis" in page.evaluate("[...document.querySelectorAll('#dx-names option')].map(o => o.value)")
    page.fill("#dx-text", "")
    page.keyboard.type("no injury")
    assert "absent" in page.inner_text("#dx-preview")
    page.keyboard.press("Enter")
    assert "#" in page.url and "no+injury" in page.url
    _shot(page, "differential")
    page.focus("#projector")
    page.keyboard.press("Enter")
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "26px"
    _shot(page, "projector")
    page.keyboard.press("Enter")
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "18px"


def test_queries_and_evidence_tabs(visit, kg):
    page = visit["page"]
    page.evaluate("window.bmlkg.select(document.getElementById('tab-queries'))")
    page.select_option("#q-list", "cq-told-apart-from")
    page.click("#q-run")
    rows = page.evaluate("document.querySelectorAll('#q-results tbody tr').length")
    assert rows == len(run(kg, "cq-told-apart-from", example_params(next(
        q for q in catalogue() if q.name == "cq-told-apart-from"))).bindings) > 0
    href = page.get_attribute("#q-csv", "href")
    assert href.startswith("data:text/csv") and "otherLabel" in href
    assert "bone marrow oedema" in page.inner_text("#q-results").lower()
    _shot(page, "queries")
    page.evaluate("window.bmlkg.select(document.getElementById('tab-evidence'))")
    page.fill("#ev-term", "subchondroplasty")
    page.click("#ev-form button[type=submit]")
    expected = kg.evidence("subchondroplasty")
    assert page.evaluate("document.querySelectorAll('#ev-results tbody tr').length") == len(expected.claims) > 0
    page.fill("#ev-min-n", "1000000")
    page.click("#ev-form button[type=submit]")
    assert page.evaluate("document.querySelectorAll('#ev-results tbody tr').length") == len(
        kg.evidence("subchondroplasty", min_n=1000000).claims)
    page.fill("#ev-min-n", "")
    page.click("#ev-form button[type=submit]")
    _shot(page, "evidence")


def test_no_request_and_no_console_error(visit):
    """Runs last in the module: everything above made no request and logged no error or warning."""
    extra = [u for u in visit["requests"] if u.split("#")[0] != visit["url"] and not u.startswith("data:")]
    assert extra == []
    assert visit["errors"] == []
