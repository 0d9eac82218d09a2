"""Layer 1, the ground floor: the store.

Loading the ontology sources (with their one-line errors), the triples and the Oxigraph index over them,
labels, the name index and term resolution, the vocabulary, the package's paths and error types, and
atomic file writing. Imports nothing from bmlkg outside this folder.
"""
