//! Explain and validate (see [`crate::odata::explain`]):
//!
//! - `GET /api/{t}/{o}/explain/{Users|Roles|Groups}?<options>` (the feed's
//!   sets) and `GET /api/{t}/{o}/explain/identity/{users|roles|groups}?…`
//!   (API 1's lists), scope `identity.admin`: the AST, the SQL and bound
//!   values on every backend, the running database's plan, the cost and
//!   each step's time.
//! - `GET /api/{t}/{o}/validate/…` (same paths), scope `identity.read`:
//!   `{"valid":true,…}` with the AST.
//!
//! A query that fails answers as the read would (400 or 501, the caret in
//! `error.details`), with an `error.innererror` saying where, what was
//! expected there and at which step.

use actix_web::body::MessageBody;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::{Value as Json, json};

use super::dto::{
    AuthErrors, BadRequest, Explained, NotFound, NotImplemented, ODataOptions, TenantPath,
    Validated,
};
use super::openapi::Documented;
use super::{API1_PAGE_SIZE, read_context};
use crate::error::ApiError;
use crate::odata::explain::{self, Failed};
use crate::odata::{EntityKind, ReadContext, query_string};
use crate::state::AppState;
use crate::tenancy::TenantScope;

pub use crate::http::EXPLAIN;
/// The path segment of validate.
pub const VALIDATE: &str = "validate";

/// Which API's reading of the set is explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    /// The v4 feed (`Users`, page size `APP_FEED_PAGE_SIZE`).
    Feed,
    /// API 1's lists (`identity/users`, page size 100).
    Identity,
}

/// A set of the v4 feed.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SetPath {
    /// A set of the v4 feed: `Users`, `Roles` or `Groups`
    #[param(rename = "entitySet", pattern = "^(Users|Roles|Groups)$")]
    pub entity_set: String,
}

/// A list of API 1.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ListPath {
    /// A list of API 1: `users`, `roles` or `groups`
    #[param(pattern = "^(users|roles|groups)$")]
    pub list: String,
}

/// Routes under `/explain`.
pub fn configure_explain(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(
        Documented::new("/identity/{list}").route(web::get().to(explain_list), __path_explain_list),
    )
    .service(Documented::new("/{set}").route(web::get().to(explain_set), __path_explain_set));
}

/// Routes under `/validate`.
pub fn configure_validate(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(
        Documented::new("/identity/{list}")
            .route(web::get().to(validate_list), __path_validate_list),
    )
    .service(Documented::new("/{set}").route(web::get().to(validate_set), __path_validate_set));
}

fn feed_set(name: &str) -> Result<EntityKind, ApiError> {
    match name {
        "Users" => Ok(EntityKind::User),
        "Roles" => Ok(EntityKind::Role),
        "Groups" => Ok(EntityKind::Group),
        other => Err(ApiError::not_found(format!(
            "no entity set '{}' (the feed's sets are Users, Roles and Groups; API 1's lists are identity/users, identity/roles and identity/groups)",
            crate::error::echo(other)
        ))),
    }
}

fn identity_list(name: &str) -> Result<EntityKind, ApiError> {
    match name {
        "users" => Ok(EntityKind::User),
        "roles" => Ok(EntityKind::Role),
        "groups" => Ok(EntityKind::Group),
        other => Err(ApiError::not_found(format!(
            "no list '{}' (API 1's lists are users, roles and groups)",
            crate::error::echo(other)
        ))),
    }
}

fn segment(req: &HttpRequest, name: &str) -> String {
    req.match_info().get(name).unwrap_or_default().to_owned()
}

/// The read context of the API whose read is explained.
fn context(req: &HttpRequest, state: &AppState, api: Api) -> ReadContext {
    let mut ctx = read_context(req, state);
    ctx.page_size = match api {
        Api::Feed => state.settings.feed_page_size,
        Api::Identity => API1_PAGE_SIZE,
    };
    ctx
}

