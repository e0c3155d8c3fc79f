//! gzip for the large answers: feed pages and API 1 lists. Only those
//! (the answers BI tools fetch in bulk) and only when the client sends
//! `Accept-Encoding: gzip` and the answer has at least
//! `APP_GZIP_MIN_BYTES` bytes; small answers stay plain, where gzip's
//! header and the CPU would cost more than they save. Every answer that
//! could have been compressed says `Vary: Accept-Encoding`.

use std::io::Write as _;

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderValue};

use crate::configuration::Settings;

/// The body of a large answer, to send gzip-compressed when `req` allows
/// it and `parts` (the answer's pieces, in order) total at least the
/// threshold: `Some(compressed)` then, `None` for a plain answer.
///
/// Level 1 (fastest): on JSON it already shrinks a feed page six-fold, and
/// the higher levels cost several times the CPU for a few percent.
pub fn gzip_body(req: &HttpRequest, settings: &Settings, parts: &[&[u8]]) -> Option<Vec<u8>> {
    if !settings.gzip {
        return None;
    }
    let size: usize = parts.iter().map(|p| p.len()).sum();
    if (size as u64) < settings.gzip_min_bytes || !accepts_gzip(req) {
        return None;
    }
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(size / 4 + 64),
        flate2::Compression::fast(),
    );
    for part in parts {
        // Writing into a Vec cannot fail.
        encoder.write_all(part).ok()?;
    }
    encoder.finish().ok()
}

/// Marks `response` as compressed (`compressed`) or not, and as varying
/// with `Accept-Encoding` when compression is on.
pub fn mark(response: &mut actix_web::HttpResponse, settings: &Settings, compressed: bool) {
    let headers = response.headers_mut();
    if settings.gzip {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if compressed {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
}

/// Whether `Accept-Encoding` allows gzip: `gzip` or `x-gzip` with a
/// non-zero quality, or `*` with a non-zero quality when gzip is not
/// refused by name (RFC 9110 §12.5.3).
pub fn accepts_gzip(req: &HttpRequest) -> bool {
    let mut named = None;
    let mut any = false;
    for value in req.headers().get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut params = item.split(';');
            let coding = params.next().unwrap_or("").trim();
            let q = params
                .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                named = Some(named.unwrap_or(false) || q > 0.0);
            } else if coding == "*" {
                any = q > 0.0;
            }
        }
    }
    named.unwrap_or(any)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn accepts(value: &str) -> bool {
        accepts_gzip(
            &TestRequest::default()
                .insert_header((header::ACCEPT_ENCODING, value))
                .to_http_request(),
        )
    }

    #[test]
    fn accept_encoding_is_read_with_qualities() {
        assert!(accepts("gzip"));
        assert!(accepts("deflate, gzip;q=0.5, br"));
        assert!(accepts("GZIP"));
        assert!(accepts("x-gzip"));
        assert!(accepts("*"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("*, gzip;q=0"));
        assert!(!accepts("deflate, br"));
        assert!(!accepts("identity"));
        assert!(!accepts("*;q=0"));
        assert!(!accepts_gzip(&TestRequest::default().to_http_request()));
    }

    #[test]
    fn only_large_bodies_are_compressed() {
        let settings = Settings::default();
        let req = TestRequest::default()
            .insert_header((header::ACCEPT_ENCODING, "gzip"))
            .to_http_request();
        assert_eq!(gzip_body(&req, &settings, &[b"{}"]), None);
        let big = br#"{"name":"Ana Lima","status":1},"#.repeat(100);
        let gz = gzip_body(&req, &settings, &[b"[", &big, b"]"]).expect("compressed");
        assert!(gz.len() < big.len() / 4, "{} of {}", gz.len(), big.len());
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain).unwrap();
        assert_eq!(plain, [&b"["[..], &big, b"]"].concat());
        let off = Settings {
            gzip: false,
            ..Settings::default()
        };
        assert_eq!(gzip_body(&req, &off, &[&big]), None);
        let plain_req = TestRequest::default().to_http_request();
        assert_eq!(gzip_body(&plain_req, &settings, &[&big]), None);
    }
}
