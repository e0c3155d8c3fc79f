//! Unicode-correct `odata_lower(text)` / `odata_upper(text)` SQL functions
//! for SQLite, whose built-in `lower()`/`upper()` only fold ASCII. They use
//! the simple case mapping of [`odata_sql::case`], as PostgreSQL and MariaDB
//! do, so `tolower`/`toupper` agree on every backend. And the checked
//! integer arithmetic `odata_add(a, b)`, `odata_sub(a, b)`,
//! `odata_mul(a, b)` of [`odata_sql::checked`]: an Int64 overflow is an
//! error (answered 400), as on PostgreSQL and MariaDB, not a REAL. They are
//! registered on every connection of every pool (see [`super::db`]); the
//! rusqlite reader pool registers the same functions
//! (`sqlite_reader::register_functions`, with [`checked_rusqlite`]).
//!
//! This is the one module of the crate with `unsafe`: the SQLite C API.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_int};
use std::ptr::{NonNull, null_mut};

use libsqlite3_sys as ffi;
use odata_sql::checked::{self, Number, Op};

/// The names the translator emits for `tolower`/`toupper` on SQLite.
pub const LOWER: &CStr = c"odata_lower";
pub const UPPER: &CStr = c"odata_upper";
/// The names of the checked integer arithmetic ([`odata_sql::checked::Op::name`]).
pub const ADD: &CStr = c"odata_add";
pub const SUB: &CStr = c"odata_sub";
pub const MUL: &CStr = c"odata_mul";

/// Registers the functions on one pooled connection (the pool's
/// `after_connect` hook calls this for every new connection).
pub async fn register_on(
    conn: &mut sea_orm::sqlx::SqliteConnection,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let raw = handle.as_raw_handle();
    // SAFETY: the handle is locked for this connection (no other user while
    // `handle` lives) and the connection stays open during the call.
    unsafe { register(raw) }.map_err(|e| sea_orm::sqlx::Error::Configuration(e.into()))
}

