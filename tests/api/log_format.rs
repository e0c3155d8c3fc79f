//! Structured logs and slow-statement warnings: the server binary runs with
//! `APP_LOG_FORMAT=json`, `RUST_LOG=info,identity_service=debug` and a
//! slow-statement threshold of one microsecond
//! (`APP_DB_SLOW_STATEMENT_MS=0.001`, so every statement is "slow") while a
//! client creates a user and reads it back; every stderr line is one JSON
//! object, the request's events carry the client's `X-Request-Id` in their
//! span, slow-statement warnings are there, and no warning holds SQL text,
//! a bound value or sqlx's own slow-statement event.
//! SQLite pass only (it runs its own server process).

use crate::common;
use crate::server_support;

use std::process::Stdio;

use reqwest::StatusCode;
use serde_json::{Value, json};
use server_support::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_id_and_slow_statements_without_sql() {
    if common::test_backend() != common::TestBackend::Sqlite {
        eprintln!("log format runs its own SQLite server: default (SQLite) pass only");
        return;
    }
    let dir = common::temp_dir();
    let db_url = format!("sqlite://{}?mode=rwc", dir.join("json.db").display());
    let outbox = dir.join("outbox");
    let log_path = dir.join("stderr.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let tenant = "jsonlogs";
    let (client_id, secret) = common::create_client_cli(&db_url, tenant, "main");
    let mut server = Server::start(
        &db_url,
        &outbox,
        &[
            ("RUST_LOG", "info,identity_service=debug"),
            ("APP_LOG_FORMAT", "json"),
            ("APP_DB_SLOW_STATEMENT_MS", "0.001"),
        ],
        Stdio::from(log),
    );
    let http = reqwest::Client::new();
    let token = common::fetch_token(&http, &server.address, &client_id, &secret).await;
    let api = format!("{}/api/{tenant}/main/identity", server.address);
    // A value that must not reach a warning (it is bound to an INSERT).
    let marker = "Zebulon-m3-marker";
    let response = common::bearer_client(&token)
        .post(format!("{api}/users"))
        .header("X-Request-Id", "m3-json-create")
        .json(&json!({"userKey": "zeb", "name": marker, "isTechnician": false, "email": "zeb@example.com"}))
        .send()
        .await
        .expect("POST user");
    let status = response.status();
    let body = response.text().await.expect("body");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let response = common::bearer_client(&token)
        .get(format!("{api}/users/odata?$filter=name eq '{marker}'"))
        .header("X-Request-Id", "m3-json-read")
        .send()
        .await
        .expect("GET users");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers().get("x-request-id").map(|v| v.as_bytes()),
        Some(&b"m3-json-read"[..])
    );
    assert!(response.text().await.expect("body").contains(marker));
    // The events of both requests were written before their answers.
    server.kill();
    let logged = std::fs::read_to_string(&log_path).expect("read the log");

    let events: Vec<Value> = logged
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let in_request = |id: &str| {
        events
            .iter()
            .filter(|e| e["span"]["request_id"] == id)
            .count()
    };
    assert!(
        in_request("m3-json-create") > 0 && in_request("m3-json-read") > 0,
        "the requests' events carry their ids: {logged}"
    );
    let finished = events.iter().find(|e| {
        e["fields"]["message"] == "request finished" && e["span"]["request_id"] == "m3-json-read"
    });
    assert_eq!(
        finished.map(|e| (e["fields"]["status"].clone(), e["level"].clone())),
        Some((json!(200), json!("DEBUG"))),
        "{logged}"
    );

    let warnings: Vec<&Value> = events.iter().filter(|e| e["level"] == "WARN").collect();
    let slow: Vec<&Value> = warnings
        .iter()
        .copied()
        .filter(|e| e["fields"]["message"] == "slow statement")
        .collect();
    assert!(
        slow.iter()
            .any(|e| e["fields"]["statement"] == "INSERT users"),
        "the user's INSERT was slow (every statement is): {logged}"
    );
    assert!(
        slow.iter()
            .all(|e| e["fields"]["elapsed_ms"].as_f64().is_some()
                && e["fields"]["sql_bytes"].as_u64().is_some()),
        "{logged}"
    );
    for warning in &warnings {
        let line = warning.to_string();
        for needle in [
            marker,
            "zeb@example.com",
            "VALUES",
            "WHERE",
            " FROM ",
            "db.statement",
        ] {
            assert!(!line.contains(needle), "{needle:?} in a warning: {line}");
        }
        assert_ne!(
            warning["target"], "sqlx::query",
            "sqlx's own slow-statement warning (with the SQL text): {line}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
