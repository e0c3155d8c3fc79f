//! Typed column decoders that accept exactly what sqlx's decoders accept
//! for the value's storage class.

use chrono::{
    DateTime, FixedOffset, NaiveDate, NaiveDateTime, Offset, SecondsFormat, TimeZone, Utc,
};
use odata_sql::schema::EdmType;
use rusqlite::types::ValueRef;
use rusqlite::{Row, RowIndex};
use serde_json::Value as Json;
use uuid::Uuid;

use super::ReaderError;

fn mismatch(what: &str, value: ValueRef<'_>) -> ReaderError {
    ReaderError::Decode(format!(
        "expected {what}, found a {} value",
        value.data_type()
    ))
}

/// A text column, borrowed from the row (sqlx decodes `String` from TEXT
/// values only).
pub fn text<'r, I: RowIndex>(row: &'r Row<'_>, idx: I) -> Result<Option<&'r str>, ReaderError> {
    match row.get_ref(idx)? {
        ValueRef::Null => Ok(None),
        ValueRef::Text(bytes) => std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|e| ReaderError::Decode(e.to_string())),
        other => Err(mismatch("TEXT", other)),
    }
}

/// A boolean column: an INTEGER, non-zero is true (as sqlx).
pub fn boolean<I: RowIndex>(row: &Row<'_>, idx: I) -> Result<Option<bool>, ReaderError> {
    match row.get_ref(idx)? {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(i) => Ok(Some(i != 0)),
        other => Err(mismatch("a boolean (INTEGER)", other)),
    }
}

/// An integer column (Edm.Int32/Int64): INTEGER values only (as sqlx).
pub fn int64<I: RowIndex>(row: &Row<'_>, idx: I) -> Result<Option<i64>, ReaderError> {
    match row.get_ref(idx)? {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(i) => Ok(Some(i)),
        other => Err(mismatch("INTEGER", other)),
    }
}

/// A floating-point column (Edm.Double/Decimal): REAL, or an INTEGER
/// (SQLite stores whole reals of a REAL column as integers in aggregates;
/// `odata::rows::json_value` falls back to `i64` the same way).
pub fn double<I: RowIndex>(row: &Row<'_>, idx: I) -> Result<Option<f64>, ReaderError> {
    match row.get_ref(idx)? {
        ValueRef::Null => Ok(None),
        ValueRef::Real(r) => Ok(Some(r)),
        ValueRef::Integer(i) => Ok(Some(i as f64)),
        other => Err(mismatch("REAL", other)),
    }
}

/// A UUID column: the 16 bytes of a BLOB (as sqlx writes it; sqlx also
/// takes the bytes of a TEXT value, which then must be 16 long).
pub fn uuid<I: RowIndex>(row: &Row<'_>, idx: I) -> Result<Option<Uuid>, ReaderError> {
    match row.get_ref(idx)? {
        ValueRef::Null => Ok(None),
        ValueRef::Blob(bytes) | ValueRef::Text(bytes) => Uuid::from_slice(bytes)
            .map(Some)
            .map_err(|e| ReaderError::Decode(e.to_string())),
        other => Err(mismatch("a UUID (BLOB)", other)),
    }
}

/// A timestamp column (Edm.DateTimeOffset) in UTC: RFC 3339 text (as
/// written) or one of SQLite's date-time text forms, an INTEGER of Unix
/// seconds or a REAL Julian day number, as sqlx's `DateTime<Utc>` decoder.
pub fn timestamp<I: RowIndex>(row: &Row<'_>, idx: I) -> Result<Option<DateTime<Utc>>, ReaderError> {
    let value = row.get_ref(idx)?;
    let parsed = match value {
        ValueRef::Null => return Ok(None),
        ValueRef::Text(bytes) => std::str::from_utf8(bytes).ok().and_then(datetime_from_text),
        ValueRef::Integer(i) => Utc.fix().timestamp_opt(i, 0).single(),
        ValueRef::Real(r) => datetime_from_julian_day(r),
        ValueRef::Blob(_) => None,
    };
    match parsed {
        Some(t) => Ok(Some(t.with_timezone(&Utc))),
        None => Err(ReaderError::Decode(match value {
            ValueRef::Text(bytes) => {
                format!("invalid datetime: {}", String::from_utf8_lossy(bytes))
            }
            other => format!("invalid datetime: a {} value", other.data_type()),
        })),
    }
}

/// sqlx-sqlite's text forms of a date-time, in its order.
fn datetime_from_text(value: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(value) {
        return Some(dt);
    }
    const FORMATS: [&str; 12] = [
        "%F %T%.f",
        "%F %R",
        "%F %RZ",
        "%F %R%:z",
        "%F %T%.fZ",
        "%F %T%.f%:z",
        "%FT%R",
        "%FT%RZ",
        "%FT%R%:z",
        "%FT%T%.f",
        "%FT%T%.fZ",
        "%FT%T%.f%:z",
    ];
    for format in FORMATS {
        if let Ok(dt) = DateTime::parse_from_str(value, format) {
            return Some(dt);
        }
        if let Ok(dt) = NaiveDateTime::parse_from_str(value, format) {
            return Some(Utc.fix().from_utc_datetime(&dt));
        }
    }
    None
}

fn datetime_from_julian_day(value: f64) -> Option<DateTime<FixedOffset>> {
    let timestamp = (value - 2_440_587.5) * 86_400.0;
    if !timestamp.is_finite() {
        return None;
    }
    // The same lossy conversion as sqlx (a finite value; `as` saturates).
    let seconds = timestamp.trunc() as i64;
    let nanos = (timestamp.fract() * 1e9).abs() as u32;
    Utc.fix().timestamp_opt(seconds, nanos).single()
}

/// A date column (Edm.Date): `YYYY-MM-DD` text.
pub fn date<I: RowIndex>(row: &Row<'_>, idx: I) -> Result<Option<NaiveDate>, ReaderError> {
    match text(row, idx)? {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%F")
            .map(Some)
            .map_err(|e| ReaderError::Decode(format!("invalid date {s:?}: {e}"))),
    }
}

/// A column as the JSON of its EDM type, exactly as `odata::rows::json_value`
/// renders the sqlx row (GUIDs hyphenated lower case, timestamps RFC 3339
/// in UTC with `Z`, dates `YYYY-MM-DD`).
pub fn json<I: RowIndex>(row: &Row<'_>, idx: I, ty: EdmType) -> Result<Json, ReaderError> {
    Ok(match ty {
        EdmType::String => text(row, idx)?.map_or(Json::Null, |s| Json::String(s.to_owned())),
        EdmType::Boolean => boolean(row, idx)?.map_or(Json::Null, Json::Bool),
        EdmType::Int32 | EdmType::Int64 => int64(row, idx)?.map_or(Json::Null, Json::from),
        EdmType::Decimal | EdmType::Double => double(row, idx)?.map_or(Json::Null, Json::from),
        EdmType::Guid => uuid(row, idx)?.map_or(Json::Null, |u| Json::String(u.to_string())),
        EdmType::DateTimeOffset => timestamp(row, idx)?.map_or(Json::Null, |t| {
            Json::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        }),
        EdmType::Date => date(row, idx)?.map_or(Json::Null, |d| {
            Json::String(d.format("%Y-%m-%d").to_string())
        }),
    })
}
