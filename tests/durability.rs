//! Durability under `kill -9`: a server process on the backend under test
//! takes about 2,000 concurrent writes (creates with roles and groups,
//! membership adds, removes and replacements, PUTs, deletes), and is
//! killed with SIGKILL once about half of them are acknowledged, while the
//! rest are in flight. After a restart on the same database every
//! acknowledged (2xx) write is there, a write whose answer never came is
//! there whole or not at all (a user created with its roles and groups has
//! all of them or does not exist), and the per-tenant counters
//! (`entity_counts`) equal `COUNT(*)` and the number of users that exist.
//! Runs in the SQLite pass and in the PostgreSQL pass (not through
//! pgbouncer, not on MariaDB).

mod common;
mod server_support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::TestBackend;
use identity_service::storage::counters::{self, Counted};
use identity_service::storage::{db, tenants};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::{Value, json};
use server_support::Server;

/// Concurrent writers.
const TASKS: usize = 32;
/// Users per writer (each goes through [`script`]).
const USERS_PER_TASK: usize = 8;
/// SIGKILL once this many writes were acknowledged.
const KILL_AT: usize = 1_000;
const ROLES: usize = 5;
const GROUPS: usize = 5;

/// What a user looks like through the API (`None`: it does not exist).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Model {
    name: String,
    roles: BTreeSet<String>,
    groups: BTreeSet<String>,
}

/// One write of the workload and the model after it.
struct Write {
    method: reqwest::Method,
    path: String,
    body: Option<Value>,
    after: Option<Model>,
}

fn role(i: usize) -> String {
    format!("r{}", i % ROLES)
}

fn group(i: usize) -> String {
    format!("g{}", i % GROUPS)
}

fn set(keys: &[String]) -> BTreeSet<String> {
    keys.iter().cloned().collect()
}

/// The writes of one user, in order, with the model after each.
fn script(key: &str, n: usize) -> Vec<Write> {
    let mut model = Model {
        name: format!("{key} 0"),
        roles: set(&[role(n), role(n + 1)]),
        groups: set(&[group(n)]),
    };
    let mut writes = vec![Write {
        method: reqwest::Method::POST,
        path: "users".to_owned(),
        body: Some(json!({
            "userKey": key, "name": model.name, "isTechnician": false,
            "roles": [role(n), role(n + 1)], "groups": [group(n)],
        })),
        after: Some(model.clone()),
    }];
    let mut push =
        |method: reqwest::Method, tail: &str, body: Value, change: &dyn Fn(&mut Model)| {
            change(&mut model);
            writes.push(Write {
                method,
                path: format!("users/{key}/{tail}"),
                body: Some(body),
                after: Some(model.clone()),
            });
        };
    use reqwest::Method;
    let name1 = format!("{key} 1");
    push(Method::PUT, "name", json!(name1), &|m| {
        m.name = name1.clone()
    });
    push(Method::POST, "roles/add", json!([role(n + 2)]), &|m| {
        m.roles.insert(role(n + 2));
    });
    push(
        Method::POST,
        "groups/add",
        json!([group(n + 1), group(n + 2)]),
        &|m| {
            m.groups.insert(group(n + 1));
            m.groups.insert(group(n + 2));
        },
    );
    push(Method::PUT, "roles", json!([role(n + 3)]), &|m| {
        m.roles = set(&[role(n + 3)]);
    });
    push(Method::POST, "roles/remove", json!([role(n + 3)]), &|m| {
        m.roles.remove(&role(n + 3));
    });
    let name2 = format!("{key} 2");
    push(Method::PUT, "name", json!(name2), &|m| {
        m.name = name2.clone()
    });
    push(Method::POST, "groups/remove", json!([group(n)]), &|m| {
        m.groups.remove(&group(n));
    });
    if n.is_multiple_of(3) {
        writes.push(Write {
            method: Method::DELETE,
            path: format!("users/{key}"),
            body: None,
            after: None,
        });
    }
    writes
}

/// Per user: the model after the last acknowledged write, and the model
/// after the write in flight when the server died (if any).
#[derive(Default)]
struct Outcome {
    acknowledged: Option<Model>,
    in_flight: Option<Option<Model>>,
    acknowledged_writes: usize,
    unexpected: Vec<String>,
}

