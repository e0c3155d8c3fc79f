use serde_json::{Value as Json, json};

use super::{EvalError, Evaluator};
use crate::TranslateError;
use crate::schema::{
    EdmType, EntitySet, EntityType, LinkTable, Multiplicity, Navigation, Property, Schema,
};

fn people() -> Vec<Json> {
    vec![
        json!({"id": 1, "name": "Ann", "email": "ann@x.org", "age": 31, "score": 2.5,
               "born": "1990-05-01", "seen": "2024-01-02T03:04:05Z", "tags": ["admin", "dev"],
               "pets": [{"kind": "cat", "age": 3}]}),
        json!({"id": 2, "name": "bob", "email": null, "age": null, "score": 1,
               "born": null, "seen": "2024-01-02T03:04:05.5Z", "tags": [],
               "pets": []}),
        json!({"id": 3, "name": "Ángela", "email": "ANGELA@x.org", "age": 25, "score": -1.5,
               "born": "2001-12-24", "seen": null, "tags": ["dev"],
               "pets": [{"kind": "dog", "age": null}, {"kind": "cat", "age": 9}]}),
        json!({"id": 4, "name": "Zoë", "email": "zoe@x.org", "age": 40, "score": 0,
               "born": "1984-02-29", "seen": "2023-12-31T23:59:59+01:00", "tags": ["ops"],
               "pets": null}),
    ]
}

