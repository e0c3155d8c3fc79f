//! Helpers shared by the per-option tests (sqlparser-rs style).
#![allow(dead_code)]

use std::fmt::{Debug, Display};

use odata_parser::ast::*;
use odata_parser::{ParseError, ParserOptions};

pub fn opts() -> ParserOptions {
    ParserOptions::default()
}

/// Parses `input`, asserts that it prints back exactly as `input` and that
/// the printed text parses to the same AST.
pub fn verified_with<T: Display + PartialEq + Debug>(
    parse: impl Fn(&str) -> Result<T, ParseError>,
    input: &str,
) -> T {
    parses_to_with(parse, input, input)
}

/// Parses `input`, asserts that it prints as `canonical` and that
/// `canonical` parses to the same AST.
pub fn parses_to_with<T: Display + PartialEq + Debug>(
    parse: impl Fn(&str) -> Result<T, ParseError>,
    input: &str,
    canonical: &str,
) -> T {
    let ast =
        parse(input).unwrap_or_else(|e| panic!("{input:?} should parse:\n{}", e.render(input)));
    let printed = ast.to_string();
    assert_eq!(printed, canonical, "canonical form of {input:?}");
    let again = parse(&printed).unwrap_or_else(|e| {
        panic!(
            "canonical {printed:?} should parse:\n{}",
            e.render(&printed)
        )
    });
    assert_eq!(
        again, ast,
        "{printed:?} parses to a different AST than {input:?}"
    );
    ast
}

/// Asserts that `input` fails with the error offset `offset`.
pub fn fails_at_with<T: Debug>(
    parse: impl Fn(&str) -> Result<T, ParseError>,
    input: &str,
    offset: usize,
) -> ParseError {
    match parse(input) {
        Ok(v) => panic!("{input:?} should fail at {offset}, parsed as {v:?}"),
        Err(e) => {
            assert_eq!(
                e.offset,
                offset,
                "error offset for {input:?}:\n{}",
                e.render(input)
            );
            e
        }
    }
}

/// The shape of an expression as an S-expression, for precedence tests:
/// `a eq 1 or b` is `(or (eq a 1) b)`.
pub fn sexpr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Binary(b) => format!(
            "({} {} {})",
            b.op.keyword(),
            sexpr(&b.left),
            sexpr(&b.right)
        ),
        ExprKind::Unary(u) => {
            format!(
                "({} {})",
                if u.op == UnaryOp::Not { "not" } else { "neg" },
                sexpr(&u.operand)
            )
        }
        ExprKind::In(i) => format!("(in {} {})", sexpr(&i.expr), sexpr(&i.list)),
        ExprKind::List(items) => format!(
            "[{}]",
            items.iter().map(sexpr).collect::<Vec<_>>().join(" ")
        ),
        ExprKind::Call(c) => format!(
            "{}({})",
            c.name,
            c.args.iter().map(sexpr).collect::<Vec<_>>().join(" ")
        ),
        _ => e.to_string(),
    }
}
