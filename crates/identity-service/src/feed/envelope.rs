//! OData JSON around the read path's records: context URLs that follow
//! `$select`/`$expand` and `$apply` (the records themselves, with the
//! control information of `odata.metadata=full`, come from the read path).

use odata_parser::ast::{
    AggregateItem, Apply, Expand, ExpandTarget, Grouping, PathSegment, QueryOptions, Select,
    SelectItem, Transformation,
};
use odata_sql::Schema;
use odata_sql::schema::EntitySet;

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
            other @ (PathSegment::Function { .. }
            | PathSegment::Filter { .. }
            | PathSegment::Aggregate(_)) => other.to_string(),
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
                other @ (SelectItem::AllOperations(_) | SelectItem::Operation { .. }) => {
                    other.to_string()
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::odata::schema::identity_schema;
    use odata_parser::{ParserOptions, parse_query};

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
}
