//! Property tests: generated ASTs print and re-parse to the same AST.

use odata_parser::ast::*;
use odata_parser::{ParserOptions, parse_filter, parse_query, parse_search};
use proptest::prelude::*;

const RESERVED: &[&str] = &[
    "not",
    "and",
    "or",
    "eq",
    "ne",
    "gt",
    "ge",
    "lt",
    "le",
    "has",
    "in",
    "add",
    "sub",
    "mul",
    "div",
    "divby",
    "mod",
    "null",
    "true",
    "false",
    "nan",
    "inf",
    "any",
    "all",
    "asc",
    "desc",
    "as",
    "with",
    "from",
    "duration",
    "binary",
    "geography",
    "geometry",
    "contains",
    "length",
    "now",
    "concat",
    "cast",
    "isof",
    "case",
];

fn sp() -> Span {
    Span::default()
}

fn ident() -> impl Strategy<Value = Ident> {
    "[a-zA-Z_][a-zA-Z0-9_]{0,7}"
        .prop_filter("not a keyword", |s| {
            let l = s.to_ascii_lowercase();
            !RESERVED.contains(&l.as_str()) && !l.starts_with("inf")
        })
        .prop_map(|name| Ident { name, span: sp() })
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        Just(Literal::Null),
        any::<bool>().prop_map(Literal::Boolean),
        any::<i64>().prop_map(Literal::Integer),
        (any::<bool>(), 0u32..100000, 0u32..1000).prop_map(|(neg, i, f)| Literal::Decimal(
            format!("{}{i}.{f}", if neg { "-" } else { "" })
        )),
        (0u32..1000, 0u32..100, -30i32..30)
            .prop_map(|(i, f, e)| Literal::Double(format!("{i}.{f}e{e}"))),
        prop_oneof![Just("NaN"), Just("INF"), Just("-INF")].prop_map(|s| Literal::Double(s.into())),
        "[a-zA-Z0-9 '!*()+,;$=:@~._-]{0,12}".prop_map(Literal::String),
        (1000u32..9999, 1u32..13, 1u32..29)
            .prop_map(|(y, m, d)| Literal::Date(format!("{y}-{m:02}-{d:02}"))),
        (1000u32..9999, 1u32..13, 1u32..29, 0u32..24, 0u32..60).prop_map(|(y, m, d, h, mi)| {
            Literal::DateTimeOffset(format!("{y}-{m:02}-{d:02}T{h:02}:{mi:02}:00Z"))
        }),
        (0u32..24, 0u32..60, 0u32..60)
            .prop_map(|(h, m, s)| Literal::TimeOfDay(format!("{h:02}:{m:02}:{s:02}"))),
        (0u32..100, 0u32..24).prop_map(|(d, h)| Literal::Duration(format!("P{d}DT{h}H"))),
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}".prop_map(Literal::Guid),
        "([A-Za-z0-9_-]{4}){0,3}".prop_map(Literal::Binary),
        (ident(), ident()).prop_map(|(t, m)| Literal::Enum {
            type_name: format!("Ns.{}", t.name),
            value: m.name
        }),
        (any::<bool>(), -90i32..90, -90i32..90).prop_map(|(g, x, y)| Literal::Geo {
            geography: g,
            text: format!("SRID=0;Point({x} {y})")
        }),
    ]
}

fn member_path() -> impl Strategy<Value = MemberPath> {
    (
        prop_oneof![3 => Just(PathRoot::Implicit), 1 => Just(PathRoot::It), 1 => Just(PathRoot::This)],
        prop::collection::vec(ident(), 1..4),
    )
        .prop_map(|(root, names)| MemberPath {
            root,
            segments: names.into_iter().map(|name| PathSegment::Member { name, key: None }).collect(),
            span: sp(),
        })
}

fn e(kind: ExprKind) -> Expr {
    Expr { kind, span: sp() }
}

fn json() -> impl Strategy<Value = JsonValue> {
    let leaf = prop_oneof![
        Just(JsonValue::Null),
        any::<bool>().prop_map(JsonValue::Bool),
        any::<i32>().prop_map(|i| JsonValue::Number(i.to_string())),
        "[a-zA-Z0-9 :/\"\\\\]{0,8}".prop_map(JsonValue::String),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(JsonValue::Array),
            prop::collection::vec(("[a-z@.]{0,6}", inner), 0..3).prop_map(JsonValue::Object),
        ]
    })
}

