"""Evidence: every claim about a term or a source with its numbers, design, status, sources and disagreements.

The fixture world (tests/fixtures/dx.ttl) checks ordering, filters and both kinds of disagreement exactly;
the real graph is checked against the numbers and DOIs the seed articles print
(shared/seeds/001_*.txt), through the API and through the CLI.
"""

from __future__ import annotations

import json
import shutil

import pytest

import bmlkg

from .conftest import run_cli
from .helpers import FIXTURES, mini_source

B = "https://w3id.org/bmlkg/"
C = B + "claim/"
BUNKYO_DOI = "10.1186/s13075-025-03644-2"
OAI_DOI = "10.1186/s13075-021-02422-0"
SUBCHONDROPLASTY_DOI = "10.1177/23259671231163528"


@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    folder = mini_source(tmp_path_factory.mktemp("ev") / "src")
    shutil.copy(FIXTURES / "dx.ttl", folder / "dx.ttl")
    return bmlkg.load(folder)


# -- fixture world -----------------------------------------------------------------------------------
def test_fixture_claims_strongest_design_first(fx):
    r = fx.evidence("fixture shock wave therapy")
    assert [c.claim for c in r.claims] == [C + "dx-shockwave-refuted", C + "dx-shockwave-treats", C + "dx-shockwave-guideline"]
    assert [c.design_rank for c in r.claims] == [7, 4, 3]
    rct = r.claims[0]
    assert (rct.direction, rct.sample_size, rct.unit, rct.follow_up) == ("refutes", 120, "participant", {"value": 12.0, "unit": "month"})
    assert [(s.doi, s.year, s.kind) for s in rct.sources] == [("10.3390/medicina57111143", "2021", "paper"), (None, "2026", "seed article")]
    series = r.claims[1]
    assert (series.guideline_status, series.evidence_level) == ("not in guidelines", "small or limited-quality studies")


def test_fixture_disagreements_both_kinds(fx):
    r = fx.evidence("fixture shock wave therapy")
    treats = next(c for c in r.claims if c.claim == C + "dx-shockwave-treats")
    assert sorted((d.claim, d.kind) for d in treats.disagreements) == [
        (C + "dx-shockwave-guideline", "conflicts with"), (C + "dx-shockwave-refuted", "opposite direction")]
    refuted = next(c for c in r.claims if c.claim == C + "dx-shockwave-refuted")
    assert [(d.direction, d.other_direction) for d in refuted.disagreements] == [("refutes", "supports")]
    assert sorted(d["kind"] for d in r.disagreements) == ["conflicts with", "opposite direction"]


@pytest.mark.parametrize("kwargs, expected", [
    ({"design": "randomised controlled trial"}, ["dx-shockwave-refuted"]),
    ({"design": "case series"}, ["dx-shockwave-treats"]),
    ({"min_n": 100}, ["dx-shockwave-refuted"]),
    ({"min_n": 40}, ["dx-shockwave-refuted", "dx-shockwave-treats"]),
    ({"guideline": "not in guidelines"}, ["dx-shockwave-treats"]),
    ({"guideline": "in core guideline pathway"}, ["dx-shockwave-guideline"]),
    # derived certainty (the graded rule in bmlkg.ttl): a randomised trial starts high, a case series low,
    # a guideline is not rated
    ({"certainty": "high"}, ["dx-shockwave-refuted"]),
    ({"certainty": "low"}, ["dx-shockwave-treats"]),
    ({"certainty": "very low"}, []),
    ({"year": "2015"}, ["dx-shockwave-treats"]),
    ({"year": "2016-"}, ["dx-shockwave-refuted"]),
    ({"year": "-2021"}, ["dx-shockwave-refuted", "dx-shockwave-treats"]),
    ({"year": "2016-2020"}, []),
])
def test_fixture_filters(fx, kwargs, expected):
    r = fx.evidence("fixture shock wave therapy", **kwargs)
    assert [c.claim for c in r.claims] == [C + x for x in expected]


def test_fixture_term_includes_more_specific_terms_and_sources(fx):
    r = fx.evidence("bone marrow oedema")
    claims = {c.claim for c in r.claims}
    assert C + "dx-oa-bml" in claims                    # object bone marrow lesion, a kind of the sign
    assert C + "dx-shockwave-treats" in claims
    paper = fx.evidence("doi:10.1234/FIXTURE.2025")      # DOIs are case-insensitive
    assert [c.claim for c in paper.claims] == [C + "fixture-statistic"]
    stat = paper.claims[0].statistic
    assert (stat["measure"], stat["estimate"], stat["ci_lower"], stat["ci_upper"], stat["p_value"]) == ("odds ratio", 1.5, 1.1, 2.0, 0.01)
    assert paper.term["kind"] == "source"


