//! HTTP routes, one file per resource, each with `configure(cfg)`.
//!
//! Case-insensitive literal segments: [`canonical_path`] runs in a
//! middleware before routing and rewrites every literal segment it
//! recognises (`API`, `Identity`, `USERS`, `addbyid`, `Picture`, ...) to
//! its canonical spelling, so the route table itself stays plain. Keys and
//! ids in the path are never rewritten (keys are looked up
//! case-insensitively by storage instead; reserved words cannot be keys).

pub mod body;
pub mod catalog;
pub mod dto;
pub mod explain;
pub mod extract;
pub mod groups;
pub mod health;
pub mod invitation_page;
pub mod invitations;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod roles;
pub mod token;
pub mod users;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};

use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::ApiError;
use crate::odata::{self, ReadRequest};
use crate::state::AppState;
use crate::tenancy::TenantScope;

pub use crate::configuration::API1_PAGE_SIZE;
pub use crate::http::{base_url, read_context, resource};

/// The base path of API 1 under which users, roles and groups live
/// (inside [`TENANT_SCOPE`]).
pub const IDENTITY_SCOPE: &str = "/identity";

/// The tenant part of every API path; [`IDENTITY_SCOPE`] and the feed's
/// `/odata` scope are nested in it.
pub const TENANT_SCOPE: &str = "/api/{tenantKey}/{orgKey}";

/// The routes under [`TENANT_SCOPE`]: API 1 (documented in
/// `/openapi.json` as they are registered, see [`openapi::Documented`]),
/// explain and validate behind the access token check, and the v4 feed.
pub fn api_scope() -> utoipa_actix_web::scope::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    use actix_web::middleware::from_fn;
    use utoipa_actix_web::scope;

    use crate::auth::guard::{api_guard, feed_guard};
    // One pattern with variables (a regex match) per request, then
    // literal prefixes: `/identity` and `/odata` (case folded by
    // `canonical_path`).
    scope(TENANT_SCOPE)
        .service(
            scope(IDENTITY_SCOPE)
                .wrap(from_fn(api_guard))
                .configure(configure_identity),
        )
        .service(
            scope("/explain")
                .wrap(from_fn(api_guard))
                .configure(explain::configure_explain),
        )
        .service(
            scope("/validate")
                .wrap(from_fn(api_guard))
                .configure(explain::configure_validate),
        )
        .map(|tenant| {
            tenant.service(
                web::scope(crate::feed::FEED_SCOPE)
                    .wrap(from_fn(feed_guard))
                    .configure(crate::feed::configure),
            )
        })
}

/// Registers the API 1 routes under [`IDENTITY_SCOPE`].
pub fn configure_identity(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    // Literal `users/sendInvitation` before `users/{userKey}`.
    invitations::configure(cfg);
    users::configure(cfg);
    roles::configure(cfg);
    groups::configure(cfg);
}

/// The 404 of a path that matched a pattern but names no route.
pub fn no_route(req: &HttpRequest) -> ApiError {
    ApiError::not_found(format!(
        "no route for {} {}",
        req.method(),
        crate::error::echo(req.path())
    ))
}

/// Percent-encodes one path segment (everything but RFC 3986 unreserved
/// characters and a few safe sub-delimiters).
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,=:@".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The absolute URL of a record: `{base}/api/{tenant}/{org}/identity/{set}/{id}`.
pub fn record_url(
    req: &HttpRequest,
    state: &AppState,
    scope: &TenantScope,
    set: &str,
    id: uuid::Uuid,
) -> String {
    format!(
        "{}/api/{}/{}/identity/{set}/{id}",
        base_url(req, state),
        encode_segment(&scope.tenant_key),
        encode_segment(&scope.org_key)
    )
}

/// A text attribute body: a string of at most `max_chars` characters, or `null`.
pub fn optional_text(
    body: &serde_json::Value,
    attr: &str,
    max_chars: usize,
) -> Result<Option<String>, ApiError> {
    match body {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) => {
            let n = s.chars().count();
            if n > max_chars {
                Err(ApiError::bad_request(
                    format!("{attr} must be at most {max_chars} characters, got {n}"),
                    Some(attr),
                ))
            } else {
                Ok(Some(s.clone()))
            }
        }
        _ => Err(ApiError::bad_request(
            format!("{attr} must be a string or null"),
            Some(attr),
        )),
    }
}

/// 201 with `Location`, the new record's `ETag` (every record starts at
/// version 1) and the id as a JSON string.
pub fn created(
    req: &HttpRequest,
    state: &AppState,
    scope: &TenantScope,
    set: &str,
    id: uuid::Uuid,
) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            record_url(req, state, scope, set, id),
        ))
        .insert_header(crate::etag::header(1))
        .json(id.to_string())
}

