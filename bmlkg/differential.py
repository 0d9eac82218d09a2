"""Differential causes of bone marrow oedema: typed findings and context in, ranked causes with reasons out.

>>> import bmlkg
>>> kg = bmlkg.load()
>>> result = kg.differential(["bone marrow edema", "fracture of the tibia"], context=["fall onto the knee"])
>>> result.categories[0].label
'traumatic cause of bone marrow oedema'
>>> result.conditions[0].explains
['bone marrow edema', 'fracture of the tibia', 'fall onto the knee']

The rule lives in data and SPARQL: every number is a triple (``ontology/differential.ttl``), the score is
computed by ``queries/dx-rank-causes.rq``, each input's contribution comes from ``queries/dx-links.rq``,
"check next" from ``queries/dx-check-next.rq``. Every text rule (normalisation, spellings, stop words,
negation, ages and sexes, word matching) is data in ``ontology/input-rules.json``, read generically here
and by the in-browser port. Python resolves text, joins rows and lays them out; docs/differential.md
("What the caller does") lists those steps one by one, so that a port running the same ``.rq`` files gets
the same ranking and the same numbers.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from dataclasses import asdict, dataclass, field

from .query.engines import get_query
from .query.rows import Source, claim_sources, run
from .query.sparqltext import slice_spans
from .store.constants import ONTOLOGY_DIR
from .store.errors import InputError
from .store.graph import normalise
from .store.vocab import curie

SCORING = (
    "score = support - against + base rate. Support: each present input adds the best points of its "
    "matches with the cause, points = frequency x evoking strength x match factor (frequency from the "
    "source's word: typical 3, common 2, can occur 1; evoking strength curated where a source speaks, else "
    "computed from how many cause entries share the feature: one 3, two 2, three or four 1, five or more 0; "
    "an input that names the cause counts 3 x 3, a kind of it 3 x 2, a wider class 3 x 2 x 1/2; a more "
    "general input than the feature halves). Against: a typical feature stated absent (3), an age or sex "
    "outside a group stated as usual or common for the cause (that frequency), and 3 for each present "
    "finding (not an age or sex) the cause does not explain. Base rate: +1 common, -1 rare, 0 when no source "
    "gives one. Ties: more inputs explained, then label. All numbers are triples; a teaching heuristic from "
    "the sources' wording, not a probability."
)
#: How many leading candidates "check next" splits, and how many features it lists.
CHECK_NEXT_CANDIDATES = 5
CHECK_NEXT_FEATURES = 10
RULES_FILE = ONTOLOGY_DIR / "input-rules.json"
_RULES: dict | None = None


def input_rules() -> dict:
    """``ontology/input-rules.json``, read once."""
    global _RULES
    if _RULES is None:
        _RULES = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    return _RULES


# -- results -----------------------------------------------------------------------------------------
@dataclass
class ResolvedTerm:
    iri: str
    label: str
    match: str                      # label, hasExactSynonym, …, words, demographic, iri

    @property
    def curie(self) -> str:
        return curie(self.iri)


@dataclass
class Input:
    text: str                       # as typed
    role: str                       # finding | context | absent
    present: bool
    terms: list[ResolvedTerm]       # the terms the score uses (for an age/sex: the most specific groups)
    note: str = ""
    groups: list[str] = field(default_factory=list)   # an age/sex: every group that covers it (labels)
    age: list[int] | None = None    # an age/sex: [youngest, oldest] the text allows
    sex: str | None = None


@dataclass
class Unresolved:
    text: str
    role: str
    reason: str
    suggestions: list[str]


@dataclass
class Link:
    """One contribution of one input to one candidate (a row of dx-links, the one the score uses)."""
    input: str                      # the text as typed (or the group, for a contradiction)
    term: str                       # the resolved term
    role: str                       # supports | absent | contradicts | argues against | not explained
    feature: str | None
    feature_label: str | None
    frequency: str | None           # label of the frequency level
    frequency_weight: float | None
    evoking: str | None             # label of the evoking-strength level
    evoking_weight: float | None
    evoking_from: str | None        # curated | computed | rule
    entries: int | None             # computed evoking: cause entries sharing the feature
    match: str | None               # label of the match kind
    factor: float | None
    points: float
    via: str | None                 # the class the association is stated on
    claim: str | None               # None: the input names the cause, or is not explained
    claim_label: str | None
    sources: list[Source] = field(default_factory=list)

    @property
    def contribution(self) -> float:
        return self.points

    @property
    def strength(self) -> str | None:
        return self.frequency


@dataclass
class TellApart:
    condition: str
    label: str | None
    claim: str
    claim_label: str | None
    sources: list[Source] = field(default_factory=list)


@dataclass
class Candidate:
    rank: int
    iri: str
    label: str
    categories: list[dict]
    score: float
    support: float
    against: float
    base_rate: dict                 # {level, label, points, claim, claim_label, sources}; level None: neutral
    prevalence: str                 # "common", "rare" or "neutral (no source gives a base rate)"
    explains: list[str]
    does_not_explain: list[str]
    links: list[Link]               # what supports it, one per input term
    counts_against: list[Link]      # absent, contradicts, argues against, not explained
    red_flag: bool
    red_flag_source: str | None
    red_flag_reason: str | None
    tell_apart_from: list[TellApart]
    check_next: list[dict] = field(default_factory=list)

    @property
    def curie(self) -> str:
        return curie(self.iri)


@dataclass
class CategoryEntry:
    rank: int
    iri: str
    label: str
    kind: str                       # "cause category" or "condition" (an entry of its own)
    score: float
    explained: int
    best: dict
    members: list[dict]
    red_flag: bool
    red_flag_reason: str | None


@dataclass
class CheckNext:
    feature: str
    label: str | None
    points_to: list[dict]           # [{condition, label, frequency, weight, claim}]
    n_candidates: int
    of: int
    split: int


@dataclass
class DifferentialResult:
    inputs: list[Input]
    unresolved: list[Unresolved]
    categories: list[CategoryEntry]
    conditions: list[Candidate]
    check_next: list[CheckNext]
    red_flags: list[dict]
    person: dict                    # {age: [low, high] | None, sex: str | None}: what the contradictions use
    scoring: str = SCORING

    def as_dict(self) -> dict:
        out = asdict(self)
        for item, data in zip(self.inputs, out["inputs"]):
            for term, d in zip(item.terms, data["terms"]):
                d["curie"] = term.curie
        return out

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n"

    def to_table(self, top: int | None = None) -> str:
        return render_table(self, top)

    def rows(self) -> list[dict]:
        """One flat row per ranked condition (pandas-friendly)."""
        return [{
            "rank": c.rank, "condition": c.iri, "label": c.label,
            "categories": ", ".join(cat["label"] for cat in c.categories), "score": c.score,
            "support": c.support, "against": c.against, "base_rate": c.base_rate["points"],
            "prevalence": c.prevalence, "explains": "; ".join(c.explains),
            "does_not_explain": "; ".join(c.does_not_explain), "red_flag": c.red_flag,
        } for c in self.conditions]


# -- resolving what people type (rules: ontology/input-rules.json) -----------------------------------
def tokens(text: str) -> list[str]:
    """Words of ``text`` for matching names: split, stop words dropped, plurals folded (rules["tokens"])."""
    rules = input_rules()["tokens"]
    stop = set(rules["stop_words"])
    out = []
    for word in re.split(rules["split"], normalise(text)):
        if not word or word in stop:
            continue
        for rule in rules["plural_rules"]:
            if (len(word) >= rule["min_length"] and word.endswith(rule["suffix"])
                    and not (rule["unless"] and word.endswith(rule["unless"]))):
                word = word[: len(word) - len(rule["suffix"])] + rule["replace"]
                break
        out.append(word)
    return out


def parse_demographic(text: str) -> dict | None:
    """``boy aged 13`` → {'low': 13, 'high': 13, 'sex': 'male'}; None if the text is not an age/sex.

    Generic over ``demographic`` in ontology/input-rules.json (patterns, decade words, sex and age words).
    """
    rules = input_rules()["demographic"]
    key = normalise(text)
    if not re.search(r"[^\W\d_]", key):
        return None                                  # no letters: a bare number is not an age
    low = high = None
    for entry in rules["age_patterns"]:
        found = re.search(entry["pattern"], key, re.IGNORECASE)
        if not found:
            continue
        value = found.group(1)
        if entry["read"] == "decade word":
            low = rules["decade_words"][value.lower()]
            high = low + 9
        elif entry["read"] == "decade digit":
            low = int(value) * 10
            high = low + 9
        else:
            low = high = int(value)
        key = (key[:found.start()] + " " + key[found.end():]).strip()
        break
    sex, ranges, rest = None, [], []
    for word in (w for w in re.split(input_rules()["tokens"]["split"] + r"|,", key) if w):
        known = False
        if word in rules["sex_words"]:
            sex, known = sex or rules["sex_words"][word], True
        if word in rules["age_words"]:
            ranges.append(rules["age_words"][word])
            known = True
        if not known and word not in rules["filler_words"]:
            rest.append(word)
    if rest or (low is None and sex is None and not ranges):
        return None
    for lo, hi in ranges:                            # the typed age within what the words allow
        if low is None:
            low, high = lo, hi
        elif max(low, lo) <= min(high, hi):
            low, high = max(low, lo), min(high, hi)
    if low is not None and not (0 <= low <= high <= rules["max_age"]):
        return None
    return {"low": low, "high": high, "sex": sex}


class Resolver:
    """Turns typed inputs into graph terms; one per differential call (caches the name index)."""

    def __init__(self, kg):
        self.kg = kg
        self.index = kg.name_index()
        self.labels = kg.labels()
        self._token_index = None

    def resolve(self, text: str, role: str) -> tuple[Input | None, Unresolved | None]:
        raw = str(text).strip()
        if not raw:
            return None, Unresolved(raw, role, "empty input", [])
        present = role != "absent"
        phrase, note = raw, ""
        negated = re.match(input_rules()["negation"]["pattern"], normalise(raw), re.IGNORECASE)
        if negated and self._exact(raw):
            negated = None          # a known name that starts like a negation is taken as it stands
        if negated:
            phrase = negated.group(1).strip()
            if role != "absent":
                present, note = False, f"read as absent: {phrase!r}"
        out_role = role if present else "absent"
        if present:
            parsed = parse_demographic(phrase)
            if parsed is not None:
                return self._demographic(raw, out_role, parsed), None
        terms = self._exact(phrase)
        if terms:
            return Input(raw, out_role, present, terms, note), None
        terms, extra = self._words(phrase)
        if terms:
            return Input(raw, out_role, present, terms, "; ".join(x for x in (note, extra) if x)), None
        return None, Unresolved(raw, role, "no term of the graph matches", self.suggest(phrase))

    def _exact(self, phrase: str) -> list[ResolvedTerm]:
        try:
            term = self.kg.resolve(phrase)
        except InputError:
            return []
        kinds = dict(self.index.get(normalise(phrase), []))
        return [ResolvedTerm(term.iri, term.label, kinds.get(term.iri, "iri"))]

    def _demographic(self, raw: str, role: str, parsed: dict) -> Input:
        low, high, sex = parsed["low"], parsed["high"], parsed["sex"]
        rows = run(self.kg, "dx-demographic-context", ageLow=low, ageHigh=high, sex=sex)
        described = ", ".join(x for x in (sex, None if low is None else
                                          (f"aged {low}" if low == high else f"aged {low} to {high}")) if x)
        terms = [ResolvedTerm(r["context"], r.get("label") or curie(r["context"]), "demographic")
                 for r in rows if r["specific"]]
        note = f"understood as {described}"
        if not rows:
            note += "; no demographic group of the graph covers it (the age and sex still count for contradictions)"
        return Input(raw, role, True, terms, note, groups=[r.get("label") or curie(r["context"]) for r in rows],
                     age=None if low is None else [low, high], sex=sex)

    def _words(self, phrase: str):
        """A known name by its words (rules["words"]): the name's words in the input, or the input's in the name."""
        rules = input_rules()["words"]
        words = set(tokens(phrase))
        if not words:
            return [], ""
        optional = set(rules["optional_name_words"])
        best: list[tuple[int, bool, str, str]] = []
        for key, name_words in self.token_index().items():
            if not name_words:
                continue
            size = len(name_words)
            if name_words <= words:
                if not (size == len(words) or (size >= 2 and size >= rules["min_cover"] * len(words))):
                    continue
            elif not (words < name_words and name_words - words <= optional):
                continue
            for iri, kind in self.index[key]:
                best.append((-len(name_words & words), kind != "label", iri, key))
        if not best:
            return [], ""
        best.sort()
        top = best[0]
        iri = top[2]
        ignored = sorted(words - self.token_index()[top[3]])
        others = sorted({b[2] for b in best if b[0] == top[0] and b[2] != iri})
        note = f"matched the words of {top[3]!r}"
        if ignored:
            note += f"; not used: {', '.join(ignored)}"
        if others:
            note += "; also fits: " + ", ".join(self.labels.get(o, curie(o)) for o in others)
        return [ResolvedTerm(iri, self.labels.get(iri, curie(iri)), "words")], note

    def token_index(self) -> dict[str, set[str]]:
        if self._token_index is None:
            self._token_index = {key: set(tokens(key)) for key in self.index}
        return self._token_index

    def suggest(self, phrase: str) -> list[str]:
        rules = input_rules()["suggestions"]
        key = normalise(phrase)
        close = difflib.get_close_matches(key, list(self.index), n=rules["close_max"], cutoff=rules["cutoff"])
        words = {w for w in tokens(phrase) if len(w) > rules["min_word"]}
        overlap = sorted(
            (k for k, w in self.token_index().items() if w & words),
            key=lambda k: (-len(self.token_index()[k] & words), len(k), k),
        )[:rules["close_max"]]
        out: list[str] = []
        for k in close + overlap:            # shown as the terms' labels, not the normalised keys
            label = self.labels.get(self.index[k][0][0], k)
            if label not in out:
                out.append(label)
        return out[:rules["max"]]


def resolve_inputs(kg, findings, context, absent) -> tuple[list[Input], list[Unresolved]]:
    resolver = Resolver(kg)
    inputs, unresolved = [], []
    for role, texts in (("finding", findings), ("context", context), ("absent", absent)):
        for text in texts:
            item, problem = resolver.resolve(text, role)
            if item is not None:
                inputs.append(item)
            if problem is not None:
                unresolved.append(problem)
    return inputs, unresolved


def _person(inputs: list[Input]) -> dict:
    """The age range and sex the contradictions use: the first sex typed; the typed age ranges intersected
    (a range that does not overlap the ones before it is left out)."""
    age, sex = None, None
    for item in inputs:
        if item.sex and sex is None:
            sex = item.sex
        if item.age:
            if age is None:
                age = list(item.age)
            elif max(age[0], item.age[0]) <= min(age[1], item.age[1]):
                age = [max(age[0], item.age[0]), min(age[1], item.age[1])]
    return {"age": age, "sex": sex}


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _unique(items) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


def _unresolved_text(u: Unresolved) -> str:
    hint = f"; closest known terms: {', '.join(repr(s) for s in u.suggestions)}" if u.suggestions else ""
    return f"{u.role} {u.text!r}: {u.reason}{hint}"


# -- the differential --------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def rank_bound() -> int:
    """The LIMIT inside dx-rank-causes: far above any candidate list, a hint to Oxigraph's planner (read once)."""
    text = get_query("dx-rank-causes").text
    span = slice_spans(text).get("limit")  # the query's one LIMIT, found by the SPARQL tokenizer (not in comments)
    return int(text[span[0]:span[1]]) if span else 0


