//! The typed syntax tree of OData query options.
//!
//! Every node carries a [`Span`]: byte offsets into the text the node was
//! parsed from (for [`crate::parse_query`], offsets into the whole raw query
//! string; for the per-option entry points, offsets into their input).
//! Spans never take part in equality: two trees that print the same are equal.
//!
//! The tree is syntax only. A name is a name: whether `roles` is a navigation
//! property or a range variable is for a schema-aware consumer to decide.

use std::hash::{Hash, Hasher};

/// Byte range `start..end` of a node in the text it was parsed from.
///
/// `PartialEq` is always true and `Hash` hashes nothing, so that spans never
/// influence equality of the nodes that carry them.
#[derive(Debug, Clone, Copy, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub const fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// The same span moved `by` bytes to the right.
    pub fn shifted(self, by: usize) -> Span {
        Span::new(self.start + by, self.end + by)
    }
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}
impl Eq for Span {}
impl Hash for Span {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}

/// An identifier as written, with its span.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Ident {
    /// The name exactly as written (may contain dots for qualified names,
    /// e.g. `Edm.String` or `Model.Manager`).
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

mod apply;
mod compute;
mod expand;
mod expr;
mod orderby;
mod path;
mod query;
mod search;
mod select;

pub use apply::*;
pub use compute::*;
pub use expand::*;
pub use expr::*;
pub use orderby::*;
pub use path::*;
pub use query::*;
pub use search::*;
pub use select::*;
