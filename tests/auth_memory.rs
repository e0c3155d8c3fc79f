//! Credential checks under hostile load (issue 10, milestone 4), against
//! real server processes (`odata-users serve`), because the subject is the
//! process's memory and its TCP peers:
//!
//! - 200 concurrent HTTP Basic logins with wrong secrets on the feed raise
//!   the server's resident memory (`VmRSS`, and its peak `VmHWM`) by less
//!   than 100 MB over idle, and a correct login afterwards answers 200 at
//!   once (argon2 runs on a fixed set of threads, each with one reused
//!   memory block, behind a bounded queue). SQLite pass only: it is slow.
//! - Failed attempts over the per-(client id, source address) and the
//!   per-source limits answer 429 with `Retry-After`, on the feed and on
//!   `POST /connect/token`, while the correct secret still gets 200, from
//!   the same source and from another one.
//! - Concurrent checks of the same credentials share one argon2 run
//!   (`auth_argon2_runs_total` of `/metrics`).

mod common;
mod server_support;

use std::net::{IpAddr, Ipv4Addr};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{TestBackend, base64, test_backend};
use reqwest::{StatusCode, header};
use serde_json::Value;
use server_support::Server;

/// `odata-users serve` (tests/server_support) with `env` on top of the
/// tests' defaults (no rate limit; the server's stderr shown with
/// `TEST_LOG`).
fn start(db_url: &str, env: &[(&str, &str)]) -> Server {
    let dir = common::temp_dir();
    let mut all = vec![("APP_RATE_LIMIT_PER_MINUTE", "0")];
    all.extend_from_slice(env);
    let stderr = if std::env::var_os("TEST_LOG").is_some() {
        Stdio::inherit()
    } else {
        Stdio::null()
    };
    Server::start(db_url, &dir.join("outbox"), &all, stderr)
}

/// `odata-users clients create`, one at a time: the first one migrates
/// the database the tests of this binary share on a server backend, and
/// two first migrations at once collide.
fn create_client(db_url: &str, tenant: &str, org: &str) -> (String, String) {
    static CLI: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = CLI.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    common::create_client_cli(db_url, tenant, org)
}

/// A field of `/proc/<pid>/status` in kB (`VmRSS`, `VmHWM`).
fn proc_status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", base64(format!("{id}:{secret}").as_bytes()))
}

