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

// ---------------------------------------------------------------------------
// Whole query string
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Expressions ($filter, $orderby items, $compute items, function arguments)
// ---------------------------------------------------------------------------

/// An expression with its span.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it was written (for a parenthesised expression, the span
    /// includes the parentheses).
    pub span: Span,
}

/// The kinds of expression.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ExprKind {
    /// A primitive literal.
    Literal(Literal),
    /// A member path: `name`, `roles/roleKey`, `$it/a/b`, `$root/Users('x')/name`,
    /// `a/Model.Derived/b`, `r/roleKey` (range variable first).
    Path(MemberPath),
    /// `path/any(var: predicate)` or `path/all(var: predicate)`;
    /// `path/any()` has neither variable nor predicate.
    Lambda(Lambda),
    /// `path/$count`, optionally with nested `($filter=...;$search=...)`.
    PathCount(PathCount),
    /// A parameter alias reference `@name`.
    Alias(Ident),
    /// A built-in or namespace-qualified function call `name(arg, ...)`.
    /// Built-in names are stored in lower case (they match
    /// case-insensitively); qualified names as written.
    Call(Call),
    /// `left op right`.
    Binary(Binary),
    /// `not x` or `-x`.
    Unary(Unary),
    /// `x in (a, b, c)` / `x in [..]` / `x in @alias` / `x in path`.
    In(In),
    /// A parenthesised list `(a, b, c)` (right side of `in`).
    List(Vec<Expr>),
    /// A JSON array or object written in the URL (`["a","b"]`, `{"x":1}`).
    Json(JsonValue),
}

/// A member path and its segments.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MemberPath {
    /// How the path starts.
    pub root: PathRoot,
    /// The segments after the root (may be empty for a bare `$it`/`$this`).
    pub segments: Vec<PathSegment>,
    /// Span of the whole path.
    pub span: Span,
}

/// How a member path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PathRoot {
    /// No prefix: the first segment is a property, navigation property or
    /// range variable of the current context.
    Implicit,
    /// `$it`.
    It,
    /// `$this`.
    This,
    /// `$root` (followed by an entity set segment, usually with a key).
    Root,
}

/// One segment of a member path.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PathSegment {
    /// A property, navigation property or range variable name, optionally
    /// followed by a key predicate (`Users('x')`, `Products(1)`,
    /// `Orders(Id=1,Ver=2)`).
    Member {
        /// The name.
        name: Ident,
        /// A key predicate after the name.
        key: Option<KeyPredicate>,
    },
    /// A type-cast segment: a qualified name such as `Model.Manager`.
    TypeCast(Ident),
    /// A bound function call segment `Model.Fn(p=1,q=@a)`.
    Function {
        /// The qualified function name.
        name: Ident,
        /// Named parameters in order.
        params: Vec<(Ident, Expr)>,
    },
    /// A `$filter(expr)` segment that filters the collection before the
    /// next segment (`Addresses/$filter(endswith(Street,'St'))/$count`),
    /// optionally followed by a key predicate
    /// (`Products/$filter(Age gt 3)(ID='Sugar')`).
    Filter {
        /// The filter condition.
        filter: Box<Expr>,
        /// A key predicate written right after the `$filter(...)`.
        key: Option<KeyPredicate>,
    },
    /// A trailing `aggregate(...)` segment on a collection (Data Aggregation
    /// extension, `Sales/aggregate(Amount with sum)`, `$these/aggregate($count)`).
    /// Always the last segment of a path.
    Aggregate(Box<AggregateItem>),
}

/// A key predicate `(value)` or `(Name=value, ...)`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum KeyPredicate {
    /// `(value)`.
    Single(Box<Expr>),
    /// `(Name=value, ...)`.
    Named(Vec<(Ident, Expr)>),
}

/// `collection/any(...)` or `collection/all(...)`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Lambda {
    /// The collection the lambda ranges over.
    pub collection: MemberPath,
    /// `any` or `all`.
    pub kind: LambdaKind,
    /// The range variable name (absent only for the empty `any()`).
    pub variable: Option<Ident>,
    /// The predicate (absent only for the empty `any()`).
    pub predicate: Option<Box<Expr>>,
}

/// The two lambda operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum LambdaKind {
    /// `any`.
    Any,
    /// `all`.
    All,
}

/// `collection/$count` with optional nested `$filter`/`$search`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PathCount {
    /// The collection being counted.
    pub collection: MemberPath,
    /// Nested `$filter` inside `$count(...)`.
    pub filter: Option<Box<Expr>>,
    /// Nested `$search` inside `$count(...)`.
    pub search: Option<Search>,
}

/// A function call.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Call {
    /// Lower-case built-in name (`contains`, `tolower`, `year`, `geo.distance`,
    /// `isof`, `cast`, ...) or a qualified custom function name as written.
    pub name: Ident,
    /// Arguments in order. A type name argument (`isof(Model.T)`,
    /// `cast(x, Edm.String)`) is a [`PathSegment::TypeCast`]-only path.
    pub args: Vec<Expr>,
}

