//! `$metadata`: the CSDL document, as XML (always, whatever `Accept` says)
//! or as JSON CSDL (`$format=json` only), generated from the one schema
//! description the translator uses ([`identity_schema`]) plus the
//! [`Capabilities`] the translator states.
//!
//! Both serializations walk the same schema and the same annotation values
//! ([`Annotation`]), so they cannot disagree.

use std::io;

use odata_sql::Schema;
use odata_sql::schema::{EdmType, EntitySet, Multiplicity, Property, PropertySource};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use serde_json::{Map, Value as Json, json};

use super::capabilities::{Capabilities, SetCapabilities};
use super::prefer::MAX_PAGE_SIZE;
use super::write_body::settable;

mod json;
mod xml;

pub use json::csdl_json;
pub use xml::csdl_xml;

/// The entity container's name.
pub const CONTAINER: &str = "Container";

const VOCABULARIES: &str = "https://oasis-tcs.github.io/odata-vocabularies/vocabularies";

/// A vocabulary the document references, with the alias terms use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Vocabulary {
    namespace: &'static str,
    alias: &'static str,
}

const CORE: Vocabulary = Vocabulary {
    namespace: "Org.OData.Core.V1",
    alias: "Core",
};
const CAPABILITIES: Vocabulary = Vocabulary {
    namespace: "Org.OData.Capabilities.V1",
    alias: "Capabilities",
};
const VALIDATION: Vocabulary = Vocabulary {
    namespace: "Org.OData.Validation.V1",
    alias: "Validation",
};
const AGGREGATION: Vocabulary = Vocabulary {
    namespace: "Org.OData.Aggregation.V1",
    alias: "Aggregation",
};

