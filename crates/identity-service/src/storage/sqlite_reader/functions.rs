//! SQL functions registered on every reader connection.

use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;

/// Registers `odata_lower`/`odata_upper` and the checked arithmetic
/// `odata_add`/`odata_sub`/`odata_mul` (see `storage::sqlite_functions`,
/// the same semantics for the sqlx connections) on `conn`.
pub fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("odata_lower", 1, flags, |ctx| {
        map_text(ctx, odata_sql::case::lower)
    })?;
    conn.create_scalar_function("odata_upper", 1, flags, |ctx| {
        map_text(ctx, odata_sql::case::upper)
    })?;
    for op in odata_sql::checked::Op::ALL {
        conn.create_scalar_function(op.name(), 2, flags, move |ctx| {
            crate::storage::sqlite_functions::checked_rusqlite(ctx, op)
        })?;
    }
    Ok(())
}

/// NULL in, NULL out; otherwise the value as SQLite's `sqlite3_value_text`
/// renders it (integers and reals as SQLite prints them, blobs as their
/// bytes read as UTF-8, lossily) mapped by `f`.
fn map_text(ctx: &Context<'_>, f: fn(&str) -> String) -> rusqlite::Result<Option<String>> {
    if ctx.len() != 1 {
        return Err(rusqlite::Error::UserFunctionError(
            "expects one argument".into(),
        ));
    }
    Ok(match ctx.get_raw(0) {
        ValueRef::Null => None,
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => Some(f(&String::from_utf8_lossy(bytes))),
        ValueRef::Integer(i) => Some(f(&i.to_string())),
        ValueRef::Real(r) => Some(f(&sqlite_real_text(r))),
    })
}

/// A REAL as SQLite renders it as text (`printf("%!.15g")`): 15
/// significant digits, trailing zeros removed but at least one digit after
/// the point, exponent form (`1.0e+20`) below 1e-4 and from 1e15.
fn sqlite_real_text(r: f64) -> String {
    if r.is_nan() {
        return "NaN".to_owned();
    }
    if r.is_infinite() {
        return if r > 0.0 { "Inf" } else { "-Inf" }.to_owned();
    }
    // SQLite prints no sign for -0.0 (it tests `r < 0`).
    let sign = if r < 0.0 { "-" } else { "" };
    // `d.dddddddddddddde±x`: 15 significant digits, correctly rounded.
    let sci = format!("{:.14e}", r.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let trim = |s: &str| -> String {
        let t = s.trim_end_matches('0');
        if t.is_empty() {
            "0".to_owned()
        } else {
            t.to_owned()
        }
    };
    if !(-4..15).contains(&exp) {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let e_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}.{}e{e_sign}{:02}", trim(rest), exp.abs())
    } else if exp < 0 {
        let zeros = "0".repeat(usize::try_from(-exp - 1).unwrap_or(0));
        format!("{sign}0.{zeros}{}", trim(&digits))
    } else {
        let point = usize::try_from(exp + 1).unwrap_or(1).min(digits.len());
        let (int, frac) = digits.split_at(point);
        format!("{sign}{int}.{}", trim(frac))
    }
}
