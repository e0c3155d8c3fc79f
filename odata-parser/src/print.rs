//! `Display` for the AST: canonical OData text.
//!
//! Keywords are printed in lower case, system query options with `$`,
//! whitespace is a single space around operators, and parentheses are
//! written only where precedence requires them. For every AST the parser
//! can produce, `parse(ast.to_string()) == ast`.

use std::fmt::{self, Display, Formatter, Write};

use crate::ast::*;

/// Binding strength of an expression for parenthesisation.
fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary(b) => b.op.precedence(),
        ExprKind::In(_) => crate::parser::expr::IN_PRECEDENCE,
        ExprKind::Unary(_) => 8,
        _ => 9,
    }
}

/// Does the printed form of `e` start with `INF` (so that `-` before it
/// would read back as the literal `-INF`)? Looks at the first path segment
/// only, without printing (printing here would make nested negations
/// exponential).
fn starts_with_inf(e: &Expr) -> bool {
    let path = match &e.kind {
        ExprKind::Path(p) => p,
        ExprKind::Lambda(l) => &l.collection,
        ExprKind::PathCount(c) => &c.collection,
        _ => return false,
    };
    if path.root != PathRoot::Implicit {
        return false;
    }
    match path.segments.first() {
        Some(
            PathSegment::Member { name, .. }
            | PathSegment::TypeCast(name)
            | PathSegment::Function { name, .. },
        ) => name.name.starts_with("INF"),
        _ => false,
    }
}

fn expr_min(f: &mut Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    if prec(e) < min {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

fn join<T: Display>(f: &mut Formatter<'_>, items: &[T], sep: &str) -> fmt::Result {
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{it}")?;
    }
    Ok(())
}

impl Display for Ident {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// A path that is just one member named `not` (any case), without a key.
fn is_operator_word_path(p: &MemberPath) -> bool {
    matches!(
        (p.root, p.segments.as_slice()),
        (PathRoot::Implicit, [PathSegment::Member { name, key: None }])
            if name.name.eq_ignore_ascii_case("not")
    )
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Literal(l) => write!(f, "{l}"),
            // A property named `not` (any case) alone would read back as
            // the operator: `(NOT) or b` is not `NOT or b`.
            ExprKind::Path(p) if is_operator_word_path(p) => write!(f, "({p})"),
            ExprKind::Path(p) => write!(f, "{p}"),
            ExprKind::Lambda(l) => {
                write!(
                    f,
                    "{}/{}(",
                    l.collection,
                    if l.kind == LambdaKind::Any {
                        "any"
                    } else {
                        "all"
                    }
                )?;
                if let (Some(v), Some(p)) = (&l.variable, &l.predicate) {
                    write!(f, "{v}:{p}")?;
                }
                f.write_char(')')
            }
            ExprKind::PathCount(c) => {
                write!(f, "{}/$count", c.collection)?;
                if c.filter.is_some() || c.search.is_some() {
                    f.write_char('(')?;
                    if let Some(x) = &c.filter {
                        write!(f, "$filter={x}")?;
                    }
                    if let Some(s) = &c.search {
                        if c.filter.is_some() {
                            f.write_char(';')?;
                        }
                        write!(f, "$search={s}")?;
                    }
                    f.write_char(')')?;
                }
                Ok(())
            }
            ExprKind::Alias(a) => write!(f, "@{a}"),
            ExprKind::Call(c) => {
                write!(f, "{}(", c.name)?;
                if c.name.name == "case" {
                    for (i, pair) in c.args.chunks(2).enumerate() {
                        if i > 0 {
                            f.write_char(',')?;
                        }
                        write!(f, "{}", pair[0])?;
                        // ` : ` because `20:1` would read as a time of day.
                        if let Some(v) = pair.get(1) {
                            write!(f, " : {v}")?;
                        }
                    }
                } else {
                    join(f, &c.args, ",")?;
                }
                f.write_char(')')
            }
            ExprKind::Binary(b) => {
                let p = b.op.precedence();
                expr_min(f, &b.left, p)?;
                write!(f, " {} ", b.op.keyword())?;
                expr_min(f, &b.right, p + 1)
            }
            ExprKind::Unary(u) => match u.op {
                UnaryOp::Not => {
                    f.write_str("not ")?;
                    expr_min(f, &u.operand, 8)
                }
                UnaryOp::Neg => {
                    f.write_char('-')?;
                    // `-5`, `-INF` and `-2020-01-01` would read back as literals.
                    let needs_parens = match &u.operand.kind {
                        ExprKind::Literal(_) => true,
                        _ => prec(&u.operand) < 8 || starts_with_inf(&u.operand),
                    };
                    if needs_parens {
                        write!(f, "({})", u.operand)
                    } else {
                        write!(f, "{}", u.operand)
                    }
                }
            },
            ExprKind::In(i) => {
                expr_min(f, &i.expr, crate::parser::expr::IN_PRECEDENCE)?;
                f.write_str(" in ")?;
                expr_min(f, &i.list, crate::parser::expr::IN_PRECEDENCE + 1)
            }
            ExprKind::List(items) => {
                f.write_char('(')?;
                join(f, items, ",")?;
                f.write_char(')')
            }
            ExprKind::Json(j) => write!(f, "{j}"),
        }
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Boolean(b) => write!(f, "{b}"),
            Literal::Integer(i) => write!(f, "{i}"),
            Literal::Decimal(t)
            | Literal::Double(t)
            | Literal::Date(t)
            | Literal::DateTimeOffset(t)
            | Literal::TimeOfDay(t)
            | Literal::Guid(t) => f.write_str(t),
            Literal::String(s) => {
                f.write_char('\'')?;
                for part in s.split('\'').enumerate() {
                    if part.0 > 0 {
                        f.write_str("''")?;
                    }
                    f.write_str(part.1)?;
                }
                f.write_char('\'')
            }
            Literal::Duration(t) => write!(f, "duration'{t}'"),
            Literal::Binary(t) => write!(f, "binary'{t}'"),
            Literal::Enum { type_name, value } => write!(f, "{type_name}'{value}'"),
            Literal::Geo { geography, text } => {
                write!(
                    f,
                    "{}'{text}'",
                    if *geography { "geography" } else { "geometry" }
                )
            }
        }
    }
}