def _refuse_bound(rows: list) -> None:
    """An answer that reaches the bound may be cut short: refused, never shown as complete."""
    bound = rank_bound()
    if bound and len(rows) >= bound:
        raise InputError(f"differential: the inputs reach {len(rows):,} candidate causes, the most dx-rank-causes "
                         f"returns ({bound:,}); give more specific findings")


def differential(kg, findings, context=(), absent=(), *, top: int | None = None,
                 strict: bool = False) -> DifferentialResult:
    """Rank the causes that explain ``findings`` in ``context``, with ``absent`` findings counting against.

    Unresolved inputs are reported in ``result.unresolved`` (with ``strict=True`` they raise
    :class:`InputError`); if nothing present resolves, InputError.
    """
    findings, context, absent = _as_list(findings), _as_list(context), _as_list(absent)
    if not findings and not context:
        raise InputError("differential: give at least one finding or context (--finding / --context)")
    inputs, unresolved = resolve_inputs(kg, findings, context, absent)
    if strict and unresolved:
        raise InputError("; ".join(_unresolved_text(u) for u in unresolved))
    present = _unique(t.iri for i in inputs if i.present for t in i.terms)
    missing = _unique(t.iri for i in inputs if not i.present for t in i.terms)
    if not present:
        detail = "; ".join(_unresolved_text(u) for u in unresolved) or "every input was given as absent"
        raise InputError(f"differential: no present finding or context could be resolved ({detail})")
    person = _person(inputs)
    age = person["age"] or [None, None]
    params = {"input": present, "absent": missing, "ageLow": age[0], "ageHigh": age[1], "sex": person["sex"]}
    rows = run(kg, "dx-rank-causes", **params)
    _refuse_bound(rows)
    facts = {r["cause"]: r for r in run(kg, "dx-cause-facts", cause=[r["condition"] for r in rows])} if rows else {}
    for row in rows:                 # categories and red flags of each candidate (dx-cause-facts)
        fact = facts.get(row["condition"], {})
        row.update({k: fact.get(k) for k in ("categories", "redFlag", "redFlagSource", "redFlagReason")})
        row["categories"] = row["categories"] or ""
    candidates = _candidates(kg, [r for r in rows if not r["isCategory"]], inputs, params)
    categories = _categories(kg, rows, facts)
    check = _check_next(kg, candidates, params)
    flags = _red_flags(kg, candidates)          # over every candidate, whatever its rank (and --top)
    return DifferentialResult(inputs, unresolved, categories[:top], candidates[:top], check, flags, person)


