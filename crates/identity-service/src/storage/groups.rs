//! Writes of groups (create, change one attribute, delete) and key lookups.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect,
};
use uuid::Uuid;

use super::entities::{groups, user_groups};
use super::{begin_write, conflict_or};
use crate::domain::{Email, EntityKey, NewGroup};
use crate::error::ApiError;
use crate::tenancy::TenantScope;

/// One attribute change of `PUT groups/{groupKey}/{attr}`.
#[derive(Debug, Clone)]
pub enum GroupChange {
    GroupKey(EntityKey),
    Name(Option<String>),
    Email(Option<Email>),
    Notes(Option<String>),
    IsActive(bool),
}

/// The id of the group addressed by a route segment (GUID = id, else key,
/// case-insensitively); `None` when absent in the tenant.
pub async fn resolve<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    key_or_id: &str,
) -> Result<Option<Uuid>, ApiError> {
    let mut query = groups::Entity::find()
        .select_only()
        .column(groups::Column::Id)
        .filter(groups::Column::TenantId.eq(scope.tenant_id));
    query = match Uuid::try_parse(key_or_id) {
        Ok(id) => query.filter(groups::Column::Id.eq(id)),
        Err(_) => query.filter(groups::Column::GroupKeyNorm.eq(key_or_id.to_lowercase())),
    };
    Ok(query.into_tuple::<Uuid>().one(conn).await?)
}

/// The 404 of an unknown group.
pub fn not_found(key_or_id: &str) -> ApiError {
    ApiError::not_found(format!("no group with id or key '{key_or_id}'"))
}

async fn key_taken<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    key: &EntityKey,
    except: Option<Uuid>,
) -> Result<bool, ApiError> {
    let mut query = groups::Entity::find()
        .select_only()
        .column(groups::Column::Id)
        .filter(groups::Column::TenantId.eq(scope.tenant_id))
        .filter(groups::Column::GroupKeyNorm.eq(key.normalized()));
    if let Some(id) = except {
        query = query.filter(groups::Column::Id.ne(id));
    }
    Ok(query.into_tuple::<Uuid>().one(conn).await?.is_some())
}

fn key_conflict(key: &EntityKey) -> ApiError {
    ApiError::conflict(
        format!("a group with key '{key}' already exists (keys are case-insensitive)"),
        Some("groupKey"),
    )
}

/// Creates a group; 409 when the key is taken.
pub async fn create(
    db: &DatabaseConnection,
    scope: &TenantScope,
    group: NewGroup,
) -> Result<Uuid, ApiError> {
    let txn = begin_write(db).await?;
    if key_taken(&txn, scope, &group.group_key, None).await? {
        return Err(key_conflict(&group.group_key));
    }
    let id = Uuid::new_v4();
    let now = Utc::now();
    groups::Entity::insert(groups::ActiveModel {
        id: Set(id),
        tenant_id: Set(scope.tenant_id),
        group_key_norm: Set(group.group_key.normalized()),
        group_key: Set(group.group_key.into_inner()),
        name: Set(group.name),
        email: Set(group.email.map(Email::into_inner)),
        notes: Set(group.notes),
        is_active: Set(group.is_active),
        is_system: Set(false),
        created_by: Set(None),
        created_on: Set(now),
        modified_by: Set(None),
        modified_on: Set(now),
        version: Set(1),
    })
    .exec_without_returning(&txn)
    .await
    .map_err(|e| conflict_or(e, "a group with this key already exists", "groupKey"))?;
    txn.commit().await?;
    Ok(id)
}

/// Applies one attribute change, bumping `version` and `modified_on`.
pub async fn update(
    db: &DatabaseConnection,
    scope: &TenantScope,
    group_id: Uuid,
    change: GroupChange,
) -> Result<(), ApiError> {
    let txn = begin_write(db).await?;
    let mut update = groups::Entity::update_many()
        .filter(groups::Column::Id.eq(group_id))
        .filter(groups::Column::TenantId.eq(scope.tenant_id));
    update = match change {
        GroupChange::GroupKey(key) => {
            if key_taken(&txn, scope, &key, Some(group_id)).await? {
                return Err(key_conflict(&key));
            }
            update
                .col_expr(groups::Column::GroupKeyNorm, Expr::value(key.normalized()))
                .col_expr(groups::Column::GroupKey, Expr::value(key.into_inner()))
        }
        GroupChange::Name(v) => update.col_expr(groups::Column::Name, Expr::value(v)),
        GroupChange::Email(v) => {
            update.col_expr(groups::Column::Email, Expr::value(v.map(Email::into_inner)))
        }
        GroupChange::Notes(v) => update.col_expr(groups::Column::Notes, Expr::value(v)),
        GroupChange::IsActive(v) => update.col_expr(groups::Column::IsActive, Expr::value(v)),
    };
    let result = update
        .col_expr(
            groups::Column::Version,
            Expr::col(groups::Column::Version).add(1),
        )
        .col_expr(groups::Column::ModifiedOn, Expr::value(Utc::now()))
        .exec(&txn)
        .await
        .map_err(|e| conflict_or(e, "the key is taken by another group", "groupKey"))?;
    if result.rows_affected == 0 {
        return Err(not_found(&group_id.to_string()));
    }
    txn.commit().await?;
    Ok(())
}

/// Deletes a group and every membership in it. `false` when absent.
pub async fn delete(
    db: &DatabaseConnection,
    scope: &TenantScope,
    group_id: Uuid,
) -> Result<bool, ApiError> {
    let txn = begin_write(db).await?;
    if resolve(&txn, scope, &group_id.to_string()).await?.is_none() {
        return Ok(false);
    }
    user_groups::Entity::delete_many()
        .filter(user_groups::Column::GroupId.eq(group_id))
        .exec(&txn)
        .await?;
    groups::Entity::delete_many()
        .filter(groups::Column::Id.eq(group_id))
        .filter(groups::Column::TenantId.eq(scope.tenant_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(true)
}
