//! Groups as a [`Catalog`]: the `groups` table, its attributes, and the
//! `user_groups` memberships that go with a deleted group.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, Value};
use uuid::Uuid;

use super::catalog::{Catalog, Column, Record};
use super::counters::Counted;
use super::entities::{groups, user_groups};
use crate::domain::{Actor, Email, EntityKey, NewGroup};

/// The group catalog.
pub struct Groups;

/// A change of one group attribute other than `groupKey`.
#[derive(Debug, Clone)]
pub enum GroupAttribute {
    Name(Option<String>),
    Email(Option<Email>),
    Notes(Option<String>),
    IsActive(bool),
}

impl Catalog for Groups {
    type Entity = groups::Entity;
    type Membership = user_groups::Entity;
    type New = NewGroup;
    type Attribute = GroupAttribute;

    const NOUN: &'static str = "group";
    const KEY_ATTRIBUTE: &'static str = "groupKey";

    const ID: Column<Self> = groups::Column::Id;
    const TENANT_ID: Column<Self> = groups::Column::TenantId;
    const KEY: Column<Self> = groups::Column::GroupKey;
    const KEY_NORM: Column<Self> = groups::Column::GroupKeyNorm;
    const VERSION: Column<Self> = groups::Column::Version;
    const MODIFIED_ON: Column<Self> = groups::Column::ModifiedOn;
    const MODIFIED_BY: Column<Self> = groups::Column::ModifiedBy;
    const MEMBER_ID: user_groups::Column = user_groups::Column::GroupId;
    const MEMBER_USER_ID: user_groups::Column = user_groups::Column::UserId;
    const COUNTED: Counted = Counted::Groups;

    fn key(group: &NewGroup) -> &EntityKey {
        &group.group_key
    }

    fn record(
        id: Uuid,
        tenant_id: Uuid,
        group: NewGroup,
        now: DateTime<Utc>,
        actor: &Actor,
    ) -> Record<Self> {
        groups::ActiveModel {
            id: Set(id),
            tenant_id: Set(tenant_id),
            group_key_norm: Set(group.group_key.normalized()),
            group_key: Set(group.group_key.into_inner()),
            name: Set(group.name),
            email: Set(group.email.map(Email::into_inner)),
            notes: Set(group.notes),
            is_active: Set(group.is_active),
            is_system: Set(false),
            created_by: Set(Some(actor.as_str().to_owned())),
            created_on: Set(now),
            modified_by: Set(Some(actor.as_str().to_owned())),
            modified_on: Set(now),
            version: Set(1),
        }
    }

    fn replacement(group: NewGroup) -> (EntityKey, Vec<GroupAttribute>) {
        (
            group.group_key,
            vec![
                GroupAttribute::Name(group.name),
                GroupAttribute::Email(group.email),
                GroupAttribute::Notes(group.notes),
                GroupAttribute::IsActive(group.is_active),
            ],
        )
    }

    fn assignment(attribute: GroupAttribute) -> (groups::Column, Value) {
        match attribute {
            GroupAttribute::Name(v) => (groups::Column::Name, v.into()),
            GroupAttribute::Email(v) => (groups::Column::Email, v.map(Email::into_inner).into()),
            GroupAttribute::Notes(v) => (groups::Column::Notes, v.into()),
            GroupAttribute::IsActive(v) => (groups::Column::IsActive, v.into()),
        }
    }
}
