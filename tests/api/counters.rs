//! The row counters behind unfiltered `$count` (`entity_counts`, see
//! `storage::counters`): concurrent creates and deletes through the HTTP
//! API keep them equal to `COUNT(*)`, so do the import and the demo seed;
//! unfiltered counts are read from them (a counter changed by hand shows,
//! until `odata-users recount`); the migration back-fills existing rows.
//! Runs on the backend of `ODATA_TEST_BACKEND` like every end-to-end test.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use common::{TestApp, json_of, spawn_app, temp_dir, test_backend};
use identity_service::storage::counters::{self, Counted};
use identity_service::storage::tenants;
use identity_service::tenancy::TenantScope;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::json;

/// Concurrent tasks per round.
const TASKS: usize = 8;
/// Rounds of concurrent writes, each followed by the checks.
const ROUNDS: usize = 3;

async fn scope_of(app: &TestApp, tenant: &str, org: &str) -> TenantScope {
    tenants::find(&app.pool, tenant, org)
        .await
        .expect("look the tenant up")
        .unwrap_or_else(|| panic!("no tenant {tenant}/{org}"))
}

/// `SELECT COUNT(*)` of the set's table in the tenant: the truth.
async fn rows_in(db: &DatabaseConnection, scope: &TenantScope, set: Counted) -> u64 {
    let stmt = Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from(Alias::new(set.table()))
        .and_where(Expr::col(Alias::new("tenant_id")).eq(scope.tenant_id))
        .to_owned();
    let row = db.query_one(&stmt).await.expect("COUNT(*)").expect("a row");
    let n: i64 = row.try_get("", "n").expect("the count");
    u64::try_from(n).expect("a count is not negative")
}

/// The value in `entity_counts`.
async fn counter(db: &DatabaseConnection, scope: &TenantScope, set: Counted) -> u64 {
    counters::count(db, scope, set)
        .await
        .expect("read the counter")
}

/// Adds `delta` to a counter by hand (SQL outside the service).
async fn bump_by_hand(db: &DatabaseConnection, scope: &TenantScope, set: Counted, delta: i64) {
    let stmt = Query::update()
        .table(Alias::new("entity_counts"))
        .value(
            Alias::new("count"),
            Expr::col(Alias::new("count")).add(delta),
        )
        .and_where(Expr::col(Alias::new("tenant_id")).eq(scope.tenant_id))
        .and_where(Expr::col(Alias::new("entity_set")).eq(set.entity_set()))
        .to_owned();
    let done = db.execute(&stmt).await.expect("UPDATE entity_counts");
    assert_eq!(done.rows_affected(), 1, "the counter row exists");
}

/// `GET {url}` as text (asserts 200).
async fn text_of(client: &reqwest::Client, url: &str) -> String {
    let response = client.get(url).send().await.expect("GET");
    let status = response.status();
    let body = response.text().await.expect("body");
    assert_eq!(status, StatusCode::OK, "GET {url}: {body}");
    body
}

/// `count` of an API 1 list (asserts 200).
async fn api1_count(client: &reqwest::Client, url: &str) -> u64 {
    let body = json_of(client.get(url).send().await.expect("GET"), StatusCode::OK).await;
    body["count"]
        .as_u64()
        .unwrap_or_else(|| panic!("no count in {body} from {url}"))
}

/// Every way the service reports the size of `set` without a filter, in
/// one tenant: the feed's `{Set}/$count`, its `@odata.count`, and API 1's
/// `{set}/odata?$count=true` (with and without `$top`).
async fn reported_counts(
    client: &reqwest::Client,
    address: &str,
    tenant: &str,
    set: Counted,
) -> Vec<(String, u64)> {
    let feed = format!("{address}/api/{tenant}/main/odata");
    let api1 = format!("{address}/api/{tenant}/main/identity");
    let name = set.entity_set();
    let lower = set.table();
    let mut seen = Vec::new();
    let url = format!("{feed}/{name}/$count");
    let n = text_of(client, &url).await;
    seen.push((
        url.clone(),
        n.trim()
            .parse()
            .unwrap_or_else(|e| panic!("{url}: {n:?}: {e}")),
    ));
    let url = format!("{feed}/{name}?$count=true&$top=1");
    let body = json_of(client.get(&url).send().await.expect("GET"), StatusCode::OK).await;
    seen.push((
        url.clone(),
        body["@odata.count"]
            .as_u64()
            .unwrap_or_else(|| panic!("no @odata.count in {body}")),
    ));
    for query in ["$count=true", "$count=true&$top=0&$orderby=id desc"] {
        let url = format!("{api1}/{lower}/odata?{query}");
        let n = api1_count(client, &url).await;
        seen.push((url, n));
    }
    seen
}