async fn run_writer(
    client: reqwest::Client,
    api: String,
    task: usize,
    acknowledged: Arc<AtomicUsize>,
) -> BTreeMap<String, Outcome> {
    let mut outcomes = BTreeMap::new();
    for u in 0..USERS_PER_TASK {
        let key = format!("t{task}u{u}");
        let n = task * USERS_PER_TASK + u;
        let mut outcome = Outcome::default();
        let mut stop = false;
        for write in script(&key, n) {
            let mut request = client.request(write.method.clone(), format!("{api}/{}", write.path));
            if let Some(body) = &write.body {
                request = request.json(body);
            }
            match request.send().await {
                Ok(response) if response.status().is_success() => {
                    outcome.acknowledged = write.after;
                    outcome.acknowledged_writes += 1;
                    acknowledged.fetch_add(1, Ordering::SeqCst);
                }
                Ok(response) => {
                    // A valid write refused: a failure of the test (it
                    // changed nothing, so the model stays).
                    let status = response.status();
                    let text = response.text().await.unwrap_or_default();
                    outcome
                        .unexpected
                        .push(format!("{} {}: {status} {text}", write.method, write.path));
                    stop = true;
                }
                Err(_) => {
                    // No answer: the server died with this write in flight.
                    outcome.in_flight = Some(write.after);
                    stop = true;
                }
            }
            if stop {
                break;
            }
        }
        outcomes.insert(key, outcome);
        if stop {
            break;
        }
    }
    outcomes
}

/// The user as the API shows it, `None` on 404.
async fn read_user(client: &reqwest::Client, api: &str, key: &str) -> Option<Model> {
    let response = client
        .get(format!("{api}/users/{key}"))
        .send()
        .await
        .expect("GET user");
    if response.status() == StatusCode::NOT_FOUND {
        return None;
    }
    let body = common::json_of(response, StatusCode::OK).await;
    let keys = |field: &str| -> BTreeSet<String> {
        body[field]
            .as_array()
            .unwrap_or_else(|| panic!("{field} in {body}"))
            .iter()
            .map(|v| v.as_str().expect("a key").to_owned())
            .collect()
    };
    Some(Model {
        name: body["name"].as_str().expect("name").to_owned(),
        roles: keys("roles"),
        groups: keys("groups"),
    })
}

