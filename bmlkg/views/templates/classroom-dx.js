/* bmlkg classroom: the differential. The score is the library query dx-rank-causes, each input's
   contribution dx-links, check next dx-check-next, tell apart dx-tell-apart, sources
   evidence-claim-sources. This file resolves what was typed with the rules of ontology/input-rules.json
   (DATA.rules, the file bmlkg/differential.py reads) and joins the rows, step for step as
   docs/differential.md ("What the caller does") lists them, so window.bmlkg.differential returns what
   `bmlkg differential --format json` prints. */

const RULES = DATA.rules;
const SPLIT = new RegExp(RULES.tokens.split);
const SUBCLASS_OF = "http://www.w3.org/2000/01/rdf-schema#subClassOf";

/* words of a text for matching names: split, stop words dropped, plurals folded */
function tokens(text) {
  const stop = new Set(RULES.tokens.stop_words);
  const out = [];
  for (let word of normalise(text).split(SPLIT)) {
    if (!word || stop.has(word)) continue;
    for (const rule of RULES.tokens.plural_rules) {
      if (Array.from(word).length >= rule.min_length && word.endsWith(rule.suffix) &&
          !(rule.unless && word.endsWith(rule.unless))) {
        word = word.slice(0, word.length - rule.suffix.length) + rule.replace;
        break;
      }
    }
    out.push(word);
  }
  return out;
}

/* "boy aged 13" -> {low: 13, high: 13, sex: "male"}; null when the text is not an age or sex */
function parseDemographic(text) {
  const rules = RULES.demographic;
  let key = normalise(text);
  if (!/[\p{L}\p{Nl}\p{No}]/u.test(key)) return null;
  let low = null, high = null;
  for (const entry of rules.age_patterns) {
    const found = new RegExp(entry.pattern, "i").exec(key);
    if (!found) continue;
    const value = found[1];
    if (entry.read === "decade word") { low = rules.decade_words[value.toLowerCase()]; high = low + 9; }
    else if (entry.read === "decade digit") { low = Number(value) * 10; high = low + 9; }
    else { low = high = Number(value); }
    key = (key.slice(0, found.index) + " " + key.slice(found.index + found[0].length)).trim();
    break;
  }
  let sex = null;
  const ranges = [], rest = [];
  for (const word of key.split(new RegExp(RULES.tokens.split + "|,")).filter(Boolean)) {
    let known = false;
    if (word in rules.sex_words) { sex = sex || rules.sex_words[word]; known = true; }
    if (word in rules.age_words) { ranges.push(rules.age_words[word]); known = true; }
    if (!known && !rules.filler_words.includes(word)) rest.push(word);
  }
  if (rest.length || (low === null && sex === null && !ranges.length)) return null;
  for (const [lo, hi] of ranges) {
    if (low === null) { low = lo; high = hi; }
    else if (Math.max(low, lo) <= Math.min(high, hi)) { low = Math.max(low, lo); high = Math.min(high, hi); }
  }
  if (low !== null && !(0 <= low && low <= high && high <= rules.max_age)) return null;
  return { low, high, sex };
}

function unique(items) {
  return [...new Set(items)];
}

