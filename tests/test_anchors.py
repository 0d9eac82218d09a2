"""Every claim is anchored to the passage of its seed article that states it (ontology/anchors.ttl).

An anchor is a Web Annotation TextPositionSelector: ``oa:start``/``oa:end`` count Unicode code points of
the seed file decoded as UTF-8 (``text[start:end]`` in Python), ``bml:inSeed`` names the seed article and
``bml:seedSha256`` the digest of the file the offsets were counted in. No sentence of a seed is stored;
these tests read the seeds beside the checkout (``../shared/seeds/``, as in CI) and check, for every claim:

1. it has at least one anchor, and one in every seed article it cites (``dcterms:source``);
2. each anchor's ``bml:seedSha256`` is the SHA-256 of that seed file, and its offsets lie inside the text;
3. the passage contains the claim's numbers as the seed prints them: every number token of
   ``bml:asReported`` verbatim (``5.7%``, ``1.32``, ``0.95–1.83``, ``1,145``), and every numeric property
   (estimate, bounds, p-value, sample size, mean age, range, before/after, follow-up) as a number the
   passage prints, in digits (``1,412`` for 1412, ``0.10`` for 0.1) or as a number word (``twelve``);
4. the passage contains the claim's key terms: for the subject term and for the object term, at least one
   of its names (rdfs:label or an oboInOwl synonym) -- see :func:`name_matches` for the tolerance;
5. no definition (obo:IAO_0000115, skos:definition) repeats a run of twelve or more words of a seed.

Checks 3 and 4 look at the union of a claim's passages in one seed (a seed may describe the study in
one sentence and give the result in the next paragraph), and every single passage must contain at least
one key term, so an anchor cannot point at unrelated text. Without the seeds the tests skip, saying why;
under CI=true they fail instead. ``test_checker_rejects_*`` feed the same checker deliberately wrong
anchors and a copied definition, so the checks are shown to fail.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

from .conftest import REPO, require_tool

SEEDS_DIR = REPO.parent / "shared" / "seeds"
BML = "https://w3id.org/bmlkg/"
OA = "http://www.w3.org/ns/oa#"
SEED_PREFIX = BML + "source/seed-"
NUMERIC_PROPERTIES = ("estimate", "ciLower", "ciUpper", "pValue", "sampleSize", "meanAge", "rangeLow",
                      "rangeHigh", "valueBefore", "valueAfter", "followUpValue")
SYNONYMS = ("hasExactSynonym", "hasRelatedSynonym", "hasNarrowSynonym", "hasBroadSynonym")
COPY_RUN = 12  # words: a definition may not repeat this many consecutive words of a seed

# --- text normalisation shared by the key-term and copy checks -------------------------------------

STOP_WORDS = frozenset("a an and as at by for from in into is its of on or the to with".split())
# British and American spellings are one word here (the seeds mix them: oedema/edema, tumour/tumor).
SPELLING = ((re.compile(r"^oe"), "e"), (re.compile(r"ae"), "e"), (re.compile(r"our$"), "or"),
            (re.compile(r"is(ation|ed|es|e|ing)$"), r"iz\1"))
SUFFIXES = ("ations", "ation", "ments", "ment", "tion", "ion", "ings", "ing", "ied", "ness", "ally", "ical", "age",
            "ic", "al", "ed", "ly", "e", "y")
NUMBER_WORDS = {w: Decimal(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}
NUMBER_WORDS.update({"thirty": Decimal(30), "forty": Decimal(40), "fifty": Decimal(50)})
NUMBER_TOKEN = re.compile(r"\d[\d,]*(?:\.\d+)?%?")


def stem(word: str) -> str:
    """A deliberately crude stemmer: plural, spelling variants and up to two common suffixes go.

    The tolerance of the key-term check: 'lesions' = 'lesion', 'BMLs' = 'BML', 'injuries' = 'injury',
    'oedema' = 'edema', 'tumours' = 'tumor', 'sensitised' = 'sensitized', 'fractures' = 'fracture',
    'enlargement' = 'enlarge', 'progression' = 'progress', 'metastasis' = 'metastases'; a suffix goes only when at least four letters
    remain, so short words are compared whole.
    """
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if word.endswith("sis") and len(word) > 5:
        word = word[:-2]  # 'metastasis' = 'metastases', 'diagnosis' = 'diagnoses'
    elif word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith("ss") and len(word) >= 4:
        word = word[:-1]
    for pattern, repl in SPELLING:
        word = pattern.sub(repl, word)
    for _ in range(2):  # 'enlargement' -> 'enlarge' -> 'enlarg', as 'enlarged' -> 'enlarg'
        for suffix in SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)]
                break
    return word


def words(text: str) -> list[str]:
    """Lower-case words of a text: letters and digits; hyphens, dashes and punctuation separate words."""
    return re.findall(r"[^\W_]+", text.lower())


def stems(text: str) -> set[str]:
    return {stem(w) for w in words(text)}


def name_matches(name: str, passage_stems: set[str]) -> bool:
    """A name is in a passage when every word of it, stop words aside, is, stemmed, a word of the passage.

    Order and adjacency are not required ('breast, lung, prostate, and kidney cancer' contains
    'breast cancer' and 'kidney cancer'); a name made only of stop words never matches. Seed 002 lost
    the spaces around its links when it was saved ('likerheumatoid arthritis', 'spondylitiscan'), so a
    name word of three or more letters also matches inside a longer passage word.
    """
    content = [stem(w) for w in words(name) if w not in STOP_WORDS]
    return bool(content) and all(w in passage_stems or _glued(w, passage_stems) for w in content)


def _glued(word: str, passage_stems: set[str]) -> bool:
    return len(word) >= 3 and any(word in s for s in passage_stems if len(s) > len(word))


def printed_numbers(text: str) -> list[str]:
    """Number tokens as printed: '5.7%', '1,145', '0.95' and '1.83' of '0.95–1.83', '4' of '≥4'."""
    return [t.rstrip(",") for t in NUMBER_TOKEN.findall(text)]


def number_values(text: str) -> set[Decimal]:
    """Every number a passage prints, in digits ('1,412', '0.10', '24-month') or as a word ('twelve')."""
    values = set()
    for token in printed_numbers(text):
        try:
            values.add(Decimal(token.rstrip("%").replace(",", "")))
        except InvalidOperation:
            pass
    values.update(NUMBER_WORDS[w] for w in words(text) if w in NUMBER_WORDS)
    return values


def copied_runs(text: str, seed_text: str, n: int = COPY_RUN) -> list[str]:
    """Runs of ``n`` or more words (case and whitespace normalised) that ``text`` shares with a seed."""
    seed_words = words(seed_text)
    seed_grams = {tuple(seed_words[i:i + n]) for i in range(len(seed_words) - n + 1)}
    own = words(text)
    return [" ".join(own[i:i + n]) for i in range(len(own) - n + 1) if tuple(own[i:i + n]) in seed_grams]


# --- where a seed words a term differently from every label and synonym -----------------------------
# claim (local name) -> role -> (the seed's words for the term, why they name it). Reviewed by hand: the
# words must still occur in the claim's passages (they count as one more name of the term for that claim
# only), so an entry cannot hide a wrong anchor. Prefer adding a synonym to the term when the seed's word
# is a true synonym; use this table when it is not (a misprint, a broader word, an ordinal).
SEED_WORDING: dict[str, dict[str, tuple[str, str]]] = {
    "cond-bmes-pain-eases-over-months": {"object": ("pain usually subsides", "seed 003: the pain subsides over months")},
    "cond-injury-bone-overload": {"subject": ("microfactures", "seed 003 misprints 'microfractures'")},
    "mech-microfracture-bme": {"subject": ("microfactures", "seed 003 misprints 'microfractures'")},
    "dx-avascular-necrosis-circulation": {"object": ("loss of blood supply", "seed 002: loss of blood supply to bone")},
    "dx-bmes-age-30-to-50": {"object": ("thirtieth and fiftieth year of life", "seed 003 gives the ages as ordinals")},
    "ev-bml-burden-grows-with-oa-stage": {"object": ("number and size of lesions", "seed 001's words for lesion burden")},
    "img-signal-bml-fluid-sensitive": {"object": ("STIR or fat-suppressed sequences",
                                                  "seed 001 names the fluid-sensitive sequences it means")},
    "mech-bone-afferent-sensitisation-knee-pain": {"object": ("pain signalling",
                                                              "seed 001 speaks of pain signalling in a rat OA model")},
    "mech-immune-senescence-knee-pain": {"object": ("BMLs tied to pain", "seed 001: the pathways explain why BMLs "
                                                                          "are tied to pain")},
    "mech-bone-overloading-bme": {"subject": ("overloading of the bones", "seed 003's words")},
    "mech-disturbed-circulation-bme": {"subject": ("circulatory disorders", "seed 003's words for disturbed "
                                                                           "circulation")},
    "tx-bisphosphonate-bml-shrinkage-short-term": {"object": ("reductions in BML size", "seed 000's words")},
    "tx-bmes-acute-pain-relief": {"subject": ("pain and anti-inflammatory agents",
                                              "seed 003 names pain-relieving agents with anti-inflammatories")},
    "tx-bml-targeted-long-term-unproven": {"subject": ("directly reducing a BML", "seed 000's words"),
                                           "object": ("durable improvements in function", "seed 000's words")},
    "tx-bone-marrow-drilling-pain": {"object": ("to reduce pain", "seed 003's words")},
    "tx-oa-ia-corticosteroid": {"object": ("symptom tools", "seed 000: standard symptom tools in knee OA")},
    "tx-oa-ia-hyaluronic-acid": {"object": ("symptom tools", "seed 000: standard symptom tools in knee OA")},
    "tx-oa-oral-nsaid": {"object": ("symptom tools", "seed 000: standard symptom tools in knee OA")},
    "tx-oa-topical-nsaid": {"object": ("symptom tools", "seed 000: standard symptom tools in knee OA")},
    "tx-oa-load-change-most-reliable-for-bml": {"subject": ("changing the loads the joint sees", "seed 000's words")},
    "tx-strontium-ranelate-womac-pain": {"object": ("reductions in WOMAC pain", "seed 001's words")},
    "tx-subchondroplasty-tkr-conversion": {"object": ("converted to total knee replacement", "seed 001's words")},
    "tx-zoledronic-acid-osteoclasts": {"object": ("suppresses osteoclast activity", "seed 001's words")},
    "tx-zoledronic-acid-rct-tkr": {"object": ("delay total knee replacement", "seed 001's words")},
}


# --- claims that cite a seed which does not state them --------------------------------------------
# claim (local name) -> seed number -> why no passage of that seed states the claim. These are defects of
# the claim (its source or its wording), not of the anchors: the test reports each of them, skips the
# "anchor in every cited seed" rule for that seed only, and fails once the claim is anchored there or
# stops citing the seed, so the entry is removed with the fix. Faking an anchor for them is not an option.
UNSTATED_IN_SEED: dict[str, dict[str, str]] = {
}


# --- the checker ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    seed: str        # seed article IRI
    start: int
    end: int
    sha256: str


@dataclass
class ClaimFacts:
    """What the checker needs to know about one claim."""

    iri: str
    seeds: list[str]                                   # seed articles among its dcterms:source
    subject_names: list[str]
    object_names: list[str]
    numbers: dict[str, Decimal] = field(default_factory=dict)   # numeric property -> value
    as_reported: list[str] = field(default_factory=list)
    anchors: list[Anchor] = field(default_factory=list)
    wording: dict[str, list[str]] = field(default_factory=dict)  # role -> the seed's words (SEED_WORDING)


@dataclass(frozen=True)
class Seed:
    iri: str
    path: Path
    text: str
    sha256: str

    @classmethod
    def read(cls, iri: str, path: Path) -> "Seed":
        data = path.read_bytes()
        return cls(iri, path, data.decode("utf-8"), hashlib.sha256(data).hexdigest())


def _short(iri: str) -> str:
    return iri.replace(BML + "claim/", "claim:").replace(BML + "source/", "src:").replace(BML, "bml:")


def check_claim(claim: ClaimFacts, seeds: dict[str, Seed]) -> list[str]:
    """Every problem with one claim's anchors, as messages that say what to fix; [] when it is anchored."""
    who = _short(claim.iri)
    unstated = {SEED_PREFIX + n for n in UNSTATED_IN_SEED.get(claim.iri.rsplit("/", 1)[-1], {})}
    if not claim.anchors:
        if claim.seeds and set(claim.seeds) <= unstated:
            return []  # reported by test_claims_their_seeds_do_not_state
        return [f"{who}: no anchor; add bml:statedAt to ontology/anchors.ttl (docs/CURATION.md)"]
    problems = []
    passages: dict[str, list[str]] = {}
    subject_names = claim.subject_names + claim.wording.get("subject", [])
    object_names = claim.object_names + claim.wording.get("object", [])
    for a in claim.anchors:
        where = f"{who} anchor {_short(a.seed)} [{a.start}:{a.end}]"
        seed = seeds.get(a.seed)
        if seed is None:
            problems.append(f"{where}: {_short(a.seed)} is not a seed article with a file in {SEEDS_DIR.name}/")
            continue
        if a.sha256 != seed.sha256:
            problems.append(f"{where}: bml:seedSha256 {a.sha256[:12]}… is not the SHA-256 of {seed.path.name} "
                            f"({seed.sha256[:12]}…); the seed changed: re-check the offsets, then update the digest")
        if not 0 <= a.start < a.end <= len(seed.text):
            problems.append(f"{where}: offsets outside {seed.path.name} (0..{len(seed.text)} code points)")
            continue
        passage = seed.text[a.start:a.end]
        found = stems(passage)
        if not any(name_matches(n, found) for n in subject_names + object_names) \
                and not (set(claim.numbers.values()) & number_values(passage)):
            problems.append(f"{where}: the passage names neither the subject nor the object of the claim "
                            f"and prints none of its numbers ({passage[:60]!r}…)")
        passages.setdefault(a.seed, []).append(passage)
    for seed_iri in claim.seeds:
        if seed_iri in unstated:
            if any(a.seed == seed_iri for a in claim.anchors):
                problems.append(f"{who}: anchored in {_short(seed_iri)}, which UNSTATED_IN_SEED says does not "
                                f"state it; remove the entry from tests/test_anchors.py")
            continue
        if seed_iri not in passages and not any(a.seed == seed_iri for a in claim.anchors):
            problems.append(f"{who}: cites {_short(seed_iri)} but has no anchor in it; anchor the passage that "
                            f"states the claim, or, if that seed does not state it, stop citing it")
    for seed_iri, texts in passages.items():
        found = stems(" ".join(texts))
        for role, names in (("subject", subject_names), ("object", object_names)):
            if not any(name_matches(n, found) for n in names):
                problems.append(f"{who}: its passages in {_short(seed_iri)} name no {role} term "
                                f"(any of {sorted(names)[:4]}); anchor the passage that states the claim, "
                                f"or add the seed's word as a synonym of the term")
    every = " ".join(t for texts in passages.values() for t in texts)
    if passages:
        printed = set(printed_numbers(every))
        for reported in claim.as_reported:
            missing = [t for t in printed_numbers(reported) if t not in printed]
            if missing:
                problems.append(f"{who}: the passages do not print {missing} of bml:asReported {reported!r}")
        values = number_values(every)
        for prop, value in sorted(claim.numbers.items()):
            if value not in values:
                problems.append(f"{who}: the passages do not print bml:{prop} {value}")
    return problems


