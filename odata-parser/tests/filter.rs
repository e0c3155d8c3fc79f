//! `$filter` expressions: operators, literals, functions, paths, lambdas.

mod common;

use common::*;
use odata_parser::ast::*;
use odata_parser::{ErrorKind, parse_filter};

fn parse(s: &str) -> Result<Expr, odata_parser::ParseError> {
    parse_filter(s, &opts())
}
fn verified(input: &str) -> Expr {
    verified_with(parse, input)
}
fn parses_to(input: &str, canonical: &str) -> Expr {
    parses_to_with(parse, input, canonical)
}
fn fails_at(input: &str, offset: usize) -> odata_parser::ParseError {
    fails_at_with(parse, input, offset)
}
fn shape(input: &str) -> String {
    sexpr(&parse(input).unwrap_or_else(|e| panic!("{}", e.render(input))))
}
fn lit(input: &str) -> Literal {
    match verified(input).kind {
        ExprKind::Literal(l) => l,
        k => panic!("{input:?} is not a literal: {k:?}"),
    }
}

#[test]
fn logical_operators_bind_or_loosest() {
    assert_eq!(
        shape("a eq 1 or b eq 2 and c eq 3"),
        "(or (eq a 1) (and (eq b 2) (eq c 3)))"
    );
    assert_eq!(shape("a or b or c"), "(or (or a b) c)");
    assert_eq!(shape("(a or b) and c"), "(and (or a b) c)");
    verified("(a or b) and c");
    verified("a or b and c");
    parses_to("((a or b)) and (c)", "(a or b) and c");
}

#[test]
fn comparison_and_arithmetic_precedence() {
    assert_eq!(shape("a add b mul c eq d"), "(eq (add a (mul b c)) d)");
    assert_eq!(shape("a sub b sub c"), "(sub (sub a b) c)");
    assert_eq!(shape("a sub (b sub c)"), "(sub a (sub b c))");
    verified("a sub (b sub c)");
    assert_eq!(
        shape("a div b divby c mod d"),
        "(mod (divby (div a b) c) d)"
    );
    assert_eq!(shape("a lt b eq true"), "(eq (lt a b) true)");
    assert_eq!(
        shape("Style has Sales.Color'Yellow' eq true"),
        "(eq (has Style Sales.Color'Yellow') true)"
    );
    for op in [
        "eq", "ne", "gt", "ge", "lt", "le", "add", "sub", "mul", "div", "divby", "mod",
    ] {
        verified(&format!("Price {op} 5"));
    }
}

#[test]
fn keywords_are_case_insensitive_but_null_is_not() {
    parses_to("Name EQ 'x' AND Age Gt 3", "Name eq 'x' and Age gt 3");
    parses_to("NOT Active", "not Active");
    assert!(matches!(
        verified("null").kind,
        ExprKind::Literal(Literal::Null)
    ));
    // `NULL` is an identifier, not the null literal.
    assert!(matches!(parse("NULL").unwrap().kind, ExprKind::Path(_)));
    parses_to("TRUE", "true");
    assert_eq!(lit("false"), Literal::Boolean(false));
}

#[test]
fn a_property_named_not_prints_in_parentheses() {
    // Fuzz finding: `(NOT) OR b` printed as `NOT or b`, which reads `not` as
    // the operator.
    parses_to("(NOT) OR b", "(NOT) or b");
    parses_to("(not) eq true", "(not) eq true");
    verified("NOT/x eq 1");
    parses_to("not (Not)", "not (Not)");
}

