//! Membership calls: add/remove by key or id, idempotence, all-or-nothing,
//! PUT roles/groups replacing the set, memberships given at creation.

use crate::common;

use common::{TestApp, assert_error, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A tenant with roles ADMIN, Viewer, editor, groups Sales, ops and user jane.
async fn seeded() -> (TestApp, Value) {
    let app = spawn_app().await;
    let mut ids = serde_json::Map::new();
    for key in ["ADMIN", "Viewer", "editor"] {
        ids.insert(
            key.to_owned(),
            json!(app.create_role(json!({ "roleKey": key })).await),
        );
    }
    for key in ["Sales", "ops"] {
        ids.insert(
            key.to_owned(),
            json!(app.create_group(json!({ "groupKey": key })).await),
        );
    }
    ids.insert(
        "jane".to_owned(),
        json!(
            app.create_user(json!({"userKey":"jane","name":"Jane","isTechnician":false}))
                .await
        ),
    );
    (app, Value::Object(ids))
}

async fn roles_of(app: &TestApp, user: &str) -> Value {
    app.get_user(user).await["roles"].clone()
}

async fn groups_of(app: &TestApp, user: &str) -> Value {
    app.get_user(user).await["groups"].clone()
}

#[tokio::test]
async fn add_by_key_is_case_insensitive_and_idempotent() {
    let (app, _) = seeded().await;
    for _ in 0..2 {
        let response = app
            .post_json("users/JANE/roles/add", &json!(["admin", "VIEWER", "Admin"]))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.text().await.unwrap(), "");
    }
    // Keys as stored, sorted case-insensitively.
    assert_eq!(roles_of(&app, "jane").await, json!(["ADMIN", "Viewer"]));
    // The second call changed nothing, so only one version bump.
    assert_eq!(app.get_user("jane").await["version"], 2);
}

#[tokio::test]
async fn add_and_remove_by_id() {
    let (app, ids) = seeded().await;
    let sales = ids["Sales"].as_str().unwrap();
    let ops = ids["ops"].as_str().unwrap();
    let response = app
        .post_json("users/jane/groups/addById", &json!([sales, ops]))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(groups_of(&app, "jane").await, json!(["ops", "Sales"]));
    let response = app
        .post_json("users/jane/groups/removeById", &json!([ops]))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(groups_of(&app, "jane").await, json!(["Sales"]));
    // Removing what is not there is fine (idempotent).
    let response = app
        .post_json("users/jane/groups/removeById", &json!([ops]))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    // The user may be addressed by id too.
    let jane = ids["jane"].as_str().unwrap();
    let response = app
        .post_json(&format!("users/{jane}/groups/remove"), &json!(["SALES"]))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(groups_of(&app, "jane").await, json!([]));
}

