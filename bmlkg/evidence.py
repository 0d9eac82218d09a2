"""Evidence: every claim about a term or a source, with its numbers, design, status and sources.

>>> import bmlkg
>>> kg = bmlkg.load()
>>> result = kg.evidence("10.1186/s13075-025-03644-2")        # a paper, by DOI
>>> sorted({c.sample_size for c in result.claims})
[1145]

The claims come from the library query ``queries/evidence-for-term.rq`` (strongest design first, by
``bml:designRank``; filters bound as VALUES), their sources from ``evidence-claim-sources.rq`` and the
disagreements from ``evidence-conflicts.rq`` (``bml:conflictsWith`` both ways, and the same subject,
predicate and object stated with another direction).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from .query.rows import Source, claim_sources, run
from .store.errors import InputError
from .store.graph import normalise
from .store.vocab import BASE, curie, expand

_DOI = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_YEAR = re.compile(r"^\s*(?:(>=|<=|from|to|since|until|before|after)\s*)?(\d{4})?\s*(?:(-|–|\.\.|to)\s*(\d{4})?)?\s*$")
STUDY_DESIGN = BASE + "StudyDesign"
GUIDELINE_STATUS = BASE + "GuidelineStatus"
REPORTED_CERTAINTY = BASE + "Certainty"
CERTAINTY_LEVEL = BASE + "CertaintyLevel"
SOURCE_KINDS_QUERY = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX bibo: <http://purl.org/ontology/bibo/>
PREFIX bml: <https://w3id.org/bmlkg/>
SELECT ?s ?name WHERE {
  VALUES ?kind { bibo:Document bibo:AcademicArticle bibo:Webpage bml:Study }
  ?s a/rdfs:subClassOf* ?kind .
  { ?s rdfs:label ?name } UNION { ?s dcterms:title ?name } UNION { ?s bml:studyName ?name }
}"""
MEMBERS_QUERY = """
SELECT ?m ?label WHERE {{ ?m a <{cls}> ; <http://www.w3.org/2000/01/rdf-schema#label> ?label }} ORDER BY ?m"""


@dataclass
class Disagreement:
    claim: str
    label: str | None
    kind: str
    direction: str | None
    other_direction: str | None


@dataclass
class EvidenceClaim:
    claim: str
    statement: str | None
    roles: list[str]
    type: str | None
    subject: dict | None
    predicate: dict | None
    object: dict | None
    direction: str | None
    statistic: dict
    sample_size: int | None
    unit: str | None
    mean_age: float | None
    population: str | None
    design: str | None
    design_rank: int | None
    follow_up: dict | None
    evidence_level: str | None
    guideline_status: str | None
    regulatory_status: str | None
    availability: str | None
    certainty: str | None
    derived_certainty: str | None
    derived_certainty_rank: int | None
    strength: str | None
    frequency: str | None
    time_course: str | None
    study: str | None
    qualifiers: list[str]
    years: list[str]
    sources: list[Source] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class EvidenceResult:
    term: dict
    filters: dict
    claims: list[EvidenceClaim]
    disagreements: list[dict]

    def as_dict(self) -> dict:
        return {
            "term": self.term, "filters": self.filters, "count": len(self.claims),
            "claims": [c.as_dict() for c in self.claims], "disagreements": self.disagreements,
        }

    def rows(self) -> list[dict]:
        """One flat row per claim (pandas-friendly)."""
        out = []
        for c in self.claims:
            row = {k: v for k, v in c.as_dict().items() if k not in ("sources", "disagreements", "statistic")}
            row.update(c.statistic)
            for key in ("subject", "predicate", "object"):
                row[key] = (c.as_dict()[key] or {}).get("label")
            row["dois"] = [s.doi for s in c.sources if s.doi]
            row["roles"] = ", ".join(c.roles)
            row["qualifiers"] = "; ".join(c.qualifiers)
            row["years"] = " ".join(c.years)
            out.append(row)
        return out

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n"

    def to_table(self) -> str:
        return render_table(self)


