//! What the read path supports, as the translator states it.
//!
//! `$metadata` must say truthfully what the feed can do. The capability
//! annotations come from the translator's own statement of what it
//! translates on the database's backend ([`odata_sql::capabilities`]: its
//! functions, `$apply` transformations and `$search` expressions, and per
//! property and entity type what can be sorted, filtered and searched),
//! plus the limits the service sets itself: `MaxLevels` is the deepest
//! `$expand` nesting (at most `APP_EXPAND_MAX_DEPTH`) that the translator
//! plans within the cost budget (`APP_QUERY_COST_BUDGET`; a nested
//! expansion of a role's users costs their fan-out, see
//! [`odata_sql::cost`]). No database is asked: odata-sql's
//! `tests/capabilities.rs` translates a query using every capability stated
//! (and checks that what is not stated is refused).

use odata_sql::Schema as _;
use odata_sql::capabilities::{self as translator, filterable, searchable, sortable};
use odata_sql::{Backend, CostBudget, TenantFilter, Translator};

use crate::odata::schema::identity_schema;

/// `$search` expression kinds (`Capabilities.SearchExpressions` members),
/// in the order `UnsupportedExpressions` lists them.
const SEARCH_EXPRESSIONS: &[&str] = &["AND", "OR", "NOT", "phrase", "group"];

/// What one entity set supports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SetCapabilities {
    /// `$count=true` works.
    pub countable: bool,
    /// `$top` works.
    pub top: bool,
    /// `$skip` works.
    pub skip: bool,
    /// `$filter` works at all.
    pub filterable: bool,
    /// Properties `$filter` refuses.
    pub non_filterable: Vec<String>,
    /// `$orderby` works at all.
    pub sortable: bool,
    /// Properties `$orderby` refuses.
    pub non_sortable: Vec<String>,
    /// `$expand` works for at least one navigation.
    pub expandable: bool,
    /// Navigation properties `$expand` refuses.
    pub non_expandable: Vec<String>,
    /// Navigation properties whose `/$count` cannot be used in `$filter`.
    pub non_countable_navigations: Vec<String>,
    /// `$search` works.
    pub searchable: bool,
    /// `$search` expression kinds that do not work.
    pub unsupported_search: Vec<&'static str>,
}

/// What the feed supports, as `$metadata` reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Capabilities {
    /// Per entity set name.
    pub sets: Vec<(String, SetCapabilities)>,
    /// Supported canonical filter functions.
    pub filter_functions: Vec<&'static str>,
    /// The deepest `$expand` nesting that works (0: none).
    pub max_expand_levels: u32,
    /// Supported `$apply` transformations (empty: `$apply` is not supported).
    pub apply_transformations: Vec<&'static str>,
    /// `$compute` works.
    pub compute: bool,
    /// Fractional-second digits timestamps can have (`None`: not known,
    /// the `Precision` facet is left out): microseconds on every backend,
    /// as the service truncates every timestamp it writes to them
    /// (`domain::stored`).
    pub timestamp_precision: Option<u32>,
}

impl Capabilities {
    /// The capabilities of one entity set.
    pub fn set(&self, name: &str) -> Option<&SetCapabilities> {
        self.sets.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }
}

/// The deepest `$expand` nesting from `Users` (following each entity type's
/// first navigation: users' roles, their users, ...; every nesting of this
/// model alternates a bounded and an unbounded navigation, so all cost the
/// same) that the translator plans, at most `expand_max_depth`, within
/// `budget`.
fn max_expand_levels(backend: Backend, expand_max_depth: usize, budget: CostBudget) -> u32 {
    let schema = identity_schema();
    let translator = Translator::new(schema, backend).with_max_expand_depth(expand_max_depth);
    let tenant = || TenantFilter {
        value: uuid::Uuid::nil().into(),
    };
    let (mut set, mut chain, mut levels) = ("Users", Vec::new(), 0);
    while chain.len() < expand_max_depth {
        let Some(nav) = schema
            .entity_set(set)
            .and_then(|s| s.entity_type.navigations.first())
        else {
            break;
        };
        chain.push(nav.name.as_str());
        set = &nav.target_set;
        let expand = chain
            .iter()
            .rev()
            .fold(String::new(), |inner, nav| match inner.is_empty() {
                true => (*nav).to_owned(),
                false => format!("{nav}($expand={inner})"),
            });
        let plans = crate::odata::query_string::parse(&format!("$expand={expand}"))
            .ok()
            .filter(|options| odata_sql::cost::check(schema, "Users", options, budget).is_ok())
            .is_some_and(|options| translator.plan("Users", &options, tenant()).is_ok());
        if !plans {
            break;
        }
        levels += 1;
    }
    levels
}

