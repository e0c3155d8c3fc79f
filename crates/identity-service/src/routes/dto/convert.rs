//! From a request body's DTO to the domain's value: `TryFrom`, reporting
//! every invalid or unknown property at once ([`BodyError::Fields`], one
//! detail each, in the order of the properties below, unknown ones first).
//! Each property is checked by the domain's value type (`EntityKey::parse`,
//! `UserName::parse`, `Email::parse`, ...); what is left here is the shape:
//! required or optional, the wrong JSON type, the defaults.
//!
//! The conversions live with the DTOs (the endpoints' layer) because the
//! domain does not know the wire format; API 1 and the feed both come here
//! (one domain path for both APIs).

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::bodies;
use crate::domain::{
    BodyError, Culture, DomainError, Email, EntityKey, LAST_LOGIN_TYPE, MAX_NAME_CHARS,
    MAX_TEXT_CHARS, NewGroup, NewRole, NewUser, PictureInput, STATUS_TYPE, UserName, UserStatus,
    bounded_text, parse_last_login_text,
};
use crate::storage::invitations::Invite;

/// The properties of `POST users`, in the order errors are reported.
const USER_PROPERTIES: &[&str] = &[
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
];

/// The properties of `POST roles`.
const ROLE_PROPERTIES: &[&str] = &[
    "roleKey",
    "description",
    "isAdministration",
    "isDefault",
    "isInternal",
    "isActive",
];

/// The properties of `POST groups`.
const GROUP_PROPERTIES: &[&str] = &["groupKey", "name", "email", "notes", "isActive"];

/// The properties of `POST users/sendInvitation`.
const INVITATION_PROPERTIES: &[&str] = &["email", "name", "userKey", "culture", "roles", "groups"];

const STRING: &str = "must be a string";
const STRING_OR_NULL: &str = "must be a string or null";
const REQUIRED: &str = "is required";
const BOOLEAN: &str = "must be true or false";
const KEYS: &str = "must be a JSON array of strings";
const PICTURE: &str = "must be a data URL or base64 string, or null";

/// A JSON body as the DTO `D`: 400 unless it is an object. Reading an
/// object never fails otherwise (every property is a lenient
/// [`super::Field`], the rest is collected).
pub fn parse_body<D: DeserializeOwned>(body: Value) -> Result<D, BodyError> {
    if !body.is_object() {
        return Err(BodyError::NotAnObject);
    }
    // Unreachable for the body DTOs; an empty list is the generic 400.
    serde_json::from_value(body).map_err(|_| BodyError::Fields(Vec::new()))
}

/// One error per unknown property.
fn unknown(properties: Map<String, Value>, allowed: &[&str]) -> Vec<DomainError> {
    properties
        .keys()
        .map(|name| {
            DomainError::new(
                name,
                format!("unknown property; expected one of: {}", allowed.join(", ")),
            )
        })
        .collect()
}

/// The value of a domain parser, or its error recorded.
fn record<T>(result: Result<T, DomainError>, errors: &mut Vec<DomainError>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

/// `Ok` when nothing was recorded.
fn finish(errors: Vec<DomainError>) -> Result<(), BodyError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(BodyError::Fields(errors))
    }
}

/// A `POST users` body with the culture used when `culture` is absent or
/// null (`Accept-Language`'s).
impl TryFrom<(bodies::NewUser, Culture)> for NewUser {
    type Error = BodyError;