def check_definitions(definitions: dict[str, str], seeds: dict[str, Seed], n: int = COPY_RUN) -> list[str]:
    """Definitions that repeat ``n`` or more consecutive words of a seed."""
    problems = []
    for iri, text in sorted(definitions.items()):
        for seed in seeds.values():
            runs = copied_runs(text, seed.text, n)
            if runs:
                problems.append(f"{_short(iri)}: definition repeats {len(runs[0].split())}+ words of "
                                f"{seed.path.name} ({runs[0]!r}); write it in the project's own words")
                break
    return problems


# --- reading the graph --------------------------------------------------------------------------------

_CACHE: dict[str, object] = {}


def _kg():
    if "kg" not in _CACHE:
        import bmlkg

        _CACHE["kg"] = bmlkg.load()
    return _CACHE["kg"]


def load_seeds(kg) -> dict[str, Seed]:
    rows = kg.select(f"SELECT ?s ?f WHERE {{ ?s <{BML}seedFileName> ?f }} ORDER BY ?s")
    return {r["s"]: Seed.read(r["s"], SEEDS_DIR / r["f"]) for r in rows if (SEEDS_DIR / r["f"]).is_file()}


def load_claims(kg) -> dict[str, ClaimFacts]:
    names: dict[str, list[str]] = {}
    for r in kg.select(f"""
        SELECT ?t ?n WHERE {{
          ?c <{BML}subjectTerm>|<{BML}objectTerm> ?t .
          {{ ?t <http://www.w3.org/2000/01/rdf-schema#label> ?n }}
          UNION {{ VALUES ?p {{ {' '.join(f'<http://www.geneontology.org/formats/oboInOwl#{s}>' for s in SYNONYMS)} }}
                  ?t ?p ?n FILTER(LANG(?n) = "" || LANGMATCHES(LANG(?n), "en")) }}
        }}"""):
        names.setdefault(r["t"], []).append(r["n"])
    claims: dict[str, ClaimFacts] = {}
    for r in kg.select(f"""
        SELECT ?c ?s ?o WHERE {{ ?c a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* <{BML}Claim> ;
                                   <{BML}subjectTerm> ?s ; <{BML}objectTerm> ?o }} ORDER BY ?c"""):
        claims[r["c"]] = ClaimFacts(r["c"], [], sorted(set(names.get(r["s"], []))),
                                    sorted(set(names.get(r["o"], []))))
    for r in kg.select(f"""SELECT ?c ?src WHERE {{ ?c <http://purl.org/dc/terms/source> ?src
                              FILTER(STRSTARTS(STR(?src), "{SEED_PREFIX}")) }} ORDER BY ?c ?src"""):
        if r["c"] in claims:
            claims[r["c"]].seeds.append(r["src"])
    values = " ".join(f"<{BML}{p}>" for p in NUMERIC_PROPERTIES)
    for r in kg.select(f"SELECT ?c ?p ?v WHERE {{ VALUES ?p {{ {values} }} ?c ?p ?v }}"):
        if r["c"] in claims:
            claims[r["c"]].numbers[r["p"].rsplit("/", 1)[-1]] = Decimal(r["v"])
    for r in kg.select(f"SELECT ?c ?v WHERE {{ ?c <{BML}asReported> ?v }} ORDER BY ?c ?v"):
        if r["c"] in claims:
            claims[r["c"]].as_reported.append(r["v"])
    for r in kg.select(f"""
        SELECT ?c ?seed ?start ?end ?sha WHERE {{
          ?c <{BML}statedAt> ?a . ?a <{OA}start> ?start ; <{OA}end> ?end ; <{BML}inSeed> ?seed ;
             <{BML}seedSha256> ?sha }} ORDER BY ?c ?seed ?start"""):
        if r["c"] in claims:
            claims[r["c"]].anchors.append(Anchor(r["seed"], int(r["start"]), int(r["end"]), r["sha"]))
    return claims


