//! The same OData inputs translated for SQLite, PostgreSQL and MySQL
//! (snapshots of SQL plus bound values), and error cases with their spans.

use chrono::{TimeZone, Utc};
use odata_parser::{ParserOptions, parse_query};
use odata_sql::schema::EdmType;
use odata_sql::{Backend, ReadPlan, Translator};
use sea_query::{SelectStatement, Value};

mod common;
use common::{mock, plan, tenant};

fn show(backend: Backend, stmt: &SelectStatement) -> String {
    let (sql, values) = backend.build(stmt);
    format!("{backend:?}: {sql}\n  values: {:?}\n", values.0)
}

/// The first page statement for every backend.
fn page_sql(query: &str) -> String {
    let mut out = format!("{query}\n");
    for backend in Backend::ALL {
        let plan = plan(query, backend).unwrap_or_else(|e| panic!("{query}: {e:?}"));
        let stmt = plan
            .page_statement(None, 101, plan.skip.unwrap_or(0))
            .unwrap();
        out.push_str(&show(backend, &stmt));
    }
    out
}

macro_rules! snap {
    ($name:ident, $query:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(page_sql($query));
        }
    };
}

snap!(string_equality, "$filter=Name eq 'Ann'");
snap!(null_comparisons, "$filter=email eq null or email ne null");
snap!(nullable_ne_includes_nulls, "$filter=email ne 'a@x.org'");
snap!(
    nullable_both_sides,
    "$filter=email eq tolower(email) and not (email lt name)"
);
snap!(
    string_functions,
    "$filter=contains(name,'an') and startswith(name,'A') or endswith(name,'n')"
);
snap!(
    more_string_functions,
    "$filter=length(name) gt 3 and indexof(name,'a') eq 1 and substring(name,1,2) eq 'nn' and concat(name,'x') eq 'Annx' and trim(name) eq name"
);
snap!(
    case_mapping,
    "$filter=tolower(name) eq 'jos%C3%A9' or toupper(userKey) eq 'X'"
);
snap!(string_ordering_comparison, "$filter=name lt 'B'");
snap!(
    code_point_columns_compare_as_they_are,
    "$filter=name eq 'Ann' and userKey ne name and name ge 'A' and email lt name and 'a' eq 'A'"
);
snap!(
    code_point_columns_in_a_lambda,
    "$filter=roles/any(r: r/roleKey eq $it/name and r/description eq $it/email and r/description ne 'x')"
);
snap!(
    startswith_a_literal_prefix,
    "$filter=startswith(name,'a_%25!b') or startswith(email,'a_') or startswith(name,userKey) or startswith(tolower(name),'a')"
);
snap!(orderby_code_point_column, "$orderby=name desc,email");
snap!(
    in_list,
    "$filter=status in (1, 2) and userKey in ('a', 'B')"
);
snap!(lambda_any, "$filter=roles/any(r: r/roleKey eq 'admin')");
snap!(
    lambda_all_and_empty_any,
    "$filter=roles/all(r: r/isDefault) and roles/any()"
);
snap!(
    lambda_refers_to_outer,
    "$filter=roles/any(r: r/roleKey eq $it/userKey)"
);
snap!(navigation_count, "$filter=roles/$count gt 1");
snap!(
    nested_lambda,
    "$filter=roles/any(r: r/people/any(p: p/name eq 'Ann' and p/userKey ne $it/userKey))"
);
snap!(orderby_navigation_count, "$orderby=roles/$count desc");
snap!(
    date_parts,
    "$filter=year(lastLogin) eq 2024 and month(lastLogin) ge 6 and day(lastLogin) lt 15 and hour(lastLogin) eq 1 and minute(lastLogin) eq 2 and second(lastLogin) eq 3"
);
snap!(date_function, "$filter=date(lastLogin) eq 2024-01-02");
snap!(
    datetime_literal_in_utc,
    "$filter=lastLogin gt 2024-01-01T02:00:00%2B02:00 and lastLogin lt now()"
);
snap!(
    arithmetic,
    "$filter=status div 2 eq 1 and status mod 2 eq 0 and status divby 2 gt 0.5 and status add 1 sub 2 mul 3 gt -status"
);
snap!(constant_property, "$filter=isDeleted eq false and isActive");
snap!(parameter_alias, "$filter=name eq @n&@n='Ann'");
snap!(orderby_with_nulls, "$orderby=email desc,name");
snap!(orderby_expression, "$orderby=tolower(name),lastLogin");
snap!(top_and_skip, "$top=5&$skip=10&$orderby=status");
snap!(search, "$search=ann OR \"bob smith\" AND NOT x");
snap!(select_only_some, "$select=name,email");
snap!(select_computed, "$select=picture");
snap!(
    computed_null_test,
    "$filter=picture eq null or null ne picture or not (picture eq @p)&@p=null"
);
snap!(
    compute,
    "$compute=length(name) as n,tolower(email) as e&$select=name,n&$filter=n gt 3&$orderby=e desc"
);

