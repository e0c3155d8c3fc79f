//! No panic on any input, and print/parse stability: whatever parses
//! prints to canonical text that parses to the same AST and prints the same.
#![no_main]

use std::fmt::{Debug, Display};

use libfuzzer_sys::fuzz_target;
use odata_parser::{ParseError, ParserOptions};

fn roomy() -> ParserOptions {
    ParserOptions {
        max_input_len: 1 << 20,
        max_nodes: 1 << 20,
        max_depth: 1000,
        ..ParserOptions::default()
    }
}

fn stable<T: Display + PartialEq + Debug>(
    input: &str,
    parse: impl Fn(&str, &ParserOptions) -> Result<T, ParseError>,
) {
    let Ok(ast) = parse(input, &ParserOptions::default()) else {
        return;
    };
    let printed = ast.to_string();
    let again = match parse(&printed, &roomy()) {
        Ok(a) => a,
        Err(e) => panic!("input {input:?} printed as {printed:?}, which does not parse: {e}"),
    };
    assert_eq!(
        again, ast,
        "input {input:?} printed as {printed:?} parses differently"
    );
    assert_eq!(
        again.to_string(),
        printed,
        "printing is not stable for {input:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    // The first byte picks the entry point, so one corpus covers all of them.
    let (sel, rest) = match s.as_bytes().first() {
        Some(b) if b.is_ascii() => (*b, &s[1..]),
        _ => (0, s),
    };
    match sel % 8 {
        0 => stable(rest, odata_parser::parse_query),
        1 => stable(rest, odata_parser::parse_filter),
        2 => stable(rest, odata_parser::parse_search),
        3 => stable(rest, odata_parser::parse_apply),
        4 => stable(rest, odata_parser::parse_expand),
        5 => stable(rest, odata_parser::parse_select),
        6 => stable(rest, odata_parser::parse_resource_path),
        _ => stable(rest, odata_parser::parse_orderby),
    }
});