    fn try_from((body, default_culture): (bodies::NewUser, Culture)) -> Result<Self, BodyError> {
        let mut e = unknown(body.unknown, USER_PROPERTIES);
        let user_key = body
            .user_key
            .required("userKey", REQUIRED, STRING, &mut e)
            .and_then(|k| record(EntityKey::parse(&k, "userKey"), &mut e));
        let name = body
            .name
            .required("name", REQUIRED, STRING, &mut e)
            .and_then(|n| record(UserName::parse(&n), &mut e));
        let culture = match body.culture.optional("culture", STRING_OR_NULL, &mut e) {
            Some(c) => record(Culture::parse(&c), &mut e),
            None => Some(default_culture),
        };
        let email = body
            .email
            .optional("email", STRING_OR_NULL, &mut e)
            .and_then(|m| record(Email::parse(&m, "email"), &mut e));
        let is_technician = body
            .is_technician
            .required(
                "isTechnician",
                "is required (true or false)",
                BOOLEAN,
                &mut e,
            )
            .unwrap_or(false);
        let is_active = body
            .is_active
            .optional("isActive", BOOLEAN, &mut e)
            .unwrap_or(true);
        let status = match body.status.optional("status", STATUS_TYPE, &mut e) {
            Some(n) => record(UserStatus::settable(n), &mut e),
            None => Some(UserStatus::Active),
        };
        let last_login = match body
            .last_login
            .optional("lastLogin", LAST_LOGIN_TYPE, &mut e)
        {
            Some(text) => record(parse_last_login_text(&text).map(Some), &mut e),
            None => Some(None),
        };
        let roles = body
            .roles
            .optional("roles", KEYS, &mut e)
            .unwrap_or_default();
        let groups = body
            .groups
            .optional("groups", KEYS, &mut e)
            .unwrap_or_default();
        let picture = body
            .picture
            .optional("picture", PICTURE, &mut e)
            .map(PictureInput::Value);
        let (Some(user_key), Some(name), Some(culture), Some(status), Some(last_login)) =
            (user_key, name, culture, status, last_login)
        else {
            finish(e)?;
            return Err(BodyError::Fields(Vec::new()));
        };
        finish(e)?;
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

/// An optional free text: a string of at most `max_chars`, or null.
fn text(
    field: super::Field<String>,
    name: &str,
    max_chars: usize,
    e: &mut Vec<DomainError>,
) -> Option<String> {
    let value = field.optional(name, STRING_OR_NULL, e)?;
    record(bounded_text(value, name, max_chars), e)
}

impl TryFrom<bodies::NewRole> for NewRole {
    type Error = BodyError;

    fn try_from(body: bodies::NewRole) -> Result<Self, BodyError> {
        let mut e = unknown(body.unknown, ROLE_PROPERTIES);
        let role_key = body
            .role_key
            .required("roleKey", REQUIRED, STRING, &mut e)
            .and_then(|k| record(EntityKey::parse(&k, "roleKey"), &mut e));
        let description = text(body.description, "description", MAX_TEXT_CHARS, &mut e);
        let mut flag = |field: super::Field<bool>, name: &str, default: bool| {
            field.optional(name, BOOLEAN, &mut e).unwrap_or(default)
        };
        let is_administration = flag(body.is_administration, "isAdministration", false);
        let is_default = flag(body.is_default, "isDefault", false);
        let is_internal = flag(body.is_internal, "isInternal", false);
        let is_active = flag(body.is_active, "isActive", true);
        let Some(role_key) = role_key else {
            finish(e)?;
            return Err(BodyError::Fields(Vec::new()));
        };
        finish(e)?;
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

impl TryFrom<bodies::NewGroup> for NewGroup {
    type Error = BodyError;

    fn try_from(body: bodies::NewGroup) -> Result<Self, BodyError> {
        let mut e = unknown(body.unknown, GROUP_PROPERTIES);
        let group_key = body
            .group_key
            .required("groupKey", REQUIRED, STRING, &mut e)
            .and_then(|k| record(EntityKey::parse(&k, "groupKey"), &mut e));
        let name = text(body.name, "name", MAX_NAME_CHARS, &mut e);
        let email = body
            .email
            .optional("email", STRING_OR_NULL, &mut e)
            .and_then(|m| record(Email::parse(&m, "email"), &mut e));
        let notes = text(body.notes, "notes", MAX_TEXT_CHARS, &mut e);
        let is_active = body
            .is_active
            .optional("isActive", BOOLEAN, &mut e)
            .unwrap_or(true);
        let Some(group_key) = group_key else {
            finish(e)?;
            return Err(BodyError::Fields(Vec::new()));
        };
        finish(e)?;
        Ok(NewGroup {
            group_key,
            name,
            email,
            notes,
            is_active,
        })
    }
}

/// A `POST users/sendInvitation` body with the culture of the request
/// (`Accept-Language`'s), used when the body has none. The types of the
/// four texts are checked before their values (the order of the details).
impl TryFrom<(bodies::InvitedUser, Culture)> for Invite {
    type Error = BodyError;

    fn try_from(
        (body, default_culture): (bodies::InvitedUser, Culture),
    ) -> Result<Self, BodyError> {
        let mut e = unknown(body.unknown, INVITATION_PROPERTIES);
        let email = body.email.required("email", REQUIRED, STRING, &mut e);
        let name = body.name.optional("name", STRING, &mut e);
        let user_key = body.user_key.optional("userKey", STRING, &mut e);
        let culture = body.culture.optional("culture", STRING, &mut e);
        let email =
            email.and_then(|m| record(Email::parse(&m, "email").map(Email::into_inner), &mut e));
        let name = name.and_then(|n| record(UserName::parse(&n).map(UserName::into_inner), &mut e));
        let user_key = user_key.and_then(|k| {
            record(
                EntityKey::parse(&k, "userKey").map(EntityKey::into_inner),
                &mut e,
            )
        });
        let culture =
            culture.and_then(|c| record(Culture::parse(&c).map(Culture::into_inner), &mut e));
        let roles = body.roles.optional("roles", KEYS, &mut e);
        let groups = body.groups.optional("groups", KEYS, &mut e);
        let Some(email) = email else {
            finish(e)?;
            return Err(BodyError::Fields(vec![DomainError::new("email", REQUIRED)]));
        };
        finish(e)?;
        Ok(Invite {
            email,
            name,
            user_key,
            culture,
            default_culture: default_culture.into_inner(),
            roles,
            groups,
        })
    }
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