@pytest.mark.parametrize("kwargs, message", [
    ({"term": "shok wave"}, "unknown term 'shok wave'"),
    ({"term": "10.9999/not-here"}, "no source with DOI"),
    ({"term": "fixture shock wave therapy", "design": "anecdote"}, "design: unknown value 'anecdote'; valid values:"),
    ({"term": "fixture shock wave therapy", "guideline": "maybe"}, "guideline: unknown value"),
    ({"term": "fixture shock wave therapy", "year": "last year"}, "year: 'last year' is not a year"),
    ({"term": "fixture shock wave therapy", "year": "2025-2020"}, "runs backwards"),
    ({"term": "fixture shock wave therapy", "min_n": "many"}, "min-n"),
    ({"term": "fixture shock wave therapy", "certainty": "sure"}, "certainty: unknown value 'sure'; derived levels:"),
])
def test_fixture_bad_input(fx, kwargs, message):
    with pytest.raises(bmlkg.InputError, match=message.replace("(", r"\(")):
        fx.evidence(**kwargs)


# -- the real graph: numbers and DOIs the seeds print --------------------------------------------------
def test_bunkyo_paper_by_doi(kg):
    r = kg.evidence(BUNKYO_DOI)
    by_estimate = {c.statistic["estimate"]: c for c in r.claims}
    assert set(by_estimate) == {1.32, 2.22, 1.79}
    alone = by_estimate[1.32]
    assert (alone.statistic["ci_lower"], alone.statistic["ci_upper"], alone.direction) == (0.95, 1.83, "no association found")
    assert alone.statistic["measure"] == "odds ratio"
    for c in r.claims:
        assert (c.sample_size, c.unit, c.design, c.mean_age) == (1145, "participant", "cross-sectional study", 72.9)
        assert BUNKYO_DOI in [s.doi for s in c.sources] and c.years == ["2025"]


def test_womac_variance_paper_doi_as_printed(kg):
    r = kg.evidence("https://doi.org/10.1302/2633-1462.67.BJO-2025-0010.R1")
    stats = [(c.statistic["estimate"], c.statistic["range_low"], c.statistic["range_high"]) for c in r.claims
             if c.statistic["measure"] == "percentage of variance explained"]
    assert sorted(stats, key=str) == sorted([(5.7, None, None), (None, 1.5, 2.3)], key=str)
    assert all((c.sample_size, c.unit) == (204, "knee") for c in r.claims)
    assert all("10.1302/2633-1462.67.BJO-2025-0010.R1" in [s.doi for s in c.sources] for c in r.claims)


def test_oai_regression_and_follow_up(kg):
    r = kg.evidence(OAI_DOI, min_n=1000)
    coefficient = next(c for c in r.claims if c.statistic["measure"] == "regression coefficient")
    assert (coefficient.statistic["estimate"], coefficient.statistic["p_value"]) == (0.1, 0.01)
    assert coefficient.statistic["as_reported"] == "B=0.10, p=0.01"
    assert all(c.sample_size == 1412 and c.follow_up == {"value": 24.0, "unit": "month"} for c in r.claims)


def test_subchondroplasty_results(kg):
    r = kg.evidence("subchondroplasty")
    numbers = {c.statistic["estimate"]: c for c in r.claims if c.statistic["estimate"] is not None}
    assert {54.0, 22.0} <= set(numbers)
    for value in (54.0, 22.0):
        assert numbers[value].sample_size == 50 and numbers[value].design == "case series"
        assert SUBCHONDROPLASTY_DOI in [s.doi for s in numbers[value].sources]


def test_filters_on_the_real_graph(kg):
    cohort = kg.evidence("bone marrow lesion", design="cohort")
    assert cohort.claims and {c.design for c in cohort.claims} == {"cohort study"}
    large = kg.evidence("bone marrow lesion", min_n=1200)
    assert large.claims and all(c.sample_size >= 1200 for c in large.claims)
    assert 1145 not in {c.sample_size for c in large.claims}
    recent = kg.evidence("bone marrow lesion", year=2025)
    assert BUNKYO_DOI in {s.doi for c in recent.claims for s in c.sources}
    assert OAI_DOI not in {s.doi for c in recent.claims for s in c.sources}
    ranks = [c.design_rank if c.design_rank is not None else -1 for c in kg.evidence("bone marrow lesion").claims]
    assert ranks == sorted(ranks, reverse=True)


