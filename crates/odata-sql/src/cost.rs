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

use odata_parser::ast::{Binary, Call, Expr, ExprKind, In, PathSegment, QueryOptions, Span, Unary};

use crate::schema::Schema;

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

mod walk;

use walk::Walker;

#[cfg(test)]
mod tests;
