//! The request bodies of the creates: what a client sends, each property a
//! lenient [`Field`] and every other property collected in `unknown`, so
//! that [`super::convert`] can report every invalid or unknown property at
//! once. The schemas describe each field as the type it stands for; the
//! document closes them (`additionalProperties: false`, see
//! [`closed`]) since the DTOs accept any property to report it.

use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::Field;

/// The body of `POST users` (Valuekeep's ApiUserResource).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ApiUserResource, example = json!({
    "userKey": "ana.lima", "name": "Ana Lima", "isTechnician": true,
    "email": "ana.lima@example.pt", "culture": "pt-PT", "roles": [], "groups": []
}))]
pub struct NewUser {
    #[serde(default)]
    #[schema(value_type = String, required = true, max_length = 100)]
    pub user_key: Field<String>,
    #[serde(default)]
    #[schema(value_type = String, required = true, max_length = 255)]
    pub name: Field<String>,
    #[serde(default)]
    #[schema(value_type = bool, required = true)]
    pub is_technician: Field<bool>,
    /// BCP 47; default from `Accept-Language`, else `en-US`
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub culture: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Email)]
    pub email: Field<String>,
    /// Role keys
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub roles: Field<Vec<String>>,
    /// Group keys
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub groups: Field<Vec<String>>,
    /// 1 Active or 2 Inactive
    #[serde(default)]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 2)]
    pub status: Field<i64>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub is_active: Field<bool>,
    // Read as text: the domain parses RFC 3339 (and names a bad value).
    #[serde(default)]
    #[schema(value_type = Option<chrono::DateTime<chrono::Utc>>)]
    pub last_login: Field<String>,
    /// Data URL, base64 or http(s) URL
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub picture: Field<String>,
    /// Every other property (each one is an error).
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: Map<String, Value>,
}

/// The body of `POST users/sendInvitation`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"email": "new.person@example.com", "roles": []}))]
pub struct InvitedUser {
    #[serde(default)]
    #[schema(value_type = String, required = true, format = Email)]
    pub email: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub user_key: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub culture: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub roles: Field<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub groups: Field<Vec<String>>,
    /// Every other property (each one is an error).
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: Map<String, Value>,
}

/// The body of `POST roles`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"roleKey": "auditor", "description": "Reads everything"}))]
pub struct NewRole {
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    pub role_key: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub is_administration: Field<bool>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub is_default: Field<bool>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub is_internal: Field<bool>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub is_active: Field<bool>,
    /// Every other property (each one is an error).
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: Map<String, Value>,
}

/// The body of `POST groups`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"groupKey": "field-team", "name": "Field team"}))]
pub struct NewGroup {
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    pub group_key: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Email)]
    pub email: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub notes: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub is_active: Field<bool>,
    /// Every other property (each one is an error).
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: Map<String, Value>,
}

/// The names of the body schemas above: the document gives each
/// `additionalProperties: false` (`utoipa` writes it only for
/// `deny_unknown_fields`, which cannot go with the `flatten` that collects
/// the unknown properties to report them).
pub fn closed() -> [String; 4] {
    use utoipa::ToSchema as _;
    [
        NewUser::name().into_owned(),
        InvitedUser::name().into_owned(),
        NewRole::name().into_owned(),
        NewGroup::name().into_owned(),
    ]
}
