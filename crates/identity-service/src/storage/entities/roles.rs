//! `roles`: the roles of every tenant.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "roles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub role_key: String,
    pub role_key_norm: String,
    pub description: Option<String>,
    pub is_administration: bool,
    pub is_default: bool,
    pub is_internal: bool,
    pub is_active: bool,
    pub is_system: bool,
    pub created_by: Option<String>,
    pub created_on: DateTimeUtc,
    pub modified_by: Option<String>,
    pub modified_on: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