def test_xray_disagreement_is_shown(kg):
    r = kg.evidence("plain X-ray")
    assert r.disagreements, "seeds 002 and 003 disagree on what a plain X-ray can show"
    assert any(d.kind == "conflicts with" for c in r.claims for d in c.disagreements)


# -- through the CLI ---------------------------------------------------------------------------------
def test_cli_evidence_json_has_numbers_and_dois():
    proc = run_cli("evidence", BUNKYO_DOI, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["count"] == 3 and doc["term"]["kind"] == "source"
    alone = next(c for c in doc["claims"] if c["statistic"]["estimate"] == 1.32)
    assert (alone["statistic"]["ci_lower"], alone["statistic"]["ci_upper"], alone["sample_size"]) == (0.95, 1.83, 1145)
    assert BUNKYO_DOI in [s["doi"] for s in alone["sources"]]


def test_cli_evidence_table_with_filters():
    proc = run_cli("evidence", "bone marrow lesion", "--design", "cross-sectional study", "--year", "2025")
    assert proc.returncode == 0, proc.stderr
    assert "OR 1.32, 95% CI 0.95–1.83" in proc.stdout
    assert "n=1145 participant" in proc.stdout
    assert f"doi:{BUNKYO_DOI} (2025)" in proc.stdout
    assert "filters: design=bml:CrossSectionalStudy, year_from=2025, year_to=2025" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["evidence", "bone marow lesoin"], "unknown term 'bone marow lesoin'"),
    (["evidence", "bone marrow lesion", "--design", "anecdote"], "design: unknown value 'anecdote'"),
    (["evidence", "bone marrow lesion", "--min-n", "-3"], "--min-n: must be zero or more"),
    (["evidence", "bone marrow lesion", "--year", "soon"], "year: 'soon' is not a year"),
])
def test_cli_evidence_bad_input(args, message):
    proc = run_cli(*args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr


# -- certainty on two axes (issue 15) ----------------------------------------------------------------
def test_eswt_certainty_as_reported_and_derived(kg):
    """Seed 000: ESWT rests on small studies whose trial quality remains limited; no design is given, so the
    rule takes the reported ceiling (low)."""
    r = kg.evidence("extracorporeal shock wave therapy", certainty="small studies, limited trial quality")
    assert {c.claim for c in r.claims} == {C + "tx-eswt-bml-oa", C + "tx-eswt-pain-improvement", C + "tx-eswt-mri-improvement"}
    assert {(c.certainty, c.derived_certainty, c.derived_certainty_rank) for c in r.claims} == {
        ("small studies, limited trial quality", "low", 2)}
    low = kg.evidence("extracorporeal shock wave therapy", certainty="low")
    assert {c.claim for c in r.claims} <= {c.claim for c in low.claims}
    assert all(c.derived_certainty == "low" for c in low.claims)


def test_derived_certainty_follows_the_rule(kg):
    """Start by design, down for the limitation the source names, capped by the reported ceiling."""
    by_claim = {c.claim: c for c in kg.evidence("core decompression with intraosseous autologous conditioned plasma").claims}
    nprs = by_claim[C + "tx-cd-acp-nprs"]                 # case series (low) - early-phase series only (1 step)
    assert (nprs.design, nprs.certainty, nprs.derived_certainty) == ("case series", "limited to early-phase series", "very low")
    zol = {c.claim: c for c in kg.evidence("zoledronic acid").claims}
    trial = zol[C + "tx-zoledronic-acid-rct-tkr"]        # randomised, but results awaited: nothing to rate yet
    assert (trial.design, trial.certainty, trial.derived_certainty) == ("randomised controlled trial", "results awaited", None)
    bunkyo = kg.evidence(BUNKYO_DOI).claims              # observational, no limitation stated: low
    assert {c.derived_certainty for c in bunkyo} == {"low"}
    core = kg.evidence("exercise therapy", guideline="in core guideline pathway").claims
    assert core and all(c.derived_certainty is None for c in core)   # guidelines are not rated by the rule


def test_cli_evidence_certainty_option():
    ok = run_cli("evidence", "intraosseous platelet-rich plasma injection", "--certainty", "low certainty")
    assert ok.returncode == 0, ok.stderr
    assert "certainty: low certainty" in ok.stdout and "derived certainty: low" in ok.stdout
    assert "claim:tx-intraosseous-prp-bml-oa" in ok.stdout
    bad = run_cli("evidence", "subchondroplasty", "--certainty", "maybe")
    assert bad.returncode != 0 and "certainty: unknown value 'maybe'" in bad.stderr and bad.stdout == ""
