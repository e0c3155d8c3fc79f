use std::fmt;

use super::DomainError;

/// A well-formed BCP 47 language tag (RFC 5646 `langtag` or private use
/// `x-...`), stored in conventional case (`en-US`, `zh-Hant-TW`, `sr-Latn`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Culture(String);

/// The culture used when the client gives none and `Accept-Language` has no valid tag.
pub const DEFAULT_CULTURE: &str = "en-US";

fn is_alpha(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphabetic())
}
fn is_digit(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}
fn is_alnum(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl Culture {
    pub fn parse(value: &str) -> Result<Culture, DomainError> {
        canonical(value).map(Culture).ok_or_else(|| {
            DomainError::new(
                "culture",
                format!(
                    "'{}' is not a well-formed BCP 47 language tag (e.g. 'en-US')",
                    super::echo(value)
                ),
            )
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    /// The default culture of a request: the highest-weighted valid tag of
    /// an `Accept-Language` header (first one on ties; `*` and `q=0` skipped),
    /// else `en-US`.
    pub fn from_accept_language(header: Option<&str>) -> Culture {
        let mut best: Option<(u16, Culture)> = None;
        for item in header.unwrap_or("").split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let mut weight: u16 = 1000;
            for param in parts {
                let param = param.trim();
                if let Some(q) = param
                    .strip_prefix("q=")
                    .or_else(|| param.strip_prefix("Q="))
                {
                    weight = parse_q(q).unwrap_or(0);
                }
            }
            if weight == 0 || tag == "*" {
                continue;
            }
            if let Ok(culture) = Culture::parse(tag)
                && best.as_ref().is_none_or(|(w, _)| weight > *w)
            {
                best = Some((weight, culture));
            }
        }
        best.map(|(_, c)| c)
            .unwrap_or_else(|| Culture(DEFAULT_CULTURE.to_owned()))
    }
}

/// `q` values as thousandths (`0.8` -> 800), `None` when malformed.
fn parse_q(q: &str) -> Option<u16> {
    let value: f64 = q.trim().parse().ok()?;
    if !(0.0..=1.0).contains(&value) {
        return None;
    }
    Some((value * 1000.0).round() as u16)
}

/// The tag in conventional case when it is well-formed, else `None`.
fn canonical(value: &str) -> Option<String> {
    if value.is_empty() || value.len() > 64 {
        return None;
    }
    let subtags: Vec<&str> = value.split('-').collect();
    if subtags
        .iter()
        .any(|s| s.is_empty() || s.len() > 8 || !is_alnum(s))
    {
        return None;
    }
    let mut out: Vec<String> = Vec::with_capacity(subtags.len());
    let mut i = 0;
    let first = subtags[0];
    if first.eq_ignore_ascii_case("x") {
        // Private use tag: x-1*8alphanum, at least one.
        if subtags.len() < 2 {
            return None;
        }
        return Some(
            subtags
                .iter()
                .map(|s| s.to_ascii_lowercase())
                .collect::<Vec<_>>()
                .join("-"),
        );
    }
    // language: 2-3 ALPHA [-extlang] / 4 ALPHA / 5-8 ALPHA
    if !is_alpha(first) || first.len() < 2 {
        return None;
    }
    out.push(first.to_ascii_lowercase());
    i += 1;
    if (2..=3).contains(&first.len()) {
        // up to three extlang subtags of 3 ALPHA
        let mut ext = 0;
        while ext < 3 && i < subtags.len() && subtags[i].len() == 3 && is_alpha(subtags[i]) {
            out.push(subtags[i].to_ascii_lowercase());
            i += 1;
            ext += 1;
        }
    }
    // script: 4 ALPHA
    if i < subtags.len() && subtags[i].len() == 4 && is_alpha(subtags[i]) {
        let s = subtags[i].to_ascii_lowercase();
        let mut chars = s.chars();
        let head = chars.next().map(|c| c.to_ascii_uppercase()).unwrap_or('X');
        out.push(format!("{head}{}", chars.as_str()));
        i += 1;
    }
    // region: 2 ALPHA / 3 DIGIT
    if i < subtags.len()
        && ((subtags[i].len() == 2 && is_alpha(subtags[i]))
            || (subtags[i].len() == 3 && is_digit(subtags[i])))
    {
        out.push(subtags[i].to_ascii_uppercase());
        i += 1;
    }
    // variants: 5-8 alphanum / DIGIT 3 alphanum; no duplicates
    let mut variants: Vec<String> = Vec::new();
    while i < subtags.len() {
        let s = subtags[i];
        let is_variant =
            (5..=8).contains(&s.len()) || (s.len() == 4 && s.as_bytes()[0].is_ascii_digit());
        if !is_variant {
            break;
        }
        let lower = s.to_ascii_lowercase();
        if variants.contains(&lower) {
            return None;
        }
        variants.push(lower.clone());
        out.push(lower);
        i += 1;
    }
    // extensions: singleton (not x) 1*(2-8 alphanum); no duplicate singletons
    let mut singletons: Vec<String> = Vec::new();
    while i < subtags.len() && subtags[i].len() == 1 && !subtags[i].eq_ignore_ascii_case("x") {
        let singleton = subtags[i].to_ascii_lowercase();
        if singletons.contains(&singleton) {
            return None;
        }
        singletons.push(singleton.clone());
        out.push(singleton);
        i += 1;
        let start = i;
        while i < subtags.len() && subtags[i].len() >= 2 {
            out.push(subtags[i].to_ascii_lowercase());
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    // private use: x 1*(1-8 alphanum)
    if i < subtags.len() && subtags[i].eq_ignore_ascii_case("x") {
        out.push("x".to_owned());
        i += 1;
        if i == subtags.len() {
            return None;
        }
        while i < subtags.len() {
            out.push(subtags[i].to_ascii_lowercase());
            i += 1;
        }
    }
    if i != subtags.len() {
        return None;
    }
    Some(out.join("-"))
}

impl fmt::Display for Culture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_tags_in_conventional_case() {
        for (input, canonical) in [
            ("en-US", "en-US"),
            ("en-us", "en-US"),
            ("PT", "pt"),
            ("zh-hant-tw", "zh-Hant-TW"),
            ("sr-Latn-RS", "sr-Latn-RS"),
            ("es-419", "es-419"),
            ("de-CH-1996", "de-CH-1996"),
            ("en-US-u-ca-gregory", "en-US-u-ca-gregory"),
            ("x-private", "x-private"),
            ("en-x-custom", "en-x-custom"),
            ("zh-yue-HK", "zh-yue-HK"),
        ] {
            assert_eq!(
                Culture::parse(input).unwrap().as_str(),
                canonical,
                "{input}"
            );
        }
    }

    #[test]
    fn malformed_tags() {
        for input in [
            "",
            "e",
            "en_US",
            "en-",
            "-en",
            "e1-US",
            "en-Latn-Latn",
            "en-US-",
            "123",
            "en-a",
            "en-x",
            "de-1996-1996",
            "en-u-ca-u-nu",
            "en US",
            "abcdefghi",
        ] {
            assert!(Culture::parse(input).is_err(), "{input:?} accepted");
        }
    }

    #[test]
    fn accept_language_picks_highest_valid_weight() {
        let pick = |h: &str| Culture::from_accept_language(Some(h)).into_inner();
        assert_eq!(pick("fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5"), "fr-CH");
        assert_eq!(pick("en;q=0.5, pt-PT;q=0.9"), "pt-PT");
        assert_eq!(pick("bad_tag, de;q=0.1"), "de");
        assert_eq!(pick("*"), "en-US");
        assert_eq!(pick("pt;q=0, es;q=0.2"), "es");
        assert_eq!(pick(""), "en-US");
        assert_eq!(Culture::from_accept_language(None).as_str(), "en-US");
    }
}