# -- resolving what the user typed -------------------------------------------------------------------
def resolve_subject(kg, text: str, parameter: str = "term") -> dict:
    """A term (class), a source (DOI, IRI, CURIE, label or title) or a study; InputError with suggestions."""
    raw = str(text).strip()
    if not raw:
        raise InputError(f"{parameter}: empty value")
    doi = _DOI.match(raw)
    if doi:
        iri = "https://doi.org/" + doi.group(1).lower()
        if not _exists(kg, iri):
            raise InputError(f"{parameter}: no source with DOI {doi.group(1)!r} in the graph")
        return {"iri": iri, "label": kg.label(iri), "kind": "source"}
    try:
        term = kg.resolve(raw, parameter=parameter)
        return {"iri": term.iri, "label": term.label, "kind": "term"}
    except InputError as not_a_term:
        first_error = not_a_term
    if re.fullmatch(r"[A-Za-z][\w.-]*:[\w.\-/]+", raw) or raw.startswith(("http://", "https://")):
        try:
            iri = expand(raw)
        except ValueError:
            iri = None
        if iri and _exists(kg, iri):
            return {"iri": iri, "label": kg.label(iri), "kind": "source"}
    names = _source_names(kg)
    key = normalise(raw)
    if key in names:
        iri = names[key]
        return {"iri": iri, "label": kg.label(iri), "kind": "source"}
    close = difflib.get_close_matches(key, list(names), n=3, cutoff=0.6)
    if close:
        raise InputError(f"{first_error}; or a source: " + ", ".join(repr(c) for c in close))
    raise first_error


def resolve_member(kg, class_iri: str, text: str | None, parameter: str) -> str | None:
    """A value-set member (e.g. a study design) from its label, local name or CURIE; None passes through."""
    if text is None:
        return None
    raw = str(text).strip()
    members = kg.select(MEMBERS_QUERY.format(cls=class_iri))
    by_key: dict[str, str] = {}
    for row in members:
        by_key.setdefault(normalise(row["label"]), row["m"])
        by_key.setdefault(normalise(row["m"].rsplit("/", 1)[-1]), row["m"])
        by_key.setdefault(normalise(curie(row["m"])), row["m"])
    key = normalise(raw)
    if key in by_key:
        return by_key[key]
    words = set(key.split())
    partial = sorted({m for k, m in by_key.items() if words and words <= set(k.split())})
    if len(partial) == 1:
        return partial[0]
    labels = sorted({row["label"] for row in members})
    raise InputError(f"{parameter}: unknown value {raw!r}; valid values: {', '.join(labels)}")


def resolve_certainty(kg, text: str | None) -> tuple[str | None, str | None]:
    """``--certainty``: a derived level (high, moderate, low, very low) or a reported certainty
    (e.g. 'low certainty', 'early-phase and often uncontrolled'). Returns (derived level, reported value)."""
    if text is None:
        return None, None
    raw = str(text).strip()
    key = normalise(raw)
    for cls, axis in ((CERTAINTY_LEVEL, 0), (REPORTED_CERTAINTY, 1)):
        for row in kg.select(MEMBERS_QUERY.format(cls=cls)):
            label = row["label"]
            names = {normalise(label), normalise(row["m"].rsplit("/", 1)[-1]), normalise(curie(row["m"]))}
            if axis == 0:
                names.add(normalise(label.replace("(derived)", "")))
            if key in names:
                return (row["m"], None) if axis == 0 else (None, row["m"])
    levels = [r["label"].replace(" (derived)", "") for r in kg.select(MEMBERS_QUERY.format(cls=CERTAINTY_LEVEL))]
    reported = [r["label"] for r in kg.select(MEMBERS_QUERY.format(cls=REPORTED_CERTAINTY))]
    raise InputError(f"certainty: unknown value {raw!r}; derived levels: {', '.join(levels)}; "
                     f"reported: {', '.join(sorted(reported))}")


def parse_years(text: str | int | None) -> tuple[int | None, int | None]:
    """``2025`` → (2025, 2025); ``2020-2025``; ``2020-`` or ``>=2020`` → (2020, None); ``-2020`` → (None, 2020)."""
    if text is None:
        return None, None
    raw = str(text).strip()
    match = _YEAR.match(raw)
    if not raw or not match or not (match.group(2) or match.group(4)):
        raise InputError(f"year: {raw!r} is not a year or a span (2025, 2020-2025, 2020-, -2020, >=2020)")
    op, first, dash, second = match.groups()
    a = int(first) if first else None
    b = int(second) if second else None
    if op in (">=", "from", "since", "after"):
        return a, None
    if op in ("<=", "to", "until", "before"):
        return None, a
    if dash is None:
        return a, a
    if a is not None and b is not None and a > b:
        raise InputError(f"year: span {raw!r} runs backwards")
    return a, b


def _exists(kg, iri: str) -> bool:
    """Whether the graph says anything about ``iri`` (looked up by pattern, no query text)."""
    import pyoxigraph as ox

    try:
        node = ox.NamedNode(iri)
    except ValueError:
        raise InputError(f"not a valid IRI: {iri!r}") from None
    return next(iter(kg.store.quads_for_pattern(node, None, None)), None) is not None


