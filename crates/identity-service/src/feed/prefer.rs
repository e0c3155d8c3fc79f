//! What the client asks for besides the resource: the JSON metadata level
//! (`$format` or `Accept`) and the page size (`Prefer: odata.maxpagesize`).

use crate::error::ApiError;

pub use crate::configuration::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// `odata.metadata=none|minimal|full`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataLevel {
    /// No control information but `nextLink` and `count`.
    None,
    /// The default: `@odata.context`, links, counts.
    Minimal,
    /// Also `@odata.type`, `@odata.id`, `@odata.editLink`, navigation links
    /// and type annotations of non-JSON-native values.
    Full,
}

impl MetadataLevel {
    /// The parameter value as written in media types.
    pub fn as_str(self) -> &'static str {
        match self {
            MetadataLevel::None => "none",
            MetadataLevel::Minimal => "minimal",
            MetadataLevel::Full => "full",
        }
    }

    /// The `Content-Type` of JSON answers at this level.
    pub fn content_type(self) -> &'static str {
        match self {
            MetadataLevel::None => "application/json;odata.metadata=none",
            MetadataLevel::Minimal => "application/json;odata.metadata=minimal",
            MetadataLevel::Full => "application/json;odata.metadata=full",
        }
    }

    /// Whether `@odata.context` is written.
    pub fn has_context(self) -> bool {
        self != MetadataLevel::None
    }
}

/// Percent-decodes text (`%3B` -> `;`); invalid escapes stay as written and
/// `+` stays a plus (`application/atom+xml`).
pub fn percent_decode(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned()
}

/// A parsed media range: type/subtype and its parameters (names lower case).
#[derive(Debug, Clone, PartialEq)]
struct MediaRange {
    essence: String,
    params: Vec<(String, String)>,
    quality: f32,
}

fn media_range(text: &str) -> MediaRange {
    let mut parts = text.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let mut params = Vec::new();
    let mut quality = 1.0;
    for p in parts {
        let (name, value) = p.split_once('=').unwrap_or((p, ""));
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim().trim_matches('"').to_owned();
        if name == "q" {
            quality = value.parse().unwrap_or(0.0);
        } else {
            params.push((name, value));
        }
    }
    MediaRange {
        essence,
        params,
        quality,
    }
}

impl MediaRange {
    fn is_json_compatible(&self) -> bool {
        matches!(
            self.essence.as_str(),
            "application/json" | "application/*" | "*/*" | "json"
        )
    }

    /// `IEEE754Compatible=true` (OData JSON §3.2: Int64 and Decimal
    /// values as strings); any other value is `false`.
    fn ieee754_compatible(&self) -> bool {
        self.params
            .iter()
            .any(|(n, v)| n == "ieee754compatible" && v.eq_ignore_ascii_case("true"))
    }

    /// Whether the range allows plain text (`$count`, `$value`).
    fn allows_text(&self) -> bool {
        matches!(self.essence.as_str(), "text/plain" | "text/*" | "*/*")
    }

    /// The metadata level the range asks for: `odata.metadata=` (4.0) or
    /// `odata=` (`minimalmetadata` etc., the v3 spelling Power Query also
    /// sends); `Ok(None)` when it does not say; `Err` for an unknown value.
    fn metadata_level(&self) -> Result<Option<MetadataLevel>, String> {
        for (name, value) in &self.params {
            let v = value.to_ascii_lowercase();
            let level = match (name.as_str(), v.as_str()) {
                ("odata.metadata" | "metadata", "none") => MetadataLevel::None,
                ("odata.metadata" | "metadata", "minimal") => MetadataLevel::Minimal,
                ("odata.metadata" | "metadata", "full") => MetadataLevel::Full,
                ("odata", "nometadata") => MetadataLevel::None,
                ("odata", "minimalmetadata") => MetadataLevel::Minimal,
                ("odata", "fullmetadata") => MetadataLevel::Full,
                ("odata.metadata" | "metadata" | "odata", _) => {
                    return Err(format!("unknown metadata level `{value}`"));
                }
                _ => continue,
            };
            return Ok(Some(level));
        }
        Ok(None)
    }
}

/// What a data response is written as: the metadata level and whether
/// Int64/Decimal values are strings (`IEEE754Compatible=true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    pub level: MetadataLevel,
    pub ieee754: bool,
}

