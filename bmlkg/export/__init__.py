"""Layer 3 capability: the exports.

Deterministic RDF (Turtle, RDF/XML, JSON-LD, N-Triples, with the manifest; ``rdf``) and the property-graph
formats (GraphML, Neo4j CSV, KGX TSV; ``graphformats``, which reads the views' graph model). May import
the store, the query layer and :mod:`bmlkg.views`.
"""
