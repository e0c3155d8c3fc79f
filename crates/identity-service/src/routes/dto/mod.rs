//! The typed shapes of API 1's requests and answers, as the OpenAPI
//! document describes them (`ToSchema`, `IntoParams`, `IntoResponses`).
//!
//! The bodies of the creates (`POST users`, `roles`, `groups`,
//! `users/sendInvitation`, and the feed's `POST Users|Roles|Groups`) are
//! parsed into the DTOs [`NewUser`], [`NewRole`], [`NewGroup`] and
//! [`InvitedUser`] (each property a lenient [`Field`], unknown properties
//! collected) and converted into the domain's values with `TryFrom`
//! ([`convert`]), which reports every invalid or unknown property at once. The answers' types derive `Deserialize` with
//! `deny_unknown_fields`, and the end-to-end tests (`tests/api/api_docs.rs`)
//! read real answers into them, so a property the service writes and the
//! document does not describe fails a test.

mod bodies;
pub mod convert;
mod field;

pub use bodies::{InvitedUser, NewGroup, NewRole, NewUser, closed};
pub use convert::parse_body;
pub use field::Field;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, IntoResponses, ToSchema};
use uuid::Uuid;

/// The tenant and organization of every API 1 path.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TenantPath {
    /// Tenant key (case-insensitive)
    #[param(rename = "tenantKey")]
    pub tenant_key: String,
    /// Organization key (case-insensitive)
    #[param(rename = "orgKey")]
    pub org_key: String,
}

/// A record addressed by id or key.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RecordPath {
    /// Record id (GUID) or key
    pub id: String,
}

/// A user addressed by key or id (the writes).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// User key (case-insensitive) or id
    #[param(rename = "userKey")]
    pub user_key: String,
}

/// The OData query options of the lists (and of a record read, where
/// `$select` and `$expand` apply).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ODataOptions {
    /// Filter expression, e.g. `status eq 1 and roles/any(r: r/roleKey eq 'ADMIN')`
    #[param(rename = "$filter")]
    pub filter: Option<String>,
    /// Properties to return (`id` is always included)
    #[param(rename = "$select")]
    pub select: Option<String>,
    /// Sort order, e.g. `name desc,userKey`
    #[param(rename = "$orderby")]
    pub orderby: Option<String>,
    /// Number of records in total (pages hold at most 100)
    #[param(rename = "$top")]
    pub top: Option<String>,
    /// Records to skip
    #[param(rename = "$skip")]
    pub skip: Option<String>,
    /// `roles` and/or `groups` as objects instead of keys
    #[param(rename = "$expand")]
    pub expand: Option<String>,
    /// `true` fills `count`
    #[param(rename = "$count")]
    pub count: Option<String>,
    /// `allpages` (OData v3 spelling of `$count=true`) or `none`
    #[param(rename = "$inlinecount")]
    pub inlinecount: Option<String>,
    /// Free-text search
    #[param(rename = "$search")]
    pub search: Option<String>,
    /// Opaque continuation token from `nextPageLink`
    #[param(rename = "$skiptoken")]
    pub skiptoken: Option<String>,
}

/// `If-Match` on a write of one record.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatch {
    /// Only if the record's ETag is one of these (e.g. `"3"`; `*`: any existing record); else 412. Never required.
    #[param(rename = "If-Match")]
    pub if_match: Option<String>,
}

/// The conditional headers of a read of one record.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct ConditionalRead {
    /// The ETag(s) the client holds (weak comparison, or `*`): 304 without a body when the record still has one of them
    #[param(rename = "If-None-Match")]
    pub if_none_match: Option<String>,
    /// Only if the record's ETag is one of these (e.g. `"3"`; `*`: any existing record); else 412. Never required.
    #[param(rename = "If-Match")]
    pub if_match: Option<String>,
}

/// The conditional headers of a picture download: compared with the
/// picture's own ETag (a hash of the image, not the user's version).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct ConditionalPicture {
    /// The picture ETag(s) the client holds (weak comparison, or `*`): 304 without a body when the stored image still has one of them
    #[param(rename = "If-None-Match")]
    pub if_none_match: Option<String>,
    /// Only if the stored image's ETag is one of these (`*`: any stored image); else 412
    #[param(rename = "If-Match")]
    pub if_match: Option<String>,
}

