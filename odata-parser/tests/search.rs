//! `$search`.

mod common;

use common::*;
use odata_parser::ast::*;
use odata_parser::parse_search;

fn parse(s: &str) -> Result<Search, odata_parser::ParseError> {
    parse_search(s, &opts())
}
fn verified(input: &str) -> Search {
    verified_with(parse, input)
}
fn parses_to(input: &str, canonical: &str) -> Search {
    parses_to_with(parse, input, canonical)
}
fn fails_at(input: &str, offset: usize) {
    fails_at_with(parse, input, offset);
}
fn shape(e: &SearchExpr) -> String {
    match e {
        SearchExpr::Term(t, _) => t.clone(),
        SearchExpr::Phrase(p, _) => format!("{p:?}"),
        SearchExpr::Not(x, _) => format!("(NOT {})", shape(x)),
        SearchExpr::And(a, b, _) => format!("(AND {} {})", shape(a), shape(b)),
        SearchExpr::Or(a, b, _) => format!("(OR {} {})", shape(a), shape(b)),
    }
}

#[test]
fn terms_phrases_and_precedence() {
    assert_eq!(shape(&verified("blue").expr), "blue");
    assert_eq!(shape(&verified("\"blue green\"").expr), "\"blue green\"");
    assert_eq!(
        shape(&parses_to("blue green", "blue AND green").expr),
        "(AND blue green)"
    );
    assert_eq!(shape(&verified("a OR b AND c").expr), "(OR a (AND b c))");
    assert_eq!(shape(&verified("NOT a AND b").expr), "(AND (NOT a) b)");
    assert_eq!(
        shape(&verified("(a OR b) AND NOT c").expr),
        "(AND (OR a b) (NOT c))"
    );
    assert_eq!(
        shape(&parses_to("blue NOT green", "blue AND NOT green").expr),
        "(AND blue (NOT green))"
    );
}

#[test]
fn operator_words_stand_alone() {
    // Lower-case operators are words; upper-case ones without an operand too.
    assert_eq!(
        shape(&parses_to("a and b", "a AND and AND b").expr),
        "(AND (AND a and) b)"
    );
    assert_eq!(shape(&parses_to("NOT", "(NOT)").expr), "NOT");
    assert_eq!(
        shape(&parses_to("AND OR NOT", "(AND) OR (NOT)").expr),
        "(OR AND NOT)"
    );
}

#[test]
fn encodings_and_incomplete_form() {
    parses_to("\"blue%20green\"", "\"blue%20green\"");
    parses_to("%22blue%22", "\"blue\"");
    parses_to("'\"blue'", "\"\\\"blue\"");
    verified("Daniel's");
    verified("%CE%94");
}

#[test]
fn errors() {
    fails_at("\"blue", 5);
    fails_at("a;b", 1);
    fails_at("#1", 0);
    fails_at("(a OR b", 7);
    fails_at("a OR )", 4);
}
