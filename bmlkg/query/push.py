"""Upload the graph to a SPARQL Graph Store Protocol endpoint (``bmlkg push``).

:func:`push` uploads the graph as N-Triples to a Graph Store Protocol URL (``PUT`` replaces the target
graph, ``POST`` adds to it). For Oxigraph the store URL is ``http://HOST:PORT/store`` (``?default``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import pyoxigraph as ox

from ..store.errors import InputError

from .remote import N_TRIPLES, _check_status, _split, request


# -- Graph Store Protocol --------------------------------------------------------------------------
@dataclass(frozen=True)
class PushResult:
    url: str
    method: str
    triples: int
    status: int


def store_url(url: str, graph: str | None = None) -> str:
    """The Graph Store Protocol URL: ``url`` as given if it names a graph, else ``?default`` or ``?graph=``."""
    _split(url)
    if "?" in url:
        if graph:
            raise InputError(f"{url}: the URL already names a graph; leave out --graph")
        return url
    if graph:
        try:
            ox.NamedNode(graph)
        except ValueError:
            raise InputError(f"--graph {graph!r} is not a valid IRI") from None
        return f"{url}?graph={quote(graph, safe='')}"
    return f"{url}?default"


def push(triples, url: str, *, graph: str | None = None, replace: bool = True,
         timeout: float | None = None) -> PushResult:
    """Upload ``triples`` (pyoxigraph Triples) as N-Triples: PUT replaces the graph, POST adds to it."""
    target = store_url(url, graph)
    triples = list(triples)
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    method = "PUT" if replace else "POST"
    answer = request(method, target, body=data, timeout=timeout,
                     headers={"Content-Type": N_TRIPLES, "Content-Length": str(len(data))})
    _check_status(target, answer)
    return PushResult(target, method, len(triples), answer.status)
