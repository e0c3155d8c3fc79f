//! OData JSON around the read path's records: context URLs that follow
//! `$select`/`$expand`, navigation properties only when expanded, and the
//! control information of `odata.metadata=full`.

use odata_parser::ast::{
    AggregateItem, Apply, Expand, ExpandTarget, Grouping, PathSegment, QueryOptions, Select,
    SelectItem, Transformation,
};
use odata_sql::Schema;
use odata_sql::schema::{EdmType, EntitySet};
use serde_json::{Map, Value as Json};

use super::prefer::MetadataLevel;

/// The names of a member path, canonical where the schema knows them.
fn path_names(set: &EntitySet, segments: &[PathSegment]) -> String {
    let entity = &set.entity_type;
    segments
        .iter()
        .map(|s| match s {
            PathSegment::Member { name, .. } => entity
                .property(&name.name)
                .map(|p| p.name.clone())
                .or_else(|| entity.navigation(&name.name).map(|n| n.name.clone()))
                .unwrap_or_else(|| name.name.clone()),
            PathSegment::TypeCast(i) => i.name.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The expanded navigation properties of `set`: (canonical name, target
/// set, nested options).
fn expanded<'a>(
    schema: &'a dyn Schema,
    set: &'a EntitySet,
    expand: Option<&'a Expand>,
) -> Vec<(&'a str, &'a EntitySet, Option<&'a QueryOptions>)> {
    let mut out = Vec::new();
    let Some(expand) = expand else {
        return out;
    };
    for item in &expand.items {
        let options = item.options.as_deref();
        match &item.target {
            ExpandTarget::Star { .. } => {
                for nav in &set.entity_type.navigations {
                    if let Some(target) = schema.entity_set(&nav.target_set) {
                        out.push((nav.name.as_str(), target, options));
                    }
                }
            }
            ExpandTarget::Path { segments, .. } => {
                let Some(PathSegment::Member { name, .. }) = segments.first() else {
                    continue;
                };
                if let Some(nav) = set.entity_type.navigation(&name.name)
                    && let Some(target) = schema.entity_set(&nav.target_set)
                {
                    out.push((nav.name.as_str(), target, options));
                }
            }
        }
    }
    out
}

/// The select-list of a context URL, `"(userKey,name,roles())"`, or `""`
/// when neither `$select` nor `$expand` is given (OData 4.01 §10.9/10.10:
/// an expanded navigation is suffixed with its nested list, empty
/// parentheses when it has none).
pub fn select_list(
    schema: &dyn Schema,
    set: &EntitySet,
    select: Option<&Select>,
    expand: Option<&Expand>,
) -> String {
    let mut items: Vec<String> = Vec::new();
    if let Some(select) = select {
        for item in &select.items {
            items.push(match item {
                SelectItem::Star(_) => "*".to_owned(),
                SelectItem::Path { segments, .. } => path_names(set, segments),
                other => other.to_string(),
            });
        }
    }
    for (nav, target, options) in expanded(schema, set, expand) {
        let inner = options.map_or_else(String::new, |o| {
            select_list(schema, target, o.select.as_ref(), o.expand.as_ref())
        });
        if inner.is_empty() {
            items.push(format!("{nav}()"));
        } else {
            items.push(format!("{nav}{inner}"));
        }
    }
    if items.is_empty() {
        String::new()
    } else {
        format!("({})", items.join(","))
    }
}

/// The properties of the records an `$apply` pipeline produces (grouping
/// properties and aggregate aliases, OData Data Aggregation §3.16), or
/// `None` when its result still has the entity's shape (only `filter`,
/// `orderby`, `top`, `skip`, `search`, `identity`, `compute`) or cannot be
/// described here.
pub fn apply_properties(apply: &Apply) -> Option<Vec<String>> {
    pipeline_properties(&apply.pipeline, None)
}

fn aggregate_aliases(items: &[AggregateItem], out: &mut Vec<String>) -> Option<()> {
    for item in items {
        match item {
            AggregateItem::Count { alias, .. } => out.push(alias.name.clone()),
            AggregateItem::Expr { alias, expr, .. } => out.push(
                alias
                    .as_ref()
                    .map_or_else(|| expr.to_string(), |a| a.name.clone()),
            ),
            AggregateItem::Nested { .. } => return None,
        }
    }
    Some(())
}

fn pipeline_properties(
    pipeline: &[Transformation],
    mut shape: Option<Vec<String>>,
) -> Option<Vec<String>> {
    for t in pipeline {
        match t {
            Transformation::Aggregate(items, _) => {
                let mut props = Vec::new();
                aggregate_aliases(items, &mut props)?;
                shape = Some(props);
            }
            Transformation::GroupBy {
                groupings, then, ..
            } => {
                let mut props = Vec::new();
                for g in groupings {
                    match g {
                        Grouping::Path(p) => props.push(p.to_string()),
                        Grouping::Rollup { paths, .. } => {
                            props.extend(paths.iter().map(ToString::to_string));
                        }
                        Grouping::RollupRecursive { .. } => return None,
                    }
                }
                if let Some(inner) = pipeline_properties(then, None) {
                    props.extend(inner);
                }
                shape = Some(props);
            }
            Transformation::Compute(compute, _) => {
                if let Some(props) = &mut shape {
                    props.extend(compute.items.iter().map(|i| i.alias.name.clone()));
                }
            }
            Transformation::Filter(..)
            | Transformation::OrderBy(..)
            | Transformation::Top(..)
            | Transformation::Skip(..)
            | Transformation::Search(..)
            | Transformation::Identity(_) => {}
            Transformation::Concat(..)
            | Transformation::Expand(..)
            | Transformation::Call { .. } => return None,
        }
    }
    shape
}

/// The `@odata.type` annotation of a value of this type, when JSON alone
/// cannot tell it (OData JSON §4.6.3 / full metadata).
fn type_annotation(ty: EdmType) -> Option<&'static str> {
    match ty {
        EdmType::Guid => Some("#Guid"),
        EdmType::DateTimeOffset => Some("#DateTimeOffset"),
        EdmType::Date => Some("#Date"),
        EdmType::Int64 => Some("#Int64"),
        EdmType::Decimal => Some("#Decimal"),
        EdmType::String | EdmType::Boolean | EdmType::Int32 | EdmType::Double => None,
    }
}

/// The key of an entity as written in URLs, `Users(6f...)`.
pub fn entity_path(set: &EntitySet, record: &Map<String, Json>) -> Option<String> {
    let key = set.entity_type.key.first()?;
    let value = record.get(key)?.as_str()?;
    Some(format!("{}({value})", set.name))
}

/// Shapes one record of `set` for the feed: navigation properties stay
/// only when expanded (recursively shaped), and full metadata adds
/// `@odata.type`, `@odata.id`, `@odata.editLink`, navigation links and the
/// type annotations of GUIDs and timestamps.
pub fn shape_entity(
    schema: &dyn Schema,
    set: &EntitySet,
    record: Json,
    expand: Option<&Expand>,
    level: MetadataLevel,
) -> Json {
    let Json::Object(mut record) = record else {
        return record;
    };
    let expanded = expanded(schema, set, expand);
    for nav in &set.entity_type.navigations {
        let Some(value) = record.remove(&nav.name) else {
            continue;
        };
        if let Some((_, target, options)) = expanded.iter().find(|(n, _, _)| *n == nav.name) {
            let nested = options.and_then(|o| o.expand.as_ref());
            let items = match value {
                Json::Array(items) => items
                    .into_iter()
                    .map(|i| shape_entity(schema, target, i, nested, level))
                    .collect(),
                other => vec![other],
            };
            record.insert(nav.name.clone(), Json::Array(items));
        }
    }
    if level == MetadataLevel::Full {
        let entity = &set.entity_type;
        let path = entity_path(set, &record);
        record.insert(
            "@odata.type".into(),
            Json::String(format!("#{}.{}", schema.namespace(), entity.name)),
        );
        if let Some(path) = &path {
            record.insert("@odata.id".into(), Json::String(path.clone()));
            record.insert("@odata.editLink".into(), Json::String(path.clone()));
            for nav in &entity.navigations {
                record.insert(
                    format!("{}@odata.navigationLink", nav.name),
                    Json::String(format!("{path}/{}", nav.name)),
                );
            }
        }
        for p in &entity.properties {
            if record.get(&p.name).is_some_and(|v| !v.is_null())
                && let Some(t) = type_annotation(p.edm_type)
            {
                record.insert(format!("{}@odata.type", p.name), Json::String(t.into()));
            }
        }
    }
    Json::Object(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::odata::schema::identity_schema;
    use odata_parser::{ParserOptions, parse_query};
    use serde_json::json;

    fn list_for(query: &str) -> String {
        let schema = identity_schema();
        let set = schema.entity_set("Users").expect("Users");
        let q = parse_query(query, &ParserOptions::default()).expect("query");
        select_list(schema, set, q.select.as_ref(), q.expand.as_ref())
    }

    #[test]
    fn context_select_lists() {
        assert_eq!(list_for(""), "");
        assert_eq!(list_for("$select=USERKEY,name"), "(userKey,name)");
        assert_eq!(list_for("$expand=roles"), "(roles())");
        assert_eq!(
            list_for("$select=name&$expand=Roles($select=roleKey),groups"),
            "(name,roles(roleKey),groups())"
        );
        assert_eq!(
            list_for("$expand=roles($expand=users($select=name))"),
            "(roles(users(name)))"
        );
        assert_eq!(list_for("$select=*"), "(*)");
    }

    fn apply_for(query: &str) -> Option<Vec<String>> {
        let q = parse_query(query, &ParserOptions::default()).expect("query");
        apply_properties(q.apply.as_ref().expect("$apply"))
    }

    #[test]
    fn apply_result_properties() {
        assert_eq!(
            apply_for("$apply=groupby((status),aggregate($count as n,version with max as v))"),
            Some(vec!["status".to_owned(), "n".to_owned(), "v".to_owned()])
        );
        assert_eq!(
            apply_for(
                "$apply=filter(status eq 1)/aggregate(userKey with countdistinct as k)/compute(k add 1 as k1)"
            ),
            Some(vec!["k".to_owned(), "k1".to_owned()])
        );
        assert_eq!(
            apply_for("$apply=groupby((status,isActive))/orderby(status)/top(1)"),
            Some(vec!["status".to_owned(), "isActive".to_owned()])
        );
        assert_eq!(apply_for("$apply=filter(status eq 1)/top(2)"), None);
    }

    #[test]
    fn unexpanded_navigations_are_removed() {
        let schema = identity_schema();
        let set = schema.entity_set("Users").expect("Users");
        let record = json!({"id": "a", "name": "Ann", "roles": ["admin"], "groups": []});
        let shaped = shape_entity(schema, set, record, None, MetadataLevel::Minimal);
        assert_eq!(shaped, json!({"id": "a", "name": "Ann"}));
    }

    #[test]
    fn expanded_navigations_stay_and_full_metadata_annotates() {
        let schema = identity_schema();
        let set = schema.entity_set("Users").expect("Users");
        let q = parse_query("$expand=roles", &ParserOptions::default()).expect("query");
        let record = json!({
            "id": "a", "createdOn": "2020-01-01T00:00:00Z", "lastLogin": null,
            "roles": [{"id": "r", "roleKey": "admin", "users": ["x"]}], "groups": ["g"]
        });
        let shaped = shape_entity(schema, set, record, q.expand.as_ref(), MetadataLevel::Full);
        assert_eq!(
            shaped,
            json!({
                "@odata.type": "#Identity.User",
                "@odata.id": "Users(a)",
                "@odata.editLink": "Users(a)",
                "roles@odata.navigationLink": "Users(a)/roles",
                "groups@odata.navigationLink": "Users(a)/groups",
                "id": "a", "id@odata.type": "#Guid",
                "createdOn": "2020-01-01T00:00:00Z", "createdOn@odata.type": "#DateTimeOffset",
                "lastLogin": null,
                "roles": [{
                    "@odata.type": "#Identity.Role",
                    "@odata.id": "Roles(r)",
                    "@odata.editLink": "Roles(r)",
                    "users@odata.navigationLink": "Roles(r)/users",
                    "id": "r", "id@odata.type": "#Guid", "roleKey": "admin"
                }]
            })
        );
    }
}
