//! Bodies of `POST users`, `POST roles` and `POST groups`, parsed from JSON
//! into valid values (every invalid property is reported at once).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{BodyError, Culture, DomainError, Email, EntityKey, UserName, UserStatus};

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

/// Collects the errors of every property of one body.
struct Fields<'a> {
    object: &'a Map<String, Value>,
    errors: Vec<DomainError>,
}

impl<'a> Fields<'a> {
    fn new(body: &'a Value, allowed: &[&str]) -> Result<Fields<'a>, BodyError> {
        let Some(object) = body.as_object() else {
            return Err(BodyError::NotAnObject);
        };
        let mut errors = Vec::new();
        for name in object.keys() {
            if !allowed.contains(&name.as_str()) {
                errors.push(DomainError::new(
                    name,
                    format!("unknown property; expected one of: {}", allowed.join(", ")),
                ));
            }
        }
        Ok(Fields { object, errors })
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.object.get(name)
    }

    fn required_str(&mut self, name: &str) -> Option<&'a str> {
        match self.get(name) {
            Some(Value::String(s)) => Some(s),
            None | Some(Value::Null) => {
                self.errors.push(DomainError::new(name, "is required"));
                None
            }
            Some(_) => {
                self.errors.push(DomainError::new(name, "must be a string"));
                None
            }
        }
    }

    fn optional_str(&mut self, name: &str) -> Option<&'a str> {
        match self.get(name) {
            Some(Value::String(s)) => Some(s),
            None | Some(Value::Null) => None,
            Some(_) => {
                self.errors
                    .push(DomainError::new(name, "must be a string or null"));
                None
            }
        }
    }

    fn bool_or(&mut self, name: &str, required: bool, default: bool) -> bool {
        match self.get(name) {
            Some(Value::Bool(b)) => *b,
            None | Some(Value::Null) if !required => default,
            None | Some(Value::Null) => {
                self.errors
                    .push(DomainError::new(name, "is required (true or false)"));
                default
            }
            Some(_) => {
                self.errors
                    .push(DomainError::new(name, "must be true or false"));
                default
            }
        }
    }

    fn keys(&mut self, name: &str) -> Vec<String> {
        match self.get(name) {
            None | Some(Value::Null) => Vec::new(),
            Some(value) => match key_list(value, name) {
                Ok(keys) => keys,
                Err(e) => {
                    self.errors.push(e);
                    Vec::new()
                }
            },
        }
    }

    fn record<T>(&mut self, result: Result<T, DomainError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    fn finish(self) -> Result<(), BodyError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(BodyError::Fields(self.errors))
        }
    }
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
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|d| Some(super::stored(d.with_timezone(&Utc))))
            .map_err(|_| {
                DomainError::new(
                    "lastLogin",
                    format!(
                        "'{s}' is not an RFC 3339 date-time with offset (e.g. 2024-05-01T10:00:00Z)"
                    ),
                )
            }),
        _ => Err(DomainError::new(
            "lastLogin",
            "must be an RFC 3339 date-time string or null",
        )),
    }
}

fn optional_text(fields: &mut Fields<'_>, name: &str, max_chars: Option<usize>) -> Option<String> {
    let value = fields.optional_str(name)?;
    if let Some(max) = max_chars {
        let n = value.chars().count();
        if n > max {
            fields.errors.push(DomainError::new(
                name,
                format!("must be at most {max} characters, got {n}"),
            ));
            return None;
        }
    }
    Some(value.to_owned())
}

impl NewUser {
    /// Parses a `POST users` body (ApiUserResource). `default_culture` is used
    /// when `culture` is absent or null.
    pub fn from_json(body: &Value, default_culture: Culture) -> Result<NewUser, BodyError> {
        let mut f = Fields::new(
            body,
            &[
                "userKey",
                "name",
                "culture",
                "email",
                "isTechnician",
                "isActive",
                "lastLogin",
                "roles",
                "groups",
                "status",
                "picture",
            ],
        )?;
        let user_key = f
            .required_str("userKey")
            .and_then(|k| f.record(EntityKey::parse(k, "userKey")));
        let name = f
            .required_str("name")
            .and_then(|n| f.record(UserName::parse(n)));
        let culture = match f.optional_str("culture") {
            Some(c) => f.record(Culture::parse(c)),
            None => Some(default_culture),
        };
        let email = f
            .optional_str("email")
            .and_then(|e| f.record(Email::parse(e, "email")));
        let is_technician = f.bool_or("isTechnician", true, false);
        let is_active = f.bool_or("isActive", false, true);
        let status = match f.get("status") {
            None | Some(Value::Null) => Some(UserStatus::Active),
            Some(v) => f.record(UserStatus::parse_settable(v)),
        };
        let last_login = match f.get("lastLogin") {
            None => Some(None),
            Some(v) => f.record(parse_last_login(v)),
        };
        let roles = f.keys("roles");
        let groups = f.keys("groups");
        let picture = match f.get("picture") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(PictureInput::Value(s.clone())),
            Some(_) => {
                f.errors.push(DomainError::new(
                    "picture",
                    "must be a data URL or base64 string, or null",
                ));
                None
            }
        };
        let (Some(user_key), Some(name), Some(culture), Some(status), Some(last_login)) =
            (user_key, name, culture, status, last_login)
        else {
            f.finish()?;
            return Err(BodyError::Fields(Vec::new()));
        };
        f.finish()?;
        Ok(NewUser {
            user_key,
            name,
            culture,
            email,
            is_technician,
            is_active,
            status,
            last_login,
            roles,
            groups,
            picture,
        })
    }
}

