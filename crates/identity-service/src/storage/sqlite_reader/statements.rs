//! Statements on a reader connection: sea-query values bound as sqlx-sqlite
//! binds them, rows run through, plans kept stable.

use chrono::SecondsFormat;
use rusqlite::types::Value;
use rusqlite::{Connection, Row, params_from_iter};
use sea_query::{SelectStatement, SqliteQueryBuilder};

use super::{ReaderError, text};

/// The SQL text of a sea-query statement for SQLite (`?` placeholders) and
/// its values, each encoded as sqlx-sqlite encodes it when SeaORM binds it.
pub fn bind(stmt: &SelectStatement) -> Result<(String, Vec<Value>), ReaderError> {
    let (sql, values) = stmt.build(SqliteQueryBuilder);
    let values = values
        .0
        .into_iter()
        .map(to_sqlite)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((sql, values))
}

/// One sea-query value as sqlx-sqlite encodes it (sea-query-sqlx's
/// `IntoArguments<Sqlite>` and sqlx-sqlite's `Encode` impls).
pub fn to_sqlite(value: sea_query::Value) -> Result<Value, ReaderError> {
    use sea_query::Value as V;
    fn or_null<T>(v: Option<T>, f: impl FnOnce(T) -> Value) -> Value {
        v.map_or(Value::Null, f)
    }
    let int = |i: i64| Value::Integer(i);
    Ok(match value {
        V::Bool(b) => or_null(b, |b| Value::Integer(i64::from(b))),
        V::TinyInt(i) => or_null(i, |i| int(i.into())),
        V::SmallInt(i) => or_null(i, |i| int(i.into())),
        V::Int(i) => or_null(i, |i| int(i.into())),
        V::BigInt(i) => or_null(i, int),
        V::TinyUnsigned(i) => or_null(i, |i| int(i.into())),
        V::SmallUnsigned(i) => or_null(i, |i| int(i.into())),
        V::Unsigned(i) => or_null(i, |i| int(i.into())),
        V::BigUnsigned(Some(u)) => Value::Integer(
            i64::try_from(u)
                .map_err(|_| ReaderError::Decode(format!("{u} does not fit a SQLite integer")))?,
        ),
        V::BigUnsigned(None) => Value::Null,
        V::Float(f) => or_null(f, |f| Value::Real(f.into())),
        V::Double(f) => or_null(f, Value::Real),
        V::String(s) => or_null(s, Value::Text),
        V::Char(c) => or_null(c, |c| Value::Text(c.to_string())),
        V::Enum(e) => match e {
            sea_query::OptionEnum::Some(v) => Value::Text(v.value.into_owned()),
            sea_query::OptionEnum::None(_) => Value::Null,
        },
        V::Bytes(b) => or_null(b, Value::Blob),
        V::Json(j) => match j {
            Some(j) => Value::Text(
                serde_json::to_string(&*j).map_err(|e| ReaderError::Decode(e.to_string()))?,
            ),
            None => Value::Null,
        },
        V::ChronoDate(d) => or_null(d, |d| Value::Text(d.format("%F").to_string())),
        V::ChronoTime(t) => or_null(t, |t| Value::Text(t.format("%T%.f").to_string())),
        V::ChronoDateTime(t) => or_null(t, |t| Value::Text(t.format("%F %T%.f").to_string())),
        V::ChronoDateTimeUtc(t) => or_null(t, |t| {
            Value::Text(t.to_rfc3339_opts(SecondsFormat::AutoSi, false))
        }),
        V::ChronoDateTimeLocal(t) => or_null(t, |t| {
            Value::Text(t.to_rfc3339_opts(SecondsFormat::AutoSi, false))
        }),
        V::ChronoDateTimeWithTimeZone(t) => or_null(t, |t| {
            Value::Text(t.to_rfc3339_opts(SecondsFormat::AutoSi, false))
        }),
        V::Uuid(u) => or_null(u, |u| Value::Blob(u.as_bytes().to_vec())),
        // Impossible on the read path: the translator binds only the types
        // above (the identity schema has no `time`-crate, decimal or array
        // values). They exist because SeaORM's sqlx drivers turn on these
        // sea-query features (named in Cargo.toml, so this match stays
        // exhaustive); a new variant is a compile error here.
        other @ (V::TimeDate(_)
        | V::TimeTime(_)
        | V::TimeDateTime(_)
        | V::TimeDateTimeWithTimeZone(_)
        | V::Decimal(_)
        | V::Array(..)) => {
            return Err(ReaderError::Decode(format!(
                "cannot bind {other:?} on the SQLite reader: the translator never binds this type"
            )));
        }
    })
}