impl Negotiated {
    /// The `Content-Type` of JSON answers: the level, and
    /// `IEEE754Compatible=true` when it was asked for.
    pub fn content_type(self) -> &'static str {
        match (self.level, self.ieee754) {
            (level, false) => level.content_type(),
            (MetadataLevel::None, true) => {
                "application/json;odata.metadata=none;IEEE754Compatible=true"
            }
            (MetadataLevel::Minimal, true) => {
                "application/json;odata.metadata=minimal;IEEE754Compatible=true"
            }
            (MetadataLevel::Full, true) => {
                "application/json;odata.metadata=full;IEEE754Compatible=true"
            }
        }
    }
}

/// The metadata level and `IEEE754Compatible` of a data response:
/// `$format` (raw option value, as written in the query string) wins over
/// `Accept`. An unknown level in `$format` is a 400 naming `$format`; an
/// `Accept` entry with an unknown level is skipped. Without any
/// JSON-compatible `Accept` entry the answer is minimal-metadata JSON
/// ([`acceptable`] decides whether such an `Accept` gets a 406 instead).
/// `IEEE754Compatible` is read from the same media type as the level.
pub fn negotiate(format: Option<&str>, accept: Option<&str>) -> Result<Negotiated, ApiError> {
    if let Some(format) = format {
        let range = media_range(&percent_decode(format));
        if !range.is_json_compatible() {
            return Err(ApiError::NotImplemented {
                message: format!("only JSON is supported, not `{format}`"),
                target: Some("$format".to_owned()),
                details: Vec::new(),
            });
        }
        let ieee754 = range.ieee754_compatible();
        return range
            .metadata_level()
            .map(|l| Negotiated {
                level: l.unwrap_or(MetadataLevel::Minimal),
                ieee754,
            })
            .map_err(|m| ApiError::bad_request(m, Some("$format")));
    }
    let minimal = Negotiated {
        level: MetadataLevel::Minimal,
        ieee754: false,
    };
    let Some(accept) = accept else {
        return Ok(minimal);
    };
    let mut ranges: Vec<MediaRange> = accept
        .split(',')
        .map(media_range)
        .filter(|r| r.quality > 0.0 && r.is_json_compatible())
        .collect();
    // Stable: among equal qualities the first written wins.
    ranges.sort_by(|a, b| b.quality.total_cmp(&a.quality));
    for range in ranges {
        if let Ok(level) = range.metadata_level() {
            return Ok(Negotiated {
                level: level.unwrap_or(MetadataLevel::Minimal),
                ieee754: range.ieee754_compatible(),
            });
        }
    }
    Ok(minimal)
}

/// Whether `Accept` allows something the feed can produce for a data
/// resource: JSON (`application/json` with any parameters,
/// `application/*`, `*/*`), or for `$count`/`$value` (`text`) also
/// `text/plain` and `text/*`. JSON stays allowed there: the feed answers
/// those in plain text, but clients that send one JSON `Accept` for every
/// request keep working. No `Accept` (or an empty one) allows everything;
/// entries with `q=0` allow nothing.
pub fn acceptable(accept: Option<&str>, text: bool) -> bool {
    let Some(accept) = accept else {
        return true;
    };
    let ranges: Vec<MediaRange> = accept
        .split(',')
        .filter(|r| !r.trim().is_empty())
        .map(media_range)
        .collect();
    ranges.is_empty()
        || ranges.iter().any(|r| {
            r.quality > 0.0
                && (matches!(
                    r.essence.as_str(),
                    "application/json" | "application/*" | "*/*"
                ) || (text && r.allows_text()))
        })
}

/// The page size the `Prefer` header asks for, clamped to
/// `1..=MAX_PAGE_SIZE`: `odata.maxpagesize=N` (or the 4.01 `maxpagesize=N`).
/// Several `Prefer` headers and comma-separated preferences are allowed;
/// a value that is not a positive integer is ignored, as RFC 7240 lets a
/// server ignore a preference it does not understand.
pub fn max_page_size<'a>(prefer_headers: impl Iterator<Item = &'a str>) -> Option<u64> {
    for header in prefer_headers {
        for preference in header.split(',') {
            let first = preference.split(';').next().unwrap_or("");
            let Some((name, value)) = first.split_once('=') else {
                continue;
            };
            let name = name.trim().to_ascii_lowercase();
            if name != "odata.maxpagesize" && name != "maxpagesize" {
                continue;
            }
            if let Ok(n) = value.trim().trim_matches('"').parse::<u64>()
                && n > 0
            {
                return Some(n.min(MAX_PAGE_SIZE));
            }
        }
    }
    None
}

