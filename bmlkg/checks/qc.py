"""Quality checks in the ROBOT ``report`` style: SHACL shapes, QC queries and the HermiT reasoner.

Every check yields findings ``(check, level, entity, property, value, message)`` at level ERROR, WARN or
INFO. A check that could not run is reported as such (``error``) and fails the run whatever ``fail_on`` is.
This is the only module that imports pyshacl.
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import pyoxigraph as ox

from ..query.catalog import discover
from ..query.engines import disarm_rdflib
from ..store.constants import QC_QUERIES_DIR
from ..store.errors import BmlkgError, InputError, QueryError
from ..store.graph import Store, parse_source
from ..store.vocab import curie

LEVELS = ("ERROR", "WARN", "INFO")
FAIL_ON = ("ERROR", "WARN", "INFO", "none")
_SEVERITY = {
    "http://www.w3.org/ns/shacl#Violation": "ERROR",
    "http://www.w3.org/ns/shacl#Warning": "WARN",
    "http://www.w3.org/ns/shacl#Info": "INFO",
}


@dataclass(frozen=True)
class Finding:
    check: str
    level: str
    entity: str
    property: str
    value: str
    message: str


@dataclass
class CheckResult:
    name: str
    kind: str
    level: str
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def ran(self) -> bool:
        return self.error is None


@dataclass
class Report:
    results: list[CheckResult] = field(default_factory=list)
    reasoner: object | None = None  # ReasonerResult when the reasoner ran

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    def by_level(self) -> dict[str, int]:
        counts = {level: 0 for level in LEVELS}
        for f in self.findings:
            counts[f.level] += 1
        return counts

    @property
    def not_run(self) -> list[CheckResult]:
        return [r for r in self.results if not r.ran]

    def worst(self) -> str | None:
        levels = {f.level for f in self.findings}
        return next((level for level in LEVELS if level in levels), None)

    def failed(self, fail_on: str = "ERROR") -> bool:
        """True when a check could not run, or a finding is at ``fail_on`` level or worse."""
        if fail_on not in FAIL_ON:
            raise InputError(f"--fail-on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
        if self.not_run:
            return True
        if fail_on == "none":
            return False
        threshold = LEVELS.index(fail_on)
        return any(LEVELS.index(f.level) <= threshold for f in self.findings)

    def verdict(self, fail_on: str = "ERROR") -> str:
        counts = self.by_level()
        state = "FAILED" if self.failed(fail_on) else "passed"
        extra = f", {len(self.not_run)} check(s) could not run" if self.not_run else ""
        return (f"checks {state}: {counts['ERROR']} error(s), {counts['WARN']} warning(s), "
                f"{counts['INFO']} info{extra} ({len(self.results)} checks)")

    # -- serialisations ------------------------------------------------------------------------
    def to_json(self) -> str:
        doc = {
            "verdict": {"worst": self.worst(), **self.by_level()},
            "checks": [
                {"name": r.name, "kind": r.kind, "level": r.level, "ran": r.ran, "error": r.error,
                 "findings": len(r.findings), "seconds": round(r.seconds, 3)}
                for r in self.results
            ],
            "findings": [asdict(f) for f in self.findings],
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

    def to_tsv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, delimiter="\t", lineterminator="\n")
        writer.writerow(["level", "check", "entity", "property", "value", "message"])
        for r in self.results:
            if r.error:
                writer.writerow(["ERROR", r.name, "", "", "", f"check could not run: {r.error}"])
        for f in self.findings:
            writer.writerow([f.level, f.check, f.entity, f.property, _one_line(f.value), _one_line(f.message)])
        return out.getvalue()

    def to_table(self) -> str:
        lines = []
        for r in self.results:
            if r.error:
                lines.append(f"ERROR  {r.name}: check could not run: {r.error}")
        for f in self.findings:
            what = " ".join(x for x in (curie(f.entity), curie(f.property), _one_line(f.value)[:60]) if x)
            lines.append(f"{f.level:<5}  {f.check}: {what} — {_one_line(f.message)}")
        return "\n".join(lines) + ("\n" if lines else "")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


# -- SHACL ----------------------------------------------------------------------------------------
def run_shacl(kg: Store, shapes_path: Path | None = None) -> CheckResult:
    """Validate the graph against the SHACL shapes; one finding per validation result."""
    import pyshacl
    import rdflib

    start = time.monotonic()
    path = shapes_path or kg.shapes_path
    result = CheckResult("shacl", "shacl", "ERROR")
    try:
        shape_triples = parse_source(path)  # one-line file:line errors for a broken shapes file
        check_shape_queries(path, shape_triples)
        disarm_rdflib()  # pyshacl evaluates SPARQL constraints with rdflib: never SERVICE, never FROM
        shapes = rdflib.Graph().parse(path, format="turtle")
        _conforms, report, _text = pyshacl.validate(
            kg.rdflib_graph(), shacl_graph=shapes, advanced=True, inference="none",
            allow_warnings=True, allow_infos=True,
        )
    except (InputError, QueryError) as exc:
        result.error = str(exc)
        result.seconds = time.monotonic() - start
        return result
    except RecursionError:
        result.error = f"{path}: shapes nested too deeply for pyshacl"
        return result
    except Exception as exc:  # pyshacl raises many types; the check could not run
        result.error = f"pyshacl failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return result
    SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    for res in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        focus = report.value(res, SH.focusNode)
        path_ = report.value(res, SH.resultPath)
        value = report.value(res, SH.value)
        message = report.value(res, SH.resultMessage)
        severity = report.value(res, SH.resultSeverity)
        shape = report.value(res, SH.sourceShape)
        if not isinstance(shape, rdflib.URIRef):  # a property shape: name it by its node shape
            shape = shapes.value(predicate=SH.property, object=shape) or shape
        shape_name = str(shape).rsplit("/", 1)[-1] if isinstance(shape, rdflib.URIRef) else ""
        result.findings.append(Finding(
            check=f"shacl:{shape_name}" if shape_name else "shacl",
            level=_SEVERITY.get(str(severity), "ERROR"),
            entity=str(focus) if focus is not None else "",
            property=str(path_) if isinstance(path_, rdflib.URIRef) else "",
            value=str(value) if value is not None else "",
            message=str(message) if message is not None else "SHACL constraint violated",
        ))
    result.findings.sort(key=lambda f: (f.check, f.entity, f.property, f.value, f.message))
    result.seconds = time.monotonic() - start
    return result


SH = "http://www.w3.org/ns/shacl#"
SHAPE_QUERY_PROPERTIES = {SH + "select": "sh:select", SH + "ask": "sh:ask", SH + "construct": "sh:construct",
                          SH + "update": "sh:update"}


def check_shape_queries(path: Path, triples) -> None:
    """Refuse SHACL-SPARQL shapes whose query is not read-only (SERVICE, FROM, updates) before pyshacl sees
    them, naming the shapes file and line."""
    from ..query.sparqltext import check_read_only

    text = None
    for t in triples:
        prop = SHAPE_QUERY_PROPERTIES.get(t.predicate.value)
        if prop is None or not isinstance(t.object, ox.Literal):
            continue
        query = t.object.value
        try:
            if prop == "sh:update":
                raise QueryError("line 1: sh:update (SPARQL Update in a shape) is refused: checks run read-only")
            check_read_only(query)
        except (InputError, QueryError) as exc:
            if text is None:
                text = path.read_text(encoding="utf-8", errors="replace")
            at = text.find(query)  # a long string literal holds the query verbatim
            if at < 0:
                first = next((line.strip() for line in query.splitlines() if line.strip()), "")
                at = text.find(first) if first else -1
            start_line = text[:at].count("\n") + 1 if at >= 0 else 1
            message = str(exc)
            offset = 1
            if message.startswith("line "):
                number, _, message = message[5:].partition(": ")
                offset = int(number) if number.isdigit() else 1
            raise InputError(f"{path}:{start_line + offset - 1}: {prop} of a shape refused: {message}") from None


# -- typed literals --------------------------------------------------------------------------------
def run_literal_check(kg: Store) -> CheckResult:
    """Typed literals whose lexical form does not fit the datatype: one ERROR finding each, naming the file
    and line (HermiT never sees them; see :mod:`bmlkg.store.literals`)."""
    from ..store.literals import ill_typed, locate

    start = time.monotonic()
    result = CheckResult("ill-typed-literal", "qc", "ERROR")
    paths = [f.path for f in kg.files]
    for triple, why in ill_typed(kg.triples):
        result.findings.append(Finding(
            check="ill-typed-literal", level="ERROR",
            entity=triple.subject.value if not isinstance(triple.subject, ox.BlankNode) else "",
            property=triple.predicate.value, value=triple.object.value[:200],
            message=f"{locate(paths, triple.object)}: {why}",
        ))
    result.findings.sort(key=lambda f: (f.entity, f.property, f.value))
    result.seconds = time.monotonic() - start
    return result


# -- QC queries -----------------------------------------------------------------------------------
def run_qc(kg: Store, folder: Path | None = None) -> list[CheckResult]:
    """Run every ``*-violation.rq`` query; each row is a finding at the query's level."""
    results = []
    for query in discover(folder or QC_QUERIES_DIR):
        if not query.name.endswith("-violation"):
            continue
        start = time.monotonic()
        result = CheckResult(query.name, "qc", query.level or "ERROR")
        try:
            rows = kg.select(query.text)
        except Exception as exc:
            result.error = f"query failed: {exc}"
            results.append(result)
            continue
        for row in rows:
            result.findings.append(Finding(
                check=query.name, level=result.level, entity=row.get("entity", ""),
                property=row.get("property", ""), value=row.get("value", ""), message=query.summary,
            ))
        result.seconds = time.monotonic() - start
        results.append(result)
    return results


