//! Field-level checks for imported values: the service's domain newtypes
//! where they exist (keys, names, e-mails, cultures), so imported data obeys
//! exactly the API's rules, plus the CSV-only scalars.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{Culture, Email, EntityKey, UserName};

/// Longest role description / group text, in characters (as on the API).
pub const MAX_TEXT_CHARS: usize = 4000;
/// Longest group name, in characters (as on the API).
pub const MAX_NAME_CHARS: usize = 255;
/// Longest external picture URL, in characters.
pub const MAX_URL_CHARS: usize = 2048;

/// A GUID in any of the usual spellings (hyphenated, simple, braced, URN).
pub fn guid(raw: &str) -> Result<Uuid, String> {
    Uuid::try_parse(raw.trim()).map_err(|_| format!("'{raw}' is not a GUID"))
}

/// A `userKey`/`roleKey`/`groupKey` (see [`EntityKey`]).
pub fn key(raw: &str) -> Result<String, String> {
    EntityKey::parse(raw, "key")
        .map(EntityKey::into_inner)
        .map_err(|e| e.message)
}

/// A user's name (see [`UserName`]; stored trimmed).
pub fn user_name(raw: &str) -> Result<String, String> {
    UserName::parse(raw)
        .map(UserName::into_inner)
        .map_err(|e| e.message)
}

/// An e-mail address (see [`Email`]).
pub fn email(raw: &str) -> Result<String, String> {
    Email::parse(raw, "email")
        .map(Email::into_inner)
        .map_err(|e| e.message)
}

/// A BCP 47 tag (see [`Culture`]; stored in conventional case).
pub fn culture(raw: &str) -> Result<String, String> {
    Culture::parse(raw)
        .map(Culture::into_inner)
        .map_err(|e| e.message)
}

/// A group name: at most 255 characters.
pub fn group_name(raw: &str) -> Result<String, String> {
    text(raw, MAX_NAME_CHARS)
}

/// A role description: at most 4000 characters.
pub fn description(raw: &str) -> Result<String, String> {
    text(raw, MAX_TEXT_CHARS)
}

fn text(raw: &str, max: usize) -> Result<String, String> {
    let n = raw.chars().count();
    if n > max {
        Err(format!("must be at most {max} characters, got {n}"))
    } else {
        Ok(raw.to_owned())
    }
}

/// `true`/`false` (any case; `1`/`0` too).
pub fn boolean(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(format!("'{raw}' is not a boolean (true or false)")),
    }
}

/// An ISO 8601 / RFC 3339 timestamp with an offset (`2025-03-01T10:00:00.000Z`),
/// truncated to the stored precision (microseconds).
pub fn timestamp(raw: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| crate::domain::stored(t.with_timezone(&Utc)))
        .map_err(|e| format!("'{raw}' is not an ISO 8601 timestamp with offset ({e})"))
}

/// A user status: 1 Active, 2 Inactive, 3 InvitationSent, 4 InvitationExpired.
pub fn status(raw: &str) -> Result<i32, String> {
    match raw.trim().parse::<i32>() {
        Ok(s @ 1..=4) => Ok(s),
        _ => Err(format!(
            "'{raw}' is not a status (1 Active, 2 Inactive, 3 InvitationSent, 4 InvitationExpired)"
        )),
    }
}

/// An external picture: an absolute `http(s)` URL without whitespace.
pub fn picture_url(raw: &str) -> Result<String, String> {
    let lower = raw.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && raw.chars().count() <= MAX_URL_CHARS
                && !raw.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            crate::pictures::check_external(raw)
                .map_err(|why| format!("'{}' is refused: {why}", crate::error::echo(raw)))?;
            Ok(raw.to_owned())
        }
        _ => Err(format!(
            "'{}' is not an absolute http(s) URL",
            crate::error::echo(raw)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delegates_to_the_domain_rules() {
        assert!(key("joao.silva.1").is_ok());
        assert!(key("a b").is_err());
        assert!(key("OData").is_err());
        assert!(key("0f8fad5b-d9cb-469f-a165-70867728950e").is_err());
        assert!(email("ana.silva@example.pt").is_ok());
        assert!(email("no-at.example.com").is_err());
        assert_eq!(culture("pt-pt"), Ok("pt-PT".to_owned()));
        assert!(culture("en_US").is_err());
        assert_eq!(user_name("  Ana Sá "), Ok("Ana Sá".to_owned()));
        assert!(user_name("  ").is_err());
    }

    #[test]
    fn scalars() {
        assert_eq!(boolean("TRUE"), Ok(true));
        assert_eq!(boolean("false"), Ok(false));
        assert!(boolean("yes").is_err());
        assert_eq!(status("3"), Ok(3));
        assert!(status("5").is_err());
        assert!(status("x").is_err());
        let t = timestamp("2025-03-01T10:00:00.123Z").map(|t| t.timestamp_millis());
        assert_eq!(t, Ok(1_740_823_200_123));
        assert!(timestamp("2025-03-01").is_err());
        assert!(picture_url("https://cdn.example.com/a.png").is_ok());
        assert!(picture_url("ftp://x/a.png").is_err());
        assert!(picture_url("https://").is_err());
        assert!(picture_url("http://169.254.169.254/x").is_err());
        assert!(picture_url("http://u:p@cdn.example.com/a.png").is_err());
        assert!(guid("nope").is_err());
        assert!(group_name(&"x".repeat(256)).is_err());
        assert!(description(&"x".repeat(4000)).is_ok());
    }
}
