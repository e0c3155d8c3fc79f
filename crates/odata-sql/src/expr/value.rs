//! Literals, constant folding and the decoding of literal text.

use chrono::{DateTime, NaiveDate, Utc};
use odata_parser::ast::{
    Binary, BinaryOp, Expr as OExpr, ExprKind, JsonValue, Literal, Span, Unary, UnaryOp,
};
use sea_query::{Alias, Expr, Func};

use super::{Collation, ExprTranslator, MAX_ALIAS_DEPTH, Ty, Typed};
use crate::dialect::Backend;
use crate::error::TranslateError;
use crate::schema::EdmType;

impl<'a> ExprTranslator<'_, 'a> {
    pub(super) fn literal(&self, lit: &Literal, span: Span) -> Result<Typed, TranslateError> {
        let typed = |expr: Expr, t: EdmType| Typed {
            expr,
            ty: Ty::Edm(t),
            nullable: false,
            collation: Collation::Unknown,
        };
        // On PostgreSQL the statement text names the type of each literal:
        // sqlx caches prepared statements by their text, and a cached
        // statement bound with a value of another type reads its bytes
        // wrongly (`gt 0.5` after `gt 2` bound an f64 into an int8).
        let pg = self.ctx.backend == Backend::Postgres;
        let val = |value: sea_query::Value, pg_type: &str| -> Expr {
            if pg {
                Func::cast_as(Expr::val(value), Alias::new(pg_type)).into()
            } else {
                Expr::val(value)
            }
        };
        Ok(match lit {
            Literal::Null => Typed {
                expr: Expr::null(),
                ty: Ty::Null,
                nullable: true,
                collation: Collation::Unknown,
            },
            Literal::Boolean(b) => typed(Expr::val(*b), EdmType::Boolean),
            Literal::Integer(i) => typed(val((*i).into(), "BIGINT"), EdmType::Int64),
            Literal::Decimal(text) | Literal::Double(text) => {
                let t = if matches!(lit, Literal::Decimal(_)) {
                    EdmType::Decimal
                } else {
                    EdmType::Double
                };
                let value: f64 = text
                    .parse()
                    .map_err(|_| self.invalid(span, format!("`{text}` is not a number")))?;
                if !value.is_finite() {
                    return Err(self.unsupported(span, "NaN and INF are not supported"));
                }
                typed(val(value.into(), "DOUBLE PRECISION"), t)
            }
            Literal::String(raw) => Typed {
                collation: Collation::Coercible,
                ..typed(
                    val(
                        percent_decode(raw)
                            .map_err(|m| self.invalid(span, m))?
                            .into(),
                        "TEXT",
                    ),
                    EdmType::String,
                )
            },
            Literal::Date(raw) => {
                let text = percent_decode(raw).map_err(|m| self.invalid(span, m))?;
                let d = NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                    .map_err(|_| self.invalid(span, format!("`{text}` is not a valid date")))?;
                typed(val(d.into(), "DATE"), EdmType::Date)
            }
            Literal::DateTimeOffset(raw) => {
                let text = percent_decode(raw).map_err(|m| self.invalid(span, m))?;
                let dt = parse_datetime(&text).ok_or_else(|| {
                    self.invalid(span, format!("`{text}` is not a valid DateTimeOffset"))
                })?;
                typed(val(dt.into(), "TIMESTAMPTZ"), EdmType::DateTimeOffset)
            }
            Literal::Guid(text) => {
                let id = uuid::Uuid::parse_str(text)
                    .map_err(|_| self.invalid(span, format!("`{text}` is not a valid GUID")))?;
                typed(val(id.into(), "UUID"), EdmType::Guid)
            }
            Literal::TimeOfDay(_) => {
                return Err(self.unsupported(span, "TimeOfDay values are not supported"));
            }
            Literal::Duration(_) => {
                return Err(self.unsupported(span, "Duration values are not supported"));
            }
            Literal::Binary(_) => {
                return Err(self.unsupported(span, "binary values are not supported"));
            }
            Literal::Enum { type_name, .. } => {
                return Err(self.unsupported(
                    span,
                    format!("enumeration values are not supported (type {type_name})"),
                ));
            }
            Literal::Geo { .. } => {
                return Err(self.unsupported(span, "geographic values are not supported"));
            }
        })
    }

    /// The value of a constant numeric expression (literals, aliases of
    /// literals, `-` and arithmetic on them), `None` when it is not one (or
    /// is null, e.g. after a division by zero). An Int64 result out of range
    /// or a Double result that is not finite is an error at its operator.
    pub(super) fn constant(&self, e: &OExpr) -> Result<Option<Const>, TranslateError> {
        self.constant_at(e, 0)
    }

    pub(super) fn constant_at(
        &self,
        e: &OExpr,
        depth: usize,
    ) -> Result<Option<Const>, TranslateError> {
        if depth > MAX_ALIAS_DEPTH + 64 {
            return Ok(None);
        }
        Ok(match &e.kind {
            ExprKind::Literal(Literal::Integer(i)) => Some(Const::Int(*i)),
            ExprKind::Literal(Literal::Decimal(t) | Literal::Double(t)) => t
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Const::Float),
            ExprKind::Alias(name) => {
                match self.ctx.aliases.iter().find(|a| a.name.name == name.name) {
                    Some(def) => self.constant_at(&def.value, depth + 1)?,
                    None => None,
                }
            }
            ExprKind::Unary(Unary {
                op: UnaryOp::Neg,
                operand,
            }) => match self.constant_at(operand, depth + 1)? {
                Some(Const::Int(i)) => Some(Const::Int(i.checked_neg().ok_or_else(|| {
                    self.invalid(e.span, format!("`-({i})` is out of the range of Edm.Int64"))
                })?)),
                Some(Const::Float(f)) => Some(Const::Float(-f)),
                None => None,
            },
            ExprKind::Binary(Binary {
                op,
                op_span,
                left,
                right,
            }) if matches!(
                op,
                BinaryOp::Add
                    | BinaryOp::Sub
                    | BinaryOp::Mul
                    | BinaryOp::Div
                    | BinaryOp::DivBy
                    | BinaryOp::Mod
            ) =>
            {
                let l = self.constant_at(left, depth + 1)?;
                let r = self.constant_at(right, depth + 1)?;
                let (Some(l), Some(r)) = (l, r) else {
                    return Ok(None);
                };
                let overflow = |ty: &str| {
                    self.invalid(
                        *op_span,
                        format!(
                            "the result of `{}` on {} and {} is out of the range of {ty}",
                            op.keyword(),
                            l,
                            r
                        ),
                    )
                };
                match (l, r) {
                    (Const::Int(a), Const::Int(b)) => {
                        let v = match op {
                            BinaryOp::Add => a.checked_add(b),
                            BinaryOp::Sub => a.checked_sub(b),
                            BinaryOp::Mul => a.checked_mul(b),
                            BinaryOp::Div if b == 0 => return Ok(None),
                            BinaryOp::Div => a.checked_div(b),
                            BinaryOp::Mod if b == 0 => return Ok(None),
                            // `MIN mod -1` is 0 (the databases agree).
                            BinaryOp::Mod => Some(a.checked_rem(b).unwrap_or(0)),
                            _ if b == 0 => return Ok(None),
                            _ => return Ok(Some(Const::Float(a as f64 / b as f64))),
                        };
                        Some(Const::Int(v.ok_or_else(|| overflow("Edm.Int64"))?))
                    }
                    (a, b) => {
                        let (a, b) = (a.as_f64(), b.as_f64());
                        let v = match op {
                            BinaryOp::Add => a + b,
                            BinaryOp::Sub => a - b,
                            BinaryOp::Mul => a * b,
                            _ if b == 0.0 => return Ok(None),
                            BinaryOp::Mod => a % b,
                            _ => a / b,
                        };
                        if !v.is_finite() {
                            return Err(overflow("Edm.Double"));
                        }
                        Some(Const::Float(v))
                    }
                }
            }
            _ => None,
        })
    }
}

