//! `$orderby`.

use super::{Expr, Span};

/// `$orderby=a desc,b`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OrderBy {
    /// The items in order.
    pub items: Vec<OrderByItem>,
    /// Span of the option value.
    pub span: Span,
}

/// One sort item.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OrderByItem {
    /// The sort expression.
    pub expr: Expr,
    /// `asc`/`desc` if written (`None` means ascending, printed without a keyword).
    pub direction: Option<SortDirection>,
    /// Span of the item.
    pub span: Span,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SortDirection {
    /// `asc`
    Asc,
    /// `desc`
    Desc,
}
