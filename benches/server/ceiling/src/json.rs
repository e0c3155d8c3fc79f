//! The JSON bytes of a user row, written the way our server writes them
//! (properties in `$metadata` declaration order, timestamps in canonical
//! UTC).

use super::*;

// ---------------------------------------------------------------- JSON

/// One user, properties in `$metadata` declaration order; returns its id.
pub(super) fn write_user(
    out: &mut Vec<u8>,
    row: &Row<'_>,
    select3: bool,
    picture_prefix: &str,
) -> Result<[u8; 16], Failure> {
    let id = guid(row, 0)?;
    let mut id_text = [0u8; 36];
    hyphenated(&id, &mut id_text);
    // `@odata.etag`: the version, a strong ETag (`"\"7\""`).
    out.extend_from_slice(br#"{"@odata.etag":"\""#);
    integer(out, row, if select3 { 4 } else { 16 })?;
    out.extend_from_slice(br#"\"","id":""#);
    out.extend_from_slice(&id_text);
    out.extend_from_slice(br#"","userKey":"#);
    string(out, row, 1)?;
    out.extend_from_slice(br#","name":"#);
    string(out, row, 2)?;
    if select3 {
        out.extend_from_slice(br#","email":"#);
        string(out, row, 3)?;
        out.push(b'}');
        return Ok(id);
    }
    out.extend_from_slice(br#","culture":"#);
    string(out, row, 3)?;
    out.extend_from_slice(br#","email":"#);
    string(out, row, 4)?;
    out.extend_from_slice(br#","isTechnician":"#);
    boolean(out, row, 5)?;
    out.extend_from_slice(br#","lastLogin":"#);
    timestamp(out, row, 6)?;
    out.extend_from_slice(br#","status":"#);
    integer(out, row, 7)?;
    out.extend_from_slice(br#","picture":"#);
    // Our picture endpoint when an image is stored, else the external URL or null.
    let has_picture: bool = row.get(8).map_err(Failure::db)?;
    if has_picture {
        out.push(b'"');
        escape_into(out, picture_prefix);
        out.extend_from_slice(&id_text);
        out.extend_from_slice(b"/picture\"");
    } else {
        string(out, row, 9)?;
    }
    out.extend_from_slice(br#","isActive":"#);
    boolean(out, row, 10)?;
    out.extend_from_slice(br#","isSystem":"#);
    boolean(out, row, 11)?;
    out.extend_from_slice(br#","isDeleted":false,"createdBy":"#);
    string(out, row, 12)?;
    out.extend_from_slice(br#","createdOn":"#);
    timestamp(out, row, 13)?;
    out.extend_from_slice(br#","modifiedBy":"#);
    string(out, row, 14)?;
    out.extend_from_slice(br#","modifiedOn":"#);
    timestamp(out, row, 15)?;
    out.extend_from_slice(br#","version":"#);
    integer(out, row, 16)?;
    out.push(b'}');
    Ok(id)
}

fn bad_column(row: &Row<'_>, i: usize, what: &str) -> Failure {
    let name = row.as_ref().column_name(i).unwrap_or("?").to_owned();
    Failure {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message: format!("column {name}: {what}"),
    }
}

/// A GUID stored as its 16 bytes (sqlx's encoding of `Uuid` on SQLite).
fn guid(row: &Row<'_>, i: usize) -> Result<[u8; 16], Failure> {
    match row.get_ref(i).map_err(Failure::db)? {
        ValueRef::Blob(b) if b.len() == 16 => {
            let mut id = [0u8; 16];
            id.copy_from_slice(b);
            Ok(id)
        }
        _ => Err(bad_column(row, i, "not a 16-byte GUID")),
    }
}

fn hyphenated(id: &[u8; 16], out: &mut [u8; 36]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut j = 0;
    for (i, b) in id.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out[j] = b'-';
            j += 1;
        }
        out[j] = HEX[(b >> 4) as usize];
        out[j + 1] = HEX[(b & 15) as usize];
        j += 2;
    }
}

fn string(out: &mut Vec<u8>, row: &Row<'_>, i: usize) -> Result<(), Failure> {
    match row.get_ref(i).map_err(Failure::db)? {
        ValueRef::Null => out.extend_from_slice(b"null"),
        ValueRef::Text(t) => {
            let s = std::str::from_utf8(t).map_err(|_| bad_column(row, i, "not UTF-8"))?;
            json_str(out, s);
        }
        _ => return Err(bad_column(row, i, "not text")),
    }
    Ok(())
}

fn boolean(out: &mut Vec<u8>, row: &Row<'_>, i: usize) -> Result<(), Failure> {
    match row.get_ref(i).map_err(Failure::db)? {
        ValueRef::Null => out.extend_from_slice(b"null"),
        ValueRef::Integer(0) => out.extend_from_slice(b"false"),
        ValueRef::Integer(_) => out.extend_from_slice(b"true"),
        _ => return Err(bad_column(row, i, "not a boolean")),
    }
    Ok(())
}

fn integer(out: &mut Vec<u8>, row: &Row<'_>, i: usize) -> Result<(), Failure> {
    match row.get_ref(i).map_err(Failure::db)? {
        ValueRef::Null => out.extend_from_slice(b"null"),
        ValueRef::Integer(n) => {
            let _ = std::io::Write::write_fmt(out, format_args!("{n}"));
        }
        _ => return Err(bad_column(row, i, "not an integer")),
    }
    Ok(())
}

/// A timestamp as our server writes it: RFC 3339 in UTC with `Z`, the
/// fraction as chrono's `SecondsFormat::AutoSi` (none, 3, 6 or 9 digits).
/// The stored text is sqlx's encoding (`to_rfc3339_opts(AutoSi, false)`:
/// `…+00:00`), which only needs its offset replaced; anything else goes
/// through the same decoding as sqlx's (`decode_datetime_from_text`).
fn timestamp(out: &mut Vec<u8>, row: &Row<'_>, i: usize) -> Result<(), Failure> {
    match row.get_ref(i).map_err(Failure::db)? {
        ValueRef::Null => out.extend_from_slice(b"null"),
        ValueRef::Text(t) => {
            if let Some(head) = canonical_utc(t) {
                out.push(b'"');
                out.extend_from_slice(head);
                out.extend_from_slice(b"Z\"");
            } else {
                let s = std::str::from_utf8(t).map_err(|_| bad_column(row, i, "not UTF-8"))?;
                let dt = decode_datetime_from_text(s)
                    .ok_or_else(|| bad_column(row, i, "not a timestamp"))?;
                let text = dt
                    .with_timezone(&Utc)
                    .to_rfc3339_opts(SecondsFormat::AutoSi, true);
                out.push(b'"');
                out.extend_from_slice(text.as_bytes());
                out.push(b'"');
            }
        }
        ValueRef::Integer(n) => {
            let dt = Utc
                .timestamp_opt(n, 0)
                .single()
                .ok_or_else(|| bad_column(row, i, "not a timestamp"))?;
            out.push(b'"');
            out.extend_from_slice(dt.to_rfc3339_opts(SecondsFormat::AutoSi, true).as_bytes());
            out.push(b'"');
        }
        _ => return Err(bad_column(row, i, "not a timestamp")),
    }
    Ok(())
}

/// `YYYY-MM-DDTHH:MM:SS[.fff|.ffffff|.fffffffff]+00:00` whose fraction is
/// what AutoSi writes for it: the text before `+00:00`.
fn canonical_utc(t: &[u8]) -> Option<&[u8]> {
    let head = t.strip_suffix(b"+00:00")?;
    if head.len() < 19 {
        return None;
    }
    let digits_at = |range: std::ops::Range<usize>| head[range].iter().all(u8::is_ascii_digit);
    let shape = digits_at(0..4)
        && head[4] == b'-'
        && digits_at(5..7)
        && head[7] == b'-'
        && digits_at(8..10)
        && head[10] == b'T'
        && digits_at(11..13)
        && head[13] == b':'
        && digits_at(14..16)
        && head[16] == b':'
        && digits_at(17..19);
    if !shape {
        return None;
    }
    let num = |at: usize| u32::from(head[at] - b'0') * 10 + u32::from(head[at + 1] - b'0');
    let year = num(0) * 100 + num(2);
    let (month, day) = (num(5), num(8));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    // Anything odd (a leap second, an impossible date) is left to chrono.
    if day == 0 || day > month_days || num(11) > 23 || num(14) > 59 || num(17) > 59 {
        return None;
    }
    let frac = &head[19..];
    let canonical = match frac.len() {
        0 => true,
        4 | 7 | 10 => {
            frac[0] == b'.'
                && frac[1..].iter().all(u8::is_ascii_digit)
                // AutoSi writes the shortest of 3/6/9 digits that is exact:
                // a group of trailing zeros means a shorter form.
                && !frac[frac.len() - 3..].iter().all(|&d| d == b'0')
        }
        _ => false,
    };
    canonical.then_some(head)
}

/// sqlx-sqlite's `decode_datetime_from_text`.
fn decode_datetime_from_text(value: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(value) {
        return Some(dt);
    }
    const FORMATS: &[&str] = &[
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

/// A JSON string as serde_json writes it (UTF-8 as is; `"` `\` and control
/// characters escaped, `\b \f \n \r \t` short, others `\u00xx`).
pub(super) fn json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    escape_into(out, s);
    out.push(b'"');
}

fn escape_into(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 15) as usize]);
        } else {
            out.extend_from_slice(short);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}
