"""Teaching views: selection and layout (expected values from the seeds' facts), offline HTML, hostile text,
atomic writes, the render command and the build's HTML folder. Browser checks: test_views_browser.py."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
from html.parser import HTMLParser

import pytest

import bmlkg
from bmlkg.store import fileio
from bmlkg.store.errors import EnvironmentProblem, InputError
from bmlkg.views.netgraph import Model
from bmlkg.views.viewdata import VIEWS, build_view, category_members
from bmlkg.views.render import render, render_standard, to_html

from .conftest import run_cli
from .helpers import FIXTURES, mini_source

BML = "https://w3id.org/bmlkg/"
PREFIXES = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX bml: <https://w3id.org/bmlkg/>
PREFIX oboInOwl: <http://www.geneontology.org/formats/oboInOwl#>
"""
HOSTILE_LABEL = "</script><img src=x onerror=alert(1)>"
SUBCHONDROPLASTY_DOI = "10.1177/23259671231163528"   # seed 001, reference [4]
BUNKYO_DOI = "10.1186/s13075-025-03644-2"            # seed 001, reference [1]: the Bunkyo Health Study


class Page(HTMLParser):
    """Everything the offline and injection checks need from one HTML page."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._in: tuple[str, dict] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag in ("script", "style"):
            self._in = (tag, attrs)
            self._buffer = []

    def handle_endtag(self, tag):
        if self._in and tag == self._in[0]:
            body = "".join(self._buffer)
            (self.scripts.append((self._in[1], body)) if tag == "script" else self.styles.append(body))
            self._in = None

    def handle_data(self, data):
        if self._in:
            self._buffer.append(data)
        else:
            self.text.append(data)

    def json_blocks(self) -> dict[str, object]:
        return {a["id"]: json.loads(body) for a, body in self.scripts if a.get("type") == "application/json"}

    def attributes(self, name: str) -> list[str]:
        return [a[name] for _t, a in self.tags if a.get(name) is not None]


def assert_offline(html: str) -> Page:
    page = Page(html)
    for value in page.attributes("src") + page.attributes("href"):
        assert not re.match(r"\s*(https?:)?//", value, re.IGNORECASE), value
        assert not value.strip().lower().startswith("javascript:"), value
    assert not any(t == "link" for t, _a in page.tags), "stylesheets must be inlined"
    for css in page.styles:
        assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", css, re.IGNORECASE)
    handlers = [(t, k) for t, a in page.tags for k in a if k.lower().startswith("on")]
    assert not handlers, handlers
    return page


@pytest.fixture(scope="module")
def model(kg):
    return Model(kg)


@pytest.fixture(scope="module")
def hostile_kg(tmp_path_factory):
    folder = mini_source(tmp_path_factory.mktemp("hostile") / "src")
    shutil.copy(FIXTURES / "hostile.ttl", folder / "hostile.ttl")
    return bmlkg.load(folder)


def _labels(view) -> set[str]:
    return {n.full_label for n in view.nodes}


# -- the table of views --------------------------------------------------------------------------------
def test_views_table_has_the_issues_views():
    assert [v.name for v in VIEWS] == ["ontology", "causes", "mechanism", "differential", "treatment", "term",
                                       "source"]
    for spec in VIEWS:
        assert spec.description and all(p.help for p in spec.params)
        assert set(spec.example) <= {p.name for p in spec.params}


def test_unknown_view_and_bad_parameters_are_input_errors(kg):
    with pytest.raises(InputError, match=r"unknown view 'nosuch'; valid views: ontology, causes, mechanism"):
        build_view(kg, "nosuch")
    with pytest.raises(InputError, match=r"needs --term"):
        build_view(kg, "term")
    with pytest.raises(InputError, match=r"does not take --depth"):
        build_view(kg, "causes", depth=2)
    with pytest.raises(InputError, match=r"--depth: 9 is out of range"):
        build_view(kg, "term", term="BML", depth=9)
    with pytest.raises(InputError, match=r"did you mean: 'bone marrow lesion'"):
        build_view(kg, "term", term="bone marow lesion")
    with pytest.raises(InputError, match=r"is a symptom, not a treatment"):
        build_view(kg, "treatment", treatment="knee pain")
    with pytest.raises(InputError, match=r"--source: unknown source"):
        build_view(kg, "source", source="10.0000/not-a-real-doi")


# -- what each view selects ------------------------------------------------------------------------------
def test_causes_view_has_the_six_categories_of_seed_002_and_red_flags(kg, model):
    view = build_view(model, "causes")
    cats = kg.select(PREFIXES + "SELECT ?c WHERE { ?c oboInOwl:inSubset bml:cause_category }")
    assert len(cats) == 6
    words = ("traumatic", "mechanical", "inflammatory", "septic", "isch", "neoplastic")
    labels = [model.label(r["c"]).casefold() for r in cats]
    assert all(any(w in label for label in labels) for w in words), labels
    flagged = {r["c"] for r in kg.select(PREFIXES + "SELECT ?c WHERE { ?c bml:redFlag true ; "
                                                    "oboInOwl:inSubset bml:cause_category }")}
    bordered = {n.id for n in view.nodes if n.border}
    assert {r["c"] for r in cats} & bordered == flagged
    assert any("septic" in model.label(c) for c in flagged) and any("neoplastic" in model.label(c) for c in flagged)
    members = {model.label(c).casefold(): category_members(model, c) for c in (r["c"] for r in cats)}

    def under(word: str) -> set[str]:
        return {model.label(m).casefold() for k, v in members.items() if word in k for m in v}

    assert {"fracture of the tibia", "fracture of the femur"} <= under("traumatic")      # seed 002
    assert {"osteomyelitis", "septic arthritis"} <= under("septic")                      # seed 002
    assert "avascular necrosis" in under("isch")                                        # seed 002
    assert {"osteosarcoma", "chondrosarcoma", "ewing's sarcoma"} <= under("neoplastic")  # seed 002
    for m in set().union(*members.values()):
        assert m in {n.id for n in view.nodes}


def test_treatment_view_subchondroplasty_numbers_and_sources(model):
    view = build_view(model, "treatment", treatment="subchondroplasty")
    numbers = [n.full_label for n in view.nodes if n.id.endswith("#numbers")]
    assert any("54%" in t for t in numbers) and any("22%" in t for t in numbers), numbers   # seed 001
    ids = {n.id for n in view.nodes}
    assert f"https://doi.org/{SUBCHONDROPLASTY_DOI}" in ids and f"{BML}source/seed-001" in ids
    assert all(e.source in ids and e.target in ids for e in view.edges)
    groups = {n.group for n in view.nodes}
    assert "claim-supports" in groups and any(g.startswith("design-") for g in groups)


def test_claims_are_coloured_by_derived_certainty(model):
    """Issue 15: a claim's border carries its derived certainty level; the tooltip shows both axes."""
    from bmlkg.views.netgraph import CERTAINTY_COLOURS
    view = build_view(model, "treatment", treatment="core decompression with intraosseous autologous conditioned plasma")
    nodes = {n.id: n for n in view.nodes}
    very_low = CERTAINTY_COLOURS[f"{BML}VeryLowCertaintyLevel"][1]
    low = CERTAINTY_COLOURS[f"{BML}LowCertaintyLevel"][1]
    nprs = nodes[f"{BML}claim/tx-cd-acp-nprs"]            # case series, limited to early-phase series: very low
    assert nprs.border == very_low
    assert "Certainty as reported: limited to early-phase series" in nprs.tooltip
    assert "Certainty (derived): very low" in nprs.tooltip
    assert nodes[f"{BML}claim/tx-cd-acp-not-standard"].border == low
    keys = set(view.legend)
    assert {"border-certainty-very-low", "border-certainty-low"} <= keys
    zol = build_view(model, "treatment", treatment="zoledronic acid")
    unrated = {n.id: n for n in zol.nodes}[f"{BML}claim/tx-zoledronic-acid-rct-tkr"]   # results awaited
    assert unrated.border not in {c for _l, c in CERTAINTY_COLOURS.values()}


