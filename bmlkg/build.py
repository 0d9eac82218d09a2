"""The main job: load, check, reason, export, render — with per-stage timings for the summary and benchmarks."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .checks.qc import CheckOptions, Report, run_checks
from .store.constants import DEFAULT_OUT, HTML_DIR, MANIFEST
from .store.errors import ReasonerError
from .api import KnowledgeGraph, load


@dataclass
class BuildOptions:
    source: Path | None = None
    out: Path = DEFAULT_OUT
    render: bool = True
    fail_on: str = "ERROR"
    force: bool = False
    check: CheckOptions = field(default_factory=CheckOptions)


@dataclass
class BuildResult:
    kg: KnowledgeGraph
    report: Report
    stages: dict[str, float] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)
    html: list[Path] = field(default_factory=list)
    inferred: int = 0
    exported: bool = False
    wall_s: float = 0.0

    @property
    def total_s(self) -> float:
        """Wall-clock time of the whole job (stages overlap: HermiT runs beside SHACL and QC)."""
        return self.wall_s


def check(options: BuildOptions, progress: Callable[[str], None] | None = None) -> BuildResult:
    """Load and run the checks only (``bmlkg check``)."""
    say = progress or (lambda _m: None)
    stages: dict[str, float] = {}
    started = t = time.monotonic()
    say("loading sources")
    kg = load(options.source)
    stages["load"] = time.monotonic() - t
    report = run_checks(kg, options.check, progress=say)
    for kind, stage in (("shacl", "shacl"), ("qc", "qc"), ("reasoner", "reason")):
        ran = [r.seconds for r in report.results if r.kind == kind]
        if ran:
            stages[stage] = sum(ran)
    return BuildResult(kg=kg, report=report, stages=stages, wall_s=time.monotonic() - started)


def build(options: BuildOptions, progress: Callable[[str], None] | None = None) -> BuildResult:
    """Check, then (only when the checks pass at ``fail_on``) materialise inferences, export and render.

    A reasoner that could not run raises :class:`ReasonerError`: nothing is exported then.
    """
    from .checks.reasoning import materialise
    from .export.rdf import export_contents
    from .store.fileio import RECORD, check_out_folder, check_release_folder, publish

    say = progress or (lambda _m: None)
    started = time.monotonic()
    out = Path(options.out)
    # an --out that can never hold the release fails before the checks run
    check_out_folder(out, create=False)
    check_release_folder(out, (MANIFEST, f"{HTML_DIR}/{RECORD}"), force=options.force)
    result = check(options, progress)
    broken = [r for r in result.report.not_run if r.kind == "reasoner"]
    if broken:
        raise ReasonerError(broken[0].error or "reasoner did not run")
    if result.report.failed(options.fail_on):
        return result
    if result.report.reasoner is not None:
        result.inferred = materialise(result.kg, result.report.reasoner)
    t = time.monotonic()
    say("exporting RDF")
    extra = _graph_format_files(result.kg)
    extra.update(_conformance_files(result.kg))
    parts = {MANIFEST: export_contents(result.kg, extra_files=extra, progress=say)}
    result.stages["export"] = time.monotonic() - t
    if options.render:
        t = time.monotonic()
        say("rendering HTML views")
        parts[f"{HTML_DIR}/{RECORD}"] = {f"{HTML_DIR}/{name}": data for name, data in _pages(result.kg, say).items()}
        result.stages["render"] = time.monotonic() - t
    t = time.monotonic()
    say(f"writing the release into {out}")
    written = publish(out, parts, force=options.force)
    html_prefix = out / HTML_DIR
    result.written = [p for p in written if html_prefix not in p.parents]
    result.html = [p for p in written if html_prefix in p.parents and p.name != RECORD]
    result.stages["export"] += time.monotonic() - t
    result.exported = True
    result.wall_s = time.monotonic() - started
    return result


def _graph_format_files(kg: KnowledgeGraph) -> dict:
    """Graph-format exports (GraphML, Neo4j CSV, KGX TSV), written by export() beside the RDF files."""
    from .export.graphformats import graph_format_files

    return graph_format_files(kg)


def _conformance_files(kg: KnowledgeGraph) -> dict:
    """The query conformance manifest (``queries/``: bound queries, expected results, manifest.ttl)."""
    from .export.conformance import conformance_files

    return conformance_files(kg)


def _pages(kg: KnowledgeGraph, say: Callable[[str], None]) -> dict[str, bytes]:
    """The standard teaching views, their index and the ontology documentation (``exports/html/``)."""
    from .views.render import standard_pages

    return standard_pages(kg, progress=say)
