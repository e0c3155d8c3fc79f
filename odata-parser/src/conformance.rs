//! Dispatch from ABNF rule names to entry points, for the conformance
//! harness (`tests/conformance.rs`). Not a stable API.

use crate::ast::{ExprKind, Literal};
use crate::parser::literal;
use crate::parser::query::Opt;
use crate::parser::{PResult, Parser};
use crate::{ParseError, ParserOptions, run};

/// How the parser treats an ABNF start rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Implemented; every case must pass.
    Required,
    /// Outside this crate's scope (headers, payload values, context URLs,
    /// absolute URLs); cases are reported as skipped.
    OutOfScope(&'static str),
}

/// Whether rule `rule` (as spelled in the ABNF) is implemented.
pub fn support(rule: &str) -> Support {
    match rule {
        "header"
        | "prefer"
        | "preference"
        | "request-id"
        | "includeAnnotationsPreference"
        | "maxpagesizePreference" => Support::OutOfScope("HTTP header rule"),
        "context" => Support::OutOfScope("context URL rule"),
        "odataUri" => Support::OutOfScope("absolute URL with service root"),
        r if r.ends_with("Value") && r != "dateTimeOffsetValueInUrl" => {
            Support::OutOfScope("payload (JSON body) literal rule")
        }
        _ if parse_rule(rule, "").is_err_and(|e| e.expected == ["known rule"]) => {
            Support::OutOfScope("unknown rule")
        }
        _ => Support::Required,
    }
}

fn literal_kind_ok(rule: &str, lit: &Literal, text: &str) -> bool {
    let int_digits = |max: usize| {
        let d = text
            .trim_start_matches(['+', '-'])
            .trim_start_matches("%2B");
        d.len() <= max && d.bytes().all(|c| c.is_ascii_digit())
    };
    match rule {
        "primitiveLiteral" => true,
        "null" => matches!(lit, Literal::Null),
        "boolean" => matches!(lit, Literal::Boolean(_)),
        "guid" => matches!(lit, Literal::Guid(_)),
        "date" => matches!(lit, Literal::Date(_)),
        "dateTimeOffsetLiteral" | "dateTimeOffsetValueInUrl" => {
            matches!(lit, Literal::DateTimeOffset(_))
        }
        "timeOfDayLiteral" => matches!(lit, Literal::TimeOfDay(_)),
        "decimalLiteral" | "doubleLiteral" | "singleLiteral" => {
            matches!(
                lit,
                Literal::Integer(_) | Literal::Decimal(_) | Literal::Double(_)
            )
        }
        "byte" => {
            matches!(lit, Literal::Integer(_)) && int_digits(3) && !text.starts_with(['-', '+'])
        }
        "sbyteLiteral" => matches!(lit, Literal::Integer(_)) && int_digits(3),
        "int16Literal" => matches!(lit, Literal::Integer(_)) && int_digits(5),
        "int32Literal" => matches!(lit, Literal::Integer(_)) && int_digits(10),
        "int64Literal" => matches!(lit, Literal::Integer(_)) && int_digits(19),
        "stringLiteral" => matches!(lit, Literal::String(_)),
        "durationLiteral" => match lit {
            Literal::Duration(_) => true,
            Literal::String(s) => literal::whole(literal::duration_value, s.as_bytes()).is_ok(),
            _ => false,
        },
        "enumLiteral" => match lit {
            Literal::Enum { .. } => true,
            Literal::String(s) => literal::enum_members(s.as_bytes()).is_ok(),
            _ => false,
        },
        "binaryLiteral" => matches!(lit, Literal::Binary(_)),
        r if r.starts_with("geography") || r.starts_with("geometry") => match lit {
            Literal::Geo { geography, text } => {
                let kind = r
                    .trim_start_matches("geography")
                    .trim_start_matches("geometry");
                let kind = if kind == "Collection" {
                    "GeometryCollection"
                } else {
                    kind
                };
                *geography == r.starts_with("geography")
                    && text.split_once(';').is_some_and(|(_, t)| {
                        t.len() >= kind.len()
                            && t[..kind.len()].eq_ignore_ascii_case(kind)
                            && t[kind.len()..].starts_with(['(', '%'])
                    })
            }
            _ => false,
        },
        _ => false,
    }
}

const LITERAL_RULES: &[&str] = &[
    "primitiveLiteral",
    "null",
    "boolean",
    "guid",
    "date",
    "dateTimeOffsetLiteral",
    "dateTimeOffsetValueInUrl",
    "timeOfDayLiteral",
    "decimalLiteral",
    "doubleLiteral",
    "singleLiteral",
    "byte",
    "sbyteLiteral",
    "int16Literal",
    "int32Literal",
    "int64Literal",
    "stringLiteral",
    "durationLiteral",
    "enumLiteral",
    "binaryLiteral",
];

const EXPR_RULES: &[&str] = &[
    "commonExpr",
    "boolCommonExpr",
    "firstMemberExpr",
    "memberExpr",
    "propertyPathExpr",
    "isofExpr",
    "castExpr",
    "notExpr",
    "methodCallExpr",
    "boolMethodCallExpr",
    "rootExpr",
    "parenExpr",
    "arrayOrObject",
    "parameterValue",
];

