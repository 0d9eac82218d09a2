"""The classroom page: one offline HTML file that computes in the browser with the library queries.

The page holds the graph as N-Triples and Oxigraph's WebAssembly build (npm ``oxigraph``, vendored in
``vendor/oxigraph/`` with its licence and digests), both gzip-compressed and base64-encoded; the page
decodes them with ``DecompressionStream`` and runs the same ``queries/*.rq`` texts the command line runs.
What both sides must agree on (spellings, text-input rules, prefixes, where each parameter's ``VALUES``
block is) is written into the page as data from the Python side, never written twice by hand.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

VENDOR = Path(__file__).resolve().parent / "vendor" / "oxigraph"
SCRIPTS = ("classroom-engine.js", "classroom-difflib.js", "classroom-dx.js", "classroom-ui.js")
WASM_DEFAULT = "module_or_path = new URL('web_bg.wasm', import.meta.url);"
WASM_REPLACED = "throw new Error('bmlkg: the WebAssembly bytes are inlined and passed to init');"
FILENAME = "classroom.html"


def vendored_digests() -> dict[str, str]:
    """File name -> SHA-256 recorded in ``SHA256SUMS`` when the files were vendored."""
    out = {}
    for line in (VENDOR / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split()
        out[name] = digest
    return out


def oxigraph_version() -> str:
    return (VENDOR / "VERSION").read_text(encoding="utf-8").strip()


def _gz64(data: bytes) -> str:
    return base64.b64encode(gzip.compress(data, compresslevel=9, mtime=0)).decode("ascii")


@lru_cache(maxsize=1)
def _wasm() -> str:
    data = (VENDOR / "web_bg.wasm").read_bytes()
    if hashlib.sha256(data).hexdigest() != vendored_digests()["web_bg.wasm"]:
        raise RuntimeError(f"{VENDOR / 'web_bg.wasm'}: SHA-256 differs from SHA256SUMS")
    return _gz64(data)


def module_script(templates: Path) -> str:
    """web.js with its fetch default replaced, then bmlkg's scripts, as one ES module."""
    web = (VENDOR / "web.js").read_text(encoding="utf-8")
    if web.count(WASM_DEFAULT) != 1:
        raise RuntimeError(f"{VENDOR / 'web.js'}: the wasm URL default was not found once; re-check the vendored file")
    parts = [web.replace(WASM_DEFAULT, WASM_REPLACED)]
    parts += [(templates / name).read_text(encoding="utf-8") for name in SCRIPTS]
    script = "\n".join(parts)
    if re.search(r"</script", script, re.IGNORECASE):
        raise RuntimeError("a script holds '</script'; it cannot be inlined")
    return script
