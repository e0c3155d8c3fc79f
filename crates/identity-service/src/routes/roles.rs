//! API 1 role routes under `/api/{tenantKey}/{orgKey}/identity/roles`.

use serde_json::Value;

use super::catalog::{self, CatalogRoutes, boolean};
use super::dto::parse_body;
use crate::domain::{MAX_TEXT_CHARS, NewRole};
use crate::error::ApiError;
use crate::odata::EntityKind;
use crate::storage::roles::{RoleAttribute, Roles};

/// The attributes `PUT roles/{roleKey}/{attr}` accepts.
pub const SETTABLE: &[&str] = &[
    "roleKey",
    "description",
    "isAdministration",
    "isDefault",
    "isInternal",
    "isActive",
];

catalog::catalog_routes! {
    catalog = Roles,
    tag = "Roles",
    record = super::dto::Role,
    new = super::dto::NewRole,
    list_path = "/roles/odata",
    set_path = "/roles",
    record_path = "/roles/{id}",
    attribute_path = "/roles/{id}/{attribute}",
    ids = ["list_roles", "get_roles", "create_roles", "delete_roles"],
    attributes = [
        ("roleKey", schema::string(false, Some(100))),
        ("description", schema::string(true, None)),
        ("isAdministration", schema::boolean()),
        ("isDefault", schema::boolean()),
        ("isInternal", schema::boolean()),
        ("isActive", schema::boolean()),
    ],
}

impl CatalogRoutes for Roles {
    const SET: &'static str = "roles";
    const KIND: EntityKind = EntityKind::Role;
    const SETTABLE: &'static [&'static str] = SETTABLE;

    fn parse_new(body: Value) -> Result<NewRole, ApiError> {
        Ok(NewRole::try_from(parse_body::<super::dto::NewRole>(body)?)?)
    }

    fn parse_attribute(attr: &str, body: &Value) -> Result<RoleAttribute, ApiError> {
        Ok(match attr {
            "description" => {
                RoleAttribute::Description(super::optional_text(body, attr, MAX_TEXT_CHARS)?)
            }
            "isAdministration" => RoleAttribute::IsAdministration(boolean(attr, body)?),
            "isDefault" => RoleAttribute::IsDefault(boolean(attr, body)?),
            "isInternal" => RoleAttribute::IsInternal(boolean(attr, body)?),
            "isActive" => RoleAttribute::IsActive(boolean(attr, body)?),
            other => return Err(catalog::not_settable::<Self>(other)),
        })
    }
}
