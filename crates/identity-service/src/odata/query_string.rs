//! The raw query string: parsing it into options, and rebuilding it for next
//! links.

use odata_parser::ast::QueryOptions;
use odata_parser::{ParserOptions, parse_query};

use super::QueryError;

/// Limits for query strings from the network.
fn parser_options() -> ParserOptions {
    ParserOptions {
        max_input_len: 16 * 1024,
        max_depth: 64,
        max_nodes: 4_000,
        max_expand_depth: MAX_EXPAND_DEPTH,
    }
}

pub(crate) use crate::configuration::MAX_EXPAND_DEPTH;

/// Parses the raw query string (as it arrived, still percent-encoded), on
/// both APIs alike.
///
/// A `+` is read as a space, the way HTML forms, `curl --data-urlencode`,
/// Python `requests` and JavaScript `URLSearchParams` encode spaces, and as
/// ASP.NET Core, Microsoft Graph and CAP read them; a literal plus (a
/// time-zone offset, a signed number) is written `%2B`. One byte replaces
/// one byte, so error offsets still point into the string the client sent.
/// An error where the client wrote a `+` says so.
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
    let result = if raw.contains('+') {
        parse_encoded(&raw.replace('+', " "))
    } else {
        parse_encoded(raw)
    };
    result.map_err(|e| match e {
        QueryError::Parse(error, None) => {
            let hint = plus_near(raw, &error).then_some(PLUS_HINT);
            QueryError::Parse(error, hint)
        }
        other => other,
    })
}

/// What a parse error adds when the client wrote a `+` in the failing option.
pub(crate) const PLUS_HINT: &str = "a `+` in a query string is a space: write %2B for a plus sign (e.g. the time-zone offset 2026-01-01T10:00:00%2B01:00)";

/// Whether the option that failed to parse holds a raw `+`.
fn plus_near(raw: &str, error: &odata_parser::ParseError) -> bool {
    let at = error.offset.min(raw.len());
    let (before, after) = raw.split_at(raw.floor_char_boundary(at));
    let start = before.rfind('&').map_or(0, |i| i + 1);
    let end = after.find('&').map_or(raw.len(), |i| before.len() + i);
    raw[start..end].contains('+')
}

/// The text [`parse`] parsed for `raw`, the text the offsets of its
/// errors (and of the AST's spans) point into: `+` read as a space, the
/// reserved escapes decoded when that text parses, `%24` option names
/// written `$`. For error messages only: it parses again.
pub(crate) fn parsed_text(raw: &str) -> String {
    let text = raw.replace('+', " ");
    if let Some(decoded) = decode_reserved(&text)
        && parse_query(&decoded, &parser_options()).is_ok()
    {
        return decoded;
    }
    match parse_query(&text, &parser_options()) {
        Ok(options)
            if options.custom.iter().any(|c| {
                c.name
                    .get(..3)
                    .is_some_and(|p| p.eq_ignore_ascii_case("%24"))
            }) =>
        {
            dollar_option_names(&text)
        }
        _ => text,
    }
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
            parse_query(&dollar_option_names(text), &parser_options())
                .map_err(|e| QueryError::Parse(e, None))
        }
        result => result.map_err(|e| QueryError::Parse(e, None)),
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
    let reserved = |i: usize| match bytes.get(i..i + 3) {
        Some([b'%', b'2', b'f' | b'F']) => Some('/'),
        Some([b'%', b'2', b'4']) => Some('$'),
        Some([b'%', b'3', b'd' | b'D']) => Some('='),
        _ => None,
    };
    // Most query strings hold none: answer without copying them.
    let first = memchr::memchr_iter(b'%', bytes).find(|&i| reserved(i).is_some())?;
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..first]);
    let mut i = first;
    while i < bytes.len() {
        if let Some(c) = reserved(i) {
            out.push(c);
            i += 3;
            continue;
        }
        // Up to the next `%` (ASCII, so a character boundary).
        let next = memchr::memchr(b'%', &bytes[i + 1..]).map_or(bytes.len(), |j| i + 1 + j);
        out.push_str(&text[i..next]);
        i = next;
    }
    Some(out)
}

/// The canonical text of `options` for next links, without `$top`, `$skip`
/// and `$skiptoken` (the skiptoken carries what is left of them): the
/// options as `Display` prints them, made URL-safe (a space is `%20`, a
/// plus `%2B`; what the client percent-encoded stays encoded). The same
/// text is the fingerprint a skiptoken is bound to.
pub(crate) fn canonical_without_paging(options: &QueryOptions) -> String {
    let mut kept = options.clone();
    kept.top = None;
    kept.skip = None;
    kept.skiptoken = None;
    url_safe(&kept.to_string())
}

/// Characters of canonical option text written percent-encoded in a URL:
/// controls, space, `+` (a space in a query string), `#`, `"`, `<`, `>`,
/// `\`, `^`, `` ` ``, `{`, `|`, `}` and everything beyond ASCII. `%` stays:
/// the text's own escapes are kept as the client wrote them.
const IN_LINKS: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'+')
    .add(b'#')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

fn url_safe(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, IN_LINKS).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_characters_are_decoded_and_nothing_else() {
        for (text, decoded) in [
            ("$top=5", None),
            ("$filter=name%20eq%20'%C3%A9'", None),
            ("%", None),
            ("a%2", None),
            ("%24top=5", Some("$top=5")),
            ("%24top%3D5&x=%2f%2F%25%2Fé%3d", Some("$top=5&x=//%25/é=")),
            ("é%20%24", Some("é%20$")),
            ("ü%3D", Some("ü=")),
        ] {
            assert_eq!(decode_reserved(text).as_deref(), decoded, "{text}");
        }
    }

    #[test]
    fn next_links_carry_canonical_options_without_paging() {
        let q = parse("$filter=name+eq+'a%26b'&$top=5&%24skip=3&$SkipToken=abc&$select=id,name")
            .expect("parses");
        assert_eq!(
            canonical_without_paging(&q),
            "$filter=name%20eq%20'a%26b'&$select=id,name"
        );
        let q = parse("$filter=lastLogin%20ge%202026-01-01T00:00:00%2B01:00").expect("parses");
        assert_eq!(
            canonical_without_paging(&q),
            "$filter=lastLogin%20ge%202026-01-01T00:00:00%2B01:00"
        );
        // The same query written differently has the same canonical form.
        let a = parse("$filter=status%20eq%201&$orderby=name").expect("parses");
        let b = parse("$orderby=name&$filter=status+eq+1").expect("parses");
        assert_eq!(canonical_without_paging(&a), canonical_without_paging(&b));
    }

    #[test]
    fn an_unencoded_plus_gets_a_hint() {
        match parse("$filter=lastLogin+ge+2026-01-01T00:00:00+01:00") {
            Err(QueryError::Parse(_, Some(hint))) => assert_eq!(hint, PLUS_HINT),
            other => panic!("expected a parse error with the hint, got {other:?}"),
        }
        match parse("$filter=name%20eq") {
            Err(QueryError::Parse(_, None)) => {}
            other => panic!("expected a parse error without a hint, got {other:?}"),
        }
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
            Err(QueryError::Parse(e, _)) => e,
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
            Err(QueryError::Parse(e, _)) => e,
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
}
