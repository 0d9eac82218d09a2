"""The SPARQL query library: headers, safe binding, read-only checks, timeouts, engines, answers, CLI.

Expected answers are facts of the four seed articles (numbers, DOIs, names), so they stay right as the
curated graph grows.
"""

from __future__ import annotations

import doctest
import json
import re
import time
from decimal import Decimal

import pytest

from bmlkg.query import engines as lib
from bmlkg.store.errors import InputError, QueryError, QueryTimeout
from bmlkg.query.results import from_json
from bmlkg.query.sparqltext import PAGE_PARAMS, slice_spans, bind_values, check_read_only, has_order_by, tokenize, values_blocks, variables

from .conftest import REPO, run_cli

CATALOGUE = lib.catalogue()
NAMES = [q.name for q in CATALOGUE]
# The queries this test module checks answers for: competency questions and exploration. The QC checks
# (bmlkg check), dx-* (differential) and evidence-* (evidence) queries are tested with their modules; every
# query still goes through the header, text and engine checks here.
LIBRARY = [q for q in CATALOGUE if {"cq", "explore"} & set(q.tags)]
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
INJECTION = 'x" } ?s ?p ?o {'
SEED_DOIS = {  # every DOI the four seeds print (seed 000: 3, seed 001: 12, seed 002: 3)
    "10.1016/j.bonr.2023.101667", "10.1016/j.joca.2022.09.007", "10.1016/j.joca.2022.01.008",
    "10.1186/s13075-025-03644-2", "10.1016/j.ostima.2025.100270", "10.1302/2633-1462.67.BJO-2025-0010.R1",
    "10.1177/23259671231163528", "10.1186/s13075-021-02422-0", "10.1016/j.joca.2017.01.002",
    "10.7759/cureus.85087", "10.1002/art.42831", "10.1097/j.pain.0000000000002355",
    "10.1016/j.ostima.2025.100374", "10.3390/biomedicines11071799", "10.1038/s41413-025-00467-4",
    "10.1038/bonekey.2015.124", "10.3390/jcm9020551", "10.3390/medicina57111143",
}


def run_example(kg, name: str, **overrides) -> list[dict]:
    query = lib.get_query(name)
    return kg.query(name, **{**lib.example_params(query), **overrides})


def labels(rows, column) -> set[str]:
    return {str(r[column]).lower() for r in rows if column in r}


def dois(rows, column="doi") -> set[str]:
    return {str(r[column]).lower() for r in rows if column in r}


# -- the catalogue: headers every query carries -------------------------------------------------------
@pytest.mark.parametrize("query", CATALOGUE, ids=NAMES)
def test_header_is_complete(query):
    assert query.summary and query.description, f"{query.path}: needs '#+ summary:' and '#+ description:'"
    assert query.tags, f"{query.path}: needs '#+ tags:'"
    for p in query.params:
        assert p.type in ("iri", "label", "number", "text"), f"{query.path}: {p.name} has type {p.type}"
        assert p.example or p.optional, f"{query.path}: parameter {p.name} needs an example value (— example: …)"
        assert p.description, f"{query.path}: parameter {p.name} needs a description"
        assert p.name not in lib.RESERVED, f"{query.path}: {p.name} is reserved for kg.query() options"


@pytest.mark.parametrize("query", CATALOGUE, ids=NAMES)
def test_query_text_is_self_contained_and_ordered(query):
    """Prefixes declared in the file (so it can be copied), results ordered, one VALUES block per parameter."""
    tokens = tokenize(query.text)
    declared = {tokens[i + 1].text[:-1] for i, t in enumerate(tokens[:-1])
                if t.kind == "WORD" and t.text.upper() == "PREFIX"}
    used = {t.text.split(":", 1)[0] for t in tokens if t.kind == "PNAME"}
    assert used <= declared, f"{query.path}: undeclared prefix(es) {sorted(used - declared)}"
    assert check_read_only(query.text) == "SELECT"
    assert has_order_by(query.text), f"{query.path}: results must be ordered (ORDER BY)"
    for p in query.params:
        if p.name in PAGE_PARAMS:  # paging sets the last LIMIT / OFFSET, whose numbers are the default page
            spans = slice_spans(query.text)
            assert p.name in spans, f"{query.path}: {p.name} needs a '{p.name.upper()} n' clause"
            if {"limit", "offset"} <= spans.keys():  # one clause: OFFSET right after the LIMIT it pages with
                between = query.text[spans["limit"][1]:spans["offset"][0]]
                assert between.split() == ["OFFSET"], f"{query.path}: the last LIMIT and OFFSET must be one clause"
            continue
        assert values_blocks(query.text, p.name), f"{query.path}: no 'VALUES ?{p.name} {{ … }}' block"


