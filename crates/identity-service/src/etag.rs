//! ETags and conditional requests (RFC 9110 §8.8.3 and §13.1).
//!
//! Every user, role and group has a `version` that changes with every
//! change of the record (in the statement or transaction of the change);
//! its ETag is the strong entity tag `"<version>"`. Reads answer it in
//! `ETag` (and the feed in `@odata.etag`); writes take `If-Match` and
//! `If-None-Match` ([`Precondition`]), checked with the record's row locked
//! in the write's own transaction, so that of two writers holding the same
//! ETag exactly one wins and the other gets 412.

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

use crate::error::ApiError;

/// The ETag of a record at `version`: `"<version>"`.
pub fn format(version: i64) -> String {
    format!("\"{version}\"")
}

/// The `ETag` header of a record at `version`.
pub fn header(version: i64) -> (header::HeaderName, HeaderValue) {
    // Quotes and digits always make a valid header value.
    let value = HeaderValue::from_str(&format(version))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
    (header::ETAG, value)
}

/// One entity tag of a conditional header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tag {
    weak: bool,
    /// Between the quotes.
    opaque: String,
}

/// The value of `If-Match` or `If-None-Match`: `*` or a list of tags.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Condition {
    Any,
    Tags(Vec<Tag>),
}

impl Condition {
    /// Whether the record at `version` matches, by strong comparison
    /// (`If-Match`: a weak tag never matches) or weak comparison
    /// (`If-None-Match`).
    fn matches(&self, version: i64, strong: bool) -> bool {
        match self {
            Condition::Any => true,
            Condition::Tags(tags) => {
                let current = version.to_string();
                tags.iter()
                    .any(|t| t.opaque == current && !(strong && t.weak))
            }
        }
    }
}

/// Parses every line of header `name`: `*`, or a comma-separated list of
/// entity tags (`"3"`, `W/"3"`). `None` when the header is absent; 400 when
/// it is malformed.
fn parse(headers: &HeaderMap, name: &header::HeaderName) -> Result<Option<Condition>, ApiError> {
    let mut tags = Vec::new();
    let mut any = false;
    let mut present = false;
    for value in headers.get_all(name) {
        present = true;
        let text = value.to_str().map_err(|_| malformed(name))?;
        if text.trim() == "*" {
            any = true;
            continue;
        }
        let mut rest = text.trim();
        loop {
            rest = rest.trim_start_matches([' ', '\t', ',']);
            if rest.is_empty() {
                break;
            }
            let (weak, quoted) = match rest.strip_prefix("W/") {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let inner = quoted.strip_prefix('"').ok_or_else(|| malformed(name))?;
            let end = inner.find('"').ok_or_else(|| malformed(name))?;
            let opaque = &inner[..end];
            // etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3)
            if opaque.bytes().any(|b| b == 0x7f || b < 0x21) {
                return Err(malformed(name));
            }
            tags.push(Tag {
                weak,
                opaque: opaque.to_owned(),
            });
            rest = inner[end + 1..].trim_start_matches([' ', '\t']);
            if !rest.is_empty() && !rest.starts_with(',') {
                return Err(malformed(name));
            }
        }
    }
    if any {
        return Ok(Some(Condition::Any));
    }
    if present && tags.is_empty() {
        return Err(malformed(name));
    }
    Ok(present.then_some(Condition::Tags(tags)))
}

fn malformed(name: &header::HeaderName) -> ApiError {
    let name = if name == header::IF_MATCH {
        "If-Match"
    } else {
        "If-None-Match"
    };
    ApiError::bad_request(
        format!(
            "{name} must be * or a comma-separated list of entity tags such as \"3\" (with the quotes)"
        ),
        Some(name),
    )
}

/// The `If-Match` and `If-None-Match` conditions of a request on one
/// record, checked against the record's current version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Precondition {
    if_match: Option<Condition>,
    if_none_match: Option<Condition>,
}

impl Precondition {
    /// The request's conditions; 400 when a header is malformed.
    pub fn from_request(req: &HttpRequest) -> Result<Self, ApiError> {
        Ok(Precondition {
            if_match: parse(req.headers(), &header::IF_MATCH)?,
            if_none_match: parse(req.headers(), &header::IF_NONE_MATCH)?,
        })
    }

    /// Whether the request sent `If-Match`.
    pub fn has_if_match(&self) -> bool {
        self.if_match.is_some()
    }