fn apply_sql(query: &str) -> String {
    let mut out = format!("{query}\n");
    for backend in Backend::ALL {
        let plan = plan(query, backend).unwrap_or_else(|e| panic!("{query}: {e:?}"));
        let apply = plan.apply.as_ref().expect("an aggregating plan");
        out.push_str(&show(backend, &apply.page_statement(101, 0)));
        out.push_str(&show(backend, &apply.count_statement()));
    }
    out
}

#[test]
fn apply_groupby_count() {
    insta::assert_snapshot!(apply_sql(
        "$apply=groupby((status),aggregate($count as n))&$orderby=n desc"
    ));
}

#[test]
fn apply_pipeline() {
    insta::assert_snapshot!(apply_sql(
        "$apply=filter(isActive)/search(ann)/groupby((userKey,status),aggregate(status with sum as s,name with min as first,email with countdistinct as emails,status with average as avg))/orderby(s desc)/skip(1)/top(5)"
    ));
}

#[test]
fn apply_aggregate_only() {
    insta::assert_snapshot!(apply_sql(
        "$apply=aggregate($count as total,lastLogin with max as last)"
    ));
}

#[test]
fn apply_without_aggregation_is_a_filter() {
    let a = plan("$apply=filter(status eq 1)", Backend::Sqlite).unwrap();
    assert!(a.apply.is_none());
    let b = plan("$filter=status eq 1", Backend::Sqlite).unwrap();
    let sql = |p: &ReadPlan| {
        Backend::Sqlite
            .build(&p.page_statement(None, 10, 0).unwrap())
            .0
    };
    assert_eq!(sql(&a), sql(&b));
}

#[test]
fn apply_errors() {
    unsupported("$apply=groupby((roles/roleKey))", "$apply", "roles/roleKey");
    unsupported(
        "$apply=groupby((status))&$filter=status eq 1",
        "$filter",
        "status eq 1",
    );
    invalid("$apply=aggregate(name with sum as s)", "$apply", "name");
    invalid("$apply=groupby((status))/orderby(nope)", "$apply", "nope");
    unsupported(
        "$apply=aggregate(status with Mock.median as m)",
        "$apply",
        "Mock.median",
    );
}

#[test]
fn computed_properties_are_selected_by_name_only() {
    let p = plan("$compute=length(name) as n&$select=n", Backend::Sqlite).unwrap();
    assert!(p.selection.properties.is_empty());
    assert_eq!(p.selection.computed.len(), 1);
    assert_eq!(p.selection.computed[0].edm_type, EdmType::Int32);
    let p = plan("$compute=length(name) as n", Backend::Sqlite).unwrap();
    assert!(p.selection.computed.is_empty());
    invalid("$compute=length(name) as Name", "$compute", "Name");
    invalid("$compute=nope as n", "$compute", "nope");
}

