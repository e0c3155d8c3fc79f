//! Lexical rules: whitespace, punctuation with its percent-encoded twin,
//! keywords and identifiers.

use nom::IResult;
use nom::Parser as _;
use nom::bytes::complete::{tag, take_while_m_n};
use nom::combinator::{recognize, verify};

use super::{PResult, Parser};
use crate::ast::{Ident, Span};

/// `pct-encoded = "%" HEXDIG HEXDIG` (nom).
pub(crate) fn pct_encoded(i: &[u8]) -> IResult<&[u8], &[u8]> {
    recognize((
        tag(&b"%"[..]),
        take_while_m_n(2, 2, |c: u8| c.is_ascii_hexdigit()),
    ))
    .parse(i)
}

/// A percent-encoded byte of a non-ASCII character (`%C3`, `%A4`): the
/// "percent-encoded Unicode characters" allowed in `odataIdentifier`.
fn pct_encoded_non_ascii(i: &[u8]) -> IResult<&[u8], &[u8]> {
    verify(
        pct_encoded,
        |s: &[u8]| matches!(s[1], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F'),
    )
    .parse(i)
}

/// Length of the encoded twin `%XX` of `c` at the start of `s`, if present.
#[inline]
fn encoded_len(s: &[u8], c: u8) -> usize {
    if s.len() >= 3 && s[0] == b'%' {
        let hex = b"0123456789ABCDEF";
        let hi = hex[(c >> 4) as usize];
        let lo = hex[(c & 15) as usize];
        if s[1] == hi && s[2].eq_ignore_ascii_case(&lo) {
            return 3;
        }
    }
    0
}

/// Length of `c` or its encoded twin at the start of `s` (0 if absent).
#[inline]
pub(crate) fn punct_len(s: &[u8], c: u8) -> usize {
    match s.first() {
        Some(&x) if x == c => 1,
        Some(b'%') => encoded_len(s, c),
        _ => 0,
    }
}

#[inline]
pub(crate) fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

#[inline]
pub(crate) fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// The built-in function names (lower case) with their arity range.
pub(crate) fn builtin_arity(lower: &str) -> Option<(usize, usize)> {
    Some(match lower {
        "contains" | "endswith" | "startswith" | "indexof" | "concat" | "matchespattern"
        | "hassubset" | "hassubsequence" | "geo.distance" | "geo.intersects" => (2, 2),
        "substring" => (2, 3),
        "length" | "tolower" | "toupper" | "trim" | "year" | "month" | "day" | "hour"
        | "minute" | "second" | "fractionalseconds" | "totalseconds" | "date" | "time"
        | "totaloffsetminutes" | "round" | "floor" | "ceiling" | "geo.length" | "isdefined" => {
            (1, 1)
        }
        "mindatetime" | "maxdatetime" | "now" => (0, 0),
        "isof" | "cast" => (1, 2),
        "case" => (2, usize::MAX),
        _ => return None,
    })
}

impl<'a> Parser<'a> {
    /// `BWS = *( SP / HTAB / "%20" / "%09" )`
    #[inline]
    pub(crate) fn bws(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t') => self.pos += 1,
                Some(b'%') => {
                    let r = self.rest();
                    if r.len() >= 3 && (&r[..3] == b"%20" || &r[..3] == b"%09") {
                        self.pos += 3;
                    } else {
                        return;
                    }
                }
                _ => return,
            }
        }
    }

    /// `RWS = 1*( SP / HTAB / "%20" / "%09" )`; true if any was read.
    #[inline]
    pub(crate) fn rws(&mut self) -> bool {
        let p = self.pos;
        self.bws();
        self.pos > p
    }

    /// Reads `c` or its percent-encoded twin.
    #[inline]
    pub(crate) fn eat(&mut self, c: u8) -> bool {
        let n = punct_len(self.rest(), c);
        self.pos += n;
        n > 0
    }

    #[inline]
    pub(crate) fn at(&self, c: u8) -> bool {
        punct_len(self.rest(), c) > 0
    }

    /// Reads `c` (or its twin) or fails expecting `what`.
    #[inline]
    pub(crate) fn expect(&mut self, c: u8, what: &'static str) -> PResult<()> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.fail(what))
        }
    }

    /// Reads the byte `c` exactly (no encoded twin).
    #[inline]
    pub(crate) fn eat_byte(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Is the case-insensitive keyword `kw` at the current position, not
    /// followed by an identifier character?
    #[inline]
    pub(crate) fn at_kw(&self, kw: &str) -> bool {
        let r = self.rest();
        let k = kw.as_bytes();
        r.len() >= k.len()
            && r[..k.len()].eq_ignore_ascii_case(k)
            && !r.get(k.len()).is_some_and(|&c| is_ident_char(c))
    }

    /// Like [`Parser::at_kw`] but case-sensitive (`%s"..."` in the ABNF).
    #[inline]
    pub(crate) fn at_kw_cs(&self, kw: &str) -> bool {
        let r = self.rest();
        let k = kw.as_bytes();
        r.len() >= k.len()
            && &r[..k.len()] == k
            && !r.get(k.len()).is_some_and(|&c| is_ident_char(c))
    }

    pub(crate) fn eat_kw(&mut self, kw: &str) -> bool {
        if self.at_kw(kw) {
            self.pos += kw.len();
            true
        } else {
            false
        }
    }

    pub(crate) fn eat_kw_cs(&mut self, kw: &str) -> bool {
        if self.at_kw_cs(kw) {
            self.pos += kw.len();
            true
        } else {
            false
        }
    }

    /// Length of an `odataIdentifier` at the current position (0 if none).
    ///
    /// `odataIdentifier = identifierLeadingCharacter *127identifierCharacter`
    /// (letters, `_`, digits after the first, percent-encoded or raw
    /// non-ASCII characters).
    pub(crate) fn ident_len(&self) -> usize {
        self.ident_len_at(self.pos)
    }

    /// [`Parser::ident_len`] at position `p`.
    #[inline]
    pub(crate) fn ident_len_at(&self, p: usize) -> usize {
        let r = &self.b[p.min(self.end)..self.end];
        // Fast path: plain ASCII identifiers.
        match r.first() {
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {}
            Some(c) if *c == b'%' || *c >= 0x80 => {}
            _ => return 0,
        }
        let ascii = r
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        if ascii <= 128 && !matches!(r.get(ascii), Some(b'%') | Some(0x80..)) {
            return ascii;
        }
        let mut i = 0;
        let mut chars = 0;
        while i < r.len() {
            let c = r[i];
            if (i == 0 && is_ident_start(c)) || (i > 0 && is_ident_char(c)) {
                // A raw non-ASCII character counts once (continuation bytes are free).
                if !(0x80..0xC0).contains(&c) {
                    chars += 1;
                }
                i += 1;
            } else if c == b'%' {
                match pct_encoded_non_ascii(&r[i..]) {
                    Ok(_) => {
                        if !matches!(r[i + 1], b'8' | b'9' | b'a' | b'A' | b'b' | b'B') {
                            chars += 1;
                        }
                        i += 3;
                    }
                    Err(_) => break,
                }
            } else {
                break;
            }
        }
        if chars > 128 {
            // `odataIdentifier` has at most 128 characters.
            return 0;
        }
        i
    }

    /// `odataIdentifier`, or a failure expecting `what`.
    #[inline]
    pub(crate) fn ident(&mut self, what: &'static str) -> PResult<Ident> {
        let n = self.ident_len();
        if n == 0 {
            return Err(self.fail(what));
        }
        let start = self.pos;
        self.pos += n;
        Ok(Ident {
            name: self.text(start, self.pos).to_string(),
            span: self.span(start),
        })
    }

    /// `namespace "." name` or a plain identifier: identifiers joined by dots.
    /// Stops before a dot that is not followed by an identifier.
    #[inline]
    pub(crate) fn qualified_len(&self) -> usize {
        let mut p = self.pos;
        let mut n = self.ident_len_at(p);
        if n == 0 {
            return 0;
        }
        p += n;
        while p < self.end && self.b[p] == b'.' {
            n = self.ident_len_at(p + 1);
            if n == 0 {
                break;
            }
            p += 1 + n;
        }
        p - self.pos
    }

    /// A (possibly) qualified name.
    #[inline]
    pub(crate) fn qualified(&mut self, what: &'static str) -> PResult<Ident> {
        let n = self.qualified_len();
        if n == 0 {
            return Err(self.fail(what));
        }
        let start = self.pos;
        self.pos += n;
        Ok(Ident {
            name: self.text(start, self.pos).to_string(),
            span: self.span(start),
        })
    }

    /// An identifier made from a span of already checked text.
    pub(crate) fn ident_from(&self, start: usize, end: usize) -> Ident {
        Ident {
            name: self.text(start, end).to_string(),
            span: Span::new(start, end),
        }
    }

    /// Reads `1*DIGIT` and returns its text.
    #[inline]
    pub(crate) fn digits(&mut self) -> Option<(usize, usize)> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos > start {
            Some((start, self.pos))
        } else {
            None
        }
    }
}
