//! `$metadata`: the CSDL document, as XML (always, whatever `Accept` says)
//! or as JSON CSDL (`$format=json` only), generated from the one schema
//! description the translator uses ([`identity_schema`]) plus the probed
//! [`Capabilities`].
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
    let tracked_filterable: Vec<String> = set
        .entity_type
        .properties
        .iter()
        .map(|p| p.name.clone())
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
        // the record's own properties and `$select`; no `$expand`.
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

// ---------------------------------------------------------------------------
// XML
// ---------------------------------------------------------------------------

type XmlWriter = Writer<Vec<u8>>;

/// Writes `value` as attribute (`Bool="true"`) when it is a simple value,
/// else as a child element.
fn xml_with_value<'a>(
    element: quick_xml::writer::ElementWriter<'a, Vec<u8>>,
    value: &Value,
    annotations: &[Annotation],
) -> io::Result<()> {
    let simple = match value {
        Value::Bool(b) => Some(("Bool", b.to_string())),
        Value::Int(i) => Some(("Int", i.to_string())),
        Value::Str(s) => Some(("String", s.clone())),
        Value::Enum(ty, members) => Some(("EnumMember", enum_xml(ty, members))),
        Value::PropertyPath(p) => Some(("PropertyPath", p.clone())),
        Value::NavigationPropertyPath(p) => Some(("NavigationPropertyPath", p.clone())),
        Value::Record(..) | Value::Collection(_) => None,
    };
    match simple {
        Some((attr, text)) => {
            let element = element.with_attribute((attr, text.as_str()));
            if annotations.is_empty() {
                element.write_empty()?;
            } else {
                element.write_inner_content(|w| xml_annotations(w, annotations))?;
            }
        }
        None => {
            element.write_inner_content(|w| {
                xml_expression(w, value)?;
                xml_annotations(w, annotations)
            })?;
        }
    }
    Ok(())
}

