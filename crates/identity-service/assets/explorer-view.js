// The query explorer's views (/explorer; loaded before explorer.js, no
// library, no build step): DOM helpers, the rows table, the AST tree, the
// groupby chart and the explain answer. Every value reaches the page through textContent or
// DOM attributes, never as HTML.
"use strict";

window.explorerView = (() => {
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";

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

  // ------------------------------------------------------------- rows

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

  /** The groupby properties and aggregate aliases of the $apply in `text` (the chart's labels and bars). */
  function applyShape(text) {
    const apply = window.explorerText.splitOptions(text).find(([name]) => name.toLowerCase() === "$apply");
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

  function drawChart(rows, shape) {
    const box = $("chart");
    clear(box);
    const note = $("chart-note");
    const noMeasure = $("chart-no-measure");
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

  /** The explain route's answer: cost, timings, each backend's SQL and values, the running one's plan. */
  function renderExplain(out, body) {
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

  return { el, svg, clear, status, tree, cellText, renderTable, renderExplain, applyShape, drawChart };
})();
