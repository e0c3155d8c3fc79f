//! What the translator implements, stated by the translator itself.
//!
//! A service that describes its query capabilities (OData's
//! `Capabilities` and `Aggregation` vocabularies in `$metadata`) reads them
//! here instead of finding them out by translating sample queries or by
//! asking a database. The lists are the translator's own: the functions
//! come from the same tables the function translator dispatches on, and a
//! test (`capabilities_agree_with_the_translator` in `tests/translate.rs`)
//! translates a sample of every entry, and of every OData name left out, on
//! every backend.
//!
//! ```
//! use odata_sql::{Backend, capabilities::capabilities};
//! let caps = capabilities(Backend::Postgres);
//! assert!(caps.functions.contains(&"contains"));
//! assert!(caps.unsupported_functions.contains(&"matchespattern"));
//! assert!(caps.apply_transformations.contains(&"groupby"));
//! assert!(!caps.apply_transformations.contains(&"concat"));
//! ```

use crate::dialect::Backend;
use crate::schema::{EntityType, Property, PropertySource};

/// The query features the translator implements on one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Canonical functions usable in `$filter`, `$orderby` and `$compute`
    /// (lower case, as OData spells them), in the order of the OData URL
    /// conventions.
    pub functions: &'static [&'static str],
    /// Canonical functions OData defines that the translator recognises and
    /// refuses as not supported ([`crate::TranslateError::Unsupported`]).
    pub unsupported_functions: &'static [&'static str],
    /// `$apply` transformations (`Aggregation.ApplySupported/Transformations`
    /// members): leading `filter`, `search` and `identity` steps, one
    /// `aggregate` or `groupby`, then `orderby`, `top` and `skip`.
    pub apply_transformations: &'static [&'static str],
    /// `$apply` transformations OData defines that the translator refuses
    /// as not supported.
    pub unsupported_apply_transformations: &'static [&'static str],
    /// `$search` expression kinds (`Capabilities.SearchExpressions`
    /// members: `AND`, `OR`, `NOT`, `phrase`, `group`).
    pub search_expressions: &'static [&'static str],
    /// The `$compute` option.
    pub compute: bool,
    /// `any` and `all` over collection-valued navigations.
    pub lambda_operators: &'static [&'static str],
    /// `navigation/$count` in expressions (without nested options).
    pub navigation_count: bool,
}

/// The canonical functions the translator implements, in the order of the
/// OData URL conventions (string, date and time, arithmetic functions): the
/// order a service lists them in (`Capabilities.FilterFunctions`). The same
/// names as the function translator's table ([`crate::suggest::FUNCTIONS`],
/// alphabetical), which a test checks.
pub(crate) const FUNCTIONS: &[&str] = &[
    "contains",
    "startswith",
    "endswith",
    "length",
    "indexof",
    "substring",
    "tolower",
    "toupper",
    "trim",
    "concat",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "date",
    "now",
    "round",
    "floor",
    "ceiling",
];

/// The translator's capabilities on `backend` (today the same on every
/// backend: what differs between them is how a feature is written in SQL,
/// not whether it is there).
pub fn capabilities(backend: Backend) -> Capabilities {
    match backend {
        Backend::Sqlite | Backend::Postgres | Backend::MySql => Capabilities {
            functions: FUNCTIONS,
            unsupported_functions: crate::expr::UNSUPPORTED_FUNCTIONS,
            apply_transformations: &[
                "aggregate",
                "groupby",
                "filter",
                "orderby",
                "top",
                "skip",
                "search",
                "identity",
            ],
            unsupported_apply_transformations: &["compute", "concat", "expand"],
            search_expressions: &["AND", "OR", "NOT", "phrase", "group"],
            compute: true,
            lambda_operators: &["any", "all"],
            navigation_count: true,
        },
    }
}

/// Whether `$orderby` can sort on `property`: not on a property the
/// service computes ([`PropertySource::Computed`]), whose value SQL does
/// not have.
///
/// ```
/// use odata_sql::capabilities::sortable;
/// use odata_sql::schema::{EdmType, Property, PropertySource};
/// let mut p = Property {
///     name: "name".into(),
///     edm_type: EdmType::String,
///     nullable: true,
///     max_length: None,
///     source: PropertySource::Column("name".into()),
///     description: None,
/// };
/// assert!(sortable(&p));
/// p.source = PropertySource::Computed { columns: vec![], non_null_when: None };
/// assert!(!sortable(&p));
/// ```
pub fn sortable(property: &Property) -> bool {
    match &property.source {
        PropertySource::Column(_) | PropertySource::Constant(_) => true,
        PropertySource::Computed { .. } => false,
    }
}

/// Whether `$filter` can use `property` at all: a computed property only
/// with `eq null` / `ne null`, and only when the schema says when it has a
/// value (`non_null_when`).
pub fn filterable(property: &Property) -> bool {
    match &property.source {
        PropertySource::Column(_) | PropertySource::Constant(_) => true,
        PropertySource::Computed { non_null_when, .. } => non_null_when.is_some(),
    }
}

/// Whether `$search` works on `entity`: it names at least one searchable
/// property stored in a column.
pub fn searchable(entity: &EntityType) -> bool {
    entity
        .searchable
        .iter()
        .filter_map(|name| entity.property(name))
        .any(|p| p.column_name().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The listed functions are exactly the function translator's table.
    #[test]
    fn functions_are_the_translators_table() {
        let mut listed = FUNCTIONS.to_vec();
        listed.sort_unstable();
        assert_eq!(listed, crate::suggest::FUNCTIONS);
    }
}