fn ids(query: &str) -> Vec<i64> {
    let out = Evaluator::new()
        .apply_query(&people(), query)
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    out.rows.iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

fn error(query: &str) -> TranslateError {
    match Evaluator::new().apply_query(&people(), query) {
        Err(EvalError::Query(e)) => e,
        other => panic!("{query}: expected a query error, got {other:?}"),
    }
}

#[test]
fn comparisons_are_two_valued_with_nulls() {
    assert_eq!(ids("$filter=age gt 30"), [1, 4]);
    assert_eq!(ids("$filter=age eq null"), [2]);
    assert_eq!(ids("$filter=age ne null"), [1, 3, 4]);
    // An order with null is false, and so is its negation's operand.
    assert_eq!(ids("$filter=age lt 100"), [1, 3, 4]);
    assert_eq!(ids("$filter=not (age lt 100)"), [2]);
    assert_eq!(ids("$filter=email in ('zoe@x.org', null)"), [2, 4]);
    assert_eq!(ids("$filter=score gt 1 or score lt -1"), [1, 3]);
}

#[test]
fn functions_of_null_are_null_in_three_valued_logic() {
    // contains(null, ..) is null: neither it nor its negation holds.
    assert_eq!(ids("$filter=contains(email,'zoe')"), [4]);
    assert_eq!(ids("$filter=not contains(email,'zoe')"), [1, 3]);
    assert_eq!(ids("$filter=contains(email,'zoe') or id eq 2"), [2, 4]);
    assert_eq!(
        ids("$filter=not contains(email,'zoe') or id eq 2"),
        [1, 2, 3]
    );
    assert_eq!(ids("$filter=not contains(email,'zoe') and id ne 1"), [3]);
}

#[test]
fn strings_compare_by_code_point_and_case_sensitively() {
    // 'Z' < 'b' < 'Á' by code point.
    assert_eq!(ids("$orderby=name"), [1, 4, 2, 3]);
    assert_eq!(ids("$filter=name gt 'Zzz'"), [2, 3]);
    assert_eq!(ids("$filter=name eq 'ann'"), Vec::<i64>::new());
    assert_eq!(ids("$filter=tolower(name) eq 'ángela'"), [3]);
    assert_eq!(ids("$filter=toupper(name) eq 'ZOË'"), [4]);
}

#[test]
fn string_functions() {
    assert_eq!(ids("$filter=startswith(name,'A')"), [1]);
    assert_eq!(ids("$filter=endswith(email,'.org')"), [1, 3, 4]);
    assert_eq!(ids("$filter=length(name) eq 6"), [3]);
    assert_eq!(ids("$filter=indexof(name,'ë') eq 2"), [4]);
    assert_eq!(ids("$filter=indexof(name,'q') eq -1"), [1, 2, 3, 4]);
    assert_eq!(ids("$filter=substring(name,1) eq 'ngela'"), [3]);
    assert_eq!(ids("$filter=substring(name,1,2) eq 'ob'"), [2]);
    assert_eq!(ids("$filter=concat(name,'!') eq 'bob!'"), [2]);
    assert_eq!(ids("$filter=trim(concat(' ',name)) eq 'Ann'"), [1]);
    assert_eq!(ids("$filter=contains(name,'%C3%AB')"), [4]);
}

#[test]
fn dates_and_times_from_strings() {
    assert_eq!(ids("$filter=seen lt 2024-01-02T03:04:05.1Z"), [1, 4]);
    assert_eq!(ids("$filter=seen eq 2023-12-31T22:59:59Z"), [4]);
    assert_eq!(ids("$filter=year(seen) eq 2024"), [1, 2]);
    assert_eq!(ids("$filter=hour(seen) eq 22"), [4]);
    assert_eq!(
        ids("$filter=second(seen) eq 5 and minute(seen) eq 4"),
        [1, 2]
    );
    assert_eq!(ids("$filter=date(seen) eq 2023-12-31"), [4]);
    assert_eq!(ids("$filter=born lt 1990-01-01"), [4]);
    assert_eq!(ids("$filter=month(born) eq 12"), [3]);
    assert_eq!(ids("$filter=seen lt now()"), [1, 2, 4]);
}

#[test]
fn arithmetic_and_rounding() {
    assert_eq!(ids("$filter=age add 1 eq 32"), [1]);
    assert_eq!(ids("$filter=age div 2 eq 12"), [3]);
    assert_eq!(ids("$filter=age divby 2 eq 12.5"), [3]);
    assert_eq!(ids("$filter=age mod 10 eq 0"), [4]);
    // Division by zero is null.
    assert_eq!(ids("$filter=age div 0 eq null"), [1, 2, 3, 4]);
    assert_eq!(ids("$filter=round(score) eq 3"), [1]);
    assert_eq!(ids("$filter=floor(score) eq -2"), [3]);
    assert_eq!(ids("$filter=ceiling(score) eq 3"), [1]);
    assert_eq!(ids("$filter=-score gt 1"), [3]);
    assert!(matches!(
        error("$filter=9223372036854775807 add age gt 0"),
        TranslateError::Invalid { .. }
    ));
}

#[test]
fn lambdas_and_counts_over_arrays() {
    assert_eq!(ids("$filter=tags/any(t: t eq 'dev')"), [1, 3]);
    assert_eq!(ids("$filter=tags/all(t: t ne 'ops')"), [1, 2, 3]);
    assert_eq!(ids("$filter=tags/any()"), [1, 3, 4]);
    assert_eq!(
        ids("$filter=pets/any(p: p/kind eq 'cat' and p/age gt 5)"),
        [3]
    );
    // A member whose predicate is null does not satisfy `all`.
    assert_eq!(ids("$filter=pets/all(p: p/age gt 0)"), [1, 2, 4]);
    assert_eq!(ids("$filter=tags/$count ge 2"), [1]);
    assert_eq!(ids("$orderby=pets/$count desc,id"), [3, 1, 2, 4]);
    assert_eq!(
        ids("$filter=pets/any(p: $it/tags/any(t: t eq 'dev') and p/kind eq 'dog')"),
        [3]
    );
}

#[test]
fn orderby_nulls_first_ascending_last_descending() {
    assert_eq!(ids("$orderby=age"), [2, 3, 1, 4]);
    assert_eq!(ids("$orderby=age desc"), [4, 1, 3, 2]);
    // Without a schema a timestamp is a string ('.' < 'Z'); with one it is
    // a time (see the last test).
    assert_eq!(ids("$orderby=seen"), [3, 4, 2, 1]);
    // Ties keep the input order without a schema.
    assert_eq!(ids("$orderby=tags/$count"), [2, 3, 4, 1]);
}

#[test]
fn paging_count_and_select() {
    let out = Evaluator::new()
        .apply_query(
            &people(),
            "$filter=age ne null&$orderby=age&$skip=1&$top=1&$count=true&$select=name,age",
        )
        .unwrap();
    assert_eq!(out.rows, vec![json!({"name": "Ann", "age": 31})]);
    assert_eq!(out.count, Some(3));
    let out = Evaluator::new()
        .apply_query(&people(), "$top=0&$inlinecount=allpages")
        .unwrap();
    assert!(out.rows.is_empty());
    assert_eq!(out.count, Some(4));
    let out = Evaluator::new()
        .apply_query(&people(), "$select=*&$skip=3")
        .unwrap();
    assert_eq!(out.rows, vec![people()[3].clone()]);
    assert_eq!(out.count, None);
}

#[test]
fn search_matches_string_properties_case_insensitively() {
    assert_eq!(ids("$search=ANN"), [1]);
    assert_eq!(ids("$search=x.org AND NOT zoe"), [1, 3]);
    assert_eq!(ids("$search=bob OR \"gela@\""), [2, 3]);
}

#[test]
fn aliases() {
    assert_eq!(ids("$filter=name eq @n&@n='bob'"), [2]);
    assert_eq!(ids("$filter=id in @ids&@ids=[1,4]"), [1, 4]);
    assert!(matches!(
        error("$filter=name eq @missing"),
        TranslateError::Invalid { .. }
    ));
}

#[test]
fn wrong_queries_are_typed_errors_never_panics() {
    for (query, unsupported) in [
        ("$filter=nmae eq 'Ann'", false),
        ("$filter=name eq 1", false),
        ("$filter=age add 'x' eq 1", false),
        ("$filter=name", false),
        ("$filter=Model.fn(p=name) eq 1", true),
        ("$filter=contains(age,'1')", false),
        ("$filter=name/x eq 1", false),
        ("$filter=pets/kind eq 'cat'", false),
        ("$filter=tags/any(t: tags/any(t: t eq 'x'))", false),
        ("$filter=year(name) eq 1", false),
        ("$select=nmae", false),
        ("$filter=isof(name, Edm.String)", true),
        ("$filter=geo.distance(name, name) lt 1", true),
        ("$filter=name has Model.Color'Red'", true),
        ("$filter=seen add duration'P1D' gt now()", true),
        ("$expand=pets", true),
        ("$apply=aggregate(age with sum as s)", true),
        ("$compute=age add 1 as next", true),
        ("$filter=pets/$count($filter=age gt 1) eq 1", true),
        ("$filter=$this/name eq 'x'", true),
        ("$select=pets($select=kind)", true),
    ] {
        let e = error(query);
        assert_eq!(e.is_unsupported(), unsupported, "{query}: {e:?}");
    }
    assert!(matches!(
        Evaluator::new().apply_query(&people(), "$filter=name eq"),
        Err(EvalError::Parse(_))
    ));
    assert_eq!(
        Evaluator::new().apply_query(&[json!(1)], "$top=1"),
        Err(EvalError::NotAnObject { index: 0 })
    );
}

struct Model(Vec<EntitySet>);

impl Schema for Model {
    fn namespace(&self) -> &str {
        "M"
    }
    fn entity_sets(&self) -> &[EntitySet] {
        &self.0
    }
}

fn model() -> Model {
    let entity = |name: &str, properties: Vec<Property>, navigations: Vec<Navigation>| EntityType {
        name: name.into(),
        table: name.to_lowercase(),
        tenant_column: "tenant".into(),
        key: vec!["id".into()],
        alternate_key: None,
        properties,
        navigations,
        searchable: vec!["name".into()],
        concurrency: None,
    };
    Model(vec![
        EntitySet {
            name: "People".into(),
            entity_type: entity(
                "Person",
                vec![
                    Property::column("id", "id", EdmType::Guid, false),
                    Property::column("name", "name", EdmType::String, false),
                    Property::column("seen", "seen", EdmType::DateTimeOffset, true),
                ],
                vec![Navigation {
                    name: "pets".into(),
                    target_set: "Pets".into(),
                    link: LinkTable {
                        table: "person_pets".into(),
                        from_column: "person".into(),
                        to_column: "pet".into(),
                    },
                    partner: None,
                    listed_by_default: true,
                    multiplicity: Multiplicity::Many,
                }],
            )
            .into(),
        },
        EntitySet {
            name: "Pets".into(),
            entity_type: entity(
                "Pet",
                vec![
                    Property::column("id", "id", EdmType::Guid, false),
                    Property::column("name", "name", EdmType::String, false),
                    Property::column("born", "born", EdmType::Date, true),
                ],
                vec![],
            )
            .into(),
        },
    ])
}

#[test]
fn a_schema_types_strings_checks_names_and_orders_by_key() {
    let rows = vec![
        json!({"id": "00000000-0000-0000-0000-00000000000B", "name": "b",
               "seen": "2024-01-02T03:04:05Z", "extra": "not in the schema",
               "pets": [{"id": "00000000-0000-0000-0000-0000000000F1", "name": "Rex", "born": "2020-02-02"}]}),
        json!({"id": "00000000-0000-0000-0000-00000000000a", "name": "a",
               "seen": "2024-01-02T03:04:05.5Z", "pets": []}),
        json!({"id": "00000000-0000-0000-0000-00000000000c", "name": "c",
               "seen": "2024-01-02T04:04:05+02:00", "pets": []}),
    ];
    let model = model();
    let eval = Evaluator::for_entity_set(&model, "people").expect("the set exists");
    let names = |query: &str| -> Vec<String> {
        eval.apply_query(&rows, query)
            .unwrap_or_else(|e| panic!("{query}: {e}"))
            .rows
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    };
    // Without $orderby, and after every $orderby item: the key (a GUID,
    // compared as one whatever its case).
    assert_eq!(names(""), ["a", "b", "c"]);
    // As times, not as text: 04:04:05+02:00 is 02:04:05Z.
    assert_eq!(names("$orderby=seen desc"), ["a", "b", "c"]);
    assert_eq!(
        names("$filter=id eq 00000000-0000-0000-0000-00000000000b"),
        ["b"]
    );
    assert_eq!(names("$filter=pets/any(p: year(p/born) eq 2020)"), ["b"]);
    assert_eq!(names("$search=B"), ["b"]);
    // Names outside the schema are unknown, even when the rows have them.
    let err = eval.apply_query(&rows, "$filter=extra eq 'x'").unwrap_err();
    assert!(matches!(
        err,
        EvalError::Query(TranslateError::Invalid { .. })
    ));
    let err = eval
        .apply_query(&rows, "$filter=pets/any(p: p/colour eq 'x')")
        .unwrap_err();
    assert!(matches!(
        err,
        EvalError::Query(TranslateError::Invalid { .. })
    ));
    assert!(Evaluator::for_entity_set(&model, "Nope").is_none());
}

#[test]
fn sorting_mixed_and_large_values_is_total() {
    // 2^53 + 1 is not a float: it sorts after the float 2^53, which equals
    // the integer 2^53; strings, numbers, Booleans and nulls never compare
    // across kinds (nulls, Booleans, numbers, strings).
    let rows = vec![
        json!({"id": 1, "v": 9_007_199_254_740_993_i64}),
        json!({"id": 2, "v": 9_007_199_254_740_992.0_f64}),
        json!({"id": 3, "v": 9_007_199_254_740_992_i64}),
        json!({"id": 4, "v": "x"}),
        json!({"id": 5, "v": null}),
        json!({"id": 6, "v": "2024-01-01T00:00:00Z"}),
        json!({"id": 7, "v": true}),
        json!({"id": 8, "v": -0.5}),
        json!({"id": 9, "v": [1]}),
        json!({"id": 10, "v": {"a": 1}}),
    ];
    let ids = |query: &str| -> Vec<i64> {
        Evaluator::new()
            .apply_query(&rows, query)
            .unwrap_or_else(|e| panic!("{query}: {e}"))
            .rows
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids("$orderby=v"), [5, 7, 8, 2, 3, 1, 6, 4, 10, 9]);
    assert_eq!(ids("$orderby=v desc"), [9, 10, 4, 6, 1, 2, 3, 8, 7, 5]);
    // Comparing across kinds in $filter is the query's mistake (here the
    // data's): an error, not an order.
    assert!(matches!(
        Evaluator::new().apply_query(&rows, "$filter=v eq 1"),
        Err(EvalError::Query(TranslateError::Invalid { .. }))
    ));
    let numbers = &rows[..3];
    let ids = |query: &str| -> Vec<i64> {
        Evaluator::new()
            .apply_query(numbers, query)
            .unwrap_or_else(|e| panic!("{query}: {e}"))
            .rows
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids("$filter=v eq 9007199254740992"), [2, 3]);
    assert_eq!(ids("$filter=v gt 9007199254740992.0"), [1]);
}
