//! `$search`: the condition over an entity type's searchable properties.

use odata_parser::ast::{Search, SearchExpr};
use sea_query::{Expr, ExprTrait, Func};

use crate::dialect::Backend;
use crate::error::TranslateError;
use crate::expr::{Scope, percent_decode};

/// `$search`: every term must occur (case-insensitively, as a substring) in
/// at least one searchable property.
pub(crate) fn search_condition(
    backend: Backend,
    root: &Scope<'_>,
    search: &Search,
) -> Result<Expr, TranslateError> {
    let Search { expr, span } = search;
    let columns: Vec<String> = root
        .entity
        .searchable
        .iter()
        .filter_map(|name| root.entity.property(name))
        .filter_map(|p| p.column_name().map(str::to_owned))
        .collect();
    if columns.is_empty() {
        return Err(TranslateError::unsupported(
            "$search",
            *span,
            format!("{} has no searchable properties", root.entity.name),
        ));
    }
    search_expr(backend, root, &columns, expr)
}

pub(super) fn search_expr(
    backend: Backend,
    root: &Scope<'_>,
    columns: &[String],
    expr: &SearchExpr,
) -> Result<Expr, TranslateError> {
    Ok(match expr {
        SearchExpr::Term(text, span) | SearchExpr::Phrase(text, span) => {
            let text = crate::case::lower(
                &percent_decode(text).map_err(|m| TranslateError::invalid("$search", *span, m))?,
            );
            let mut any: Option<Expr> = None;
            for c in columns {
                let value: Expr = Func::coalesce([root.column(c), Expr::val(String::new())]).into();
                let hit = backend.contains(backend.lower(value), Expr::val(text.clone()));
                any = Some(match any {
                    None => hit,
                    Some(a) => a.or(hit),
                });
            }
            any.unwrap_or_else(|| Expr::val(false))
        }
        SearchExpr::Not(inner, _) => search_expr(backend, root, columns, inner)?.not(),
        SearchExpr::And(l, r, _) => {
            search_expr(backend, root, columns, l)?.and(search_expr(backend, root, columns, r)?)
        }
        SearchExpr::Or(l, r, _) => {
            search_expr(backend, root, columns, l)?.or(search_expr(backend, root, columns, r)?)
        }
    })
}