/// `If-Match` on `PUT users/{userKey}/picture`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatchPicture {
    /// Only if the user's ETag (e.g. `"3"`) or the stored picture's ETag is one of these (`*`: any existing user); else 412. Never required.
    #[param(rename = "If-Match")]
    pub if_match: Option<String>,
}

/// `GET users/{id}/picture?fileName=`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PictureQuery {
    /// Names the download (its extension becomes the image's)
    #[param(rename = "fileName")]
    pub file_name: Option<String>,
}

/// The one error body of every 4xx and 5xx.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Error, example = json!({"error": {"code": "NotFound", "message": "no user 'nobody'"}}))]
pub struct ErrorBody {
    pub error: ErrorObject,
}

/// `error` of [`ErrorBody`].
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorObject {
    /// `BadRequest`, `NotFound`, `Conflict`, `Unauthorized`, ...
    pub code: String,
    pub message: String,
    /// The property, option or key the error is about
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// One entry per invalid field or unknown key; a query error's caret rendering
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<ErrorDetail>>,
    /// explain and validate: stage, option, offset, expected, query, caret, timings
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub innererror: Option<serde_json::Value>,
}

/// One entry of `error.details`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// A user as `GET users/{id}` and the lists answer it (`$select` leaves
/// out the properties not asked for).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct User {
    pub id: Uuid,
    pub user_key: Option<String>,
    pub name: Option<String>,
    /// BCP 47, e.g. `en-US`
    pub culture: Option<String>,
    pub email: Option<String>,
    pub is_technician: Option<bool>,
    pub last_login: Option<DateTime<Utc>>,
    /// 1 Active, 2 Inactive, 3 InvitationSent, 4 InvitationExpired
    #[schema(minimum = 1, maximum = 4)]
    pub status: Option<i32>,
    /// The absolute URL of the picture (`GET users/{id}/picture`), or null
    pub picture: Option<String>,
    /// Role keys (objects under `$expand=roles`)
    #[schema(value_type = Option<Vec<Object>>)]
    pub roles: Option<Vec<serde_json::Value>>,
    /// Group keys (objects under `$expand=groups`)
    #[schema(value_type = Option<Vec<Object>>)]
    pub groups: Option<Vec<serde_json::Value>>,
    pub is_active: Option<bool>,
    pub is_system: Option<bool>,
    pub is_deleted: Option<bool>,
    /// The OAuth client id that created the record (`import`, `demo`: written
    /// by the import or the demo data)
    pub created_by: Option<String>,
    pub created_on: Option<DateTime<Utc>>,
    /// The OAuth client id of the last change that moved `version`
    /// (`import`, `demo`, `invitation`: a change no client made)
    pub modified_by: Option<String>,
    pub modified_on: Option<DateTime<Utc>>,
    /// The record's version (its ETag is this number in quotes)
    #[schema(example = 3)]
    pub version: Option<i64>,
}

/// A role as `GET roles/{id}` and the list answer it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Role {
    pub id: Uuid,
    pub role_key: Option<String>,
    pub description: Option<String>,
    pub is_administration: Option<bool>,
    pub is_default: Option<bool>,
    pub is_internal: Option<bool>,
    pub is_active: Option<bool>,
    pub is_system: Option<bool>,
    pub is_deleted: Option<bool>,
    pub created_by: Option<String>,
    pub created_on: Option<DateTime<Utc>>,
    pub modified_by: Option<String>,
    pub modified_on: Option<DateTime<Utc>>,
    #[schema(example = 3)]
    pub version: Option<i64>,
}

/// A group as `GET groups/{id}` and the list answer it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Group {
    pub id: Uuid,
    pub group_key: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub notes: Option<String>,
    pub is_active: Option<bool>,
    pub is_system: Option<bool>,
    pub is_deleted: Option<bool>,
    pub created_by: Option<String>,
    pub created_on: Option<DateTime<Utc>>,
    pub modified_by: Option<String>,
    pub modified_on: Option<DateTime<Utc>>,
    #[schema(example = 3)]
    pub version: Option<i64>,
}

/// One page of a list: at most 100 records.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The absolute URL of the next page, or null on the last one
    pub next_page_link: Option<String>,
    /// The number of matching records with `$count=true`, else null
    #[schema(example = 1000)]
    pub count: Option<u64>,
}

/// The answer of an accepted invitation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Accepted {
    pub id: Uuid,
    /// 1: the user is active
    pub status: i32,
}

