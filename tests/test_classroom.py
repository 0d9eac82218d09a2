"""The classroom page without a browser: the vendored Oxigraph build, the rendered file, the render command."""

from __future__ import annotations

import hashlib

from bmlkg.views import classroom

#: npm `oxigraph` 0.5.11 (`npm pack oxigraph@0.5.11`), as published.
NPM_DIGESTS = {
    "web.js": "2fcfdcadc79c9146cee98028a273aebc93df3282eb0299c248595bc529deca41",
    "web_bg.wasm": "b95b15accb6b789667b8d8b0b8f139d5de588e572499672ff37ce9ba01c4a428",
    "package.json": "152d3a94c1e5babae44b572aadee981bcabb7065725f2fd79ee7aa8dec3a6ca6",
}


def test_vendored_oxigraph_is_the_published_package():
    folder = classroom.VENDOR
    for name, digest in NPM_DIGESTS.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    assert classroom.vendored_digests() == NPM_DIGESTS
    assert classroom.oxigraph_version() == "0.5.11"
    assert '"version": "0.5.11"' in (folder / "package.json").read_text(encoding="utf-8")
    assert '"license": "MIT OR Apache-2.0"' in (folder / "package.json").read_text(encoding="utf-8")
    assert "Permission is hereby granted" in (folder / "LICENSE-MIT").read_text(encoding="utf-8")
    assert "Apache License" in (folder / "LICENSE-APACHE").read_text(encoding="utf-8")


def test_no_library_query_chains_operators_the_browser_engine_groups_differently():
    """Oxigraph's browser build reads ``a - b + c`` as ``a - (b + c)``: chains must be parenthesised."""
    from bmlkg.query.engines import catalogue

    assert classroom.right_grouping_hazards("SELECT ((?a - ?b + ?c) AS ?x) {}") == ["line 1: ?a - … +"]
    assert classroom.right_grouping_hazards("SELECT (((?a - ?b) + ?c) AS ?x) {}") == []
    assert classroom.right_grouping_hazards("SELECT ((?a / ?b * ?c) AS ?x) {}") == ["line 1: ?a / … *"]
    assert classroom.right_grouping_hazards("SELECT ((-?a + ?b) AS ?x) ?c WHERE { ?s ex:a-b ?o }") == []
    assert classroom.right_grouping_hazards("SELECT ?c { ?c a/rdfs:subClassOf* ?k ; (ex:p|ex:q)/ex:r+ ?o }") == []
    assert classroom.right_grouping_hazards("SELECT ((xsd:integer(?a) / 2 * 3) AS ?x) {}") == ["line 1: ) / … *"]
    hazards = {q.name: classroom.right_grouping_hazards(q.text) for q in catalogue()}
    assert {name: found for name, found in hazards.items() if found} == {}