/// An annotation value (the subset of CSDL constant expressions used here).
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Bool(bool),
    Int(i64),
    Str(String),
    /// An enumeration value: the alias-qualified type and its members
    /// (several for a flags type; none is not allowed).
    Enum(&'static str, Vec<&'static str>),
    PropertyPath(String),
    NavigationPropertyPath(String),
    /// Property values and annotations of the record.
    Record(Vec<(&'static str, Value)>, Vec<Annotation>),
    Collection(Vec<Value>),
}

/// `Term` (alias-qualified, e.g. `Core.Description`) and its value.
#[derive(Debug, Clone, PartialEq)]
struct Annotation {
    term: &'static str,
    value: Value,
}

fn ann(term: &'static str, value: Value) -> Annotation {
    Annotation { term, value }
}

fn record(fields: Vec<(&'static str, Value)>) -> Value {
    Value::Record(fields, Vec::new())
}

/// Reads `"1 Active, 2 Inactive, ..."` (how the schema documents integer
/// enumerations) as its values and names; `None` for any other text.
fn enumerated_values(description: &str) -> Option<Vec<(i64, &str)>> {
    let mut out = Vec::new();
    for item in description.split(',') {
        let (n, name) = item.trim().split_once(' ')?;
        let n = n.parse().ok()?;
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        out.push((n, name));
    }
    (out.len() > 1).then_some(out)
}

/// The annotations of property `p`; `writable`: a client may write it on
/// the feed (else it is `Core.Computed`, as the service computes it).
fn property_annotations(p: &Property, writable: bool) -> Vec<Annotation> {
    let mut out = Vec::new();
    if let Some(description) = &p.description {
        out.push(ann("Core.Description", Value::Str(description.clone())));
        if p.edm_type.is_integer()
            && let Some(values) = enumerated_values(description)
        {
            let records = values
                .into_iter()
                .map(|(n, name)| {
                    Value::Record(
                        vec![("Value", Value::Int(n))],
                        vec![ann("Core.SymbolicName", Value::Str(name.to_owned()))],
                    )
                })
                .collect();
            out.push(ann("Validation.AllowedValues", Value::Collection(records)));
        }
    }
    if matches!(p.source, PropertySource::Computed { .. }) || !writable {
        out.push(ann("Core.Computed", Value::Bool(true)));
    }
    out
}

fn paths(names: &[String], nav: bool) -> Value {
    Value::Collection(
        names
            .iter()
            .map(|n| {
                if nav {
                    Value::NavigationPropertyPath(n.clone())
                } else {
                    Value::PropertyPath(n.clone())
                }
            })
            .collect(),
    )
}

/// `Core.OptimisticConcurrency` of an entity set: the property whose value
/// makes the ETag of its entities (`version`).
fn concurrency_annotations(set: &EntitySet) -> Vec<Annotation> {
    set.entity_type
        .concurrency
        .iter()
        .map(|p| {
            ann(
                "Core.OptimisticConcurrency",
                Value::Collection(vec![Value::PropertyPath(p.clone())]),
            )
        })
        .collect()
}

fn set_annotations(set: &EntitySet, c: &SetCapabilities, max_levels: u32) -> Vec<Annotation> {
    let mut search = record(vec![("Searchable", Value::Bool(c.searchable))]);
    if c.searchable
        && let Value::Record(fields, _) = &mut search
    {
        let members = if c.unsupported_search.is_empty() {
            vec!["none"]
        } else {
            c.unsupported_search.clone()
        };
        fields.push((
            "UnsupportedExpressions",
            Value::Enum("Capabilities.SearchExpressions", members),
        ));
    }
    // Writes: no deep insert through any navigation (a new user's roles
    // and groups are bound with `@odata.bind`); links are added and
    // removed (`$ref`) from the user's side only.
    let every_navigation: Vec<String> = set
        .entity_type
        .navigations
        .iter()
        .map(|n| n.name.clone())
        .collect();
    let unlinkable: Vec<String> = if set.entity_type.name == "User" {
        Vec::new()
    } else {
        every_navigation.clone()
    };
    // A tracked `$filter` reads the record's properties and its linked
    // records (one navigation step: `roles/any(…)`, `users/$count`).
    let tracked_filterable: Vec<String> = set
        .entity_type
        .properties
        .iter()
        .map(|p| p.name.clone())
        .chain(every_navigation.iter().cloned())
        .filter(|name| !c.non_filterable.contains(name))
        .collect();
    let mut expand = vec![("Expandable", Value::Bool(c.expandable))];
    if c.expandable {
        expand.push(("NonExpandableProperties", paths(&c.non_expandable, true)));
        expand.push(("MaxLevels", Value::Int(i64::from(max_levels))));
    }
    vec![
        ann("Capabilities.IndexableByKey", Value::Bool(true)),
        ann("Capabilities.TopSupported", Value::Bool(c.top)),
        ann("Capabilities.SkipSupported", Value::Bool(c.skip)),
        ann(
            "Capabilities.CountRestrictions",
            record(vec![
                ("Countable", Value::Bool(c.countable)),
                (
                    "NonCountableNavigationProperties",
                    paths(&c.non_countable_navigations, true),
                ),
            ]),
        ),
        ann(
            "Capabilities.FilterRestrictions",
            record(vec![
                ("Filterable", Value::Bool(c.filterable)),
                ("NonFilterableProperties", paths(&c.non_filterable, false)),
            ]),
        ),
        ann(
            "Capabilities.SortRestrictions",
            record(vec![
                ("Sortable", Value::Bool(c.sortable)),
                ("NonSortableProperties", paths(&c.non_sortable, false)),
            ]),
        ),
        ann("Capabilities.ExpandRestrictions", record(expand)),
        ann("Capabilities.SearchRestrictions", search),
        ann(
            "Capabilities.SelectSupport",
            record(vec![("Supported", Value::Bool(true))]),
        ),
        ann(
            "Capabilities.InsertRestrictions",
            record(vec![
                ("Insertable", Value::Bool(true)),
                (
                    "NonInsertableNavigationProperties",
                    paths(&every_navigation, true),
                ),
            ]),
        ),
        ann(
            "Capabilities.UpdateRestrictions",
            record(vec![
                ("Updatable", Value::Bool(true)),
                ("NonUpdatableNavigationProperties", paths(&unlinkable, true)),
            ]),
        ),
        ann(
            "Capabilities.DeleteRestrictions",
            record(vec![
                ("Deletable", Value::Bool(true)),
                ("NonDeletableNavigationProperties", paths(&unlinkable, true)),
            ]),
        ),
        // Delta links (`Prefer: odata.track-changes`) with `$filter` on
        // the record's own properties and its linked records, and
        // `$select`; no `$expand`.
        ann(
            "Capabilities.ChangeTracking",
            record(vec![
                ("Supported", Value::Bool(true)),
                ("FilterableProperties", paths(&tracked_filterable, false)),
                ("ExpandableProperties", paths(&[], true)),
            ]),
        ),
    ]
}

/// How `$search` matches, from the schema's searchable properties.
fn search_description(schema: &dyn Schema) -> String {
    let sets: Vec<String> = schema
        .entity_sets()
        .iter()
        .filter(|s| !s.entity_type.searchable.is_empty())
        .map(|s| format!("{} ({})", s.name, s.entity_type.searchable.join(", ")))
        .collect();
    format!(
        "$search matches each term as a case-insensitive substring of any of: {}.",
        sets.join("; ")
    )
}

fn container_annotations(
    schema: &dyn Schema,
    caps: &Capabilities,
    page_size: u64,
) -> Vec<Annotation> {
    let mut out = vec![
        ann(
            "Core.Description",
            Value::Str(format!(
                "OData v4 feed of users, roles and groups, read and written (the same rules as \
                 the identity API; pictures are uploaded there). Server-driven paging: \
                 {} entities per page unless the request says \
                 Prefer: odata.maxpagesize=N (honoured up to {MAX_PAGE_SIZE}, echoed in \
                 Preference-Applied); @odata.nextLink carries an opaque keyset $skiptoken. {}",
                page_size,
                search_description(schema)
            )),
        ),
        ann(
            "Capabilities.FilterFunctions",
            Value::Collection(
                caps.filter_functions
                    .iter()
                    .map(|f| Value::Str((*f).to_owned()))
                    .collect(),
            ),
        ),
        ann("Capabilities.BatchSupported", Value::Bool(true)),
        // `$batch` (feed::batch): both formats, change sets, Content-ID
        // references in URLs of the same change set; every request runs
        // whatever failed before it (continue-on-error).
        ann(
            "Capabilities.BatchSupport",
            record(vec![
                ("Supported", Value::Bool(true)),
                ("ContinueOnErrorSupported", Value::Bool(true)),
                ("ReferencesInRequestBodiesSupported", Value::Bool(false)),
                ("ReferencesAcrossChangeSetsSupported", Value::Bool(false)),
                ("EtagReferencesSupported", Value::Bool(false)),
                ("RequestDependencyConditionsSupported", Value::Bool(true)),
                (
                    "SupportedFormats",
                    Value::Collection(vec![
                        Value::Str("multipart/mixed".into()),
                        Value::Str("application/json".into()),
                    ]),
                ),
            ]),
        ),
    ];
    if !caps.apply_transformations.is_empty() {
        out.push(ann(
            "Aggregation.ApplySupported",
            record(vec![
                (
                    "Transformations",
                    Value::Collection(
                        caps.apply_transformations
                            .iter()
                            .map(|t| Value::Str((*t).to_owned()))
                            .collect(),
                    ),
                ),
                (
                    "Rollup",
                    Value::Enum("Aggregation.RollupType", vec!["None"]),
                ),
            ]),
        ));
    }
    out
}

fn vocabularies(caps: &Capabilities, schema: &dyn Schema) -> Vec<Vocabulary> {
    let mut out = vec![CORE, CAPABILITIES];
    let enumerated = schema.entity_sets().iter().any(|s| {
        s.entity_type.properties.iter().any(|p| {
            property_annotations(p, true)
                .iter()
                .any(|a| a.term.starts_with("Validation."))
        })
    });
    if enumerated {
        out.push(VALIDATION);
    }
    if !caps.apply_transformations.is_empty() {
        out.push(AGGREGATION);
    }
    out
}

fn qualified(schema: &dyn Schema, name: &str) -> String {
    format!("{}.{}", schema.namespace(), name)
}

fn target_type(schema: &dyn Schema, set: &str) -> String {
    schema
        .entity_set(set)
        .map(|s| qualified(schema, &s.entity_type.name))
        .unwrap_or_else(|| qualified(schema, set))
}

/// The `Precision` facet of timestamps (see [`Capabilities::timestamp_precision`]).
fn precision(p: &Property, caps: &Capabilities) -> Option<u32> {
    (p.edm_type == EdmType::DateTimeOffset)
        .then_some(caps.timestamp_precision)
        .flatten()
}

#[cfg(test)]
mod tests;
