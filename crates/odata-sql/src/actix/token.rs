//! Signed keyset positions (`$skiptoken`) and the query text they belong to.
//!
//! A token is `base64url(payload) "." base64url(HMAC-SHA256(key, payload))`;
//! the payload is JSON: the order-key values of the last row sent (`k`), the
//! rows still wanted by the client's `$top` (`r`, absent when unbounded) and
//! a fingerprint of the query options it belongs to (`q`). A token that was
//! altered, signed with another key or sent with other options is refused.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

use crate::schema::EdmType;

/// The position a token carries.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Position {
    pub(crate) keys: Vec<Json>,
    pub(crate) remaining: Option<u64>,
    pub(crate) query: String,
}

/// A short fingerprint of the query text a token belongs to.
pub(crate) fn fingerprint(query: &str) -> String {
    let digest = Sha256::digest(query.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..12])
}

fn mac(key: &[u8]) -> Option<Hmac<Sha256>> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).ok()
}

/// Signs a position.
pub(crate) fn encode(key: &[u8], position: &Position) -> String {
    let mut payload = json!({"k": position.keys, "q": position.query});
    if let (Some(r), Some(obj)) = (position.remaining, payload.as_object_mut()) {
        obj.insert("r".to_owned(), r.into());
    }
    let payload = payload.to_string();
    let sig = mac(key)
        .map(|mut m| {
            m.update(payload.as_bytes());
            m.finalize().into_bytes().to_vec()
        })
        .unwrap_or_default();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload.as_bytes()),
        URL_SAFE_NO_PAD.encode(sig)
    )
}

/// Checks a token's signature and decodes it; `None` when it was not issued
/// with `key` or was altered.
pub(crate) fn decode(key: &[u8], token: &str) -> Option<Position> {
    let token = token.replace("%2E", ".").replace("%2e", ".");
    let (payload, sig) = token.split_once('.')?;
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
    let mut m = mac(key)?;
    m.update(&payload);
    m.verify_slice(&sig).ok()?;
    let Json::Object(obj) = serde_json::from_slice(&payload).ok()? else {
        return None;
    };
    let keys = obj.get("k")?.as_array()?.clone();
    let query = obj.get("q")?.as_str()?.to_owned();
    let remaining = match obj.get("r") {
        None => None,
        Some(r) => Some(r.as_u64()?),
    };
    Some(Position {
        keys,
        remaining,
        query,
    })
}

/// The query string without `$top`, `$skip` and `$skiptoken` (the token
/// carries what is left of them): the text a token is bound to and the
/// options of a next link.
pub(crate) fn without_paging(raw: &str) -> String {
    raw.split('&')
        .filter(|part| !part.is_empty())
        .filter(|part| {
            let name = part.split_once('=').map_or(*part, |(n, _)| n);
            let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
            !["$top", "$skip", "$skiptoken"]
                .iter()
                .any(|p| name.eq_ignore_ascii_case(p))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A JSON order-key value back to a bound SQL value of its EDM type; `None`
/// when the JSON does not fit the type.
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
        (EdmType::Guid, Json::String(s)) => V::Uuid(Some(uuid::Uuid::parse_str(s).ok()?)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn position() -> Position {
        Position {
            keys: vec![json!("Zé"), Json::Null, json!(7)],
            remaining: Some(7),
            query: fingerprint("$filter=a"),
        }
    }

    #[test]
    fn round_trips() {
        let t = encode(b"key", &position());
        assert_eq!(decode(b"key", &t), Some(position()));
        let unbounded = Position {
            remaining: None,
            ..position()
        };
        assert_eq!(decode(b"key", &encode(b"key", &unbounded)), Some(unbounded));
    }

    #[test]
    fn refuses_another_key_and_tampering() {
        let t = encode(b"key", &position());
        assert_eq!(decode(b"other", &t), None);
        let (p, s) = t.split_once('.').unwrap();
        let mut payload = URL_SAFE_NO_PAD.decode(p).unwrap();
        payload[2] ^= 1;
        let forged = format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), s);
        assert_eq!(decode(b"key", &forged), None);
        for garbage in ["", ".", "garbage", "a.b", "é.é", "..."] {
            assert_eq!(decode(b"key", garbage), None, "{garbage}");
        }
    }

    #[test]
    fn paging_options_are_left_out() {
        assert_eq!(
            without_paging("$filter=a%20eq%201&$top=2&%24skip=1&$skiptoken=x&$orderby=b"),
            "$filter=a%20eq%201&$orderby=b"
        );
        assert_eq!(without_paging("$top=1"), "");
    }

    #[test]
    fn values_of_each_type() {
        use sea_query::Value as V;
        assert_eq!(
            to_sql_value(&json!(3), EdmType::Int32),
            Some(V::BigInt(Some(3)))
        );
        assert_eq!(to_sql_value(&json!("x"), EdmType::Int64), None);
        assert_eq!(to_sql_value(&json!(1.5), EdmType::Boolean), None);
        assert_eq!(
            to_sql_value(&json!("2024-01-02"), EdmType::Date),
            Some(V::ChronoDate(NaiveDate::from_ymd_opt(2024, 1, 2)))
        );
        assert_eq!(to_sql_value(&json!("nope"), EdmType::Guid), None);
        assert_eq!(
            to_sql_value(&Json::Null, EdmType::String),
            Some(V::String(None))
        );
    }
}
