//! The mock schema (people and roles) the translator's tests share, and
//! `plan`, which parses a query and plans it on `People`.

#![allow(dead_code)] // Each test binary uses its own part.

use chrono::{TimeZone, Utc};
use odata_parser::{ParserOptions, parse_query};
use odata_sql::schema::{
    EdmType, EntitySet, EntityType, LinkTable, Multiplicity, Navigation, Presence, Property,
    PropertySource, Schema,
};
use odata_sql::{Backend, ReadPlan, TenantFilter, TranslateError, Translator};
use sea_query::Value;

pub struct Mock(Vec<EntitySet>);

impl Schema for Mock {
    fn namespace(&self) -> &str {
        "Mock"
    }
    fn entity_sets(&self) -> &[EntitySet] {
        &self.0
    }
    /// On MySQL some string columns are in a code-point collation and one is
    /// not (`email`), so both forms show.
    fn code_point_collation(
        &self,
        backend: Backend,
        _entity: &EntityType,
        property: &Property,
    ) -> bool {
        backend == Backend::MySql
            && matches!(
                property.column_name(),
                Some("user_key" | "name" | "role_key" | "description")
            )
    }
}

pub fn mock() -> Mock {
    let col = Property::column;
    let people = EntityType {
        name: "Person".into(),
        table: "people".into(),
        tenant_column: "tenant_id".into(),
        key: vec!["id".into()],
        alternate_key: Some("userKey".into()),
        properties: vec![
            col("id", "id", EdmType::Guid, false),
            col("userKey", "user_key", EdmType::String, false).with_max_length(100),
            col("name", "name", EdmType::String, false),
            col("email", "email", EdmType::String, true),
            col("status", "status", EdmType::Int32, false),
            col("lastLogin", "last_login", EdmType::DateTimeOffset, true),
            col("isActive", "is_active", EdmType::Boolean, false),
            Property {
                name: "isDeleted".into(),
                edm_type: EdmType::Boolean,
                nullable: false,
                max_length: None,
                source: PropertySource::Constant(Value::Bool(Some(false))),
                description: None,
            },
            Property {
                name: "picture".into(),
                edm_type: EdmType::String,
                nullable: true,
                max_length: None,
                source: PropertySource::Computed {
                    columns: vec!["has_picture".into(), "picture_url".into()],
                    non_null_when: Some(vec![
                        Presence::IsTrue("has_picture".into()),
                        Presence::IsNotNull("picture_url".into()),
                    ]),
                },
                description: None,
            },
        ],
        navigations: vec![Navigation {
            name: "roles".into(),
            target_set: "Roles".into(),
            link: LinkTable {
                table: "person_roles".into(),
                from_column: "person_id".into(),
                to_column: "role_id".into(),
            },
            partner: Some("people".into()),
            listed_by_default: true,
            multiplicity: Multiplicity::Many,
        }],
        searchable: vec!["userKey".into(), "name".into(), "email".into()],
        concurrency: None,
    };
    let roles = EntityType {
        name: "Role".into(),
        table: "roles".into(),
        tenant_column: "tenant_id".into(),
        key: vec!["id".into()],
        alternate_key: Some("roleKey".into()),
        properties: vec![
            col("id", "id", EdmType::Guid, false),
            col("roleKey", "role_key", EdmType::String, false),
            col("description", "description", EdmType::String, true),
            col("isDefault", "is_default", EdmType::Boolean, false),
            col("version", "version", EdmType::Int32, false),
        ],
        navigations: vec![Navigation {
            name: "people".into(),
            target_set: "People".into(),
            link: LinkTable {
                table: "person_roles".into(),
                from_column: "role_id".into(),
                to_column: "person_id".into(),
            },
            partner: Some("roles".into()),
            listed_by_default: false,
            multiplicity: Multiplicity::Many,
        }],
        searchable: vec!["roleKey".into(), "description".into()],
        concurrency: Some("version".into()),
    };
    Mock(vec![
        EntitySet {
            name: "People".into(),
            entity_type: people.into(),
        },
        EntitySet {
            name: "Roles".into(),
            entity_type: roles.into(),
        },
    ])
}

pub fn tenant() -> TenantFilter {
    TenantFilter {
        value: Value::BigInt(Some(42)),
    }
}

pub fn plan(query: &str, backend: Backend) -> Result<ReadPlan, TranslateError> {
    let options = parse_query(query, &ParserOptions::default())
        .unwrap_or_else(|e| panic!("{query} does not parse: {e}"));
    let now = Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap();
    Translator::new(&mock(), backend)
        .with_now(now)
        .plan("People", &options, tenant())
}