def attach_wording(claims: dict[str, ClaimFacts]) -> None:
    for local, roles in SEED_WORDING.items():
        claim = claims.get(BML + "claim/" + local)
        if claim is not None:
            claim.wording = {role: [words_] for role, (words_, _why) in roles.items()}


def load_definitions(kg) -> dict[str, str]:
    rows = kg.select("""SELECT ?s ?d WHERE {
        VALUES ?p { <http://purl.obolibrary.org/obo/IAO_0000115> <http://www.w3.org/2004/02/skos/core#definition> }
        ?s ?p ?d }""")
    return {r["s"]: r["d"] for r in rows}


@pytest.fixture(scope="module")
def seeds():
    require_tool(SEEDS_DIR.is_dir(), f"the seed folder beside the checkout ({SEEDS_DIR}, the four seed articles)")
    found = load_seeds(_kg())
    assert len(found) == 4, (f"expected the four seed files named by bml:seedFileName in {SEEDS_DIR}, "
                             f"found {sorted(s.path.name for s in found.values())}")
    return found


# --- the real data --------------------------------------------------------------------------------------


def test_every_claim_is_anchored_to_a_passage_that_states_it(seeds):
    claims = load_claims(_kg())
    attach_wording(claims)
    assert len(claims) >= 50
    problems = [p for c in claims.values() for p in check_claim(c, seeds)]
    assert not problems, f"{len(problems)} anchor problem(s):\n" + "\n".join(problems)