def _source_names(kg) -> dict[str, str]:
    names: dict[str, str] = {}
    for row in kg.select(SOURCE_KINDS_QUERY):
        names.setdefault(normalise(row["name"]), row["s"])
    return names


# -- the evidence ------------------------------------------------------------------------------------
def evidence(kg, term: str, design: str | None = None, min_n: int | None = None,
             guideline: str | None = None, year: str | int | None = None,
             certainty: str | None = None) -> EvidenceResult:
    """Every claim about ``term`` (a term, source or study), filtered, strongest design first.

    ``certainty`` keeps the claims with that derived level (``"low"``, ``"very low"`` ...) or that
    reported certainty (``"low certainty"``, ``"early-phase and often uncontrolled"`` ...)."""
    subject = resolve_subject(kg, term)
    design_iri = resolve_member(kg, STUDY_DESIGN, design, "design")
    guideline_iri = resolve_member(kg, GUIDELINE_STATUS, guideline, "guideline")
    derived_iri, reported_iri = resolve_certainty(kg, certainty)
    if min_n is not None and (isinstance(min_n, bool) or not str(min_n).strip().isdigit()):
        raise InputError(f"min-n: {min_n!r} is not a whole number of participants or knees")
    year_from, year_to = parse_years(year)
    rows = run(
        kg, "evidence-for-term", term=subject["iri"], design=design_iri, guideline=guideline_iri,
        reportedCertainty=reported_iri, derivedLevel=derived_iri, minN=int(min_n) if min_n is not None else None, yearFrom=year_from, yearTo=year_to,
    )
    claims = [_claim(row) for row in rows]
    attach_sources(kg, claims)
    pairs = _attach_disagreements(kg, claims)
    filters = {"design": design_iri, "min_n": int(min_n) if min_n is not None else None,
               "guideline": guideline_iri, "year_from": year_from, "year_to": year_to,
               "derived_certainty": derived_iri, "reported_certainty": reported_iri}
    return EvidenceResult(term=subject, filters=filters, claims=claims, disagreements=pairs)


def attach_sources(kg, claims: list[EvidenceClaim]) -> None:
    found = claim_sources(kg, [c.claim for c in claims])
    for c in claims:
        c.sources = found.get(c.claim, [])


def _attach_disagreements(kg, claims: list[EvidenceClaim]) -> list[dict]:
    if not claims:
        return []
    by_claim = {c.claim: c for c in claims}
    pairs: dict[tuple[str, str, str], dict] = {}
    for row in run(kg, "evidence-conflicts", claim=sorted(by_claim)):
        d = Disagreement(row["other"], row.get("otherLabel"), row["kind"], row.get("direction"),
                         row.get("otherDirection"))
        by_claim[row["claim"]].disagreements.append(d)
        a, b = sorted((row["claim"], row["other"]))
        pairs.setdefault((a, b, row["kind"]), {
            "claims": [a, b], "kind": row["kind"],
            "labels": [by_claim[x].statement if x in by_claim else (row.get("otherLabel") if x == row["other"] else None)
                       for x in (a, b)],
        })
    return [pairs[k] for k in sorted(pairs)]


def _term(row: dict, key: str) -> dict | None:
    if key not in row:
        return None
    return {"iri": row[key], "label": row.get(key + "Label")}


def _claim(row: dict) -> EvidenceClaim:
    statistic = {
        "measure": row.get("measureLabel"), "estimate": row.get("estimate"),
        "range_low": row.get("rangeLow"), "range_high": row.get("rangeHigh"),
        "value_before": row.get("valueBefore"), "value_after": row.get("valueAfter"),
        "ci_lower": row.get("ciLower"), "ci_upper": row.get("ciUpper"), "ci_level": row.get("ciLevel"),
        "p_value": row.get("pValue"), "as_reported": row.get("asReported"),
    }
    follow = None
    if "followUpValue" in row:
        follow = {"value": row["followUpValue"], "unit": row.get("followUpUnitLabel")}
    return EvidenceClaim(
        claim=row["claim"], statement=row.get("claimLabel"),
        roles=[r.strip() for r in row.get("roles", "").split(",") if r.strip()],
        type=row.get("claimType"), subject=_term(row, "subject"), predicate=_term(row, "predicate"),
        object=_term(row, "object"), direction=row.get("directionLabel"), statistic=statistic,
        sample_size=row.get("sampleSize"), unit=row.get("unitLabel"), mean_age=row.get("meanAge"),
        population=row.get("populationDescription"), design=row.get("designLabel"),
        design_rank=row.get("designRank"), follow_up=follow, evidence_level=row.get("evidenceLabel"),
        guideline_status=row.get("guidelineLabel"), regulatory_status=row.get("regulatoryLabel"),
        availability=row.get("availabilityLabel"), certainty=row.get("certaintyLabel"),
        derived_certainty=row.get("derivedCertaintyLabel"), derived_certainty_rank=row.get("derivedCertaintyRank"),
        strength=row.get("strengthLabel"), frequency=row.get("frequencyDescription"),
        time_course=row.get("timeCourse"), study=row.get("studyLabel"),
        qualifiers=[q for q in row.get("qualifiers", "").split("; ") if q],
        years=sorted(set(row.get("years", "").split())),
    )


