//! Typed translation of OData expressions (`$filter`, `$orderby` items,
//! lambda predicates) into sea-query expressions.
//!
//! Comparisons are two-valued as OData defines them (`null eq null` is true,
//! `null eq 'a'` and `null lt 5` are false, `null ne 'a'` is true); function
//! results on null arguments are null and `and`/`or`/`not` follow the same
//! three-valued logic as SQL.

use std::cell::Cell;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use odata_parser::ast::{
    AliasDef, Binary, BinaryOp, Call, Expr as OExpr, ExprKind, Ident, In, Lambda, LambdaKind,
    Literal, MemberPath, PathCount, PathRoot, PathSegment, Span, Unary, UnaryOp,
};
use sea_query::{Alias, Expr, ExprTrait, Func, JoinType, Query, SelectStatement, Value};

use crate::checked::Op;
use crate::dialect::{Backend, DatePart, Rounding};
use crate::error::TranslateError;
use crate::schema::{EdmType, EntityType, Navigation, Presence, Property, PropertySource, Schema};

/// The static type of a translated expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    /// The `null` literal: compatible with every type.
    Null,
    /// A primitive type.
    Edm(EdmType),
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Null => "null",
            Ty::Edm(t) => t.csdl_name(),
        }
    }

    fn is_string(self) -> bool {
        self == Ty::Edm(EdmType::String)
    }
}

/// What the translator knows about the collation a string value compares
/// and sorts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Collation {
    /// Not known to compare by code point (every expression but the two
    /// below, and every non-string): comparisons are made exact explicitly.
    Unknown,
    /// A column stored in a code-point collation
    /// ([`Schema::code_point_collation`]).
    CodePoint,
    /// A bound string literal: compared with a column it takes the column's
    /// collation (a column's collation is implicit, a literal's coercible).
    Coercible,
}

impl Collation {
    /// Whether comparing values of these two collations is already exact
    /// (by code point, no padding) without any conversion: a code-point
    /// column with another one or with a literal. Two literals compare in
    /// the connection's collation, so not them.
    pub(crate) fn code_point_pair(self, other: Collation) -> bool {
        matches!(
            (self, other),
            (
                Collation::CodePoint,
                Collation::CodePoint | Collation::Coercible
            ) | (Collation::Coercible, Collation::CodePoint)
        )
    }
}

/// A translated expression with its type, whether it can be null and its
/// collation.
#[derive(Debug, Clone)]
pub(crate) struct Typed {
    pub(crate) expr: Expr,
    pub(crate) ty: Ty,
    pub(crate) nullable: bool,
    pub(crate) collation: Collation,
}

/// An entity in scope: its type and the SQL name (table or alias) its
/// columns are qualified with.
#[derive(Debug, Clone)]
pub(crate) struct Scope<'a> {
    pub(crate) entity: &'a EntityType,
    pub(crate) alias: String,
}

impl Scope<'_> {
    pub(crate) fn column(&self, column: &str) -> Expr {
        Expr::col((
            Alias::new(self.alias.clone()),
            Alias::new(column.to_owned()),
        ))
    }

    /// The key column (single-column keys only).
    pub(crate) fn key_column(&self) -> Option<&str> {
        let key = self.entity.key.first()?;
        self.entity.property(key)?.column_name()
    }
}

/// Everything expression translation needs.
pub(crate) struct ExprContext<'a> {
    pub(crate) schema: &'a dyn Schema,
    pub(crate) backend: Backend,
    pub(crate) tenant: &'a Value,
    pub(crate) now: DateTime<Utc>,
    pub(crate) aliases: &'a [AliasDef],
    /// `$compute` results by alias, usable as properties of the top-level entity.
    pub(crate) computed: &'a [(String, Typed)],
    /// Counter for subquery aliases, shared by every expression of a plan.
    pub(crate) next_alias: &'a Cell<usize>,
}

/// Translator for one query option (named in errors) in one root scope.
pub(crate) struct ExprTranslator<'c, 'a> {
    pub(crate) ctx: &'c ExprContext<'a>,
    pub(crate) target: &'static str,
    pub(crate) root: Scope<'a>,
    lambdas: Vec<(String, Scope<'a>)>,
    alias_depth: usize,
}

const MAX_ALIAS_DEPTH: usize = 8;

impl<'c, 'a> ExprTranslator<'c, 'a> {
    pub(crate) fn new(ctx: &'c ExprContext<'a>, target: &'static str, root: Scope<'a>) -> Self {
        ExprTranslator {
            ctx,
            target,
            root,
            lambdas: Vec::new(),
            alias_depth: 0,
        }
    }

    fn invalid(&self, span: Span, message: impl Into<String>) -> TranslateError {
        TranslateError::invalid(self.target, span, message)
    }

    fn unsupported(&self, span: Span, message: impl Into<String>) -> TranslateError {
        TranslateError::unsupported(self.target, span, message)
    }

    /// A boolean condition (for `$filter` and lambda predicates).
    pub(crate) fn condition(&mut self, e: &OExpr) -> Result<Expr, TranslateError> {
        let t = self.expr(e)?;
        match t.ty {
            Ty::Edm(EdmType::Boolean) => Ok(t.expr),
            Ty::Null => Ok(Expr::val(false)),
            other => Err(self.invalid(
                e.span,
                format!("expected a Boolean expression, found {}", other.name()),
            )),
        }
    }

    /// Any expression.
    pub(crate) fn expr(&mut self, e: &OExpr) -> Result<Typed, TranslateError> {
        let OExpr { kind, span } = e;
        let span = *span;
        match kind {
            ExprKind::Literal(lit) => self.literal(lit, span),
            ExprKind::Path(path) => self.path(path),
            ExprKind::Lambda(lambda) => self.lambda(lambda, span),
            ExprKind::PathCount(count) => self.path_count(count, span),
            ExprKind::Alias(name) => self.alias(name),
            ExprKind::Call(call) => self.call(call, span),
            ExprKind::Binary(binary) => self.binary(binary, span),
            ExprKind::Unary(unary) => self.unary(unary, span),
            ExprKind::In(in_) => self.in_list(in_, span),
            ExprKind::List(_) => Err(self.invalid(
                span,
                "a parenthesised list is only allowed on the right of `in`",
            )),
            ExprKind::Json(_) => Err(self.unsupported(
                span,
                "JSON values in expressions are not supported (except as an `in` list)",
            )),
        }
    }

    fn alias(&mut self, name: &Ident) -> Result<Typed, TranslateError> {
        let Some(def) = self.ctx.aliases.iter().find(|a| a.name.name == name.name) else {
            return Err(self.invalid(
                name.span,
                format!("parameter alias @{} is not defined", name.name),
            ));
        };
        if self.alias_depth >= MAX_ALIAS_DEPTH {
            return Err(self.invalid(name.span, "parameter aliases nest too deeply"));
        }
        self.alias_depth += 1;
        let result = self.expr(&def.value);
        self.alias_depth -= 1;
        result
    }

