//! The error body and the response: the status of each [`ApiError`], its
//! headers (`Retry-After`, `WWW-Authenticate`, ...) and its JSON body.

use super::*;

/// The serialized error body.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    pub error: ErrorContent<'a>,
}

/// The content of `error` in the body.
#[derive(Debug, Serialize)]
pub struct ErrorContent<'a> {
    pub code: &'a str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<std::borrow::Cow<'a, str>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub details: &'a [ErrorDetail],
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } | ApiError::QueryTooExpensive { .. } => {
                StatusCode::BAD_REQUEST
            }
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound { .. } | ApiError::TenantNotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Gone { .. } => StatusCode::GONE,
            ApiError::NotAcceptable { .. } => StatusCode::NOT_ACCEPTABLE,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired { .. } => StatusCode::PRECONDITION_REQUIRED,
            ApiError::FailedDependency { .. } => StatusCode::FAILED_DEPENDENCY,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::NotImplemented { .. } => StatusCode::NOT_IMPLEMENTED,
            ApiError::Unavailable(_)
            | ApiError::Overloaded { .. }
            | ApiError::QueryTimeout { .. }
            | ApiError::WriteConflict { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Configuration { .. } | ApiError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(error = ?cause, "internal error"),
            ApiError::Configuration { message } => tracing::error!(%message, "not configured"),
            ApiError::Unavailable(cause) => tracing::warn!(error = ?cause, "database unavailable"),
            ApiError::WriteConflict { cause, .. } => {
                tracing::warn!(error = ?cause, "the database aborted a conflicting write")
            }
            _ => {}
        }
        let body = ErrorBody {
            error: ErrorContent {
                code: self.code(),
                message: self.to_string(),
                target: self.target().map(echo),
                details: self.details(),
            },
        };
        let mut response = HttpResponse::build(self.status_code());
        match self {
            ApiError::Unavailable(_) | ApiError::QueryTimeout { .. } => {
                response
                    .insert_header((header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS)));
            }
            ApiError::WriteConflict { .. } => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from(1u32)));
            }
            ApiError::TooManyRequests { retry_after, .. }
            | ApiError::Overloaded { retry_after, .. } => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from(*retry_after)));
            }
            ApiError::Unauthorized { challenges, .. } => {
                for challenge in challenges {
                    if let Ok(value) = HeaderValue::from_str(challenge) {
                        response.append_header((header::WWW_AUTHENTICATE, value));
                    }
                }
            }
            ApiError::PreconditionFailed {
                etag: Some(etag), ..
            } => {
                response.insert_header(crate::etag::tag_header(etag));
            }
            ApiError::Forbidden {
                challenge: Some(challenge),
                ..
            } => {
                if let Ok(value) = HeaderValue::from_str(challenge) {
                    response.insert_header((header::WWW_AUTHENTICATE, value));
                }
            }
            _ => {}
        }
        response.json(body)
    }
}
