//! The raw query string: parsing it into options, and rebuilding it for next
//! links.

use odata_parser::ast::QueryOptions;
use odata_parser::{ParserOptions, parse_query};

use super::QueryError;

/// One `name=value` pair of the raw query string, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawOption<'a> {
    pub(crate) name: &'a str,
    pub(crate) value: &'a str,
    pub(crate) text: &'a str,
    pub(crate) offset: usize,
}

/// Splits the raw query string on `&` (empty pieces dropped).
pub(crate) fn raw_options(raw: &str) -> Vec<RawOption<'_>> {
    let mut out = Vec::new();
    let mut offset = 0;
    for piece in raw.split('&') {
        if !piece.is_empty() {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            out.push(RawOption {
                name,
                value,
                text: piece,
                offset,
            });
        }
        offset += piece.len() + 1;
    }
    out
}

/// Whether a raw option name is `$name` (case-insensitively, `%24` for `$` allowed).
pub(crate) fn is_option(raw_name: &str, name: &str) -> bool {
    let bare = raw_name
        .strip_prefix('$')
        .or_else(|| raw_name.strip_prefix("%24"))
        .unwrap_or(raw_name);
    raw_name != bare && bare.eq_ignore_ascii_case(name)
}

/// Limits for query strings from the network.
fn parser_options() -> ParserOptions {
    ParserOptions {
        max_input_len: 16 * 1024,
        max_depth: 64,
        max_nodes: 4_000,
        max_expand_depth: 2,
    }
}

/// Parses the raw query string (as it arrived, still percent-encoded).
///
/// A `+` is read as a space, the way HTML forms, `curl --data-urlencode` and
/// most HTTP client libraries encode spaces in query strings; a literal plus
/// (a time-zone offset, a signed number) is written `%2B`, as the OData URL
/// conventions ask. One byte replaces one byte, so error offsets still point
/// into the string the client sent.
///
/// Clients that percent-encode every reserved character (curl
/// `--data-urlencode`, Python's `urlencode`) also send `%2F` for the `/` of
/// paths and lambdas, `%24` for the `$` of option names and of `$count`,
/// `$it`, `$root`, … and `%3D` for the `=` of nested options, which the URL
/// grammar does not treat as those characters. A query holding such escapes
/// is parsed with them decoded first; that never changes the meaning of a
/// string literal or a search word (they are percent-decoded anyway), and
/// an identifier cannot contain `%`. If the decoded text does not parse,
/// the text as written is parsed and its error reported, with offsets into
/// what the client sent.
pub(crate) fn parse(raw: &str) -> Result<QueryOptions, QueryError> {
    if raw.contains('+') {
        parse_encoded(&raw.replace('+', " "))
    } else {
        parse_encoded(raw)
    }
}

/// [`parse`] without reading `+` as a space: the v4 feed's query strings,
/// where OData's URL conventions make `+` a plus (BI tools send `%20` for a
/// space and a raw `+` in time-zone offsets). Reserved characters sent
/// percent-encoded are understood as in [`parse`].
pub(crate) fn parse_feed(raw: &str) -> Result<QueryOptions, QueryError> {
    parse_encoded(raw)
}

fn parse_encoded(text: &str) -> Result<QueryOptions, QueryError> {
    if let Some(decoded) = decode_reserved(text)
        && let Ok(options) = parse_query(&decoded, &parser_options())
    {
        return Ok(options);
    }
    match parse_query(text, &parser_options()) {
        // `%24top=5` parses as a custom option named `%24top`: it is `$top`.
        Ok(options)
            if options.custom.iter().any(|c| {
                c.name
                    .get(..3)
                    .is_some_and(|p| p.eq_ignore_ascii_case("%24"))
            }) =>
        {
            parse_query(&dollar_option_names(text), &parser_options()).map_err(QueryError::Parse)
        }
        result => result.map_err(QueryError::Parse),
    }
}

