//! Differential test of the read path: hundreds of generated OData queries
//! (deterministic seed) over the generated users must return exactly the
//! rows, in the order, that the reference computes in memory with OData
//! semantics — following every `nextPageLink`. The reference is
//! `odata-sql`'s public in-memory evaluator (`odata_sql::memory`) over the
//! same records, typed by the service's schema.
//!
//! The data comes from `odata-users generate 300` (the project's generator,
//! `identity_service::sample_data`), imported with the
//! service's CSV importer. The evaluator knows nothing of SQL:
//! three-valued logic for functions on null, two-valued comparisons (`null eq
//! null` is true), case-sensitive strings ordered by code point, nulls first
//! ascending and last descending, the key as the last sort item.
//!
//! The test application's database (SQLite, or `ODATA_TEST_BACKEND`) is
//! queried over HTTP (`GET users/odata` on the real application); when
//! `ODATA_TEST_POSTGRES_URL` / `ODATA_TEST_MYSQL_URL` are set, the same
//! queries run through `identity_service::odata::list` on a fresh database
//! of that server (required when `ODATA_TEST_REQUIRE_BACKENDS=1`).

use crate::common;

mod filters;
mod queries;

use filters::*;
use queries::*;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use identity_service::odata::schema::{self, identity_schema};
use identity_service::odata::{EntityKind, ReadContext, Shape, list_query};
use identity_service::tenancy::TenantScope;
use odata_parser::ast::{CountOption, Span};
use odata_parser::{ParserOptions, parse_query};
use odata_sql::memory::Evaluator;
use reqwest::StatusCode;
use serde_json::{Value as Json, json};
use uuid::Uuid;

const USERS: usize = 300;
const QUERIES: usize = 200;

