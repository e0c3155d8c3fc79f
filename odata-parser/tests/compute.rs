//! `$compute`.

mod common;

use common::*;
use odata_parser::ast::*;
use odata_parser::parse_compute;

fn parse(s: &str) -> Result<Compute, odata_parser::ParseError> {
    parse_compute(s, &opts())
}
fn verified(input: &str) -> Compute {
    verified_with(parse, input)
}
fn fails_at(input: &str, offset: usize) {
    fails_at_with(parse, input, offset);
}

#[test]
fn items() {
    let c = verified("Price mul Quantity as Total,year(Born) as BornYear");
    assert_eq!(c.items.len(), 2);
    assert_eq!(c.items[1].alias.name, "BornYear");
    parses_to_with(
        parse,
        "case(X gt 0:1,X lt 0:-1,true:0) as SignumX",
        "case(X gt 0 : 1,X lt 0 : -1,true : 0) as SignumX",
    );
    verified("@Core.Messages as Msgs");
}

#[test]
fn errors() {
    fails_at("Price", 5);
    fails_at("Price as", 8);
    fails_at("Price as 1", 9);
}
