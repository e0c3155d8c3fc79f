//! Values of the in-memory evaluator and OData's comparison rules for them.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use crate::expr::parse_datetime;
use crate::schema::{EdmType, EntityType};

/// A value during evaluation. Entities and collections borrow the rows.
#[derive(Debug, Clone)]
pub(crate) enum Val<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(Cow<'a, str>),
    Time(DateTime<Utc>),
    Date(NaiveDate),
    Guid(Uuid),
    /// A JSON object, with its entity type when a schema is known.
    Entity(&'a Map<String, Json>, Option<&'a EntityType>),
    /// A JSON array, with the entity type of its members when known.
    Coll(&'a [Json], Option<&'a EntityType>),
}

impl<'a> Val<'a> {
    /// The value of a JSON value whose EDM type is `edm` (when known) or
    /// whose members are of entity type `entity` (for objects and arrays).
    pub(crate) fn from_json(
        json: &'a Json,
        edm: Option<EdmType>,
        entity: Option<&'a EntityType>,
    ) -> Val<'a> {
        match json {
            Json::Null => Val::Null,
            Json::Bool(b) => Val::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Val::Int(i),
                None => Val::Num(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => match edm {
                Some(EdmType::DateTimeOffset) => {
                    parse_datetime(s).map_or(Val::Str(Cow::Borrowed(s)), Val::Time)
                }
                Some(EdmType::Date) => parse_date(s).map_or(Val::Str(Cow::Borrowed(s)), Val::Date),
                Some(EdmType::Guid) => {
                    Uuid::parse_str(s).map_or(Val::Str(Cow::Borrowed(s)), Val::Guid)
                }
                _ => Val::Str(Cow::Borrowed(s)),
            },
            Json::Array(items) => Val::Coll(items, entity),
            Json::Object(map) => Val::Entity(map, entity),
        }
    }

    /// The type's name in messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "Edm.Boolean",
            Val::Int(_) => "Edm.Int64",
            Val::Num(_) => "Edm.Double",
            Val::Str(_) => "Edm.String",
            Val::Time(_) => "Edm.DateTimeOffset",
            Val::Date(_) => "Edm.Date",
            Val::Guid(_) => "Edm.Guid",
            Val::Entity(..) => "an entity",
            Val::Coll(..) => "a collection",
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    /// A string read as a DateTimeOffset (rows without a schema keep
    /// timestamps as strings).
    pub(crate) fn as_time(&self) -> Option<DateTime<Utc>> {
        match self {
            Val::Time(t) => Some(*t),
            Val::Str(s) => parse_datetime(s),
            _ => None,
        }
    }

    /// A string read as a Date.
    pub(crate) fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Val::Date(d) => Some(*d),
            Val::Str(s) => parse_date(s),
            _ => None,
        }
    }
}

pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// OData's order of two non-null values of comparable types: numbers by
/// value, strings by code point, Booleans `false < true`, times, dates and
/// GUIDs by value (a string compared with one of those is read as one).
/// `Ok(None)` when either is null; `Err` (a message) when the types cannot
/// be compared.
pub(crate) fn order(l: &Val<'_>, r: &Val<'_>) -> Result<Option<Ordering>, String> {
    let mismatch = || {
        Err(format!(
            "cannot compare {} with {}",
            l.type_name(),
            r.type_name()
        ))
    };
    let read = |what: &str, s: &str| Err(format!("`{s}` is not a valid {what}"));
    Ok(Some(match (l, r) {
        (Val::Null, _) | (_, Val::Null) => return Ok(None),
        (Val::Bool(a), Val::Bool(b)) => a.cmp(b),
        (Val::Int(a), Val::Int(b)) => a.cmp(b),
        (Val::Int(a), Val::Num(b)) => int_float(*a, *b),
        (Val::Num(a), Val::Int(b)) => int_float(*b, *a).reverse(),
        (Val::Num(a), Val::Num(b)) => a.total_cmp(b),
        (Val::Str(a), Val::Str(b)) => a.as_ref().cmp(b.as_ref()),
        (Val::Time(a), Val::Time(b)) => a.cmp(b),
        (Val::Str(s), Val::Time(t)) => match parse_datetime(s) {
            Some(a) => a.cmp(t),
            None => return read("DateTimeOffset", s),
        },
        (Val::Time(t), Val::Str(s)) => match parse_datetime(s) {
            Some(b) => t.cmp(&b),
            None => return read("DateTimeOffset", s),
        },
        (Val::Date(a), Val::Date(b)) => a.cmp(b),
        (Val::Str(s), Val::Date(d)) => match parse_date(s) {
            Some(a) => a.cmp(d),
            None => return read("Date", s),
        },
        (Val::Date(d), Val::Str(s)) => match parse_date(s) {
            Some(b) => d.cmp(&b),
            None => return read("Date", s),
        },
        (Val::Guid(a), Val::Guid(b)) => a.cmp(b),
        (Val::Str(s), Val::Guid(g)) => match Uuid::parse_str(s) {
            Ok(a) => a.cmp(g),
            Err(_) => return read("Guid", s),
        },
        (Val::Guid(g), Val::Str(s)) => match Uuid::parse_str(s) {
            Ok(b) => g.cmp(&b),
            Err(_) => return read("Guid", s),
        },
        _ => return mismatch(),
    }))
}

/// `eq`: two-valued, `null eq null` is true.
pub(crate) fn equal(l: &Val<'_>, r: &Val<'_>) -> Result<bool, String> {
    match (l, r) {
        (Val::Null, Val::Null) => Ok(true),
        (Val::Null, _) | (_, Val::Null) => Ok(false),
        _ => Ok(order(l, r)? == Some(Ordering::Equal)),
    }
}

/// An integer and a float, exactly (no rounding of large integers), so
/// that the order of numbers is total.
fn int_float(i: i64, f: f64) -> Ordering {
    if f.is_nan() {
        return Ordering::Less;
    }
    // 2^63 as a float: at or above it every i64 is smaller.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if f >= LIMIT {
        return Ordering::Less;
    }
    if f < -LIMIT {
        return Ordering::Greater;
    }
    let whole = f.floor();
    // `whole` is in the i64 range here, so the cast is exact.
    match i.cmp(&(whole as i64)) {
        Ordering::Equal if f > whole => Ordering::Less,
        o => o,
    }
}

/// The order `$orderby` uses: nulls first; values of one kind by [`order`]
/// (numbers by value, strings by code point, ...); values of different
/// kinds, which rows may mix (a string where other rows have a time), by
/// the rank of their kind, never by reading one as the other, so that the
/// order is total.
pub(crate) fn sort_order(l: &Val<'_>, r: &Val<'_>) -> Ordering {
    if rank(l) != rank(r) {
        return rank(l).cmp(&rank(r));
    }
    match order(l, r) {
        Ok(Some(o)) => o,
        // Nulls, entities and collections: equal among themselves.
        _ => Ordering::Equal,
    }
}

fn rank(v: &Val<'_>) -> u8 {
    match v {
        Val::Null => 0,
        Val::Bool(_) => 1,
        Val::Int(_) | Val::Num(_) => 2,
        Val::Str(_) => 3,
        Val::Time(_) => 4,
        Val::Date(_) => 5,
        Val::Guid(_) => 6,
        Val::Entity(..) => 7,
        Val::Coll(..) => 8,
    }
}
