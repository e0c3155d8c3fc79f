//! `POST users/sendInvitation` and `POST invitations/{token}/accept`: the
//! mail in the outbox, single use, re-invites, expiry and the sweep, 409s
//! and 400s.

use crate::common;

use std::path::{Path, PathBuf};

use common::{
    TestApp, TestBackend, assert_error, json_of, spawn_app, spawn_app_with, test_backend,
};
use identity_service::configuration::Settings;
use identity_service::domain::TenantKey;
use identity_service::storage::{db, invitations, tenants};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The `.eml` files of the outbox, oldest first.
fn outbox(app: &TestApp) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&app.outbox)
        .map(|dir| {
            dir.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The accept URL written in a message (on a line of its own).
fn accept_url_in(eml: &Path) -> String {
    let text = std::fs::read_to_string(eml).expect("read .eml");
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("http") && l.ends_with("/accept"))
        .unwrap_or_else(|| panic!("no accept URL in {text}"))
        .to_owned()
}

async fn invite(app: &TestApp, body: Value) -> reqwest::Response {
    app.post_json("users/sendInvitation", &body).await
}

/// Invites (asserting 200) and returns the user id and the newest accept URL.
async fn invite_ok(app: &TestApp, body: Value) -> (String, String) {
    let id = json_of(invite(app, body).await, StatusCode::OK).await;
    let id = id.as_str().expect("the id as a JSON string").to_owned();
    let last = outbox(app).pop().expect("a message in the outbox");
    (id, accept_url_in(&last))
}

/// Accepting needs no access token: the mailed token is the credential.
async fn accept(app: &TestApp, url: &str) -> reqwest::Response {
    app.anonymous.post(url).send().await.expect("POST accept")
}

/// Settings that reach the test application's database (for a second
/// connection: the tests call `sweep_expired` and create tenants directly).
fn db_settings(app: &TestApp) -> Settings {
    common::db_settings(&app.db_url)
}

#[tokio::test]
async fn invite_mails_an_accept_link_that_activates_the_user_once() {
    let app = spawn_app().await;
    let (id, url) = invite_ok(&app, json!({"email": "Ana.Silva@Example.pt"})).await;
    assert!(
        url.starts_with(&format!(
            "{}/api/{}/main/identity/invitations/",
            app.address, app.tenant
        )),
        "absolute accept URL: {url}"
    );
    let files = outbox(&app);
    assert_eq!(files.len(), 1, "one message per invitation");
    let eml = std::fs::read_to_string(&files[0]).expect("read");
    assert!(eml.contains("Ana.Silva@Example.pt"), "{eml}");

    let user = app.get_user(&id).await;
    assert_eq!(user["status"], 3);
    assert_eq!(user["userKey"], "ana.silva@example.pt");
    assert_eq!(user["name"], "Ana.Silva");
    assert_eq!(user["email"], "Ana.Silva@Example.pt");
    assert_eq!(user["isTechnician"], false);
    assert_eq!(user["culture"], "en-US");

    let accepted = json_of(accept(&app, &url).await, StatusCode::OK).await;
    assert_eq!(accepted, json!({"id": id, "status": 1}));
    assert_eq!(app.get_user(&id).await["status"], 1);

    assert_error(accept(&app, &url).await, StatusCode::NOT_FOUND, "NotFound").await;
    let shouting = url
        .replace("/invitations/", "/INVITATIONS/")
        .replace("/accept", "/Accept");
    assert_error(
        accept(&app, &shouting).await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
}

#[tokio::test]
async fn the_body_and_accept_language_set_the_new_users_fields() {
    let app = spawn_app().await;
    let role = app.create_role(json!({"roleKey": "Technician"})).await;
    let group = app.create_group(json!({"groupKey": "lisbon-field"})).await;
    let response = app
        .client
        .post(app.url("users/sendInvitation"))
        .header("Accept-Language", "pt-PT,pt;q=0.9,en;q=0.5")
        .json(
            &json!({"email": "joao@example.pt", "name": "João Sá", "userKey": "joao",
                      "roles": ["technician"], "groups": ["LISBON-FIELD"]}),
        )
        .send()
        .await
        .expect("POST");
    let id = json_of(response, StatusCode::OK).await;
    let user = app.get_user(id.as_str().expect("id")).await;
    assert_eq!(user["userKey"], "joao");
    assert_eq!(user["name"], "João Sá");
    assert_eq!(user["culture"], "pt-PT");
    assert_eq!(user["roles"], json!(["Technician"]));
    assert_eq!(user["groups"], json!(["lisbon-field"]));
    assert!(!role.is_empty() && !group.is_empty());
}

#[tokio::test]
async fn a_reinvite_revokes_the_old_token_and_updates_what_it_gives() {
    let app = spawn_app().await;
    app.create_role(json!({"roleKey": "viewer"})).await;
    let (id, first) = invite_ok(
        &app,
        json!({"email": "bea@example.com", "roles": ["viewer"]}),
    )
    .await;
    let (again, second) = invite_ok(
        &app,
        json!({"email": "BEA@example.com", "name": "Beatriz", "roles": []}),
    )
    .await;
    assert_eq!(id, again, "the same user is re-invited");
    assert_ne!(first, second, "a new token");
    assert_eq!(outbox(&app).len(), 2);

    let user = app.get_user(&id).await;
    assert_eq!(user["name"], "Beatriz");
    assert_eq!(user["roles"], json!([]));
    assert_eq!(user["status"], 3);

    assert_error(
        accept(&app, &first).await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
    json_of(accept(&app, &second).await, StatusCode::OK).await;
    assert_eq!(app.get_user(&id).await["status"], 1);
}

#[tokio::test]
async fn an_expired_invitation_is_410_and_the_sweep_marks_the_user() {
    // TTL 0: every token is expired as soon as it is issued. The periodic
    // sweep is slowed down so that this test runs it itself.
    let app = spawn_app_with(|s| {
        s.invitation_ttl_seconds = 0;
        s.invitation_sweep_seconds = 3600;
    })
    .await;
    // On a server backend the database is shared with the other tests of
    // this file, whose expired invitations the sweep also sees.
    let own_database = test_backend() == TestBackend::Sqlite;
    let (swept, _) = invite_ok(&app, json!({"email": "old@example.com"})).await;
    let (direct, direct_url) = invite_ok(&app, json!({"email": "late@example.com"})).await;
    let before = app.get_user(&swept).await;
    if own_database {
        assert_eq!(before["status"], 3);
    }

    let db = db::connect(&db_settings(&app)).await.expect("connect");
    let changed = invitations::sweep_expired(&db).await.expect("sweep");
    if own_database {
        assert_eq!(changed, 2, "both invited users expired");
    }
    let after = app.get_user(&swept).await;
    assert_eq!(after["status"], 4);
    // No client marked it: the workflow did (the invite was the client's).
    assert_eq!(after["modifiedBy"], "invitation");
    assert_eq!(after["createdBy"], json!(app.client_id));
    let again = invitations::sweep_expired(&db).await.expect("sweep");
    if own_database {
        assert_eq!(again, 0, "idempotent");
    }
    assert_eq!(
        app.get_user(&swept).await["version"],
        after["version"],
        "a second sweep leaves an expired user alone"
    );

    assert_error(accept(&app, &direct_url).await, StatusCode::GONE, "Gone").await;
    assert_eq!(app.get_user(&direct).await["status"], 4);
}

#[tokio::test]
async fn accepting_checks_the_expiry_without_the_sweep() {
    let app = spawn_app_with(|s| {
        s.invitation_ttl_seconds = 0;
        s.invitation_sweep_seconds = 3600;
    })
    .await;
    let (id, url) = invite_ok(&app, json!({"email": "x@example.com"})).await;
    assert_error(accept(&app, &url).await, StatusCode::GONE, "Gone").await;
    assert_eq!(app.get_user(&id).await["status"], 4);
    // still expired, not "unknown"
    assert_error(accept(&app, &url).await, StatusCode::GONE, "Gone").await;
}

#[tokio::test]
async fn an_expired_user_can_be_invited_again() {
    let app = spawn_app_with(|s| {
        s.invitation_ttl_seconds = 0;
        s.invitation_sweep_seconds = 3600;
    })
    .await;
    let (id, url) = invite_ok(&app, json!({"email": "again@example.com"})).await;
    assert_error(accept(&app, &url).await, StatusCode::GONE, "Gone").await;
    assert_eq!(app.get_user(&id).await["status"], 4);

    // A second instance on the same database, with the default TTL, re-invites.
    let other = spawn_app_with(|s| s.database_url = app.db_url.clone()).await;
    let path = format!(
        "{}/users/sendInvitation",
        app.base.replace(&app.address, &other.address)
    );
    // (with this test's token: the other instance shares the signing key)
    let response = app
        .client
        .post(&path)
        .json(&json!({"email": "again@example.com"}))
        .send()
        .await
        .expect("POST sendInvitation");
    assert_eq!(json_of(response, StatusCode::OK).await, json!(id));
    assert_eq!(app.get_user(&id).await["status"], 3);
    let url = accept_url_in(
        outbox(&other)
            .last()
            .expect("mailed by the second instance"),
    );
    json_of(accept(&app, &url).await, StatusCode::OK).await;
    assert_eq!(app.get_user(&id).await["status"], 1);
}

#[tokio::test]
async fn active_users_and_taken_keys_are_conflicts() {
    let app = spawn_app().await;
    app.create_user(
        json!({"userKey": "jane", "name": "Jane", "isTechnician": false,
                           "email": "jane@example.com"}),
    )
    .await;
    app.create_user(
        json!({"userKey": "bob@example.com", "name": "Bob", "isTechnician": false,
                           "email": "robert@example.com"}),
    )
    .await;
    for body in [
        json!({"email": "jane@example.com"}),
        json!({"email": "JANE@EXAMPLE.COM"}),
        json!({"email": "new@example.com", "userKey": "JANE"}),
        json!({"email": "bob@example.com"}),
    ] {
        assert_error(invite(&app, body).await, StatusCode::CONFLICT, "Conflict").await;
    }
    assert!(outbox(&app).is_empty(), "no mail for a refused invitation");
}

#[tokio::test]
async fn invalid_bodies_are_400() {
    let app = spawn_app().await;
    for body in [
        json!({}),
        json!({"email": "not-an-address"}),
        json!({"email": 7}),
        json!({"email": "a@example.com", "userKey": "has space"}),
        json!({"email": "a@example.com", "culture": "en_US"}),
        json!({"email": "a@example.com", "unknown": 1}),
        json!(["a@example.com"]),
    ] {
        assert_error(
            invite(&app, body).await,
            StatusCode::BAD_REQUEST,
            "BadRequest",
        )
        .await;
    }
    // The email would make an invalid default key ('/' is fine in an
    // address, not in a key): the client must give one.
    let body = assert_error(
        invite(&app, json!({"email": "a/b@example.com"})).await,
        StatusCode::BAD_REQUEST,
        "BadRequest",
    )
    .await;
    assert_eq!(body["error"]["target"], "userKey");
    invite_ok(&app, json!({"email": "a/b@example.com", "userKey": "ab"})).await;

    let body = assert_error(
        invite(
            &app,
            json!({"email": "c@example.com", "roles": ["nope", "nada"]}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "BadRequest",
    )
    .await;
    assert_eq!(body["error"]["details"].as_array().map(Vec::len), Some(2));

    let response = app
        .send_raw(reqwest::Method::POST, "users/sendInvitation", "{}", None)
        .await;
    assert_error(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UnsupportedMediaType",
    )
    .await;
    assert!(
        outbox(&app).len() == 1,
        "only the valid invitation was mailed"
    );
}

#[tokio::test]
async fn tokens_belong_to_their_tenant() {
    let app = spawn_app().await;
    let (_, url) = invite_ok(&app, json!({"email": "t@example.com"})).await;
    let db = db::connect(&db_settings(&app)).await.expect("connect");
    let other = TenantKey::parse("other", "tenant").expect("key");
    tenants::create(&db, &other, &other).await.expect("tenant");
    let elsewhere = url.replace(&format!("/api/{}/main/", app.tenant), "/api/other/other/");
    assert_error(
        accept(&app, &elsewhere).await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
    // No tenant enumeration without credentials: an unknown tenant gets
    // the 404 of an unknown token.
    let nowhere = url.replace(&format!("/api/{}/main/", app.tenant), "/api/ghost/main/");
    assert_error(
        accept(&app, &nowhere).await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
    let bogus = format!("{}/invitations/{}/accept", app.base, "x".repeat(43));
    assert_error(
        accept(&app, &bogus).await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
    json_of(accept(&app, &url).await, StatusCode::OK).await;
}

#[tokio::test]
async fn a_failed_delivery_is_500_and_a_retry_reinvites() {
    // Nothing listens on port 1: the SMTP connection is refused at once.
    let app = spawn_app_with(|s| s.smtp_url = Some("smtp://127.0.0.1:1".to_owned())).await;
    let body = json!({"email": "unlucky@example.com"});
    assert_error(
        invite(&app, body.clone()).await,
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerError",
    )
    .await;
    let user = app.get_user("unlucky@example.com").await;
    assert_eq!(user["status"], 3, "the user exists, invited");
    assert_error(
        invite(&app, body).await,
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerError",
    )
    .await;
}
