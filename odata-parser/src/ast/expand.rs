//! `$expand`.

use super::{PathSegment, QueryOptions, Span};

/// `$expand=roles,groups($select=name)`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Expand {
    /// The items in order.
    pub items: Vec<ExpandItem>,
    /// Span of the option value.
    pub span: Span,
}

/// One `$expand` item.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ExpandItem {
    /// What is expanded.
    pub target: ExpandTarget,
    /// Nested options (`$filter $select $orderby $top $skip $count $expand
    /// $search $levels $compute $apply`); `None` when no parentheses were written.
    pub options: Option<Box<QueryOptions>>,
    /// Span of the item.
    pub span: Span,
}

/// The target of an expand item.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ExpandTarget {
    /// `*`, `*/$ref`.
    Star {
        /// `*/$ref`.
        is_ref: bool,
    },
    /// A navigation path, optionally ending in `/$ref` or `/$count`.
    Path {
        /// Segments (members and type casts).
        segments: Vec<PathSegment>,
        /// What follows the path.
        suffix: ExpandSuffix,
    },
}

/// What follows an expand path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ExpandSuffix {
    /// Nothing: expand the entities.
    None,
    /// `/$ref`: expand references only.
    Ref,
    /// `/$count`: expand the count only.
    Count,
}
