//! Unfiltered counts from the per-tenant row counters
//! (`storage::counters`) instead of `COUNT(*)` over the tenant's rows.

use odata_sql::ReadPlan;
use sea_query::SelectStatement;

use super::{EntityKind, ReadRequest};
use crate::storage::counters;
use crate::tenancy::TenantScope;

/// The counter row of an entity set (the storage layer knows no
/// [`EntityKind`]).
impl From<EntityKind> for counters::Counted {
    fn from(kind: EntityKind) -> Self {
        use counters::Counted;
        match kind {
            EntityKind::User => Counted::Users,
            EntityKind::Role => Counted::Roles,
            EntityKind::Group => Counted::Groups,
        }
    }
}

/// Whether the counter answers the `$count` of a read: only when nothing
/// narrows the rows (no `$filter`, no `$search`, no `$apply`, no condition
/// of the route such as the feed's navigation from a parent). `$top`,
/// `$skip`, `$skiptoken`, `$orderby`, `$select`, `$expand` and `$compute`
/// do not change the count.
pub(crate) fn counter_answers(req: &ReadRequest<'_>) -> bool {
    let options = req.options;
    req.conditions.is_empty()
        && options.filter.is_none()
        && options.search.is_none()
        && options.apply.is_none()
}

/// The statement that counts what `req` addresses: the tenant's counter
/// when it answers, else `COUNT(*)` of the plan. Either yields the column
/// `count` (no row: 0).
pub(crate) fn count_statement(
    req: &ReadRequest<'_>,
    scope: &TenantScope,
    plan: &ReadPlan,
) -> SelectStatement {
    if counter_answers(req) {
        counters::count_statement(scope, req.kind)
    } else {
        plan.count_statement()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(query: &str) -> bool {
        let options = crate::odata::query_string::parse(query).expect("valid query");
        counter_answers(&ReadRequest::new(crate::odata::EntityKind::User, &options))
    }

    #[test]
    fn only_unnarrowed_lists_are_counted_from_the_counter() {
        assert!(answers("$count=true"));
        assert!(answers("$count=true&$top=0"));
        assert!(answers(
            "$count=true&$top=5&$skip=3&$orderby=name desc&$select=name&$expand=roles"
        ));
        assert!(answers("$inlinecount=allpages"));
        assert!(!answers("$count=true&$filter=status eq 1"));
        assert!(!answers("$count=true&$filter=true"));
        assert!(!answers("$count=true&$search=ann"));
        assert!(!answers(
            "$count=true&$apply=filter(status eq 1)/aggregate($count as n)"
        ));
    }

    #[test]
    fn a_route_condition_narrows_the_count() {
        let options = crate::odata::query_string::parse("$count=true").expect("valid query");
        let mut req = ReadRequest::new(crate::odata::EntityKind::Role, &options);
        assert!(counter_answers(&req));
        let condition = odata_parser::parse_filter("users/any(p:p/id eq 1)", &Default::default())
            .expect("condition");
        req.conditions.push(condition);
        assert!(!counter_answers(&req));
    }
}
