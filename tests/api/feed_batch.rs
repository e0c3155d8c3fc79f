//! `POST …/odata/$batch` on the OData v4 feed: multipart (4.0) and JSON
//! (4.01) batches, change sets that commit or roll back as one unit,
//! `$<Content-ID>` references, inner requests admitted on their own
//! (another tenant, the write scope), the request limit and malformed
//! bodies (run on every backend through `ODATA_TEST_BACKEND`).

use crate::common;
use crate::feed_support;

mod race;

use common::{TestApp, spawn_app, spawn_app_with};
use feed_support::{get, get_with, parse_xml, root, send_with};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::{Value, json};

/// An answer read completely.
struct Batch {
    status: StatusCode,
    content_type: String,
    odata_version: String,
    body: String,
}

async fn post_batch(
    app: &TestApp,
    client: &reqwest::Client,
    content_type: &str,
    headers: &[(&str, &str)],
    body: String,
) -> Batch {
    let mut request = client
        .post(format!("{}/$batch", root(app)))
        .header("Content-Type", content_type)
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("POST $batch");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let (content_type, odata_version) = (header("content-type"), header("odata-version"));
    Batch {
        status: response.status(),
        content_type,
        odata_version,
        body: response.text().await.expect("body"),
    }
}

/// A multipart batch of `parts` (each a part's text, without delimiter).
fn multipart(parts: &[String]) -> String {
    let mut body = String::new();
    for part in parts {
        body.push_str("--batch_1\r\n");
        body.push_str(part);
        body.push_str("\r\n");
    }
    body.push_str("--batch_1--\r\n");
    body
}