def test_source_view_resolves_a_doi_in_any_form_and_shows_every_claim_citing_it(kg, model):
    iri = f"https://doi.org/{BUNKYO_DOI}"
    citing = {r["c"] for r in kg.select(PREFIXES + f"SELECT ?c WHERE {{ ?c dcterms:source <{iri}> ; "
                                                    "bml:subjectTerm ?s }")}
    assert len(citing) >= 3
    for form in (BUNKYO_DOI.upper(), f"doi:{BUNKYO_DOI}", iri, "https://dx.doi.org/" + BUNKYO_DOI):
        view = build_view(model, "source", source=form)
        assert view.params["source"] == iri
        assert citing <= {n.id for n in view.nodes}
    # the study reports a null result too (BML alone and knee pain), kept as its own claim
    assert "claim-no-association-found" in {n.group for n in view.nodes}


def test_term_neighbourhood_equals_the_graphs_one_step_neighbours(kg, model):
    bml = f"{BML}BoneMarrowLesion"
    rows = kg.select(PREFIXES + f"""
        SELECT DISTINCT ?x WHERE {{
          {{ <{bml}> ?p ?x . ?p rdfs:subPropertyOf+ bml:termEdge }}
          UNION {{ ?x ?p <{bml}> . ?p rdfs:subPropertyOf+ bml:termEdge }}
          UNION {{ <{bml}> rdfs:subClassOf ?x }} UNION {{ ?x rdfs:subClassOf <{bml}> }}
          FILTER(isIRI(?x) && STRSTARTS(STR(?x), STR(bml:)))
        }}""")
    expected = {r["x"] for r in rows if r["x"] in model.term_kinds} | {bml}
    view = build_view(model, "term", term="BML")
    assert {n.id for n in view.nodes} == expected
    deeper = build_view(model, "term", term="BML", depth=2)
    assert expected < {n.id for n in deeper.nodes}


