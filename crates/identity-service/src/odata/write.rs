//! Rows straight to JSON bytes (the one serializer of records).
//!
//! A record is written from a [`Row`] into the response buffer, driven by
//! the plan's projection: the key, then the selected properties in the
//! order `$metadata` declares them, then `$compute` results, then (added
//! once related rows are read) navigation properties in declaration order.
//! No `serde_json::Value` per row or per property; strings are escaped
//! straight from the row.

use std::rc::Rc;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use odata_sql::ComputedProperty;
use odata_sql::schema::{EdmType, EntityType, Property, PropertySource};
use sea_orm::DbErr;
use uuid::Uuid;

use super::Shape;
use super::rows::{Row, index_of};

/// Writes `s` as a JSON string, escaped as serde_json escapes it.
pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // Most values need no escape: one pass without early exit (the compiler
    // vectorises it), then one copy.
    let plain = !bytes.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if plain {
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
    } else {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// Writes `"name":`.
pub(crate) fn key(out: &mut Vec<u8>, name: &str) {
    string(out, name);
    out.push(b':');
}

fn integer(out: &mut Vec<u8>, v: i64) {
    let _ = serde_json::to_writer(&mut *out, &v);
}

fn float(out: &mut Vec<u8>, v: f64) {
    // NaN and infinities have no JSON form: null, as serde_json writes them.
    let _ = serde_json::to_writer(&mut *out, &v);
}

fn guid(out: &mut Vec<u8>, id: Uuid) {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    out.push(b'"');
    out.extend_from_slice(id.hyphenated().encode_lower(&mut buf).as_bytes());
    out.push(b'"');
}

fn digits(out: &mut Vec<u8>, v: u32, width: usize) {
    let mut buf = [b'0'; 10];
    let mut v = v;
    for slot in buf[..width].iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&buf[..width]);
}

/// RFC 3339 in UTC with `Z` and as many fractional digits as needed in
/// groups of three (0, 3, 6 or 9), as `SecondsFormat::AutoSi` writes it.
pub(crate) fn timestamp(out: &mut Vec<u8>, t: DateTime<Utc>) {
    let year = t.year();
    if !(0..=9999).contains(&year) {
        string(out, &super::json::timestamp(t));
        return;
    }
    out.push(b'"');
    digits(out, year as u32, 4);
    out.push(b'-');
    digits(out, t.month(), 2);
    out.push(b'-');
    digits(out, t.day(), 2);
    out.push(b'T');
    digits(out, t.hour(), 2);
    out.push(b':');
    digits(out, t.minute(), 2);
    out.push(b':');
    // A leap second is written as second 60.
    let nanos = t.nanosecond();
    let (second, nanos) = if nanos >= 1_000_000_000 {
        (t.second() + 1, nanos - 1_000_000_000)
    } else {
        (t.second(), nanos)
    };
    digits(out, second, 2);
    if nanos != 0 {
        out.push(b'.');
        if nanos % 1_000_000 == 0 {
            digits(out, nanos / 1_000_000, 3);
        } else if nanos % 1_000 == 0 {
            digits(out, nanos / 1_000, 6);
        } else {
            digits(out, nanos, 9);
        }
    }
    out.extend_from_slice(b"Z\"");
}

/// The UTC timestamp text as stored by sqlx on SQLite
/// (`2026-01-02T03:04:05.123456+00:00`) when it is already what
/// [`timestamp`] writes but for the `+00:00`: the date and time fields in
/// range and the fraction with 0, 3, 6 or 9 digits of which the last three
/// are not all zero (chrono's `AutoSi`). Returns the part before `+00:00`.
fn canonical_utc(text: &str) -> Option<&str> {
    let stem = text.strip_suffix("+00:00")?;
    let b = stem.as_bytes();
    let fraction = match b.len() {
        19 => "",
        23 | 26 | 29 if b[19] == b'.' => &stem[20..],
        _ => return None,
    };
    let num = |at: usize, len: usize| -> Option<u32> {
        let digits = b.get(at..at + len)?;
        digits.iter().all(u8::is_ascii_digit).then(|| {
            digits
                .iter()
                .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
        })
    };
    let separators =
        b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':';
    let fields = num(0, 4).is_some()
        && num(5, 2).is_some_and(|m| (1..=12).contains(&m))
        && num(8, 2).is_some_and(|d| (1..=28).contains(&d))
        && num(11, 2).is_some_and(|h| h < 24)
        && num(14, 2).is_some_and(|m| m < 60)
        && num(17, 2).is_some_and(|s| s < 60);
    let minimal = fraction.is_empty()
        || (fraction.bytes().all(|d| d.is_ascii_digit()) && !fraction.ends_with("000"));
    (separators && fields && minimal).then_some(stem)
}

