use super::DomainError;

/// A tenant or organization key: 1–100 characters without `/`, whitespace
/// or control characters. Matched case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantKey(String);

impl TenantKey {
    pub fn parse(value: &str, field: &str) -> Result<TenantKey, DomainError> {
        let chars = value.chars().count();
        if chars == 0 || chars > 100 {
            return Err(DomainError::new(field, "must have 1 to 100 characters"));
        }
        if value
            .chars()
            .any(|c| c == '/' || c.is_whitespace() || c.is_control())
        {
            return Err(DomainError::new(
                field,
                "must not contain '/', whitespace or control characters",
            ));
        }
        Ok(TenantKey(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_keys() {
        assert!(TenantKey::parse("acme", "tenant").is_ok());
        assert!(TenantKey::parse("3f2504e0-4f89-11d3-9a0c-0305e82c3301", "tenant").is_ok());
        assert!(TenantKey::parse("", "tenant").is_err());
        assert!(TenantKey::parse("a b", "tenant").is_err());
        assert!(TenantKey::parse("a/b", "tenant").is_err());
    }
}
