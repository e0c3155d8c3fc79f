//! Error bodies, health and readiness, unknown routes and tenants, body
//! and content-type failures.

use crate::common;

use common::{assert_error, json_of, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn health_and_ready_answer() {
    let app = spawn_app().await;
    let health = json_of(app.get("/health").await, StatusCode::OK).await;
    let head = app.client.head(app.url("/ready")).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(health["status"], "ok");
    let ready = json_of(app.get("/READY").await, StatusCode::OK).await;
    assert_eq!(ready["database"], "ok");
}

#[tokio::test]
async fn unknown_route_is_404_in_the_error_body() {
    let app = spawn_app().await;
    let response = app.get("/nothing/here").await;
    let request_id = response.headers().get("x-request-id").cloned();
    assert!(request_id.is_some(), "responses carry a request id");
    assert_error(response, StatusCode::NOT_FOUND, "NotFound").await;
}

#[tokio::test]
async fn unknown_tenant_is_404_with_a_clear_message() {
    // Clients exist only for existing tenants, and a token for another
    // tenant is 403 whatever the path names (tests/api/auth.rs). A tenant that
    // is gone while a validly signed token for it still exists (a database
    // restored without it, `APP_SIGNING_KEY` kept) is what reaches the 404:
    // such a token is minted here with the configured key.
    let key = [7u8; 32];
    let app = spawn_app_with(|s| s.signing_key = Some(common::base64(&key))).await;
    let keys = identity_service::auth::jwt::TokenKeys::derive(&key);
    let principal = identity_service::auth::Principal {
        client_id: "restored".into(),
        tenant_key: "nope".into(),
        org_key: "main".into(),
        scopes: identity_service::auth::Scopes::all(),
    };
    let token = keys
        .issue(&principal, identity_service::auth::jwt::now_seconds(), 60)
        .unwrap();
    let client = common::bearer_client(&token);
    let url = format!("{}/api/nope/main/identity/users/odata", app.address);
    let body = assert_error(
        client.get(&url).send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "TenantNotFound",
    )
    .await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("nope") && message.contains("main"),
        "{message}"
    );
    // Writes to an unknown tenant are refused the same way.
    let url = format!("{}/api/NOPE/Main/identity/users", app.address);
    let response = client
        .post(&url)
        .json(&json!({"userKey":"a","name":"A","isTechnician":false}))
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::NOT_FOUND, "TenantNotFound").await;
    // The tenant's own client may not even ask.
    let url = format!("{}/api/{}/other/identity/users", app.address, app.tenant);
    let response = app
        .post_json(
            &url,
            &json!({"userKey":"a","name":"A","isTechnician":false}),
        )
        .await;
    assert_error(response, StatusCode::FORBIDDEN, "Forbidden").await;
}

#[tokio::test]
async fn tenant_and_org_match_case_insensitively() {
    let app = spawn_app().await;
    let url = format!(
        "{}/api/{}/Main/identity/users",
        app.address,
        app.tenant.to_uppercase()
    );
    let id = common::created_id(
        app.post_json(
            &url,
            &json!({"userKey":"a","name":"A","isTechnician":false}),
        )
        .await,
    )
    .await;
    assert_eq!(app.get_user(&id).await["userKey"], "a");
}