# -- reasoner -------------------------------------------------------------------------------------
def run_reasoner(kg: Store, memory_mb: int, timeout_s: float) -> tuple[CheckResult, object | None]:
    from .reasoning import reason

    start = time.monotonic()
    result = CheckResult("reasoner-hermit", "reasoner", "ERROR")
    try:
        outcome = reason(kg, memory_mb=memory_mb, timeout_s=timeout_s)
    except BmlkgError as exc:
        result.error = str(exc)
        return result, None
    if not outcome.consistent:
        result.findings.append(Finding(
            "reasoner-hermit", "ERROR", "https://w3id.org/bmlkg/bmlkg.owl", "", "",
            "HermiT found the ontology inconsistent (no model satisfies its axioms); look for individuals typed "
            "with disjoint classes or two values of a functional property on one claim",
        ))
    for cls in outcome.unsatisfiable:
        result.findings.append(Finding(
            "reasoner-hermit", "ERROR", cls, "", "", "unsatisfiable class: HermiT proves it can have no instances",
        ))
    result.seconds = time.monotonic() - start
    return result, outcome


def run_release_check(kg: Store, manifest_path: Path) -> CheckResult:
    """Compare with a released MANIFEST.json: a changed graph under an unchanged version is an error."""
    from ..export.rdf import canonical_triples, graph_sha256

    start = time.monotonic()
    result = CheckResult("release-version", "release", "ERROR")
    try:
        released = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
        old_version, old_hash = released["versionIRI"], released["graph_sha256"]
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        result.error = f"{manifest_path}: not a readable bmlkg MANIFEST.json ({exc})"
        return result
    new_hash = graph_sha256(canonical_triples(kg))
    version = kg.version_iri()
    if version == old_version and new_hash != old_hash:
        result.findings.append(Finding(
            "release-version", "ERROR", "https://w3id.org/bmlkg/bmlkg.owl",
            "http://www.w3.org/2002/07/owl#versionIRI", version or "",
            f"the graph changed since the release in {manifest_path} but the versionIRI did not: "
            "bump owl:versionInfo and owl:versionIRI in ontology/bmlkg.ttl",
        ))
    result.seconds = time.monotonic() - start
    return result