/// Asserts that the counter, `COUNT(*)` and every reported count agree.
async fn assert_counts_agree(
    app: &TestApp,
    client: &reqwest::Client,
    scope: &TenantScope,
    context: &str,
) {
    for set in Counted::ALL {
        let rows = rows_in(&app.pool, scope, set).await;
        let stored = counter(&app.pool, scope, set).await;
        assert_eq!(
            stored,
            rows,
            "{context}: counter of {} vs COUNT(*)",
            set.entity_set()
        );
        for (url, n) in reported_counts(client, &app.address, &scope.tenant_key, set).await {
            assert_eq!(n, rows, "{context}: {url}");
        }
    }
}

/// The statuses a step may answer with; anything else fails the test.
fn expect_status(what: &str, status: StatusCode, allowed: &[StatusCode]) {
    assert!(allowed.contains(&status), "{what}: unexpected {status}");
}

/// One task's share of a round: creates (some with memberships), a
/// duplicate, invitations (one creating a user, one re-inviting it),
/// deletes of its own and of another task's records (racing that task),
/// and creates and deletes of roles and groups.
async fn task_ops(client: reqwest::Client, base: String, round: usize, task: usize) {
    let post = |path: &str, body: serde_json::Value| {
        let request = client.post(format!("{base}/{path}")).json(&body);
        async move { request.send().await.expect("POST").status() }
    };
    let delete = |path: String| {
        let request = client.delete(format!("{base}/{path}"));
        async move { request.send().await.expect("DELETE").status() }
    };
    let created = [StatusCode::CREATED];
    let gone = [StatusCode::NO_CONTENT, StatusCode::NOT_FOUND];
    let other = (task + 1) % TASKS;
    for i in 0..3 {
        let mut body = json!({
            "userKey": format!("u{round}-{task}-{i}"),
            "name": format!("User {round} {task} {i}"),
            "isTechnician": i == 1,
        });
        if i == 0 {
            body["roles"] = json!(["base-role"]);
            body["groups"] = json!(["base-group"]);
        }
        expect_status("create user", post("users", body).await, &created);
    }
    // A duplicate key is refused (409) and counts nothing; it is 201 when
    // another task deleted the original first.
    let duplicate =
        json!({"userKey": format!("u{round}-{task}-1"), "name": "Again", "isTechnician": false});
    expect_status(
        "duplicate user",
        post("users", duplicate).await,
        &[StatusCode::CONFLICT, StatusCode::CREATED],
    );
    // An invitation creates a user; the re-invite of the same address does not.
    let email = format!("inv{round}-{task}@example.com");
    for _ in 0..2 {
        expect_status(
            "invitation",
            post("users/sendInvitation", json!({"email": email})).await,
            &[StatusCode::OK],
        );
    }
    // Its own user, then one of the next task's, which that task may not
    // have created yet, or may be deleting at the same moment.
    expect_status(
        "delete own user",
        delete(format!("users/u{round}-{task}-0")).await,
        &gone,
    );
    expect_status(
        "delete another's user",
        delete(format!("users/u{round}-{other}-2")).await,
        &gone,
    );
    expect_status(
        "delete a user twice",
        delete(format!("users/u{round}-{task}-0")).await,
        &[StatusCode::NOT_FOUND],
    );
    expect_status(
        "create role",
        post("roles", json!({"roleKey": format!("r{round}-{task}")})).await,
        &created,
    );
    expect_status(
        "create group",
        post("groups", json!({"groupKey": format!("g{round}-{task}")})).await,
        &created,
    );
    expect_status(
        "duplicate role",
        post("roles", json!({"roleKey": format!("r{round}-{task}")})).await,
        &[StatusCode::CONFLICT, StatusCode::CREATED],
    );
    // Every other task deletes its role and the next task's group; the
    // others race it for those.
    if task.is_multiple_of(2) {
        expect_status(
            "delete role",
            delete(format!("roles/r{round}-{task}")).await,
            &gone,
        );
        expect_status(
            "delete another's group",
            delete(format!("groups/g{round}-{other}")).await,
            &gone,
        );
    } else {
        expect_status(
            "delete another's role",
            delete(format!("roles/r{round}-{}", (task + TASKS - 1) % TASKS)).await,
            &gone,
        );
        expect_status(
            "delete group",
            delete(format!("groups/g{round}-{task}")).await,
            &gone,
        );
    }
}

