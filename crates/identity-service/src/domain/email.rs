use std::fmt;

use super::DomainError;

/// A syntactically valid e-mail address (`local@domain`, RFC 5321 limits:
/// local part at most 64 octets, whole address at most 254; dot-atom local
/// part; domain of dot-separated labels of letters, digits and hyphens, at
/// least two labels). Stored as given; compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

const LOCAL_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";

impl Email {
    pub fn parse(value: &str, field: &str) -> Result<Email, DomainError> {
        let invalid = |why: &str| {
            Err(DomainError::new(
                field,
                format!(
                    "'{}' is not a valid e-mail address: {why}",
                    super::echo(value)
                ),
            ))
        };
        let value_trimmed = value.trim();
        if value_trimmed.len() != value.len() {
            return invalid("leading or trailing whitespace");
        }
        if value.len() > 254 {
            return invalid("longer than 254 characters");
        }
        let Some((local, domain)) = value.rsplit_once('@') else {
            return invalid("missing '@'");
        };
        if local.is_empty() || local.len() > 64 {
            return invalid("the part before '@' must have 1 to 64 characters");
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return invalid("misplaced '.' before '@'");
        }
        if !local
            .chars()
            .all(|c| c == '.' || c.is_alphanumeric() || LOCAL_SPECIALS.contains(c))
        {
            return invalid("unexpected character before '@'");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 {
            return invalid("the domain needs at least one '.'");
        }
        for label in &labels {
            if label.is_empty() || label.chars().count() > 63 {
                return invalid("empty or too long domain label");
            }
            if label.starts_with('-') || label.ends_with('-') {
                return invalid("a domain label starts or ends with '-'");
            }
            if !label.chars().all(|c| c == '-' || c.is_alphanumeric()) {
                return invalid("unexpected character in the domain");
            }
        }
        Ok(Email(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive form stored in `email_norm`.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_addresses() {
        for e in [
            "jane@example.com",
            "Jane.Doe+tag@Example.CO.uk",
            "o'neil@x-y.org",
            "ü@bücher.de",
        ] {
            assert!(Email::parse(e, "email").is_ok(), "{e}");
        }
    }

    #[test]
    fn refuses_invalid_addresses() {
        for e in [
            "",
            "jane",
            "@example.com",
            "jane@",
            "jane@example",
            "jane@.com",
            "jane@ex..com",
            ".jane@x.com",
            "ja..ne@x.com",
            "ja ne@x.com",
            " jane@x.com",
            "jane@-x.com",
            "jane@x_y.com",
            "a@b@c.com",
        ] {
            assert!(Email::parse(e, "email").is_err(), "{e} accepted");
        }
    }
}
