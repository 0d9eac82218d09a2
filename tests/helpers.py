"""Helpers for tests that build small source folders from the real schema plus fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCHEMA_FILES = ("bmlkg.ttl", "shapes.ttl", "sources.ttl", "dx-scoring.ttl")
PREFIXES = """@prefix bml: <https://w3id.org/bmlkg/> .
@prefix claim: <https://w3id.org/bmlkg/claim/> .
@prefix src: <https://w3id.org/bmlkg/source/> .
@prefix obo: <http://purl.obolibrary.org/obo/> .
@prefix oboInOwl: <http://www.geneontology.org/formats/oboInOwl#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix bibo: <http://purl.org/ontology/bibo/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def mini_source(folder: Path, extra_ttl: str = "", header_edit=None) -> Path:
    """A source folder: the real schema, seed sources and shapes, the fixture module, and ``extra_ttl``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in SCHEMA_FILES:
        shutil.copy(REPO / "ontology" / name, folder / name)
    if header_edit is not None:
        path = folder / "bmlkg.ttl"
        path.write_text(header_edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    shutil.copy(FIXTURES / "mini.ttl", folder / "mini.ttl")
    if extra_ttl:
        (folder / "extra.ttl").write_text(PREFIXES + extra_ttl, encoding="utf-8")
    return folder
