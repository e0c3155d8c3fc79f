//! Rendered errors (insta snapshots in `tests/snapshots/`).

use odata_parser::{ParserOptions, parse_filter, parse_query};

fn query_error(q: &str) -> String {
    parse_query(q, &ParserOptions::default())
        .unwrap_err()
        .render(q)
}

#[test]
fn missing_operand() {
    insta::assert_snapshot!(query_error("$filter=name eq"));
}

#[test]
fn unclosed_parenthesis() {
    insta::assert_snapshot!(query_error("$top=5&$filter=(a eq 1 or b eq 2"));
}

#[test]
fn bad_literal() {
    insta::assert_snapshot!(query_error("$filter=born lt 2011-13-01"));
}

#[test]
fn unknown_option() {
    insta::assert_snapshot!(query_error("$filter=a eq 1&$fitler=b eq 2"));
}

#[test]
fn duplicate_option() {
    insta::assert_snapshot!(query_error("$top=1&$TOP=2"));
}

#[test]
fn top_overflow() {
    insta::assert_snapshot!(query_error("$top=99999999999999999999"));
}

#[test]
fn expand_option_after_ref() {
    insta::assert_snapshot!(query_error("$expand=manager/$ref($select=name)"));
}

#[test]
fn long_input_is_cut_around_the_offset() {
    let q = format!(
        "$filter={} and",
        (0..40)
            .map(|i| format!("a eq {i}"))
            .collect::<Vec<_>>()
            .join(" or ")
    );
    insta::assert_snapshot!(query_error(&q));
}

#[test]
fn depth_limit() {
    let f = "(".repeat(200) + "a" + &")".repeat(200);
    insta::assert_snapshot!(
        parse_filter(&f, &ParserOptions::default())
            .unwrap_err()
            .render(&f)
    );
}
