//! A cost model for OData queries, checked before any SQL runs.
//!
//! The cost of a query estimates how often the database reads the rows of
//! the addressed set (or of the link tables behind navigations). Every part
//! that does more than an indexed comparison has a base cost, multiplied by
//! how many related rows it is evaluated for per row of the set:
//!
//! | part | base cost |
//! |---|---|
//! | a lambda `any`/`all`, a navigation's `/$count` | [`LAMBDA`] |
//! | `contains`, `endswith`, `indexof` (a scan of the text) | [`TEXT_SCAN`] |
//! | an `in` list | 1 per [`IN_VALUES_PER_UNIT`] values (rounded up) |
//! | each `$search` term | [`SEARCH_TERM`] |
//! | each `$expand`ed navigation | [`EXPAND_BOUNDED`], or [`EXPAND_UNBOUNDED`] for a collection that can hold every row of its set |
//! | `$apply`: each grouping property, each aggregate | [`GROUPING`], [`AGGREGATE`] |
//! | `$count=true` | [`COUNT`] |
//!
//! Comparisons, arithmetic and the other functions cost nothing: they are
//! evaluated once per row that is read anyway. `$top`/`$skip` are not
//! counted (paging is keyset-based, `$skip` is bounded by the set).
//!
//! The multiplier: a lambda at the top of `$filter` (or `$orderby`,
//! `$compute`) reads the link table once over the whole set, so it and its
//! predicate count once. A lambda *inside* a lambda (or inside the options
//! of an `$expand`) runs once per related row of its enclosing lambda: it
//! and everything inside it are multiplied by the fan-out of its navigation,
//! [`FAN_OUT_BOUNDED`] for a bounded collection (a user's roles or groups)
//! and [`FAN_OUT_UNBOUNDED`] for one that can hold every row of its set (a
//! role's users). Whether a navigation is bounded is the schema's answer
//! ([`Schema::navigation_bounded`]). A nested `$expand` (and its options)
//! is multiplied the same way by the fan-out of the expansions it is in:
//! `$expand=roles($expand=users)` costs 2 + 8 × 4 = 34.
//!
//! So `roles/any(r: r/users/any(u: contains(u/name,'zz')))` on users costs
//! 2 (the outer lambda) + 2 × 64 (the nested one, reading every user of every
//! role of every user) + 1 × 64 (the `contains` it runs) = 194, while eight
//! top-level lambdas with a `contains` each cost 24. [`DEFAULT_BUDGET`]
//! allows every query of the tests, the benchmarks and the request patterns
//! of BI tools, and refuses a lambda over an unbounded collection nested in
//! another lambda.

use odata_parser::ast::{
    AggregateItem, AliasDef, Apply, ApplyArg, Binary, Call, Compute, Expand, ExpandItem,
    ExpandTarget, Expr, ExprKind, Grouping, In, JsonValue, Lambda, LambdaKind, MemberPath, OrderBy,
    PathCount, PathRoot, PathSegment, QueryOptions, Search, SearchExpr, Span, Transformation,
    Unary,
};

use crate::schema::{EntityType, Navigation, Schema};

/// Base cost of a lambda or a navigation's `/$count`.
pub const LAMBDA: u64 = 2;
/// Base cost of a function that scans a text (`contains`, `endswith`, `indexof`).
pub const TEXT_SCAN: u64 = 1;
/// An `in` list costs 1 per this many values (rounded up).
pub const IN_VALUES_PER_UNIT: u64 = 10;
/// Cost of one `$search` term (a scan of every searchable text).
pub const SEARCH_TERM: u64 = 2;
/// Cost of expanding a bounded navigation.
pub const EXPAND_BOUNDED: u64 = 2;
/// Cost of expanding an unbounded navigation.
pub const EXPAND_UNBOUNDED: u64 = 8;
/// Cost of one `$apply` grouping property.
pub const GROUPING: u64 = 2;
/// Cost of one `$apply` aggregate.
pub const AGGREGATE: u64 = 1;
/// Cost of `$count=true` (a second pass over the filtered set).
pub const COUNT: u64 = 1;
/// Multiplier inside a nested lambda over a bounded navigation.
pub const FAN_OUT_BOUNDED: u64 = 4;
/// Multiplier inside a nested lambda over an unbounded navigation.
pub const FAN_OUT_UNBOUNDED: u64 = 64;
/// The default budget: over it, a query is refused.
pub const DEFAULT_BUDGET: u64 = 100;