/// 200 with an empty body and the record's `ETag` after a write.
pub fn written(version: i64) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(crate::etag::header(version))
        .finish()
}

/// `GET {set}/odata`: `{"items":[...],"nextPageLink":...,"count":...}`
/// (`count` always present, `null` unless requested).
pub async fn page_response(
    req: &HttpRequest,
    state: &AppState,
    scope: &TenantScope,
    kind: crate::odata::EntityKind,
) -> Result<HttpResponse, ApiError> {
    // Over-long query strings were refused (414) by the middleware.
    let ctx = read_context(req, state);
    let options =
        odata::parse(req.query_string(), &ctx).map_err(|e| e.teach(req.query_string()))?;
    let read = ReadRequest::new(kind, &options);
    let page = odata::list(state.list_reader(), scope, &read, &ctx)
        .await
        .map_err(|e| e.teach(req.query_string()))?;
    let mut body = Vec::with_capacity(page.items.len() + 64);
    body.extend_from_slice(b"{\"items\":");
    body.extend_from_slice(&page.items);
    body.extend_from_slice(b",\"nextPageLink\":");
    serde_json::to_writer(&mut body, &page.next_link).map_err(ApiError::internal)?;
    body.extend_from_slice(b",\"count\":");
    serde_json::to_writer(&mut body, &page.count).map_err(ApiError::internal)?;
    body.push(b'}');
    let compressed = crate::compress::gzip_body(req, &state.settings, &[&body]);
    let is_compressed = compressed.is_some();
    let mut response = json_bytes(compressed.unwrap_or(body));
    crate::compress::mark(&mut response, &state.settings, is_compressed);
    Ok(response)
}

/// `GET {set}/{id|key}`: the record with this id per the request's
/// `$select`/`$expand` with its `ETag`, or `not_found`; 304 when
/// `If-None-Match` matches, 412 when `If-Match` does not.
pub async fn record_response(
    req: &HttpRequest,
    state: &AppState,
    scope: &TenantScope,
    kind: crate::odata::EntityKind,
    id: uuid::Uuid,
    not_found: impl FnOnce() -> ApiError,
) -> Result<HttpResponse, ApiError> {
    let precondition = crate::etag::Precondition::from_request(req)?;
    let ctx = read_context(req, state);
    let options =
        odata::parse(req.query_string(), &ctx).map_err(|e| e.teach(req.query_string()))?;
    let read = ReadRequest::new(kind, &options);
    let record = odata::get(state.record_reader(), scope, &read, id, &ctx)
        .await
        .map_err(|e| e.teach(req.query_string()))?
        .ok_or_else(not_found)?;
    let Some(version) = record.version else {
        return Ok(json_bytes(record.json));
    };
    if let Some(not_modified) = precondition.check_read(version, options.expand.is_some())? {
        return Ok(not_modified);
    }
    let mut response = json_bytes(record.json);
    let (name, value) = crate::etag::header(version);
    response.headers_mut().insert(name, value);
    Ok(response)
}

/// 200 with a JSON body already written.
fn json_bytes(body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(body)
}

/// The app-wide default service: unknown routes are 404 in the error body.
pub async fn unknown_route(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(format!(
        "no route for {} {}",
        req.method(),
        crate::error::echo(req.path())
    )))
}

/// JSON body extractor settings: 415 for a missing or non-JSON
/// `Content-Type`, 413 above `limit`, 400 for malformed JSON; all in the
/// one error body.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .content_type_required(true)
        .error_handler(|err, _req| json_error(err).into())
}

fn json_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType {
            message: "the request body must be JSON with Content-Type: application/json".into(),
        },
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => ApiError::PayloadTooLarge {
            message: format!("the request body is larger than {limit} bytes"),
        },
        JsonPayloadError::Deserialize(e) if e.is_eof() && e.line() == 1 && e.column() == 0 => {
            ApiError::bad_request("the request body is empty; a JSON value is required", None)
        }
        JsonPayloadError::Deserialize(e) => {
            ApiError::bad_request(format!("the request body is not valid JSON: {e}"), None)
        }
        other => ApiError::bad_request(format!("cannot read the request body: {other}"), None),
    }
}

/// Path parameter errors (e.g. a malformed percent-encoding) are 400.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _req| {
        ApiError::bad_request(format!("invalid path: {err}"), None).into()
    })
}

/// Query string errors are 400.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req| {
        ApiError::bad_request(format!("invalid query string: {err}"), None).into()
    })
}

