/* bmlkg classroom: the page. Plain DOM, text only (no innerHTML of data), every control a native button,
   input, select or link, so it is reachable by keyboard and shows the browser's focus ring. */

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "on") for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) node.append(c);
  return node;
}
const $ = (id) => document.getElementById(id);
const n = (x) => (typeof x === "number" ? String(Math.round(x * 100) / 100) : String(x));

function sourceText(sources) {
  return (sources || []).map((s) => (s.doi ? `doi:${s.doi}` : curie(s.iri)) + (s.year ? ` (${s.year})` : "")).join("; ");
}

/* -- tabs and projector mode -- */
function setupTabs() {
  const tabs = [...document.querySelectorAll("[role=tab]")];
  function select(tab) {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
    tab.focus();
    document.dispatchEvent(new CustomEvent("bmlkg-tab", { detail: tab.id }));
  }
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (e) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (step) { e.preventDefault(); select(tabs[(i + step + tabs.length) % tabs.length]); }
      if (e.key === "Home") { e.preventDefault(); select(tabs[0]); }
      if (e.key === "End") { e.preventDefault(); select(tabs[tabs.length - 1]); }
    });
  });
  $("projector").addEventListener("click", () => {
    const on = document.body.classList.toggle("projector");
    $("projector").setAttribute("aria-pressed", String(on));
  });
  return select;
}

/* -- a graph drawn like the differential view, with its text twin -- */
function drawGraph(container, twin, graph) {
  const nodes = graph.nodes.map((g) => {
    const entry = DATA.legend[g.group];
    const inside = ["box", "ellipse", "database", "circle", "text"].includes(entry.shape);
    return { id: g.id, label: g.label, title: g.tooltip, x: g.x, y: g.y, size: g.size || 22, shape: entry.shape,
             borderWidth: g.border ? 4 : 1.5,
             color: { background: entry.colour, border: g.border || (inside ? "#222222" : entry.colour) },
             font: { color: inside ? entry.font_colour : "#111111", size: inside ? 20 : 22, strokeWidth: inside ? 0 : 5,
                     strokeColor: "#ffffff" } };
  });
  const edges = graph.edges.map((e, i) => ({ id: i, from: e.source, to: e.target, label: e.label, title: e.tooltip,
                                             color: { color: e.colour }, dashes: e.dashes }));
  if (container.network) container.network.destroy();
  container.network = new vis.Network(container, { nodes: new vis.DataSet(nodes), edges: new vis.DataSet(edges) },
                                      DATA.graph_options);
  container.network.once("afterDrawing", () => container.network.fit({ animation: false }));
  const byId = new Map(graph.nodes.map((g) => [g.id, g]));
  const body = twin.querySelector("div");
  body.replaceChildren(...textTwin(graph.nodes.map((g) => [g.full_label || g.label, DATA.legend[g.group].label,
                                                        g.tooltip.split("\n").slice(1).join(" · ")]),
                                graph.edges.map((e) => [byId.get(e.source).full_label || byId.get(e.source).label, e.label,
                                                        byId.get(e.target).full_label || byId.get(e.target).label])));
}

function textTwin(nodeRows, edgeRows) {
  const table = (caption, head, rowsIn) => el("table", { class: "data" }, el("caption", { text: caption }),
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rowsIn.map((r) => el("tr", {}, r.map((c) => el("td", { text: c }))))));
  return [table(`Nodes (${nodeRows.length})`, ["node", "kind", "details"], nodeRows),
          table(`Edges (${edgeRows.length})`, ["from", "edge", "to"], edgeRows)];
}

/* the case graph: inputs -> candidate causes (bigger = higher rank) -> findings to check next, as
   bmlkg.viewdata.differential_view selects them; laid out in three columns */
