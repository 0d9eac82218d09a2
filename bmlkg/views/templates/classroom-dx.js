/* bmlkg classroom: the differential. The ranking is the library query dx-rank-causes; the links behind
   each score, check next, tell apart and sources are library queries too. This file only resolves what
   was typed (with the rules in DATA.rules, the file bmlkg reads) and joins the rows, step for step as
   bmlkg/differential does, so window.bmlkg.differential returns what `bmlkg differential --format json`
   prints. */

const RULES = DATA.rules;
const NEGATION = new RegExp(RULES.negation, "i");
const AGE_PATTERNS = RULES.age_patterns.map((p) => new RegExp(p));
const STOPWORDS = new Set(RULES.stopwords);
const FILLER = new Set(RULES.demographic_filler);
const SUBCLASS_OF = "http://www.w3.org/2000/01/rdf-schema#subClassOf";

function stem(word) {
  if (word.length > 4 && word.endsWith("ies")) return word.slice(0, -3) + "y";
  if (word.length > 3 && word.endsWith("s") && !word.endsWith("ss")) return word.slice(0, -1);
  return word;
}

function tokens(text) {
  return normalise(text).split(/[\s/-]+/).filter((w) => w && !STOPWORDS.has(w)).map(stem);
}

function parseDemographic(text) {
  let key = normalise(text);
  let age = null;
  for (const pattern of AGE_PATTERNS) {
    const m = pattern.exec(key);
    if (m) {
      age = parseInt(m.slice(1).find((g) => g), 10);
      key = (key.slice(0, m.index) + " " + key.slice(m.index + m[0].length)).trim();
      break;
    }
  }
  const words = key.split(/[\s,-]+/).filter(Boolean);
  let sex = null;
  const rest = [];
  for (const word of words) {
    if (word in RULES.sexes && sex === null) sex = RULES.sexes[word];
    else if (!FILLER.has(word)) rest.push(word);
  }
  if (rest.length || (age === null && sex === null) || (age !== null && !(age >= 0 && age <= 120))) return null;
  if (age !== null && sex === null && !words.length && !/[a-z]/.test(normalise(text))) return null;
  return [age, sex];
}

function unique(items) {
  return [...new Set(items)];
}

class Differential {
  constructor(engine) {
    this.engine = engine;
    this.tokenIndex = new Map([...engine.names.keys()].map((k) => [k, new Set(tokens(k))]));
  }

  descendants(iri) {
    const seen = new Set([iri]);
    const todo = [iri];
    while (todo.length) {
      const node = namedNode(todo.pop());
      for (const q of this.engine.store.match(null, namedNode(SUBCLASS_OF), node, null)) {
        if (q.subject.termType === "NamedNode" && !seen.has(q.subject.value)) {
          seen.add(q.subject.value);
          todo.push(q.subject.value);
        }
      }
    }
    return seen;
  }

  /* -- resolving what was typed (bmlkg's Resolver) -- */
  resolveInput(text, role) {
    const raw = String(text).trim();
    if (!raw) return [null, { text: raw, role, reason: "empty input", suggestions: [] }];
    let present = role !== "absent";
    let phrase = raw, note = "";
    let negated = NEGATION.exec(raw);
    if (negated && this.exact(raw)[0].length) negated = null;
    if (negated && role !== "absent") {
      phrase = negated.groups.rest.trim();
      present = false;
      note = `read as absent: ${pyRepr(phrase)}`;
    } else if (negated) {
      phrase = negated.groups.rest.trim();
    }
    for (const attempt of [this.exact, this.demographic, this.words]) {
      const [terms, extra] = attempt.call(this, phrase);
      if (terms.length) {
        note = [note, extra].filter(Boolean).join("; ");
        return [{ text: raw, role: present ? role : "absent", present, terms, note }, null];
      }
      if (extra) return [null, { text: raw, role, reason: extra, suggestions: this.demographicGroups() }];
    }
    return [null, { text: raw, role, reason: "no term of the graph matches", suggestions: this.suggest(phrase) }];
  }

  term(iri, label, match) {
    return { iri, label, match, curie: curie(iri) };
  }

  exact(phrase) {
    const found = this.engine.resolve(phrase);
    if (!found) return [[], ""];
    const kinds = new Map(this.engine.names.get(normalise(phrase)) || []);
    return [[this.term(found.iri, found.label, kinds.get(found.iri) || "iri")], ""];
  }

