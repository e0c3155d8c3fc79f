//! The recursive-descent parser.
//!
//! One [`Parser`] walks the raw URL text once. Each ABNF rule is a small
//! method (doc comments quote the rule). Failures are recorded as "farthest
//! position reached + what was expected there"; a rule returns `Err(Fail)`
//! and the caller either tries another alternative (restoring `pos`) or
//! propagates. Hard failures (limits, integer overflow, duplicate options)
//! are stored in `hard` and are never backtracked over.
//!
//! Lexical rules (whitespace, encoded punctuation, identifiers, number and
//! date/time recognizers) are nom 8 parsers in [`lexical`] and [`literal`].

pub(crate) mod apply;
pub(crate) mod compute;
pub(crate) mod expand;
pub(crate) mod expr;
pub(crate) mod geo;
pub(crate) mod json;
pub(crate) mod lexical;
pub(crate) mod literal;
pub(crate) mod member_path;
pub(crate) mod orderby;
pub(crate) mod path;
pub(crate) mod query;
pub(crate) mod search;
pub(crate) mod select;

use crate::ParserOptions;
use crate::ast::Span;
use crate::error::{ErrorKind, Limit, ParseError};

/// Marker for a failed rule; the details live in the [`Parser`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fail;

pub(crate) type PResult<T> = Result<T, Fail>;

pub(crate) struct Parser<'a> {
    pub(crate) src: &'a str,
    pub(crate) b: &'a [u8],
    pub(crate) pos: usize,
    /// End of the text the current rule may read (end of the option value).
    pub(crate) end: usize,
    pub(crate) opts: &'a ParserOptions,
    depth: usize,
    nodes: usize,
    pub(crate) expand_depth: usize,
    far: usize,
    expected: Vec<&'static str>,
    far_option: Option<&'static str>,
    /// The option being parsed, for error reports.
    pub(crate) option: Option<&'static str>,
    hard: Option<ParseError>,
    /// Inside a resource path: `/` and `?` may not appear in string literals.
    pub(crate) in_resource_path: bool,
    /// How many nested option lists (`(...;...)`) enclose the position.
    pub(crate) nested_options: usize,
    /// Accept a repeated system query option (last wins): the grammar-only
    /// mode used by the conformance harness.
    pub(crate) allow_duplicates: bool,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str, opts: &'a ParserOptions) -> Self {
        Parser {
            src,
            b: src.as_bytes(),
            pos: 0,
            end: src.len(),
            opts,
            depth: 0,
            nodes: 0,
            expand_depth: 0,
            far: 0,
            expected: Vec::new(),
            far_option: None,
            option: None,
            hard: None,
            in_resource_path: false,
            nested_options: 0,
            allow_duplicates: false,
        }
    }

    /// Checks the input length limit before anything is parsed.
    pub(crate) fn check_len(&mut self) -> PResult<()> {
        if self.src.len() > self.opts.max_input_len {
            return Err(self.hard_error(
                ErrorKind::LimitExceeded(Limit::InputLength),
                self.opts.max_input_len,
            ));
        }
        Ok(())
    }

    // ----- failure bookkeeping -------------------------------------------

    /// Records that `what` was expected at the current position.
    #[cold]
    pub(crate) fn fail(&mut self, what: &'static str) -> Fail {
        let pos = self.pos;
        self.fail_at(pos, what)
    }

    /// Records that `what` was expected at `pos`.
    #[cold]
    pub(crate) fn fail_at(&mut self, pos: usize, what: &'static str) -> Fail {
        if pos > self.far || (self.expected.is_empty() && self.far_option.is_none()) {
            self.far = pos;
            self.expected.clear();
            self.far_option = self.option;
        }
        if pos == self.far && !what.is_empty() && !self.expected.contains(&what) {
            self.expected.push(what);
        }
        Fail
    }

    /// A failure that no alternative may recover from.
    #[cold]
    pub(crate) fn hard_error(&mut self, kind: ErrorKind, pos: usize) -> Fail {
        if self.hard.is_none() {
            let mut e = ParseError::new(kind, pos);
            e.option = self.option.map(str::to_string);
            self.hard = Some(e);
        }
        Fail
    }

    pub(crate) fn hard_error_expected(
        &mut self,
        kind: ErrorKind,
        pos: usize,
        what: &'static str,
    ) -> Fail {
        self.hard_error(kind, pos);
        if let Some(h) = &mut self.hard
            && h.expected.is_empty()
        {
            h.expected.push(what.to_string());
        }
        Fail
    }

    /// Names the option of the pending hard error.
    pub(crate) fn set_hard_option(&mut self, name: String) {
        if let Some(h) = &mut self.hard {
            h.option = Some(name);
        }
    }

    /// Runs `f`; on a soft failure restores the position and returns `None`.
    #[inline]
    pub(crate) fn attempt<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> PResult<T>,
    ) -> PResult<Option<T>> {
        let save = self.pos;
        match f(self) {
            Ok(v) => Ok(Some(v)),
            Err(Fail) if self.hard.is_none() => {
                self.pos = save;
                Ok(None)
            }
            Err(Fail) => Err(Fail),
        }
    }

    /// The final error after a failed parse.
    pub(crate) fn into_error(self) -> ParseError {
        if let Some(h) = self.hard {
            return h;
        }
        let kind = if self.far >= self.end_of_text() {
            ErrorKind::UnexpectedEnd
        } else {
            ErrorKind::Syntax
        };
        let mut e = ParseError::new(kind, self.far);
        e.option = self.far_option.or(self.option).map(str::to_string);
        let mut exp: Vec<String> = self.expected.iter().map(|s| s.to_string()).collect();
        exp.sort();
        exp.dedup();
        e.expected = exp;
        e
    }

    fn end_of_text(&self) -> usize {
        self.src.len()
    }

    /// Fails unless the whole text up to `end` was consumed.
    pub(crate) fn expect_end(&mut self, what: &'static str) -> PResult<()> {
        if self.pos < self.end {
            return Err(self.fail(what));
        }
        Ok(())
    }

    // ----- limits ----------------------------------------------------------

    /// Enters one level of nesting.
    #[inline]
    pub(crate) fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > self.opts.max_depth {
            let pos = self.pos;
            return Err(self.hard_error(ErrorKind::LimitExceeded(Limit::Depth), pos));
        }
        Ok(())
    }

    #[inline]
    pub(crate) fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Counts one syntax node.
    #[inline]
    pub(crate) fn node(&mut self) -> PResult<()> {
        self.nodes += 1;
        if self.nodes > self.opts.max_nodes {
            let pos = self.pos;
            return Err(self.hard_error(ErrorKind::LimitExceeded(Limit::Nodes), pos));
        }
        Ok(())
    }

    // ----- small helpers ---------------------------------------------------

    #[inline]
    pub(crate) fn span(&self, start: usize) -> Span {
        Span::new(start, self.pos)
    }

    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        if self.pos < self.end {
            Some(self.b[self.pos])
        } else {
            None
        }
    }

    #[inline]
    pub(crate) fn peek_at(&self, i: usize) -> Option<u8> {
        let p = self.pos + i;
        if p < self.end { Some(self.b[p]) } else { None }
    }

    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.b[self.pos.min(self.end)..self.end]
    }

    #[inline]
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.end
    }

    pub(crate) fn text(&self, start: usize, end: usize) -> &'a str {
        &self.src[start..end]
    }
}