@pytest.mark.parametrize("query", LIBRARY, ids=[q.name for q in LIBRARY])
def test_file_runs_as_it_stands_with_its_example(kg, query):
    """The VALUES blocks in the file hold the header's example: the file as written gives the example answer."""
    as_written = lib.execute(kg, query.text)
    bound = lib.execute(kg, lib.bind(kg, query, lib.example_params(query)))
    assert as_written.comparable() == bound.comparable()


@pytest.mark.parametrize("query", LIBRARY, ids=[q.name for q in LIBRARY])
def test_labels_beside_iris(kg, query):
    """Every IRI column of a result comes with a label column (xLabel), except claims and sources."""
    result = lib.run(kg, query.name, lib.example_params(query))
    for var in result.variables:
        kinds = {row[var].type for row in result.bindings if var in row}
        if kinds != {"uri"}:
            continue
        values = [row[var].value for row in result.bindings if var in row]
        self_describing = all(v.startswith(("https://w3id.org/bmlkg/claim/", "https://doi.org/",
                                            "https://w3id.org/bmlkg/source/")) for v in values)
        assert self_describing or f"{var}Label" in result.variables, f"{query.name}: ?{var} has no ?{var}Label"


def test_every_competency_question_has_a_query():
    answered = {int(t[2:]) for q in CATALOGUE for t in q.tags if re.fullmatch(r"cq\d\d", t)}
    assert answered >= set(range(1, 26)), f"no query for competency question(s) {sorted(set(range(1, 26)) - answered)}"


def test_exploration_queries_exist():
    for name in ("term-neighbourhood", "claims-citing-source", "claims-by-design", "treatments-by-status",
                 "source-disagreements", "cause-categories-for-findings"):
        assert name in NAMES


def test_every_library_query_has_an_expected_answer_below():
    missing = sorted(q.name for q in LIBRARY if q.name not in EXPECTED)
    assert not missing, f"add an expected-answer check for {missing}"


# -- expected answers, from the seeds ------------------------------------------------------------------
def _cause_categories(rows):
    cats = {r["categoryLabel"].split(" cause")[0].split(" or ")[0] for r in rows}
    assert {"traumatic", "mechanical", "inflammatory rheumatic", "septic", "ischaemic", "neoplastic"} <= cats
    under = {(r["categoryLabel"].split()[0], r.get("conditionLabel", "").lower()) for r in rows}
    for pair in [("traumatic", "fracture of the tibia"), ("mechanical", "knee osteoarthritis"),
                 ("inflammatory", "rheumatoid arthritis"), ("inflammatory", "psoriatic arthritis"),
                 ("inflammatory", "ankylosing spondylitis"), ("septic", "osteomyelitis"),
                 ("septic", "septic arthritis"), ("ischaemic", "avascular necrosis"),
                 ("neoplastic", "osteosarcoma"), ("neoplastic", "chondrosarcoma"), ("neoplastic", "ewing's sarcoma")]:
        assert pair in under, pair
    flagged = {r["categoryLabel"].split()[0] for r in rows if r.get("redFlag") is True}
    assert {"septic", "neoplastic"} <= flagged


def _causes_in_category(rows):
    assert {"fracture of the tibia", "fracture of the femur"} <= labels(rows, "conditionLabel")
    assert labels(rows, "objectLabel") == {"bone marrow oedema"}


def _settings(rows):
    assert {"breast cancer", "lung cancer", "prostate cancer", "kidney cancer"} <= labels(rows, "settingLabel")


def _who(rows):
    assert any(r.get("ageMin") == 30 and r.get("ageMax") == 50 for r in rows)
    assert "male" in labels(rows, "sex")


def _told_apart(rows):
    assert any("necrosis" in r["otherLabel"] or "osteonecrosis" in r["otherLabel"] for r in rows)
    assert "disputed among experts" in labels(rows, "certaintyLabel")
    assert any("conflictsWith" in r for r in rows)


def _terms_relate(rows):
    kinds = {(r["kind"], r["fromLabel"]) for r in rows}
    assert ("subclass", "bone marrow lesion") in kinds  # a lesion is a kind of the oedema sign
    assert {k for k, _ in kinds} >= {"subclass", "claim", "definition"}


def _mri_signal(rows):
    by_sequence = {r["sequenceLabel"].lower(): r.get("signal", "").lower() for r in rows}
    assert any("t2" in s for s in by_sequence) and any("proton" in s for s in by_sequence)
    assert any("stir" in s for s in by_sequence)
    t1 = [sig for s, sig in by_sequence.items() if s.startswith("t1")]
    assert t1 and ("low" in t1[0] or "intermediate" in t1[0])