/// Prepares `stmt` (through the connection's statement cache), binds its
/// values and calls `f` for each row, in order.
pub fn for_each_row(
    conn: &Connection,
    stmt: &SelectStatement,
    f: impl FnMut(&Row<'_>) -> Result<(), ReaderError>,
) -> Result<(), ReaderError> {
    let (sql, values) = bind(stmt)?;
    for_each_bound_row(conn, &sql, &values, f)
}

/// [`for_each_row`] for SQL text and values from [`bind`].
pub fn for_each_bound_row(
    conn: &Connection,
    sql: &str,
    values: &[Value],
    mut f: impl FnMut(&Row<'_>) -> Result<(), ReaderError>,
) -> Result<(), ReaderError> {
    let mut prepared = prepare_cached(conn, sql)?;
    let mut rows = prepared.query(params_from_iter(values))?;
    while let Some(row) = rows.next()? {
        f(row)?;
    }
    Ok(())
}

/// Whether the plan of `sql` should depend on the values bound to it: a
/// range comparison (`<`, `<=`, `>`, `>=`) or a `LIKE`, where SQLite's
/// STAT4 samples tell a selective range (use its index) from a wide one
/// (read in the order's index and stop early). Every other statement
/// (equalities, `IN` lists, plain pages) gets one plan for all values.
///
/// SQLite re-prepares a statement each time a value is bound to a
/// parameter its plan looked at (with STAT4 that includes the tenant id,
/// every equality value and the `LIMIT`): on `key_eq` that was 37 % of
/// the instructions of a request (BENCHMARKS.md). The query planner
/// stability guarantee (QPSG) plans once without the values; it is turned
/// on for the statements that do not need them.
pub fn value_dependent(sql: &str) -> bool {
    // One vectorised pass over the text for the three characters the
    // operators start with (five `contains` scans cost 2k instructions on
    // a key lookup's statement).
    let bytes = sql.as_bytes();
    memchr::memchr3_iter(b'<', b'>', b'L', bytes).any(|at| {
        let after = &bytes[at + 1..];
        at > 0
            && bytes[at - 1] == b' '
            && match bytes[at] {
                b'L' => after.starts_with(b"IKE "),
                _ => after.starts_with(b" ") || after.starts_with(b"= "),
            }
    })
}

/// `conn.prepare_cached(sql)` with the query planner stability guarantee
/// set as [`value_dependent`] says (it takes effect when a statement is
/// prepared, and the cache is keyed by the text the decision is made on).
pub fn prepare_cached<'c>(
    conn: &'c Connection,
    sql: &str,
) -> Result<rusqlite::CachedStatement<'c>, ReaderError> {
    set_qpsg(conn, sql)?;
    Ok(conn.prepare_cached(sql)?)
}

fn set_qpsg(conn: &Connection, sql: &str) -> Result<(), ReaderError> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        !value_dependent(sql),
    )?;
    Ok(())
}

/// The `detail` lines of `EXPLAIN QUERY PLAN` for `stmt` on `conn`.
pub fn explain_query_plan(
    conn: &Connection,
    stmt: &SelectStatement,
) -> Result<Vec<String>, ReaderError> {
    let (sql, values) = bind(stmt)?;
    let mut lines = Vec::new();
    set_qpsg(conn, &sql)?;
    let mut prepared = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
    let mut rows = prepared.query(params_from_iter(&values))?;
    while let Some(row) = rows.next()? {
        lines.push(text(row, "detail")?.unwrap_or_default().to_owned());
    }
    Ok(lines)
}
