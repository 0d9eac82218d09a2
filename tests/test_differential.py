"""The differential: typed findings and context in, ranked causes with reasons, red flags and sources out.

Two worlds: a small fixture (tests/fixtures/dx.ttl) whose scores are computed by hand below, so the
scoring rule itself is tested; and the real built graph, on every case of the competency file
(../shared/competency/cases.json beside the checkout, read as it is) and of tests/fixtures/cases.json (the same eight
plus cases covering every cause category twice), through the API and through the CLI.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import bmlkg
from bmlkg.differential import SCORING, parse_demographic

from .conftest import run_cli
from .helpers import FIXTURES, mini_source

B = "https://w3id.org/bmlkg/"
SHARED_CASES = Path(__file__).resolve().parents[2] / "shared" / "competency" / "cases.json"
CASES = FIXTURES / "cases.json"
#: expected_first as the case files word it -> the entry the graph must rank first (data in cases.json)
EXPECTED = {k: B + v.split(":", 1)[1] for k, v in json.loads(CASES.read_text(encoding="utf-8"))["expected_iris"].items()}


def _cases(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cases"]


def _all_cases() -> list[dict]:
    """The shared file's cases as they are, then the fixture file's own additions."""
    shared = _cases(SHARED_CASES) if SHARED_CASES.exists() else [c for c in _cases(CASES) if c["id"].startswith("C")]
    ids = {c["id"] for c in shared}
    return shared + [c for c in _cases(CASES) if c["id"] not in ids]


# -- the fixture world: scores known by hand ---------------------------------------------------------
@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    folder = mini_source(tmp_path_factory.mktemp("dx") / "src")
    shutil.copy(FIXTURES / "dx.ttl", folder / "dx.ttl")
    return bmlkg.load(folder)


def _scores(result) -> dict[str, float]:
    return {c.label: c.score for c in result.conditions}


def test_fixture_scores_follow_the_documented_rule(fx):
    r = fx.differential(["bone marrow oedema"], context=["recent knee injury"])
    scores = _scores(r)
    # points = frequency x evoking x factor. Bone marrow oedema: six cause entries share it -> evokes none
    # (0 for everyone). Injury: typical 3 x moderately 2 (two entries: mechanical via the bruise, traumatic
    # via its category) = 6 for the bruise and the fracture. Every other cause does not explain the injury
    # (-3); the syndrome also has an argues-against link to it (-2).
    assert scores == {"bone bruise": 6.0, "fracture of the tibia": 6.0, "bone metastasis": -3.0,
                      "early osteonecrosis": -3.0, "knee osteoarthritis": -3.0, "septic arthritis": -3.0,
                      "bone marrow oedema syndrome": -5.0}
    assert [c.label for c in r.conditions][:2] == ["bone bruise", "fracture of the tibia"]   # tie: label
    assert {e.label: e.score for e in r.categories}["fixture traumatic cause"] == 6.0
    syndrome = next(c for c in r.conditions if c.label == "bone marrow oedema syndrome")
    assert (syndrome.support, syndrome.against) == (0.0, 5.0)
    assert {(x.role, x.claim) for x in syndrome.counts_against} == {
        ("argues against", B + "claim/dx-syndrome-injury-against"), ("not explained", None)}
    assert syndrome.does_not_explain == ["recent knee injury"]
    bruise = r.conditions[0]
    injury = next(x for x in bruise.links if x.input == "recent knee injury")
    assert (injury.frequency, injury.evoking, injury.evoking_from, injury.entries, injury.points) == (
        "typical", "evokes moderately", "computed", 2, 6.0)
    oedema = next(x for x in bruise.links if x.input == "bone marrow oedema")
    assert (oedema.evoking, oedema.entries, oedema.points) == ("evokes none", 6, 0.0)


def test_fixture_more_general_input_and_names(fx):
    """An input naming the cause scores 3 x 3; the cause then explains the oedema too; others do not explain it."""
    r = fx.differential(["bone marrow oedema", "fracture of the tibia"])
    first = r.conditions[0]
    assert (first.label, first.score) == ("fracture of the tibia", 9.0)
    named = next(x for x in first.links if x.claim is None)
    assert (named.match, named.frequency, named.evoking, named.evoking_from) == (
        "the input names the cause", "typical", "evokes strongly", "rule")
    assert all(c.score == -3.0 for c in r.conditions[1:])
    assert r.categories[0].iri == B + "DxTraumaticCause" and r.categories[0].score == 9.0


def test_fixture_every_score_equals_its_links(fx):
    """The explanation (dx-links) adds up to the ranking (dx-rank-causes) for every candidate."""
    r = fx.differential(["bone marrow oedema", "fever"], context=["man aged 40", "prostate cancer"], absent=["injury"])
    for c in r.conditions:
        assert sum(link.contribution for link in c.links) == pytest.approx(c.support), c.label
        assert sum(link.contribution for link in c.counts_against) == pytest.approx(c.against), c.label
        assert c.score == pytest.approx(c.support - c.against)


def test_fixture_absent_typical_feature_counts_against(fx):
    r = fx.differential(["bone marrow oedema"], context=["no injury"])
    scores = _scores(r)
    assert scores["bone bruise"] == -3.0 and scores["fracture of the tibia"] == -3.0
    assert r.inputs[1].present is False and r.inputs[1].terms[0].iri == B + "DxRecentKneeInjury"
    fracture = next(c for c in r.conditions if c.label == "fracture of the tibia")
    assert [(x.input, x.role, x.feature_label, x.points) for x in fracture.counts_against] == [
        ("no injury", "absent", "recent knee injury", 3.0)]
    assert r.conditions[0].label == "bone marrow oedema syndrome"   # 0, and nothing against it; then labels


def test_fixture_setting_and_context_condition(fx):
    r = fx.differential(["bone marrow oedema"], context=["prostate cancer"])
    first = r.conditions[0]
    assert (first.label, first.score) == ("bone metastasis", 6.0)           # setting: common 2 x strongly 3
    assert first.explains == ["bone marrow oedema", "prostate cancer"]
    assert "prostate cancer" not in _scores(r)       # a context condition outside the categories is no cause
    assert r.categories[0].iri == B + "DxNeoplasticCause" and r.categories[0].red_flag


def test_fixture_categories_rank_by_best_member_and_syndrome_stands_alone(fx):
    r = fx.differential(["bone marrow oedema"], context=["man aged 40", "no injury"])
    assert [(e.label, e.kind, e.score) for e in r.categories[:2]] == [
        ("bone marrow oedema syndrome", "condition", 6.0), ("fixture ischaemic cause", "cause category", 0.0)]
    assert r.categories[1].best["label"] == "early osteonecrosis"
    flags = {f["flag"]: f for f in r.red_flags}
    assert set(flags) == {B + "DxSepticCause", B + "DxNeoplasticCause"}
    assert flags[B + "DxSepticCause"]["reason"] == "Infection of bone or joint needs urgent work-up."
    syndrome = r.conditions[0]
    assert [(t.label, t.claim) for t in syndrome.tell_apart_from] == [("early osteonecrosis", B + "claim/dx-syndrome-vs-osteonecrosis")]
    assert {s.iri for s in syndrome.tell_apart_from[0].sources} == {B + "source/seed-003", B + "source/wuelker-bme-osteonecrosis"}


def test_fixture_check_next_names_discriminating_features(fx):
    r = fx.differential(["bone marrow oedema"], context=["no injury"])
    by_feature = {c.label: c for c in r.check_next}
    assert [p["label"] for p in by_feature["fever"].points_to] == ["septic arthritis"]
    assert by_feature["fever"].points_to[0]["frequency"] == "typical"
    assert "bone marrow oedema" not in by_feature        # already entered
    assert "recent knee injury" not in by_feature        # already known to be absent
    assert all(c.split == min(c.n_candidates, c.of - c.n_candidates) for c in r.check_next)
    assert [c.split for c in r.check_next] == sorted((c.split for c in r.check_next), reverse=True)
    septic = next(c for c in r.conditions if c.label == "septic arthritis")
    assert septic.rank <= 5 and [x["label"] for x in septic.check_next] == ["fever"]
    fixed = fx.differential(["bone marrow oedema"], context=["man aged 40", "no injury"])
    assert "man aged 30 to 50" not in {c.label for c in fixed.check_next}   # the input fixes age and sex


def test_fixture_sources_behind_each_link(fx):
    r = fx.differential(["bone marrow oedema", "fracture of the tibia"])
    fracture = r.conditions[0]
    assert fracture.label == "fracture of the tibia"
    link = next(x for x in fracture.links if x.claim == B + "claim/dx-fracture-bme")
    assert [s.doi for s in link.sources if s.doi] == ["10.3390/jcm9020551"]
    self_match = next(x for x in fracture.links if x.claim is None)
    assert (self_match.input, self_match.points) == ("fracture of the tibia", 9.0)


def test_fixture_demographic_input_matches_annotations(fx):
    r = fx.differential(["bone marrow oedema"], context=["45-year-old man", "woman aged 35"])
    assert [t.iri for t in r.inputs[1].terms] == [B + "DxMaleAged30To50"]
    assert r.inputs[1].terms[0].match == "demographic"
    assert not r.unresolved            # understood: an age and a sex, even where no group of the graph covers them
    woman = r.inputs[2]
    assert (woman.terms, woman.age, woman.sex) == ([], [35, 35], "female")
    assert "no demographic group of the graph covers it" in woman.note
    assert r.person == {"age": [45, 45], "sex": "male"}     # the first sex typed; the ages intersected


def test_fixture_unresolved_input_is_reported_never_dropped(fx):
    r = fx.differential(["bone marow oedema"], context=["recent knee injury"])
    [problem] = r.unresolved
    assert problem.text == "bone marow oedema" and problem.role == "finding"
    assert problem.suggestions[0] == "bone marrow oedema"          # labels, not normalised keys
    with pytest.raises(bmlkg.InputError, match="bone marow oedema.*closest known terms"):
        fx.differential(["bone marow oedema"], context=["recent knee injury"], strict=True)
    with pytest.raises(bmlkg.InputError, match="no present finding or context could be resolved"):
        fx.differential(["xyzzy"])
    with pytest.raises(bmlkg.InputError, match="at least one finding"):
        fx.differential([])


def test_fixture_compare_side_by_side(fx):
    c = fx.compare("bone marrow oedema syndrome", "early osteonecrosis")
    rows = {f["label"]: f for f in c.features}
    assert rows["bone marrow oedema"]["a"]["weight"] == 3.0 and rows["bone marrow oedema"]["b"]["weight"] == 1.0
    assert rows["man aged 30 to 50"]["b"] is None
    assert [t["claim"] for t in c.told_apart] == [B + "claim/dx-syndrome-vs-osteonecrosis"]
    category = fx.compare("fixture traumatic cause", "fixture septic cause")
    rows = {f["label"]: f for f in category.features}
    assert rows["recent knee injury"]["a"]["strength"] == "typical" and rows["fever"]["b"]["strength"] == "typical"
    assert category.b["red_flag"] and not category.a["red_flag"]
    with pytest.raises(bmlkg.InputError, match="not a condition"):
        fx.compare("fever", "septic arthritis")
    with pytest.raises(bmlkg.InputError, match="same term"):
        fx.compare("tibial fracture", "fracture of the tibia")


@pytest.mark.parametrize("text, expected", [
    ("man aged 40", (40, 40, "male")), ("woman aged 35", (35, 35, "female")), ("45-year-old man", (45, 45, "male")),
    ("40 year old woman", (40, 40, "female")), ("aged 62", (62, 62, None)), ("male", (None, None, "male")),
    ("boy aged 13", (13, 13, "male")), ("girl aged 10", (10, 10, "female")), ("14-year-old", (14, 14, None)),
    ("child aged 7", (7, 7, None)), ("woman aged 70", (70, 70, "female")), ("man in his forties", (40, 49, "male")),
    ("adolescent", (12, 17, None)), ("elderly", (65, 120, None)), ("boy", (0, 17, "male")),
    ("knee pain", None), ("40", None), ("man with a fall", None),
])
def test_parse_demographic(text, expected):
    parsed = parse_demographic(text)
    assert (None if parsed is None else (parsed["low"], parsed["high"], parsed["sex"])) == expected


# -- the real graph: every case ----------------------------------------------------------------------
def test_fixture_cases_keep_the_shared_eight_unchanged():
    if not SHARED_CASES.exists():
        pytest.skip(f"{SHARED_CASES} (the project's competency file) lives outside the repository")
    shared = _cases(SHARED_CASES)
    ours = _cases(CASES)
    assert ours[:len(shared)] == shared
    categories = {c["expected_first"] for c in ours}
    assert categories == set(EXPECTED)
    for category in EXPECTED:
        assert sum(c["expected_first"] == category for c in ours) >= 4, category


@pytest.mark.parametrize("case", _all_cases(), ids=lambda c: c["id"])
def test_case_ranks_expected_cause_first(kg, case):
    r = kg.differential(case["findings"], context=case["context"], absent=case.get("absent", []))
    assert not r.unresolved, [(u.text, u.reason) for u in r.unresolved]
    first = r.categories[0]
    assert first.iri == EXPECTED[case["expected_first"]], [(e.label, e.score) for e in r.categories[:4]]
    best = next(c for c in r.conditions if c.iri == first.best["iri"])
    assert best.explains, "the first cause must explain at least one input"
    text = json.dumps(r.as_dict()["conditions"][best.rank - 1]).lower()
    for word in case.get("must_mention", []):
        assert word.lower() in text, word
    if case.get("expect_red_flag"):
        assert first.red_flag and first.red_flag_reason
        assert r.red_flags[0]["best_rank"] == best.rank
    if case.get("expect_best"):
        assert best.iri == B + case["expect_best"].split(":", 1)[1], best.label
    for c in r.conditions[:5]:                          # the explanation adds up to the score
        assert sum(x.points for x in c.links) == c.support, c.label
        assert sum(x.points for x in c.counts_against) == c.against, c.label
        assert c.score == c.support - c.against + c.base_rate["points"], c.label


def test_real_graph_first_cause_is_explained_with_sources(kg):
    r = kg.differential(["bone marrow oedema", "fracture of the tibia"], context=["fall onto the knee"])
    first = r.conditions[0]
    assert first.iri == B + "TibialFracture"
    assert first.explains == ["bone marrow oedema", "fracture of the tibia", "fall onto the knee"]
    cited = [link for link in first.links if link.claim]
    assert cited and all(link.sources for link in cited)            # every link names its sources
    assert B + "source/seed-002" in {s.iri for link in cited for s in link.sources}   # the fracture facts' seed
    assert r.scoring == SCORING


def test_boy_aged_13_ranks_bone_tumours_above_the_syndrome(kg):
    r = kg.differential(["bone marrow oedema"], context=["boy aged 13"])
    assert {t.iri for t in r.inputs[1].terms} == {B + "Childhood", B + "MaleSex"}
    order = [e.iri for e in r.categories]
    assert order.index(B + "NeoplasticCause") < order.index(B + "BoneMarrowOedemaSyndrome")
    syndrome = next(c for c in r.conditions if c.iri == B + "BoneMarrowOedemaSyndrome")
    [against] = [x for x in syndrome.counts_against if x.role == "contradicts"]
    assert (against.claim, against.points) == (B + "claim/dx-bmes-age-30-to-50", 3.0)   # 13 is not 30 to 50
    tumour = r.conditions[0]
    assert tumour.prevalence == "rare" and tumour.base_rate["claim"] == B + "claim/dx-base-rate-primary-bone-cancer"
    assert next(c for c in r.conditions if c.iri == B + "Osteoarthritis").prevalence == "common"
    assert "neutral" in next(c for c in r.conditions if c.iri == B + "OsteochondralLesion").prevalence
    assert not {"childhood", "male sex", "aged 30 to 50"} & {x.label for x in r.check_next}


@pytest.mark.parametrize("named, expected", [
    ("fracture of the tibia", "TibialFracture"), ("meniscal tear", "MeniscalInjury"),
    ("psoriatic arthritis", "PsoriaticArthritis"), ("fracture of the femur", "FemoralFracture"),
])
def test_a_named_cause_beats_demographics_and_its_parent(kg, named, expected):
    r = kg.differential(["bone marrow oedema", named], context=["woman aged 42"])
    assert r.conditions[0].iri == B + expected
    order = [c.iri for c in r.conditions]
    assert order.index(B + expected) < order.index(B + "BoneMarrowOedemaSyndrome")
    if expected.endswith("Fracture"):
        assert order.index(B + expected) < order.index(B + "BoneFracture")   # the specific term wins


@pytest.mark.parametrize("text, groups", [
    ("boy aged 13", {"Childhood", "MaleSex"}), ("girl aged 10", {"Childhood", "FemaleSex"}),
    ("14-year-old", {"Childhood"}), ("child aged 7", {"Childhood"}), ("woman aged 70", {"Adulthood", "FemaleSex"}),
    ("man in his forties", {"MaleAged30To50"}), ("adolescent", {"Childhood"}), ("elderly", {"Adulthood"}),
])
def test_typed_ages_and_sexes_resolve_to_every_covering_group(kg, text, groups):
    r = kg.differential(["bone marrow oedema"], context=[text])
    assert not r.unresolved
    item = r.inputs[1]
    assert {t.iri.rsplit("/", 1)[1] for t in item.terms} == groups and item.terms[0].match == "demographic"
    if text == "man in his forties":
        assert set(item.groups) == {"man aged 30 to 50", "aged 30 to 50", "male sex", "adulthood"}


def test_lesion_locations_and_unresolved_suggestions(kg):
    r = kg.differential(["bone marrow lesion", "lateral patellofemoral", "medial tibia", "bone marow"])
    assert [t.iri for i in r.inputs[1:] for t in i.terms] == [B + "LateralPatellofemoralCompartment", B + "MedialTibia"]
    [problem] = r.unresolved
    assert problem.text == "bone marow" and problem.suggestions
    oa = r.conditions[0]
    assert oa.iri == B + "Osteoarthritis" and oa.explains == ["bone marrow lesion", "lateral patellofemoral", "medial tibia"]


def test_c07_tells_syndrome_apart_from_early_osteonecrosis(kg):
    r = kg.differential(["bone marrow oedema"], context=["man aged 40", "sudden unexplained knee pain", "no injury"])
    syndrome = r.conditions[0]
    assert syndrome.iri == B + "BoneMarrowOedemaSyndrome"
    assert B + "EarlyOsteonecrosis" in {t.condition for t in syndrome.tell_apart_from}
    assert [i.present for i in r.inputs] == [True, True, True, False]
    assert {f["flag"] for f in r.red_flags} >= {B + "NeoplasticCause", B + "SepticCause"}
    shown = kg.differential(["bone marrow oedema"], context=["man aged 40", "no injury"], top=2)
    assert len(shown.conditions) == 2 and len(shown.categories) == 2
    assert {f["flag"] for f in shown.red_flags} >= {B + "NeoplasticCause", B + "SepticCause"}   # --top hides no flag
    assert any(m["rank"] > 2 for f in shown.red_flags for m in f["conditions"])   # flagged beyond the top 2


def test_docstring_examples_run():
    import doctest

    import bmlkg.differential
    import bmlkg.evidence

    for module in (bmlkg.differential, bmlkg.evidence):
        failures, tried = doctest.testmod(module)
        assert tried > 0 and failures == 0, module.__name__


def test_real_compare_syndrome_and_early_osteonecrosis(kg):
    c = kg.compare("bone marrow oedema syndrome", "early osteonecrosis")
    assert c.told_apart and any(s["iri"] == B + "source/seed-003" for t in c.told_apart for s in t["sources"])
    features = {f["feature"]: f for f in c.features}
    assert features[B + "Aged30To50"]["a"] is not None and features[B + "Aged30To50"]["b"] is None
    assert not c.a["red_flag"]
    assert c.b["categories"] == [{"iri": B + "IschaemicCause", "label": c.b["categories"][0]["label"]}]


# -- through the CLI ---------------------------------------------------------------------------------
@pytest.mark.parametrize("case_id", ["C01", "C07", "X06"])
def test_cli_differential_json_ranks_case(case_id):
    case = next(c for c in _cases(CASES) if c["id"] == case_id)
    args = ["differential", "--format", "json"]
    for f in case["findings"]:
        args += ["--finding", f]
    for c in case["context"]:
        args += ["--context", c]
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["categories"][0]["iri"] == EXPECTED[case["expected_first"]]
    assert doc["unresolved"] == []
    assert set(doc) == {"inputs", "unresolved", "categories", "conditions", "check_next", "red_flags", "person",
                        "scoring"}
    link = doc["conditions"][0]["links"][0]
    assert set(link) == {"input", "term", "role", "feature", "feature_label", "frequency", "frequency_weight",
                         "evoking", "evoking_weight", "evoking_from", "entries", "match", "factor", "points", "via",
                         "claim", "claim_label", "sources"}


def test_cli_differential_table_and_warnings():
    proc = run_cli("differential", "--finding", "bone marrow edema", "--finding", "patellar dislocation",
                   "--context", "bone marow", "--top", "3")
    assert proc.returncode == 0, proc.stderr
    assert "1. traumatic cause of bone marrow oedema [cause category]" in proc.stdout
    assert "patellar dislocation (bml:PatellarDislocation" in proc.stdout
    assert "NOT UNDERSTOOD context 'bone marow'" in proc.stdout
    assert "bmlkg: warning: context 'bone marow' not used" in proc.stderr


@pytest.mark.parametrize("args, message", [
    (["differential", "--finding", "bone marow"], "no present finding or context could be resolved"),
    (["differential", "--finding", "bone marrow oedema", "--context", "xyzzy", "--strict"], "context 'xyzzy'"),
    (["differential"], "at least one finding"),
    (["differential", "--finding", "bone marrow oedema", "--format", "xml"], "--format: unknown value 'xml'"),
    (["compare", "bone marrow oedema syndrome", "knee pain"], "not a condition or cause category"),
])
def test_cli_bad_input_exits_2_with_one_line(args, message):
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr


def test_cli_compare_table_names_sources():
    proc = run_cli("compare", "bone marrow oedema syndrome", "early osteonecrosis")
    assert proc.returncode == 0, proc.stderr
    assert "Compare: bone marrow oedema syndrome (bml:BoneMarrowOedemaSyndrome)  vs  early osteonecrosis" in proc.stdout
    assert "The sources say these must be told apart:" in proc.stdout
    assert "src:seed-003" in proc.stdout


def test_known_name_starting_like_a_negation_is_taken_as_it_stands(kg):
    """'no weight-bearing' is a synonym of a treatment in the graph: not read as 'weight-bearing' absent."""
    r = kg.differential(["bone marrow oedema"], context=["no weight-bearing", "no recent injury"])
    as_typed, negated = r.inputs[1], r.inputs[2]
    assert as_typed.present and as_typed.terms[0].match == "hasExactSynonym"
    assert not negated.present and negated.terms[0].iri == B + "RecentKneeInjury"


def test_rank_bound_is_the_query_limit_and_far_above_a_candidate_list():
    from bmlkg.differential import rank_bound
    from bmlkg.query.engines import get_query

    assert rank_bound() >= 100_000
    assert f"LIMIT {rank_bound()}" in get_query("dx-rank-causes").text


def test_answer_reaching_the_rank_bound_is_refused_not_shown(kg, monkeypatch):
    import bmlkg.differential as dx

    full = dx.differential(kg, ["bone marrow oedema"])
    assert len(full.conditions) > 2
    monkeypatch.setattr(dx, "rank_bound", lambda: 2)
    with pytest.raises(bmlkg.InputError, match="candidate causes"):
        dx.differential(kg, ["bone marrow oedema"])
