//! Primitive literals in their URL forms (ABNF section 7).

use nom::IResult;
use nom::Parser as _;
use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while_m_n};
use nom::combinator::{opt, recognize, verify};

use super::geo::geo_value;
use super::lexical::punct_len;
use super::{PResult, Parser};
use crate::ast::{Expr, ExprKind, Literal, Span};

type BResult<'a> = IResult<&'a [u8], &'a [u8]>;

fn digit(c: u8) -> bool {
    c.is_ascii_digit()
}

fn hexdig(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn num2(i: &[u8]) -> u32 {
    (i[0] - b'0') as u32 * 10 + (i[1] - b'0') as u32
}

fn two_digits(lo: u32, hi: u32) -> impl Fn(&[u8]) -> BResult<'_> {
    move |i| {
        verify(take_while_m_n(2, 2, digit), |s: &[u8]| {
            (lo..=hi).contains(&num2(s))
        })
        .parse(i)
    }
}

/// `COLON = ":" / "%3A"`
fn colon(i: &[u8]) -> BResult<'_> {
    alt((tag(&b":"[..]), tag_no_case(&b"%3A"[..]))).parse(i)
}

/// `SIGN = "+" / "%2B" / "-"`
fn sign(i: &[u8]) -> BResult<'_> {
    alt((tag(&b"+"[..]), tag_no_case(&b"%2B"[..]), tag(&b"-"[..]))).parse(i)
}

/// `year = [ "-" ] ( "0" 3DIGIT / oneToNine 3*DIGIT )`
fn year(i: &[u8]) -> BResult<'_> {
    recognize((
        opt(tag(&b"-"[..])),
        alt((
            recognize((tag(&b"0"[..]), take_while_m_n(3, 3, digit))),
            recognize((
                take_while_m_n(1, 1, |c: u8| (b'1'..=b'9').contains(&c)),
                take_while_m_n(3, 64, digit),
            )),
        )),
    ))
    .parse(i)
}

/// `date = year "-" month "-" day`
pub(crate) fn date(i: &[u8]) -> BResult<'_> {
    recognize((
        year,
        tag(&b"-"[..]),
        two_digits(1, 12),
        tag(&b"-"[..]),
        two_digits(1, 31),
    ))
    .parse(i)
}

/// `timeOfDayLiteral = hour COLON minute [ COLON second [ "." fractionalSeconds ] ]`
pub(crate) fn time_of_day(i: &[u8]) -> BResult<'_> {
    recognize((
        two_digits(0, 23),
        colon,
        two_digits(0, 59),
        opt((
            colon,
            two_digits(0, 60),
            opt((tag(&b"."[..]), take_while_m_n(1, 12, digit))),
        )),
    ))
    .parse(i)
}

/// `dateTimeOffsetLiteral = date "T" timeOfDayLiteral ( "Z" / SIGN hour COLON minute )`
pub(crate) fn date_time_offset(i: &[u8]) -> BResult<'_> {
    recognize((
        date,
        tag_no_case(&b"T"[..]),
        time_of_day,
        alt((
            tag_no_case(&b"Z"[..]),
            recognize((sign, two_digits(0, 23), colon, two_digits(0, 59))),
        )),
    ))
    .parse(i)
}

/// `guid = 8HEXDIG "-" 4HEXDIG "-" 4HEXDIG "-" 4HEXDIG "-" 12HEXDIG`
pub(crate) fn guid(i: &[u8]) -> BResult<'_> {
    recognize((
        take_while_m_n(8, 8, hexdig),
        tag(&b"-"[..]),
        take_while_m_n(4, 4, hexdig),
        tag(&b"-"[..]),
        take_while_m_n(4, 4, hexdig),
        tag(&b"-"[..]),
        take_while_m_n(4, 4, hexdig),
        tag(&b"-"[..]),
        take_while_m_n(12, 12, hexdig),
    ))
    .parse(i)
}

fn digits1(i: &[u8]) -> BResult<'_> {
    take_while_m_n(1, usize::MAX, digit).parse(i)
}