def test_claims_their_seeds_do_not_state(seeds):
    """Lists the claims that cite a seed which does not state them; fails when the list is out of date."""
    claims = load_claims(_kg())
    stale = []
    for local, by_seed in sorted(UNSTATED_IN_SEED.items()):
        claim = claims.get(BML + "claim/" + local)
        for number, why in sorted(by_seed.items()):
            seed_iri = SEED_PREFIX + number
            if claim is None or seed_iri not in claim.seeds:
                stale.append(f"claim:{local} no longer cites src:seed-{number}")
            else:
                warnings.warn(f"claim:{local} cites src:seed-{number}, which does not state it: {why}", UserWarning)
    assert not stale, "fixed; remove these entries from UNSTATED_IN_SEED in tests/test_anchors.py:\n" + \
        "\n".join(stale)


def test_anchors_belong_to_claims_and_cite_their_seed(seeds):
    kg = _kg()
    rows = kg.select(f"""SELECT ?c ?seed WHERE {{ ?c <{BML}statedAt>/<{BML}inSeed> ?seed
        FILTER NOT EXISTS {{ ?c <http://purl.org/dc/terms/source> ?seed }} }} ORDER BY ?c""")
    assert not rows, "anchored in a seed the claim does not cite (add the dcterms:source or fix the anchor):\n" + \
        "\n".join(f"{_short(r['c'])} in {_short(r['seed'])}" for r in rows)


