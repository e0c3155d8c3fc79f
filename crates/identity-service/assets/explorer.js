// The query explorer (/explorer): plain JavaScript, no build step, no
// library. It signs in with client credentials (the token is kept in this
// closure only, never in storage), reads the feed's service document and
// $metadata, completes and validates the query as it is typed, runs it,
// pages with the next links, draws $apply groupby results as an SVG bar
// chart, shows the explain route's SQL and plan, and writes the request
// (the page shown or the typed query) as curl, Python requests, JavaScript
// fetch and Power Query M. It reads the v4 feed's entity sets or API 1's
// identity lists (users, roles, groups; their names from /openapi.json).
// explorer-shapes.js (loaded first) reads the documents: what an $apply
// produces (from the validate route's AST) and API 1's property names.
//
// Every value from the server or the data reaches the page through
// textContent or DOM attributes, never as HTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";

  const state = {
    token: null,
    scopes: [],
    clientId: "",
    tenant: "",
    org: "",
    api: "feed", // "feed" (the v4 feed's entity sets) or "identity" (API 1's lists)
    sets: [], // [{name, type}] of the chosen API
    feedSets: [], // the feed's entity sets
    api1Lists: [], // API 1's lists from /openapi.json
    types: {}, // type key -> {properties: [...], navigations: {name: type key}}
    applied: new Map(), // "api|set|$apply text" -> the type it produces, null (no AST), or "pending"
    pages: [], // the URLs of the pages seen, for Previous
    pageIndex: -1,
    validateSeq: 0,
    runSeq: 0,
    snippetKind: "curl",
    copyWhich: "page", // "page": the page shown; "query": the typed query's first page
    completion: { items: [], index: 0, from: 0, to: 0 },
    shape: null, // the groupby and aliases of the $apply that ran (the chart's)
  };

  // ---------------------------------------------------------------- DOM

  /** An element with attributes and children (strings become text nodes). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "className") node.className = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function status(node, text, kind) {
    node.textContent = text;
    node.className = kind || "";
  }

  // ----------------------------------------------------- query encoding

  // Characters sent as they are; everything else is percent-encoded, a
  // space becomes "+" (the README's query-string convention: "+" is a
  // space, a literal plus is %2B). Outside string literals "&" separates
  // options; inside them it is data (%26). A quote is sent as %27, as the
  // browser would send it anyway (its URL parser encodes ' in a query):
  // the offsets the server answers count what was sent.
  const SAFE = /^[A-Za-z0-9\-._~!$()*,;:@/?=]$/;

  function percent(ch) {
    let out = "";
    for (const byte of new TextEncoder().encode(ch)) {
      out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
    }
    return out;
  }

  /**
   * The raw query string of the typed text and, for each of its characters,
   * the index of the typed character it came from (the server's offsets are
   * byte offsets into the raw text with "+" read as a space, one ASCII
   * character per byte).
   */
  function encodeQuery(text) {
    let raw = "";
    const origin = [];
    let quoted = false;
    for (let i = 0; i < text.length; ) {
      const ch = String.fromCodePoint(text.codePointAt(i));
      let out;
      if (ch === "'") {
        quoted = !quoted;
        out = "%27";
      } else if (ch === " ") {
        out = "+";
      } else if (ch === "&") {
        out = quoted ? "%26" : "&";
      } else if (SAFE.test(ch)) {
        out = ch;
      } else {
        out = percent(ch);
      }
      for (let k = 0; k < out.length; k++) origin.push(i);
      raw += out;
      i += ch.length;
    }
    origin.push(text.length);
    return { raw, origin };
  }

  /** The options of the typed text: [[name, value]] split at unquoted "&". */
  function splitOptions(text) {
    const parts = [];
    let quoted = false;
    let start = 0;
    for (let i = 0; i <= text.length; i++) {
      const ch = text[i];
      if (ch === "'") quoted = !quoted;
      if (i === text.length || (ch === "&" && !quoted)) {
        const part = text.slice(start, i);
        if (part.trim() !== "") {
          const eq = part.indexOf("=");
          parts.push(eq < 0 ? [part.trim(), ""] : [part.slice(0, eq).trim(), part.slice(eq + 1)]);
        }
        start = i + 1;
      }
    }
    return parts;
  }

  // --------------------------------------------------------------- HTTP

  function apiBase() {
    return `/api/${encodeURIComponent(state.tenant)}/${encodeURIComponent(state.org)}`;
  }

  function currentSet() {
    return $("entity-set").value;
  }

  function queryText() {
    return $("query").value;
  }

  /** The path of the chosen set or list: `read` (its rows), `validate` or `explain`. */
  function setPath(route, api, set) {
    const name = encodeURIComponent(set || currentSet());
    if ((api || state.api) === "identity") {
      return route === "read" ? `${apiBase()}/identity/${name}/odata` : `${apiBase()}/${route}/identity/${name}`;
    }
    return route === "read" ? `${apiBase()}/odata/${name}` : `${apiBase()}/${route}/${name}`;
  }

  function feedUrl(raw) {
    const path = setPath("read");
    return raw ? `${path}?${raw}` : path;
  }

  async function call(url, options) {
    const headers = Object.assign({ Accept: "application/json" }, (options && options.headers) || {});
    if (state.token && !headers.Authorization) headers.Authorization = `Bearer ${state.token}`;
    const response = await fetch(url, Object.assign({}, options, { headers, credentials: "omit", cache: "no-store" }));
    const text = await response.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch (_) {
      body = null;
    }
    return { status: response.status, ok: response.ok, body, text };
  }

  function errorText(answer) {
    const error = answer.body && answer.body.error;
    if (error && typeof error === "object") {
      const parts = [`${answer.status} ${error.code || ""}: ${error.message || ""}`.trim()];
      return parts.join("\n");
    }
    if (answer.body && answer.body.error_description) {
      return `${answer.status}: ${answer.body.error_description}`;
    }
    return `the server answered ${answer.status}`;
  }

  // ------------------------------------------------------------ sign in

  function claimsOf(token) {
    try {
      const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const json = new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0)));
      return JSON.parse(json);
    } catch (_) {
      return {};
    }
  }

  async function signIn(event) {
    event.preventDefault();
    const id = $("client-id").value.trim();
    const secret = $("client-secret").value;
    const out = $("signin-status");
    status(out, "Signing in…", "muted");
    const body = new URLSearchParams([
      ["grant_type", "client_credentials"],
      ["client_id", id],
      ["client_secret", secret],
    ]);
    let answer;
    try {
      answer = await call("/connect/token", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body,
      });
    } catch (error) {
      status(out, `The server could not be reached: ${error.message}`, "error");
      return;
    }
    if (!answer.ok || !answer.body || !answer.body.access_token) {
      status(out, `Not signed in: ${errorText(answer)}`, "error");
      return;
    }
    state.token = answer.body.access_token;
    state.scopes = String(answer.body.scope || "").split(" ").filter(Boolean);
    state.clientId = id;
    $("client-secret").value = "";
    const claims = claimsOf(state.token);
    if (claims.tenant) $("tenant").value = claims.tenant;
    if (claims.org) $("org").value = claims.org;
    status(out, "", "");
    $("signin").hidden = true;
    $("workspace").hidden = false;
    $("who").textContent = `Signed in as ${id} (scopes: ${state.scopes.join(" ") || "none"}); the token expires in ${answer.body.expires_in} s.`;
    updateSnippets();
    await loadFeed();
  }

  function signOut() {
    state.token = null;
    state.scopes = [];
    $("workspace").hidden = true;
    $("signin").hidden = false;
    clear($("rows"));
    clear($("chart"));
    state.shape = null;
    clear($("ast"));
    clear($("explain-out"));
    status($("signin-status"), "Signed out: the token is forgotten.", "muted");
  }

  // --------------------------------------------- service document, $metadata

  function readMetadata(csdl) {
    const types = {};
    const sets = {};
    for (const [namespace, schema] of Object.entries(csdl)) {
      if (namespace.startsWith("$") || typeof schema !== "object") continue;
      for (const [name, item] of Object.entries(schema)) {
        if (!item || typeof item !== "object") continue;
        if (item.$Kind === "EntityType" || item.$Kind === "ComplexType") {
          const type = { properties: [], navigations: {} };
          for (const [member, def] of Object.entries(item)) {
            if (member.startsWith("$") || !def || typeof def !== "object") continue;
            if (def.$Kind === "NavigationProperty") type.navigations[member] = def.$Type;
            else type.properties.push(member);
          }
          types[`${namespace}.${name}`] = type;
        } else if (item.$Kind === "EntityContainer") {
          for (const [setName, def] of Object.entries(item)) {
            if (def && def.$Collection && def.$Type) sets[setName] = def.$Type;
          }
        }
      }
    }
    return { types, sets };
  }

  async function loadFeed(event) {
    if (event) event.preventDefault();
    state.tenant = $("tenant").value.trim();
    state.org = $("org").value.trim();
    const out = $("target-status");
    status(out, "Reading the service document, $metadata and API 1's description…", "muted");
    clear($("entity-set"));
    let service;
    let metadata;
    let openapi;
    try {
      [service, metadata, openapi] = await Promise.all([
        call(`${apiBase()}/odata/`),
        call(`${apiBase()}/odata/$metadata?$format=json`),
        call("/openapi.json"),
      ]);
    } catch (error) {
      status(out, `The server could not be reached: ${error.message}`, "error");
      return;
    }
    if (!service.ok) {
      status(out, `The feed of ${state.tenant}/${state.org}: ${errorText(service)}`, "error");
      return;
    }
    if (!metadata.ok || !metadata.body) {
      status(out, `$metadata: ${errorText(metadata)}`, "error");
      return;
    }
    const { types, sets } = readMetadata(metadata.body);
    // API 1's lists and names; without its description the feed still works.
    const api1 = openapi.ok && openapi.body ? window.explorerShapes.api1Types(openapi.body) : { lists: [], types: {} };
    state.types = Object.assign({}, types, api1.types);
    state.applied = new Map();
    state.feedSets = (service.body.value || [])
      .filter((s) => !s.kind || s.kind === "EntitySet")
      .map((s) => ({ name: s.name, type: sets[s.name] }));
    state.api1Lists = api1.lists.map((list) => ({ name: list, type: `api1.${list}` }));
    fillSets();
  }

  /** The entity set list of the chosen API: the feed's sets or API 1's lists. */
  function fillSets() {
    state.api = $("api").value === "identity" ? "identity" : "feed";
    state.sets = state.api === "identity" ? state.api1Lists : state.feedSets;
    const select = $("entity-set");
    clear(select);
    for (const set of state.sets) select.append(el("option", { value: set.name }, set.name));
    status($("target-status"), state.api === "identity"
      ? `${state.sets.length} API 1 lists of ${state.tenant}/${state.org} (GET …/identity/{list}/odata).`
      : `${state.sets.length} entity sets in the feed of ${state.tenant}/${state.org}.`, "muted");
    resetPaging();
    clear($("rows"));
    onQueryChanged();
  }

  function setType() {
    const set = state.sets.find((s) => s.name === currentSet());
    return (set && state.types[set.type]) || { properties: [], navigations: {} };
  }

  // ------------------------------------------- what an $apply produces

  function appliedKey(applyText) {
    return `${state.api}|${currentSet()}|${applyText}`;
  }

  /**
   * The type the completion offers in `ctx`: after an $apply (for the other
   * options) or after earlier transformations (in $apply, after a "/"),
   * what those transformations produce, read from the validate route's AST;
   * the entity type's otherwise, and while that AST is being asked for or
   * is not available (the $apply is not valid).
   */
  function completionType(ctx) {
    const base = setType();
    let applyText = null;
    if (ctx.option === "$apply") {
      applyText = window.explorerShapes.transformationsBefore(ctx.before);
    } else {
      const apply = splitOptions(queryText()).find(([name]) => name.trim().toLowerCase() === "$apply");
      applyText = apply && apply[1].trim() ? apply[1] : null;
    }
    if (applyText === null) return base;
    const key = appliedKey(applyText);
    const known = state.applied.get(key);
    if (known === undefined) askApplied(applyText, key, base);
    return known && known !== "pending" ? known : base;
  }

  /** Asks the validate route for the AST of `$apply=applyText` alone; completion is redrawn with it. */
  async function askApplied(applyText, key, base) {
    state.applied.set(key, "pending");
    const { raw } = encodeQuery(`$apply=${applyText}`);
    let answer;
    try {
      answer = await call(`${setPath("validate")}?${raw}`);
    } catch (_) {
      state.applied.delete(key);
      return;
    }
    rememberApplied(key, answer.ok && answer.body && answer.body.valid ? answer.body.ast : null, base);
    if (document.activeElement === $("query")) updateCompletions();
  }

  function rememberApplied(key, ast, base) {
    if (state.applied.size > 200) state.applied.clear();
    const type = ast ? window.explorerShapes.applyOutput(ast, base) : null;
    if (type) type.hint = "from $apply";
    state.applied.set(key, type);
  }

  // ---------------------------------------------------------- completion

  const OPTIONS = [
    "$filter", "$select", "$orderby", "$top", "$skip", "$count", "$expand",
    "$search", "$apply", "$compute", "$format", "$skiptoken",
  ];
  const FUNCTIONS = [
    "contains", "startswith", "endswith", "length", "indexof", "substring",
    "tolower", "toupper", "trim", "concat", "matchespattern", "year", "month",
    "day", "hour", "minute", "second", "fractionalseconds", "totalseconds",
    "totaloffsetminutes", "date", "time", "now", "mindatetime", "maxdatetime",
    "round", "floor", "ceiling", "cast", "isof", "hassubset", "hassubsequence",
  ];
  const OPERATORS = [
    "eq", "ne", "gt", "ge", "lt", "le", "and", "or", "not", "in", "has",
    "add", "sub", "mul", "div", "divby", "mod", "true", "false", "null",
  ];
  const LAMBDAS = ["any", "all", "$count"];
  const TRANSFORMATIONS = [
    "groupby", "aggregate", "filter", "compute", "orderby", "top", "skip",
    "search", "topcount", "bottomcount", "concat", "identity",
  ];
  const AGGREGATION = ["with", "sum", "min", "max", "average", "countdistinct", "as", "$count"];

  /** Where the caret is: the option it is in and the word before it. */
  function contextAt(text, caret) {
    let quoted = false;
    let start = 0;
    for (let i = 0; i < caret; i++) {
      if (text[i] === "'") quoted = !quoted;
      else if (text[i] === "&" && !quoted) start = i + 1;
    }
    const segment = text.slice(start, caret);
    const eq = segment.indexOf("=");
    if (eq < 0) {
      return { kind: "option", from: start, prefix: segment };
    }
    if (quoted) return null;
    const option = segment.slice(0, eq).trim().toLowerCase();
    const before = segment.slice(eq + 1);
    const word = /[A-Za-z_$][A-Za-z0-9_$]*$/.exec(before);
    const prefix = word ? word[0] : "";
    const head = before.slice(0, before.length - prefix.length);
    const path = /([A-Za-z_][A-Za-z0-9_]*)\/$/.exec(head);
    return { kind: "value", option, prefix, from: caret - prefix.length, parent: path ? path[1] : null, before: head };
  }

  function candidates(ctx) {
    if (ctx.kind === "option") {
      return OPTIONS.map((o) => ({ text: `${o}=`, label: o, hint: "query option" }));
    }
    const type = completionType(ctx);
    const propHint = type.hint || "property";
    let props = type.properties;
    let navs = Object.keys(type.navigations);
    if (ctx.parent) {
      const target = state.types[type.navigations[ctx.parent]];
      if (target) {
        props = target.properties;
        navs = Object.keys(target.navigations);
      } else {
        // A lambda variable or a path below the set: every property of the
        // set's navigation targets.
        const all = new Set();
        for (const t of Object.values(type.navigations)) {
          for (const p of (state.types[t] || { properties: [] }).properties) all.add(p);
        }
        props = [...all];
        navs = [];
      }
      if (ctx.option === "$filter" || ctx.option === "$apply") {
        return [
          ...props.map((p) => ({ text: p, label: p, hint: "property" })),
          ...LAMBDAS.map((l) => ({ text: l === "$count" ? l : `${l}(`, label: l, hint: "lambda" })),
        ];
      }
    }
    const list = [];
    const add = (items, hint, suffix) => {
      for (const item of items) list.push({ text: item + (suffix || ""), label: item, hint });
    };
    switch (ctx.option) {
      case "$select":
        add(props, propHint);
        add(navs, "navigation");
        break;
      case "$expand":
        add(navs, "navigation");
        break;
      case "$orderby":
        add(props, propHint);
        add(["asc", "desc"], "direction");
        break;
      case "$filter":
      case "$compute":
        add(props, propHint);
        add(navs, "navigation");
        add(FUNCTIONS, "function", "(");
        add(OPERATORS, "operator");
        break;
      case "$apply":
        add(TRANSFORMATIONS, "transformation", "(");
        add(props, propHint);
        add(navs, "navigation");
        add(AGGREGATION, "aggregation");
        add(FUNCTIONS, "function", "(");
        add(OPERATORS, "operator");
        break;
      case "$count":
        add(["true", "false"], "value");
        break;
      case "$format":
        add(["json"], "value");
        break;
      default:
        break;
    }
    return list;
  }

  function updateCompletions() {
    const input = $("query");
    const list = $("completions");
    const caret = input.selectionStart;
    const ctx = input.selectionStart === input.selectionEnd ? contextAt(input.value, caret) : null;
    const prefix = ctx ? ctx.prefix.toLowerCase() : "";
    const items = ctx
      ? candidates(ctx).filter((c) => c.label.toLowerCase().startsWith(prefix) && c.label.toLowerCase() !== prefix)
      : [];
    // Suggest only once something is typed, or at the start of an option.
    const show = ctx && items.length > 0 && (prefix.length > 0 || ctx.kind === "option" || ctx.parent);
    state.completion = { items: show ? items.slice(0, 12) : [], index: 0, from: ctx ? ctx.from : 0, to: caret };
    clear(list);
    if (!show) {
      list.hidden = true;
      return;
    }
    state.completion.items.forEach((item, i) => {
      const li = el("li", { role: "option", "data-index": String(i) }, el("span", { className: "label" }, item.label), el("span", { className: "hint" }, item.hint));
      if (i === 0) li.classList.add("active");
      li.addEventListener("mousedown", (event) => {
        event.preventDefault();
        acceptCompletion(i);
      });
      list.append(li);
    });
    list.hidden = false;
  }

  function moveCompletion(step) {
    const { items } = state.completion;
    if (!items.length) return;
    state.completion.index = (state.completion.index + step + items.length) % items.length;
    [...$("completions").children].forEach((li, i) => li.classList.toggle("active", i === state.completion.index));
  }

  function acceptCompletion(index) {
    const { items, from, to } = state.completion;
    const item = items[index];
    if (!item) return;
    const input = $("query");
    input.value = input.value.slice(0, from) + item.text + input.value.slice(to);
    const caret = from + item.text.length;
    input.setSelectionRange(caret, caret);
    input.focus();
    onQueryChanged();
  }

  function closeCompletions() {
    state.completion.items = [];
    $("completions").hidden = true;
  }

  // ------------------------------------------------ validate as you type

  /** Draws the typed text behind the textarea, the character at `at` underlined. */
  function highlight(at) {
    const text = queryText();
    const box = $("highlight");
    clear(box);
    if (at === null || at === undefined) {
      box.append(text);
      return;
    }
    const index = Math.min(Math.max(at, 0), text.length);
    const ch = index < text.length ? String.fromCodePoint(text.codePointAt(index)) : "";
    box.append(text.slice(0, index));
    const mark = el("span", { className: "err", id: "error-mark", "data-offset": String(index) }, ch || "\u00a0");
    box.append(mark);
    box.append(text.slice(index + ch.length));
  }

  function showProblem(answer, origin) {
    const box = $("problem");
    clear(box);
    const error = answer.body && answer.body.error;
    const inner = error && error.innererror;
    let at = null;
    if (inner && typeof inner.offset === "number") {
      at = origin[Math.min(inner.offset, origin.length - 1)];
    }
    highlight(at);
    box.className = "problem error";
    box.append(el("p", { id: "problem-message" }, errorText(answer)));
    if (inner && inner.expected && inner.expected.length) {
      box.append(el("p", { className: "muted" }, `Expected: ${inner.expected.join(", ")}`));
    }
    if (at !== null) {
      const text = queryText();
      box.append(el("pre", { id: "problem-caret" }, `${text}\n${" ".repeat(at)}^`));
    }
  }

  let validateTimer = null;

  function onQueryChanged() {
    const input = $("query");
    if (/[\r\n]/.test(input.value)) {
      const caret = input.selectionStart;
      input.value = input.value.replace(/[\r\n]/g, " ");
      input.setSelectionRange(caret, caret);
    }
    highlight(null);
    updateCompletions();
    updateRequestLine();
    updateSnippets();
    clearTimeout(validateTimer);
    validateTimer = setTimeout(validate, 250);
  }

  function updateRequestLine() {
    if (!currentSet()) return;
    const { raw } = encodeQuery(queryText());
    $("request-url").textContent = location.origin + feedUrl(raw);
  }

  async function validate() {
    if (!state.token || !currentSet()) return;
    const seq = ++state.validateSeq;
    const text = queryText();
    const { raw, origin } = encodeQuery(text);
    const path = setPath("validate");
    let answer;
    try {
      answer = await call(raw ? `${path}?${raw}` : path);
    } catch (error) {
      if (seq === state.validateSeq) status($("problem"), `The server could not be reached: ${error.message}`, "problem error");
      return;
    }
    if (seq !== state.validateSeq || text !== queryText()) return;
    const box = $("problem");
    if (answer.ok && answer.body && answer.body.valid) {
      highlight(null);
      clear(box);
      box.className = "problem ok";
      box.append(el("p", { id: "problem-message" }, "The query is valid."));
      showAst(answer.body);
      // The AST asked for anyway tells what its $apply produces.
      const apply = splitOptions(text).find(([name]) => name.trim().toLowerCase() === "$apply");
      if (apply && answer.body.ast && answer.body.ast.apply) rememberApplied(appliedKey(apply[1]), answer.body.ast, setType());
    } else {
      showProblem(answer, origin);
    }
  }

  // ------------------------------------------------------------ the AST

  function spanText(value) {
    return value && typeof value === "object" && typeof value.start === "number" && typeof value.end === "number" && Object.keys(value).length === 2
      ? `${value.start}..${value.end}`
      : null;
  }

  function tree(name, value) {
    const span = spanText(value);
    if (span !== null) return el("div", { className: "leaf" }, el("span", { className: "key" }, `${name}: `), el("span", { className: "span" }, span));
    if (value === null || typeof value !== "object") {
      return el("div", { className: "leaf" }, el("span", { className: "key" }, `${name}: `), el("span", { className: `value ${typeof value}` }, JSON.stringify(value)));
    }
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
    const label = Array.isArray(value) ? `${name} [${value.length}]` : name;
    const details = el("details", { open: "" }, el("summary", {}, el("span", { className: "key" }, label)));
    for (const [k, v] of entries) details.append(tree(k, v));
    return details;
  }

  function showAst(body) {
    const box = $("ast");
    clear(box);
    $("canonical").textContent = `Canonical: ${body.canonical || "(no options)"}`;
    box.append(tree("query options", body.ast));
  }

  // ---------------------------------------------------------- run, page

  function resetPaging() {
    state.pages = [];
    state.pageIndex = -1;
    state.nextUrl = null;
    $("prev").disabled = true;
    $("next").disabled = true;
    $("page-info").textContent = "";
  }

  /** A next link as a path on this server (the page may only fetch from itself). */
  function samePath(link) {
    const url = new URL(link, location.href);
    return url.pathname + url.search;
  }

  async function run() {
    if (!state.token || !currentSet()) return;
    resetPaging();
    const { raw } = encodeQuery(queryText());
    // The chart follows the query that ran, not the text edited since.
    state.shape = applyShape();
    await showPage(feedUrl(raw), 0);
    if (state.scopes.includes("identity.admin")) explain();
    else explainUnavailable();
  }

  async function showPage(url, index) {
    const seq = ++state.runSeq;
    $("page-info").textContent = "Reading…";
    let answer;
    try {
      answer = await call(url);
    } catch (error) {
      $("page-info").textContent = `The server could not be reached: ${error.message}`;
      return;
    }
    if (seq !== state.runSeq) return;
    const table = $("rows");
    clear(table);
    if (!answer.ok || !answer.body) {
      $("page-info").textContent = "";
      showProblem(answer, encodeQuery(queryText()).origin);
      table.append(el("caption", { className: "error" }, errorText(answer)));
      return;
    }
    state.pages = state.pages.slice(0, index);
    state.pages[index] = url;
    state.pageIndex = index;
    // The feed answers {"value":[...],"@odata.nextLink":…,"@odata.count":…};
    // API 1 {"items":[...],"nextPageLink":…,"count":…}.
    const identity = Array.isArray(answer.body.items);
    const list = identity ? answer.body.items : answer.body.value;
    const rows = Array.isArray(list) ? list : [answer.body];
    renderTable(table, rows);
    const next = identity ? answer.body.nextPageLink : answer.body["@odata.nextLink"];
    state.nextUrl = next ? samePath(next) : null;
    $("next").disabled = !next;
    $("prev").disabled = index === 0;
    updateSnippets();
    const count = identity ? answer.body.count : answer.body["@odata.count"];
    $("page-info").textContent = `Page ${index + 1}: ${rows.length} row${rows.length === 1 ? "" : "s"}` +
      (typeof count === "number" ? ` of ${count}` : "") + (next ? "; more on the next page" : "");
    $("page-info").className = "muted";
    drawChart(rows);
  }

  function cellText(value) {
    if (value === null || value === undefined) return "null";
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  function renderTable(table, rows) {
    const columns = [];
    for (const row of rows) {
      for (const key of Object.keys(row || {})) {
        if (!key.includes("@odata.") && !columns.includes(key)) columns.push(key);
      }
    }
    if (!rows.length) {
      table.append(el("caption", { className: "muted" }, "No rows."));
      return;
    }
    table.append(el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { scope: "col" }, c)))));
    const body = el("tbody");
    for (const row of rows) {
      body.append(el("tr", {}, ...columns.map((c) => {
        const value = row[c];
        return el("td", { className: value === null ? "null" : typeof value }, cellText(value));
      })));
    }
    table.append(body);
  }

  // -------------------------------------------------------------- chart

  /** The groupby properties and aggregate aliases of the query's $apply. */
  function applyShape() {
    const apply = splitOptions(queryText()).find(([name]) => name.toLowerCase() === "$apply");
    if (!apply || !/groupby\s*\(/i.test(apply[1])) return null;
    const groups = [];
    const group = /groupby\s*\(\s*\(([^)]*)\)/i.exec(apply[1]);
    if (group) for (const g of group[1].split(",")) if (g.trim()) groups.push(g.trim());
    const aliases = [];
    for (const m of apply[1].matchAll(/\bas\s+([A-Za-z_][A-Za-z0-9_]*)/g)) aliases.push(m[1]);
    return { groups, aliases };
  }

  function groupValue(row, path) {
    let value = row;
    for (const part of path.split("/")) value = value && typeof value === "object" ? value[part] : undefined;
    return value;
  }

  function drawChart(rows) {
    const box = $("chart");
    clear(box);
    const note = $("chart-note");
    const noMeasure = $("chart-no-measure");
    const shape = state.shape;
    noMeasure.hidden = true;
    if (!shape) {
      note.hidden = false;
      return;
    }
    const numeric = (key) => rows.length > 0 && rows.every((r) => typeof r[key] === "number");
    const keys = Object.keys(rows[0] || {}).filter((k) => !k.includes("@odata."));
    const measure = shape.aliases.find(numeric) || keys.find((k) => !shape.groups.includes(k) && numeric(k));
    if (!measure) {
      note.hidden = true;
      noMeasure.hidden = false;
      return;
    }
    note.hidden = true;
    const labelOf = (row) => {
      const parts = shape.groups.length
        ? shape.groups.map((g) => cellText(groupValue(row, g)))
        : keys.filter((k) => k !== measure).map((k) => cellText(row[k]));
      return parts.join(" / ") || "(all)";
    };
    const shown = rows.slice(0, 60);
    const max = Math.max(0, ...shown.map((r) => r[measure]));
    const min = Math.min(0, ...shown.map((r) => r[measure]));
    const barHeight = 22;
    const labelWidth = 180;
    const plotWidth = 420;
    const width = labelWidth + plotWidth + 90;
    const height = shown.length * (barHeight + 6) + 34;
    const chart = svg("svg", { id: "chart-svg", viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": `${measure} by ${shape.groups.join(", ") || "group"}` });
    chart.append(svg("text", { x: labelWidth, y: 14, class: "chart-title" }, `${measure} by ${shape.groups.join(", ") || "group"}`));
    const scale = (v) => ((v - min) / (max - min || 1)) * plotWidth;
    shown.forEach((row, i) => {
      const y = 24 + i * (barHeight + 6);
      const value = row[measure];
      const x0 = labelWidth + scale(Math.min(0, value));
      const w = Math.max(1, Math.abs(scale(value) - scale(0)));
      const label = labelOf(row);
      const g = svg("g", { class: "bar" });
      g.append(svg("title", {}, `${label}: ${value}`));
      g.append(svg("text", { x: labelWidth - 8, y: y + barHeight * 0.7, "text-anchor": "end", class: "bar-label" }, label.length > 28 ? `${label.slice(0, 27)}…` : label));
      g.append(svg("rect", { x: x0, y, width: w, height: barHeight, rx: 3, class: "bar-rect", "data-value": value }));
      g.append(svg("text", { x: x0 + w + 6, y: y + barHeight * 0.7, class: "bar-value" }, String(value)));
      chart.append(g);
    });
    box.append(chart);
    if (rows.length > shown.length) box.append(el("p", { className: "muted" }, `The first ${shown.length} of ${rows.length} groups.`));
  }

  // ------------------------------------------------------------ explain

  function explainUnavailable() {
    const out = $("explain-out");
    clear(out);
    out.append(el("p", { id: "explain-missing", className: "error" },
      `This token has the scopes ${state.scopes.join(" ") || "(none)"}: the SQL and the plan need identity.admin ` +
      "(a client created with odata-users clients create --scope identity.admin, with identity.read as well to read rows)."));
  }

  async function explain() {
    if (!state.token || !currentSet()) return;
    if (!state.scopes.includes("identity.admin")) {
      explainUnavailable();
      return;
    }
    const out = $("explain-out");
    clear(out);
    out.append(el("p", { className: "muted" }, "Explaining…"));
    const { raw } = encodeQuery(queryText());
    const path = setPath("explain");
    let answer;
    try {
      answer = await call(raw ? `${path}?${raw}` : path);
    } catch (error) {
      clear(out);
      out.append(el("p", { className: "error" }, `The server could not be reached: ${error.message}`));
      return;
    }
    clear(out);
    if (!answer.ok || !answer.body) {
      out.append(el("p", { className: "error" }, errorText(answer)));
      return;
    }
    const body = answer.body;
    const cost = body.cost || {};
    const timings = body.timings || {};
    out.append(el("p", {}, `Running on ${body.backend}. Cost ${cost.total} of a budget of ${cost.budget}` +
      `${cost.withinBudget === false ? " (over the budget: the read is refused)" : ""}; parse ${timings.parseMicros} µs, ` +
      `translate ${timings.translateMicros} µs, plan ${timings.planMicros} µs.`));
    const backends = Object.keys(body.sql || {});
    backends.sort((a, b) => (a === body.backend ? -1 : b === body.backend ? 1 : a.localeCompare(b)));
    for (const backend of backends) {
      const section = el("details", backend === body.backend ? { open: "", className: "backend" } : { className: "backend" },
        el("summary", {}, backend === body.backend ? `${backend} (running)` : backend));
      for (const statement of body.sql[backend]) {
        section.append(el("h4", {}, statement.statement));
        section.append(el("pre", { className: "sql", "data-backend": backend }, statement.sql));
        if (statement.values && statement.values.length) {
          section.append(el("p", { className: "muted" }, `Bound values: ${statement.values.map((v) => JSON.stringify(v)).join(", ")}`));
        }
      }
      if (backend === body.backend) {
        for (const plan of body.plan || []) {
          section.append(el("h4", {}, `Plan of ${plan.statement}`));
          section.append(el("pre", { className: "plan" }, (plan.lines || []).join("\n")));
        }
      }
      out.append(section);
    }
  }

  // --------------------------------------------------------- copy as

  function shellQuote(text) {
    return `'${text.replace(/'/g, "'\\''")}'`;
  }

  /** A URL query component for Power Query: percent-encoded, spaces as %20. */
  function urlComponent(text) {
    let out = "";
    for (const ch of text) out += /^[A-Za-z0-9\-._~!$'()*,;:@/]$/.test(ch) ? ch : percent(ch);
    return out;
  }

  /** A query string's pairs, decoded ("+" is a space). */
  function decodePairs(search) {
    const decode = (text) => {
      try {
        return decodeURIComponent(text.replace(/\+/g, " "));
      } catch (_) {
        return text;
      }
    };
    const pairs = [];
    for (const part of search.replace(/^\?/, "").split("&")) {
      if (!part) continue;
      const eq = part.indexOf("=");
      pairs.push(eq < 0 ? [decode(part), ""] : [decode(part.slice(0, eq)), decode(part.slice(eq + 1))]);
    }
    return pairs;
  }

  /**
   * The request a snippet writes: with "the page shown", the request of the
   * page on screen (a later page's next link, with its $skiptoken); with
   * "the typed query", the text in the box (its first page). Power Query's
   * OData.Feed follows the next links itself and reads every page, so its
   * snippet is always a first page: the first page of the pages shown.
   */
  function snippetRequest(kind) {
    const index = kind === "powerquery" ? 0 : state.pageIndex;
    const shown = state.copyWhich === "page" && state.pageIndex >= 0 ? state.pages[index] : null;
    if (shown) {
      const url = new URL(shown, location.origin);
      return { path: url.pathname, options: decodePairs(url.search) };
    }
    return { path: feedUrl(""), options: splitOptions(queryText()) };
  }

  /** The feed's set of an API 1 list (users -> Users), for Power Query. */
  function feedSetOf(list) {
    const set = state.feedSets.find((s) => s.name.toLowerCase() === list.toLowerCase());
    return set ? set.name : list;
  }

  function snippet(kind) {
    const request = snippetRequest(kind);
    const url = location.origin + request.path;
    const options = request.options;
    switch (kind) {
      case "curl": {
        const lines = [`curl -sSfG ${shellQuote(url)}`, `  -H "Authorization: Bearer $TOKEN"`];
        for (const [name, value] of options) lines.push(`  --data-urlencode ${shellQuote(`${name}=${value}`)}`);
        return lines.join(" \\\n");
      }
      case "python": {
        const params = options.map(([n, v]) => `        (${JSON.stringify(n)}, ${JSON.stringify(v)}),`).join("\n");
        return [
          "import json",
          "import os",
          "",
          "import requests",
          "",
          "response = requests.get(",
          `    ${JSON.stringify(url)},`,
          options.length ? `    params=[\n${params}\n    ],` : "    params=[],",
          '    headers={"Authorization": "Bearer " + os.environ["TOKEN"]},',
          "    timeout=30,",
          ")",
          "response.raise_for_status()",
          "print(json.dumps(response.json(), indent=2))",
        ].join("\n");
      }
      case "fetch": {
        const params = options.map(([n, v]) => `  [${JSON.stringify(n)}, ${JSON.stringify(v)}],`).join("\n");
        return [
          "// Node 18+ as an ES module (node --input-type=module, or a .mjs file);",
          "// in a browser, set TOKEN to the access token instead.",
          "const TOKEN = process.env.TOKEN;",
          options.length ? `const params = new URLSearchParams([\n${params}\n]);` : "const params = new URLSearchParams();",
          `const response = await fetch(${JSON.stringify(url)} + "?" + params, {`,
          '  headers: { Authorization: "Bearer " + TOKEN },',
          "});",
          "if (!response.ok) throw new Error(`${response.status}: ${await response.text()}`);",
          "console.log(JSON.stringify(await response.json(), null, 2));",
        ].join("\n");
      }
      case "powerquery": {
        const query = options.map(([n, v]) => `${urlComponent(n)}=${urlComponent(v)}`).join("&");
        // API 1's lists are not an OData feed: the same options on the feed's set.
        const identity = /\/identity\/[^/]+\/odata$/.test(request.path);
        const base = identity
          ? location.origin + setPath("read", "feed", feedSetOf(request.path.split("/").slice(-2)[0]))
          : url;
        const full = query ? `${base}?${query}` : base;
        return [
          "// Power BI or Excel: Get Data > Blank query > Advanced editor. Sign in with",
          "// Basic: the client id as the user name, the client secret as the password.",
          "// OData.Feed follows the next links itself: it reads every page from the first.",
          ...(identity ? ["// API 1's lists are not an OData feed: this reads the v4 feed's set with the same options."] : []),
          "let",
          `    Source = OData.Feed("${full.replace(/"/g, '""')}", null, [Implementation = "2.0"])`,
          "in",
          "    Source",
        ].join("\n");
      }
      default:
        return "";
    }
  }

  function updateSnippets() {
    if (!currentSet()) return;
    const shown = state.pageIndex >= 0;
    $("copy-page-label").textContent = shown
      ? `(page ${state.pageIndex + 1}${state.pageIndex > 0 ? ", its next link with the $skiptoken" : ""})`
      : "(nothing read yet: the typed query)";
    $("copy-note").hidden = !(state.snippetKind === "powerquery" && state.copyWhich === "page" && state.pageIndex > 0);
    $("snippet").textContent = snippet(state.snippetKind);
    $("snippet").setAttribute("data-kind", state.snippetKind);
    $("token-snippet").textContent =
      `TOKEN=$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials ${location.origin}/connect/token \\\n` +
      "  | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')";
  }

  async function copySnippet() {
    const text = $("snippet").textContent;
    try {
      await navigator.clipboard.writeText(text);
      $("copy-status").textContent = "Copied.";
    } catch (_) {
      const range = document.createRange();
      range.selectNodeContents($("snippet"));
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      $("copy-status").textContent = "Selected: press Ctrl+C to copy.";
    }
  }

  // ------------------------------------------------------------- wiring

  function showTab(name) {
    for (const tab of document.querySelectorAll(".tab")) {
      const active = tab.getAttribute("data-tab") === name;
      tab.classList.toggle("active", active);
      tab.setAttribute("aria-selected", String(active));
    }
    for (const panel of document.querySelectorAll(".tab-panel")) panel.hidden = panel.id !== `tab-${name}`;
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("signin").addEventListener("submit", signIn);
    $("signout").addEventListener("click", signOut);
    $("target").addEventListener("submit", loadFeed);
    $("entity-set").addEventListener("change", () => {
      resetPaging();
      onQueryChanged();
    });
    const input = $("query");
    input.addEventListener("input", onQueryChanged);
    input.addEventListener("click", updateCompletions);
    // Closed a moment after the box loses focus (a click on a suggestion
    // lands first), unless it has the focus again by then.
    let blurTimer = null;
    input.addEventListener("blur", () => {
      blurTimer = setTimeout(closeCompletions, 100);
    });
    input.addEventListener("focus", () => clearTimeout(blurTimer));
    input.addEventListener("scroll", () => {
      $("highlight").scrollTop = input.scrollTop;
    });
    input.addEventListener("keydown", (event) => {
      const open = !$("completions").hidden && state.completion.items.length > 0;
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        closeCompletions();
        run();
      } else if (open && (event.key === "Tab" || event.key === "Enter")) {
        event.preventDefault();
        acceptCompletion(state.completion.index);
      } else if (open && event.key === "ArrowDown") {
        event.preventDefault();
        moveCompletion(1);
      } else if (open && event.key === "ArrowUp") {
        event.preventDefault();
        moveCompletion(-1);
      } else if (open && event.key === "Escape") {
        event.preventDefault();
        closeCompletions();
      } else if (event.key === "Enter") {
        event.preventDefault();
        run();
      }
    });
    $("run").addEventListener("click", () => {
      showTab("rows");
      run();
    });
    $("explain").addEventListener("click", () => {
      showTab("sql");
      explain();
    });
    $("next").addEventListener("click", () => {
      if (state.nextUrl) showPage(state.nextUrl, state.pageIndex + 1);
    });
    $("prev").addEventListener("click", () => {
      if (state.pageIndex > 0) showPage(state.pages[state.pageIndex - 1], state.pageIndex - 1);
    });
    for (const tab of document.querySelectorAll(".tab")) {
      tab.addEventListener("click", () => showTab(tab.getAttribute("data-tab")));
    }
    for (const button of document.querySelectorAll(".snippet-kind")) {
      button.addEventListener("click", () => {
        state.snippetKind = button.getAttribute("data-kind");
        for (const b of document.querySelectorAll(".snippet-kind")) b.classList.toggle("active", b === button);
        updateSnippets();
      });
    }
    $("copy").addEventListener("click", copySnippet);
    for (const radio of document.querySelectorAll('input[name="copy-which"]')) {
      radio.addEventListener("change", () => {
        if (radio.checked) state.copyWhich = radio.value;
        updateSnippets();
      });
    }
    $("api").addEventListener("change", () => {
      if (state.token) fillSets();
    });
  });
})();
