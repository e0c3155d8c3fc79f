//! Indexes checked with each database's EXPLAIN: the read path's own
//! statements (taken from the translator exactly as `examples/show_sql.rs`
//! prints them) for the common queries of the shared query set, on the
//! backend under test (`ODATA_TEST_BACKEND`: SQLite `EXPLAIN QUERY PLAN`,
//! PostgreSQL `EXPLAIN` with `enable_seqscan = off` so that the plan shows
//! which index CAN serve the query at any table size, MariaDB `EXPLAIN`),
//! over the demo data (1000 users with roles and groups), analyzed.

mod common;

use common::TestBackend;
use identity_service::configuration::Settings;
use identity_service::odata::schema::identity_schema;
use identity_service::storage::{db, tenants};
use odata_parser::{ParserOptions, parse_query};
use odata_sql::{Backend, TenantFilter, Translator};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, Statement, TransactionTrait,
};
use sea_query::{SelectStatement, Value};

struct Database {
    conn: DatabaseConnection,
    backend: Backend,
    test: TestBackend,
}

impl Database {
    /// The plan of `stmt` as text (one line per plan node / table).
    async fn plan(&self, txn: &DatabaseTransaction, stmt: &SelectStatement) -> String {
        let (sql, values) = self.backend.build(stmt);
        let explain = match self.test {
            TestBackend::Sqlite => format!("EXPLAIN QUERY PLAN {sql}"),
            TestBackend::Postgres | TestBackend::MySql => format!("EXPLAIN {sql}"),
        };
        let rows = txn
            .query_all_raw(Statement::from_sql_and_values(
                self.conn.get_database_backend(),
                explain,
                values,
            ))
            .await
            .unwrap_or_else(|e| panic!("EXPLAIN {sql}: {e}"));
        let mut lines = Vec::new();
        for row in rows {
            let line = match self.test {
                TestBackend::Sqlite => row.try_get::<String>("", "detail").unwrap_or_default(),
                TestBackend::Postgres => {
                    row.try_get::<String>("", "QUERY PLAN").unwrap_or_default()
                }
                TestBackend::MySql => {
                    let get = |c: &str| {
                        row.try_get::<Option<String>>("", c)
                            .ok()
                            .flatten()
                            .unwrap_or_default()
                    };
                    format!(
                        "table={} type={} key={} possible_keys={} extra={}",
                        get("table"),
                        get("type"),
                        get("key"),
                        get("possible_keys"),
                        get("Extra")
                    )
                }
            };
            lines.push(line);
        }
        lines.join("\n")
    }
}

/// Whether the plan reads `table` through `index`.
fn uses(test: TestBackend, plan: &str, table: &str, index: &str) -> bool {
    plan.lines().any(|line| match test {
        TestBackend::Sqlite => {
            line.contains(&format!("USING INDEX {index}"))
                || line.contains(&format!("USING COVERING INDEX {index}"))
        }
        TestBackend::Postgres => {
            line.contains(&format!("using {index} on {table}"))
                || line.contains(&format!("Bitmap Index Scan on {index}"))
        }
        TestBackend::MySql => {
            line.split_whitespace().any(|w| w == format!("key={index}"))
                || line.contains(&format!("key={index},"))
        }
    })
}

/// The first-page statement (and the `$expand` statements) of a query.
fn statements(
    backend: Backend,
    set: &str,
    query: &str,
    tenant: uuid::Uuid,
    parents: &[uuid::Uuid],
) -> Vec<(String, SelectStatement)> {
    let options = parse_query(query, &ParserOptions::default())
        .unwrap_or_else(|e| panic!("{query}: {}", e.render(query)));
    let plan = Translator::new(identity_schema(), backend)
        .plan(
            set,
            &options,
            TenantFilter {
                value: tenant.into(),
            },
        )
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    let mut out = vec![(
        "page".to_owned(),
        plan.page_statement(None, 101, 0).expect("page statement"),
    )];
    for expand in &plan.expand {
        let values: Vec<Value> = parents.iter().map(|p| Value::from(*p)).collect();
        out.push((
            format!("$expand={}", expand.navigation.name),
            plan.expand_statement(expand, values),
        ));
    }
    out
}