def test_mechanism_view_runs_from_lesion_through_tissue_and_mechanisms_to_pain(model):
    view = build_view(model, "mechanism")
    kinds = {n.id: model.kind_of(n.id) for n in view.nodes}
    assert f"{BML}BoneMarrowLesion" in kinds and f"{BML}KneePain" in kinds
    assert sum(k == "histological_finding" for k in kinds.values()) >= 3     # seed 000: tissue studies
    assert sum(k == "mechanism" for k in kinds.values()) >= 3                 # seed 001: pain mechanisms
    assert "osteoclast" in {n.full_label for n in view.nodes}                 # seed 001
    assert all("Supported by" in e.tooltip for e in view.edges)


def test_differential_view_follows_the_engine(kg, model):
    case = {"finding": ["bone marrow oedema", "fracture of the tibia"], "context": ["fall onto the knee"]}
    result = kg.differential(case["finding"], context=case["context"])
    view = build_view(model, "differential", **case)
    shown = [c for c in result.conditions if c.score > 0][:8]
    candidates = [n for n in view.nodes if n.group == "candidate"]
    assert [n.id for n in sorted(candidates, key=lambda n: n.y)] == [c.iri for c in shown]
    assert [n.size for n in sorted(candidates, key=lambda n: n.y)] == sorted((n.size for n in candidates),
                                                                            reverse=True)
    assert sum(n.group == "input" for n in view.nodes) == 3
    assert {n.id for n in candidates if n.border} == {c.iri for c in shown if c.red_flag}
    top = view.node(shown[0].iri)
    assert "traumatic" in top.tooltip.casefold()                               # seed 002, case C01
    links = sum(1 for c in shown for link in c.links + c.counts_against)
    assert len([e for e in view.edges if e.target in {c.iri for c in shown}]) == links
    with pytest.raises(InputError, match="at least one finding or context"):
        build_view(model, "differential")


def test_ontology_overview_counts_the_graph(kg, model):
    view = build_view(model, "ontology")
    claims = kg.select(PREFIXES + "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a/rdfs:subClassOf* bml:Claim }")
    assert view.node(f"{BML}Claim").full_label == f"claim ({claims[0]['n']})"
    assert {n.group for n in view.nodes} >= {"condition", "imaging_finding", "treatment", "mechanism", "claim"}


