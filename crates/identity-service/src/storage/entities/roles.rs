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

/// Through the link table `user_roles` (the OData schema derives its navigation
/// from it: `odata_sql::entity`).
impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        super::user_roles::Relation::User.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::user_roles::Relation::Role.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
