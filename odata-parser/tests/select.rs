//! `$select`.

mod common;

use common::*;
use odata_parser::ast::*;
use odata_parser::parse_select;

fn parse(s: &str) -> Result<Select, odata_parser::ParseError> {
    parse_select(s, &opts())
}
fn verified(input: &str) -> Select {
    verified_with(parse, input)
}
fn fails_at(input: &str, offset: usize) {
    fails_at_with(parse, input, offset);
}

#[test]
fn properties_paths_and_star() {
    let s = verified("name,address/city,*");
    assert_eq!(s.items.len(), 3);
    assert!(matches!(s.items[2], SelectItem::Star(_)));
    let SelectItem::Path {
        segments, options, ..
    } = &s.items[1]
    else {
        panic!()
    };
    assert_eq!(segments.len(), 2);
    assert!(options.is_none());
    verified("Model.Manager/reports");
    verified("Model.*");
    verified("@Core.Messages");
    verified("Model.MostPopularName(Location,Kind)");
}

#[test]
fn nested_options() {
    let s = verified("addresses($filter=city eq 'Oslo';$top=2)");
    let SelectItem::Path {
        options: Some(o), ..
    } = &s.items[0]
    else {
        panic!()
    };
    assert_eq!(o.top.unwrap().value, 2);
    assert!(o.filter.is_some());
    verified("tags($orderby=$this desc;$skip=1;$count=true)");
    verified("a($select=b($select=c))");
    verified("a($search=blue)");
    verified("a($select=c;$compute=b add 1 as c)");
}

#[test]
fn errors() {
    fails_at("", 0);
    fails_at("a,", 2);
    fails_at("a/", 2);
    fails_at("a($top=x)", 7);
    fails_at("a($expand=b)", 2);
}