    fn literal(&self, lit: &Literal, span: Span) -> Result<Typed, TranslateError> {
        let typed = |expr: Expr, t: EdmType| Typed {
            expr,
            ty: Ty::Edm(t),
            nullable: false,
            collation: Collation::Unknown,
        };
        // On PostgreSQL the statement text names the type of each literal:
        // sqlx caches prepared statements by their text, and a cached
        // statement bound with a value of another type reads its bytes
        // wrongly (`gt 0.5` after `gt 2` bound an f64 into an int8).
        let pg = self.ctx.backend == Backend::Postgres;
        let val = |value: sea_query::Value, pg_type: &str| -> Expr {
            if pg {
                Func::cast_as(Expr::val(value), Alias::new(pg_type)).into()
            } else {
                Expr::val(value)
            }
        };
        Ok(match lit {
            Literal::Null => Typed {
                expr: Expr::null(),
                ty: Ty::Null,
                nullable: true,
                collation: Collation::Unknown,
            },
            Literal::Boolean(b) => typed(Expr::val(*b), EdmType::Boolean),
            Literal::Integer(i) => typed(val((*i).into(), "BIGINT"), EdmType::Int64),
            Literal::Decimal(text) | Literal::Double(text) => {
                let t = if matches!(lit, Literal::Decimal(_)) {
                    EdmType::Decimal
                } else {
                    EdmType::Double
                };
                let value: f64 = text
                    .parse()
                    .map_err(|_| self.invalid(span, format!("`{text}` is not a number")))?;
                if !value.is_finite() {
                    return Err(self.unsupported(span, "NaN and INF are not supported"));
                }
                typed(val(value.into(), "DOUBLE PRECISION"), t)
            }
            Literal::String(raw) => Typed {
                collation: Collation::Coercible,
                ..typed(
                    val(
                        percent_decode(raw)
                            .map_err(|m| self.invalid(span, m))?
                            .into(),
                        "TEXT",
                    ),
                    EdmType::String,
                )
            },
            Literal::Date(raw) => {
                let text = percent_decode(raw).map_err(|m| self.invalid(span, m))?;
                let d = NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                    .map_err(|_| self.invalid(span, format!("`{text}` is not a valid date")))?;
                typed(val(d.into(), "DATE"), EdmType::Date)
            }
            Literal::DateTimeOffset(raw) => {
                let text = percent_decode(raw).map_err(|m| self.invalid(span, m))?;
                let dt = parse_datetime(&text).ok_or_else(|| {
                    self.invalid(span, format!("`{text}` is not a valid DateTimeOffset"))
                })?;
                typed(val(dt.into(), "TIMESTAMPTZ"), EdmType::DateTimeOffset)
            }
            Literal::Guid(text) => {
                let id = uuid::Uuid::parse_str(text)
                    .map_err(|_| self.invalid(span, format!("`{text}` is not a valid GUID")))?;
                typed(val(id.into(), "UUID"), EdmType::Guid)
            }
            Literal::TimeOfDay(_) => {
                return Err(self.unsupported(span, "TimeOfDay values are not supported"));
            }
            Literal::Duration(_) => {
                return Err(self.unsupported(span, "Duration values are not supported"));
            }
            Literal::Binary(_) => {
                return Err(self.unsupported(span, "binary values are not supported"));
            }
            Literal::Enum { type_name, .. } => {
                return Err(self.unsupported(
                    span,
                    format!("enumeration values are not supported (type {type_name})"),
                ));
            }
            Literal::Geo { .. } => {
                return Err(self.unsupported(span, "geographic values are not supported"));
            }
        })
    }

    /// Resolves the start of a path: the scope it is relative to and the
    /// segments left after a range variable or `$it`.
    fn path_scope<'p>(
        &self,
        path: &'p MemberPath,
    ) -> Result<(Scope<'a>, &'p [PathSegment]), TranslateError> {
        let MemberPath {
            root,
            segments,
            span,
        } = path;
        match root {
            PathRoot::It => Ok((self.root.clone(), segments)),
            PathRoot::This => Err(self.unsupported(*span, "`$this` is not supported")),
            PathRoot::Root => Err(self.unsupported(*span, "`$root` paths are not supported")),
            PathRoot::Implicit => {
                if let Some(PathSegment::Member { name, key: None }) = segments.first()
                    && let Some((_, scope)) =
                        self.lambdas.iter().rev().find(|(var, _)| *var == name.name)
                {
                    return Ok((scope.clone(), &segments[1..]));
                }
                Ok((self.root.clone(), segments))
            }
        }
    }

    fn path(&mut self, path: &MemberPath) -> Result<Typed, TranslateError> {
        let (scope, segments) = self.path_scope(path)?;
        let Some(first) = segments.first() else {
            return Err(self.unsupported(
                path.span,
                "an entity (range variable or `$it`) cannot be used as a value",
            ));
        };
        // The catch-all arm keeps later AST additions answered as unsupported.
        #[allow(unreachable_patterns)]
        let name = match first {
            PathSegment::Member { name, key: None } => name,
            PathSegment::Member { name, key: Some(_) } => {
                return Err(self.invalid(
                    name.span,
                    format!("`{}` does not take a key predicate here", name.name),
                ));
            }
            PathSegment::TypeCast(ident) => {
                return Err(self.unsupported(
                    ident.span,
                    format!("type casts are not supported (`{}`)", ident.name),
                ));
            }
            PathSegment::Function { name, .. } => {
                return Err(self.unsupported(
                    name.span,
                    format!("bound functions are not supported (`{}`)", name.name),
                ));
            }
            _ => {
                return Err(
                    self.unsupported(path.span, "this kind of path segment is not supported")
                );
            }
        };
        if let Some(nav) = scope.entity.navigation(&name.name) {
            if !nav.is_collection() {
                return self.single_valued_path(&scope, nav, &segments[1..], path.span);
            }
            return Err(self.invalid(
                name.span,
                format!(
                    "`{}` is a collection of {}: use `{}/any(...)`, `{}/all(...)` or `{}/$count`",
                    nav.name, nav.target_set, nav.name, nav.name, nav.name
                ),
            ));
        }
        // `$compute` aliases are properties of the top-level (unaliased) entity.
        if scope.alias == scope.entity.table
            && let Some((_, computed)) = self
                .ctx
                .computed
                .iter()
                .find(|(alias, _)| alias.eq_ignore_ascii_case(&name.name))
        {
            if let Some(extra) = segments.get(1) {
                let span = segment_span(extra).unwrap_or(path.span);
                return Err(self.invalid(
                    span,
                    format!("`{}` is a primitive value and has no members", name.name),
                ));
            }
            return Ok(computed.clone());
        }
        let prop = self.property(&scope, name)?;
        if let Some(extra) = segments.get(1) {
            let span = segment_span(extra).unwrap_or(path.span);
            return Err(self.invalid(
                span,
                format!("`{}` is a primitive property and has no members", prop.name),
            ));
        }
        self.property_value(&scope, prop, name.span)
    }

