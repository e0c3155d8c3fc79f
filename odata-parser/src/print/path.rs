//! Resource paths.

use std::fmt::{self, Display, Formatter, Write};

use super::expr::params;
use super::join;
use crate::ast::*;

impl Display for ResourceSegment {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ResourceSegment::Member { name, key } => {
                write!(f, "{name}")?;
                if let Some(k) = key {
                    write!(f, "{k}")?;
                }
                Ok(())
            }
            ResourceSegment::KeySegment(e) => match &e.kind {
                ExprKind::Literal(Literal::String(s)) => f.write_str(s),
                _ => write!(f, "{e}"),
            },
            ResourceSegment::TypeCast(t) => write!(f, "{t}"),
            ResourceSegment::Function { name, params: p } => {
                write!(f, "{name}(")?;
                params(f, p)?;
                f.write_char(')')
            }
            ResourceSegment::Count(_) => f.write_str("$count"),
            ResourceSegment::Value(_) => f.write_str("$value"),
            ResourceSegment::Ref(_) => f.write_str("$ref"),
            ResourceSegment::Metadata(_) => f.write_str("$metadata"),
            ResourceSegment::Batch(_) => f.write_str("$batch"),
            ResourceSegment::Entity(_) => f.write_str("$entity"),
            ResourceSegment::All(_) => f.write_str("$all"),
            ResourceSegment::CrossJoin(sets, _) => {
                f.write_str("$crossjoin(")?;
                join(f, sets, ",")?;
                f.write_char(')')
            }
            ResourceSegment::Each(_) => f.write_str("$each"),
            ResourceSegment::Filter(e, _) => write!(f, "$filter({e})"),
            ResourceSegment::Query(_) => f.write_str("$query"),
        }
    }
}

/// Would the parser read `s`, written as a path segment, back as a
/// key-as-segment string? (Not a name, not a number, only `pchar`s.)
fn raw_key_segment(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty()
        || b.iter().all(u8::is_ascii_digit)
        || (b.len() > 1 && b[0] == b'-' && b[1..].iter().all(u8::is_ascii_digit))
    {
        return false;
    }
    let allowed = |c: u8| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'%'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
            )
    };
    if !b.iter().all(|&c| allowed(c)) || b.contains(&b'/') {
        return false;
    }
    // `pct-encoded = "%" HEXDIG HEXDIG`
    let bad_pct = b.iter().enumerate().any(|(i, &c)| {
        c == b'%'
            && !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    if bad_pct {
        return false;
    }
    // The parser's `qualified_len`: identifiers (letters, `_`, digits after
    // the first, non-ASCII, `%8X`..`%FX`) joined by dots.
    let ident_len = |mut i: usize| -> usize {
        let start = i;
        let mut chars = 0;
        while i < b.len() {
            let c = b[i];
            let first = i == start;
            if (c.is_ascii_alphabetic() || c == b'_' || c >= 0x80) || (!first && c.is_ascii_digit())
            {
                if !(0x80..0xC0).contains(&c) {
                    chars += 1;
                }
                i += 1;
            } else if c == b'%'
                && i + 2 < b.len()
                && matches!(b[i + 1], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')
                && b[i + 2].is_ascii_hexdigit()
            {
                if !matches!(b[i + 1], b'8' | b'9' | b'a' | b'A' | b'b' | b'B') {
                    chars += 1;
                }
                i += 3;
            } else {
                break;
            }
        }
        if chars > 128 { 0 } else { i - start }
    };
    let mut n = if b[0].is_ascii_alphabetic() || b[0] == b'_' || b[0] >= 0x80 {
        ident_len(0)
    } else {
        0
    };
    if n > 0 {
        while n < b.len() && b[n] == b'.' {
            let m = ident_len(n + 1);
            if m == 0 {
                break;
            }
            n += 1 + m;
        }
        if n == b.len() || b[n] == b'(' || s[n..].starts_with("%28") {
            return false;
        }
    }
    b[0] != b'$'
}

/// Can this key segment be written as `/value` and read back the same?
fn raw_key(seg: &ResourceSegment) -> bool {
    match seg {
        ResourceSegment::KeySegment(e) => match &e.kind {
            ExprKind::Literal(Literal::Integer(_)) => true,
            ExprKind::Literal(Literal::Decimal(d)) => d
                .trim_start_matches('-')
                .bytes()
                .all(|c| c.is_ascii_digit()),
            ExprKind::Literal(Literal::String(s)) => raw_key_segment(s),
            _ => false,
        },
        _ => false,
    }
}

impl Display for ResourcePath {
    /// Keys are written as segments (`/1`) where they must be (after a name
    /// without key, or after another key segment) or where a run of keys
    /// can be; otherwise in parentheses (`Model.Cast(1)`).
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut prev_raw = false;
        for (i, seg) in self.segments.iter().enumerate() {
            if let (ResourceSegment::KeySegment(e), Some(prev)) =
                (seg, i.checked_sub(1).map(|j| &self.segments[j]))
            {
                let must_raw =
                    prev_raw || matches!(prev, ResourceSegment::Member { key: None, .. });
                let run_raw = self.segments[i..]
                    .iter()
                    .take_while(|s| matches!(s, ResourceSegment::KeySegment(_)))
                    .all(raw_key);
                if must_raw || run_raw {
                    write!(f, "/{seg}")?;
                    prev_raw = true;
                } else {
                    write!(f, "({e})")?;
                    prev_raw = false;
                }
                continue;
            }
            prev_raw = false;
            if i > 0 {
                f.write_char('/')?;
            }
            write!(f, "{seg}")?;
        }
        Ok(())
    }
}
