//! Authentication and per-client limits (DESIGN.md "Security"): the token
//! endpoint (RFC 6749 client credentials, by HTTP Basic and by form), its
//! errors, Bearer tokens on API 1 (missing, invalid, expired, revoked,
//! another tenant, missing scope), HTTP Basic on the v4 feed, the rate
//! limit, the `clients` CLI and the routes that need no credentials.

use crate::common;

use std::time::{Duration, Instant};

use common::{TestApp, assert_error, base64, json_of, spawn_app, spawn_app_with};
use reqwest::{Response, StatusCode, header};
use serde_json::{Value, json};

/// `POST /connect/token` with a raw form body and optional Basic credentials.
async fn token_request(app: &TestApp, basic: Option<(&str, &str)>, form: &str) -> Response {
    let mut request = app
        .anonymous
        .post(app.url("/connect/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form.to_owned());
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    request.send().await.expect("POST /connect/token")
}

/// Asserts an RFC 6749 §5.2 error answer and returns its body.
async fn oauth_error(response: Response, status: StatusCode, error: &str) -> Value {
    assert_eq!(
        response.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    if status == StatusCode::UNAUTHORIZED {
        let challenge = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .expect("401 has WWW-Authenticate")
            .to_str()
            .unwrap()
            .to_owned();
        assert!(challenge.starts_with("Basic realm="), "{challenge}");
    }
    let body = json_of(response, status).await;
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string(), "{body}");
    body
}

fn challenges(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", base64(format!("{id}:{secret}").as_bytes()))
}

async fn get_with(app: &TestApp, path: &str, authorization: &str) -> Response {
    app.anonymous
        .get(app.url(path))
        .header(header::AUTHORIZATION, authorization)
        .send()
        .await
        .expect("GET")
}

#[tokio::test]
async fn a_token_by_basic_or_by_form_opens_the_api() {
    let app = spawn_app().await;
    // HTTP Basic.
    let response = token_request(
        &app,
        Some((&app.client_id, &app.client_secret)),
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(
        response.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    let body = json_of(response, StatusCode::OK).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(
        body["expires_in"], 900,
        "the default lifetime is 15 minutes"
    );
    assert_eq!(body["scope"], "identity.read identity.write");
    let by_basic = body["access_token"].as_str().unwrap().to_owned();
    // The form body.
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope=identity.read",
        app.client_id, app.client_secret
    );
    let body = json_of(token_request(&app, None, &form).await, StatusCode::OK).await;
    assert_eq!(body["scope"], "identity.read", "a requested subset");
    let read_only = body["access_token"].as_str().unwrap().to_owned();

    for token in [&by_basic, &read_only] {
        let response = get_with(&app, "users/odata", &bearer(token)).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    // The scheme name is case-insensitive.
    let response = get_with(&app, "users/odata", &format!("bearer {by_basic}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    // The read-only token cannot write.
    let response = app
        .anonymous
        .post(app.url("users"))
        .header(header::AUTHORIZATION, bearer(&read_only))
        .json(&json!({"userKey": "ro", "name": "Read Only", "isTechnician": false}))
        .send()
        .await
        .unwrap();
    let challenge = challenges(&response).join(" | ");
    assert!(
        challenge.contains("error=\"insufficient_scope\"")
            && challenge.contains("scope=\"identity.write\""),
        "{challenge}"
    );
    assert_error(response, StatusCode::FORBIDDEN, "Forbidden").await;
    // The full token can.
    let response = app
        .anonymous
        .post(app.url("users"))
        .header(header::AUTHORIZATION, bearer(&by_basic))
        .json(&json!({"userKey": "rw", "name": "Read Write", "isTechnician": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_token_endpoint_answers_rfc_6749_errors() {
    let app = spawn_app().await;
    let (id, secret) = (app.client_id.as_str(), app.client_secret.as_str());
    let grant = "grant_type=client_credentials";
    oauth_error(
        token_request(&app, Some((id, "wrong")), grant).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    oauth_error(
        token_request(&app, Some(("no-such-client", secret)), grant).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    oauth_error(
        token_request(
            &app,
            None,
            &format!("{grant}&client_id={id}&client_secret=wrong"),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    // No client authentication at all.
    oauth_error(
        token_request(&app, None, grant).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    oauth_error(
        token_request(&app, Some((id, secret)), "").await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    oauth_error(
        token_request(&app, Some((id, secret)), "grant_type=password").await,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
    )
    .await;
    oauth_error(
        token_request(&app, Some((id, secret)), &format!("{grant}&{grant}")).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    oauth_error(
        token_request(
            &app,
            Some((id, secret)),
            &format!("{grant}&scope=identity.admin"),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_scope",
    )
    .await;
    // Two authentication methods at once.
    oauth_error(
        token_request(
            &app,
            Some((id, secret)),
            &format!("{grant}&client_id={id}&client_secret={secret}"),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    // Not a form.
    let response = app
        .anonymous
        .post(app.url("/connect/token"))
        .basic_auth(id, Some(secret))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    // A read-only client may not ask for write.
    let (ro_id, ro_secret, _) = app.client_for(&app.tenant, "main", "identity.read").await;
    oauth_error(
        token_request(
            &app,
            Some((&ro_id, &ro_secret)),
            &format!("{grant}&scope=identity.read%20identity.write"),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_scope",
    )
    .await;
    let body = json_of(
        token_request(&app, Some((&ro_id, &ro_secret)), grant).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["scope"], "identity.read");
    // Only POST.
    let response = app
        .anonymous
        .get(app.url("/connect/token"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn api_routes_need_a_valid_bearer_token_of_their_tenant() {
    let app = spawn_app().await;
    // None.
    let response = app
        .anonymous
        .get(app.url("users/odata"))
        .send()
        .await
        .unwrap();
    assert_eq!(challenges(&response), ["Bearer realm=\"odata-users\""]);
    assert_error(response, StatusCode::UNAUTHORIZED, "Unauthorized").await;
    // Every method and route, also unknown records and writes.
    for (method, path) in [
        (reqwest::Method::GET, "users/nobody"),
        (reqwest::Method::POST, "users"),
        (reqwest::Method::PUT, "users/nobody/name"),
        (reqwest::Method::DELETE, "roles/nothing"),
        (reqwest::Method::GET, "groups/odata"),
        (reqwest::Method::POST, "users/sendInvitation"),
    ] {
        let response = app
            .anonymous
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
    }
    // Garbage, a token signed with another key, another scheme.
    for authorization in [
        bearer("not-a-token"),
        bearer("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"),
        "Bearer".to_owned(),
        basic(&app.client_id, &app.client_secret),
    ] {
        let response = get_with(&app, "users/odata", &authorization).await;
        let challenge = challenges(&response).join(" | ");
        assert!(
            challenge.starts_with("Bearer realm="),
            "{authorization}: {challenge}"
        );
        assert_error(response, StatusCode::UNAUTHORIZED, "Unauthorized").await;
    }
    let response = get_with(&app, "users/odata", &bearer("not-a-token")).await;
    assert!(challenges(&response)[0].contains("error=\"invalid_token\""));

    // The path's tenant and org compare case-insensitively.
    let shouting = format!(
        "{}/api/{}/MAIN/identity/users/odata",
        app.address,
        app.tenant.to_uppercase()
    );
    assert_eq!(app.get(&shouting).await.status(), StatusCode::OK);
    // Another tenant's token: 403, whether or not the path's tenant exists.
    let (_, _, other) = app
        .client_for(&format!("{}x", app.tenant), "main", "identity.read")
        .await;
    let response = other.get(app.url("users/odata")).send().await.unwrap();
    assert_error(response, StatusCode::FORBIDDEN, "Forbidden").await;
    let response = app
        .get(&format!(
            "{}/api/nowhere/main/identity/users/odata",
            app.address
        ))
        .await;
    assert_error(response, StatusCode::FORBIDDEN, "Forbidden").await;
    let response = app
        .get(&format!(
            "{}/api/{}/other/identity/users/odata",
            app.address, app.tenant
        ))
        .await;
    assert_error(response, StatusCode::FORBIDDEN, "Forbidden").await;
    // A write-only token cannot read.
    let (_, _, write_only) = app.client_for(&app.tenant, "main", "identity.write").await;
    let response = write_only.get(app.url("users/odata")).send().await.unwrap();
    assert_error(response, StatusCode::FORBIDDEN, "Forbidden").await;
    let response = write_only
        .post(app.url("roles"))
        .json(&json!({"roleKey": "writers"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let app = spawn_app_with(|s| s.token_ttl_seconds = 1).await;
    let body = json_of(
        token_request(
            &app,
            Some((&app.client_id, &app.client_secret)),
            "grant_type=client_credentials",
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["expires_in"], 1);
    let token = body["access_token"].as_str().unwrap().to_owned();
    // Valid until its `exp` second has passed (no leeway).
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let response = get_with(&app, "users/odata", &bearer(&token)).await;
    let challenge = challenges(&response).join(" | ");
    assert!(
        challenge.contains("error=\"invalid_token\"") && challenge.contains("expired"),
        "{challenge}"
    );
    let body = assert_error(response, StatusCode::UNAUTHORIZED, "Unauthorized").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );
}

#[tokio::test]
async fn a_revoked_client_gets_no_token_and_its_tokens_stop_working() {
    // No revocation cache: the guard reads the list on every request.
    let app = spawn_app_with(|s| s.auth_cache_seconds = 0).await;
    let feed = format!("{}/api/{}/main/odata/Users", app.address, app.tenant);
    assert_eq!(app.get("users/odata").await.status(), StatusCode::OK);
    let credentials = basic(&app.client_id, &app.client_secret);
    assert_eq!(
        get_with(&app, &feed, &credentials).await.status(),
        StatusCode::OK
    );
    let revoked = identity_service::storage::clients::revoke(&app.pool, &app.client_id)
        .await
        .unwrap();
    assert_eq!(revoked, identity_service::storage::clients::Revoked::Now);

    let response = app.get("users/odata").await;
    assert_error(response, StatusCode::UNAUTHORIZED, "Unauthorized").await;
    let response = get_with(&app, &feed, &credentials).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "Unauthorized").await;
    oauth_error(
        token_request(
            &app,
            Some((&app.client_id, &app.client_secret)),
            "grant_type=client_credentials",
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
}

#[tokio::test]
async fn with_the_default_cache_a_revocation_applies_within_its_period() {
    let app = spawn_app_with(|s| s.auth_cache_seconds = 2).await;
    assert_eq!(app.get("users/odata").await.status(), StatusCode::OK);
    identity_service::storage::clients::revoke(&app.pool, &app.client_id)
        .await
        .unwrap();
    // New tokens are refused at once (the token endpoint reads the client).
    oauth_error(
        token_request(
            &app,
            Some((&app.client_id, &app.client_secret)),
            "grant_type=client_credentials",
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    // Issued tokens stop working once the revocation list is refreshed.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let response = app.get("users/odata").await;
    assert_error(response, StatusCode::UNAUTHORIZED, "Unauthorized").await;
}

#[tokio::test]
async fn the_feed_takes_http_basic_and_bearer() {
    let app = spawn_app().await;
    let root = format!("{}/api/{}/main/odata", app.address, app.tenant);
    let credentials = basic(&app.client_id, &app.client_secret);

    // No credentials: both challenges, the OData error body, OData-Version.
    let response = app
        .anonymous
        .get(format!("{root}/Users"))
        .send()
        .await
        .unwrap();
    let offered = challenges(&response);
    assert!(
        offered.iter().any(|c| c.starts_with("Bearer realm=")),
        "{offered:?}"
    );
    assert!(
        offered.iter().any(|c| c.starts_with("Basic realm=")),
        "{offered:?}"
    );
    assert_eq!(response.headers().get("OData-Version").unwrap(), "4.0");
    assert_error(response, StatusCode::UNAUTHORIZED, "Unauthorized").await;

    // Basic: the first verification runs argon2, later ones hit the cache.
    let started = Instant::now();
    let response = get_with(&app, &format!("{root}/Users"), &credentials).await;
    let first = started.elapsed();
    let body = json_of(response, StatusCode::OK).await;
    assert!(body["value"].is_array(), "{body}");
    let started = Instant::now();
    for path in ["", "$metadata", "Users/$count", "Roles"] {
        let response = get_with(&app, &format!("{root}/{path}"), &credentials).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    eprintln!(
        "feed with HTTP Basic: first request {first:?} (argon2), next four {:?} (cached)",
        started.elapsed()
    );
    // Wrong secrets are refused every time (failures are never cached).
    for _ in 0..2 {
        let response = get_with(&app, &format!("{root}/Users"), &basic(&app.client_id, "x")).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "Unauthorized").await;
    }
    let response = get_with(&app, &format!("{root}/Users"), "Basic !!!").await;
    assert_error(response, StatusCode::UNAUTHORIZED, "Unauthorized").await;
    // Bearer works on the feed too.
    assert_eq!(
        app.get(&format!("{root}/Users")).await.status(),
        StatusCode::OK
    );
    // Another tenant's client: 403.
    let (other_id, other_secret, _) = app
        .client_for(&format!("{}y", app.tenant), "main", "identity.read")
        .await;
    let response = get_with(
        &app,
        &format!("{root}/Users"),
        &basic(&other_id, &other_secret),
    )
    .await;
    assert_error(response, StatusCode::FORBIDDEN, "Forbidden").await;
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after_per_client() {
    let app = spawn_app_with(|s| s.rate_limit_per_minute = 3).await;
    for _ in 0..3 {
        assert_eq!(app.get("users/odata").await.status(), StatusCode::OK);
    }
    let response = app.get("users/odata").await;
    let retry_after: u64 = response
        .headers()
        .get(header::RETRY_AFTER)
        .expect("429 has Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // One request every 20 s at 3 per minute.
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "TooManyRequests").await;
    // Another client has a budget of its own.
    let (_, _, other) = app.client_for(&app.tenant, "main", "identity.read").await;
    let response = other.get(app.url("users/odata")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // Unauthenticated routes are not limited.
    for _ in 0..5 {
        assert_eq!(app.get("/health").await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn health_metrics_docs_and_invitation_accept_need_no_credentials() {
    let app = spawn_app().await;
    for path in ["/health", "/ready", "/metrics", "/openapi.json", "/docs/"] {
        let response = app.anonymous.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let doc = json_of(
        app.anonymous
            .get(app.url("/openapi.json"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    // An unknown invitation token is 404, not 401: the route is open.
    let response = app
        .anonymous
        .post(app.url("invitations/0123456789abcdef/accept"))
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::NOT_FOUND, "NotFound").await;
}

fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_odata-users"))
        .args(args)
        .env("DATABASE_URL", &app.db_url)
        .env_remove("RUST_LOG")
        .current_dir(&app.dir)
        .output()
        .expect("run odata-users")
}

#[tokio::test]
async fn the_clients_cli_creates_lists_and_revokes() {
    let app = spawn_app_with(|s| s.auth_cache_seconds = 0).await;
    let created = cli(
        &app,
        &[
            "clients",
            "create",
            "--tenant",
            &app.tenant,
            "--org",
            "MAIN",
            "--scope",
            "identity.read",
            "--json",
        ],
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let body: Value = serde_json::from_slice(&created.stdout).unwrap();
    let id = body["clientId"].as_str().unwrap().to_owned();
    let secret = body["clientSecret"].as_str().unwrap().to_owned();
    let token = common::fetch_token(&app.anonymous, &app.address, &id, &secret).await;
    let client = common::bearer_client(&token);
    assert_eq!(
        client
            .get(app.url("users/odata"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let response = client
        .post(app.url("roles"))
        .json(&json!({"roleKey": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "--scope identity.read"
    );

    // Human output: the secret once, with a warning.
    let human = cli(
        &app,
        &[
            "clients",
            "create",
            "--tenant",
            &app.tenant,
            "--org",
            "main",
        ],
    );
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(human.status.success());
    assert!(
        text.contains("client secret:") && text.contains("shown only now"),
        "{text}"
    );
    assert!(text.contains("identity.read identity.write"), "{text}");

    let listed = cli(&app, &["clients", "list", "--json"]);
    assert!(listed.status.success());
    let list: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let mine = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clientId"] == id.as_str())
        .expect("the new client is listed");
    assert_eq!(mine["scope"], "identity.read");
    assert!(mine["revokedOn"].is_null());
    assert!(!String::from_utf8_lossy(&listed.stdout).contains(&secret));

    let revoked = cli(&app, &["clients", "revoke", &id]);
    assert!(revoked.status.success());
    assert_eq!(
        String::from_utf8_lossy(&revoked.stdout).trim(),
        format!("revoked client {id}")
    );
    let again = cli(&app, &["clients", "revoke", &id]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("already revoked"));
    let unknown = cli(&app, &["clients", "revoke", "no-such-client"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(
        client
            .get(app.url("users/odata"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let listed = cli(&app, &["clients", "list"]);
    let text = String::from_utf8_lossy(&listed.stdout);
    let line = text.lines().find(|l| l.starts_with(&id)).expect("listed");
    assert!(line.contains("revoked"), "{line}");

    // Bad input: one error line, exit 1.
    for args in [
        &["clients", "create", "--tenant", "a b", "--org", "main"][..],
        &[
            "clients",
            "create",
            "--tenant",
            "t",
            "--org",
            "main",
            "--scope",
            "identity.root",
        ][..],
    ] {
        let out = cli(&app, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("error: "));
    }
}
