//! `$apply` (OData Data Aggregation): the supported pipeline is
//!
//! ```text
//! (filter(...) | search(...) | identity)*
//! [ groupby((p1, p2, ...)[, aggregate(...)]) | aggregate(...) ]
//! (orderby(...))? (top(n) | skip(n))*
//! ```
//!
//! with aggregates `$count as A`, `p with sum|min|max|average|countdistinct
//! as A`. Grouping properties are structural properties of the entity; the
//! result rows carry the grouping properties and the aliases. Everything
//! else in a pipeline answers `Unsupported`.

use odata_parser::ast::{
    AggregateItem, Apply, Expr as OExpr, ExprKind, Grouping, Ident, MemberPath, OrderBy,
    OrderByItem, PathRoot, PathSegment, SortDirection, Transformation,
};
use sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement};

use crate::dialect::Backend;
use crate::error::TranslateError;
use crate::expr::{Collation, ExprContext, ExprTranslator, Scope, Ty, Typed};
use crate::schema::EdmType;

const TARGET: &str = "$apply";

/// One column of an aggregated result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputColumn {
    /// The property name or alias (also the SQL column alias).
    pub name: String,
    /// The type of its values.
    pub edm_type: EdmType,
}

/// A translated `$apply` with aggregation.
#[derive(Debug, Clone)]
pub struct ApplyPlan {
    backend: Backend,
    /// The columns of each result row, in order.
    pub columns: Vec<OutputColumn>,
    statement: SelectStatement,
    /// Rows skipped by `skip(n)` in the pipeline.
    offset: u64,
    /// Rows kept by `top(n)` in the pipeline.
    limit: Option<u64>,
}

impl ApplyPlan {
    /// A page of the result: `limit` rows after the first `offset` (both
    /// relative to what the pipeline's own `top`/`skip` leave).
    pub fn page_statement(&self, limit: u64, offset: u64) -> SelectStatement {
        let mut q = self.statement.clone();
        let start = Ord::min(self.offset.saturating_add(offset), i64::MAX as u64);
        let available = self.limit.map(|l| l.saturating_sub(offset));
        let take = available.map_or(limit, |a| Ord::min(a, limit));
        q.limit(take);
        if start > 0 {
            q.offset(start);
        }
        q
    }

    /// The number of result rows (after the pipeline's own `top`/`skip`).
    pub fn count_statement(&self) -> SelectStatement {
        let mut inner = self.statement.clone();
        inner.clear_order_by();
        let mut q = Query::select();
        q.expr_as(Expr::cust("COUNT(*)"), Alias::new("count"))
            .from_subquery(inner, Alias::new("g"));
        let mut outer = q.to_owned();
        if self.offset > 0 || self.limit.is_some() {
            // COUNT over a LIMIT/OFFSET needs the limit inside the subquery.
            let mut limited = self.statement.clone();
            limited.limit(self.limit.unwrap_or(i64::MAX as u64));
            if self.offset > 0 {
                limited.offset(self.offset);
            }
            let mut q = Query::select();
            q.expr_as(Expr::cust("COUNT(*)"), Alias::new("count"))
                .from_subquery(limited, Alias::new("g"));
            outer = q.to_owned();
        }
        outer
    }

    /// The backend the statements are for.
    pub fn backend(&self) -> Backend {
        self.backend
    }
}