async fn rows_in(db: &DatabaseConnection, tenant_id: uuid::Uuid, table: &str) -> u64 {
    let stmt = Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new("tenant_id")).eq(tenant_id))
        .to_owned();
    let row = db.query_one(&stmt).await.expect("COUNT(*)").expect("a row");
    let n: i64 = row.try_get("", "n").expect("the count");
    u64::try_from(n).expect("not negative")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_and_nothing_is_half_done() {
    match common::test_backend() {
        TestBackend::Sqlite => {}
        TestBackend::Postgres if !common::through_pgbouncer() => {}
        other => {
            eprintln!(
                "durability under kill -9 runs in the SQLite and PostgreSQL passes only (not {other:?}{})",
                if common::through_pgbouncer() {
                    " through pgbouncer"
                } else {
                    ""
                }
            );
            return;
        }
    }
    let started = std::time::Instant::now();
    let db_url = common::backend_database_url().await;
    let work = common::temp_dir();
    let outbox = work.join("outbox");
    let env = [("APP_RATE_LIMIT_PER_MINUTE", "0")];
    let log = |name: &str| Stdio::from(std::fs::File::create(work.join(name)).expect("log file"));
    let mut server = Server::start(&db_url, &outbox, &env, log("first.log"));
    let tenant = format!("dur{}", std::process::id());
    let (client_id, secret) = common::create_client_cli(&db_url, &tenant, "main");
    let http = reqwest::Client::new();
    let token = common::fetch_token(&http, &server.address, &client_id, &secret).await;
    let client = reqwest::Client::builder()
        .default_headers({
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {token}").parse().expect("header"),
            );
            headers
        })
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let api = format!("{}/api/{tenant}/main/identity", server.address);
    for i in 0..ROLES {
        let response = client
            .post(format!("{api}/roles"))
            .json(&json!({"roleKey": role(i)}))
            .send()
            .await
            .expect("POST role");
        common::created_id(response).await;
    }
    for i in 0..GROUPS {
        let response = client
            .post(format!("{api}/groups"))
            .json(&json!({"groupKey": group(i)}))
            .send()
            .await
            .expect("POST group");
        common::created_id(response).await;
    }

    // The workload; SIGKILL once KILL_AT writes are acknowledged.
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..TASKS)
        .map(|task| {
            tokio::spawn(run_writer(
                client.clone(),
                api.clone(),
                task,
                acknowledged.clone(),
            ))
        })
        .collect();
    let planned: usize = (0..TASKS * USERS_PER_TASK)
        .map(|n| script("k", n).len())
        .sum();
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    while acknowledged.load(Ordering::SeqCst) < KILL_AT {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} writes acknowledged in 300 s",
            acknowledged.load(Ordering::SeqCst)
        );
        assert!(
            !writers.iter().all(|w| w.is_finished()),
            "the writers stopped early ({} acknowledged)",
            acknowledged.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.kill();
    let killed_at = acknowledged.load(Ordering::SeqCst);
    let mut outcomes = BTreeMap::new();
    for writer in writers {
        outcomes.extend(writer.await.expect("writer task"));
    }
    let unexpected: Vec<&String> = outcomes.values().flat_map(|o| &o.unexpected).collect();
    assert!(unexpected.is_empty(), "writes refused: {unexpected:#?}");
    let total_acknowledged: usize = outcomes.values().map(|o| o.acknowledged_writes).sum();
    let in_flight = outcomes.values().filter(|o| o.in_flight.is_some()).count();
    eprintln!(
        "{planned} writes planned, SIGKILL after {killed_at} acknowledged; \
         {total_acknowledged} acknowledged in all, {in_flight} in flight"
    );
    assert!(planned >= 1_900, "about 2,000 writes planned ({planned})");
    assert!(
        in_flight > 0,
        "the kill landed with no write in flight (the test proves nothing)"
    );

    // Restart on the same database; the token is still good (the signing
    // key is in the database).
    let server = Server::start(&db_url, &outbox, &env, log("second.log"));
    let api = format!("{}/api/{tenant}/main/identity", server.address);
    let mut present = 0u64;
    let mut took_in_flight = 0usize;
    for (key, outcome) in &outcomes {
        let actual = read_user(&client, &api, key).await;
        if actual.is_some() {
            present += 1;
        }
        if actual == outcome.acknowledged {
            continue;
        }
        match &outcome.in_flight {
            Some(after) if &actual == after => took_in_flight += 1,
            _ => panic!(
                "user {key} after the restart: {actual:?}\n\
                 acknowledged: {:?}\nin flight: {:?}",
                outcome.acknowledged, outcome.in_flight
            ),
        }
    }
    eprintln!("{took_in_flight} of {in_flight} in-flight writes were committed whole");

    // The counters equal COUNT(*), and the users there are exactly those
    // the outcomes account for.
    let pool = db::connect(&common::db_settings(&db_url))
        .await
        .expect("connect");
    let scope = tenants::find(&pool, &tenant, "main")
        .await
        .expect("tenant lookup")
        .expect("the tenant");
    for (set, expected) in [
        (Counted::Users, Some(present)),
        (Counted::Roles, Some(ROLES as u64)),
        (Counted::Groups, Some(GROUPS as u64)),
    ] {
        let rows = rows_in(&pool, scope.tenant_id, set.table()).await;
        let counter = counters::count(&pool, &scope, set)
            .await
            .expect("read the counter");
        assert_eq!(counter, rows, "{set:?}: entity_counts versus COUNT(*)");
        assert_eq!(Some(rows), expected, "{set:?}: rows in the table");
    }
    let listed = common::json_of(
        client
            .get(format!("{api}/users/odata?$count=true&$top=0"))
            .send()
            .await
            .expect("GET count"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["count"], present, "{listed}");
    // The restarted server takes writes.
    let response = client
        .post(format!("{api}/users"))
        .json(&json!({"userKey": "after", "name": "After", "isTechnician": false, "roles": ["r0"]}))
        .send()
        .await
        .expect("POST after restart");
    common::created_id(response).await;
    eprintln!(
        "durability test took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&work);
}
