//! The walk over a query's options and expressions that adds up its cost.

use odata_parser::ast::{
    AggregateItem, AliasDef, Apply, ApplyArg, Binary, Call, Compute, Expand, ExpandItem,
    ExpandTarget, Expr, ExprKind, Grouping, In, JsonValue, Lambda, LambdaKind, MemberPath, OrderBy,
    PathCount, PathRoot, PathSegment, QueryOptions, Search, SearchExpr, Span, Transformation,
    Unary,
};

use super::{
    AGGREGATE, COUNT, Cost, CostPart, EXPAND_BOUNDED, EXPAND_UNBOUNDED, FAN_OUT_BOUNDED,
    FAN_OUT_UNBOUNDED, GROUPING, IN_VALUES_PER_UNIT, LAMBDA, MAX_ALIAS_DEPTH, SEARCH_TERM,
    TEXT_SCAN, is_text_scan,
};
use crate::schema::{EntityType, Navigation, Schema};

/// Where an expression is evaluated.
#[derive(Debug, Clone)]
pub(super) struct Context<'s> {
    target: &'static str,
    /// Times it is evaluated per row of the set.
    weight: u64,
    /// Inside a lambda (or an expansion): nested lambdas multiply.
    nested: bool,
    /// Range variables in scope, innermost last.
    vars: Vec<(String, &'s EntityType)>,
    /// The entity of the implicit root (`$it`, or the expanded entity).
    root: &'s EntityType,
    /// `roles/any` of the enclosing lambdas, for messages.
    outer: Option<String>,
}

pub(super) struct Walker<'s> {
    pub(super) schema: &'s dyn Schema,
    pub(super) root: &'s EntityType,
    pub(super) aliases: &'s [AliasDef],
    pub(super) cost: Cost,
    pub(super) alias_depth: usize,
}

impl<'s> Walker<'s> {
    fn add(&mut self, what: String, target: &'static str, span: Span, cost: u64) {
        if cost == 0 {
            return;
        }
        self.cost.total = self.cost.total.saturating_add(cost);
        self.cost.parts.push(CostPart {
            what,
            target,
            span,
            cost,
        });
    }

