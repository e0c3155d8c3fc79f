//! `createdBy` / `modifiedBy`: the authenticated client (its OAuth client
//! id) on every create and on every change that bumps a record's
//! `version`, through API 1, the v4 feed (Bearer and HTTP Basic) and the
//! inner requests of a `$batch` (in a change set and alone); the
//! invitation workflow (the inviting client; `invitation` for what the
//! public link and the expiry change); `$filter` on both. The import's and
//! the demo's markers are checked in `import_cli`, the invitation page's
//! inviter in `browser_pages`.

use crate::common;

use common::{TestApp, base64, json_of, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A second client of the test tenant with both scopes: its id, secret
/// and a reqwest client sending its token.
async fn client_b(app: &TestApp) -> (String, String, reqwest::Client) {
    app.client_for(&app.tenant, "main", "identity.read identity.write")
        .await
}

/// `PUT {base}/{path}` with a bare JSON value as `client`; asserts 200.
async fn put(app: &TestApp, client: &reqwest::Client, path: &str, value: Value) {
    let response = client
        .put(app.url(path))
        .json(&value)
        .send()
        .await
        .expect("PUT");
    let status = response.status();
    let body = response.text().await.expect("body");
    assert_eq!(status, StatusCode::OK, "PUT {path}: {body}");
}

/// `POST {base}/{path}` with a JSON body as `client`; asserts 200.
async fn post(app: &TestApp, client: &reqwest::Client, path: &str, body: Value) {
    let response = client
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .expect("POST");
    let status = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(status, StatusCode::OK, "POST {path}: {text}");
}

/// `(createdBy, modifiedBy, version)` of an API 1 record.
async fn authors(app: &TestApp, path: &str) -> (Value, Value, Value) {
    let record = json_of(app.get(path).await, StatusCode::OK).await;
    (
        record["createdBy"].clone(),
        record["modifiedBy"].clone(),
        record["version"].clone(),
    )
}

/// The feed's service root of the test tenant.
fn root(app: &TestApp) -> String {
    format!("{}/api/{}/main/odata", app.address, app.tenant)
}

#[tokio::test]
async fn api1_records_name_the_client_that_created_and_last_changed_them() {
    let app = spawn_app().await;
    let a = json!(app.client_id);
    let (b_id, _, b) = client_b(&app).await;
    let b_id = json!(b_id);

    app.create_role(json!({"roleKey": "editor"})).await;
    app.create_group(json!({"groupKey": "team"})).await;
    app.create_user(
        json!({"userKey": "ann", "name": "Ann", "isTechnician": false, "roles": ["editor"]}),
    )
    .await;
    assert_eq!(
        authors(&app, "users/ann").await,
        (a.clone(), a.clone(), json!(1))
    );
    assert_eq!(
        authors(&app, "roles/editor").await,
        (a.clone(), a.clone(), json!(1))
    );
    assert_eq!(
        authors(&app, "groups/team").await,
        (a.clone(), a.clone(), json!(1))
    );

    // An attribute, by B.
    put(&app, &b, "users/ann/name", json!("Ann B")).await;
    assert_eq!(
        authors(&app, "users/ann").await,
        (a.clone(), b_id.clone(), json!(2))
    );
    // A membership change, by A.
    post(&app, &app.client, "users/ann/groups/add", json!(["team"])).await;
    assert_eq!(
        authors(&app, "users/ann").await,
        (a.clone(), a.clone(), json!(3))
    );
    // Adding it again changes nothing: neither the version nor the author.
    post(&app, &b, "users/ann/groups/add", json!(["team"])).await;
    assert_eq!(
        authors(&app, "users/ann").await,
        (a.clone(), a.clone(), json!(3))
    );
    // The picture, by B.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01";
    put(
        &app,
        &b,
        "users/ann/picture",
        json!(format!("data:image/png;base64,{}", base64(png))),
    )
    .await;
    assert_eq!(
        authors(&app, "users/ann").await,
        (a.clone(), b_id.clone(), json!(4))
    );
    // A role and a group attribute, by B.
    put(&app, &b, "roles/editor/description", json!("Editors")).await;
    assert_eq!(
        authors(&app, "roles/editor").await,
        (a.clone(), b_id.clone(), json!(2))
    );
    put(&app, &b, "groups/team/notes", json!("n")).await;
    assert_eq!(
        authors(&app, "groups/team").await,
        (a.clone(), b_id.clone(), json!(2))
    );
    // A role's new key changes its members' records: by A.
    put(&app, &app.client, "roles/editor/roleKey", json!("editors")).await;
    assert_eq!(
        authors(&app, "roles/editors").await,
        (a.clone(), a.clone(), json!(3))
    );
    assert_eq!(
        authors(&app, "users/ann").await,
        (a.clone(), a.clone(), json!(5))
    );
    // Deleting a group changes its members' records: by B.
    let response = b
        .delete(app.url("groups/team"))
        .send()
        .await
        .expect("DELETE");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        authors(&app, "users/ann").await,
        (a.clone(), b_id.clone(), json!(6))
    );

    // Both are ordinary properties of `$filter`.
    app.create_user(json!({"userKey": "bo", "name": "Bo", "isTechnician": false}))
        .await;
    let keys = |page: Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|u| u["userKey"].as_str().expect("userKey").to_owned())
            .collect()
    };
    let by_b = app
        .get_users(&format!(
            "$filter=modifiedBy%20eq%20'{}'&$orderby=userKey",
            b_id.as_str().expect("id")
        ))
        .await;
    assert_eq!(keys(by_b), ["ann"]);
    let by_a = app
        .get_users(&format!(
            "$filter=createdBy%20eq%20'{}'%20and%20modifiedBy%20eq%20createdBy&$orderby=userKey",
            app.client_id
        ))
        .await;
    assert_eq!(keys(by_a), ["bo"]);
}