#[tokio::test]
async fn the_common_queries_use_their_indexes() {
    let test = common::test_backend();
    let url = common::backend_database_url().await;
    let settings = Settings {
        database_url: url,
        demo: true,
        demo_users: 1000,
        db_max_connections: 2,
        db_statement_cache: !common::through_pgbouncer(),
        ..Settings::default()
    };
    let conn = db::connect(&settings).await.expect("connect");
    db::migrate(&settings, &conn).await.expect("migrate");
    let demo = identity_service::demo::seed_if_empty(&conn, &settings)
        .await
        .expect("seed the demo data")
        .expect("the database was empty");
    let scope = tenants::find(&conn, &demo.tenant_key, &demo.org_key)
        .await
        .expect("tenant lookup")
        .expect("the demo tenant");
    let backend = match test {
        TestBackend::Sqlite => Backend::Sqlite,
        TestBackend::Postgres => Backend::Postgres,
        TestBackend::MySql => Backend::MySql,
    };
    let analyze = match test {
        TestBackend::Sqlite | TestBackend::Postgres => "ANALYZE".to_owned(),
        TestBackend::MySql => {
            "ANALYZE TABLE users, roles, `groups`, user_roles, user_groups, tenants".to_owned()
        }
    };
    conn.execute_unprepared(&analyze).await.expect("analyze");

    // Real values from the demo data, so the plans are those of real lookups.
    let pick = |sql: &str| {
        let conn = conn.clone();
        let sql = sql.to_owned();
        async move {
            conn.query_one_raw(Statement::from_string(
                conn.get_database_backend(),
                sql.clone(),
            ))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .expect("a row")
        }
    };
    let user =
        pick("SELECT user_key, email FROM users WHERE email IS NOT NULL ORDER BY user_key LIMIT 1")
            .await;
    let user_key: String = user.try_get("", "user_key").expect("user_key");
    let email: String = user.try_get("", "email").expect("email");
    let latest = match test {
        TestBackend::Postgres => {
            "SELECT to_char(max(last_login) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS v FROM users"
        }
        TestBackend::MySql => {
            "SELECT DATE_FORMAT(max(last_login), '%Y-%m-%dT%H:%i:%sZ') AS v FROM users"
        }
        TestBackend::Sqlite => {
            "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', max(last_login)) AS v FROM users"
        }
    };
    let latest: String = pick(latest)
        .await
        .try_get("", "v")
        .expect("latest lastLogin");
    let role_row = pick("SELECT id FROM roles ORDER BY role_key LIMIT 1").await;
    let role: uuid::Uuid = role_row.try_get("", "id").expect("role id");
    let user_ids: Vec<uuid::Uuid> = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT id FROM users ORDER BY id LIMIT 3",
        ))
        .await
        .expect("user ids")
        .iter()
        .map(|r| r.try_get("", "id").expect("id"))
        .collect();

    let database = Database {
        conn: conn.clone(),
        backend,
        test,
    };
    // (what, entity set, query, table, index that must serve it)
    let cases: Vec<(&str, &str, String, &str, &str)> = vec![
        (
            "key eq",
            "Users",
            format!("$filter=userKey eq '{user_key}'"),
            "users",
            "ix_users_user_key",
        ),
        (
            "email eq",
            "Users",
            format!("$filter=email eq '{email}'"),
            "users",
            "ix_users_email",
        ),
        (
            "name eq",
            "Users",
            "$filter=name eq 'Nobody Here'".to_owned(),
            "users",
            "ix_users_name",
        ),
        (
            "status and isTechnician",
            "Users",
            "$filter=status eq 1 and isTechnician eq true".to_owned(),
            "users",
            "ix_users_status",
        ),
        (
            "lastLogin ge",
            "Users",
            format!("$filter=lastLogin ge {latest}"),
            "users",
            "ix_users_last_login",
        ),
        (
            "roles/any (membership by role)",
            "Users",
            format!("$filter=roles/any(r: r/id eq {role})"),
            "user_roles",
            "ix_user_roles_role",
        ),
        (
            "role key eq",
            "Roles",
            "$filter=roleKey eq 'nobody'".to_owned(),
            "roles",
            "ix_roles_role_key",
        ),
    ];
    // `$orderby=name` (code-point order): a page read in index order. Not
    // on MariaDB, which cannot index the `CAST(name AS BINARY)` it orders
    // by (docs/scale-out.md, "Indexes").
    let mut cases = cases;
    match test {
        TestBackend::Postgres => cases.push((
            "orderby name",
            "Users",
            "$orderby=name".to_owned(),
            "users",
            "ix_users_name_order",
        )),
        TestBackend::Sqlite => cases.push((
            "orderby name",
            "Users",
            "$orderby=name".to_owned(),
            "users",
            "ix_users_name",
        )),
        TestBackend::MySql => {}
    }
    let txn = conn.begin().await.expect("begin");
    if test == TestBackend::Postgres {
        txn.execute_unprepared("SET LOCAL enable_seqscan = off")
            .await
            .expect("enable_seqscan");
    }
    let mut failures = Vec::new();
    for (what, set, query, table, index) in &cases {
        let (_, stmt) = statements(backend, set, query, scope.tenant_id, &user_ids)
            .into_iter()
            .next()
            .expect("page statement");
        let plan = database.plan(&txn, &stmt).await;
        if !uses(test, &plan, table, index) {
            failures.push(format!(
                "{what} ({query}): expected {index} on {table}\n{plan}"
            ));
        }
    }
    // $expand=roles reads the membership table by user (its primary key).
    let expand = statements(
        backend,
        "Users",
        "$expand=roles",
        scope.tenant_id,
        &user_ids,
    );
    let (_, stmt) = expand
        .iter()
        .find(|(name, _)| name == "$expand=roles")
        .expect("expand statement");
    let plan = database.plan(&txn, stmt).await;
    let membership_by_user = match test {
        TestBackend::Postgres => plan
            .lines()
            .any(|l| l.contains(" on user_roles") && (l.contains("Index") || l.contains("Bitmap"))),
        TestBackend::MySql => plan
            .lines()
            .any(|l| l.contains("table=l ") && l.contains("key=PRIMARY")),
        TestBackend::Sqlite => plan
            .lines()
            .any(|l| l.contains("SEARCH l USING") && l.contains("user_id=?")),
    };
    if !membership_by_user {
        failures.push(format!(
            "$expand=roles: expected user_roles read by user\n{plan}"
        ));
    }
    txn.rollback().await.expect("rollback");
    assert!(
        failures.is_empty(),
        "{:?}: queries not served by their index:\n\n{}",
        test,
        failures.join("\n\n")
    );
}