fn enum_xml(ty: &str, members: &[&str]) -> String {
    members
        .iter()
        .map(|m| format!("{ty}/{m}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A value as an element (inside a `Collection` or as a child).
fn xml_expression(w: &mut XmlWriter, value: &Value) -> io::Result<()> {
    let text = |w: &mut XmlWriter, name: &str, t: &str| -> io::Result<()> {
        w.create_element(name)
            .write_text_content(BytesText::new(t))?;
        Ok(())
    };
    match value {
        Value::Bool(b) => text(w, "Bool", &b.to_string()),
        Value::Int(i) => text(w, "Int", &i.to_string()),
        Value::Str(s) => text(w, "String", s),
        Value::Enum(ty, members) => text(w, "EnumMember", &enum_xml(ty, members)),
        Value::PropertyPath(p) => text(w, "PropertyPath", p),
        Value::NavigationPropertyPath(p) => text(w, "NavigationPropertyPath", p),
        Value::Record(fields, annotations) => {
            w.create_element("Record").write_inner_content(|w| {
                for (name, v) in fields {
                    let element = w
                        .create_element("PropertyValue")
                        .with_attribute(("Property", *name));
                    xml_with_value(element, v, &[])?;
                }
                xml_annotations(w, annotations)
            })?;
            Ok(())
        }
        Value::Collection(items) => {
            let element = w.create_element("Collection");
            if items.is_empty() {
                element.write_empty()?;
            } else {
                element.write_inner_content(|w| {
                    for item in items {
                        xml_expression(w, item)?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        }
    }
}

fn xml_annotations(w: &mut XmlWriter, annotations: &[Annotation]) -> io::Result<()> {
    for a in annotations {
        let element = w
            .create_element("Annotation")
            .with_attribute(("Term", a.term));
        xml_with_value(element, &a.value, &[])?;
    }
    Ok(())
}

fn xml_property(
    w: &mut XmlWriter,
    p: &Property,
    writable: bool,
    caps: &Capabilities,
) -> io::Result<()> {
    let mut element = w
        .create_element("Property")
        .with_attribute(("Name", p.name.as_str()))
        .with_attribute(("Type", p.edm_type.csdl_name()));
    if !p.nullable {
        element = element.with_attribute(("Nullable", "false"));
    }
    let max_length = p.max_length.map(|m| m.to_string());
    if let Some(m) = &max_length {
        element = element.with_attribute(("MaxLength", m.as_str()));
    }
    let precision = precision(p, caps).map(|n| n.to_string());
    if let Some(n) = &precision {
        element = element.with_attribute(("Precision", n.as_str()));
    }
    let annotations = property_annotations(p, writable);
    if annotations.is_empty() {
        element.write_empty()?;
    } else {
        element.write_inner_content(|w| xml_annotations(w, &annotations))?;
    }
    Ok(())
}

/// The `Precision` facet of timestamps (see [`Capabilities::timestamp_precision`]).
fn precision(p: &Property, caps: &Capabilities) -> Option<u32> {
    (p.edm_type == EdmType::DateTimeOffset)
        .then_some(caps.timestamp_precision)
        .flatten()
}

fn xml_entity_type(
    w: &mut XmlWriter,
    schema: &dyn Schema,
    set: &EntitySet,
    caps: &Capabilities,
) -> io::Result<()> {
    let entity = &set.entity_type;
    w.create_element("EntityType")
        .with_attribute(("Name", entity.name.as_str()))
        .write_inner_content(|w| {
            w.create_element("Key").write_inner_content(|w| {
                for k in &entity.key {
                    w.create_element("PropertyRef")
                        .with_attribute(("Name", k.as_str()))
                        .write_empty()?;
                }
                Ok(())
            })?;
            let writable = settable(set);
            for p in &entity.properties {
                xml_property(w, p, writable.contains(&p.name.as_str()), caps)?;
            }
            for nav in &entity.navigations {
                let target = target_type(schema, &nav.target_set);
                let ty = if nav.is_collection() {
                    format!("Collection({target})")
                } else {
                    target
                };
                let mut element = w
                    .create_element("NavigationProperty")
                    .with_attribute(("Name", nav.name.as_str()))
                    .with_attribute(("Type", ty.as_str()));
                // A single-valued navigation is nullable unless it says not.
                if nav.multiplicity == Multiplicity::One {
                    element = element.with_attribute(("Nullable", "false"));
                }
                if let Some(partner) = &nav.partner {
                    element = element.with_attribute(("Partner", partner.as_str()));
                }
                element.write_empty()?;
            }
            Ok(())
        })?;
    Ok(())
}

/// The CSDL XML document.
pub fn csdl_xml(
    schema: &dyn Schema,
    caps: &Capabilities,
    page_size: u64,
) -> Result<String, io::Error> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    w.create_element("edmx:Edmx")
        .with_attribute(("xmlns:edmx", "http://docs.oasis-open.org/odata/ns/edmx"))
        .with_attribute(("Version", "4.0"))
        .write_inner_content(|w| {
            for v in vocabularies(caps, schema) {
                let uri = format!("{VOCABULARIES}/{}.xml", v.namespace);
                w.create_element("edmx:Reference")
                    .with_attribute(("Uri", uri.as_str()))
                    .write_inner_content(|w| {
                        w.create_element("edmx:Include")
                            .with_attribute(("Namespace", v.namespace))
                            .with_attribute(("Alias", v.alias))
                            .write_empty()?;
                        Ok(())
                    })?;
            }
            w.create_element("edmx:DataServices")
                .write_inner_content(|w| {
                    w.create_element("Schema")
                        .with_attribute(("xmlns", "http://docs.oasis-open.org/odata/ns/edm"))
                        .with_attribute(("Namespace", schema.namespace()))
                        .write_inner_content(|w| {
                            for set in schema.entity_sets() {
                                xml_entity_type(w, schema, set, caps)?;
                            }
                            xml_container(w, schema, caps, page_size)
                        })?;
                    Ok(())
                })?;
            Ok(())
        })?;
    String::from_utf8(w.into_inner()).map_err(io::Error::other)
}

fn xml_container(
    w: &mut XmlWriter,
    schema: &dyn Schema,
    caps: &Capabilities,
    page_size: u64,
) -> io::Result<()> {
    w.create_element("EntityContainer")
        .with_attribute(("Name", CONTAINER))
        .write_inner_content(|w| {
            for set in schema.entity_sets() {
                let ty = qualified(schema, &set.entity_type.name);
                w.create_element("EntitySet")
                    .with_attribute(("Name", set.name.as_str()))
                    .with_attribute(("EntityType", ty.as_str()))
                    .write_inner_content(|w| {
                        for nav in &set.entity_type.navigations {
                            w.create_element("NavigationPropertyBinding")
                                .with_attribute(("Path", nav.name.as_str()))
                                .with_attribute(("Target", nav.target_set.as_str()))
                                .write_empty()?;
                        }
                        xml_annotations(w, &concurrency_annotations(set))?;
                        if let Some(c) = caps.set(&set.name) {
                            xml_annotations(w, &set_annotations(set, c, caps.max_expand_levels))?;
                        }
                        Ok(())
                    })?;
            }
            xml_annotations(w, &container_annotations(schema, caps, page_size))
        })?;
    Ok(())
}

// ---------------------------------------------------------------------------
// JSON CSDL
// ---------------------------------------------------------------------------

fn json_value(value: &Value) -> Json {
    match value {
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Str(s) => Json::String(s.clone()),
        Value::Enum(_, members) => Json::String(members.join(",")),
        // CSDL JSON §14.4.1.3: property and navigation property paths are strings.
        Value::PropertyPath(p) | Value::NavigationPropertyPath(p) => Json::String(p.clone()),
        Value::Record(fields, annotations) => {
            let mut m = Map::new();
            for (name, v) in fields {
                m.insert((*name).to_owned(), json_value(v));
            }
            json_annotations(&mut m, annotations);
            Json::Object(m)
        }
        Value::Collection(items) => Json::Array(items.iter().map(json_value).collect()),
    }
}

fn json_annotations(m: &mut Map<String, Json>, annotations: &[Annotation]) {
    for a in annotations {
        m.insert(format!("@{}", a.term), json_value(&a.value));
    }
}

fn json_property(p: &Property, writable: bool, caps: &Capabilities) -> Json {
    let mut m = Map::new();
    if p.edm_type != EdmType::String {
        m.insert("$Type".into(), p.edm_type.csdl_name().into());
    }
    if p.nullable {
        m.insert("$Nullable".into(), true.into());
    }
    if let Some(l) = p.max_length {
        m.insert("$MaxLength".into(), l.into());
    }
    if let Some(n) = precision(p, caps) {
        m.insert("$Precision".into(), n.into());
    }
    json_annotations(&mut m, &property_annotations(p, writable));
    Json::Object(m)
}

/// The JSON CSDL document (OData CSDL JSON 4.01 format, `$Version` 4.0).
pub fn csdl_json(schema: &dyn Schema, caps: &Capabilities, page_size: u64) -> Json {
    let mut references = Map::new();
    for v in vocabularies(caps, schema) {
        references.insert(
            format!("{VOCABULARIES}/{}.json", v.namespace),
            json!({ "$Include": [{ "$Namespace": v.namespace, "$Alias": v.alias }] }),
        );
    }
    let mut ns = Map::new();
    for set in schema.entity_sets() {
        let entity = &set.entity_type;
        let mut t = Map::new();
        t.insert("$Kind".into(), "EntityType".into());
        t.insert("$Key".into(), json!(entity.key));
        let writable = settable(set);
        for p in &entity.properties {
            t.insert(
                p.name.clone(),
                json_property(p, writable.contains(&p.name.as_str()), caps),
            );
        }
        for nav in &entity.navigations {
            let mut n = Map::new();
            n.insert("$Kind".into(), "NavigationProperty".into());
            match nav.multiplicity {
                Multiplicity::Many => {
                    n.insert("$Collection".into(), true.into());
                }
                // CSDL JSON: an absent `$Nullable` means false.
                Multiplicity::ZeroOrOne => {
                    n.insert("$Nullable".into(), true.into());
                }
                Multiplicity::One => {}
            }
            n.insert("$Type".into(), target_type(schema, &nav.target_set).into());
            if let Some(partner) = &nav.partner {
                n.insert("$Partner".into(), partner.clone().into());
            }
            t.insert(nav.name.clone(), Json::Object(n));
        }
        ns.insert(entity.name.clone(), Json::Object(t));
    }
    let mut container = Map::new();
    container.insert("$Kind".into(), "EntityContainer".into());
    for set in schema.entity_sets() {
        let mut s = Map::new();
        s.insert("$Collection".into(), true.into());
        s.insert(
            "$Type".into(),
            qualified(schema, &set.entity_type.name).into(),
        );
        let bindings: Map<String, Json> = set
            .entity_type
            .navigations
            .iter()
            .map(|n| (n.name.clone(), Json::String(n.target_set.clone())))
            .collect();
        if !bindings.is_empty() {
            s.insert("$NavigationPropertyBinding".into(), Json::Object(bindings));
        }
        json_annotations(&mut s, &concurrency_annotations(set));
        if let Some(c) = caps.set(&set.name) {
            json_annotations(&mut s, &set_annotations(set, c, caps.max_expand_levels));
        }
        container.insert(set.name.clone(), Json::Object(s));
    }
    json_annotations(
        &mut container,
        &container_annotations(schema, caps, page_size),
    );
    ns.insert(CONTAINER.to_owned(), Json::Object(container));

    let mut doc = Map::new();
    doc.insert("$Version".into(), "4.0".into());
    doc.insert(
        "$EntityContainer".into(),
        qualified(schema, CONTAINER).into(),
    );
    doc.insert("$Reference".into(), Json::Object(references));
    doc.insert(schema.namespace().to_owned(), Json::Object(ns));
    Json::Object(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserStatus;
    use crate::feed::DEFAULT_PAGE_SIZE;
    use crate::odata::schema::identity_schema;

    #[test]
    fn status_values_come_from_the_schema_and_match_the_domain() {
        let schema = identity_schema();
        let users = schema.entity_set("Users").expect("Users");
        let status = users.entity_type.property("status").expect("status");
        let values = enumerated_values(status.description.as_deref().unwrap_or(""))
            .expect("status is documented as an enumeration");
        assert_eq!(values.len(), 4);
        for (n, _) in &values {
            assert_eq!(
                UserStatus::from_i64(*n).map(UserStatus::as_i32),
                Some(*n as i32)
            );
        }
        assert_eq!(values[0], (1, "Active"));
        assert_eq!(values[3], (4, "InvitationExpired"));
        assert_eq!(enumerated_values("Always false: deletion is hard."), None);
    }

    #[test]
    fn xml_has_types_keys_and_navigations() {
        let xml = csdl_xml(
            identity_schema(),
            &Capabilities::default(),
            DEFAULT_PAGE_SIZE,
        )
        .expect("xml");
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
        for needle in [
            r#"<EntityType Name="User">"#,
            r#"<PropertyRef Name="id"/>"#,
            r#"<Property Name="userKey" Type="Edm.String" Nullable="false" MaxLength="100"/>"#,
            r#"<Property Name="email" Type="Edm.String" MaxLength="255"/>"#,
            r#"<NavigationProperty Name="roles" Type="Collection(Identity.Role)" Partner="users"/>"#,
            r#"<NavigationPropertyBinding Path="roles" Target="Roles"/>"#,
            r#"<EntitySet Name="Users" EntityType="Identity.User">"#,
            r#"<Annotation Term="Core.SymbolicName" String="InvitationExpired"/>"#,
        ] {
            assert!(xml.contains(needle), "missing {needle} in\n{xml}");
        }
        assert!(!xml.contains("Aggregation"), "no $apply, no Aggregation");
    }

    #[test]
    fn every_set_declares_its_concurrency_property() {
        let schema = identity_schema();
        let xml = csdl_xml(schema, &Capabilities::default(), DEFAULT_PAGE_SIZE).expect("xml");
        // Without the indentation.
        let xml: String = xml.lines().map(str::trim).collect();
        let annotation = r#"<Annotation Term="Core.OptimisticConcurrency"><Collection><PropertyPath>version</PropertyPath></Collection></Annotation>"#;
        assert_eq!(xml.matches(annotation).count(), 3, "{xml}");
        for set in ["Users", "Roles", "Groups"] {
            let start = xml.find(&format!(r#"<EntitySet Name="{set}""#)).expect(set);
            let end = start + xml[start..].find("</EntitySet>").expect("end");
            assert!(xml[start..end].contains(annotation), "{set}");
        }
        let doc = csdl_json(schema, &Capabilities::default(), DEFAULT_PAGE_SIZE);
        for set in ["Users", "Roles", "Groups"] {
            assert_eq!(
                doc["Identity"]["Container"][set]["@Core.OptimisticConcurrency"],
                json!(["version"])
            );
        }
    }

    #[test]
    fn json_csdl_mirrors_the_xml() {
        let caps = Capabilities {
            apply_transformations: vec!["aggregate"],
            ..Capabilities::default()
        };
        let doc = csdl_json(identity_schema(), &caps, DEFAULT_PAGE_SIZE);
        assert_eq!(doc["$EntityContainer"], "Identity.Container");
        let user = &doc["Identity"]["User"];
        assert_eq!(user["$Key"], json!(["id"]));
        assert_eq!(user["id"]["$Type"], "Edm.Guid");
        assert_eq!(user["email"]["$Nullable"], true);
        assert_eq!(user["status"]["$Type"], "Edm.Int32");
        assert_eq!(user["roles"]["$Partner"], "users");
        assert_eq!(
            doc["Identity"]["Container"]["@Aggregation.ApplySupported"]["Transformations"],
            json!(["aggregate"])
        );
    }
}