#[tokio::test]
async fn feed_writes_record_their_client_with_bearer_and_basic() {
    let app = spawn_app().await;
    let a = json!(app.client_id);
    let (b_id, b_secret, _) = client_b(&app).await;
    let root = root(&app);
    let entity = |path: String| {
        let app = &app;
        async move {
            json_of(
                app.client.get(path).send().await.expect("GET"),
                StatusCode::OK,
            )
            .await
        }
    };

    // A role created on the feed with HTTP Basic as B.
    let response = app
        .anonymous
        .post(format!("{root}/Roles"))
        .basic_auth(&b_id, Some(&b_secret))
        .json(&json!({"roleKey": "ops"}))
        .send()
        .await
        .expect("POST Roles");
    let role = json_of(response, StatusCode::CREATED).await;
    assert_eq!(role["createdBy"], json!(b_id));
    assert_eq!(role["modifiedBy"], json!(b_id));
    let role_id = role["id"].as_str().expect("id").to_owned();

    // A user created on the feed with A's token, patched with Basic as B.
    let response = app
        .client
        .post(format!("{root}/Users"))
        .json(&json!({"userKey": "cy", "name": "Cy", "isTechnician": false}))
        .send()
        .await
        .expect("POST Users");
    let user = json_of(response, StatusCode::CREATED).await;
    assert_eq!((&user["createdBy"], &user["modifiedBy"]), (&a, &a));
    let user_id = user["id"].as_str().expect("id").to_owned();
    let response = app
        .anonymous
        .patch(format!("{root}/Users({user_id})"))
        .basic_auth(&b_id, Some(&b_secret))
        .json(&json!({"name": "Cy B"}))
        .send()
        .await
        .expect("PATCH");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let user = entity(format!("{root}/Users({user_id})")).await;
    assert_eq!(
        (&user["createdBy"], &user["modifiedBy"], &user["version"]),
        (&a, &json!(b_id), &json!(2))
    );
    // A link written by A through `$ref`.
    let response = app
        .client
        .post(format!("{root}/Users({user_id})/roles/$ref"))
        .json(&json!({"@odata.id": format!("Roles({role_id})")}))
        .send()
        .await
        .expect("POST $ref");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let user = entity(format!("{root}/Users({user_id})")).await;
    assert_eq!((&user["modifiedBy"], &user["version"]), (&a, &json!(3)));
    // The feed filters on them too.
    let page = entity(format!(
        "{root}/Roles?$filter=createdBy%20eq%20'{b_id}'&$select=roleKey"
    ))
    .await;
    let keys: Vec<&Value> = page["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|r| &r["roleKey"])
        .collect();
    assert_eq!(keys, [&json!("ops")], "{page}");
}

#[tokio::test]
async fn batch_inner_writes_record_the_batch_client_in_and_outside_a_change_set() {
    let app = spawn_app().await;
    let a = json!(app.client_id);
    let (b_id, _, b) = client_b(&app).await;
    let b_id = json!(b_id);
    let user = app
        .create_user(json!({"userKey": "di", "name": "Di", "isTechnician": false}))
        .await;
    let role = app.create_role(json!({"roleKey": "audit"})).await;
    let body = json!({"requests": [
        {"id": "1", "method": "patch", "url": format!("Users({user})"),
         "atomicityGroup": "g", "body": {"name": "Di B"}},
        {"id": "2", "method": "post", "url": "Groups", "atomicityGroup": "g",
         "body": {"groupKey": "night"}},
        {"id": "3", "method": "patch", "url": format!("Roles({role})"),
         "body": {"description": "Audit"}}
    ]});
    let response = b
        .post(format!("{}/$batch", root(&app)))
        .header("Content-Type", "application/json")
        .header("OData-Version", "4.01")
        .body(body.to_string())
        .send()
        .await
        .expect("POST $batch");
    let answer = json_of(response, StatusCode::OK).await;
    let statuses: Vec<u64> = answer["responses"]
        .as_array()
        .expect("responses")
        .iter()
        .map(|r| r["status"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(statuses, [204, 201, 204], "{answer}");
    assert_eq!(
        authors(&app, &format!("users/{user}")).await,
        (a.clone(), b_id.clone(), json!(2))
    );
    assert_eq!(
        authors(&app, "groups/night").await,
        (b_id.clone(), b_id.clone(), json!(1))
    );
    assert_eq!(
        authors(&app, &format!("roles/{role}")).await,
        (a.clone(), b_id.clone(), json!(2))
    );
}

#[tokio::test]
async fn invitations_record_the_inviting_client_and_the_link_writes_invitation() {
    let app = spawn_app().await;
    let a = json!(app.client_id);
    let (b_id, _, b) = client_b(&app).await;
    let b_id = json!(b_id);
    let invite = |client: reqwest::Client| {
        let app = &app;
        async move {
            let response = client
                .post(app.url("users/sendInvitation"))
                .json(&json!({"email": "eve@example.com"}))
                .send()
                .await
                .expect("POST sendInvitation");
            json_of(response, StatusCode::OK).await
        }
    };
    let id = invite(app.client.clone()).await;
    let id = id.as_str().expect("id");
    let path = format!("users/{id}");
    assert_eq!(authors(&app, &path).await, (a.clone(), a.clone(), json!(1)));
    // Re-invited by B: B changed the record (status, token), A created it.
    invite(b.clone()).await;
    assert_eq!(
        authors(&app, &path).await,
        (a.clone(), b_id.clone(), json!(2))
    );
    // Accepted through the mailed link: no client, the workflow's marker.
    let accepted = app
        .anonymous
        .post(common::newest_accept_url(&app.outbox))
        .send()
        .await
        .expect("POST accept");
    assert_eq!(accepted.status(), StatusCode::OK);
    let user = app.get_user(id).await;
    assert_eq!(user["status"], 1);
    assert_eq!(
        (&user["createdBy"], &user["modifiedBy"], &user["version"]),
        (&a, &json!("invitation"), &json!(3))
    );
}

#[tokio::test]
async fn an_expiry_noticed_on_the_link_is_written_by_invitation() {
    let app = spawn_app_with(|s| {
        s.invitation_ttl_seconds = 0;
        s.invitation_sweep_seconds = 3600;
    })
    .await;
    let id = json_of(
        app.post_json(
            "users/sendInvitation",
            &json!({"email": "late@example.com"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let id = id.as_str().expect("id");
    let gone = app
        .anonymous
        .post(common::newest_accept_url(&app.outbox))
        .send()
        .await
        .expect("POST accept");
    assert_eq!(gone.status(), StatusCode::GONE);
    // Whichever noticed the expiry first (this request, or on a server
    // backend another test's sweeper), the workflow wrote it.
    let user = app.get_user(id).await;
    assert_eq!(user["status"], 4);
    assert_eq!(user["createdBy"], json!(app.client_id));
    assert_eq!(user["modifiedBy"], "invitation");
}
