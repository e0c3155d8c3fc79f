//! Parse errors as data, and their human rendering.

use std::fmt;

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text does not match the grammar at `offset`.
    Syntax,
    /// The input ended where more was expected.
    UnexpectedEnd,
    /// A configured limit of [`crate::ParserOptions`] was exceeded.
    LimitExceeded(Limit),
    /// `$top`, `$skip`, `$levels` or `$index` does not fit in 64 bits.
    IntegerOverflow,
    /// The same system query option was given twice.
    DuplicateOption,
    /// A `$`-prefixed query option that OData does not define.
    UnknownOption,
}

/// Which limit of [`crate::ParserOptions`] was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// [`crate::ParserOptions::max_input_len`].
    InputLength,
    /// [`crate::ParserOptions::max_depth`].
    Depth,
    /// [`crate::ParserOptions::max_nodes`].
    Nodes,
    /// [`crate::ParserOptions::max_expand_depth`].
    ExpandDepth,
}

impl ErrorKind {
    /// A stable machine-readable code (`"syntax"`, `"limit_exceeded"`, ...).
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "syntax",
            ErrorKind::UnexpectedEnd => "unexpected_end",
            ErrorKind::LimitExceeded(_) => "limit_exceeded",
            ErrorKind::IntegerOverflow => "integer_overflow",
            ErrorKind::DuplicateOption => "duplicate_option",
            ErrorKind::UnknownOption => "unknown_option",
        }
    }
}

/// A parse failure: where, in which option, and what was expected there.
///
/// `offset` is the farthest byte offset the parser reached. For
/// [`crate::parse_query`] it is an offset into the whole raw query string;
/// for the per-option entry points an offset into their input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Byte offset of the failure in the parsed text.
    pub offset: usize,
    /// The query option being parsed (`"$filter"`, `"$expand"`, ...), if any.
    pub option: Option<String>,
    /// What would have been accepted at `offset` (`"expression"`, `"')'"`, ...),
    /// sorted and deduplicated.
    pub expected: Vec<String>,
}

impl ParseError {
    pub(crate) fn new(kind: ErrorKind, offset: usize) -> Self {
        ParseError {
            kind,
            offset,
            option: None,
            expected: Vec::new(),
        }
    }

    /// A one-line human message (without the source excerpt).
    pub fn message(&self) -> String {
        let mut m = match self.kind {
            ErrorKind::Syntax => String::from("syntax error"),
            ErrorKind::UnexpectedEnd => String::from("unexpected end of input"),
            ErrorKind::LimitExceeded(l) => format!(
                "{} limit exceeded",
                match l {
                    Limit::InputLength => "input length",
                    Limit::Depth => "nesting depth",
                    Limit::Nodes => "node count",
                    Limit::ExpandDepth => "$expand depth",
                }
            ),
            ErrorKind::IntegerOverflow => String::from("integer too large"),
            ErrorKind::DuplicateOption => String::from("query option given twice"),
            ErrorKind::UnknownOption => String::from("unknown system query option"),
        };
        if let Some(o) = &self.option {
            m.push_str(" in ");
            m.push_str(o);
        }
        m.push_str(&format!(" at offset {}", self.offset));
        if !self.expected.is_empty() {
            m.push_str(": expected ");
            m.push_str(&self.expected.join(" or "));
        }
        m
    }

    /// The error with an excerpt of `source` (the text that was parsed) and
    /// a caret under the offset. Long inputs are cut to a window around it.
    pub fn render(&self, source: &str) -> String {
        render_caret(&self.message(), source, self.offset)
    }
}

/// `message` with an excerpt of `source` and a caret under byte `offset`
/// (clamped to the text), the way [`ParseError::render`] shows a parse
/// error: for errors found after parsing (an unknown property, a wrong
/// type) whose offset points into the same text. Long inputs are cut to a
/// window of 60 bytes each side of the offset, marked with `...`; control
/// characters are shown as spaces so the caret stays aligned.
///
/// ```
/// let text = odata_parser::render_caret("unknown property", "$filter=stauts eq 1", 8);
/// assert_eq!(
///     text,
///     "error: unknown property\n  |\n  | $filter=stauts eq 1\n  |         ^\n"
/// );
/// ```
pub fn render_caret(message: &str, source: &str, offset: usize) -> String {
    const WINDOW: usize = 60;
    let off = source.floor_char_boundary(offset.min(source.len()));
    let mut start = off.saturating_sub(WINDOW);
    while !source.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (off + WINDOW).min(source.len());
    while !source.is_char_boundary(end) {
        end += 1;
    }
    let mut line = String::new();
    let mut caret_col = 0;
    if start > 0 {
        line.push_str("...");
    }
    for (i, ch) in source[start..end].char_indices() {
        if start + i == off {
            caret_col = line.chars().count();
        }
        // Control characters would break the caret alignment.
        if ch.is_control() {
            line.push(' ');
        } else {
            line.push(ch);
        }
    }
    if off >= end {
        caret_col = line.chars().count();
    }
    if end < source.len() {
        line.push_str("...");
    }
    format!(
        "error: {message}\n  |\n  | {line}\n  | {}^\n",
        " ".repeat(caret_col)
    )
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ParseError {}
