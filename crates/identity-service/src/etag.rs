//! ETags and conditional requests (RFC 9110 §8.8.3 and §13.1).
//!
//! Every user, role and group has a `version` that changes with every
//! change of the record (in the statement or transaction of the change);
//! its ETag is the strong entity tag `"<version>"`. Reads answer it in
//! `ETag` (and the feed in `@odata.etag`); writes take `If-Match` and
//! `If-None-Match` ([`Precondition`]), checked with the record's row locked
//! in the write's own transaction, so that of two writers holding the same
//! ETag exactly one wins and the other gets 412. A write with `If-Match`
//! on a record that does not exist is 412 too ([`Precondition::absent`]).
//! A stored picture has an ETag of its own, a hash of its bytes
//! ([`picture_tag`]).

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

use crate::error::ApiError;

/// The ETag of a record at `version`: `"<version>"`.
pub fn format(version: i64) -> String {
    format!("\"{version}\"")
}

/// The `ETag` header of a record at `version`.
pub fn header(version: i64) -> (header::HeaderName, HeaderValue) {
    tag_header(&format(version))
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
    /// Whether a representation whose entity tags are `current` (their
    /// opaque parts) matches, by strong comparison (`If-Match`: a weak tag
    /// never matches) or weak comparison (`If-None-Match`).
    fn matches(&self, current: &[&str], strong: bool) -> bool {
        match self {
            Condition::Any => true,
            Condition::Tags(tags) => tags
                .iter()
                .any(|t| current.contains(&t.opaque.as_str()) && !(strong && t.weak)),
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

    /// Whether the request sent neither `If-Match` nor `If-None-Match`.
    pub fn is_unconditional(&self) -> bool {
        self.if_match.is_none() && self.if_none_match.is_none()
    }

    /// Checks a write against the record's current version (RFC 9110
    /// §13.2.2): 412 with the current ETag when `If-Match` does not match
    /// (strong comparison; `*` matches any existing record) or
    /// `If-None-Match` does (weak comparison; `*` matches any).
    pub fn check_write(&self, current: i64) -> Result<(), ApiError> {
        self.check_write_tags(current, None)
    }

    /// [`check_write`](Self::check_write) of a write that replaces the
    /// user's picture: the record's ETag or the picture's (`picture`, see
    /// [`picture_tag`]) both name the current state, so either matches.
    /// The 412 carries the record's ETag.
    pub fn check_write_tags(&self, current: i64, picture: Option<&str>) -> Result<(), ApiError> {
        let version = current.to_string();
        let mut tags = vec![version.as_str()];
        tags.extend(picture);
        if let Some(condition) = &self.if_match
            && !condition.matches(&tags, true)
        {
            return Err(ApiError::PreconditionFailed {
                message: format!(
                    "If-Match does not match the current ETag {}: the record was changed since it was read; read it again",
                    format(current)
                ),
                etag: Some(format(current)),
            });
        }
        if let Some(condition) = &self.if_none_match
            && condition.matches(&tags, false)
        {
            return Err(ApiError::PreconditionFailed {
                message: format!("If-None-Match matches the current ETag {}", format(current)),
                etag: Some(format(current)),
            });
        }
        Ok(())
    }

    /// The error of a write whose record does not exist (any more): 412
    /// when the request sent `If-Match` (RFC 9110 §13.1.1: with no current
    /// representation, `*` and every list of tags are false; and a write
    /// with `If-Match` is never a create), else `not_found`.
    pub fn absent(&self, not_found: ApiError) -> ApiError {
        if self.if_match.is_none() {
            return not_found;
        }
        ApiError::PreconditionFailed {
            message: "If-Match was sent but the record does not exist (it was deleted, or never \
                      existed): there is no current ETag to match"
                .into(),
            etag: None,
        }
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
        self.check_read_tag(&current.to_string(), expanded)
    }

    /// [`check_read`](Self::check_read) of a representation whose ETag has
    /// the opaque part `current` (a record's version, or a picture's
    /// [`picture_tag`]). The 304 carries the ETag.
    pub fn check_read_tag(
        &self,
        current: &str,
        expanded: bool,
    ) -> Result<Option<HttpResponse>, ApiError> {
        let etag = quoted(current);
        if let Some(condition) = &self.if_match
            && !condition.matches(&[current], true)
        {
            return Err(ApiError::PreconditionFailed {
                message: format!("If-Match does not match the current ETag {etag}"),
                etag: Some(etag),
            });
        }
        if let Some(condition) = &self.if_none_match
            && !expanded
            && condition.matches(&[current], false)
        {
            return Ok(Some(
                HttpResponse::NotModified()
                    .insert_header(tag_header(&etag))
                    .finish(),
            ));
        }
        Ok(None)
    }
}

/// The opaque part of a stored picture's ETag: `p-` and the first 128 bits
/// of the SHA-256 of its bytes in hex. It changes exactly when the image
/// does (storing the same bytes again keeps it) and never looks like a
/// record's version, which is digits only.
pub fn picture_tag(data: &[u8]) -> String {
    use sha2::Digest;
    use std::fmt::Write;
    let digest = sha2::Sha256::digest(data);
    let mut tag = String::with_capacity(2 + 32);
    tag.push_str("p-");
    for byte in &digest[..16] {
        // Writing into a String cannot fail.
        let _ = write!(tag, "{byte:02x}");
    }
    tag
}

/// An entity tag with opaque part `opaque`: `"<opaque>"`.
pub fn quoted(opaque: &str) -> String {
    format!("\"{opaque}\"")
}

/// The `ETag` header holding `etag` (already quoted, see [`quoted`]).
pub fn tag_header(etag: &str) -> (header::HeaderName, HeaderValue) {
    // The tags made here are quotes around digits, `p-` and hex digits.
    let value = HeaderValue::from_str(etag).unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
    (header::ETAG, value)
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
                etag: Some(tag),
                ..
            }) if tag == "\"4\""
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
    fn a_missing_record_fails_if_match_only() {
        let not_found = || ApiError::not_found("gone");
        for value in ["*", "\"1\"", "W/\"1\", \"2\""] {
            let p = precondition(&[("If-Match", value)]).unwrap();
            assert!(
                matches!(
                    p.absent(not_found()),
                    ApiError::PreconditionFailed { etag: None, .. }
                ),
                "{value:?}"
            );
        }
        for headers in [&[][..], &[("If-None-Match", "*")][..]] {
            let p = precondition(headers).unwrap();
            assert!(matches!(p.absent(not_found()), ApiError::NotFound { .. }));
        }
    }

    #[test]
    fn pictures_have_tags_of_their_bytes() {
        let tag = picture_tag(b"\x89PNG one");
        assert_eq!(tag, picture_tag(b"\x89PNG one"));
        assert_ne!(tag, picture_tag(b"\x89PNG two"));
        assert!(tag.starts_with("p-") && tag.len() == 34, "{tag}");
        assert!(tag[2..].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(tag_header(&quoted(&tag)).1, quoted(&tag).as_str());
        // A read compares with the picture's tag only.
        let held = precondition(&[("If-None-Match", &quoted(&tag))]).unwrap();
        assert!(matches!(held.check_read_tag(&tag, false), Ok(Some(r)) if r.status() == 304));
        assert!(matches!(held.check_read_tag("p-00", false), Ok(None)));
        let stale = precondition(&[("If-Match", "\"p-00\"")]).unwrap();
        assert!(matches!(
            stale.check_read_tag(&tag, false),
            Err(ApiError::PreconditionFailed { etag: Some(e), .. }) if e == quoted(&tag)
        ));
        // A picture write takes the record's ETag or the picture's.
        assert!(
            held.check_write_tags(3, Some(&tag)).is_err(),
            "If-None-Match matches"
        );
        let by_picture = precondition(&[("If-Match", &quoted(&tag))]).unwrap();
        assert!(by_picture.check_write_tags(3, Some(&tag)).is_ok());
        assert!(by_picture.check_write_tags(3, None).is_err());
        assert!(by_picture.check_write(3).is_err());
        let by_record = precondition(&[("If-Match", "\"3\"")]).unwrap();
        assert!(by_record.check_write_tags(3, Some(&tag)).is_ok());
        assert!(matches!(
            by_record.check_write_tags(4, Some(&tag)),
            Err(ApiError::PreconditionFailed { etag: Some(e), .. }) if e == "\"4\""
        ));
        assert!(precondition(&[]).unwrap().is_unconditional());
        assert!(!by_record.is_unconditional() && !held.is_unconditional());
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