def _red_flags(kg, candidates: list[Candidate]) -> list[dict]:
    """One entry per red-flagged class among the candidates, with its best-ranked member first."""
    labels = kg.labels()
    flags: dict[str, dict] = {}
    for c in candidates:
        if not c.red_flag:
            continue
        entry = flags.setdefault(c.red_flag_source, {
            "flag": c.red_flag_source, "label": labels.get(c.red_flag_source, curie(c.red_flag_source or "")),
            "reason": c.red_flag_reason, "best_rank": c.rank, "conditions": [],
        })
        entry["conditions"].append({"rank": c.rank, "condition": c.iri, "label": c.label, "score": c.score})
    return sorted(flags.values(), key=lambda f: f["best_rank"])


def _texts(inputs: list[Input]) -> dict[tuple[str, bool], str]:
    """(term IRI, present) -> the text typed for it (the first input that resolved to it)."""
    out = {}
    for item in inputs:
        for term in item.terms:
            out.setdefault((term.iri, item.present), item.text)
    return out


def _number(value) -> float | None:
    return None if value is None else float(value)


def _link(row: dict, text_of, labels, sources) -> Link:
    present = row["role"] != "absent"
    term = row["term"]
    claim = row.get("claim")
    return Link(
        input=text_of.get((term, present), labels.get(term, curie(term))), term=term, role=row["role"],
        feature=row.get("feature"), feature_label=labels.get(row.get("feature") or "", None),
        frequency=labels.get(row.get("frequency") or "", None), frequency_weight=_number(row.get("frequencyWeight")),
        evoking=labels.get(row.get("evoking") or "", None), evoking_weight=_number(row.get("evokingWeight")),
        evoking_from=row.get("evokingFrom"), entries=None if row.get("entries") is None else int(row["entries"]),
        match=labels.get(row.get("match") or "", None), factor=_number(row.get("factor")),
        points=float(row["points"]), via=row.get("subject"), claim=claim,
        claim_label=labels.get(claim) if claim else None, sources=sources.get(claim, []) if claim else [],
    )