    /// `category/name`: a property of the entity a to-one navigation leads
    /// to, as a scalar subquery (null when there is no such entity).
    fn single_valued_path(
        &self,
        outer: &Scope<'a>,
        nav: &'a Navigation,
        rest: &[PathSegment],
        span: Span,
    ) -> Result<Typed, TranslateError> {
        let [PathSegment::Member { name, key: None }] = rest else {
            return Err(self.unsupported(
                span,
                format!(
                    "a path through the to-one navigation `{}` must end in one property of {}",
                    nav.name, nav.target_set
                ),
            ));
        };
        let Some(target) = self.ctx.schema.entity_set(&nav.target_set) else {
            return Err(self.invalid(
                name.span,
                format!("the target set {} is not in the schema", nav.target_set),
            ));
        };
        if target.entity_type.navigation(&name.name).is_some() {
            return Err(self.unsupported(
                name.span,
                "paths through more than one navigation are not supported",
            ));
        }
        let n = self.ctx.next_alias.get() + 1;
        self.ctx.next_alias.set(n);
        let inner = Scope {
            entity: &target.entity_type,
            alias: format!("t{n}"),
        };
        let prop = self.property(&inner, name)?;
        let value = self.property_value(&inner, prop, name.span)?;
        let mut q = self.related_rows(outer, nav, &inner, span)?;
        q.clear_selects();
        q.expr(value.expr);
        Ok(Typed {
            expr: Expr::SubQuery(
                None,
                Box::new(sea_query::SubQueryStatement::SelectStatement(q)),
            ),
            ty: value.ty,
            nullable: true,
            collation: Collation::Unknown,
        })
    }