/// What the feed supports on `backend` with `$expand` nested at most
/// `expand_max_depth` levels and queries costing at most `budget`, from the
/// translator's own statement ([`odata_sql::capabilities`]) and the
/// identity schema.
pub fn for_backend(backend: Backend, expand_max_depth: usize, budget: CostBudget) -> Capabilities {
    let stated = translator::capabilities(backend);
    let sets = identity_schema()
        .entity_sets()
        .iter()
        .map(|set| {
            let entity = &set.entity_type;
            let names = |keep: fn(&odata_sql::schema::Property) -> bool| -> Vec<String> {
                entity
                    .properties
                    .iter()
                    .filter(|p| !keep(p))
                    .map(|p| p.name.clone())
                    .collect()
            };
            let every_navigation = || entity.navigations.iter().map(|n| n.name.clone()).collect();
            let is_searchable = searchable(entity);
            let caps = SetCapabilities {
                // The translator plans `$count`, `$top` and `$skip` on
                // every entity set.
                countable: true,
                top: true,
                skip: true,
                filterable: entity.properties.iter().any(filterable),
                non_filterable: names(filterable),
                sortable: entity.properties.iter().any(sortable),
                non_sortable: names(sortable),
                // Every navigation of the schema expands.
                expandable: !entity.navigations.is_empty(),
                non_expandable: Vec::new(),
                non_countable_navigations: if stated.navigation_count {
                    Vec::new()
                } else {
                    every_navigation()
                },
                searchable: is_searchable,
                unsupported_search: if is_searchable {
                    SEARCH_EXPRESSIONS
                        .iter()
                        .copied()
                        .filter(|kind| !stated.search_expressions.contains(kind))
                        .collect()
                } else {
                    Vec::new()
                },
            };
            (set.name.clone(), caps)
        })
        .collect();
    Capabilities {
        sets,
        filter_functions: stated.functions.to_vec(),
        max_expand_levels: max_expand_levels(backend, expand_max_depth, budget),
        apply_transformations: stated.apply_transformations.to_vec(),
        compute: stated.compute,
        timestamp_precision: Some(u32::from(crate::domain::TIME_PRECISION)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_translator_states_what_metadata_declares() {
        for backend in Backend::ALL {
            // The default budget refuses a role's users' groups (cost 546).
            let caps = for_backend(backend, 3, CostBudget::default());
            assert_eq!(caps.max_expand_levels, 2);
            assert_eq!(
                for_backend(backend, 1, CostBudget::default()).max_expand_levels,
                1
            );
            assert_eq!(for_backend(backend, 5, CostBudget(0)).max_expand_levels, 5);
            assert!(caps.filter_functions.contains(&"contains"));
            assert!(!caps.filter_functions.contains(&"matchespattern"));
            assert!(caps.apply_transformations.contains(&"groupby"));
            let users = caps.set("Users").expect("Users");
            // `picture` is computed by the service: `eq null` only, no sort.
            assert!(users.filterable && users.non_filterable.is_empty());
            assert_eq!(users.non_sortable, ["picture"]);
            assert!(users.searchable && users.unsupported_search.is_empty());
            for set in ["Roles", "Groups"] {
                let c = caps.set(set).expect(set);
                assert!(c.non_sortable.is_empty() && c.expandable, "{set}");
            }
        }
    }
}
