//! The feed's ETags: the `ETag` header, `@odata.etag` and `If-None-Match`.

use super::*;

#[tokio::test]
async fn the_feed_answers_etags_and_odata_etag_annotations() {
    let app = spawn_app().await;
    app.create_role(json!({"roleKey": "admin"})).await;
    let id = app
        .create_user(
            json!({"userKey": "jane", "name": "Jane", "isTechnician": false,
            "roles": ["admin"]}),
        )
        .await;
    app.create_user(json!({"userKey": "joe", "name": "Joe", "isTechnician": false}))
        .await;
    app.create_role(json!({"roleKey": "viewer"})).await;
    app.put_json("users/joe/name", &json!("Joe Doe")).await;
    let feed = format!("{}/api/{}/main/odata", app.address, app.tenant);
    let get = |path: String, headers: Vec<(&'static str, String)>| {
        let mut request = app.client.get(format!("{feed}/{path}"));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };

    // A single entity: ETag header and @odata.etag, also under $select.
    for query in ["", "?$select=userKey", "?$expand=roles"] {
        let response = get(format!("Users({id}){query}"), vec![])
            .await
            .expect("GET");
        assert_eq!(etag(&response), tag(1), "{query}");
        let body = json_of(response, StatusCode::OK).await;
        assert_eq!(body["@odata.etag"], tag(1), "{query}: {body}");
    }
    let response = get(format!("Users({id})"), vec![("If-None-Match", tag(1))])
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(etag(&response), tag(1));
    let response = get(format!("Users({id})"), vec![("If-None-Match", tag(9))])
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    let response = get(
        format!("Users({id})?$expand=roles"),
        vec![("If-None-Match", tag(1))],
    )
    .await
    .expect("GET");
    assert_eq!(response.status(), StatusCode::OK, "never 304 under $expand");
    // A property and a related entity carry their entity's ETag.
    let response = get(format!("Users({id})/name"), vec![]).await.expect("GET");
    assert_eq!(etag(&response), tag(1));
    let response = get(format!("Users({id})/name"), vec![("If-None-Match", tag(1))])
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    let roles = json_of(
        get(format!("Users({id})/roles"), vec![])
            .await
            .expect("GET"),
        StatusCode::OK,
    )
    .await;
    let role_id = roles["value"][0]["id"]
        .as_str()
        .expect("role id")
        .to_owned();
    let response = get(format!("Users({id})/roles({role_id})"), vec![])
        .await
        .expect("GET");
    assert_eq!(etag(&response), tag(1));

    // Collections: every entity carries its @odata.etag (expanded ones too),
    // in minimal and full metadata, with and without $select.
    for (query, accept) in [
        ("$orderby=userKey", "application/json"),
        ("$orderby=userKey&$select=name", "application/json"),
        ("$orderby=userKey&$expand=roles", "application/json"),
        ("$orderby=userKey", "application/json;odata.metadata=full"),
    ] {
        let body = json_of(
            get(
                format!("Users?{query}"),
                vec![("Accept", accept.to_owned())],
            )
            .await
            .expect("GET"),
            StatusCode::OK,
        )
        .await;
        let value = body["value"].as_array().expect("value");
        assert_eq!(value.len(), 2, "{body}");
        assert_eq!(value[0]["@odata.etag"], tag(1), "{query}: {body}");
        assert_eq!(value[1]["@odata.etag"], tag(2), "{query}: {body}");
        if query.contains("expand") {
            assert_eq!(value[0]["roles"][0]["@odata.etag"], tag(1), "{body}");
        }
    }
    // odata.metadata=none: no control information, so no @odata.etag (the
    // ETag header of a single entity stays).
    let none = "application/json;odata.metadata=none".to_owned();
    let body = json_of(
        get("Users".to_owned(), vec![("Accept", none.clone())])
            .await
            .expect("GET"),
        StatusCode::OK,
    )
    .await;
    assert!(body["value"][0].get("@odata.etag").is_none(), "{body}");
    let response = get(format!("Users({id})"), vec![("Accept", none)])
        .await
        .expect("GET");
    assert_eq!(etag(&response), tag(1));
    let body = json_of(response, StatusCode::OK).await;
    assert!(body.get("@odata.etag").is_none(), "{body}");
    let roles = json_of(
        get("Roles".to_owned(), vec![]).await.expect("GET"),
        StatusCode::OK,
    )
    .await;
    for role in roles["value"].as_array().expect("value") {
        assert_eq!(role["@odata.etag"], tag(1), "{role}");
    }

    // $metadata declares the concurrency property of every set.
    let xml = get("$metadata".to_owned(), vec![])
        .await
        .expect("GET")
        .text()
        .await
        .expect("text");
    assert_eq!(
        xml.matches("Core.OptimisticConcurrency").count(),
        3,
        "{xml}"
    );
}
