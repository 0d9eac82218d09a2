"""bmlkg: an OWL ontology and RDF knowledge graph of knee bone marrow lesions and bone marrow oedema.

>>> import bmlkg
>>> kg = bmlkg.load()                      # the packaged ontology, one in-memory graph
>>> kg.counts()["classes"] > 0
True

The public names are listed in ``__all__``; modules behind them are private.
"""

from .store.constants import VERSION as __version__
from .store.errors import (
    BmlkgError,
    EndpointError,
    EndpointTimeout,
    EnvironmentProblem,
    InputError,
    QueryError,
    QueryTimeout,
    ReasonerError,
)
from .api import KnowledgeGraph, load

__all__ = [
    "__version__",
    "load",
    "KnowledgeGraph",
    "BmlkgError",
    "InputError",
    "EnvironmentProblem",
    "ReasonerError",
    "QueryError",
    "QueryTimeout",
    "EndpointError",
    "EndpointTimeout",
]
