//! `$compute`.

use super::{Expr, Ident, Span};

/// `$compute=expr as name, ...`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Compute {
    /// The computed properties in order.
    pub items: Vec<ComputeItem>,
    /// Span of the option value.
    pub span: Span,
}

/// `expr as alias`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ComputeItem {
    /// The expression.
    pub expr: Expr,
    /// The new property name.
    pub alias: Ident,
    /// Span of the item.
    pub span: Span,
}
