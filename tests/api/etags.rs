//! ETags and optimistic concurrency: a strong ETag `"<version>"` on every
//! single-record answer of API 1 and the feed, `@odata.etag` in feed
//! payloads, `If-None-Match` (304) on reads, `If-Match` (412 with the
//! current ETag) on every write of one record, a new version with every
//! kind of change, and two concurrent writers holding the same ETag: exactly
//! one wins (run on every backend through `ODATA_TEST_BACKEND`).

use crate::common;

use std::collections::HashSet;

use common::{TestApp, assert_error, base64, json_of, spawn_app, spawn_app_with};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

mod absent;
mod concurrent;
mod feed;
mod pictures;

/// The `ETag` header of an answer (asserted present).
fn etag(response: &Response) -> String {
    response
        .headers()
        .get("etag")
        .unwrap_or_else(|| panic!("no ETag on {} {}", response.status(), response.url()))
        .to_str()
        .expect("ASCII ETag")
        .to_owned()
}

fn tag(version: i64) -> String {
    format!("\"{version}\"")
}

/// A request with extra headers and an optional JSON body.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Response {
    let mut request = app.client.request(method, app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.expect("request")
}

/// `GET path`: asserts 200, an ETag that is the body's `version` in
/// quotes, and returns the ETag.
async fn current(app: &TestApp, path: &str) -> String {
    let response = app.get(path).await;
    let tag_now = etag(&response);
    let body = json_of(response, StatusCode::OK).await;
    assert_eq!(
        tag_now,
        tag(body["version"].as_i64().expect("version")),
        "{path}: {body}"
    );
    tag_now
}

/// The version inside an ETag.
fn version_of(etag: &str) -> i64 {
    etag.trim_matches('"').parse().expect("a numeric ETag")
}

/// A 1×1 PNG.
fn png() -> String {
    let bytes: [u8; 67] = [
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f,
        0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00,
        0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49,
        0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];
    format!("data:image/png;base64,{}", base64(&bytes))
}

#[tokio::test]
async fn single_record_reads_answer_their_etag_and_304_when_it_still_matches() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "users",
            &json!({"userKey": "jane", "name": "Jane", "isTechnician": false}),
        )
        .await;
    assert_eq!(etag(&response), tag(1), "a new record's ETag");
    let role = app.create_role(json!({"roleKey": "admin"})).await;
    let group = app.create_group(json!({"groupKey": "ops"})).await;
    for path in [
        "users/jane",
        format!("roles/{role}").as_str(),
        format!("groups/{group}").as_str(),
    ] {
        let now = current(&app, path).await;
        assert_eq!(now, tag(1), "{path}");
        // Also under $select without version: the ETag is read with the row.
        let selected = app.get(&format!("{path}?$select=id")).await;
        assert_eq!(etag(&selected), now, "{path}");
        for matching in [now.as_str(), "W/\"1\"", "\"7\", \"1\"", "*"] {
            let response = send(
                &app,
                Method::GET,
                path,
                &[("If-None-Match", matching)],
                None,
            )
            .await;
            assert_eq!(
                response.status(),
                StatusCode::NOT_MODIFIED,
                "{path} {matching}"
            );
            assert_eq!(etag(&response), now);
            assert_eq!(response.text().await.unwrap(), "", "304 has no body");
        }
        let response = send(&app, Method::GET, path, &[("If-None-Match", "\"2\"")], None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(etag(&response), now);
        // With $expand the answer embeds other records, whose versions the
        // ETag does not cover: never 304 (the ETag is still the record's).
        let expand = if path.starts_with("users") {
            "roles"
        } else {
            "users"
        };
        let response = send(
            &app,
            Method::GET,
            &format!("{path}?$expand={expand}"),
            &[("If-None-Match", now.as_str())],
            None,
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK, "{path}?$expand");
        assert_eq!(etag(&response), now);
        // If-Match on a read: 412 with the current ETag when it does not match.
        let response = send(&app, Method::GET, path, &[("If-Match", "\"2\"")], None).await;
        assert_eq!(etag(&response), now);
        assert_error(
            response,
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
        )
        .await;
        let response = send(&app, Method::GET, path, &[("If-None-Match", "1")], None).await;
        assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
    }
}