/// Largest `$skip` a [`is_cheap`] query may have.
pub const CHEAP_MAX_SKIP: u64 = 1000;

/// Deepest chain of parameter aliases followed (as the translator).
const MAX_ALIAS_DEPTH: usize = 8;

/// The most a query may cost; `0` turns the check off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostBudget(pub u64);

impl Default for CostBudget {
    fn default() -> Self {
        CostBudget(DEFAULT_BUDGET)
    }
}

impl CostBudget {
    /// No limit.
    pub const UNLIMITED: CostBudget = CostBudget(0);

    /// Whether the budget limits anything.
    pub fn is_limited(self) -> bool {
        self.0 > 0
    }
}

/// One costed part of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostPart {
    /// What it is, for people (`the nested any() over users inside roles/any`).
    pub what: String,
    /// The query option it is in (`$filter`, `$expand`, ...).
    pub target: &'static str,
    /// Where it is in the text the AST was parsed from.
    pub span: Span,
    /// Its cost, multiplier included.
    pub cost: u64,
}

/// The cost of a query: the sum of its parts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cost {
    /// The total.
    pub total: u64,
    /// The parts with a cost, in the order of the query.
    pub parts: Vec<CostPart>,
}

impl Cost {
    /// The most expensive part (the first of equals).
    pub fn most_expensive(&self) -> Option<&CostPart> {
        self.parts
            .iter()
            .fold(None, |best: Option<&CostPart>, p| match best {
                Some(b) if b.cost >= p.cost => Some(b),
                _ => Some(p),
            })
    }
}

/// A query over its budget.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the query is too expensive: {} costs {}, the whole query {}, the budget is {budget}{}",
    part.what,
    part.cost,
    cost.total,
    at(part.target, part.span)
)]
pub struct CostError {
    /// The query's cost.
    pub cost: Cost,
    /// The most expensive part.
    pub part: CostPart,
    /// The budget it is over.
    pub budget: u64,
}

fn at(target: &str, span: Span) -> String {
    if span.end > 0 {
        format!(" (in {target} at offset {})", span.start)
    } else {
        format!(" (in {target})")
    }
}

impl CostError {
    /// The query option of the most expensive part.
    pub fn target(&self) -> &'static str {
        self.part.target
    }

    /// The span of the most expensive part.
    pub fn span(&self) -> Span {
        self.part.span
    }
}

/// The cost of `options` on `entity_set` (an unknown set, name or
/// navigation costs nothing here: the translator reports it).
pub fn query_cost(schema: &dyn Schema, entity_set: &str, options: &QueryOptions) -> Cost {
    let Some(set) = schema.entity_set(entity_set) else {
        return Cost::default();
    };
    let mut walker = Walker {
        schema,
        root: &set.entity_type,
        aliases: &options.aliases,
        cost: Cost::default(),
        alias_depth: 0,
    };
    walker.options(options);
    walker.cost
}

/// [`query_cost`], refused with a [`CostError`] naming the most expensive
/// part when it is over `budget` (never with [`CostBudget::UNLIMITED`]).
pub fn check(
    schema: &dyn Schema,
    entity_set: &str,
    options: &QueryOptions,
    budget: CostBudget,
) -> Result<Cost, CostError> {
    if !budget.is_limited() {
        return Ok(Cost::default());
    }
    let cost = query_cost(schema, entity_set, options);
    if cost.total <= budget.0 {
        return Ok(cost);
    }
    let part = cost.most_expensive().cloned().unwrap_or(CostPart {
        what: "the query".to_owned(),
        target: "query",
        span: Span::default(),
        cost: cost.total,
    });
    Err(CostError {
        cost,
        part,
        budget: budget.0,
    })
}

/// Whether a query does bounded work: no lambda or navigation `$count`, no
/// `$search`, no `contains`/`endswith`/`indexof`, no `$apply`, no `$compute`,
/// no `$count=true` with a `$filter`, no `$expand`, and `$skip` at most
/// [`CHEAP_MAX_SKIP`]. Such a query reads at most about a page of rows plus
/// what an index lookup or one ordered scan reads.
pub fn is_cheap(options: &QueryOptions) -> bool {
    let QueryOptions {
        filter,
        orderby,
        skip,
        count,
        expand,
        search,
        compute,
        apply,
        aliases,
        ..
    } = options;
    if expand.is_some() || search.is_some() || apply.is_some() || compute.is_some() {
        return false;
    }
    if skip.is_some_and(|s| s.value > CHEAP_MAX_SKIP) {
        return false;
    }
    if count.is_some_and(|c| c.value) && filter.is_some() {
        return false;
    }
    let cheap_expr = |e: &Expr| !has_costly_node(e);
    filter.as_ref().is_none_or(cheap_expr)
        && orderby
            .as_ref()
            .is_none_or(|o| o.items.iter().all(|i| cheap_expr(&i.expr)))
        && aliases.iter().all(|a| cheap_expr(&a.value))
}

