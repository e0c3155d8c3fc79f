//! Unary and binary operators, comparisons and `in`.

use chrono::{DateTime, SubsecRound, Utc};
use odata_parser::ast::{
    Binary, BinaryOp, Expr as OExpr, ExprKind, In, JsonValue, Literal, PathSegment, Span, Unary,
    UnaryOp,
};
use sea_query::{Expr, ExprTrait};

use super::value::{json_to_literal, parse_datetime, percent_decode};
use super::{Collation, ExprTranslator, MAX_ALIAS_DEPTH, Ty, Typed};
use crate::checked::Op;
use crate::dialect::Backend;
use crate::error::TranslateError;
use crate::schema::{EdmType, Presence, Property, PropertySource};

impl<'a> ExprTranslator<'_, 'a> {
    pub(super) fn unary(&mut self, unary: &Unary, span: Span) -> Result<Typed, TranslateError> {
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

    pub(super) fn binary(&mut self, binary: &Binary, span: Span) -> Result<Typed, TranslateError> {
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
    pub(super) fn computed_null_test(
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
    pub(super) fn is_null_literal(&self, e: &OExpr, depth: usize) -> bool {
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

    pub(super) fn arithmetic(
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

    pub(super) fn check_comparable(
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
    pub(super) fn sub_microsecond_comparison(
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

    pub(super) fn plain_eq(&self, l: Expr, r: Expr, exact_strings: bool) -> Expr {
        if exact_strings {
            self.ctx.backend.string_eq(l, r)
        } else {
            l.eq(r)
        }
    }

    pub(super) fn plain_ne(&self, l: Expr, r: Expr, exact_strings: bool) -> Expr {
        let b = self.ctx.backend;
        if exact_strings && b == Backend::MySql {
            b.binary_string(l).ne(b.binary_string(r))
        } else {
            l.ne(r)
        }
    }

    pub(super) fn in_list(&mut self, in_: &In, span: Span) -> Result<Typed, TranslateError> {
        let In { expr, list } = in_;
        let value = self.expr(expr)?;
        let items: Vec<OExpr> = match &list.kind {
            ExprKind::List(items) => items.clone(),
            ExprKind::Json(JsonValue::Array(values)) => values
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
            ExprKind::Json(
                JsonValue::Null
                | JsonValue::Bool(_)
                | JsonValue::Number(_)
                | JsonValue::String(_)
                | JsonValue::Object(_)
                | JsonValue::Expr(_),
            )
            | ExprKind::Literal(_)
            | ExprKind::Path(_)
            | ExprKind::Lambda(_)
            | ExprKind::PathCount(_)
            | ExprKind::Call(_)
            | ExprKind::Binary(_)
            | ExprKind::Unary(_)
            | ExprKind::In(_) => {
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
