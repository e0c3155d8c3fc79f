//! Writes of roles (create, change one attribute, delete) and key lookups.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect,
};
use uuid::Uuid;

use super::entities::{roles, user_roles};
use super::{begin_write, conflict_or};
use crate::domain::{EntityKey, NewRole};
use crate::error::ApiError;
use crate::tenancy::TenantScope;

/// One attribute change of `PUT roles/{roleKey}/{attr}`.
#[derive(Debug, Clone)]
pub enum RoleChange {
    RoleKey(EntityKey),
    Description(Option<String>),
    IsAdministration(bool),
    IsDefault(bool),
    IsInternal(bool),
    IsActive(bool),
}

/// The id of the role addressed by a route segment (GUID = id, else key,
/// case-insensitively); `None` when absent in the tenant.
pub async fn resolve<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    key_or_id: &str,
) -> Result<Option<Uuid>, ApiError> {
    let mut query = roles::Entity::find()
        .select_only()
        .column(roles::Column::Id)
        .filter(roles::Column::TenantId.eq(scope.tenant_id));
    query = match Uuid::try_parse(key_or_id) {
        Ok(id) => query.filter(roles::Column::Id.eq(id)),
        Err(_) => query.filter(roles::Column::RoleKeyNorm.eq(key_or_id.to_lowercase())),
    };
    Ok(query.into_tuple::<Uuid>().one(conn).await?)
}

/// The 404 of an unknown role.
pub fn not_found(key_or_id: &str) -> ApiError {
    ApiError::not_found(format!("no role with id or key '{key_or_id}'"))
}

async fn key_taken<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    key: &EntityKey,
    except: Option<Uuid>,
) -> Result<bool, ApiError> {
    let mut query = roles::Entity::find()
        .select_only()
        .column(roles::Column::Id)
        .filter(roles::Column::TenantId.eq(scope.tenant_id))
        .filter(roles::Column::RoleKeyNorm.eq(key.normalized()));
    if let Some(id) = except {
        query = query.filter(roles::Column::Id.ne(id));
    }
    Ok(query.into_tuple::<Uuid>().one(conn).await?.is_some())
}

fn key_conflict(key: &EntityKey) -> ApiError {
    ApiError::conflict(
        format!("a role with key '{key}' already exists (keys are case-insensitive)"),
        Some("roleKey"),
    )
}

/// Creates a role; 409 when the key is taken.
pub async fn create(
    db: &DatabaseConnection,
    scope: &TenantScope,
    role: NewRole,
) -> Result<Uuid, ApiError> {
    let txn = begin_write(db).await?;
    if key_taken(&txn, scope, &role.role_key, None).await? {
        return Err(key_conflict(&role.role_key));
    }
    let id = Uuid::new_v4();
    let now = Utc::now();
    roles::Entity::insert(roles::ActiveModel {
        id: Set(id),
        tenant_id: Set(scope.tenant_id),
        role_key_norm: Set(role.role_key.normalized()),
        role_key: Set(role.role_key.into_inner()),
        description: Set(role.description),
        is_administration: Set(role.is_administration),
        is_default: Set(role.is_default),
        is_internal: Set(role.is_internal),
        is_active: Set(role.is_active),
        is_system: Set(false),
        created_by: Set(None),
        created_on: Set(now),
        modified_by: Set(None),
        modified_on: Set(now),
        version: Set(1),
    })
    .exec_without_returning(&txn)
    .await
    .map_err(|e| conflict_or(e, "a role with this key already exists", "roleKey"))?;
    txn.commit().await?;
    Ok(id)
}

/// Applies one attribute change, bumping `version` and `modified_on`.
pub async fn update(
    db: &DatabaseConnection,
    scope: &TenantScope,
    role_id: Uuid,
    change: RoleChange,
) -> Result<(), ApiError> {
    let txn = begin_write(db).await?;
    let mut update = roles::Entity::update_many()
        .filter(roles::Column::Id.eq(role_id))
        .filter(roles::Column::TenantId.eq(scope.tenant_id));
    update = match change {
        RoleChange::RoleKey(key) => {
            if key_taken(&txn, scope, &key, Some(role_id)).await? {
                return Err(key_conflict(&key));
            }
            update
                .col_expr(roles::Column::RoleKeyNorm, Expr::value(key.normalized()))
                .col_expr(roles::Column::RoleKey, Expr::value(key.into_inner()))
        }
        RoleChange::Description(v) => update.col_expr(roles::Column::Description, Expr::value(v)),
        RoleChange::IsAdministration(v) => {
            update.col_expr(roles::Column::IsAdministration, Expr::value(v))
        }
        RoleChange::IsDefault(v) => update.col_expr(roles::Column::IsDefault, Expr::value(v)),
        RoleChange::IsInternal(v) => update.col_expr(roles::Column::IsInternal, Expr::value(v)),
        RoleChange::IsActive(v) => update.col_expr(roles::Column::IsActive, Expr::value(v)),
    };
    let result = update
        .col_expr(
            roles::Column::Version,
            Expr::col(roles::Column::Version).add(1),
        )
        .col_expr(roles::Column::ModifiedOn, Expr::value(Utc::now()))
        .exec(&txn)
        .await
        .map_err(|e| conflict_or(e, "the key is taken by another role", "roleKey"))?;
    if result.rows_affected == 0 {
        return Err(not_found(&role_id.to_string()));
    }
    txn.commit().await?;
    Ok(())
}

/// Deletes a role and every membership in it. `false` when absent.
pub async fn delete(
    db: &DatabaseConnection,
    scope: &TenantScope,
    role_id: Uuid,
) -> Result<bool, ApiError> {
    let txn = begin_write(db).await?;
    if resolve(&txn, scope, &role_id.to_string()).await?.is_none() {
        return Ok(false);
    }
    user_roles::Entity::delete_many()
        .filter(user_roles::Column::RoleId.eq(role_id))
        .exec(&txn)
        .await?;
    roles::Entity::delete_many()
        .filter(roles::Column::Id.eq(role_id))
        .filter(roles::Column::TenantId.eq(scope.tenant_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(true)
}