  demographic(phrase) {
    const parsed = parseDemographic(phrase);
    if (parsed === null) return [[], ""];
    const [age, sex] = parsed;
    const rows = this.engine.rows("dx-demographic-context", { age: age ?? undefined, sex: sex ?? undefined });
    const described = [sex, age !== null ? `aged ${age}` : null].filter(Boolean).join(", ");
    if (!rows.length) return [[], `understood as ${described}, but no demographic group of the graph covers it`];
    const groups = new Map(rows.map((r) => [r.context, r.label ?? r.context]));
    const specific = [...groups.keys()].filter((g) => ![...this.descendants(g)].some((d) => d !== g && groups.has(d)));
    return [specific.map((g) => this.term(g, groups.get(g), "demographic")), `understood as ${described}`];
  }

  words(phrase) {
    const words = new Set(tokens(phrase));
    if (!words.size) return [[], ""];
    const best = [];
    for (const [key, nameWords] of this.tokenIndex) {
      if (!nameWords.size || ![...nameWords].every((w) => words.has(w))) continue;
      const size = nameWords.size;
      if (!(size === words.size || (size >= 2 && 2 * size >= words.size))) continue;
      for (const [iri, kind] of this.engine.names.get(key)) best.push([-size, kind !== "label", iri, key]);
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
    const key = normalise(phrase);
    const keys = [...this.engine.names.keys()];
    const close = closeMatches(key, keys, 5, 0.6);
    const words = new Set(tokens(phrase).filter((w) => w.length > 2));
    const shared = (k) => [...this.tokenIndex.get(k)].filter((w) => words.has(w)).length;
    const overlap = keys.filter((k) => shared(k) > 0)
      .sort((a, b) => compareKeys([-shared(a), Array.from(a).length, a], [-shared(b), Array.from(b).length, b]))
      .slice(0, 5);
    const out = [];
    for (const k of [...close, ...overlap]) {
      const label = this.engine.labels.get(this.engine.names.get(k)[0][0]) ?? k;
      if (!out.includes(label)) out.push(label);
    }
    return out.slice(0, 6);
  }

  demographicGroups() {
    return rows(this.engine.select(DATA.demographic_groups_query)).map((r) => r.label);
  }

  /* -- the differential (bmlkg.differential.differential) -- */
  run({ findings = [], context = [], absent = [] } = {}) {
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
    const ranked = this.engine.rows("dx-rank-causes", { input: present, absent: missing.length ? missing : undefined });
    const candidates = this.candidates(ranked.filter((r) => !r.isCategory), inputs, present, missing);
    const categories = this.categories(ranked);
    const checkNext = this.checkNext(candidates, present, missing);
    const redFlags = this.redFlags(candidates);
    return { inputs, unresolved, categories, conditions: candidates, check_next: checkNext, red_flags: redFlags,
             scoring: DATA.scoring };
  }

  claimSources(claims) {
    const out = new Map(claims.map((c) => [c, []]));
    if (!claims.length) return out;
    for (const r of this.engine.rows("evidence-claim-sources", { claim: [...new Set(claims)].sort(compareStrings) })) {
      if (!out.has(r.claim)) out.set(r.claim, []);
      out.get(r.claim).push({ iri: r.source, label: r.sourceLabel ?? null, title: r.title ?? null, doi: r.doi ?? null,
                              year: r.year ?? null, journal: r.journal ?? null, kind: r.kind ?? null });
    }
    return out;
  }

  candidates(ranked, inputs, present, missing) {
    if (!ranked.length) return [];
    const iris = ranked.map((r) => r.condition);
    const links = this.engine.rows("dx-links", { condition: iris, input: present, absent: missing.length ? missing : undefined });
    const tell = this.engine.rows("dx-tell-apart", { condition: iris });
    const claims = [...new Set([...links.filter((r) => r.claim).map((r) => r.claim), ...tell.map((r) => r.claim)])];
    const sources = this.claimSources(claims.sort(compareStrings));
    const textOf = new Map();
    for (const item of inputs) {
      for (const t of item.terms) {
        const k = `${t.iri} ${item.present}`;
        if (!textOf.has(k)) textOf.set(k, item.text);
      }
    }
    return ranked.map((row, index) => {
      const cond = row.condition;
      const best = this.bestLinks(links.filter((r) => r.condition === cond), textOf, sources);
      const explained = new Set((row.explainedInputs || "").split(/\s+/).filter(Boolean));
      const names = (item) => item.terms.some((t) => explained.has(t.iri));
      return {
        rank: index + 1, iri: cond, label: row.label || curie(cond),
        categories: (row.categories || "").split(/\s+/).filter(Boolean).sort(compareStrings)
          .map((c) => ({ iri: c, label: this.engine.labels.get(c) ?? curie(c) })),
        score: row.score, support: row.support, against: row.against,
        explains: inputs.filter((i) => i.present && names(i)).map((i) => i.text),
        does_not_explain: inputs.filter((i) => i.present && !names(i)).map((i) => i.text),
        counts_against: best.filter(([role]) => role !== "supports").map(([, link]) => link),
        links: best.filter(([role]) => role === "supports").map(([, link]) => link),
        red_flag: Boolean(row.redFlag), red_flag_source: row.redFlagSource ?? null,
        red_flag_reason: row.redFlagReason ?? null,
        tell_apart_from: tell.filter((t) => t.condition === cond).map((t) => ({
          condition: t.other, label: t.otherLabel ?? null, claim: t.claim, claim_label: t.claimLabel ?? null,
          sources: sources.get(t.claim) || [] })),
        check_next: [],
      };
    });
  }

  bestLinks(linkRows, textOf, sources) {
    const chosen = new Map();
    for (const r of linkRows) {
      const k = `${r.term} ${r.role}`;
      if (!chosen.has(k)) chosen.set(k, r);
    }
    const out = [...chosen.values()].map((r) => [r.role, {
      input: textOf.get(`${r.term} ${r.role !== "absent"}`) ?? curie(r.term), term: r.term, feature: r.feature,
      feature_label: r.featureLabel ?? null, strength: r.strengthLabel ?? null, weight: r.weight, factor: r.factor,
      contribution: r.contribution, via: r.subject, claim: r.claim ?? null, claim_label: r.claimLabel ?? null,
      sources: sources.get(r.claim) || [] }]);
    out.sort((x, y) => compareKeys([-x[1].contribution, x[1].input], [-y[1].contribution, y[1].input]));
    return out;
  }

  categories(ranked) {
    const groups = new Map();
    for (const row of ranked) {
      const cats = (row.categories || "").split(/\s+/).filter(Boolean);
      for (const cat of cats.length ? cats : [row.condition]) {
        if (!groups.has(cat)) groups.set(cat, []);
        groups.get(cat).push(row);
      }
    }
    const facts = new Map();
    if (groups.size) {
      for (const r of this.engine.rows("dx-cause-facts", { cause: [...groups.keys()].sort(compareStrings) })) facts.set(r.cause, r);
    }
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
    entries.sort((a, b) => compareKeys([-a.score, -a.explained, a.label], [-b.score, -b.explained, b.label]));
    entries.forEach((e, i) => { e.rank = i + 1; });
    return entries;
  }

  checkNext(candidates, present, missing) {
    const lead = candidates.filter((c) => c.score > 0).slice(0, RULES.check_next_candidates).map((c) => c.iri);
    if (lead.length < 2) return [];
    const found = new Map();
    for (const r of this.engine.rows("dx-check-next", { candidate: lead, input: present, absent: missing.length ? missing : undefined })) {
      if (!found.has(r.feature)) found.set(r.feature, { feature: r.feature, label: r.label ?? null, points_to: [],
                                                        n_candidates: r.nCandidates, of: r.total });
      const entry = found.get(r.feature);
      if (entry.points_to.some((p) => p.condition === r.candidate)) continue;
      entry.points_to.push({ condition: r.candidate, label: r.candidateLabel ?? null, strength: r.strengthLabel ?? null,
                             weight: r.weight, claim: r.claim ?? null });
    }
    const byIri = new Map(candidates.map((c) => [c.iri, c]));
    for (const item of found.values()) {
      for (const p of item.points_to) {
        byIri.get(p.condition).check_next.push({ feature: item.feature, label: item.label, strength: p.strength,
          weight: p.weight, also_points_to: item.points_to.filter((q) => q.condition !== p.condition).map((q) => q.label) });
      }
    }
    return [...found.values()].slice(0, RULES.check_next_features);
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
