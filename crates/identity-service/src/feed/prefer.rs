//! What the client asks for besides the resource: the JSON metadata level
//! (`$format` or `Accept`) and the page size (`Prefer: odata.maxpagesize`).

use crate::error::ApiError;

/// Rows per page when the client does not say (`Prefer` absent) and the
/// `feed_page_size` setting (`APP_FEED_PAGE_SIZE`) is not changed.
pub const DEFAULT_PAGE_SIZE: u64 = 1000;
/// The largest page `Prefer: odata.maxpagesize` (or `feed_page_size`) can ask for.
pub const MAX_PAGE_SIZE: u64 = 5000;

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
    pub fn content_type(self) -> String {
        format!("application/json;odata.metadata={}", self.as_str())
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

/// The metadata level of a data response: `$format` (raw option value, as
/// written in the query string) wins over `Accept`. An unknown level in
/// `$format` is a 400 naming `$format`; an `Accept` entry with an unknown
/// level is skipped. Without any JSON-compatible `Accept` entry the answer
/// is still minimal-metadata JSON (the only format the feed has).
pub fn metadata_level(
    format: Option<&str>,
    accept: Option<&str>,
) -> Result<MetadataLevel, ApiError> {
    if let Some(format) = format {
        let range = media_range(&percent_decode(format));
        if !range.is_json_compatible() {
            return Err(ApiError::NotImplemented {
                message: format!("only JSON is supported, not `{format}`"),
                target: Some("$format".to_owned()),
            });
        }
        return range
            .metadata_level()
            .map(|l| l.unwrap_or(MetadataLevel::Minimal))
            .map_err(|m| ApiError::bad_request(m, Some("$format")));
    }
    let Some(accept) = accept else {
        return Ok(MetadataLevel::Minimal);
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
            return Ok(level.unwrap_or(MetadataLevel::Minimal));
        }
    }
    Ok(MetadataLevel::Minimal)
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

#[cfg(test)]
mod tests {
    use super::*;

    const POWER_QUERY_ACCEPT: &str = "application/json;odata.metadata=minimal;q=1.0,application/json;odata=minimalmetadata;q=0.9,application/atomsvc+xml;q=0.8,application/atom+xml;q=0.8,application/xml;q=0.7,text/plain;q=0.7";

    #[test]
    fn accept_of_power_query_is_minimal() {
        assert_eq!(
            metadata_level(None, Some(POWER_QUERY_ACCEPT)).ok(),
            Some(MetadataLevel::Minimal)
        );
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
}
