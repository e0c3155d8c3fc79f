//! API clients (server-wide, like tenants): created and revoked by the CLI
//! (`odata-users clients ...`) and the demo seeding, read by the token
//! endpoint and the auth guard.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::entities::{clients, tenants};
use crate::domain::scopes::Scopes;
use crate::domain::secrets;
use crate::error::ApiError;
use crate::tenancy::TenantScope;

/// A client as listed (never with its secret or hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    pub client_id: String,
    pub tenant_key: String,
    pub org_key: String,
    pub scopes: Scopes,
    pub created_on: DateTime<Utc>,
    pub revoked_on: Option<DateTime<Utc>>,
}

/// A client found by id, with what verifying it needs.
#[derive(Debug, Clone)]
pub struct StoredClient {
    pub record: ClientRecord,
    pub secret_hash: String,
}

fn record_of(row: clients::Model, tenant: &tenants::Model) -> ClientRecord {
    ClientRecord {
        // A stored scope list was written by `create`; an unreadable one
        // grants nothing rather than everything.
        scopes: Scopes::parse(&row.scopes).unwrap_or_default(),
        client_id: row.client_id,
        tenant_key: tenant.tenant_key.clone(),
        org_key: tenant.org_key.clone(),
        created_on: row.created_on,
        revoked_on: row.revoked_on,
    }
}

/// Creates a client of `scope` with `scopes`; returns it and its secret,
/// which exists only in this answer (the database keeps its argon2id hash).
pub async fn create(
    db: &DatabaseConnection,
    scope: &TenantScope,
    scopes: Scopes,
) -> Result<(ClientRecord, String), ApiError> {
    let client_id = secrets::new_client_id();
    let secret = secrets::new_secret();
    let to_hash = secret.clone();
    let secret_hash = tokio::task::spawn_blocking(move || secrets::hash_secret(&to_hash))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let now = Utc::now();
    let model = clients::ActiveModel {
        id: Set(Uuid::new_v4()),
        client_id: Set(client_id.clone()),
        secret_hash: Set(secret_hash),
        tenant_id: Set(scope.tenant_id),
        scopes: Set(scopes.to_string()),
        created_on: Set(now),
        revoked_on: Set(None),
    };
    let txn = super::begin_write(db).await?;
    clients::Entity::insert(model).exec(&txn).await?;
    txn.commit().await?;
    let record = ClientRecord {
        client_id,
        tenant_key: scope.tenant_key.to_string(),
        org_key: scope.org_key.to_string(),
        scopes,
        created_on: now,
        revoked_on: None,
    };
    Ok((record, secret))
}

/// The client with this id, revoked or not.
pub async fn find(
    db: &DatabaseConnection,
    client_id: &str,
) -> Result<Option<StoredClient>, ApiError> {
    let Some(row) = clients::Entity::find()
        .filter(clients::Column::ClientId.eq(client_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(tenant) = tenants::Entity::find_by_id(row.tenant_id).one(db).await? else {
        return Ok(None);
    };
    let secret_hash = row.secret_hash.clone();
    Ok(Some(StoredClient {
        record: record_of(row, &tenant),
        secret_hash,
    }))
}

/// Every client, oldest first.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<ClientRecord>, ApiError> {
    let rows = clients::Entity::find()
        .order_by_asc(clients::Column::CreatedOn)
        .order_by_asc(clients::Column::ClientId)
        .all(db)
        .await?;
    let tenants: std::collections::HashMap<Uuid, tenants::Model> = tenants::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let tenant = tenants.get(&row.tenant_id)?;
            Some(record_of(row, tenant))
        })
        .collect())
}

/// What `revoke` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// Revoked now.
    Now,
    /// It was revoked before (the first revocation time is kept).
    Already,
    /// No client has this id.
    Unknown,
}

/// Revokes a client: it gets no new tokens, and the guards of every
/// instance refuse its tokens and Basic credentials once they refresh
/// their revocation list (`auth_cache_seconds`).
pub async fn revoke(db: &DatabaseConnection, client_id: &str) -> Result<Revoked, ApiError> {
    let Some(found) = find(db, client_id).await? else {
        return Ok(Revoked::Unknown);
    };
    if found.record.revoked_on.is_some() {
        return Ok(Revoked::Already);
    }
    let txn = super::begin_write(db).await?;
    clients::Entity::update_many()
        .col_expr(
            clients::Column::RevokedOn,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(clients::Column::ClientId.eq(client_id))
        .filter(clients::Column::RevokedOn.is_null())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Revoked::Now)
}

/// Ids of the clients revoked at or after `since` (older revocations
/// cannot have unexpired tokens or cached credentials left).
pub async fn revoked_since(
    db: &DatabaseConnection,
    since: DateTime<Utc>,
) -> Result<Vec<String>, ApiError> {
    Ok(clients::Entity::find()
        .filter(clients::Column::RevokedOn.gte(since))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.client_id)
        .collect())
}