fn date(out: &mut Vec<u8>, d: NaiveDate) {
    string(out, &d.format("%Y-%m-%d").to_string());
}

/// Writes column `i` of `row` as JSON of type `ty`.
/// A column's value as JSON; with `ieee754` (`IEEE754Compatible=true`)
/// Int64 and Decimal values are JSON strings, null stays `null`.
pub(crate) fn value(
    out: &mut Vec<u8>,
    row: &dyn Row,
    i: usize,
    ty: EdmType,
    ieee754: bool,
) -> Result<(), DbErr> {
    if ieee754 && matches!(ty, EdmType::Int64 | EdmType::Decimal) {
        let start = out.len();
        json_value(out, row, i, ty)?;
        // Numbers need no escaping: quote what was written.
        if out.get(start..) != Some(b"null".as_slice()) {
            out.insert(start, b'"');
            out.push(b'"');
        }
        return Ok(());
    }
    json_value(out, row, i, ty)
}

fn json_value(out: &mut Vec<u8>, row: &dyn Row, i: usize, ty: EdmType) -> Result<(), DbErr> {
    let written = match ty {
        EdmType::String => row.text(i)?.map(|s| string(out, &s)),
        EdmType::Boolean => row
            .boolean(i)?
            .map(|b| out.extend_from_slice(if b { b"true" } else { b"false" })),
        EdmType::Int32 | EdmType::Int64 => row.int(i)?.map(|v| integer(out, v)),
        EdmType::Decimal | EdmType::Double => row.float(i)?.map(|v| float(out, v)),
        EdmType::Guid => row.uuid(i)?.map(|u| guid(out, u)),
        EdmType::DateTimeOffset => match row.timestamp_text(i).and_then(canonical_utc) {
            Some(stem) => {
                out.push(b'"');
                out.extend_from_slice(stem.as_bytes());
                out.extend_from_slice(b"Z\"");
                Some(())
            }
            None => row.timestamp(i)?.map(|t| timestamp(out, t)),
        },
        EdmType::Date => row.date(i)?.map(|d| date(out, d)),
    };
    if written.is_none() {
        out.extend_from_slice(b"null");
    }
    Ok(())
}

fn constant(out: &mut Vec<u8>, v: &sea_query::Value) {
    match v {
        sea_query::Value::Bool(Some(b)) => {
            out.extend_from_slice(if *b { b"true" } else { b"false" })
        }
        sea_query::Value::String(Some(s)) => string(out, s),
        sea_query::Value::Int(Some(i)) => integer(out, i64::from(*i)),
        sea_query::Value::BigInt(Some(i)) => integer(out, *i),
        _ => out.extend_from_slice(b"null"),
    }
}

/// The `@odata.type` annotation of a value of this type, when JSON alone
/// cannot tell it (OData JSON §4.6.3 / full metadata).
fn type_annotation(ty: EdmType) -> Option<&'static str> {
    match ty {
        EdmType::Guid => Some("#Guid"),
        EdmType::DateTimeOffset => Some("#DateTimeOffset"),
        EdmType::Date => Some("#Date"),
        EdmType::Int64 => Some("#Int64"),
        EdmType::Decimal => Some("#Decimal"),
        EdmType::String | EdmType::Boolean | EdmType::Int32 | EdmType::Double => None,
    }
}