/// Whether a filter expression does bounded work: no lambda, path
/// `$count` or text scan (the `$filter` part of [`is_cheap`]).
pub fn is_cheap_filter(e: &Expr) -> bool {
    !has_costly_node(e)
}

/// Whether an expression holds a lambda, a path `$count`, a text scan or a
/// `$filter`/`$count` path segment.
fn has_costly_node(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Lambda(_) | ExprKind::PathCount(_) => true,
        ExprKind::Call(Call { name, args }) => {
            is_text_scan(&name.name) || args.iter().any(has_costly_node)
        }
        ExprKind::Binary(Binary { left, right, .. }) => {
            has_costly_node(left) || has_costly_node(right)
        }
        ExprKind::Unary(Unary { operand, .. }) => has_costly_node(operand),
        ExprKind::In(In { expr, list }) => has_costly_node(expr) || has_costly_node(list),
        ExprKind::List(items) => items.iter().any(has_costly_node),
        ExprKind::Path(path) => path
            .segments
            .iter()
            .any(|s| matches!(s, PathSegment::Filter { .. } | PathSegment::Aggregate(_))),
        ExprKind::Literal(_) | ExprKind::Alias(_) | ExprKind::Json(_) => false,
    }
}

fn is_text_scan(function: &str) -> bool {
    matches!(function, "contains" | "endswith" | "indexof")
}

/// Where an expression is evaluated.
#[derive(Debug, Clone)]
struct Context<'s> {
    target: &'static str,
    /// Times it is evaluated per row of the set.
    weight: u64,
    /// Inside a lambda (or an expansion): nested lambdas multiply.
    nested: bool,
    /// Range variables in scope, innermost last.
    vars: Vec<(String, &'s EntityType)>,
    /// The entity of the implicit root (`$it`, or the expanded entity).
    root: &'s EntityType,
    /// `roles/any` of the enclosing lambdas, for messages.
    outer: Option<String>,
}

struct Walker<'s> {
    schema: &'s dyn Schema,
    root: &'s EntityType,
    aliases: &'s [AliasDef],
    cost: Cost,
    alias_depth: usize,
}

impl<'s> Walker<'s> {
    fn add(&mut self, what: String, target: &'static str, span: Span, cost: u64) {
        if cost == 0 {
            return;
        }
        self.cost.total = self.cost.total.saturating_add(cost);
        self.cost.parts.push(CostPart {
            what,
            target,
            span,
            cost,
        });
    }

