//! How far a change-tracked `$filter` reads from the record: the change
//! log is complete for the records linked to it (one navigation step), so
//! a filter that reads further answers 501.

use odata_parser::ast::{Expr, ExprKind, MemberPath, PathRoot, PathSegment, QueryOptions};
use odata_sql::schema::Schema;

use crate::odata::schema::identity_schema;

/// How many navigation steps the `$filter` (with the parameter aliases it
/// may use) reads away from the record: 0 for its own properties, 1 for
/// the records linked to it (a lambda over `roles`, `groups` or `users`
/// reading their properties, `/$count`), more beyond (`roles/any(r:
/// r/users/any(…))`), `usize::MAX` for what this does not follow
/// (`$root`, a function segment). The change log is complete for one
/// step (module notes); more is refused.
pub(super) fn steps(options: &QueryOptions) -> usize {
    let names = navigation_names();
    options
        .filter
        .iter()
        .chain(options.aliases.iter().map(|a| &a.value))
        .map(|e| expr_steps(e, &names))
        .max()
        .unwrap_or(0)
}

/// The names of every navigation property of the schema.
fn navigation_names() -> Vec<String> {
    identity_schema()
        .entity_sets()
        .iter()
        .flat_map(|s| s.entity_type.navigations.iter().map(|n| n.name.clone()))
        .collect()
}

/// [`steps`] of one expression.
fn expr_steps(expr: &Expr, names: &[String]) -> usize {
    let many = |items: &mut dyn Iterator<Item = &Expr>| {
        items.map(|e| expr_steps(e, names)).max().unwrap_or(0)
    };
    match &expr.kind {
        ExprKind::Path(p) => path_steps(p, names),
        ExprKind::Lambda(l) => {
            let inner = l.predicate.as_deref().map_or(0, |e| expr_steps(e, names));
            path_steps(&l.collection, names).saturating_add(inner)
        }
        ExprKind::PathCount(c) => {
            let inner = c.filter.as_deref().map_or(0, |e| expr_steps(e, names));
            path_steps(&c.collection, names).saturating_add(inner)
        }
        ExprKind::Call(c) => many(&mut c.args.iter()),
        ExprKind::Binary(b) => many(&mut [&*b.left, &*b.right].into_iter()),
        ExprKind::Unary(u) => expr_steps(&u.operand, names),
        ExprKind::In(i) => many(&mut [&*i.expr, &*i.list].into_iter()),
        ExprKind::List(items) => many(&mut items.iter()),
        ExprKind::Literal(_) | ExprKind::Alias(_) | ExprKind::Json(_) => 0,
    }
}

/// The navigation segments of a path (a name of a navigation property
/// counts as one wherever it stands, so a range variable named like one
/// is counted too: refused rather than missed).
fn path_steps(path: &MemberPath, names: &[String]) -> usize {
    if path.root == PathRoot::Root {
        return usize::MAX;
    }
    let mut steps: usize = 0;
    for segment in &path.segments {
        let add = match segment {
            PathSegment::Member { name, key: None } => {
                usize::from(names.iter().any(|n| n.eq_ignore_ascii_case(&name.name)))
            }
            PathSegment::Filter { filter, key: None } => expr_steps(filter, names),
            PathSegment::TypeCast(_) => 0,
            PathSegment::Member { key: Some(_), .. }
            | PathSegment::Filter { key: Some(_), .. }
            | PathSegment::Function { .. }
            | PathSegment::Aggregate(_) => usize::MAX,
        };
        steps = steps.saturating_add(add);
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps_of(query: &str) -> usize {
        steps(&crate::odata::query_string::parse(query).expect("parses"))
    }

    #[test]
    fn navigation_steps_in_filters_are_counted() {
        let one = [
            "$filter=roles/any(r:r/roleKey eq 'a')",
            "$filter=roles/$count gt 1",
            "$filter=name eq 'x' and not (groups/all(g:g/name eq 'y'))",
            "$filter=users/any(u:u/name eq $it/description)",
            "$filter=users/any()",
            "$filter=roles/$count($filter=isDefault) eq 0",
            "$filter=@a&@a=roles/any(r:r/isDefault)",
        ];
        for query in one {
            assert_eq!(steps_of(query), 1, "{query}");
        }
        assert_eq!(steps_of("$filter=name eq 'x' and contains(email,'/')"), 0);
        assert_eq!(steps_of("$filter=status in (1,2) or isActive"), 0);
        assert_eq!(steps_of("$select=name"), 0);
        let further = [
            "$filter=roles/any(r:r/users/any(u:u/name eq 'x'))",
            "$filter=roles/any(r:r/users/$count gt 2)",
            "$filter=users/any(u:u/groups/any())",
            "$filter=@a&@a=users/any(u:u/roles/$count gt 0)",
            // A range variable named like a navigation property: refused
            // rather than missed.
            "$filter=roles/any(users:users/roleKey eq 'a')",
        ];
        for query in further {
            assert!(steps_of(query) > 1, "{query}");
        }
    }
}
