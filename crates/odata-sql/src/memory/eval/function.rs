//! Canonical functions over values.

use std::borrow::Cow;

use chrono::{Datelike, Timelike};
use odata_parser::ast::{Call, Span};

use super::{Ctx, Row};
use crate::case;
use crate::error::TranslateError;
use crate::memory::value::Val;

impl<'a> Ctx<'a> {
    pub(super) fn call(
        &self,
        call: &'a Call,
        span: Span,
        row: &mut Row<'a>,
    ) -> Result<Val<'a>, TranslateError> {
        let Call { name, args } = call;
        let fname = name.name.as_str();
        let arity = |range: std::ops::RangeInclusive<usize>| -> Result<(), TranslateError> {
            if range.contains(&args.len()) {
                Ok(())
            } else {
                Err(self.invalid(
                    span,
                    format!(
                        "`{fname}` takes {} argument{}, found {}",
                        range.start(),
                        if *range.start() == 1 { "" } else { "s" },
                        args.len()
                    ),
                ))
            }
        };
        // The translator's lists: the evaluator knows and refuses exactly
        // the functions the translator does.
        if !crate::capabilities::FUNCTIONS.contains(&fname) {
            return Err(match fname {
                _ if crate::expr::UNSUPPORTED_FUNCTIONS.contains(&fname) => self.unsupported(
                    name.span,
                    format!("the function `{fname}` is not supported"),
                ),
                _ if fname.starts_with("geo.") => self.unsupported(
                    name.span,
                    format!("geographic functions are not supported (`{fname}`)"),
                ),
                _ if fname.contains('.') => self.unsupported(
                    name.span,
                    format!("custom functions are not supported (`{fname}`)"),
                ),
                _ => self.invalid(name.span, format!("unknown function `{fname}`")),
            });
        }
        match fname {
            "substring" => arity(2..=3)?,
            "now" => arity(0..=0)?,
            "contains" | "startswith" | "endswith" | "indexof" | "concat" => arity(2..=2)?,
            _ => arity(1..=1)?,
        }
        let values: Vec<Val<'a>> = args
            .iter()
            .map(|a| self.eval(a, row))
            .collect::<Result<_, _>>()?;
        let text = |i: usize| -> Result<Option<&str>, TranslateError> {
            match &values[i] {
                Val::Str(s) => Ok(Some(s)),
                Val::Null => Ok(None),
                other => Err(self.invalid(
                    args[i].span,
                    format!("`{fname}` needs a String, found {}", other.type_name()),
                )),
            }
        };
        let integer = |i: usize| -> Result<Option<i64>, TranslateError> {
            match &values[i] {
                Val::Int(n) => Ok(Some(*n)),
                Val::Null => Ok(None),
                other => Err(self.invalid(
                    args[i].span,
                    format!("`{fname}` needs an integer, found {}", other.type_name()),
                )),
            }
        };
        let owned = |s: String| Val::Str(Cow::Owned(s));
        Ok(match fname {
            "contains" | "startswith" | "endswith" | "indexof" => {
                let (Some(hay), Some(needle)) = (text(0)?, text(1)?) else {
                    return Ok(Val::Null);
                };
                match fname {
                    "contains" => Val::Bool(hay.contains(needle)),
                    "startswith" => Val::Bool(hay.starts_with(needle)),
                    "endswith" => Val::Bool(hay.ends_with(needle)),
                    _ => Val::Int(match hay.find(needle) {
                        Some(at) => hay[..at].chars().count() as i64,
                        None => -1,
                    }),
                }
            }
            "length" => text(0)?.map_or(Val::Null, |s| Val::Int(s.chars().count() as i64)),
            "tolower" => text(0)?.map_or(Val::Null, |s| owned(case::lower(s))),
            "toupper" => text(0)?.map_or(Val::Null, |s| owned(case::upper(s))),
            // SQL's TRIM: spaces.
            "trim" => text(0)?.map_or(Val::Null, |s| owned(s.trim_matches(' ').to_owned())),
            "concat" => match (text(0)?, text(1)?) {
                (Some(a), Some(b)) => owned(format!("{a}{b}")),
                _ => Val::Null,
            },
            "substring" => {
                let s = text(0)?;
                let start = integer(1)?;
                let len = if args.len() == 3 {
                    integer(2)?
                } else {
                    Some(i64::MAX)
                };
                let (Some(s), Some(start), Some(len)) = (s, start, len) else {
                    return Ok(Val::Null);
                };
                if start < 0 || len < 0 {
                    return Err(self.invalid(
                        span,
                        "the start and length of `substring` must not be negative",
                    ));
                }
                let skip = usize::try_from(start).unwrap_or(usize::MAX);
                let take = usize::try_from(len).unwrap_or(usize::MAX);
                owned(s.chars().skip(skip).take(take).collect())
            }
            "year" | "month" | "day" | "hour" | "minute" | "second" => {
                let date_ok = matches!(fname, "year" | "month" | "day");
                let v = &values[0];
                if v.is_null() {
                    return Ok(Val::Null);
                }
                if let Some(t) = v.as_time() {
                    Val::Int(i64::from(match fname {
                        "year" => t.year(),
                        "month" => t.month() as i32,
                        "day" => t.day() as i32,
                        "hour" => t.hour() as i32,
                        "minute" => t.minute() as i32,
                        _ => t.second() as i32,
                    }))
                } else if let (true, Some(d)) = (date_ok, v.as_date()) {
                    Val::Int(i64::from(match fname {
                        "year" => d.year(),
                        "month" => d.month() as i32,
                        _ => d.day() as i32,
                    }))
                } else {
                    return Err(self.invalid(
                        args[0].span,
                        format!(
                            "`{fname}` needs {}, found {}",
                            if date_ok {
                                "a DateTimeOffset or a Date"
                            } else {
                                "a DateTimeOffset"
                            },
                            v.type_name()
                        ),
                    ));
                }
            }
            "date" => {
                let v = &values[0];
                if v.is_null() {
                    return Ok(Val::Null);
                }
                match v.as_time() {
                    Some(t) => Val::Date(t.date_naive()),
                    None => {
                        return Err(self.invalid(
                            args[0].span,
                            format!("`date` needs a DateTimeOffset, found {}", v.type_name()),
                        ));
                    }
                }
            }
            "now" => Val::Time(self.now),
            _ => match &values[0] {
                Val::Null => Val::Null,
                Val::Int(i) => Val::Int(*i),
                Val::Num(f) => Val::Num(match fname {
                    "round" => f.round(),
                    "floor" => f.floor(),
                    _ => f.ceil(),
                }),
                other => {
                    return Err(self.invalid(
                        args[0].span,
                        format!("`{fname}` needs a number, found {}", other.type_name()),
                    ));
                }
            },
        })
    }
}
