/* bmlkg classroom: the engine. Oxigraph's WebAssembly build (web.js above, in the same module) holds the
   graph; every answer comes from a library query (queries/*.rq), bound the way the Python side binds it.
   What Python and this page must agree on (spellings, prefixes, where each parameter goes) arrives as
   data in the page (#bmlkg-data), written by bmlkg/views/classroom.py: no rule is written here twice. */

const DATA = JSON.parse(document.getElementById("bmlkg-data").textContent);
const XSD = "http://www.w3.org/2001/XMLSchema#";

function fromBase64(text) {
  if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function gunzip(base64) {
  const bytes = fromBase64(base64);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).arrayBuffer();
}

function inputError(message) {
  const error = new Error(message);
  error.name = "InputError";
  return error;
}

/* -- text keys: the steps of "normalise" in ontology/input-rules.json (bmlkg.store.graph.normalise) --- */
const NORMALISE = DATA.rules.normalise;
const NOT_KEPT = new RegExp(`[^\\p{L}\\p{N}_\\s${NORMALISE.keep_chars.replace(/[\\\]^-]/g, "\\$&")}]`, "gu");

function casefold(text) {
  return text.toLowerCase().replace(/\u00df/g, "ss").replace(/\u03c2/g, "\u03c3");
}

function normalise(text) {
  let key = casefold(String(text));
  for (const [from, to] of NORMALISE.replace) key = key.split(from).join(to);
  key = key.replace(NOT_KEPT, " ").split(/\s+/).filter(Boolean).join(" ");
  for (const [british, american] of NORMALISE.spellings) key = key.split(british).join(american);
  return key;
}