/// The form of `POST /connect/token`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenForm {
    /// Always `client_credentials`
    #[schema(pattern = "^client_credentials$")]
    pub grant_type: String,
    /// Space-separated subset of the client's scopes (default: all of them)
    #[serde(default)]
    pub scope: Option<String>,
    /// With `client_secret` when not using HTTP Basic
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
}

/// The answer of `POST /connect/token`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenResponse {
    pub access_token: String,
    /// `Bearer`
    pub token_type: String,
    /// Seconds
    pub expires_in: u64,
    pub scope: String,
}

/// An OAuth 2.0 error (RFC 6749 5.2) of the token endpoint.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `unsupported_grant_type` or `invalid_scope`
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// What explain answers (`identity.admin`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Explained {
    /// The parsed query options
    #[schema(value_type = Object)]
    pub ast: serde_json::Value,
    /// The query in canonical form
    pub canonical: Option<String>,
    /// The running backend: `sqlite`, `postgres` or `mysql`
    pub backend: String,
    /// `{sqlite, postgres, mysql: [{statement, sql, values}]}`
    #[schema(value_type = Object)]
    pub sql: serde_json::Value,
    /// `[{statement, lines}]`: the database's plan
    #[schema(value_type = Vec<Object>)]
    pub plan: serde_json::Value,
    /// `{total, budget, withinBudget, parts}`
    #[schema(value_type = Object)]
    pub cost: serde_json::Value,
    /// `{parseMicros, translateMicros, planMicros}`
    #[schema(value_type = Object)]
    pub timings: serde_json::Value,
}

/// What validate answers (`identity.read`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Validated {
    /// Always true (an invalid query is an error answer)
    pub valid: bool,
    #[schema(value_type = Object)]
    pub ast: serde_json::Value,
    pub canonical: Option<String>,
}

/// 401, 403 and 429: the answers of the access token check on every
/// `/api` route but accepting an invitation.
#[derive(IntoResponses)]
pub enum AuthErrors {
    /// No, an invalid, an expired or a revoked access token (with `WWW-Authenticate: Bearer`)
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The token is for another tenant/organization, or lacks the scope (`identity.read` for GET, `identity.write` otherwise)
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// The client's rate limit is exhausted (with `Retry-After`)
    #[response(status = 429)]
    TooManyRequests(ErrorBody),
}

/// 400.
#[derive(IntoResponses)]
#[response(status = 400)]
/// Malformed request, invalid value or unknown role/group (`details` name each); a query error carries the caret rendering
pub struct BadRequest(pub ErrorBody);

/// 404.
#[derive(IntoResponses)]
#[response(status = 404)]
/// The tenant or record does not exist
pub struct NotFound(pub ErrorBody);

/// 409.
#[derive(IntoResponses)]
#[response(status = 409)]
/// The key or e-mail is taken (case-insensitively)
pub struct Conflict(pub ErrorBody);

/// 410.
#[derive(IntoResponses)]
#[response(status = 410)]
/// The invitation expired
pub struct Gone(pub ErrorBody);

/// 413.
#[derive(IntoResponses)]
#[response(status = 413)]
/// The picture or body is too large
pub struct TooLarge(pub ErrorBody);

/// 415.
#[derive(IntoResponses)]
#[response(status = 415)]
/// Missing or non-JSON `Content-Type`, or a picture that is not an image
pub struct UnsupportedMediaType(pub ErrorBody);

/// 501.
#[derive(IntoResponses)]
#[response(status = 501)]
/// A query feature that is not implemented
pub struct NotImplemented(pub ErrorBody);

/// 412 with the current ETag.
#[derive(IntoResponses)]
#[response(status = 412, headers(("ETag" = String, description = "The record's current ETag (absent when the record does not exist)")))]
/// `If-Match` does not match the record's current ETag (or `If-None-Match` does), or `If-Match` names a record that does not exist
pub struct PreconditionFailed(pub ErrorBody);

/// 304 of a conditional read.
#[derive(IntoResponses)]
#[response(status = 304, headers(("ETag" = String, description = "The record's ETag")))]
/// Not modified: the record still has the ETag of `If-None-Match`
pub struct NotModified;

/// 503.
#[derive(IntoResponses)]
#[response(status = 503)]
/// The database is unavailable (with `Retry-After`)
pub struct Unavailable(pub ErrorBody);
