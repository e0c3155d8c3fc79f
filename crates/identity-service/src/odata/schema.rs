//! The one description of the OData model (`Users`, `Roles`, `Groups`): the
//! translator checks queries against it, the read path shapes records from
//! it, and `$metadata` is generated from it.
//!
//! Choices:
//! - `isDeleted` is the constant `false` (delete is hard); filtering on it
//!   works (`isDeleted eq false` matches every row).
//! - `picture` is computed from `has_picture` and `picture_url` (our own
//!   picture endpoint when an image is stored, else the external URL, else
//!   null). It can be selected, and filtered on with `eq null` / `ne null`
//!   only ("has a picture": a stored image or an external URL); every other
//!   use in `$filter`, and `$orderby`, answers 501, because its value depends
//!   on the service's public URL.
//! - `version` (every record's, +1 with every change) is the concurrency
//!   property: the ETag `"<version>"` of API 1 and the feed, `@odata.etag`
//!   and `Core.OptimisticConcurrency` in `$metadata`. It stays an ordinary
//!   property too (the seed's records carry it).
//! - Every string column compares by code point on SQLite and MariaDB
//!   ([`Schema::code_point_collation`]), so the translator compares and sorts
//!   the plain columns there and their indexes serve `$orderby` and `eq`.

use std::sync::OnceLock;

use odata_sql::Backend;
use odata_sql::schema::{
    EdmType, EntitySet, EntityType, LinkTable, Multiplicity, Navigation, Presence, Property,
    PropertySource, Schema,
};

/// Entity set names.
pub const USERS: &str = "Users";
/// Entity set names.
pub const ROLES: &str = "Roles";
/// Entity set names.
pub const GROUPS: &str = "Groups";

/// The identity model.
#[derive(Debug)]
pub struct IdentitySchema {
    sets: Vec<EntitySet>,
}

impl Schema for IdentitySchema {
    fn namespace(&self) -> &str {
        "Identity"
    }

    fn entity_sets(&self) -> &[EntitySet] {
        &self.sets
    }

    /// Every string column of the model compares by code point on SQLite
    /// (its default `BINARY` collation) and on MariaDB/MySQL (migration
    /// `m20261130_000004_code_point_strings`: `utf8mb4_nopad_bin`; checked
    /// against the database's catalog by `tests/api/explain.rs`). PostgreSQL's
    /// columns are in the database's collation.
    fn code_point_collation(
        &self,
        backend: Backend,
        _entity: &EntityType,
        property: &Property,
    ) -> bool {
        let stored = property.edm_type == EdmType::String && property.column_name().is_some();
        stored
            && match backend {
                Backend::Sqlite | Backend::MySql => true,
                Backend::Postgres => false,
            }
    }
}

/// The shared instance.
pub fn identity_schema() -> &'static IdentitySchema {
    static SCHEMA: OnceLock<IdentitySchema> = OnceLock::new();
    SCHEMA.get_or_init(|| IdentitySchema {
        sets: vec![users(), roles(), groups()],
    })
}

/// The concurrency property of every entity type.
pub const VERSION: &str = "version";

const KEY_LEN: u32 = 100;
const TEXT_LEN: u32 = 255;

fn col(name: &str, column: &str, edm_type: EdmType, nullable: bool) -> Property {
    Property::column(name, column, edm_type, nullable)
}

fn base_fields() -> Vec<Property> {
    vec![
        col("isActive", "is_active", EdmType::Boolean, false),
        col("isSystem", "is_system", EdmType::Boolean, false),
        Property {
            name: "isDeleted".to_owned(),
            edm_type: EdmType::Boolean,
            nullable: false,
            max_length: None,
            source: PropertySource::Constant(sea_query::Value::Bool(Some(false))),
            description: Some("Always false: deletion is hard.".to_owned()),
        },
        col("createdBy", "created_by", EdmType::String, true).with_max_length(TEXT_LEN),
        col("createdOn", "created_on", EdmType::DateTimeOffset, false),
        col("modifiedBy", "modified_by", EdmType::String, true).with_max_length(TEXT_LEN),
        col("modifiedOn", "modified_on", EdmType::DateTimeOffset, false),
        col(VERSION, "version", EdmType::Int32, false),
    ]
}

fn link(table: &str, from: &str, to: &str) -> LinkTable {
    LinkTable {
        table: table.to_owned(),
        from_column: from.to_owned(),
        to_column: to.to_owned(),
    }
}

