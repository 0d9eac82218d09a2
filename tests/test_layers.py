"""The one-way house: every import in ``bmlkg/`` points down a layer (or stays in its own), and no module of
``bmlkg/`` or ``benchmarks/`` sits in an import circle. Lazy imports inside functions count the same.

The layers are listed once, here, lowest first; ``DESIGN.md`` and the README's architecture paragraph draw
the same picture.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import REPO

#: Lowest first. A module may import modules of its own layer or of a lower one, never of a higher one.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("store", ("bmlkg.store",)),
    ("query", ("bmlkg.query",)),
    ("evidence", ("bmlkg.evidence",)),
    ("differential", ("bmlkg.differential",)),
    ("views", ("bmlkg.views",)),
    ("export", ("bmlkg.export",)),
    ("checks", ("bmlkg.checks",)),
    ("facade", ("bmlkg.api", "bmlkg.build")),
    ("cli", ("bmlkg.cli", "bmlkg.__main__", "bmlkg")),
)


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(root: Path, path: Path) -> set[str]:
    """Every module of the package under ``root`` that ``path`` imports (top level or inside a function)."""
    me = module_name(root, path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # `from . import x` / `from .pkg import mod` name modules too
            found.update(f"{target}.{a.name}" for a in node.names)
    known = {module_name(root, p) for p in root.rglob("*.py")}
    return {m for m in found if m in known and m != me}


def graph_of(root: Path) -> dict[str, set[str]]:
    return {module_name(root, p): imports_of(root, p) for p in sorted(root.rglob("*.py"))}


def layer_of(module: str, layers=LAYERS) -> int:
    best, rank = -1, None
    for i, (_name, prefixes) in enumerate(layers):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), i
    if rank is None:
        raise AssertionError(f"{module} belongs to no layer: add it to LAYERS in tests/test_layers.py")
    return rank


def upward_imports(graph: dict[str, set[str]], layers=LAYERS) -> list[str]:
    bad = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            # importing a package runs its __init__; a module's own package chain is not an "import" of it
            if module.startswith(target + "."):
                continue
            if layer_of(target, layers) > layer_of(module, layers):
                bad.append(f"{module} ({layers[layer_of(module, layers)][0]}) imports {target} "
                           f"({layers[layer_of(target, layers)][0]})")
    return bad


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _without_package_inits(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Edges to a package's own ``__init__`` from inside it are the interpreter's, not a design choice."""
    return {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph.items()}


def test_every_module_has_a_layer():
    for module in graph_of(REPO / "bmlkg"):
        layer_of(module)


def test_imports_point_down_only():
    bad = upward_imports(graph_of(REPO / "bmlkg"))
    assert not bad, "imports pointing up a layer:\n" + "\n".join(bad)


@pytest.mark.parametrize("package", ["bmlkg", "benchmarks"])
def test_no_import_circle(package):
    found = circles(_without_package_inits(graph_of(REPO / package)))
    assert not found, f"import circles in {package}/: {found}"


def test_each_capability_folder_says_its_job():
    for folder in ("store", "query", "views", "export", "checks"):
        doc = ast.get_docstring(ast.parse((REPO / "bmlkg" / folder / "__init__.py").read_text()))
        assert doc and "import" in doc.lower(), f"bmlkg/{folder}/__init__.py must say its job and what it may import"


def test_the_checker_finds_an_upward_import_and_a_circle(tmp_path):
    pkg = tmp_path / "bmlkg"
    (pkg / "store").mkdir(parents=True)
    (pkg / "query").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "store" / "__init__.py").write_text("")
    (pkg / "query" / "__init__.py").write_text("")
    (pkg / "store" / "graph.py").write_text("def f():\n    from ..query.engines import run\n")
    (pkg / "query" / "engines.py").write_text("from ..store import graph\n")
    graph = graph_of(pkg)
    assert upward_imports(graph) == ["bmlkg.store.graph (store) imports bmlkg.query.engines (query)"]
    assert circles(_without_package_inits(graph)) == [["bmlkg.query.engines", "bmlkg.store.graph"]]


def test_the_architecture_page_shows_every_module():
    """docs/architecture.md draws the tree: every module and folder of bmlkg/ is named in it."""
    page = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    root = REPO / "bmlkg"
    missing = sorted(
        str(p.relative_to(root)) for p in root.rglob("*.py")
        if p.name != "__init__.py" and p.name not in page
    )
    missing += sorted(f"{d.name}/" for d in root.iterdir()
                      if d.is_dir() and (d / "__init__.py").exists() and f"{d.name}/" not in page)
    assert not missing, f"docs/architecture.md does not show: {missing}"