/// Translates `$apply` over `root` whose base condition (tenant) is
/// `condition`. Returns `None` when the pipeline has no aggregation (the
/// filters are then folded into the condition).
pub(crate) fn plan_apply(
    ctx: &ExprContext<'_>,
    root: &Scope<'_>,
    apply: &Apply,
    condition: &mut Expr,
    outer_orderby: Option<&OrderBy>,
) -> Result<Option<ApplyPlan>, TranslateError> {
    let Apply { pipeline, span: _ } = apply;
    let mut steps = pipeline.iter().peekable();

    // Leading filters.
    while let Some(step) = steps.peek() {
        match step {
            Transformation::Filter(e, _) => {
                let mut t = ExprTranslator::new(ctx, TARGET, root.clone());
                let c = t.condition(e)?;
                *condition = condition.clone().and(c);
            }
            Transformation::Search(search, _) => {
                let c = super::search::search_condition(ctx.backend, root, search)?;
                *condition = condition.clone().and(c);
            }
            Transformation::Identity(_) => {}
            // The aggregation and what follows it.
            Transformation::Aggregate(..)
            | Transformation::GroupBy { .. }
            | Transformation::OrderBy(..)
            | Transformation::Top(..)
            | Transformation::Skip(..)
            | Transformation::Compute(..)
            | Transformation::Concat(..)
            | Transformation::Expand(..)
            | Transformation::Call { .. } => break,
        }
        steps.next();
    }

    // The aggregation.
    let mut groups: Vec<(String, Typed)> = Vec::new();
    let mut aggregates: Vec<(String, Typed)> = Vec::new();
    match steps.next() {
        None => return Ok(None),
        Some(Transformation::Aggregate(items, _)) => {
            aggregates = aggregate_items(ctx, root, items)?;
        }
        Some(Transformation::GroupBy {
            groupings,
            then,
            span,
        }) => {
            for g in groupings {
                match g {
                    Grouping::Path(path) => groups.push(group_path(ctx, root, path)?),
                    Grouping::Rollup { .. } | Grouping::RollupRecursive { .. } => {
                        return Err(TranslateError::unsupported(
                            TARGET,
                            *span,
                            "rollup is not supported",
                        ));
                    }
                }
            }
            match then.as_slice() {
                [] => {}
                [Transformation::Aggregate(items, _)] => {
                    aggregates = aggregate_items(ctx, root, items)?;
                }
                _ => {
                    return Err(TranslateError::unsupported(
                        TARGET,
                        *span,
                        "only `aggregate(...)` is supported inside groupby",
                    ));
                }
            }
        }
        Some(other) => return Err(unsupported_step(other)),
    }
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in groups.iter().chain(&aggregates) {
        if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return Err(TranslateError::invalid(
                TARGET,
                apply.span,
                format!("`{name}` appears twice in the result"),
            ));
        }
        names.push(name);
    }

    let mut q = Query::select();
    for (name, t) in groups.iter().chain(&aggregates) {
        q.expr_as(t.expr.clone(), Alias::new(name.clone()));
    }
    q.from(Alias::new(root.entity.table.clone()));
    q.and_where(condition.clone());
    for (_, t) in &groups {
        q.add_group_by([t.expr.clone()]);
    }
    let columns: Vec<OutputColumn> = groups
        .iter()
        .chain(&aggregates)
        .map(|(name, t)| OutputColumn {
            name: name.clone(),
            edm_type: match t.ty {
                Ty::Edm(e) => e,
                Ty::Null => EdmType::String,
            },
        })
        .collect();
    let output = |ident: &Ident| -> Result<&(String, Typed), TranslateError> {
        groups
            .iter()
            .chain(&aggregates)
            .find(|(n, _)| n.eq_ignore_ascii_case(&ident.name))
            .ok_or_else(|| {
                TranslateError::invalid(
                    TARGET,
                    ident.span,
                    format!(
                        "`{}` is not a property of the aggregated result",
                        ident.name
                    ),
                )
            })
    };

    // Trailing orderby / top / skip.
    let mut order: Vec<(Expr, bool, bool)> = Vec::new();
    let mut offset = 0u64;
    let mut limit: Option<u64> = None;
    let mut ordered = false;
    let mut order_by = |orderby: &OrderBy, target: &str| -> Result<(), TranslateError> {
        let OrderBy { items, span: _ } = orderby;
        for item in items {
            let OrderByItem {
                expr,
                direction,
                span,
            } = item;
            let name = single_name(expr).ok_or_else(|| {
                TranslateError::unsupported(
                    target,
                    *span,
                    "only result properties can be sorted on after aggregation",
                )
            })?;
            let (_, t) = output(name)?;
            let e = sort_form(ctx.backend, t);
            order.push((
                e,
                matches!(direction, Some(SortDirection::Desc)),
                t.nullable,
            ));
        }
        Ok(())
    };
    for step in steps {
        match step {
            Transformation::OrderBy(orderby, span) => {
                if ordered || offset > 0 || limit.is_some() {
                    return Err(TranslateError::unsupported(
                        TARGET,
                        *span,
                        "orderby after top, skip or another orderby is not supported",
                    ));
                }
                order_by(orderby, TARGET)?;
                ordered = true;
            }
            Transformation::Top(n, _) => {
                let n = in_range(n)?;
                limit = Some(limit.map_or(n, |l| Ord::min(l, n)));
            }
            Transformation::Skip(n, _) => {
                let n = in_range(n)?;
                offset = Ord::min(offset.saturating_add(n), i64::MAX as u64);
                limit = limit.map(|l| l.saturating_sub(n));
            }
            other => return Err(unsupported_step(other)),
        }
    }
    if let Some(orderby) = outer_orderby {
        if offset > 0 || limit.is_some() {
            return Err(TranslateError::unsupported(
                "$orderby",
                orderby.span,
                "$orderby after top/skip in $apply is not supported",
            ));
        }
        order_by(orderby, "$orderby")?;
    }
    // A stable order: the requested one, then every grouping property.
    for (_, t) in &groups {
        order.push((sort_form(ctx.backend, t), false, t.nullable));
    }
    for (e, desc, nullable) in order {
        super::order::order_by(ctx.backend, &mut q, e, desc, nullable);
    }

    Ok(Some(ApplyPlan {
        backend: ctx.backend,
        columns,
        statement: q,
        offset,
        limit,
    }))
}