    fn top(&self, target: &'static str) -> Context<'s> {
        Context {
            target,
            weight: 1,
            nested: false,
            vars: Vec::new(),
            root: self.root,
            outer: None,
        }
    }

    pub(super) fn options(&mut self, options: &'s QueryOptions) {
        let QueryOptions {
            filter,
            orderby,
            count,
            expand,
            search,
            compute,
            apply,
            ..
        } = options;
        if let Some(compute) = compute {
            self.compute(compute, &self.top("$compute"));
        }
        if let Some(apply) = apply {
            self.apply(apply);
        }
        if let Some(filter) = filter {
            self.expr(filter, &self.top("$filter"));
        }
        if let Some(search) = search {
            self.search(search, "$search");
        }
        if let Some(orderby) = orderby {
            self.orderby(orderby, &self.top("$orderby"));
        }
        if let Some(expand) = expand {
            self.expand(expand, self.root, 1);
        }
        if let Some(c) = count
            && c.value
        {
            self.add("$count=true".to_owned(), "$count", c.span, COUNT);
        }
    }

    fn compute(&mut self, compute: &'s Compute, ctx: &Context<'s>) {
        for item in &compute.items {
            self.expr(&item.expr, ctx);
        }
    }

    fn orderby(&mut self, orderby: &'s OrderBy, ctx: &Context<'s>) {
        for item in &orderby.items {
            self.expr(&item.expr, ctx);
        }
    }

    fn search(&mut self, search: &Search, target: &'static str) {
        let terms = search_terms(&search.expr);
        self.add(
            format!(
                "the $search of {terms} term{}",
                if terms == 1 { "" } else { "s" }
            ),
            target,
            search.span,
            terms.saturating_mul(SEARCH_TERM),
        );
    }

    fn expand(&mut self, expand: &'s Expand, entity: &'s EntityType, weight: u64) {
        self.expand_items(&expand.items, entity, weight);
    }

    /// The expansions `items` of `entity`, each evaluated `weight` times
    /// per related row: a nested `$expand` runs for every related entity
    /// of the one it is in, so it (and its options) are multiplied by the
    /// fan-out of the enclosing navigations.
    fn expand_items(&mut self, items: &'s [ExpandItem], entity: &'s EntityType, weight: u64) {
        for item in items {
            let ExpandItem {
                target,
                options,
                span,
            } = item;
            let navs: Vec<&'s Navigation> = match target {
                ExpandTarget::Star { .. } => entity.navigations.iter().collect(),
                ExpandTarget::Path { segments, .. } => match segments.as_slice() {
                    [PathSegment::Member { name, .. }, ..] => {
                        entity.navigation(&name.name).into_iter().collect()
                    }
                    _ => Vec::new(),
                },
            };
            for nav in navs {
                let bounded = self.schema.navigation_bounded(entity, nav);
                self.add(
                    format!(
                        "the $expand of `{}`{}",
                        nav.name,
                        if bounded {
                            ""
                        } else {
                            " (an unbounded collection)"
                        }
                    ),
                    "$expand",
                    *span,
                    if bounded {
                        EXPAND_BOUNDED
                    } else {
                        EXPAND_UNBOUNDED
                    }
                    .saturating_mul(weight),
                );
                let (Some(options), Some(target)) =
                    (options.as_deref(), self.schema.entity_set(&nav.target_set))
                else {
                    continue;
                };
                let target = &target.entity_type;
                // Inside an expansion, like inside a lambda over it.
                let ctx = Context {
                    target: "$expand",
                    weight,
                    nested: true,
                    vars: Vec::new(),
                    root: target,
                    outer: Some(format!("$expand={}", nav.name)),
                };
                if let Some(filter) = &options.filter {
                    self.expr(filter, &ctx);
                }
                if let Some(orderby) = &options.orderby {
                    self.orderby(orderby, &ctx);
                }
                if let Some(search) = &options.search {
                    self.search(search, "$expand");
                }
                if let Some(compute) = &options.compute {
                    self.compute(compute, &ctx);
                }
                if let Some(expand) = &options.expand {
                    let fan_out = if bounded {
                        FAN_OUT_BOUNDED
                    } else {
                        FAN_OUT_UNBOUNDED
                    };
                    self.expand(expand, target, weight.saturating_mul(fan_out));
                }
            }
        }
    }

    fn apply(&mut self, apply: &'s Apply) {
        self.pipeline(&apply.pipeline);
    }

    fn pipeline(&mut self, pipeline: &'s [Transformation]) {
        let ctx = self.top("$apply");
        for t in pipeline {
            match t {
                Transformation::Aggregate(items, _) => self.aggregates(items, &ctx),
                Transformation::GroupBy {
                    groupings,
                    then,
                    span,
                } => {
                    let n = groupings
                        .iter()
                        .map(|g| match g {
                            Grouping::Path(_) => 1u64,
                            Grouping::Rollup { paths, .. } => paths.len() as u64,
                            Grouping::RollupRecursive { .. } => 1,
                        })
                        .sum::<u64>();
                    self.add(
                        format!(
                            "the groupby over {n} propert{}",
                            if n == 1 { "y" } else { "ies" }
                        ),
                        "$apply",
                        *span,
                        n.saturating_mul(GROUPING),
                    );
                    self.pipeline(then);
                }
                Transformation::Filter(e, _) => self.expr(e, &ctx),
                Transformation::OrderBy(o, _) => self.orderby(o, &ctx),
                Transformation::Search(s, _) => self.search(s, "$apply"),
                Transformation::Compute(c, _) => self.compute(c, &ctx),
                Transformation::Concat(pipelines, _) => {
                    for p in pipelines {
                        self.pipeline(p);
                    }
                }
                Transformation::Expand(item, _) => {
                    self.expand_items(std::slice::from_ref(item), self.root, 1);
                }
                Transformation::Call { args, .. } => {
                    for arg in args {
                        self.apply_arg(arg, &ctx);
                    }
                }
                Transformation::Top(..)
                | Transformation::Skip(..)
                | Transformation::Identity(_) => {}
            }
        }
    }