function caseGraph(result) {
  const nodes = [], edges = [], ids = new Map();
  const column = (x, list) => list.forEach((node, i) => { node.x = x; node.y = i * 110; nodes.push(node); });
  const inputs = result.inputs.map((item, i) => {
    ids.set(item.text, `urn:bmlkg:input:${i}`);
    const terms = item.terms.map((t) => `${t.label} (${t.curie}, matched by ${t.match})`).join("; ");
    return { id: `urn:bmlkg:input:${i}`, label: item.present ? item.text : `absent: ${item.text}`,
             group: item.present ? "input" : "input-absent",
             tooltip: `${item.text}\n${item.role}, ${item.present ? "present" : "absent"}\nUnderstood as: ${terms}` +
                      (item.note ? `\n${item.note}` : "") };
  });
  result.unresolved.forEach((u, j) => inputs.push({ id: `urn:bmlkg:unresolved:${j}`, label: u.text, group: "input-unresolved",
    tooltip: `${u.text}\n${u.role}: not used: ${u.reason}` + (u.suggestions.length ? `\nClosest known terms: ${u.suggestions.join(", ")}` : "") }));
  const positive = result.conditions.filter((c) => c.score > 0);
  const shown = (positive.length ? positive : result.conditions).slice(0, DATA.differential_top);
  const candidates = shown.map((c) => ({ id: c.iri, label: `${c.rank}. ${c.label} (${n(c.score)})`, full_label: c.label,
    group: "candidate", size: Math.max(14, 44 - 4 * (c.rank - 1)), border: c.red_flag ? "#D00000" : null,
    tooltip: candidateTip(c) }));
  for (const c of shown) {
    for (const link of c.links) {
      if (ids.has(link.input)) edges.push({ source: ids.get(link.input), target: c.iri, colour: "#1B7837", dashes: false,
        label: `${link.frequency || link.match || "names it"} +${n(link.points)}`, tooltip: linkTip(link, c) });
    }
    for (const link of c.counts_against) {
      if (ids.has(link.input)) edges.push({ source: ids.get(link.input), target: c.iri, colour: "#B2182B", dashes: true,
        label: `${link.role} −${n(link.points)}`, tooltip: linkTip(link, c) });
    }
  }
  const shownIds = new Set(shown.map((c) => c.iri));
  const checks = [];
  for (const item of result.check_next) {
    const pointed = item.points_to.filter((p) => shownIds.has(p.condition));
    if (!pointed.length) continue;
    if (!shownIds.has(item.feature)) checks.push({ id: item.feature, label: item.label || curie(item.feature), group: "check-next",
      tooltip: [item.label, `Check next: points to ${item.n_candidates} of the ${item.of} leading causes`,
                ...item.points_to.map((p) => `• ${p.label} (${p.frequency})`)].join("\n") });
    for (const p of pointed) edges.push({ source: p.condition, target: item.feature, colour: "#B35806", dashes: true,
      label: p.frequency || "points to", tooltip: `If ${item.label} is found, it points to ${p.label} (${p.frequency})` });
  }
  column(0, inputs);
  column(520, candidates);
  column(1040, checks);
  for (const node of nodes) if (!node.full_label) node.full_label = node.label;
  return { nodes, edges };
}

function candidateTip(c) {
  const lines = [`${c.rank}. ${c.label} · ${curie(c.iri)}`,
                 `score ${n(c.score)} = support ${n(c.support)} − against ${n(c.against)} + base rate ${n(c.base_rate.points)}`];
  if (c.categories.length) lines.push("Category: " + c.categories.map((x) => x.label).join("; "));
  lines.push(`Base rate: ${c.prevalence}`);
  if (c.explains.length) lines.push("Explains: " + c.explains.join("; "));
  if (c.does_not_explain.length) lines.push("Does not explain: " + c.does_not_explain.join("; "));
  if (c.red_flag) lines.push(`RED FLAG: ${c.red_flag_reason || "needs urgent work-up"}`);
  if (c.tell_apart_from.length) lines.push("Tell apart from: " + c.tell_apart_from.map((t) => t.label || curie(t.condition)).join("; "));
  return lines.join("\n");
}

/* one contribution in words, as the command line's table writes it */
function linkText(l) {
  if (l.role === "supports") {
    const evoking = l.evoking ? ` × ${l.evoking} ${n(l.evoking_weight)} (${l.evoking_from}${l.entries === null ? "" : `, ${l.entries} cause entries`})` : "";
    return `'${l.input}' ~ ${l.feature_label || curie(l.feature || l.term)}: ${l.frequency || l.match || ""} ${n(l.frequency_weight ?? "")}` +
           `${evoking}${l.factor !== null && l.factor !== 1 ? ` × ${n(l.factor)}` : ""}`;
  }
  const what = { absent: `stated absent, ${l.frequency} feature ${l.feature_label}`,
                 contradicts: `outside ${l.feature_label} (${l.frequency})`,
                 "argues against": `argues against (${l.feature_label})`,
                 "not explained": "not explained by this cause" }[l.role] || l.role;
  return `'${l.input}' ${what}`;
}

function claimText(l) {
  if (!l.claim) return l.role === "supports" ? "the input names this cause" : "no link of this cause covers it";
  return `${l.claim_label || curie(l.claim)} [${sourceText(l.sources) || "no source"}]`;
}

