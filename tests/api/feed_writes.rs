//! Writes on the OData v4 feed (`/api/{tenant}/{org}/odata/`): `POST` of
//! users (with `roles@odata.bind`/`groups@odata.bind`), roles and groups,
//! `PATCH`, `PUT` and `DELETE` of an entity, `$ref` links, `Prefer:
//! return=minimal|representation`, `If-Match` (412, and 428 when the
//! setting requires it), the write scope with Bearer and HTTP Basic, the
//! 400s of API 1's rules, and two concurrent `PATCH`es holding one ETag
//! (run on every backend through `ODATA_TEST_BACKEND`).

use crate::common;
use crate::feed_support;

use common::{TestApp, spawn_app, spawn_app_with};
use feed_support::{Answer, get, get_with, parse_xml, root, send_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Preconditions, the write scope, bad bodies, concurrent writers and the
/// capabilities `$metadata` declares.
mod guards;

const MINIMAL: &str = "application/json;odata.metadata=minimal";

async fn send(
    app: &TestApp,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Answer {
    send_with(app, &app.client, method, url, headers, body).await
}

async fn post(app: &TestApp, url: &str, body: &Value) -> Answer {
    send(app, Method::POST, url, &[], Some(body)).await
}

fn tag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Asserts a 204 with the ETag `version` and no body.
fn no_content(answer: &Answer, version: i64) {
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    assert_eq!(answer.header("etag"), Some(tag(version)));
    assert_eq!(answer.body, "");
}

/// `POST {set}`: asserts 201 with the entity, `Location`, `ETag: "1"` and
/// `@odata.etag`; returns the entity.
async fn create(app: &TestApp, set: &str, body: &Value) -> Value {
    let answer = post(app, set, body).await;
    answer.expect(StatusCode::CREATED, MINIMAL);
    let entity = answer.json();
    let id = entity["id"].as_str().expect("id").to_owned();
    assert_eq!(
        answer.header("location"),
        Some(format!("{}/{set}({id})", root(app)))
    );
    assert_eq!(answer.header("etag"), Some(tag(1)));
    assert_eq!(entity["@odata.etag"], tag(1));
    assert_eq!(entity["version"], 1);
    assert_eq!(
        entity["@odata.context"],
        format!("{}/$metadata#{set}/$entity", root(app))
    );
    entity
}

fn id_of(entity: &Value) -> String {
    entity["id"].as_str().expect("id").to_owned()
}

/// The keys of a user's roles (or groups), read through the feed.
async fn related_keys(app: &TestApp, user: &str, navigation: &str, key: &str) -> Vec<String> {
    let answer = get(app, &format!("Users({user})/{navigation}")).await;
    answer.expect(StatusCode::OK, MINIMAL);
    let mut keys: Vec<String> = answer.json()["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|r| r[key].as_str().expect("key").to_owned())
        .collect();
    keys.sort();
    keys
}

/// The entity at `url` (asserts 200).
async fn entity(app: &TestApp, url: &str) -> Value {
    let answer = get(app, url).await;
    answer.expect(StatusCode::OK, MINIMAL);
    answer.json()
}

async fn user_count(app: &TestApp) -> String {
    let answer = get(app, "Users/$count").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body
}

#[tokio::test]
async fn creates_users_with_bound_roles_and_groups_and_roles_and_groups() {
    let app = spawn_app().await;
    let admin = create(
        &app,
        "Roles",
        &json!({"roleKey": "admin", "isAdministration": true}),
    )
    .await;
    assert_eq!(admin["roleKey"], "admin");
    assert_eq!(admin["isActive"], true, "defaults of API 1");
    let viewer = create(&app, "Roles", &json!({"roleKey": "viewer"})).await;
    let ops = create(
        &app,
        "Groups",
        &json!({"groupKey": "ops", "email": "ops@example.com"}),
    )
    .await;
    // Relative ids, an absolute URL of this service and an absolute path.
    let root = root(&app);
    let path_root = root.trim_start_matches(&app.address).to_owned();
    let user = create(
        &app,
        "Users",
        &json!({
            "@odata.type": "#Identity.User",
            "userKey": "ana.lima", "name": "Ana Lima", "isTechnician": true,
            "email": "ana@example.com", "status": 2,
            "roles@odata.bind": [format!("Roles({})", id_of(&admin)),
                                 format!("{root}/Roles({})", id_of(&viewer))],
            "groups@odata.bind": [format!("{path_root}/Groups({})", id_of(&ops))]
        }),
    )
    .await;
    assert_eq!(user["userKey"], "ana.lima");
    assert_eq!(user["status"], 2);
    assert_eq!(user["culture"], "en-US");
    assert_eq!(user["picture"], Value::Null);
    let id = id_of(&user);
    assert_eq!(
        related_keys(&app, &id, "roles", "roleKey").await,
        ["admin", "viewer"]
    );
    assert_eq!(related_keys(&app, &id, "groups", "groupKey").await, ["ops"]);
    // The same record through API 1 (one domain, one storage).
    let api1 = app.get_user("ana.lima").await;
    assert_eq!(api1["roles"], json!(["admin", "viewer"]));
    assert_eq!(api1["groups"], json!(["ops"]));
    assert_eq!(api1["version"], 1);

    // $expand shapes the answer of a create; Accept-Language the culture.
    let answer = send(
        &app,
        Method::POST,
        "Users?$expand=roles($select=roleKey)",
        &[("Accept-Language", "pt-PT")],
        Some(
            &json!({"userKey": "bo", "name": "Bo", "isTechnician": false,
                     "roles@odata.bind": [format!("Roles({})", id_of(&viewer))]}),
        ),
    )
    .await;
    answer.expect(StatusCode::CREATED, MINIMAL);
    let bo = answer.json();
    assert_eq!(bo["culture"], "pt-PT");
    assert_eq!(bo["roles"][0]["roleKey"], "viewer", "{bo}");

    // Prefer: return=representation is the default of a create, echoed.
    let answer = send(
        &app,
        Method::POST,
        "Groups",
        &[("Prefer", "return=representation")],
        Some(&json!({"groupKey": "sales"})),
    )
    .await;
    answer.expect(StatusCode::CREATED, MINIMAL);
    assert_eq!(
        answer.header("preference-applied").as_deref(),
        Some("return=representation")
    );
    assert_eq!(answer.json()["groupKey"], "sales");
    // Prefer: return=minimal: 204 with the entity's id and location.
    let answer = send(
        &app,
        Method::POST,
        "Users",
        &[("Prefer", "return=minimal")],
        Some(&json!({"userKey": "cy", "name": "Cy", "isTechnician": false})),
    )
    .await;
    no_content(&answer, 1);
    assert_eq!(
        answer.header("preference-applied").as_deref(),
        Some("return=minimal")
    );
    let location = answer.header("location").expect("Location");
    assert_eq!(answer.header("odata-entityid"), Some(location.clone()));
    assert_eq!(entity(&app, &location).await["userKey"], "cy");
    assert_eq!(user_count(&app).await, "3");
}

#[tokio::test]
async fn patch_put_and_delete_go_through_the_domain_rules() {
    let app = spawn_app().await;
    let role = create(&app, "Roles", &json!({"roleKey": "admin"})).await;
    let user = create(
        &app,
        "Users",
        &json!({"userKey": "ana", "name": "Ana", "isTechnician": false,
                "email": "ana@example.com", "culture": "pt-PT",
                "lastLogin": "2026-01-01T10:00:00Z",
                "roles@odata.bind": [format!("Roles({})", id_of(&role))]}),
    )
    .await;
    let url = format!("Users({})", id_of(&user));
    // PATCH: only what is sent; what the service computes is ignored.
    let answer = send(
        &app,
        Method::PATCH,
        &url,
        &[],
        Some(
            &json!({"name": "Ana Lima", "isTechnician": true, "id": "ignored",
                     "version": 99, "@odata.etag": "\"1\"", "createdOn": "2000-01-01T00:00:00Z"}),
        ),
    )
    .await;
    no_content(&answer, 2);
    let now = entity(&app, &url).await;
    assert_eq!(now["name"], "Ana Lima");
    assert_eq!(now["isTechnician"], true);
    assert_eq!(now["email"], "ana@example.com");
    assert_eq!(now["version"], 2);
    assert_eq!(now["createdOn"], user["createdOn"]);
    // Prefer: return=representation: 200 with the entity.
    let answer = send(
        &app,
        Method::PATCH,
        &url,
        &[("Prefer", "return=representation")],
        Some(&json!({"status": 2})),
    )
    .await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(answer.header("etag"), Some(tag(3)));
    assert_eq!(
        answer.header("preference-applied").as_deref(),
        Some("return=representation")
    );
    assert_eq!(answer.json()["status"], 2);
    assert_eq!(answer.json()["@odata.etag"], tag(3));
    // Prefer: return=minimal is the default of an update, echoed.
    let answer = send(
        &app,
        Method::PATCH,
        &url,
        &[("Prefer", "return=minimal")],
        Some(&json!({"isActive": true})),
    )
    .await;
    assert_eq!(
        answer.header("preference-applied").as_deref(),
        Some("return=minimal")
    );
    no_content(&answer, 4);
    // PUT: every settable property; the unsent ones to their defaults.
    let answer = send(
        &app,
        Method::PUT,
        &url,
        &[],
        Some(&json!({"userKey": "ana.lima", "name": "Ana L.", "isTechnician": false})),
    )
    .await;
    no_content(&answer, 5);
    let now = entity(&app, &url).await;
    for (property, expected) in [
        ("userKey", json!("ana.lima")),
        ("name", json!("Ana L.")),
        ("email", Value::Null),
        ("culture", json!("en-US")),
        ("lastLogin", Value::Null),
        ("status", json!(1)),
        ("isActive", json!(true)),
        ("isTechnician", json!(false)),
    ] {
        assert_eq!(now[property], expected, "{property}: {now}");
    }
    assert_eq!(
        related_keys(&app, &id_of(&user), "roles", "roleKey").await,
        ["admin"],
        "PUT leaves the links alone"
    );
    // PUT needs what a create needs.
    let answer = send(&app, Method::PUT, &url, &[], Some(&json!({"name": "X"}))).await;
    answer.error(StatusCode::BAD_REQUEST, "BadRequest");
    // Roles and groups.
    let role_url = format!("Roles({})", id_of(&role));
    let answer = send(
        &app,
        Method::PATCH,
        &role_url,
        &[],
        Some(&json!({"description": "Admins", "isDefault": true})),
    )
    .await;
    no_content(&answer, 2);
    let answer = send(
        &app,
        Method::PUT,
        &role_url,
        &[],
        Some(&json!({"roleKey": "administrator"})),
    )
    .await;
    no_content(&answer, 3);
    let now = entity(&app, &role_url).await;
    assert_eq!(now["roleKey"], "administrator");
    assert_eq!(now["description"], Value::Null);
    assert_eq!(now["isDefault"], false);
    assert_eq!(
        app.get_user("ana.lima").await["roles"],
        json!(["administrator"]),
        "a renamed role is renamed in its users"
    );
    let group = create(&app, "Groups", &json!({"groupKey": "ops"})).await;
    let group_url = format!("Groups({})", id_of(&group));
    let answer = send(
        &app,
        Method::PATCH,
        &group_url,
        &[],
        Some(&json!({"name": "Operations", "notes": "24/7"})),
    )
    .await;
    no_content(&answer, 2);
    assert_eq!(entity(&app, &group_url).await["notes"], "24/7");
    // DELETE: 204, then 404.
    for url in [&url, &role_url, &group_url] {
        let answer = send(&app, Method::DELETE, url, &[], None).await;
        assert_eq!(
            answer.status,
            StatusCode::NO_CONTENT,
            "{url}: {}",
            answer.body
        );
        get(&app, url)
            .await
            .error(StatusCode::NOT_FOUND, "NotFound");
        send(&app, Method::DELETE, url, &[], None)
            .await
            .error(StatusCode::NOT_FOUND, "NotFound");
    }
    send(
        &app,
        Method::PATCH,
        &url,
        &[],
        Some(&json!({"name": "Gone"})),
    )
    .await
    .error(StatusCode::NOT_FOUND, "NotFound");
    assert_eq!(user_count(&app).await, "0");
}

#[tokio::test]
async fn refs_add_and_remove_links() {
    let app = spawn_app().await;
    let user = id_of(
        &create(
            &app,
            "Users",
            &json!({"userKey": "ana", "name": "Ana", "isTechnician": false}),
        )
        .await,
    );
    let role = id_of(&create(&app, "Roles", &json!({"roleKey": "admin"})).await);
    let group = id_of(&create(&app, "Groups", &json!({"groupKey": "ops"})).await);
    let answer = post(
        &app,
        &format!("Users({user})/roles/$ref"),
        &json!({"@odata.id": format!("Roles({role})")}),
    )
    .await;
    no_content(&answer, 2);
    // Adding it again changes nothing (the version stays).
    let answer = post(
        &app,
        &format!("Users({user})/roles/$ref"),
        &json!({"@odata.id": format!("{}/Roles({role})", root(&app))}),
    )
    .await;
    no_content(&answer, 2);
    let answer = post(
        &app,
        &format!("Users({user})/groups/$ref"),
        &json!({"@odata.context": format!("{}/$metadata#$ref", root(&app)),
                "@odata.id": format!("Groups({group})")}),
    )
    .await;
    no_content(&answer, 3);
    assert_eq!(
        related_keys(&app, &user, "roles", "roleKey").await,
        ["admin"]
    );
    assert_eq!(
        related_keys(&app, &user, "groups", "groupKey").await,
        ["ops"]
    );
    let answer = send(
        &app,
        Method::DELETE,
        &format!("Users({user})/roles({role})/$ref"),
        &[],
        None,
    )
    .await;
    no_content(&answer, 4);
    assert!(
        related_keys(&app, &user, "roles", "roleKey")
            .await
            .is_empty()
    );
    assert_eq!(
        related_keys(&app, &user, "groups", "groupKey").await,
        ["ops"]
    );
    // Bad references: 400, nothing changes.
    for body in [
        json!({"@odata.id": format!("Users({user})")}),
        json!({"@odata.id": format!("Roles({group})")}),
        json!({"@odata.id": "Roles(1)"}),
        json!({"@odata.id": format!("http://elsewhere/api/x/y/odata/Roles({role})")}),
        json!({"id": format!("Roles({role})")}),
        json!([format!("Roles({role})")]),
    ] {
        post(&app, &format!("Users({user})/roles/$ref"), &body)
            .await
            .error(StatusCode::BAD_REQUEST, "BadRequest");
    }
    assert_eq!(entity(&app, &format!("Users({user})")).await["version"], 4);
    // Links are written from the user's side.
    post(
        &app,
        &format!("Roles({role})/users/$ref"),
        &json!({"@odata.id": format!("Users({user})")}),
    )
    .await
    .error(StatusCode::NOT_IMPLEMENTED, "NotImplemented");
    // An unknown user: 404.
    post(
        &app,
        &format!("Users({role})/roles/$ref"),
        &json!({"@odata.id": format!("Roles({role})")}),
    )
    .await
    .error(StatusCode::NOT_FOUND, "NotFound");
}