#[tokio::test]
async fn unknown_entries_fail_the_whole_call_and_name_each() {
    let (app, _) = seeded().await;
    let response = app
        .post_json(
            "users/jane/roles/add",
            &json!(["ADMIN", "ghost", "phantom"]),
        )
        .await;
    let body = assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
    let targets: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["ghost", "phantom"]);
    assert_eq!(roles_of(&app, "jane").await, json!([]), "nothing was added");

    app.post_json("users/jane/roles/add", &json!(["ADMIN", "editor"]))
        .await;
    let response = app
        .post_json("users/jane/roles/remove", &json!(["ADMIN", "ghost"]))
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
    assert_eq!(
        roles_of(&app, "jane").await,
        json!(["ADMIN", "editor"]),
        "nothing was removed"
    );

    let response = app
        .post_json(
            "users/jane/roles/addById",
            &json!(["not-a-guid", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"]),
        )
        .await;
    let body = assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
    assert_eq!(body["error"]["details"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn ids_of_another_kind_are_unknown() {
    let (app, ids) = seeded().await;
    // A group id is not a role id.
    let sales = ids["Sales"].as_str().unwrap();
    let response = app
        .post_json("users/jane/roles/addById", &json!([sales]))
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
}

#[tokio::test]
async fn bad_membership_requests() {
    let (app, _) = seeded().await;
    assert_error(
        app.post_json("users/nobody/roles/add", &json!(["ADMIN"]))
            .await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
    for body in [
        json!("ADMIN"),
        json!([1]),
        json!({"value": ["ADMIN"]}),
        json!(null),
    ] {
        assert_error(
            app.post_json("users/jane/roles/add", &body).await,
            StatusCode::BAD_REQUEST,
            "BadRequest",
        )
        .await;
    }
    assert_error(
        app.post_json("users/jane/roles/grant", &json!(["ADMIN"]))
            .await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
    assert_error(
        app.post_json("users/jane/teams/add", &json!(["ADMIN"]))
            .await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
    let response = app
        .send_raw(
            reqwest::Method::POST,
            "users/jane/roles/add",
            "[\"ADMIN\"]",
            None,
        )
        .await;
    assert_error(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UnsupportedMediaType",
    )
    .await;
    // An empty list is a valid no-op.
    assert_eq!(
        app.post_json("users/jane/roles/add", &json!([]))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(roles_of(&app, "jane").await, json!([]));
}

#[tokio::test]
async fn literal_segments_are_case_insensitive() {
    let (app, ids) = seeded().await;
    let admin = ids["ADMIN"].as_str().unwrap();
    let response = app
        .post_json("users/jane/ROLES/ADDBYID", &json!([admin]))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(roles_of(&app, "jane").await, json!(["ADMIN"]));
    let response = app
        .post_json("users/jane/Roles/Remove", &json!(["admin"]))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(roles_of(&app, "jane").await, json!([]));
}

#[tokio::test]
async fn put_roles_and_groups_replace_the_set() {
    let (app, _) = seeded().await;
    app.post_json("users/jane/roles/add", &json!(["ADMIN", "Viewer"]))
        .await;
    let response = app
        .put_json("users/jane/roles", &json!(["editor", "viewer"]))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(roles_of(&app, "jane").await, json!(["editor", "Viewer"]));

    let response = app
        .put_json("users/jane/roles", &json!(["editor", "ghost"]))
        .await;
    let body = assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
    assert_eq!(body["error"]["details"][0]["target"], "ghost");
    assert_eq!(
        roles_of(&app, "jane").await,
        json!(["editor", "Viewer"]),
        "unchanged"
    );

    assert_eq!(
        app.put_json("users/jane/roles", &json!([])).await.status(),
        StatusCode::OK
    );
    assert_eq!(roles_of(&app, "jane").await, json!([]));

    assert_eq!(
        app.put_json("users/jane/groups", &json!(["OPS"]))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(groups_of(&app, "jane").await, json!(["ops"]));
}

#[tokio::test]
async fn create_with_memberships_and_unknown_ones() {
    let (app, _) = seeded().await;
    app.create_user(json!({"userKey":"john","name":"John","isTechnician":false,
        "roles":["viewer","ADMIN"],"groups":["sales"]}))
        .await;
    assert_eq!(roles_of(&app, "john").await, json!(["ADMIN", "Viewer"]));
    assert_eq!(groups_of(&app, "john").await, json!(["Sales"]));

    let response = app
        .post_json(
            "users",
            &json!({"userKey":"ann","name":"Ann","isTechnician":false,
                "roles":["ADMIN","nope"],"groups":["Sales","none","zilch"]}),
        )
        .await;
    let body = assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
    let mut targets: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["target"].as_str().unwrap())
        .collect();
    targets.sort_unstable();
    assert_eq!(targets, ["none", "nope", "zilch"]);
    assert_error(
        app.get("users/ann").await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
}

#[tokio::test]
async fn deleting_a_user_or_a_role_removes_memberships() {
    let (app, ids) = seeded().await;
    app.post_json("users/jane/roles/add", &json!(["ADMIN", "Viewer"]))
        .await;
    app.post_json("users/jane/groups/add", &json!(["Sales"]))
        .await;
    assert_eq!(
        app.delete("roles/admin").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(roles_of(&app, "jane").await, json!(["Viewer"]));
    assert_eq!(
        app.delete("groups/SALES").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(groups_of(&app, "jane").await, json!([]));

    assert_eq!(
        app.delete("users/jane").await.status(),
        StatusCode::NO_CONTENT
    );
    // The role has no members left: filtering users by it finds none, and
    // a new user with the same key starts without memberships.
    let jane2 = app
        .create_user(json!({"userKey":"jane","name":"Jane","isTechnician":false}))
        .await;
    assert_ne!(json!(jane2), ids["jane"]);
    assert_eq!(roles_of(&app, "jane").await, json!([]));
    let page = app
        .get_users("$filter=roles/any(r: r/roleKey eq 'Viewer')&$count=true")
        .await;
    assert_eq!(page["count"], 0);
}