#[utoipa::path(
    get, path = "/{entitySet}", tag = "Diagnostics", operation_id = "explain_feed",
    summary = "Explain a query without reading a row: the AST, the SQL and bound values on SQLite, PostgreSQL and MySQL, the database's plan, the cost and each step's time (µs)",
    description = "A query the read would refuse answers as the read does (400 or 501, the caret in `error.details`) with `error.innererror`: stage (parse, translate, cost), option, offset into query, expected, caret, timings.",
    params(TenantPath, SetPath, ODataOptions),
    responses(
        (status = 200, description = "The query, explained", body = Explained),
        BadRequest, NotFound, NotImplemented, AuthErrors
    ),
    security(("bearerAuth" = []), ("clientCredentials" = ["identity.admin"]))
)]
async fn explain_set(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
) -> Result<HttpResponse, ApiError> {
    let kind = feed_set(&segment(&req, "set"))?;
    explain_response(&req, &state, &scope, kind, Api::Feed).await
}

#[utoipa::path(
    get, path = "/identity/{list}", tag = "Diagnostics", operation_id = "explain_list",
    summary = "Explain a query without reading a row: the AST, the SQL and bound values on SQLite, PostgreSQL and MySQL, the database's plan, the cost and each step's time (µs)",
    description = "A query the read would refuse answers as the read does (400 or 501, the caret in `error.details`) with `error.innererror`: stage (parse, translate, cost), option, offset into query, expected, caret, timings.",
    params(TenantPath, ListPath, ODataOptions),
    responses(
        (status = 200, description = "The query, explained", body = Explained),
        BadRequest, NotFound, NotImplemented, AuthErrors
    ),
    security(("bearerAuth" = []), ("clientCredentials" = ["identity.admin"]))
)]
async fn explain_list(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
) -> Result<HttpResponse, ApiError> {
    let kind = identity_list(&segment(&req, "list"))?;
    explain_response(&req, &state, &scope, kind, Api::Identity).await
}

#[utoipa::path(
    get, path = "/{entitySet}", tag = "Diagnostics", operation_id = "validate_feed",
    summary = "Check a query as the read would (parse, translate, cost budget) without reading a row",
    description = "A query the read would refuse answers as the read does (400 or 501, the caret in `error.details`) with `error.innererror`: stage (parse, translate, cost), option, offset into query, expected, caret, timings.",
    params(TenantPath, SetPath, ODataOptions),
    responses(
        (status = 200, description = "The query, explained", body = Validated),
        BadRequest, NotFound, NotImplemented, AuthErrors
    ),
    security(("bearerAuth" = []), ("clientCredentials" = ["identity.read"]))
)]
async fn validate_set(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
) -> Result<HttpResponse, ApiError> {
    let kind = feed_set(&segment(&req, "set"))?;
    validate_response(&req, &state, &scope, kind, Api::Feed)
}

#[utoipa::path(
    get, path = "/identity/{list}", tag = "Diagnostics", operation_id = "validate_list",
    summary = "Check a query as the read would (parse, translate, cost budget) without reading a row",
    description = "A query the read would refuse answers as the read does (400 or 501, the caret in `error.details`) with `error.innererror`: stage (parse, translate, cost), option, offset into query, expected, caret, timings.",
    params(TenantPath, ListPath, ODataOptions),
    responses(
        (status = 200, description = "The query, explained", body = Validated),
        BadRequest, NotFound, NotImplemented, AuthErrors
    ),
    security(("bearerAuth" = []), ("clientCredentials" = ["identity.read"]))
)]
async fn validate_list(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
) -> Result<HttpResponse, ApiError> {
    let kind = identity_list(&segment(&req, "list"))?;
    validate_response(&req, &state, &scope, kind, Api::Identity)
}

fn set_json(kind: EntityKind, api: Api) -> Json {
    match api {
        Api::Feed => json!({"entitySet": kind.entity_set(), "api": "feed"}),
        Api::Identity => {
            let list = match kind {
                EntityKind::User => "users",
                EntityKind::Role => "roles",
                EntityKind::Group => "groups",
            };
            json!({"entitySet": kind.entity_set(), "api": "identity", "list": list})
        }
    }
}

