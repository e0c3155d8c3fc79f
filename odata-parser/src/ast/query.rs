//! The whole query string: every option of one request.

use super::{Apply, Compute, Expand, Expr, Ident, OrderBy, Search, Select, Span};

/// All query options of one request (or the nested options of one `$expand`
/// item, or of a `$select` item).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct QueryOptions {
    /// `$filter`.
    pub filter: Option<Expr>,
    /// `$select`.
    pub select: Option<Select>,
    /// `$orderby`.
    pub orderby: Option<OrderBy>,
    /// `$top`.
    pub top: Option<Count64>,
    /// `$skip`.
    pub skip: Option<Count64>,
    /// `$count=true|false`, or the v3 spelling `$inlinecount=allpages|none`.
    pub count: Option<CountOption>,
    /// `$expand`.
    pub expand: Option<Expand>,
    /// `$search`.
    pub search: Option<Search>,
    /// `$compute`.
    pub compute: Option<Compute>,
    /// `$apply`.
    pub apply: Option<Apply>,
    /// `$levels` (only inside `$expand(...)`).
    pub levels: Option<Levels>,
    /// `$skiptoken` (opaque, kept as written).
    pub skiptoken: Option<TextOption>,
    /// `$deltatoken` (opaque, kept as written).
    pub deltatoken: Option<TextOption>,
    /// `$format`.
    pub format: Option<TextOption>,
    /// `$schemaversion`.
    pub schemaversion: Option<TextOption>,
    /// `$index`.
    pub index: Option<IndexOption>,
    /// `$id` (kept as written).
    pub id: Option<TextOption>,
    /// Parameter alias definitions `@name=value`, in order of appearance.
    pub aliases: Vec<AliasDef>,
    /// Custom query options (no `$`, no `@`), in order, not interpreted.
    pub custom: Vec<CustomOption>,
}

/// A non-negative integer option value (`$top`, `$skip`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Count64 {
    /// The value.
    pub value: u64,
    /// Span of the value text.
    pub span: Span,
}

/// `$index` (may be negative: `-1` is the last position).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct IndexOption {
    /// The value.
    pub value: i64,
    /// Span of the value text.
    pub span: Span,
}

/// `$count=true|false` (or `$inlinecount=allpages|none`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CountOption {
    /// Whether the count is requested.
    pub value: bool,
    /// Span of the value text.
    pub span: Span,
}

/// An option whose value is kept as written (still percent-encoded).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TextOption {
    /// The raw value.
    pub value: String,
    /// Span of the value text.
    pub span: Span,
}

/// `@name=value`: a parameter alias definition.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AliasDef {
    /// The alias name without `@`.
    pub name: Ident,
    /// The value: an expression (usually a literal, JSON array or object).
    pub value: Expr,
    /// The whole `@name=value`.
    pub span: Span,
}

/// A custom query option `name=value` (value may be absent: `name`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CustomOption {
    /// The name as written.
    pub name: String,
    /// The raw value, if there was an `=`.
    pub value: Option<String>,
    /// The whole option.
    pub span: Span,
}

/// `$levels=N|max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Levels {
    /// A fixed depth.
    Depth(u64),
    /// `max`.
    Max,
}