    fn top(&self, target: &'static str) -> Context<'s> {
        Context {
            target,
            weight: 1,
            nested: false,
            vars: Vec::new(),
            root: self.root,
            outer: None,
        }
    }

    fn options(&mut self, options: &'s QueryOptions) {
        let QueryOptions {
            filter,
            orderby,
            count,
            expand,
            search,
            compute,
            apply,
            ..
        } = options;
        if let Some(compute) = compute {
            self.compute(compute, &self.top("$compute"));
        }
        if let Some(apply) = apply {
            self.apply(apply);
        }
        if let Some(filter) = filter {
            self.expr(filter, &self.top("$filter"));
        }
        if let Some(search) = search {
            self.search(search, "$search");
        }
        if let Some(orderby) = orderby {
            self.orderby(orderby, &self.top("$orderby"));
        }
        if let Some(expand) = expand {
            self.expand(expand, self.root, 1);
        }
        if let Some(c) = count
            && c.value
        {
            self.add("$count=true".to_owned(), "$count", c.span, COUNT);
        }
    }

    fn compute(&mut self, compute: &'s Compute, ctx: &Context<'s>) {
        for item in &compute.items {
            self.expr(&item.expr, ctx);
        }
    }

    fn orderby(&mut self, orderby: &'s OrderBy, ctx: &Context<'s>) {
        for item in &orderby.items {
            self.expr(&item.expr, ctx);
        }
    }

    fn search(&mut self, search: &Search, target: &'static str) {
        let terms = search_terms(&search.expr);
        self.add(
            format!(
                "the $search of {terms} term{}",
                if terms == 1 { "" } else { "s" }
            ),
            target,
            search.span,
            terms.saturating_mul(SEARCH_TERM),
        );
    }

    fn expand(&mut self, expand: &'s Expand, entity: &'s EntityType, weight: u64) {
        self.expand_items(&expand.items, entity, weight);
    }

    /// The expansions `items` of `entity`, each evaluated `weight` times
    /// per related row: a nested `$expand` runs for every related entity
    /// of the one it is in, so it (and its options) are multiplied by the
    /// fan-out of the enclosing navigations.
    fn expand_items(&mut self, items: &'s [ExpandItem], entity: &'s EntityType, weight: u64) {
        for item in items {
            let ExpandItem {
                target,
                options,
                span,
            } = item;
            let navs: Vec<&'s Navigation> = match target {
                ExpandTarget::Star { .. } => entity.navigations.iter().collect(),
                ExpandTarget::Path { segments, .. } => match segments.as_slice() {
                    [PathSegment::Member { name, .. }, ..] => {
                        entity.navigation(&name.name).into_iter().collect()
                    }
                    _ => Vec::new(),
                },
            };
            for nav in navs {
                let bounded = self.schema.navigation_bounded(entity, nav);
                self.add(
                    format!(
                        "the $expand of `{}`{}",
                        nav.name,
                        if bounded {
                            ""
                        } else {
                            " (an unbounded collection)"
                        }
                    ),
                    "$expand",
                    *span,
                    if bounded {
                        EXPAND_BOUNDED
                    } else {
                        EXPAND_UNBOUNDED
                    }
                    .saturating_mul(weight),
                );
                let (Some(options), Some(target)) =
                    (options.as_deref(), self.schema.entity_set(&nav.target_set))
                else {
                    continue;
                };
                let target = &target.entity_type;
                // Inside an expansion, like inside a lambda over it.
                let ctx = Context {
                    target: "$expand",
                    weight,
                    nested: true,
                    vars: Vec::new(),
                    root: target,
                    outer: Some(format!("$expand={}", nav.name)),
                };
                if let Some(filter) = &options.filter {
                    self.expr(filter, &ctx);
                }
                if let Some(orderby) = &options.orderby {
                    self.orderby(orderby, &ctx);
                }
                if let Some(search) = &options.search {
                    self.search(search, "$expand");
                }
                if let Some(compute) = &options.compute {
                    self.compute(compute, &ctx);
                }
                if let Some(expand) = &options.expand {
                    let fan_out = if bounded {
                        FAN_OUT_BOUNDED
                    } else {
                        FAN_OUT_UNBOUNDED
                    };
                    self.expand(expand, target, weight.saturating_mul(fan_out));
                }
            }
        }
    }

    fn apply(&mut self, apply: &'s Apply) {
        self.pipeline(&apply.pipeline);
    }

    fn pipeline(&mut self, pipeline: &'s [Transformation]) {
        let ctx = self.top("$apply");
        for t in pipeline {
            match t {
                Transformation::Aggregate(items, _) => self.aggregates(items, &ctx),
                Transformation::GroupBy {
                    groupings,
                    then,
                    span,
                } => {
                    let n = groupings
                        .iter()
                        .map(|g| match g {
                            Grouping::Path(_) => 1u64,
                            Grouping::Rollup { paths, .. } => paths.len() as u64,
                            Grouping::RollupRecursive { .. } => 1,
                        })
                        .sum::<u64>();
                    self.add(
                        format!(
                            "the groupby over {n} propert{}",
                            if n == 1 { "y" } else { "ies" }
                        ),
                        "$apply",
                        *span,
                        n.saturating_mul(GROUPING),
                    );
                    self.pipeline(then);
                }
                Transformation::Filter(e, _) => self.expr(e, &ctx),
                Transformation::OrderBy(o, _) => self.orderby(o, &ctx),
                Transformation::Search(s, _) => self.search(s, "$apply"),
                Transformation::Compute(c, _) => self.compute(c, &ctx),
                Transformation::Concat(pipelines, _) => {
                    for p in pipelines {
                        self.pipeline(p);
                    }
                }
                Transformation::Expand(item, _) => {
                    self.expand_items(std::slice::from_ref(item), self.root, 1);
                }
                Transformation::Call { args, .. } => {
                    for arg in args {
                        self.apply_arg(arg, &ctx);
                    }
                }
                Transformation::Top(..)
                | Transformation::Skip(..)
                | Transformation::Identity(_) => {}
            }
        }
    }

