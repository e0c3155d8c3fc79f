use std::fmt;

use super::DomainError;

/// Longest key, in characters.
pub const MAX_KEY_CHARS: usize = 100;

/// Words that are literal route segments and therefore cannot be keys.
const RESERVED: [&str; 2] = ["odata", "sendInvitation"];

/// A `userKey`, `roleKey` or `groupKey`: 1–100 characters, no `/`,
/// whitespace or control characters, not a GUID (a GUID segment in a route
/// is an id), not a reserved route word (case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntityKey(String);

impl EntityKey {
    /// Parses a key; `field` names the property for the error.
    pub fn parse(value: &str, field: &str) -> Result<EntityKey, DomainError> {
        let chars = value.chars().count();
        if chars == 0 {
            return Err(DomainError::new(field, "must not be empty"));
        }
        if chars > MAX_KEY_CHARS {
            return Err(DomainError::new(
                field,
                format!("must be at most {MAX_KEY_CHARS} characters, got {chars}"),
            ));
        }
        if let Some(c) = value
            .chars()
            .find(|c| *c == '/' || c.is_whitespace() || c.is_control())
        {
            return Err(DomainError::new(
                field,
                format!("must not contain '/', whitespace or control characters (found {c:?})"),
            ));
        }
        if uuid::Uuid::try_parse(value).is_ok() {
            return Err(DomainError::new(
                field,
                "must not be a GUID (GUIDs address records by id)",
            ));
        }
        if let Some(word) = RESERVED.iter().find(|w| w.eq_ignore_ascii_case(value)) {
            return Err(DomainError::new(
                field,
                format!("'{word}' is a reserved route segment"),
            ));
        }
        Ok(EntityKey(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive form stored in `*_key_norm` columns.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for EntityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_keys() {
        for k in [
            "jane",
            "JANE.DOE",
            "a",
            "j@x.com",
            "Ünïcode-ключ",
            &"x".repeat(100),
        ] {
            assert_eq!(EntityKey::parse(k, "userKey").unwrap().as_str(), k);
        }
    }

    #[test]
    fn refuses_bad_keys() {
        for k in [
            "",
            "a b",
            "a/b",
            "tab\there",
            "nl\n",
            "\u{7}",
            &"x".repeat(101),
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            "3F2504E04F8911D39A0C0305E82C3301",
            "odata",
            "OData",
            "sendinvitation",
            "SENDINVITATION",
        ] {
            assert!(EntityKey::parse(k, "userKey").is_err(), "{k:?} accepted");
        }
    }

    #[test]
    fn normalized_is_unicode_lowercase() {
        assert_eq!(EntityKey::parse("ÄBC", "k").unwrap().normalized(), "äbc");
    }
}
