//! Column values of SeaORM rows as OData JSON values, on every backend.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use sea_orm::{DbErr, QueryResult};
use serde_json::Value as Json;

use crate::schema::EdmType;

fn timestamp(t: DateTime<Utc>) -> Json {
    Json::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// The value of column `col` of `row` as JSON of type `ty`. Each backend's
/// drivers decode a type differently (SQLite has no timestamps or UUIDs of
/// its own, MariaDB's `DATETIME` has no time zone, an integer expression
/// may come back as a 64-bit integer): the forms are tried in turn.
pub(crate) fn read(row: &QueryResult, col: &str, ty: EdmType) -> Result<Json, DbErr> {
    macro_rules! first_of {
        ($($t:ty => $f:expr),+ $(,)?) => {{
            $(
                if let Ok(v) = row.try_get::<Option<$t>>("", col) {
                    return Ok(v.map_or(Json::Null, $f));
                }
            )+
            Err(DbErr::Type(format!(
                "column {col} cannot be read as {}",
                ty.csdl_name()
            )))
        }};
    }
    match ty {
        EdmType::String => first_of!(String => Json::String),
        EdmType::Boolean => first_of!(
            bool => Json::Bool,
            i64 => |v: i64| Json::Bool(v != 0),
        ),
        EdmType::Int32 | EdmType::Int64 => first_of!(
            i64 => Json::from,
            i32 => Json::from,
            i16 => Json::from,
            u32 => Json::from,
        ),
        EdmType::Double | EdmType::Decimal => first_of!(
            f64 => Json::from,
            f32 => |v: f32| Json::from(f64::from(v)),
            i64 => Json::from,
        ),
        EdmType::Guid => first_of!(
            uuid::Uuid => |u: uuid::Uuid| Json::String(u.to_string()),
            String => Json::String,
        ),
        EdmType::DateTimeOffset => first_of!(
            DateTime<Utc> => timestamp,
            NaiveDateTime => |t: NaiveDateTime| timestamp(t.and_utc()),
        ),
        EdmType::Date => first_of!(
            NaiveDate => |d: NaiveDate| Json::String(d.format("%Y-%m-%d").to_string()),
        ),
    }
}

/// A constant property's value as JSON; `None` for a kind of value a
/// constant property does not take.
pub(crate) fn constant(v: &sea_query::Value) -> Option<Json> {
    use sea_query::Value as V;
    Some(match v {
        V::Bool(b) => b.map_or(Json::Null, Json::Bool),
        V::TinyInt(n) => n.map_or(Json::Null, Json::from),
        V::SmallInt(n) => n.map_or(Json::Null, Json::from),
        V::Int(n) => n.map_or(Json::Null, Json::from),
        V::BigInt(n) => n.map_or(Json::Null, Json::from),
        V::Double(n) => n.map_or(Json::Null, Json::from),
        V::Float(n) => n.map_or(Json::Null, |f| Json::from(f64::from(f))),
        V::String(s) => s.clone().map_or(Json::Null, Json::String),
        V::Uuid(u) => u.map_or(Json::Null, |u| Json::String(u.to_string())),
        V::ChronoDate(d) => d.map_or(Json::Null, |d| {
            Json::String(d.format("%Y-%m-%d").to_string())
        }),
        V::ChronoDateTimeUtc(t) => t.map_or(Json::Null, timestamp),
        _ => return None,
    })
}