def _candidates(kg, rows, inputs, params) -> list[Candidate]:
    """Step 3-5 of the caller's part (docs/differential.md): one candidate per condition row, in rank order,
    its contributions the first dx-links row per (role, term)."""
    if not rows:
        return []
    iris = [r["condition"] for r in rows]
    links = run(kg, "dx-links", condition=iris, **params)
    tell = run(kg, "dx-tell-apart", condition=iris)
    claims = ({r["claim"] for r in links if r.get("claim")} | {r["claim"] for r in tell}
              | {r["baseRateClaim"] for r in rows if r.get("baseRateClaim")})
    sources = claim_sources(kg, sorted(claims))
    labels = kg.labels()
    text_of = _texts(inputs)
    chosen: dict[str, dict[tuple[str, str], dict]] = {}
    for r in links:                                   # rows arrive sorted: the first is the one the score uses
        chosen.setdefault(r["condition"], {}).setdefault((r["role"], r["term"]), r)
    out = []
    for rank, row in enumerate(rows, start=1):
        cond = row["condition"]
        made = [_link(r, text_of, labels, sources) for r in chosen.get(cond, {}).values()]
        supports = sorted((x for x in made if x.role == "supports"), key=lambda x: (-x.points, x.input, x.term))
        against = sorted((x for x in made if x.role != "supports"), key=lambda x: (-x.points, x.role, x.input, x.term))
        explained = set(row.get("explainedInputs", "").split())
        claim = row.get("baseRateClaim")
        level = row.get("baseRate")
        base = {"level": level, "label": labels.get(level) if level else None,
                "points": float(row.get("baseRatePoints") or 0), "claim": claim,
                "claim_label": labels.get(claim) if claim else None,
                "sources": sources.get(claim, []) if claim else []}
        prevalence = ("neutral (no source gives a base rate)" if not claim
                      else "common" if base["points"] > 0 else "rare" if base["points"] < 0 else "neutral")
        out.append(Candidate(
            rank=rank, iri=cond, label=row.get("label") or curie(cond),
            categories=[{"iri": c, "label": labels.get(c, curie(c))} for c in sorted(row.get("categories", "").split())],
            score=float(row["score"]), support=float(row["support"]), against=float(row["against"]),
            base_rate=base, prevalence=prevalence,
            explains=[i.text for i in inputs if i.present and any(t.iri in explained for t in i.terms)],
            does_not_explain=[i.text for i in inputs
                              if i.present and i.terms and not any(t.iri in explained for t in i.terms)],
            links=supports, counts_against=against,
            red_flag=bool(row.get("redFlag")), red_flag_source=row.get("redFlagSource"),
            red_flag_reason=row.get("redFlagReason"),
            tell_apart_from=[TellApart(t["other"], t.get("otherLabel"), t["claim"], t.get("claimLabel"),
                                       sources.get(t["claim"], [])) for t in tell if t["condition"] == cond],
        ))
    return out