fn json_string(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            // Only what `charInJSON` allows unescaped in a URL goes out raw.
            c if c.is_ascii_alphanumeric()
                || !c.is_ascii()
                || "-._~!()*+,;:@/?$'= {}[]".contains(c) =>
            {
                f.write_char(c)?
            }
            c => write!(f, "\\u{:04x}", c as u32)?,
        }
    }
    f.write_char('"')
}

impl Display for JsonValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            JsonValue::Null => f.write_str("null"),
            JsonValue::Bool(b) => write!(f, "{b}"),
            JsonValue::Number(n) => f.write_str(n),
            JsonValue::String(s) => json_string(f, s),
            JsonValue::Array(items) => {
                f.write_char('[')?;
                join(f, items, ",")?;
                f.write_char(']')
            }
            JsonValue::Object(members) => {
                f.write_char('{')?;
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    json_string(f, k)?;
                    write!(f, ":{v}")?;
                }
                f.write_char('}')
            }
            JsonValue::Expr(e) => write!(f, "{e}"),
        }
    }
}

impl Display for KeyPredicate {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            KeyPredicate::Single(e) => write!(f, "({e})"),
            KeyPredicate::Named(pairs) => {
                f.write_char('(')?;
                params(f, pairs)?;
                f.write_char(')')
            }
        }
    }
}

fn params(f: &mut Formatter<'_>, pairs: &[(Ident, Expr)]) -> fmt::Result {
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            f.write_char(',')?;
        }
        write!(f, "{k}={v}")?;
    }
    Ok(())
}

