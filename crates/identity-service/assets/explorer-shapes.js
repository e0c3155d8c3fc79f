// The query explorer's readers of server documents (/explorer; loaded
// before explorer.js, no library, no build step): what an $apply pipeline
// produces, read from the validate route's AST (the parser's own reading of
// the query, not a second parser in JavaScript), the feed's types from its
// $metadata, and API 1's lists and property names, read from /openapi.json
// (the names API 1 answers with).
//
// A type here is {properties: [names], navigations: {name: type key}}.
"use strict";

window.explorerShapes = (() => {
  const EMPTY = { properties: [], navigations: {} };

  function identName(ident) {
    return ident && typeof ident.name === "string" ? ident.name : null;
  }

  /** The first segment's name of an AST member path (`status`, `roles` of `roles/roleKey`). */
  function firstSegment(path) {
    const segment = path && Array.isArray(path.segments) ? path.segments[0] : null;
    return segment && segment.Member ? identName(segment.Member.name) : null;
  }

  function unique(names) {
    return [...new Set(names.filter((n) => typeof n === "string" && n !== ""))];
  }

  /** The names `aggregate(...)` items produce: their aliases. */
  function aggregateNames(items) {
    const names = [];
    for (const item of items || []) {
      if (item.Count) names.push(identName(item.Count.alias));
      else if (item.Expr) {
        // `x with sum as total`: the alias; a custom aggregate without an
        // alias is named by its path.
        const alias = identName(item.Expr.alias);
        const expr = item.Expr.expr && item.Expr.expr.kind;
        names.push(alias || (expr && expr.Path ? firstSegment(expr.Path) : null));
      } else if (item.Nested) {
        names.push(firstSegment(item.Nested.path));
      }
    }
    return unique(names);
  }

  /** The grouping properties of `groupby((...))`: the first segment of each path. */
  function groupingNames(groupings) {
    const names = [];
    for (const grouping of groupings || []) {
      if (grouping.Path) names.push(firstSegment(grouping.Path));
      else if (grouping.Rollup) for (const path of grouping.Rollup.paths || []) names.push(firstSegment(path));
    }
    return unique(names);
  }

  /** A type with `names` as its members: a navigation keeps its target. */
  function only(names, input) {
    const type = { properties: [], navigations: {} };
    for (const name of names) {
      if (input.navigations[name]) type.navigations[name] = input.navigations[name];
      else type.properties.push(name);
    }
    return type;
  }

  function withProperties(input, names) {
    return { properties: unique([...input.properties, ...names]), navigations: Object.assign({}, input.navigations) };
  }

  /**
   * The properties a pipeline of AST transformations produces from `input`:
   * groupby keeps its grouping properties and the aliases of what it applies
   * to each group, aggregate its aliases, compute adds its aliases, concat
   * the union of its pipelines; filter, orderby, top, skip, search, expand
   * and identity keep their input.
   */
  function pipeline(transformations, input) {
    let type = input;
    for (const t of transformations || []) {
      if (t.Aggregate) {
        type = only(aggregateNames(t.Aggregate[0]), type);
      } else if (t.GroupBy) {
        const groups = only(groupingNames(t.GroupBy.groupings), type);
        const then = t.GroupBy.then && t.GroupBy.then.length ? pipeline(t.GroupBy.then, type) : EMPTY;
        type = {
          properties: unique([...groups.properties, ...then.properties]),
          navigations: Object.assign({}, then.navigations, groups.navigations),
        };
      } else if (t.Compute) {
        type = withProperties(type, ((t.Compute[0] || {}).items || []).map((item) => identName(item.alias)));
      } else if (t.Concat) {
        const outputs = (t.Concat[0] || []).map((p) => pipeline(p, type));
        type = {
          properties: unique(outputs.flatMap((o) => o.properties)),
          navigations: Object.assign({}, ...outputs.map((o) => o.navigations)),
        };
      } else if (t.Call) {
        // nest(... as alias), addnested, join: their aliases are new members.
        const aliases = (t.Call.args || []).filter((a) => a.Aliased).map((a) => identName(a.Aliased.alias));
        type = withProperties(type, aliases);
      }
      // Filter, OrderBy, Top, Skip, Search, Expand, Identity: the input's members.
    }
    return type;
  }

  /** What the validate answer's AST (`body.ast`) produces from `input`, or null without $apply. */
  function applyOutput(ast, input) {
    if (!ast || !ast.apply || !Array.isArray(ast.apply.pipeline)) return null;
    return pipeline(ast.apply.pipeline, input);
  }

  /**
   * The $apply text before the transformation the caret is in: up to the
   * last "/" outside parentheses and quotes, or null in the first
   * transformation.
   */
  function transformationsBefore(text) {
    let depth = 0;
    let quoted = false;
    let last = -1;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch === "'") quoted = !quoted;
      else if (quoted) continue;
      else if (ch === "(") depth++;
      else if (ch === ")") depth = Math.max(0, depth - 1);
      else if (ch === "/" && depth === 0) last = i;
    }
    return last > 0 ? text.slice(0, last) : null;
  }

  // ------------------------------------------------ the feed's $metadata

  /** The feed's types and sets from its CSDL JSON ($metadata?$format=json). */
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

  // ------------------------------------------------------------ API 1

  const LISTS = ["users", "roles", "groups"];

  function resolve(doc, schema) {
    let s = schema;
    for (let hops = 0; s && typeof s.$ref === "string" && hops < 8; hops++) {
      const name = s.$ref.replace("#/components/schemas/", "");
      s = doc.components && doc.components.schemas ? doc.components.schemas[name] : null;
    }
    return s || null;
  }

  /**
   * API 1's lists from the OpenAPI document: the schema of the records in
   * `GET …/identity/{list}/odata`'s page, their property names as API 1
   * answers them; an array of another list's records (`roles`, `groups`
   * of a user) is a navigation to that list. Types are keyed `api1.{list}`.
   */
  function api1Types(doc) {
    const types = {};
    const lists = [];
    for (const list of LISTS) {
      const path = Object.keys(doc.paths || {}).find((p) => p.endsWith(`/identity/${list}/odata`));
      const get = path && doc.paths[path].get;
      const ok = get && get.responses && get.responses["200"];
      const media = ok && ok.content && ok.content["application/json"];
      const page = resolve(doc, media && media.schema);
      const items = page && page.properties && page.properties.items;
      const record = resolve(doc, items && items.items);
      if (!record || !record.properties) continue;
      lists.push(list);
      types[`api1.${list}`] = record;
    }
    const out = {};
    for (const list of lists) {
      const type = { properties: [], navigations: {} };
      for (const [name, def] of Object.entries(types[`api1.${list}`].properties)) {
        const kinds = [].concat((def && def.type) || []);
        if (kinds.includes("array") && lists.includes(name)) type.navigations[name] = `api1.${name}`;
        else type.properties.push(name);
      }
      out[`api1.${list}`] = type;
    }
    return { lists, types: out };
  }

  return { applyOutput, transformationsBefore, readMetadata, api1Types, EMPTY };
})();
