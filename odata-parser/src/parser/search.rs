//! `$search` (OData 4.01 section 5.1.7).
//!
//! `AND`, `OR` and `NOT` are operators only where an operator can stand
//! (followed by whitespace and an operand); elsewhere they are words, as in
//! the ABNF (`$search=AND OR NOT` is valid). Precedence: `NOT` > `AND`
//! (explicit or implicit) > `OR`.

use super::lexical::punct_len;
use super::{PResult, Parser};
use crate::ast::{Search, SearchExpr, Span};

fn span_of(e: &SearchExpr) -> Span {
    match e {
        SearchExpr::Term(_, s)
        | SearchExpr::Phrase(_, s)
        | SearchExpr::Not(_, s)
        | SearchExpr::And(_, _, s)
        | SearchExpr::Or(_, _, s) => *s,
    }
}

impl Parser<'_> {
    /// The value of `$search`: `BWS ( searchExpr / searchExpr-incomplete )`.
    pub(crate) fn search_option(&mut self) -> PResult<Search> {
        self.bws();
        let start = self.pos;
        let expr = if self.at(b'\'') {
            self.search_incomplete()?
        } else {
            self.search_or()?
        };
        Ok(Search {
            expr,
            span: self.span(start),
        })
    }

    /// `searchExpr-incomplete = SQUOTE *( SQUOTE-in-string / qchar-no-AMP-SQUOTE / quotation-mark / SP ) SQUOTE`,
    /// kept as a phrase.
    fn search_incomplete(&mut self) -> PResult<SearchExpr> {
        let start = self.pos;
        let mut s = self.quoted_text(true)?;
        // A phrase stores real double quotes (escapes resolved).
        if s.contains('%') {
            s = s.replace("%22", "\"");
        }
        self.node()?;
        Ok(SearchExpr::Phrase(s, self.span(start)))
    }

    /// `searchOrExpr` chains.
    pub(crate) fn search_or(&mut self) -> PResult<SearchExpr> {
        self.enter()?;
        let mut left = self.search_and()?;
        loop {
            let save = self.pos;
            if self.rws() && self.eat_kw_cs("OR") && self.rws() && self.search_operand_start() {
                let right = self.search_and()?;
                let span = span_of(&left).to(span_of(&right));
                self.node()?;
                left = SearchExpr::Or(Box::new(left), Box::new(right), span);
            } else {
                self.pos = save;
                break;
            }
        }
        self.leave();
        Ok(left)
    }

    /// `searchAndExpr = RWS [ %s"AND" RWS ] searchExpr` chains.
    fn search_and(&mut self) -> PResult<SearchExpr> {
        let mut left = self.search_unary()?;
        loop {
            let save = self.pos;
            if !self.rws() {
                break;
            }
            let after_ws = self.pos;
            if self.eat_kw_cs("AND") && self.rws() && self.search_operand_start() {
                // explicit AND
            } else {
                self.pos = after_ws;
                let is_or = self.at_kw_cs("OR") && {
                    self.pos += 2;
                    let r = self.rws() && self.search_operand_start();
                    self.pos = after_ws;
                    r
                };
                if is_or || !self.search_operand_start() {
                    self.pos = save;
                    break;
                }
            }
            let right = self.search_unary()?;
            let span = span_of(&left).to(span_of(&right));
            self.node()?;
            left = SearchExpr::And(Box::new(left), Box::new(right), span);
        }
        Ok(left)
    }

    /// Can a search operand start here?
    fn search_operand_start(&self) -> bool {
        let r = self.rest();
        match r.first() {
            None => false,
            Some(b'(' | b'"') => true,
            Some(b'%') => {
                punct_len(r, b'(') > 0
                    || punct_len(r, b'"') > 0
                    || self.search_char_len(self.pos) > 0
            }
            _ => self.search_char_len(self.pos) > 0,
        }
    }

    /// `searchNegateExpr = %s"NOT" RWS searchExpr`, or a primary.
    fn search_unary(&mut self) -> PResult<SearchExpr> {
        let start = self.pos;
        if self.at_kw_cs("NOT") {
            self.pos += 3;
            if self.rws() && self.search_operand_start() {
                self.enter()?;
                let inner = self.search_unary()?;
                self.leave();
                self.node()?;
                let span = Span::new(start, span_of(&inner).end);
                return Ok(SearchExpr::Not(Box::new(inner), span));
            }
            self.pos = start;
        }
        self.search_primary()
    }

    /// `searchParenExpr / searchPhrase / searchWord`
    fn search_primary(&mut self) -> PResult<SearchExpr> {
        let start = self.pos;
        if self.eat(b'(') {
            self.bws();
            let mut e = self.search_or()?;
            self.bws();
            self.expect(b')', "')'")?;
            // The parenthesised span covers the parentheses.
            let outer = self.span(start);
            match &mut e {
                SearchExpr::Term(_, s)
                | SearchExpr::Phrase(_, s)
                | SearchExpr::Not(_, s)
                | SearchExpr::And(_, _, s)
                | SearchExpr::Or(_, _, s) => *s = outer,
            }
            return Ok(e);
        }
        if self.at(b'"') {
            return self.search_phrase();
        }
        let n = self.search_word_len();
        if n == 0 {
            return Err(self.fail("search term"));
        }
        self.pos += n;
        self.node()?;
        Ok(SearchExpr::Term(
            self.text(start, self.pos).to_string(),
            self.span(start),
        ))
    }

    /// Length of one `searchChar` at byte `p` (0 if none).
    fn search_char_len(&self, p: usize) -> usize {
        let Some(&c) = self.b.get(p).filter(|_| p < self.end) else {
            return 0;
        };
        match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => 1,
            b'-' | b'.' | b'_' | b'~' | b'!' | b'*' | b'+' | b',' | b':' | b'@' | b'/' | b'?'
            | b'$' | b'=' => 1,
            b'%' => {
                let r = &self.b[p..self.end];
                if r.len() < 3 || !r[1].is_ascii_hexdigit() || !r[2].is_ascii_hexdigit() {
                    return 0;
                }
                let code = (r[1].to_ascii_uppercase(), r[2].to_ascii_uppercase());
                match code {
                    (b'2', b'2')
                    | (b'2', b'0')
                    | (b'0', b'9')
                    | (b'2', b'8')
                    | (b'2', b'9')
                    | (b'2', b'7') => 0,
                    _ => 3,
                }
            }
            c if c >= 0x80 => 1,
            _ => 0,
        }
    }

    /// `searchWord = searchChar *( searchChar / SQUOTE )`
    fn search_word_len(&self) -> usize {
        let mut p = self.pos;
        let first = self.search_char_len(p);
        if first == 0 {
            return 0;
        }
        p += first;
        loop {
            let n = self.search_char_len(p);
            if n > 0 {
                p += n;
                continue;
            }
            let q = punct_len(&self.b[p.min(self.end)..self.end], b'\'');
            if q > 0 {
                p += q;
                continue;
            }
            break;
        }
        p - self.pos
    }

    /// `searchPhrase = quotation-mark 1*( qchar-no-AMP-DQUOTE / SP ) quotation-mark`
    /// (`\"` and `\\` are accepted as escapes and resolved).
    fn search_phrase(&mut self) -> PResult<SearchExpr> {
        let start = self.pos;
        self.eat(b'"');
        let mut out = String::new();
        let mut seg = self.pos;
        loop {
            if self.at(b'"') {
                out.push_str(self.text(seg, self.pos));
                if out.is_empty() {
                    return Err(self.fail("search phrase"));
                }
                self.eat(b'"');
                break;
            }
            if self.peek() == Some(b'\\') {
                let save = self.pos;
                self.pos += 1;
                if self.at(b'"') || self.at(b'\\') {
                    out.push_str(self.text(seg, save));
                    out.push(if self.eat(b'"') {
                        '"'
                    } else {
                        self.eat(b'\\');
                        '\\'
                    });
                    seg = self.pos;
                    continue;
                }
                self.pos = save;
            }
            let Some(c) = self.peek() else {
                return Err(self.fail("'\"'"));
            };
            let n = match c {
                b' ' | b'\'' | b'(' | b')' | b';' | b'\\' => 1,
                _ => self
                    .search_char_len(self.pos)
                    .max(if c == b'%' && self.rest().len() >= 3 {
                        3
                    } else {
                        0
                    }),
            };
            if n == 0
                || (c == b'%'
                    && !(self.rest()[1].is_ascii_hexdigit() && self.rest()[2].is_ascii_hexdigit()))
            {
                return Err(self.fail("'\"'"));
            }
            self.pos += n;
        }
        self.node()?;
        Ok(SearchExpr::Phrase(out, self.span(start)))
    }
}