def _categories(kg, rows, facts: dict) -> list[CategoryEntry]:
    """Cause categories ranked by their best member (the category's own row counts as a member);
    conditions under no category are entries of their own."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        cats = row.get("categories", "").split()
        for cat in cats or [row["condition"]]:
            groups.setdefault(cat, []).append(row)
    missing = sorted(g for g in groups if g not in facts)
    if missing:
        facts = {**facts, **{r["cause"]: r for r in run(kg, "dx-cause-facts", cause=missing)}}
    entries = []
    for iri, members in groups.items():
        best = members[0]                       # rows arrive ranked by score, explained, label, IRI
        fact = facts.get(iri, {})
        entries.append(CategoryEntry(
            rank=0, iri=iri, label=fact.get("label") or curie(iri),
            kind="cause category" if fact.get("isCategory") else "condition",
            score=float(best["score"]), explained=int(best["explained"]),
            best={"iri": best["condition"], "label": best.get("label"), "score": float(best["score"])},
            members=[{"iri": m["condition"], "label": m.get("label"), "score": float(m["score"])}
                     for m in members if m["condition"] != iri],
            red_flag=bool(fact.get("redFlag")), red_flag_reason=fact.get("redFlagReason"),
        ))
    # ties: more inputs explained, then more members at the best score (a category several of whose causes
    # fit equally well, ahead of one that shares just those causes), then label and IRI
    at_best = {e.iri: sum(m["score"] == e.score for m in e.members) for e in entries}
    entries.sort(key=lambda e: (-e.score, -e.explained, -at_best[e.iri], e.label, e.iri))
    for rank, entry in enumerate(entries, start=1):
        entry.rank = rank
    return entries


def _check_next(kg, candidates: list[Candidate], params: dict) -> list[CheckNext]:
    """The first CHECK_NEXT_CANDIDATES candidates go to dx-check-next; its rows, grouped by feature in the
    order they come, are the list (the first CHECK_NEXT_FEATURES features)."""
    lead = [c.iri for c in candidates[:CHECK_NEXT_CANDIDATES]]
    if len(lead) < 2:
        return []
    rows = run(kg, "dx-check-next", candidate=lead, input=params["input"], absent=params["absent"],
               ageLow=params["ageLow"], sex=params["sex"])
    labels = kg.labels()
    found: dict[str, CheckNext] = {}
    for r in rows:
        entry = found.setdefault(r["feature"], CheckNext(r["feature"], r.get("label"), [], int(r["nCandidates"]),
                                                         int(r["total"]), int(r["split"])))
        entry.points_to.append({"condition": r["candidate"], "label": labels.get(r["candidate"]),
                                "frequency": labels.get(r.get("frequency") or ""), "weight": float(r["weight"]),
                                "claim": r.get("claim")})
    shown = list(found.values())[:CHECK_NEXT_FEATURES]
    by_iri = {c.iri: c for c in candidates}
    for item in shown:                 # per candidate: the features that would point to it
        for p in item.points_to:
            by_iri[p["condition"]].check_next.append({
                "feature": item.feature, "label": item.label, "frequency": p["frequency"], "weight": p["weight"],
                "also_points_to": [q["label"] for q in item.points_to if q["condition"] != p["condition"]],
            })
    return shown


# -- compare -----------------------------------------------------------------------------------------
@dataclass
class CompareResult:
    a: dict
    b: dict
    features: list[dict]
    told_apart: list[dict]

    def as_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n"

    def to_table(self) -> str:
        return render_compare(self)

    def rows(self) -> list[dict]:
        return [{"feature": f["label"], "a": (f["a"] or {}).get("strength"), "b": (f["b"] or {}).get("strength"),
                 "difference": f["difference"]} for f in self.features]


def compare(kg, a: str, b: str) -> CompareResult:
    """What distinguishes two causes (conditions or cause categories), side by side, with sources."""
    terms = [kg.resolve(a, parameter="first cause"), kg.resolve(b, parameter="second cause")]
    if terms[0].iri == terms[1].iri:
        raise InputError(f"compare: both names resolve to the same term, {terms[0].label!r}")
    facts = {r["cause"]: r for r in run(kg, "dx-cause-facts", cause=[t.iri for t in terms])}
    for which, term in zip(("first", "second"), terms):
        if not facts.get(term.iri, {}).get("isCondition"):
            raise InputError(f"compare: {which} cause {term.label!r} is not a condition or cause category")
    rows = run(kg, "dx-compare", cause=[t.iri for t in terms])
    tell = run(kg, "dx-tell-apart", condition=[t.iri for t in terms])
    claims = {r["claim"] for r in rows} | {r["claim"] for r in tell}
    sources = claim_sources(kg, sorted(claims))
    features = _pivot(rows, terms[0].iri, terms[1].iri, sources)
    sides = [_side(kg, term, facts[term.iri], tell, sources) for term in terms]
    told = _told_apart(kg, terms, tell, sources)
    return CompareResult(sides[0], sides[1], features, told)


def _side(kg, term, fact: dict, tell: list[dict], sources) -> dict:
    labels = kg.labels()
    return {
        "iri": term.iri, "curie": curie(term.iri), "label": term.label, "definition": fact.get("definition"),
        "is_category": bool(fact.get("isCategory")),
        "categories": [{"iri": c, "label": labels.get(c, curie(c))} for c in sorted(fact.get("categories", "").split())],
        "red_flag": bool(fact.get("redFlag")), "red_flag_reason": fact.get("redFlagReason"),
        "tell_apart_from": [{"condition": t["other"], "label": t.get("otherLabel"), "claim": t["claim"],
                             "claim_label": t.get("claimLabel"), "sources": [asdict(s) for s in sources.get(t["claim"], [])]}
                            for t in tell if t["condition"] == term.iri],
    }


def _told_apart(kg, terms, tell, sources) -> list[dict]:
    """distinctFrom claims that join the first cause to the second (or to a class below it)."""
    below = _descendants(kg, terms[1].iri)
    out = []
    for row in tell:
        if row["condition"] == terms[0].iri and row["other"] in below:
            out.append({"claim": row["claim"], "label": row.get("claimLabel"),
                        "sources": [asdict(s) for s in sources.get(row["claim"], [])]})
    return out


def _descendants(kg, iri: str) -> set[str]:
    """``iri`` and every class below it (rdfs:subClassOf*), by pattern lookups on the store."""
    import pyoxigraph as ox

    sub = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
    seen, todo = {iri}, [iri]
    while todo:
        node = ox.NamedNode(todo.pop())
        for quad in kg.store.quads_for_pattern(None, sub, node):
            if isinstance(quad.subject, ox.NamedNode) and quad.subject.value not in seen:
                seen.add(quad.subject.value)
                todo.append(quad.subject.value)
    return seen


def _pivot(rows, a: str, b: str, sources) -> list[dict]:
    by_feature: dict[str, dict] = {}
    for r in rows:
        entry = by_feature.setdefault(r["feature"], {"feature": r["feature"], "label": r.get("featureLabel"),
                                                     "a": None, "b": None})
        side = "a" if r["cause"] == a else "b"
        current = entry[side]
        if current is None or float(r["weight"]) > current["weight"]:
            entry[side] = {"strength": r.get("strengthLabel"), "weight": float(r["weight"]),
                           "via": r["via"], "via_label": r.get("viaLabel"), "claims": []}
        if float(r["weight"]) == entry[side]["weight"]:
            entry[side]["claims"].append({"claim": r["claim"], "label": r.get("claimLabel"),
                                          "sources": [asdict(s) for s in sources.get(r["claim"], [])]})
    out = []
    for entry in by_feature.values():
        wa = entry["a"]["weight"] if entry["a"] else 0.0
        wb = entry["b"]["weight"] if entry["b"] else 0.0
        entry["difference"] = wa - wb
        out.append(entry)
    out.sort(key=lambda e: (-abs(e["difference"]), e["label"] or ""))
    return out


# -- text output -------------------------------------------------------------------------------------
def _n(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _refs(sources: list[Source]) -> str:
    return "; ".join(s.ref() for s in sources) or "-"


def _input_lines(result: DifferentialResult) -> list[str]:
    lines = ["Inputs:"]
    for item in result.inputs:
        terms = ", ".join(f"{t.label} ({t.curie}, {t.match})" for t in item.terms) or "no group"
        status = "present" if item.present else "ABSENT"
        note = f"  [{item.note}]" if item.note else ""
        groups = f"  groups: {', '.join(item.groups)}" if item.groups else ""
        lines.append(f"  {item.role:<8} {item.text!r} -> {terms} {status}{note}{groups}")
    for u in result.unresolved:
        lines.append(f"  NOT UNDERSTOOD {_unresolved_text(u)}")
    return lines


def _category_lines(result: DifferentialResult, top: int | None) -> list[str]:
    lines = ["", "Cause categories (ranked by their best member):"]
    for e in result.categories[:top]:
        flag = f"  RED FLAG: {e.red_flag_reason or 'urgent work-up'}" if e.red_flag else ""
        best = e.best["label"] if e.best["iri"] != e.iri else "(itself)"
        lines.append(f"  {e.rank:>2}. {e.label} [{e.kind}]  score {_n(e.score)}  best: {best}{flag}")
    return lines


def _link_line(link: Link) -> str:
    claim = f"{curie(link.claim)}: {link.claim_label}" if link.claim else (
        "the input names this cause" if link.role == "supports" else "no link of this cause covers it")
    if link.role == "supports":
        how = (f"{link.frequency} {_n(link.frequency_weight)} x {link.evoking} {_n(link.evoking_weight)} "
               f"({link.evoking_from}{', ' + str(link.entries) + ' cause entries' if link.evoking_from == 'computed' else ''})"
               f"{' x ' + _n(link.factor) if link.factor != 1 else ''}")
        return f"      + {_n(link.points)} {link.input!r} ~ {link.feature_label}: {how} <- {claim} [{_refs(link.sources)}]"
    what = {"absent": f"stated absent, {link.frequency} feature {link.feature_label}",
            "contradicts": f"outside {link.feature_label} ({link.frequency})",
            "argues against": f"argues against ({link.feature_label})",
            "not explained": "not explained by this cause"}[link.role]
    return f"      - {_n(link.points)} {link.input!r} {what} <- {claim} [{_refs(link.sources)}]"


def _candidate_lines(c: Candidate) -> list[str]:
    cats = ", ".join(x["label"] for x in c.categories) or "no cause category"
    base = f"{c.prevalence}" + (f" ({_n(c.base_rate['points'])})" if c.base_rate["claim"] else "")
    lines = [f"  {c.rank:>2}. {c.label} ({c.curie}) [{cats}]  score {_n(c.score)} "
             f"= support {_n(c.support)} - against {_n(c.against)} + base rate {_n(c.base_rate['points'])}"]
    if c.red_flag:
        lines.append(f"      RED FLAG: {c.red_flag_reason or 'needs urgent work-up'}")
    lines.append(f"      base rate: {base}" + (f" <- {curie(c.base_rate['claim'])}: {c.base_rate['claim_label']} "
                                                 f"[{_refs(c.base_rate['sources'])}]" if c.base_rate["claim"] else ""))
    lines.append(f"      explains: {'; '.join(c.explains) or '-'}")
    lines.append(f"      does not explain: {'; '.join(c.does_not_explain) or '-'}")
    lines += [_link_line(link) for link in c.links]
    lines += [_link_line(link) for link in c.counts_against]
    for t in c.tell_apart_from:
        lines.append(f"      tell apart from: {t.label} <- {curie(t.claim)}: {t.claim_label} [{_refs(t.sources)}]")
    if c.check_next:
        shown = "; ".join(f"{x['label']} ({x['frequency']})" for x in c.check_next[:5])
        lines.append(f"      would point here: {shown}")
    return lines


def render_table(result: DifferentialResult, top: int | None = None) -> str:
    lines = _input_lines(result) + _category_lines(result, top)
    lines += ["", "Conditions (ranked):"]
    for c in result.conditions[:top]:
        lines += _candidate_lines(c)
    if not result.conditions:
        lines.append("  no condition of the graph explains these inputs")
    if result.red_flags:
        lines += ["", "Red flags (need urgent work-up whatever their rank):"]
        for f in result.red_flags:
            members = ", ".join(f"{m['label']} (rank {m['rank']})" for m in f["conditions"][:6])
            more = f" and {len(f['conditions']) - 6} more" if len(f["conditions"]) > 6 else ""
            lines.append(f"  - {f['label']}: {f['reason'] or 'needs urgent work-up'}")
            lines.append(f"    candidates: {members}{more}")
    if result.check_next:
        lines += ["", "Check next (findings that split the leading candidates, best split first):"]
        for item in result.check_next:
            points = "; ".join(f"{p['frequency']} in {p['label']}" for p in item.points_to)
            lines.append(f"  - {item.label}: points to {item.n_candidates} of {item.of} ({points})")
    lines += ["", "Scoring: " + result.scoring]
    return "\n".join(lines) + "\n"


def render_compare(result: CompareResult) -> str:
    a, b = result.a, result.b
    lines = [f"Compare: {a['label']} ({a['curie']})  vs  {b['label']} ({b['curie']})"]
    for side in (a, b):
        cats = ", ".join(c["label"] for c in side["categories"]) or "no cause category"
        flag = f"; RED FLAG: {side['red_flag_reason'] or 'urgent work-up'}" if side["red_flag"] else ""
        lines.append(f"  {side['label']}: {cats}{flag}")
        if side["definition"]:
            lines.append(f"    {side['definition']}")
    width = max([len("feature")] + [len(f["label"] or f["feature"]) for f in result.features])
    lines += ["", f"  {'feature'.ljust(width)}  {a['label'][:28]:<28}  {b['label'][:28]:<28}"]
    for f in result.features:
        cells = []
        for side in ("a", "b"):
            s = f[side]
            cells.append(f"{s['strength']} ({_n(s['weight'])})" if s else "-")
        lines.append(f"  {(f['label'] or f['feature']).ljust(width)}  {cells[0]:<28}  {cells[1]:<28}")
    lines += ["", "Sources per feature:"]
    for f in result.features:
        for side in ("a", "b"):
            for claim in (f[side] or {}).get("claims", []):
                refs = "; ".join(("doi:" + s["doi"]) if s["doi"] else curie(s["iri"]) for s in claim["sources"])
                lines.append(f"  [{side.upper()}] {f['label']}: {curie(claim['claim'])}: {claim['label']} [{refs}]")
    if result.told_apart:
        lines += ["", "The sources say these must be told apart:"]
        for t in result.told_apart:
            refs = "; ".join(("doi:" + s["doi"]) if s["doi"] else curie(s["iri"]) for s in t["sources"])
            lines.append(f"  {curie(t['claim'])}: {t['label']} [{refs}]")
    return "\n".join(lines) + "\n"


__all__ = ["differential", "compare", "DifferentialResult", "CompareResult", "SCORING", "parse_demographic"]