/// Registers the functions on one connection.
///
/// # Safety
///
/// `db` must be a valid, open SQLite connection handle that is not used by
/// another thread for the duration of the call (sqlx's `lock_handle`
/// guarantees this).
pub unsafe fn register(db: NonNull<ffi::sqlite3>) -> Result<(), String> {
    for (name, n_arg, func) in [
        (LOWER, 1, lower as unsafe extern "C" fn(_, _, _)),
        (UPPER, 1, upper as unsafe extern "C" fn(_, _, _)),
        (ADD, 2, add as unsafe extern "C" fn(_, _, _)),
        (SUB, 2, sub as unsafe extern "C" fn(_, _, _)),
        (MUL, 2, mul as unsafe extern "C" fn(_, _, _)),
    ] {
        // SAFETY: `db` is valid per this function's contract; `name` is a
        // NUL-terminated static string; the callback has the signature SQLite
        // expects and uses no user data (null pointer, no destructor).
        let rc = unsafe {
            ffi::sqlite3_create_function_v2(
                db.as_ptr(),
                name.as_ptr(),
                n_arg,
                ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC,
                null_mut(),
                Some(func),
                None,
                None,
                None,
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(format!(
                "sqlite3_create_function_v2({name:?}) failed with code {rc}"
            ));
        }
    }
    Ok(())
}

unsafe extern "C" fn lower(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: called by SQLite with a valid context and `argc` arguments.
    unsafe { map_text(ctx, argc, argv, odata_sql::case::lower) }
}

unsafe extern "C" fn upper(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: called by SQLite with a valid context and `argc` arguments.
    unsafe { map_text(ctx, argc, argv, odata_sql::case::upper) }
}

/// NULL in, NULL out; otherwise the text value mapped by `f`.
///
/// # Safety
/// `ctx` and `argv[0..argc]` must be the pointers SQLite passed to a scalar function.
unsafe fn map_text(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
    f: fn(&str) -> String,
) {
    // SAFETY: SQLite passes `argc` valid value pointers in `argv` and a valid
    // context; the text pointer returned by `sqlite3_value_text` stays valid
    // until the next call on that value, and we copy it before returning;
    // SQLITE_TRANSIENT makes SQLite copy the result buffer.
    unsafe {
        if argc != 1 {
            ffi::sqlite3_result_error(ctx, c"expects one argument".as_ptr(), -1);
            return;
        }
        let value = *argv;
        if ffi::sqlite3_value_type(value) == ffi::SQLITE_NULL {
            ffi::sqlite3_result_null(ctx);
            return;
        }
        let text = ffi::sqlite3_value_text(value);
        let len = ffi::sqlite3_value_bytes(value);
        let bytes: &[u8] = if text.is_null() || len <= 0 {
            &[]
        } else {
            std::slice::from_raw_parts(text, len as usize)
        };
        let mapped = f(&String::from_utf8_lossy(bytes));
        let Ok(out_len) = c_int::try_from(mapped.len()) else {
            ffi::sqlite3_result_error_toobig(ctx);
            return;
        };
        ffi::sqlite3_result_text(
            ctx,
            mapped.as_ptr().cast(),
            out_len,
            ffi::SQLITE_TRANSIENT(),
        );
    }
}

unsafe extern "C" fn add(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: called by SQLite with a valid context and `argc` arguments.
    unsafe { arithmetic(ctx, argc, argv, Op::Add) }
}

unsafe extern "C" fn sub(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: called by SQLite with a valid context and `argc` arguments.
    unsafe { arithmetic(ctx, argc, argv, Op::Sub) }
}

unsafe extern "C" fn mul(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: called by SQLite with a valid context and `argc` arguments.
    unsafe { arithmetic(ctx, argc, argv, Op::Mul) }
}

/// `op` of the two arguments per [`checked::apply`]; its overflow (and a
/// TEXT or BLOB argument) is an error with a fixed message.
///
/// # Safety
/// `ctx` and `argv[0..argc]` must be the pointers SQLite passed to a scalar function.
unsafe fn arithmetic(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
    op: Op,
) {
    // SAFETY: SQLite passes `argc` valid value pointers in `argv` and a valid
    // context; the error messages are NUL-terminated and copied by SQLite
    // (`sqlite3_result_error` with length -1 copies up to the NUL).
    unsafe {
        if argc != 2 {
            ffi::sqlite3_result_error(ctx, c"expects two arguments".as_ptr(), -1);
            return;
        }
        let number = |value: *mut ffi::sqlite3_value| match ffi::sqlite3_value_type(value) {
            ffi::SQLITE_NULL => Some(Number::Null),
            ffi::SQLITE_INTEGER => Some(Number::Integer(ffi::sqlite3_value_int64(value))),
            ffi::SQLITE_FLOAT => Some(Number::Real(ffi::sqlite3_value_double(value))),
            _ => None,
        };
        let (Some(a), Some(b)) = (number(*argv), number(*argv.add(1))) else {
            let message =
                std::ffi::CString::new(checked::NotANumber(op).to_string()).unwrap_or_default();
            ffi::sqlite3_result_error(ctx, message.as_ptr(), -1);
            return;
        };
        match checked::apply(op, a, b) {
            Ok(Number::Null) => ffi::sqlite3_result_null(ctx),
            Ok(Number::Integer(i)) => ffi::sqlite3_result_int64(ctx, i),
            Ok(Number::Real(r)) => ffi::sqlite3_result_double(ctx, r),
            Err(overflow) => {
                let message = std::ffi::CString::new(overflow.to_string()).unwrap_or_default();
                ffi::sqlite3_result_error(ctx, message.as_ptr(), -1);
            }
        }
    }
}

/// The rusqlite form of the checked arithmetic (the reader pool's
/// connections): the same [`checked::apply`], the same messages.
pub(crate) fn checked_rusqlite(
    ctx: &rusqlite::functions::Context<'_>,
    op: Op,
) -> rusqlite::Result<rusqlite::types::Value> {
    use rusqlite::types::{Value, ValueRef};
    if ctx.len() != 2 {
        return Err(rusqlite::Error::UserFunctionError(
            "expects two arguments".into(),
        ));
    }
    let number = |i: usize| match ctx.get_raw(i) {
        ValueRef::Null => Ok(Number::Null),
        ValueRef::Integer(i) => Ok(Number::Integer(i)),
        ValueRef::Real(r) => Ok(Number::Real(r)),
        ValueRef::Text(_) | ValueRef::Blob(_) => Err(rusqlite::Error::UserFunctionError(Box::new(
            checked::NotANumber(op),
        ))),
    };
    match checked::apply(op, number(0)?, number(1)?) {
        Ok(Number::Null) => Ok(Value::Null),
        Ok(Number::Integer(i)) => Ok(Value::Integer(i)),
        Ok(Number::Real(r)) => Ok(Value::Real(r)),
        Err(overflow) => Err(rusqlite::Error::UserFunctionError(Box::new(overflow))),
    }
}
