//! Decoding result rows and shaping records as JSON (the one serializer).

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use odata_sql::schema::{EdmType, EntityType, Property, PropertySource};
use sea_orm::{DbErr, QueryResult};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::ReadContext;
use crate::tenancy::TenantScope;

/// Reads column `col` of `row` as JSON according to its EDM type.
pub(crate) fn decode(row: &QueryResult, col: &str, ty: EdmType) -> Result<Json, DbErr> {
    Ok(match ty {
        EdmType::String => row
            .try_get::<Option<String>>("", col)?
            .map_or(Json::Null, Json::String),
        EdmType::Boolean => row
            .try_get::<Option<bool>>("", col)?
            .map_or(Json::Null, Json::Bool),
        EdmType::Int32 | EdmType::Int64 => {
            let v = match row.try_get::<Option<i64>>("", col) {
                Ok(v) => v,
                Err(_) => row.try_get::<Option<i32>>("", col)?.map(i64::from),
            };
            v.map_or(Json::Null, Json::from)
        }
        EdmType::Decimal | EdmType::Double => {
            let v = match row.try_get::<Option<f64>>("", col) {
                Ok(v) => v,
                Err(_) => row.try_get::<Option<i64>>("", col)?.map(|i| i as f64),
            };
            v.map_or(Json::Null, Json::from)
        }
        EdmType::Guid => row
            .try_get::<Option<Uuid>>("", col)?
            .map_or(Json::Null, |u| Json::String(u.to_string())),
        EdmType::DateTimeOffset => row
            .try_get::<Option<DateTime<Utc>>>("", col)?
            .map_or(Json::Null, |t| Json::String(timestamp(t))),
        EdmType::Date => row
            .try_get::<Option<NaiveDate>>("", col)?
            .map_or(Json::Null, |d| {
                Json::String(d.format("%Y-%m-%d").to_string())
            }),
    })
}

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

/// Shapes one record: the key (always), then the selected properties.
pub(crate) fn record(
    row: &QueryResult,
    entity: &EntityType,
    properties: &[Property],
    scope: &TenantScope,
    ctx: &ReadContext,
) -> Result<Map<String, Json>, DbErr> {
    let mut out = Map::new();
    for key in entity.key_properties() {
        if let Some(col) = key.column_name() {
            out.insert(key.name.clone(), decode(row, col, key.edm_type)?);
        }
    }
    for p in properties {
        let v = match &p.source {
            PropertySource::Column(col) => decode(row, col, p.edm_type)?,
            PropertySource::Constant(v) => constant(v),
            PropertySource::Computed { .. } => computed(row, entity, p, &out, scope, ctx)?,
        };
        out.insert(p.name.clone(), v);
    }
    Ok(out)
}

fn constant(v: &sea_query::Value) -> Json {
    match v {
        sea_query::Value::Bool(b) => b.map_or(Json::Null, Json::Bool),
        sea_query::Value::String(s) => s.clone().map_or(Json::Null, Json::String),
        sea_query::Value::Int(i) => i.map_or(Json::Null, Json::from),
        sea_query::Value::BigInt(i) => i.map_or(Json::Null, Json::from),
        _ => Json::Null,
    }
}

/// The computed properties of the model: `picture` of a user.
fn computed(
    row: &QueryResult,
    entity: &EntityType,
    p: &Property,
    so_far: &Map<String, Json>,
    scope: &TenantScope,
    ctx: &ReadContext,
) -> Result<Json, DbErr> {
    if entity.name == "User" && p.name == "picture" {
        let has_picture = row.try_get::<bool>("", "has_picture")?;
        if has_picture && let Some(Json::String(id)) = so_far.get("id") {
            return Ok(Json::String(format!(
                "{}/api/{}/{}/identity/users/{}/picture",
                ctx.base_url, scope.tenant_key, scope.org_key, id
            )));
        }
        return Ok(row
            .try_get::<Option<String>>("", "picture_url")?
            .map_or(Json::Null, Json::String));
    }
    Ok(Json::Null)
}
