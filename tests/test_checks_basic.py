"""Each check has a fixture that passes and one that makes exactly the expected entities fail."""

from __future__ import annotations

import pytest

import bmlkg
from bmlkg.checks import CheckOptions, run_checks

from .helpers import mini_source

BML = "https://w3id.org/bmlkg/"


def flagged(source, check):
    kg = bmlkg.load(source)
    report = run_checks(kg, CheckOptions(reasoner=False))
    assert not report.not_run, [r.error for r in report.not_run]
    return report, {f.entity for f in report.findings if f.check == check or f.check.startswith(check + ":")}


def test_clean_fixture_passes(tmp_path):
    report, _ = flagged(mini_source(tmp_path / "src"), "none")
    assert not report.failed("ERROR"), report.to_table()


def test_missing_label_flags_exactly_that_entity(tmp_path):
    extra = """
bml:Unlabelled a owl:Class ; rdfs:subClassOf bml:Condition ;
    obo:IAO_0000115 "A class without a label."@en ; dcterms:source src:seed-002 .
"""
    report, entities = flagged(mini_source(tmp_path / "src", extra), "missing-label-violation")
    assert entities == {BML + "Unlabelled"}
    assert report.failed("ERROR")
    _, shacl = flagged(mini_source(tmp_path / "src2", extra), "shacl:OwnEntityLabelShape")
    assert shacl == {BML + "Unlabelled"}
