//! `From` conversions into [`ApiError`]: database, domain, body and
//! picture errors.

use super::database::is_unstorable_character;
use super::*;

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        if is_connection_error(&err) {
            ApiError::Unavailable(err.into())
        } else if let Some(retryable) = write_conflict(&err) {
            ApiError::WriteConflict {
                cause: err.into(),
                retryable,
            }
        } else if is_unstorable_character(&err) {
            ApiError::bad_request(
                "a value of the request contains a character the database cannot hold \
                 (the NUL character, U+0000)",
                None,
            )
        } else {
            ApiError::Internal(err.into())
        }
    }
}

impl From<sea_orm::TransactionError<ApiError>> for ApiError {
    fn from(err: sea_orm::TransactionError<ApiError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(api) => api,
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        ApiError::BadRequest {
            message: err.to_string(),
            target: Some(err.field),
            details: Vec::new(),
        }
    }
}

/// Several field errors at once: a 400 whose `details` list each of them.
pub fn invalid_fields(errors: Vec<DomainError>) -> ApiError {
    if errors.len() == 1 {
        if let Some(err) = errors.into_iter().next() {
            return err.into();
        }
        return ApiError::bad_request("the request body is invalid", None);
    }
    ApiError::BadRequest {
        message: format!("the request body has {} invalid properties", errors.len()),
        target: None,
        details: errors
            .into_iter()
            .map(|e| ErrorDetail::new("InvalidValue", e.message, Some(e.field)))
            .collect(),
    }
}

impl From<BodyError> for ApiError {
    fn from(err: BodyError) -> Self {
        match err {
            BodyError::NotAnObject => ApiError::bad_request(err.to_string(), None),
            BodyError::Fields(errors) if errors.is_empty() => {
                ApiError::bad_request("the request body is invalid", None)
            }
            BodyError::Fields(errors) => invalid_fields(errors),
        }
    }
}

impl From<PictureError> for ApiError {
    fn from(err: PictureError) -> Self {
        match err {
            PictureError::TooLarge { .. } => ApiError::PayloadTooLarge {
                message: err.to_string(),
            },
            PictureError::NotAnImage => ApiError::UnsupportedMediaType {
                message: err.to_string(),
            },
            PictureError::Malformed | PictureError::Refused(_) => {
                ApiError::bad_request(err.to_string(), Some("picture"))
            }
        }
    }
}
