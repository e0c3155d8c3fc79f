//! The service's OData schema derived from its SeaORM entities
//! (`odata_sql::entity`) is exactly the hand-written one
//! (`identity_service::odata::schema`): every property (name, EDM type,
//! nullability, maximum length, source, description), key, navigation
//! (link tables from the entities' `Related` implementations), alternate
//! key, searchable and concurrency property of `Users`, `Roles` and
//! `Groups`.

use identity_service::odata::schema::{GROUPS, ROLES, USERS, VERSION, identity_schema};
use identity_service::storage::entities::{groups, roles, users};
use odata_sql::Schema;
use odata_sql::entity::{EntitySetBuilder, NavigationSpec};
use odata_sql::schema::{EdmType, EntitySet, Presence, Property, PropertySource};
use sea_orm::EntityTrait;

const KEY_LEN: u32 = 100;
const TEXT_LEN: u32 = 255;

/// What every entity has in common: the tenant column, the hidden
/// normalised copies, the constant `isDeleted`, lengths and the version.
fn common<E: EntityTrait>(
    builder: EntitySetBuilder<E>,
    key: &str,
    norm_columns: &[&str],
) -> EntitySetBuilder<E> {
    let mut b = builder
        .max_length(key, KEY_LEN)
        .max_length("createdBy", TEXT_LEN)
        .max_length("modifiedBy", TEXT_LEN)
        .add_after(
            "isSystem",
            Property {
                name: "isDeleted".to_owned(),
                edm_type: EdmType::Boolean,
                nullable: false,
                max_length: None,
                source: PropertySource::Constant(sea_query::Value::Bool(Some(false))),
                description: Some("Always false: deletion is hard.".to_owned()),
            },
        )
        .alternate_key(key)
        .concurrency(VERSION);
    for n in norm_columns {
        b = b.hide(n);
    }
    b
}

fn derived_users() -> EntitySet {
    common(
        EntitySetBuilder::<users::Entity>::new(USERS, "User"),
        "userKey",
        &["userKeyNorm", "emailNorm", "pictureUrl", "hasPicture"],
    )
    .max_length("name", TEXT_LEN)
    .max_length("culture", 64)
    .max_length("email", TEXT_LEN)
    .description(
        "status",
        "1 Active, 2 Inactive, 3 InvitationSent, 4 InvitationExpired",
    )
    .add_after(
        "status",
        Property {
            name: "picture".to_owned(),
            edm_type: EdmType::String,
            nullable: true,
            max_length: None,
            source: PropertySource::Computed {
                columns: vec!["has_picture".to_owned(), "picture_url".to_owned()],
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
    )
    .navigation::<roles::Entity>(
        NavigationSpec::new("roles", ROLES)
            .partner("users")
            .listed_by_default(true),
    )
    .navigation::<groups::Entity>(
        NavigationSpec::new("groups", GROUPS)
            .partner("users")
            .listed_by_default(true),
    )
    .searchable(&["userKey", "name", "email"])
    .build()
    .expect("the Users entity set")
}

fn derived_roles() -> EntitySet {
    common(
        EntitySetBuilder::<roles::Entity>::new(ROLES, "Role"),
        "roleKey",
        &["roleKeyNorm"],
    )
    .navigation::<users::Entity>(NavigationSpec::new("users", USERS).partner("roles"))
    .searchable(&["roleKey", "description"])
    .build()
    .expect("the Roles entity set")
}

fn derived_groups() -> EntitySet {
    common(
        EntitySetBuilder::<groups::Entity>::new(GROUPS, "Group"),
        "groupKey",
        &["groupKeyNorm"],
    )
    .max_length("name", TEXT_LEN)
    .max_length("email", TEXT_LEN)
    .navigation::<users::Entity>(NavigationSpec::new("users", USERS).partner("groups"))
    .searchable(&["groupKey", "name", "email"])
    .build()
    .expect("the Groups entity set")
}

#[test]
fn the_identity_schema_derived_from_the_entities_is_the_hand_written_one() {
    let written = identity_schema();
    let derived = [derived_users(), derived_roles(), derived_groups()];
    assert_eq!(written.entity_sets().len(), derived.len());
    for set in &derived {
        let hand = written
            .entity_set(&set.name)
            .unwrap_or_else(|| panic!("{} is in the hand-written schema", set.name));
        // Property by property first, for a readable difference.
        let (d, h) = (&set.entity_type, &hand.entity_type);
        let names = |t: &odata_sql::schema::EntityType| -> Vec<String> {
            t.properties.iter().map(|p| p.name.clone()).collect()
        };
        assert_eq!(names(d), names(h), "{}: property names and order", set.name);
        for (dp, hp) in d.properties.iter().zip(&h.properties) {
            assert_eq!(dp, hp, "{}.{}", set.name, hp.name);
        }
        assert_eq!(d.navigations, h.navigations, "{}: navigations", set.name);
        assert_eq!(set, hand, "{}", set.name);
    }
}