def test_no_definition_repeats_twelve_words_of_a_seed(seeds):
    problems = check_definitions(load_definitions(_kg()), seeds)
    assert not problems, "\n".join(problems)


# --- the checker can fail ---------------------------------------------------------------------------------

FIXTURE_TEXT = ("Intro line.\nA 2025 cohort of 1,145 knees (mean age 72.9) found that bone marrow lesions "
                "were not linked to knee pain (OR 1.32, 95% CI 0.95–1.83). Osteoid osteomas are rare.\n")
FIXTURE_IRI = SEED_PREFIX + "fixture"


def _fixture_seed(tmp_path: Path) -> dict[str, Seed]:
    path = tmp_path / "fixture.txt"
    path.write_bytes(FIXTURE_TEXT.encode("utf-8"))
    return {FIXTURE_IRI: Seed.read(FIXTURE_IRI, path)}


def _fixture_claim(seeds: dict[str, Seed], start: int, end: int, sha: str | None = None) -> ClaimFacts:
    return ClaimFacts(
        BML + "claim/fixture", [FIXTURE_IRI], ["bone marrow lesion", "BML"], ["knee pain"],
        numbers={"estimate": Decimal("1.32"), "ciLower": Decimal("0.95"), "ciUpper": Decimal("1.83"),
                 "sampleSize": Decimal(1145), "meanAge": Decimal("72.9")},
        as_reported=["OR 1.32, 95% CI 0.95–1.83"],
        anchors=[Anchor(FIXTURE_IRI, start, end, sha or seeds[FIXTURE_IRI].sha256)])


