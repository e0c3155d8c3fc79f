//! Whole query strings.

mod common;

use common::*;
use odata_parser::ast::*;
use odata_parser::{ErrorKind, parse_query};

fn parse(s: &str) -> Result<QueryOptions, odata_parser::ParseError> {
    parse_query(s, &opts())
}
fn verified(input: &str) -> QueryOptions {
    verified_with(parse, input)
}
fn parses_to(input: &str, canonical: &str) -> QueryOptions {
    parses_to_with(parse, input, canonical)
}
fn fails_at(input: &str, offset: usize) -> odata_parser::ParseError {
    fails_at_with(parse, input, offset)
}

#[test]
fn all_options() {
    let q = verified(
        "$filter=a eq 1&$select=a,b&$orderby=a desc&$top=10&$skip=20&$count=true&$expand=c&$search=blue&$compute=a add 1 as b&$apply=groupby((a))&$skiptoken=abc&$deltatoken=def&$format=json&$schemaversion=2.0&$index=-1&$id=http://h/x",
    );
    assert_eq!(q.top.unwrap().value, 10);
    assert_eq!(q.skip.unwrap().value, 20);
    assert_eq!(q.index.unwrap().value, -1);
    assert_eq!(q.format.unwrap().value, "json");
    assert!(q.count.unwrap().value);
    assert_eq!(parse("").unwrap(), QueryOptions::default());
}

#[test]
fn names_are_case_insensitive_and_dollar_is_optional() {
    parses_to("$FILTER=a eq 1&Top=2", "$filter=a eq 1&$top=2");
    parses_to(
        "$format=application/json;odata.metadata=minimal",
        "$format=application/json;odata.metadata=minimal",
    );
}

#[test]
fn inlinecount_is_read_as_count() {
    let q = parses_to("$inlinecount=allpages", "$count=true");
    assert!(q.count.unwrap().value);
    let q = parses_to("$inlinecount=none", "$count=false");
    assert!(!q.count.unwrap().value);
    fails_at("$inlinecount=some", 13);
}

#[test]
fn aliases_and_custom_options() {
    let q = verified("$filter=Name eq @n&@n='x'&debug=1&flag");
    assert_eq!(q.aliases[0].name.name, "n");
    assert_eq!(
        q.custom[0],
        CustomOption {
            name: "debug".into(),
            value: Some("1".into()),
            span: Span::default()
        }
    );
    assert_eq!(q.custom[1].value, None);
    verified("@c=[\"red\",\"green\"]");
    verified("colors=[\"red\"]");
}

#[test]
fn duplicates_and_unknown_options_are_errors() {
    let e = fails_at("$top=1&$top=2", 7);
    assert_eq!(e.kind, ErrorKind::DuplicateOption);
    let e = fails_at("$top=1&top=2", 7);
    assert_eq!(e.kind, ErrorKind::DuplicateOption);
    let e = fails_at("$top=1&$foo=2", 7);
    assert_eq!(e.kind, ErrorKind::UnknownOption);
    let e = fails_at("$levels=2", 0);
    assert_eq!(e.kind, ErrorKind::UnknownOption);
}

#[test]
fn top_and_skip_overflow() {
    assert_eq!(
        parse("$top=18446744073709551615")
            .unwrap()
            .top
            .unwrap()
            .value,
        u64::MAX
    );
    let e = fails_at("$top=18446744073709551616", 5);
    assert_eq!(e.kind, ErrorKind::IntegerOverflow);
    let e = fails_at("$skip=99999999999999999999999", 6);
    assert_eq!(e.kind, ErrorKind::IntegerOverflow);
    fails_at("$top=-1", 5);
    fails_at("$top=", 5);
}

#[test]
fn offsets_are_into_the_whole_query() {
    let e = fails_at("$top=1&$filter=a eq", 19);
    assert_eq!(e.option.as_deref(), Some("$filter"));
    let q = parse("$top=1&$filter=a eq 1").unwrap();
    assert_eq!(q.filter.unwrap().span.start, 15);
    fails_at("$count", 6);
    fails_at("$search=#1", 8);
    fails_at("$filter=a eq 1&", 15);
    fails_at("$filter =true", 7);
}
