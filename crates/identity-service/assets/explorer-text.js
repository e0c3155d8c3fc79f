// The query explorer's text helpers (/explorer; loaded before explorer.js,
// no library, no build step): the query string encoding of the typed text,
// the completion's vocabulary and caret context, and the "Copy as"
// snippets (curl, Python requests, JavaScript fetch, Power Query M).
"use strict";

window.explorerText = (() => {
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

  /**
   * The suggestions in `ctx` (from contextAt): the query options at the start
   * of an option, else `type`'s members (the entity type's, or what an
   * $apply produces; `types` for a navigation's target), the functions,
   * operators and $apply's vocabulary as the option allows.
   */
  function completions(ctx, type, types) {
    if (ctx.kind === "option") {
      return OPTIONS.map((o) => ({ text: `${o}=`, label: o, hint: "query option" }));
    }
    const propHint = type.hint || "property";
    let props = type.properties;
    let navs = Object.keys(type.navigations);
    if (ctx.parent) {
      const target = types[type.navigations[ctx.parent]];
      if (target) {
        props = target.properties;
        navs = Object.keys(target.navigations);
      } else {
        // A lambda variable or a path below the set: every property of the
        // set's navigation targets.
        const all = new Set();
        for (const t of Object.values(type.navigations)) {
          for (const p of (types[t] || { properties: [] }).properties) all.add(p);
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
   * The snippet of `kind` (curl, python, fetch, powerquery) for a GET of
   * `url` with `options` ([[name, value]]). `feedUrl`: for an API 1 list,
   * the feed's set Power Query reads instead (API 1 is not an OData feed).
   */
  function snippetText(kind, url, options, feedUrl) {
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
        const identity = Boolean(feedUrl);
        const base = feedUrl || url;
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

  return {
    encodeQuery, splitOptions, decodePairs, contextAt, completions, snippetText,
  };
})();