function linkTip(l, c) {
  const sign = l.role === "supports" ? "+" : "−";
  return [`${c.label}: ${sign}${n(l.points)}`, linkText(l), `Claim: ${claimText(l)}`].join("\n");
}

/* -- the ranking as text: causes with each input's contribution, claim and source -- */
function rankingView(result, top = 10) {
  const list = el("ol", { class: "ranking" });
  for (const c of result.conditions.slice(0, top)) {
    const reasons = el("ul", { class: "reasons" },
      c.links.map((l) => el("li", { class: "plus" }, el("strong", { text: `+${n(l.points)}` }), ` ${linkText(l)} `,
        el("span", { class: "claim", text: claimText(l) }))),
      c.counts_against.map((l) => el("li", { class: "minus" }, el("strong", { text: `−${n(l.points)}` }), ` ${linkText(l)} `,
        el("span", { class: "claim", text: l.claim ? claimText(l) : "" }))),
      c.base_rate.claim ? el("li", { class: c.base_rate.points >= 0 ? "plus" : "minus" },
        el("strong", { text: `${c.base_rate.points >= 0 ? "+" : "−"}${n(Math.abs(c.base_rate.points))}` }),
        ` base rate: ${c.prevalence} `, el("span", { class: "claim", text: `${c.base_rate.claim_label} [${sourceText(c.base_rate.sources)}]` })) : null,
      c.tell_apart_from.length ? el("li", { class: "apart" }, "Tell apart from: ",
        c.tell_apart_from.map((t, i) => [i ? "; " : "", el("span", { text: t.label || curie(t.condition) }),
          el("span", { class: "claim", text: ` (${t.claim_label} [${sourceText(t.sources)}])` })])) : null);
    list.append(el("li", { class: c.red_flag ? "flagged" : null, "data-iri": c.iri },
      el("div", { class: "cause" }, el("strong", { text: c.label }),
        ` score ${n(c.score)} = support ${n(c.support)} − against ${n(c.against)} + base rate ${n(c.base_rate.points)}`,
        c.categories.length ? el("span", { class: "cat", text: ` · ${c.categories.map((x) => x.label).join(", ")}` }) : null,
        c.red_flag ? el("span", { class: "flag", text: " RED FLAG: urgent work-up" }) : null),
      reasons));
  }
  if (!result.conditions.length) list.append(el("li", { text: "No condition of the graph explains these inputs." }));
  return list;
}

function redFlagsView(result) {
  if (!result.red_flags.length) return el("div");
  return el("div", { class: "flags", role: "note" }, el("strong", { text: "Red flags: urgent work-up whatever the rank" }),
    el("ul", {}, result.red_flags.map((f) => el("li", {}, el("strong", { text: `${f.label} (best rank ${f.best_rank}): ` }),
      f.reason || "needs urgent work-up"))));
}

/* -- the Differential tab -- */
class CaseTab {
  constructor(dx) {
    this.dx = dx;
    this.inputs = [];                          // [{text, role}]
    $("dx-form").addEventListener("submit", (e) => { e.preventDefault(); this.addTyped(); });
    $("dx-text").addEventListener("input", () => this.preview());
    $("dx-role").addEventListener("change", () => this.preview());
    $("dx-clear").addEventListener("click", () => { this.inputs = []; this.update(); });
    $("dx-link").addEventListener("click", () => this.copyLink());
    window.addEventListener("hashchange", () => this.fromHash());
  }

  addTyped() {
    const text = $("dx-text").value.trim();
    if (!text) return;
    this.add(text, $("dx-role").value);
    $("dx-text").value = "";
    this.preview();
    $("dx-text").focus();
  }

  add(text, role) {
    if (!this.inputs.some((i) => i.text === text && i.role === role)) this.inputs.push({ text, role });
    this.update();
  }

  /* the box's suggestions follow the command line's rules: names that start like the normalised text,
     then the closest names as `bmlkg differential` would suggest them */
  suggestions(text) {
    const key = normalise(text);
    if (Array.from(key).length < 2) return [];
    const starts = [];
    for (const [name, list] of this.dx.engine.names) {
      if (name.startsWith(key) || name.includes(" " + key)) starts.push(this.dx.engine.label(list[0][0]));
      if (starts.length >= 12) break;
    }
    return unique([...starts, ...(Array.from(key).length >= 4 ? this.dx.suggest(text) : [])]).slice(0, 15);
  }

