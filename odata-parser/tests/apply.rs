//! `$apply` (Data Aggregation).

mod common;

use common::*;
use odata_parser::ast::*;
use odata_parser::parse_apply;

fn parse(s: &str) -> Result<Apply, odata_parser::ParseError> {
    parse_apply(s, &opts())
}
fn verified(input: &str) -> Apply {
    verified_with(parse, input)
}
fn parses_to(input: &str, canonical: &str) -> Apply {
    parses_to_with(parse, input, canonical)
}
fn fails_at(input: &str, offset: usize) {
    fails_at_with(parse, input, offset);
}

#[test]
fn aggregate_items() {
    let a = verified("aggregate(Amount with sum as Total,$count as N)");
    let Transformation::Aggregate(items, _) = &a.pipeline[0] else {
        panic!()
    };
    let AggregateItem::Expr { with, alias, .. } = &items[0] else {
        panic!()
    };
    assert_eq!(with.as_ref().unwrap().name, "sum");
    assert_eq!(alias.as_ref().unwrap().name, "Total");
    assert!(matches!(items[1], AggregateItem::Count { .. }));
    verified("aggregate(Amount with average from Time with max as MaxDailyAverage)");
    verified("aggregate(Amount with sum from Time,Product/Name with max as X)");
    verified("aggregate(Customer with countdistinct as Customers)");
    verified("aggregate(Amount with Custom.median as Median)");
    verified("aggregate(Forecast)");
    verified("aggregate(Forecast as F)");
    verified("aggregate(Sales/$count as SalesCount)");
}

#[test]
fn pipelines() {
    let a = verified(
        "filter(Amount gt 1)/groupby((Customer/Country,Product),aggregate(Amount with sum as Total))/orderby(Total desc)/top(3)",
    );
    assert_eq!(a.pipeline.len(), 4);
    let Transformation::GroupBy {
        groupings, then, ..
    } = &a.pipeline[1]
    else {
        panic!()
    };
    assert_eq!(groupings.len(), 2);
    assert_eq!(then.len(), 1);
    verified("groupby((rollup(Year,Month,Day),Product))");
    verified("groupby((rollup($all,Year,Month)))");
    verified("skip(2)/top(3)/identity");
    verified("search(blue OR green)");
    verified("compute(Amount mul 2 as Double)/filter(Double gt 3)");
    verified("concat(groupby((Region)),aggregate(Amount with sum as Total))");
    verified("topcount(2,Amount)");
    verified("bottompercent(50,Amount)");
    verified("nest(filter(Amount gt 3) as Big)");
    verified("addnested(Sales,filter(Amount gt 3) as FilteredSales)");
    verified("join(Sales as Sale,filter(Amount gt 3))");
    verified("outerjoin(Sales as Sale)");
    verified(
        "ancestors($root/SalesOrganizations,SalesOrgHierarchy,ID,filter(ID eq 'US'),keep start)",
    );
    verified("descendants($root/SalesOrganizations,SalesOrgHierarchy,ID,filter(ID eq 'US'),1)");
    verified(
        "traverse($root/SalesOrganizations,SalesOrgHierarchy,ID,preorder,filter(a eq 1),Name desc)",
    );
    verified(
        "groupby((rolluprecursive($root/SalesOrganizations,SalesOrgHierarchy,SalesOrganization/ID)))",
    );
    verified("Custom.condense(level=2)");
    parses_to(
        "groupby( (Customer) , aggregate( Amount with sum as Total ) )",
        "groupby((Customer),aggregate(Amount with sum as Total))",
    );
}

#[test]
fn aggregate_in_expressions() {
    verified("filter(Sales/aggregate(Amount with sum) gt 5)");
    verified("compute(Amount div $these/aggregate(Amount with sum) as Share)");
}

#[test]
fn errors() {
    fails_at("aggregate()", 10);
    fails_at("aggregate(Amount with sum)", 25);
    fails_at("aggregate($count with sum as N)", 17);
    fails_at("aggregate(Amount with average from Time as X)", 40);
    fails_at("groupby((Product/Self.DigitalProduct))", 36);
    fails_at("unknown(1)", 0);
    fails_at("top(x)", 4);
}