    fn apply_arg(&mut self, arg: &'s ApplyArg, ctx: &Context<'s>) {
        match arg {
            ApplyArg::Expr(e) | ApplyArg::Named(_, e) => self.expr(e, ctx),
            ApplyArg::Pipeline(p) => self.pipeline(p),
            ApplyArg::Aliased { arg, .. } => self.apply_arg(arg, ctx),
            ApplyArg::OrderBy(o) => self.orderby(o, ctx),
            ApplyArg::Keyword(_) => {}
        }
    }

    fn aggregates(&mut self, items: &'s [AggregateItem], ctx: &Context<'s>) {
        for item in items {
            match item {
                AggregateItem::Count { span, .. } => {
                    self.add("an aggregate".to_owned(), "$apply", *span, AGGREGATE);
                }
                AggregateItem::Expr { expr, span, .. } => {
                    self.add("an aggregate".to_owned(), "$apply", *span, AGGREGATE);
                    self.expr(expr, ctx);
                }
                AggregateItem::Nested { items, .. } => self.aggregates(items, ctx),
            }
        }
    }

    fn expr(&mut self, e: &'s Expr, ctx: &Context<'s>) {
        match &e.kind {
            ExprKind::Literal(_) | ExprKind::Json(_) => {}
            ExprKind::Path(path) => self.path(path, ctx),
            ExprKind::Lambda(lambda) => self.lambda(lambda, e.span, ctx),
            ExprKind::PathCount(count) => self.path_count(count, e.span, ctx),
            ExprKind::Alias(name) => {
                if self.alias_depth >= MAX_ALIAS_DEPTH {
                    return;
                }
                if let Some(def) = self.aliases.iter().find(|a| a.name.name == name.name) {
                    self.alias_depth += 1;
                    self.expr(&def.value, ctx);
                    self.alias_depth -= 1;
                }
            }
            ExprKind::Call(Call { name, args }) => {
                if is_text_scan(&name.name) {
                    self.add(
                        match &ctx.outer {
                            Some(outer) => format!("`{}` inside {outer}", name.name),
                            None => format!("`{}`", name.name),
                        },
                        ctx.target,
                        e.span,
                        TEXT_SCAN.saturating_mul(ctx.weight),
                    );
                }
                for arg in args {
                    self.expr(arg, ctx);
                }
            }
            ExprKind::Binary(Binary { left, right, .. }) => {
                self.expr(left, ctx);
                self.expr(right, ctx);
            }
            ExprKind::Unary(Unary { operand, .. }) => self.expr(operand, ctx),
            ExprKind::In(In { expr, list }) => {
                self.expr(expr, ctx);
                let n = self.list_len(list);
                let units = n.div_ceil(IN_VALUES_PER_UNIT);
                self.add(
                    format!("the `in` list of {n} values"),
                    ctx.target,
                    list.span,
                    units.saturating_mul(ctx.weight),
                );
                if let ExprKind::List(items) = &list.kind {
                    for item in items {
                        self.expr(item, ctx);
                    }
                }
            }
            ExprKind::List(items) => {
                for item in items {
                    self.expr(item, ctx);
                }
            }
        }
    }

    /// The number of values of an `in` list (through aliases).
    fn list_len(&self, list: &Expr) -> u64 {
        let mut list = list;
        for _ in 0..MAX_ALIAS_DEPTH {
            match &list.kind {
                ExprKind::List(items) => return items.len() as u64,
                ExprKind::Json(JsonValue::Array(values)) => return values.len() as u64,
                ExprKind::Alias(name) => {
                    match self.aliases.iter().find(|a| a.name.name == name.name) {
                        Some(def) => list = &def.value,
                        None => return 0,
                    }
                }
                _ => return 0,
            }
        }
        0
    }

    /// `$filter(...)` segments and key predicates of a path.
    fn path(&mut self, path: &'s MemberPath, ctx: &Context<'s>) {
        for segment in &path.segments {
            if let PathSegment::Filter { filter, .. } = segment {
                self.expr(filter, ctx);
            }
        }
    }