/// The form a result column is sorted in (see `plan::sort_form`).
fn sort_form(backend: Backend, t: &Typed) -> Expr {
    match t.ty {
        Ty::Edm(ty) => super::order::sort_form(
            backend,
            t.expr.clone(),
            ty,
            t.collation == Collation::CodePoint,
        ),
        Ty::Null => t.expr.clone(),
    }
}

/// `top(n)`/`skip(n)` values must fit SQL's 64-bit integers.
fn in_range(n: &odata_parser::ast::Count64) -> Result<u64, TranslateError> {
    if n.value > i64::MAX as u64 {
        Err(TranslateError::invalid(
            TARGET,
            n.span,
            format!("{} is larger than {}", n.value, i64::MAX),
        ))
    } else {
        Ok(n.value)
    }
}

fn unsupported_step(step: &Transformation) -> TranslateError {
    let (what, span) = match step {
        Transformation::Aggregate(_, s) => ("a second aggregation", *s),
        Transformation::GroupBy { span, .. } => ("a second groupby", *span),
        Transformation::Filter(_, s) => ("filter after aggregation", *s),
        Transformation::OrderBy(_, s) => ("orderby before aggregation", *s),
        Transformation::Top(_, s) => ("top before aggregation", *s),
        Transformation::Skip(_, s) => ("skip before aggregation", *s),
        Transformation::Search(_, s) => ("search after aggregation", *s),
        Transformation::Compute(_, s) => ("compute", *s),
        Transformation::Concat(_, s) => ("concat", *s),
        Transformation::Expand(_, s) => ("expand", *s),
        Transformation::Identity(s) => ("identity after aggregation", *s),
        Transformation::Call { name, span, .. } => {
            return TranslateError::unsupported(
                TARGET,
                *span,
                format!("the transformation `{}` is not supported", name.name),
            );
        }
    };
    TranslateError::unsupported(TARGET, span, format!("{what} is not supported in $apply"))
}

fn single_name(expr: &OExpr) -> Option<&Ident> {
    match &expr.kind {
        ExprKind::Path(MemberPath {
            root: PathRoot::Implicit,
            segments,
            ..
        }) => match segments.as_slice() {
            [PathSegment::Member { name, key: None }] => Some(name),
            _ => None,
        },
        _ => None,
    }
}

fn group_path(
    ctx: &ExprContext<'_>,
    root: &Scope<'_>,
    path: &MemberPath,
) -> Result<(String, Typed), TranslateError> {
    let name = match (&path.root, path.segments.as_slice()) {
        (PathRoot::Implicit, [PathSegment::Member { name, key: None }]) => name,
        _ => {
            return Err(TranslateError::unsupported(
                TARGET,
                path.span,
                "only structural properties of the entity can be grouped by",
            ));
        }
    };
    let as_expr = OExpr {
        kind: ExprKind::Path(path.clone()),
        span: path.span,
    };
    let mut t = ExprTranslator::new(ctx, TARGET, root.clone());
    let typed = t.expr(&as_expr)?;
    let prop = root
        .entity
        .property(&name.name)
        .map_or(name.name.clone(), |p| p.name.clone());
    Ok((prop, typed))
}

