//! The bodies of the feed's writes: an OData JSON entity split into the
//! properties a client may write (parsed afterwards by the same domain
//! parsers as API 1's bodies), the `@odata.bind` references of a new
//! user's roles and groups, and what the service computes itself (ignored,
//! as OData §11.4.3 asks of key and other non-updatable properties).

use odata_sql::schema::EntitySet;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::paths::{Target, entity_set, resolve};
use crate::domain::DomainError;
use crate::error::ApiError;
use crate::error::invalid_fields;
use crate::odata::EntityKind;

/// The properties of `set` a client may write on the feed: API 1's
/// settable attributes that are properties of the entity type here, but
/// `picture` (an upload of API 1). A user's `roles` and `groups` are
/// navigation properties on the feed (`@odata.bind`, `$ref`).
pub fn settable(set: &EntitySet) -> Vec<&'static str> {
    let api1: &[&'static str] = match kind(set) {
        Some(EntityKind::User) => crate::routes::users::SETTABLE,
        Some(EntityKind::Role) => crate::routes::roles::SETTABLE,
        Some(EntityKind::Group) => crate::routes::groups::SETTABLE,
        None => &[],
    };
    api1.iter()
        .copied()
        .filter(|name| *name != PICTURE && set.entity_type.property(name).is_some())
        .collect()
}

fn kind(set: &EntitySet) -> Option<EntityKind> {
    [EntityKind::User, EntityKind::Role, EntityKind::Group]
        .into_iter()
        .find(|k| k.entity_set() == set.name)
}

const PICTURE: &str = "picture";

/// An entity body, split.
#[derive(Debug, Default)]
pub struct EntityBody {
    /// The settable properties as sent.
    pub properties: Map<String, Value>,
    /// `<navigation>@odata.bind` members: the navigation's name and the
    /// value as sent.
    pub binds: Vec<(String, Value)>,
}

/// Splits an entity body of `set`. 400 for a body that is not an object,
/// `picture` (an API 1 upload), and unknown properties (each in `details`);
/// 501 for a navigation property with inline content (deep insert or
/// update). Instance annotations (`@odata.type`, `name@odata.type`, ...)
/// and the properties the service computes (`id`, `version`,
/// `createdOn`, ...) are ignored.
pub fn split(set: &EntitySet, body: Value) -> Result<EntityBody, ApiError> {
    let Value::Object(object) = body else {
        return Err(ApiError::bad_request(
            format!(
                "the request body must be a JSON object: one {}",
                set.entity_type.name
            ),
            None,
        ));
    };
    let settable = settable(set);
    let mut out = EntityBody::default();
    let mut errors = Vec::new();
    for (name, value) in object {
        if let Some((member, annotation)) = name.split_once('@') {
            // `odata.bind` (4.0) or `bind` (the 4.01 spelling without prefix).
            if annotation.eq_ignore_ascii_case("odata.bind") || annotation == "bind" {
                if set.entity_type.navigation(member).is_some() {
                    out.binds.push((member.to_owned(), value));
                } else {
                    errors.push(DomainError::new(
                        &name,
                        format!(
                            "{} has no navigation property `{member}` to bind",
                            set.entity_type.name
                        ),
                    ));
                }
            }
            // Other annotations (`@odata.etag`, `name@odata.type`) carry
            // nothing to write.
            continue;
        }
        if set.entity_type.navigation(&name).is_some() {
            return Err(ApiError::NotImplemented {
                message: format!(
                    "deep insert and deep update are not supported: link existing entities with \
                     `{name}@odata.bind` on create or POST …/{name}/$ref"
                ),
                target: Some(name),
                details: Vec::new(),
            });
        }
        if name == PICTURE && set.entity_type.property(PICTURE).is_some() {
            errors.push(DomainError::new(
                PICTURE,
                "is not writable on the feed: set or remove the picture with API 1 \
                 (PUT …/identity/users/{id}/picture)",
            ));
        } else if settable.contains(&name.as_str()) {
            out.properties.insert(name, value);
        } else if set.entity_type.property(&name).is_none() {
            errors.push(DomainError::new(
                &name,
                format!(
                    "unknown property of {}; the writable ones are: {}",
                    set.entity_type.name,
                    settable.join(", ")
                ),
            ));
        }
        // A property the service computes (`id`, `version`, ...) is ignored.
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(invalid_fields(errors))
    }
}

