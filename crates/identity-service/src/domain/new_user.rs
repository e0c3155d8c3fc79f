//! The valid users, roles and groups to create, and the parsers of the
//! properties that have no value type of their own. A request body becomes
//! one of these through its DTO (`routes::dto::convert`, `TryFrom`), which
//! reports every invalid property at once.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Culture, DomainError, Email, EntityKey, UserName, UserStatus};

/// A `picture` property: the raw string (data URL, base64 or http(s) URL)
/// decoded later by [`crate::pictures`], or `null` to clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PictureInput {
    Clear,
    Value(String),
}

/// A valid user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user_key: EntityKey,
    pub name: UserName,
    pub culture: Culture,
    pub email: Option<Email>,
    pub is_technician: bool,
    pub is_active: bool,
    pub status: UserStatus,
    pub last_login: Option<DateTime<Utc>>,
    /// Role keys as given (resolved case-insensitively by storage).
    pub roles: Vec<String>,
    /// Group keys as given (resolved case-insensitively by storage).
    pub groups: Vec<String>,
    pub picture: Option<PictureInput>,
}

/// A valid role to create.
#[derive(Debug, Clone)]
pub struct NewRole {
    pub role_key: EntityKey,
    pub description: Option<String>,
    pub is_administration: bool,
    pub is_default: bool,
    pub is_internal: bool,
    pub is_active: bool,
}

/// A valid group to create.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub group_key: EntityKey,
    pub name: Option<String>,
    pub email: Option<Email>,
    pub notes: Option<String>,
    pub is_active: bool,
}

/// A JSON array of strings (role/group keys or ids), as in membership
/// bodies and `PUT users/{key}/roles`.
pub fn key_list(value: &Value, field: &str) -> Result<Vec<String>, DomainError> {
    let Some(items) = value.as_array() else {
        return Err(DomainError::new(field, "must be a JSON array of strings"));
    };
    items
        .iter()
        .map(|item| {
            item.as_str()
                .map(str::to_owned)
                .ok_or_else(|| DomainError::new(field, "must be a JSON array of strings"))
        })
        .collect()
}

/// `lastLogin`: an RFC 3339 date-time with offset (stored in UTC, to the
/// microsecond), or null.
pub fn parse_last_login(value: &Value) -> Result<Option<DateTime<Utc>>, DomainError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => parse_last_login_text(s).map(Some),
        _ => Err(DomainError::new("lastLogin", LAST_LOGIN_TYPE)),
    }
}

/// What a `lastLogin` that is neither a string nor null is told.
pub const LAST_LOGIN_TYPE: &str = "must be an RFC 3339 date-time string or null";

/// The text of a `lastLogin`: an RFC 3339 date-time with offset.
pub fn parse_last_login_text(s: &str) -> Result<DateTime<Utc>, DomainError> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| super::stored(d.with_timezone(&Utc)))
        .map_err(|_| {
            DomainError::new(
                "lastLogin",
                format!(
                    "'{s}' is not an RFC 3339 date-time with offset (e.g. 2024-05-01T10:00:00Z)"
                ),
            )
        })
}

/// A free text of at most `max_chars` characters (a role's description,
/// a group's name or notes).
pub fn bounded_text(value: String, field: &str, max_chars: usize) -> Result<String, DomainError> {
    let n = value.chars().count();
    if n > max_chars {
        return Err(DomainError::new(
            field,
            format!("must be at most {max_chars} characters, got {n}"),
        ));
    }
    Ok(value)
}

/// Longest role description / group notes, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;
