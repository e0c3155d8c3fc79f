//! Unfiltered counts from the per-tenant row counters
//! (`storage::counters`) instead of `COUNT(*)` over the tenant's rows.

use odata_parser::ast::QueryOptions;
use sea_orm::ConnectionTrait;

use super::{EntityKind, QueryError};
use crate::storage::counters;
use crate::tenancy::TenantScope;

/// Whether the counter answers the `$count` of a list with these options:
/// only when nothing narrows the rows (no `$filter`, which also carries the
/// feed's navigation conditions, no `$search`, no `$apply`). `$top`,
/// `$skip`, `$skiptoken`, `$orderby`, `$select`, `$expand` and `$compute`
/// do not change the count.
pub(crate) fn counter_answers(options: &QueryOptions) -> bool {
    options.filter.is_none() && options.search.is_none() && options.apply.is_none()
}

/// The number of `kind` records in the tenant, from its counter.
pub(crate) async fn count_from_counter(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    kind: EntityKind,
) -> Result<u64, QueryError> {
    Ok(counters::count(db, scope, kind).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(query: &str) -> bool {
        let options = crate::odata::query_string::parse(query).expect("valid query");
        counter_answers(&options)
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
}
