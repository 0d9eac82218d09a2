"""OWL reasoning with HermiT through owlready2: the only module that imports owlready2.

The graph goes to owlready2 as N-Triples (owlready2 reads no Turtle) in a fresh ``World``; HermiT checks
consistency, lists unsatisfiable classes and infers subclass links. Every failure becomes a
:class:`~bmlkg.errors.ReasonerError` whose message names the problem (no Java, out of memory, timeout,
inconsistent ontology) instead of owlready2's empty one.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..store.errors import InputError, ReasonerError
from ..store.limits import check_seconds
from ..store.procs import Janitor, die_with_parent_fn
from ..store.graph import Store

RDFS_SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
OWL_NOTHING = "http://www.w3.org/2002/07/owl#Nothing"
OWL_THING = "http://www.w3.org/2002/07/owl#Thing"
DEFAULT_MEMORY_MB = 2000
DEFAULT_TIMEOUT_S = 300.0


@dataclass
class ReasonerResult:
    """What HermiT concluded."""

    consistent: bool
    unsatisfiable: list[str] = field(default_factory=list)
    inferred_subclass: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


def java_path() -> str | None:
    """The java executable owlready2 will use, or None."""
    import owlready2

    configured = getattr(owlready2, "JAVA_EXE", None) or "java"
    return shutil.which(configured) or (configured if os.path.isfile(configured) else None)


def _asserted_subclass(kg: Store) -> set[tuple[str, str]]:
    rows = kg.select(
        f"SELECT ?a ?b WHERE {{ ?a <{RDFS_SUBCLASS}> ?b FILTER(isIRI(?a) && isIRI(?b)) }}"
    )
    return {(r["a"], r["b"]) for r in rows}


MIN_MEMORY_MB = 64


def physical_memory_mb() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    except (OSError, ValueError, AttributeError):
        return None


def check_limits(memory_mb, timeout_s) -> None:
    """Refuse a Java heap or a time limit HermiT cannot run with (before Java is started)."""
    if isinstance(memory_mb, bool) or not isinstance(memory_mb, int):
        raise InputError(f"--reasoner-memory: {memory_mb!r} is not a whole number of MB")
    total = physical_memory_mb()
    if memory_mb < MIN_MEMORY_MB:
        raise InputError(f"--reasoner-memory: {memory_mb} MB is too little for HermiT; give at least {MIN_MEMORY_MB}")
    if total is not None and memory_mb > total:
        raise InputError(f"--reasoner-memory: {memory_mb} MB is more than this machine has ({total} MB); "
                         "give less")
    check_seconds("--reasoner-timeout", timeout_s)


def reason(kg: Store, memory_mb: int = DEFAULT_MEMORY_MB, timeout_s: float = DEFAULT_TIMEOUT_S) -> ReasonerResult:
    """Run HermiT over the graph. Raises ReasonerError when HermiT cannot run or the ontology is inconsistent."""
    import time

    import owlready2
    from owlready2.base import OwlReadyInconsistentOntologyError

    if java_path() is None:
        raise ReasonerError(
            "HermiT needs Java, and no 'java' executable was found on PATH "
            "(install a Java runtime, e.g. apt-get install default-jre-headless)"
        )
    from ..store.literals import ill_typed

    check_limits(memory_mb, timeout_s)
    started = time.monotonic()
    bad = {t for t, _reason in ill_typed(kg.triples)}  # reported by the literal check; HermiT would abort on them
    data = ox.serialize([t for t in kg.triples if t not in bad] if bad else kg.triples,
                        format=ox.RdfFormat.N_TRIPLES)
    world = owlready2.World()
    try:
        onto = world.get_ontology("https://w3id.org/bmlkg/bmlkg.owl")
        onto.load(fileobj=io.BytesIO(data), format="ntriples")
    except Exception as exc:  # owlready2 raises plain exceptions for unreadable input
        raise ReasonerError(f"owlready2 could not read the ontology: {exc}") from exc

    previous_memory = owlready2.reasoning.JAVA_MEMORY
    owlready2.reasoning.JAVA_MEMORY = int(memory_mb)
    previous_kargs = dict(owlready2.reasoning._subprocess_kargs)
    previous_tmp = tempfile.tempdir
    # owlready2 writes the ontology to a temporary file and runs Java on it: both live in a folder of ours that
    # a janitor removes even when bmlkg is killed, and Java dies with bmlkg (never left running).
    folder = Path(tempfile.mkdtemp(prefix="bmlkg-hermit-"))
    janitor = Janitor(folder)
    timer = _Killer(timeout_s)
    try:
        tempfile.tempdir = str(folder)
        preexec = die_with_parent_fn()
        if preexec is not None:
            owlready2.reasoning._subprocess_kargs["preexec_fn"] = preexec
        timer.start()
        with onto:
            owlready2.sync_reasoner_hermit(
                world, infer_property_values=False, debug=0, keep_tmp_file=False
            )
        if timer.fired:  # the limit passed before Java started or while it finished: the limit holds
            raise ReasonerError(f"HermiT did not finish within {timeout_s:g} s (raise --reasoner-timeout)")
    except OwlReadyInconsistentOntologyError:
        return ReasonerResult(consistent=False, seconds=time.monotonic() - started)
    except Exception as exc:
        if timer.fired:
            raise ReasonerError(f"HermiT did not finish within {timeout_s:g} s (raise --reasoner-timeout)") from None
        if isinstance(exc, ReasonerError):
            raise
        text = str(exc)
        if "Could not reserve" in text or "Invalid maximum heap size" in text or \
                "Could not create the Java Virtual Machine" in text and "heap" in text.lower():
            raise ReasonerError(
                f"Java could not reserve a heap of {memory_mb} MB on this machine (lower --reasoner-memory)"
            ) from None
        if "OutOfMemoryError" in text or "Java heap space" in text or "Too small maximum heap" in text:
            raise ReasonerError(
                f"HermiT ran out of Java memory with -Xmx{memory_mb}M (raise --reasoner-memory)"
            ) from None
        if isinstance(exc, (FileNotFoundError, PermissionError)):
            raise ReasonerError(f"could not start Java for HermiT: {exc}") from None
        first = next((line for line in text.splitlines() if line.strip()), type(exc).__name__)
        raise ReasonerError(f"HermiT failed: {first[:300]}") from None
    finally:
        timer.cancel()
        tempfile.tempdir = previous_tmp
        owlready2.reasoning.JAVA_MEMORY = previous_memory
        owlready2.reasoning._subprocess_kargs.clear()
        owlready2.reasoning._subprocess_kargs.update(previous_kargs)
        stopping = sys.exc_info()[1]
        if stopping is not None and not isinstance(stopping, Exception):
            _kill_java_children()  # stopped early (SIGTERM, Ctrl-C): Java must not outlive the run
        janitor.close()

    unsat = sorted(
        c.iri for c in world.inconsistent_classes() if c.iri != OWL_NOTHING
    )
    asserted = _asserted_subclass(kg)
    inferred: set[tuple[str, str]] = set()
    for cls in onto.classes():
        for parent in cls.is_a:
            iri = getattr(parent, "iri", None)
            if iri and iri not in (OWL_THING,) and (cls.iri, iri) not in asserted and cls.iri != iri:
                inferred.add((cls.iri, iri))
    world.close()
    return ReasonerResult(
        consistent=True,
        unsatisfiable=unsat,
        inferred_subclass=sorted(inferred),
        seconds=time.monotonic() - started,
    )


def materialise(kg: Store, result: ReasonerResult) -> int:
    """Add HermiT's inferred subclass links to the graph (the ODK habit: release files are reasoned)."""
    sub = ox.NamedNode(RDFS_SUBCLASS)
    return kg.add_triples(
        ox.Triple(ox.NamedNode(a), sub, ox.NamedNode(b)) for a, b in result.inferred_subclass
    )


class _Killer:
    """Kill owlready2's Java child process when the timeout passes (owlready2 has no timeout of its own).

    Once fired it keeps killing until cancelled: a Java started after the deadline is stopped too.
    """

    def __init__(self, timeout_s: float):
        self.timeout_s = timeout_s
        self.fired = False
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="bmlkg-hermit-killer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        if self._done.wait(self.timeout_s):
            return
        self.fired = True
        while not self._done.is_set():
            _kill_java_children()
            self._done.wait(0.1)

    def cancel(self) -> None:
        self._done.set()


def _kill_java_children() -> None:
    """Kill the java children of this process, found through /proc (psutil is not a dependency)."""
    me = os.getpid()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == me:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    if b"java" in handle.read():
                        os.kill(int(pid), 9)
        except (OSError, IndexError, ValueError):
            continue
