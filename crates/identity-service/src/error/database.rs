//! What a database error means for the client: unreachable (503), a
//! write conflict (deadlock, serialization failure, lock wait timeout),
//! or a value the database cannot store.

/// Whether a database error means "cannot reach the database" (503) rather
/// than a failing statement (500): no connection could be acquired (pool
/// timeout, refused), the connection broke while in use (I/O error, reset,
/// end of stream), or the server is shutting down, starting up or out of
/// connections.
pub fn is_connection_error(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    match err {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            is_unavailable_sqlx(e)
        }
        _ => false,
    }
}

/// The database's own error behind a SeaORM query or statement error
/// (its SQLSTATE and message), if the database answered one.
pub(crate) fn database_error(
    err: &sea_orm::DbErr,
) -> Option<&(dyn sea_orm::sqlx::error::DatabaseError + 'static)> {
    use sea_orm::{DbErr, RuntimeErr, sqlx::Error};
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match e.as_ref() {
                Error::Database(db) => Some(db.as_ref()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether the database aborted the statement's transaction (or, for
/// MariaDB's lock wait timeout, the statement) because of a concurrent
/// one: `Some(true)` for a deadlock or serialization failure (SQLSTATE
/// 40001, also MariaDB/MySQL's deadlock 1213, and PostgreSQL's 40P01),
/// `Some(false)` for MariaDB/MySQL's lock wait timeout (error 1205,
/// SQLSTATE HY000), `None` otherwise.
pub fn write_conflict(err: &sea_orm::DbErr) -> Option<bool> {
    let db = database_error(err)?;
    let code = db.code();
    if code
        .as_deref()
        .is_some_and(|c| c == "40001" || c == "40P01")
    {
        return Some(true);
    }
    let number = db
        .try_downcast_ref::<sea_orm::sqlx::mysql::MySqlDatabaseError>()
        .map(|e| e.number());
    match number {
        Some(1213) => Some(true),
        Some(1205) => Some(false),
        _ => None,
    }
}

/// Whether the database answered `err` with one of these SQLSTATEs.
pub(crate) fn has_sqlstate(err: &sea_orm::DbErr, codes: &[&str]) -> bool {
    database_error(err)
        .and_then(|db| db.code())
        .is_some_and(|code| codes.contains(&code.as_ref()))
}

/// PostgreSQL's 22021 (`invalid byte sequence`, a NUL in a text value)
/// and 22P05 (`untranslatable character`): a value the client sent (a key
/// in the path, a role or group key in a body), not a server failure.
pub(super) fn is_unstorable_character(err: &sea_orm::DbErr) -> bool {
    has_sqlstate(err, &["22021", "22P05"])
}

fn is_unavailable_sqlx(err: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    match err {
        Error::Io(_)
        | Error::Tls(_)
        | Error::PoolTimedOut
        | Error::PoolClosed
        | Error::WorkerCrashed => true,
        Error::Database(db) => db.code().is_some_and(|code| unavailable_sqlstate(&code)),
        _ => false,
    }
}

/// SQLSTATEs of an unreachable server: class 08 (connection exception,
/// also MySQL's "server shutdown in progress" and "too many connections"),
/// PostgreSQL's 57P01-57P03 (admin/crash shutdown, cannot connect now) and
/// 53300 (too many connections).
pub(super) fn unavailable_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}
