//! Expressions, literals, JSON values and member paths.

use std::fmt::{self, Display, Formatter, Write};

use super::{expr_min, join, prec, starts_with_inf};
use crate::ast::*;

/// A path that is just one member named `not` (any case), without a key.
fn is_operator_word_path(p: &MemberPath) -> bool {
    matches!(
        (p.root, p.segments.as_slice()),
        (PathRoot::Implicit, [PathSegment::Member { name, key: None }])
            if name.name.eq_ignore_ascii_case("not")
    )
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Literal(l) => write!(f, "{l}"),
            // A property named `not` (any case) alone would read back as
            // the operator: `(NOT) or b` is not `NOT or b`.
            ExprKind::Path(p) if is_operator_word_path(p) => write!(f, "({p})"),
            ExprKind::Path(p) => write!(f, "{p}"),
            ExprKind::Lambda(l) => {
                write!(
                    f,
                    "{}/{}(",
                    l.collection,
                    if l.kind == LambdaKind::Any {
                        "any"
                    } else {
                        "all"
                    }
                )?;
                if let (Some(v), Some(p)) = (&l.variable, &l.predicate) {
                    write!(f, "{v}:{p}")?;
                }
                f.write_char(')')
            }
            ExprKind::PathCount(c) => {
                write!(f, "{}/$count", c.collection)?;
                if c.filter.is_some() || c.search.is_some() {
                    f.write_char('(')?;
                    if let Some(x) = &c.filter {
                        write!(f, "$filter={x}")?;
                    }
                    if let Some(s) = &c.search {
                        if c.filter.is_some() {
                            f.write_char(';')?;
                        }
                        write!(f, "$search={s}")?;
                    }
                    f.write_char(')')?;
                }
                Ok(())
            }
            ExprKind::Alias(a) => write!(f, "@{a}"),
            ExprKind::Call(c) => {
                write!(f, "{}(", c.name)?;
                if c.name.name == "case" {
                    for (i, pair) in c.args.chunks(2).enumerate() {
                        if i > 0 {
                            f.write_char(',')?;
                        }
                        write!(f, "{}", pair[0])?;
                        // ` : ` because `20:1` would read as a time of day.
                        if let Some(v) = pair.get(1) {
                            write!(f, " : {v}")?;
                        }
                    }
                } else {
                    join(f, &c.args, ",")?;
                }
                f.write_char(')')
            }
            ExprKind::Binary(b) => {
                let p = b.op.precedence();
                expr_min(f, &b.left, p)?;
                write!(f, " {} ", b.op.keyword())?;
                expr_min(f, &b.right, p + 1)
            }
            ExprKind::Unary(u) => match u.op {
                UnaryOp::Not => {
                    f.write_str("not ")?;
                    expr_min(f, &u.operand, 8)
                }
                UnaryOp::Neg => {
                    f.write_char('-')?;
                    // `-5`, `-INF` and `-2020-01-01` would read back as literals.
                    let needs_parens = match &u.operand.kind {
                        ExprKind::Literal(_) => true,
                        _ => prec(&u.operand) < 8 || starts_with_inf(&u.operand),
                    };
                    if needs_parens {
                        write!(f, "({})", u.operand)
                    } else {
                        write!(f, "{}", u.operand)
                    }
                }
            },
            ExprKind::In(i) => {
                expr_min(f, &i.expr, crate::parser::expr::IN_PRECEDENCE)?;
                f.write_str(" in ")?;
                expr_min(f, &i.list, crate::parser::expr::IN_PRECEDENCE + 1)
            }
            ExprKind::List(items) => {
                f.write_char('(')?;
                join(f, items, ",")?;
                f.write_char(')')
            }
            ExprKind::Json(j) => write!(f, "{j}"),
        }
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Boolean(b) => write!(f, "{b}"),
            Literal::Integer(i) => write!(f, "{i}"),
            Literal::Decimal(t)
            | Literal::Double(t)
            | Literal::Date(t)
            | Literal::DateTimeOffset(t)
            | Literal::TimeOfDay(t)
            | Literal::Guid(t) => f.write_str(t),
            Literal::String(s) => {
                f.write_char('\'')?;
                for part in s.split('\'').enumerate() {
                    if part.0 > 0 {
                        f.write_str("''")?;
                    }
                    f.write_str(part.1)?;
                }
                f.write_char('\'')
            }
            Literal::Duration(t) => write!(f, "duration'{t}'"),
            Literal::Binary(t) => write!(f, "binary'{t}'"),
            Literal::Enum { type_name, value } => write!(f, "{type_name}'{value}'"),
            Literal::Geo { geography, text } => {
                write!(
                    f,
                    "{}'{text}'",
                    if *geography { "geography" } else { "geometry" }
                )
            }
        }
    }
}

fn json_string(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            // Only what `charInJSON` allows unescaped in a URL goes out raw.
            c if c.is_ascii_alphanumeric()
                || !c.is_ascii()
                || "-._~!()*+,;:@/?$'= {}[]".contains(c) =>
            {
                f.write_char(c)?
            }
            c => write!(f, "\\u{:04x}", c as u32)?,
        }
    }
    f.write_char('"')
}

impl Display for JsonValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            JsonValue::Null => f.write_str("null"),
            JsonValue::Bool(b) => write!(f, "{b}"),
            JsonValue::Number(n) => f.write_str(n),
            JsonValue::String(s) => json_string(f, s),
            JsonValue::Array(items) => {
                f.write_char('[')?;
                join(f, items, ",")?;
                f.write_char(']')
            }
            JsonValue::Object(members) => {
                f.write_char('{')?;
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    json_string(f, k)?;
                    write!(f, ":{v}")?;
                }
                f.write_char('}')
            }
            JsonValue::Expr(e) => write!(f, "{e}"),
        }
    }
}

impl Display for KeyPredicate {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            KeyPredicate::Single(e) => write!(f, "({e})"),
            KeyPredicate::Named(pairs) => {
                f.write_char('(')?;
                params(f, pairs)?;
                f.write_char(')')
            }
        }
    }
}

pub(super) fn params(f: &mut Formatter<'_>, pairs: &[(Ident, Expr)]) -> fmt::Result {
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            f.write_char(',')?;
        }
        write!(f, "{k}={v}")?;
    }
    Ok(())
}

impl Display for PathSegment {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            PathSegment::Member { name, key } => {
                write!(f, "{name}")?;
                if let Some(k) = key {
                    write!(f, "{k}")?;
                }
                Ok(())
            }
            PathSegment::TypeCast(t) => write!(f, "{t}"),
            PathSegment::Function { name, params: p } => {
                write!(f, "{name}(")?;
                params(f, p)?;
                f.write_char(')')
            }
            PathSegment::Filter { filter, key } => {
                write!(f, "$filter({filter})")?;
                if let Some(k) = key {
                    write!(f, "{k}")?;
                }
                Ok(())
            }
            PathSegment::Aggregate(item) => write!(f, "aggregate({item})"),
        }
    }
}

impl Display for MemberPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let prefix = match self.root {
            PathRoot::Implicit => None,
            PathRoot::It => Some("$it"),
            PathRoot::This => Some("$this"),
            PathRoot::Root => Some("$root"),
        };
        if let Some(p) = prefix {
            f.write_str(p)?;
            if !self.segments.is_empty() {
                f.write_char('/')?;
            }
        }
        join(f, &self.segments, "/")
    }
}