def _cannot_show(rows):
    assert {"dual-energy x-ray absorptiometry", "plain radiography"} <= labels(rows, "modalityLabel")
    dexa = {r.get("canShowLabel", "").lower() for r in rows if r["modalityLabel"].startswith("dual")}
    assert "osteoporosis" in dexa or "bone mineral density" in dexa
    xray = {r.get("canShowLabel", "").lower() for r in rows if r["modalityLabel"] == "plain radiography"}
    assert {"knee osteoarthritis", "avascular necrosis"} & xray


def _disagreements(rows):
    pairs = {(r["claimA"], r["claimB"]) for r in rows}
    assert pairs, "seed 002 (X-ray cannot show oedema) and seed 003 (X-ray shows it later) disagree"
    sources = {str(r.get("sourceA")) for r in rows} | {str(r.get("sourceB")) for r in rows}
    assert any(s.endswith("seed-002") for s in sources) and any(s.endswith("seed-003") for s in sources)


def _scoring(rows):
    assert {"worms", "bloks"} <= labels(rows, "systemLabel")
    histological = {r["systemLabel"].lower() for r in rows if r["histological"] is True}
    assert histological == {"osteoarthritis bone score"}


def _tissue(rows):
    changes = " ".join(labels(rows, "changeLabel"))
    for word in ("microfracture", "trabecular", "fibrosis", "cyst", "vascular", "inflammation", "nerve"):
        assert word in changes, word
    assert "10.1016/j.joca.2022.01.008" in dois(rows)


def _pain_mechanisms(rows):
    mechanisms = " ".join(labels(rows, "mechanismLabel"))
    assert "nerve" in mechanisms and "osteoclast" in mechanisms and "senescence" in mechanisms
    markers = labels(rows, "markerLabel")
    assert "tracp5b" in markers and "tnf" in markers
    assert "10.1016/j.joca.2017.01.002" in dois(rows)


def _why_hurts(rows):
    lesion = " ".join(r["termLabel"] for r in rows if r["role"] == "lesion")
    assert "nerve" in lesion
    contrast = [r for r in rows if r["role"] == "contrast"]
    assert contrast and "no nerves" in contrast[0].get("note", "")


def _location_pain(rows):
    found = {(r["locationLabel"].lower(), r["painTermLabel"].lower(), r["directionLabel"]) for r in rows}
    assert ("medial femorotibial compartment", "knee pain on walking", "supports") in found
    assert ("lateral patellofemoral compartment", "knee pain on stairs", "supports") in found
    assert any(p == "non-weight-bearing knee pain" and d == "no association found" for _, p, d in found)
    assert "10.1186/s13075-021-02422-0" in dois(rows)
    assert {r.get("sampleSize") for r in rows} >= {1412}


def _study(rows):
    by_estimate = {r["estimate"]: r for r in rows}
    assert set(by_estimate) == {Decimal("1.32"), Decimal("2.22"), Decimal("1.79")}
    null = by_estimate[Decimal("1.32")]
    assert (null["ciLower"], null["ciUpper"]) == (Decimal("0.95"), Decimal("1.83"))
    assert null["directionLabel"] == "no association found"
    assert {r["sampleSize"] for r in rows} == {1145}


def _variance(rows):
    by_subject = {r["subjectLabel"]: r for r in rows}
    assert by_subject["bone marrow lesion burden"]["estimate"] == Decimal("5.7")
    cartilage = by_subject["cartilage damage"]
    assert (cartilage["rangeLow"], cartilage["rangeHigh"]) == (Decimal("1.5"), Decimal("2.3"))
    assert {r["sampleSize"] for r in rows} == {204} and labels(rows, "unitLabel") == {"knee"}
    assert dois(rows) == {"10.1302/2633-1462.67.bjo-2025-0010.r1"}
    assert rows[0]["subjectLabel"] == "bone marrow lesion burden"  # largest share first


def _structural(rows):
    outcomes = " ".join(labels(rows, "outcomeLabel"))
    for word in ("cartilage", "joint-space narrowing", "progression", "knee replacement"):
        assert word in outcomes, word


def _bone_targeted(rows):
    by = {r["treatmentLabel"].lower(): r for r in rows}
    assert by["subchondroplasty"].get("availabilityLabel") == "specialist centres"
    assert by["bisphosphonate"].get("guidelineLabel") == "not in guidelines"
    assert "extracorporeal shock wave therapy" in by and "zoledronic acid" in by
    assert any("platelet-rich plasma" in t for t in by)


def _treatment_results(rows):
    responders = [r for r in rows if r.get("estimate") == Decimal("54")]
    assert responders and responders[0]["sampleSize"] == 50
    assert responders[0]["followUp"] == 6 and responders[0]["followUpUnitLabel"] == "month"
    assert "10.1177/23259671231163528" in dois(rows)
    assert any(r.get("estimate") == Decimal("22") for r in rows)  # converted to knee replacement


