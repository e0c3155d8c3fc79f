//! HTTP helpers shared by the guard, API 1 (`routes/`) and the v4 feed
//! (`feed/`): where links start, the read context of a request, resources
//! with the error body's 405, and the few path facts the guard needs
//! before routing. Above [`crate::state`] (they read the `AppState`),
//! below the guard and the routes.

use std::sync::Arc;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, Resource, web};

use crate::configuration::API1_PAGE_SIZE;
use crate::error::ApiError;
use crate::odata::{ReadContext, ReadStats, Shape};
use crate::state::AppState;

/// The path segment of explain (after `/api/{t}/{o}/`).
pub const EXPLAIN: &str = "explain";

/// The base of absolute links in responses: `APP_PUBLIC_URL` when set,
/// else the request's `Host` (forwarded headers only from
/// `APP_TRUSTED_PROXIES`); see [`crate::links`]. No trailing slash.
pub fn base_url(req: &HttpRequest, state: &AppState) -> String {
    crate::links::request_base(
        req,
        state.settings.public_url.as_deref(),
        &state.settings.trusted_proxies,
    )
}

/// The author of a write request: the client the guard authenticated
/// (its [`crate::auth::Principal`] in the request extensions). 500 on a
/// route without the guard, which is a bug of the routing, not of the
/// request.
pub fn actor(req: &HttpRequest) -> Result<crate::domain::Actor, ApiError> {
    req.extensions()
        .get::<Arc<crate::auth::Principal>>()
        .map(|principal| principal.actor())
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no principal on a guarded route")))
}

/// The read context of API 1 for this request.
pub fn read_context(req: &HttpRequest, state: &AppState) -> ReadContext {
    ReadContext {
        base_url: base_url(req, state),
        path: req.path().to_owned(),
        signing_key: state.signing_key.clone(),
        page_size: API1_PAGE_SIZE,
        shape: Shape::Api1,
        stats: req.extensions().get::<Arc<ReadStats>>().cloned(),
        cost_budget: odata_sql::CostBudget(state.settings.query_cost_budget),
        limits: state.read_limits.clone(),
        expand_max_depth: state.settings.expand_max_depth,
    }
}

/// A resource whose unsupported methods answer 405 in the error body.
pub fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed {
        method: req.method().to_string(),
    })
}

/// Adds `OData-Version: 4.0` to a response of the scope that does not have
/// one (a JSON `$batch` answers 4.01); the feed's guard calls it on every
/// answer, so there is exactly one.
pub fn mark_odata_version(headers: &mut HeaderMap) {
    const NAME: HeaderName = HeaderName::from_static("odata-version");
    if !headers.contains_key(NAME) {
        headers.insert(NAME, HeaderValue::from_static("4.0"));
    }
}

/// Whether `path` (canonical) is a feed's `$batch`.
pub fn is_batch_path(path: &str) -> bool {
    // Every feed request asks this (the guard does): most paths end in
    // something else, and splitting the path costs 2k instructions.
    let trimmed = path.trim_end_matches('/');
    if !trimmed.ends_with("batch") {
        return false;
    }
    let (prefix, tail) = split_path(path);
    prefix.split('/').nth(4) == Some("odata")
        && matches!(tail.trim_end_matches('/'), "$batch" | "%24batch")
}

/// `/api/t/o/odata/Users(…)/roles` -> (`/api/t/o/odata`, `Users(…)/roles`),
/// both still percent-encoded as they arrived.
pub(crate) fn split_path(path: &str) -> (&str, &str) {
    let mut slashes = path.match_indices('/').map(|(i, _)| i);
    match slashes.nth(4) {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (path, ""),
    }
}