function isSubset(a, b) {
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

class Differential {
  constructor(engine) {
    this.engine = engine;
    this.tokenIndex = new Map([...engine.names.keys()].map((k) => [k, new Set(tokens(k))]));
  }

  /* a library query's rows, an empty list binding nothing (bmlkg.query.rows.run) */
  run(name, params) {
    const bound = {};
    for (const [k, v] of Object.entries(params)) {
      if (v !== null && v !== undefined && !(Array.isArray(v) && !v.length)) bound[k] = v;
    }
    return this.engine.rows(name, bound);
  }

  label(iri) {
    return iri ? this.engine.labels.get(iri) ?? null : null;
  }

  /* -- resolving what was typed (bmlkg.differential.Resolver) -- */
  resolveInput(text, role) {
    const raw = String(text).trim();
    if (!raw) return [null, { text: raw, role, reason: "empty input", suggestions: [] }];
    let present = role !== "absent";
    let phrase = raw, note = "";
    let negated = new RegExp(RULES.negation.pattern, "i").exec(normalise(raw));
    if (negated && this.exact(raw).length) negated = null;
    if (negated) {
      phrase = negated[1].trim();
      if (role !== "absent") { present = false; note = `read as absent: ${pyRepr(phrase)}`; }
    }
    const outRole = present ? role : "absent";
    if (present) {
      const parsed = parseDemographic(phrase);
      if (parsed !== null) return [this.demographic(raw, outRole, parsed), null];
    }
    let terms = this.exact(phrase);
    if (terms.length) return [this.input(raw, outRole, present, terms, note), null];
    const [wordTerms, extra] = this.words(phrase);
    if (wordTerms.length) return [this.input(raw, outRole, present, wordTerms, [note, extra].filter(Boolean).join("; ")), null];
    return [null, { text: raw, role, reason: "no term of the graph matches", suggestions: this.suggest(phrase) }];
  }

  input(text, role, present, terms, note, extra = {}) {
    return { text, role, present, terms, note, groups: [], age: null, sex: null, ...extra };
  }

  term(iri, label, match) {
    return { iri, label, match, curie: curie(iri) };
  }

  exact(phrase) {
    const found = this.engine.resolve(phrase);
    if (!found) return [];
    const kinds = new Map(this.engine.names.get(normalise(phrase)) || []);
    return [this.term(found.iri, found.label, kinds.get(found.iri) || "iri")];
  }

  demographic(raw, role, { low, high, sex }) {
    const rows = this.run("dx-demographic-context", { ageLow: low, ageHigh: high, sex });
    const age = low === null ? null : (low === high ? `aged ${low}` : `aged ${low} to ${high}`);
    const described = [sex, age].filter(Boolean).join(", ");
    const terms = rows.filter((r) => r.specific).map((r) => this.term(r.context, r.label || curie(r.context), "demographic"));
    let note = `understood as ${described}`;
    if (!rows.length) note += "; no demographic group of the graph covers it (the age and sex still count for contradictions)";
    return this.input(raw, role, true, terms, note, { groups: rows.map((r) => r.label || curie(r.context)),
                                                      age: low === null ? null : [low, high], sex });
  }

  words(phrase) {
    const rules = RULES.words;
    const words = new Set(tokens(phrase));
    if (!words.size) return [[], ""];
    const optional = new Set(rules.optional_name_words);
    const best = [];
    for (const [key, nameWords] of this.tokenIndex) {
      if (!nameWords.size) continue;
      const size = nameWords.size;
      if (isSubset(nameWords, words)) {
        if (!(size === words.size || (size >= 2 && size >= rules.min_cover * words.size))) continue;
      } else if (!(words.size < nameWords.size && isSubset(words, nameWords) &&
                   [...nameWords].every((w) => words.has(w) || optional.has(w)))) {
        continue;
      }
      const shared = [...nameWords].filter((w) => words.has(w)).length;
      for (const [iri, kind] of this.engine.names.get(key)) best.push([-shared, kind !== "label", iri, key]);
    }
    if (!best.length) return [[], ""];
    best.sort(compareKeys);
    const top = best[0];
    const iri = top[2];
    const ignored = [...words].filter((w) => !this.tokenIndex.get(top[3]).has(w)).sort(compareStrings);
    const others = unique(best.filter((b) => b[0] === top[0] && b[2] !== iri).map((b) => b[2])).sort(compareStrings);
    let note = `matched the words of ${pyRepr(top[3])}`;
    if (ignored.length) note += `; not used: ${ignored.join(", ")}`;
    if (others.length) note += "; also fits: " + others.map((o) => this.engine.labels.get(o) ?? curie(o)).join(", ");
    return [[this.term(iri, this.engine.labels.get(iri) ?? curie(iri), "words")], note];
  }

  suggest(phrase) {
    const rules = RULES.suggestions;
    const key = normalise(phrase);
    const keys = [...this.engine.names.keys()];
    const close = closeMatches(key, keys, rules.close_max, rules.cutoff);
    const words = new Set(tokens(phrase).filter((w) => Array.from(w).length > rules.min_word));
    const shared = (k) => [...this.tokenIndex.get(k)].filter((w) => words.has(w)).length;
    const overlap = keys.filter((k) => shared(k) > 0)
      .sort((a, b) => compareKeys([-shared(a), Array.from(a).length, a], [-shared(b), Array.from(b).length, b]))
      .slice(0, rules.close_max);
    const out = [];
    for (const k of [...close, ...overlap]) {
      const label = this.engine.labels.get(this.engine.names.get(k)[0][0]) ?? k;
      if (!out.includes(label)) out.push(label);
    }
    return out.slice(0, rules.max);
  }

  /* -- the differential (bmlkg.differential.differential) -- */
  rank({ findings = [], context = [], absent = [] } = {}) {
    const list = (v) => (v === undefined || v === null ? [] : typeof v === "string" ? [v] : v.map(String));
    findings = list(findings); context = list(context); absent = list(absent);
    if (!findings.length && !context.length) {
      throw inputError("differential: give at least one finding or context (--finding / --context)");
    }
    const inputs = [], unresolved = [];
    for (const [role, texts] of [["finding", findings], ["context", context], ["absent", absent]]) {
      for (const text of texts) {
        const [item, problem] = this.resolveInput(text, role);
        if (item) inputs.push(item);
        if (problem) unresolved.push(problem);
      }
    }
    const present = unique(inputs.filter((i) => i.present).flatMap((i) => i.terms.map((t) => t.iri)));
    const missing = unique(inputs.filter((i) => !i.present).flatMap((i) => i.terms.map((t) => t.iri)));
    if (!present.length) {
      const detail = unresolved.map(unresolvedText).join("; ") || "every input was given as absent";
      throw inputError(`differential: no present finding or context could be resolved (${detail})`);
    }
    const person = personOf(inputs);
    const age = person.age || [null, null];
    const params = { input: present, absent: missing, ageLow: age[0], ageHigh: age[1], sex: person.sex };
    const ranked = this.run("dx-rank-causes", params);
    const facts = new Map();                     // categories and red flags of each candidate (dx-cause-facts)
    if (ranked.length) for (const r of this.run("dx-cause-facts", { cause: ranked.map((x) => x.condition) })) facts.set(r.cause, r);
    for (const row of ranked) {
      const fact = facts.get(row.condition) || {};
      for (const k of ["categories", "redFlag", "redFlagSource", "redFlagReason"]) row[k] = fact[k] ?? null;
      row.categories = row.categories || "";
    }
    const candidates = this.candidates(ranked.filter((r) => !r.isCategory), inputs, params);
    return { inputs, unresolved, categories: this.categories(ranked, facts), conditions: candidates,
             check_next: this.checkNext(candidates, params), red_flags: this.redFlags(candidates), person,
             scoring: DATA.scoring };
  }

  claimSources(claims) {
    const out = new Map(claims.map((c) => [c, []]));
    if (!claims.length) return out;
    for (const r of this.run("evidence-claim-sources", { claim: unique(claims).sort(compareStrings) })) {
      if (!out.has(r.claim)) out.set(r.claim, []);
      out.get(r.claim).push({ iri: r.source, label: r.sourceLabel ?? null, title: r.title ?? null, doi: r.doi ?? null,
                              year: r.year ?? null, journal: r.journal ?? null, kind: r.kind ?? null });
    }
    return out;
  }

  link(row, textOf, sources) {
    const present = row.role !== "absent";
    const claim = row.claim ?? null;
    const num = (v) => (v === undefined || v === null ? null : v);
    return {
      input: textOf.get(`${row.term} ${present}`) ?? this.engine.labels.get(row.term) ?? curie(row.term),
      term: row.term, role: row.role, feature: row.feature ?? null, feature_label: this.label(row.feature),
      frequency: this.label(row.frequency), frequency_weight: num(row.frequencyWeight),
      evoking: this.label(row.evoking), evoking_weight: num(row.evokingWeight), evoking_from: row.evokingFrom ?? null,
      entries: num(row.entries), match: this.label(row.match), factor: num(row.factor), points: row.points,
      via: row.subject ?? null, claim, claim_label: claim ? this.label(claim) : null,
      sources: claim ? sources.get(claim) || [] : [],
    };
  }

  candidates(ranked, inputs, params) {
    if (!ranked.length) return [];
    const iris = ranked.map((r) => r.condition);
    const links = this.run("dx-links", { condition: iris, ...params });
    const tell = this.run("dx-tell-apart", { condition: iris });
    const claims = unique([...links.filter((r) => r.claim).map((r) => r.claim), ...tell.map((r) => r.claim),
                           ...ranked.filter((r) => r.baseRateClaim).map((r) => r.baseRateClaim)]);
    const sources = this.claimSources(claims.sort(compareStrings));
    const textOf = new Map();
    for (const item of inputs) {
      for (const t of item.terms) if (!textOf.has(`${t.iri} ${item.present}`)) textOf.set(`${t.iri} ${item.present}`, item.text);
    }
    const chosen = new Map();                    // condition -> (role, term) -> the first dx-links row
    for (const r of links) {
      if (!chosen.has(r.condition)) chosen.set(r.condition, new Map());
      const mine = chosen.get(r.condition);
      if (!mine.has(`${r.role} ${r.term}`)) mine.set(`${r.role} ${r.term}`, r);
    }
    return ranked.map((row, index) => {
      const cond = row.condition;
      const made = [...(chosen.get(cond) || new Map()).values()].map((r) => this.link(r, textOf, sources));
      const supports = made.filter((x) => x.role === "supports")
        .sort((a, b) => compareKeys([-a.points, a.input, a.term], [-b.points, b.input, b.term]));
      const against = made.filter((x) => x.role !== "supports")
        .sort((a, b) => compareKeys([-a.points, a.role, a.input, a.term], [-b.points, b.role, b.input, b.term]));
      const explained = new Set((row.explainedInputs || "").split(/\s+/).filter(Boolean));
      const names = (item) => item.terms.some((t) => explained.has(t.iri));
      const claim = row.baseRateClaim ?? null;
      const level = row.baseRate ?? null;
      const base = { level, label: level ? this.label(level) : null, points: row.baseRatePoints || 0,
                     claim, claim_label: claim ? this.label(claim) : null, sources: claim ? sources.get(claim) || [] : [] };
      const prevalence = !claim ? "neutral (no source gives a base rate)"
        : base.points > 0 ? "common" : base.points < 0 ? "rare" : "neutral";
      return {
        rank: index + 1, iri: cond, label: row.label || curie(cond),
        categories: (row.categories || "").split(/\s+/).filter(Boolean).sort(compareStrings)
          .map((c) => ({ iri: c, label: this.engine.labels.get(c) ?? curie(c) })),
        score: row.score, support: row.support, against: row.against, base_rate: base, prevalence,
        explains: inputs.filter((i) => i.present && names(i)).map((i) => i.text),
        does_not_explain: inputs.filter((i) => i.present && i.terms.length && !names(i)).map((i) => i.text),
        links: supports, counts_against: against,
        red_flag: Boolean(row.redFlag), red_flag_source: row.redFlagSource ?? null, red_flag_reason: row.redFlagReason ?? null,
        tell_apart_from: tell.filter((t) => t.condition === cond).map((t) => ({
          condition: t.other, label: t.otherLabel ?? null, claim: t.claim, claim_label: t.claimLabel ?? null,
          sources: sources.get(t.claim) || [] })),
        check_next: [],
      };
    });
  }

  categories(ranked, known) {
    const groups = new Map();
    for (const row of ranked) {
      const cats = (row.categories || "").split(/\s+/).filter(Boolean);
      for (const cat of cats.length ? cats : [row.condition]) {
        if (!groups.has(cat)) groups.set(cat, []);
        groups.get(cat).push(row);
      }
    }
    const facts = new Map(known);
    const missing = [...groups.keys()].filter((g) => !facts.has(g)).sort(compareStrings);
    if (missing.length) for (const r of this.run("dx-cause-facts", { cause: missing })) facts.set(r.cause, r);
    const entries = [...groups].map(([iri, members]) => {
      const best = members[0];
      const fact = facts.get(iri) || {};
      return {
        rank: 0, iri, label: fact.label || curie(iri), kind: fact.isCategory ? "cause category" : "condition",
        score: best.score, explained: best.explained,
        best: { iri: best.condition, label: best.label ?? null, score: best.score },
        members: members.filter((m) => m.condition !== iri).map((m) => ({ iri: m.condition, label: m.label ?? null, score: m.score })),
        red_flag: Boolean(fact.redFlag), red_flag_reason: fact.redFlagReason ?? null,
      };
    });
    // ties: more inputs explained, then more members at the best score, then label and IRI
    const atBest = new Map(entries.map((e) => [e.iri, e.members.filter((m) => m.score === e.score).length]));
    const key = (e) => [-e.score, -e.explained, -atBest.get(e.iri), e.label, e.iri];
    entries.sort((a, b) => compareKeys(key(a), key(b)));
    entries.forEach((e, i) => { e.rank = i + 1; });
    return entries;
  }

  checkNext(candidates, params) {
    const lead = candidates.slice(0, DATA.check_next.candidates).map((c) => c.iri);
    if (lead.length < 2) return [];
    const found = new Map();
    for (const r of this.run("dx-check-next", { candidate: lead, input: params.input, absent: params.absent,
                                                ageLow: params.ageLow, sex: params.sex })) {
      if (!found.has(r.feature)) {
        found.set(r.feature, { feature: r.feature, label: r.label ?? null, points_to: [], n_candidates: r.nCandidates,
                               of: r.total, split: r.split });
      }
      found.get(r.feature).points_to.push({ condition: r.candidate, label: this.label(r.candidate),
        frequency: this.label(r.frequency), weight: r.weight, claim: r.claim ?? null });
    }
    const shown = [...found.values()].slice(0, DATA.check_next.features);
    const byIri = new Map(candidates.map((c) => [c.iri, c]));
    for (const item of shown) {
      for (const p of item.points_to) {
        byIri.get(p.condition).check_next.push({ feature: item.feature, label: item.label, frequency: p.frequency,
          weight: p.weight, also_points_to: item.points_to.filter((q) => q.condition !== p.condition).map((q) => q.label) });
      }
    }
    return shown;
  }

  redFlags(candidates) {
    const flags = new Map();
    for (const c of candidates) {
      if (!c.red_flag) continue;
      if (!flags.has(c.red_flag_source)) {
        flags.set(c.red_flag_source, { flag: c.red_flag_source,
          label: this.engine.labels.get(c.red_flag_source) ?? curie(c.red_flag_source || ""),
          reason: c.red_flag_reason, best_rank: c.rank, conditions: [] });
      }
      flags.get(c.red_flag_source).conditions.push({ rank: c.rank, condition: c.iri, label: c.label, score: c.score });
    }
    return [...flags.values()].sort((a, b) => a.best_rank - b.best_rank);
  }
}

/* the age range and sex the contradictions use: the first sex typed, the age ranges intersected */
function personOf(inputs) {
  let age = null, sex = null;
  for (const item of inputs) {
    if (item.sex && sex === null) sex = item.sex;
    if (item.age) {
      if (age === null) age = [...item.age];
      else if (Math.max(age[0], item.age[0]) <= Math.min(age[1], item.age[1])) {
        age = [Math.max(age[0], item.age[0]), Math.min(age[1], item.age[1])];
      }
    }
  }
  return { age, sex };
}

function unresolvedText(u) {
  const hint = u.suggestions.length ? `; closest known terms: ${u.suggestions.map(pyRepr).join(", ")}` : "";
  return `${u.role} ${pyRepr(u.text)}: ${u.reason}${hint}`;
}

/* Python's repr() of a str, for the notes the command line writes */
function pyRepr(text) {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const body = text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\t/g, "\\t");
  return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote;
}
