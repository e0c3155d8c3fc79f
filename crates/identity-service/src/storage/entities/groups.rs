//! `groups`: the groups of every tenant.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "groups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub group_key: String,
    pub group_key_norm: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub notes: Option<String>,
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

/// Through the link table `user_groups` (the OData schema derives its navigation
/// from it: `odata_sql::entity`).
impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        super::user_groups::Relation::User.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::user_groups::Relation::Group.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
