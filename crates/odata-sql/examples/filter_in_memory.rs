//! OData query options applied to a JSON array, without a database:
//! `odata_sql::memory::Evaluator`.
//!
//! ```sh
//! cargo run -p odata-sql --example filter_in_memory
//! ```
//!
//! `cargo test -p odata-sql --example filter_in_memory` (and `cargo test
//! --workspace`) runs `main` as a test: every result below is asserted.

use odata_sql::memory::{EvalError, Evaluator};
use serde_json::{Value, json};

fn main() {
    let products = json!([
        {"id": 1, "name": "Espresso", "price": 2.5, "stock": 40, "category": "coffee",
         "added": "2026-01-10T09:00:00Z", "tags": ["hot", "strong"]},
        {"id": 2, "name": "espresso doppio", "price": 3.8, "stock": 0, "category": "coffee",
         "added": "2026-02-01T12:30:00Z", "tags": ["hot"]},
        {"id": 3, "name": "Green tea", "price": 2.2, "stock": 15, "category": "tea",
         "added": "2025-11-20T08:15:00Z", "tags": []},
        {"id": 4, "name": "Chai latte", "price": null, "stock": 7, "category": "tea",
         "added": "2026-03-05T16:45:00Z", "tags": ["hot", "sweet"]},
    ]);
    let rows = products.as_array().expect("an array");
    let eval = Evaluator::new();

    // $filter with functions and a lambda, $orderby, $select, $count.
    let query = "$filter=stock gt 0 and tags/any(t: t eq 'hot')&$orderby=name&$select=name,stock&$count=true";
    let out = eval.apply_query(rows, query).expect("a valid query");
    println!(
        "{query}\n  -> {} (count {:?})",
        Value::from(out.rows.clone()),
        out.count
    );
    assert_eq!(
        out.rows,
        vec![
            json!({"name": "Chai latte", "stock": 7}),
            json!({"name": "Espresso", "stock": 40}),
        ]
    );
    assert_eq!(out.count, Some(2));

    // Strings compare case-sensitively (use tolower for the other kind);
    // timestamps compare as times.
    let query = "$filter=startswith(tolower(name),'espresso') and added lt 2026-02-01T12:30:00.001Z&$select=id";
    let out = eval.apply_query(rows, query).expect("a valid query");
    println!("{query}\n  -> {}", Value::from(out.rows.clone()));
    assert_eq!(out.rows, vec![json!({"id": 1}), json!({"id": 2})]);

    // Nulls: `price lt 3` is false for a null price, and nulls sort first.
    let query =
        "$filter=price lt 3 or price eq null&$orderby=price&$skip=1&$top=2&$select=id,price";
    let out = eval.apply_query(rows, query).expect("a valid query");
    println!("{query}\n  -> {}", Value::from(out.rows.clone()));
    assert_eq!(
        out.rows,
        vec![
            json!({"id": 3, "price": 2.2}),
            json!({"id": 1, "price": 2.5})
        ]
    );

    // Mistakes are typed errors with the offending option and position.
    for (query, unsupported) in [
        ("$filter=nmae eq 'Espresso'", false),
        ("$filter=price gt 'cheap'", false),
        ("$expand=category", true),
    ] {
        let Err(EvalError::Query(e)) = eval.apply_query(rows, query) else {
            panic!("{query} should fail");
        };
        println!("{query}\n  -> {} ({}, at {:?})", e, e.target(), e.span());
        assert_eq!(e.is_unsupported(), unsupported, "{query}");
    }
}

#[test]
fn the_example_runs() {
    main();
}