#[tokio::test]
async fn concurrent_creates_and_deletes_keep_counters_equal_to_count_star() {
    let app = spawn_app().await;
    let scope = scope_of(&app, &app.tenant, "main").await;
    // A new tenant has its three counters, at 0.
    for set in Counted::ALL {
        assert_eq!(counter(&app.pool, &scope, set).await, 0);
    }
    assert_counts_agree(&app, &app.client, &scope, "empty tenant").await;
    app.create_role(json!({"roleKey": "base-role"})).await;
    app.create_group(json!({"groupKey": "base-group"})).await;
    // Another tenant's writes never touch this tenant's counters.
    let other = app.tenant_client(&format!("{}x", app.tenant), "main").await;
    let other_base = format!("{}/api/{}x/main/identity", app.address, app.tenant);
    let response = other
        .post(format!("{other_base}/users"))
        .json(&json!({"userKey":"elsewhere","name":"Elsewhere","isTechnician":false}))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::CREATED);

    for round in 0..ROUNDS {
        let tasks: Vec<_> = (0..TASKS)
            .map(|task| tokio::spawn(task_ops(app.client.clone(), app.base.clone(), round, task)))
            .collect();
        for task in tasks {
            task.await.expect("a task panicked");
        }
        assert_counts_agree(&app, &app.client, &scope, &format!("after round {round}")).await;
        // Each round adds at least the survivors of its own creates.
        assert!(
            rows_in(&app.pool, &scope, Counted::Users).await >= (round as u64 + 1) * TASKS as u64
        );
    }
    let other_scope = scope_of(&app, &format!("{}x", app.tenant), "main").await;
    assert_eq!(counter(&app.pool, &other_scope, Counted::Users).await, 1);
    assert_counts_agree(&app, &other, &other_scope, "the other tenant").await;
}

