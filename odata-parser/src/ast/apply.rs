//! `$apply` (OData Data Aggregation extension).

use super::{Compute, Count64, ExpandItem, Expr, Ident, MemberPath, OrderBy, Search, Span};

/// `$apply=t1/t2/...`: a pipeline of transformations.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Apply {
    /// The transformations, applied left to right.
    pub pipeline: Vec<Transformation>,
    /// Span of the option value.
    pub span: Span,
}

/// One transformation of an `$apply` pipeline.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Transformation {
    /// `aggregate(item, ...)`.
    Aggregate(Vec<AggregateItem>, Span),
    /// `groupby((p1,p2,rollup(...)), then/pipeline)`.
    GroupBy {
        /// The grouping properties and rollups.
        groupings: Vec<Grouping>,
        /// The transformations applied to each group (empty: none).
        then: Vec<Transformation>,
        /// Span of the transformation.
        span: Span,
    },
    /// `filter(expr)`.
    Filter(Expr, Span),
    /// `orderby(items)`.
    OrderBy(OrderBy, Span),
    /// `top(n)`.
    Top(Count64, Span),
    /// `skip(n)`.
    Skip(Count64, Span),
    /// `search(expr)`.
    Search(Search, Span),
    /// `compute(items)`.
    Compute(Compute, Span),
    /// `concat(p1, p2, ...)`: each argument a pipeline.
    Concat(Vec<Vec<Transformation>>, Span),
    /// `expand(path, options...)`.
    Expand(ExpandItem, Span),
    /// `identity`.
    Identity(Span),
    /// Any other function-like transformation: `topcount(2,Amount)`,
    /// `bottompercent(...)`, `ancestors(...)`, `descendants(...)`,
    /// `traverse(...)`, `nest(...)`, or a namespace-qualified custom
    /// transformation. `name` is lower case for built-ins.
    Call {
        /// The transformation name.
        name: Ident,
        /// Arguments as expressions (type names and nested pipelines are
        /// kept as the closest expression form, see the parser docs).
        args: Vec<ApplyArg>,
        /// Span of the transformation.
        span: Span,
    },
}

/// An argument of a generic `$apply` transformation.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ApplyArg {
    /// An expression.
    Expr(Expr),
    /// A nested pipeline (e.g. the last argument of `ancestors`).
    Pipeline(Vec<Transformation>),
    /// `argument as Alias` (`nest`, `addnested`, `join`, `outerjoin`).
    Aliased {
        /// The aliased argument (a pipeline or a path).
        arg: Box<ApplyArg>,
        /// The alias.
        alias: Ident,
    },
    /// `name=value`: a parameter of a namespace-qualified custom
    /// transformation (`Custom.condense(level=2)`).
    Named(Ident, Expr),
    /// A keyword argument written as words: `keep start`, `preorder`.
    Keyword(Ident),
    /// Sort items (the last argument of `traverse`).
    OrderBy(OrderBy),
}

/// One item of `aggregate(...)`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AggregateItem {
    /// `$count as alias`.
    Count {
        /// The alias.
        alias: Ident,
        /// Span of the item.
        span: Span,
    },
    /// `expr with method as alias [from p with m ...]`, or a custom
    /// aggregate `Name [as alias]` / `Name from ...` (no `with`).
    Expr {
        /// The aggregated expression (or the custom aggregate's name as a path).
        expr: Expr,
        /// `sum`, `min`, `max`, `average`, `countdistinct`, or a qualified
        /// custom method; `None` for a custom aggregate.
        with: Option<Ident>,
        /// `as` alias (required with `with`).
        alias: Option<Ident>,
        /// `from` clauses in order.
        from: Vec<AggregateFrom>,
        /// Span of the item.
        span: Span,
    },
    /// `navigation(inner, ...)`: aggregation along a path.
    Nested {
        /// The navigation path.
        path: MemberPath,
        /// The inner aggregate items.
        items: Vec<AggregateItem>,
        /// Span of the item.
        span: Span,
    },
}

/// `from path with method` inside an aggregate item.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AggregateFrom {
    /// The grouping property.
    pub path: MemberPath,
    /// The method applied at that level (`None` for a custom aggregate).
    pub with: Option<Ident>,
    /// Further grouping properties of the same clause
    /// (`from Time,Product/Name with max`), after `path`.
    pub more: Vec<MemberPath>,
}

/// One grouping item of `groupby`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Grouping {
    /// A property path.
    Path(MemberPath),
    /// `rollup(p1, p2, ...)` or `rollup($all, p1, ...)`.
    Rollup {
        /// Whether `$all` was the first argument.
        all: bool,
        /// The paths.
        paths: Vec<MemberPath>,
        /// Span of the rollup.
        span: Span,
    },
    /// `rolluprecursive($root/Set, Hierarchy, Node/Path [, pipeline])`:
    /// arguments in order (root expression, qualifier path, node path,
    /// optional pipeline).
    RollupRecursive {
        /// The arguments.
        args: Vec<ApplyArg>,
        /// Span of the rollup.
        span: Span,
    },
}
