"""Each check has a fixture that passes and one that makes exactly the expected entities fail.

The passing fixture is the real schema plus tests/fixtures/mini.ttl; each failing fixture appends one broken
snippet (or edits the header) and the test asserts the exact set of entities the named check flags.
"""

from __future__ import annotations

import json

import pytest

import bmlkg
from bmlkg.checks.qc import CheckOptions, run_checks

from .conftest import run_cli
from .helpers import mini_source

BML = "https://w3id.org/bmlkg/"
CLAIM = BML + "claim/"
ONTO = BML + "bmlkg.owl"


def findings(source, check, reasoner=False):
    kg = bmlkg.load(source)
    report = run_checks(kg, CheckOptions(reasoner=reasoner))
    assert not report.not_run, [r.error for r in report.not_run]
    hits = {f.entity for f in report.findings if f.check == check or f.check.startswith(check + ":")}
    return report, hits


def test_clean_fixture_passes_every_check(tmp_path, java):
    report, _ = findings(mini_source(tmp_path / "src"), "none", reasoner=True)
    assert not report.failed("ERROR"), report.to_table()
    assert report.reasoner is not None and report.reasoner.consistent


LABEL = 'rdfs:label "{}"@en ; '
DEF = 'obo:IAO_0000115 "Defined for a test."@en ; dcterms:source src:seed-002 .\n'
CASES = {
    # check name: (snippet appended to the fixture, entities the check must flag)
    "missing-label-violation": (
        "bml:Unlabelled a owl:Class ; rdfs:subClassOf bml:Condition ; " + DEF
        + 'bml:BlankLabel a owl:Class ; rdfs:subClassOf bml:Condition ; rdfs:label "  "@en ; ' + DEF,
        {BML + "Unlabelled", BML + "BlankLabel"}),
    "duplicate-label-violation": (
        'bml:Twin a owl:Class ; rdfs:subClassOf bml:Condition ; rdfs:label "Fixture  Condition"@en ; ' + DEF,
        {BML + "Twin", BML + "FixtureCondition"}),
    "multiple-labels-violation": (
        'bml:FixtureCondition rdfs:label "second name"@en .\n', {BML + "FixtureCondition"}),
    "multiple-definitions-violation": (
        'bml:FixtureFinding obo:IAO_0000115 "Another definition."@en .\n', {BML + "FixtureFinding"}),
    "label-whitespace-violation": (
        'bml:Spacey a owl:Class ; rdfs:subClassOf bml:Condition ; rdfs:label " spacey"@en ; ' + DEF
        + 'bml:Tabby a owl:Class ; rdfs:subClassOf bml:Condition ; rdfs:label "tab\\tby"@en ; ' + DEF,
        {BML + "Spacey", BML + "Tabby"}),
    "missing-definition-violation": (
        'bml:Undefined a owl:Class ; rdfs:subClassOf bml:Condition ; rdfs:label "undefined"@en ; '
        "dcterms:source src:seed-002 .\n", {BML + "Undefined"}),
    "dangling-iri-violation": (
        'claim:dangles a owl:NamedIndividual , bml:FeatureAssociation ; rdfs:label "dangling object"@en ; '
        "bml:subjectTerm bml:FixtureCondition ; bml:predicateTerm bml:mayCause ; bml:objectTerm bml:Osteoartritis ; "
        "bml:strength bml:CanOccur ; bml:direction bml:Supports ; dcterms:source src:seed-002 .\n",
        {BML + "Osteoartritis"}),
    "malformed-doi-violation": (
        '<https://doi.org/10.99/bad> a owl:NamedIndividual , bibo:AcademicArticle ; rdfs:label "bad doi"@en ; '
        'dcterms:title "Bad"@en ; bibo:doi "10.99/bad" .\n'
        '<https://doi.org/10.1234/nodoi> a owl:NamedIndividual , bibo:AcademicArticle ; rdfs:label "no doi"@en ; '
        'dcterms:title "No DOI"@en .\n',
        {"https://doi.org/10.99/bad", "https://doi.org/10.1234/nodoi"}),
    "malformed-xref-violation": (
        'bml:FixtureCondition skos:exactMatch <http://purl.obolibrary.org/obo/MONDO:0005178> .\n'
        'bml:FixtureFinding skos:closeMatch "HP:0000001" .\n',
        {BML + "FixtureCondition", BML + "FixtureFinding"}),
    "claim-without-source-violation": (
        'claim:unsourced a owl:NamedIndividual , bml:Claim ; rdfs:label "no source"@en ; '
        "bml:subjectTerm bml:FixtureCondition ; bml:predicateTerm bml:mayCause ; bml:objectTerm bml:FixtureFinding ; "
        "bml:direction bml:Supports .\n"
        'claim:paper-only a owl:NamedIndividual , bml:Claim ; rdfs:label "paper only"@en ; '
        "bml:subjectTerm bml:FixtureCondition ; bml:predicateTerm bml:mayCause ; bml:objectTerm bml:FixtureFinding ; "
        "bml:direction bml:Supports ; dcterms:source <https://doi.org/10.1234/fixture.2025> .\n",
        {CLAIM + "unsourced", CLAIM + "paper-only"}),
    "statistic-out-of-range-violation": (
        "claim:fixture-statistic bml:meanAge 200.0 .\n"
        'claim:neg-n a owl:NamedIndividual , bml:StatisticalClaim ; rdfs:label "negative n"@en ; '
        "bml:subjectTerm bml:FixtureFinding ; bml:predicateTerm bml:associatedWith ; bml:objectTerm bml:KneePain ; "
        'bml:direction bml:Supports ; bml:measure bml:OddsRatio ; bml:estimate 1.2 ; bml:asReported "x" ; '
        "bml:sampleSize -5 ; bml:unitOfAnalysis bml:Knee ; dcterms:source src:seed-001 .\n"
        'claim:big-p a owl:NamedIndividual , bml:StatisticalClaim ; rdfs:label "p above one"@en ; '
        "bml:subjectTerm bml:FixtureFinding ; bml:predicateTerm bml:associatedWith ; bml:objectTerm bml:KneePain ; "
        'bml:direction bml:Supports ; bml:measure bml:OddsRatio ; bml:estimate 1.2 ; bml:asReported "x" ; '
        "bml:pValue 1.5 ; dcterms:source src:seed-001 .\n"
        'claim:ci-swapped a owl:NamedIndividual , bml:StatisticalClaim ; rdfs:label "CI swapped"@en ; '
        "bml:subjectTerm bml:FixtureFinding ; bml:predicateTerm bml:associatedWith ; bml:objectTerm bml:KneePain ; "
        'bml:direction bml:Supports ; bml:measure bml:OddsRatio ; bml:estimate 1.2 ; bml:asReported "x" ; '
        "bml:ciLower 2.0 ; bml:ciUpper 1.0 ; dcterms:source src:seed-001 .\n"
        'claim:pct-high a owl:NamedIndividual , bml:StatisticalClaim ; rdfs:label "percent above 100"@en ; '
        "bml:subjectTerm bml:FixtureFinding ; bml:predicateTerm bml:associatedWith ; bml:objectTerm bml:KneePain ; "
        'bml:direction bml:Supports ; bml:measure bml:ResponderRate ; bml:estimate 140.0 ; bml:asReported "x" ; '
        "dcterms:source src:seed-001 .\n"
        'claim:string-number a owl:NamedIndividual , bml:StatisticalClaim ; rdfs:label "number as string"@en ; '
        "bml:subjectTerm bml:FixtureFinding ; bml:predicateTerm bml:associatedWith ; bml:objectTerm bml:KneePain ; "
        'bml:direction bml:Supports ; bml:measure bml:OddsRatio ; bml:estimate "1.32" ; bml:asReported "x" ; '
        "dcterms:source src:seed-001 .\n",
        {CLAIM + "fixture-statistic", CLAIM + "neg-n", CLAIM + "big-p", CLAIM + "ci-swapped",
         CLAIM + "pct-high", CLAIM + "string-number"}),
    "subclass-cycle-violation": (
        'bml:Ouro a owl:Class ; rdfs:subClassOf bml:Boros ; rdfs:label "ouro"@en ; ' + DEF
        + 'bml:Boros a owl:Class ; rdfs:subClassOf bml:Ouro , bml:Condition ; rdfs:label "boros"@en ; ' + DEF,
        {BML + "Ouro", BML + "Boros"}),
    "edge-without-claim-violation": (
        "bml:FixtureCondition bml:mayCause bml:KneePain .\n", {BML + "FixtureCondition"}),
    "orphan-class-violation": (
        'bml:Lonely a owl:Class ; rdfs:label "lonely"@en ; ' + DEF, {BML + "Lonely"}),
}