def _not_approved(rows):
    assert {"iloprost infusion", "bisphosphonate"} <= labels(rows, "treatmentLabel")


def _conservative(rows):
    bmes = [r for r in rows if r["conditionLabel"] == "bone marrow oedema syndrome"]
    oa = [r for r in rows if r["conditionLabel"] == "knee osteoarthritis"]
    assert any("3 to 6 weeks" in r.get("timeCourse", "") for r in bmes)
    strict = [r for r in oa if r["treatmentLabel"] == "strict non-weight-bearing"]
    assert any(r["directionLabel"] == "refutes" or r.get("guidelineLabel") == "not routinely recommended" for r in strict)


def _core_pathway(rows):
    treatments = " ".join(labels(rows, "treatmentLabel"))
    for word in ("education", "exercise", "weight"):
        assert word in treatments, word
    sources = {str(r.get("source")) for r in rows}
    assert any(s.endswith("oarsi-guidance") for s in sources)
    assert any(s.endswith("acr-af-guideline") for s in sources)
    # seed 000 gives NSAIDs and joint injections no guideline status, only "support" (issue 15)
    assert not {"topical nsaid", "oral nsaid"} & labels(rows, "treatmentLabel")


def _endpoint(rows):
    assert labels(rows, "treatmentLabel") == {"strontium ranelate"}
    # seed 001 gives no reference for the strontium ranelate study: an in-text source, no DOI (issue 15)
    assert {str(r.get("paper")) for r in rows} == {"https://w3id.org/bmlkg/source/strontium-ranelate-oa-study"}
    assert not dois(rows)
    changed = " ".join(labels(rows, "changedLabel"))
    assert "pain" in changed and "ctx-ii" in changed


def _association_sources(rows):
    found = dois(rows)
    assert {"10.1186/s13075-025-03644-2", "10.1186/s13075-021-02422-0"} <= found
    bunkyo = [r for r in rows if r.get("doi", "").lower() == "10.1186/s13075-025-03644-2"]
    assert {r.get("designLabel") for r in bunkyo} == {"cross-sectional study"}
    assert {r.get("sampleSize") for r in bunkyo} == {1145}
    ranks = [r.get("designRank", -1) for r in rows]
    assert ranks == sorted(ranks, reverse=True)


def _sources(rows):
    printed = {r["doi"] for r in rows if "doi" in r}
    assert SEED_DOIS <= printed, sorted(SEED_DOIS - printed)
    seeds = {r["source"] for r in rows if r["kind"] == "seed article"}
    assert len(seeds) == 4
    bunkyo = [r for r in rows if r.get("doi") == "10.1186/s13075-025-03644-2"]
    assert bunkyo[0]["year"] == "2025" and "bunkyo" in bunkyo[0]["title"].lower()
    assert any("claim" in r for r in bunkyo)


def _low_certainty_treatments(rows):
    # seed 000: ESWT trial quality limited, intraosseous injections low certainty; seed 001: subchondroplasty
    # and core decompression with ACP are case series, the hydrogel study one small preliminary study
    treatments = labels(rows, "treatmentLabel")
    for name in ("extracorporeal shock wave therapy", "intraosseous platelet-rich plasma injection",
                 "subchondroplasty", "intra-articular polyacrylamide hydrogel injection"):
        assert name in treatments, name
    # zoledronic acid is in randomised trials whose results are awaited: unrated, so not listed;
    # the core pathway rests on guidelines the rule does not rate
    assert not {"zoledronic acid", "exercise therapy", "patient education"} & treatments
    assert {r["bestLevel"] for r in rows} <= {"https://w3id.org/bmlkg/LowCertaintyLevel",
                                              "https://w3id.org/bmlkg/VeryLowCertaintyLevel"}
    eswt = [r for r in rows if r["treatmentLabel"] == "extracorporeal shock wave therapy"]
    assert "limited trial quality" in str(eswt[0].get("reported"))


def _small(rows):
    text = " ".join(labels(rows, "claimLabel"))
    assert "subchondroplasty" in text and "core decompression" in text and "one small study" in text
    assert any(r.get("sampleSize") == 50 for r in rows)
    assert all(r.get("sampleSize", 0) < 1000 for r in rows)


def _neighbourhood(rows):
    out = {(r["relation"].rsplit("/", 1)[-1].rsplit("#", 1)[-1], r["neighbourLabel"]) for r in rows if r["direction"] == "out"}
    assert ("subClassOf", "bone marrow oedema") in out
    assert ("quantifiedBy", "osteoarthritis bone score") in out
    assert all(r["claims"] >= 1 for r in rows if "w3id.org/bmlkg/" in r["relation"])