/// Longest role description / group notes, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;

impl NewRole {
    /// Parses a `POST roles` body.
    pub fn from_json(body: &Value) -> Result<NewRole, BodyError> {
        let mut f = Fields::new(
            body,
            &[
                "roleKey",
                "description",
                "isAdministration",
                "isDefault",
                "isInternal",
                "isActive",
            ],
        )?;
        let role_key = f
            .required_str("roleKey")
            .and_then(|k| f.record(EntityKey::parse(k, "roleKey")));
        let description = optional_text(&mut f, "description", Some(MAX_TEXT_CHARS));
        let is_administration = f.bool_or("isAdministration", false, false);
        let is_default = f.bool_or("isDefault", false, false);
        let is_internal = f.bool_or("isInternal", false, false);
        let is_active = f.bool_or("isActive", false, true);
        let Some(role_key) = role_key else {
            f.finish()?;
            return Err(BodyError::Fields(Vec::new()));
        };
        f.finish()?;
        Ok(NewRole {
            role_key,
            description,
            is_administration,
            is_default,
            is_internal,
            is_active,
        })
    }
}

impl NewGroup {
    /// Parses a `POST groups` body.
    pub fn from_json(body: &Value) -> Result<NewGroup, BodyError> {
        let mut f = Fields::new(body, &["groupKey", "name", "email", "notes", "isActive"])?;
        let group_key = f
            .required_str("groupKey")
            .and_then(|k| f.record(EntityKey::parse(k, "groupKey")));
        let name = optional_text(&mut f, "name", Some(super::user_name::MAX_NAME_CHARS));
        let email = f
            .optional_str("email")
            .and_then(|e| f.record(Email::parse(e, "email")));
        let notes = optional_text(&mut f, "notes", Some(MAX_TEXT_CHARS));
        let is_active = f.bool_or("isActive", false, true);
        let Some(group_key) = group_key else {
            f.finish()?;
            return Err(BodyError::Fields(Vec::new()));
        };
        f.finish()?;
        Ok(NewGroup {
            group_key,
            name,
            email,
            notes,
            is_active,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn en() -> Culture {
        Culture::from_accept_language(None)
    }

    #[test]
    fn minimal_user_gets_defaults() {
        let u = NewUser::from_json(
            &json!({"userKey":"jane","name":"Jane","isTechnician":false}),
            en(),
        )
        .unwrap();
        assert_eq!(u.user_key.as_str(), "jane");
        assert_eq!(u.culture.as_str(), "en-US");
        assert_eq!(u.status, UserStatus::Active);
        assert!(u.is_active);
        assert!(u.roles.is_empty() && u.email.is_none() && u.picture.is_none());
    }

    #[test]
    fn full_user() {
        let u = NewUser::from_json(
            &json!({"userKey":"jane","name":" Jane ","isTechnician":true,"culture":"pt-pt",
                "email":"j@x.com","roles":["A"],"groups":["g"],"status":2,
                "lastLogin":"2024-05-01T10:00:00+02:00","picture":"aGk="}),
            en(),
        )
        .unwrap();
        assert_eq!(u.name.as_str(), "Jane");
        assert_eq!(u.culture.as_str(), "pt-PT");
        assert_eq!(u.status, UserStatus::Inactive);
        assert_eq!(
            u.last_login.unwrap().to_rfc3339(),
            "2024-05-01T08:00:00+00:00"
        );
        assert_eq!(u.picture, Some(PictureInput::Value("aGk=".into())));
    }

    #[test]
    fn every_invalid_property_is_reported() {
        let err = NewUser::from_json(
            &json!({"userKey":"a b","name":"","isTechnician":"yes","status":3,"extra":1}),
            en(),
        )
        .unwrap_err();
        match err {
            BodyError::Fields(errors) => {
                let targets: Vec<_> = errors.iter().map(|e| e.field.clone()).collect();
                for t in ["userKey", "name", "isTechnician", "status", "extra"] {
                    assert!(
                        targets.contains(&t.to_owned()),
                        "{t} missing in {targets:?}"
                    );
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn required_and_non_object() {
        assert!(NewUser::from_json(&json!({"name":"x","isTechnician":true}), en()).is_err());
        assert!(NewUser::from_json(&json!(["x"]), en()).is_err());
        assert!(NewUser::from_json(&json!({"userKey":"k","name":"n"}), en()).is_err());
    }

    #[test]
    fn roles_and_groups() {
        let r = NewRole::from_json(&json!({"roleKey":"ADMIN","isAdministration":true})).unwrap();
        assert!(r.is_administration && r.is_active && !r.is_default);
        assert!(NewRole::from_json(&json!({"roleKey":"odata"})).is_err());
        assert!(NewRole::from_json(&json!({"roleKey":"x","isDefault":1})).is_err());
        let g = NewGroup::from_json(&json!({"groupKey":"g1","email":"g@x.com"})).unwrap();
        assert_eq!(g.email.unwrap().as_str(), "g@x.com");
        assert!(NewGroup::from_json(&json!({"groupKey":"g1","email":"bad"})).is_err());
    }
}
