"""Every path and file name the package uses, spelled once."""

from __future__ import annotations

from pathlib import Path

VERSION = "0.1.0"


def _package_dir(package: str, repo_fallback: str) -> Path:
    """Folder of a data package (``bmlkg.ontology``, ``bmlkg.queries``) in a wheel or a checkout.

    Found by path, never by import: a data package holds no Python, and importing it would only add a
    module to ``sys.modules`` for files that are read as data.
    """
    here = Path(__file__).resolve().parent.parent  # the bmlkg package folder (this file is bmlkg/store/)
    inside = here / package.split(".", 1)[1].replace(".", "/")  # the wheel: bmlkg/ontology, bmlkg/queries
    if inside.is_dir():
        return inside
    return here.parent / repo_fallback  # a checkout: ontology/, queries/ beside the package


#: The packaged ontology sources (``ontology/`` in the repository, ``bmlkg/ontology`` in the wheel).
ONTOLOGY_DIR = _package_dir("bmlkg.ontology", "ontology")
#: The packaged SPARQL library (``queries/`` in the repository).
QUERIES_DIR = _package_dir("bmlkg.queries", "queries")
QC_QUERIES_DIR = QUERIES_DIR / "qc"

SHAPES_FILE = "shapes.ttl"
MAPPINGS_SUFFIX = ".sssom.tsv"
#: Source file suffixes read by the loader, with their pyoxigraph format names.
SOURCE_SUFFIXES = {".ttl": "TURTLE", ".nt": "N_TRIPLES", ".owl": "RDF_XML", ".rdf": "RDF_XML", ".jsonld": "JSON_LD"}

#: Default output folder of ``bmlkg build``: ``exports/`` in the current directory.
DEFAULT_OUT = Path("exports")
EXPORT_STEM = "bmlkg"
HTML_DIR = "html"
GRAPH_DIR = "graph"
MANIFEST = "MANIFEST.json"
JSONLD_CONTEXT = "bmlkg.context.jsonld"
