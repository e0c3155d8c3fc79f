//! Domain types: parse, don't validate. Each newtype has private fields and
//! is built only by a `parse` that returns a [`DomainError`], so holding one
//! means the value is valid. No I/O here.

mod actor;
mod culture;
mod email;
mod key;
mod new_user;
pub mod scopes;
pub mod secrets;
mod status;
mod tenant_key;
mod time;
mod user_name;

pub use actor::Actor;
pub use culture::Culture;
pub use email::Email;
pub use key::EntityKey;
pub use new_user::{
    LAST_LOGIN_TYPE, MAX_TEXT_CHARS, NewGroup, NewRole, NewUser, PictureInput, bounded_text,
    key_list, parse_last_login, parse_last_login_text,
};
pub use status::{STATUS_TYPE, UserStatus};
pub use tenant_key::TenantKey;
pub use time::{PRECISION as TIME_PRECISION, now, stored};
pub use user_name::{MAX_NAME_CHARS, UserName};

/// Longest submitted value an error message repeats, in characters.
pub const ECHO_CHARS: usize = 64;

/// A submitted value as an error message may repeat it: at most
/// [`ECHO_CHARS`] characters, a longer one cut and ended with `…`
/// (a 1 MB value must not come back as a 1 MB error).
pub fn echo(value: &str) -> std::borrow::Cow<'_, str> {
    match value.char_indices().nth(ECHO_CHARS) {
        None => std::borrow::Cow::Borrowed(value),
        Some((end, _)) => std::borrow::Cow::Owned(format!("{}…", &value[..end])),
    }
}

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
            field: echo(field).into_owned(),
            message: message.into(),
        }
    }
}

/// Why a request body was refused (`error.rs` renders it as one 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body is JSON but not an object.
    #[error("the request body must be a JSON object")]
    NotAnObject,
    /// Every invalid property of the body, each with its reason (empty:
    /// invalid without a property to name).
    #[error("the request body has {} invalid properties", .0.len())]
    Fields(Vec<DomainError>),
}
