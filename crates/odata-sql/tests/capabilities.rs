//! The capabilities the translator states (`odata_sql::capabilities`) agree
//! with what it accepts: a sample of every stated function, `$apply`
//! transformation and `$search` expression kind translates on every
//! backend, and a sample of every OData name it leaves out is refused as
//! not supported. The same for what the translator states per property
//! and entity type (`sortable`, `filterable`, `searchable`).

use std::sync::Arc;

use odata_parser::{ParserOptions, parse_query};
use odata_sql::capabilities::{capabilities, filterable, searchable, sortable};
use odata_sql::schema::{EntitySet, PropertySource, Schema};
use odata_sql::{Backend, ReadPlan, TranslateError, Translator};

mod common;
use common::{mock, plan, tenant};

/// A `$filter` that calls the canonical function `name` on the mock's
/// `People` (no sample: the test fails, so a new entry needs one).
fn function_sample(name: &str) -> String {
    let filter = match name {
        "contains" | "startswith" | "endswith" => format!("{name}(name,'a')"),
        "length" => "length(name) eq 1".to_owned(),
        "tolower" | "toupper" | "trim" => format!("{name}(name) eq 'a'"),
        "indexof" => "indexof(name,'a') eq 1".to_owned(),
        "substring" => "substring(name,1) eq 'a' and substring(name,1,2) eq 'a'".to_owned(),
        "concat" => "concat(name,'a') eq 'a'".to_owned(),
        "year" | "month" | "day" | "hour" | "minute" | "second" => {
            format!("{name}(lastLogin) eq 1")
        }
        "date" => "date(lastLogin) eq 2020-01-01".to_owned(),
        "now" => "lastLogin lt now()".to_owned(),
        "round" | "floor" | "ceiling" => format!("{name}(status div 2.0) eq 1"),
        "matchespattern" => "matchesPattern(name,'a')".to_owned(),
        "time" => "time(lastLogin) eq 12:00:00".to_owned(),
        "totaloffsetminutes" | "fractionalseconds" => format!("{name}(lastLogin) eq 0"),
        "totalseconds" => "totalseconds(duration'PT1S') eq 1".to_owned(),
        "mindatetime" => "lastLogin gt mindatetime()".to_owned(),
        "maxdatetime" => "lastLogin lt maxdatetime()".to_owned(),
        "cast" => "cast(status,Edm.String) eq '1'".to_owned(),
        "isof" => "isof(Mock.Person)".to_owned(),
        "hassubset" | "hassubsequence" => format!("{name}(['a','b'],['a'])"),
        "case" => "case(isActive:1,true:2) eq 1".to_owned(),
        other => panic!("no sample for the function `{other}`"),
    };
    format!("$filter={filter}")
}

/// An `$apply` using the transformation `name`.
fn transformation_sample(name: &str) -> &'static str {
    match name {
        "aggregate" => "$apply=aggregate($count as n)",
        "groupby" => "$apply=groupby((status),aggregate($count as n))",
        "filter" => "$apply=filter(status eq 1)",
        "orderby" => "$apply=groupby((status))/orderby(status)",
        "top" => "$apply=groupby((status))/top(1)",
        "skip" => "$apply=groupby((status))/skip(1)",
        "search" => "$apply=search(a)",
        "identity" => "$apply=identity",
        "compute" => "$apply=compute(status add 1 as v)",
        "concat" => "$apply=concat(identity,identity)",
        "expand" => "$apply=expand(roles)",
        other => panic!("no sample for the transformation `{other}`"),
    }
}

/// A `$search` using the expression kind `name`.
fn search_sample(name: &str) -> &'static str {
    match name {
        "AND" => "$search=a AND b",
        "OR" => "$search=a OR b",
        "NOT" => "$search=NOT a",
        "phrase" => "$search=\"a b\"",
        "group" => "$search=(a OR b) AND c",
        other => panic!("no sample for the search expression `{other}`"),
    }
}

fn accepted(query: &str, backend: Backend) {
    if let Err(e) = plan(query, backend) {
        panic!("{backend:?}: `{query}` is stated as supported but fails: {e:?}");
    }
}

