//! The only code that writes to the database. Every function takes the
//! tenant scope (or is server-wide by nature, like tenants and settings);
//! unique violations become 409; multi-row changes run in one transaction.

pub mod catalog;
pub mod changes;
pub mod clients;
pub mod counters;
pub mod db;
pub mod entities;
pub mod groups;
pub mod invitations;
pub mod memberships;
pub mod roles;
mod sqlite_functions;
pub mod sqlite_reader;
pub mod tenants;
pub mod users;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, QuerySelect, SqlErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::error::ApiError;

/// Maps a unique-constraint violation to 409 with `message`; anything else
/// keeps its usual mapping (500/503).
pub fn conflict_or(err: DbErr, message: impl Into<String>, target: &str) -> ApiError {
    if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
        ApiError::conflict(message, Some(target))
    } else {
        err.into()
    }
}

/// Attempts of a write transaction that the database aborted as a deadlock
/// or serialization failure (MariaDB's gap locks make two concurrent inserts
/// of the same membership deadlock; the loser is retried).
pub const WRITE_ATTEMPTS: usize = 6;

/// Runs the write transaction `run` again (after [`retry_pause`]) while the
/// database aborts it as a deadlock or serialization failure, at most
/// [`WRITE_ATTEMPTS`] times; any other outcome is returned as it is.
/// What the storage functions that write take: the pool (each call is its
/// own transaction) or a caller's transaction (`$batch` change sets: each
/// call is a savepoint of it, and the caller commits or rolls back).
pub trait Writer: TransactionTrait<Transaction = DatabaseTransaction> + ConnectionTrait {
    /// Whether this is a caller's transaction: a deadlock then aborted the
    /// caller's whole transaction, so the write is not retried.
    fn nested(&self) -> bool;
}

impl Writer for DatabaseConnection {
    fn nested(&self) -> bool {
        false
    }
}

impl Writer for DatabaseTransaction {
    fn nested(&self) -> bool {
        true
    }
}

/// [`retrying`] on the pool; once inside a caller's transaction.
pub async fn retrying_on<T, F, Fut>(db: &impl Writer, run: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let mut run = run;
    if db.nested() {
        return run().await;
    }
    retrying(run).await
}

pub async fn retrying<T, F, Fut>(mut run: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let mut attempt = 1;
    loop {
        match run().await {
            Err(err) if attempt < WRITE_ATTEMPTS && is_retryable(&err) => {
                tracing::debug!(attempt, "write transaction deadlocked; retrying");
                retry_pause(attempt).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// A short random pause before retry `attempt`, so that the transactions
/// that deadlocked do not meet again in lockstep.
pub async fn retry_pause(attempt: usize) {
    let millis = rand::random_range(1..=10u64) * attempt as u64;
    tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
}

/// Whether the database rolled the transaction back on purpose and asks
/// for a retry: SQLSTATE 40001 (serialization failure, MySQL deadlock 1213)
/// or 40P01 (PostgreSQL deadlock).
pub fn is_retryable(err: &ApiError) -> bool {
    use sea_orm::RuntimeErr;
    let ApiError::Internal(cause) = err else {
        return false;
    };
    cause.chain().any(|c| match c.downcast_ref::<DbErr>() {
        Some(DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) => e
            .as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|code| code == "40001" || code == "40P01"),
        _ => false,
    })
}

/// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`, so two
/// writers queue on the busy timeout instead of failing when a read
/// transaction would have to upgrade to a write one.
/// Inside a caller's transaction ([`Writer::nested`]) it is a savepoint of
/// that transaction: the caller commits or rolls back the whole.
pub async fn begin_write(db: &impl Writer) -> Result<DatabaseTransaction, ApiError> {
    Ok(db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?)
}

/// Locks the row of record `id` of the tenant for the rest of the write
/// transaction `txn` (`SELECT … FOR UPDATE`; on SQLite the write
/// transaction already holds the database's write lock) and returns its
/// `version`, `None` when there is no such record. A concurrent writer of
/// the same record waits here until this transaction ends, then reads the
/// version this one left: the If-Match check that follows is atomic.
pub async fn lock_version<E: EntityTrait>(
    txn: &DatabaseTransaction,
    id_column: E::Column,
    tenant_column: E::Column,
    version_column: E::Column,
    id: uuid::Uuid,
    tenant_id: uuid::Uuid,
) -> Result<Option<i64>, ApiError> {
    let version: Option<i32> = E::find()
        .select_only()
        .column(version_column)
        .filter(id_column.eq(id))
        .filter(tenant_column.eq(tenant_id))
        .lock_exclusive()
        .into_tuple()
        .one(txn)
        .await?;
    Ok(version.map(i64::from))
}
