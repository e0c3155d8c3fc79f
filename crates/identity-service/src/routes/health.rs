//! `/health` (the process answers) and `/ready` (the database answers).

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::error::ApiError;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // HEAD too: load balancers and uptime checks often probe with it.
    cfg.service(
        super::resource("/health")
            .route(web::get().to(health))
            .route(web::head().to(health)),
    )
    .service(
        super::resource("/ready")
            .route(web::get().to(ready))
            .route(web::head().to(ready)),
    );
}

/// Always 200 while the process serves requests.
#[utoipa::path(
    get, path = "/health", tag = "Operations", operation_id = "health",
    summary = "The process answers",
    responses((status = 200, description = "OK", body = Object, example = json!({"status": "ok"}))),
    security(())
)]
pub(crate) async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// 200 when the database answers a ping, else 503 with `Retry-After`.
/// The ping goes through a connection of its own (`AppState::health_db`),
/// not behind tenant queries.
#[utoipa::path(
    get, path = "/ready", tag = "Operations", operation_id = "ready",
    summary = "The database answers",
    responses(
        (status = 200, description = "Ready", body = Object, example = json!({"status": "ready", "database": "ok"})),
        crate::routes::dto::Unavailable
    ),
    security(())
)]
pub(crate) async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let db = state.health_db.as_ref().unwrap_or(&state.db);
    match db.ping().await {
        Ok(()) => Ok(HttpResponse::Ok().json(json!({"status": "ready", "database": "ok"}))),
        Err(err) => Err(ApiError::Unavailable(err.into())),
    }
}