/// The entities a `<navigation>@odata.bind` value names: a JSON array of
/// entity ids of `target`, each `Roles(<id>)` relative to the service
/// root, or an absolute URL (or absolute path) under `root_path`
/// (`/api/t/o/odata`) whatever its host. Ids as strings, in order.
pub fn bind_ids(
    member: &str,
    value: &Value,
    target: &EntitySet,
    root_path: &str,
) -> Result<Vec<String>, ApiError> {
    let target_name = format!("{member}@odata.bind");
    let Value::Array(items) = value else {
        return Err(ApiError::bad_request(
            format!(
                "{target_name} must be a JSON array of entity ids such as \"{}(<id>)\"",
                target.name
            ),
            Some(&target_name),
        ));
    };
    items
        .iter()
        .map(|item| {
            let text = item.as_str().ok_or_else(|| {
                ApiError::bad_request(
                    format!("{target_name} must hold strings (entity ids)"),
                    Some(&target_name),
                )
            })?;
            entity_id(text, target, root_path, &target_name).map(|id| id.to_string())
        })
        .collect()
}

/// The id of the entity of `target` that entity id (or URL) `text` names;
/// 400 naming `what` otherwise.
pub fn entity_id(
    text: &str,
    target: &EntitySet,
    root_path: &str,
    what: &str,
) -> Result<Uuid, ApiError> {
    let bad = |why: &str| {
        ApiError::bad_request(
            format!(
                "`{}` {why}; expected an entity id such as {}(6f9619ff-8b86-d011-b42d-00c04fc964ff), \
                 relative to the service root or an absolute URL of this service",
                crate::error::echo(text),
                target.name
            ),
            Some(what),
        )
    };
    let path = match text.find("://") {
        Some(i) => {
            let after = &text[i + 3..];
            after.find('/').map_or("", |j| &after[j..])
        }
        None => text,
    };
    let relative = if path.starts_with('/') {
        let root = root_path.trim_end_matches('/');
        match path.get(..root.len()) {
            Some(head) if head.eq_ignore_ascii_case(root) => {
                path[root.len()..].trim_start_matches('/')
            }
            _ => return Err(bad("is not under this service's root")),
        }
    } else {
        path
    };
    let parsed =
        odata_parser::parse_resource_path(relative, &odata_parser::ParserOptions::default())
            .map_err(|_| bad("is not an entity id"))?;
    match resolve(&parsed) {
        Ok(Target::Entity { set, id }) if set.name == target.name => Ok(id),
        Ok(Target::Entity { .. }) => Err(bad(&format!("is not an entity of {}", target.name))),
        _ => Err(bad("is not an entity id")),
    }
}

/// The entity set a navigation of `set` leads to.
pub fn target_of(set: &EntitySet, navigation: &str) -> Result<&'static EntitySet, ApiError> {
    let nav = set.entity_type.navigation(navigation).ok_or_else(|| {
        ApiError::bad_request(
            format!(
                "{} has no navigation property `{navigation}`",
                set.entity_type.name
            ),
            Some(navigation),
        )
    })?;
    entity_set(&nav.target_set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use odata_sql::Schema;
    use serde_json::json;

    fn set(name: &str) -> &'static EntitySet {
        crate::odata::schema::identity_schema()
            .entity_set(name)
            .expect("set")
    }

    #[test]
    fn settable_properties_come_from_api1() {
        assert_eq!(
            settable(set("Users")),
            [
                "email",
                "isActive",
                "isTechnician",
                "lastLogin",
                "name",
                "status",
                "userKey",
                "culture"
            ]
        );
        assert!(settable(set("Roles")).contains(&"roleKey"));
        assert!(!settable(set("Groups")).contains(&"version"));
    }

    #[test]
    fn bodies_are_split() {
        let body = split(
            set("Users"),
            json!({"@odata.type": "#Identity.User", "id": "x", "version": 3, "name": "Ann",
                   "name@odata.type": "String", "roles@odata.bind": ["Roles(1)"],
                   "groups@bind": []}),
        )
        .expect("split");
        assert_eq!(body.properties.len(), 1);
        assert_eq!(body.binds.len(), 2);
        for bad in [
            json!({"picture": null}),
            json!({"nope": 1}),
            json!({"users@odata.bind": []}),
            json!([1]),
        ] {
            assert!(
                matches!(
                    split(set("Users"), bad.clone()),
                    Err(ApiError::BadRequest { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            split(set("Users"), json!({"roles": [{"roleKey": "x"}]})),
            Err(ApiError::NotImplemented { .. })
        ));
    }

    #[test]
    fn entity_ids_are_relative_or_under_the_root() {
        let roles = set("Roles");
        let id = "6f9619ff-8b86-d011-b42d-00c04fc964ff";
        let root = "/api/t/o/odata";
        for text in [
            format!("Roles({id})"),
            format!("Roles/{id}"),
            format!("http://example.com/api/T/o/odata/Roles({id})"),
            format!("/api/t/o/odata/Roles({id})"),
        ] {
            assert_eq!(
                entity_id(&text, roles, root, "x").expect(&text).to_string(),
                id
            );
        }
        for text in [
            format!("Users({id})"),
            format!("http://example.com/api/other/o/odata/Roles({id})"),
            "Roles(1)".to_owned(),
            "Roles".to_owned(),
            String::new(),
        ] {
            assert!(entity_id(&text, roles, root, "x").is_err(), "{text}");
        }
    }
}