#[test]
fn seek_after_a_position() {
    let query = "$orderby=email desc,name";
    let mut out = format!("{query}, after ('b@x.org', 'Bo', id) and after (null, 'Al', id)\n");
    let id = Value::Uuid(Some(uuid::Uuid::from_u128(7)));
    for backend in Backend::ALL {
        let plan = plan(query, backend).unwrap();
        let after = [Value::from("b@x.org"), Value::from("Bo"), id.clone()];
        out.push_str(&show(
            backend,
            &plan.page_statement(Some(&after), 11, 0).unwrap(),
        ));
        let after_null = [Value::String(None), Value::from("Al"), id.clone()];
        out.push_str(&show(
            backend,
            &plan.page_statement(Some(&after_null), 11, 0).unwrap(),
        ));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn seek_ascending_nullable() {
    let query = "$orderby=lastLogin";
    let mut out = format!("{query}, after (null, id) and after (t, id)\n");
    let id = Value::Uuid(Some(uuid::Uuid::from_u128(7)));
    let t = Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap();
    for backend in Backend::ALL {
        let plan = plan(query, backend).unwrap();
        let after_null = [Value::ChronoDateTimeUtc(None), id.clone()];
        out.push_str(&show(
            backend,
            &plan.page_statement(Some(&after_null), 11, 0).unwrap(),
        ));
        let after = [Value::ChronoDateTimeUtc(Some(t)), id.clone()];
        out.push_str(&show(
            backend,
            &plan.page_statement(Some(&after), 11, 0).unwrap(),
        ));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn count_statement_keeps_filter_and_tenant() {
    let query = "$filter=status eq 1&$search=ann&$count=true&$orderby=name&$top=3";
    let mut out = format!("{query}\n");
    for backend in Backend::ALL {
        let plan = plan(query, backend).unwrap();
        assert!(plan.count);
        out.push_str(&show(backend, &plan.count_statement()));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn expand_and_navigation_keys() {
    let query = "$select=name,roles&$expand=roles($select=roleKey;$filter=isDefault eq false;$orderby=description desc)";
    let mut out = format!("{query}\n");
    let parents = || {
        vec![
            Value::Uuid(Some(uuid::Uuid::from_u128(1))),
            Value::Uuid(Some(uuid::Uuid::from_u128(2))),
        ]
    };
    for backend in Backend::ALL {
        let plan = plan(query, backend).unwrap();
        assert_eq!(plan.expand.len(), 1);
        out.push_str(&show(
            backend,
            &plan.expand_statement(&plan.expand[0], parents()),
        ));
        let nav = &plan.selection.navigations[0];
        let keys = plan
            .navigation_keys_statement(&mock(), nav, parents())
            .unwrap();
        out.push_str(&show(backend, &keys));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn single_record() {
    let mut out = String::new();
    for backend in Backend::ALL {
        let plan = plan("$select=name", backend).unwrap();
        out.push_str(&show(
            backend,
            &plan.single_statement(Value::Uuid(Some(uuid::Uuid::from_u128(9)))),
        ));
    }
    insta::assert_snapshot!(out);
}

/// The concurrency column (the ETag's source) is read with every record,
/// whatever `$select` says, once (not twice when it is selected too).
#[test]
fn the_concurrency_column_is_always_read() {
    let options = |q: &str| parse_query(q, &ParserOptions::default()).unwrap();
    let model = mock();
    for backend in Backend::ALL {
        let translator = Translator::new(&model, backend);
        for (query, selected) in [
            ("$select=roleKey", false),
            ("$select=roleKey,version", true),
            ("", true),
        ] {
            let plan = translator.plan("Roles", &options(query), tenant()).unwrap();
            assert_eq!(
                plan.selection
                    .properties
                    .iter()
                    .any(|p| p.name == "version"),
                selected,
                "{query}"
            );
            for stmt in [
                plan.page_statement(None, 10, 0).unwrap(),
                plan.single_statement(Value::Uuid(Some(uuid::Uuid::from_u128(9)))),
            ] {
                let (sql, _) = backend.build(&stmt);
                let column = match backend {
                    Backend::MySql => "`roles`.`version`",
                    _ => "\"roles\".\"version\"",
                };
                assert_eq!(sql.matches(column).count(), 1, "{backend:?} {query}: {sql}");
            }
        }
        // Entities without one read only what is selected.
        let plan = translator
            .plan("People", &options("$select=name"), tenant())
            .unwrap();
        let (sql, _) =
            backend.build(&plan.single_statement(Value::Uuid(Some(uuid::Uuid::from_u128(9)))));
        assert!(!sql.contains("version"), "{sql}");
    }
}

#[test]
fn property_names_match_case_insensitively() {
    let a = page_sql("$filter=USERKEY eq 'x'&$orderby=LastLogin");
    let b = page_sql("$filter=userKey eq 'x'&$orderby=lastLogin");
    assert_eq!(
        a.lines().skip(1).collect::<Vec<_>>(),
        b.lines().skip(1).collect::<Vec<_>>()
    );
}

#[test]
fn selection_and_paging_options_are_exposed() {
    let p = plan(
        "$select=name,roles&$top=7&$skip=3&$count=true",
        Backend::Sqlite,
    )
    .unwrap();
    let names: Vec<_> = p
        .selection
        .properties
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, ["name"]);
    assert_eq!(p.selection.navigations.len(), 1);
    assert_eq!((p.top, p.skip, p.count), (Some(7), Some(3), true));
    // The key always ends the order.
    assert_eq!(p.order_keys().len(), 1);
    assert_eq!(p.order_keys()[0].edm_type, EdmType::Guid);
}

// ---------------------------------------------------------------------------
// Errors: kind, option and span
// ---------------------------------------------------------------------------

/// (is_unsupported, target, offending text)
fn error(query: &str) -> (bool, String, String) {
    let e = plan(query, Backend::Sqlite).expect_err(query);
    let span = e.span();
    let text = query.get(span.start..span.end).unwrap_or("").to_owned();
    (e.is_unsupported(), e.target().to_owned(), text)
}

fn invalid(query: &str, target: &str, text: &str) {
    assert_eq!(
        error(query),
        (false, target.to_owned(), text.to_owned()),
        "{query}"
    );
}

fn unsupported(query: &str, target: &str, text: &str) {
    assert_eq!(
        error(query),
        (true, target.to_owned(), text.to_owned()),
        "{query}"
    );
}

#[test]
fn unknown_property_is_invalid_at_its_name() {
    invalid("$filter=nmae eq 'x'", "$filter", "nmae");
    invalid("$orderby=name,nope desc", "$orderby", "nope");
    invalid("$select=name,nope", "$select", "nope");
    invalid("$filter=roles/any(r: r/nope eq 1)", "$filter", "nope");
    invalid("$expand=nope", "$expand", "nope");
}

#[test]
fn wrong_types_are_invalid() {
    invalid("$filter=name eq 1", "$filter", "eq");
    invalid("$filter=status add 'a' eq 1", "$filter", "add");
    invalid("$filter=name", "$filter", "name");
    invalid("$filter=contains(status,'a')", "$filter", "status");
    invalid("$filter=year(name) eq 1", "$filter", "name");
    invalid("$filter=roles eq 'x'", "$filter", "roles");
    invalid("$filter=name/x eq 'a'", "$filter", "x");
}

/// The parser already checks the arity of built-in functions; the
/// translator checks again for ASTs built by other means.
#[test]
fn wrong_arity_is_invalid() {
    use odata_parser::ast::ExprKind;
    let query = "$filter=contains(name,'a')";
    let mut options = parse_query(query, &ParserOptions::default()).unwrap();
    let Some(filter) = options.filter.as_mut() else {
        panic!("no filter")
    };
    let ExprKind::Call(call) = &mut filter.kind else {
        panic!("not a call")
    };
    call.args.pop();
    let e = Translator::new(&mock(), Backend::Sqlite)
        .plan("People", &options, tenant())
        .unwrap_err();
    assert!(!e.is_unsupported());
    assert_eq!(&query[e.span().start..e.span().end], "contains(name,'a')");
    assert!(e.to_string().contains("takes 2 arguments"), "{e}");
}

#[test]
fn out_of_range_paging_is_invalid() {
    invalid("$top=9223372036854775808", "$top", "9223372036854775808");
    invalid(
        "$skip=18446744073709551615",
        "$skip",
        "18446744073709551615",
    );
    assert!(plan("$top=9223372036854775807", Backend::Sqlite).is_ok());
}

#[test]
fn unsupported_features_are_reported_not_ignored() {
    unsupported("$filter=picture eq 'x'", "$filter", "picture");
    unsupported("$filter=picture gt null", "$filter", "picture");
    unsupported("$filter=contains(picture,'x')", "$filter", "picture");
    unsupported("$filter=picture eq picture", "$filter", "picture");
    unsupported("$orderby=picture", "$orderby", "picture");
    unsupported("$filter=status has Mock.Color'Red'", "$filter", "has");
    unsupported(
        "$filter=matchesPattern(name,'a.*')",
        "$filter",
        "matchesPattern",
    );
    unsupported(
        "$filter=geo.distance(name, name) lt 1",
        "$filter",
        "geo.distance",
    );
    unsupported(
        "$apply=groupby((status))/filter(status eq 1)",
        "$apply",
        "filter(status eq 1)",
    );
    unsupported("$expand=roles/$ref", "$expand", "roles/$ref");
    // Nesting needs `Translator::with_max_expand_depth`.
    unsupported("$expand=roles($expand=people)", "$expand", "people");
    unsupported("$filter=lastLogin lt 12:00:00", "$filter", "12:00:00");
    unsupported("$filter=isof(Mock.Person)", "$filter", "isof");
    unsupported("$format=xml", "$format", "xml");
}

#[test]
fn nested_expand_is_planned_to_the_depth_allowed() {
    let query = "$expand=roles($count=true;$top=1;$expand=people($select=name;$expand=roles))";
    let options = parse_query(query, &ParserOptions::default()).unwrap();
    let p = Translator::new(&mock(), Backend::Sqlite)
        .with_max_expand_depth(3)
        .plan("People", &options, tenant())
        .expect(query);
    let roles = &p.expand[0];
    assert!(roles.count);
    assert_eq!(roles.top, Some(1));
    let people = &roles.expand[0];
    assert_eq!(people.navigation.name, "people");
    assert!(!people.count);
    let names: Vec<&str> = people.properties.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["name"]);
    assert_eq!(people.expand[0].navigation.name, "roles");
    assert!(people.expand[0].expand.is_empty());

    let e = Translator::new(&mock(), Backend::Sqlite)
        .with_max_expand_depth(2)
        .plan("People", &options, tenant())
        .unwrap_err();
    assert!(!e.is_unsupported(), "{e:?}");
    assert_eq!(e.target(), "$expand");
    assert!(
        e.to_string().contains("nested 3 levels deep") && e.to_string().contains("at most 2"),
        "{e}"
    );
    // No navigation of the model leads back to its own entity type.
    invalid("$expand=roles($levels=2)", "$levels", "roles($levels=2)");
    invalid(
        "$expand=roles($levels=max)",
        "$levels",
        "roles($levels=max)",
    );
}

#[test]
fn errors_are_the_same_on_every_backend() {
    for backend in Backend::ALL {
        let e = plan("$filter=nmae eq 'x'", backend).unwrap_err();
        assert_eq!((e.span().start, e.span().end), (8, 12));
    }
}