/// Where a property's value comes from in a row.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Column(usize),
    Constant,
    /// A user's `picture`: the stored flag and the external URL.
    Picture {
        stored: usize,
        url: usize,
    },
    /// A computed property this writer does not know: `null`.
    Unknown,
}

/// Writes the records of one entity type from rows of one statement.
pub(crate) struct RecordWriter<'a> {
    entity: &'a EntityType,
    set_name: &'a str,
    namespace: &'a str,
    properties: &'a [Property],
    computed: &'a [ComputedProperty],
    shape: Shape,
    /// `{base}/api/{tenant}/{org}/identity/users/` for stored pictures.
    picture_base: String,
    key_column: String,
    layout: Rc<Layout>,
}

/// Where a writer finds its values in the rows of a statement: the same for
/// every run of the statement (a statement template keeps it).
#[derive(Debug, Default)]
pub(crate) struct Layout {
    key: usize,
    /// The column of the concurrency property (the ETag), when the entity
    /// has one and the statement read it.
    etag: Option<usize>,
    slots: Vec<Slot>,
    /// `"name":` of each property.
    names: Vec<Vec<u8>>,
    computed_slots: Vec<usize>,
}

impl<'a> RecordWriter<'a> {
    /// A writer of `properties` (and `computed`) of `entity`, records of
    /// entity set `set_name`; [`RecordWriter::prepare`] before the first row.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        entity: &'a EntityType,
        set_name: &'a str,
        namespace: &'a str,
        properties: &'a [Property],
        computed: &'a [ComputedProperty],
        shape: Shape,
        picture_base: String,
        key_column: &str,
    ) -> Self {
        RecordWriter {
            entity,
            set_name,
            namespace,
            properties,
            computed,
            shape,
            picture_base,
            key_column: key_column.to_owned(),
            layout: Rc::default(),
        }
    }

    /// Finds the columns of the result.
    pub(crate) fn prepare(&mut self, names: &[&str]) -> Result<(), DbErr> {
        self.layout = Rc::new(self.layout_of(names)?);
        Ok(())
    }

    /// The layout [`RecordWriter::prepare`] found.
    pub(crate) fn layout(&self) -> &Rc<Layout> {
        &self.layout
    }

    /// Uses the layout a writer of the same properties found for the same
    /// statement, instead of [`RecordWriter::prepare`].
    pub(crate) fn use_layout(&mut self, layout: Rc<Layout>) {
        self.layout = layout;
    }

    fn layout_of(&self, names: &[&str]) -> Result<Layout, DbErr> {
        let key_index = index_of(names, &self.key_column)?;
        let etag = match self.entity.concurrency_column() {
            Some(column) => Some(index_of(names, column)?),
            None => None,
        };
        let slots = self
            .properties
            .iter()
            .map(|p| {
                Ok(match &p.source {
                    PropertySource::Column(c) => Slot::Column(index_of(names, c)?),
                    PropertySource::Constant(_) => Slot::Constant,
                    PropertySource::Computed { .. }
                        if self.entity.name == "User" && p.name == "picture" =>
                    {
                        Slot::Picture {
                            stored: index_of(names, "has_picture")?,
                            url: index_of(names, "picture_url")?,
                        }
                    }
                    PropertySource::Computed { .. } => Slot::Unknown,
                })
            })
            .collect::<Result<_, DbErr>>()?;
        let property_names = self
            .properties
            .iter()
            .map(|p| {
                let mut name = Vec::with_capacity(p.name.len() + 3);
                key(&mut name, &p.name);
                name
            })
            .collect();
        let computed_slots = self
            .computed
            .iter()
            .map(|c| index_of(names, &odata_sql::computed_column_alias(&c.name)))
            .collect::<Result<_, DbErr>>()?;
        Ok(Layout {
            key: key_index,
            etag,
            slots,
            names: property_names,
            computed_slots,
        })
    }

    /// The record's key.
    pub(crate) fn key_of(&self, row: &dyn Row) -> Result<Uuid, DbErr> {
        row.uuid(self.layout.key)?
            .ok_or_else(|| DbErr::Custom("a record without a key".to_owned()))
    }

    /// The record's version (its ETag is `"<version>"`), when the entity
    /// has a concurrency property.
    pub(crate) fn version_of(&self, row: &dyn Row) -> Result<Option<i64>, DbErr> {
        match self.layout.etag {
            Some(i) => row.int(i),
            None => Ok(None),
        }
    }

    fn full(&self) -> bool {
        matches!(self.shape, Shape::Feed { full: true, .. })
    }

    /// Writes `{` and the record's properties, not the closing `}`: the
    /// navigation properties may follow ([`RecordWriter::close`]).
    pub(crate) fn open(&self, row: &dyn Row, out: &mut Vec<u8>) -> Result<Uuid, DbErr> {
        let id = self.key_of(row)?;
        out.push(b'{');
        let mut first = true;
        if self.full() {
            key(out, "@odata.type");
            string(out, &format!("#{}.{}", self.namespace, self.entity.name));
            let path = format!("{}({id})", self.set_name);
            out.push(b',');
            key(out, "@odata.id");
            string(out, &path);
            out.push(b',');
            key(out, "@odata.editLink");
            string(out, &path);
            first = false;
        }
        // The feed's records carry their ETag (OData JSON §4.5.10).
        if matches!(self.shape, Shape::Feed { etag: true, .. })
            && let Some(version) = self.version_of(row)?
        {
            if !first {
                out.push(b',');
            }
            // `"@odata.etag":"\"<version>\""`, written without allocating.
            out.extend_from_slice(br#""@odata.etag":"\""#);
            integer(out, version);
            out.extend_from_slice(br#"\"""#);
            first = false;
        }
        let key_name = self.entity.key.first().map(String::as_str);
        // The key comes first, even when not selected.
        let key_selected = self
            .properties
            .iter()
            .any(|p| Some(p.name.as_str()) == key_name);
        if !key_selected && let Some(name) = key_name {
            self.annotate(out, &mut first, name, EdmType::Guid, false);
            key(out, name);
            guid(out, id);
        }
        for ((p, slot), name) in self
            .properties
            .iter()
            .zip(&self.layout.slots)
            .zip(&self.layout.names)
        {
            let null = match slot {
                Slot::Column(i) => self.full() && is_null(row, *i, p.edm_type)?,
                _ => false,
            };
            self.annotate(out, &mut first, &p.name, p.edm_type, null);
            out.extend_from_slice(name);
            match slot {
                Slot::Column(i) => value(out, row, *i, p.edm_type, self.shape.ieee754())?,
                Slot::Constant => match &p.source {
                    PropertySource::Constant(v) => constant(out, v),
                    // Impossible: the layout gives a constant property
                    // (and only such) `Slot::Constant`; written as null.
                    PropertySource::Column(_) | PropertySource::Computed { .. } => {
                        out.extend_from_slice(b"null");
                    }
                },
                Slot::Picture { stored, url } => {
                    if row.boolean(*stored)?.unwrap_or(false) {
                        let mut link = String::with_capacity(self.picture_base.len() + 44);
                        link.push_str(&self.picture_base);
                        link.push_str(&id.to_string());
                        link.push_str("/picture");
                        string(out, &link);
                    } else {
                        value(out, row, *url, EdmType::String, false)?;
                    }
                }
                Slot::Unknown => out.extend_from_slice(b"null"),
            }
        }
        for (c, i) in self.computed.iter().zip(&self.layout.computed_slots) {
            out.push(b',');
            key(out, &c.name);
            value(out, row, *i, c.edm_type, self.shape.ieee754())?;
        }
        Ok(id)
    }

    /// The separator before a property, and in full metadata its type
    /// annotation (before the property, unless the value is null).
    fn annotate(&self, out: &mut Vec<u8>, first: &mut bool, name: &str, ty: EdmType, null: bool) {
        if !*first {
            out.push(b',');
        }
        *first = false;
        if self.full()
            && !null
            && let Some(t) = type_annotation(ty)
        {
            key(out, &format!("{name}@odata.type"));
            string(out, t);
            out.push(b',');
        }
    }

    /// Closes a record that has no navigation values: in full metadata its
    /// navigation links still follow the properties.
    pub(crate) fn close(&self, out: &mut Vec<u8>, id: Uuid) {
        for nav in &self.entity.navigations {
            self.navigation_link(out, id, &nav.name);
        }
        out.push(b'}');
    }

    /// Where the tenant's stored pictures are served (see `new`).
    pub fn picture_base(&self) -> &str {
        &self.picture_base
    }

    /// Navigation parts of a record before its value (full metadata: the
    /// navigation link), for navigation `name` of the record with key `id`.
    pub(crate) fn navigation_link(&self, out: &mut Vec<u8>, id: Uuid, name: &str) {
        if self.full() {
            out.push(b',');
            key(out, &format!("{name}@odata.navigationLink"));
            string(out, &format!("{}({id})/{name}", self.set_name));
        }
    }
}

fn is_null(row: &dyn Row, i: usize, ty: EdmType) -> Result<bool, DbErr> {
    Ok(match ty {
        EdmType::Guid => row.uuid(i)?.is_none(),
        EdmType::DateTimeOffset => row.timestamp(i)?.is_none(),
        EdmType::Date => row.date(i)?.is_none(),
        EdmType::Int64 | EdmType::Int32 => row.int(i)?.is_none(),
        EdmType::Decimal | EdmType::Double => row.float(i)?.is_none(),
        EdmType::String => row.text(i)?.is_none(),
        EdmType::Boolean => row.boolean(i)?.is_none(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ts(t: DateTime<Utc>) -> String {
        let mut out = Vec::new();
        timestamp(&mut out, t);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for s in [
            "",
            "plain",
            "Zoë 𝄞 ümlaut",
            "quote \" inside",
            "back\\slash",
            "line\nbreak\ttab\u{1}\u{1f}",
            "\u{7f} del and \u{2028} separator",
            "</script>",
        ] {
            let mut out = Vec::new();
            string(&mut out, s);
            assert_eq!(out, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn timestamps_are_written_as_chrono_writes_them() {
        let base = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        for nanos in [0, 120_000_000, 123_456_000, 123_456_789, 1_000, 5] {
            let t = base + chrono::Duration::nanoseconds(nanos);
            assert_eq!(ts(t), format!("\"{}\"", super::super::json::timestamp(t)));
        }
        let early = Utc.with_ymd_and_hms(7, 3, 9, 0, 0, 0).unwrap();
        assert_eq!(ts(early), "\"0007-03-09T00:00:00Z\"");
    }

    #[test]
    fn stored_canonical_timestamps_are_copied_as_they_would_be_written() {
        let base = Utc.with_ymd_and_hms(2026, 1, 28, 23, 59, 59).unwrap();
        for nanos in [0, 120_000_000, 123_456_000, 123_456_789, 1_000, 5] {
            let t = base + chrono::Duration::nanoseconds(nanos);
            // How sqlx stores a DateTime<Utc> on SQLite.
            let stored = t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
            let stem = canonical_utc(&stored).expect("canonical");
            assert_eq!(format!("\"{stem}Z\""), ts(t), "{stored}");
        }
        // Anything else is parsed and written the long way.
        for other in [
            "2026-01-02T03:04:05.120000+00:00",
            "2026-01-02T03:04:05.000+00:00",
            "2026-01-02T03:04:05+01:00",
            "2026-01-02 03:04:05+00:00",
            "2026-02-30T03:04:05+00:00",
            "2026-13-02T03:04:05+00:00",
            "2026-01-02T03:04:05.12+00:00",
            "2026-01-02T24:04:05+00:00",
            "x026-01-02T03:04:05+00:00",
        ] {
            assert_eq!(canonical_utc(other), None, "{other}");
        }
    }
}