    fn property(&self, scope: &Scope<'a>, name: &Ident) -> Result<&'a Property, TranslateError> {
        scope.entity.property(&name.name).ok_or_else(|| {
            self.invalid(
                name.span,
                format!(
                    "unknown property `{}` of {}{}",
                    name.name,
                    scope.entity.name,
                    member_hint(&name.name, scope.entity)
                ),
            )
        })
    }

    fn property_value(
        &self,
        scope: &Scope<'a>,
        prop: &Property,
        span: Span,
    ) -> Result<Typed, TranslateError> {
        match &prop.source {
            PropertySource::Column(column) => Ok(Typed {
                expr: scope.column(column),
                ty: Ty::Edm(prop.edm_type),
                nullable: prop.nullable,
                collation: if prop.edm_type == EdmType::String
                    && self
                        .ctx
                        .schema
                        .code_point_collation(self.ctx.backend, scope.entity, prop)
                {
                    Collation::CodePoint
                } else {
                    Collation::Unknown
                },
            }),
            PropertySource::Constant(value) => Ok(Typed {
                expr: Expr::val(value.clone()),
                ty: Ty::Edm(prop.edm_type),
                nullable: prop.nullable,
                collation: Collation::Unknown,
            }),
            PropertySource::Computed { non_null_when, .. } => Err(self.unsupported(
                span,
                format!(
                    "`{}` is computed by the service (its value depends on the service's \
                     public URL) and cannot be used in {}{}",
                    prop.name,
                    self.target,
                    if non_null_when.is_some() {
                        format!(
                            "; only `{0} eq null` and `{0} ne null` are supported in $filter",
                            prop.name
                        )
                    } else {
                        String::new()
                    }
                ),
            )),
        }
    }

    /// The navigation a lambda or `$count` ranges over.
    fn navigation(
        &self,
        path: &MemberPath,
    ) -> Result<(Scope<'a>, &'a Navigation, Scope<'a>), TranslateError> {
        let (scope, segments) = self.path_scope(path)?;
        let name = match segments {
            [PathSegment::Member { name, key: None }] => name,
            _ => {
                return Err(self.unsupported(
                    path.span,
                    "only a single navigation property can be the collection of a lambda or $count",
                ));
            }
        };
        let Some(nav) = scope.entity.navigation(&name.name) else {
            if scope.entity.property(&name.name).is_some() {
                return Err(self.invalid(name.span, format!("`{}` is not a collection", name.name)));
            }
            return Err(self.invalid(
                name.span,
                format!(
                    "unknown navigation property `{}` of {}{}",
                    name.name,
                    scope.entity.name,
                    crate::suggest::hint(
                        &name.name,
                        scope.entity.navigations.iter().map(|n| n.name.as_str())
                    )
                ),
            ));
        };
        if !nav.is_collection() {
            return Err(self.invalid(
                name.span,
                format!(
                    "`{}` is a single entity, not a collection: lambdas and $count range over collections",
                    nav.name
                ),
            ));
        }
        let Some(target) = self.ctx.schema.entity_set(&nav.target_set) else {
            return Err(self.invalid(
                name.span,
                format!("the target set {} is not in the schema", nav.target_set),
            ));
        };
        let n = self.ctx.next_alias.get() + 1;
        self.ctx.next_alias.set(n);
        let inner = Scope {
            entity: &target.entity_type,
            alias: format!("t{n}"),
        };
        Ok((scope, nav, inner))
    }

    /// `SELECT 1 FROM link JOIN target WHERE link.from = outer.key AND tenant`.
    fn related_rows(
        &self,
        outer: &Scope<'a>,
        nav: &Navigation,
        inner: &Scope<'a>,
        span: Span,
    ) -> Result<SelectStatement, TranslateError> {
        let (Some(outer_key), Some(inner_key)) = (outer.key_column(), inner.key_column()) else {
            return Err(self.unsupported(span, "navigation over entities without a key column"));
        };
        let link_alias = format!("l{}", &inner.alias[1..]);
        let link = |c: &str| Expr::col((Alias::new(link_alias.clone()), Alias::new(c.to_owned())));
        let mut q = Query::select();
        q.expr(Expr::val(1))
            .from_as(
                Alias::new(nav.link.table.clone()),
                Alias::new(link_alias.clone()),
            )
            .join_as(
                JoinType::InnerJoin,
                Alias::new(inner.entity.table.clone()),
                Alias::new(inner.alias.clone()),
                link(&nav.link.to_column).eq(inner.column(inner_key)),
            )
            .and_where(link(&nav.link.from_column).eq(outer.column(outer_key)))
            .and_where(
                inner
                    .column(&inner.entity.tenant_column)
                    .eq(self.ctx.tenant.clone()),
            );
        Ok(q)
    }

    fn lambda(&mut self, lambda: &Lambda, span: Span) -> Result<Typed, TranslateError> {
        let Lambda {
            collection,
            kind,
            variable,
            predicate,
        } = lambda;
        let (outer, nav, inner) = self.navigation(collection)?;
        let mut q = self.related_rows(&outer, nav, &inner, span)?;
        let predicate = match (variable, predicate) {
            (Some(var), Some(pred)) => {
                if self.lambdas.iter().any(|(v, _)| *v == var.name) {
                    return Err(self.invalid(
                        var.span,
                        format!("range variable `{}` is already in use", var.name),
                    ));
                }
                self.lambdas.push((var.name.clone(), inner.clone()));
                let result = self.condition(pred);
                self.lambdas.pop();
                Some(result?)
            }
            _ => None,
        };
        let expr = match (kind, predicate) {
            (LambdaKind::Any, None) => Expr::exists(q),
            (LambdaKind::Any, Some(p)) => {
                q.and_where(p);
                Expr::exists(q)
            }
            (LambdaKind::All, None) => Expr::val(true),
            (LambdaKind::All, Some(p)) => {
                // A member whose predicate is null does not satisfy `all`.
                q.and_where(Expr::from(Func::coalesce([p, Expr::val(false)])).not());
                Expr::not_exists(q)
            }
        };
        Ok(Typed {
            expr,
            ty: Ty::Edm(EdmType::Boolean),
            nullable: false,
            collation: Collation::Unknown,
        })
    }

    fn path_count(&mut self, count: &PathCount, span: Span) -> Result<Typed, TranslateError> {
        let PathCount {
            collection,
            filter,
            search,
        } = count;
        if filter.is_some() || search.is_some() {
            return Err(self.unsupported(
                span,
                "`$count` with nested `$filter` or `$search` is not supported",
            ));
        }
        let (outer, nav, inner) = self.navigation(collection)?;
        let mut q = self.related_rows(&outer, nav, &inner, span)?;
        q.clear_selects();
        q.expr(Expr::cust("COUNT(*)"));
        Ok(Typed {
            expr: Expr::SubQuery(
                None,
                Box::new(sea_query::SubQueryStatement::SelectStatement(q)),
            ),
            ty: Ty::Edm(EdmType::Int64),
            nullable: false,
            collation: Collation::Unknown,
        })
    }

    fn unary(&mut self, unary: &Unary, span: Span) -> Result<Typed, TranslateError> {
        let Unary { op, operand } = unary;
        match op {
            UnaryOp::Not => {
                let inner = self.condition(operand)?;
                Ok(Typed {
                    expr: inner.not(),
                    ty: Ty::Edm(EdmType::Boolean),
                    nullable: true,
                    collation: Collation::Unknown,
                })
            }
            UnaryOp::Neg => {
                self.constant(&OExpr {
                    kind: ExprKind::Unary(unary.clone()),
                    span,
                })?;
                let t = self.expr(operand)?;
                match t.ty {
                    Ty::Edm(e) if e.is_numeric() => Ok(Typed {
                        expr: self.ctx.backend.neg(t.expr, e.is_integer()),
                        ty: t.ty,
                        nullable: t.nullable,
                        collation: Collation::Unknown,
                    }),
                    Ty::Null => Ok(t),
                    other => {
                        Err(self
                            .invalid(span, format!("`-` needs a number, found {}", other.name())))
                    }
                }
            }
        }
    }

    fn binary(&mut self, binary: &Binary, span: Span) -> Result<Typed, TranslateError> {
        let Binary {
            op,
            op_span,
            left,
            right,
        } = binary;
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let l = self.condition(left)?;
                let r = self.condition(right)?;
                Ok(Typed {
                    expr: if *op == BinaryOp::And {
                        l.and(r)
                    } else {
                        l.or(r)
                    },
                    ty: Ty::Edm(EdmType::Boolean),
                    nullable: true,
                    collation: Collation::Unknown,
                })
            }
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::Lt
            | BinaryOp::Le => {
                if matches!(op, BinaryOp::Eq | BinaryOp::Ne)
                    && let Some(test) = self.computed_null_test(*op, left, right)?
                {
                    return Ok(test);
                }
                if let Some(exact) =
                    self.sub_microsecond_comparison(*op, left, right, span, *op_span)?
                {
                    return Ok(exact);
                }
                let l = self.expr(left)?;
                let r = self.expr(right)?;
                self.compare(*op, l, r, span, *op_span)
            }
            BinaryOp::Has => Err(self.unsupported(
                *op_span,
                "`has` is not supported (the model has no enumeration types)",
            )),
            BinaryOp::Add
            | BinaryOp::Sub
            | BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::DivBy
            | BinaryOp::Mod => {
                // Literal arithmetic that overflows is the client's error on
                // every backend (SQLite would silently turn it into a REAL).
                self.constant(&OExpr {
                    kind: ExprKind::Binary(binary.clone()),
                    span,
                })?;
                let l = self.expr(left)?;
                let r = self.expr(right)?;
                self.arithmetic(*op, l, r, *op_span)
            }
        }
    }

    /// `p eq null` / `p ne null` (either side) for a computed property that
    /// says when it has a value (`picture`): the condition on its columns.
    /// `None` when the comparison is not of that form.
    fn computed_null_test(
        &self,
        op: BinaryOp,
        left: &OExpr,
        right: &OExpr,
    ) -> Result<Option<Typed>, TranslateError> {
        let path = match (&left.kind, &right.kind) {
            (ExprKind::Path(p), _) if self.is_null_literal(right, 0) => p,
            (_, ExprKind::Path(p)) if self.is_null_literal(left, 0) => p,
            _ => return Ok(None),
        };
        let (scope, segments) = self.path_scope(path)?;
        let [PathSegment::Member { name, key: None }] = segments else {
            return Ok(None);
        };
        if scope.alias == scope.entity.table
            && self
                .ctx
                .computed
                .iter()
                .any(|(alias, _)| alias.eq_ignore_ascii_case(&name.name))
        {
            return Ok(None);
        }
        let Some(Property {
            source:
                PropertySource::Computed {
                    non_null_when: Some(conditions),
                    ..
                },
            ..
        }) = scope.entity.property(&name.name)
        else {
            return Ok(None);
        };
        // Each condition is two-valued (never SQL NULL), so `not` and the
        // negation below stay exact.
        let present = conditions
            .iter()
            .map(|c| match c {
                Presence::IsTrue(column) => scope
                    .column(column)
                    .is_not_null()
                    .and(scope.column(column).eq(true)),
                Presence::IsNotNull(column) => scope.column(column).is_not_null(),
            })
            .reduce(|a, b| a.or(b))
            .unwrap_or_else(|| Expr::val(false));
        Ok(Some(Typed {
            expr: if op == BinaryOp::Ne {
                present
            } else {
                present.not()
            },
            ty: Ty::Edm(EdmType::Boolean),
            nullable: false,
            collation: Collation::Unknown,
        }))
    }

    /// Whether `e` is the `null` literal, directly or through aliases.
    fn is_null_literal(&self, e: &OExpr, depth: usize) -> bool {
        match &e.kind {
            ExprKind::Literal(Literal::Null) => true,
            ExprKind::Alias(name) if depth < MAX_ALIAS_DEPTH => self
                .ctx
                .aliases
                .iter()
                .find(|a| a.name.name == name.name)
                .is_some_and(|def| self.is_null_literal(&def.value, depth + 1)),
            _ => false,
        }
    }

    fn arithmetic(
        &self,
        op: BinaryOp,
        l: Typed,
        r: Typed,
        op_span: Span,
    ) -> Result<Typed, TranslateError> {
        let (lt, rt) = match (l.ty, r.ty) {
            (Ty::Edm(a), Ty::Edm(b)) if a.is_numeric() && b.is_numeric() => (a, b),
            (Ty::Null, Ty::Edm(t)) | (Ty::Edm(t), Ty::Null) if t.is_numeric() => (t, t),
            (Ty::Null, Ty::Null) => (EdmType::Int64, EdmType::Int64),
            (a, b) => {
                if matches!(a, Ty::Edm(EdmType::DateTimeOffset | EdmType::Date))
                    && matches!(op, BinaryOp::Add | BinaryOp::Sub)
                {
                    return Err(self.unsupported(op_span, "date arithmetic is not supported"));
                }
                return Err(self.invalid(
                    op_span,
                    format!(
                        "`{}` needs numbers, found {} and {}",
                        op.keyword(),
                        a.name(),
                        b.name()
                    ),
                ));
            }
        };
        let integers = lt.is_integer() && rt.is_integer();
        let widened = if integers {
            EdmType::Int64
        } else if lt == EdmType::Double || rt == EdmType::Double {
            EdmType::Double
        } else {
            EdmType::Decimal
        };
        let nullable = l.nullable || r.nullable;
        let b = self.ctx.backend;
        let (expr, ty) = match op {
            BinaryOp::Add => (b.arithmetic(Op::Add, l.expr, r.expr, integers), widened),
            BinaryOp::Sub => (b.arithmetic(Op::Sub, l.expr, r.expr, integers), widened),
            BinaryOp::Mul => (b.arithmetic(Op::Mul, l.expr, r.expr, integers), widened),
            BinaryOp::Div if integers => (b.int_div(l.expr, r.expr), EdmType::Int64),
            BinaryOp::Div | BinaryOp::DivBy => (
                b.decimal_div(l.expr, r.expr),
                if widened == EdmType::Int64 {
                    EdmType::Double
                } else {
                    widened
                },
            ),
            BinaryOp::Mod => (
                b.modulo(l.expr, r.expr, integers),
                if integers { widened } else { EdmType::Double },
            ),
            _ => return Err(self.invalid(op_span, "not an arithmetic operator")),
        };
        Ok(Typed {
            expr,
            ty: Ty::Edm(ty),
            // Division by zero yields null.
            nullable: nullable || matches!(op, BinaryOp::Div | BinaryOp::DivBy | BinaryOp::Mod),
            collation: Collation::Unknown,
        })
    }

    fn check_comparable(
        &self,
        op: BinaryOp,
        l: Ty,
        r: Ty,
        op_span: Span,
    ) -> Result<(), TranslateError> {
        let ok = match (l, r) {
            (Ty::Null, _) | (_, Ty::Null) => true,
            (Ty::Edm(a), Ty::Edm(b)) => a == b || (a.is_numeric() && b.is_numeric()),
        };
        if ok {
            Ok(())
        } else {
            Err(self.invalid(
                op_span,
                format!(
                    "cannot compare {} with {} using `{}`",
                    l.name(),
                    r.name(),
                    op.keyword()
                ),
            ))
        }
    }

    /// A comparison with a DateTimeOffset literal finer than a microsecond.
    ///
    /// Timestamps are stored to the microsecond (PostgreSQL's `timestamptz`
    /// and MariaDB's `datetime(6)` cannot hold more, and the service
    /// truncates what it writes on SQLite too), and the server backends
    /// would round or cut such a literal before comparing. So the literal is
    /// moved to a whole microsecond that gives the exact answer: against
    /// whole microseconds `x lt L` is `x lt ⌈L⌉`, `x le L` is `x le ⌊L⌋`,
    /// `x gt L` is `x gt ⌊L⌋`, `x ge L` is `x ge ⌈L⌉`, and `x eq L` is false
    /// (`ne` true). `None` when neither operand is such a literal.
    fn sub_microsecond_comparison(
        &mut self,
        op: BinaryOp,
        left: &OExpr,
        right: &OExpr,
        span: Span,
        op_span: Span,
    ) -> Result<Option<Typed>, TranslateError> {
        let fine = |e: &OExpr| -> Option<DateTime<Utc>> {
            let ExprKind::Literal(Literal::DateTimeOffset(raw)) = &e.kind else {
                return None;
            };
            let dt = parse_datetime(&percent_decode(raw).ok()?)?;
            (dt.timestamp_subsec_nanos() % 1000 != 0).then_some(dt)
        };
        // As `other OP literal`.
        let (other, op, literal) = match (fine(left), fine(right)) {
            (None, Some(t)) => (left, op, t),
            (Some(t), None) => (right, mirrored(op), t),
            _ => return Ok(None),
        };
        let other = self.expr(other)?;
        let floor = literal.trunc_subsecs(6);
        let whole = match op {
            BinaryOp::Lt | BinaryOp::Ge => floor + chrono::Duration::microseconds(1),
            BinaryOp::Le | BinaryOp::Gt => floor,
            // eq/ne: no whole microsecond equals the literal; `literal` only
            // serves the type check.
            _ => literal,
        };
        let literal = self.literal(&Literal::DateTimeOffset(whole.to_rfc3339()), span)?;
        let compared = self.compare(op, other, literal, span, op_span)?;
        Ok(Some(match op {
            BinaryOp::Eq | BinaryOp::Ne => Typed {
                expr: Expr::val(op == BinaryOp::Ne),
                ..compared
            },
            _ => compared,
        }))
    }

    pub(crate) fn compare(
        &self,
        op: BinaryOp,
        l: Typed,
        r: Typed,
        _span: Span,
        op_span: Span,
    ) -> Result<Typed, TranslateError> {
        self.check_comparable(op, l.ty, r.ty, op_span)?;
        let b = self.ctx.backend;
        let boolean = |expr: Expr| Typed {
            expr,
            ty: Ty::Edm(EdmType::Boolean),
            nullable: false,
            collation: Collation::Unknown,
        };
        // Comparisons with the null literal.
        match (l.ty, r.ty) {
            (Ty::Null, Ty::Null) => {
                return Ok(boolean(Expr::val(matches!(
                    op,
                    BinaryOp::Eq | BinaryOp::Ge | BinaryOp::Le
                ))));
            }
            (Ty::Null, _) | (_, Ty::Null) => {
                let other = if l.ty == Ty::Null { r } else { l };
                return Ok(boolean(match op {
                    BinaryOp::Eq if other.nullable => other.expr.is_null(),
                    BinaryOp::Ne if other.nullable => other.expr.is_not_null(),
                    BinaryOp::Ne => Expr::val(true),
                    _ => Expr::val(false),
                }));
            }
            _ => {}
        }
        // Strings compare by code point: explicitly, unless the operands'
        // collation already does (then the column's index can serve).
        let exact_strings =
            l.ty.is_string() && r.ty.is_string() && !l.collation.code_point_pair(r.collation);
        let expr = match op {
            BinaryOp::Eq => match (l.nullable, r.nullable) {
                (true, true) => b.null_safe_eq(l.expr, r.expr, exact_strings),
                (true, false) | (false, true) => {
                    let guard = if l.nullable {
                        l.expr.clone()
                    } else {
                        r.expr.clone()
                    };
                    self.plain_eq(l.expr, r.expr, exact_strings)
                        .and(guard.is_not_null())
                }
                (false, false) => self.plain_eq(l.expr, r.expr, exact_strings),
            },
            BinaryOp::Ne => match (l.nullable, r.nullable) {
                (true, true) => b.null_safe_eq(l.expr, r.expr, exact_strings).not(),
                (true, false) | (false, true) => {
                    let guard = if l.nullable {
                        l.expr.clone()
                    } else {
                        r.expr.clone()
                    };
                    self.plain_ne(l.expr, r.expr, exact_strings)
                        .or(guard.is_null())
                }
                (false, false) => self.plain_ne(l.expr, r.expr, exact_strings),
            },
            _ => {
                let (le, re) = if exact_strings {
                    (
                        b.binary_string(l.expr.clone()),
                        b.binary_string(r.expr.clone()),
                    )
                } else {
                    (l.expr.clone(), r.expr.clone())
                };
                let mut cmp = match op {
                    BinaryOp::Gt => le.gt(re),
                    BinaryOp::Ge => le.gte(re),
                    BinaryOp::Lt => le.lt(re),
                    _ => le.lte(re),
                };
                if l.nullable {
                    cmp = cmp.and(l.expr.is_not_null());
                }
                if r.nullable {
                    cmp = cmp.and(r.expr.is_not_null());
                }
                cmp
            }
        };
        Ok(boolean(expr))
    }

    fn plain_eq(&self, l: Expr, r: Expr, exact_strings: bool) -> Expr {
        if exact_strings {
            self.ctx.backend.string_eq(l, r)
        } else {
            l.eq(r)
        }
    }

    fn plain_ne(&self, l: Expr, r: Expr, exact_strings: bool) -> Expr {
        let b = self.ctx.backend;
        if exact_strings && b == Backend::MySql {
            b.binary_string(l).ne(b.binary_string(r))
        } else {
            l.ne(r)
        }
    }

    fn in_list(&mut self, in_: &In, span: Span) -> Result<Typed, TranslateError> {
        let In { expr, list } = in_;
        let value = self.expr(expr)?;
        let items: Vec<OExpr> = match &list.kind {
            ExprKind::List(items) => items.clone(),
            ExprKind::Json(odata_parser::ast::JsonValue::Array(values)) => values
                .iter()
                .map(|v| json_to_literal(v, list.span))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    self.unsupported(
                        list.span,
                        "only arrays of primitive JSON values are supported",
                    )
                })?,
            ExprKind::Alias(name) => {
                let Some(def) = self.ctx.aliases.iter().find(|a| a.name.name == name.name) else {
                    return Err(self.invalid(
                        name.span,
                        format!("parameter alias @{} is not defined", name.name),
                    ));
                };
                let inner = In {
                    expr: expr.clone(),
                    list: Box::new(def.value.clone()),
                };
                if self.alias_depth >= MAX_ALIAS_DEPTH {
                    return Err(self.invalid(name.span, "parameter aliases nest too deeply"));
                }
                self.alias_depth += 1;
                let result = self.in_list(&inner, span);
                self.alias_depth -= 1;
                return result;
            }
            _ => {
                return Err(self.unsupported(
                    list.span,
                    "`in` needs a list of values: `(a, b)` or `[a, b]`",
                ));
            }
        };
        if items.is_empty() {
            return Ok(Typed {
                expr: Expr::val(false),
                ty: Ty::Edm(EdmType::Boolean),
                nullable: false,
                collation: Collation::Unknown,
            });
        }
        // `x in (a, b)` means `x eq a or x eq b`; written as such so that
        // null semantics and case-sensitivity match `eq` exactly.
        let mut result: Option<Expr> = None;
        for item in &items {
            let t = self.expr(item)?;
            let eq = self.compare(BinaryOp::Eq, value.clone(), t, span, item.span)?;
            result = Some(match result {
                None => eq.expr,
                Some(acc) => acc.or(eq.expr),
            });
        }
        Ok(Typed {
            expr: result.unwrap_or_else(|| Expr::val(false)),
            ty: Ty::Edm(EdmType::Boolean),
            nullable: false,
            collation: Collation::Unknown,
        })
    }

    fn call(&mut self, call: &Call, span: Span) -> Result<Typed, TranslateError> {
        let Call { name, args } = call;
        let fname = name.name.as_str();
        let b = self.ctx.backend;
        let arity = |n: usize| -> Result<(), TranslateError> {
            if args.len() == n {
                Ok(())
            } else {
                Err(TranslateError::invalid(
                    self.target,
                    span,
                    format!(
                        "`{fname}` takes {n} argument{}, found {}",
                        if n == 1 { "" } else { "s" },
                        args.len()
                    ),
                ))
            }
        };
        match fname {
            "contains" | "startswith" | "endswith" => {
                arity(2)?;
                let hay = self.typed_arg(&args[0], fname, EdmType::String)?;
                let needle = self.typed_arg(&args[1], fname, EdmType::String)?;
                let column_prefix = match (&needle.expr, hay.collation, needle.collation) {
                    (
                        Expr::Value(Value::String(Some(prefix))),
                        Collation::CodePoint,
                        Collation::Coercible,
                    ) => Some(prefix.clone()),
                    _ => None,
                };
                let expr = match fname {
                    "contains" => b.contains(hay.expr, needle.expr),
                    "startswith" => b.starts_with(hay.expr, needle.expr, column_prefix.as_deref()),
                    _ => b.ends_with(hay.expr, needle.expr),
                };
                Ok(Typed {
                    expr,
                    ty: Ty::Edm(EdmType::Boolean),
                    nullable: hay.nullable || needle.nullable,
                    collation: Collation::Unknown,
                })
            }
            "length" => {
                arity(1)?;
                let s = self.typed_arg(&args[0], fname, EdmType::String)?;
                Ok(Typed {
                    expr: b.length(s.expr),
                    ty: Ty::Edm(EdmType::Int32),
                    nullable: s.nullable,
                    collation: Collation::Unknown,
                })
            }
            "indexof" => {
                arity(2)?;
                let hay = self.typed_arg(&args[0], fname, EdmType::String)?;
                let needle = self.typed_arg(&args[1], fname, EdmType::String)?;
                Ok(Typed {
                    expr: b.position(hay.expr, needle.expr).sub(1),
                    ty: Ty::Edm(EdmType::Int32),
                    nullable: hay.nullable || needle.nullable,
                    collation: Collation::Unknown,
                })
            }
            "substring" => {
                if !(2..=3).contains(&args.len()) {
                    return Err(self.invalid(
                        span,
                        format!("`substring` takes 2 or 3 arguments, found {}", args.len()),
                    ));
                }
                let s = self.typed_arg(&args[0], fname, EdmType::String)?;
                // PostgreSQL takes 32-bit positions (and the start is bound
                // plus one).
                for (arg, max, what) in [
                    (&args[1], i64::from(i32::MAX) - 1, "start"),
                    (
                        args.get(2).unwrap_or(&args[1]),
                        i64::from(i32::MAX),
                        "length",
                    ),
                ] {
                    if let Some(Const::Int(n)) = self.constant(arg)?
                        && n > max
                    {
                        return Err(self.invalid(
                            arg.span,
                            format!("the {what} of `substring` must be at most {max}"),
                        ));
                    }
                }
                let start = self.integer_arg(&args[1], fname)?;
                let len = match args.get(2) {
                    Some(a) => Some(self.integer_arg(a, fname)?),
                    None => None,
                };
                let nullable =
                    s.nullable || start.nullable || len.as_ref().is_some_and(|l| l.nullable);
                Ok(Typed {
                    expr: b.substring(s.expr, start.expr.add(1), len.map(|l| l.expr)),
                    ty: Ty::Edm(EdmType::String),
                    nullable,
                    collation: Collation::Unknown,
                })
            }
            "tolower" | "toupper" | "trim" => {
                arity(1)?;
                let s = self.typed_arg(&args[0], fname, EdmType::String)?;
                let expr = match fname {
                    "tolower" => b.lower(s.expr),
                    "toupper" => b.upper(s.expr),
                    _ => b.trim(s.expr),
                };
                Ok(Typed {
                    expr,
                    ty: Ty::Edm(EdmType::String),
                    nullable: s.nullable,
                    collation: Collation::Unknown,
                })
            }
            "concat" => {
                arity(2)?;
                let l = self.typed_arg(&args[0], fname, EdmType::String)?;
                let r = self.typed_arg(&args[1], fname, EdmType::String)?;
                Ok(Typed {
                    expr: b.concat(l.expr, r.expr),
                    ty: Ty::Edm(EdmType::String),
                    nullable: l.nullable || r.nullable,
                    collation: Collation::Unknown,
                })
            }
            "year" | "month" | "day" | "hour" | "minute" | "second" => {
                arity(1)?;
                let t = self.expr(&args[0])?;
                let part = match fname {
                    "year" => DatePart::Year,
                    "month" => DatePart::Month,
                    "day" => DatePart::Day,
                    "hour" => DatePart::Hour,
                    "minute" => DatePart::Minute,
                    _ => DatePart::Second,
                };
                let date_ok = matches!(part, DatePart::Year | DatePart::Month | DatePart::Day);
                match t.ty {
                    Ty::Edm(EdmType::DateTimeOffset) => {}
                    Ty::Edm(EdmType::Date) if date_ok => {}
                    Ty::Null => {}
                    other => {
                        return Err(self.invalid(
                            args[0].span,
                            format!(
                                "`{fname}` needs {}, found {}",
                                if date_ok {
                                    "a DateTimeOffset or a Date"
                                } else {
                                    "a DateTimeOffset"
                                },
                                other.name()
                            ),
                        ));
                    }
                }
                Ok(Typed {
                    expr: b.date_part(part, t.expr),
                    ty: Ty::Edm(EdmType::Int32),
                    nullable: t.nullable,
                    collation: Collation::Unknown,
                })
            }
            "date" => {
                arity(1)?;
                let t = self.typed_arg(&args[0], fname, EdmType::DateTimeOffset)?;
                Ok(Typed {
                    expr: b.date_of(t.expr),
                    ty: Ty::Edm(EdmType::Date),
                    nullable: t.nullable,
                    collation: Collation::Unknown,
                })
            }
            "now" => {
                arity(0)?;
                Ok(Typed {
                    expr: Expr::val(self.ctx.now),
                    ty: Ty::Edm(EdmType::DateTimeOffset),
                    nullable: false,
                    collation: Collation::Unknown,
                })
            }
            "round" | "floor" | "ceiling" => {
                arity(1)?;
                let t = self.expr(&args[0])?;
                let ty = match t.ty {
                    Ty::Edm(e) if e.is_numeric() => e,
                    Ty::Null => return Ok(t),
                    other => {
                        return Err(self.invalid(
                            args[0].span,
                            format!("`{fname}` needs a number, found {}", other.name()),
                        ));
                    }
                };
                if ty.is_integer() {
                    return Ok(t);
                }
                let kind = match fname {
                    "round" => Rounding::Round,
                    "floor" => Rounding::Floor,
                    _ => Rounding::Ceiling,
                };
                Ok(Typed {
                    expr: b.rounding(kind, t.expr),
                    ty: Ty::Edm(ty),
                    nullable: t.nullable,
                    collation: Collation::Unknown,
                })
            }
            "matchespattern" | "time" | "totaloffsetminutes" | "totalseconds"
            | "fractionalseconds" | "maxdatetime" | "mindatetime" | "cast" | "isof"
            | "hassubset" | "hassubsequence" | "case" => Err(self.unsupported(
                name.span,
                format!("the function `{fname}` is not supported"),
            )),
            _ if fname.starts_with("geo.") => Err(self.unsupported(
                name.span,
                format!("geographic functions are not supported (`{fname}`)"),
            )),
            _ if fname.contains('.') => Err(self.unsupported(
                name.span,
                format!("custom functions are not supported (`{fname}`)"),
            )),
            _ => Err(self.invalid(
                name.span,
                format!(
                    "unknown function `{fname}`{}",
                    crate::suggest::hint(fname, crate::suggest::FUNCTIONS.iter().copied())
                ),
            )),
        }
    }

    /// The value of a constant numeric expression (literals, aliases of
    /// literals, `-` and arithmetic on them), `None` when it is not one (or
    /// is null, e.g. after a division by zero). An Int64 result out of range
    /// or a Double result that is not finite is an error at its operator.
    fn constant(&self, e: &OExpr) -> Result<Option<Const>, TranslateError> {
        self.constant_at(e, 0)
    }

    fn constant_at(&self, e: &OExpr, depth: usize) -> Result<Option<Const>, TranslateError> {
        if depth > MAX_ALIAS_DEPTH + 64 {
            return Ok(None);
        }
        Ok(match &e.kind {
            ExprKind::Literal(Literal::Integer(i)) => Some(Const::Int(*i)),
            ExprKind::Literal(Literal::Decimal(t) | Literal::Double(t)) => t
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Const::Float),
            ExprKind::Alias(name) => {
                match self.ctx.aliases.iter().find(|a| a.name.name == name.name) {
                    Some(def) => self.constant_at(&def.value, depth + 1)?,
                    None => None,
                }
            }
            ExprKind::Unary(Unary {
                op: UnaryOp::Neg,
                operand,
            }) => match self.constant_at(operand, depth + 1)? {
                Some(Const::Int(i)) => Some(Const::Int(i.checked_neg().ok_or_else(|| {
                    self.invalid(e.span, format!("`-({i})` is out of the range of Edm.Int64"))
                })?)),
                Some(Const::Float(f)) => Some(Const::Float(-f)),
                None => None,
            },
            ExprKind::Binary(Binary {
                op,
                op_span,
                left,
                right,
            }) if matches!(
                op,
                BinaryOp::Add
                    | BinaryOp::Sub
                    | BinaryOp::Mul
                    | BinaryOp::Div
                    | BinaryOp::DivBy
                    | BinaryOp::Mod
            ) =>
            {
                let l = self.constant_at(left, depth + 1)?;
                let r = self.constant_at(right, depth + 1)?;
                let (Some(l), Some(r)) = (l, r) else {
                    return Ok(None);
                };
                let overflow = |ty: &str| {
                    self.invalid(
                        *op_span,
                        format!(
                            "the result of `{}` on {} and {} is out of the range of {ty}",
                            op.keyword(),
                            l,
                            r
                        ),
                    )
                };
                match (l, r) {
                    (Const::Int(a), Const::Int(b)) => {
                        let v = match op {
                            BinaryOp::Add => a.checked_add(b),
                            BinaryOp::Sub => a.checked_sub(b),
                            BinaryOp::Mul => a.checked_mul(b),
                            BinaryOp::Div if b == 0 => return Ok(None),
                            BinaryOp::Div => a.checked_div(b),
                            BinaryOp::Mod if b == 0 => return Ok(None),
                            // `MIN mod -1` is 0 (the databases agree).
                            BinaryOp::Mod => Some(a.checked_rem(b).unwrap_or(0)),
                            _ if b == 0 => return Ok(None),
                            _ => return Ok(Some(Const::Float(a as f64 / b as f64))),
                        };
                        Some(Const::Int(v.ok_or_else(|| overflow("Edm.Int64"))?))
                    }
                    (a, b) => {
                        let (a, b) = (a.as_f64(), b.as_f64());
                        let v = match op {
                            BinaryOp::Add => a + b,
                            BinaryOp::Sub => a - b,
                            BinaryOp::Mul => a * b,
                            _ if b == 0.0 => return Ok(None),
                            BinaryOp::Mod => a % b,
                            _ => a / b,
                        };
                        if !v.is_finite() {
                            return Err(overflow("Edm.Double"));
                        }
                        Some(Const::Float(v))
                    }
                }
            }
            _ => None,
        })
    }

    fn typed_arg(
        &mut self,
        arg: &OExpr,
        fname: &str,
        want: EdmType,
    ) -> Result<Typed, TranslateError> {
        let t = self.expr(arg)?;
        match t.ty {
            Ty::Null => Ok(t),
            Ty::Edm(e) if e == want => Ok(t),
            other => Err(self.invalid(
                arg.span,
                format!(
                    "`{fname}` needs {} here, found {}",
                    want.csdl_name(),
                    other.name()
                ),
            )),
        }
    }

    fn integer_arg(&mut self, arg: &OExpr, fname: &str) -> Result<Typed, TranslateError> {
        if let ExprKind::Literal(Literal::Integer(i)) = &arg.kind
            && *i < 0
        {
            return Err(self.invalid(
                arg.span,
                format!("`{fname}` needs a non-negative integer here"),
            ));
        }
        let t = self.expr(arg)?;
        match t.ty {
            Ty::Null => Ok(t),
            Ty::Edm(e) if e.is_integer() => Ok(t),
            other => Err(self.invalid(
                arg.span,
                format!("`{fname}` needs an integer here, found {}", other.name()),
            )),
        }
    }
}