/// An `application/http` part.
fn request(method: &str, url: &str, content_id: Option<&str>, body: Option<&Value>) -> String {
    let mut part =
        String::from("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
    if let Some(id) = content_id {
        part.push_str(&format!("Content-ID: {id}\r\n"));
    }
    part.push_str(&format!("\r\n{method} {url} HTTP/1.1\r\n"));
    match body {
        Some(body) => part.push_str(&format!(
            "Content-Type: application/json\r\nAccept: application/json\r\n\r\n{body}"
        )),
        None => part.push_str("Accept: application/json\r\n\r\n"),
    }
    part
}

/// A change set of `requests` (parts).
fn change_set(requests: &[String]) -> String {
    let mut part = String::from("Content-Type: multipart/mixed; boundary=changeset_1\r\n\r\n");
    for request in requests {
        part.push_str("--changeset_1\r\n");
        part.push_str(request);
        part.push_str("\r\n");
    }
    part.push_str("--changeset_1--");
    part
}

async fn send_multipart(app: &TestApp, client: &reqwest::Client, parts: &[String]) -> Batch {
    post_batch(
        app,
        client,
        "multipart/mixed; boundary=batch_1",
        &[],
        multipart(parts),
    )
    .await
}

/// The status and (JSON) body of each inner answer of a multipart answer,
/// in order, change sets' answers included.
fn answers(batch: &Batch) -> Vec<(u16, Option<Value>)> {
    assert_eq!(batch.status, StatusCode::OK, "{}", batch.body);
    assert!(
        batch.content_type.starts_with("multipart/mixed; boundary="),
        "{}",
        batch.content_type
    );
    let text = &batch.body;
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = text[at..].find("HTTP/1.1 ") {
        let start = at + i + "HTTP/1.1 ".len();
        let status: u16 = text[start..start + 3].parse().expect("status");
        let head_end = text[start..].find("\r\n\r\n").expect("headers end") + start + 4;
        let body_end = text[head_end..].find("\r\n--").expect("part end") + head_end;
        let body = &text[head_end..body_end];
        out.push((status, serde_json::from_str(body).ok()));
        at = body_end;
    }
    out
}

fn statuses(batch: &Batch) -> Vec<u16> {
    answers(batch).into_iter().map(|(s, _)| s).collect()
}

async fn count(app: &TestApp, set: &str) -> String {
    let answer = get(app, &format!("{set}/$count")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body
}

fn user(key: &str) -> Value {
    json!({"userKey": key, "name": format!("User {key}"), "isTechnician": false})
}

async fn create_role(app: &TestApp, key: &str) -> String {
    let response = app
        .client
        .post(format!("{}/Roles", root(app)))
        .json(&json!({"roleKey": key, "description": key}))
        .send()
        .await
        .expect("POST Roles");
    assert_eq!(response.status(), StatusCode::CREATED);
    let role: Value = response.json().await.expect("role");
    role["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn multipart_reads_and_a_change_set_with_a_content_id_reference() {
    let app = spawn_app().await;
    let role = create_role(&app, "admin").await;
    let batch = send_multipart(
        &app,
        &app.client,
        &[
            request("GET", "Roles?$select=roleKey", None, None),
            change_set(&[
                request("POST", "Users", Some("1"), Some(&user("ana"))),
                request(
                    "POST",
                    "$1/roles/$ref",
                    Some("2"),
                    Some(&json!({"@odata.id": format!("Roles({role})")})),
                ),
            ]),
            request("GET", "Users/$count", None, None),
        ],
    )
    .await;
    assert!(batch.body.contains("Content-ID: 1\r\n"), "{}", batch.body);
    let answers = answers(&batch);
    let codes: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(codes, vec![200, 201, 204, 200], "{}", batch.body);
    let roles = answers[0].1.as_ref().expect("JSON");
    assert_eq!(roles["value"][0]["roleKey"], "admin");
    let created = answers[1].1.as_ref().expect("JSON");
    assert_eq!(created["userKey"], "ana");
    let id = created["id"].as_str().expect("id");
    // The change set committed: the user and its link are there.
    let linked = get(&app, &format!("Users({id})/roles")).await;
    assert_eq!(linked.status, StatusCode::OK);
    assert_eq!(linked.json()["value"][0]["roleKey"], "admin");
    // The read after the change set saw it.
    assert!(batch.body.contains("\r\n\r\n1\r\n"), "{}", batch.body);
}

#[tokio::test]
async fn a_multipart_change_set_failing_half_way_changes_nothing() {
    let app = spawn_app().await;
    let role = create_role(&app, "admin").await;
    let batch = send_multipart(
        &app,
        &app.client,
        &[
            change_set(&[
                request("POST", "Users", Some("1"), Some(&user("ana"))),
                request(
                    "POST",
                    "$1/roles/$ref",
                    Some("2"),
                    Some(&json!({"@odata.id": format!("Roles({role})")})),
                ),
                request(
                    "PATCH",
                    &format!("Roles({role})"),
                    Some("3"),
                    Some(&json!({"description": "Renamed"})),
                ),
                // The same key again: 409, after three writes succeeded.
                request("POST", "Users", Some("4"), Some(&user("ana"))),
            ]),
            request("GET", "Users/$count", None, None),
        ],
    )
    .await;
    let answers = answers(&batch);
    assert_eq!(answers.len(), 2, "{}", batch.body);
    // The change set answers with its one error.
    assert_eq!(answers[0].0, 409, "{}", batch.body);
    assert_eq!(
        answers[0].1.as_ref().expect("error")["error"]["code"],
        "Conflict"
    );
    assert!(batch.body.contains("Content-ID: 4\r\n"), "{}", batch.body);
    assert_eq!(answers[1].0, 200);
    assert_eq!(count(&app, "Users").await, "0");
    let role = get(&app, &format!("Roles({role})")).await;
    assert_eq!(
        role.json()["description"],
        "admin",
        "the rename was rolled back"
    );
}

#[tokio::test]
async fn a_json_batch_with_an_atomicity_group_failing_half_way_changes_nothing() {
    let app = spawn_app().await;
    let body = json!({"requests": [
        {"id": "r1", "method": "get", "url": "Users/$count"},
        {"id": "1", "method": "post", "url": "Users", "atomicityGroup": "g1", "body": user("ana")},
        {"id": "2", "method": "post", "url": "Roles", "atomicityGroup": "g1",
         "body": {"roleKey": "x", "description": "X"}},
        {"id": "3", "method": "post", "url": "Users", "atomicityGroup": "g1", "body": user("ANA")},
        {"id": "4", "method": "get", "url": "Users", "dependsOn": ["g1"]},
        {"id": "5", "method": "post", "url": "Roles", "atomicityGroup": "g2",
         "body": {"roleKey": "ok", "description": "OK"}}
    ]});
    let batch = post_batch(
        &app,
        &app.client,
        "application/json",
        &[("OData-Version", "4.01")],
        body.to_string(),
    )
    .await;
    assert_eq!(batch.status, StatusCode::OK, "{}", batch.body);
    assert_eq!(batch.odata_version, "4.01");
    assert!(batch.content_type.starts_with("application/json"));
    let answer: Value = serde_json::from_str(&batch.body).expect("JSON");
    let responses = answer["responses"].as_array().expect("responses");
    let summary: Vec<(String, u64)> = responses
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or("").to_owned(),
                r["status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("r1".to_owned(), 200),
            ("3".to_owned(), 409),
            ("4".to_owned(), 424),
            ("5".to_owned(), 201)
        ],
        "{}",
        batch.body
    );
    assert_eq!(responses[1]["atomicityGroup"], "g1");
    assert_eq!(responses[1]["body"]["error"]["code"], "Conflict");
    assert_eq!(responses[3]["body"]["roleKey"], "ok");
    assert_eq!(count(&app, "Users").await, "0");
    assert_eq!(count(&app, "Roles").await, "1");
}

#[tokio::test]
async fn a_json_batch_references_an_earlier_id() {
    let app = spawn_app().await;
    let role = create_role(&app, "tech").await;
    let body = json!({"requests": [
        {"id": "1", "method": "post", "url": "Users", "atomicityGroup": "g", "body": user("bo")},
        {"id": "2", "method": "post", "url": "$1/roles/$ref", "atomicityGroup": "g",
         "dependsOn": ["1"], "body": {"@odata.id": format!("Roles({role})")}}
    ]});
    let batch = post_batch(
        &app,
        &app.client,
        "application/json",
        &[("OData-Version", "4.01")],
        body.to_string(),
    )
    .await;
    let answer: Value = serde_json::from_str(&batch.body).expect("JSON");
    let statuses: Vec<u64> = answer["responses"]
        .as_array()
        .expect("responses")
        .iter()
        .map(|r| r["status"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(statuses, vec![201, 204], "{}", batch.body);
    let id = answer["responses"][0]["body"]["id"].as_str().expect("id");
    let linked = get(&app, &format!("Users({id})/roles")).await;
    assert_eq!(linked.json()["value"][0]["roleKey"], "tech");
}

#[tokio::test]
async fn another_tenants_url_fails_on_its_own() {
    let app = spawn_app().await;
    let other = format!("/api/other{}/main/odata/Users", app.tenant);
    let absolute = format!("{}/api/other{}/main/odata/Roles", app.address, app.tenant);
    let batch = send_multipart(
        &app,
        &app.client,
        &[
            request("GET", &other, None, None),
            request("GET", "Users", None, None),
            request(
                "POST",
                &absolute,
                None,
                Some(&json!({"roleKey": "x", "description": "X"})),
            ),
            request("GET", "/health", None, None),
        ],
    )
    .await;
    assert_eq!(statuses(&batch), vec![403, 200, 403, 404], "{}", batch.body);
    assert_eq!(count(&app, "Roles").await, "0");
}

#[tokio::test]
async fn without_the_write_scope_a_write_fails_on_its_own() {
    let app = spawn_app().await;
    let (_, _, reader) = app.client_for(&app.tenant, "main", "identity.read").await;
    let batch = send_multipart(
        &app,
        &reader,
        &[
            request("POST", "Users", None, Some(&user("ana"))),
            request("GET", "Users", None, None),
            change_set(&[request(
                "POST",
                "Roles",
                Some("1"),
                Some(&json!({"roleKey": "x", "description": "X"})),
            )]),
        ],
    )
    .await;
    let answers = answers(&batch);
    let codes: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(codes, vec![403, 200, 403], "{}", batch.body);
    assert_eq!(
        answers[0].1.as_ref().expect("error")["error"]["code"],
        "Forbidden"
    );
    assert_eq!(count(&app, "Users").await, "0");
    assert_eq!(count(&app, "Roles").await, "0");
}

#[tokio::test]
async fn more_requests_than_the_limit_are_refused() {
    let app = spawn_app().await;
    let parts: Vec<String> = (0..101)
        .map(|_| request("GET", "Users", None, None))
        .collect();
    let batch = send_multipart(&app, &app.client, &parts).await;
    assert_eq!(batch.status, StatusCode::BAD_REQUEST, "{}", batch.body);
    assert!(
        batch.body.contains("more than the limit of 100"),
        "{}",
        batch.body
    );
    let parts: Vec<String> = (0..100)
        .map(|_| request("GET", "Users/$count", None, None))
        .collect();
    let batch = send_multipart(&app, &app.client, &parts).await;
    assert_eq!(statuses(&batch).len(), 100);

    let app = spawn_app_with(|s| s.batch_max_requests = 2).await;
    let batch = send_multipart(
        &app,
        &app.client,
        &[
            request("GET", "Users", None, None),
            change_set(&[
                request("POST", "Users", Some("1"), Some(&user("a"))),
                request("POST", "Users", Some("2"), Some(&user("b"))),
            ]),
        ],
    )
    .await;
    assert_eq!(batch.status, StatusCode::BAD_REQUEST, "{}", batch.body);
    assert_eq!(count(&app, "Users").await, "0");
}

#[tokio::test]
async fn malformed_batches_are_400_and_change_nothing() {
    let app = spawn_app().await;
    let good = multipart(&[request("POST", "Users", None, Some(&user("ana")))]);
    for (content_type, headers, body, status) in [
        ("multipart/mixed", &[][..], good.clone(), 400),
        ("multipart/mixed; boundary=other", &[][..], good.clone(), 400),
        ("multipart/mixed; boundary=batch_1", &[][..], good.replace("--batch_1--", ""), 400),
        ("multipart/mixed; boundary=batch_1", &[][..], "--batch_1\r\nContent-Type: application/http\r\n\r\nNOT A REQUEST\r\n--batch_1--".to_owned(), 400),
        ("multipart/mixed; boundary=batch_1", &[][..], String::new(), 400),
        ("application/json", &[][..], json!({"requests": []}).to_string(), 400),
        ("application/json", &[("OData-Version", "4.01")][..], "{\"requests\": [".to_owned(), 400),
        ("application/json", &[("OData-Version", "4.01")][..], json!({"requests": [{"id": "1", "method": "post", "url": "Users", "body": user("ana")}, {"id": "1", "method": "get", "url": "Users"}]}).to_string(), 400),
        ("text/plain", &[][..], good.clone(), 415),
    ] {
        let batch = post_batch(&app, &app.client, content_type, headers, body.clone()).await;
        assert_eq!(batch.status.as_u16(), status, "{content_type} {body}: {}", batch.body);
        let error: Value = serde_json::from_str(&batch.body).expect("an OData error");
        assert!(error["error"]["message"].is_string(), "{}", batch.body);
    }
    assert_eq!(count(&app, "Users").await, "0");
    // The same body with its boundary goes through.
    let batch = post_batch(
        &app,
        &app.client,
        "multipart/mixed; boundary=batch_1",
        &[],
        good,
    )
    .await;
    assert_eq!(statuses(&batch), vec![201]);
}

#[tokio::test]
async fn metadata_declares_batch_support() {
    let app = spawn_app().await;
    let answer = get(&app, "$metadata").await;
    assert_eq!(answer.status, StatusCode::OK);
    let doc = parse_xml(&answer.body);
    let container = doc.find("EntityContainer").expect("EntityContainer");
    let supported = container
        .annotation("Capabilities.BatchSupported")
        .and_then(|a| a.attr("Bool"));
    assert_eq!(supported, Some("true"));
    let support = container
        .annotation("Capabilities.BatchSupport")
        .expect("BatchSupport");
    for (field, value) in [
        ("Supported", "true"),
        ("ContinueOnErrorSupported", "true"),
        ("ReferencesInRequestBodiesSupported", "false"),
    ] {
        assert_eq!(
            support.record_value(field).and_then(|v| v.attr("Bool")),
            Some(value),
            "{field}"
        );
    }
    let formats = support.record_value("SupportedFormats").expect("formats");
    assert!(
        format!("{formats:?}").contains("multipart/mixed"),
        "{formats:?}"
    );
    assert!(
        format!("{formats:?}").contains("application/json"),
        "{formats:?}"
    );
}

#[tokio::test]
async fn inner_requests_take_from_the_rate_limit_and_the_cost_budget() {
    let app = spawn_app_with(|s| s.rate_limit_per_minute = 6).await;
    let parts: Vec<String> = (0..8)
        .map(|_| request("GET", "Users/$count", None, None))
        .collect();
    let batch = send_multipart(&app, &app.client, &parts).await;
    let codes = statuses(&batch);
    // The batch itself took one request: at most five inner ones pass,
    // then each answers 429 on its own.
    let passed = codes.iter().take_while(|c| **c == 200).count();
    assert!(passed <= 5, "{codes:?}");
    assert!(codes[passed..].iter().all(|c| *c == 429), "{codes:?}");
    assert!(batch.body.contains("TooManyRequests"), "{}", batch.body);

    let app = spawn_app().await;
    let nested =
        "$filter=roles/any(r: r/users/any(u: u/groups/any(g: g/users/any(v: v/name eq 'x'))))";
    let batch = send_multipart(
        &app,
        &app.client,
        &[
            request(
                "GET",
                &format!("Users?{}", nested.replace(' ', "%20")),
                None,
                None,
            ),
            request("GET", "Users/$count", None, None),
        ],
    )
    .await;
    let answers = answers(&batch);
    assert_eq!(answers[0].0, 400, "{}", batch.body);
    assert_eq!(
        answers[0].1.as_ref().expect("error")["error"]["code"],
        "QueryTooExpensive"
    );
    assert_eq!(answers[1].0, 200);
}

#[tokio::test]
async fn a_batch_body_over_the_limit_is_413() {
    let app = spawn_app_with(|s| {
        s.max_json_bytes = 1000;
        s.batch_max_requests = 2;
    })
    .await;
    let big = json!({"userKey": "a", "name": "x".repeat(2500), "isTechnician": false});
    let batch = send_multipart(
        &app,
        &app.client,
        &[request("POST", "Users", None, Some(&big))],
    )
    .await;
    assert_eq!(
        batch.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        batch.body
    );
    assert_eq!(count(&app, "Users").await, "0");
}
