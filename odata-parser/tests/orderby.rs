//! `$orderby`.

mod common;

use common::*;
use odata_parser::ast::*;
use odata_parser::parse_orderby;

fn parse(s: &str) -> Result<OrderBy, odata_parser::ParseError> {
    parse_orderby(s, &opts())
}
fn verified(input: &str) -> OrderBy {
    verified_with(parse, input)
}
fn parses_to(input: &str, canonical: &str) -> OrderBy {
    parses_to_with(parse, input, canonical)
}
fn fails_at(input: &str, offset: usize) {
    fails_at_with(parse, input, offset);
}

#[test]
fn directions() {
    let o = verified("name desc,age,created asc");
    assert_eq!(o.items[0].direction, Some(SortDirection::Desc));
    assert_eq!(o.items[1].direction, None);
    assert_eq!(o.items[2].direction, Some(SortDirection::Asc));
    parses_to("name DESC", "name desc");
    parses_to("name%20desc", "name desc");
}

#[test]
fn any_expression() {
    verified("length(name) desc");
    verified("a add b");
    verified("roles/$count desc");
    verified("isdefined(Product) desc,Product asc");
}

#[test]
fn errors() {
    fails_at("name sideways", 5);
    fails_at("name,", 5);
    fails_at("name desc desc", 9);
}