fn refused(query: &str, backend: Backend) {
    match plan(query, backend) {
        Err(TranslateError::Unsupported { .. }) => {}
        other => panic!("{backend:?}: `{query}` is stated as unsupported but gives {other:?}"),
    }
}

#[test]
fn capabilities_agree_with_the_translator() {
    for backend in Backend::ALL {
        let caps = capabilities(backend);
        for f in caps.functions {
            accepted(&function_sample(f), backend);
        }
        for f in caps.unsupported_functions {
            refused(&function_sample(f), backend);
        }
        for t in caps.apply_transformations {
            accepted(transformation_sample(t), backend);
        }
        for t in caps.unsupported_apply_transformations {
            refused(transformation_sample(t), backend);
        }
        for s in caps.search_expressions {
            accepted(search_sample(s), backend);
        }
        assert!(caps.compute);
        accepted("$compute=status add 1 as v&$select=v", backend);
        for op in caps.lambda_operators {
            accepted(&format!("$filter=roles/{op}(r:r/roleKey eq 'a')"), backend);
        }
        assert!(caps.navigation_count);
        accepted("$filter=roles/$count ge 1", backend);
    }
}

/// The mock's entity sets, with `picture` computed without a condition
/// that says when it has a value (so that it cannot be filtered on at all)
/// and no searchable property on `Roles`.
struct Variant(Vec<EntitySet>);

impl Schema for Variant {
    fn namespace(&self) -> &str {
        "Mock"
    }

    fn entity_sets(&self) -> &[EntitySet] {
        &self.0
    }
}

fn restricted() -> Variant {
    let sets = mock()
        .entity_sets()
        .iter()
        .map(|set| {
            let mut entity = (*set.entity_type).clone();
            if set.name == "Roles" {
                entity.searchable.clear();
            }
            for p in &mut entity.properties {
                if let PropertySource::Computed { non_null_when, .. } = &mut p.source {
                    *non_null_when = None;
                }
            }
            EntitySet {
                name: set.name.clone(),
                entity_type: Arc::new(entity),
            }
        })
        .collect();
    Variant(sets)
}

fn plan_on(
    schema: &dyn Schema,
    set: &str,
    query: &str,
    backend: Backend,
) -> Result<ReadPlan, TranslateError> {
    let options = parse_query(query, &ParserOptions::default())
        .unwrap_or_else(|e| panic!("{query} does not parse: {e}"));
    Translator::new(schema, backend).plan(set, &options, tenant())
}

/// `ok` when the translator plans `query` on `set`, else refused as not
/// supported (never another error: the samples are valid).
fn check(schema: &dyn Schema, set: &str, query: &str, backend: Backend, ok: bool) {
    match (plan_on(schema, set, query, backend), ok) {
        (Ok(_), true) | (Err(TranslateError::Unsupported { .. }), false) => {}
        (other, _) => panic!(
            "{backend:?}: `{query}` on {set} is stated as {} but gives {other:?}",
            if ok { "supported" } else { "unsupported" }
        ),
    }
}

#[test]
fn property_and_set_capabilities_agree_with_the_translator() {
    let mock = mock();
    let variant = restricted();
    let schemas: [&dyn Schema; 2] = [&mock, &variant];
    let (mut unsortable, mut unfilterable, mut unsearchable) = (0, 0, 0);
    for backend in Backend::ALL {
        for schema in schemas {
            for set in schema.entity_sets() {
                let entity = &set.entity_type;
                for p in &entity.properties {
                    let name = &p.name;
                    check(
                        schema,
                        &set.name,
                        &format!("$orderby={name}"),
                        backend,
                        sortable(p),
                    );
                    check(
                        schema,
                        &set.name,
                        &format!("$filter={name} eq null"),
                        backend,
                        filterable(p),
                    );
                    unsortable += usize::from(!sortable(p));
                    unfilterable += usize::from(!filterable(p));
                }
                check(schema, &set.name, "$search=a", backend, searchable(entity));
                unsearchable += usize::from(!searchable(entity));
            }
        }
    }
    // Both answers were asked for.
    assert!(unsortable > 0 && unfilterable > 0 && unsearchable > 0);
}
