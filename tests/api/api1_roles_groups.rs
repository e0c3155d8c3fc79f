//! Roles and groups as resources: create, read, change, delete.

use crate::common;

use common::{assert_error, json_of, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn role_lifecycle() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "roles",
            &json!({"roleKey":"Admin","description":"Administrators","isAdministration":true}),
        )
        .await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let id = common::created_id(response).await;
    assert_eq!(location, format!("{}/roles/{id}", app.base));

    let role = json_of(app.get("roles/ADMIN").await, StatusCode::OK).await;
    assert_eq!(role["id"], id);
    assert_eq!(role["roleKey"], "Admin");
    assert_eq!(role["description"], "Administrators");
    assert_eq!(role["isAdministration"], true);
    assert_eq!(role["isDefault"], false);
    assert_eq!(role["isInternal"], false);
    assert_eq!(role["isActive"], true);
    assert_eq!(role["version"], 1);
    assert_eq!(
        json_of(app.get(&format!("roles/{id}")).await, StatusCode::OK).await["id"],
        id
    );

    for (attr, value) in [
        ("description", json!(null)),
        ("isAdministration", json!(false)),
        ("isDefault", json!(true)),
        ("isInternal", json!(true)),
        ("isActive", json!(false)),
        ("roleKey", json!("Administrators")),
    ] {
        let response = app.put_json(&format!("roles/{id}/{attr}"), &value).await;
        assert_eq!(response.status(), StatusCode::OK, "PUT {attr}");
    }
    let role = json_of(app.get("roles/administrators").await, StatusCode::OK).await;
    assert!(role["description"].is_null());
    assert_eq!(role["isDefault"], true);
    assert_eq!(role["isInternal"], true);
    assert_eq!(role["isActive"], false);
    assert_eq!(role["version"], 7);

    let page = json_of(app.get("roles/odata?$count=true").await, StatusCode::OK).await;
    assert_eq!(page["count"], 1);
    assert_eq!(page["items"][0]["roleKey"], "Administrators");

    assert_eq!(
        app.delete("roles/ADMINISTRATORS").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        app.get(&format!("roles/{id}")).await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
    assert_error(
        app.delete(&format!("roles/{id}")).await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
}

#[tokio::test]
async fn role_failures() {
    let app = spawn_app().await;
    app.create_role(json!({"roleKey":"Admin"})).await;
    app.create_role(json!({"roleKey":"Viewer"})).await;
    assert_error(
        app.post_json("roles", &json!({"roleKey":"ADMIN"})).await,
        StatusCode::CONFLICT,
        "Conflict",
    )
    .await;
    assert_error(
        app.put_json("roles/viewer/roleKey", &json!("admin")).await,
        StatusCode::CONFLICT,
        "Conflict",
    )
    .await;
    for body in [
        json!({}),
        json!({"roleKey":"has space"}),
        json!({"roleKey":"odata"}),
        json!({"roleKey":"x","isDefault":"yes"}),
        json!({"roleKey":"x","description":5}),
        json!({"roleKey":"x","other":true}),
    ] {
        assert_error(
            app.post_json("roles", &body).await,
            StatusCode::BAD_REQUEST,
            "BadRequest",
        )
        .await;
    }
    for (attr, value) in [
        ("isDefault", json!(1)),
        ("roleKey", json!(null)),
        ("description", json!(false)),
        ("name", json!("x")),
    ] {
        assert_error(
            app.put_json(&format!("roles/admin/{attr}"), &value).await,
            StatusCode::BAD_REQUEST,
            "BadRequest",
        )
        .await;
    }
    assert_error(
        app.put_json("roles/ghost/isDefault", &json!(true)).await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
    assert_error(
        app.get("roles/ghost").await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
}

#[tokio::test]
async fn group_lifecycle_and_failures() {
    let app = spawn_app().await;
    let id = app
        .create_group(json!({"groupKey":"Sales","name":"Sales team","email":"sales@example.com","notes":"EMEA"}))
        .await;
    let group = json_of(app.get("groups/sales").await, StatusCode::OK).await;
    assert_eq!(group["id"], id);
    assert_eq!(group["groupKey"], "Sales");
    assert_eq!(group["name"], "Sales team");
    assert_eq!(group["email"], "sales@example.com");
    assert_eq!(group["notes"], "EMEA");

    for (attr, value) in [
        ("name", json!("Sales EMEA")),
        ("email", json!(null)),
        ("notes", json!("all of them")),
        ("isActive", json!(false)),
        ("groupKey", json!("SalesEMEA")),
    ] {
        let response = app.put_json(&format!("groups/{id}/{attr}"), &value).await;
        assert_eq!(response.status(), StatusCode::OK, "PUT {attr}");
    }
    let group = json_of(app.get(&format!("groups/{id}")).await, StatusCode::OK).await;
    assert_eq!(group["groupKey"], "SalesEMEA");
    assert_eq!(group["name"], "Sales EMEA");
    assert!(group["email"].is_null());
    assert_eq!(group["isActive"], false);

    app.create_group(json!({"groupKey":"ops"})).await;
    assert_error(
        app.post_json("groups", &json!({"groupKey":"OPS"})).await,
        StatusCode::CONFLICT,
        "Conflict",
    )
    .await;
    assert_error(
        app.put_json("groups/ops/groupKey", &json!("salesemea"))
            .await,
        StatusCode::CONFLICT,
        "Conflict",
    )
    .await;
    assert_error(
        app.post_json("groups", &json!({"groupKey":"g","email":"bad"}))
            .await,
        StatusCode::BAD_REQUEST,
        "BadRequest",
    )
    .await;
    assert_error(
        app.put_json("groups/ops/email", &json!("still bad")).await,
        StatusCode::BAD_REQUEST,
        "BadRequest",
    )
    .await;
    assert_error(
        app.put_json("groups/ops/description", &json!("x")).await,
        StatusCode::BAD_REQUEST,
        "BadRequest",
    )
    .await;

    let page = json_of(
        app.get("GROUPS/ODATA?$orderby=groupKey&$count=true").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["count"], 2);
    assert_eq!(page["items"][0]["groupKey"], "SalesEMEA");

    assert_eq!(
        app.delete(&format!("groups/{id}")).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        app.get("groups/salesemea").await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
}
