"""Layer 3 capability: the checks.

SHACL, the QC queries and the release check (``qc``), HermiT through owlready2 (``reasoning``) and the
comparison of two releases (``diff``). May import every layer below the facade except the CLI and
:mod:`bmlkg.api`.
"""
