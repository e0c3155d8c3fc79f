// The query explorer (/explorer): plain JavaScript, no build step, no
// library. It signs in with client credentials (the token is kept in this
// closure only, never in storage), reads the feed's service document and
// $metadata, completes and validates the query as it is typed, runs it,
// pages with the next links, charts groupby results, shows the explain
// route's SQL and plan and writes the request (the page shown or the typed
// query) as code, on the v4 feed's entity sets or API 1's identity lists.
// This file holds the state and the wiring; loaded before it,
// explorer-text.js encodes, completes and writes the snippets,
// explorer-view.js draws (table, AST, chart, explain) and explorer-shapes.js
// reads what an $apply produces (from the validate route's AST), the
// feed's $metadata and API 1's property names (from /openapi.json).
//
// Every value from the server or the data reaches the page through
// textContent or DOM attributes, never as HTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const { el, clear, status, tree, renderTable, renderExplain, applyShape, drawChart } = window.explorerView;
  const { encodeQuery, splitOptions, decodePairs, contextAt, completions, snippetText } = window.explorerText;

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
    const { types, sets } = window.explorerShapes.readMetadata(metadata.body);
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


  function candidates(ctx) {
    return ctx.kind === "option" ? completions(ctx, null, state.types) : completions(ctx, completionType(ctx), state.types);
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
    state.shape = applyShape(queryText());
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
    drawChart(rows, state.shape);
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
    renderExplain(out, answer.body);
  }

  // --------------------------------------------------------- copy as

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
    const list = /\/identity\/([^/]+)\/odata$/.exec(request.path);
    const feed = list ? location.origin + setPath("read", "feed", feedSetOf(decodeURIComponent(list[1]))) : null;
    return snippetText(kind, location.origin + request.path, request.options, feed);
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