    fn apply_arg(&mut self, arg: &'s ApplyArg, ctx: &Context<'s>) {
        match arg {
            ApplyArg::Expr(e) | ApplyArg::Named(_, e) => self.expr(e, ctx),
            ApplyArg::Pipeline(p) => self.pipeline(p),
            ApplyArg::Aliased { arg, .. } => self.apply_arg(arg, ctx),
            ApplyArg::OrderBy(o) => self.orderby(o, ctx),
            ApplyArg::Keyword(_) => {}
        }
    }

    fn aggregates(&mut self, items: &'s [AggregateItem], ctx: &Context<'s>) {
        for item in items {
            match item {
                AggregateItem::Count { span, .. } => {
                    self.add("an aggregate".to_owned(), "$apply", *span, AGGREGATE);
                }
                AggregateItem::Expr { expr, span, .. } => {
                    self.add("an aggregate".to_owned(), "$apply", *span, AGGREGATE);
                    self.expr(expr, ctx);
                }
                AggregateItem::Nested { items, .. } => self.aggregates(items, ctx),
            }
        }
    }

    fn expr(&mut self, e: &'s Expr, ctx: &Context<'s>) {
        match &e.kind {
            ExprKind::Literal(_) | ExprKind::Json(_) => {}
            ExprKind::Path(path) => self.path(path, ctx),
            ExprKind::Lambda(lambda) => self.lambda(lambda, e.span, ctx),
            ExprKind::PathCount(count) => self.path_count(count, e.span, ctx),
            ExprKind::Alias(name) => {
                if self.alias_depth >= MAX_ALIAS_DEPTH {
                    return;
                }
                if let Some(def) = self.aliases.iter().find(|a| a.name.name == name.name) {
                    self.alias_depth += 1;
                    self.expr(&def.value, ctx);
                    self.alias_depth -= 1;
                }
            }
            ExprKind::Call(Call { name, args }) => {
                if is_text_scan(&name.name) {
                    self.add(
                        match &ctx.outer {
                            Some(outer) => format!("`{}` inside {outer}", name.name),
                            None => format!("`{}`", name.name),
                        },
                        ctx.target,
                        e.span,
                        TEXT_SCAN.saturating_mul(ctx.weight),
                    );
                }
                for arg in args {
                    self.expr(arg, ctx);
                }
            }
            ExprKind::Binary(Binary { left, right, .. }) => {
                self.expr(left, ctx);
                self.expr(right, ctx);
            }
            ExprKind::Unary(Unary { operand, .. }) => self.expr(operand, ctx),
            ExprKind::In(In { expr, list }) => {
                self.expr(expr, ctx);
                let n = self.list_len(list);
                let units = n.div_ceil(IN_VALUES_PER_UNIT);
                self.add(
                    format!("the `in` list of {n} values"),
                    ctx.target,
                    list.span,
                    units.saturating_mul(ctx.weight),
                );
                if let ExprKind::List(items) = &list.kind {
                    for item in items {
                        self.expr(item, ctx);
                    }
                }
            }
            ExprKind::List(items) => {
                for item in items {
                    self.expr(item, ctx);
                }
            }
        }
    }

    /// The number of values of an `in` list (through aliases).
    fn list_len(&self, list: &Expr) -> u64 {
        let mut list = list;
        for _ in 0..MAX_ALIAS_DEPTH {
            match &list.kind {
                ExprKind::List(items) => return items.len() as u64,
                ExprKind::Json(JsonValue::Array(values)) => return values.len() as u64,
                ExprKind::Alias(name) => {
                    match self.aliases.iter().find(|a| a.name.name == name.name) {
                        Some(def) => list = &def.value,
                        None => return 0,
                    }
                }
                _ => return 0,
            }
        }
        0
    }

    /// `$filter(...)` segments and key predicates of a path.
    fn path(&mut self, path: &'s MemberPath, ctx: &Context<'s>) {
        for segment in &path.segments {
            if let PathSegment::Filter { filter, .. } = segment {
                self.expr(filter, ctx);
            }
        }
    }

