//! Expressions: `$filter`, `$orderby` items, `$compute` items, function arguments.

use super::{AggregateItem, Ident, Search, Span};

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