@pytest.mark.parametrize("check", sorted(CASES))
def test_check_flags_exactly_the_broken_entities(tmp_path, check):
    snippet, expected = CASES[check]
    _, clean = findings(mini_source(tmp_path / "clean"), check)
    report, hits = findings(mini_source(tmp_path / "broken", snippet), check)
    assert hits - clean == expected, report.to_table()
    level = CASES and next(f.level for f in report.findings if f.check == check)
    assert report.failed("ERROR") == (level == "ERROR")


@pytest.mark.parametrize("field,edit", [
    ("title", lambda t: t.replace("    dcterms:title ", "    rdfs:comment ", 1)),
    ("license", lambda t: t.replace("    dcterms:license <https://creativecommons.org/licenses/by/4.0/> ;\n", "", 1)),
    ("versionIRI", lambda t: t.replace("<https://w3id.org/bmlkg/releases/0.1.0/bmlkg.owl>",
                                       "<https://w3id.org/bmlkg/bmlkg.owl>", 1)),
])
def test_missing_header_fields(tmp_path, field, edit):
    report, hits = findings(mini_source(tmp_path / "src", header_edit=edit), "missing-header-violation")
    assert hits == {ONTO}
    props = {f.property.rsplit("#", 1)[-1].rsplit("/", 1)[-1] for f in report.findings
             if f.check == "missing-header-violation"}
    assert props == {field}