    /// The entity the path starts from and the navigation it names.
    fn navigation(
        &self,
        path: &MemberPath,
        ctx: &Context<'s>,
    ) -> Option<(&'s EntityType, &'s Navigation, &'s EntityType)> {
        let (entity, rest) = match path.root {
            PathRoot::It => (ctx.root, path.segments.as_slice()),
            PathRoot::Implicit => match path.segments.first() {
                Some(PathSegment::Member { name, key: None }) => {
                    match ctx.vars.iter().rev().find(|(v, _)| *v == name.name) {
                        Some((_, entity)) => (*entity, &path.segments[1..]),
                        None => (ctx.root, path.segments.as_slice()),
                    }
                }
                _ => (ctx.root, path.segments.as_slice()),
            },
            PathRoot::This | PathRoot::Root => return None,
        };
        let [PathSegment::Member { name, .. }] = rest else {
            return None;
        };
        let nav = entity.navigation(&name.name)?;
        let target = &self.schema.entity_set(&nav.target_set)?.entity_type;
        Some((entity, nav, target))
    }

    /// The weight inside a lambda or `$count` over `nav`, and a message.
    fn inner_weight(&self, entity: &EntityType, nav: &Navigation, ctx: &Context<'s>) -> u64 {
        if !ctx.nested {
            return 1;
        }
        let fan_out = if self.schema.navigation_bounded(entity, nav) {
            FAN_OUT_BOUNDED
        } else {
            FAN_OUT_UNBOUNDED
        };
        ctx.weight.saturating_mul(fan_out)
    }

    fn lambda(&mut self, lambda: &'s Lambda, span: Span, ctx: &Context<'s>) {
        let Lambda {
            collection,
            kind,
            variable,
            predicate,
        } = lambda;
        let Some((entity, nav, target)) = self.navigation(collection, ctx) else {
            return;
        };
        let kind = match kind {
            LambdaKind::Any => "any",
            LambdaKind::All => "all",
        };
        let weight = self.inner_weight(entity, nav, ctx);
        let here = format!("{}/{kind}", path_text(collection));
        let what = match &ctx.outer {
            Some(outer) => format!("the nested {kind}() over `{}` inside {outer}", nav.name),
            None => format!("the {kind}() over `{}`", nav.name),
        };
        self.add(what, ctx.target, span, LAMBDA.saturating_mul(weight));
        if let (Some(var), Some(pred)) = (variable, predicate) {
            let mut inner = ctx.clone();
            inner.weight = weight;
            inner.nested = true;
            inner.vars.push((var.name.clone(), target));
            inner.outer = Some(match &ctx.outer {
                Some(outer) => format!("{here} inside {outer}"),
                None => here,
            });
            self.expr(pred, &inner);
        }
    }

    fn path_count(&mut self, count: &'s PathCount, span: Span, ctx: &Context<'s>) {
        let PathCount {
            collection,
            filter,
            search,
        } = count;
        let Some((entity, nav, target)) = self.navigation(collection, ctx) else {
            return;
        };
        let weight = self.inner_weight(entity, nav, ctx);
        let what = match &ctx.outer {
            Some(outer) => format!("the nested $count of `{}` inside {outer}", nav.name),
            None => format!("the $count of `{}`", nav.name),
        };
        self.add(what, ctx.target, span, LAMBDA.saturating_mul(weight));
        let inner = Context {
            target: ctx.target,
            weight,
            nested: true,
            vars: ctx.vars.clone(),
            root: target,
            outer: Some(format!("{}/$count", path_text(collection))),
        };
        if let Some(filter) = filter {
            self.expr(filter, &inner);
        }
        if let Some(search) = search {
            self.search(search, ctx.target);
        }
    }
}

/// `r/users` for messages.
fn path_text(path: &MemberPath) -> String {
    let mut parts: Vec<&str> = Vec::new();
    match path.root {
        PathRoot::It => parts.push("$it"),
        PathRoot::This => parts.push("$this"),
        PathRoot::Root => parts.push("$root"),
        PathRoot::Implicit => {}
    }
    for s in &path.segments {
        if let PathSegment::Member { name, .. } = s {
            parts.push(&name.name);
        }
    }
    parts.join("/")
}

/// Terms and phrases of a search expression.
fn search_terms(e: &SearchExpr) -> u64 {
    match e {
        SearchExpr::Term(..) | SearchExpr::Phrase(..) => 1,
        SearchExpr::Not(inner, _) => search_terms(inner),
        SearchExpr::And(l, r, _) | SearchExpr::Or(l, r, _) => {
            search_terms(l).saturating_add(search_terms(r))
        }
    }
}