    /// The entity the path starts from and the navigation it names.
    fn navigation(
        &self,
        path: &MemberPath,
        ctx: &Context<'s>,
    ) -> Option<(&'s EntityType, &'s Navigation, &'s EntityType)> {
        let (entity, rest) = match path.root {
            PathRoot::It => (ctx.root, path.segments.as_slice()),
            PathRoot::Implicit => match path.segments.first() {
                Some(PathSegment::Member { name, key: None }) => {
                    match ctx.vars.iter().rev().find(|(v, _)| *v == name.name) {
                        Some((_, entity)) => (*entity, &path.segments[1..]),
                        None => (ctx.root, path.segments.as_slice()),
                    }
                }
                _ => (ctx.root, path.segments.as_slice()),
            },
            PathRoot::This | PathRoot::Root => return None,
        };
        let [PathSegment::Member { name, .. }] = rest else {
            return None;
        };
        let nav = entity.navigation(&name.name)?;
        let target = &self.schema.entity_set(&nav.target_set)?.entity_type;
        Some((entity, nav, target))
    }

    /// The weight inside a lambda or `$count` over `nav`, and a message.
    fn inner_weight(&self, entity: &EntityType, nav: &Navigation, ctx: &Context<'s>) -> u64 {
        if !ctx.nested {
            return 1;
        }
        let fan_out = if self.schema.navigation_bounded(entity, nav) {
            FAN_OUT_BOUNDED
        } else {
            FAN_OUT_UNBOUNDED
        };
        ctx.weight.saturating_mul(fan_out)
    }

    fn lambda(&mut self, lambda: &'s Lambda, span: Span, ctx: &Context<'s>) {
        let Lambda {
            collection,
            kind,
            variable,
            predicate,
        } = lambda;
        let Some((entity, nav, target)) = self.navigation(collection, ctx) else {
            return;
        };
        let kind = match kind {
            LambdaKind::Any => "any",
            LambdaKind::All => "all",
        };
        let weight = self.inner_weight(entity, nav, ctx);
        let here = format!("{}/{kind}", path_text(collection));
        let what = match &ctx.outer {
            Some(outer) => format!("the nested {kind}() over `{}` inside {outer}", nav.name),
            None => format!("the {kind}() over `{}`", nav.name),
        };
        self.add(what, ctx.target, span, LAMBDA.saturating_mul(weight));
        if let (Some(var), Some(pred)) = (variable, predicate) {
            let mut inner = ctx.clone();
            inner.weight = weight;
            inner.nested = true;
            inner.vars.push((var.name.clone(), target));
            inner.outer = Some(match &ctx.outer {
                Some(outer) => format!("{here} inside {outer}"),
                None => here,
            });
            self.expr(pred, &inner);
        }
    }

    fn path_count(&mut self, count: &'s PathCount, span: Span, ctx: &Context<'s>) {
        let PathCount {
            collection,
            filter,
            search,
        } = count;
        let Some((entity, nav, target)) = self.navigation(collection, ctx) else {
            return;
        };
        let weight = self.inner_weight(entity, nav, ctx);
        let what = match &ctx.outer {
            Some(outer) => format!("the nested $count of `{}` inside {outer}", nav.name),
            None => format!("the $count of `{}`", nav.name),
        };
        self.add(what, ctx.target, span, LAMBDA.saturating_mul(weight));
        let inner = Context {
            target: ctx.target,
            weight,
            nested: true,
            vars: ctx.vars.clone(),
            root: target,
            outer: Some(format!("{}/$count", path_text(collection))),
        };
        if let Some(filter) = filter {
            self.expr(filter, &inner);
        }
        if let Some(search) = search {
            self.search(search, ctx.target);
        }
    }
}

/// `r/users` for messages.
fn path_text(path: &MemberPath) -> String {
    let mut parts: Vec<&str> = Vec::new();
    match path.root {
        PathRoot::It => parts.push("$it"),
        PathRoot::This => parts.push("$this"),
        PathRoot::Root => parts.push("$root"),
        PathRoot::Implicit => {}
    }
    for s in &path.segments {
        if let PathSegment::Member { name, .. } = s {
            parts.push(&name.name);
        }
    }
    parts.join("/")
}

/// Terms and phrases of a search expression.
fn search_terms(e: &SearchExpr) -> u64 {
    match e {
        SearchExpr::Term(..) | SearchExpr::Phrase(..) => 1,
        SearchExpr::Not(inner, _) => search_terms(inner),
        SearchExpr::And(l, r, _) | SearchExpr::Or(l, r, _) => {
            search_terms(l).saturating_add(search_terms(r))
        }
    }
}

#[cfg(test)]
mod tests;
