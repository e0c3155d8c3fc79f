//! `$expand`.

mod common;

use common::*;
use odata_parser::ast::*;
use odata_parser::{ErrorKind, Limit, ParserOptions, parse_expand};

fn parse(s: &str) -> Result<Expand, odata_parser::ParseError> {
    parse_expand(s, &opts())
}
fn verified(input: &str) -> Expand {
    verified_with(parse, input)
}
fn fails_at(input: &str, offset: usize) {
    fails_at_with(parse, input, offset);
}

#[test]
fn paths_star_ref_count() {
    let e = verified("roles,groups/members,*,manager/$ref,reports/$count");
    assert!(matches!(
        e.items[2].target,
        ExpandTarget::Star { is_ref: false }
    ));
    let ExpandTarget::Path { suffix, .. } = &e.items[3].target else {
        panic!()
    };
    assert_eq!(*suffix, ExpandSuffix::Ref);
    let ExpandTarget::Path { suffix, .. } = &e.items[4].target else {
        panic!()
    };
    assert_eq!(*suffix, ExpandSuffix::Count);
    verified("*/$ref");
    verified("*($levels=2)");
    verified("Address/*");
    verified("Model.Manager/reports");
    verified("@Namespace.EntityTerm($top=2)");
}

#[test]
fn nested_options() {
    let e = verified(
        "groups($filter=active eq true;$select=name;$orderby=name desc;$top=5;$skip=1;$count=true;$expand=members;$search=blue;$levels=max)",
    );
    let o = e.items[0].options.as_ref().unwrap();
    assert_eq!(o.levels, Some(Levels::Max));
    assert_eq!(o.top.unwrap().value, 5);
    verified("manager/$ref($filter=a eq 1;$top=2)");
    verified("reports/$count($filter=a eq 1)");
    verified("a($expand=b($expand=c($levels=3)))");
    verified("Items($select=Quantity;@c=15)");
    verified("Products($apply=aggregate(Price with average as AveragePrice))");
}

#[test]
fn options_not_allowed_after_ref_or_count() {
    fails_at("Customer/$ref($levels=4)", 14);
    fails_at("Customer/$ref($select=Name)", 14);
    fails_at("Items/$count($count=true)", 13);
    fails_at("Category($levels=04)", 17);
}

#[test]
fn expand_depth_limit() {
    let deep = "a($expand=".repeat(20) + "b" + &")".repeat(20);
    let err = parse_expand(
        &deep,
        &ParserOptions {
            max_expand_depth: 5,
            ..ParserOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::LimitExceeded(Limit::ExpandDepth));
    assert!(parse_expand(&("a($expand=".repeat(4) + "b" + &")".repeat(4)), &opts()).is_ok());
}

#[test]
fn errors() {
    fails_at("", 0);
    fails_at("a(", 2);
    fails_at("a($filter=)", 10);
    fails_at("a,,b", 2);
}