#[test]
fn not_and_negation_bind_tighter_than_binary_operators() {
    assert_eq!(shape("not a eq b"), "(eq (not a) b)");
    assert_eq!(shape("not (a eq b)"), "(not (eq a b))");
    verified("not (a eq b)");
    verified("not contains(Name,'x')");
    assert_eq!(shape("-a add b"), "(add (neg a) b)");
    assert_eq!(shape("- (a add b)"), "(neg (add a b))");
    verified("-(a add b)");
    verified("not not a");
    verified("--a");
    // `-5` is a literal, `-(5)` a negation.
    assert_eq!(lit("-5"), Literal::Integer(-5));
    assert_eq!(shape("-(5)"), "(neg 5)");
    verified("-(5)");
    assert_eq!(shape("a sub -5"), "(sub a -5)");
    // Found by fuzzing: `-INF` is a literal only as a whole word.
    assert_eq!(lit("-INF"), Literal::Double("-INF".into()));
    parses_to("-\tINF1a/all(x:x)", "-(INF1a/all(x:x))");
    parses_to("-INFx eq 1", "-(INFx) eq 1");
}

#[test]
fn in_operator_with_lists_arrays_aliases_and_paths() {
    assert_eq!(shape("Name in ('a','b')"), "(in Name ['a' 'b'])");
    verified("Name in ('a','b')");
    parses_to("Name in ( 'a' , 'b' )", "Name in ('a','b')");
    verified("Id in (1)");
    verified("Id in ()");
    verified("Name in [\"Milk\",\"Cheese\"]");
    verified("Name in @names");
    verified("Name in Allowed/Names");
    assert_eq!(
        shape("a add 1 in (2,3) and b"),
        "(and (in (add a 1) [2 3]) b)"
    );
    // A list holds literals only; a parenthesised expression is not a list.
    let e = verified("Name in Other");
    assert!(matches!(e.kind, ExprKind::In(_)));
    parses_to("Name in (Other)", "Name in Other");
}

#[test]
fn lists_only_right_of_in() {
    fails_at("Name eq ('a','b')", 12);
    fails_at("FirstName in (FirstName,LastName)", 23);
}

#[test]
fn every_literal_kind() {
    assert_eq!(lit("42"), Literal::Integer(42));
    assert_eq!(lit("-9223372036854775808"), Literal::Integer(i64::MIN));
    assert_eq!(
        lit("9223372036854775808"),
        Literal::Decimal("9223372036854775808".into())
    );
    assert_eq!(lit("3.14"), Literal::Decimal("3.14".into()));
    assert_eq!(lit("-0.5e-3"), Literal::Double("-0.5e-3".into()));
    assert_eq!(lit("NaN"), Literal::Double("NaN".into()));
    assert_eq!(lit("INF"), Literal::Double("INF".into()));
    assert_eq!(lit("-INF"), Literal::Double("-INF".into()));
    assert_eq!(lit("'O''Neil'"), Literal::String("O'Neil".into()));
    assert_eq!(lit("'caf%C3%A9'"), Literal::String("caf%C3%A9".into()));
    assert_eq!(lit("2026-11-29"), Literal::Date("2026-11-29".into()));
    assert_eq!(
        lit("2026-11-29T10:00:00Z"),
        Literal::DateTimeOffset("2026-11-29T10:00:00Z".into())
    );
    assert_eq!(
        lit("2026-11-29T10:00:00.123+01:00"),
        Literal::DateTimeOffset("2026-11-29T10:00:00.123+01:00".into())
    );
    assert_eq!(lit("10:00:00.5"), Literal::TimeOfDay("10:00:00.5".into()));
    assert_eq!(lit("duration'P1DT2H'"), Literal::Duration("P1DT2H".into()));
    assert_eq!(
        lit("01234567-89ab-cdef-0123-456789abcdef"),
        Literal::Guid("01234567-89ab-cdef-0123-456789abcdef".into())
    );
    assert_eq!(
        lit("abcdef01-2345-6789-abcd-ef0123456789"),
        Literal::Guid("abcdef01-2345-6789-abcd-ef0123456789".into())
    );
    assert_eq!(lit("binary'T0RhdGE'"), Literal::Binary("T0RhdGE".into()));
    assert_eq!(
        lit("Sales.Pattern'Yellow,32'"),
        Literal::Enum {
            type_name: "Sales.Pattern".into(),
            value: "Yellow,32".into()
        }
    );
    assert_eq!(
        lit("geography'SRID=0;Point(142.1 64.1)'"),
        Literal::Geo {
            geography: true,
            text: "SRID=0;Point(142.1 64.1)".into()
        }
    );
    verified("geometry'SRID=0;Polygon((1 1,2 2,3 3,1 1))'");
    verified("geography'SRID=4326;MultiPoint()'");
    // Encoded twins are normalised in date/time texts.
    parses_to("10%3A00", "10:00");
    parses_to("%27a%27", "'a'");
}