/// A constant number of an expression (see `ExprTranslator::constant`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Const {
    Int(i64),
    Float(f64),
}

impl Const {
    pub(super) fn as_f64(self) -> f64 {
        match self {
            Const::Int(i) => i as f64,
            Const::Float(f) => f,
        }
    }
}

impl std::fmt::Display for Const {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Const::Int(i) => write!(f, "{i}"),
            Const::Float(x) => write!(f, "{x:e}"),
        }
    }
}

pub(super) fn json_to_literal(v: &JsonValue, span: Span) -> Option<OExpr> {
    let lit = match v {
        JsonValue::Null => Literal::Null,
        JsonValue::Bool(b) => Literal::Boolean(*b),
        JsonValue::Number(n) => match n.parse::<i64>() {
            Ok(i) => Literal::Integer(i),
            Err(_) => Literal::Double(n.clone()),
        },
        JsonValue::String(s) => Literal::String(percent_encode_percent(s)),
        JsonValue::Array(_) | JsonValue::Object(_) | JsonValue::Expr(_) => return None,
    };
    Some(OExpr {
        kind: ExprKind::Literal(lit),
        span,
    })
}

/// JSON strings are already decoded; protect their `%` from the decoding
/// applied to URL string literals.
fn percent_encode_percent(s: &str) -> String {
    s.replace('%', "%25")
}

/// Decodes `%XX` escapes of a URL text into a UTF-8 string; a `%` not
/// followed by two hex digits is an error, not text.
pub(crate) fn percent_decode(raw: &str) -> Result<String, String> {
    let decoded = decode_percent(raw)?;
    if decoded.contains('\0') {
        // PostgreSQL cannot store it in a text and refuses the statement.
        return Err("a string cannot contain the NUL character (U+0000, %00)".to_owned());
    }
    Ok(decoded)
}

fn decode_percent(raw: &str) -> Result<String, String> {
    if !raw.contains('%') {
        return Ok(raw.to_owned());
    }
    let bytes = raw.as_bytes();
    let valid = bytes.iter().enumerate().all(|(i, b)| {
        *b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    });
    if !valid {
        return Err(format!("invalid percent-encoding in `{raw}`"));
    }
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| format!("`{raw}` is not valid UTF-8 once decoded"))
}

/// Parses an OData DateTimeOffset (RFC 3339, seconds optional) into UTC.
pub(crate) fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.with_timezone(&Utc));
    }
    // `2026-11-29T10:00Z`: no seconds.
    let (date_time, offset) = split_offset(text)?;
    let with_seconds = format!("{date_time}:00{offset}");
    DateTime::parse_from_rfc3339(&with_seconds)
        .ok()
        .map(|dt| dt.with_timezone(&Utc))
}

fn split_offset(text: &str) -> Option<(&str, &str)> {
    if let Some(stripped) = text.strip_suffix(['Z', 'z']) {
        return Some((stripped, "Z"));
    }
    let idx = text.rfind(['+', '-'])?;
    if idx < 11 {
        return None;
    }
    Some((&text[..idx], &text[idx..]))
}