#[tokio::test]
async fn bodies_bad_json_empty_and_content_types() {
    let app = spawn_app().await;
    app.create_user(json!({"userKey":"jane","name":"Jane","isTechnician":false}))
        .await;
    let put = reqwest::Method::PUT;
    let post = reqwest::Method::POST;
    for (method, path) in [
        (&post, "users"),
        (&put, "users/jane/name"),
        (&post, "roles"),
    ] {
        let response = app
            .send_raw(method.clone(), path, "{not json", Some("application/json"))
            .await;
        assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
        let response = app
            .send_raw(method.clone(), path, "", Some("application/json"))
            .await;
        let body = assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
        assert!(body["error"]["message"].as_str().unwrap().contains("empty"));
        let response = app.send_raw(method.clone(), path, "\"Jane\"", None).await;
        assert_error(
            response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
        )
        .await;
        let response = app
            .send_raw(method.clone(), path, "\"Jane\"", Some("text/plain"))
            .await;
        assert_error(
            response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
        )
        .await;
    }
    // JSON with parameters is JSON.
    let response = app
        .send_raw(
            put,
            "users/jane/name",
            "\"Jane D\"",
            Some("application/json; charset=utf-8"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    // An over-long ordinary body is 413.
    let long = format!("\"{}\"", "x".repeat(100_000));
    let response = app
        .send_raw(
            reqwest::Method::PUT,
            "users/jane/name",
            &long,
            Some("application/json"),
        )
        .await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge").await;
}

#[tokio::test]
async fn wrong_method_is_405_in_the_error_body() {
    let app = spawn_app().await;
    let response = app.delete("users/odata").await;
    assert_error(response, StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed").await;
    let response = app.get("users/jane/name").await;
    assert_error(response, StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed").await;
}

#[tokio::test]
async fn query_errors_name_the_option_and_offset() {
    let app = spawn_app().await;
    let response = app.get("users/odata?$filter=name%20eq").await;
    let body = assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
    assert_eq!(body["error"]["target"], "$filter", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("offset") && message.contains("expected"),
        "{message}"
    );

    let response = app.get("users/odata?$filter=nosuchproperty%20eq%201").await;
    assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
    let response = app.get("users/odata?$top=-1").await;
    assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;

    let long = format!("users/odata?$filter=name%20eq%20'{}'", "x".repeat(10_000));
    let response = app.get(&long).await;
    assert!(response.headers().contains_key("x-request-id"));
    assert_error(response, StatusCode::URI_TOO_LONG, "UriTooLong").await;
    // Any route: the limit is applied before routing.
    let response = app.get(&format!("/health?{}", "x".repeat(10_000))).await;
    assert_error(response, StatusCode::URI_TOO_LONG, "UriTooLong").await;
}

#[tokio::test]
async fn put_of_an_unknown_attribute_is_400() {
    let app = spawn_app().await;
    app.create_user(json!({"userKey":"jane","name":"Jane","isTechnician":false}))
        .await;
    let body = assert_error(
        app.put_json("users/jane/favouriteColour", &json!("blue"))
            .await,
        StatusCode::BAD_REQUEST,
        "BadRequest",
    )
    .await;
    assert_eq!(body["error"]["target"], "favouriteColour");
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = spawn_app().await;
    let doc = json_of(app.get("/openapi.json").await, StatusCode::OK).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() > 20);
    for (path, item) in paths {
        let concrete = path
            .replace("{tenantKey}", &app.tenant)
            .replace("{orgKey}", "main")
            .replace("{id}", "nobody")
            .replace("{userKey}", "nobody")
            .replace("{token}", "no-such-token");
        for method in item.as_object().unwrap().keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = app
                .send_raw(method.clone(), &concrete, "[]", Some("application/json"))
                .await;
            let status = response.status();
            let body = response.text().await.unwrap();
            assert_ne!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {concrete}: {body}"
            );
            assert!(
                !body.contains("no route for"),
                "{method} {concrete} is documented but not routed: {body}"
            );
        }
    }
    let docs = app.get("/docs/").await;
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger-ui"));
}

#[tokio::test]
async fn metrics_count_requests() {
    let app = spawn_app().await;
    app.get("/health").await;
    app.get("/nothing").await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(
        text.contains("http_requests_total{status=\"2xx\"}"),
        "{text}"
    );
    let count = |label: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with(&format!("http_requests_total{{status=\"{label}\"}}")))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    assert!(count("2xx") >= 1 && count("4xx") >= 1, "{text}");
}

// ---- The process interface scripts rely on (DESIGN.md "Interfaces") ----

fn binary() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_odata-users"))
}

#[tokio::test]
async fn serve_prints_the_listening_line_first_and_cli_commands_work() {
    use std::io::BufRead;

    let dir = common::temp_dir();
    let url = format!("sqlite://{}?mode=rwc", dir.join("cli.db").display());

    // tenants create is idempotent; a bad key is one error line and exit 1.
    let run = |args: &[&str]| {
        binary()
            .args(args)
            .env("DATABASE_URL", &url)
            .env_remove("RUST_LOG")
            .current_dir(&dir)
            .output()
            .expect("run odata-users")
    };
    let first = run(&["tenants", "create", "--tenant", "Acme", "--org", "Main"]);
    assert!(first.status.success());
    assert_eq!(
        String::from_utf8_lossy(&first.stdout).trim(),
        "created tenant Acme org Main"
    );
    let again = run(&["tenants", "create", "--tenant", "ACME", "--org", "main"]);
    assert!(again.status.success());
    assert_eq!(
        String::from_utf8_lossy(&again.stdout).trim(),
        "exists tenant Acme org Main"
    );
    let bad = run(&["tenants", "create", "--tenant", "a b", "--org", "x"]);
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.lines().any(|l| l.starts_with("error: ")), "{stderr}");
    let migrate = run(&["migrate"]);
    assert!(migrate.status.success());
    // clients create --json prints exactly {"clientId","clientSecret"}.
    let created = run(&[
        "clients", "create", "--tenant", "acme", "--org", "main", "--json",
    ]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let credentials: serde_json::Value =
        serde_json::from_slice(&created.stdout).expect("clients create --json prints JSON");
    let keys: Vec<&String> = credentials.as_object().expect("an object").keys().collect();
    assert_eq!(keys, ["clientId", "clientSecret"]);
    let client_id = credentials["clientId"].as_str().expect("clientId");
    let client_secret = credentials["clientSecret"].as_str().expect("clientSecret");

    let mut child = binary()
        .args(["serve", "--bind", "127.0.0.1:0", "--no-demo"])
        .env("DATABASE_URL", &url)
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let first_line = std::io::BufReader::new(stdout)
        .lines()
        .next()
        .expect("a first line")
        .expect("readable");
    let address = first_line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first_line}"))
        .to_owned();
    assert!(address.starts_with("http://127.0.0.1:"), "{address}");
    let anonymous = reqwest::Client::new();
    let token = common::fetch_token(&anonymous, &address, client_id, client_secret).await;
    let client = common::bearer_client(&token);
    let health = anonymous
        .get(format!("{address}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let users = client
        .get(format!("{address}/api/acme/MAIN/identity/users/odata"))
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), StatusCode::OK);
    let refused = anonymous
        .get(format!("{address}/api/acme/main/identity/users/odata"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