fn users() -> EntitySet {
    let mut properties = vec![
        col("id", "id", EdmType::Guid, false),
        col("userKey", "user_key", EdmType::String, false).with_max_length(KEY_LEN),
        col("name", "name", EdmType::String, false).with_max_length(TEXT_LEN),
        col("culture", "culture", EdmType::String, true).with_max_length(64),
        col("email", "email", EdmType::String, true).with_max_length(TEXT_LEN),
        col("isTechnician", "is_technician", EdmType::Boolean, false),
        col("lastLogin", "last_login", EdmType::DateTimeOffset, true),
        col("status", "status", EdmType::Int32, false)
            .with_description("1 Active, 2 Inactive, 3 InvitationSent, 4 InvitationExpired"),
        Property {
            name: "picture".to_owned(),
            edm_type: EdmType::String,
            nullable: true,
            max_length: None,
            source: PropertySource::Computed {
                columns: vec!["has_picture".to_owned(), "picture_url".to_owned()],
                // The writer's rule: a stored image, else the external URL.
                non_null_when: Some(vec![
                    Presence::IsTrue("has_picture".to_owned()),
                    Presence::IsNotNull("picture_url".to_owned()),
                ]),
            },
            description: Some(
                "Absolute URL of the stored picture, or the external picture URL, or null."
                    .to_owned(),
            ),
        },
    ];
    properties.extend(base_fields());
    EntitySet {
        name: USERS.to_owned(),
        entity_type: EntityType {
            name: "User".to_owned(),
            table: "users".to_owned(),
            tenant_column: "tenant_id".to_owned(),
            key: vec!["id".to_owned()],
            alternate_key: Some("userKey".to_owned()),
            properties,
            navigations: vec![
                Navigation {
                    name: "roles".to_owned(),
                    target_set: ROLES.to_owned(),
                    link: link("user_roles", "user_id", "role_id"),
                    partner: Some("users".to_owned()),
                    listed_by_default: true,
                    multiplicity: Multiplicity::Many,
                },
                Navigation {
                    name: "groups".to_owned(),
                    target_set: GROUPS.to_owned(),
                    link: link("user_groups", "user_id", "group_id"),
                    partner: Some("users".to_owned()),
                    listed_by_default: true,
                    multiplicity: Multiplicity::Many,
                },
            ],
            searchable: vec!["userKey".to_owned(), "name".to_owned(), "email".to_owned()],
            concurrency: Some(VERSION.to_owned()),
        }
        .into(),
    }
}

fn roles() -> EntitySet {
    let mut properties = vec![
        col("id", "id", EdmType::Guid, false),
        col("roleKey", "role_key", EdmType::String, false).with_max_length(KEY_LEN),
        col("description", "description", EdmType::String, true),
        col(
            "isAdministration",
            "is_administration",
            EdmType::Boolean,
            false,
        ),
        col("isDefault", "is_default", EdmType::Boolean, false),
        col("isInternal", "is_internal", EdmType::Boolean, false),
    ];
    properties.extend(base_fields());
    EntitySet {
        name: ROLES.to_owned(),
        entity_type: EntityType {
            name: "Role".to_owned(),
            table: "roles".to_owned(),
            tenant_column: "tenant_id".to_owned(),
            key: vec!["id".to_owned()],
            alternate_key: Some("roleKey".to_owned()),
            properties,
            navigations: vec![Navigation {
                name: "users".to_owned(),
                target_set: USERS.to_owned(),
                link: link("user_roles", "role_id", "user_id"),
                partner: Some("roles".to_owned()),
                listed_by_default: false,
                multiplicity: Multiplicity::Many,
            }],
            searchable: vec!["roleKey".to_owned(), "description".to_owned()],
            concurrency: Some(VERSION.to_owned()),
        }
        .into(),
    }
}

fn groups() -> EntitySet {
    let mut properties = vec![
        col("id", "id", EdmType::Guid, false),
        col("groupKey", "group_key", EdmType::String, false).with_max_length(KEY_LEN),
        col("name", "name", EdmType::String, true).with_max_length(TEXT_LEN),
        col("email", "email", EdmType::String, true).with_max_length(TEXT_LEN),
        col("notes", "notes", EdmType::String, true),
    ];
    properties.extend(base_fields());
    EntitySet {
        name: GROUPS.to_owned(),
        entity_type: EntityType {
            name: "Group".to_owned(),
            table: "groups".to_owned(),
            tenant_column: "tenant_id".to_owned(),
            key: vec!["id".to_owned()],
            alternate_key: Some("groupKey".to_owned()),
            properties,
            navigations: vec![Navigation {
                name: "users".to_owned(),
                target_set: USERS.to_owned(),
                link: link("user_groups", "group_id", "user_id"),
                partner: Some("groups".to_owned()),
                listed_by_default: false,
                multiplicity: Multiplicity::Many,
            }],
            searchable: vec!["groupKey".to_owned(), "name".to_owned(), "email".to_owned()],
            concurrency: Some(VERSION.to_owned()),
        }
        .into(),
    }
}
