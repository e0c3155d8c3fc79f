//! `$apply` (OData Extension for Data Aggregation 4.0).
//!
//! Transformation names and the keywords `with`, `from`, `as` are
//! case-sensitive, as in the aggregation ABNF (`%s"..."`).

use super::{PResult, Parser};
use crate::ast::*;

/// Transformations whose argument list is `(collectionExpr, commonExpr)`.
const TOP_BOTTOM: [&str; 6] = [
    "topcount",
    "toppercent",
    "topsum",
    "bottomcount",
    "bottompercent",
    "bottomsum",
];

impl Parser<'_> {
    /// The value of `$apply`: `applyExpr`.
    pub(crate) fn apply_value(&mut self) -> PResult<Apply> {
        let start = self.pos;
        let pipeline = self.apply_expr()?;
        Ok(Apply {
            pipeline,
            span: self.span(start),
        })
    }

    /// `applyExpr = applyTrafo *( "/" applyTrafo )`
    pub(crate) fn apply_expr(&mut self) -> PResult<Vec<Transformation>> {
        self.enter()?;
        let mut out = Vec::new();
        loop {
            out.push(self.apply_trafo()?);
            if self.peek() == Some(b'/') {
                self.pos += 1;
                continue;
            }
            break;
        }
        self.leave();
        Ok(out)
    }

    fn open(&mut self) -> PResult<()> {
        self.expect(b'(', "'('")?;
        self.bws();
        Ok(())
    }

    fn close(&mut self) -> PResult<()> {
        self.bws();
        self.expect(b')', "')'")
    }

    /// `BWS COMMA BWS`; false (position unchanged) if absent.
    fn comma(&mut self) -> bool {
        let save = self.pos;
        self.bws();
        if self.eat(b',') {
            self.bws();
            true
        } else {
            self.pos = save;
            false
        }
    }

    fn need_comma(&mut self) -> PResult<()> {
        self.bws();
        self.expect(b',', "','")?;
        self.bws();
        Ok(())
    }

    /// One `applyTrafo`.
    fn apply_trafo(&mut self) -> PResult<Transformation> {
        let start = self.pos;
        self.node()?;
        let name = self.qualified("transformation")?;
        let t = match name.name.as_str() {
            "identity" => Transformation::Identity(self.span(start)),
            "aggregate" => {
                self.open()?;
                let mut items = vec![self.aggregate_item(true)?];
                while self.comma() {
                    items.push(self.aggregate_item(true)?);
                }
                self.close()?;
                Transformation::Aggregate(items, self.span(start))
            }
            "groupby" => {
                self.open()?;
                self.expect(b'(', "'('")?;
                self.bws();
                let mut groupings = vec![self.grouping()?];
                while self.comma() {
                    groupings.push(self.grouping()?);
                }
                self.bws();
                self.expect(b')', "')'")?;
                let then = if self.comma() {
                    self.apply_expr()?
                } else {
                    Vec::new()
                };
                self.close()?;
                Transformation::GroupBy {
                    groupings,
                    then,
                    span: self.span(start),
                }
            }
            "filter" => {
                self.open()?;
                let e = self.common_expr()?;
                self.close()?;
                Transformation::Filter(e, self.span(start))
            }
            "orderby" => {
                self.expect(b'(', "'('")?;
                let o = self.orderby_value(true)?;
                self.expect(b')', "')'")?;
                Transformation::OrderBy(o, self.span(start))
            }
            "top" | "skip" => {
                self.open()?;
                let n = self.count64()?;
                self.close()?;
                if name.name == "top" {
                    Transformation::Top(n, self.span(start))
                } else {
                    Transformation::Skip(n, self.span(start))
                }
            }
            "search" => {
                self.expect(b'(', "'('")?;
                let s = self.search_option()?;
                self.close()?;
                Transformation::Search(s, self.span(start))
            }
            "compute" => {
                self.open()?;
                let c = self.compute_value(true)?;
                self.close()?;
                Transformation::Compute(c, self.span(start))
            }
            "concat" => {
                self.open()?;
                let mut branches = vec![self.apply_expr()?];
                self.need_comma()?;
                branches.push(self.apply_expr()?);
                while self.comma() {
                    branches.push(self.apply_expr()?);
                }
                self.close()?;
                Transformation::Concat(branches, self.span(start))
            }
            "expand" => {
                self.open()?;
                let item = self.expand_item()?;
                self.close()?;
                Transformation::Expand(item, self.span(start))
            }
            n if TOP_BOTTOM.contains(&n) => {
                self.open()?;
                let a = self.common_expr()?;
                self.need_comma()?;
                let b = self.common_expr()?;
                self.close()?;
                Transformation::Call {
                    name,
                    args: vec![ApplyArg::Expr(a), ApplyArg::Expr(b)],
                    span: self.span(start),
                }
            }
            "nest" => {
                self.open()?;
                let args = self.nest_apply_exprs()?;
                self.close()?;
                Transformation::Call {
                    name,
                    args,
                    span: self.span(start),
                }
            }
            "addnested" => {
                self.open()?;
                let path = self.simple_path(true)?;
                let mut args = vec![ApplyArg::Expr(path)];
                self.need_comma()?;
                args.extend(self.nest_apply_exprs()?);
                self.close()?;
                Transformation::Call {
                    name,
                    args,
                    span: self.span(start),
                }
            }
            "join" | "outerjoin" => {
                self.open()?;
                let prop = if self.at(b'@') {
                    let s = self.pos;
                    let seg = self.annotation_segment()?;
                    let span = self.span(s);
                    self.mk(
                        ExprKind::Path(MemberPath {
                            root: PathRoot::Implicit,
                            segments: vec![seg],
                            span,
                        }),
                        span,
                    )?
                } else {
                    self.simple_path(true)?
                };
                let alias = self.as_alias()?;
                let mut args = vec![ApplyArg::Aliased {
                    arg: Box::new(ApplyArg::Expr(prop)),
                    alias,
                }];
                if self.comma() {
                    args.push(ApplyArg::Pipeline(self.apply_expr()?));
                }
                self.close()?;
                Transformation::Call {
                    name,
                    args,
                    span: self.span(start),
                }
            }
            "ancestors" | "descendants" => {
                self.open()?;
                let mut args = self.rec_hier_reference()?;
                self.need_comma()?;
                args.push(ApplyArg::Pipeline(self.apply_expr()?));
                let mut has_depth = false;
                if self.comma() {
                    if self.at_kw_cs("keep") {
                        args.push(self.keep_start()?);
                    } else {
                        let s = self.pos;
                        let n = self.count64()?;
                        let e =
                            self.literal_expr(Literal::Integer(n.value as i64), self.span(s))?;
                        args.push(ApplyArg::Expr(e));
                        has_depth = true;
                    }
                }
                if has_depth && self.comma() {
                    args.push(self.keep_start()?);
                }
                self.close()?;
                Transformation::Call {
                    name,
                    args,
                    span: self.span(start),
                }
            }
            "traverse" => {
                self.open()?;
                let mut args = self.rec_hier_reference()?;
                self.need_comma()?;
                let s = self.pos;
                if !(self.eat_kw_cs("preorder") || self.eat_kw_cs("postorder")) {
                    return Err(self.fail("preorder or postorder"));
                }
                args.push(ApplyArg::Keyword(self.ident_from(s, self.pos)));
                // `[ COMMA preservingTrafos ] [ COMMA orderbyItem *( COMMA orderbyItem ) ]`
                if self.comma() {
                    let trafo_first = self.starts_trafo();
                    if trafo_first {
                        args.push(ApplyArg::Pipeline(self.apply_expr()?));
                        if self.comma() {
                            args.extend(self.traverse_orderby()?);
                        }
                    } else {
                        args.extend(self.traverse_orderby()?);
                    }
                }
                self.close()?;
                Transformation::Call {
                    name,
                    args,
                    span: self.span(start),
                }
            }
            n if n.contains('.') => {
                // customFunction = namespace "." name functionExprParameters
                let params = self.function_params()?;
                let args = params
                    .into_iter()
                    .map(|(k, v)| ApplyArg::Named(k, v))
                    .collect();
                Transformation::Call {
                    name,
                    args,
                    span: self.span(start),
                }
            }
            _ => return Err(self.fail_at(start, "transformation")),
        };
        Ok(t)
    }

    /// Does a transformation (rather than an expression) start here?
    fn starts_trafo(&self) -> bool {
        let n = self.qualified_len();
        if n == 0 {
            return false;
        }
        let name = self.text(self.pos, self.pos + n);
        let after = &self.b[self.pos + n..self.end];
        let paren = super::lexical::punct_len(after, b'(') > 0;
        match name {
            "identity" => true,
            "aggregate" | "groupby" | "filter" | "orderby" | "top" | "skip" | "search"
            | "compute" | "concat" | "expand" | "nest" | "addnested" | "join" | "outerjoin"
            | "ancestors" | "descendants" | "traverse" => paren,
            n if TOP_BOTTOM.contains(&n) => paren,
            n => n.contains('.') && paren,
        }
    }

    /// Order-by items of `traverse`.
    fn traverse_orderby(&mut self) -> PResult<Vec<ApplyArg>> {
        Ok(vec![ApplyArg::OrderBy(self.orderby_value(true)?)])
    }

    /// `%s"keep start"`
    fn keep_start(&mut self) -> PResult<ApplyArg> {
        let s = self.pos;
        if !self.rest().starts_with(b"keep start") {
            return Err(self.fail("keep start"));
        }
        self.pos += "keep start".len();
        Ok(ApplyArg::Keyword(self.ident_from(s, self.pos)))
    }

    /// `recHierReference = rootExpr BWS COMMA BWS recHierQualifier BWS COMMA BWS recHierPropertyPath`
    fn rec_hier_reference(&mut self) -> PResult<Vec<ApplyArg>> {
        if !self.rest().starts_with(b"$root/") {
            return Err(self.fail("$root"));
        }
        let root = self.common_expr()?;
        self.need_comma()?;
        let q = self.simple_path(false)?;
        self.need_comma()?;
        let p = self.simple_path(true)?;
        Ok(vec![
            ApplyArg::Expr(root),
            ApplyArg::Expr(q),
            ApplyArg::Expr(p),
        ])
    }

    /// `nestApplyExpr = applyExpr asAlias *( BWS COMMA BWS applyExpr asAlias )`
    fn nest_apply_exprs(&mut self) -> PResult<Vec<ApplyArg>> {
        let mut args = Vec::new();
        loop {
            let p = self.apply_expr()?;
            let alias = self.as_alias()?;
            args.push(ApplyArg::Aliased {
                arg: Box::new(ApplyArg::Pipeline(p)),
                alias,
            });
            if self.comma() {
                continue;
            }
            break;
        }
        Ok(args)
    }

    /// A path of identifiers and type casts without keys or annotations
    /// (`groupingProperty`, `nestPath`, `recHierPropertyPath`); with
    /// `multi` false a single identifier.
    fn simple_path(&mut self, multi: bool) -> PResult<Expr> {
        let start = self.pos;
        let mut segments = Vec::new();
        loop {
            let id = self.qualified("property")?;
            segments.push(if id.name.contains('.') {
                PathSegment::TypeCast(id)
            } else {
                PathSegment::Member {
                    name: id,
                    key: None,
                }
            });
            if multi && self.peek() == Some(b'/') && self.ident_len_at(self.pos + 1) > 0 {
                self.pos += 1;
                continue;
            }
            break;
        }
        let span = self.span(start);
        self.mk(
            ExprKind::Path(MemberPath {
                root: PathRoot::Implicit,
                segments,
                span,
            }),
            span,
        )
    }

    /// `groupingProperty`: a simple path that does not end in a type cast.
    fn grouping_path(&mut self) -> PResult<MemberPath> {
        let e = self.simple_path(true)?;
        let ExprKind::Path(p) = e.kind else {
            unreachable!("simple_path returns a path")
        };
        if matches!(p.segments.last(), Some(PathSegment::TypeCast(_))) {
            return Err(self.fail("'/'"));
        }
        Ok(p)
    }

    /// `groupbyElement = groupingProperty / rollupLevels / rollupRecursive`
    fn grouping(&mut self) -> PResult<Grouping> {
        let start = self.pos;
        if self.at_kw_cs("rollup") && super::lexical::punct_len(&self.rest()[6..], b'(') > 0 {
            self.pos += 6;
            self.open()?;
            let all = self.eat_kw_cs("$all");
            let mut paths = Vec::new();
            if all {
                self.need_comma()?;
            }
            paths.push(self.grouping_path()?);
            while self.comma() {
                paths.push(self.grouping_path()?);
            }
            self.close()?;
            return Ok(Grouping::Rollup {
                all,
                paths,
                span: self.span(start),
            });
        }
        if self.at_kw_cs("rolluprecursive")
            && super::lexical::punct_len(&self.rest()[15..], b'(') > 0
        {
            self.pos += 15;
            self.open()?;
            let mut args = self.rec_hier_reference()?;
            if self.comma() {
                args.push(ApplyArg::Pipeline(self.apply_expr()?));
            }
            self.close()?;
            return Ok(Grouping::RollupRecursive {
                args,
                span: self.span(start),
            });
        }
        Ok(Grouping::Path(self.grouping_path()?))
    }

    /// `RWS kw RWS` (case-sensitive); position unchanged if absent.
    fn kw_between_ws(&mut self, kw: &str) -> bool {
        let save = self.pos;
        if self.rws() && self.eat_kw_cs(kw) && self.rws() {
            return true;
        }
        self.pos = save;
        false
    }

    /// `aggregateMethod = "sum" / "min" / "max" / "average" / "countdistinct" / namespace "." odataIdentifier`
    fn aggregate_method(&mut self) -> PResult<Ident> {
        let id = self.qualified("aggregation method")?;
        if id.name.contains('.')
            || matches!(
                id.name.as_str(),
                "sum" | "min" | "max" | "average" | "countdistinct"
            )
        {
            Ok(id)
        } else {
            self.pos = id.span.start;
            Err(self.fail("sum, min, max, average, countdistinct or a qualified method"))
        }
    }

    /// `aggregateFrom` / `customFrom` clauses.
    fn aggregate_from(&mut self, with_required: bool) -> PResult<Vec<AggregateFrom>> {
        let mut out = Vec::new();
        while self.kw_between_ws("from") {
            let path = self.grouping_path()?;
            // `groupingProperties` may list several paths; take the longest
            // list that is followed by `with` or `from` (else just one path).
            let first_end = self.pos;
            let mut cands: Vec<(MemberPath, usize)> = Vec::new();
            while self.comma() {
                match self.attempt(|p| p.grouping_path())? {
                    Some(m) => cands.push((m, self.pos)),
                    None => break,
                }
            }
            let mut keep = 0;
            for (i, (_, end)) in cands.iter().enumerate().rev() {
                self.pos = *end;
                let save = self.pos;
                let ok = self.kw_between_ws("with") || self.kw_between_ws("from");
                self.pos = save;
                if ok {
                    keep = i + 1;
                    break;
                }
            }
            cands.truncate(keep);
            self.pos = cands.last().map_or(first_end, |c| c.1);
            let more: Vec<MemberPath> = cands.into_iter().map(|c| c.0).collect();
            let with = if self.kw_between_ws("with") {
                Some(self.aggregate_method()?)
            } else if with_required {
                let _ = self.rws();
                return Err(self.fail("'with'"));
            } else {
                None
            };
            out.push(AggregateFrom { path, with, more });
        }
        Ok(out)
    }

    /// One item of `aggregate(...)` (`top`: an `aggregateExpr` with its
    /// alias) or of a `/aggregate(...)` path segment (`aggregateFunctionExpr`,
    /// no alias).
    pub(crate) fn aggregate_item(&mut self, top: bool) -> PResult<AggregateItem> {
        let start = self.pos;
        if self.at_kw_cs("$count") && self.peek_at(6) != Some(b'/') {
            self.pos += 6;
            let count_span = self.span(start);
            let from = self.aggregate_from(true)?;
            let alias = if top { Some(self.as_alias()?) } else { None };
            if from.is_empty()
                && let Some(alias) = alias
            {
                return Ok(AggregateItem::Count {
                    alias,
                    span: self.span(start),
                });
            }
            let seg = PathSegment::Member {
                name: self.ident_from(start, start + 6),
                key: None,
            };
            let expr = self.mk(
                ExprKind::Path(MemberPath {
                    root: PathRoot::Implicit,
                    segments: vec![seg],
                    span: count_span,
                }),
                count_span,
            )?;
            return Ok(AggregateItem::Expr {
                expr,
                with: None,
                alias,
                from,
                span: self.span(start),
            });
        }
        // `aggrCastPath nonprimAggWith`: a bare type cast before `with`.
        let n = self.qualified_len();
        let cast_only = n > 0 && self.text(self.pos, self.pos + n).contains('.') && {
            let save = self.pos;
            self.pos += n;
            let with = self.kw_between_ws("with");
            self.pos = save;
            with
        };
        let expr = if cast_only {
            self.simple_path(false)?
        } else {
            self.common_expr()?
        };
        if self.kw_between_ws("with") {
            let with = Some(self.aggregate_method()?);
            let from = self.aggregate_from(true)?;
            let alias = if top { Some(self.as_alias()?) } else { None };
            return Ok(AggregateItem::Expr {
                expr,
                with,
                alias,
                from,
                span: self.span(start),
            });
        }
        if matches!(expr.kind, ExprKind::PathCount(_)) {
            let from = self.aggregate_from(true)?;
            let alias = if top { Some(self.as_alias()?) } else { None };
            return Ok(AggregateItem::Expr {
                expr,
                with: None,
                alias,
                from,
                span: self.span(start),
            });
        }
        // aggregateCustom [ [ customFrom ] asAlias ]
        if !matches!(&expr.kind, ExprKind::Path(p) if p.root == PathRoot::Implicit) {
            let _ = self.rws();
            return Err(self.fail("'with'"));
        }
        let from = self.aggregate_from(false)?;
        let alias = if top && !from.is_empty() {
            Some(self.as_alias()?)
        } else if top {
            let save = self.pos;
            if self.kw_between_ws("as") {
                self.pos = save;
                Some(self.as_alias()?)
            } else {
                None
            }
        } else {
            None
        };
        Ok(AggregateItem::Expr {
            expr,
            with: None,
            alias,
            from,
            span: self.span(start),
        })
    }
}
