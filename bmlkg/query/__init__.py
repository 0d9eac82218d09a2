"""Layer 2, the query layer: the SPARQL library and the engines that run it.

Library discovery (``catalog``), safe parameter binding and the read-only check (``sparqltext``), results
(``results``), the embedded and remote engines (``engines``, ``remote``), Graph Store upload (``push``),
the read-only server (``serve``), and the plumbing every capability shares (``rows``: run a library query
and get plain rows; the sources of claims). May import :mod:`bmlkg.store` only.
"""