# -- HTML: offline, deterministic, hostile text stays text ---------------------------------------------------
@pytest.mark.parametrize("spec", VIEWS, ids=[v.name for v in VIEWS])
def test_each_view_is_self_contained_and_deterministic(kg, spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = render(kg, spec.name, tmp_path / "a.html", **spec.example)
    second = render(kg, spec.name, tmp_path / "b.html", **spec.example)
    html = first.read_text(encoding="utf-8")
    assert html == second.read_text(encoding="utf-8"), "same graph, same page (stable layout)"
    assert not (tmp_path / "lib").exists(), "pyvis must not copy a lib/ folder"
    page = assert_offline(html)
    blocks = page.json_blocks()
    nodes, edges, options = blocks["bmlkg-nodes"], blocks["bmlkg-edges"], blocks["bmlkg-options"]
    assert options["physics"]["enabled"] is False
    assert all(isinstance(n["x"], (int, float)) and isinstance(n["y"], (int, float)) for n in nodes)
    assert "vis.Network" in html and "TomSelect" in html
    body = next(a for t, a in page.tags if t == "body")
    assert int(body["data-nodes"]) == len(nodes) and int(body["data-edges"]) == len(edges)


def test_hostile_text_renders_as_text(hostile_kg, tmp_path):
    clean = Page(to_html(build_view(hostile_kg, "term", term="fixture finding"), hostile_kg))
    pages = {
        "term": render(hostile_kg, "term", tmp_path / "term.html", term="bml:HostileTreatment"),
        "treatment": render(hostile_kg, "treatment", tmp_path / "treatment.html", treatment="bml:HostileTreatment"),
        "source": render(hostile_kg, "source", tmp_path / "source.html", source="10.9999/hostile"),
    }
    for name, path in pages.items():
        html = path.read_text(encoding="utf-8")
        page = assert_offline(html)
        assert [a.get("type") for a, _ in page.scripts] == [a.get("type") for a, _ in clean.scripts], name
        assert not [t for t, _a in page.tags if t in ("img", "iframe", "object", "embed")], name
        assert "\u2028" not in html and "\u2029" not in html
        titles = " ".join(n["title"] for n in page.json_blocks()["bmlkg-nodes"])
        assert HOSTILE_LABEL in titles or "Paper <img src=x onerror=alert(6)> {{ 6*7 }}" in titles, name
        assert "49" not in titles and "42" not in titles, "template syntax is not evaluated"
    term = Page(pages["term"].read_text(encoding="utf-8"))
    node = next(n for n in term.json_blocks()["bmlkg-nodes"] if n["id"] == f"{BML}HostileTreatment")
    assert node["title"].startswith(HOSTILE_LABEL) and node["fullLabel"] == HOSTILE_LABEL
    assert "<a href='javascript:alert(2)'>here</a> next line {{ 7*7 }} {% raw %} ${7*7} end." in node["title"]
    assert HOSTILE_LABEL in "".join(term.text), "the search list shows the label as text"
    treatment = Page(pages["treatment"].read_text(encoding="utf-8")).json_blocks()["bmlkg-nodes"]
    assert any("{% if true %}x{% endif %} </script><iframe src=javascript:alert(8)>" in n["title"]
               for n in treatment)


def test_hostile_text_in_index_and_ontology_documentation(hostile_kg, tmp_path):
    written = render_standard(hostile_kg, tmp_path / "html")
    assert tmp_path / "html" / "index.html" in written
    for path in (tmp_path / "html" / "index.html", tmp_path / "html" / "ontology" / "index.html"):
        html = path.read_text(encoding="utf-8")
        page = assert_offline(html)
        assert not page.scripts, "the index and the documentation need no script"
        assert not [t for t, _a in page.tags if t in ("img", "iframe", "object", "embed")]
    doc = Page((tmp_path / "html" / "ontology" / "index.html").read_text(encoding="utf-8"))
    assert HOSTILE_LABEL in "".join(doc.text)
    assert "{{ 7*7 }}" in "".join(doc.text)


# -- atomic writes -----------------------------------------------------------------------------------------
def _fail_fsync_after(monkeypatch, n: int) -> None:
    real = os.fsync
    calls = {"n": 0}

    def fsync(fd):
        calls["n"] += 1
        if calls["n"] > n:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(fileio.os, "fsync", fsync)


def test_failed_render_leaves_the_previous_page_and_no_temp_file(kg, tmp_path, monkeypatch):
    out = tmp_path / "view.html"
    render(kg, "term", out, term="bone marrow lesion")
    before = out.read_bytes()
    _fail_fsync_after(monkeypatch, 0)
    with pytest.raises(EnvironmentProblem, match="no space left on device"):
        render(kg, "term", out, term="knee pain")
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["view.html"]


def test_failed_standard_render_leaves_the_previous_folder(kg, tmp_path, monkeypatch):
    folder = tmp_path / "html"
    render_standard(kg, folder)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    _fail_fsync_after(monkeypatch, 10)          # part-way: after ten files have been staged
    with pytest.raises(EnvironmentProblem):
        render_standard(kg, folder)
    after = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before
    assert not list(folder.rglob(f"{fileio.TMP_PREFIX}*"))


# -- the standard set, the CLI, the build ---------------------------------------------------------------------
def test_render_standard_writes_every_view_an_index_and_the_ontology_doc(kg, model, tmp_path):
    folder = tmp_path / "html"
    folder.mkdir()
    # an earlier render recorded stale-view.html as its own: it goes; notes.html was never bmlkg's: it stays
    (folder / ".bmlkg-manifest.json").write_text('{"files": ["stale-view.html"], "generator": "bmlkg"}\n')
    (folder / "stale-view.html").write_text("old", encoding="utf-8")
    (folder / "notes.html").write_text("mine", encoding="utf-8")
    written = render_standard(kg, folder)
    names = {p.relative_to(folder).as_posix() for p in written}
    assert {"index.html", "ontology/index.html", "ontology.html", "causes.html", "mechanism.html"} <= names
    assert not (folder / "stale-view.html").exists()
    assert (folder / "notes.html").read_text(encoding="utf-8") == "mine"
    for spec in VIEWS:
        assert any(n.startswith(spec.name) for n in names), spec.name
    treatments = [r for r in kg.select(PREFIXES + "SELECT DISTINCT ?t WHERE { ?c bml:subjectTerm ?t . "
                                                  "?t rdfs:subClassOf* bml:Treatment }")]
    assert sum(n.startswith("treatment-") for n in names) >= len(treatments) > 5
    index = Page((folder / "index.html").read_text(encoding="utf-8"))
    links = set(index.attributes("href"))
    assert links == names - {"index.html"}
    doc = Page((folder / "ontology" / "index.html").read_text(encoding="utf-8"))
    anchors = set(doc.attributes("id"))
    for iri in model.classes:
        if model.first(iri, "http://www.w3.org/2000/01/rdf-schema#label"):
            assert "bml-" + iri[len(BML):] in anchors, iri
    for prop in ("mayCause", "subjectTerm", "direction", "estimate"):
        assert f"bml-{prop}" in anchors
    text = " ".join(doc.text)
    assert "BML" in text and "subchondral bone marrow lesion" in text   # synonyms of bone marrow lesion


def test_render_command(tmp_path):
    out = tmp_path / "bml.html"
    proc = run_cli("render", "term", "--term", "bone marrow lesion", "--depth", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out) and out.stat().st_size > 100_000
    proc = run_cli("render", "differential", "-f", "bone marrow edema", "-c", "osteomyelitis", "-o",
                   str(tmp_path / "dx.html"))
    assert proc.returncode == 0, proc.stderr
    bad = run_cli("render", "nosuch")
    assert bad.returncode == 2
    assert bad.stderr.strip() == ("bmlkg: error: unknown view 'nosuch'; valid views: "
                                  + ", ".join(v.name for v in VIEWS))
    for args, message in ((("term",), "needs --term"), (("term", "--term", "BML", "--depth", "0"), "out of range"),
                          (("source", "--source", "no such paper"), "unknown source")):
        proc = run_cli("render", *args, "-o", str(tmp_path / "x.html"))
        assert proc.returncode == 2 and message in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert not (tmp_path / "x.html").exists()
    helptext = run_cli("render", "--help").stdout
    assert all(v.name in helptext for v in VIEWS)


def test_kg_render(kg, tmp_path):
    path = kg.render("treatment", tmp_path / "t.html", treatment="subchondroplasty")
    assert path == tmp_path / "t.html" and "subchondroplasty" in path.read_text(encoding="utf-8")


def test_build_renders_the_views_and_links_the_documentation(built):
    html = built / "html"
    assert (html / "index.html").exists() and (html / "ontology" / "index.html").exists()
    index = Page((html / "index.html").read_text(encoding="utf-8"))
    assert "ontology/index.html" in index.attributes("href")
    for href in index.attributes("href"):
        assert (html / href).exists(), href


def test_docstring_examples_run():
    import doctest

    import bmlkg.export.graphformats
    import bmlkg.views.layouts
    import bmlkg.views.netgraph
    import bmlkg.views.ontodoc
    import bmlkg.views.viewdata
    import bmlkg.views.render

    for module in (bmlkg.views.netgraph, bmlkg.views.layouts, bmlkg.views.viewdata, bmlkg.views.render, bmlkg.views.ontodoc, bmlkg.export.graphformats):
        failures, tried = doctest.testmod(module)
        assert tried > 0 and failures == 0, module.__name__
