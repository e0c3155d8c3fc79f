//! Errors that teach (a caret under the failing character, "did you mean
//! …") on both APIs; gzip of large feed pages and API 1 lists; CORS and
//! preflight requests without credentials.

use crate::common;
use crate::feed_support;

use std::io::Read as _;

use common::{TestApp, assert_error, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::Value;

/// The `QueryPosition` detail of an error body: the query text and the
/// caret line. Asserts the caret stands under `under` (the first place of
/// it in the shown text).
fn caret_under(error: &Value, under: &str) {
    let detail = error["details"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["code"] == "QueryPosition"))
        .unwrap_or_else(|| panic!("no QueryPosition detail: {error}"));
    let text = detail["message"].as_str().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(
        lines[0],
        format!("error: {}", error["message"].as_str().unwrap())
    );
    let shown = lines[2].strip_prefix("  | ").unwrap();
    let caret = lines[3].strip_prefix("  | ").unwrap();
    // An empty `under`: the caret after the end of the text.
    let at = match under {
        "" => shown.len(),
        _ => shown
            .find(under)
            .unwrap_or_else(|| panic!("{under} not in {shown}")),
    };
    assert_eq!(caret, format!("{}^", " ".repeat(at)), "{text}");
    assert_eq!(detail["target"], error["target"], "{error}");
}

async fn api1_error(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("users/odata?{query}")).await;
    assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await["error"].clone()
}

#[tokio::test]
async fn query_errors_show_a_caret_and_suggest_names_on_api1() {
    let app = spawn_app().await;
    let error = api1_error(&app, "$top=5&$filter=stauts%20eq%201").await;
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("unknown property `stauts` of User; did you mean `status`?"),
        "{message}"
    );
    // The offset stays where it was: into the query string as sent.
    assert!(message.ends_with("(in $filter at offset 15)"), "{message}");
    caret_under(&error, "stauts");

    let error = api1_error(&app, "$fliter=status%20eq%201").await;
    let message = error["message"].as_str().unwrap();
    assert!(message.ends_with("; did you mean `$filter`?"), "{message}");
    assert_eq!(error["target"], "$fliter");
    caret_under(&error, "$fliter");

    // A syntax error: the caret where the parser stopped (the end).
    let error = api1_error(&app, "$filter=name%20eq").await;
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("at offset 17") && !message.contains("did you mean"),
        "{message}"
    );
    caret_under(&error, "");

    // `+` is a space: the text shown is the text parsed.
    let error = api1_error(&app, "$orderby=nmae+desc").await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `name`?"),
        "{error}"
    );
    caret_under(&error, "nmae desc");

    // Nothing close: no suggestion, still the caret.
    let error = api1_error(&app, "$select=zzzzzzzz").await;
    assert!(
        !error["message"].as_str().unwrap().contains("did you mean"),
        "{error}"
    );
    caret_under(&error, "zzzzzzzz");
}

#[tokio::test]
async fn query_errors_show_a_caret_and_suggest_names_on_the_feed() {
    let app = spawn_app().await;
    for (query, suggestion, under) in [
        (
            "$filter=tolowr(name)%20eq%20'a'",
            "`tolowr` is not a function: did you mean `tolower`?",
            "name)",
        ),
        (
            "$select=userKey,nmae",
            "unknown property `nmae` of User; did you mean `name`?",
            "nmae",
        ),
        (
            "$expand=rols",
            "unknown navigation property `rols` of User; did you mean `roles`?",
            "rols",
        ),
        (
            "$filter=rols/any(r:r/roleKey%20eq%20'a')",
            "did you mean `roles`?",
            "rols",
        ),
        (
            "$top=1&$ordreby=name",
            "did you mean `$orderby`?",
            "$ordreby",
        ),
    ] {
        let answer = feed_support::get(&app, &format!("Users?{query}")).await;
        let error = answer.error(StatusCode::BAD_REQUEST, "BadRequest");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(suggestion), "{query}: {message}");
        caret_under(&error, under);
    }
    // 501 (a recognised feature not implemented) shows the caret too.
    let answer = feed_support::get(&app, "Users?$filter=isof(name,Edm.String)").await;
    let error = answer.error(StatusCode::NOT_IMPLEMENTED, "NotImplemented");
    caret_under(&error, "isof");
}

/// An app with 1,000 generated users.
async fn loaded_app(
    adjust: impl FnOnce(&mut identity_service::configuration::Settings),
) -> TestApp {
    let app = spawn_app_with(|s| {
        s.query_cost_budget = 0;
        adjust(s);
    })
    .await;
    let dir = common::generate_users(1000, 1313);
    common::remap_ids(&dir, &app.tenant);
    identity_service::import::run(&app.pool, &app.tenant, "main", &dir)
        .await
        .expect("import");
    app
}

struct Raw {
    status: StatusCode,
    encoding: Option<String>,
    vary: Option<String>,
    body: Vec<u8>,
}

