//! `If-Match` on a record that does not exist: 412 (RFC 9110 §13.1.1:
//! with no current representation, `*` and every list of tags are false),
//! on API 1, the feed and inside a `$batch`, without an ETag header;
//! without `If-Match` a missing record stays 404, and `If-None-Match: *`
//! does not make a `PUT` create anything (404).

use super::*;

/// Asserts a 412 without an ETag (there is no current one).
async fn no_record(response: Response, what: &str) {
    assert!(response.headers().get("etag").is_none(), "{what}");
    let error = assert_error(
        response,
        StatusCode::PRECONDITION_FAILED,
        "PreconditionFailed",
    )
    .await;
    let message = error["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("does not exist"), "{what}: {error}");
}

#[tokio::test]
async fn if_match_on_a_missing_record_is_412_on_api_1() {
    let app = spawn_app().await;
    app.create_role(json!({"roleKey": "admin"})).await;
    let missing = "00000000-0000-4000-8000-000000000001";
    let mut writes: Vec<(Method, String, Option<Value>)> = Vec::new();
    for user in ["ghost", missing] {
        writes.extend([
            (Method::PUT, format!("users/{user}/name"), Some(json!("G"))),
            (Method::PUT, format!("users/{user}/roles"), Some(json!([]))),
            (
                Method::PUT,
                format!("users/{user}/picture"),
                Some(json!(null)),
            ),
            (
                Method::POST,
                format!("users/{user}/roles/add"),
                Some(json!(["admin"])),
            ),
            (Method::DELETE, format!("users/{user}"), None),
        ]);
    }
    for (set, attribute) in [("roles", "description"), ("groups", "notes")] {
        writes.extend([
            (
                Method::PUT,
                format!("{set}/ghost/{attribute}"),
                Some(json!("d")),
            ),
            (Method::DELETE, format!("{set}/ghost"), None),
            (Method::DELETE, format!("{set}/{missing}"), None),
        ]);
    }
    for (method, path, body) in &writes {
        let what = format!("{method} {path}");
        for value in ["*", "\"1\"", "W/\"1\", \"2\""] {
            let response = send(
                &app,
                method.clone(),
                path,
                &[("If-Match", value)],
                body.as_ref(),
            )
            .await;
            no_record(response, &format!("{what} If-Match: {value}")).await;
        }
        // Without If-Match: 404; If-None-Match: * creates nothing.
        for headers in [&[][..], &[("If-None-Match", "*")][..]] {
            let response = send(&app, method.clone(), path, headers, body.as_ref()).await;
            assert_error(response, StatusCode::NOT_FOUND, "NotFound").await;
        }
    }
    // Reads keep their 404.
    let response = send(&app, Method::GET, "users/ghost", &[("If-Match", "*")], None).await;
    assert_error(response, StatusCode::NOT_FOUND, "NotFound").await;
    assert_eq!(app.get_users("").await["items"], json!([]));
}

#[tokio::test]
async fn if_match_on_a_missing_entity_is_412_on_the_feed_and_in_a_batch() {
    let app = spawn_app().await;
    let role = app.create_role(json!({"roleKey": "admin"})).await;
    let missing = "00000000-0000-4000-8000-000000000001";
    let feed = format!("{}/api/{}/main/odata", app.address, app.tenant);
    let patch = json!({"name": "G"});
    let put = json!({"userKey": "g", "name": "G", "isTechnician": false});
    let link = json!({"@odata.id": format!("Roles({role})")});
    let description = json!({"description": "d"});
    let writes: Vec<(Method, String, Option<&Value>)> = vec![
        (Method::PATCH, format!("Users({missing})"), Some(&patch)),
        (Method::PUT, format!("Users({missing})"), Some(&put)),
        (Method::DELETE, format!("Users({missing})"), None),
        (
            Method::POST,
            format!("Users({missing})/roles/$ref"),
            Some(&link),
        ),
        (
            Method::DELETE,
            format!("Users({missing})/roles({role})/$ref"),
            None,
        ),
        (
            Method::PATCH,
            format!("Roles({missing})"),
            Some(&description),
        ),
        (Method::DELETE, format!("Roles({missing})"), None),
        (Method::DELETE, format!("Groups({missing})"), None),
    ];
    for (method, path, body) in &writes {
        let url = format!("{feed}/{path}");
        let what = format!("{method} {path}");
        for value in ["*", "\"1\""] {
            let mut request = app
                .client
                .request(method.clone(), &url)
                .header("If-Match", value);
            if let Some(body) = body {
                request = request.json(body);
            }
            no_record(request.send().await.expect("request"), &what).await;
        }
        let mut request = app.client.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{what}");
    }

    // Inside a JSON batch: the inner request's own 412 (and 404 without
    // If-Match); in an atomicity group the group fails with it.
    let batch = json!({"requests": [
        {"id": "1", "method": "PATCH", "url": format!("Users({missing})"),
         "headers": {"If-Match": "*"}, "body": patch},
        {"id": "2", "method": "DELETE", "url": format!("Roles({missing})"),
         "headers": {"If-Match": "\"1\""}},
        {"id": "3", "method": "PATCH", "url": format!("Users({missing})"), "body": patch},
        {"id": "4", "method": "POST", "url": "Roles", "atomicityGroup": "g",
         "body": {"roleKey": "viewer"}},
        {"id": "5", "method": "DELETE", "url": format!("Groups({missing})"),
         "atomicityGroup": "g", "headers": {"If-Match": "*"}}
    ]});
    let response = app
        .client
        .post(format!("{feed}/$batch"))
        .header("Content-Type", "application/json")
        .header("OData-Version", "4.01")
        .body(batch.to_string())
        .send()
        .await
        .expect("POST $batch");
    let answer = json_of(response, StatusCode::OK).await;
    let status_of = |id: &str| {
        answer["responses"]
            .as_array()
            .expect("responses")
            .iter()
            .find(|r| r["id"] == id)
            .and_then(|r| r["status"].as_u64())
    };
    assert_eq!(status_of("1"), Some(412), "{answer}");
    assert_eq!(status_of("2"), Some(412), "{answer}");
    assert_eq!(status_of("3"), Some(404), "{answer}");
    assert_eq!(status_of("5"), Some(412), "{answer}");
    let roles = json_of(
        app.get("roles/odata?$filter=roleKey eq 'viewer'").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(roles["items"], json!([]), "the group was rolled back");

    // And in a multipart batch.
    let part = format!(
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
         DELETE Users({missing}) HTTP/1.1\r\nIf-Match: *\r\nAccept: application/json\r\n\r\n"
    );
    let body = format!("--batch_1\r\n{part}\r\n--batch_1--\r\n");
    let response = app
        .client
        .post(format!("{feed}/$batch"))
        .header("Content-Type", "multipart/mixed; boundary=batch_1")
        .body(body)
        .send()
        .await
        .expect("POST $batch");
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("body");
    assert!(text.contains("HTTP/1.1 412"), "{text}");
    assert!(text.contains("PreconditionFailed"), "{text}");
}