    /// Checks a write against the record's current version (RFC 9110
    /// §13.2.2): 412 with the current ETag when `If-Match` does not match
    /// (strong comparison; `*` matches any existing record) or
    /// `If-None-Match` does (weak comparison; `*` matches any).
    pub fn check_write(&self, current: i64) -> Result<(), ApiError> {
        if let Some(condition) = &self.if_match
            && !condition.matches(current, true)
        {
            return Err(ApiError::PreconditionFailed {
                message: format!(
                    "If-Match does not match the current ETag {}: the record was changed since it was read; read it again",
                    format(current)
                ),
                version: Some(current),
            });
        }
        if let Some(condition) = &self.if_none_match
            && condition.matches(current, false)
        {
            return Err(ApiError::PreconditionFailed {
                message: format!("If-None-Match matches the current ETag {}", format(current)),
                version: Some(current),
            });
        }
        Ok(())
    }

    /// Checks a read of the record at `current`: `Err` 412 when `If-Match`
    /// does not match, `Ok(Some(304))` when `If-None-Match` matches,
    /// `Ok(None)` to answer the record. An answer with expanded related
    /// records (`$expand`) is never 304 (`expanded`): the record's version
    /// does not cover theirs.
    pub fn check_read(
        &self,
        current: i64,
        expanded: bool,
    ) -> Result<Option<HttpResponse>, ApiError> {
        if let Some(condition) = &self.if_match
            && !condition.matches(current, true)
        {
            return Err(ApiError::PreconditionFailed {
                message: format!(
                    "If-Match does not match the current ETag {}",
                    format(current)
                ),
                version: Some(current),
            });
        }
        if let Some(condition) = &self.if_none_match
            && !expanded
            && condition.matches(current, false)
        {
            return Ok(Some(
                HttpResponse::NotModified()
                    .insert_header(header(current))
                    .finish(),
            ));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn precondition(headers: &[(&str, &str)]) -> Result<Precondition, ApiError> {
        let mut req = TestRequest::default();
        for (name, value) in headers {
            req = req.append_header((*name, *value));
        }
        Precondition::from_request(&req.to_http_request())
    }

    #[test]
    fn tags_are_formatted_quoted() {
        assert_eq!(format(7), "\"7\"");
        assert_eq!(header(12).1, "\"12\"");
    }

    #[test]
    fn if_match_uses_strong_comparison() {
        let p = precondition(&[("If-Match", "\"3\"")]).unwrap();
        assert!(p.check_write(3).is_ok());
        assert!(matches!(
            p.check_write(4),
            Err(ApiError::PreconditionFailed {
                version: Some(4),
                ..
            })
        ));
        let weak = precondition(&[("If-Match", "W/\"3\"")]).unwrap();
        assert!(weak.check_write(3).is_err());
        let list =
            precondition(&[("If-Match", "\"1\", W/\"2\" ,\"5\""), ("If-Match", "\"9\"")]).unwrap();
        for (version, ok) in [(1, true), (2, false), (5, true), (9, true), (3, false)] {
            assert_eq!(list.check_write(version).is_ok(), ok, "{version}");
        }
        let any = precondition(&[("If-Match", "*")]).unwrap();
        assert!(any.check_write(1).is_ok());
        assert!(precondition(&[]).unwrap().check_write(1).is_ok());
        assert_eq!(precondition(&[]).unwrap(), Precondition::default());
    }

    #[test]
    fn if_none_match_uses_weak_comparison() {
        let p = precondition(&[("If-None-Match", "W/\"3\"")]).unwrap();
        assert!(matches!(p.check_read(3, false), Ok(Some(r)) if r.status() == 304));
        assert!(matches!(p.check_read(4, false), Ok(None)));
        assert!(
            matches!(p.check_read(3, true), Ok(None)),
            "never 304 under $expand"
        );
        assert!(p.check_write(3).is_err());
        assert!(p.check_write(4).is_ok());
        let any = precondition(&[("If-None-Match", "*")]).unwrap();
        assert!(matches!(any.check_read(1, false), Ok(Some(_))));
        let stale = precondition(&[("If-Match", "\"2\"")]).unwrap();
        assert!(stale.check_read(3, false).is_err());
        assert!(stale.check_read(3, true).is_err());
    }

    #[test]
    fn malformed_headers_are_400() {
        for value in [
            "3",
            "\"3",
            "\"3\"x",
            "W/3",
            "",
            " , ",
            "\"a b\"",
            "\"1\" \"2\"",
        ] {
            let err = precondition(&[("If-Match", value)]).unwrap_err();
            assert!(matches!(err, ApiError::BadRequest { .. }), "{value:?}");
        }
        assert!(precondition(&[("If-None-Match", "nope")]).is_err());
        // An empty-opaque tag and several spellings of lists are fine.
        assert!(precondition(&[("If-Match", "\"\"")]).is_ok());
        assert!(precondition(&[("If-Match", ",\"1\",,\"2\",")]).is_ok());
    }
}
