//! The edges of issue 10: no tenant enumeration without credentials, the
//! token endpoint's errors all in RFC 6749's body, echoed values cut to 64
//! characters, safe download names, external picture URLs that cannot
//! point inside, and the signing key from a file.

use crate::common;

use common::{TestApp, assert_error, base64, json_of, spawn_app, temp_dir, test_settings};
use identity_service::startup::Application;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn body_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, body)
}

#[tokio::test]
async fn accepting_answers_one_404_for_an_unknown_tenant_and_an_unknown_token() {
    let app = spawn_app().await;
    let token = "A".repeat(43);
    let accept = |tenant: &str| {
        format!(
            "{}/api/{tenant}/main/identity/invitations/{token}/accept",
            app.address
        )
    };
    let real = app
        .anonymous
        .post(accept(&app.tenant))
        .send()
        .await
        .expect("POST");
    let unknown = app
        .anonymous
        .post(accept("nosuchtenant"))
        .send()
        .await
        .expect("POST");
    let (real_status, real_body) = body_of(real).await;
    let (unknown_status, unknown_body) = body_of(unknown).await;
    assert_eq!(real_status, StatusCode::NOT_FOUND);
    assert_eq!((unknown_status, &unknown_body), (real_status, &real_body));
    assert_eq!(real_body["error"]["code"], "NotFound");
}

#[tokio::test]
async fn token_endpoint_errors_are_rfc6749_bodies_413_and_405_included() {
    let app = spawn_app().await;
    let url = format!("{}/connect/token", app.address);
    let big = format!("grant_type=client_credentials&pad={}", "x".repeat(5000));
    let response = app
        .anonymous
        .post(&url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .expect("POST");
    let (status, body) = body_of(response).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["error"], "invalid_request", "{body}");
    assert!(body["error_description"].is_string(), "{body}");

    let response = app.anonymous.get(&url).send().await.expect("GET");
    let (status, body) = body_of(response).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["error"], "invalid_request", "{body}");

    let response = app
        .anonymous
        .post(&url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type")
        .send()
        .await
        .expect("POST");
    let (status, body) = body_of(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request", "{body}");
}

/// Every string of an error body, at most `limit` characters each.
fn assert_short_strings(value: &Value, limit: usize) {
    match value {
        Value::String(s) => assert!(s.chars().count() <= limit, "{} chars", s.len()),
        Value::Array(items) => items.iter().for_each(|v| assert_short_strings(v, limit)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            assert!(k.len() <= limit);
            assert_short_strings(v, limit);
        }),
        _ => {}
    }
}

#[tokio::test]
async fn echoed_values_are_cut_to_64_characters() {
    let app = spawn_app().await;
    let huge = "x".repeat(200_000);
    for body in [
        json!({"userKey": "a", "name": "A", "isTechnician": false, "email": huge}),
        json!({"userKey": "a", "name": "A", "isTechnician": false, "culture": huge}),
        json!({"userKey": "a", "name": "A", "isTechnician": false, "roles": [huge]}),
        json!({"userKey": "a", "name": "A", "isTechnician": false, huge.clone(): 1}),
    ] {
        let response = app.post_json("users", &body).await;
        let error = assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
        let text = error.to_string();
        assert!(
            text.len() < 2000,
            "{} bytes echoed: {}",
            text.len(),
            text.chars().take(300).collect::<String>()
        );
        assert!(text.contains("xxx"), "{text}");
        assert!(text.contains('…'), "the cut is marked: {text}");
        assert_short_strings(&error, 300);
    }
    let response = app.get(&format!("users/{}", "k".repeat(5000))).await;
    let error = assert_error(response, StatusCode::NOT_FOUND, "NotFound").await;
    assert!(error.to_string().len() < 500, "{error}");
}

fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.resize(64, 7);
    bytes
}

async fn user_with_picture(app: &TestApp) -> String {
    app.create_user(json!({"userKey": "jane", "name": "Jane", "isTechnician": false}))
        .await;
    let response = app
        .put_json("users/jane/picture", &json!(base64(&png())))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    app.get_user("jane").await["picture"]
        .as_str()
        .expect("picture URL")
        .to_owned()
}