/// A constant number of an expression (see `ExprTranslator::constant`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Const {
    Int(i64),
    Float(f64),
}

impl Const {
    fn as_f64(self) -> f64 {
        match self {
            Const::Int(i) => i as f64,
            Const::Float(f) => f,
        }
    }
}

impl std::fmt::Display for Const {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Const::Int(i) => write!(f, "{i}"),
            Const::Float(x) => write!(f, "{x:e}"),
        }
    }
}

/// The span of a path segment, when it has a name.
fn segment_span(seg: &PathSegment) -> Option<Span> {
    #[allow(unreachable_patterns)]
    match seg {
        PathSegment::Member { name, .. } => Some(name.span),
        PathSegment::TypeCast(ident) => Some(ident.span),
        PathSegment::Function { name, .. } => Some(name.span),
        _ => None,
    }
}

fn json_to_literal(v: &odata_parser::ast::JsonValue, span: Span) -> Option<OExpr> {
    use odata_parser::ast::JsonValue;
    #[allow(unreachable_patterns)]
    let lit = match v {
        JsonValue::Null => Literal::Null,
        JsonValue::Bool(b) => Literal::Boolean(*b),
        JsonValue::Number(n) => match n.parse::<i64>() {
            Ok(i) => Literal::Integer(i),
            Err(_) => Literal::Double(n.clone()),
        },
        JsonValue::String(s) => Literal::String(percent_encode_percent(s)),
        JsonValue::Array(_) | JsonValue::Object(_) => return None,
        _ => return None,
    };
    Some(OExpr {
        kind: ExprKind::Literal(lit),
        span,
    })
}

