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