@dataclass
class CheckOptions:
    """Options for :func:`run_checks` (a small dataclass rather than a dozen keyword arguments)."""

    shacl: bool = True
    qc: bool = True
    reasoner: bool = True
    reasoner_memory_mb: int = 2000
    reasoner_timeout_s: float = 300.0
    qc_folder: Path | None = None
    shapes_path: Path | None = None
    against_manifest: Path | None = None


def run_checks(kg: Store, options: CheckOptions | None = None,
               progress: Callable[[str], None] | None = None) -> Report:
    """Run SHACL, the QC queries and HermiT; return the report (never raises for findings).

    HermiT runs in Java, so it is started first in a background thread and works on the second core while
    SHACL and the QC queries run here; the results are reported in a fixed order whatever finishes first.
    """
    import threading

    opts = options or CheckOptions()
    say = progress or (lambda _m: None)
    report = Report()
    reasoned: dict[str, object] = {}
    worker = None
    if opts.reasoner:
        kg.rdflib_graph()  # build the shared rdflib view before the threads start
        say("OWL reasoning (HermiT) started in the background")

        def reason_job() -> None:
            reasoned["result"], reasoned["outcome"] = run_reasoner(
                kg, opts.reasoner_memory_mb, opts.reasoner_timeout_s)

        worker = threading.Thread(target=reason_job, name="bmlkg-hermit", daemon=True)
        worker.start()
    if opts.shacl:
        say("SHACL shapes (pyshacl)")
        report.results.append(run_shacl(kg, opts.shapes_path))
    if opts.qc:
        say("QC queries")
        report.results.append(run_literal_check(kg))
        report.results.extend(run_qc(kg, opts.qc_folder))
    if opts.against_manifest is not None:
        say(f"release check against {opts.against_manifest}")
        report.results.append(run_release_check(kg, opts.against_manifest))
    if worker is not None:
        say("waiting for HermiT")
        worker.join()
        if "result" not in reasoned:
            failed = CheckResult("reasoner-hermit", "reasoner", "ERROR", error="the reasoner thread died")
            reasoned["result"], reasoned["outcome"] = failed, None
        report.results.append(reasoned["result"])
        report.reasoner = reasoned["outcome"]
    return report