#[tokio::test]
async fn download_names_lose_bidi_controls_and_take_the_sniffed_extension() {
    let app = spawn_app().await;
    let url = user_with_picture(&app).await;
    for (requested, expected) in [
        ("x.exe", "filename=\"x.png\""),
        ("photo", "filename=\"photo.png\""),
        ("a%E2%80%AEgnp.exe", "filename=\"agnp.png\""),
        ("%E2%81%A6b%E2%80%8F.js%E2%81%A9", "filename=\"b.png\""),
        ("c.PNG", "filename=\"c.png\""),
    ] {
        let response = app.get(&format!("{url}?fileName={requested}")).await;
        assert_eq!(response.status(), StatusCode::OK);
        let disposition = response.headers()["content-disposition"]
            .to_str()
            .expect("ASCII")
            .to_owned();
        assert!(disposition.contains(expected), "{requested}: {disposition}");
        assert!(!disposition.contains("%E2%80"), "{disposition}");
        assert!(!disposition.contains("%E2%81"), "{disposition}");
    }
    let response = app.get(&url).await;
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .expect("ASCII");
    assert!(disposition.ends_with(".png\""), "{disposition}");
}

#[tokio::test]
async fn external_picture_urls_cannot_point_inside() {
    let app = spawn_app().await;
    app.create_user(json!({"userKey": "jane", "name": "Jane", "isTechnician": false}))
        .await;
    for bad in [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:8080/a.png",
        "http://2130706433/a.png",
        "http://10.0.0.7/a.png",
        "http://192.168.0.1/a.png",
        "http://[::1]/a.png",
        "http://[fe80::1]/a.png",
        "http://[fd12::1]/a.png",
        "http://[::ffff:127.0.0.1]/a.png",
        "https://user:secret@cdn.example.com/a.png",
        "http://localhost/a.png",
    ] {
        let response = app.put_json("users/jane/picture", &json!(bad)).await;
        let error = assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
        assert_eq!(error["error"]["target"], "picture", "{bad}: {error}");
        let response = app
            .post_json(
                "users",
                &json!({"userKey": "bob", "name": "Bob", "isTechnician": false, "picture": bad}),
            )
            .await;
        assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
    }
    let fine = "https://cdn.example.com/jane.png";
    let response = app.put_json("users/jane/picture", &json!(fine)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let created = app
        .post_json(
            "users",
            &json!({"userKey": "bob", "name": "Bob", "isTechnician": false, "picture": fine}),
        )
        .await;
    json_of(created, StatusCode::CREATED).await;
}

#[tokio::test]
async fn the_signing_key_can_come_from_a_file() {
    // Builds its own applications on SQLite files: one pass is enough.
    if common::test_backend() != common::TestBackend::Sqlite {
        return;
    }
    let dir = temp_dir();
    let key = [7u8; 32];
    let file = dir.join("signing.key");
    std::fs::write(&file, format!("{}\n", base64(&key))).expect("write key");
    let mut settings = test_settings(&dir);
    settings.signing_key_file = Some(file.clone());
    let app = Application::build(settings.clone()).await.expect("build");
    assert_eq!(app.state().signing_key.as_slice(), key.as_slice());
    drop(app);

    settings.signing_key_file = Some(dir.join("missing.key"));
    let err = Application::build(settings.clone())
        .await
        .err()
        .expect("error");
    assert!(format!("{err:#}").contains("missing.key"), "{err:#}");

    std::fs::write(&file, "not base64 !!").expect("write");
    settings.signing_key_file = Some(file.clone());
    let err = Application::build(settings.clone())
        .await
        .err()
        .expect("error");
    assert!(
        format!("{err:#}").contains("APP_SIGNING_KEY_FILE"),
        "{err:#}"
    );

    std::fs::write(&file, base64(b"short")).expect("write");
    assert!(
        Application::build(settings).await.is_err(),
        "too short a key"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