/// Literal segments of the user routes after `users/{userKey}/`.
const USER_ATTRIBUTES: &[&str] = &[
    "picture",
    "roles",
    "groups",
    "email",
    "isActive",
    "isTechnician",
    "lastLogin",
    "name",
    "status",
    "userKey",
    "culture",
];
const MEMBERSHIP_OPERATIONS: &[&str] = &["add", "addById", "remove", "removeById"];

fn canonical<'a>(segment: &str, words: &[&'a str]) -> Option<&'a str> {
    words
        .iter()
        .find(|w| w.eq_ignore_ascii_case(segment) && **w != segment)
        .copied()
}

/// The path with its literal segments in canonical case, or `None` when it
/// is already canonical (or not one of ours).
pub fn canonical_path(path: &str) -> Option<String> {
    // Only segments 1 to 8 are ever changed: the rest of the path stays one
    // piece, and the pieces live on the stack (this runs on every request).
    let mut pieces = [""; 10];
    let mut count = 0;
    for (slot, piece) in pieces.iter_mut().zip(path.splitn(10, '/')) {
        *slot = piece;
        count += 1;
    }
    // segments[0] is the empty string before the leading '/'.
    let segments = &mut pieces[..count];
    let mut changed = false;
    let mut fix = |segments: &mut [&str], index: usize, words: &[&'static str]| {
        if let Some(seg) = segments.get(index).copied()
            && let Some(word) = canonical(seg, words)
        {
            segments[index] = word;
            changed = true;
        }
    };
    fix(
        segments,
        1,
        &[
            "api",
            "health",
            "ready",
            "metrics",
            "docs",
            "openapi.json",
            "connect",
        ],
    );
    if segments.get(1) == Some(&"connect") {
        fix(segments, 2, &["token"]);
    }
    if segments.get(1) == Some(&"api") {
        fix(
            segments,
            4,
            &["identity", "odata", explain::EXPLAIN, explain::VALIDATE],
        );
        if matches!(
            segments.get(4).copied(),
            Some(explain::EXPLAIN | explain::VALIDATE)
        ) {
            fix(segments, 5, &["identity"]);
        }
        if segments.get(4) == Some(&"identity") {
            fix(segments, 5, &["users", "roles", "groups", "invitations"]);
            match segments.get(5).copied() {
                Some("users") => {
                    fix(segments, 6, &["odata", "sendInvitation"]);
                    fix(segments, 7, USER_ATTRIBUTES);
                    if matches!(segments.get(7).copied(), Some("roles" | "groups")) {
                        fix(segments, 8, MEMBERSHIP_OPERATIONS);
                    }
                }
                Some("roles") => {
                    fix(segments, 6, &["odata"]);
                    fix(segments, 7, roles::SETTABLE);
                }
                Some("groups") => {
                    fix(segments, 6, &["odata"]);
                    fix(segments, 7, groups::SETTABLE);
                }
                Some("invitations") => fix(segments, 7, &["accept"]),
                _ => {}
            }
        }
    }
    changed.then(|| segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_segments_become_canonical() {
        assert_eq!(
            canonical_path("/API/acme/Main/IDENTITY/Users/ODATA").as_deref(),
            Some("/api/acme/Main/identity/users/odata")
        );
        assert_eq!(
            canonical_path("/api/t/o/identity/users/Jane/ROLES/addbyid").as_deref(),
            Some("/api/t/o/identity/users/Jane/roles/addById")
        );
        assert_eq!(
            canonical_path("/api/t/o/identity/users/sendinvitation").as_deref(),
            Some("/api/t/o/identity/users/sendInvitation")
        );
        assert_eq!(
            canonical_path("/api/t/o/identity/roles/Admin/ISDEFAULT").as_deref(),
            Some("/api/t/o/identity/roles/Admin/isDefault")
        );
        assert_eq!(canonical_path("/HEALTH").as_deref(), Some("/health"));
    }

    #[test]
    fn keys_and_canonical_paths_are_untouched() {
        assert_eq!(canonical_path("/api/t/o/identity/users/JANE"), None);
        assert_eq!(canonical_path("/api/t/o/identity/users/odata"), None);
        // A key that happens to spell an attribute keeps its case.
        assert_eq!(canonical_path("/api/t/o/identity/users/Name"), None);
        assert_eq!(canonical_path("/api/t/o/odata/Users"), None);
        assert_eq!(canonical_path("/api/t/o/identity/users/a/picture"), None);
        // Past the segments that are ever fixed, the rest is kept as it is.
        assert_eq!(
            canonical_path("/API/t/o/identity/users/a/roles/add/x/Y/z").as_deref(),
            Some("/api/t/o/identity/users/a/roles/add/x/Y/z")
        );
        assert_eq!(canonical_path(""), None);
        assert_eq!(canonical_path("/"), None);
    }
}