#[test]
fn invalid_literals() {
    fails_at("42.", 3);
    fails_at("2011-13-01", 5);
    fails_at("24:00", 0);
    fails_at("'unterminated", 13);
    fails_at("duration'P1Y'", 10);
    fails_at("binary'X'", 8);
    fails_at("01234g67-89ab-cdef-0123-456789abcdef", 5);
}

#[test]
fn builtin_functions() {
    for f in [
        "contains(Name,'a')",
        "endswith(Name,'a')",
        "startswith(Name,'a')",
        "length(Name) eq 3",
        "indexof(Name,'a') eq 1",
        "substring(Name,1) eq 'x'",
        "substring(Name,1,2) eq 'x'",
        "matchespattern(Name,'%5EA.*e$')",
        "tolower(Name) eq 'a'",
        "toupper(Name) eq 'A'",
        "trim(Name) eq 'a'",
        "concat(concat(First,' '),Last) eq 'A B'",
        "year(Born) eq 2000",
        "month(Born) eq 1",
        "day(Born) eq 1",
        "hour(At) eq 1",
        "minute(At) eq 1",
        "second(At) eq 1",
        "fractionalseconds(At) lt 0.1",
        "totalseconds(Wait) gt 3",
        "date(At) eq 2020-01-01",
        "time(At) le 10:00",
        "totaloffsetminutes(At) eq 60",
        "now() gt At",
        "mindatetime() lt At",
        "maxdatetime() gt At",
        "round(Price) eq 3",
        "floor(Price) eq 3",
        "ceiling(Price) eq 3",
        "isof(Model.Manager)",
        "isof(Boss,Model.Manager)",
        "cast(Age,Edm.String) eq '3'",
        "cast(Collection(Edm.String))",
        "geo.distance(Location,geography'SRID=0;Point(1 2)') lt 10",
        "geo.length(Route) gt 3",
        "geo.intersects(Location,Area)",
        "hassubset(Tags,['a','b'])",
        "hassubsequence(Tags,['a','b'])",
    ] {
        verified(f);
    }
    // Names match case-insensitively and are stored in lower case.
    let e = parses_to("Contains(Name,'a')", "contains(Name,'a')");
    let ExprKind::Call(c) = e.kind else { panic!() };
    assert_eq!(c.name.name, "contains");
    parses_to("matchesPattern(Name,'x')", "matchespattern(Name,'x')");
    parses_to(
        "case(X gt 0:1,X lt 0:-1,true:0) eq 1",
        "case(X gt 0 : 1,X lt 0 : -1,true : 0) eq 1",
    );
    // Found by fuzzing: `20:1` would read back as a time of day.
    parses_to("case(a eq 20 : 1)", "case(a eq 20 : 1)");
    parses_to("contains( Name , 'a' )", "contains(Name,'a')");
}

#[test]
fn function_arity_is_checked() {
    fails_at("contains(Name)", 13);
    fails_at("length(Name,'a')", 11);
    fails_at("now(1)", 4);
}

