"""Differential causes of bone marrow oedema: typed findings and context in, ranked causes with reasons out.

>>> import bmlkg
>>> kg = bmlkg.load()
>>> result = kg.differential(["bone marrow edema", "fracture of the tibia"], context=["fall onto the knee"])
>>> result.categories[0].label
'traumatic cause of bone marrow oedema'
>>> result.conditions[0].explains
['bone marrow edema', 'fracture of the tibia', 'fall onto the knee']

What the user types is resolved to graph terms (labels, synonyms, British/American spellings, "no X" as
absent, ages and sexes against the demographic context classes, and whole-word matches of known names);
what cannot be resolved is reported with the closest known terms, never dropped. The ranking itself is
the library query ``queries/dx-rank-causes.rq`` (its header documents the score); the links behind each
score (``dx-links``), the findings that would tell the leading candidates apart (``dx-check-next``), the
conditions to tell them apart from (``dx-tell-apart``) and the sources (``evidence-claim-sources``) are
library queries too. Python only resolves input, joins the rows and lays them out.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import asdict, dataclass, field

from .store.errors import InputError
from .query.rows import Source, claim_sources, run
from .store.graph import normalise
from .store.vocab import curie

SCORING = (
    "score = support - against. Support: each present input adds the weight of its best-matching feature "
    "association for the condition (typical 3, common 2, can occur 1; weights are data on the strength "
    "values), at full weight when the input is the associated feature or more specific, at half weight when "
    "it is more general; an input naming the condition itself counts as typical. A condition inherits the "
    "associations of the classes above it. Against: each absent input subtracts the weight of a typical "
    "association it rules out, and each present input matching an 'argues against' association subtracts "
    "that weight's magnitude. Ties: more inputs explained, then label. Cause categories rank by their best "
    "member; conditions outside the categories (such as bone marrow oedema syndrome) rank as entries of "
    "their own. A teaching heuristic from the sources' wording, not a probability."
)
NEGATION = re.compile(r"^(?:no|not|without|absence of|absent|negative for|denies|never had)\s+(?:any\s+|a\s+|an\s+)?"
                      r"(?:history of\s+|sign of\s+|signs of\s+)?(?P<rest>.+)$", re.IGNORECASE)
STOPWORDS = frozenset("a an the of on onto in into to with when while at and or for from after during by "
                      "any some his her their my is was has have had".split())
SEXES = {"man": "male", "men": "male", "male": "male", "boy": "male", "gentleman": "male", "m": "male",
         "woman": "female", "women": "female", "female": "female", "girl": "female", "lady": "female", "f": "female"}
AGE_PATTERNS = (
    re.compile(r"\baged?\s*(\d{1,3})\b"),
    re.compile(r"\b(\d{1,3})\s*-?\s*(?:years?|yrs?|y)\s*-?\s*(?:old|of age)?\b"),
    re.compile(r"\b(\d{1,3})\s*(?:yo|y/o)\b"),
    re.compile(r"^(\d{1,3})\b|\b(\d{1,3})$"),
)
DEMOGRAPHIC_FILLER = frozenset("aged age year years yr yrs y old of yo y/o a an".split())
DEMOGRAPHIC_GROUPS = """
PREFIX bml: <https://w3id.org/bmlkg/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?label WHERE {
  ?c rdfs:subClassOf+ bml:ClinicalContext ; rdfs:label ?label .
  FILTER EXISTS { { ?c bml:ageMin ?x } UNION { ?c bml:ageMax ?x } UNION { ?c bml:sexTerm ?x } }
} ORDER BY ?label"""
CHECK_NEXT_CANDIDATES = 5
CHECK_NEXT_FEATURES = 10


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
    terms: list[ResolvedTerm]
    note: str = ""


@dataclass
class Unresolved:
    text: str
    role: str
    reason: str
    suggestions: list[str]


@dataclass
class Link:
    input: str                      # the text as typed
    term: str                       # the resolved term it matched through
    feature: str
    feature_label: str | None
    strength: str | None
    weight: float
    factor: float
    contribution: float
    via: str                        # the class the association is stated on
    claim: str | None               # None: the input names the condition itself
    claim_label: str | None
    sources: list[Source] = field(default_factory=list)


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
    explains: list[str]
    does_not_explain: list[str]
    counts_against: list[Link]
    links: list[Link]
    red_flag: bool
    red_flag_source: str | None     # the red-flagged class it is or falls under
    red_flag_reason: str | None
    tell_apart_from: list[TellApart]
    check_next: list[dict] = field(default_factory=list)   # leading candidates only: features for it

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
    best: dict                      # the best member: {iri, label, score}
    members: list[dict]
    red_flag: bool
    red_flag_reason: str | None


@dataclass
class CheckNext:
    feature: str
    label: str | None
    points_to: list[dict]           # [{condition, label, strength, weight, claim}]
    n_candidates: int
    of: int


@dataclass
class DifferentialResult:
    inputs: list[Input]
    unresolved: list[Unresolved]
    categories: list[CategoryEntry]
    conditions: list[Candidate]
    check_next: list[CheckNext]
    red_flags: list[dict]
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
            "support": c.support, "against": c.against, "explains": "; ".join(c.explains),
            "does_not_explain": "; ".join(c.does_not_explain), "red_flag": c.red_flag,
        } for c in self.conditions]


# -- resolving what people type ----------------------------------------------------------------------
def _tokens(text: str) -> list[str]:
    words = [w for w in re.split(r"[\s/\-]+", normalise(text)) if w and w not in STOPWORDS]
    return [_stem(w) for w in words]


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


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
        negated = NEGATION.match(raw)
        if negated and self._exact(raw)[0]:
            negated = None          # a known name that starts like a negation is taken as it stands
        if negated and role != "absent":
            phrase, present, note = negated.group("rest").strip(), False, f"read as absent: {negated.group('rest').strip()!r}"
        elif negated:
            phrase = negated.group("rest").strip()
        for attempt in (self._exact, self._demographic, self._words):
            terms, extra = attempt(phrase)
            if terms:
                note = "; ".join(x for x in (note, extra) if x)
                return Input(raw, "absent" if not present else role, present, terms, note), None
            if extra:           # a recognised form (a demographic) that matches no term
                return None, Unresolved(raw, role, extra, self._demographic_groups())
        return None, Unresolved(raw, role, "no term of the graph matches", self.suggest(phrase))

    def _exact(self, phrase: str):
        try:
            term = self.kg.resolve(phrase)
        except InputError:
            return [], ""
        kinds = dict(self.index.get(normalise(phrase), []))
        match = kinds.get(term.iri, "iri")
        return [ResolvedTerm(term.iri, term.label, match)], ""

    def _demographic(self, phrase: str):
        parsed = parse_demographic(phrase)
        if parsed is None:
            return [], ""
        age, sex = parsed
        rows = run(self.kg, "dx-demographic-context", age=age, sex=sex)
        described = ", ".join(x for x in (sex, f"aged {age}" if age is not None else None) if x)
        if not rows:
            return [], f"understood as {described}, but no demographic group of the graph covers it"
        groups = {r["context"]: r.get("label", r["context"]) for r in rows}
        # keep the most specific groups: one typed input must not count once per enclosing group
        specific = [g for g in groups if not (_descendants(self.kg, g) - {g}) & set(groups)]
        return [ResolvedTerm(g, groups[g], "demographic") for g in specific], f"understood as {described}"

    def _words(self, phrase: str):
        """A known name whose words all occur in the input, covering enough of it (see module doc)."""
        words = set(_tokens(phrase))
        if not words:
            return [], ""
        best: list[tuple[int, int, str, str]] = []
        for key, name_words in self.token_index().items():
            if not name_words or not name_words <= words:
                continue
            size = len(name_words)
            if not (size == len(words) or (size >= 2 and 2 * size >= len(words))):
                continue
            for iri, kind in self.index[key]:
                best.append((-size, kind != "label", iri, key))
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
            self._token_index = {key: set(_tokens(key)) for key in self.index}
        return self._token_index

    def suggest(self, phrase: str) -> list[str]:
        key = normalise(phrase)
        close = difflib.get_close_matches(key, list(self.index), n=5, cutoff=0.6)
        words = {w for w in _tokens(phrase) if len(w) > 2}
        overlap = sorted(
            (k for k, w in self.token_index().items() if w & words),
            key=lambda k: (-len(self.token_index()[k] & words), len(k), k),
        )[:5]
        out: list[str] = []
        for k in close + overlap:            # shown as the terms' labels, not the normalised keys
            label = self.labels.get(self.index[k][0][0], k)
            if label not in out:
                out.append(label)
        return out[:6]

    def _demographic_groups(self) -> list[str]:
        return [r["label"] for r in self.kg.select(DEMOGRAPHIC_GROUPS)]


def parse_demographic(text: str) -> tuple[int | None, str | None] | None:
    """``man aged 40`` → (40, 'male'); ``45-year-old woman`` → (45, 'female'); None if not a demographic."""
    key = normalise(text)
    age = None
    for pattern in AGE_PATTERNS:
        match = pattern.search(key)
        if match:
            age = int(next(g for g in match.groups() if g))
            key = (key[:match.start()] + " " + key[match.end():]).strip()
            break
    words = [w for w in re.split(r"[\s,\-]+", key) if w]
    sex = None
    rest = []
    for word in words:
        if word in SEXES and sex is None:
            sex = SEXES[word]
        elif word not in DEMOGRAPHIC_FILLER:
            rest.append(word)
    if rest or (age is None and sex is None) or (age is not None and not 0 <= age <= 120):
        return None
    if age is not None and sex is None and not words and not re.search(r"[a-z]", normalise(text)):
        return None            # a bare number is not an age
    return age, sex


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


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


# -- the differential --------------------------------------------------------------------------------
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
    rows = run(kg, "dx-rank-causes", input=present, absent=missing)
    candidates = _candidates(kg, [r for r in rows if not r["isCategory"]], inputs, present, missing)
    categories = _categories(kg, rows)
    check = _check_next(kg, candidates, present, missing)
    flags = _red_flags(kg, candidates)          # over every candidate, whatever its rank (and --top)
    return DifferentialResult(inputs, unresolved, categories[:top], candidates[:top], check, flags)


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


def _unique(items) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


def _unresolved_text(u: Unresolved) -> str:
    hint = f"; closest known terms: {', '.join(repr(s) for s in u.suggestions)}" if u.suggestions else ""
    return f"{u.role} {u.text!r}: {u.reason}{hint}"


def _texts_for(inputs: list[Input], iris: set[str], present: bool) -> list[str]:
    return [i.text for i in inputs if i.present == present and any(t.iri in iris for t in i.terms)]


def _candidates(kg, rows, inputs, present, missing) -> list[Candidate]:
    if not rows:
        return []
    iris = [r["condition"] for r in rows]
    links = run(kg, "dx-links", condition=iris, input=present, absent=missing)
    tell = run(kg, "dx-tell-apart", condition=iris)
    claims = {r["claim"] for r in links if r.get("claim")} | {r["claim"] for r in tell}
    sources = claim_sources(kg, sorted(claims))
    labels = kg.labels()
    text_of = _term_texts(inputs)
    out = []
    for rank, row in enumerate(rows, start=1):
        cond = row["condition"]
        best = _best_links([r for r in links if r["condition"] == cond], text_of, sources)
        explained = set(row.get("explainedInputs", "").split())
        out.append(Candidate(
            rank=rank, iri=cond, label=row.get("label") or curie(cond),
            categories=[{"iri": c, "label": labels.get(c, curie(c))} for c in sorted(row.get("categories", "").split())],
            score=float(row["score"]), support=float(row["support"]), against=float(row["against"]),
            explains=_texts_for(inputs, explained, True),
            does_not_explain=[i.text for i in inputs if i.present and not any(t.iri in explained for t in i.terms)],
            counts_against=[link for role, link in best if role != "supports"],
            links=[link for role, link in best if role == "supports"],
            red_flag=bool(row.get("redFlag")), red_flag_source=row.get("redFlagSource"),
            red_flag_reason=row.get("redFlagReason"),
            tell_apart_from=[TellApart(t["other"], t.get("otherLabel"), t["claim"], t.get("claimLabel"),
                                       sources.get(t["claim"], [])) for t in tell if t["condition"] == cond],
        ))
    return out


def _term_texts(inputs: list[Input]) -> dict[tuple[str, bool], str]:
    out = {}
    for item in inputs:
        for term in item.terms:
            out.setdefault((term.iri, item.present), item.text)
    return out


def _best_links(rows, text_of, sources) -> list[tuple[str, Link]]:
    """The row the score uses for each (input term, role): the first, as dx-links sorts by contribution."""
    chosen: dict[tuple[str, str], dict] = {}
    for r in rows:
        chosen.setdefault((r["term"], r["role"]), r)
    out = []
    for (term, role), r in chosen.items():
        present = role != "absent"
        out.append((role, Link(
            input=text_of.get((term, present), curie(term)), term=term, feature=r["feature"],
            feature_label=r.get("featureLabel"), strength=r.get("strengthLabel"), weight=float(r["weight"]),
            factor=float(r["factor"]), contribution=float(r["contribution"]), via=r["subject"],
            claim=r.get("claim"), claim_label=r.get("claimLabel"), sources=sources.get(r.get("claim"), []),
        )))
    out.sort(key=lambda x: (-x[1].contribution, x[1].input))
    return out


def _categories(kg, rows) -> list[CategoryEntry]:
    """Cause categories ranked by their best member (the category's own row counts as a member);
    conditions under no category are entries of their own."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        cats = row.get("categories", "").split()
        for cat in cats or [row["condition"]]:
            groups.setdefault(cat, []).append(row)
    facts = {r["cause"]: r for r in run(kg, "dx-cause-facts", cause=sorted(groups))} if groups else {}
    entries = []
    for iri, members in groups.items():
        best = members[0]                       # rows arrive ranked by score, explained, label
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
    entries.sort(key=lambda e: (-e.score, -e.explained, e.label))
    for rank, entry in enumerate(entries, start=1):
        entry.rank = rank
    return entries


def _check_next(kg, candidates: list[Candidate], present, missing) -> list[CheckNext]:
    lead = [c.iri for c in candidates if c.score > 0][:CHECK_NEXT_CANDIDATES]
    if len(lead) < 2:
        return []
    rows = run(kg, "dx-check-next", candidate=lead, input=present, absent=missing)
    found: dict[str, CheckNext] = {}
    for r in rows:
        entry = found.setdefault(r["feature"], CheckNext(r["feature"], r.get("label"), [], r["nCandidates"], r["total"]))
        if any(p["condition"] == r["candidate"] for p in entry.points_to):
            continue
        entry.points_to.append({"condition": r["candidate"], "label": r.get("candidateLabel"),
                                "strength": r.get("strengthLabel"), "weight": float(r["weight"]),
                                "claim": r.get("claim")})
    by_iri = {c.iri: c for c in candidates}
    for item in found.values():        # per candidate: the features that point to it and not to all
        for p in item.points_to:
            by_iri[p["condition"]].check_next.append({
                "feature": item.feature, "label": item.label, "strength": p["strength"], "weight": p["weight"],
                "also_points_to": [q["label"] for q in item.points_to if q["condition"] != p["condition"]],
            })
    return list(found.values())[:CHECK_NEXT_FEATURES]


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
def _n(value: float) -> str:
    return f"{value:g}"


def _refs(sources: list[Source]) -> str:
    return "; ".join(s.ref() for s in sources) or "-"


def _input_lines(result: DifferentialResult) -> list[str]:
    lines = ["Inputs:"]
    for item in result.inputs:
        terms = ", ".join(f"{t.label} ({t.curie}, {t.match})" for t in item.terms)
        status = "present" if item.present else "ABSENT"
        note = f"  [{item.note}]" if item.note else ""
        lines.append(f"  {item.role:<8} {item.text!r} -> {terms} {status}{note}")
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


def _candidate_lines(c: Candidate) -> list[str]:
    cats = ", ".join(x["label"] for x in c.categories) or "no cause category"
    lines = [f"  {c.rank:>2}. {c.label} ({c.curie}) [{cats}]  score {_n(c.score)} "
             f"= support {_n(c.support)} - against {_n(c.against)}"]
    if c.red_flag:
        lines.append(f"      RED FLAG: {c.red_flag_reason or 'needs urgent work-up'}")
    lines.append(f"      explains: {'; '.join(c.explains) or '-'}")
    lines.append(f"      does not explain: {'; '.join(c.does_not_explain) or '-'}")
    for link in c.links:
        claim = f"{curie(link.claim)}: {link.claim_label}" if link.claim else "the input is this condition or a kind of it"
        lines.append(f"      + {_n(link.contribution)} {link.input!r} ~ {link.feature_label} ({link.strength}"
                     f"{', half: input more general' if link.factor < 1 else ''}) <- {claim} [{_refs(link.sources)}]")
    for link in c.counts_against:
        why = "absent" if link.weight > 0 else "argues against"
        claim = f"{curie(link.claim)}" if link.claim else "the input is this condition or a kind of it"
        lines.append(f"      - {_n(link.contribution)} {link.input!r} {why}: {link.feature_label} ({link.strength}) "
                     f"<- {claim} [{_refs(link.sources)}]")
    for t in c.tell_apart_from:
        lines.append(f"      tell apart from: {t.label} <- {curie(t.claim)}: {t.claim_label} [{_refs(t.sources)}]")
    if c.check_next:
        shown = "; ".join(f"{x['label']} ({x['strength']})" for x in c.check_next[:5])
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
        lines += ["", "Check next (findings that split the leading candidates):"]
        for item in result.check_next:
            points = "; ".join(f"{p['strength']} for {p['label']}" for p in item.points_to)
            lines.append(f"  - {item.label}: {points}")
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
