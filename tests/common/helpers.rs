//! Small helpers of the tests: JSON bodies and OData errors of responses,
//! base64 and URL encoding, CSV files of the importer, generated users.

use super::*;

/// Asserts the status and returns the JSON body.
pub async fn json_of(response: Response, expected: StatusCode) -> Value {
    let status = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(status, expected, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text}"))
}

/// Asserts a 201 whose body is the id as a JSON string and returns it.
pub async fn created_id(response: Response) -> String {
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = json_of(response, StatusCode::CREATED).await;
    let id = body
        .as_str()
        .expect("201 body is the id as a JSON string")
        .to_owned();
    let location = location.expect("201 has a Location header");
    assert!(
        location.ends_with(&id),
        "Location {location} does not end with {id}"
    );
    id
}

/// Asserts the status and the error code of an error body; returns the body.
pub async fn assert_error(response: Response, expected: StatusCode, code: &str) -> Value {
    let body = json_of(response, expected).await;
    assert_eq!(body["error"]["code"], code, "error body: {body}");
    assert!(body["error"]["message"].is_string(), "error body: {body}");
    body
}

/// Standard base64 with padding (kept here so the tests need no extra crate).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(ALPHABET[(n >> 18) as usize & 63] as char);
        out.push(ALPHABET[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            ALPHABET[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            ALPHABET[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Percent-encodes everything but unreserved characters and the OData
/// punctuation that is safe in a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'\''
            | b'('
            | b')'
            | b','
            | b'/'
            | b':'
            | b';'
            | b'='
            | b'$' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// RFC 4180 (quoted fields, doubled quotes, CRLF or LF).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// Makes the generated ids unique to `tenant` (several tests share one
/// database on a server backend, and ids are primary keys): every UUID in
/// the CSV files is XORed with a mask derived from the tenant key, so the
/// same tenant always gets the same ids, and `acme` keeps the originals.
pub fn remap_ids(dir: &std::path::Path, tenant: &str) {
    if tenant == "acme" {
        return;
    }
    let mut mask = [0u8; 16];
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, m) in mask.iter_mut().enumerate() {
        for b in tenant.bytes().chain([i as u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        *m = (h >> 24) as u8;
    }
    let is_uuid = |s: &[u8]| {
        s.len() == 36
            && s.iter().enumerate().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => *c == b'-',
                _ => c.is_ascii_hexdigit(),
            })
    };
    for entry in std::fs::read_dir(dir).expect("data dir") {
        let path = entry.expect("entry").path();
        let text = std::fs::read(&path).expect("read csv");
        let mut out = Vec::with_capacity(text.len());
        let mut i = 0;
        while i < text.len() {
            if i + 36 <= text.len() && is_uuid(&text[i..i + 36]) {
                let id = uuid::Uuid::parse_str(std::str::from_utf8(&text[i..i + 36]).unwrap_or(""))
                    .expect("a UUID");
                let mut bytes = *id.as_bytes();
                for (b, m) in bytes.iter_mut().zip(mask) {
                    *b ^= m;
                }
                out.extend_from_slice(uuid::Uuid::from_bytes(bytes).to_string().as_bytes());
                i += 36;
            } else {
                out.push(text[i]);
                i += 1;
            }
        }
        std::fs::write(&path, out).expect("write csv");
    }
}

/// `odata-users generate n DIR --seed seed` (the project's generator,
/// [`identity_service::sample_data`]) into a fresh directory.
pub fn generate_users(n: usize, seed: u64) -> PathBuf {
    let dir = temp_dir().join("data");
    identity_service::sample_data::write_dir(&dir, n, seed).expect("generate the test data");
    dir
}

/// The accept URL of the newest invitation mail in `outbox` (the file
/// sink's `.eml` files).
pub fn newest_accept_url(outbox: &std::path::Path) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(outbox)
        .expect("outbox")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    let text = std::fs::read_to_string(files.last().expect("a message")).expect("read .eml");
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("http") && l.ends_with("/accept"))
        .unwrap_or_else(|| panic!("no accept URL in {text}"))
        .to_owned()
}