def _citing(rows):
    assert {r.get("estimate") for r in rows} >= {Decimal("1.32"), Decimal("2.22"), Decimal("1.79")}


def _by_design(rows):
    assert labels(rows, "designLabel") == {"cohort study"}
    assert {r["sampleSize"] for r in rows} >= {1412, 204}
    assert all(r["sampleSize"] >= 200 for r in rows)


def _by_status(rows):
    assert {"bisphosphonate", "extracorporeal shock wave therapy"} <= labels(rows, "treatmentLabel")
    assert labels(rows, "statusLabel") == {"not in guidelines"}


def _categories_for_findings(rows):
    # an injury and the oedema are both explained by the traumatic category, which ranks first (or tied first)
    best = rows[0]["findingsExplained"]
    assert best == 2
    assert any(r["categoryLabel"].startswith("traumatic") for r in rows if r["findingsExplained"] == best)
    assert [r["findingsExplained"] for r in rows] == sorted((r["findingsExplained"] for r in rows), reverse=True)


EXPECTED = {
    "cq-cause-categories": _cause_categories,
    "cq-causes-in-category": _causes_in_category,
    "cq-settings-of-condition": _settings,
    "cq-who-is-affected": _who,
    "cq-told-apart-from": _told_apart,
    "cq-how-terms-relate": _terms_relate,
    "cq-mri-signal": _mri_signal,
    "cq-cannot-show": _cannot_show,
    "source-disagreements": _disagreements,
    "cq-scoring-systems": _scoring,
    "cq-tissue-changes": _tissue,
    "cq-pain-mechanisms": _pain_mechanisms,
    "cq-why-lesion-hurts": _why_hurts,
    "cq-location-pain": _location_pain,
    "cq-study-results": _study,
    "cq-variance-explained": _variance,
    "cq-structural-outcomes": _structural,
    "cq-bone-targeted-treatments": _bone_targeted,
    "cq-treatment-results": _treatment_results,
    "cq-not-approved-but-used": _not_approved,
    "cq-conservative-care": _conservative,
    "cq-core-pathway": _core_pathway,
    "cq-endpoint-validation": _endpoint,
    "cq-association-sources": _association_sources,
    "cq-sources": _sources,
    "cq-small-studies": _small,
    "cq-low-certainty-treatments": _low_certainty_treatments,
    "term-neighbourhood": _neighbourhood,
    "claims-citing-source": _citing,
    "claims-by-design": _by_design,
    "treatments-by-status": _by_status,
    "cause-categories-for-findings": _categories_for_findings,
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_gives_the_seeds_answer(kg, name):
    rows = run_example(kg, name)
    assert rows, f"{name} returned no rows for its example"
    EXPECTED[name](rows)


# -- parameters are data ---------------------------------------------------------------------------
def test_label_resolves_case_insensitively_and_through_synonyms(kg):
    a = kg.query("cq-mri-signal", finding="Bone Marrow Lesion")
    b = kg.query("cq-mri-signal", finding="BML")
    assert a == b == run_example(kg, "cq-mri-signal")


def test_unknown_label_lists_the_closest_labels(kg):
    with pytest.raises(InputError) as err:
        kg.query("cq-mri-signal", finding="bone marow lesoin")
    message = str(err.value)
    assert "finding" in message and "closest known labels" in message and "'bone marrow lesion'" in message


def test_injection_into_a_label_is_a_clean_input_error(kg):
    with pytest.raises(InputError) as err:
        kg.query("cq-mri-signal", finding=INJECTION)
    assert "unknown label" in str(err.value)


def test_injection_into_text_is_data_and_matches_nothing(kg):
    query = lib.get_query("cq-study-results")
    bound = lib.bind(kg, query, {"study": INJECTION})
    # exactly one token changed: the VALUES block holds one string literal; no pattern was added
    before, after = tokenize(query.text), tokenize(bound)
    assert [t.text for t in before if t.kind != "STRING"] == [t.text for t in after if t.kind != "STRING"]
    assert variables(bound) == variables(query.text)
    assert kg.query("cq-study-results", study=INJECTION) == []
    assert kg.query("cq-study-results", study="no such study") == []


@pytest.mark.parametrize("name,param,value", [
    ("claims-citing-source", "source", INJECTION),
    ("claims-citing-source", "source", "https://example.org/a> ?s ?p ?o . <x"),
    ("cq-small-studies", "maxSize", "1 } ?s ?p ?o {"),
    ("cq-small-studies", "maxSize", "100; DROP ALL"),
    ("cq-small-studies", "maxSize", "1e9"),
])
def test_injection_into_iri_or_number_is_refused(kg, name, param, value):
    with pytest.raises(InputError) as err:
        kg.query(name, **{param: value})
    assert param in str(err.value)


def test_iri_parameter_takes_iri_curie_or_doi(kg):
    by_doi = kg.query("claims-citing-source", source="10.1186/S13075-025-03644-2")
    by_url = kg.query("claims-citing-source", source="https://doi.org/10.1186/s13075-025-03644-2")
    assert by_doi == by_url and by_doi
    assert kg.query("claims-citing-source", source="src:seed-001")


def test_number_parameter_is_typed(kg):
    small = kg.query("cq-small-studies", maxSize=60)
    assert any(r.get("sampleSize") == 50 for r in small)
    assert all(r.get("sampleSize", 0) < 60 for r in small if str(r["reason"]).endswith("sampleSize"))
    assert kg.query("cq-small-studies", maxSize="60") == small


def test_unknown_missing_and_extra_parameters(kg):
    with pytest.raises(InputError, match=r"unknown parameter 'term'.*valid parameters: finding \(label\)"):
        kg.query("cq-mri-signal", term="bone marrow lesion")
    with pytest.raises(InputError, match=r"missing parameter\(s\) finding"):
        kg.query("cq-mri-signal")
    with pytest.raises(InputError, match=r"takes one value"):
        kg.query("cq-mri-signal", finding=["bone marrow lesion", "bone marrow oedema"])


def test_optional_parameter_left_out_means_any(kg):
    all_designs = kg.query("claims-by-design")
    cohort = kg.query("claims-by-design", design="bml:CohortStudy")
    assert len(all_designs) > len(cohort) > 0
    assert len({r["designLabel"] for r in all_designs}) > 1


def test_repeatable_parameter_takes_several_values(kg):
    one = kg.query("cq-structural-outcomes", finding="bone marrow lesion")
    both = kg.query("cq-structural-outcomes", finding=["bone marrow lesion", "bone marrow lesion burden"])
    assert len(both) > len(one)


def test_bind_values_escapes_and_refuses_bad_variables():
    text = "SELECT ?x WHERE { VALUES ?x { 1 } ?x ?p ?o } ORDER BY ?x"
    assert bind_values(text, "x", ['"a\\" }"']) == 'SELECT ?x WHERE { VALUES ?x { "a\\" }" } ?x ?p ?o } ORDER BY ?x'
    assert "UNDEF" in bind_values(text, "x", None)
    with pytest.raises(InputError):
        bind_values(text, "x } ?s", ["1"])
    with pytest.raises(InputError):
        bind_values(text, "y", ["1"])


# -- read-only: refused before evaluation -------------------------------------------------------------
class _Untouchable:
    """A graph whose engines fail the test if anything reaches them."""

    @property
    def store(self):
        raise AssertionError("the query reached the engine")

    def rdflib_graph(self):
        raise AssertionError("the query reached the engine")


@pytest.mark.parametrize("text", [
    'INSERT DATA { <urn:a> <urn:b> "c" }',
    "insert data { <urn:a> <urn:b> <urn:c> }",
    "DELETE WHERE { ?s ?p ?o }",
    "PREFIX ex: <urn:x:> DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }",
    "WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "LOAD <http://example.org/data.ttl>",
    "CLEAR ALL", "DROP GRAPH <urn:g>", "CREATE GRAPH <urn:g>",
    "ADD DEFAULT TO <urn:g>", "MOVE <urn:a> TO <urn:b>", "COPY <urn:a> TO <urn:b>",
    "SELECT * WHERE { ?s ?p ?o } ; DROP ALL",
    "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    "SELECT * FROM <http://example.org/graph.ttl> WHERE { ?s ?p ?o }",
    "SELECT * FROM NAMED <http://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }",
])
@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_updates_service_and_from_are_refused_before_evaluation(text, engine):
    with pytest.raises(QueryError) as err:
        lib.run_sparql(_Untouchable(), text, engine=engine)
    assert "refused" in str(err.value)


@pytest.mark.parametrize("text", [
    'SELECT ?x WHERE { BIND("DELETE this; INSERT that; DROP ALL" AS ?x) } ORDER BY ?x',
    "SELECT ?x WHERE { BIND('''LOAD <http://example.org/> SERVICE''' AS ?x) } ORDER BY ?x",
    "PREFIX ex: <urn:ex:> SELECT ?insert WHERE { BIND(ex:load AS ?insert) } ORDER BY ?insert",
    "# DROP ALL (a comment)\nSELECT ?copy WHERE { BIND(<urn:service:delete> AS ?copy) } ORDER BY ?copy",
    'SELECT ?x WHERE { BIND(STRLANG("clear", "add") AS ?x) } ORDER BY ?x',
])
def test_words_inside_literals_iris_and_names_are_data(kg, text):
    result = lib.run_sparql(kg, text)
    assert len(result) == 1


def test_syntax_errors_are_input_errors(kg):
    with pytest.raises(InputError):
        lib.run_sparql(kg, "SELECT ?x WHERE { ?x ?y }")
    with pytest.raises(InputError):
        lib.run_sparql(kg, 'SELECT ?x WHERE { BIND("unclosed AS ?x) }')


# -- timeouts -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_timeout_stops_a_pathological_query_and_the_next_query_works(kg, engine):
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        lib.run_sparql(kg, CARTESIAN, engine=engine, timeout=1)
    assert time.monotonic() - started < 10
    rows = kg.query("cq-study-results", engine=engine, study="Bunkyo Health Study", timeout=30)
    assert len(rows) == 3
    assert len(kg.query("cq-study-results", engine=engine, study="Bunkyo Health Study")) == 3


def test_timed_out_worker_is_gone(kg):
    import multiprocessing

    with pytest.raises(QueryTimeout):
        lib.run_sparql(kg, CARTESIAN, timeout=0.5)
    assert not [p for p in multiprocessing.active_children() if p.is_alive()]


# -- engines give the same rows -------------------------------------------------------------------------
@pytest.mark.parametrize("query", CATALOGUE, ids=NAMES)
def test_oxigraph_and_rdflib_give_the_same_rows(kg, query):
    """Compared by value in order: numbers numerically (6.00 = 6), GROUP_CONCAT parts sorted by the library."""
    params = lib.example_params(query)
    ox_result = lib.run(kg, query.name, params, engine="oxigraph")
    # a guard against a hang, not a speed check (speed is `make bench`): rdflib takes about two minutes for
    # dangling-iri-violation on the curated graph on a 2-core machine, more when the machine is shared
    rdf_result = lib.run(kg, query.name, params, engine="rdflib", timeout=600)
    assert ox_result.variables == rdf_result.variables
    assert ox_result.comparable() == rdf_result.comparable()


def test_csv_and_tsv_follow_the_w3c_formats(kg):
    result = lib.run(kg, "cq-variance-explained", {"outcome": "WOMAC pain"})
    csv_text = result.to_csv()
    assert csv_text.startswith("subject,subjectLabel,object,") and csv_text.count("\r\n") == len(result) + 1
    tsv = result.to_tsv().splitlines()
    assert tsv[0].startswith("?subject\t?subjectLabel")
    assert '"5.7"^^<http://www.w3.org/2001/XMLSchema#decimal>' in tsv[1]
    assert '"bone marrow lesion burden"@en' in tsv[1]


def test_rows_are_plain_python_values(kg):
    rows = kg.query("cq-study-results", study="Bunkyo Health Study")
    for row in rows:
        for value in row.values():
            assert type(value) in (str, int, float, Decimal, bool)
    assert isinstance(rows[0]["sampleSize"], int) and isinstance(rows[0]["estimate"], Decimal)


def test_module_docstring_examples_run():
    failures, tried = doctest.testmod(lib, verbose=False)
    assert tried > 0 and failures == 0


# -- CLI ----------------------------------------------------------------------------------------------
def test_cli_queries_json_lists_parameters_with_type_and_example():
    proc = run_cli("queries", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    names = [q["name"] for q in doc]
    assert names == sorted(names) and "cq-mri-signal" in names
    entry = next(q for q in doc if q["name"] == "cq-mri-signal")
    assert entry["summary"] and "imaging" in entry["tags"]
    expected = {"name": "finding", "type": "label", "example": "bone marrow lesion"}
    assert expected.items() <= entry["parameters"][0].items()


def test_cli_queries_tag_filter_and_unknown_tag():
    proc = run_cli("queries", "--tag", "cq09")
    assert proc.returncode == 0 and "cq-scoring-systems" in proc.stdout and "cq-mri-signal" not in proc.stdout
    bad = run_cli("queries", "--tag", "nosuchtag")
    assert bad.returncode == 2 and "valid tags:" in bad.stderr and "imaging" in bad.stderr


def test_cli_query_json_is_w3c_results_json():
    proc = run_cli("query", "cq-study-results", "--param", "study=Bunkyo Health Study", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == {"head", "results"} and "estimate" in doc["head"]["vars"]
    estimate = next(b["estimate"] for b in doc["results"]["bindings"] if "ciLower" in b)
    assert estimate["type"] == "literal" and estimate["datatype"].endswith("#decimal")
    assert Decimal(estimate["value"]) == Decimal("1.32")
    assert len(from_json(proc.stdout)) == 3


@pytest.mark.parametrize("fmt", ["table", "csv", "tsv"])
def test_cli_query_other_formats(fmt):
    proc = run_cli("query", "cq-variance-explained", "-p", "outcome=WOMAC pain", "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    assert "5.7" in proc.stdout
    if fmt == "csv":  # CRLF line ends (W3C CSV results); text-mode pipes show them as \n
        assert proc.stdout.startswith("subject,subjectLabel,")
    if fmt == "tsv":
        assert proc.stdout.startswith("?subject\t?subjectLabel") and "<https://w3id.org/bmlkg/BMLBurden>" in proc.stdout
    if fmt == "table":
        assert "bml:BMLBurden" in proc.stdout and "(2 rows)" in proc.stdout


@pytest.mark.parametrize("args,expected", [
    (("query", "cq-mri-signl"), "did you mean cq-mri-signal"),
    (("query", "nosuchquery"), "valid queries: "),
    (("query", "cq-mri-signal", "-p", "term=x"), "valid parameters: finding (label)"),
    (("query", "cq-mri-signal", "-p", "finding=BML", "--format", "xml"), "valid values: table, csv, tsv, json"),
    (("query", "cq-mri-signal", "-p", "finding=BML", "--engine", "jena"), "valid values: oxigraph, rdflib"),
    (("query", "cq-mri-signal", "-p", "findingBML"), "expected NAME=VALUE"),
    (("queries", "--format", "yaml"), "valid values: table, json, markdown"),
])
def test_cli_bad_input_exits_2_listing_valid_values(args, expected):
    proc = run_cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1


def test_cli_sparql_file_and_stdin(tmp_path):
    query = tmp_path / "mine.rq"
    query.write_text("PREFIX bml: <https://w3id.org/bmlkg/>\nASK { bml:BoneMarrowLesion ?p ?o }\n")
    proc = run_cli("sparql", str(query), "--format", "json")
    assert proc.returncode == 0 and json.loads(proc.stdout) == {"head": {}, "boolean": True}
    piped = run_cli("sparql", "-", "--engine", "rdflib", "--format", "csv",
                    input="SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/bmlkg/StatisticalClaim> }")
    assert piped.returncode == 0 and piped.stdout.startswith("n\n") and int(piped.stdout.split()[1]) > 5
    missing = run_cli("sparql", str(tmp_path / "nope.rq"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_cli_sparql_refuses_update_and_times_out():
    proc = run_cli("sparql", "-", input="DELETE WHERE { ?s ?p ?o }")
    assert proc.returncode == 2 and "refused" in proc.stderr and proc.stdout == ""
    slow = run_cli("sparql", "-", "--timeout", "1", input=CARTESIAN)
    assert slow.returncode == 2 and "stopped after 1 s" in slow.stderr and slow.stdout == ""


# -- README catalogue ------------------------------------------------------------------------------------
def test_readme_holds_the_generated_catalogue_table():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert lib.README_START in readme and lib.README_END in readme, "README.md needs the queries markers"
    current = readme.split(lib.README_START, 1)[1].split(lib.README_END, 1)[0]
    expected = "\n" + lib.catalogue_markdown(CATALOGUE)
    assert current == expected, "README catalogue is stale: run `bmlkg queries --format markdown` and paste it"


def test_markdown_command_prints_the_same_table():
    proc = run_cli("queries", "--format", "markdown")
    assert proc.returncode == 0 and proc.stdout == lib.catalogue_markdown(CATALOGUE)


# -- paging: queries whose answer grows with the graph ----------------------------------------------------
PAGED = [q for q in CATALOGUE if {"limit", "offset"} <= {p.name for p in q.params}]


def test_whole_graph_queries_are_paged():
    assert {q.name for q in PAGED} >= {"claims-by-design", "cq-cause-categories", "cq-small-studies", "cq-sources",
                                       "cq-not-approved-but-used", "treatments-by-status"}


@pytest.mark.parametrize("query", PAGED, ids=[q.name for q in PAGED])
def test_pages_are_slices_of_the_whole_answer(kg, query):
    whole = lib.run(kg, query.name, {**lib.example_params(query), "limit": 100000}).comparable()
    assert len(whole) > 1
    page = lib.run(kg, query.name, {**lib.example_params(query), "limit": 2, "offset": 1}).comparable()
    assert page == whole[1:3]
    default = lib.run(kg, query.name, {k: v for k, v in lib.example_params(query).items()
                                       if k not in ("limit", "offset")}).comparable()
    assert default == whole[:1000]


@pytest.mark.parametrize("value", ["-1", "1.5", "ten", True, "1e3"])
def test_page_parameters_are_whole_numbers(kg, value):
    with pytest.raises(InputError, match="whole number of rows"):
        kg.query("cq-sources", limit=value)