def _span(phrase_start: str, phrase_end: str) -> tuple[int, int]:
    start = FIXTURE_TEXT.index(phrase_start)
    return start, FIXTURE_TEXT.index(phrase_end, start) + len(phrase_end)


def test_checker_accepts_a_right_anchor(tmp_path):
    seeds = _fixture_seed(tmp_path)
    start, end = _span("A 2025 cohort", "1.83).")
    assert check_claim(_fixture_claim(seeds, start, end), seeds) == []
    assert FIXTURE_TEXT[start:end].startswith("A 2025") and end - start == len(FIXTURE_TEXT[start:end])


def test_checker_rejects_wrong_anchors(tmp_path):
    seeds = _fixture_seed(tmp_path)
    start, end = _span("A 2025 cohort", "1.83).")

    def problems(claim):
        return "\n".join(check_claim(claim, seeds))

    # offsets past the end of the seed
    assert "outside" in problems(_fixture_claim(seeds, start, len(FIXTURE_TEXT) + 5))
    # a digest of some other file
    assert "not the SHA-256" in problems(_fixture_claim(seeds, start, end, sha="0" * 64))
    # a passage cut before the interval: numbers as printed are missing
    cut = _fixture_claim(seeds, start, FIXTURE_TEXT.index("(OR"))
    assert "do not print ['1.32', '95%', '0.95', '1.83']" in problems(cut) and "bml:ciUpper 1.83" in problems(cut)
    # the wrong sentence: neither subject nor object is named
    other = _span("Osteoid", "rare.")
    assert "names neither" in problems(_fixture_claim(seeds, *other))
    # a passage with the subject but not the object
    subject_only = _span("A 2025 cohort", "lesions")
    assert "name no object term" in problems(_fixture_claim(seeds, *subject_only))
    # no anchor at all, and a cited seed without an anchor
    bare = _fixture_claim(seeds, start, end)
    bare.anchors = []
    assert "no anchor" in problems(bare)
    two_seeds = _fixture_claim(seeds, start, end)
    two_seeds.seeds.append(SEED_PREFIX + "999")
    assert "cites src:seed-999 but has no anchor" in problems(two_seeds)


def test_checker_rejects_a_copied_definition(tmp_path):
    seeds = _fixture_seed(tmp_path)
    copied = {BML + "Copied": "A  cohort OF 1,145 knees (mean age 72.9) found that bone marrow lesions were not linked."}
    own = {BML + "Own": "A lesion of the marrow seen on MRI; in the fixture, a cohort of knees was studied."}
    assert "repeats 12+ words" in "\n".join(check_definitions(copied, seeds))
    assert check_definitions(own, seeds) == []


def test_key_term_tolerance():
    passage = stems("Bone metastases occur more frequently in breast, lung, prostate, and kidney cancer; "
                    "ischemic bone marrow edema; localized tumors")
    assert name_matches("kidney cancer", passage) and name_matches("bone metastasis", passage)
    assert name_matches("ischaemic bone marrow oedema", passage) and name_matches("localised tumour", passage)
    assert not name_matches("colon cancer", passage) and not name_matches("of the", passage)
    assert number_values("1,412 knees over twelve months, B=0.10") >= {Decimal(1412), Decimal(12), Decimal("0.1")}