fn aggregate_items(
    ctx: &ExprContext<'_>,
    root: &Scope<'_>,
    items: &[AggregateItem],
) -> Result<Vec<(String, Typed)>, TranslateError> {
    let b = ctx.backend;
    let mut out = Vec::new();
    for item in items {
        match item {
            AggregateItem::Count { alias, span: _ } => out.push((
                alias.name.clone(),
                Typed {
                    expr: Expr::cust("COUNT(*)"),
                    ty: Ty::Edm(EdmType::Int64),
                    nullable: false,
                    collation: Collation::Unknown,
                },
            )),
            AggregateItem::Expr {
                expr,
                with: Some(method),
                alias: Some(alias),
                from,
                span,
            } => {
                if !from.is_empty() {
                    return Err(TranslateError::unsupported(
                        TARGET,
                        *span,
                        "aggregate `from` is not supported",
                    ));
                }
                let mut t = ExprTranslator::new(ctx, TARGET, root.clone());
                let v = t.expr(expr)?;
                let ty = match v.ty {
                    Ty::Edm(e) => e,
                    Ty::Null => EdmType::Int64,
                };
                let method_name = method.name.to_ascii_lowercase();
                let numeric = |what: &str| -> Result<(), TranslateError> {
                    if ty.is_numeric() {
                        Ok(())
                    } else {
                        Err(TranslateError::invalid(
                            TARGET,
                            expr.span,
                            format!("`{what}` needs a number, found {}", ty.csdl_name()),
                        ))
                    }
                };
                let (e, out_ty, nullable) = match method_name.as_str() {
                    "sum" => {
                        numeric("sum")?;
                        let sum: Expr = Func::sum(v.expr).into();
                        if ty.is_integer() {
                            (cast(b, sum, Cast::BigInt), EdmType::Int64, true)
                        } else {
                            (cast(b, sum, Cast::Double), EdmType::Double, true)
                        }
                    }
                    "average" => {
                        numeric("average")?;
                        (
                            // The mean of doubles: MariaDB's AVG of integers is
                            // a DECIMAL cut to a few digits.
                            cast(
                                b,
                                Func::avg(cast(b, v.expr, Cast::Double)).into(),
                                Cast::Double,
                            ),
                            EdmType::Double,
                            true,
                        )
                    }
                    "min" | "max" => {
                        let arg = if ty == EdmType::String {
                            b.exact_text(v.expr)
                        } else {
                            v.expr
                        };
                        let e: Expr = if method_name == "min" {
                            Func::min(arg).into()
                        } else {
                            Func::max(arg).into()
                        };
                        (e, ty, true)
                    }
                    "countdistinct" => {
                        let arg = if ty == EdmType::String {
                            b.exact_text(v.expr)
                        } else {
                            v.expr
                        };
                        (Func::count_distinct(arg).into(), EdmType::Int64, false)
                    }
                    _ => {
                        return Err(TranslateError::unsupported(
                            TARGET,
                            method.span,
                            format!("the aggregation method `{}` is not supported", method.name),
                        ));
                    }
                };
                out.push((
                    alias.name.clone(),
                    Typed {
                        expr: e,
                        ty: Ty::Edm(out_ty),
                        nullable,
                        collation: Collation::Unknown,
                    },
                ));
            }
            AggregateItem::Expr { span, .. } => {
                return Err(TranslateError::unsupported(
                    TARGET,
                    *span,
                    "custom aggregates are not supported (use `with` and `as`)",
                ));
            }
            AggregateItem::Nested { span, .. } => {
                return Err(TranslateError::unsupported(
                    TARGET,
                    *span,
                    "aggregation along navigation properties is not supported",
                ));
            }
        }
    }
    Ok(out)
}

#[derive(Clone, Copy)]
enum Cast {
    BigInt,
    Double,
}

fn cast(backend: Backend, e: Expr, to: Cast) -> Expr {
    let ty = match (backend, to) {
        (Backend::Sqlite, Cast::BigInt) => "INTEGER",
        (Backend::Sqlite, Cast::Double) => "REAL",
        (Backend::Postgres, Cast::BigInt) => "BIGINT",
        (Backend::Postgres, Cast::Double) => "DOUBLE PRECISION",
        (Backend::MySql, Cast::BigInt) => "SIGNED",
        (Backend::MySql, Cast::Double) => "DOUBLE",
    };
    Func::cast_as(e, Alias::new(ty)).into()
}