impl Display for PathSegment {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            PathSegment::Member { name, key } => {
                write!(f, "{name}")?;
                if let Some(k) = key {
                    write!(f, "{k}")?;
                }
                Ok(())
            }
            PathSegment::TypeCast(t) => write!(f, "{t}"),
            PathSegment::Function { name, params: p } => {
                write!(f, "{name}(")?;
                params(f, p)?;
                f.write_char(')')
            }
            PathSegment::Filter { filter, key } => {
                write!(f, "$filter({filter})")?;
                if let Some(k) = key {
                    write!(f, "{k}")?;
                }
                Ok(())
            }
            PathSegment::Aggregate(item) => write!(f, "aggregate({item})"),
        }
    }
}

impl Display for MemberPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let prefix = match self.root {
            PathRoot::Implicit => None,
            PathRoot::It => Some("$it"),
            PathRoot::This => Some("$this"),
            PathRoot::Root => Some("$root"),
        };
        if let Some(p) = prefix {
            f.write_str(p)?;
            if !self.segments.is_empty() {
                f.write_char('/')?;
            }
        }
        join(f, &self.segments, "/")
    }
}

impl Display for SearchExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        fn level(e: &SearchExpr) -> u8 {
            match e {
                SearchExpr::Or(..) => 1,
                SearchExpr::And(..) => 2,
                SearchExpr::Not(..) => 3,
                _ => 4,
            }
        }
        fn side(f: &mut Formatter<'_>, e: &SearchExpr, min: u8) -> fmt::Result {
            if level(e) < min {
                write!(f, "({e})")
            } else {
                write!(f, "{e}")
            }
        }
        match self {
            // An operator word used as a term keeps its meaning in parentheses.
            SearchExpr::Term(t, _) if matches!(t.as_str(), "AND" | "OR" | "NOT") => {
                write!(f, "({t})")
            }
            SearchExpr::Term(t, _) => f.write_str(t),
            // Only `searchExpr-incomplete` can be empty: `''`.
            SearchExpr::Phrase(p, _) if p.is_empty() => f.write_str("''"),
            SearchExpr::Phrase(p, _) => {
                f.write_char('"')?;
                for c in p.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        c => f.write_char(c)?,
                    }
                }
                f.write_char('"')
            }
            SearchExpr::Not(x, _) => {
                f.write_str("NOT ")?;
                side(f, x, 3)
            }
            SearchExpr::And(a, b, _) => {
                side(f, a, 2)?;
                f.write_str(" AND ")?;
                side(f, b, 3)
            }
            SearchExpr::Or(a, b, _) => {
                side(f, a, 1)?;
                f.write_str(" OR ")?;
                side(f, b, 2)
            }
        }
    }
}

impl Display for Search {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)
    }
}

impl Display for SelectItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SelectItem::Star(_) => f.write_char('*'),
            SelectItem::AllOperations(ns) => write!(f, "{ns}.*"),
            SelectItem::Operation {
                name, parameters, ..
            } => {
                write!(f, "{name}(")?;
                join(f, parameters, ",")?;
                f.write_char(')')
            }
            SelectItem::Path {
                segments, options, ..
            } => {
                join(f, segments, "/")?;
                nested(f, options)
            }
        }
    }
}

fn nested(f: &mut Formatter<'_>, options: &Option<Box<QueryOptions>>) -> fmt::Result {
    if let Some(o) = options {
        f.write_char('(')?;
        write_options(f, o, ";")?;
        f.write_char(')')?;
    }
    Ok(())
}

impl Display for Select {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        join(f, &self.items, ",")
    }
}

impl Display for OrderByItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)?;
        match self.direction {
            Some(SortDirection::Asc) => f.write_str(" asc"),
            Some(SortDirection::Desc) => f.write_str(" desc"),
            None => Ok(()),
        }
    }
}

impl Display for OrderBy {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        join(f, &self.items, ",")
    }
}

impl Display for ExpandItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.target {
            ExpandTarget::Star { is_ref } => f.write_str(if *is_ref { "*/$ref" } else { "*" })?,
            ExpandTarget::Path { segments, suffix } => {
                join(f, segments, "/")?;
                match suffix {
                    ExpandSuffix::None => {}
                    ExpandSuffix::Ref => f.write_str("/$ref")?,
                    ExpandSuffix::Count => f.write_str("/$count")?,
                }
            }
        }
        nested(f, &self.options)
    }
}

