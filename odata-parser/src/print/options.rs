//! `$search`, `$select`, `$orderby`, `$expand` and `$compute`.

use std::fmt::{self, Display, Formatter, Write};

use super::{join, nested};
use crate::ast::*;

impl Display for SearchExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        fn level(e: &SearchExpr) -> u8 {
            match e {
                SearchExpr::Or(..) => 1,
                SearchExpr::And(..) => 2,
                SearchExpr::Not(..) => 3,
                SearchExpr::Term(..) | SearchExpr::Phrase(..) => 4,
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
