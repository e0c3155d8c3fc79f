//! Strings compare and sort by code point on every backend, through the
//! translator's own statements, and the code-point collations in MariaDB's
//! catalog.

use super::*;

/// Names that differ only in case, accents, trailing or leading spaces, or
/// hold `LIKE` wildcards, the escape character or a character beyond the
/// Basic Multilingual Plane.
const NAMES: &[&str] = &[
    "abc", "abc ", " abc", "ABC", "Abc", "ab", "B", "a", "á", "Á", "a_c", "a%c", "a!c", "z", "😀",
];

/// A `$filter` and the names it must select.
type Filter = (&'static str, fn(&str) -> bool);

/// `$filter`s over [`NAMES`] and the names they must select, by OData's
/// rules (Rust compares `str` by code point, as OData does).
const FILTERS: &[Filter] = &[
    ("name eq 'abc'", |n| n == "abc"),
    ("name eq 'abc '", |n| n == "abc "),
    ("name eq 'ABC'", |n| n == "ABC"),
    ("name ne 'abc'", |n| n != "abc"),
    ("name in ('abc', 'B', 'á')", |n| {
        ["abc", "B", "á"].contains(&n)
    }),
    ("name gt 'abc'", |n| n > "abc"),
    ("name ge 'abc '", |n| n >= "abc "),
    ("name lt 'a'", |n| n < "a"),
    ("name le 'abc'", |n| n <= "abc"),
    ("startswith(name,'abc')", |n| n.starts_with("abc")),
    ("startswith(name,'abc ')", |n| n.starts_with("abc ")),
    ("startswith(name,'a_')", |n| n.starts_with("a_")),
    ("startswith(name,'a%25')", |n| n.starts_with("a%")),
    ("startswith(name,'a!')", |n| n.starts_with("a!")),
    ("startswith(name,'á')", |n| n.starts_with('á')),
    ("startswith(name,'')", |_| true),
    ("contains(name,'bc')", |n| n.contains("bc")),
    ("endswith(name,'c')", |n| n.ends_with('c')),
    ("tolower(name) eq 'abc'", |n| n.to_lowercase() == "abc"),
    ("name eq concat('ab','c')", |n| n == "abc"),
    ("name eq trim(name)", |n| n.trim() == n),
];

/// Strings compare and sort by code point on every backend, whether the
/// translator compares the plain column (in a code-point collation: SQLite,
/// and MariaDB after `m20261130_000004_code_point_strings`) or makes the
/// comparison exact itself (PostgreSQL, and expressions other than a
/// column): the translator's own statements over [`NAMES`], in a tenant of
/// their own. On MariaDB, also: the columns the schema says are in a
/// code-point collation are `utf8mb4_nopad_bin` in the database's catalog.
#[tokio::test]
async fn strings_compare_and_sort_by_code_point() {
    let test = common::test_backend();
    let (url, _) = demo_database(test).await;
    let conn = connect(&url).await;
    let backend = translator_backend(test);
    let db_backend = conn.get_database_backend();

    let key = |v: &str, field: &str| TenantKey::parse(v, field).expect("tenant key");
    let (scope, _) = tenants::create(&conn, &key("codepoint", "tenant"), &key("main", "org"))
        .await
        .expect("create the tenant");
    let now = sea_query::prelude::Utc::now();
    let mut insert = Query::insert();
    insert.into_table(Alias::new("users")).columns(
        [
            "id",
            "tenant_id",
            "user_key",
            "user_key_norm",
            "name",
            "created_on",
            "modified_on",
        ]
        .map(Alias::new),
    );
    let users: Vec<(String, &str)> = NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| (format!("cp{i:02}"), *name))
        .collect();
    for (user_key, name) in &users {
        insert
            .values([
                uuid::Uuid::new_v4().into(),
                scope.tenant_id.into(),
                user_key.as_str().into(),
                user_key.as_str().into(),
                (*name).into(),
                now.into(),
                now.into(),
            ])
            .expect("one value per column");
    }
    // In an explicit transaction, committed before the reads, as every
    // write of the service is: through pgbouncer's transaction pooling a
    // bare statement is committed only when its pool connection is given
    // back (`storage::db`), which may come after the next read.
    let txn = conn.begin().await.expect("begin");
    txn.execute_raw(db_backend.build(&insert))
        .await
        .expect("insert the users");
    txn.commit().await.expect("commit the users");

    let tenant = scope.tenant_id;
    let rows = |query: String, after: Option<Vec<Value>>, limit: u64| {
        let conn = conn.clone();
        async move {
            let options = parse_query(&query, &ParserOptions::default())
                .unwrap_or_else(|e| panic!("{query}: {}", e.render(&query)));
            let plan = Translator::new(identity_schema(), backend)
                .plan(
                    "Users",
                    &options,
                    TenantFilter {
                        value: tenant.into(),
                    },
                )
                .unwrap_or_else(|e| panic!("{query}: {e}"));
            let stmt = plan
                .page_statement(after.as_deref(), limit, 0)
                .expect("page statement");
            let (sql, values) = backend.build(&stmt);
            conn.query_all_raw(Statement::from_sql_and_values(
                db_backend,
                sql.clone(),
                values,
            ))
            .await
            .unwrap_or_else(|e| panic!("{query}: {sql}: {e}"))
        }
    };
    let names_of = |keys: Vec<String>| -> Vec<&str> {
        keys.iter()
            .map(|k| {
                users
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, name)| *name)
                    .expect("a user of this test")
            })
            .collect()
    };
    let user_keys = |rows: &[sea_orm::QueryResult]| -> Vec<String> {
        rows.iter()
            .map(|r| r.try_get::<String>("", "user_key").expect("user_key"))
            .collect()
    };

    let mut failures = Vec::new();
    for (filter, selects) in FILTERS {
        let found = user_keys(&rows(format!("$filter={filter}&$orderby=userKey"), None, 100).await);
        let expected: Vec<String> = users
            .iter()
            .filter(|(_, name)| selects(name))
            .map(|(key, _)| key.clone())
            .collect();
        if found != expected {
            failures.push(format!(
                "$filter={filter}: found {:?}, expected {:?}",
                names_of(found),
                names_of(expected)
            ));
        }
    }

    // The whole order, then page by page (keyset paging on the name).
    let mut by_code_point: Vec<&str> = NAMES.to_vec();
    by_code_point.sort_unstable();
    for descending in [false, true] {
        let orderby = if descending { "name desc" } else { "name" };
        let mut expected = by_code_point.clone();
        if descending {
            expected.reverse();
        }
        let whole = names_of(user_keys(
            &rows(format!("$orderby={orderby}"), None, 100).await,
        ));
        if whole != expected {
            failures.push(format!(
                "$orderby={orderby}: found {whole:?}, expected {expected:?}"
            ));
        }
        let mut paged = Vec::new();
        let mut after = None;
        loop {
            let page = rows(format!("$orderby={orderby}&$top=4"), after.take(), 4).await;
            paged.extend(names_of(user_keys(&page)));
            let Some(last) = page.last() else { break };
            let name: String = last.try_get("", "__k0").expect("the name key");
            let id: uuid::Uuid = last.try_get("", "__k1").expect("the id key");
            after = Some(vec![Value::from(name), Value::from(id)]);
            if paged.len() > NAMES.len() {
                break;
            }
        }
        if paged != expected {
            failures.push(format!(
                "$orderby={orderby} page by page: found {paged:?}, expected {expected:?}"
            ));
        }
    }
    // Aggregates: `abc` and `abc ` are two values, `abc ` the larger.
    for (aggregate, selects) in [
        ("", (|_| true) as fn(&str) -> bool),
        ("filter(startswith(name,'abc'))/", |n| n.starts_with("abc")),
        ("filter(tolower(name) eq 'abc')/", |n| {
            n.to_lowercase() == "abc"
        }),
    ] {
        let query = format!(
            "$apply={aggregate}aggregate(name with countdistinct as n,name with max as hi,name with min as lo)"
        );
        let options = parse_query(&query, &ParserOptions::default())
            .unwrap_or_else(|e| panic!("{query}: {}", e.render(&query)));
        let plan = Translator::new(identity_schema(), backend)
            .plan(
                "Users",
                &options,
                TenantFilter {
                    value: tenant.into(),
                },
            )
            .unwrap_or_else(|e| panic!("{query}: {e}"));
        let apply = plan.apply.as_ref().expect("an aggregation");
        let (sql, values) = backend.build(&apply.page_statement(10, 0));
        let row = conn
            .query_one_raw(Statement::from_sql_and_values(
                db_backend,
                sql.clone(),
                values,
            ))
            .await
            .unwrap_or_else(|e| panic!("{query}: {sql}: {e}"))
            .expect("one row");
        let found = (
            row.try_get::<i64>("", "n").expect("n"),
            row.try_get::<String>("", "hi").expect("hi"),
            row.try_get::<String>("", "lo").expect("lo"),
        );
        let selected: Vec<&str> = NAMES.iter().copied().filter(|n| selects(n)).collect();
        let expected = (
            selected.len() as i64,
            selected
                .iter()
                .max()
                .map(|s| s.to_string())
                .unwrap_or_default(),
            selected
                .iter()
                .min()
                .map(|s| s.to_string())
                .unwrap_or_default(),
        );
        if found != expected {
            failures.push(format!("{query}: found {found:?}, expected {expected:?}"));
        }
    }

    // What the code-point order means, spelled out.
    let position = |n: &str| by_code_point.iter().position(|x| *x == n);
    assert!(position("B") < position("a") && position("a") < position("á"));
    assert!(position("ABC") < position("Abc") && position("abc") < position("abc "));

    if test == TestBackend::MySql {
        let mut checked = 0;
        for set in identity_schema().entity_sets() {
            let entity = &set.entity_type;
            for property in &entity.properties {
                let Some(column) = property.column_name() else {
                    continue;
                };
                if property.edm_type != EdmType::String {
                    continue;
                }
                let collation: String = conn
                    .query_one_raw(Statement::from_sql_and_values(
                        db_backend,
                        "SELECT COLLATION_NAME AS c FROM information_schema.COLUMNS \
                         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?",
                        [Value::from(entity.table.as_str()), Value::from(column)],
                    ))
                    .await
                    .expect("the catalog")
                    .unwrap_or_else(|| panic!("no column {}.{column}", entity.table))
                    .try_get("", "c")
                    .expect("COLLATION_NAME");
                let claimed =
                    identity_schema().code_point_collation(Backend::MySql, entity, property);
                if claimed != (collation == "utf8mb4_nopad_bin") {
                    failures.push(format!(
                        "{}.{column} is {collation}, but the schema says code point: {claimed}",
                        entity.table
                    ));
                }
                checked += 1;
            }
        }
        assert!(checked >= 10, "only {checked} string columns checked");
    }
    assert!(
        failures.is_empty(),
        "{test:?}: strings not compared by code point:\n\n{}",
        failures.join("\n")
    );
}