impl Display for Expand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        join(f, &self.items, ",")
    }
}

impl Display for ComputeItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} as {}", self.expr, self.alias)
    }
}

impl Display for Compute {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        join(f, &self.items, ",")
    }
}

struct Pipeline<'a>(&'a [Transformation]);

impl Display for Pipeline<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        join(f, self.0, "/")
    }
}

impl Display for Apply {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Pipeline(&self.pipeline))
    }
}

impl Display for AggregateFrom {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, " from {}", self.path)?;
        for m in &self.more {
            write!(f, ",{m}")?;
        }
        if let Some(w) = &self.with {
            write!(f, " with {w}")?;
        }
        Ok(())
    }
}

impl Display for AggregateItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            AggregateItem::Count { alias, .. } => write!(f, "$count as {alias}"),
            AggregateItem::Expr {
                expr,
                with,
                alias,
                from,
                ..
            } => {
                write!(f, "{expr}")?;
                if let Some(w) = with {
                    write!(f, " with {w}")?;
                }
                for fr in from {
                    write!(f, "{fr}")?;
                }
                if let Some(a) = alias {
                    write!(f, " as {a}")?;
                }
                Ok(())
            }
            AggregateItem::Nested { path, items, .. } => {
                write!(f, "{path}(")?;
                join(f, items, ",")?;
                f.write_char(')')
            }
        }
    }
}

impl Display for Grouping {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Grouping::Path(p) => write!(f, "{p}"),
            Grouping::Rollup { all, paths, .. } => {
                f.write_str("rollup(")?;
                if *all {
                    f.write_str("$all,")?;
                }
                join(f, paths, ",")?;
                f.write_char(')')
            }
            Grouping::RollupRecursive { args, .. } => {
                f.write_str("rolluprecursive(")?;
                join(f, args, ",")?;
                f.write_char(')')
            }
        }
    }
}

impl Display for ApplyArg {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ApplyArg::Expr(e) => write!(f, "{e}"),
            ApplyArg::Pipeline(p) => write!(f, "{}", Pipeline(p)),
            ApplyArg::Aliased { arg, alias } => write!(f, "{arg} as {alias}"),
            ApplyArg::Named(k, v) => write!(f, "{k}={v}"),
            ApplyArg::Keyword(k) => write!(f, "{k}"),
            ApplyArg::OrderBy(o) => write!(f, "{o}"),
        }
    }
}

impl Display for Transformation {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Transformation::Aggregate(items, _) => {
                f.write_str("aggregate(")?;
                join(f, items, ",")?;
                f.write_char(')')
            }
            Transformation::GroupBy {
                groupings, then, ..
            } => {
                f.write_str("groupby((")?;
                join(f, groupings, ",")?;
                f.write_char(')')?;
                if !then.is_empty() {
                    write!(f, ",{}", Pipeline(then))?;
                }
                f.write_char(')')
            }
            Transformation::Filter(e, _) => write!(f, "filter({e})"),
            Transformation::OrderBy(o, _) => write!(f, "orderby({o})"),
            Transformation::Top(n, _) => write!(f, "top({})", n.value),
            Transformation::Skip(n, _) => write!(f, "skip({})", n.value),
            Transformation::Search(s, _) => write!(f, "search({s})"),
            Transformation::Compute(c, _) => write!(f, "compute({c})"),
            Transformation::Concat(branches, _) => {
                f.write_str("concat(")?;
                for (i, b) in branches.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write!(f, "{}", Pipeline(b))?;
                }
                f.write_char(')')
            }
            Transformation::Expand(item, _) => write!(f, "expand({item})"),
            Transformation::Identity(_) => f.write_str("identity"),
            Transformation::Call { name, args, .. } => {
                write!(f, "{name}(")?;
                join(f, args, ",")?;
                f.write_char(')')
            }
        }
    }
}

