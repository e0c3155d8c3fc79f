//! `$search`.

use super::Span;

/// `$search=...`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Search {
    /// The search expression.
    pub expr: SearchExpr,
    /// Span of the option value.
    pub span: Span,
}

/// A search expression. Precedence: `NOT` > `AND` (explicit or implicit) > `OR`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SearchExpr {
    /// A single word (no spaces, no quotes), as written.
    Term(String, Span),
    /// A double-quoted phrase, content with `\"`/`\\` escapes resolved.
    Phrase(String, Span),
    /// `NOT x`.
    Not(Box<SearchExpr>, Span),
    /// `a AND b` or `a b` (implicit AND).
    And(Box<SearchExpr>, Box<SearchExpr>, Span),
    /// `a OR b`.
    Or(Box<SearchExpr>, Box<SearchExpr>, Span),
}