/// Every kind of change of a user moves its ETag, the write's answer
/// carries the new one, and a GET agrees.
#[tokio::test]
async fn every_kind_of_user_change_moves_the_etag() {
    let app = spawn_app().await;
    let user = app
        .create_user(json!({"userKey": "jane", "name": "Jane", "isTechnician": false}))
        .await;
    let admin = app.create_role(json!({"roleKey": "admin"})).await;
    app.create_role(json!({"roleKey": "viewer"})).await;
    let ops = app.create_group(json!({"groupKey": "ops"})).await;
    app.create_group(json!({"groupKey": "sales"})).await;
    let changes: Vec<(Method, String, Value)> = vec![
        (Method::PUT, "users/jane/name".into(), json!("Jane Doe")),
        (
            Method::PUT,
            "users/jane/email".into(),
            json!("jane@example.com"),
        ),
        (Method::PUT, "users/jane/email".into(), json!(null)),
        (Method::PUT, "users/jane/isActive".into(), json!(false)),
        (Method::PUT, "users/jane/isTechnician".into(), json!(true)),
        (
            Method::PUT,
            "users/jane/lastLogin".into(),
            json!("2026-11-29T10:00:00Z"),
        ),
        (Method::PUT, "users/jane/status".into(), json!(2)),
        (Method::PUT, "users/jane/culture".into(), json!("pt-PT")),
        (Method::PUT, "users/jane/userKey".into(), json!("jane.doe")),
        (Method::PUT, "users/jane.doe/userKey".into(), json!("jane")),
        (Method::PUT, "users/jane/roles".into(), json!(["admin"])),
        (Method::PUT, "users/jane/groups".into(), json!(["ops"])),
        (Method::PUT, "users/jane/picture".into(), json!(png())),
        (Method::PUT, "users/jane/picture".into(), json!(null)),
        (
            Method::POST,
            "users/jane/roles/add".into(),
            json!(["viewer"]),
        ),
        (
            Method::POST,
            "users/jane/roles/remove".into(),
            json!(["viewer"]),
        ),
        (
            Method::POST,
            "users/jane/roles/removeById".into(),
            json!([admin]),
        ),
        (
            Method::POST,
            "users/jane/roles/addById".into(),
            json!([admin]),
        ),
        (
            Method::POST,
            "users/jane/groups/add".into(),
            json!(["sales"]),
        ),
        (
            Method::POST,
            "users/jane/groups/remove".into(),
            json!(["sales"]),
        ),
        (
            Method::POST,
            "users/jane/groups/removeById".into(),
            json!([ops]),
        ),
        (
            Method::POST,
            "users/jane/groups/addById".into(),
            json!([ops]),
        ),
    ];
    let mut before = current(&app, &format!("users/{user}")).await;
    for (method, path, body) in changes {
        let response = send(&app, method, &path, &[], Some(&body)).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let answered = etag(&response);
        let after = current(&app, &format!("users/{user}")).await;
        assert_eq!(answered, after, "{path}: the write answers the new ETag");
        assert_eq!(version_of(&after), version_of(&before) + 1, "{path}");
        before = after;
    }
    // A membership call that changes nothing keeps the ETag (and answers it).
    let response = app
        .post_json("users/jane/roles/add", &json!(["admin"]))
        .await;
    assert_eq!(etag(&response), before);
    assert_eq!(current(&app, "users/jane").await, before);
}

