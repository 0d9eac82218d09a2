"""Layer 3 capability: the teaching views (offline HTML).

The graph model over the store (``netgraph``), the view definitions (``viewdata``), node layouts
(``layouts``), the ontology documentation (``ontodoc``), the HTML writer (``render``) and its Jinja
``templates/``. May import the store, the query layer, :mod:`bmlkg.evidence` and :mod:`bmlkg.differential`.
"""
