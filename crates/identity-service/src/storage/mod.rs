//! The only code that writes to the database. Every function takes the
//! tenant scope (or is server-wide by nature, like tenants and settings);
//! unique violations become 409; multi-row changes run in one transaction.

pub mod db;
pub mod entities;
pub mod groups;
pub mod invitations;
pub mod memberships;
pub mod roles;
mod sqlite_functions;
pub mod tenants;
pub mod users;

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, SqlErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
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

/// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`, so two
/// writers queue on the busy timeout instead of failing when a read
/// transaction would have to upgrade to a write one.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, ApiError> {
    Ok(db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?)
}