def test_unsatisfiable_class_is_found_by_hermit(tmp_path, java):
    snippet = ('bml:Impossible a owl:Class ; rdfs:subClassOf bml:Condition , '
               '[ a owl:Class ; owl:complementOf bml:Condition ] ; rdfs:label "impossible"@en ; ' + DEF)
    _, hits = findings(mini_source(tmp_path / "src", snippet), "reasoner-hermit", reasoner=True)
    assert hits == {BML + "Impossible"}


def test_shacl_flags_each_rule(tmp_path):
    snippet = (
        'claim:no-unit a owl:NamedIndividual , bml:StatisticalClaim ; rdfs:label "n without unit"@en ; '
        "bml:subjectTerm bml:FixtureFinding ; bml:predicateTerm bml:associatedWith ; bml:objectTerm bml:KneePain ; "
        'bml:direction bml:Supports ; bml:measure bml:OddsRatio ; bml:estimate 1.2 ; bml:asReported "x" ; '
        "bml:sampleSize 10 ; dcterms:source src:seed-001 .\n"
        'claim:wrong-roots a owl:NamedIndividual , bml:FeatureAssociation ; rdfs:label "wrong roots"@en ; '
        "bml:subjectTerm bml:KneePain ; bml:predicateTerm bml:mayCause ; bml:objectTerm bml:FixtureCondition ; "
        "bml:strength bml:CanOccur ; bml:direction bml:Supports ; dcterms:source src:seed-002 .\n"
    )
    report, _ = findings(mini_source(tmp_path / "src", snippet), "shacl")
    by_shape = {(f.check, f.entity) for f in report.findings if f.check.startswith("shacl")}
    assert ("shacl:SampleSizeUnitShape", CLAIM + "no-unit") in by_shape
    endpoint = {(f.entity, f.property) for f in report.findings if f.check == "claim-endpoint-violation"}
    assert endpoint == {(CLAIM + "wrong-roots", BML + "subjectTerm"), (CLAIM + "wrong-roots", BML + "objectTerm")}


@pytest.mark.parametrize("fail_on,code", [("ERROR", 0), ("WARN", 1), ("INFO", 1), ("none", 0)])
def test_fail_on_levels_and_report_always_written(tmp_path, fail_on, code):
    snippet = 'src:unused a owl:NamedIndividual , bml:InTextSource ; rdfs:label "unused source"@en .\n'
    report_path = tmp_path / "report.json"
    _, clean = findings(mini_source(tmp_path / "clean"), "uncited-source-violation")
    proc = run_cli("check", "--no-reasoner", "--source", str(mini_source(tmp_path / "src", snippet)),
                   "--fail-on", fail_on, "--format", "json", "--report", str(report_path))
    assert proc.returncode == code, proc.stderr
    doc = json.loads(report_path.read_text())
    assert doc["verdict"]["worst"] == "WARN"
    flagged = {f["entity"] for f in doc["findings"] if f["check"] == "uncited-source-violation"}
    assert flagged - clean == {BML + "source/unused"}


def test_check_that_cannot_run_fails_the_run(tmp_path):
    src = mini_source(tmp_path / "src")
    (src / "shapes.ttl").write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\nthis is not turtle\n")
    report_path = tmp_path / "report.tsv"
    proc = run_cli("check", "--no-reasoner", "--source", str(src), "--fail-on", "none",
                   "--format", "tsv", "--report", str(report_path))
    assert proc.returncode == 2
    assert "check could not run" in report_path.read_text()
    assert "shapes.ttl:2" in report_path.read_text()
