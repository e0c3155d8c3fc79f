//! Roles as a [`Catalog`]: the `roles` table, its attributes, and the
//! `user_roles` memberships that go with a deleted role.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, Value};
use uuid::Uuid;

use super::catalog::{Catalog, Column, Record};
use super::counters::Counted;
use super::entities::{roles, user_roles};
use crate::domain::{Actor, EntityKey, NewRole};

/// The role catalog.
pub struct Roles;

/// A change of one role attribute other than `roleKey`.
#[derive(Debug, Clone)]
pub enum RoleAttribute {
    Description(Option<String>),
    IsAdministration(bool),
    IsDefault(bool),
    IsInternal(bool),
    IsActive(bool),
}

impl Catalog for Roles {
    type Entity = roles::Entity;
    type Membership = user_roles::Entity;
    type New = NewRole;
    type Attribute = RoleAttribute;

    const NOUN: &'static str = "role";
    const KEY_ATTRIBUTE: &'static str = "roleKey";

    const ID: Column<Self> = roles::Column::Id;
    const TENANT_ID: Column<Self> = roles::Column::TenantId;
    const KEY: Column<Self> = roles::Column::RoleKey;
    const KEY_NORM: Column<Self> = roles::Column::RoleKeyNorm;
    const VERSION: Column<Self> = roles::Column::Version;
    const MODIFIED_ON: Column<Self> = roles::Column::ModifiedOn;
    const MODIFIED_BY: Column<Self> = roles::Column::ModifiedBy;
    const MEMBER_ID: user_roles::Column = user_roles::Column::RoleId;
    const MEMBER_USER_ID: user_roles::Column = user_roles::Column::UserId;
    const COUNTED: Counted = Counted::Roles;

    fn key(role: &NewRole) -> &EntityKey {
        &role.role_key
    }

    fn record(
        id: Uuid,
        tenant_id: Uuid,
        role: NewRole,
        now: DateTime<Utc>,
        actor: &Actor,
    ) -> Record<Self> {
        roles::ActiveModel {
            id: Set(id),
            tenant_id: Set(tenant_id),
            role_key_norm: Set(role.role_key.normalized()),
            role_key: Set(role.role_key.into_inner()),
            description: Set(role.description),
            is_administration: Set(role.is_administration),
            is_default: Set(role.is_default),
            is_internal: Set(role.is_internal),
            is_active: Set(role.is_active),
            is_system: Set(false),
            created_by: Set(Some(actor.as_str().to_owned())),
            created_on: Set(now),
            modified_by: Set(Some(actor.as_str().to_owned())),
            modified_on: Set(now),
            version: Set(1),
        }
    }

    fn replacement(role: NewRole) -> (EntityKey, Vec<RoleAttribute>) {
        (
            role.role_key,
            vec![
                RoleAttribute::Description(role.description),
                RoleAttribute::IsAdministration(role.is_administration),
                RoleAttribute::IsDefault(role.is_default),
                RoleAttribute::IsInternal(role.is_internal),
                RoleAttribute::IsActive(role.is_active),
            ],
        )
    }

    fn assignment(attribute: RoleAttribute) -> (roles::Column, Value) {
        match attribute {
            RoleAttribute::Description(v) => (roles::Column::Description, v.into()),
            RoleAttribute::IsAdministration(v) => (roles::Column::IsAdministration, v.into()),
            RoleAttribute::IsDefault(v) => (roles::Column::IsDefault, v.into()),
            RoleAttribute::IsInternal(v) => (roles::Column::IsInternal, v.into()),
            RoleAttribute::IsActive(v) => (roles::Column::IsActive, v.into()),
        }
    }
}