/// Whether a `Prefer` header asks for `odata.track-changes` (or the 4.01
/// spelling `track-changes`).
pub fn track_changes<'a>(prefer_headers: impl Iterator<Item = &'a str>) -> bool {
    prefer_headers.flat_map(|h| h.split(',')).any(|preference| {
        let name = preference.split(';').next().unwrap_or("").trim();
        name.eq_ignore_ascii_case("odata.track-changes")
            || name.eq_ignore_ascii_case("track-changes")
    })
}

/// Whether `OData-MaxVersion` allows 4.01 or later (`4.01`, `4.1`, `5.0`).
pub fn allows_401(max_version: Option<&str>) -> bool {
    let Some(v) = max_version else {
        return false;
    };
    let (major, minor) = v.trim().split_once('.').unwrap_or((v.trim(), "0"));
    match (major.parse::<u32>(), minor.parse::<u32>()) {
        (Ok(major), Ok(minor)) => major > 4 || (major == 4 && minor >= 1),
        _ => false,
    }
}

/// `Prefer: return=minimal|representation` (OData §8.2.8.7) on a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Return {
    Minimal,
    Representation,
}

/// The `return` preference among the `Prefer` headers, if any (the first
/// one wins; an unknown value is ignored, as RFC 7240 allows).
pub fn return_preference<'a>(prefer_headers: impl Iterator<Item = &'a str>) -> Option<Return> {
    for header in prefer_headers {
        for preference in header.split(',') {
            let first = preference.split(';').next().unwrap_or("");
            let Some((name, value)) = first.split_once('=') else {
                continue;
            };
            if !name.trim().eq_ignore_ascii_case("return") {
                continue;
            }
            match value.trim().trim_matches('"').to_ascii_lowercase().as_str() {
                "minimal" => return Some(Return::Minimal),
                "representation" => return Some(Return::Representation),
                _ => {}
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_changes_and_max_version() {
        assert!(track_changes(
            ["odata.maxpagesize=5, odata.track-changes"].into_iter()
        ));
        assert!(track_changes(["Track-Changes"].into_iter()));
        assert!(!track_changes(["return=minimal"].into_iter()));
        assert!(allows_401(Some("4.01")));
        assert!(allows_401(Some(" 4.1 ")));
        assert!(!allows_401(Some("4.0")));
        assert!(!allows_401(Some("x")));
        assert!(!allows_401(None));
    }

    fn metadata_level(
        format: Option<&str>,
        accept: Option<&str>,
    ) -> Result<MetadataLevel, ApiError> {
        negotiate(format, accept).map(|n| n.level)
    }

    const POWER_QUERY_ACCEPT: &str = "application/json;odata.metadata=minimal;q=1.0,application/json;odata=minimalmetadata;q=0.9,application/atomsvc+xml;q=0.8,application/atom+xml;q=0.8,application/xml;q=0.7,text/plain;q=0.7";

    #[test]
    fn accept_of_power_query_is_minimal() {
        assert_eq!(
            metadata_level(None, Some(POWER_QUERY_ACCEPT)).ok(),
            Some(MetadataLevel::Minimal)
        );
    }

    #[test]
    fn accept_allows_json_or_text_where_text_is_written() {
        for accept in [
            "*/*",
            "application/*",
            "application/json",
            "application/json;odata.metadata=full;IEEE754Compatible=true;charset=utf-8",
            "application/xml, application/json;q=0.1",
            POWER_QUERY_ACCEPT,
            "",
        ] {
            assert!(acceptable(Some(accept), false), "{accept}");
        }
        assert!(acceptable(None, false));
        for accept in [
            "application/xml",
            "text/csv",
            "text/plain",
            "text/*",
            "application/json;q=0",
            "application/atom+xml, text/html",
        ] {
            assert!(!acceptable(Some(accept), false), "{accept}");
        }
        assert!(acceptable(Some("text/plain"), true));
        assert!(acceptable(Some("text/*"), true));
        assert!(acceptable(Some("application/json"), true));
        assert!(!acceptable(Some("text/csv"), true));
        assert!(!acceptable(Some("application/xml"), true));
    }

    #[test]
    fn ieee754_compatible_from_format_or_the_chosen_accept() {
        let n = negotiate(Some("application/json;IEEE754Compatible=true"), None).unwrap();
        assert!(n.ieee754);
        assert_eq!(n.level, MetadataLevel::Minimal);
        assert_eq!(
            n.content_type(),
            "application/json;odata.metadata=minimal;IEEE754Compatible=true"
        );
        let n = negotiate(
            Some("application%2Fjson%3Bodata.metadata%3Dnone%3Bieee754compatible%3DTRUE"),
            Some("application/json"),
        )
        .unwrap();
        assert_eq!((n.level, n.ieee754), (MetadataLevel::None, true));
        // $format wins: no flag there, none from Accept.
        let n = negotiate(
            Some("json"),
            Some("application/json;IEEE754Compatible=true"),
        )
        .unwrap();
        assert!(!n.ieee754);
        let n = negotiate(
            None,
            Some("application/json;odata.metadata=full;IEEE754Compatible=true"),
        )
        .unwrap();
        assert_eq!((n.level, n.ieee754), (MetadataLevel::Full, true));
        let n = negotiate(None, Some("application/json;IEEE754Compatible=false")).unwrap();
        assert!(!n.ieee754);
        assert_eq!(n.content_type(), "application/json;odata.metadata=minimal");
        // The flag of the range that was chosen (highest quality).
        let n = negotiate(
            None,
            Some("application/json;IEEE754Compatible=true;q=0.5, application/json;odata.metadata=none"),
        )
        .unwrap();
        assert_eq!((n.level, n.ieee754), (MetadataLevel::None, false));
    }

    #[test]
    fn format_wins_over_accept() {
        assert_eq!(
            metadata_level(
                Some("application/json;odata.metadata=full"),
                Some("application/json;odata.metadata=none")
            )
            .ok(),
            Some(MetadataLevel::Full)
        );
        assert_eq!(
            metadata_level(Some("application%2Fjson%3Bodata.metadata%3Dnone"), None).ok(),
            Some(MetadataLevel::None)
        );
        assert_eq!(
            metadata_level(Some("json"), None).ok(),
            Some(MetadataLevel::Minimal)
        );
    }

    #[test]
    fn accept_takes_the_highest_quality() {
        assert_eq!(
            metadata_level(
                None,
                Some("application/json;odata.metadata=none;q=0.5,application/json;odata.metadata=full")
            )
            .ok(),
            Some(MetadataLevel::Full)
        );
        assert_eq!(
            metadata_level(None, Some("application/xml")).ok(),
            Some(MetadataLevel::Minimal)
        );
    }

    #[test]
    fn bad_format_values_are_errors() {
        assert!(metadata_level(Some("application/json;odata.metadata=lots"), None).is_err());
        assert!(metadata_level(Some("atom"), None).is_err());
    }

    #[test]
    fn maxpagesize_is_clamped_and_found_among_others() {
        assert_eq!(
            max_page_size(["respond-async, odata.maxpagesize=25"].into_iter()),
            Some(25)
        );
        assert_eq!(
            max_page_size(["odata.maxpagesize=999999"].into_iter()),
            Some(MAX_PAGE_SIZE)
        );
        assert_eq!(max_page_size(["maxpagesize=7"].into_iter()), Some(7));
        assert_eq!(max_page_size(["odata.maxpagesize=0"].into_iter()), None);
        assert_eq!(max_page_size(["odata.maxpagesize=x"].into_iter()), None);
        assert_eq!(max_page_size(std::iter::empty()), None);
    }

    #[test]
    fn return_preference_is_found_among_others() {
        let one = |h: &str| return_preference(std::iter::once(h));
        assert_eq!(one("return=minimal"), Some(Return::Minimal));
        assert_eq!(
            one("odata.maxpagesize=5, return=representation"),
            Some(Return::Representation)
        );
        assert_eq!(one("Return=\"minimal\""), Some(Return::Minimal));
        assert_eq!(one("return=everything"), None);
        assert_eq!(one("respond-async"), None);
        assert_eq!(
            return_preference(["odata.maxpagesize=1", "return=minimal"].into_iter()),
            Some(Return::Minimal)
        );
    }
}
