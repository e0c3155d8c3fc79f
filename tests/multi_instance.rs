//! Several stateless instances on one database: two server processes share
//! the database of the backend under test (`ODATA_TEST_BACKEND`), and every
//! request may land on either of them. Nothing one instance needs lives in
//! the other's memory: records, tenants, API clients and the signing key
//! (of skiptokens, and through a derived key of access tokens) are all in
//! the database.

mod common;
mod server_support;

use std::process::Stdio;

use reqwest::StatusCode;
use serde_json::{Value, json};
use server_support::Server;

/// `odata-users serve` (tests/server_support) on `db_url`.
fn start(db_url: &str, outbox: &std::path::Path) -> Server {
    Server::start(db_url, outbox, &[], Stdio::null())
}

async fn json(response: reqwest::Response, status: StatusCode) -> Value {
    let got = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(got, status, "body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("JSON")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_database_serve_the_same_data() {
    let db_url = common::backend_database_url().await;
    let outbox = common::temp_dir();
    let a = start(&db_url, &outbox);
    let tenant = format!("multi{}", std::process::id());
    // The client (and with it the tenant) is created after A started; the
    // token A issues is accepted by B (the token key derives from the
    // signing key in the database).
    let (client_id, secret) = common::create_client_cli(&db_url, &tenant, "main");
    let b = start(&db_url, &outbox);
    let token = common::fetch_token(&reqwest::Client::new(), &a.address, &client_id, &secret).await;
    let client = common::bearer_client(&token);
    let api = |server: &Server, path: &str| {
        format!("{}/api/{tenant}/main/identity/{path}", server.address)
    };

    // Create on A (a tenant created after A started), read and change on B.
    let role = json(
        client
            .post(api(&a, "roles"))
            .json(&json!({"roleKey": "ops", "description": "Operations"}))
            .send()
            .await
            .expect("POST role"),
        StatusCode::CREATED,
    )
    .await;
    assert!(role.is_string());
    let id = json(
        client
            .post(api(&a, "users"))
            .json(
                &json!({"userKey": "ana", "name": "Ana", "isTechnician": false, "roles": ["ops"]}),
            )
            .send()
            .await
            .expect("POST user"),
        StatusCode::CREATED,
    )
    .await;
    let id = id.as_str().expect("id string").to_owned();
    let on_b = json(
        client.get(api(&b, "users/ana")).send().await.expect("GET"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(on_b["id"], id.as_str());
    assert_eq!(on_b["roles"], json!(["ops"]));
    json(
        client
            .put(api(&b, "users/ana/name"))
            .json(&json!("Ana Lima"))
            .send()
            .await
            .expect("PUT"),
        StatusCode::OK,
    )
    .await;
    let on_a = json(
        client
            .get(api(&a, &format!("users/{id}")))
            .send()
            .await
            .expect("GET"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(on_a["name"], "Ana Lima");
    assert_eq!(on_a["version"], 2);

    // Users created alternately on both; then page through the v4 feed with
    // a small page size, following each nextLink on the other instance.
    for i in 0..30 {
        let server = if i % 2 == 0 { &a } else { &b };
        json(
            client
                .post(api(server, "users"))
                .json(&json!({"userKey": format!("u{i:02}"), "name": format!("User {i}"), "isTechnician": false}))
                .send()
                .await
                .expect("POST"),
            StatusCode::CREATED,
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut url = Some(format!(
        "{}/api/{tenant}/main/odata/Users?$select=userKey&$orderby=userKey",
        a.address
    ));
    let mut pages = 0;
    while let Some(next) = url {
        let page = json(
            client
                .get(&next)
                .header("Prefer", "odata.maxpagesize=7")
                .send()
                .await
                .expect("GET page"),
            StatusCode::OK,
        )
        .await;
        for row in page["value"].as_array().expect("value") {
            seen.push(row["userKey"].as_str().expect("userKey").to_owned());
        }
        pages += 1;
        // The next page goes to the other instance.
        let (from, to) = if pages % 2 == 1 { (&a, &b) } else { (&b, &a) };
        url = page["@odata.nextLink"]
            .as_str()
            .map(|link| link.replacen(&from.address, &to.address, 1));
        assert!(pages < 20, "too many pages");
    }
    let mut expected: Vec<String> = (0..30).map(|i| format!("u{i:02}")).collect();
    expected.insert(0, "ana".to_owned());
    assert_eq!(
        seen, expected,
        "every user exactly once, in order, across instances"
    );
    assert_eq!(pages, 5);

    // Delete on B; A no longer finds it, and the API 1 count agrees on both.
    let deleted = client
        .delete(api(&b, "users/ana"))
        .send()
        .await
        .expect("DELETE");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = client.get(api(&a, "users/ana")).send().await.expect("GET");
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    for server in [&a, &b] {
        let page = json(
            client
                .get(api(server, "users/odata?$count=true&$top=0"))
                .send()
                .await
                .expect("count"),
            StatusCode::OK,
        )
        .await;
        assert_eq!(page["count"], 30);
    }
}