  preview() {
    const text = $("dx-text").value.trim();
    $("dx-names").replaceChildren(...this.suggestions(text).map((name) => el("option", { value: name })));
    if (!text) { $("dx-preview").textContent = ""; return; }
    const [item, problem] = this.dx.resolveInput(text, $("dx-role").value);
    $("dx-preview").textContent = item
      ? `Understood as: ${item.terms.map((t) => `${t.label} (${t.match})`).join("; ")}${item.present ? "" : ", absent"}` +
        (item.note ? ` — ${item.note}` : "")
      : `Not understood: ${problem.reason}` + (problem.suggestions.length ? `; closest: ${problem.suggestions.join(", ")}` : "");
  }

  request() {
    const pick = (role) => this.inputs.filter((i) => i.role === role).map((i) => i.text);
    return { findings: pick("finding"), context: pick("context"), absent: pick("absent") };
  }

  hash() {
    const q = new URLSearchParams();
    for (const i of this.inputs) q.append({ finding: "f", context: "c", absent: "a" }[i.role], i.text);
    return q.toString();
  }

  fromHash() {
    const q = new URLSearchParams(location.hash.replace(/^#/, ""));
    if (location.hash && this.hash() === q.toString()) return;
    const inputs = [];
    for (const [k, v] of q) {
      const role = { f: "finding", c: "context", a: "absent" }[k];
      if (role && v.trim()) inputs.push({ text: v.trim(), role });
    }
    if (inputs.length) { this.inputs = inputs; this.update(false); }
  }

  copyLink() {
    const link = location.href.replace(/#.*$/, "") + "#" + this.hash();
    $("dx-preview").textContent = `Case link: ${link}`;
    if (navigator.clipboard) navigator.clipboard.writeText(link).catch(() => {});
  }

  update(writeHash = true) {
    if (writeHash) history.replaceState(null, "", "#" + this.hash());
    $("dx-inputs").replaceChildren(...this.inputs.map((item, i) => el("li", { class: `chip ${item.role}` },
      `${item.role === "absent" ? "absent: " : ""}${item.text} `,
      el("span", { class: "hint", text: `(${item.role})` }), " ",
      el("button", { type: "button", "aria-label": `Remove ${item.text}`, text: "×",
                     on: { click: () => { this.inputs.splice(i, 1); this.update(); } } }))));
    const t0 = performance.now();
    let result = null;
    const req = this.request();
    if (req.findings.length || req.context.length) {
      try { result = this.dx.rank(req); } catch (e) {
        if (e.name !== "InputError") throw e;
        $("dx-ranking").replaceChildren(el("p", { class: "hint", text: e.message }));
      }
    }
    this.lastMs = performance.now() - t0;
    if (!result) {
      if (!req.findings.length && !req.context.length) $("dx-ranking").replaceChildren(el("p", { class: "hint", text: "Add a finding to rank the causes." }));
      for (const id of ["dx-flags", "dx-check", "dx-categories"]) $(id).replaceChildren();
      return null;
    }
    $("dx-flags").replaceChildren(redFlagsView(result));
    $("dx-ranking").replaceChildren(
      result.unresolved.length ? el("p", { class: "hint" }, "Not understood (not used): ",
        result.unresolved.map((u) => `'${u.text}' — ${u.reason}${u.suggestions.length ? ` (closest: ${u.suggestions.join(", ")})` : ""}`).join("; ")) : "",
      rankingView(result), el("p", { class: "hint", text: `Ranked in ${Math.round(this.lastMs)} ms. ${result.scoring}` }));
    $("dx-check").replaceChildren(checkView(result, (text, role) => this.add(text, role)));
    $("dx-categories").replaceChildren(el("ol", {}, result.categories.slice(0, 8).map((c) =>
      el("li", { text: `${c.label} (${n(c.score)})${c.red_flag ? " — red flag" : ""}` }))));
    drawGraph($("dx-graph"), $("dx-twin"), caseGraph(result));
    return result;
  }
}

function checkView(result, add) {
  if (!result.check_next.length) return el("p", { class: "hint", text: "Nothing splits the leading causes." });
  return el("ul", { class: "check" }, result.check_next.map((item) => el("li", {},
    el("strong", { text: item.label || curie(item.feature) }), ": ",
    item.points_to.map((p) => `${p.frequency} in ${p.label}`).join("; "), " ",
    add ? el("span", { class: "nowrap" },
      el("button", { type: "button", text: "found", "aria-label": `${item.label}: found`,
                     on: { click: () => add(item.label, "finding") } }), " ",
      el("button", { type: "button", text: "absent", "aria-label": `${item.label}: absent`,
                     on: { click: () => add(item.label, "absent") } })) : null)));
}

/* -- the Queries tab -- */
function resultsTable(engine, results) {
  if (typeof results.boolean === "boolean") return el("p", { text: `Answer: ${results.boolean}` });
  const vars = results.head.vars;
  return el("table", { class: "data" },
    el("thead", {}, el("tr", {}, vars.map((v) => el("th", { scope: "col", text: v })))),
    el("tbody", {}, results.results.bindings.map((b) => el("tr", {}, vars.map((v) => {
      const cell = b[v];
      if (!cell) return el("td");
      if (cell.type === "uri") {
        return el("td", {}, el("span", { text: engine.labels.get(cell.value) ?? "" }), " ",
                  el("code", { text: curie(cell.value) }));
      }
      return el("td", { text: cell.value });
    })))));
}

function toCsv(results) {
  const esc = (s) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const vars = results.head.vars;
  const lines = [vars.join(",")];
  for (const b of results.results.bindings) {
    lines.push(vars.map((v) => (b[v] ? esc(b[v].type === "bnode" ? "_:" + b[v].value : b[v].value) : "")).join(","));
  }
  return lines.join("\r\n") + "\r\n";
}

class QueryTab {
  constructor(engine) {
    this.engine = engine;
    const list = $("q-list");
    for (const q of DATA.queries) list.append(el("option", { value: q.name, text: q.name }));
    list.addEventListener("change", () => this.show(list.value));
    $("q-form").addEventListener("submit", (e) => { e.preventDefault(); this.runShown(); });
    list.value = DATA.queries[0].name;
    this.show(list.value);
  }

  show(name) {
    const q = this.engine.queries.get(name);
    this.query = q;
    $("q-title").textContent = q.name;
    $("q-summary").textContent = q.summary;
    $("q-description").textContent = q.description;
    $("q-params").replaceChildren(...q.params.map((p) => el("p", {},
      el("label", { for: `q-param-${p.name}`, text: `${p.name} (${p.type}${p.repeatable ? ", repeatable: separate with ;" : ""}${p.optional ? ", optional" : ""}) ` }),
      el("input", { id: `q-param-${p.name}`, "data-param": p.name, size: 50, value: p.example ?? "",
                    list: p.type === "label" ? "bmlkg-names" : null }),
      el("span", { class: "hint", text: ` ${p.description}` }))));
    $("q-text").textContent = q.text;
    $("q-results").replaceChildren();
    $("q-count").textContent = "";
  }

  params() {
    const out = {};
    for (const input of document.querySelectorAll("#q-params input")) {
      if (input.value.trim()) out[input.dataset.param] = input.value;
    }
    return out;
  }

  runShown() {
    const t0 = performance.now();
    try {
      const params = this.params();
      $("q-text").textContent = this.engine.bind(this.query, params);
      const results = this.engine.run(this.query.name, params);
      const count = results.results ? results.results.bindings.length : 1;
      $("q-count").textContent = `${count} row(s) in ${Math.round(performance.now() - t0)} ms`;
      $("q-results").replaceChildren(resultsTable(this.engine, results));
      if (results.results) $("q-csv").href = "data:text/csv;charset=utf-8," + encodeURIComponent(toCsv(results));
      $("q-csv").download = `${this.query.name}.csv`;
    } catch (e) {
      if (e.name !== "InputError") throw e;
      $("q-count").textContent = e.message;
      $("q-results").replaceChildren();
    }
  }
}

/* -- the Evidence tab: the library query evidence-for-term, filtered as `bmlkg evidence` is -- */
function parseYears(text) {
  const m = new RegExp(DATA.year_pattern).exec(text);
  if (!text.trim() || !m || !(m[2] || m[4])) throw inputError(`year: '${text}' is not a year or a span (2025, 2020-2025, 2020-, -2020)`);
  const [, op, first, dash, second] = m;
  const a = first ? Number(first) : null, b = second ? Number(second) : null;
  if ([">=", "from", "since", "after"].includes(op)) return [a, null];
  if (["<=", "to", "until", "before"].includes(op)) return [null, a];
  if (dash === undefined) return [a, a];
  return [a, b];
}

function numbersText(r) {
  if (r.asReported) return r.asReported;
  const parts = [r.measureLabel, r.estimate, r.rangeLow !== undefined && r.rangeHigh !== undefined ? `${r.rangeLow}–${r.rangeHigh}` : null,
                 r.valueBefore !== undefined && r.valueAfter !== undefined ? `${r.valueBefore} → ${r.valueAfter}` : null,
                 r.ciLower !== undefined && r.ciUpper !== undefined ? `(CI ${r.ciLower}–${r.ciUpper})` : null,
                 r.pValue !== undefined ? `p = ${r.pValue}` : null];
  return parts.filter((p) => p !== null && p !== undefined).join(" ");
}

class EvidenceTab {
  constructor(engine, dx) {
    this.engine = engine;
    this.dx = dx;
    for (const [id, text] of [["ev-design", DATA.members_queries.design], ["ev-guideline", DATA.members_queries.guideline]]) {
      for (const r of rows(engine.select(text))) $(id).append(el("option", { value: r.m, text: r.label }));
    }
    $("ev-form").addEventListener("submit", (e) => { e.preventDefault(); this.show(); });
  }

  subject(text) {
    const raw = text.trim();
    const doi = /^(?:doi:|https?:\/\/(?:dx\.)?doi\.org\/)?(10\.\d{4,9}\/\S+)$/i.exec(raw);
    if (doi) return "https://doi.org/" + doi[1].toLowerCase();
    const found = this.engine.resolve(raw);
    if (found) return found.iri;
    try {
      const iri = expand(raw);
      if (this.engine.labels.has(iri)) return iri;
    } catch (e) { /* not a CURIE */ }
    for (const [iri, label] of this.engine.labels) if (normalise(label) === normalise(raw)) return iri;
    throw inputError(`term: unknown term or source '${raw}'; closest: ${this.dx.suggest(raw).join(", ")}`);
  }

  show() {
    try {
      const term = this.subject($("ev-term").value);
      const params = { term };
      if ($("ev-design").value) params.design = $("ev-design").value;
      if ($("ev-guideline").value) params.guideline = $("ev-guideline").value;
      const minN = $("ev-min-n").value.trim();
      if (minN) {
        if (!/^\d+$/.test(minN)) throw inputError(`min-n: '${minN}' is not a whole number`);
        params.minN = minN;
      }
      if ($("ev-year").value.trim()) {
        const [from, to] = parseYears($("ev-year").value);
        if (from !== null) params.yearFrom = String(from);
        if (to !== null) params.yearTo = String(to);
      }
      const claims = this.engine.rows("evidence-for-term", params);
      const sources = this.dx.claimSources(claims.map((c) => c.claim).sort(compareStrings));
      $("ev-count").textContent = `${claims.length} claim(s) about ${this.engine.label(term)}, strongest design first`;
      $("ev-results").replaceChildren(el("table", { class: "data" },
        el("thead", {}, el("tr", {}, ["claim", "direction", "numbers", "n", "design", "certainty", "status", "sources"]
          .map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, claims.map((c) => el("tr", {},
          el("td", { text: c.claimLabel || curie(c.claim) }), el("td", { text: c.directionLabel || "" }),
          el("td", { text: numbersText(c) }),
          el("td", { text: c.sampleSize !== undefined ? `${c.sampleSize} ${c.unitLabel || ""}`.trim() : "" }),
          el("td", { text: c.designLabel || "" }), el("td", { text: c.certaintyLabel || "" }),
          el("td", { text: [c.guidelineLabel, c.regulatoryLabel, c.strengthLabel].filter(Boolean).join("; ") }),
          el("td", { text: sourceText(sources.get(c.claim)) }))))));
    } catch (e) {
      if (e.name !== "InputError") throw e;
      $("ev-count").textContent = e.message;
      $("ev-results").replaceChildren();
    }
  }
}

/* -- Guided cases: the differential case suite as walks, and a quiz generated from the graph -- */
function caseSteps(c) {
  return [...c.findings.map((t) => ({ text: t, role: "finding" })), ...(c.context || []).map((t) => ({ text: t, role: "context" })),
          ...(c.absent || []).map((t) => ({ text: t, role: "absent" }))];
}

function requestOf(steps) {
  const pick = (role) => steps.filter((s) => s.role === role).map((s) => s.text);
  return { findings: pick("finding"), context: pick("context"), absent: pick("absent") };
}

function claimList(result, top = 3) {
  const seen = new Set();
  const items = [];
  for (const c of result.conditions.slice(0, top)) {
    for (const l of c.links) {
      if (!l.claim || seen.has(l.claim)) continue;
      seen.add(l.claim);
      items.push(el("li", {}, el("strong", { text: `${c.label}: ` }), `${l.claim_label} `,
                    el("span", { class: "claim", text: `[${sourceText(l.sources) || curie(l.claim)}]` })));
    }
  }
  return el("ul", { class: "reasons" }, items);
}

class CasesTab {
  constructor(engine, dx) {
    this.engine = engine;
    this.dx = dx;
    DATA.cases.forEach((c, i) => $("case-list").append(el("option", { value: i, text: `${c.id}: ${caseSteps(c).map((s) => s.text).join(", ")}` })));
    $("case-start").addEventListener("click", () => this.start());
    $("quiz-start").addEventListener("click", () => this.quiz());
  }

  current() { return DATA.cases[Number($("case-list").value || 0)]; }

  start() {
    this.steps = caseSteps(this.current());
    this.shown = 1;
    this.step();
  }

  step() {
    const c = this.current();
    const given = this.steps.slice(0, this.shown);
    const result = this.dx.rank(requestOf(given));
    const last = this.shown >= this.steps.length;
    const next = last
      ? el("button", { type: "button", id: "walk-next", text: "Show the summary", on: { click: () => this.summary(result) } })
      : el("button", { type: "button", id: "walk-next", text: `Reveal finding ${this.shown + 1} of ${this.steps.length}`,
                       on: { click: () => { this.shown += 1; this.step(); } } });
    const prompt = result.check_next.length
      ? el("div", { class: "prompt" }, el("h3", { text: "Check next: what would tell the leading causes apart?" }), checkView(result, null))
      : el("p", { class: "hint", text: "Nothing left that splits the leading causes." });
    $("case-walk").replaceChildren(
      el("h2", { text: `Case ${c.id}: step ${this.shown} of ${this.steps.length}` }),
      el("ol", { class: "given" }, given.map((s, i) => el("li", { class: i === given.length - 1 ? "new" : null,
        text: `${s.role === "absent" ? "absent: " : ""}${s.text} (${s.role})` }))),
      redFlagsView(result), rankingView(result, 5), prompt, next);
    $("walk-next").focus();
  }

  summary(result) {
    const c = this.current();
    const top = result.categories[0];
    $("case-walk").replaceChildren(
      el("h2", { id: "walk-summary", text: `Case ${c.id}: summary` }),
      el("p", {}, `Given: ${this.steps.map((s) => `${s.role === "absent" ? "no " : ""}${s.text}`).join("; ")}.`),
      el("p", {}, el("strong", { text: "Leading cause category: " }), `${top ? top.label : "none"}; leading condition: `,
         `${result.conditions[0] ? result.conditions[0].label : "none"}.`),
      c.expected_first ? el("p", {}, el("strong", { text: "The case suite expects: " }), `${c.expected_first}${c.why ? ` — ${c.why}` : ""}.`) : "",
      (c.seed_facts || []).length ? el("p", {}, el("strong", { text: "The seeds' facts behind it: " }), c.seed_facts.join("; ")) : "",
      redFlagsView(result),
      el("h3", { text: "The claims behind the leading causes" }), claimList(result),
      el("button", { type: "button", id: "walk-again", text: "Walk this case again", on: { click: () => this.start() } }));
    $("walk-summary").tabIndex = -1;
    $("walk-summary").focus();
  }

  /* quiz questions generated from the graph: which cause fits (distractors: the conditions the sources say
     to tell it apart from, then the next ranked), and what tells the leader from one of those */
  quizQuestions() {
    const result = this.dx.rank(requestOf(caseSteps(this.current())));
    const lead = result.conditions[0];
    if (!lead) return [];
    const distractors = [];
    for (const t of lead.tell_apart_from) if (t.label && t.label !== lead.label && !distractors.includes(t.label)) distractors.push(t.label);
    for (const c of result.conditions.slice(1)) if (distractors.length < 3 && !distractors.includes(c.label)) distractors.push(c.label);
    const explain1 = lead.links.filter((l) => l.claim).map((l) => `${l.claim_label} [${sourceText(l.sources)}]`);
    const questions = [{
      question: `Findings: ${caseSteps(this.current()).map((s) => `${s.role === "absent" ? "no " : ""}${s.text}`).join("; ")}. Which cause fits them best?`,
      options: [lead.label, ...distractors.slice(0, 3)].sort(compareStrings), answer: lead.label,
      explanation: `${lead.label} scores ${n(lead.score)}. ${explain1.join(" ")}`,
    }];
    // the best-ranked cause that the sources say must be told apart from another
    const holder = result.conditions.find((c) => c.tell_apart_from.some((t) => t.label)) || lead;
    const other = holder.tell_apart_from.find((t) => t.label) || null;
    if (other) {
      const lead = holder;              // the leading cause that the sources tell apart from another
      const sides = new Map();
      for (const r of this.engine.rows("dx-compare", { cause: [lead.iri, other.condition] })) {
        const key = `${r.feature} ${r.cause}`;
        if (!sides.has(key) || sides.get(key).weight < r.weight) sides.set(key, r);
      }
      const features = new Map();
      for (const r of sides.values()) {
        const f = features.get(r.feature) || { label: r.featureLabel, a: 0, b: 0, claim: null };
        if (r.cause === lead.iri) { f.a = r.weight; f.claim = r.claim; } else f.b = r.weight;
        features.set(r.feature, f);
      }
      const list = [...features.values()].filter((f) => f.label);
      const best = list.filter((f) => f.a > f.b).sort((x, y) => (y.a - y.b) - (x.a - x.b) || compareStrings(x.label, y.label))[0];
      const wrong = list.filter((f) => f.a <= f.b).sort((x, y) => (x.a - x.b) - (y.a - y.b) || compareStrings(x.label, y.label)).slice(0, 3);
      if (best && wrong.length) {
        const src = best.claim ? this.dx.claimSources([best.claim]).get(best.claim) : [];
        const claimRow = best.claim ? this.engine.rows("evidence-claim-sources", { claim: [best.claim] }) : [];
        questions.push({
          question: `The sources say ${lead.label} must be told apart from ${other.label} (${other.claim_label}). Which finding points to ${lead.label} rather than ${other.label}?`,
          options: [best.label, ...wrong.map((w) => w.label)].sort(compareStrings), answer: best.label,
          explanation: `${best.label}: weight ${n(best.a)} for ${lead.label}, ${n(best.b)} for ${other.label}` +
            (best.claim ? ` — ${curie(best.claim)} [${sourceText(src) || (claimRow[0] || {}).doi || ""}]` : "") +
            `. Told apart by: ${other.claim_label} [${sourceText(other.sources)}]`,
        });
      }
    }
    return questions;
  }

  quiz() {
    const questions = this.quizQuestions();
    $("case-walk").replaceChildren(el("h2", { id: "quiz-title", text: `Quiz: case ${this.current().id}` }),
      ...questions.map((q, qi) => {
        const feedback = el("p", { class: "feedback", role: "status", "aria-live": "polite" });
        return el("fieldset", { class: "quiz" }, el("legend", { text: `${qi + 1}. ${q.question}` }),
          q.options.map((o) => el("button", { type: "button", class: "answer", text: o, on: { click: () => {
            feedback.textContent = `${o === q.answer ? "Right." : `Not quite: the answer is ${q.answer}.`} ${q.explanation}`;
          } } })), feedback);
      }));
    $("quiz-title").tabIndex = -1;
    $("quiz-title").focus();
  }
}

/* -- the page API and start-up -- */
let resolveReady, rejectReady;
const started = new Promise((ok, fail) => { resolveReady = ok; rejectReady = fail; });
window.bmlkg = {
  ready: started.then(() => true),
  async differential(request = {}) {
    const { dx } = await started;
    return dx.rank({ findings: request.findings, context: request.context, absent: request.absent });
  },
  async query(name, params = {}) {
    const { engine } = await started;
    return engine.run(name, params);
  },
};

async function boot() {
  const t0 = performance.now();
  const engine = await startEngine();
  const dx = new Differential(engine);
  const datalist = $("bmlkg-names");
  const names = [...new Set(engine.nameRows.map((r) => r.name))].sort(compareStrings);
  for (const name of names) datalist.append(el("option", { value: name }));
  const t1 = performance.now();
  const select = setupTabs();
  const caseTab = new CaseTab(dx);
  new QueryTab(engine);
  new EvidenceTab(engine, dx);
  new CasesTab(engine, dx);
  const t2 = performance.now();
  caseTab.fromHash();
  const ms = performance.now() - t0;
  Object.assign(engine.timings, { names_ms: t1 - t0 - engine.timings.load_ms, tabs_ms: t2 - t1, case_ms: performance.now() - t2 });
  $("status").textContent = `ready: ${engine.timings.triples} triples, ${Math.round(ms)} ms`;
  window.bmlkg.timings = { ...engine.timings, interactive_ms: ms };
  /* put a case into the Differential tab (as a permalink would) and draw it; returns the ms it took */
  window.bmlkg.show = (request = {}) => {
    const t = performance.now();
    caseTab.inputs = [["findings", "finding"], ["context", "context"], ["absent", "absent"]]
      .flatMap(([key, role]) => (request[key] || []).map((text) => ({ text, role })));
    caseTab.update();
    return performance.now() - t;
  };
  window.bmlkg.select = select;
  document.body.dataset.ready = "1";
  resolveReady({ engine, dx });
}

boot().catch((e) => {
  $("status").textContent = `could not start: ${e.message}`;
  rejectReady(e);
  throw e;
});
