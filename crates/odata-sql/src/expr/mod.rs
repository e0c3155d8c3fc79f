//! Typed translation of OData expressions (`$filter`, `$orderby` items,
//! lambda predicates) into sea-query expressions.
//!
//! Comparisons are two-valued as OData defines them (`null eq null` is true,
//! `null eq 'a'` and `null lt 5` are false, `null ne 'a'` is true); function
//! results on null arguments are null and `and`/`or`/`not` follow the same
//! three-valued logic as SQL.

use std::cell::Cell;

use chrono::{DateTime, Utc};
use odata_parser::ast::{AliasDef, Expr as OExpr, ExprKind, Ident, Span};
use sea_query::{Alias, Expr, Value};

use crate::dialect::Backend;
use crate::error::TranslateError;
use crate::schema::{EdmType, EntityType, Schema};

mod binary_op;
mod function;
mod identifier;
mod value;

pub(crate) use function::UNSUPPORTED_FUNCTIONS;
pub(crate) use identifier::{member_hint, member_segment};
pub(crate) use value::{parse_datetime, percent_decode};

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
}
