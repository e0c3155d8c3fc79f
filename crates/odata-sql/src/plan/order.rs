//! `$orderby`: sort keys, their SQL order, and the seek condition of keyset paging.

use odata_parser::ast::{OrderBy, OrderByItem, SortDirection};
use sea_query::{Expr, ExprTrait, NullOrdering, Order, SelectStatement, Value};

use super::OrderKey;
use crate::dialect::Backend;
use crate::error::TranslateError;
use crate::expr::{Collation, ExprContext, ExprTranslator, Scope, Ty};
use crate::schema::EdmType;

/// The form an expression is sorted and compared in: binary for strings,
/// except for a column in a code-point collation (`code_point`), which sorts
/// as OData wants by itself (and so can be read in the order of its index),
/// as do the literals compared with it.
pub(crate) fn sort_form(backend: Backend, e: Expr, ty: EdmType, code_point: bool) -> Expr {
    if ty == EdmType::String && !code_point {
        backend.binary_string(e)
    } else {
        e
    }
}

/// `ORDER BY e` with nulls first ascending and last descending.
pub(crate) fn order_by(
    backend: Backend,
    q: &mut SelectStatement,
    e: Expr,
    descending: bool,
    nullable: bool,
) {
    let order = if descending { Order::Desc } else { Order::Asc };
    if nullable && backend.needs_null_ordering() {
        let nulls = if descending {
            NullOrdering::Last
        } else {
            NullOrdering::First
        };
        q.order_by_expr_with_nulls(e, order, nulls);
    } else {
        q.order_by_expr(e, order);
    }
}

/// Rows strictly after the position `after` in the order `keys` (nulls
/// count as the smallest value).
pub(super) fn seek_condition(backend: Backend, keys: &[OrderKey], after: &[Value]) -> Expr {
    let mut any: Option<Expr> = None;
    for i in 0..keys.len() {
        let mut term: Option<Expr> = None;
        let mut push = |e: Expr| {
            term = Some(match term.take() {
                None => e,
                Some(t) => t.and(e),
            });
        };
        for j in 0..i {
            let k = &keys[j];
            let eq = if is_null(&after[j]) {
                k.value.clone().is_null()
            } else {
                sort_form(backend, k.value.clone(), k.edm_type, k.code_point).eq(sort_form(
                    backend,
                    Expr::val(after[j].clone()),
                    k.edm_type,
                    k.code_point,
                ))
            };
            push(eq);
        }
        let k = &keys[i];
        let v = &after[i];
        let after_i = match (k.descending, is_null(v)) {
            (false, true) => Some(k.value.clone().is_not_null()),
            (false, false) => Some(
                sort_form(backend, k.value.clone(), k.edm_type, k.code_point).gt(sort_form(
                    backend,
                    Expr::val(v.clone()),
                    k.edm_type,
                    k.code_point,
                )),
            ),
            (true, true) => None,
            (true, false) => {
                let lt = sort_form(backend, k.value.clone(), k.edm_type, k.code_point).lt(
                    sort_form(backend, Expr::val(v.clone()), k.edm_type, k.code_point),
                );
                Some(if k.nullable {
                    lt.or(k.value.clone().is_null())
                } else {
                    lt
                })
            }
        };
        let Some(after_i) = after_i else { continue };
        push(after_i);
        if let Some(term) = term {
            any = Some(match any {
                None => term,
                Some(a) => a.or(term),
            });
        }
    }
    any.unwrap_or_else(|| Expr::val(false))
}

pub(super) fn is_null(v: &Value) -> bool {
    match v {
        Value::Bool(x) => x.is_none(),
        Value::TinyInt(x) => x.is_none(),
        Value::SmallInt(x) => x.is_none(),
        Value::Int(x) => x.is_none(),
        Value::BigInt(x) => x.is_none(),
        Value::TinyUnsigned(x) => x.is_none(),
        Value::SmallUnsigned(x) => x.is_none(),
        Value::Unsigned(x) => x.is_none(),
        Value::BigUnsigned(x) => x.is_none(),
        Value::Float(x) => x.is_none(),
        Value::Double(x) => x.is_none(),
        Value::String(x) => x.is_none(),
        Value::Char(x) => x.is_none(),
        Value::Bytes(x) => x.is_none(),
        Value::Json(x) => x.is_none(),
        Value::ChronoDate(x) => x.is_none(),
        Value::ChronoTime(x) => x.is_none(),
        Value::ChronoDateTime(x) => x.is_none(),
        Value::ChronoDateTimeUtc(x) => x.is_none(),
        Value::ChronoDateTimeLocal(x) => x.is_none(),
        Value::ChronoDateTimeWithTimeZone(x) => x.is_none(),
        Value::Uuid(x) => x.is_none(),
        _ => false,
    }
}

pub(super) fn order_keys(
    ctx: &ExprContext<'_>,
    root: &Scope<'_>,
    orderby: &OrderBy,
) -> Result<Vec<OrderKey>, TranslateError> {
    let OrderBy { items, span: _ } = orderby;
    let mut keys = Vec::with_capacity(items.len() + 1);
    for item in items {
        let OrderByItem {
            expr,
            direction,
            span: _,
        } = item;
        let mut t = ExprTranslator::new(ctx, "$orderby", root.clone());
        let typed = t.expr(expr)?;
        let Ty::Edm(edm_type) = typed.ty else {
            // Ordering by the null literal orders nothing.
            continue;
        };
        keys.push(OrderKey {
            edm_type,
            descending: matches!(direction, Some(SortDirection::Desc)),
            nullable: typed.nullable,
            value: typed.expr,
            code_point: typed.collation == Collation::CodePoint,
        });
    }
    Ok(keys)
}

pub(super) fn with_key(
    ctx: &ExprContext<'_>,
    root: &Scope<'_>,
    mut keys: Vec<OrderKey>,
) -> Vec<OrderKey> {
    if let Some(key_col) = root.key_column() {
        let key = root
            .entity
            .key
            .first()
            .and_then(|k| root.entity.property(k));
        let edm_type = key.map_or(EdmType::Guid, |p| p.edm_type);
        let code_point = edm_type == EdmType::String
            && key.is_some_and(|p| ctx.schema.code_point_collation(ctx.backend, root.entity, p));
        keys.push(OrderKey {
            edm_type,
            descending: false,
            nullable: false,
            value: root.column(key_col),
            code_point,
        });
    }
    keys
}