/// A client whose connections leave from `source` (any 127.0.0.0/8
/// address is the loopback interface on Linux).
fn client_from(source: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(source))
        .timeout(Duration::from_secs(120))
        .build()
        .expect("HTTP client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_basic_logins_do_not_exhaust_memory() {
    if test_backend() != TestBackend::Sqlite {
        eprintln!("skipped: the memory test runs on the SQLite pass only");
        return;
    }
    let db_url = common::backend_database_url().await;
    let tenant = "memory";
    let (client_id, secret) = create_client(&db_url, tenant, "main");
    // Throttling off, so that every bad login reaches argon2.
    let server = start(
        &db_url,
        &[
            ("APP_AUTH_FAILURES_PER_MINUTE", "0"),
            ("APP_AUTH_SOURCE_FAILURES_PER_MINUTE", "0"),
        ],
    );
    let pid = server.child.id();
    let feed = format!("{}/api/{tenant}/main/odata/Users", server.address);
    let http = client_from(Ipv4Addr::LOCALHOST);
    for _ in 0..3 {
        let response = http
            .get(format!("{}/health", server.address))
            .send()
            .await
            .expect("GET /health");
        assert_eq!(response.status(), StatusCode::OK);
    }
    let idle_rss = proc_status_kb(pid, "VmRSS");

    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..200 {
        let (http, feed, client_id) = (http.clone(), feed.clone(), client_id.clone());
        attempts.spawn(async move {
            // Each attempt its own wrong secret: nothing to share.
            let response = http
                .get(&feed)
                .header(
                    header::AUTHORIZATION,
                    basic(&client_id, &format!("wrong{i}")),
                )
                .send()
                .await
                .expect("GET feed");
            let status = response.status();
            let retry_after = response.headers().contains_key(header::RETRY_AFTER);
            let body: Value = response.json().await.expect("JSON error body");
            (status, retry_after, body)
        });
    }
    let (mut refused, mut busy) = (0, 0);
    while let Some(joined) = attempts.join_next().await {
        let (status, retry_after, body) = joined.expect("attempt task");
        assert!(body["error"]["code"].is_string(), "{body}");
        match status {
            StatusCode::UNAUTHORIZED => refused += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(retry_after, "503 without Retry-After: {body}");
                busy += 1;
            }
            other => panic!("bad login answered {other}: {body}"),
        }
    }
    let rss = proc_status_kb(pid, "VmRSS");
    let hwm = proc_status_kb(pid, "VmHWM");
    eprintln!(
        "200 bad logins: {refused} x 401, {busy} x 503; VmRSS idle {idle_rss} kB, after {rss} kB, VmHWM {hwm} kB"
    );
    assert!(refused > 0, "no bad login reached argon2");
    let limit_kb = 100 * 1024;
    assert!(
        rss.saturating_sub(idle_rss) < limit_kb,
        "VmRSS rose from {idle_rss} kB to {rss} kB"
    );
    assert!(
        hwm.saturating_sub(idle_rss) < limit_kb,
        "VmHWM {hwm} kB, idle VmRSS {idle_rss} kB"
    );

    let started = Instant::now();
    let response = http
        .get(&feed)
        .header(header::AUTHORIZATION, basic(&client_id, &secret))
        .send()
        .await
        .expect("GET feed");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the correct login took {:?}",
        started.elapsed()
    );
}

/// `Retry-After` of a throttled answer, in seconds.
fn retry_after(response: &reqwest::Response) -> u64 {
    response
        .headers()
        .get(header::RETRY_AFTER)
        .unwrap_or_else(|| panic!("{} without Retry-After", response.status()))
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds")
}

async fn feed_status(http: &reqwest::Client, feed: &str, authorization: &str) -> reqwest::Response {
    http.get(feed)
        .header(header::AUTHORIZATION, authorization)
        .send()
        .await
        .expect("GET feed")
}