/// Binary operators, by precedence (see [`BinaryOp::precedence`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum BinaryOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `lt`
    Lt,
    /// `le`
    Le,
    /// `has`
    Has,
    /// `add`
    Add,
    /// `sub`
    Sub,
    /// `mul`
    Mul,
    /// `div`
    Div,
    /// `divby`
    DivBy,
    /// `mod`
    Mod,
}

impl BinaryOp {
    /// Binding strength: higher binds tighter. All binary operators are
    /// left-associative.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq | BinaryOp::Ne => 3,
            BinaryOp::Gt | BinaryOp::Ge | BinaryOp::Lt | BinaryOp::Le => 4,
            BinaryOp::Has => 5,
            BinaryOp::Add | BinaryOp::Sub => 6,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::DivBy | BinaryOp::Mod => 7,
        }
    }

    /// The operator keyword in canonical (lower-case) spelling.
    pub fn keyword(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "eq",
            BinaryOp::Ne => "ne",
            BinaryOp::Gt => "gt",
            BinaryOp::Ge => "ge",
            BinaryOp::Lt => "lt",
            BinaryOp::Le => "le",
            BinaryOp::Has => "has",
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::DivBy => "divby",
            BinaryOp::Mod => "mod",
        }
    }
}

/// `left op right`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Binary {
    /// The operator.
    pub op: BinaryOp,
    /// Span of the operator keyword.
    pub op_span: Span,
    /// Left operand.
    pub left: Box<Expr>,
    /// Right operand.
    pub right: Box<Expr>,
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum UnaryOp {
    /// `not` (binds tighter than every binary operator).
    Not,
    /// `-` (arithmetic negation).
    Neg,
}

/// `op operand`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Unary {
    /// The operator.
    pub op: UnaryOp,
    /// The operand.
    pub operand: Box<Expr>,
}

/// `expr in list`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct In {
    /// The tested value.
    pub expr: Box<Expr>,
    /// The collection: an [`ExprKind::List`], a JSON array, an alias or a path.
    pub list: Box<Expr>,
}

/// Primitive literals. Texts are kept as written (canonical where the
/// grammar allows one spelling) so that printing reproduces them exactly;
/// consumers convert them to typed values.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Literal {
    /// `null`.
    Null,
    /// `true` / `false` (case-insensitive in the URL).
    Boolean(bool),
    /// An integer that fits in `i64`. Written without sign here; negative
    /// numbers come from the grammar's signed literals (`-5` is an integer
    /// literal, not a negation, when the `-` is directly followed by a digit).
    Integer(i64),
    /// A decimal number (with `.` or too big for `i64`), text as written.
    Decimal(String),
    /// A double (with exponent, or `NaN`, `INF`, `-INF`), text as written.
    Double(String),
    /// A string, with `''` already turned into `'` (the content is the
    /// percent-encoded URL text between the quotes, not decoded).
    String(String),
    /// `2026-11-29`.
    Date(String),
    /// `2026-11-29T10:00:00Z` (with offset).
    DateTimeOffset(String),
    /// `10:00:00` / `10:00:00.123`.
    TimeOfDay(String),
    /// `duration'P1DT2H'` or bare `P1DT2H`: the text of the duration.
    Duration(String),
    /// A GUID, text as written.
    Guid(String),
    /// `binary'...'`: the base64url text.
    Binary(String),
    /// `Namespace.EnumType'Member'`: the type name and the member text.
    Enum {
        /// Qualified type name.
        type_name: String,
        /// Member name(s) or number(s), as written between the quotes.
        value: String,
    },
    /// `geography'SRID=0;Point(1 2)'` or `geometry'...'`.
    Geo {
        /// `true` for geography, `false` for geometry.
        geography: bool,
        /// The text between the quotes.
        text: String,
    },
}

/// A JSON value written in the URL.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum JsonValue {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, text as written.
    Number(String),
    /// A string (JSON escapes resolved).
    String(String),
    /// An array.
    Array(Vec<JsonValue>),
    /// An object, members in order.
    Object(Vec<(String, JsonValue)>),
    /// An OData expression used as a JSON value (`valueInUrl = commonExpr`),
    /// e.g. `[FirstName,LastName]` or `{"Country":$root/Countries('DE')}`.
    /// Literals `null`, booleans and numbers are never wrapped here: they
    /// become [`JsonValue::Null`], [`JsonValue::Bool`], [`JsonValue::Number`].
    Expr(Box<Expr>),
}

// ---------------------------------------------------------------------------
// $select
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// $orderby
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// $expand
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// $search
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// $compute
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// $apply (OData Data Aggregation extension)
// ---------------------------------------------------------------------------

