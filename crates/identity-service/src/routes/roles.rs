//! API 1 role routes under `/api/{tenantKey}/{orgKey}/identity/roles`.

use actix_web::web;
use serde_json::Value;

use super::catalog::{self, CatalogRoutes, boolean};
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

pub fn configure(cfg: &mut web::ServiceConfig) {
    catalog::configure::<Roles>(cfg);
}

impl CatalogRoutes for Roles {
    const SET: &'static str = "roles";
    const KIND: EntityKind = EntityKind::Role;
    const SETTABLE: &'static [&'static str] = SETTABLE;

    fn parse_new(body: &Value) -> Result<NewRole, ApiError> {
        NewRole::from_json(body)
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
