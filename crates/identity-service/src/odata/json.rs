//! JSON forms of values: timestamps, and skiptoken positions back to SQL values.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use odata_sql::schema::EdmType;
use serde_json::Value as Json;
use uuid::Uuid;

/// RFC 3339 in UTC with `Z`.
pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// JSON back to a bound SQL value of the given EDM type (for seek
/// positions); `None` when the JSON does not fit the type.
pub(crate) fn to_sql_value(v: &Json, ty: EdmType) -> Option<sea_query::Value> {
    use sea_query::Value as V;
    Some(match (ty, v) {
        (EdmType::String, Json::Null) => V::String(None),
        (EdmType::String, Json::String(s)) => V::String(Some(s.clone())),
        (EdmType::Boolean, Json::Null) => V::Bool(None),
        (EdmType::Boolean, Json::Bool(b)) => V::Bool(Some(*b)),
        (EdmType::Int32 | EdmType::Int64, Json::Null) => V::BigInt(None),
        (EdmType::Int32 | EdmType::Int64, Json::Number(n)) => V::BigInt(Some(n.as_i64()?)),
        (EdmType::Decimal | EdmType::Double, Json::Null) => V::Double(None),
        (EdmType::Decimal | EdmType::Double, Json::Number(n)) => V::Double(Some(n.as_f64()?)),
        (EdmType::Guid, Json::Null) => V::Uuid(None),
        (EdmType::Guid, Json::String(s)) => V::Uuid(Some(Uuid::parse_str(s).ok()?)),
        (EdmType::DateTimeOffset, Json::Null) => V::ChronoDateTimeUtc(None),
        (EdmType::DateTimeOffset, Json::String(s)) => V::ChronoDateTimeUtc(Some(
            DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc),
        )),
        (EdmType::Date, Json::Null) => V::ChronoDate(None),
        (EdmType::Date, Json::String(s)) => {
            V::ChronoDate(Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?))
        }
        _ => return None,
    })
}
