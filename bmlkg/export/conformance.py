"""The conformance manifest: every library query with its example parameters bound, its expected results, and a
W3C test manifest (the rdf-tests / SPARQL 1.1 test-suite vocabulary), so any SPARQL engine can check the
library without Python.

``exports/queries/`` holds, for each library query ``NAME`` (``queries/*.rq`` and the QC checks):

* ``NAME.rq``: the query text with the header's example values in its ``VALUES`` blocks (and the default
  page for queries that take ``limit``/``offset``);
* ``NAME.srj``: the expected results in SPARQL 1.1 Query Results JSON, as the embedded engine answers on the
  exported graph ``../bmlkg.nt`` (the reasoned release), in the query's ``ORDER BY`` order, with the parts of
  ``GROUP_CONCAT`` values sorted;
* ``manifest.ttl``: one ``mf:QueryEvaluationTest`` per query (``qt:query``, ``qt:data <../bmlkg.nt>``,
  ``mf:result``).

Compare an engine's answer by value, as bmlkg does: numbers by value (``6.00`` = ``6``), ``xsd:string`` and
plain literals alike, ``xsd:boolean`` ``1``/``true`` alike, the parts of a ``GROUP_CONCAT`` as a sorted list
(SPARQL leaves their order open), and rows that tie under the ``ORDER BY`` in any order.

The files are deterministic (same graph, same queries: same bytes); :func:`conformance_files` hands them to
:func:`bmlkg.export.rdf.export`, which writes them with the other exports and lists them in ``MANIFEST.json``.
"""

from __future__ import annotations

import json

from ..query import engines as lib
from ..query.results import Cell, Result
from ..store.errors import InputError

FOLDER = "queries"
MANIFEST_NAME = "manifest.ttl"
DATA = "../bmlkg.nt"
SRJ = "application/sparql-results+json"


def _cell_json(cell: Cell) -> dict:
    out = {"type": cell.type, "value": cell.value}
    if cell.type == "literal":
        if cell.lang:
            out["xml:lang"] = cell.lang
        elif cell.datatype and cell.datatype != "http://www.w3.org/2001/XMLSchema#string":
            out["datatype"] = cell.datatype
    return out


def results_json(result: Result) -> bytes:
    """SPARQL 1.1 Query Results JSON, one binding a line, keys sorted: byte-stable for the same answer."""
    if result.boolean is not None:
        return (json.dumps({"head": {}, "boolean": result.boolean}) + "\n").encode("utf-8")
    lines = [",\n".join(json.dumps({v: _cell_json(row[v]) for v in result.variables if v in row},
                                   ensure_ascii=False, sort_keys=True) for row in result.bindings)]
    head = json.dumps({"vars": list(result.variables)}, ensure_ascii=False)
    body = f'{{"head": {head},\n "results": {{"bindings": [\n{lines[0]}\n]}}}}\n' if result.bindings else \
        f'{{"head": {head},\n "results": {{"bindings": []}}}}\n'
    return body.encode("utf-8")


def _turtle_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def manifest_ttl(entries: list[tuple[str, str]]) -> bytes:
    """The W3C test manifest for ``entries`` (query name, summary), in catalogue order."""
    lines = [
        "@prefix rdf:  <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .",
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
        "@prefix mf:   <http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#> .",
        "@prefix qt:   <http://www.w3.org/2001/sw/DataAccess/tests/test-query#> .",
        "",
        "<>  rdf:type mf:Manifest ;",
        '    rdfs:label "bmlkg query library: conformance tests" ;',
        "    rdfs:comment " + _turtle_string(
            "Each library query with its example parameters bound, run on ../bmlkg.nt. Compare by value: "
            "numbers by value, xsd:string and plain literals alike, GROUP_CONCAT parts as a sorted list, "
            "rows tied under ORDER BY in any order.") + " ;",
        "    mf:entries (",
        *[f"        <#{name}>" for name, _ in entries],
        "    ) .",
        "",
    ]
    for name, summary in entries:
        lines += [
            f"<#{name}> rdf:type mf:QueryEvaluationTest ;",
            f"    mf:name {_turtle_string(name)} ;",
            f"    rdfs:comment {_turtle_string(summary)} ;",
            f"    mf:action [ qt:query <{name}.rq> ; qt:data <{DATA}> ] ;",
            f"    mf:result <{name}.srj> .",
            "",
        ]
    return "\n".join(lines).encode("utf-8")


def conformance_files(kg) -> dict[str, tuple[bytes, str, str]]:
    """Relative file name → (bytes, media type, description) for the export (see the module docstring).

    Only ``manifest.ttl`` carries a description (one line in the exports README); the query and result
    files are listed in ``MANIFEST.json`` with the rest.

    A query whose example parameters name a term the graph lacks (a graph built from other sources with
    ``--source``) is left out of the manifest, and the manifest's description says which; for the curated
    graph every library query is in it (``tests/test_conformance.py``).
    """
    files: dict[str, tuple[bytes, str, str]] = {}
    entries = []
    left_out = []
    for query in lib.catalogue():
        params = lib.example_params(query)
        try:
            text = lib.bind(kg, query, params)
        except InputError:
            left_out.append(query.name)
            continue
        result = lib.run(kg, query.name, params)
        files[f"{FOLDER}/{query.name}.rq"] = (text.encode("utf-8"), "application/sparql-query", "")
        files[f"{FOLDER}/{query.name}.srj"] = (results_json(result), SRJ, "")
        entries.append((query.name, query.summary))
    files[f"{FOLDER}/{MANIFEST_NAME}"] = (
        manifest_ttl(entries), "text/turtle",
        f"W3C test manifest (mf:QueryEvaluationTest) for the {len(entries)} library queries: "
        f"`{FOLDER}/NAME.rq` with example parameters bound, expected results `{FOLDER}/NAME.srj`, data `bmlkg.nt`"
        + (f" ({len(left_out)} left out: their example parameters name terms this graph lacks: "
           f"{', '.join(left_out)})" if left_out else ""))
    return files