/// The error the read would answer, with `error.innererror` added.
fn failed_response(failed: Box<Failed>, raw: &str) -> HttpResponse {
    let text = query_string::parsed_text(raw);
    let message = failed.error.to_string();
    let inner = explain::inner_error(&failed, &text, &message);
    let error = failed.error.teach(raw);
    let status = error.status_code();
    let bytes = error
        .error_response()
        .into_body()
        .try_into_bytes()
        .unwrap_or_default();
    let mut body: Json = serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({"error": {}}));
    if let Some(error) = body.get_mut("error").and_then(Json::as_object_mut) {
        error.insert("innererror".to_owned(), inner);
    }
    HttpResponse::build(status).json(body)
}

fn validate_response(
    req: &HttpRequest,
    state: &AppState,
    scope: &TenantScope,
    kind: EntityKind,
    api: Api,
) -> Result<HttpResponse, ApiError> {
    let raw = req.query_string();
    let ctx = context(req, state, api);
    let backend = explain::reader_backend(state.list_reader());
    match explain::validate(raw, kind, scope, backend, &ctx) {
        Ok(options) => {
            let mut body = set_json(kind, api);
            body["valid"] = json!(true);
            body["query"] = json!(query_string::parsed_text(raw));
            body["canonical"] = json!(options.to_string());
            body["ast"] = serde_json::to_value(&options).map_err(ApiError::internal)?;
            Ok(HttpResponse::Ok().json(body))
        }
        Err(failed) => Ok(failed_response(failed, raw)),
    }
}

async fn explain_response(
    req: &HttpRequest,
    state: &AppState,
    scope: &TenantScope,
    kind: EntityKind,
    api: Api,
) -> Result<HttpResponse, ApiError> {
    let raw = req.query_string();
    let ctx = context(req, state, api);
    let reader = state.list_reader();
    let backend = explain::reader_backend(reader);
    let mut explained = match explain::explain(raw, kind, scope, backend, &ctx) {
        Ok(explained) => explained,
        Err(failed) => return Ok(failed_response(failed, raw)),
    };
    let mut sql = serde_json::Map::new();
    let mut plans = Vec::new();
    let mut plan_us = 0u64;
    for (b, built) in &explained.statements {
        sql.insert(
            explain::backend_name(*b).to_owned(),
            built
                .iter()
                .map(|s| explain::statement_json(*b, s))
                .collect(),
        );
        if *b == backend {
            for s in built {
                let start = std::time::Instant::now();
                let lines = explain::database_plan(reader, &s.statement)
                    .await
                    .map_err(|e| e.teach(raw))?;
                plan_us = plan_us
                    .saturating_add(u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX));
                plans.push(json!({"statement": s.role, "lines": lines}));
            }
        }
    }
    explained.timings.plan_us = Some(plan_us);
    let mut body = set_json(kind, api);
    body["valid"] = json!(true);
    body["query"] = json!(query_string::parsed_text(raw));
    body["canonical"] = json!(explained.options.to_string());
    body["ast"] = serde_json::to_value(&explained.options).map_err(ApiError::internal)?;
    body["backend"] = json!(explain::backend_name(backend));
    body["sql"] = Json::Object(sql);
    body["plan"] = json!(plans);
    body["cost"] = explain::cost_json(&explained.cost, explained.budget);
    body["timings"] = explained.timings.to_json();
    Ok(HttpResponse::Ok().json(body))
}

#[cfg(test)]
mod tests {
    #[test]
    fn explain_and_validate_are_in_the_openapi_document() {
        let doc = crate::routes::openapi::document_for("http://x");
        for (path, scope) in [
            (
                "/api/{tenantKey}/{orgKey}/explain/{entitySet}",
                "identity.admin",
            ),
            (
                "/api/{tenantKey}/{orgKey}/explain/identity/{list}",
                "identity.admin",
            ),
            (
                "/api/{tenantKey}/{orgKey}/validate/{entitySet}",
                "identity.read",
            ),
            (
                "/api/{tenantKey}/{orgKey}/validate/identity/{list}",
                "identity.read",
            ),
        ] {
            let op = &doc["paths"][path]["get"];
            assert_eq!(op["security"][1]["clientCredentials"][0], scope, "{path}");
            assert!(op["responses"]["403"].is_object(), "{path}");
        }
    }
}
