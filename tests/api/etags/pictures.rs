//! The picture download's own ETag: a hash of the stored image, so it
//! changes exactly when the image does (not with the user's other
//! changes), `If-None-Match` → 304 and `If-Match` → 412 against it;
//! `PUT …/picture` takes the user's ETag or the picture's in `If-Match`.
//! A 302 to an external picture and the 404s carry no ETag and evaluate
//! no condition.

use super::*;

/// An image with the PNG signature and `fill` after it (the service
/// sniffs, it does not decode).
fn image(fill: u8) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.resize(64, fill);
    bytes
}

fn data_url(bytes: &[u8]) -> Value {
    json!(format!("data:image/png;base64,{}", base64(bytes)))
}

/// `GET users/{user}/picture` with `headers`.
async fn download(app: &TestApp, user: &str, headers: &[(&str, &str)]) -> Response {
    let path = format!("users/{user}/picture");
    send(app, Method::GET, &path, headers, None).await
}

/// The ETag of the picture download (asserting a 200 with `bytes`).
async fn picture_etag(app: &TestApp, user: &str, bytes: &[u8]) -> String {
    let response = download(app, user, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tag_now = etag(&response);
    assert_eq!(response.headers()["cache-control"], "private, no-cache");
    assert_eq!(response.bytes().await.expect("body").as_ref(), bytes);
    tag_now
}

#[tokio::test]
async fn the_picture_download_has_an_etag_of_its_bytes_and_answers_304() {
    let app = spawn_app().await;
    app.create_user(json!({"userKey": "jane", "name": "Jane", "isTechnician": false}))
        .await;
    let first = image(1);
    assert_eq!(
        app.put_json("users/jane/picture", &data_url(&first))
            .await
            .status(),
        StatusCode::OK
    );
    let held = picture_etag(&app, "jane", &first).await;
    assert!(held.starts_with("\"p-") && held.ends_with('"'), "{held}");
    assert_ne!(held, current(&app, "users/jane").await, "not the user's");

    // The held ETag (also weak, in a list, or `*`): 304, no body, the ETag
    // and the Cache-Control of the 200.
    let list = format!("\"p-0\", {held}");
    let weak = format!("W/{held}");
    for value in [held.as_str(), weak.as_str(), list.as_str(), "*"] {
        let response = download(&app, "jane", &[("If-None-Match", value)]).await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{value}");
        assert_eq!(etag(&response), held);
        assert_eq!(response.headers()["cache-control"], "private, no-cache");
        assert!(response.bytes().await.expect("body").is_empty());
    }
    // The user's ETag is not the picture's.
    let user_tag = current(&app, "users/jane").await;
    let response = download(&app, "jane", &[("If-None-Match", &user_tag)]).await;
    assert_eq!(response.status(), StatusCode::OK);

    // Other changes of the user move its ETag, not the picture's; storing
    // the same bytes again keeps it too.
    app.put_json("users/jane/name", &json!("Jane Doe")).await;
    app.put_json("users/jane/picture", &data_url(&first)).await;
    assert_eq!(
        version_of(&current(&app, "users/jane").await),
        version_of(&user_tag) + 2
    );
    assert_eq!(picture_etag(&app, "jane", &first).await, held);
    let response = download(&app, "jane", &[("If-None-Match", &held)]).await;
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);

    // A new image: a new ETag, and the old one answers the new bytes.
    let second = image(2);
    app.put_json("users/jane/picture", &data_url(&second)).await;
    let response = download(&app, "jane", &[("If-None-Match", &held)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let now = etag(&response);
    assert_ne!(now, held);
    assert_eq!(response.bytes().await.expect("body").as_ref(), second);

    // If-Match on the download: the current one passes, a stale one is 412
    // with the current ETag; a malformed header is 400.
    let response = download(&app, "jane", &[("If-Match", &now)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = download(&app, "jane", &[("If-Match", &held)]).await;
    assert_eq!(etag(&response), now);
    assert_error(
        response,
        StatusCode::PRECONDITION_FAILED,
        "PreconditionFailed",
    )
    .await;
    for (name, value) in [("If-None-Match", "p-1"), ("If-Match", "\"a b\"")] {
        let response = download(&app, "jane", &[(name, value)]).await;
        assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
    }
}

#[tokio::test]
async fn picture_writes_take_the_users_or_the_pictures_etag() {
    let app = spawn_app().await;
    app.create_user(json!({"userKey": "jane", "name": "Jane", "isTechnician": false}))
        .await;
    let (first, second, third) = (image(1), image(2), image(3));
    app.put_json("users/jane/picture", &data_url(&first)).await;
    let first_tag = picture_etag(&app, "jane", &first).await;
    let put = |body: Value, headers: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            send(
                app,
                Method::PUT,
                "users/jane/picture",
                &headers,
                Some(&body),
            )
            .await
        }
    };

    // A picture ETag that is not the current one: 412 with the user's
    // ETag, and the picture stays.
    let user_tag = current(&app, "users/jane").await;
    let response = put(data_url(&second), vec![("If-Match", "\"p-00\"".into())]).await;
    assert_eq!(etag(&response), user_tag);
    assert_error(
        response,
        StatusCode::PRECONDITION_FAILED,
        "PreconditionFailed",
    )
    .await;
    assert_eq!(picture_etag(&app, "jane", &first).await, first_tag);

    // The picture's current ETag lets it through (the answer is the
    // user's new ETag); then it is stale.
    let response = put(data_url(&second), vec![("If-Match", first_tag.clone())]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(version_of(&etag(&response)), version_of(&user_tag) + 1);
    let second_tag = picture_etag(&app, "jane", &second).await;
    let response = put(data_url(&third), vec![("If-Match", first_tag.clone())]).await;
    assert_error(
        response,
        StatusCode::PRECONDITION_FAILED,
        "PreconditionFailed",
    )
    .await;
    // If-None-Match with the picture's ETag matches it too.
    let response = put(
        data_url(&third),
        vec![("If-None-Match", second_tag.clone())],
    )
    .await;
    assert_error(
        response,
        StatusCode::PRECONDITION_FAILED,
        "PreconditionFailed",
    )
    .await;
    assert_eq!(picture_etag(&app, "jane", &second).await, second_tag);
    // The user's ETag still works, as on every write of a user.
    let user_tag = current(&app, "users/jane").await;
    let response = put(data_url(&third), vec![("If-Match", user_tag)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let third_tag = picture_etag(&app, "jane", &third).await;

    // Removed with the picture's ETag; then no picture ETag matches.
    let response = put(json!(null), vec![("If-Match", third_tag.clone())]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = put(data_url(&first), vec![("If-Match", third_tag)]).await;
    assert_error(
        response,
        StatusCode::PRECONDITION_FAILED,
        "PreconditionFailed",
    )
    .await;
    assert_error(
        download(&app, "jane", &[]).await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
}

#[tokio::test]
async fn redirects_and_missing_pictures_have_no_etag_and_evaluate_no_condition() {
    let app = spawn_app().await;
    app.create_user(json!({"userKey": "jane", "name": "Jane", "isTechnician": false}))
        .await;
    app.create_user(json!({"userKey": "joe", "name": "Joe", "isTechnician": false}))
        .await;
    let url = "https://cdn.example.com/jane.png";
    app.put_json("users/jane/picture", &json!(url)).await;
    for headers in [
        &[][..],
        &[("If-None-Match", "*")][..],
        &[("If-Match", "\"p-00\"")][..],
    ] {
        let response = download(&app, "jane", headers).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{headers:?}");
        assert_eq!(response.headers()["location"], url);
        assert!(response.headers().get("etag").is_none(), "{headers:?}");
        // No picture, and no user: 404 whatever the conditions.
        for user in ["joe", "nobody"] {
            let response = download(&app, user, headers).await;
            assert!(response.headers().get("etag").is_none());
            assert_error(response, StatusCode::NOT_FOUND, "NotFound").await;
        }
    }
}
