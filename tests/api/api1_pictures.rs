//! User pictures: data URLs and base64, type sniffing, limits, download,
//! external links, removal.

use crate::common;

use common::{assert_error, base64, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::json;

/// A tiny PNG-signature image (the service sniffs, it does not decode).
fn png(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.resize(len.max(bytes.len()), 7);
    bytes
}

const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0];

#[tokio::test]
async fn data_url_roundtrip_with_file_name() {
    let app = spawn_app().await;
    let id = app
        .create_user(json!({"userKey":"jane","name":"Jane","isTechnician":false}))
        .await;
    let image = png(300);
    // The declared type is ignored: the bytes are PNG.
    let body = json!(format!("data:image/jpeg;base64,{}", base64(&image)));
    let response = app.put_json("users/jane/PICTURE", &body).await;
    assert_eq!(response.status(), StatusCode::OK);

    let user = app.get_user("jane").await;
    let url = user["picture"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("{}/users/{id}/picture", app.base));

    // The same link on the user expanded under a role.
    app.create_role(json!({"roleKey":"admin","description":"Admin"}))
        .await;
    let response = app
        .post_json("users/jane/roles/add", &json!(["admin"]))
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    let roles = common::json_of(
        app.get("roles/odata?$expand=users($select=picture)").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        roles["items"][0]["users"][0]["picture"],
        url.as_str(),
        "{roles}"
    );

    let response = app.get(&format!("{url}?fileName=avatar.png")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.contains("avatar.png"), "{disposition}");
    assert_eq!(response.bytes().await.unwrap().as_ref(), image.as_slice());

    // A non-ASCII name travels as filename* with an ASCII fallback.
    let response = app
        .get(&format!("{url}?fileName=fotograf%C3%ADa.png"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.contains("filename=\"fotograf_a.png\""),
        "{disposition}"
    );
    assert!(
        disposition.contains("filename*=UTF-8''fotograf%C3%ADa.png"),
        "{disposition}"
    );
}

#[tokio::test]
async fn bare_base64_and_picture_on_create() {
    let app = spawn_app().await;
    let id = app
        .create_user(json!({"userKey":"jane","name":"Jane","isTechnician":false,
            "picture": base64(JPEG)}))
        .await;
    let response = app.get(&format!("users/{id}/picture")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(response.bytes().await.unwrap().as_ref(), JPEG);
    // By key works as well.
    assert_eq!(app.get("users/JANE/picture").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn too_large_not_an_image_and_malformed() {
    let app = spawn_app_with(|s| s.max_picture_bytes = 1000).await;
    app.create_user(json!({"userKey":"jane","name":"Jane","isTechnician":false}))
        .await;
    let response = app
        .put_json("users/jane/picture", &json!(base64(&png(1001))))
        .await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge").await;
    let response = app
        .put_json("users/jane/picture", &json!(base64(&png(1000))))
        .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "exactly the limit is fine"
    );

    let response = app
        .put_json(
            "users/jane/picture",
            &json!(base64(b"%PDF-1.7 not an image")),
        )
        .await;
    assert_error(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UnsupportedMediaType",
    )
    .await;
    let response = app
        .put_json("users/jane/picture", &json!("***not base64***"))
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
    let response = app.put_json("users/jane/picture", &json!(42)).await;
    assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
    // A body far beyond the limit is refused before it is parsed.
    let huge = format!("\"{}\"", "A".repeat(2_000_000));
    let response = app
        .send_raw(
            reqwest::Method::PUT,
            "users/jane/picture",
            &huge,
            Some("application/json"),
        )
        .await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge").await;
    // The picture stored before is still there.
    assert_eq!(app.get("users/jane/picture").await.status(), StatusCode::OK);

    let response = app
        .post_json(
            "users",
            &json!({"userKey":"john","name":"John","isTechnician":false,"picture":base64(b"hello")}),
        )
        .await;
    assert_error(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UnsupportedMediaType",
    )
    .await;
    assert_error(
        app.get("users/john").await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
}

#[tokio::test]
async fn default_limit_accepts_a_full_size_picture() {
    let app = spawn_app().await;
    app.create_user(json!({"userKey":"jane","name":"Jane","isTechnician":false}))
        .await;
    let image = png(1024 * 1024);
    let body = json!(format!("data:image/png;base64,{}", base64(&image)));
    assert_eq!(
        app.put_json("users/jane/picture", &body).await.status(),
        StatusCode::OK
    );
    let response = app.get("users/jane/picture").await;
    assert_eq!(response.bytes().await.unwrap().len(), image.len());
}

#[tokio::test]
async fn null_removes_and_missing_picture_is_404() {
    let app = spawn_app().await;
    app.create_user(json!({"userKey":"jane","name":"Jane","isTechnician":false}))
        .await;
    assert_error(
        app.get("users/jane/picture").await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
    app.put_json("users/jane/picture", &json!(base64(JPEG)))
        .await;
    assert_eq!(
        app.put_json("users/jane/picture", &json!(null))
            .await
            .status(),
        StatusCode::OK
    );
    assert!(app.get_user("jane").await["picture"].is_null());
    assert_error(
        app.get("users/jane/picture").await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
    assert_error(
        app.get("users/ghost/picture").await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
}

#[tokio::test]
async fn external_picture_redirects() {
    let app = spawn_app().await;
    app.create_user(json!({"userKey":"jane","name":"Jane","isTechnician":false}))
        .await;
    let url = "https://cdn.example.com/jane.png";
    assert_eq!(
        app.put_json("users/jane/picture", &json!(url))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(app.get_user("jane").await["picture"], url);
    let response = app.get("users/jane/picture").await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["location"], url);
}

#[tokio::test]
async fn deleting_the_user_deletes_the_picture() {
    let app = spawn_app().await;
    let id = app
        .create_user(
            json!({"userKey":"jane","name":"Jane","isTechnician":false,"picture":base64(JPEG)}),
        )
        .await;
    assert_eq!(
        app.delete("users/jane").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        app.get(&format!("users/{id}/picture")).await,
        StatusCode::NOT_FOUND,
        "NotFound",
    )
    .await;
}