/// Roles and groups keep versions of their own; deleting one is a
/// membership change of each of its members, and renaming one changes the
/// key its members' records list.
#[tokio::test]
async fn roles_and_groups_change_their_own_etags_and_deleting_one_moves_its_members() {
    let app = spawn_app().await;
    let role = app.create_role(json!({"roleKey": "admin"})).await;
    let group = app.create_group(json!({"groupKey": "ops"})).await;
    app.create_user(
        json!({"userKey": "jane", "name": "Jane", "isTechnician": false,
        "roles": ["admin"], "groups": ["ops"]}),
    )
    .await;
    app.create_user(json!({"userKey": "joe", "name": "Joe", "isTechnician": false}))
        .await;
    let changes = [
        ("roles", &role, "description", json!("Administrators")),
        ("roles", &role, "isAdministration", json!(true)),
        ("roles", &role, "isDefault", json!(true)),
        ("roles", &role, "isInternal", json!(true)),
        ("roles", &role, "isActive", json!(false)),
        ("roles", &role, "roleKey", json!("root")),
        ("groups", &group, "name", json!("Operations")),
        ("groups", &group, "email", json!("ops@example.com")),
        ("groups", &group, "notes", json!("24/7")),
        ("groups", &group, "isActive", json!(false)),
        ("groups", &group, "groupKey", json!("operations")),
    ];
    let jane = current(&app, "users/jane").await;
    for (set, id, attr, value) in changes {
        let path = format!("{set}/{id}");
        let before = current(&app, &path).await;
        let response = app.put_json(&format!("{path}/{attr}"), &value).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}/{attr}");
        let after = current(&app, &path).await;
        assert_eq!(etag(&response), after, "{path}/{attr}");
        assert_eq!(version_of(&after), version_of(&before) + 1, "{path}/{attr}");
    }
    // The role's and group's own changes leave the user's version alone,
    // but for the renames: jane's record lists the keys (once per rename).
    assert_eq!(
        version_of(&current(&app, "users/jane").await),
        version_of(&jane) + 2
    );
    let jane = current(&app, "users/jane").await;
    assert_eq!(
        (
            app.get_user("jane").await["roles"].clone(),
            app.get_user("jane").await["groups"].clone()
        ),
        (json!(["root"]), json!(["operations"]))
    );
    let joe = current(&app, "users/joe").await;
    // Deleting a role removes it from jane: her version moves; joe's does not.
    let response = app.delete(&format!("roles/{role}")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let after_role = current(&app, "users/jane").await;
    assert_eq!(version_of(&after_role), version_of(&jane) + 1);
    let response = app.delete(&format!("groups/{group}")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let after_group = current(&app, "users/jane").await;
    assert_eq!(version_of(&after_group), version_of(&after_role) + 1);
    assert_eq!(current(&app, "users/joe").await, joe);
    let body = app.get_user("jane").await;
    assert_eq!(
        (body["roles"].clone(), body["groups"].clone()),
        (json!([]), json!([]))
    );
}

/// Status changes of the invitation workflow: a re-invite, accepting, and
/// the expiry (by the sweep and when accepting an expired token).
#[tokio::test]
async fn invitation_status_changes_move_the_etag() {
    let app = spawn_app().await;
    let invited = json_of(
        app.post_json("users/sendInvitation", &json!({"email": "ana@example.com"}))
            .await,
        StatusCode::OK,
    )
    .await;
    let id = invited.as_str().expect("id").to_owned();
    let first = current(&app, &format!("users/{id}")).await;
    // A re-invite changes the user (new name, status 3 again).
    json_of(
        app.post_json(
            "users/sendInvitation",
            &json!({"email": "ana@example.com", "name": "Ana"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let second = current(&app, &format!("users/{id}")).await;
    assert_eq!(version_of(&second), version_of(&first) + 1);
    let url = common::newest_accept_url(&app.outbox);
    let response = app.anonymous.post(&url).send().await.expect("accept");
    assert_eq!(response.status(), StatusCode::OK);
    let accepted = current(&app, &format!("users/{id}")).await;
    assert_eq!(version_of(&accepted), version_of(&second) + 1);
    assert_eq!(app.get_user(&id).await["status"], 1);

    // Expiry: every token expires at once; the sweep sets status 4.
    let expiring = spawn_app_with(|s| {
        s.invitation_ttl_seconds = 0;
        s.invitation_sweep_seconds = 3600;
    })
    .await;
    let swept = json_of(
        expiring
            .post_json("users/sendInvitation", &json!({"email": "bo@example.com"}))
            .await,
        StatusCode::OK,
    )
    .await;
    let swept = swept.as_str().expect("id").to_owned();
    let before = current(&expiring, &format!("users/{swept}")).await;
    identity_service::storage::invitations::sweep_expired(&expiring.pool)
        .await
        .expect("sweep");
    assert_eq!(expiring.get_user(&swept).await["status"], 4);
    let after = current(&expiring, &format!("users/{swept}")).await;
    assert_eq!(version_of(&after), version_of(&before) + 1);
    // Accepting an expired token marks the user itself (no sweep).
    let late = json_of(
        expiring
            .post_json("users/sendInvitation", &json!({"email": "cy@example.com"}))
            .await,
        StatusCode::OK,
    )
    .await;
    let late = late.as_str().expect("id").to_owned();
    let before = current(&expiring, &format!("users/{late}")).await;
    let url = common::newest_accept_url(&expiring.outbox);
    let response = expiring.anonymous.post(&url).send().await.expect("accept");
    assert_eq!(response.status(), StatusCode::GONE);
    assert_eq!(expiring.get_user(&late).await["status"], 4);
    let after = current(&expiring, &format!("users/{late}")).await;
    assert_eq!(version_of(&after), version_of(&before) + 1);
}

/// An import that adds memberships to users that already exist changes
/// them; the users an import creates start at version 1.
#[tokio::test]
async fn importing_memberships_of_existing_users_moves_their_etags() {
    let app = spawn_app().await;
    let user = app
        .create_user(json!({"userKey": "jane", "name": "Jane", "isTechnician": false}))
        .await;
    let role = app.create_role(json!({"roleKey": "admin"})).await;
    let group = app.create_group(json!({"groupKey": "ops"})).await;
    let before = current(&app, "users/jane").await;
    let dir = common::temp_dir();
    std::fs::write(
        dir.join("peer.users-UserRoles.csv"),
        format!("user_ID,role_ID\n{user},{role}\n"),
    )
    .expect("write");
    std::fs::write(
        dir.join("peer.users-UserGroups.csv"),
        format!("user_ID,group_ID\n{user},{group}\n"),
    )
    .expect("write");
    identity_service::import::run(&app.pool, &app.tenant, "main", &dir)
        .await
        .expect("import");
    let _ = std::fs::remove_dir_all(&dir);
    let after = current(&app, "users/jane").await;
    // One bump per membership file (each is its own transaction).
    assert_eq!(version_of(&after), version_of(&before) + 2);
    let body = app.get_user("jane").await;
    assert_eq!(body["roles"], json!(["admin"]));
    assert_eq!(body["groups"], json!(["ops"]));
}

#[tokio::test]
async fn if_match_guards_every_write_of_one_record() {
    let app = spawn_app().await;
    app.create_user(json!({"userKey": "jane", "name": "Jane", "isTechnician": false}))
        .await;
    let role = app.create_role(json!({"roleKey": "admin"})).await;
    let group = app.create_group(json!({"groupKey": "ops"})).await;
    // Move every record to version 2, so that "1" is stale.
    for path in ["users/jane/name", format!("groups/{group}/name").as_str()] {
        assert_eq!(
            app.put_json(path, &json!("B")).await.status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        app.put_json(&format!("roles/{role}/description"), &json!("B"))
            .await
            .status(),
        StatusCode::OK
    );
    let writes: Vec<(Method, String, Value, &str)> = vec![
        (
            Method::PUT,
            "users/jane/name".into(),
            json!("C"),
            "users/jane",
        ),
        (
            Method::PUT,
            "users/jane/picture".into(),
            json!(png()),
            "users/jane",
        ),
        (
            Method::PUT,
            "users/jane/roles".into(),
            json!(["admin"]),
            "users/jane",
        ),
        (
            Method::POST,
            "users/jane/roles/add".into(),
            json!(["admin"]),
            "users/jane",
        ),
        (
            Method::POST,
            "users/jane/groups/addById".into(),
            json!([group]),
            "users/jane",
        ),
        (
            Method::PUT,
            format!("roles/{role}/isDefault"),
            json!(true),
            "role",
        ),
        (
            Method::PUT,
            format!("groups/{group}/notes"),
            json!("n"),
            "group",
        ),
    ];
    for (method, path, body, record) in writes {
        let record = match record {
            "role" => format!("roles/{role}"),
            "group" => format!("groups/{group}"),
            other => other.to_owned(),
        };
        let now = current(&app, &record).await;
        let snapshot = json_of(app.get(&record).await, StatusCode::OK).await;
        // A stale ETag (and a weak one, which never matches If-Match): 412
        // with the current ETag, and nothing changed.
        for stale in ["\"1\"", format!("W/{now}").as_str()] {
            let response = send(
                &app,
                method.clone(),
                &path,
                &[("If-Match", stale)],
                Some(&body),
            )
            .await;
            assert_eq!(etag(&response), now, "{path}");
            let error = assert_error(
                response,
                StatusCode::PRECONDITION_FAILED,
                "PreconditionFailed",
            )
            .await;
            assert!(
                error["error"]["message"].as_str().unwrap().contains(&now),
                "{error}"
            );
            assert_eq!(
                json_of(app.get(&record).await, StatusCode::OK).await,
                snapshot
            );
        }
        // If-None-Match on a write: 412 when it matches.
        let response = send(
            &app,
            method.clone(),
            &path,
            &[("If-None-Match", "*")],
            Some(&body),
        )
        .await;
        assert_error(
            response,
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
        )
        .await;
        // Malformed: 400.
        let response = send(
            &app,
            method.clone(),
            &path,
            &[("If-Match", "2")],
            Some(&body),
        )
        .await;
        assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
        // The current ETag (alone, in a list, or `*`) lets it through.
        let list = format!("\"999\", {now}");
        let response = send(
            &app,
            method.clone(),
            &path,
            &[("If-Match", &list)],
            Some(&body),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let response = send(
            &app,
            method.clone(),
            &path,
            &[("If-Match", "*")],
            Some(&body),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    // Deletes: stale 412 (still there), current 204, then 404 for `*`.
    for path in [
        "users/jane".to_owned(),
        format!("roles/{role}"),
        format!("groups/{group}"),
    ] {
        let now = current(&app, &path).await;
        let response = send(&app, Method::DELETE, &path, &[("If-Match", "\"1\"")], None).await;
        assert_eq!(etag(&response), now);
        assert_error(
            response,
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
        )
        .await;
        assert_eq!(current(&app, &path).await, now);
        let response = send(&app, Method::DELETE, &path, &[("If-Match", &now)], None).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{path}");
        // Gone: `If-Match` cannot match (412, without an ETag), and
        // without it a missing record stays 404 (`etags::absent`).
        let response = send(&app, Method::DELETE, &path, &[("If-Match", "*")], None).await;
        assert!(response.headers().get("etag").is_none(), "{path}");
        assert_error(
            response,
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
        )
        .await;
        let response = send(&app, Method::DELETE, &path, &[], None).await;
        assert_error(response, StatusCode::NOT_FOUND, "NotFound").await;
    }
}
