//! Resource paths.

use super::{Expr, Ident, KeyPredicate, Span};

/// A resource path such as `Users('x')/roles/$count` or `$metadata`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ResourcePath {
    /// The segments in order.
    pub segments: Vec<ResourceSegment>,
    /// Span of the whole path.
    pub span: Span,
}

/// One segment of a resource path.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ResourceSegment {
    /// An entity set, singleton, property, navigation property or
    /// function/action import name, with an optional key predicate.
    Member {
        /// The name.
        name: Ident,
        /// A key predicate.
        key: Option<KeyPredicate>,
    },
    /// A key given as a path segment (4.01 key-as-segment); kept as a literal.
    KeySegment(Expr),
    /// A type-cast segment (`Model.Manager`).
    TypeCast(Ident),
    /// A function call segment with named parameters.
    Function {
        /// The name.
        name: Ident,
        /// Named parameters.
        params: Vec<(Ident, Expr)>,
    },
    /// `$count`.
    Count(Span),
    /// `$value`.
    Value(Span),
    /// `$ref`.
    Ref(Span),
    /// `$metadata`.
    Metadata(Span),
    /// `$batch`.
    Batch(Span),
    /// `$entity`.
    Entity(Span),
    /// `$all`.
    All(Span),
    /// `$crossjoin(A,B)`.
    CrossJoin(Vec<Ident>, Span),
    /// `$each`.
    Each(Span),
    /// `$filter(expr)` path segment.
    Filter(Box<Expr>, Span),
    /// `$query` (a POSTed query, OData 4.01).
    Query(Span),
}
