//! Canonical function calls.

use odata_parser::ast::{Call, Expr as OExpr, ExprKind, Literal, Span};
use sea_query::{Expr, ExprTrait, Value};

use super::value::Const;
use super::{Collation, ExprTranslator, Ty, Typed};
use crate::dialect::{DatePart, Rounding};
use crate::error::TranslateError;
use crate::schema::EdmType;

/// Canonical functions OData defines that the translator recognises and
/// answers as not supported (501), rather than as unknown (400).
pub(crate) const UNSUPPORTED_FUNCTIONS: &[&str] = &[
    "matchespattern",
    "time",
    "totaloffsetminutes",
    "totalseconds",
    "fractionalseconds",
    "maxdatetime",
    "mindatetime",
    "cast",
    "isof",
    "hassubset",
    "hassubsequence",
    "case",
];

impl<'a> ExprTranslator<'_, 'a> {
    pub(super) fn call(&mut self, call: &Call, span: Span) -> Result<Typed, TranslateError> {
        let Call { name, args } = call;
        let fname = name.name.as_str();
        match fname {
            "contains" | "startswith" | "endswith" => self.string_match(fname, args, span),
            "length" => {
                self.arity(fname, args, 1, span)?;
                let s = self.typed_arg(&args[0], fname, EdmType::String)?;
                Ok(Typed {
                    expr: self.ctx.backend.length(s.expr),
                    ty: Ty::Edm(EdmType::Int32),
                    nullable: s.nullable,
                    collation: Collation::Unknown,
                })
            }
            "indexof" => {
                self.arity(fname, args, 2, span)?;
                let hay = self.typed_arg(&args[0], fname, EdmType::String)?;
                let needle = self.typed_arg(&args[1], fname, EdmType::String)?;
                Ok(Typed {
                    expr: self.ctx.backend.position(hay.expr, needle.expr).sub(1),
                    ty: Ty::Edm(EdmType::Int32),
                    nullable: hay.nullable || needle.nullable,
                    collation: Collation::Unknown,
                })
            }
            "substring" => self.substring(args, span),
            "tolower" | "toupper" | "trim" => {
                self.arity(fname, args, 1, span)?;
                let s = self.typed_arg(&args[0], fname, EdmType::String)?;
                let b = self.ctx.backend;
                let expr = match fname {
                    "tolower" => b.lower(s.expr),
                    "toupper" => b.upper(s.expr),
                    _ => b.trim(s.expr),
                };
                Ok(Typed {
                    expr,
                    ty: Ty::Edm(EdmType::String),
                    nullable: s.nullable,
                    collation: Collation::Unknown,
                })
            }
            "concat" => {
                self.arity(fname, args, 2, span)?;
                let l = self.typed_arg(&args[0], fname, EdmType::String)?;
                let r = self.typed_arg(&args[1], fname, EdmType::String)?;
                Ok(Typed {
                    expr: self.ctx.backend.concat(l.expr, r.expr),
                    ty: Ty::Edm(EdmType::String),
                    nullable: l.nullable || r.nullable,
                    collation: Collation::Unknown,
                })
            }
            "year" | "month" | "day" | "hour" | "minute" | "second" => {
                self.date_part(fname, args, span)
            }
            "date" => {
                self.arity(fname, args, 1, span)?;
                let t = self.typed_arg(&args[0], fname, EdmType::DateTimeOffset)?;
                Ok(Typed {
                    expr: self.ctx.backend.date_of(t.expr),
                    ty: Ty::Edm(EdmType::Date),
                    nullable: t.nullable,
                    collation: Collation::Unknown,
                })
            }
            "now" => {
                self.arity(fname, args, 0, span)?;
                Ok(Typed {
                    expr: Expr::val(self.ctx.now),
                    ty: Ty::Edm(EdmType::DateTimeOffset),
                    nullable: false,
                    collation: Collation::Unknown,
                })
            }
            "round" | "floor" | "ceiling" => self.rounding(fname, args, span),
            _ if UNSUPPORTED_FUNCTIONS.contains(&fname) => Err(self.unsupported(
                name.span,
                format!("the function `{fname}` is not supported"),
            )),
            _ if fname.starts_with("geo.") => Err(self.unsupported(
                name.span,
                format!("geographic functions are not supported (`{fname}`)"),
            )),
            _ if fname.contains('.') => Err(self.unsupported(
                name.span,
                format!("custom functions are not supported (`{fname}`)"),
            )),
            _ => Err(self.invalid(
                name.span,
                format!(
                    "unknown function `{fname}`{}",
                    crate::suggest::hint(fname, crate::suggest::FUNCTIONS.iter().copied())
                ),
            )),
        }
    }

    /// An error unless `fname` was called with `n` arguments.
    fn arity(
        &self,
        fname: &str,
        args: &[OExpr],
        n: usize,
        span: Span,
    ) -> Result<(), TranslateError> {
        if args.len() == n {
            Ok(())
        } else {
            Err(self.invalid(
                span,
                format!(
                    "`{fname}` takes {n} argument{}, found {}",
                    if n == 1 { "" } else { "s" },
                    args.len()
                ),
            ))
        }
    }

    /// `contains`, `startswith` and `endswith`.
    fn string_match(
        &mut self,
        fname: &str,
        args: &[OExpr],
        span: Span,
    ) -> Result<Typed, TranslateError> {
        self.arity(fname, args, 2, span)?;
        let hay = self.typed_arg(&args[0], fname, EdmType::String)?;
        let needle = self.typed_arg(&args[1], fname, EdmType::String)?;
        let column_prefix = match (&needle.expr, hay.collation, needle.collation) {
            (
                Expr::Value(Value::String(Some(prefix))),
                Collation::CodePoint,
                Collation::Coercible,
            ) => Some(prefix.clone()),
            _ => None,
        };
        let b = self.ctx.backend;
        let expr = match fname {
            "contains" => b.contains(hay.expr, needle.expr),
            "startswith" => b.starts_with(hay.expr, needle.expr, column_prefix.as_deref()),
            _ => b.ends_with(hay.expr, needle.expr),
        };
        Ok(Typed {
            expr,
            ty: Ty::Edm(EdmType::Boolean),
            nullable: hay.nullable || needle.nullable,
            collation: Collation::Unknown,
        })
    }

    /// `substring(s, start)` and `substring(s, start, length)`.
    fn substring(&mut self, args: &[OExpr], span: Span) -> Result<Typed, TranslateError> {
        let fname = "substring";
        if !(2..=3).contains(&args.len()) {
            return Err(self.invalid(
                span,
                format!("`substring` takes 2 or 3 arguments, found {}", args.len()),
            ));
        }
        let s = self.typed_arg(&args[0], fname, EdmType::String)?;
        // PostgreSQL takes 32-bit positions (and the start is bound
        // plus one).
        for (arg, max, what) in [
            (&args[1], i64::from(i32::MAX) - 1, "start"),
            (
                args.get(2).unwrap_or(&args[1]),
                i64::from(i32::MAX),
                "length",
            ),
        ] {
            if let Some(Const::Int(n)) = self.constant(arg)?
                && n > max
            {
                return Err(self.invalid(
                    arg.span,
                    format!("the {what} of `substring` must be at most {max}"),
                ));
            }
        }
        let start = self.integer_arg(&args[1], fname)?;
        let len = match args.get(2) {
            Some(a) => Some(self.integer_arg(a, fname)?),
            None => None,
        };
        let nullable = s.nullable || start.nullable || len.as_ref().is_some_and(|l| l.nullable);
        Ok(Typed {
            expr: self
                .ctx
                .backend
                .substring(s.expr, start.expr.add(1), len.map(|l| l.expr)),
            ty: Ty::Edm(EdmType::String),
            nullable,
            collation: Collation::Unknown,
        })
    }

    /// `year`, `month`, `day` (of a DateTimeOffset or a Date), `hour`,
    /// `minute` and `second` (of a DateTimeOffset).
    fn date_part(
        &mut self,
        fname: &str,
        args: &[OExpr],
        span: Span,
    ) -> Result<Typed, TranslateError> {
        self.arity(fname, args, 1, span)?;
        let t = self.expr(&args[0])?;
        let part = match fname {
            "year" => DatePart::Year,
            "month" => DatePart::Month,
            "day" => DatePart::Day,
            "hour" => DatePart::Hour,
            "minute" => DatePart::Minute,
            _ => DatePart::Second,
        };
        let date_ok = matches!(part, DatePart::Year | DatePart::Month | DatePart::Day);
        match t.ty {
            Ty::Edm(EdmType::DateTimeOffset) => {}
            Ty::Edm(EdmType::Date) if date_ok => {}
            Ty::Null => {}
            other => {
                return Err(self.invalid(
                    args[0].span,
                    format!(
                        "`{fname}` needs {}, found {}",
                        if date_ok {
                            "a DateTimeOffset or a Date"
                        } else {
                            "a DateTimeOffset"
                        },
                        other.name()
                    ),
                ));
            }
        }
        Ok(Typed {
            expr: self.ctx.backend.date_part(part, t.expr),
            ty: Ty::Edm(EdmType::Int32),
            nullable: t.nullable,
            collation: Collation::Unknown,
        })
    }

    /// `round`, `floor` and `ceiling` (integers are returned as they are).
    fn rounding(
        &mut self,
        fname: &str,
        args: &[OExpr],
        span: Span,
    ) -> Result<Typed, TranslateError> {
        self.arity(fname, args, 1, span)?;
        let t = self.expr(&args[0])?;
        let ty = match t.ty {
            Ty::Edm(e) if e.is_numeric() => e,
            Ty::Null => return Ok(t),
            other => {
                return Err(self.invalid(
                    args[0].span,
                    format!("`{fname}` needs a number, found {}", other.name()),
                ));
            }
        };
        if ty.is_integer() {
            return Ok(t);
        }
        let kind = match fname {
            "round" => Rounding::Round,
            "floor" => Rounding::Floor,
            _ => Rounding::Ceiling,
        };
        Ok(Typed {
            expr: self.ctx.backend.rounding(kind, t.expr),
            ty: Ty::Edm(ty),
            nullable: t.nullable,
            collation: Collation::Unknown,
        })
    }

    pub(super) fn typed_arg(
        &mut self,
        arg: &OExpr,
        fname: &str,
        want: EdmType,
    ) -> Result<Typed, TranslateError> {
        let t = self.expr(arg)?;
        match t.ty {
            Ty::Null => Ok(t),
            Ty::Edm(e) if e == want => Ok(t),
            other => Err(self.invalid(
                arg.span,
                format!(
                    "`{fname}` needs {} here, found {}",
                    want.csdl_name(),
                    other.name()
                ),
            )),
        }
    }

    pub(super) fn integer_arg(
        &mut self,
        arg: &OExpr,
        fname: &str,
    ) -> Result<Typed, TranslateError> {
        if let ExprKind::Literal(Literal::Integer(i)) = &arg.kind
            && *i < 0
        {
            return Err(self.invalid(
                arg.span,
                format!("`{fname}` needs a non-negative integer here"),
            ));
        }
        let t = self.expr(arg)?;
        match t.ty {
            Ty::Null => Ok(t),
            Ty::Edm(e) if e.is_integer() => Ok(t),
            other => Err(self.invalid(
                arg.span,
                format!("`{fname}` needs an integer here, found {}", other.name()),
            )),
        }
    }
}