/// `durationValue = [ "-" ] "P" [ 1*DIGIT "D" ] [ "T" [ 1*DIGIT "H" ] [ 1*DIGIT "M" ] [ 1*DIGIT [ "." 1*DIGIT ] "S" ] ]`
pub(crate) fn duration_value(i: &[u8]) -> BResult<'_> {
    recognize((
        opt(tag(&b"-"[..])),
        tag_no_case(&b"P"[..]),
        opt((digits1, tag_no_case(&b"D"[..]))),
        opt((
            tag_no_case(&b"T"[..]),
            opt((digits1, tag_no_case(&b"H"[..]))),
            opt((digits1, tag_no_case(&b"M"[..]))),
            opt((
                digits1,
                opt((tag(&b"."[..]), digits1)),
                tag_no_case(&b"S"[..]),
            )),
        )),
    ))
    .parse(i)
}

/// Runs a nom recognizer that must match the whole of `s`; returns the
/// offset of the first byte it could not match.
pub(crate) fn whole(f: fn(&[u8]) -> BResult<'_>, s: &[u8]) -> Result<(), usize> {
    match f(s) {
        Ok((b"", _)) => Ok(()),
        Ok((rest, _)) => Err(s.len() - rest.len()),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(s.len() - e.input.len()),
        Err(nom::Err::Incomplete(_)) => Err(s.len()),
    }
}

fn base64char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

/// `binaryValue = *(4base64char) [ base64b16 / base64b8 ]`; error offset on failure.
pub(crate) fn binary_value(s: &[u8]) -> Result<(), usize> {
    let n = s.iter().take_while(|&&c| base64char(c)).count();
    let full = n - n % 4;
    let tail = &s[full..];
    let ok = |set: &[u8], c: u8| set.contains(&c);
    match n % 4 {
        0 => {
            if tail.is_empty() {
                Ok(())
            } else {
                Err(full)
            }
        }
        3 => {
            if !ok(b"AEIMQUYcgkosw048", tail[2]) {
                return Err(full + 2);
            }
            match &tail[3..] {
                b"" | b"=" => Ok(()),
                _ => Err(full + 3),
            }
        }
        2 => {
            if !ok(b"AQgw", tail[1]) {
                return Err(full + 1);
            }
            match &tail[2..] {
                b"" | b"==" => Ok(()),
                _ => Err(full + 2),
            }
        }
        _ => Err(n),
    }
}

/// `enumLiteral` content: `singleEnumLiteral *( COMMA singleEnumLiteral )`.
pub(crate) fn enum_members(s: &[u8]) -> Result<(), usize> {
    let mut i = 0;
    loop {
        let start = i;
        if i < s.len() && (s[i] == b'-' || s[i] == b'+') {
            i += 1;
        } else if s[i..].len() >= 3 && s[i..i + 3].eq_ignore_ascii_case(b"%2B") {
            i += 3;
        }
        let d = s[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if d > 0 {
            i += d;
        } else {
            i = start;
            if i >= s.len() || !(s[i].is_ascii_alphabetic() || s[i] == b'_') {
                return Err(i);
            }
            while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == b'_') {
                i += 1;
            }
        }
        if i == s.len() {
            return Ok(());
        }
        let c = punct_len(&s[i..], b',');
        if c == 0 {
            return Err(i);
        }
        i += c;
    }
}

/// Replaces the encoded twins `%3A` and `%2B` in date/time texts.
fn normalize_time(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    s.replace("%3A", ":")
        .replace("%3a", ":")
        .replace("%2B", "+")
        .replace("%2b", "+")
}