/// `$apply=t1/t2/...`: a pipeline of transformations.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Apply {
    /// The transformations, applied left to right.
    pub pipeline: Vec<Transformation>,
    /// Span of the option value.
    pub span: Span,
}

/// One transformation of an `$apply` pipeline.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Transformation {
    /// `aggregate(item, ...)`.
    Aggregate(Vec<AggregateItem>, Span),
    /// `groupby((p1,p2,rollup(...)), then/pipeline)`.
    GroupBy {
        /// The grouping properties and rollups.
        groupings: Vec<Grouping>,
        /// The transformations applied to each group (empty: none).
        then: Vec<Transformation>,
        /// Span of the transformation.
        span: Span,
    },
    /// `filter(expr)`.
    Filter(Expr, Span),
    /// `orderby(items)`.
    OrderBy(OrderBy, Span),
    /// `top(n)`.
    Top(Count64, Span),
    /// `skip(n)`.
    Skip(Count64, Span),
    /// `search(expr)`.
    Search(Search, Span),
    /// `compute(items)`.
    Compute(Compute, Span),
    /// `concat(p1, p2, ...)`: each argument a pipeline.
    Concat(Vec<Vec<Transformation>>, Span),
    /// `expand(path, options...)`.
    Expand(ExpandItem, Span),
    /// `identity`.
    Identity(Span),
    /// Any other function-like transformation: `topcount(2,Amount)`,
    /// `bottompercent(...)`, `ancestors(...)`, `descendants(...)`,
    /// `traverse(...)`, `nest(...)`, or a namespace-qualified custom
    /// transformation. `name` is lower case for built-ins.
    Call {
        /// The transformation name.
        name: Ident,
        /// Arguments as expressions (type names and nested pipelines are
        /// kept as the closest expression form, see the parser docs).
        args: Vec<ApplyArg>,
        /// Span of the transformation.
        span: Span,
    },
}

/// An argument of a generic `$apply` transformation.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ApplyArg {
    /// An expression.
    Expr(Expr),
    /// A nested pipeline (e.g. the last argument of `ancestors`).
    Pipeline(Vec<Transformation>),
    /// `argument as Alias` (`nest`, `addnested`, `join`, `outerjoin`).
    Aliased {
        /// The aliased argument (a pipeline or a path).
        arg: Box<ApplyArg>,
        /// The alias.
        alias: Ident,
    },
    /// `name=value`: a parameter of a namespace-qualified custom
    /// transformation (`Custom.condense(level=2)`).
    Named(Ident, Expr),
    /// A keyword argument written as words: `keep start`, `preorder`.
    Keyword(Ident),
    /// Sort items (the last argument of `traverse`).
    OrderBy(OrderBy),
}

/// One item of `aggregate(...)`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AggregateItem {
    /// `$count as alias`.
    Count {
        /// The alias.
        alias: Ident,
        /// Span of the item.
        span: Span,
    },
    /// `expr with method as alias [from p with m ...]`, or a custom
    /// aggregate `Name [as alias]` / `Name from ...` (no `with`).
    Expr {
        /// The aggregated expression (or the custom aggregate's name as a path).
        expr: Expr,
        /// `sum`, `min`, `max`, `average`, `countdistinct`, or a qualified
        /// custom method; `None` for a custom aggregate.
        with: Option<Ident>,
        /// `as` alias (required with `with`).
        alias: Option<Ident>,
        /// `from` clauses in order.
        from: Vec<AggregateFrom>,
        /// Span of the item.
        span: Span,
    },
    /// `navigation(inner, ...)`: aggregation along a path.
    Nested {
        /// The navigation path.
        path: MemberPath,
        /// The inner aggregate items.
        items: Vec<AggregateItem>,
        /// Span of the item.
        span: Span,
    },
}

/// `from path with method` inside an aggregate item.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AggregateFrom {
    /// The grouping property.
    pub path: MemberPath,
    /// The method applied at that level (`None` for a custom aggregate).
    pub with: Option<Ident>,
    /// Further grouping properties of the same clause
    /// (`from Time,Product/Name with max`), after `path`.
    pub more: Vec<MemberPath>,
}

/// One grouping item of `groupby`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Grouping {
    /// A property path.
    Path(MemberPath),
    /// `rollup(p1, p2, ...)` or `rollup($all, p1, ...)`.
    Rollup {
        /// Whether `$all` was the first argument.
        all: bool,
        /// The paths.
        paths: Vec<MemberPath>,
        /// Span of the rollup.
        span: Span,
    },
    /// `rolluprecursive($root/Set, Hierarchy, Node/Path [, pipeline])`:
    /// arguments in order (root expression, qualifier path, node path,
    /// optional pipeline).
    RollupRecursive {
        /// The arguments.
        args: Vec<ApplyArg>,
        /// Span of the rollup.
        span: Span,
    },
}

// ---------------------------------------------------------------------------
// Resource paths
// ---------------------------------------------------------------------------

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
