//! Opaque, signed keyset positions for next links.
//!
//! A token is `base64url(payload) "." base64url(HMAC-SHA256(key, payload))`;
//! the payload is JSON: the order-key values of the last row sent (`k`), the
//! number of rows still wanted by the client's `$top` (`r`, absent when
//! unbounded) and a fingerprint of the query options it belongs to (`q`).
//! Any change to the token or to the query makes it invalid (400).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The position carried by a skiptoken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Position {
    /// Order-key values of the last row sent, as JSON.
    #[serde(rename = "k")]
    pub(crate) keys: Vec<serde_json::Value>,
    /// Rows still wanted (`$top` minus what was sent), if bounded.
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub(crate) remaining: Option<u64>,
    /// Fingerprint of the query the token belongs to.
    #[serde(rename = "q")]
    pub(crate) query: String,
}

/// A short fingerprint of the query options a token belongs to (their
/// canonical text without paging options).
pub(crate) fn fingerprint(canonical_options: &str) -> String {
    let digest = Sha256::digest(canonical_options.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..12])
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => <Hmac<Sha256> as KeyInit>::new_from_slice(&[0u8; 32])
            .unwrap_or_else(|_| unreachable!("a 32-byte HMAC key is valid")),
    }
}

/// Signs a position.
pub(crate) fn encode(key: &[u8], position: &Position) -> String {
    sign(key, &serde_json::to_vec(position).unwrap_or_default())
}

/// `base64url(payload) "." base64url(HMAC-SHA256(key, payload))`: the
/// token form of skiptokens and the feed's delta tokens.
pub(crate) fn sign(key: &[u8], payload: &[u8]) -> String {
    let mut m = mac(key);
    m.update(payload);
    let sig = m.finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(sig)
    )
}

/// Checks a token's signature and decodes it; `None` when it was not issued
/// by us (or was altered).
pub(crate) fn decode(key: &[u8], token: &str) -> Option<Position> {
    serde_json::from_slice(&verify(key, token)?).ok()
}

/// The payload of a token made by [`sign`] with `key`; `None` when it was
/// not (or was altered).
pub(crate) fn verify(key: &[u8], token: &str) -> Option<Vec<u8>> {
    let token = token.replace("%2E", ".").replace("%2e", ".");
    let (payload, sig) = token.split_once('.')?;
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
    let mut m = mac(key);
    m.update(&payload);
    m.verify_slice(&sig).ok()?;
    Some(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position() -> Position {
        Position {
            keys: vec![serde_json::json!("Zé"), serde_json::Value::Null],
            remaining: Some(7),
            query: fingerprint("$filter=a"),
        }
    }

    #[test]
    fn round_trips() {
        let t = encode(b"key", &position());
        assert_eq!(decode(b"key", &t), Some(position()));
    }

    #[test]
    fn rejects_another_key_and_tampering() {
        let t = encode(b"key", &position());
        assert_eq!(decode(b"other", &t), None);
        let (p, s) = t.split_once('.').unwrap();
        let mut payload = URL_SAFE_NO_PAD.decode(p).unwrap();
        payload[2] ^= 1;
        let forged = format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), s);
        assert_eq!(decode(b"key", &forged), None);
        assert_eq!(decode(b"key", "garbage"), None);
    }

    #[test]
    fn fingerprint_depends_on_the_query() {
        assert_ne!(fingerprint("$filter=a"), fingerprint("$filter=b"));
    }
}
