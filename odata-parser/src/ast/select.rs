//! `$select`.

use super::{Ident, PathSegment, QueryOptions, Span};

/// `$select=a,b/c,*`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Select {
    /// The items in order.
    pub items: Vec<SelectItem>,
    /// Span of the option value.
    pub span: Span,
}

/// One `$select` item.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SelectItem {
    /// `*`.
    Star(Span),
    /// `Namespace.*` (all operations of a namespace).
    AllOperations(Ident),
    /// An action or function given with its parameter-name signature,
    /// `Model.MostPopularName(Location,Kind)` (without a signature, an
    /// operation name is a one-segment [`SelectItem::Path`]).
    Operation {
        /// The (optionally qualified) operation name.
        name: Ident,
        /// The parameter names.
        parameters: Vec<Ident>,
        /// Span of the item.
        span: Span,
    },
    /// A property path with optional nested options
    /// (`addresses($filter=...;$top=2)`).
    Path {
        /// Path segments (members and type casts).
        segments: Vec<PathSegment>,
        /// Nested options, if written.
        options: Option<Box<QueryOptions>>,
        /// Span of the item.
        span: Span,
    },
}