/// Writes the options of `q` in a fixed order, separated by `sep`.
fn write_options(f: &mut Formatter<'_>, q: &QueryOptions, sep: &str) -> fmt::Result {
    let mut first = true;
    let mut put = |f: &mut Formatter<'_>, name: &str, value: &dyn Display| -> fmt::Result {
        if !first {
            f.write_str(sep)?;
        }
        first = false;
        write!(f, "{name}={value}")
    };
    if let Some(v) = &q.filter {
        put(f, "$filter", v)?;
    }
    if let Some(v) = &q.select {
        put(f, "$select", v)?;
    }
    if let Some(v) = &q.orderby {
        put(f, "$orderby", v)?;
    }
    if let Some(v) = &q.top {
        put(f, "$top", &v.value)?;
    }
    if let Some(v) = &q.skip {
        put(f, "$skip", &v.value)?;
    }
    if let Some(v) = &q.count {
        put(f, "$count", &v.value)?;
    }
    if let Some(v) = &q.expand {
        put(f, "$expand", v)?;
    }
    if let Some(v) = &q.search {
        put(f, "$search", v)?;
    }
    if let Some(v) = &q.compute {
        put(f, "$compute", v)?;
    }
    if let Some(v) = &q.apply {
        put(f, "$apply", v)?;
    }
    if let Some(v) = &q.levels {
        match v {
            Levels::Max => put(f, "$levels", &"max")?,
            Levels::Depth(d) => put(f, "$levels", d)?,
        }
    }
    if let Some(v) = &q.skiptoken {
        put(f, "$skiptoken", &v.value)?;
    }
    if let Some(v) = &q.deltatoken {
        put(f, "$deltatoken", &v.value)?;
    }
    if let Some(v) = &q.format {
        put(f, "$format", &v.value)?;
    }
    if let Some(v) = &q.schemaversion {
        put(f, "$schemaversion", &v.value)?;
    }
    if let Some(v) = &q.index {
        put(f, "$index", &v.value)?;
    }
    if let Some(v) = &q.id {
        put(f, "$id", &v.value)?;
    }
    for a in &q.aliases {
        put(f, &format!("@{}", a.name), &a.value)?;
    }
    for c in &q.custom {
        if !first {
            f.write_str(sep)?;
        }
        first = false;
        f.write_str(&c.name)?;
        if let Some(v) = &c.value {
            write!(f, "={v}")?;
        }
    }
    Ok(())
}

impl Display for QueryOptions {
    /// The options joined by `&` (a query string without `?`).
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_options(f, self, "&")
    }
}

impl Display for ResourceSegment {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ResourceSegment::Member { name, key } => {
                write!(f, "{name}")?;
                if let Some(k) = key {
                    write!(f, "{k}")?;
                }
                Ok(())
            }
            ResourceSegment::KeySegment(e) => match &e.kind {
                ExprKind::Literal(Literal::String(s)) => f.write_str(s),
                _ => write!(f, "{e}"),
            },
            ResourceSegment::TypeCast(t) => write!(f, "{t}"),
            ResourceSegment::Function { name, params: p } => {
                write!(f, "{name}(")?;
                params(f, p)?;
                f.write_char(')')
            }
            ResourceSegment::Count(_) => f.write_str("$count"),
            ResourceSegment::Value(_) => f.write_str("$value"),
            ResourceSegment::Ref(_) => f.write_str("$ref"),
            ResourceSegment::Metadata(_) => f.write_str("$metadata"),
            ResourceSegment::Batch(_) => f.write_str("$batch"),
            ResourceSegment::Entity(_) => f.write_str("$entity"),
            ResourceSegment::All(_) => f.write_str("$all"),
            ResourceSegment::CrossJoin(sets, _) => {
                f.write_str("$crossjoin(")?;
                join(f, sets, ",")?;
                f.write_char(')')
            }
            ResourceSegment::Each(_) => f.write_str("$each"),
            ResourceSegment::Filter(e, _) => write!(f, "$filter({e})"),
            ResourceSegment::Query(_) => f.write_str("$query"),
        }
    }
}