#[test]
fn member_paths_casts_keys_and_roots() {
    verified("roles/roleKey eq 'admin'");
    verified("Model.Manager/Reports/$count gt 2");
    verified("$it/Name eq 'x'");
    verified("$it eq 'x'");
    verified("$this eq 'x'");
    verified("$root/Users('x')/name eq name");
    verified("Orders(1)/Amount gt 5");
    verified("Orders(Id=1,Ver=2)/Amount gt 5");
    verified("Products/Model.ProductsByColor(color='red')/$count gt 1");
    verified("Price/@Measures.Currency eq 'EUR'");
    verified("Addresses/$filter(endswith(Street,'St'))/$count lt 10");
    let e = verified("a/Model.Derived/b eq 1");
    let ExprKind::Binary(b) = e.kind else {
        panic!()
    };
    let ExprKind::Path(p) = &b.left.kind else {
        panic!()
    };
    assert!(matches!(p.segments[1], PathSegment::TypeCast(_)));
    // A type cast alone is not an expression.
    fails_at("Model.Available", 15);
}

#[test]
fn lambdas() {
    let e = verified("roles/any(r:r/roleKey eq 'admin')");
    let ExprKind::Lambda(l) = e.kind else {
        panic!()
    };
    assert_eq!(l.kind, LambdaKind::Any);
    assert_eq!(l.variable.unwrap().name, "r");
    verified("roles/all(r:r/active)");
    verified("roles/any()");
    verified("a/any(x:x/b/all(y:y/c eq x/d))");
    parses_to("roles/ANY( r : r/active )", "roles/any(r:r/active)");
    fails_at("roles/all()", 10);
    fails_at("any(x:true)", 4);
}

#[test]
fn path_count_with_nested_options() {
    verified("Orders/$count gt 2");
    verified("Orders/$count($filter=Amount gt 5) gt 2");
    verified("Orders/$count($filter=Amount gt 5;$search=blue) gt 2");
    parses_to(
        "Orders/$count($search=blue;$filter=Amount gt 5) gt 2",
        "Orders/$count($filter=Amount gt 5;$search=blue) gt 2",
    );
}

#[test]
fn aliases_and_json() {
    verified("Name eq @p");
    verified("contains(Name,@word)");
    verified("Address eq {\"Street\":\"NE 40th\",\"City\":\"Redmond\"}");
    verified("[\"a\",1,true,null,[],{}] eq x");
    verified("{\"n\":[FirstName,LastName]} eq x");
    parses_to("[ \"a\" , 1 ]", "[\"a\",1]");
    parses_to("%5B%22a%22%5D", "[\"a\"]");
    // Found by fuzzing: characters a URL cannot carry raw are escaped.
    parses_to("[\"a\\u003Eb%25\"]", "[\"a\\u003eb\\u002525\"]");
    let e = parse("[\"a\\\"b\\u0041\"]").unwrap();
    assert_eq!(
        e.kind,
        ExprKind::Json(JsonValue::Array(vec![JsonValue::String("a\"bA".into())]))
    );
}

#[test]
fn whitespace_forms() {
    parses_to("a%20eq%201", "a eq 1");
    parses_to("a\teq\t1", "a eq 1");
    parses_to("a  eq   1", "a eq 1");
    // Operators need whitespace on both sides.
    fails_at("a eq1", 2);
    fails_at("a eq 1 ", 7);
}

#[test]
fn spans_point_into_the_input() {
    let e = parse("a eq (b)").unwrap();
    assert_eq!((e.span.start, e.span.end), (0, 8));
    let ExprKind::Binary(b) = e.kind else {
        panic!()
    };
    assert_eq!((b.op_span.start, b.op_span.end), (2, 4));
    assert_eq!((b.right.span.start, b.right.span.end), (5, 8));
}

#[test]
fn error_details() {
    let e = fails_at("a eq (b", 7);
    assert_eq!(e.kind, ErrorKind::UnexpectedEnd);
    assert!(e.expected.contains(&"')'".to_string()), "{:?}", e.expected);
    assert_eq!(e.option.as_deref(), Some("$filter"));
    fails_at("", 0);
    fails_at("a eq", 4);
    fails_at("contains(a,", 11);
    fails_at("a eq 'x' xor b", 9);
}
