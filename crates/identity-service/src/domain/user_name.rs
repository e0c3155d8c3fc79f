use super::DomainError;

/// Longest name, in characters.
pub const MAX_NAME_CHARS: usize = 255;

/// A user's display name: not empty after trimming, at most 255 characters.
/// Stored trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    pub fn parse(value: &str) -> Result<UserName, DomainError> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(DomainError::new("name", "must not be empty"));
        }
        let chars = trimmed.chars().count();
        if chars > MAX_NAME_CHARS {
            return Err(DomainError::new(
                "name",
                format!("must be at most {MAX_NAME_CHARS} characters, got {chars}"),
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(DomainError::new(
                "name",
                "must not contain control characters",
            ));
        }
        Ok(UserName(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_limits() {
        assert_eq!(UserName::parse("  Jane Doe ").unwrap().as_str(), "Jane Doe");
        assert!(UserName::parse("   ").is_err());
        assert!(UserName::parse("").is_err());
        assert!(UserName::parse(&"é".repeat(255)).is_ok());
        assert!(UserName::parse(&"é".repeat(256)).is_err());
        assert!(UserName::parse("a\u{0}b").is_err());
    }
}
