//! API 1 users: create, read, change attributes, delete.

use crate::common;

use common::{assert_error, json_of, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn create_then_get_by_id_and_by_key() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "users",
            &json!({"userKey":"Jane.Doe","name":"Jane Doe","isTechnician":true,"email":"jane@example.com"}),
        )
        .await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let id = common::created_id(response).await;
    assert_eq!(location, format!("{}/users/{id}", app.base));

    let by_id = app.get_user(&id).await;
    assert_eq!(by_id["id"], id);
    assert_eq!(by_id["userKey"], "Jane.Doe");
    assert_eq!(by_id["name"], "Jane Doe");
    assert_eq!(by_id["isTechnician"], true);
    assert_eq!(by_id["email"], "jane@example.com");
    assert_eq!(by_id["status"], 1);
    assert_eq!(by_id["culture"], "en-US");
    assert_eq!(by_id["version"], 1);
    assert_eq!(by_id["isDeleted"], false);

    let by_key = app.get_user("jane.doe").await;
    assert_eq!(by_key["id"], id);
    // The Location header points at the record.
    json_of(app.get(&location).await, StatusCode::OK).await;
}

#[tokio::test]
async fn culture_defaults_from_accept_language() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("users"))
        .header("Accept-Language", "xx_bad, pt-PT;q=0.9, en;q=0.8")
        .json(&json!({"userKey":"ana","name":"Ana","isTechnician":false}))
        .send()
        .await
        .unwrap();
    common::created_id(response).await;
    assert_eq!(app.get_user("ana").await["culture"], "pt-PT");
}

#[tokio::test]
async fn create_validation_failures() {
    let app = spawn_app().await;
    for body in [
        json!({"name":"x","isTechnician":false}),
        json!({"userKey":"a b","name":"x","isTechnician":false}),
        json!({"userKey":"odata","name":"x","isTechnician":false}),
        json!({"userKey":"SENDINVITATION","name":"x","isTechnician":false}),
        json!({"userKey":"3f2504e0-4f89-11d3-9a0c-0305e82c3301","name":"x","isTechnician":false}),
        json!({"userKey":"k","name":"   ","isTechnician":false}),
        json!({"userKey":"k","name":"x"}),
        json!({"userKey":"k","name":"x","isTechnician":"no"}),
        json!({"userKey":"k","name":"x","isTechnician":false,"email":"not-an-email"}),
        json!({"userKey":"k","name":"x","isTechnician":false,"culture":"en_US"}),
        json!({"userKey":"k","name":"x","isTechnician":false,"status":3}),
        json!({"userKey":"k","name":"x","isTechnician":false,"lastLogin":"yesterday"}),
        json!({"userKey":"k","name":"x","isTechnician":false,"unknown":1}),
        json!(["not", "an", "object"]),
    ] {
        assert_error(
            app.post_json("users", &body).await,
            StatusCode::BAD_REQUEST,
            "BadRequest",
        )
        .await;
    }
    // Nothing was created.
    let page = app.get_users("$count=true").await;
    assert_eq!(page["count"], 0);
}

#[tokio::test]
async fn duplicate_key_or_email_is_409_case_insensitively() {
    let app = spawn_app().await;
    app.create_user(
        json!({"userKey":"jane","name":"Jane","isTechnician":false,"email":"Jane@Example.com"}),
    )
    .await;
    let dup_key = app
        .post_json(
            "users",
            &json!({"userKey":"JANE","name":"Other","isTechnician":false}),
        )
        .await;
    let body = assert_error(dup_key, StatusCode::CONFLICT, "Conflict").await;
    assert_eq!(body["error"]["target"], "userKey");
    let dup_email = app
        .post_json(
            "users",
            &json!({"userKey":"other","name":"Other","isTechnician":false,"email":"jane@EXAMPLE.com"}),
        )
        .await;
    assert_error(dup_email, StatusCode::CONFLICT, "Conflict").await;
}