/// `%24name=...` option names written `$name=...`: OData allows the
/// percent-encoded dollar (python-odata sends every system option that
/// way). Values are untouched; error offsets then refer to the query with
/// `$` written plainly.
pub(crate) fn dollar_option_names(raw: &str) -> String {
    raw.split('&')
        .map(|piece| match piece.get(..3) {
            Some(prefix) if prefix.eq_ignore_ascii_case("%24") => format!("${}", &piece[3..]),
            _ => piece.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `text` with `%2F`, `%24` and `%3D` (any hex case) decoded, or `None`
/// when it holds none of them.
fn decode_reserved(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < bytes.len() {
        let decoded = match bytes.get(i..i + 3) {
            Some([b'%', b'2', b'f' | b'F']) => Some('/'),
            Some([b'%', b'2', b'4']) => Some('$'),
            Some([b'%', b'3', b'd' | b'D']) => Some('='),
            _ => None,
        };
        if let Some(c) = decoded {
            out.push(c);
            changed = true;
            i += 3;
        } else {
            let ch = text[i..].chars().next()?;
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    changed.then_some(out)
}

/// The raw options that a next link keeps: everything but `$skip`, `$top`
/// and `$skiptoken`, as written.
pub(crate) fn kept_for_next_link(raw: &str) -> Vec<&str> {
    raw_options(raw)
        .into_iter()
        .filter(|o| {
            !(is_option(o.name, "skip")
                || is_option(o.name, "top")
                || is_option(o.name, "skiptoken"))
        })
        .map(|o| o.text)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_drops_paging_options_only() {
        let raw = "$filter=name%20eq%20'a'&$top=5&%24skip=3&$SkipToken=abc&x=1";
        assert_eq!(
            kept_for_next_link(raw),
            vec!["$filter=name%20eq%20'a'", "x=1"]
        );
    }

    #[test]
    fn plus_is_a_space_and_percent_2b_a_plus() {
        let q = parse("$filter=name+eq+'a+b'&$top=1").expect("parses");
        assert_eq!(q.filter.expect("filter").to_string(), "name eq 'a b'");
        let q = parse("$filter=lastLogin+ge+2026-01-01T00:00:00%2B01:00").expect("parses");
        assert_eq!(
            q.filter.expect("filter").to_string(),
            "lastLogin ge 2026-01-01T00:00:00+01:00"
        );
        let err = match parse("$filter=name+eq") {
            Err(QueryError::Parse(e)) => e,
            other => panic!("expected a parse error, got {other:?}"),
        };
        assert_eq!(err.offset, 15);
    }

    #[test]
    fn fully_encoded_reserved_characters_are_understood() {
        let q = parse("%24filter=roles%2Fany(r%3A+r%2FroleKey+eq+%27a%2Fb%27)&%24expand=roles(%24select%3DroleKey)")
            .expect("parses");
        assert_eq!(
            q.filter.expect("filter").to_string(),
            "roles/any(r:r/roleKey eq 'a/b')"
        );
        assert!(q.expand.is_some());
        // An error is reported against the text as written.
        let err = match parse("$filter=roles%2Fany(") {
            Err(QueryError::Parse(e)) => e,
            other => panic!("expected a parse error, got {other:?}"),
        };
        assert_eq!(err.option.as_deref(), Some("$filter"));
        assert!(err.offset >= 13, "offset {} is in the raw text", err.offset);
    }

    #[test]
    fn percent_encoded_dollars_inside_expressions_are_dollars() {
        let q =
            parse("$filter=roles/%24count%20gt%204&$apply=aggregate(%24count%20as%20n)").unwrap();
        assert_eq!(
            q.filter.as_ref().map(ToString::to_string).as_deref(),
            Some("roles/$count gt 4")
        );
        assert_eq!(
            q.apply.as_ref().map(ToString::to_string).as_deref(),
            Some("aggregate($count as n)")
        );
    }

    #[test]
    fn percent_encoded_dollars_name_the_same_options() {
        let q = parse("%24top=5&%24Filter=name%20eq%20%27%2524%27&x=%24y").unwrap();
        assert_eq!(q.top.map(|t| t.value), Some(5));
        assert!(q.filter.is_some());
        assert_eq!(q.custom.len(), 1);
    }

    #[test]
    fn options_have_offsets() {
        let opts = raw_options("a=1&&$top=2");
        assert_eq!(opts.len(), 2);
        assert_eq!(opts[1].name, "$top");
        assert_eq!(opts[1].offset, 5);
    }
}