const OPS: &[BinaryOp] = &[
    BinaryOp::Or,
    BinaryOp::And,
    BinaryOp::Eq,
    BinaryOp::Ne,
    BinaryOp::Gt,
    BinaryOp::Ge,
    BinaryOp::Lt,
    BinaryOp::Le,
    BinaryOp::Has,
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::DivBy,
    BinaryOp::Mod,
];

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        3 => literal().prop_map(|l| e(ExprKind::Literal(l))),
        3 => member_path().prop_map(|p| e(ExprKind::Path(p))),
        1 => ident().prop_map(|a| e(ExprKind::Alias(a))),
        1 => json().prop_filter("arrays and objects only", |j| matches!(j, JsonValue::Array(_) | JsonValue::Object(_)))
            .prop_map(|j| e(ExprKind::Json(j))),
    ];
    leaf.prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            4 => (0..OPS.len(), inner.clone(), inner.clone()).prop_map(|(i, l, r)| e(ExprKind::Binary(Binary {
                op: OPS[i],
                op_span: sp(),
                left: Box::new(l),
                right: Box::new(r),
            }))),
            1 => (any::<bool>(), inner.clone()).prop_map(|(not, x)| e(ExprKind::Unary(Unary {
                op: if not { UnaryOp::Not } else { UnaryOp::Neg },
                operand: Box::new(x),
            }))),
            1 => (inner.clone(), prop::collection::vec(literal(), 0..4)).prop_map(|(x, items)| e(ExprKind::In(In {
                expr: Box::new(x),
                list: Box::new(e(ExprKind::List(items.into_iter().map(|l| e(ExprKind::Literal(l))).collect()))),
            }))),
            1 => (inner.clone(), inner.clone()).prop_map(|(a, b)| e(ExprKind::Call(Call {
                name: Ident { name: "contains".into(), span: sp() },
                args: vec![a, b],
            }))),
            1 => inner.clone().prop_map(|a| e(ExprKind::Call(Call {
                name: Ident { name: "tolower".into(), span: sp() },
                args: vec![a],
            }))),
            1 => Just(e(ExprKind::Call(Call { name: Ident { name: "now".into(), span: sp() }, args: vec![] }))),
            1 => (member_path(), any::<bool>(), ident(), inner.clone()).prop_map(|(c, any, v, p)| e(ExprKind::Lambda(Lambda {
                collection: c,
                kind: if any { LambdaKind::Any } else { LambdaKind::All },
                variable: Some(v),
                predicate: Some(Box::new(p)),
            }))),
            1 => (member_path(), proptest::option::of(inner)).prop_map(|(c, f)| e(ExprKind::PathCount(PathCount {
                collection: c,
                filter: f.map(Box::new),
                search: None,
            }))),
        ]
    })
}

fn search() -> impl Strategy<Value = SearchExpr> {
    let leaf = prop_oneof![
        "[a-z][a-z0-9]{0,6}".prop_map(|t| SearchExpr::Term(t, sp())),
        "[a-z \"\\\\]{1,8}".prop_map(|p| SearchExpr::Phrase(p, sp())),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            inner
                .clone()
                .prop_map(|x| SearchExpr::Not(Box::new(x), sp())),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| SearchExpr::And(
                Box::new(a),
                Box::new(b),
                sp()
            )),
            (inner.clone(), inner).prop_map(|(a, b)| SearchExpr::Or(
                Box::new(a),
                Box::new(b),
                sp()
            )),
        ]
    })
}

fn query() -> impl Strategy<Value = QueryOptions> {
    (
        proptest::option::of(expr()),
        proptest::option::of(prop::collection::vec(
            (expr(), proptest::option::of(any::<bool>())),
            1..3,
        )),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(prop::collection::vec(member_path(), 1..3)),
        proptest::option::of(search()),
    )
        .prop_map(
            |(filter, orderby, top, skip, count, expand, search)| QueryOptions {
                filter,
                orderby: orderby.map(|items| OrderBy {
                    items: items
                        .into_iter()
                        .map(|(expr, d)| OrderByItem {
                            expr,
                            direction: d.map(|asc| {
                                if asc {
                                    SortDirection::Asc
                                } else {
                                    SortDirection::Desc
                                }
                            }),
                            span: sp(),
                        })
                        .collect(),
                    span: sp(),
                }),
                top: top.map(|value| Count64 { value, span: sp() }),
                skip: skip.map(|value| Count64 { value, span: sp() }),
                count: count.map(|value| CountOption { value, span: sp() }),
                expand: expand.map(|paths| Expand {
                    items: paths
                        .into_iter()
                        .map(|p| ExpandItem {
                            target: ExpandTarget::Path {
                                segments: p.segments,
                                suffix: ExpandSuffix::None,
                            },
                            options: None,
                            span: sp(),
                        })
                        .collect(),
                    span: sp(),
                }),
                search: search.map(|expr| Search { expr, span: sp() }),
                ..QueryOptions::default()
            },
        )
}

fn big() -> ParserOptions {
    ParserOptions {
        max_input_len: 1 << 20,
        max_depth: 1000,
        max_nodes: 1_000_000,
        ..ParserOptions::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn expressions_round_trip(ast in expr()) {
        let text = ast.to_string();
        let parsed = parse_filter(&text, &big()).map_err(|e| TestCaseError::fail(e.render(&text)))?;
        prop_assert_eq!(&parsed, &ast, "printed as {}", text);
        prop_assert_eq!(parsed.to_string(), text);
    }

    #[test]
    fn search_round_trips(ast in search()) {
        let s = Search { expr: ast, span: sp() };
        let text = s.to_string();
        let parsed = parse_search(&text, &big()).map_err(|e| TestCaseError::fail(e.render(&text)))?;
        prop_assert_eq!(&parsed, &s, "printed as {}", text);
    }

    #[test]
    fn query_options_round_trip(q in query()) {
        let text = q.to_string();
        let parsed = parse_query(&text, &big()).map_err(|e| TestCaseError::fail(e.render(&text)))?;
        prop_assert_eq!(&parsed, &q, "printed as {}", text);
    }
}
