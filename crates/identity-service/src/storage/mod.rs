//! The only code that writes to the database. Every function takes the
//! tenant scope (or is server-wide by nature, like tenants and settings);
//! unique violations become 409; multi-row changes run in one transaction.

pub mod db;
pub mod entities;
mod sqlite_functions;
pub mod tenants;

use sea_orm::{DbErr, SqlErr};

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
