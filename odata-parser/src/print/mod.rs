//! `Display` for the AST: canonical OData text.
//!
//! Keywords are printed in lower case, system query options with `$`,
//! whitespace is a single space around operators, and parentheses are
//! written only where precedence requires them. For every AST the parser
//! can produce, `parse(ast.to_string()) == ast`.

use std::fmt::{self, Display, Formatter, Write};

use crate::ast::*;

mod apply;
mod expr;
mod options;
mod path;

/// Binding strength of an expression for parenthesisation.
fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary(b) => b.op.precedence(),
        ExprKind::In(_) => crate::parser::expr::IN_PRECEDENCE,
        ExprKind::Unary(_) => 8,
        ExprKind::Literal(_)
        | ExprKind::Path(_)
        | ExprKind::Lambda(_)
        | ExprKind::PathCount(_)
        | ExprKind::Alias(_)
        | ExprKind::Call(_)
        | ExprKind::List(_)
        | ExprKind::Json(_) => 9,
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
        ExprKind::Literal(_)
        | ExprKind::Alias(_)
        | ExprKind::Call(_)
        | ExprKind::Binary(_)
        | ExprKind::Unary(_)
        | ExprKind::In(_)
        | ExprKind::List(_)
        | ExprKind::Json(_) => return false,
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
        None | Some(PathSegment::Filter { .. } | PathSegment::Aggregate(_)) => false,
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

fn nested(f: &mut Formatter<'_>, options: &Option<Box<QueryOptions>>) -> fmt::Result {
    if let Some(o) = options {
        f.write_char('(')?;
        write_options(f, o, ";")?;
        f.write_char(')')?;
    }
    Ok(())
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
