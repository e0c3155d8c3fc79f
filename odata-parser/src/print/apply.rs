//! `$apply` transformations.

use std::fmt::{self, Display, Formatter, Write};

use super::join;
use crate::ast::*;

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
