//! The one error type of the HTTP API and its one JSON body:
//! `{"error":{"code":"...","message":"...","target":"...","details":[...]}}`
//! (`target` and `details` omitted when empty). Internal causes are logged
//! with tracing and never returned to the client.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::{BodyError, DomainError};
use crate::pictures::PictureError;

mod conversions;
mod database;
mod response;

pub use conversions::invalid_fields;
pub(crate) use database::{database_error, has_sqlstate};
pub use database::{is_connection_error, write_conflict};
pub use response::{ErrorBody, ErrorContent};

/// Seconds a client is asked to wait after a 503.
const RETRY_AFTER_SECONDS: u32 = 5;

/// Seconds a client over a read cap (429) is asked to wait.
pub const BUSY_RETRY_AFTER_SECONDS: u64 = 1;

pub use crate::domain::{ECHO_CHARS, echo};

/// One entry of `error.details`: typically one invalid field or one unknown key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl ErrorDetail {
    /// The target is a submitted name or value: it is cut by [`echo`].
    pub fn new(code: &str, message: impl Into<String>, target: Option<String>) -> Self {
        ErrorDetail {
            code: code.to_owned(),
            message: message.into(),
            target: target.map(|t| echo(&t).into_owned()),
        }
    }
}

/// Every failure the API reports. Each variant documents its status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: malformed request, invalid value, unknown key in a body.
    #[error("{message}")]
    BadRequest {
        message: String,
        target: Option<String>,
        details: Vec<ErrorDetail>,
    },
    /// 400 with code `QueryTooExpensive`: the query costs more than
    /// `APP_QUERY_COST_BUDGET`; the message names the most expensive part.
    #[error("{message}")]
    QueryTooExpensive {
        message: String,
        target: Option<String>,
    },
    /// 401 with `WWW-Authenticate` (one header per challenge): no
    /// credentials, or invalid, expired or revoked ones.
    #[error("{message}")]
    Unauthorized {
        message: String,
        challenges: Vec<String>,
    },
    /// 403: valid credentials that may not do this (another tenant/org,
    /// a missing scope); `challenge` is the `WWW-Authenticate` value, if any.
    #[error("{message}")]
    Forbidden {
        message: String,
        challenge: Option<String>,
    },
    /// 429 with `Retry-After`: the client's request rate is over its limit.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// 404: the record (or route) does not exist.
    #[error("{message}")]
    NotFound { message: String },
    /// 404 with code `TenantNotFound`: no such tenant+organization pair.
    #[error("tenant '{tenant}' with organization '{org}' does not exist")]
    TenantNotFound { tenant: String, org: String },
    /// 405: the route exists but not with this method.
    #[error("method {method} is not allowed on this resource")]
    MethodNotAllowed { method: String },
    /// 409: a unique key or e-mail is taken.
    #[error("{message}")]
    Conflict {
        message: String,
        target: Option<String>,
    },
    /// 412 with the current `ETag` (when the record exists): `If-Match`
    /// does not match the record's current version (or names a record that
    /// does not exist), or `If-None-Match` does on a write.
    #[error("{message}")]
    PreconditionFailed {
        message: String,
        /// The current ETag, quoted (`"3"`); `None` when there is none.
        etag: Option<String>,
    },
    /// 428: the feed requires `If-Match` on this write
    /// (`APP_FEED_REQUIRE_IF_MATCH`) and the request has none.
    #[error("{message}")]
    PreconditionRequired { message: String },
    /// 424: a `$batch` request whose `dependsOn` names a failed request.
    #[error("{message}")]
    FailedDependency { message: String },
    /// 406: the `Accept` header allows nothing the feed can produce.
    #[error("{message}")]
    NotAcceptable { message: String },
    /// 410: the resource existed but is no longer usable (expired invitation).
    #[error("{message}")]
    Gone { message: String },
    /// 413: the body or picture is larger than allowed.
    #[error("{message}")]
    PayloadTooLarge { message: String },
    /// 414: the query string is longer than allowed.
    #[error("{message}")]
    UriTooLong { message: String },
    /// 415: missing or non-JSON `Content-Type`, or a picture that is not an image.
    #[error("{message}")]
    UnsupportedMediaType { message: String },
    /// 501: a feature (query option, function) that is not implemented.
    #[error("{message}")]
    NotImplemented {
        message: String,
        target: Option<String>,
        details: Vec<ErrorDetail>,
    },
    /// 503 with `Retry-After`: too much work of one kind is waiting (the
    /// queue of credential checks is full).
    #[error("{message}")]
    Overloaded { message: String, retry_after: u64 },
    /// 503 with code `QueryTimeout` and `Retry-After`: a read statement ran
    /// past `APP_READ_TIMEOUT_MS` and was stopped.
    #[error("{message}")]
    QueryTimeout { message: String },
    /// 503 with `Retry-After`: the database cannot be reached.
    #[error("the database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// 503 with `Retry-After: 1`: the database aborted the request's
    /// transaction to resolve a conflict with a concurrent one (see
    /// [`write_conflict`]). Nothing of it was applied; sending it again is
    /// safe. `retryable`: a deadlock or serialization failure, which the
    /// storage layer retries itself before answering this (not a lock
    /// wait timeout, which already waited long).
    #[error(
        "the database aborted this request because of a conflict with a concurrent write \
         (a deadlock, a serialization failure or a lock wait timeout): nothing of it was \
         applied, and it can be sent again"
    )]
    WriteConflict {
        #[source]
        cause: anyhow::Error,
        retryable: bool,
    },
    /// 500 with its message shown: the server's configuration does not
    /// allow the operation (e.g. mail without a reachable address).
    #[error("{message}")]
    Configuration { message: String },
    /// 500: anything unexpected; the cause is logged, the client sees a generic message.
    #[error("internal server error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// A 400 without details.
    pub fn bad_request(message: impl Into<String>, target: Option<&str>) -> Self {
        ApiError::BadRequest {
            message: message.into(),
            target: target.map(str::to_owned),
            details: Vec::new(),
        }
    }

    /// A 404 with a message.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::NotFound {
            message: message.into(),
        }
    }

    /// A 409 with a message and the property it is about.
    pub fn conflict(message: impl Into<String>, target: Option<&str>) -> Self {
        ApiError::Conflict {
            message: message.into(),
            target: target.map(str::to_owned),
        }
    }

    /// A 500 from any cause (logged when rendered).
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(cause.into())
    }

    /// The stable machine-readable code of the body.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { .. } => "BadRequest",
            ApiError::QueryTooExpensive { .. } => "QueryTooExpensive",
            ApiError::Unauthorized { .. } => "Unauthorized",
            ApiError::Forbidden { .. } => "Forbidden",
            ApiError::TooManyRequests { .. } => "TooManyRequests",
            ApiError::NotFound { .. } => "NotFound",
            ApiError::TenantNotFound { .. } => "TenantNotFound",
            ApiError::MethodNotAllowed { .. } => "MethodNotAllowed",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::Gone { .. } => "Gone",
            ApiError::NotAcceptable { .. } => "NotAcceptable",
            ApiError::PreconditionFailed { .. } => "PreconditionFailed",
            ApiError::PreconditionRequired { .. } => "PreconditionRequired",
            ApiError::FailedDependency { .. } => "FailedDependency",
            ApiError::PayloadTooLarge { .. } => "PayloadTooLarge",
            ApiError::UriTooLong { .. } => "UriTooLong",
            ApiError::UnsupportedMediaType { .. } => "UnsupportedMediaType",
            ApiError::NotImplemented { .. } => "NotImplemented",
            ApiError::QueryTimeout { .. } => "QueryTimeout",
            ApiError::Unavailable(_)
            | ApiError::Overloaded { .. }
            | ApiError::WriteConflict { .. } => "ServiceUnavailable",
            ApiError::Configuration { .. } | ApiError::Internal(_) => "InternalServerError",
        }
    }

    fn target(&self) -> Option<&str> {
        match self {
            ApiError::BadRequest { target, .. }
            | ApiError::QueryTooExpensive { target, .. }
            | ApiError::Conflict { target, .. }
            | ApiError::NotImplemented { target, .. } => target.as_deref(),
            _ => None,
        }
    }

    fn details(&self) -> &[ErrorDetail] {
        match self {
            ApiError::BadRequest { details, .. } | ApiError::NotImplemented { details, .. } => {
                details
            }
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::database::unavailable_sqlstate;
    use super::*;
    use actix_web::body::MessageBody;

    fn body_of(err: &ApiError) -> serde_json::Value {
        let bytes = err.error_response().into_body().try_into_bytes().unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn bad_request_renders_target_and_details() {
        let err = ApiError::BadRequest {
            message: "unknown roles".into(),
            target: Some("roles".into()),
            details: vec![ErrorDetail::new(
                "UnknownKey",
                "no role 'x'",
                Some("x".into()),
            )],
        };
        assert_eq!(err.status_code(), StatusCode::BAD_REQUEST);
        assert_eq!(
            body_of(&err),
            serde_json::json!({"error":{"code":"BadRequest","message":"unknown roles","target":"roles",
                "details":[{"code":"UnknownKey","message":"no role 'x'","target":"x"}]}})
        );
    }

    #[test]
    fn empty_target_and_details_are_omitted() {
        let err = ApiError::not_found("no user 'x'");
        assert_eq!(
            body_of(&err),
            serde_json::json!({"error":{"code":"NotFound","message":"no user 'x'"}})
        );
    }

    #[test]
    fn internal_cause_is_not_returned() {
        let err = ApiError::internal(anyhow::anyhow!("SELECT secret FROM t"));
        let body = body_of(&err).to_string();
        assert!(!body.contains("secret"));
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn broken_connections_are_unavailable() {
        use sea_orm::{DbErr, RuntimeErr};
        use std::sync::Arc;
        let io = |kind| {
            RuntimeErr::SqlxError(Arc::new(sea_orm::sqlx::Error::Io(std::io::Error::new(
                kind, "x",
            ))))
        };
        for err in [
            DbErr::Query(io(std::io::ErrorKind::ConnectionReset)),
            DbErr::Exec(io(std::io::ErrorKind::UnexpectedEof)),
            DbErr::Query(RuntimeErr::SqlxError(Arc::new(
                sea_orm::sqlx::Error::PoolTimedOut,
            ))),
            DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout),
        ] {
            assert!(is_connection_error(&err), "{err:?}");
            assert_eq!(
                ApiError::from(err).status_code(),
                StatusCode::SERVICE_UNAVAILABLE
            );
        }
        let statement = DbErr::Query(RuntimeErr::SqlxError(Arc::new(
            sea_orm::sqlx::Error::RowNotFound,
        )));
        assert!(!is_connection_error(&statement));
        assert!(!is_connection_error(&DbErr::Custom("x".into())));
        assert!(unavailable_sqlstate("08006") && unavailable_sqlstate("57P01"));
        assert!(!unavailable_sqlstate("23505"));
    }

    #[test]
    fn auth_errors_carry_their_headers() {
        let err = ApiError::Unauthorized {
            message: "no credentials".into(),
            challenges: vec!["Bearer realm=\"x\"".into(), "Basic realm=\"x\"".into()],
        };
        let response = err.error_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let challenges: Vec<_> = response
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        assert_eq!(challenges, ["Bearer realm=\"x\"", "Basic realm=\"x\""]);
        assert_eq!(body_of(&err)["error"]["code"], "Unauthorized");
        let err = ApiError::TooManyRequests {
            message: "slow down".into(),
            retry_after: 7,
        };
        let response = err.error_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "7");
    }

    /// A database error with a SQLSTATE, as a server would answer it.
    #[derive(Debug)]
    struct Answered(&'static str);

    impl std::fmt::Display for Answered {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "SQLSTATE {}", self.0)
        }
    }

    impl std::error::Error for Answered {}

    impl sea_orm::sqlx::error::DatabaseError for Answered {
        fn message(&self) -> &str {
            "answered"
        }
        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            Some(self.0.into())
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sea_orm::sqlx::error::ErrorKind {
            sea_orm::sqlx::error::ErrorKind::Other
        }
    }

    fn answered(code: &'static str) -> sea_orm::DbErr {
        sea_orm::DbErr::Exec(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(
            sea_orm::sqlx::Error::Database(Box::new(Answered(code))),
        )))
    }

    #[test]
    fn deadlocks_are_503_with_retry_after_1_and_say_nothing_was_applied() {
        for code in ["40P01", "40001"] {
            assert_eq!(write_conflict(&answered(code)), Some(true), "{code}");
            let err = ApiError::from(answered(code));
            assert!(
                matches!(
                    err,
                    ApiError::WriteConflict {
                        retryable: true,
                        ..
                    }
                ),
                "{code}"
            );
            let response = err.error_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "1");
            let body = body_of(&err);
            assert_eq!(body["error"]["code"], "ServiceUnavailable");
            let message = body["error"]["message"].as_str().unwrap();
            assert!(message.contains("nothing of it was applied"), "{message}");
            assert!(message.contains("sent again"), "{message}");
        }
        for code in ["23505", "42P01", "HY000"] {
            assert_eq!(write_conflict(&answered(code)), None, "{code}");
        }
        assert_eq!(
            ApiError::from(answered("23505")).status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn unavailable_has_retry_after() {
        let err = ApiError::from(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::Internal(
            "down".into(),
        )));
        let response = err.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key(header::RETRY_AFTER));
    }
}