#[tokio::test]
async fn unknown_user_is_404() {
    let app = spawn_app().await;
    assert_error(
        app.get("users/nobody").await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
    assert_error(
        app.get("users/3f2504e0-4f89-11d3-9a0c-0305e82c3301").await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
    assert_error(
        app.put_json("users/nobody/name", &json!("X")).await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
    assert_error(
        app.delete("users/nobody").await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
}

#[tokio::test]
async fn put_each_attribute() {
    let app = spawn_app().await;
    let id = app
        .create_user(json!({"userKey":"jane","name":"Jane","isTechnician":false}))
        .await;
    for (attr, value) in [
        ("name", json!("Jane Q. Doe")),
        ("email", json!("jane@example.com")),
        ("isActive", json!(false)),
        ("isTechnician", json!(true)),
        ("lastLogin", json!("2024-05-01T10:00:00+02:00")),
        ("status", json!(2)),
    ] {
        let response = app.put_json(&format!("users/jane/{attr}"), &value).await;
        assert_eq!(response.status(), StatusCode::OK, "PUT {attr}");
        assert_eq!(
            response.text().await.unwrap(),
            "",
            "PUT {attr} answers an empty body"
        );
    }
    let user = app.get_user(&id).await;
    assert_eq!(user["name"], "Jane Q. Doe");
    assert_eq!(user["email"], "jane@example.com");
    assert_eq!(user["isActive"], false);
    assert_eq!(user["isTechnician"], true);
    assert_eq!(user["lastLogin"], "2024-05-01T08:00:00Z");
    assert_eq!(user["status"], 2);
    assert_eq!(user["version"], 7);

    // Timestamps are stored to the microsecond on every backend: finer
    // digits are cut (not rounded), and filters see the stored value.
    let response = app
        .put_json(
            "users/jane/lastLogin",
            &json!("2024-05-01T10:00:00.123456789Z"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let user = app.get_user(&id).await;
    assert_eq!(user["lastLogin"], "2024-05-01T10:00:00.123456Z");
    for field in ["createdOn", "modifiedOn"] {
        let text = user[field].as_str().expect("a timestamp");
        let digits = text.split_once('.').map_or(0, |(_, f)| {
            f.chars().take_while(char::is_ascii_digit).count()
        });
        assert!(
            digits <= 6,
            "{field} {text} has more than 6 fractional digits"
        );
    }
    let found = app
        .get_users("$filter=lastLogin eq 2024-05-01T10:00:00.123456Z&$select=userKey")
        .await;
    assert_eq!(found["items"].as_array().map(Vec::len), Some(1), "{found}");

    // Rename, then the old key is gone and the new one answers.
    let response = app.put_json("users/JANE/userKey", &json!("jdoe")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_error(
        app.get("users/jane").await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
    assert_eq!(app.get_user("JDOE").await["id"], id);

    // null clears e-mail and lastLogin.
    assert_eq!(
        app.put_json("users/jdoe/email", &json!(null))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.put_json("users/jdoe/lastLogin", &json!(null))
            .await
            .status(),
        StatusCode::OK
    );
    let user = app.get_user(&id).await;
    assert!(user["email"].is_null() && user["lastLogin"].is_null());
}

#[tokio::test]
async fn put_wrong_types_and_invalid_values_are_400() {
    let app = spawn_app().await;
    app.create_user(json!({"userKey":"jane","name":"Jane","isTechnician":false}))
        .await;
    for (attr, value) in [
        ("name", json!(42)),
        ("name", json!("")),
        ("email", json!("nope")),
        ("email", json!(true)),
        ("isActive", json!("true")),
        ("isTechnician", json!(1)),
        ("lastLogin", json!("2024-13-01")),
        ("status", json!(3)),
        ("status", json!(4)),
        ("status", json!("1")),
        ("userKey", json!("has space")),
        ("userKey", json!("odata")),
        ("roles", json!("ADMIN")),
        ("groups", json!([1, 2])),
        ("nonsense", json!(1)),
    ] {
        let response = app.put_json(&format!("users/jane/{attr}"), &value).await;
        assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
    }
    assert_eq!(app.get_user("jane").await["version"], 1, "nothing changed");
}

#[tokio::test]
async fn rename_or_email_to_a_taken_value_is_409() {
    let app = spawn_app().await;
    app.create_user(json!({"userKey":"jane","name":"Jane","isTechnician":false,"email":"j@x.com"}))
        .await;
    app.create_user(json!({"userKey":"john","name":"John","isTechnician":false}))
        .await;
    assert_error(
        app.put_json("users/john/userKey", &json!("Jane")).await,
        StatusCode::CONFLICT,
        "Conflict",
    )
    .await;
    assert_error(
        app.put_json("users/john/email", &json!("J@X.COM")).await,
        StatusCode::CONFLICT,
        "Conflict",
    )
    .await;
    // Renaming to its own key in another case is fine.
    assert_eq!(
        app.put_json("users/john/userKey", &json!("JOHN"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(app.get_user("john").await["userKey"], "JOHN");
}

#[tokio::test]
async fn delete_by_key_and_by_id_and_key_reuse() {
    let app = spawn_app().await;
    let id = app
        .create_user(json!({"userKey":"jane","name":"Jane","isTechnician":false}))
        .await;
    let response = app.delete("users/JANE").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_error(
        app.get(&format!("users/{id}")).await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
    assert_eq!(app.get_users("$count=true").await["count"], 0);
    // The key can be reused; delete by id.
    let id2 = app
        .create_user(json!({"userKey":"jane","name":"Jane 2","isTechnician":false}))
        .await;
    assert_ne!(id, id2);
    assert_eq!(
        app.delete(&format!("users/{id2}")).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        app.delete(&format!("users/{id2}")).await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
}

#[tokio::test]
async fn list_shape_and_case_insensitive_segments() {
    let app = spawn_app().await;
    app.create_user(json!({"userKey":"a","name":"A","isTechnician":false}))
        .await;
    app.create_user(json!({"userKey":"b","name":"B","isTechnician":true}))
        .await;
    let page = app.get_users("").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert!(page["nextPageLink"].is_null());
    assert!(page.get("count").is_some() && page["count"].is_null());

    let upper = format!(
        "{}/API/{}/MAIN/IDENTITY/USERS/ODATA?$count=true",
        app.address,
        app.tenant.to_uppercase()
    );
    let page = json_of(app.get(&upper).await, StatusCode::OK).await;
    assert_eq!(page["count"], 2);
    let user = json_of(
        app.get(&format!(
            "{}/Api/{}/Main/Identity/Users/B",
            app.address,
            app.tenant.to_uppercase()
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(user["userKey"], "b");
    let response = app
        .put_json(
            &format!(
                "{}/api/{}/main/identity/users/b/ISTECHNICIAN",
                app.address, app.tenant
            ),
            &json!(false),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn tenants_are_isolated() {
    let app = spawn_app().await;
    app.create_user(json!({"userKey":"jane","name":"Jane","isTechnician":false}))
        .await;
    // This tenant's token does not reach another tenant at all.
    let other = format!("{}/api/other/main/identity/users/jane", app.address);
    let body = assert_error(app.get(&other).await, StatusCode::FORBIDDEN, "Forbidden").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("other"));
    // The other tenant's own client does not see this tenant's records.
    let client = app.tenant_client("other", "main").await;
    let response = client.get(&other).send().await.unwrap();
    assert_error(response, StatusCode::NOT_FOUND, "NotFound").await;
}

#[tokio::test]
async fn keys_differing_in_accents_are_distinct_on_every_backend() {
    let app = spawn_app().await;
    let plain = app
        .create_user(json!({"userKey":"resume","name":"Plain","isTechnician":false,"email":"resume@example.com"}))
        .await;
    let accented = app
        .create_user(json!({"userKey":"résumé","name":"Accented","isTechnician":false,"email":"résumé@example.com"}))
        .await;
    assert_ne!(plain, accented);
    assert_eq!(app.get_user("RÉSUMÉ").await["id"], accented);
    assert_eq!(app.get_user("Resume").await["id"], plain);
    let response = app
        .post_json(
            "users",
            &json!({"userKey":"RÉSUMÉ","name":"Dup","isTechnician":false}),
        )
        .await;
    assert_error(response, StatusCode::CONFLICT, "Conflict").await;
}

#[tokio::test]
async fn concurrent_writes_all_succeed() {
    let app = spawn_app().await;
    app.create_role(json!({"roleKey":"R"})).await;
    let app = &app;
    let creates = (0..24).map(|i| async move {
        app.post_json(
            "users",
            &json!({"userKey": format!("u{i}"), "name": format!("User {i}"), "isTechnician": false}),
        )
        .await
    });
    for response in futures_join(creates).await {
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let changes = (0..24).map(|i| async move {
        app.post_json(&format!("users/u{i}/roles/add"), &json!(["r"]))
            .await
    });
    for response in futures_join(changes).await {
        assert_eq!(response.status(), StatusCode::OK);
    }
    let page = app
        .get_users("$filter=roles/any(r: r/roleKey eq 'R')&$count=true")
        .await;
    assert_eq!(page["count"], 24);

    // The same link added by many calls at once: every call succeeds.
    app.create_role(json!({"roleKey":"S"})).await;
    let same =
        (0..16).map(|_| async move { app.post_json("users/u0/roles/add", &json!(["S"])).await });
    for response in futures_join(same).await {
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(app.get_user("u0").await["roles"], json!(["R", "S"]));

    // The same new key created by many calls at once: one 201, the rest 409.
    let racing = (0..8).map(|_| async move {
        app.post_json(
            "users",
            &json!({"userKey":"racer","name":"Racer","isTechnician":false,"roles":["R"]}),
        )
        .await
        .status()
    });
    let mut statuses = futures_join(racing).await;
    statuses.sort();
    assert_eq!(statuses[0], StatusCode::CREATED, "{statuses:?}");
    assert!(
        statuses[1..].iter().all(|s| *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
}

/// Runs the futures concurrently on the test's runtime.
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, slot) in pinned.iter_mut().zip(results.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *slot = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

#[tokio::test]
async fn records_of_another_tenant_are_invisible_by_id_and_key() {
    let app = spawn_app().await;
    let id = app
        .create_user(json!({"userKey":"jane","name":"Jane","isTechnician":false}))
        .await;
    let role = app.create_role(json!({"roleKey":"R"})).await;
    // A second tenant in the same database.
    let other_key = format!("{}-other", app.tenant);
    let settings = common::db_settings(&app.db_url);
    let db = identity_service::storage::db::connect(&settings)
        .await
        .expect("connect");
    identity_service::storage::tenants::create(
        &db,
        &identity_service::domain::TenantKey::parse(&other_key, "tenant").unwrap(),
        &identity_service::domain::TenantKey::parse("main", "org").unwrap(),
    )
    .await
    .expect("second tenant");
    // Requests to it carry its own client's token: a valid token of the
    // other tenant still sees none of this tenant's records.
    let client = app.tenant_client(&other_key, "main").await;
    let other = format!("{}/api/{other_key}/main/identity", app.address);
    for path in [
        format!("users/{id}"),
        "users/jane".to_owned(),
        format!("roles/{role}"),
    ] {
        let url = format!("{other}/{path}");
        let response = client.get(&url).send().await.unwrap();
        assert_error(response, StatusCode::NOT_FOUND, "NotFound").await;
        let response = client.delete(&url).send().await.unwrap();
        assert_error(response, StatusCode::NOT_FOUND, "NotFound").await;
    }
    let url = format!("{other}/users/{id}/name");
    let response = client
        .put(&url)
        .json(&json!("Mallory"))
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::NOT_FOUND, "NotFound").await;
    let url = format!("{other}/users");
    let response = client
        .post(&url)
        .json(&json!({"userKey":"x","name":"X","isTechnician":false,"roles":["R"]}))
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
    // The same key may exist in both tenants.
    common::created_id(
        client
            .post(&url)
            .json(&json!({"userKey":"jane","name":"Other Jane","isTechnician":false}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(app.get_user(&id).await["name"], "Jane");
    let page = app.get_users("$count=true").await;
    assert_eq!(page["count"], 1);
}
