//! Tenants (tenant+organization pairs). Server-wide: these functions are
//! what builds a [`TenantScope`] in the first place.

use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::entities::tenants;
use crate::domain::TenantKey;
use crate::error::ApiError;
use crate::tenancy::TenantScope;

fn scope_of(row: tenants::Model) -> TenantScope {
    TenantScope {
        tenant_id: row.id,
        tenant_key: row.tenant_key.into(),
        org_key: row.org_key.into(),
    }
}

/// Finds a tenant+org pair, case-insensitively.
pub async fn find(
    db: &DatabaseConnection,
    tenant_key: &str,
    org_key: &str,
) -> Result<Option<TenantScope>, ApiError> {
    let row = tenants::Entity::find()
        .filter(tenants::Column::TenantKeyNorm.eq(tenant_key.to_lowercase()))
        .filter(tenants::Column::OrgKeyNorm.eq(org_key.to_lowercase()))
        .one(db)
        .await?;
    Ok(row.map(scope_of))
}

/// Whether `create` made a new pair or found it already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    New,
    Existing,
}

/// Creates a tenant+org pair. Idempotent: an existing pair (matched
/// case-insensitively) is returned as it is stored, with [`Created::Existing`].
pub async fn create(
    db: &DatabaseConnection,
    tenant: &TenantKey,
    org: &TenantKey,
) -> Result<(TenantScope, Created), ApiError> {
    if let Some(existing) = find(db, tenant.as_str(), org.as_str()).await? {
        return Ok((existing, Created::Existing));
    }
    let id = Uuid::new_v4();
    let model = tenants::ActiveModel {
        id: Set(id),
        tenant_key: Set(tenant.as_str().to_owned()),
        org_key: Set(org.as_str().to_owned()),
        tenant_key_norm: Set(tenant.normalized()),
        org_key_norm: Set(org.normalized()),
        created_on: Set(crate::domain::now()),
    };
    // In a transaction committed before the read-back (see `storage::db`
    // for why every write is explicit).
    let txn = super::begin_write(db).await?;
    match tenants::Entity::insert(model).exec(&txn).await {
        Ok(_) => {
            // Its row counters start at 0 with it (`storage::counters`).
            super::counters::create_for_tenant(&txn, id).await?;
            // So is its change sequence (`storage::changes`).
            super::changes::create_for_tenant(&txn, id).await?;
            txn.commit().await?
        }
        // Another process created it between the lookup and the insert.
        Err(err)
            if matches!(
                err.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            txn.rollback().await?
        }
        Err(err) => return Err(err.into()),
    }
    let scope = find(db, tenant.as_str(), org.as_str())
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("tenant vanished after insert")))?;
    Ok((scope, Created::New))
}

/// Every tenant+org pair, ordered by keys.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<TenantScope>, ApiError> {
    use sea_orm::QueryOrder;
    let rows = tenants::Entity::find()
        .order_by_asc(tenants::Column::TenantKeyNorm)
        .order_by_asc(tenants::Column::OrgKeyNorm)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(scope_of).collect())
}
