//! API 1 group routes under `/api/{tenantKey}/{orgKey}/identity/groups`.

use serde_json::Value;

use super::catalog::{self, CatalogRoutes, boolean};
use super::dto::parse_body;
use crate::domain::{Email, MAX_TEXT_CHARS, NewGroup};
use crate::error::ApiError;
use crate::odata::EntityKind;
use crate::storage::groups::{GroupAttribute, Groups};

/// The attributes `PUT groups/{groupKey}/{attr}` accepts.
pub const SETTABLE: &[&str] = &["groupKey", "name", "email", "notes", "isActive"];

catalog::catalog_routes! {
    catalog = Groups,
    tag = "Groups",
    record = super::dto::Group,
    new = super::dto::NewGroup,
    list_path = "/groups/odata",
    set_path = "/groups",
    record_path = "/groups/{id}",
    attribute_path = "/groups/{id}/{attribute}",
    ids = ["list_groups", "get_groups", "create_groups", "delete_groups"],
    attributes = [
        ("groupKey", schema::string(false, Some(100))),
        ("name", schema::string(true, Some(255))),
        ("email", schema::email()),
        ("notes", schema::string(true, None)),
        ("isActive", schema::boolean()),
    ],
}

impl CatalogRoutes for Groups {
    const SET: &'static str = "groups";
    const KIND: EntityKind = EntityKind::Group;
    const SETTABLE: &'static [&'static str] = SETTABLE;

    fn parse_new(body: Value) -> Result<NewGroup, ApiError> {
        Ok(NewGroup::try_from(parse_body::<super::dto::NewGroup>(
            body,
        )?)?)
    }

    fn parse_attribute(attr: &str, body: &Value) -> Result<GroupAttribute, ApiError> {
        Ok(match attr {
            "name" => GroupAttribute::Name(super::optional_text(body, attr, 255)?),
            "notes" => GroupAttribute::Notes(super::optional_text(body, attr, MAX_TEXT_CHARS)?),
            "email" => match body {
                Value::Null => GroupAttribute::Email(None),
                Value::String(s) => GroupAttribute::Email(Some(Email::parse(s, "email")?)),
                _ => {
                    return Err(ApiError::bad_request(
                        "email must be a string or null",
                        Some(attr),
                    ));
                }
            },
            "isActive" => GroupAttribute::IsActive(boolean(attr, body)?),
            other => return Err(catalog::not_settable::<Self>(other)),
        })
    }
}
