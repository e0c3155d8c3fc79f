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
pub(crate) fn parse(raw: &str) -> Result<QueryOptions, QueryError> {
    parse_query(raw, &parser_options()).map_err(QueryError::Parse)
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
    fn options_have_offsets() {
        let opts = raw_options("a=1&&$top=2");
        assert_eq!(opts.len(), 2);
        assert_eq!(opts[1].name, "$top");
        assert_eq!(opts[1].offset, 5);
    }
}
