//! The only code that writes to the database. Every function takes the
//! tenant scope (or is server-wide by nature, like tenants and settings);
//! unique violations become 409; multi-row changes run in one transaction.

pub mod bookkeeping;
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
pub mod slow_statements;
mod sqlite_functions;
pub mod sqlite_reader;
pub mod tenants;
pub mod users;

use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
    QuerySelect, SqlErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

pub use self::bookkeeping::{ChangeSet, finish_write};
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

/// Where a storage function that writes runs: on the pool (each call is
/// its own transaction) or inside a `$batch` change set (each call is a
/// savepoint of the change set's transaction, the change set commits or
/// rolls back, and the tenant's bookkeeping waits for its end: see
/// [`bookkeeping`]).
#[derive(Clone, Copy)]
pub enum Base<'a> {
    /// The pool.
    Pool(&'a DatabaseConnection),
    /// A caller's change set.
    ChangeSet(&'a ChangeSet),
}

/// What the storage functions that write take: the pool or a change set.
pub trait Writer {
    /// Where the write runs.
    fn base(&self) -> Base<'_>;

    /// Whether this is a change set: a deadlock then aborted the caller's
    /// whole transaction, so the write is not retried.
    fn nested(&self) -> bool {
        matches!(self.base(), Base::ChangeSet(_))
    }

    /// The change set the write runs inside, if any.
    fn change_set(&self) -> Option<&ChangeSet> {
        match self.base() {
            Base::Pool(_) => None,
            Base::ChangeSet(change_set) => Some(change_set),
        }
    }
}

impl Writer for DatabaseConnection {
    fn base(&self) -> Base<'_> {
        Base::Pool(self)
    }
}

impl Writer for ChangeSet {
    fn base(&self) -> Base<'_> {
        Base::ChangeSet(self)
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

/// Runs the write transaction `run` again (after [`retry_pause`]) while the
/// database aborts it as a deadlock or serialization failure, at most
/// [`WRITE_ATTEMPTS`] times; any other outcome is returned as it is.
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
/// or 40P01 (PostgreSQL deadlock); see [`crate::error::write_conflict`].
/// When the retries run out, the answer is that error: 503 with
/// `Retry-After: 1`.
pub fn is_retryable(err: &ApiError) -> bool {
    matches!(
        err,
        ApiError::WriteConflict {
            retryable: true,
            ..
        }
    )
}

/// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`, so two
/// writers queue on the busy timeout instead of failing when a read
/// transaction would have to upgrade to a write one.
/// Inside a caller's transaction ([`Writer::nested`]) it is a savepoint of
/// that transaction: the caller commits or rolls back the whole.
pub async fn begin_write(db: &impl Writer) -> Result<DatabaseTransaction, ApiError> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    Ok(match db.base() {
        Base::Pool(pool) => pool.begin_with_options(options).await?,
        Base::ChangeSet(change_set) => change_set.transaction().begin_with_options(options).await?,
    })
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
