use super::DomainError;

/// What a `status` that is not an integer is told.
pub const STATUS_TYPE: &str = "must be an integer: 1 (Active) or 2 (Inactive)";

/// The user status enum of the seed: 1 Active, 2 Inactive,
/// 3 InvitationSent, 4 InvitationExpired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Active = 1,
    Inactive = 2,
    InvitationSent = 3,
    InvitationExpired = 4,
}

impl UserStatus {
    /// The integer stored and returned in JSON.
    pub fn as_i32(self) -> i32 {
        self as i32
    }

    /// Any of the four values (e.g. read from the database).
    pub fn from_i64(value: i64) -> Option<UserStatus> {
        match value {
            1 => Some(UserStatus::Active),
            2 => Some(UserStatus::Inactive),
            3 => Some(UserStatus::InvitationSent),
            4 => Some(UserStatus::InvitationExpired),
            _ => None,
        }
    }

    /// A status a client may set through POST or PUT: only 1 or 2 (3 and 4
    /// are the invitation workflow's).
    pub fn parse_settable(value: &serde_json::Value) -> Result<UserStatus, DomainError> {
        let Some(n) = value.as_i64() else {
            return Err(DomainError::new("status", STATUS_TYPE));
        };
        UserStatus::settable(n)
    }

    /// [`UserStatus::parse_settable`] of an integer.
    pub fn settable(n: i64) -> Result<UserStatus, DomainError> {
        match UserStatus::from_i64(n) {
            Some(s @ (UserStatus::Active | UserStatus::Inactive)) => Ok(s),
            Some(_) => Err(DomainError::new(
                "status",
                format!("{n} is set by the invitation workflow; use 1 (Active) or 2 (Inactive)"),
            )),
            None => Err(DomainError::new(
                "status",
                format!("{n} is not a status; use 1 (Active) or 2 (Inactive)"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_one_and_two_are_settable() {
        assert_eq!(
            UserStatus::parse_settable(&json!(1)).unwrap(),
            UserStatus::Active
        );
        assert_eq!(
            UserStatus::parse_settable(&json!(2)).unwrap(),
            UserStatus::Inactive
        );
        for v in [
            json!(3),
            json!(4),
            json!(0),
            json!(5),
            json!("1"),
            json!(1.5),
            json!(null),
        ] {
            assert!(UserStatus::parse_settable(&v).is_err(), "{v}");
        }
    }
}