/* -- IRIs and CURIEs (prefix maps from bmlkg.vocab) --------------------------------------------------- */
function curie(iri) {
  let best = "", short = iri;
  for (const [prefix, ns] of DATA.prefixes) {
    const local = iri.slice(ns.length);
    if (iri.startsWith(ns) && ns.length > best.length && local && !/[/#]/.test(local)) {
      best = ns;
      short = `${prefix}:${local}`;
    }
  }
  return short;
}

function expand(value) {
  if (value.startsWith("http://") || value.startsWith("https://")) return value;
  const at = value.indexOf(":");
  const prefix = at < 0 ? null : value.slice(0, at);
  const ns = DATA.prefixes.find(([p]) => p === prefix);
  if (prefix === null || !ns) {
    throw inputError(`unknown CURIE prefix in '${value}'`);
  }
  return ns[1] + value.slice(at + 1);
}

/* -- SPARQL 1.1 JSON results -> plain rows (as bmlkg's Result.rows()) ---------------------------------- */
const INTEGER = new Set(DATA.integer_types);
function cellValue(cell) {
  if (cell.type === "bnode") return "_:" + cell.value;
  if (cell.type !== "literal" || !cell.datatype) return cell.value;
  if (INTEGER.has(cell.datatype) || cell.datatype === XSD + "decimal" ||
      cell.datatype === XSD + "double" || cell.datatype === XSD + "float") {
    const n = Number(cell.value);
    return Number.isNaN(n) ? cell.value : n;
  }
  if (cell.datatype === XSD + "boolean") return ["true", "1"].includes(cell.value.trim());
  return cell.value;
}

function rows(results) {
  return results.results.bindings.map((b) => {
    const row = {};
    for (const [name, cell] of Object.entries(b)) row[name] = cellValue(cell);
    return row;
  });
}

/* -- the engine ----------------------------------------------------------------------------------- */
class Engine {
  constructor(store) {
    this.store = store;
    this.queries = new Map(DATA.queries.map((q) => [q.name, q]));
    this.labels = new Map();
    for (const r of rows(this.select(DATA.labels_query))) {
      if (!this.labels.has(r.s)) this.labels.set(r.s, r.l);
    }
    this.names = new Map();          // normalised name -> [[iri, kind]], as KnowledgeGraph.name_index
    this.nameRows = rows(this.select(DATA.names_query));
    for (const r of this.nameRows) {
      const key = normalise(r.name);
      const list = this.names.get(key) || [];
      if (!list.some(([iri, kind]) => iri === r.s && kind === r.kind)) list.push([r.s, r.kind]);
      this.names.set(key, list);
    }
    const order = (e) => [e[1] !== "label", e[1] !== "hasExactSynonym", e[0]];
    for (const list of this.names.values()) list.sort((a, b) => compareKeys(order(a), order(b)));
  }

  select(text) {
    return JSON.parse(this.store.query(text, { results_format: "application/sparql-results+json" }));
  }

  label(iri) {
    return this.labels.get(iri) ?? iri.split(/[/#]/).pop();
  }

  /* typed text -> one term: a CURIE or IRI of a labelled node, or a label or synonym (KnowledgeGraph.resolve) */
  resolve(text, parameter = "term") {
    const raw = String(text).trim();
    if (!raw) throw inputError(`${parameter}: empty value`);
    if (/^https?:\/\//.test(raw) || /^[A-Za-z][\p{L}\p{N}_.-]*:[\p{L}\p{N}_.-]+$/u.test(raw)) {
      let iri = null;
      try { iri = expand(raw); } catch (e) { iri = null; }
      if (iri && this.labels.has(iri)) return { iri, label: this.labels.get(iri), text: raw };
    }
    const found = this.names.get(normalise(raw));
    if (found) return { iri: found[0][0], label: this.label(found[0][0]), text: raw };
    return null;
  }

  /* one parameter value -> an RDF term in N-Triples syntax (bmlkg.queries.to_term) */
  term(param, value) {
    const where = `parameter ${param.name} (${param.type})`;
    const text = String(value).trim();
    if (param.type === "number") {
      if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/.test(text)) throw inputError(`${where}: '${text}' is not a number`);
      return text.includes(".") ? `"${text}"^^<${XSD}decimal>` : `"${BigInt(text)}"^^<${XSD}integer>`;
    }
    if (!text) throw inputError(`${where}: empty value`);
    if (param.type === "label") {
      const found = this.resolve(text, where);
      if (!found) throw inputError(`${where}: unknown label '${text}'`);
      return namedNode(found.iri).toString();
    }
    if (param.type === "iri") {
      const doi = /^(?:doi:|https?:\/\/(?:dx\.)?doi\.org\/)?(10\.\d{4,9}\/\S+)$/i.exec(text);
      const iri = doi ? "https://doi.org/" + doi[1].toLowerCase() : expand(text);
      if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(iri)) throw inputError(`${where}: '${text}' is not an absolute IRI`);
      return namedNode(iri).toString();
    }
    return literal(text).toString();
  }

  /* the query text with each parameter's VALUES blocks filled (bmlkg.queries.bind); the block spans
     were found by bmlkg's SPARQL tokenizer when the page was rendered */
  bind(query, params = {}) {
    const declared = new Map(query.params.map((p) => [p.name, p]));
    for (const name of Object.keys(params)) {
      if (!declared.has(name)) throw inputError(`${query.name}: unknown parameter '${name}'`);
    }
    const edits = [];
    for (const p of query.params) {
      let value = params[p.name];
      let terms = null;
      const blank = value === undefined || value === null || (typeof value === "string" && !value.trim());
      if (blank) {
        if (!p.optional) throw inputError(`${query.name}: missing parameter ${p.name} (${p.type})`);
      } else {
        let values = Array.isArray(value) ? value : [value];
        if (p.repeatable && p.type !== "text") {
          values = values.flatMap((v) => (typeof v === "string" ? v.split(";") : [v]))
            .filter((v) => typeof v !== "string" || v.trim());
        }
        if (!values.length) throw inputError(`${query.name}: parameter ${p.name} has no value`);
        if (values.length > 1 && !p.repeatable) throw inputError(`${query.name}: parameter ${p.name} takes one value`);
        terms = values.map((v) => this.term(p, v));
      }
      const body = "{ " + (terms === null ? "UNDEF" : terms.join(" ")) + " }";
      for (const [start, end] of query.slots[p.name]) edits.push([start, end, body]);
    }
    let text = query.text;
    edits.sort((a, b) => b[0] - a[0]);
    for (const [start, end, body] of edits) text = text.slice(0, start) + body + text.slice(end);
    return text;
  }

  /* a library query by name -> SPARQL 1.1 JSON results, GROUP_CONCAT parts sorted as bmlkg does */
  run(name, params = {}) {
    const query = this.queries.get(name);
    if (!query) throw inputError(`unknown query '${name}'`);
    const results = this.select(this.bind(query, params));
    for (const b of results.results?.bindings || []) {
      for (const [column, separator] of Object.entries(query.concat)) {
        const cell = b[column];
        if (cell && cell.type === "literal" && separator) {
          cell.value = cell.value.split(separator).sort(compareStrings).join(separator);
        }
      }
    }
    return results;
  }

  rows(name, params = {}) {
    return rows(this.run(name, params));
  }
}

/* Python's ordering of str (code points) and of tuples */
function compareStrings(a, b) {
  const x = Array.from(a), y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i].codePointAt(0) - y[i].codePointAt(0);
  }
  return x.length - y.length;
}

function compareKeys(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i], y = b[i];
    if (x === y) continue;
    if (typeof x === "string") return compareStrings(x, y);
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

async function startEngine() {
  const t0 = performance.now();
  const [wasm, graph] = await Promise.all([gunzip(document.getElementById("bmlkg-wasm").textContent.trim()),
                                           gunzip(document.getElementById("bmlkg-graph").textContent.trim())]);
  const t1 = performance.now();
  await __wbg_init({ module_or_path: wasm });
  const t2 = performance.now();
  const store = new Store();
  store.load(new TextDecoder().decode(graph), { format: "application/n-triples", no_transaction: true, lenient: true });
  const t3 = performance.now();
  const engine = new Engine(store);
  const t4 = performance.now();
  engine.timings = { load_ms: t4 - t0, decode_ms: t1 - t0, wasm_ms: t2 - t1, graph_ms: t3 - t2, index_ms: t4 - t3,
                     triples: store.size };
  return engine;
}
