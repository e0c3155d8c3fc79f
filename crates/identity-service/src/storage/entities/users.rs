//! `users`: the user records of every tenant.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub user_key: String,
    pub user_key_norm: String,
    pub name: String,
    pub culture: Option<String>,
    pub email: Option<String>,
    pub email_norm: Option<String>,
    pub is_technician: bool,
    pub last_login: Option<DateTimeUtc>,
    pub status: i32,
    pub picture_url: Option<String>,
    pub has_picture: bool,
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
impl Related<super::roles::Entity> for Entity {
    fn to() -> RelationDef {
        super::user_roles::Relation::Role.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::user_roles::Relation::User.def().rev())
    }
}

/// Through the link table `user_groups` (the OData schema derives its navigation
/// from it: `odata_sql::entity`).
impl Related<super::groups::Entity> for Entity {
    fn to() -> RelationDef {
        super::user_groups::Relation::Group.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::user_groups::Relation::User.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
