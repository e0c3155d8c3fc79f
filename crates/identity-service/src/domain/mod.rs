//! Domain types: parse, don't validate. Each newtype has private fields and
//! is built only by a `parse` that returns a [`DomainError`], so holding one
//! means the value is valid. No I/O here.

mod culture;
mod email;
mod key;
mod new_user;
mod status;
mod tenant_key;
mod time;
mod user_name;

pub use culture::Culture;
pub use email::Email;
pub use key::EntityKey;
pub use new_user::{
    MAX_TEXT_CHARS, NewGroup, NewRole, NewUser, PictureInput, key_list, parse_last_login,
};
pub use status::UserStatus;
pub use tenant_key::TenantKey;
pub use time::{PRECISION as TIME_PRECISION, now, stored};
pub use user_name::UserName;

use crate::error::{ApiError, ErrorDetail};

/// Why a value was refused; `field` names the JSON property it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DomainError {
    pub field: String,
    pub message: String,
}

impl DomainError {
    /// `field` may be a submitted (unknown) property name: cut by `echo`.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        DomainError {
            field: crate::error::echo(field).into_owned(),
            message: message.into(),
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