async fn token_request(
    http: &reqwest::Client,
    address: &str,
    id: &str,
    secret: &str,
) -> reqwest::Response {
    http.post(format!("{address}/connect/token"))
        .basic_auth(id, Some(secret))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("POST /connect/token")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_throttled_but_the_right_secret_is_not() {
    let db_url = common::backend_database_url().await;
    let tenant = format!("throttle{}", std::process::id());
    let (client_id, secret) = create_client(&db_url, &tenant, "main");
    let (other_id, other_secret) = create_client(&db_url, &tenant, "main");
    // No success cache: a correct secret is verified every time, so the
    // answers below show what the throttle lets through.
    let server = start(
        &db_url,
        &[
            ("APP_AUTH_FAILURES_PER_MINUTE", "3"),
            ("APP_AUTH_SOURCE_FAILURES_PER_MINUTE", "6"),
            ("APP_AUTH_CACHE_SECONDS", "0"),
        ],
    );
    let feed = format!("{}/api/{tenant}/main/odata/Users", server.address);
    let here = client_from(Ipv4Addr::new(127, 0, 0, 1));

    // The real client logs in once.
    let response = feed_status(&here, &feed, &basic(&client_id, &secret)).await;
    assert_eq!(response.status(), StatusCode::OK);

    // Someone at the same address guesses its secret: three failures are
    // answered 401, then 429 with Retry-After and the OData error body.
    for i in 0..3 {
        let response = feed_status(&here, &feed, &basic(&client_id, &format!("guess{i}"))).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "guess {i}");
    }
    let response = feed_status(&here, &feed, &basic(&client_id, "guess3")).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&response);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "TooManyRequests", "{body}");
    // The token endpoint shares the limit and answers in RFC 6749's body.
    let response = token_request(&here, &server.address, &client_id, "guess4").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    retry_after(&response);
    let body: Value = response.json().await.expect("JSON");
    assert!(body["error"].is_string(), "{body}");
    assert!(body["error_description"].is_string(), "{body}");

    // The correct secret from the same address is not throttled.
    let response = feed_status(&here, &feed, &basic(&client_id, &secret)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = token_request(&here, &server.address, &client_id, &secret).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("JSON");
    assert!(body["access_token"].is_string(), "{body}");

    // Guesses from another address lock out only that address: the other
    // client, never seen before, still logs in from here.
    let elsewhere = client_from(Ipv4Addr::new(127, 0, 0, 2));
    for i in 0..3 {
        let response = feed_status(&elsewhere, &feed, &basic(&other_id, &format!("g{i}"))).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "guess {i}");
    }
    let response = feed_status(&elsewhere, &feed, &basic(&other_id, "g3")).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let response = feed_status(&here, &feed, &basic(&other_id, &other_secret)).await;
    assert_eq!(response.status(), StatusCode::OK);

    // One address trying many client ids meets the per-address limit.
    let spray = client_from(Ipv4Addr::new(127, 0, 0, 3));
    for i in 0..6 {
        let response = feed_status(&spray, &feed, &basic(&format!("id{i}"), "x")).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "id {i}");
    }
    let response = feed_status(&spray, &feed, &basic("id6", "x")).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    retry_after(&response);
}

/// A counter of `/metrics`.
async fn metric(http: &reqwest::Client, address: &str, name: &str) -> u64 {
    let text = http
        .get(format!("{address}/metrics"))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_concurrent_logins_share_one_argon2_run() {
    let db_url = common::backend_database_url().await;
    let tenant = format!("flight{}", std::process::id());
    let (client_id, secret) = create_client(&db_url, &tenant, "main");
    // One verification thread: without sharing, 16 checks would take 16 runs.
    // 16 reads of one client at once are over the default per-client read
    // cap (8): raised here, the test is about the credential check.
    let server = start(
        &db_url,
        &[
            ("APP_AUTH_VERIFY_THREADS", "1"),
            ("APP_READS_PER_CLIENT", "16"),
        ],
    );
    let feed = format!("{}/api/{tenant}/main/odata/Users", server.address);
    let http = client_from(Ipv4Addr::LOCALHOST);
    assert_eq!(
        metric(&http, &server.address, "auth_argon2_runs_total").await,
        0
    );
    // What a BI tool sends when its cached login expires: 16 requests with
    // the same Basic header at once.
    let mut logins = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (http, feed, credentials) = (http.clone(), feed.clone(), basic(&client_id, &secret));
        logins.spawn(async move { feed_status(&http, &feed, &credentials).await.status() });
    }
    while let Some(status) = logins.join_next().await {
        assert_eq!(status.expect("login task"), StatusCode::OK);
    }
    assert_eq!(
        metric(&http, &server.address, "auth_argon2_runs_total").await,
        1
    );
    // The same with a wrong secret: all refused with 401, and since they
    // share runs (failures are not cached, so a late one may start
    // another), they count as far fewer than the 10 failures a minute that
    // would make them 429.
    let mut logins = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (http, feed, credentials) = (http.clone(), feed.clone(), basic(&client_id, "nope"));
        logins.spawn(async move { feed_status(&http, &feed, &credentials).await.status() });
    }
    while let Some(status) = logins.join_next().await {
        assert_eq!(status.expect("login task"), StatusCode::UNAUTHORIZED);
    }
    let runs = metric(&http, &server.address, "auth_argon2_runs_total").await;
    assert!((2..=11).contains(&runs), "{runs} runs");
}