/// Would the parser read `s`, written as a path segment, back as a
/// key-as-segment string? (Not a name, not a number, only `pchar`s.)
fn raw_key_segment(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty()
        || b.iter().all(u8::is_ascii_digit)
        || (b.len() > 1 && b[0] == b'-' && b[1..].iter().all(u8::is_ascii_digit))
    {
        return false;
    }
    let allowed = |c: u8| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'%'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
            )
    };
    if !b.iter().all(|&c| allowed(c)) || b.contains(&b'/') {
        return false;
    }
    // `pct-encoded = "%" HEXDIG HEXDIG`
    let bad_pct = b.iter().enumerate().any(|(i, &c)| {
        c == b'%'
            && !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    if bad_pct {
        return false;
    }
    // The parser's `qualified_len`: identifiers (letters, `_`, digits after
    // the first, non-ASCII, `%8X`..`%FX`) joined by dots.
    let ident_len = |mut i: usize| -> usize {
        let start = i;
        let mut chars = 0;
        while i < b.len() {
            let c = b[i];
            let first = i == start;
            if (c.is_ascii_alphabetic() || c == b'_' || c >= 0x80) || (!first && c.is_ascii_digit())
            {
                if !(0x80..0xC0).contains(&c) {
                    chars += 1;
                }
                i += 1;
            } else if c == b'%'
                && i + 2 < b.len()
                && matches!(b[i + 1], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')
                && b[i + 2].is_ascii_hexdigit()
            {
                if !matches!(b[i + 1], b'8' | b'9' | b'a' | b'A' | b'b' | b'B') {
                    chars += 1;
                }
                i += 3;
            } else {
                break;
            }
        }
        if chars > 128 { 0 } else { i - start }
    };
    let mut n = if b[0].is_ascii_alphabetic() || b[0] == b'_' || b[0] >= 0x80 {
        ident_len(0)
    } else {
        0
    };
    if n > 0 {
        while n < b.len() && b[n] == b'.' {
            let m = ident_len(n + 1);
            if m == 0 {
                break;
            }
            n += 1 + m;
        }
        if n == b.len() || b[n] == b'(' || s[n..].starts_with("%28") {
            return false;
        }
    }
    b[0] != b'$'
}

/// Can this key segment be written as `/value` and read back the same?
fn raw_key(seg: &ResourceSegment) -> bool {
    match seg {
        ResourceSegment::KeySegment(e) => match &e.kind {
            ExprKind::Literal(Literal::Integer(_)) => true,
            ExprKind::Literal(Literal::Decimal(d)) => d
                .trim_start_matches('-')
                .bytes()
                .all(|c| c.is_ascii_digit()),
            ExprKind::Literal(Literal::String(s)) => raw_key_segment(s),
            _ => false,
        },
        _ => false,
    }
}

impl Display for ResourcePath {
    /// Keys are written as segments (`/1`) where they must be (after a name
    /// without key, or after another key segment) or where a run of keys
    /// can be; otherwise in parentheses (`Model.Cast(1)`).
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut prev_raw = false;
        for (i, seg) in self.segments.iter().enumerate() {
            if let (ResourceSegment::KeySegment(e), Some(prev)) =
                (seg, i.checked_sub(1).map(|j| &self.segments[j]))
            {
                let must_raw =
                    prev_raw || matches!(prev, ResourceSegment::Member { key: None, .. });
                let run_raw = self.segments[i..]
                    .iter()
                    .take_while(|s| matches!(s, ResourceSegment::KeySegment(_)))
                    .all(raw_key);
                if must_raw || run_raw {
                    write!(f, "/{seg}")?;
                    prev_raw = true;
                } else {
                    write!(f, "({e})")?;
                    prev_raw = false;
                }
                continue;
            }
            prev_raw = false;
            if i > 0 {
                f.write_char('/')?;
            }
            write!(f, "{seg}")?;
        }
        Ok(())
    }
}
