//! A standalone parser for OData 4.01 query options and resource paths.
//!
//! It turns the raw query string of a request into a typed, spanned AST
//! ([`ast`]) and checks syntax only: it never needs a schema. Errors are
//! data ([`ParseError`]) with the byte offset of the farthest position the
//! parser reached, and `Display` on the AST prints canonical OData.
//!
//! ```
//! use odata_parser::{ParserOptions, parse_query, ast::*};
//!
//! let q = parse_query("$filter=name eq 'Ann' and age gt 30&$top=10", &ParserOptions::default()).unwrap();
//! assert_eq!(q.top.unwrap().value, 10);
//! let filter = q.filter.unwrap();
//! let ExprKind::Binary(and) = &filter.kind else { panic!() };
//! assert_eq!(and.op, BinaryOp::And);
//! assert_eq!(filter.to_string(), "name eq 'Ann' and age gt 30");
//!
//! let err = parse_query("$filter=name eq", &ParserOptions::default()).unwrap_err();
//! assert_eq!(err.offset, 15);
//! assert_eq!(err.option.as_deref(), Some("$filter"));
//! ```
//!
//! # Input: raw URL text
//!
//! Every entry point takes **percent-encoding-normalised URL text, not
//! decoded text**: `+` is a plus sign, `%27` is a quote, `%20` is a space.
//! The punctuation of the grammar is accepted in either form (`(`/`%28`,
//! `'`/`%27`, `,`/`%2C`, `@`/`%40`, ...). Literal texts are kept as written
//! (string content with `''` collapsed to `'`, but otherwise still
//! percent-encoded): consumers percent-decode values themselves.
//! Decoded text without `&` and `#` is still valid input for the per-option
//! entry points in most cases, so a service holding decoded values may pass
//! them too.
//!
//! For [`parse_query`] spans and error offsets are byte offsets into the
//! whole raw query string; for the other entry points, into their input.
#![deny(missing_docs)]

pub mod ast;
mod error;
mod parser;
mod print;

#[doc(hidden)]
pub mod conformance;

/// The README's examples are compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}

pub use error::{ErrorKind, Limit, ParseError, render_caret};

use ast::*;
use parser::Parser;

/// Limits that keep hostile input cheap. The defaults suit URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParserOptions {
    /// Longest accepted input in bytes (default 64 KiB).
    pub max_input_len: usize,
    /// Deepest nesting of parentheses, unary operators, function calls,
    /// lambdas and nested option lists (default 100). The parser recurses
    /// once per level; keep this at most a few thousand on the default
    /// 2 MiB thread stack.
    pub max_depth: usize,
    /// Most syntax nodes in one parse (default 10,000).
    pub max_nodes: usize,
    /// Deepest `$expand` nesting (default 8).
    pub max_expand_depth: usize,
}

impl Default for ParserOptions {
    fn default() -> Self {
        ParserOptions {
            max_input_len: 64 * 1024,
            max_depth: 100,
            max_nodes: 10_000,
            max_expand_depth: 8,
        }
    }
}

/// Runs `f` over the whole of `input` and requires it to consume everything.
fn run<T>(
    input: &str,
    options: &ParserOptions,
    option: Option<&'static str>,
    f: impl FnOnce(&mut Parser<'_>) -> parser::PResult<T>,
) -> Result<T, ParseError> {
    let mut p = Parser::new(input, options);
    p.option = option;
    let r = p.check_len().and_then(|()| f(&mut p)).and_then(|v| {
        p.expect_end("end of input")?;
        Ok(v)
    });
    match r {
        Ok(v) => Ok(v),
        Err(_) => Err(p.into_error()),
    }
}

/// Parses a whole query string (without the leading `?`), exactly as it
/// arrives in the URL.
///
/// Option names are case-insensitive and the `$` is optional (OData 4.01).
/// The same system option twice is [`ErrorKind::DuplicateOption`]; an
/// unknown `$`-option is [`ErrorKind::UnknownOption`], except
/// `$inlinecount=allpages|none` (OData v3), which is read as `$count`.
/// Options without `$` that are not system options are kept as
/// [`CustomOption`]s; `@name=value` are parameter aliases.
pub fn parse_query(raw: &str, options: &ParserOptions) -> Result<QueryOptions, ParseError> {
    run(raw, options, None, |p| p.query_options())
}

/// Parses the value of `$filter` (raw URL text, see the crate docs).
pub fn parse_filter(text: &str, options: &ParserOptions) -> Result<Expr, ParseError> {
    run(text, options, Some("$filter"), |p| p.common_expr())
}

/// Parses a single expression (`commonExpr`), e.g. an alias value.
pub fn parse_expr(text: &str, options: &ParserOptions) -> Result<Expr, ParseError> {
    run(text, options, None, |p| p.common_expr())
}

/// Parses the value of `$orderby` (raw URL text).
pub fn parse_orderby(text: &str, options: &ParserOptions) -> Result<OrderBy, ParseError> {
    run(text, options, Some("$orderby"), |p| p.orderby_value(false))
}

/// Parses the value of `$select` (raw URL text).
pub fn parse_select(text: &str, options: &ParserOptions) -> Result<Select, ParseError> {
    run(text, options, Some("$select"), |p| p.select_value())
}

/// Parses the value of `$expand` (raw URL text).
pub fn parse_expand(text: &str, options: &ParserOptions) -> Result<Expand, ParseError> {
    run(text, options, Some("$expand"), |p| p.expand_value())
}

/// Parses the value of `$search` (raw URL text).
pub fn parse_search(text: &str, options: &ParserOptions) -> Result<Search, ParseError> {
    run(text, options, Some("$search"), |p| p.search_option())
}

/// Parses the value of `$compute` (raw URL text).
pub fn parse_compute(text: &str, options: &ParserOptions) -> Result<Compute, ParseError> {
    run(text, options, Some("$compute"), |p| p.compute_value(false))
}

/// Parses the value of `$apply` (raw URL text).
pub fn parse_apply(text: &str, options: &ParserOptions) -> Result<Apply, ParseError> {
    run(text, options, Some("$apply"), |p| p.apply_value())
}

/// Parses a resource path such as `Users('x')/roles/$count` (the path
/// after the service root, without `?`; raw URL text).
pub fn parse_resource_path(
    text: &str,
    options: &ParserOptions,
) -> Result<ResourcePath, ParseError> {
    run(text, options, None, |p| p.resource_path())
}

/// Parses a relative URL: a resource path and an optional `?query`.
/// Offsets are into the whole text.
pub fn parse_relative_uri(
    text: &str,
    options: &ParserOptions,
) -> Result<(ResourcePath, Option<QueryOptions>), ParseError> {
    run(text, options, None, |p| p.relative_uri())
}
