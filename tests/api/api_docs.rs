//! The API docs (issue 13, milestone 5): `/openapi.json` generated from the
//! handlers (utoipa), `/docs/` Swagger UI from the binary, the document's
//! examples as requests, real answers read into the documented types, and
//! the document valid per `openapi-spec-validator` (pinned, installed with
//! Schemathesis by `scripts/api-fuzz.sh install`; skipped loudly when
//! absent unless `ODATA_TEST_API_FUZZ=1`).

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use common::{json_of, spawn_app};
use identity_service::routes::dto;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn docs_page_is_swagger_ui_served_from_the_binary() {
    let app = spawn_app().await;
    // `/docs` (the landing page's link) leads to `/docs/`.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let moved = plain.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(moved.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(moved.headers()["location"], "/docs/");

    let page = app.anonymous.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // Every script and stylesheet of the page is relative: from this server.
    for attr in ["src=\"", "href=\""] {
        for (i, _) in html.match_indices(attr) {
            let value = &html[i + attr.len()..];
            assert!(
                !value.contains("//") || value.find("//") > value.find('"'),
                "{attr}{value:.40}"
            );
        }
    }
    for (file, content_type, needle) in [
        ("swagger-ui.css", "text/css", ".swagger-ui"),
        ("swagger-ui-bundle.js", "javascript", "SwaggerUIBundle"),
        (
            "swagger-ui-standalone-preset.js",
            "javascript",
            "SwaggerUIStandalonePreset",
        ),
        ("swagger-initializer.js", "javascript", "\"/openapi.json\""),
    ] {
        let response = app
            .anonymous
            .get(app.url(&format!("/docs/{file}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{file}");
        let ty = response.headers()["content-type"].to_str().unwrap();
        assert!(ty.contains(content_type), "{file}: {ty}");
        let text = response.text().await.unwrap();
        assert!(text.contains(needle), "{file} has no {needle}");
    }
    let init = app
        .anonymous
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("\"tryItOutEnabled\": true"), "{init}");
    assert!(init.contains("\"validatorUrl\": \"none\""), "{init}");
    // HEAD answers as GET does, without the body; other methods 405.
    for path in ["/docs/", "/docs/swagger-ui.css", "/openapi.json"] {
        let head = app.anonymous.head(app.url(path)).send().await.unwrap();
        assert_eq!(head.status(), StatusCode::OK, "HEAD {path}");
        assert!(head.headers().contains_key("content-type"), "HEAD {path}");
        assert!(head.text().await.unwrap().is_empty(), "HEAD {path}");
    }
    let head = plain.head(app.url("/docs")).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::MOVED_PERMANENTLY);
    let post = app.anonymous.post(app.url("/docs/")).send().await.unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    let missing = app
        .anonymous
        .get(app.url("/docs/nothing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "NotFound");
}

#[tokio::test]
async fn the_documents_examples_are_requests_that_work() {
    let app = spawn_app().await;
    let doc = json_of(
        app.anonymous
            .get(app.url("/openapi.json"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], app.address);
    let example = |schema: &str| -> Value {
        let value = doc["components"]["schemas"][schema]["example"].clone();
        assert!(value.is_object(), "no example for {schema}");
        value
    };
    // Each create operation's body example, as the document's path says.
    let base = format!("/api/{}/main/identity", app.tenant);
    for (path, schema) in [
        ("/users", "ApiUserResource"),
        ("/roles", "NewRole"),
        ("/groups", "NewGroup"),
    ] {
        let op = &doc["paths"][format!("/api/{{tenantKey}}/{{orgKey}}/identity{path}")]["post"];
        assert_eq!(
            op["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            format!("#/components/schemas/{schema}")
        );
        let response = app
            .post_json(&app.url(&format!("{base}{path}")), &example(schema))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{path}");
    }
    let invited = app
        .post_json(
            &app.url(&format!("{base}/users/sendInvitation")),
            &example("InvitedUser"),
        )
        .await;
    assert_eq!(invited.status(), StatusCode::OK);

    // Real answers read into the documented types (unknown fields refused).
    let user: dto::User = serde_json::from_value(app.get_user("ana.lima").await).unwrap();
    assert_eq!(user.name.as_deref(), Some("Ana Lima"));
    let users: dto::Page<dto::User> = serde_json::from_value(
        json_of(app.get("users/odata?$count=true").await, StatusCode::OK).await,
    )
    .unwrap();
    assert_eq!(users.count, Some(2));
    let roles: dto::Page<dto::Role> =
        serde_json::from_value(json_of(app.get("roles/odata").await, StatusCode::OK).await)
            .unwrap();
    assert_eq!(roles.items[0].role_key.as_deref(), Some("auditor"));
    let groups: dto::Page<dto::Group> =
        serde_json::from_value(json_of(app.get("groups/odata").await, StatusCode::OK).await)
            .unwrap();
    assert_eq!(groups.items[0].group_key.as_deref(), Some("field-team"));
    let error: dto::ErrorBody =
        serde_json::from_value(json_of(app.get("users/nobody").await, StatusCode::NOT_FOUND).await)
            .unwrap();
    assert_eq!(error.error.code, "NotFound");
    let bad: dto::ErrorBody = serde_json::from_value(
        json_of(
            app.get("users/odata?$filter=name eq").await,
            StatusCode::BAD_REQUEST,
        )
        .await,
    )
    .unwrap();
    assert!(bad.error.details.is_some(), "{bad:?}");
}

#[tokio::test]
async fn every_api1_route_is_documented_with_its_security() {
    let app = spawn_app().await;
    let doc = json_of(app.get("/openapi.json").await, StatusCode::OK).await;
    let paths = doc["paths"].as_object().unwrap();
    // The routes `canonical_path` knows, with the settable attributes of
    // each set: every one has its documented operation.
    let base = "/api/{tenantKey}/{orgKey}/identity";
    let mut expected: Vec<(String, &str)> = vec![
        (format!("{base}/users/odata"), "get"),
        (format!("{base}/users"), "post"),
        (format!("{base}/users/{{id}}"), "get"),
        (format!("{base}/users/{{id}}"), "delete"),
        (format!("{base}/users/{{id}}/picture"), "get"),
        (format!("{base}/users/sendInvitation"), "post"),
        (format!("{base}/invitations/{{token}}/accept"), "post"),
    ];
    for attr in identity_service::routes::users::SETTABLE {
        expected.push((format!("{base}/users/{{userKey}}/{attr}"), "put"));
    }
    for collection in ["roles", "groups"] {
        for op in ["add", "addById", "remove", "removeById"] {
            expected.push((
                format!("{base}/users/{{userKey}}/{collection}/{op}"),
                "post",
            ));
        }
    }
    for (set, settable) in [
        ("roles", identity_service::routes::roles::SETTABLE),
        ("groups", identity_service::routes::groups::SETTABLE),
    ] {
        expected.push((format!("{base}/{set}/odata"), "get"));
        expected.push((format!("{base}/{set}"), "post"));
        expected.push((format!("{base}/{set}/{{id}}"), "get"));
        expected.push((format!("{base}/{set}/{{id}}"), "delete"));
        for attr in settable {
            expected.push((format!("{base}/{set}/{{id}}/{attr}"), "put"));
        }
    }
    for segment in ["explain", "validate"] {
        expected.push((
            format!("/api/{{tenantKey}}/{{orgKey}}/{segment}/{{entitySet}}"),
            "get",
        ));
        expected.push((
            format!("/api/{{tenantKey}}/{{orgKey}}/{segment}/identity/{{list}}"),
            "get",
        ));
    }
    let mut missing = Vec::new();
    for (path, method) in &expected {
        match paths.get(path).and_then(|p| p.get(*method)) {
            None => missing.push(format!("{method} {path}")),
            Some(op) => {
                // Every operation names its answers; all but accepting an
                // invitation need the token.
                assert!(
                    op["responses"]["200"].is_object()
                        || op["responses"]["201"].is_object()
                        || op["responses"]["204"].is_object(),
                    "{method} {path}"
                );
                let public = path.ends_with("/accept");
                assert_eq!(
                    op["responses"]["401"].is_object(),
                    !public,
                    "{method} {path}"
                );
            }
        }
    }
    assert!(missing.is_empty(), "not documented: {missing:#?}");
    // And nothing else under /api: the document is the route table.
    let documented: usize = paths
        .iter()
        .filter(|(p, _)| p.starts_with("/api/"))
        .map(|(_, item)| item.as_object().unwrap().len())
        .sum();
    assert_eq!(documented, expected.len());
}

fn validator() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::var_os("API_FUZZ_DIR")
        .map(PathBuf::from)
        .map(|d| if d.is_absolute() { d } else { root.join(d) })
        .unwrap_or_else(|| root.join("target/api-fuzz"));
    let path = dir.join("venv/bin/openapi-spec-validator");
    path.exists().then_some(path)
}

#[tokio::test]
async fn the_document_is_valid_openapi() {
    if common::test_backend() != common::TestBackend::Sqlite {
        eprintln!("the document does not depend on the backend: default (SQLite) pass only");
        return;
    }
    let Some(validator) = validator() else {
        let required = std::env::var("ODATA_TEST_API_FUZZ").as_deref() == Ok("1");
        assert!(
            !required,
            "ODATA_TEST_API_FUZZ=1 but openapi-spec-validator is not installed: scripts/api-fuzz.sh install"
        );
        eprintln!(
            "\n!!! SKIPPED OpenAPI validation: run scripts/api-fuzz.sh install (openapi-spec-validator)\n"
        );
        return;
    };
    let app = spawn_app().await;
    let text = app
        .anonymous
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let file = app.dir.join("openapi.json");
    std::fs::write(&file, &text).unwrap();
    let output = Command::new(&validator).arg(&file).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "openapi-spec-validator: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("OK"), "{stdout}");
    // The validator does find errors: the same document without `info`.
    let mut broken: Value = serde_json::from_str(&text).unwrap();
    broken.as_object_mut().unwrap().remove("info");
    std::fs::write(&file, broken.to_string()).unwrap();
    let output = Command::new(&validator).arg(&file).output().unwrap();
    assert!(!output.status.success(), "a document without info passed");
}