/// JSON strings are already decoded; protect their `%` from the decoding
/// applied to URL string literals.
fn percent_encode_percent(s: &str) -> String {
    s.replace('%', "%25")
}

/// Decodes `%XX` escapes of a URL text into a UTF-8 string; a `%` not
/// followed by two hex digits is an error, not text.
pub(crate) fn percent_decode(raw: &str) -> Result<String, String> {
    let decoded = decode_percent(raw)?;
    if decoded.contains('\0') {
        // PostgreSQL cannot store it in a text and refuses the statement.
        return Err("a string cannot contain the NUL character (U+0000, %00)".to_owned());
    }
    Ok(decoded)
}

fn decode_percent(raw: &str) -> Result<String, String> {
    if !raw.contains('%') {
        return Ok(raw.to_owned());
    }
    let bytes = raw.as_bytes();
    let valid = bytes.iter().enumerate().all(|(i, b)| {
        *b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    });
    if !valid {
        return Err(format!("invalid percent-encoding in `{raw}`"));
    }
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| format!("`{raw}` is not valid UTF-8 once decoded"))
}

/// Parses an OData DateTimeOffset (RFC 3339, seconds optional) into UTC.
pub(crate) fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.with_timezone(&Utc));
    }
    // `2026-11-29T10:00Z`: no seconds.
    let (date_time, offset) = split_offset(text)?;
    let with_seconds = format!("{date_time}:00{offset}");
    DateTime::parse_from_rfc3339(&with_seconds)
        .ok()
        .map(|dt| dt.with_timezone(&Utc))
}

fn split_offset(text: &str) -> Option<(&str, &str)> {
    if let Some(stripped) = text.strip_suffix(['Z', 'z']) {
        return Some((stripped, "Z"));
    }
    let idx = text.rfind(['+', '-'])?;
    if idx < 11 {
        return None;
    }
    Some((&text[..idx], &text[idx..]))
}

/// `op` with its operands swapped: `a lt b` is `b gt a`.
fn mirrored(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Le => BinaryOp::Ge,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::Ge => BinaryOp::Le,
        other => other,
    }
}

/// "Did you mean" among the properties and navigation properties of `entity`.
pub(crate) fn member_hint(name: &str, entity: &crate::schema::EntityType) -> String {
    crate::suggest::hint(
        name,
        entity
            .properties
            .iter()
            .map(|p| p.name.as_str())
            .chain(entity.navigations.iter().map(|n| n.name.as_str())),
    )
}
