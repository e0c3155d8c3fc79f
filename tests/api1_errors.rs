//! Error bodies, health and readiness, unknown routes and tenants, body
//! and content-type failures.

mod common;

use common::{assert_error, json_of, spawn_app};
use reqwest::StatusCode;

#[tokio::test]
async fn health_and_ready_answer() {
    let app = spawn_app().await;
    let health = json_of(app.get("/health").await, StatusCode::OK).await;
    assert_eq!(health["status"], "ok");
    let ready = json_of(app.get("/READY").await, StatusCode::OK).await;
    assert_eq!(ready["database"], "ok");
}

#[tokio::test]
async fn unknown_route_is_404_in_the_error_body() {
    let app = spawn_app().await;
    let response = app.get("/nothing/here").await;
    let request_id = response.headers().get("x-request-id").cloned();
    assert!(request_id.is_some(), "responses carry a request id");
    assert_error(response, StatusCode::NOT_FOUND, "NotFound").await;
}
