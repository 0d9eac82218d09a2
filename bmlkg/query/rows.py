"""Shared plumbing of the capabilities: run a library query and get plain rows; the sources of claims.

The evidence explorer, the differential and the views all stand on this module, so none of them borrows
plumbing from another capability. It may import only the query layer and the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..store.vocab import curie
from .engines import query_rows


@dataclass
class Source:
    iri: str
    label: str | None = None
    title: str | None = None
    doi: str | None = None
    year: str | None = None
    journal: str | None = None
    kind: str | None = None

    def ref(self) -> str:
        """Short reference for tables: the DOI when there is one, else the CURIE."""
        return f"doi:{self.doi}" if self.doi else curie(self.iri)



# -- running library queries -------------------------------------------------------------------------
def run(kg, name: str, **params: Any) -> list[dict]:
    """Rows of library query ``name`` (via :mod:`bmlkg.query.engines`, parameters bound as VALUES).

    An empty list binds nothing (UNDEF; the dx and evidence queries read an unset repeatable parameter as
    "no values"); decimals come back as floats so results go straight to JSON.
    """
    bound = {k: (None if isinstance(v, (list, tuple)) and not v else v) for k, v in params.items()}
    rows = query_rows(kg, name, **bound)
    return [{k: float(v) if isinstance(v, Decimal) else v for k, v in row.items()} for row in rows]


def claim_sources(kg, claims: list[str]) -> dict[str, list[Source]]:
    """Claim IRI → its sources (papers first, seed articles last)."""
    out: dict[str, list[Source]] = {c: [] for c in claims}
    if not claims:
        return out
    for row in run(kg, "evidence-claim-sources", claim=sorted(set(claims))):
        out.setdefault(row["claim"], []).append(Source(
            iri=row["source"], label=row.get("sourceLabel"), title=row.get("title"), doi=row.get("doi"),
            year=row.get("year"), journal=row.get("journal"), kind=row.get("kind"),
        ))
    return out
