"""The facade: :func:`load` and :class:`KnowledgeGraph`, the one object users call.

``KnowledgeGraph`` is the store (:class:`bmlkg.store.graph.Store`: triples, labels, term resolution) plus
one thin method per capability (``.query``, ``.differential``, ``.compare``, ``.evidence``, ``.render``,
``.export``, ``.check``). The work lives in the capability modules below; this module only delegates, so
it is the one place (with the CLI and the build) allowed to import every capability. Nothing below it
imports it.
"""

from __future__ import annotations

from pathlib import Path

from .checks.qc import run_checks
from .differential import compare, differential
from .evidence import evidence
from .export.rdf import export
from .query.engines import query_rows
from .store.graph import Store
from .store.graph import load as _load_store
from .views.render import render


class KnowledgeGraph(Store):
    """The loaded graph with its capabilities. Build it with :func:`bmlkg.load`."""

    def check(self, options=None):
        """Run SHACL, QC queries and HermiT; returns a :class:`bmlkg.checks.qc.Report`."""
        return run_checks(self, options)

    def export(self, out_dir: Path | str) -> list[Path]:
        """Write the RDF exports (all formats, context, mappings, README, MANIFEST) atomically."""
        return export(self, out_dir)

    def query(self, name: str, /, *, engine: str | None = None, endpoint: str | None = None,
              timeout: float | None = None, **params) -> list[dict]:
        """Run the library query ``name`` (see ``bmlkg queries``) with ``params`` bound; plain rows.

        ``engine`` is ``"oxigraph"`` (default) or ``"rdflib"``; ``endpoint`` a SPARQL endpoint URL;
        ``timeout`` seconds before the query is stopped. Delegates to :mod:`bmlkg.query.engines`.
        """
        return query_rows(self, name, engine=engine, endpoint=endpoint, timeout=timeout, **params)

    def differential(self, findings, context=(), absent=(), *, top: int | None = None, strict: bool = False):
        """Rank the causes of the typed ``findings`` in ``context`` (``absent`` ones count against).

        Returns a :class:`bmlkg.differential.DifferentialResult` (``.as_dict()``, ``.rows()``).
        """
        return differential(self, findings, context=context, absent=absent, top=top, strict=strict)

    def compare(self, a: str, b: str):
        """What distinguishes two causes, side by side, with sources (:class:`bmlkg.differential.CompareResult`)."""
        return compare(self, a, b)

    def evidence(self, term: str, design: str | None = None, min_n: int | None = None,
                 guideline: str | None = None, year: str | int | None = None, certainty: str | None = None):
        """Every claim about a term or source, strongest design first (:class:`bmlkg.evidence.EvidenceResult`);
        ``certainty`` keeps a derived level (``"low"``) or a reported certainty (``"low certainty"``)."""
        return evidence(self, term, design=design, min_n=min_n, guideline=guideline, year=year,
                        certainty=certainty)

    def render(self, view: str, out: Path | str | None = None, **args) -> Path:
        """Render one teaching view to a self-contained, offline HTML page; returns its path.

        ``view`` is one of :data:`bmlkg.views.viewdata.VIEWS` (ontology, causes, mechanism, differential,
        treatment, term, source); ``args`` its parameters (``term=``, ``depth=``, ``treatment=``,
        ``source=``, ``finding=``, ``context=``, ``absent=``). Delegates to :mod:`bmlkg.views.render`.
        """
        return render(self, view, out, **args)


def load(source: Path | str | None = None) -> KnowledgeGraph:
    """Load every source file of ``source`` (default: the packaged ontology) into one graph.

    Raises :class:`bmlkg.InputError` naming the file and line for any bad input.
    """
    return _load_store(source, cls=KnowledgeGraph)