# -- text output -------------------------------------------------------------------------------------
def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def statistic_text(c: EvidenceClaim) -> str:
    s = c.statistic
    parts = []
    if s["measure"]:
        parts.append(s["measure"])
    if s["estimate"] is not None:
        parts.append(_num(s["estimate"]))
    if s["range_low"] is not None:
        parts.append(f"{_num(s['range_low'])} to {_num(s['range_high'])}")
    if s["value_before"] is not None:
        parts.append(f"{_num(s['value_before'])} → {_num(s['value_after'])}")
    if s["ci_lower"] is not None:
        level = f"{_num(s['ci_level'] * 100)}% " if s["ci_level"] else ""
        parts.append(f"({level}CI {_num(s['ci_lower'])} to {_num(s['ci_upper'])})")
    if s["p_value"] is not None:
        parts.append(f"p={_num(s['p_value'])}")
    text = " ".join(parts)
    if s["as_reported"]:
        text = f"{text} [as reported: {s['as_reported']}]" if text else f"as reported: {s['as_reported']}"
    return text


def claim_lines(c: EvidenceClaim, number: int) -> list[str]:
    design = f"{c.design}, rank {c.design_rank}" if c.design else "design not stated"
    lines = [f"{number:>3}. [{design}] {c.statement or curie(c.claim)}"]
    facts = [f"direction: {c.direction or '?'}"]
    stat = statistic_text(c)
    if stat:
        facts.append(stat)
    if c.sample_size is not None:
        facts.append(f"n={c.sample_size} {c.unit or ''}".rstrip())
    if c.follow_up:
        facts.append(f"follow-up {_num(c.follow_up['value'])} {c.follow_up['unit'] or ''}".rstrip())
    lines.append("      " + " · ".join(facts))
    if c.population:
        lines.append(f"      population: {c.population}")
    status = [f"{k}: {v}" for k, v in (
        ("evidence level", c.evidence_level), ("guideline", c.guideline_status),
        ("regulatory", c.regulatory_status), ("availability", c.availability), ("certainty", c.certainty),
        ("derived certainty", c.derived_certainty),
        ("strength", c.strength), ("frequency", c.frequency), ("time course", c.time_course),
        ("study", c.study)) if v]
    if status:
        lines.append("      " + " · ".join(status))
    if c.qualifiers:
        lines.append("      qualifiers: " + "; ".join(c.qualifiers))
    if c.sources:
        refs = [s.ref() + (f" ({s.year})" if s.year and s.kind == "paper" else "") for s in c.sources]
        lines.append("      sources: " + "; ".join(refs))
    for d in c.disagreements:
        lines.append(f"      DISAGREES ({d.kind}): {curie(d.claim)}: {d.label or ''} "
                     f"[{d.direction} vs {d.other_direction}]")
    lines.append(f"      claim: {curie(c.claim)}")
    return lines


def render_table(result: EvidenceResult) -> str:
    term = result.term
    active = {k: v for k, v in result.filters.items() if v is not None}
    head = f"Evidence for {term['label']} ({curie(term['iri'])}, {term['kind']}): {len(result.claims)} claim(s), strongest design first"
    lines = [head]
    if active:
        lines.append("  filters: " + ", ".join(f"{k}={curie(v) if isinstance(v, str) else v}" for k, v in active.items()))
    for number, claim in enumerate(result.claims, start=1):
        lines.extend(claim_lines(claim, number))
    if result.disagreements:
        lines.append(f"Disagreements between sources ({len(result.disagreements)}):")
        for d in result.disagreements:
            a, b = d["claims"]
            lines.append(f"  - {d['kind']}: {curie(a)} ⟷ {curie(b)}")
    if not result.claims:
        lines.append("  no claims match")
    return "\n".join(lines) + "\n"