// ---------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct User {
    id: String,
    user_key: String,
    name: String,
    culture: Option<String>,
    is_technician: bool,
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` as generated (fixed width: sorts as time).
    last_login: Option<String>,
    email: Option<String>,
    status: i64,
    is_active: bool,
    /// External picture URL, kept as given by the importer.
    picture: Option<String>,
    roles: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Role {
    key: String,
    description: Option<String>,
}

struct Data {
    dir: PathBuf,
    users: Vec<User>,
    roles: Vec<Role>,
}

/// Runs the generator into a fresh directory and reads its CSV files.
fn generate(tenant: &str) -> Data {
    let dir = common::temp_dir();
    identity_service::sample_data::write_dir(
        &dir,
        USERS,
        identity_service::sample_data::DEFAULT_SEED,
    )
    .expect("generate the test data");
    common::remap_ids(&dir, tenant);

    let read = |file: &str| -> Vec<HashMap<String, String>> {
        let text = std::fs::read_to_string(dir.join(file))
            .unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
        let mut rows = common::parse_csv(&text).into_iter();
        let header = rows.next().expect("header row");
        rows.map(|r| header.iter().cloned().zip(r).collect())
            .collect()
    };
    let opt = |s: &String| (!s.is_empty()).then(|| s.clone());

    let mut role_index = HashMap::new();
    let roles: Vec<Role> = read("peer.users-Roles.csv")
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            role_index.insert(r["ID"].to_lowercase(), i);
            Role {
                key: r["roleKey"].clone(),
                description: opt(&r["name"]),
            }
        })
        .collect();
    let mut user_index = HashMap::new();
    let mut users: Vec<User> = read("peer.users-Users.csv")
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let id = r["ID"].to_lowercase();
            user_index.insert(id.clone(), i);
            User {
                id,
                user_key: r["userKey"].clone(),
                name: r["name"].clone(),
                culture: opt(&r["culture"]),
                is_technician: r["isTechnician"] == "true",
                last_login: opt(&r["lastLogin"]),
                email: opt(&r["email"]),
                status: r["status"].parse().expect("status"),
                is_active: r["isActive"] == "true",
                picture: opt(&r["picture"]),
                roles: Vec::new(),
            }
        })
        .collect();
    for link in read("peer.users-UserRoles.csv") {
        let u = user_index[&link["user_ID"].to_lowercase()];
        let r = role_index[&link["role_ID"].to_lowercase()];
        users[u].roles.push(r);
    }
    Data { dir, users, roles }
}

// ---------------------------------------------------------------------------
// Running queries and comparing
// ---------------------------------------------------------------------------

/// The JSON the API must produce for a user's field.
fn expected_field(u: &User, field: &str, data: &Data) -> Json {
    match field {
        "id" => Json::String(u.id.clone()),
        "userKey" => Json::String(u.user_key.clone()),
        "name" => Json::String(u.name.clone()),
        "email" => u.email.clone().map_or(Json::Null, Json::String),
        "culture" => u.culture.clone().map_or(Json::Null, Json::String),
        "status" => Json::from(u.status),
        "isTechnician" => Json::Bool(u.is_technician),
        "isActive" => Json::Bool(u.is_active),
        "isDeleted" => Json::Bool(false),
        "picture" => u.picture.clone().map_or(Json::Null, Json::String),
        "lastLogin" => u.last_login.as_deref().map_or(Json::Null, |t| {
            let t = t.trim_end_matches('Z');
            let (secs, frac) = t.split_once('.').unwrap_or((t, ""));
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                Json::String(format!("{secs}Z"))
            } else {
                Json::String(format!("{secs}.{frac:0<3}Z"))
            }
        }),
        "roles" => {
            let mut keys: Vec<String> =
                u.roles.iter().map(|r| data.roles[*r].key.clone()).collect();
            keys.sort_by(|a, b| a.to_lowercase().cmp(&b.to_lowercase()).then(a.cmp(b)));
            Json::Array(keys.into_iter().map(Json::String).collect())
        }
        other => panic!("no reference for {other}"),
    }
}

struct Page {
    items: Vec<Json>,
    next: Option<String>,
    count: Option<u64>,
}

/// Runs every generated query through `fetch` (first page from the raw
/// query, then each next link) and compares with the reference.
async fn check_all<F, Fut>(data: &Data, mut fetch: F)
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Page>,
{
    let rows = records(data);
    let mut rng = Rng(0x5EED_0DA7_A5EE_D001);
    let mut total_rows = 0;
    for n in 0..QUERIES {
        let q = gen_query(&mut rng, data);
        let raw = q.raw();
        let (expected, expected_count) = q.expected(data, &rows);
        let mut got: Vec<Json> = Vec::new();
        let mut page = fetch(raw.clone()).await;
        let first_count = page.count;
        let mut pages = 1;
        loop {
            assert!(page.items.len() <= 100, "query {n} `{raw}`: page over 100");
            if let Some(c) = page.count {
                assert_eq!(c as usize, expected_count, "query {n} `{raw}`: count");
            }
            got.append(&mut page.items);
            let Some(next) = page.next.take() else { break };
            pages += 1;
            assert!(pages <= 10, "query {n} `{raw}`: too many pages");
            page = fetch(next).await;
        }
        assert_eq!(
            first_count.is_some(),
            q.count,
            "query {n} `{raw}`: count presence"
        );
        let got_ids: Vec<&str> = got
            .iter()
            .map(|i| i["id"].as_str().unwrap_or("<no id>"))
            .collect();
        let want_ids: Vec<&str> = expected.iter().map(|u| u.id.as_str()).collect();
        if got_ids != want_ids {
            let pos = got_ids
                .iter()
                .zip(&want_ids)
                .position(|(a, b)| a != b)
                .unwrap_or(got_ids.len().min(want_ids.len()));
            panic!(
                "query {n} `{raw}`\n(filter {})\ngot {} rows, expected {}; first difference at {pos}: got {:?}, expected {:?}",
                q.filter.as_ref().map_or(String::new(), Filter::odata),
                got_ids.len(),
                want_ids.len(),
                got.get(pos),
                expected.get(pos)
            );
        }
        // Shapes and values.
        let fields: Vec<&str> = match &q.select {
            Some(s) => s.clone(),
            None => SELECTABLE.to_vec(),
        };
        for (item, user) in got.iter().zip(&expected) {
            let obj = item.as_object().expect("items are objects");
            if let Some(sel) = &q.select {
                let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
                keys.sort();
                let mut want: Vec<&str> = sel.clone();
                want.push("id");
                if q.expand_roles && !want.contains(&"roles") {
                    want.push("roles");
                }
                want.sort();
                assert_eq!(keys, want, "query {n} `{raw}`: selected fields");
            }
            for f in fields.iter().chain(std::iter::once(&"id")) {
                let got = obj.get(*f).cloned().unwrap_or(Json::Null);
                let got = if *f == "roles" && q.expand_roles {
                    // Expanded: objects in the same order as the key array.
                    let objects = got.as_array().cloned().unwrap_or_default();
                    for o in &objects {
                        for k in ["id", "roleKey", "description", "isDefault", "version"] {
                            assert!(o.get(k).is_some(), "query {n} `{raw}`: role without {k}");
                        }
                    }
                    Json::Array(objects.iter().map(|o| o["roleKey"].clone()).collect())
                } else {
                    got
                };
                assert_eq!(
                    got,
                    expected_field(user, f, data),
                    "query {n} `{raw}`: field {f} of {}",
                    user.user_key
                );
            }
        }
        total_rows += got.len();
    }
    assert!(total_rows > QUERIES, "the queries should return rows");

    // One aggregation with every supported method, against the reference.
    let raw = "$apply=groupby((status),aggregate($count%20as%20n,status%20with%20sum%20as%20s,\
               name%20with%20min%20as%20first,email%20with%20countdistinct%20as%20e,\
               lastLogin%20with%20max%20as%20last,status%20with%20average%20as%20a))\
               &$orderby=status%20desc";
    let page = fetch(raw.to_owned()).await;
    assert!(page.next.is_none());
    let mut statuses: Vec<i64> = data.users.iter().map(|u| u.status).collect();
    statuses.sort_by(|a, b| b.cmp(a));
    statuses.dedup();
    assert_eq!(page.items.len(), statuses.len(), "{raw}");
    for (item, status) in page.items.iter().zip(statuses) {
        let group: Vec<&User> = data.users.iter().filter(|u| u.status == status).collect();
        let mut emails: Vec<&str> = group.iter().filter_map(|u| u.email.as_deref()).collect();
        emails.sort();
        emails.dedup();
        let last = group
            .iter()
            .filter_map(|u| u.last_login.as_deref())
            .max_by_key(|t| normalize_time(t))
            .map(|t| {
                let mut u = group[0].clone();
                u.last_login = Some(t.to_owned());
                expected_field(&u, "lastLogin", data)
            })
            .unwrap_or(Json::Null);
        assert_eq!(item["status"], Json::from(status), "{raw}: {item}");
        assert_eq!(item["n"], Json::from(group.len()), "{raw}: {item}");
        assert_eq!(
            item["s"],
            Json::from(status * group.len() as i64),
            "{raw}: {item}"
        );
        assert_eq!(
            item["first"].as_str(),
            group.iter().map(|u| u.name.as_str()).min(),
            "{raw}: {item}"
        );
        assert_eq!(item["e"], Json::from(emails.len()), "{raw}: {item}");
        assert_eq!(item["last"], last, "{raw}: {item}");
        assert_eq!(item["a"].as_f64(), Some(status as f64), "{raw}: {item}");
    }
}

#[tokio::test]
async fn api1_queries_match_the_reference_on_sqlite_over_http() {
    let app = common::spawn_app().await;
    let data = generate(&app.tenant);
    let settings = common::db_settings(&app.db_url);
    let db = identity_service::storage::db::connect(&settings)
        .await
        .expect("connect");
    identity_service::import::run(&db, &app.tenant, "main", &data.dir)
        .await
        .expect("import");
    let client = &app.client;
    let app = &app;
    check_all(&data, |query: String| async move {
        let url = if query.starts_with("http") {
            query
        } else {
            format!("{}/users/odata?{query}", app.base)
        };
        let resp = client.get(&url).send().await.expect("GET");
        let status = resp.status();
        let body: Json = resp.json().await.expect("JSON body");
        assert_eq!(status, StatusCode::OK, "{url}: {body}");
        Page {
            items: body["items"].as_array().cloned().unwrap_or_default(),
            next: body["nextPageLink"].as_str().map(str::to_owned),
            count: body["count"].as_u64(),
        }
    })
    .await;
    let _ = std::fs::remove_dir_all(&data.dir);
}

/// A fresh database on the server of `url` (same URL, another database name).
async fn fresh_database(url: &str) -> (String, String) {
    use sea_orm::{ConnectionTrait, Database};
    let (server, _) = url
        .rsplit_once('/')
        .expect("a database URL ends with /name");
    let name = format!("odata_diff_{}", Uuid::new_v4().simple());
    let admin = Database::connect(url)
        .await
        .expect("connect to the test server");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    (format!("{server}/{name}"), name)
}

async fn drop_database(url: &str, name: &str) {
    use sea_orm::{ConnectionTrait, Database};
    if let Ok(admin) = Database::connect(url).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
            .await;
    }
}

/// Whether `users.last_login` keeps whole seconds only (MySQL `timestamp`).
async fn mysql_seconds_only(db: &sea_orm::DatabaseConnection) -> bool {
    use sea_orm::{ConnectionTrait, Statement};
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT DATETIME_PRECISION AS p FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'users' AND COLUMN_NAME = 'last_login'",
        ))
        .await
        .expect("column precision");
    let row = row.expect("users.last_login exists");
    let precision = match row.try_get::<Option<u64>>("", "p") {
        Ok(p) => p,
        Err(_) => row
            .try_get::<Option<i64>>("", "p")
            .expect("DATETIME_PRECISION")
            .map(|p| p.max(0) as u64),
    };
    precision.unwrap_or(0) == 0
}

/// The same queries through `odata::list` on a server backend.
async fn direct_on(env: &str) {
    // On a server backend the HTTP test above already runs there.
    if std::env::var("ODATA_TEST_BACKEND").is_ok_and(|b| b != "sqlite") {
        eprintln!("ODATA_TEST_BACKEND is a server: the direct run is left to the default suite");
        return;
    }
    let Ok(url) = std::env::var(env) else {
        assert!(
            std::env::var("ODATA_TEST_REQUIRE_BACKENDS").as_deref() != Ok("1"),
            "{env} is required"
        );
        eprintln!("{env} not set: skipped");
        return;
    };
    let (db_url, name) = fresh_database(&url).await;
    run_direct(&db_url, env.contains("MYSQL")).await;
    drop_database(&url, &name).await;
}

/// Migrates and loads the database at `db_url`, then checks every query
/// through `odata::list`.
async fn run_direct(db_url: &str, mysql: bool) {
    let mut data = generate("acme");
    let settings = common::db_settings(db_url);
    let db = identity_service::storage::db::connect(&settings)
        .await
        .expect("connect");
    identity_service::storage::db::migrate(&settings, &db)
        .await
        .expect("migrate");
    identity_service::import::run(&db, "acme", "main", &data.dir)
        .await
        .expect("import");
    // The reference models the storage: a MySQL column without fractional
    // seconds keeps whole seconds.
    let truncate_millis = mysql && mysql_seconds_only(&db).await;
    if truncate_millis {
        for u in &mut data.users {
            if let Some(t) = &mut u.last_login {
                *t = format!("{}Z", &t[..19]);
            }
        }
    }
    let scope: TenantScope = identity_service::storage::tenants::find(&db, "acme", "main")
        .await
        .expect("tenant lookup")
        .expect("tenant acme/main");
    let ctx = ReadContext {
        base_url: "http://test".to_owned(),
        path: "/users/odata".to_owned(),
        signing_key: Arc::new(b"differential".to_vec()),
        page_size: 100,
        shape: Shape::Api1,
        stats: None,
        // The generated queries stay under the default cost budget.
        cost_budget: odata_sql::CostBudget::default(),
        limits: Default::default(),
        expand_max_depth: 3,
    };
    let prefix = "http://test/users/odata?";
    let (db, scope, ctx) = (&db, &scope, &ctx);
    check_all(&data, |query: String| async move {
        let raw = query.strip_prefix(prefix).unwrap_or(&query).to_owned();
        let page = list_query(db, scope, EntityKind::User, &raw, ctx)
            .await
            .unwrap_or_else(|e| panic!("`{raw}`: {e:?}"));
        Page {
            items: page.records(),
            next: page.next_link,
            count: page.count,
        }
    })
    .await;
    let _ = std::fs::remove_dir_all(&data.dir);
}

#[tokio::test]
async fn api1_queries_match_the_reference_on_postgres() {
    direct_on("ODATA_TEST_POSTGRES_URL").await;
}

#[tokio::test]
async fn api1_queries_match_the_reference_on_mysql() {
    direct_on("ODATA_TEST_MYSQL_URL").await;
}