/// A single query option of the expected kind (`None` for a custom option).
fn single_option(p: &mut Parser<'_>, want: Option<&[Opt]>, allow_no_dollar: bool) -> PResult<()> {
    let start = p.pos;
    let mut q = crate::ast::QueryOptions::default();
    match want {
        None => {
            if p.at(b'@') {
                return Err(p.fail("custom option"));
            }
        }
        Some(opts) => {
            let dollar = p.eat_byte(b'$');
            let n = p
                .rest()
                .iter()
                .take_while(|c| c.is_ascii_alphabetic())
                .count();
            let o = Opt::from_name(p.text(p.pos, p.pos + n));
            match o {
                Some(o)
                    if opts.contains(&o)
                        && (dollar || allow_no_dollar)
                        && p.peek_at(n) == Some(b'=') =>
                {
                    p.pos += n + 1;
                    p.option = Some(o.name());
                    return p.option_value(o, &mut q, start);
                }
                _ => {
                    p.pos += n;
                    return Err(p.fail("'='"));
                }
            }
        }
    }
    p.query_options().map(|_| ())
}

/// Parses `input` as ABNF rule `rule`; `Ok` when the whole input matches.
pub fn parse_rule(rule: &str, input: &str) -> Result<(), ParseError> {
    let o = ParserOptions::default();
    let opt = |list: &'static [Opt], no_dollar: bool| {
        move |p: &mut Parser<'_>| single_option(p, Some(list), no_dollar)
    };
    match rule {
        "queryOptions" => run(input, &o, None, |p| {
            p.allow_duplicates = true;
            p.query_options().map(|_| ())
        }),
        "anyExpr" | "allExpr" => run(input, &o, None, |p| {
            let c = crate::ast::MemberPath {
                root: crate::ast::PathRoot::Implicit,
                segments: Vec::new(),
                span: crate::ast::Span::default(),
            };
            p.lambda(0, c).map(|_| ())
        }),
        "systemQueryOption" => run(
            input,
            &o,
            None,
            opt(
                &[
                    Opt::Filter,
                    Opt::Select,
                    Opt::OrderBy,
                    Opt::Top,
                    Opt::Skip,
                    Opt::Count,
                    Opt::Expand,
                    Opt::Search,
                    Opt::Compute,
                    Opt::Apply,
                    Opt::SkipToken,
                    Opt::DeltaToken,
                    Opt::Format,
                    Opt::SchemaVersion,
                    Opt::Index,
                    Opt::Id,
                ],
                true,
            ),
        ),
        "filter" => run(input, &o, None, opt(&[Opt::Filter], true)),
        "orderby" => run(input, &o, None, opt(&[Opt::OrderBy], true)),
        "select" => run(input, &o, None, opt(&[Opt::Select], true)),
        "expand" => run(input, &o, None, opt(&[Opt::Expand], true)),
        "search" => run(input, &o, None, opt(&[Opt::Search], true)),
        "compute" => run(input, &o, None, opt(&[Opt::Compute], true)),
        "apply" => run(input, &o, None, opt(&[Opt::Apply], true)),
        "top" => run(input, &o, None, opt(&[Opt::Top], true)),
        "skip" => run(input, &o, None, opt(&[Opt::Skip], true)),
        "count" | "inlinecount" => run(input, &o, None, opt(&[Opt::Count], true)),
        "format" => run(input, &o, None, opt(&[Opt::Format], true)),
        "index" => run(input, &o, None, opt(&[Opt::Index], true)),
        "schemaversion" => run(input, &o, None, opt(&[Opt::SchemaVersion], true)),
        "skiptoken" => run(input, &o, None, opt(&[Opt::SkipToken], false)),
        "deltatoken" => run(input, &o, None, opt(&[Opt::DeltaToken], false)),
        "customQueryOption" => run(input, &o, None, |p| single_option(p, None, false)),
        "aliasAndValue" => run(input, &o, None, |p| p.query_options().map(|_| ())),
        "searchExpr" => run(input, &o, Some("$search"), |p| p.search_or().map(|_| ())),
        "resourcePath" => run(input, &o, None, |p| p.resource_path().map(|_| ())),
        "odataRelativeUri" => run(input, &o, None, |p| {
            p.allow_duplicates = true;
            p.relative_uri().map(|_| ())
        }),
        "entitySetName" | "odataIdentifier" => {
            run(input, &o, None, |p| p.ident("identifier").map(|_| ()))
        }
        "functionParameter" => run(input, &o, None, |p| {
            p.in_resource_path = true;
            p.ident("parameter name")?;
            if !p.eat_byte(b'=') {
                return Err(p.fail("'='"));
            }
            if p.at(b'@') {
                p.alias().map(|_| ())
            } else {
                p.primitive_literal().map(|_| ())
            }
        }),
        "stringInUrl" => run(input, &o, None, |p| p.json_string().map(|_| ())),
        r if EXPR_RULES.contains(&r) => run(input, &o, None, |p| p.common_expr().map(|_| ())),
        r if LITERAL_RULES.contains(&r)
            || r.starts_with("geography")
            || r.starts_with("geometry") =>
        {
            run(input, &o, None, |p| {
                let e = p.primitive_literal()?;
                match &e.kind {
                    ExprKind::Literal(l) if literal_kind_ok(r, l, input) => Ok(()),
                    _ => Err(p.fail_at(0, "literal of this kind")),
                }
            })
        }
        _ => {
            let mut e = ParseError::new(crate::ErrorKind::Syntax, 0);
            e.expected = vec!["known rule".to_string()];
            Err(e)
        }
    }
}
