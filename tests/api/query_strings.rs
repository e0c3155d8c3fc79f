//! One query-string convention on both APIs, parsed once.
//!
//! Queries are sent the way real clients encode them — curl
//! `-G --data-urlencode`, Python's `urlencode` (what `requests` uses for
//! `params=`) and JavaScript's `URLSearchParams` — to API 1's `users/odata`
//! and to the feed's `Users`: `+` is a space and `%2B` a plus on both. The
//! test-only setting `APP_DEBUG_READ_STATS` reports the parses and SQL
//! statements of each request, so "parsed once" and the statement count
//! per request are asserted here. Next links carry the canonical options.

use crate::common;

use std::process::Command;

use common::{TestApp, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Query options as (name, value) pairs.
type Pairs = Vec<(&'static str, &'static str)>;

/// The queries every client sends and the user keys each must return.
fn cases() -> Vec<(Pairs, Vec<&'static str>)> {
    vec![
        (
            vec![
                ("$filter", "status eq 1 and isTechnician eq true"),
                ("$orderby", "userKey"),
            ],
            vec!["ann"],
        ),
        (
            vec![
                ("$filter", "lastLogin ge 2026-01-01T10:00:00+01:00"),
                ("$orderby", "userKey desc"),
            ],
            vec!["cid", "bob"],
        ),
        (
            vec![
                ("$filter", "contains(name,'a+b') or name eq 'Ann Lee'"),
                ("$select", "userKey,name"),
                ("$orderby", "userKey"),
            ],
            vec!["ann", "cid"],
        ),
    ]
}

async fn seed(app: &TestApp) {
    for body in [
        json!({"userKey":"ann","name":"Ann Lee","isTechnician":true,"lastLogin":"2026-01-01T08:59:59Z"}),
        json!({"userKey":"bob","name":"Bob","isTechnician":false,"lastLogin":"2026-01-01T09:00:00Z"}),
        json!({"userKey":"cid","name":"Cid a+b","isTechnician":true,"status":2,"lastLogin":"2026-01-02T00:00:00Z"}),
    ] {
        app.create_user(body).await;
    }
}

async fn spawn() -> TestApp {
    let app = spawn_app_with(|s| s.debug_read_stats = true).await;
    seed(&app).await;
    app
}

fn api1(app: &TestApp) -> String {
    app.url("users/odata")
}

fn feed(app: &TestApp) -> String {
    app.url(&format!("/api/{}/main/odata/Users", app.tenant))
}

/// The query string Python's `urllib.parse.urlencode` makes (`requests`
/// encodes `params=` with it): spaces as `+`, everything reserved escaped.
fn python_query(pairs: &[(&str, &str)]) -> String {
    let args = serde_json::to_string(pairs).expect("pairs");
    let out = Command::new("python3")
        .args([
            "-c",
            "import json,sys,urllib.parse; print(urllib.parse.urlencode([tuple(p) for p in json.loads(sys.argv[1])]), end='')",
            &args,
        ])
        .output()
        .expect("python3 runs (this test compares with Python's urlencode)");
    assert!(out.status.success(), "python3: {out:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The query string JavaScript's `URLSearchParams` makes, when node is
/// installed (required where the feed-client tests run).
fn url_search_params_query(pairs: &[(&str, &str)]) -> Option<String> {
    let args = serde_json::to_string(pairs).expect("pairs");
    match Command::new("node")
        .args([
            "-e",
            "process.stdout.write(new URLSearchParams(JSON.parse(process.argv[1])).toString())",
            &args,
        ])
        .output()
    {
        Ok(out) if out.status.success() => Some(String::from_utf8(out.stdout).expect("utf-8")),
        other => {
            assert!(
                std::env::var("ODATA_TEST_FEED_CLIENTS").as_deref() != Ok("1"),
                "node is required with ODATA_TEST_FEED_CLIENTS=1: {other:?}"
            );
            eprintln!("node is not installed: URLSearchParams not checked");
            None
        }
    }
}

/// The URL curl sends for `-G --data-urlencode name=value ...` (it really
/// sends it, to the test server, and reports the effective URL). It runs
/// on a blocking thread: the server's database pool may need this runtime.
async fn curl_url(base: &str, pairs: &[(&'static str, &'static str)], token: &str) -> String {
    let (base, pairs, token) = (base.to_owned(), pairs.to_vec(), token.to_owned());
    tokio::task::spawn_blocking(move || run_curl(&base, &pairs, &token))
        .await
        .expect("curl thread")
}

fn run_curl(base: &str, pairs: &[(&str, &str)], token: &str) -> String {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-G", "-o", "/dev/null", "-w", "%{url_effective}"]);
    cmd.args(["-H", &format!("Authorization: Bearer {token}")]);
    for (name, value) in pairs {
        cmd.args(["--data-urlencode", &format!("{name}={value}")]);
    }
    cmd.arg(base);
    let out = cmd.output().expect("curl runs");
    assert!(out.status.success(), "curl: {out:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}

struct Answer {
    status: StatusCode,
    parses: Option<String>,
    statements: Option<u32>,
    body: Value,
}

/// A client that opens a connection per request: the test runs external
/// programs between requests, long enough for the server to close an idle
/// pooled connection under a request about to reuse it.
fn unpooled(app: &TestApp) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let bearer = format!("Bearer {}", app.token);
    headers.insert(
        reqwest::header::AUTHORIZATION,
        reqwest::header::HeaderValue::from_str(&bearer).expect("token header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(0)
        .build()
        .expect("client")
}

async fn get(app: &TestApp, url: &str) -> Answer {
    let response = unpooled(app).get(url).send().await.expect("GET");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let parses = header("x-read-parses");
    let statements = header("x-read-statements").and_then(|v| v.parse().ok());
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        parses,
        statements,
        body,
    }
}

fn keys(body: &Value) -> Vec<String> {
    let items = body
        .get("items")
        .or_else(|| body.get("value"))
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no records in {body}"));
    items
        .iter()
        .map(|i| i["userKey"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn clients_encode_queries_their_way_and_both_apis_read_them_alike() {
    let app = spawn().await;
    for (pairs, expected) in cases() {
        let mut urls = Vec::new();
        for base in [api1(&app), feed(&app)] {
            urls.push((
                "python urlencode",
                format!("{base}?{}", python_query(&pairs)),
            ));
            if let Some(q) = url_search_params_query(&pairs) {
                urls.push(("URLSearchParams", format!("{base}?{q}")));
            }
            urls.push((
                "curl --data-urlencode",
                curl_url(&base, &pairs, &app.token).await,
            ));
            // Spaces as %20 and the plus as %2B, as OData clients write them.
            let written: Vec<String> = pairs
                .iter()
                .map(|(n, v)| format!("{n}={}", common::encode(v)))
                .collect();
            urls.push(("%20 and %2B", format!("{base}?{}", written.join("&"))));
        }
        for (how, url) in urls {
            let answer = get(&app, &url).await;
            assert_eq!(
                answer.status,
                StatusCode::OK,
                "{how}: {url}: {}",
                answer.body
            );
            assert_eq!(keys(&answer.body), expected, "{how}: {url}");
            assert_eq!(answer.parses.as_deref(), Some("1"), "{how}: {url}");
        }
    }
}

#[tokio::test]
async fn an_unencoded_plus_is_a_space_and_the_error_says_to_write_percent_2b() {
    let app = spawn().await;
    for base in [api1(&app), feed(&app)] {
        let url = format!("{base}?$filter=lastLogin%20ge%202026-01-01T10:00:00+01:00");
        let answer = get(&app, &url).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{url}");
        let message = answer.body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("%2B"), "{url}: {message}");
        assert_eq!(answer.body["error"]["target"], "$filter", "{url}");
        // Nothing was read for a request that does not parse.
        assert_eq!(answer.statements, Some(0), "{url}");
    }
}

#[tokio::test]
async fn every_read_parses_once_and_runs_the_statements_it_needs() {
    let app = spawn().await;
    let ann = app.get_user("ann").await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let root = app.url(&format!("/api/{}/main/odata", app.tenant));
    // (url, statements): a page is one statement, plus one for $count and
    // one per navigation listed (API 1's key arrays) or expanded.
    for (url, statements) in [
        (format!("{root}/Users?$top=2"), 1),
        (format!("{root}/Users?$top=2&$count=true"), 2),
        (format!("{root}/Users?$expand=roles,groups"), 3),
        (format!("{root}/Users/$count?$filter=status eq 1"), 1),
        (format!("{root}/Users({ann})"), 1),
        // The parent's existence, then its related page.
        (format!("{root}/Users({ann})/roles"), 2),
        (format!("{root}/Users({ann})/roles/$count"), 2),
        (api1(&app) + "?$top=2", 3),
        (api1(&app) + "?$select=name", 1),
        (api1(&app) + "?$select=name,roles&$count=true", 3),
        (app.url("users/ann"), 3),
    ] {
        let answer = get(&app, &url).await;
        assert_eq!(answer.status, StatusCode::OK, "{url}: {}", answer.body);
        assert_eq!(answer.parses.as_deref(), Some("1"), "{url}");
        assert_eq!(answer.statements, Some(statements), "{url}");
    }
}

#[tokio::test]
async fn next_links_carry_the_canonical_options_on_both_apis() {
    let app = spawn().await;
    let query = python_query(&[
        ("$filter", "isTechnician eq true or status eq 1"),
        ("$orderby", "userKey"),
        ("$top", "2"),
    ]);
    // Feed: one record per page.
    let url = format!("{}?{query}", feed(&app));
    let response = app
        .client
        .get(&url)
        .header("Prefer", "odata.maxpagesize=1")
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(keys(&body), ["ann"]);
    let next = body["@odata.nextLink"].as_str().expect("next link");
    let expected = format!(
        "{}?$filter=isTechnician%20eq%20true%20or%20status%20eq%201&$orderby=userKey&$skiptoken=",
        feed(&app)
    );
    assert!(next.starts_with(&expected), "{next}");
    let response = app
        .client
        .get(next)
        .header("Prefer", "odata.maxpagesize=1")
        .send()
        .await
        .expect("GET");
    let body: Value = response.json().await.expect("json");
    assert_eq!(keys(&body), ["bob"]);
    // $top=2 is reached: no further link.
    assert!(body.get("@odata.nextLink").is_none(), "{body}");

    // A token is bound to its query: the same token on another filter is 400.
    let token = next.rsplit_once("$skiptoken=").expect("token").1;
    let other = format!(
        "{}?$filter=status%20eq%202&$orderby=userKey&$skiptoken={token}",
        feed(&app)
    );
    let answer = get(&app, &other).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert_eq!(answer.body["error"]["target"], "$skiptoken");

    // The same options written another way (order, %20 vs +) share tokens.
    let rewritten = format!(
        "{}?$orderby=userKey&$filter=isTechnician+eq+true+or+status+eq+1&$skiptoken={token}",
        feed(&app)
    );
    let answer = get(&app, &rewritten).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

/// Requests that differ only in the values they compare (one query shape)
/// are translated once per server thread; the others bind their values into
/// the statement template (`odata_sql::template`). Every answer is still
/// its own, and a value the translation would refuse is still refused.
#[tokio::test]
async fn a_query_shape_is_translated_once_and_later_requests_bind_their_values() {
    let app = spawn().await;
    for base in [api1(&app), feed(&app)] {
        let mut templated = 0;
        for round in 0..6 {
            for (key, expected) in [("ann", 1), ("bob", 1), ("nobody", 0), ("cid", 1)] {
                let url = format!(
                    "{base}?$filter=userKey eq '{key}' and status ne {round}0&$select=userKey"
                );
                let response = unpooled(&app).get(&url).send().await.expect("GET");
                assert_eq!(response.status(), StatusCode::OK, "{url}");
                templated += response.headers()["x-read-templated"]
                    .to_str()
                    .ok()
                    .and_then(|v| v.parse::<u32>().ok())
                    .expect("x-read-templated");
                let body: Value = response.json().await.expect("json");
                let found = keys(&body);
                assert_eq!(found.len(), expected, "{url}: {body}");
                assert!(found.iter().all(|k| k == key), "{url}: {body}");
            }
        }
        // 24 requests of one shape (and six values of `status`): all but
        // the first on each server thread come from the template.
        assert!(templated >= 12, "{base}: {templated} of 24 templated");
        // A string literal with a NUL character is refused as before.
        let answer = get(
            &app,
            &format!("{base}?$filter=userKey eq '%00' and status ne 0&$select=userKey"),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
        assert!(answer.body.to_string().contains("NUL"), "{}", answer.body);
    }
}