#[tokio::test]
async fn unfiltered_counts_come_from_the_counter_until_recount() {
    let app = spawn_app().await;
    let scope = scope_of(&app, &app.tenant, "main").await;
    for i in 0..3 {
        app.create_user(json!({"userKey": format!("u{i}"), "name": "U", "isTechnician": false}))
            .await;
    }
    // A counter changed outside the service is what unfiltered counts
    // report (they read it, not the rows); filtered ones still count rows.
    bump_by_hand(&app.pool, &scope, Counted::Users, 1000).await;
    let feed = format!("{}/api/{}/main/odata", app.address, app.tenant);
    assert_eq!(
        text_of(&app.client, &format!("{feed}/Users/$count")).await,
        "1003"
    );
    assert_eq!(
        api1_count(&app.client, &app.url("users/odata?$count=true&$top=1")).await,
        1003
    );
    assert_eq!(
        api1_count(
            &app.client,
            &app.url("users/odata?$count=true&$filter=true")
        )
        .await,
        3
    );
    assert_eq!(
        text_of(&app.client, &format!("{feed}/Users/$count?$filter=true")).await,
        "3"
    );
    assert_eq!(
        api1_count(&app.client, &app.url("users/odata?$count=true&$search=U")).await,
        3
    );
    // `odata-users recount` repairs it (and says what it changed).
    let out = cli(
        &app.db_url,
        &["recount", "--tenant", &app.tenant, "--org", "main"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "recount: {out:?}");
    assert!(stdout.contains("Users: counter 1003 -> 3"), "{stdout}");
    assert!(stdout.contains("1 counter(s) corrected"), "{stdout}");
    assert_counts_agree(&app, &app.client, &scope, "after recount").await;
    // Without --tenant it visits every tenant and finds nothing to fix.
    let out = cli(&app.db_url, &["recount"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "recount: {out:?}");
    assert!(stdout.contains(" 0 counter(s) corrected"), "{stdout}");
}

/// Runs the binary with `DATABASE_URL` set, from an empty directory.
fn cli(db_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_odata-users"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("APP_DEMO", "false")
        .env("RUST_LOG", "warn")
        .current_dir(temp_dir())
        .output()
        .expect("run odata-users")
}

/// `odata-users import --tenant T --org main DIR` (asserts success).
fn import(app: &TestApp, tenant: &str, dir: &Path) {
    let dir = dir.to_str().expect("a UTF-8 path");
    let out = cli(
        &app.db_url,
        &["import", "--tenant", tenant, "--org", "main", dir],
    );
    assert!(out.status.success(), "import: {out:?}");
}

/// Prefixes every userKey and e-mail of a generated Users file with `b-`,
/// so that it does not collide with another generated set (the generator
/// never quotes: its values hold no commas).
fn prefix_keys(file: &Path) {
    let text = std::fs::read_to_string(file).expect("read");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (key, email) = (at("userKey"), at("email"));
    let mut out = header.join(",") + "\n";
    for line in lines {
        let mut fields: Vec<String> = line.split(',').map(str::to_owned).collect();
        fields[key] = format!("b-{}", fields[key]);
        if !fields[email].is_empty() {
            fields[email] = format!("b-{}", fields[email]);
        }
        out += &(fields.join(",") + "\n");
    }
    std::fs::write(file, out).expect("write");
}

#[tokio::test]
async fn import_and_demo_seed_keep_counters_equal_to_count_star() {
    // The demo tenant is one per database.
    let app = common::spawn_app_alone().await;
    // Import into a tenant of its own (created by the import), then a
    // second file set of users only into the same tenant: the counter adds
    // up (one adjustment per file).
    let tenant = format!("{}imp", app.tenant);
    let first = common::generate_users(40, 9001);
    common::remap_ids(&first, &tenant);
    import(&app, &tenant, &first);
    let scope = scope_of(&app, &tenant, "main").await;
    assert_eq!(counter(&app.pool, &scope, Counted::Users).await, 40);
    let second = common::generate_users(25, 9002);
    for file in [
        "peer.users-Roles.csv",
        "peer.users-Groups.csv",
        "peer.users-UserRoles.csv",
        "peer.users-UserGroups.csv",
    ] {
        std::fs::remove_file(second.join(file)).expect("remove");
    }
    prefix_keys(&second.join("peer.users-Users.csv"));
    common::remap_ids(&second, &tenant);
    import(&app, &tenant, &second);
    assert_eq!(counter(&app.pool, &scope, Counted::Users).await, 65);
    for set in Counted::ALL {
        let rows = rows_in(&app.pool, &scope, set).await;
        assert!(rows > 0, "{} imported", set.entity_set());
        assert_eq!(
            counter(&app.pool, &scope, set).await,
            rows,
            "import: {}",
            set.entity_set()
        );
    }
    let client = app.tenant_client(&tenant, "main").await;
    for set in Counted::ALL {
        let rows = rows_in(&app.pool, &scope, set).await;
        for (url, n) in reported_counts(&client, &app.address, &tenant, set).await {
            assert_eq!(n, rows, "{url}");
        }
    }

    // The demo seed (CLI) into demo/main.
    let out = cli(&app.db_url, &["demo", "--users", "30"]);
    assert!(out.status.success(), "demo: {out:?}");
    let demo = scope_of(&app, "demo", "main").await;
    for (set, expected) in [
        (Counted::Users, 30),
        (Counted::Roles, 20),
        (Counted::Groups, 50),
    ] {
        assert_eq!(rows_in(&app.pool, &demo, set).await, expected);
        assert_eq!(
            counter(&app.pool, &demo, set).await,
            expected,
            "demo: {}",
            set.entity_set()
        );
    }
}

/// A fresh, empty database of the backend under test (dropped by the
/// caller), and a function that drops it.
async fn fresh_database() -> (String, Option<(DatabaseConnection, String)>) {
    use sea_orm::Database;
    let Some((admin_url, mysql)) = test_backend().admin_url() else {
        let url = format!(
            "sqlite://{}?mode=rwc",
            temp_dir().join("migrate.db").display()
        );
        return (url, None);
    };
    let admin = Database::connect(&admin_url)
        .await
        .expect("admin connection");
    let name = format!("odata_mig_counters_{}", std::process::id());
    admin
        .execute_unprepared(&common::drop_sql(&name, mysql))
        .await
        .expect("drop");
    admin
        .execute_unprepared(&common::create_sql(&name, mysql))
        .await
        .expect("create");
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b.to_owned())
        .expect("URL with a path");
    (
        format!("{base}/{name}"),
        Some((admin, common::drop_sql(&name, mysql))),
    )
}

#[tokio::test]
async fn the_migration_back_fills_counters_from_existing_rows() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::Database;
    let (url, admin) = fresh_database().await;
    let db = Database::connect(&url).await.expect("connect");
    // The schema before the counters (migrations 1 to 7).
    Migrator::up(&db, Some(7)).await.expect("migrate to 7");
    let now = chrono_now();
    let tenant = |key: &str| {
        let id = uuid::Uuid::new_v4();
        let stmt = Query::insert()
            .into_table(Alias::new("tenants"))
            .columns(
                [
                    "id",
                    "tenant_key",
                    "org_key",
                    "tenant_key_norm",
                    "org_key_norm",
                    "created_on",
                ]
                .map(Alias::new),
            )
            .values_panic([
                id.into(),
                key.into(),
                "main".into(),
                key.into(),
                "main".into(),
                now.clone().into(),
            ])
            .to_owned();
        (id, stmt)
    };
    let (full, stmt) = tenant("full");
    db.execute(&stmt).await.expect("tenant");
    let (empty, stmt) = tenant("empty");
    db.execute(&stmt).await.expect("tenant");
    let base_columns = ["created_on", "modified_on"];
    for (table, key_column, n) in [
        ("users", "user_key", 5),
        ("roles", "role_key", 3),
        ("groups", "group_key", 2),
    ] {
        for i in 0..n {
            let key = format!("{table}{i}");
            let mut columns = vec!["id", "tenant_id", key_column];
            let norm = format!("{key_column}_norm");
            columns.push(&norm);
            if table == "users" {
                columns.push("name");
            }
            columns.extend(base_columns);
            let mut values: Vec<sea_query::Value> = vec![
                uuid::Uuid::new_v4().into(),
                full.into(),
                key.clone().into(),
                key.clone().into(),
            ];
            if table == "users" {
                values.push("Name".into());
            }
            values.extend([now.clone(), now.clone()]);
            let stmt = Query::insert()
                .into_table(Alias::new(table))
                .columns(columns.into_iter().map(Alias::new))
                .values_panic(values.into_iter().map(Expr::val))
                .to_owned();
            db.execute(&stmt).await.expect("insert a row by hand");
        }
    }
    Migrator::up(&db, None)
        .await
        .expect("migrate to the latest");
    let scope = |id| TenantScope {
        tenant_id: id,
        tenant_key: "".into(),
        org_key: "".into(),
    };
    for (set, expected) in [
        (Counted::Users, 5),
        (Counted::Roles, 3),
        (Counted::Groups, 2),
    ] {
        assert_eq!(
            counter(&db, &scope(full), set).await,
            expected,
            "{}",
            set.entity_set()
        );
        assert_eq!(rows_in(&db, &scope(full), set).await, expected);
        assert_eq!(counter(&db, &scope(empty), set).await, 0);
    }
    // Every tenant got its three rows, even an empty one.
    let stmt = Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from(Alias::new("entity_counts"))
        .to_owned();
    let row = db.query_one(&stmt).await.expect("select").expect("row");
    assert_eq!(row.try_get::<i64>("", "n").expect("n"), 6);
    // Down (the invitation issuer's migration, the change log's, then this
    // one) drops the table; up again back-fills again.
    Migrator::down(&db, Some(3)).await.expect("down three");
    assert!(db.query_one(&stmt).await.is_err(), "entity_counts is gone");
    Migrator::up(&db, None).await.expect("up again");
    assert_eq!(counter(&db, &scope(full), Counted::Users).await, 5);
    db.close().await.expect("close");
    if let Some((admin, drop)) = admin {
        admin
            .execute_unprepared(&drop)
            .await
            .expect("drop the database");
    }
}

fn chrono_now() -> sea_query::Value {
    identity_service::domain::now().into()
}