impl Parser<'_> {
    #[inline]
    fn lit(&mut self, lit: Literal, start: usize) -> PResult<Expr> {
        self.node()?;
        Ok(Expr {
            kind: ExprKind::Literal(lit),
            span: self.span(start),
        })
    }

    /// Runs a nom recognizer at the current position; on success advances and
    /// returns the matched text, on failure records the farthest offset.
    fn recognize(&mut self, f: fn(&[u8]) -> BResult<'_>, what: &'static str) -> PResult<&str> {
        let r = self.rest();
        match f(r) {
            Ok((rest, m)) => {
                let start = self.pos;
                self.pos += m.len();
                let _ = rest;
                Ok(self.text(start, self.pos))
            }
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
                let at = self.pos + (r.len() - e.input.len());
                Err(self.fail_at(at, what))
            }
            Err(nom::Err::Incomplete(_)) => Err(self.fail_at(self.end, what)),
        }
    }

    /// A literal starting with a digit, `-`, `+` or `%2B`: a GUID, date,
    /// dateTimeOffset, timeOfDay, `-INF` or a number.
    #[inline]
    pub(crate) fn number_like(&mut self) -> PResult<Expr> {
        let start = self.pos;
        let r = self.rest();
        // GUID: 8 hex digits and a dash.
        if r.len() >= 9 && r[..8].iter().all(|c| c.is_ascii_hexdigit()) && r[8] == b'-' {
            let t = self.recognize(guid, "GUID")?.to_string();
            return self.lit(Literal::Guid(t), start);
        }
        // Date or dateTimeOffset: [-] 4+ digits and a dash.
        let neg = usize::from(r.first() == Some(&b'-'));
        let yd = r[neg..].iter().take_while(|c| c.is_ascii_digit()).count();
        if yd >= 4 && r.get(neg + yd) == Some(&b'-') {
            let after_date = date(r);
            if let Ok((rest, _)) = after_date
                && matches!(rest.first(), Some(b'T' | b't'))
            {
                let t = normalize_time(self.recognize(date_time_offset, "dateTimeOffset")?);
                return self.lit(Literal::DateTimeOffset(t), start);
            }
            let t = self.recognize(date, "date")?.to_string();
            return self.lit(Literal::Date(t), start);
        }
        // timeOfDay: 2 digits and a colon.
        if neg == 0 && yd == 2 && punct_len(&r[2..], b':') > 0 {
            let t = normalize_time(self.recognize(time_of_day, "timeOfDay")?);
            return self.lit(Literal::TimeOfDay(t), start);
        }
        if r.starts_with(b"-INF") && !r.get(4).is_some_and(|&c| super::lexical::is_ident_char(c)) {
            self.pos += 4;
            return self.lit(Literal::Double("-INF".into()), start);
        }
        self.number()
    }

    /// `decimalLiteral = [ SIGN ] 1*DIGIT [ "." 1*DIGIT ] [ "e" [ SIGN ] 1*DIGIT ]`
    /// (integers are the same without fraction and exponent).
    #[inline]
    pub(crate) fn number(&mut self) -> PResult<Expr> {
        let start = self.pos;
        let negative = self.eat_byte(b'-');
        if !negative {
            self.eat(b'+');
        }
        let Some((ds, de)) = self.digits() else {
            return Err(self.fail("number"));
        };
        let mut is_decimal = false;
        let mut is_double = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits().is_none() {
                return Err(self.fail("digit"));
            }
            is_decimal = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let save = self.pos;
            self.pos += 1;
            if !self.eat_byte(b'-') {
                self.eat(b'+');
            }
            if self.digits().is_some() {
                is_double = true;
            } else {
                let _ = self.fail("digit");
                self.pos = save;
            }
        }
        // Integers are read without allocating; anything else keeps its text.
        let int = (!is_decimal && !is_double)
            .then(|| {
                self.b[ds..de].iter().try_fold(0i64, |acc, &d| {
                    let d = i64::from(d - b'0');
                    acc.checked_mul(10).and_then(|v| {
                        if negative {
                            v.checked_sub(d)
                        } else {
                            v.checked_add(d)
                        }
                    })
                })
            })
            .flatten();
        let text = || {
            let t = self.text(start, self.pos);
            if t.contains('%') {
                t.replace("%2B", "+").replace("%2b", "+")
            } else {
                t.to_string()
            }
        };
        let lit = match int {
            Some(v) => Literal::Integer(v),
            None if is_double => Literal::Double(text()),
            None => Literal::Decimal(text()),
        };
        self.lit(lit, start)
    }

    /// Is a single quote (or `%27`) at the current position?
    #[inline]
    pub(crate) fn at_squote(&self) -> bool {
        self.at(b'\'')
    }

    /// `stringLiteral = SQUOTE *( SQUOTE-in-string / pchar-no-SQUOTE ) SQUOTE`
    ///
    /// Returns the content with `''` collapsed, not percent-decoded.
    #[inline]
    pub(crate) fn string_content(&mut self) -> PResult<String> {
        self.quoted_text(false)
    }

    /// [`Parser::string_content`]; with `dquote` also allowing `"` (the
    /// `searchExpr-incomplete` form of `$search`).
    #[inline]
    pub(crate) fn quoted_text(&mut self, dquote: bool) -> PResult<String> {
        if !self.eat(b'\'') {
            return Err(self.fail("string"));
        }
        let mut out = String::new();
        let mut seg = self.pos;
        loop {
            let q = punct_len(self.rest(), b'\'');
            if q > 0 {
                out.push_str(self.text(seg, self.pos));
                self.pos += q;
                let q2 = punct_len(self.rest(), b'\'');
                if q2 > 0 {
                    out.push('\'');
                    self.pos += q2;
                    seg = self.pos;
                    continue;
                }
                return Ok(out);
            }
            let Some(c) = self.peek() else {
                return Err(self.fail("\"'\""));
            };
            let ok = match c {
                b'%' => {
                    let r = self.rest();
                    if r.len() >= 3 && r[1].is_ascii_hexdigit() && r[2].is_ascii_hexdigit() {
                        self.pos += 2;
                        true
                    } else {
                        false
                    }
                }
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => true,
                b'-' | b'.' | b'_' | b'~' | b'!' | b'(' | b')' | b'*' | b'+' | b',' | b';'
                | b'$' | b'=' | b':' | b'@' | b' ' => true,
                // `qchar-no-AMP-SQUOTE` in `searchExpr-incomplete` has no `&`.
                b'&' => !dquote,
                b'/' | b'?' => !self.in_resource_path,
                b'"' => dquote,
                c => c >= 0x80,
            };
            if !ok {
                return Err(self.fail("\"'\""));
            }
            self.pos += 1;
        }
    }

    #[inline]
    pub(crate) fn string_literal(&mut self) -> PResult<Expr> {
        let start = self.pos;
        let s = self.string_content()?;
        self.lit(Literal::String(s), start)
    }

    /// The content of a prefixed literal `prefix'...'`, validated by `check`.
    fn quoted(
        &mut self,
        check: fn(&[u8]) -> Result<(), usize>,
        what: &'static str,
    ) -> PResult<String> {
        if !self.eat(b'\'') {
            return Err(self.fail("\"'\""));
        }
        let cstart = self.pos;
        loop {
            if self.at_end() {
                return Err(self.fail(what));
            }
            if self.at(b'\'') {
                break;
            }
            self.pos += 1;
        }
        let cend = self.pos;
        if let Err(off) = check(&self.b[cstart..cend]) {
            return Err(self.fail_at(cstart + off, what));
        }
        self.eat(b'\'');
        Ok(self.text(cstart, cend).to_string())
    }

    /// `durationLiteral`, `binaryLiteral`, geo literals and `enumLiteral`:
    /// the prefix `name` was read and a quote follows.
    pub(crate) fn prefixed_literal(&mut self, start: usize, name: &str) -> PResult<Expr> {
        let lit = if name.eq_ignore_ascii_case("duration") {
            Literal::Duration(self.quoted(|s| whole(duration_value, s), "duration")?)
        } else if name.eq_ignore_ascii_case("binary") {
            Literal::Binary(self.quoted(binary_value, "base64url")?)
        } else if name.eq_ignore_ascii_case("geography") {
            Literal::Geo {
                geography: true,
                text: self.quoted(geo_value, "geography literal")?,
            }
        } else if name.eq_ignore_ascii_case("geometry") {
            Literal::Geo {
                geography: false,
                text: self.quoted(geo_value, "geometry literal")?,
            }
        } else if name.contains('.') {
            Literal::Enum {
                type_name: name.to_string(),
                value: self.quoted(enum_members, "enum member")?,
            }
        } else {
            return Err(self.fail_at(start, "literal"));
        };
        self.lit(lit, start)
    }

    /// A span-only helper for literals built elsewhere.
    #[inline]
    pub(crate) fn literal_expr(&mut self, lit: Literal, span: Span) -> PResult<Expr> {
        self.node()?;
        Ok(Expr {
            kind: ExprKind::Literal(lit),
            span,
        })
    }
}