async fn raw_get(app: &TestApp, url: &str, gzip: bool) -> Raw {
    let mut request = app.client.get(app.url(url));
    if gzip {
        request = request.header("accept-encoding", "gzip, deflate, br");
    }
    let response = request.send().await.expect("GET");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Raw {
        status: response.status(),
        encoding: header("content-encoding"),
        vary: header("vary"),
        body: response.bytes().await.expect("body").to_vec(),
    }
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

#[tokio::test]
async fn large_answers_are_gzipped_for_clients_that_accept_it() {
    let app = loaded_app(|_| {}).await;
    let feed = feed_support::root(&app);
    for url in [
        format!("{feed}/Users?$top=100"),
        format!("{feed}/Users?$top=1000"),
        "users/odata?$top=100".to_owned(),
    ] {
        let plain = raw_get(&app, &url, false).await;
        let gz = raw_get(&app, &url, true).await;
        assert_eq!(
            (plain.status, gz.status),
            (StatusCode::OK, StatusCode::OK),
            "{url}"
        );
        assert_eq!(plain.encoding, None, "{url}");
        assert_eq!(gz.encoding.as_deref(), Some("gzip"), "{url}");
        for vary in [&plain.vary, &gz.vary] {
            assert!(
                vary.as_deref()
                    .is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")),
                "{url}: {vary:?}"
            );
        }
        assert!(
            gz.body.len() * 3 < plain.body.len(),
            "{url}: {} vs {}",
            gz.body.len(),
            plain.body.len()
        );
        let unpacked: Value = serde_json::from_slice(&gunzip(&gz.body)).expect("JSON");
        let expected: Value = serde_json::from_slice(&plain.body).expect("JSON");
        assert_eq!(unpacked, expected, "{url}");
        eprintln!(
            "{url}: {} bytes plain, {} bytes gzip",
            plain.body.len(),
            gz.body.len()
        );
    }
    // A small answer stays plain, whatever the client accepts.
    let small = raw_get(&app, &format!("{feed}/Users?$top=1&$select=userKey"), true).await;
    assert_eq!(small.status, StatusCode::OK);
    assert_eq!(small.encoding, None);
    assert!(small.body.len() < 1024);
    serde_json::from_slice::<Value>(&small.body).expect("plain JSON");
    // `gzip;q=0` refuses it.
    let response = app
        .client
        .get(format!("{feed}/Users?$top=100"))
        .header("accept-encoding", "gzip;q=0, identity")
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn compression_can_be_turned_off_and_its_threshold_set() {
    let app = loaded_app(|s| s.gzip = false).await;
    let off = raw_get(&app, "users/odata?$top=100", true).await;
    assert_eq!(off.encoding, None);
    assert_eq!(off.vary, None);
    let app = spawn_app_with(|s| s.gzip_min_bytes = 0).await;
    let tiny = raw_get(&app, "users/odata?$top=1", true).await;
    assert_eq!(tiny.encoding.as_deref(), Some("gzip"));
    let body: Value = serde_json::from_slice(&gunzip(&tiny.body)).unwrap();
    assert!(body["items"].is_array(), "{body}");
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    // No credentials: a browser sends none with a preflight.
    app.anonymous
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/Users", feed_support::root(app)),
        )
        .header("origin", origin)
        .header("access-control-request-method", "GET")
        .header(
            "access-control-request-headers",
            "authorization, odata-maxversion",
        )
        .send()
        .await
        .expect("OPTIONS")
}

#[tokio::test]
async fn cors_preflights_need_no_credentials() {
    const ALLOWED: &str = "https://bi.example.com";
    let app = spawn_app_with(|s| s.cors_origins = vec![ALLOWED.to_owned()]).await;
    let response = preflight(&app, ALLOWED).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers["access-control-allow-origin"], ALLOWED);
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    assert!(
        methods.contains("GET") && methods.contains("PATCH"),
        "{methods}"
    );
    let allowed = headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");

    // Another origin: refused with an OData error, still without a 401.
    let response = preflight(&app, "https://evil.example.com").await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let body = assert_error(response, StatusCode::FORBIDDEN, "Forbidden").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("APP_CORS_ORIGINS"),
        "{body}"
    );

    // The actual request from the allowed origin carries the CORS headers.
    let response = app
        .client
        .get(format!("{}/Users?$top=1", feed_support::root(&app)))
        .header("origin", ALLOWED)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["access-control-allow-origin"], ALLOWED);
    let exposed = response.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("etag") && exposed.contains("odata-version"),
        "{exposed}"
    );
    // ...and one from elsewhere does not (the browser then refuses it).
    let response = app
        .client
        .get(format!("{}/Users?$top=1", feed_support::root(&app)))
        .header("origin", "https://evil.example.com")
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    // `*`: any origin.
    let app = spawn_app_with(|s| s.cors_origins = vec!["*".to_owned()]).await;
    let response = preflight(&app, "http://localhost:3000").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn without_cors_preflights_are_refused_without_asking_for_credentials() {
    let app = spawn_app().await;
    let response = preflight(&app, "https://bi.example.com").await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert!(response.headers().get("www-authenticate").is_none());
    let body = assert_error(response, StatusCode::FORBIDDEN, "Forbidden").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("APP_CORS_ORIGINS"),
        "{body}"
    );
    // API 1 alike.
    let response = app
        .anonymous
        .request(reqwest::Method::OPTIONS, app.url("users/odata"))
        .header("origin", "https://bi.example.com")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // A same-origin request without CORS headers is unchanged.
    let response = app.get("users/odata?$top=1").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}
