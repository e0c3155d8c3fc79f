//! From query options to a [`ReadPlan`], and from a plan to statements.

use std::cell::Cell;

use chrono::{DateTime, SubsecRound, Utc};
use odata_parser::ast::{
    Compute, ComputeItem, Expand, ExpandItem, ExpandSuffix, ExpandTarget, OrderBy, OrderByItem,
    PathSegment, QueryOptions, Search, SearchExpr, Select, SelectItem, SortDirection, Span,
};
use sea_query::{
    Alias, Expr, ExprTrait, Func, JoinType, NullOrdering, Order, Query, SelectStatement, Value,
};

use crate::apply::ApplyPlan;
use crate::dialect::Backend;
use crate::error::TranslateError;
use crate::expr::{Collation, ExprContext, ExprTranslator, Scope, Ty, Typed, percent_decode};
use crate::schema::{EdmType, EntityType, Navigation, Property, PropertySource, Schema};

/// The tenant every statement is restricted to. The column comes from the
/// schema ([`EntityType::tenant_column`]); the value is bound.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantFilter {
    /// The tenant id (e.g. `Value::Uuid`).
    pub value: Value,
}

/// Alias of the parent key column in navigation and expand statements.
pub const PARENT_COLUMN: &str = "__parent";
/// Alias of the related entity's alternate key in navigation key statements.
pub const RELATED_KEY_COLUMN: &str = "__key";

/// The column alias under which the `i`-th order key is selected.
pub fn order_key_alias(i: usize) -> String {
    format!("__k{i}")
}

/// Builds [`ReadPlan`]s for one schema and backend.
pub struct Translator<'s> {
    schema: &'s dyn Schema,
    backend: Backend,
    now: DateTime<Utc>,
    /// `None`: one level (an `$expand` inside an `$expand` is not
    /// supported).
    max_expand_depth: Option<usize>,
}

impl<'s> Translator<'s> {
    /// A translator whose `now()` is the current time.
    pub fn new(schema: &'s dyn Schema, backend: Backend) -> Self {
        Translator {
            schema,
            backend,
            // Timestamps are compared to the microsecond (see
            // `ExprTranslator::sub_microsecond_comparison`).
            now: Utc::now().trunc_subsecs(6),
            max_expand_depth: None,
        }
    }

    /// The same translator planning `$expand` nested up to `depth` levels
    /// (`$expand=roles($expand=users)` is two; at least one). Deeper
    /// nesting is refused as invalid (400). Without this, a nested
    /// `$expand` is not supported (501).
    pub fn with_max_expand_depth(mut self, depth: usize) -> Self {
        self.max_expand_depth = Some(depth.max(1));
        self
    }

    /// The same translator with a fixed `now()` (for reproducible output).
    pub fn with_now(mut self, now: DateTime<Utc>) -> Self {
        self.now = now;
        self
    }

    /// Checks and translates the options of a request on `entity_set`.
    ///
    /// `$skiptoken` is left to the caller (it is opaque to the translator:
    /// the caller decodes it and passes the position to
    /// [`ReadPlan::page_statement`]). Custom query options (no `$`) are not
    /// interpreted, as OData allows.
    pub fn plan(
        &self,
        entity_set: &str,
        options: &QueryOptions,
        tenant: TenantFilter,
    ) -> Result<ReadPlan, TranslateError> {
        self.plan_with_conditions(entity_set, options, tenant, &[])
    }

    /// [`Translator::plan`] with `conditions` the caller adds (ANDed with
    /// `$filter`, as AST nodes: e.g. a navigation's parent key, which a
    /// service reads from the resource path). They are checked like
    /// `$filter`; an error in one names the target `resource path`.
    pub fn plan_with_conditions(
        &self,
        entity_set: &str,
        options: &QueryOptions,
        tenant: TenantFilter,
        conditions: &[odata_parser::ast::Expr],
    ) -> Result<ReadPlan, TranslateError> {
        let Some(set) = self.schema.entity_set(entity_set) else {
            return Err(TranslateError::invalid(
                "entity set",
                Span::default(),
                format!("unknown entity set `{entity_set}`"),
            ));
        };
        let entity = &set.entity_type;
        let QueryOptions {
            filter,
            select,
            orderby,
            top,
            skip,
            count,
            expand,
            search,
            compute,
            apply,
            levels,
            skiptoken: _,
            deltatoken,
            format,
            schemaversion,
            index,
            id,
            aliases,
            custom: _,
        } = options;

        if levels.is_some() {
            return Err(TranslateError::invalid(
                "$levels",
                Span::default(),
                "$levels is only allowed inside $expand",
            ));
        }
        if let Some(t) = deltatoken {
            return Err(TranslateError::unsupported(
                "$deltatoken",
                t.span,
                "delta queries are not supported",
            ));
        }
        if let Some(f) = format {
            let v = f.value.to_ascii_lowercase();
            if !(v == "json"
                || v.starts_with("application/json")
                || v.starts_with("application%2fjson"))
            {
                return Err(TranslateError::unsupported(
                    "$format",
                    f.span,
                    format!("only JSON is supported, not `{}`", f.value),
                ));
            }
        }
        if let Some(v) = schemaversion {
            return Err(TranslateError::unsupported(
                "$schemaversion",
                v.span,
                "schema versions are not supported",
            ));
        }
        if let Some(i) = index {
            return Err(TranslateError::unsupported(
                "$index",
                i.span,
                "$index is not supported on reads",
            ));
        }
        if let Some(i) = id {
            return Err(TranslateError::unsupported(
                "$id",
                i.span,
                "$id is not supported",
            ));
        }
        let top = top
            .map(|t| check_i64("$top", t.value, t.span))
            .transpose()?;
        let skip = skip
            .map(|s| check_i64("$skip", s.value, s.span))
            .transpose()?;

        let next_alias = Cell::new(0);
        let root = Scope {
            entity,
            alias: entity.table.clone(),
        };
        let mut computed: Vec<(String, Typed)> = Vec::new();
        if let Some(compute) = compute {
            let Compute { items, span: _ } = compute;
            for item in items {
                let ComputeItem {
                    expr,
                    alias,
                    span: _,
                } = item;
                let clash = entity.property(&alias.name).is_some()
                    || entity.navigation(&alias.name).is_some()
                    || computed
                        .iter()
                        .any(|(n, _)| n.eq_ignore_ascii_case(&alias.name));
                if clash {
                    return Err(TranslateError::invalid(
                        "$compute",
                        alias.span,
                        format!("`{}` is already a property name", alias.name),
                    ));
                }
                let earlier = computed.clone();
                let ctx = ExprContext {
                    schema: self.schema,
                    backend: self.backend,
                    tenant: &tenant.value,
                    now: self.now,
                    aliases,
                    computed: &earlier,
                    next_alias: &next_alias,
                };
                let mut t = ExprTranslator::new(&ctx, "$compute", root.clone());
                let typed = t.expr(expr)?;
                computed.push((alias.name.clone(), typed));
            }
        }
        let ctx = ExprContext {
            schema: self.schema,
            backend: self.backend,
            tenant: &tenant.value,
            now: self.now,
            aliases,
            computed: &computed,
            next_alias: &next_alias,
        };
        if root.key_column().is_none() {
            return Err(TranslateError::unsupported(
                "entity set",
                Span::default(),
                format!("{} has no single-column key", entity.name),
            ));
        }

        let mut condition = root.column(&entity.tenant_column).eq(tenant.value.clone());
        // Before `$apply`, which may capture the condition so far.
        for extra in conditions {
            let mut t = ExprTranslator::new(&ctx, "resource path", root.clone());
            condition = condition.and(t.condition(extra)?);
        }
        let apply = match apply {
            Some(apply) => {
                crate::apply::plan_apply(&ctx, &root, apply, &mut condition, orderby.as_ref())?
            }
            None => None,
        };
        if apply.is_some() {
            for (name, span) in [
                ("$filter", filter.as_ref().map(|f| f.span)),
                ("$select", select.as_ref().map(|s| s.span)),
                ("$expand", expand.as_ref().map(|e| e.span)),
                ("$search", search.as_ref().map(|s| s.span)),
                ("$compute", compute.as_ref().map(|c| c.span)),
            ] {
                if let Some(span) = span {
                    return Err(TranslateError::unsupported(
                        name,
                        span,
                        format!("{name} together with an aggregating $apply is not supported"),
                    ));
                }
            }
        }
        if let Some(filter) = filter {
            let mut t = ExprTranslator::new(&ctx, "$filter", root.clone());
            condition = condition.and(t.condition(filter)?);
        }
        if let Some(search) = search {
            condition = condition.and(search_condition(self.backend, &root, search)?);
        }

        let order = match orderby {
            Some(orderby) if apply.is_none() => order_keys(&ctx, &root, orderby)?,
            _ => Vec::new(),
        };
        let order = with_key(&ctx, &root, order);

        let (selection, computed_columns) = top_selection(&root, select.as_ref(), &computed)?;
        let expand = match expand {
            Some(expand) => expand_plans(&ctx, entity, expand, 1, self.max_expand_depth)?,
            None => Vec::new(),
        };

        Ok(ReadPlan {
            backend: self.backend,
            entity_set: set.name.clone(),
            entity: entity.clone(),
            tenant: tenant.value,
            selection,
            computed: computed_columns,
            condition,
            order,
            top,
            skip,
            count: count.is_some_and(|c| c.value),
            expand,
            apply,
        })
    }
}

fn check_i64(option: &str, value: u64, span: Span) -> Result<u64, TranslateError> {
    if value > i64::MAX as u64 {
        Err(TranslateError::invalid(
            option,
            span,
            format!("{option} must be at most {}", i64::MAX),
        ))
    } else {
        Ok(value)
    }
}

/// What a request selected.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Structural properties, in schema order.
    pub properties: Vec<Property>,
    /// Navigation properties whose related keys are listed (`$select=roles`,
    /// and all of them when nothing is selected).
    pub navigations: Vec<Navigation>,
    /// Selected `$compute` properties (only when named in `$select`),
    /// fetched as [`computed_column_alias`]`(name)`.
    pub computed: Vec<ComputedProperty>,
}

/// A selected `$compute` property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputedProperty {
    /// The alias given in `$compute`.
    pub name: String,
    /// The type of its value (`Edm.String` for a bare `null`).
    pub edm_type: EdmType,
}

/// The column alias under which a selected `$compute` property is fetched.
pub fn computed_column_alias(name: &str) -> String {
    format!("__c_{name}")
}

/// The selection of the top-level entity, with `$compute` aliases.
fn top_selection(
    root: &Scope<'_>,
    select: Option<&Select>,
    computed: &[(String, Typed)],
) -> Result<(Selection, Vec<(String, Expr)>), TranslateError> {
    let mut names: Vec<&odata_parser::ast::Ident> = Vec::new();
    let mut rest: Option<Select> = None;
    if let Some(select) = select {
        let mut kept = select.clone();
        kept.items.retain(|item| {
            if let SelectItem::Path {
                segments,
                options: None,
                ..
            } = item
                && let [PathSegment::Member { name, key: None }] = segments.as_slice()
                && computed
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(&name.name))
            {
                return false;
            }
            true
        });
        for item in &select.items {
            if let SelectItem::Path {
                segments,
                options: None,
                ..
            } = item
                && let [PathSegment::Member { name, key: None }] = segments.as_slice()
                && computed
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(&name.name))
            {
                names.push(name);
            }
        }
        // Only computed properties selected: no structural property.
        if kept.items.is_empty() {
            let mut sel = Selection {
                properties: Vec::new(),
                navigations: Vec::new(),
                computed: Vec::new(),
            };
            let exprs = computed_selection(&mut sel, &names, computed);
            return Ok((sel, exprs));
        }
        rest = Some(kept);
    }
    let mut sel = selection(root, rest.as_ref())?;
    let exprs = computed_selection(&mut sel, &names, computed);
    Ok((sel, exprs))
}

fn computed_selection(
    sel: &mut Selection,
    names: &[&odata_parser::ast::Ident],
    computed: &[(String, Typed)],
) -> Vec<(String, Expr)> {
    let mut exprs = Vec::new();
    for (name, typed) in computed {
        if names.iter().any(|n| n.name.eq_ignore_ascii_case(name)) {
            let edm_type = match typed.ty {
                Ty::Edm(t) => t,
                Ty::Null => EdmType::String,
            };
            sel.computed.push(ComputedProperty {
                name: name.clone(),
                edm_type,
            });
            exprs.push((name.clone(), typed.expr.clone()));
        }
    }
    exprs
}

/// One sort key of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderKey {
    /// The type of the key's value (to decode it from a row and to bind it
    /// back in a seek condition).
    pub edm_type: EdmType,
    /// Descending?
    pub descending: bool,
    /// Whether the value can be null.
    pub nullable: bool,
    value: Expr,
    /// A column in a code-point collation: sorted and compared as it is.
    code_point: bool,
}

/// A navigation expanded into objects: an array of them for a collection, at
/// most one (an object or `null`) for a to-one navigation
/// ([`ExpandPlan::is_collection`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ExpandPlan {
    /// The navigation property.
    pub navigation: Navigation,
    /// The related entity type.
    pub target: std::sync::Arc<EntityType>,
    /// Selected properties of the related entities.
    pub properties: Vec<Property>,
    condition: Option<Expr>,
    order: Vec<(Expr, bool, bool)>,
    tenant: Value,
    /// Nested `$top`: at most this many related entities per parent.
    pub top: Option<u64>,
    /// Nested `$skip`: related entities skipped per parent.
    pub skip: Option<u64>,
    /// Nested `$count=true`: the number of related entities per parent
    /// (after the nested `$filter`, before `$top`/`$skip`) is wanted.
    pub count: bool,
    /// Nested `$expand`: navigations of the related entities, expanded in
    /// turn (one statement per level and navigation, for every related
    /// entity of the level above).
    pub expand: Vec<ExpandPlan>,
}

/// A checked, translated read: filter (with tenant and search), order (ending
/// with the key), selection, expansion, paging options.
#[derive(Debug, Clone)]
pub struct ReadPlan {
    backend: Backend,
    /// The entity set's name as the schema spells it.
    pub entity_set: String,
    /// The entity type.
    pub entity: std::sync::Arc<EntityType>,
    tenant: Value,
    /// What to emit.
    pub selection: Selection,
    computed: Vec<(String, Expr)>,
    condition: Expr,
    order: Vec<OrderKey>,
    /// `$top`, if given.
    pub top: Option<u64>,
    /// `$skip`, if given.
    pub skip: Option<u64>,
    /// `$count=true`.
    pub count: bool,
    /// `$expand`ed navigations.
    pub expand: Vec<ExpandPlan>,
    /// An aggregating `$apply`: when present, the result rows come from
    /// [`ApplyPlan`] instead of the entity statements.
    pub apply: Option<ApplyPlan>,
}

impl ExpandPlan {
    /// Whether the navigation is a collection (an array is written) rather
    /// than to-one (an object or `null`).
    pub fn is_collection(&self) -> bool {
        self.navigation.is_collection()
    }
}

impl ReadPlan {
    /// The backend the statements are for.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The sort keys; the last one is the entity key.
    pub fn order_keys(&self) -> &[OrderKey] {
        &self.order
    }

    fn root(&self) -> Scope<'_> {
        Scope {
            entity: &self.entity,
            alias: self.entity.table.clone(),
        }
    }

    /// The key column of the entity.
    pub fn key_column(&self) -> &str {
        self.entity
            .key
            .first()
            .and_then(|k| self.entity.property(k))
            .and_then(Property::column_name)
            .unwrap_or("id")
    }

    /// Columns to fetch: the key, the concurrency column (the ETag), the
    /// selected column-backed properties and the inputs of selected
    /// computed properties.
    fn fetch_columns(&self, properties: &[Property]) -> Vec<String> {
        let mut cols = vec![self.key_column().to_owned()];
        for p in properties {
            match &p.source {
                PropertySource::Column(c) => cols.push(c.clone()),
                PropertySource::Computed { columns, .. } => cols.extend(columns.iter().cloned()),
                PropertySource::Constant(_) => {}
            }
        }
        cols.extend(self.entity.concurrency_column().map(str::to_owned));
        let mut seen = std::collections::HashSet::new();
        cols.retain(|c| seen.insert(c.clone()));
        cols
    }

    fn base_select(&self) -> SelectStatement {
        let root = self.root();
        let mut q = Query::select();
        for c in self.fetch_columns(&self.selection.properties) {
            q.expr(root.column(&c));
        }
        for (name, e) in &self.computed {
            q.expr_as(e.clone(), Alias::new(computed_column_alias(name)));
        }
        q.from(Alias::new(self.entity.table.clone()));
        q.and_where(self.condition.clone());
        q
    }

    /// One page: rows after `after` (the order-key values of the previous
    /// page's last row, see [`ReadPlan::order_keys`]), at most `limit` rows,
    /// skipping `offset` (use it for the first page only). Order key values
    /// are selected as [`order_key_alias`]`(i)`.
    pub fn page_statement(
        &self,
        after: Option<&[Value]>,
        limit: u64,
        offset: u64,
    ) -> Result<SelectStatement, TranslateError> {
        let mut q = self.base_select();
        for (i, key) in self.order.iter().enumerate() {
            q.expr_as(key.value.clone(), Alias::new(order_key_alias(i)));
        }
        if let Some(after) = after {
            if after.len() != self.order.len() {
                return Err(TranslateError::invalid(
                    "$skiptoken",
                    Span::default(),
                    "the $skiptoken does not belong to this query",
                ));
            }
            q.and_where(seek_condition(self.backend, &self.order, after));
        }
        for key in &self.order {
            order_by(
                self.backend,
                &mut q,
                sort_form(
                    self.backend,
                    key.value.clone(),
                    key.edm_type,
                    key.code_point,
                ),
                key.descending,
                key.nullable,
            );
        }
        q.limit(limit);
        if offset > 0 {
            q.offset(offset);
        }
        Ok(q)
    }

    /// `SELECT COUNT(*)` with the same filter, search and tenant.
    pub fn count_statement(&self) -> SelectStatement {
        let mut q = Query::select();
        q.expr_as(Expr::cust("COUNT(*)"), Alias::new("count"))
            .from(Alias::new(self.entity.table.clone()))
            .and_where(self.condition.clone());
        q
    }

    /// The one entity with this key (tenant, filter and search applied).
    pub fn single_statement(&self, key: Value) -> SelectStatement {
        let mut q = self.base_select();
        q.and_where(self.root().column(self.key_column()).eq(key));
        q.limit(1);
        q
    }

    /// The alternate keys (e.g. `roleKey`) of the entities related through
    /// `navigation` to each of `parents`: columns [`PARENT_COLUMN`] and
    /// [`RELATED_KEY_COLUMN`]. `None` when the target has no alternate key.
    pub fn navigation_keys_statement(
        &self,
        schema: &dyn Schema,
        navigation: &Navigation,
        parents: Vec<Value>,
    ) -> Option<SelectStatement> {
        let target = &schema.entity_set(&navigation.target_set)?.entity_type;
        let alt = target.alternate_key.as_deref()?;
        let alt_col = target.property(alt)?.column_name()?.to_owned();
        let scope = Scope {
            entity: target,
            alias: "t".to_owned(),
        };
        let mut q = related_select(navigation, &scope, &self.tenant, parents)?;
        q.expr_as(scope.column(&alt_col), Alias::new(RELATED_KEY_COLUMN));
        Some(q)
    }

    /// The related entities of an expansion for each of `parents`: column
    /// [`PARENT_COLUMN`] plus the target's selected columns. For a to-one
    /// navigation, at most one row per parent (one statement for a page).
    pub fn expand_statement(&self, expand: &ExpandPlan, parents: Vec<Value>) -> SelectStatement {
        let scope = Scope {
            entity: &expand.target,
            alias: "t".to_owned(),
        };
        let Some(mut q) = related_select(&expand.navigation, &scope, &expand.tenant, parents)
        else {
            // Unreachable for plans built by the translator (keys were checked).
            let mut q = Query::select();
            q.expr(Expr::val(1)).and_where(Expr::val(false));
            return q;
        };
        let mut cols = vec![scope.key_column().unwrap_or("id").to_owned()];
        for p in &expand.properties {
            match &p.source {
                PropertySource::Column(c) => cols.push(c.clone()),
                PropertySource::Computed { columns, .. } => cols.extend(columns.iter().cloned()),
                PropertySource::Constant(_) => {}
            }
        }
        cols.extend(expand.target.concurrency_column().map(str::to_owned));
        let mut seen = std::collections::HashSet::new();
        cols.retain(|c| seen.insert(c.clone()));
        for c in cols {
            q.expr(scope.column(&c));
        }
        if let Some(cond) = &expand.condition {
            q.and_where(cond.clone());
        }
        for (e, desc, nullable) in &expand.order {
            order_by(self.backend, &mut q, e.clone(), *desc, *nullable);
        }
        q
    }
}

/// `SELECT link.from AS __parent FROM link JOIN target t ... WHERE link.from IN (...) AND tenant`.
fn related_select(
    navigation: &Navigation,
    scope: &Scope<'_>,
    tenant: &Value,
    parents: Vec<Value>,
) -> Option<SelectStatement> {
    let key = scope.key_column()?.to_owned();
    let link = |c: &str| Expr::col((Alias::new("l"), Alias::new(c.to_owned())));
    let mut q = Query::select();
    q.expr_as(
        link(&navigation.link.from_column),
        Alias::new(PARENT_COLUMN),
    )
    .from_as(Alias::new(navigation.link.table.clone()), Alias::new("l"))
    .join_as(
        JoinType::InnerJoin,
        Alias::new(scope.entity.table.clone()),
        Alias::new(scope.alias.clone()),
        link(&navigation.link.to_column).eq(scope.column(&key)),
    )
    .and_where(link(&navigation.link.from_column).is_in(parents))
    .and_where(scope.column(&scope.entity.tenant_column).eq(tenant.clone()));
    Some(q)
}

/// The form an expression is sorted and compared in: binary for strings,
/// except for a column in a code-point collation (`code_point`), which sorts
/// as OData wants by itself (and so can be read in the order of its index),
/// as do the literals compared with it.
pub(crate) fn sort_form(backend: Backend, e: Expr, ty: EdmType, code_point: bool) -> Expr {
    if ty == EdmType::String && !code_point {
        backend.binary_string(e)
    } else {
        e
    }
}

/// `ORDER BY e` with nulls first ascending and last descending.
pub(crate) fn order_by(
    backend: Backend,
    q: &mut SelectStatement,
    e: Expr,
    descending: bool,
    nullable: bool,
) {
    let order = if descending { Order::Desc } else { Order::Asc };
    if nullable && backend.needs_null_ordering() {
        let nulls = if descending {
            NullOrdering::Last
        } else {
            NullOrdering::First
        };
        q.order_by_expr_with_nulls(e, order, nulls);
    } else {
        q.order_by_expr(e, order);
    }
}

/// Rows strictly after the position `after` in the order `keys` (nulls
/// count as the smallest value).
fn seek_condition(backend: Backend, keys: &[OrderKey], after: &[Value]) -> Expr {
    let mut any: Option<Expr> = None;
    for i in 0..keys.len() {
        let mut term: Option<Expr> = None;
        let mut push = |e: Expr| {
            term = Some(match term.take() {
                None => e,
                Some(t) => t.and(e),
            });
        };
        for j in 0..i {
            let k = &keys[j];
            let eq = if is_null(&after[j]) {
                k.value.clone().is_null()
            } else {
                sort_form(backend, k.value.clone(), k.edm_type, k.code_point).eq(sort_form(
                    backend,
                    Expr::val(after[j].clone()),
                    k.edm_type,
                    k.code_point,
                ))
            };
            push(eq);
        }
        let k = &keys[i];
        let v = &after[i];
        let after_i = match (k.descending, is_null(v)) {
            (false, true) => Some(k.value.clone().is_not_null()),
            (false, false) => Some(
                sort_form(backend, k.value.clone(), k.edm_type, k.code_point).gt(sort_form(
                    backend,
                    Expr::val(v.clone()),
                    k.edm_type,
                    k.code_point,
                )),
            ),
            (true, true) => None,
            (true, false) => {
                let lt = sort_form(backend, k.value.clone(), k.edm_type, k.code_point).lt(
                    sort_form(backend, Expr::val(v.clone()), k.edm_type, k.code_point),
                );
                Some(if k.nullable {
                    lt.or(k.value.clone().is_null())
                } else {
                    lt
                })
            }
        };
        let Some(after_i) = after_i else { continue };
        push(after_i);
        if let Some(term) = term {
            any = Some(match any {
                None => term,
                Some(a) => a.or(term),
            });
        }
    }
    any.unwrap_or_else(|| Expr::val(false))
}

fn is_null(v: &Value) -> bool {
    match v {
        Value::Bool(x) => x.is_none(),
        Value::TinyInt(x) => x.is_none(),
        Value::SmallInt(x) => x.is_none(),
        Value::Int(x) => x.is_none(),
        Value::BigInt(x) => x.is_none(),
        Value::TinyUnsigned(x) => x.is_none(),
        Value::SmallUnsigned(x) => x.is_none(),
        Value::Unsigned(x) => x.is_none(),
        Value::BigUnsigned(x) => x.is_none(),
        Value::Float(x) => x.is_none(),
        Value::Double(x) => x.is_none(),
        Value::String(x) => x.is_none(),
        Value::Char(x) => x.is_none(),
        Value::Bytes(x) => x.is_none(),
        Value::Json(x) => x.is_none(),
        Value::ChronoDate(x) => x.is_none(),
        Value::ChronoTime(x) => x.is_none(),
        Value::ChronoDateTime(x) => x.is_none(),
        Value::ChronoDateTimeUtc(x) => x.is_none(),
        Value::ChronoDateTimeLocal(x) => x.is_none(),
        Value::ChronoDateTimeWithTimeZone(x) => x.is_none(),
        Value::Uuid(x) => x.is_none(),
        _ => false,
    }
}

fn order_keys(
    ctx: &ExprContext<'_>,
    root: &Scope<'_>,
    orderby: &OrderBy,
) -> Result<Vec<OrderKey>, TranslateError> {
    let OrderBy { items, span: _ } = orderby;
    let mut keys = Vec::with_capacity(items.len() + 1);
    for item in items {
        let OrderByItem {
            expr,
            direction,
            span: _,
        } = item;
        let mut t = ExprTranslator::new(ctx, "$orderby", root.clone());
        let typed = t.expr(expr)?;
        let Ty::Edm(edm_type) = typed.ty else {
            // Ordering by the null literal orders nothing.
            continue;
        };
        keys.push(OrderKey {
            edm_type,
            descending: matches!(direction, Some(SortDirection::Desc)),
            nullable: typed.nullable,
            value: typed.expr,
            code_point: typed.collation == Collation::CodePoint,
        });
    }
    Ok(keys)
}

fn with_key(ctx: &ExprContext<'_>, root: &Scope<'_>, mut keys: Vec<OrderKey>) -> Vec<OrderKey> {
    if let Some(key_col) = root.key_column() {
        let key = root
            .entity
            .key
            .first()
            .and_then(|k| root.entity.property(k));
        let edm_type = key.map_or(EdmType::Guid, |p| p.edm_type);
        let code_point = edm_type == EdmType::String
            && key.is_some_and(|p| ctx.schema.code_point_collation(ctx.backend, root.entity, p));
        keys.push(OrderKey {
            edm_type,
            descending: false,
            nullable: false,
            value: root.column(key_col),
            code_point,
        });
    }
    keys
}

fn selection(root: &Scope<'_>, select: Option<&Select>) -> Result<Selection, TranslateError> {
    let entity = root.entity;
    let all = || Selection {
        properties: entity.properties.clone(),
        navigations: entity
            .navigations
            .iter()
            .filter(|n| n.listed_by_default)
            .cloned()
            .collect(),
        computed: Vec::new(),
    };
    let Some(select) = select else {
        return Ok(all());
    };
    let Select { items, span: _ } = select;
    let mut props: Vec<String> = Vec::new();
    let mut navs: Vec<String> = Vec::new();
    for item in items {
        // The catch-all arm keeps later AST additions answered as unsupported.
        #[allow(unreachable_patterns)]
        match item {
            SelectItem::Star(_) => return Ok(all()),
            SelectItem::AllOperations(ident) => {
                return Err(TranslateError::unsupported(
                    "$select",
                    ident.span,
                    "selecting operations is not supported",
                ));
            }
            SelectItem::Path {
                segments,
                options,
                span,
            } => {
                if options.is_some() {
                    return Err(TranslateError::unsupported(
                        "$select",
                        *span,
                        "nested options in $select are not supported",
                    ));
                }
                let name = single_member("$select", segments, *span)?;
                if let Some(p) = entity.property(&name.name) {
                    props.push(p.name.clone());
                } else if let Some(n) = entity.navigation(&name.name) {
                    if !n.is_collection() {
                        return Err(TranslateError::unsupported(
                            "$select",
                            name.span,
                            format!(
                                "selecting the to-one navigation `{}` is not supported",
                                n.name
                            ),
                        ));
                    }
                    navs.push(n.name.clone());
                } else {
                    return Err(TranslateError::invalid(
                        "$select",
                        name.span,
                        format!(
                            "unknown property `{}` of {}{}",
                            name.name,
                            entity.name,
                            crate::expr::member_hint(&name.name, entity)
                        ),
                    ));
                }
            }
            _ => {
                return Err(TranslateError::unsupported(
                    "$select",
                    select.span,
                    "this kind of $select item is not supported",
                ));
            }
        }
    }
    Ok(Selection {
        properties: entity
            .properties
            .iter()
            .filter(|p| props.contains(&p.name))
            .cloned()
            .collect(),
        navigations: entity
            .navigations
            .iter()
            .filter(|n| navs.contains(&n.name))
            .cloned()
            .collect(),
        computed: Vec::new(),
    })
}

fn single_member<'p>(
    option: &str,
    segments: &'p [PathSegment],
    span: Span,
) -> Result<&'p odata_parser::ast::Ident, TranslateError> {
    match segments {
        [PathSegment::Member { name, key: None }] => Ok(name),
        [PathSegment::Member { name, key: Some(_) }] => Err(TranslateError::invalid(
            option,
            name.span,
            format!("`{}` does not take a key predicate here", name.name),
        )),
        _ => Err(TranslateError::unsupported(
            option,
            span,
            "only single property names are supported here",
        )),
    }
}

/// The expansions of `entity`, `depth` levels deep (the top `$expand` is
/// level one), at most `max_depth` (`None`: one, nesting unsupported).
fn expand_plans(
    ctx: &ExprContext<'_>,
    entity: &EntityType,
    expand: &Expand,
    depth: usize,
    max_depth: Option<usize>,
) -> Result<Vec<ExpandPlan>, TranslateError> {
    let Expand { items, span } = expand;
    let limit = max_depth.unwrap_or(1);
    if depth > limit {
        return Err(if max_depth.is_none() {
            TranslateError::unsupported("$expand", *span, "$expand inside $expand is not supported")
        } else {
            TranslateError::invalid(
                "$expand",
                *span,
                format!(
                    "$expand is nested {depth} levels deep here; at most {limit} level{} {} allowed",
                    if limit == 1 { "" } else { "s" },
                    if limit == 1 { "is" } else { "are" },
                ),
            )
        });
    }
    let mut plans: Vec<ExpandPlan> = Vec::new();
    for item in items {
        let ExpandItem {
            target,
            options,
            span,
        } = item;
        let navs: Vec<&Navigation> = match target {
            ExpandTarget::Star { is_ref: true } => {
                return Err(TranslateError::unsupported(
                    "$expand",
                    *span,
                    "expanding references ($ref) is not supported",
                ));
            }
            ExpandTarget::Star { is_ref: false } => entity.navigations.iter().collect(),
            ExpandTarget::Path { segments, suffix } => {
                match suffix {
                    ExpandSuffix::None => {}
                    ExpandSuffix::Ref => {
                        return Err(TranslateError::unsupported(
                            "$expand",
                            *span,
                            "expanding references ($ref) is not supported",
                        ));
                    }
                    ExpandSuffix::Count => {
                        return Err(TranslateError::unsupported(
                            "$expand",
                            *span,
                            "expanding counts ($count) is not supported",
                        ));
                    }
                }
                let name = single_member("$expand", segments, *span)?;
                let Some(nav) = entity.navigation(&name.name) else {
                    return Err(TranslateError::invalid(
                        "$expand",
                        name.span,
                        format!(
                            "unknown navigation property `{}` of {}{}",
                            name.name,
                            entity.name,
                            crate::suggest::hint(
                                &name.name,
                                entity.navigations.iter().map(|n| n.name.as_str())
                            )
                        ),
                    ));
                };
                vec![nav]
            }
        };
        for nav in navs {
            if plans.iter().any(|p| p.navigation.name == nav.name) {
                return Err(TranslateError::invalid(
                    "$expand",
                    *span,
                    format!("`{}` is expanded twice", nav.name),
                ));
            }
            plans.push(expand_plan(
                ctx,
                entity,
                nav,
                options.as_deref(),
                *span,
                (depth, max_depth),
            )?);
        }
    }
    Ok(plans)
}

fn expand_plan(
    ctx: &ExprContext<'_>,
    source: &EntityType,
    nav: &Navigation,
    options: Option<&QueryOptions>,
    span: Span,
    (depth, max_depth): (usize, Option<usize>),
) -> Result<ExpandPlan, TranslateError> {
    let Some(set) = ctx.schema.entity_set(&nav.target_set) else {
        return Err(TranslateError::invalid(
            "$expand",
            span,
            format!("the target set {} is not in the schema", nav.target_set),
        ));
    };
    let target = &set.entity_type;
    let scope = Scope {
        entity: target,
        alias: "t".to_owned(),
    };
    let mut plan = ExpandPlan {
        navigation: nav.clone(),
        target: target.clone(),
        properties: target.properties.clone(),
        condition: None,
        order: Vec::new(),
        tenant: ctx.tenant.clone(),
        top: None,
        skip: None,
        count: false,
        expand: Vec::new(),
    };
    if let Some(options) = options {
        let QueryOptions {
            filter,
            select,
            orderby,
            top,
            skip,
            count,
            expand,
            search,
            compute,
            apply,
            levels,
            skiptoken,
            deltatoken,
            format,
            schemaversion,
            index,
            id,
            aliases: _,
            custom: _,
        } = options;
        if !nav.is_collection() {
            // At most one related entity: only $select (and $expand) mean
            // something there.
            let pointless = [
                ("$filter", filter.as_ref().map(|f| f.span)),
                ("$orderby", orderby.as_ref().map(|o| o.span)),
                ("$top", top.as_ref().map(|t| t.span)),
                ("$skip", skip.as_ref().map(|t| t.span)),
                ("$count", count.as_ref().map(|c| c.span)),
            ];
            if let Some((name, at)) = pointless.iter().find_map(|(n, s)| s.map(|s| (n, s))) {
                return Err(TranslateError::invalid(
                    "$expand",
                    at,
                    format!(
                        "{name} is not allowed inside the $expand of the to-one navigation `{}` \
                         (it leads to at most one entity: only $select applies)",
                        nav.name
                    ),
                ));
            }
        }
        plan.top = top
            .map(|t| check_i64("$top", t.value, t.span))
            .transpose()?;
        plan.skip = skip
            .map(|t| check_i64("$skip", t.value, t.span))
            .transpose()?;
        if levels.is_some() {
            // `$levels` repeats an expansion along a navigation whose target
            // is its own source type.
            let recursive = target.name == source.name;
            let message = format!(
                "$levels needs a recursive navigation (one whose target is the entity it starts from); `{}` of {} leads to {}{}",
                nav.name,
                source.name,
                target.name,
                if recursive {
                    ""
                } else {
                    ": nest $expand instead"
                }
            );
            return Err(if recursive {
                TranslateError::unsupported("$levels", span, message)
            } else {
                TranslateError::invalid("$levels", span, message)
            });
        }
        plan.count = count.is_some_and(|c| c.value);
        if let Some(expand) = expand {
            plan.expand = expand_plans(ctx, target, expand, depth + 1, max_depth)?;
        }
        let unsupported = [
            ("$search", search.is_some()),
            ("$compute", compute.is_some()),
            ("$apply", apply.is_some()),
            ("$skiptoken", skiptoken.is_some()),
            ("$deltatoken", deltatoken.is_some()),
            ("$format", format.is_some()),
            ("$schemaversion", schemaversion.is_some()),
            ("$index", index.is_some()),
            ("$id", id.is_some()),
        ];
        if let Some((name, _)) = unsupported.iter().find(|(_, present)| *present) {
            return Err(TranslateError::unsupported(
                "$expand",
                span,
                format!("{name} inside $expand is not supported"),
            ));
        }
        if let Some(select) = select {
            let sel = selection(&scope, Some(select))?;
            if !sel.navigations.is_empty() && sel.properties.len() != target.properties.len() {
                return Err(TranslateError::unsupported(
                    "$expand",
                    select.span,
                    "selecting navigation properties inside $expand is not supported",
                ));
            }
            plan.properties = sel.properties;
        }
        if let Some(filter) = filter {
            let mut t = ExprTranslator::new(ctx, "$expand", scope.clone());
            plan.condition = Some(t.condition(filter)?);
        }
        if let Some(orderby) = orderby {
            for key in order_keys(ctx, &scope, orderby)? {
                let e = sort_form(ctx.backend, key.value, key.edm_type, key.code_point);
                plan.order.push((e, key.descending, key.nullable));
            }
        }
    }
    if !nav.is_collection() {
        // At most one row per parent: no order needed.
        return Ok(plan);
    }
    // Default order, and the tie-breaker: the alternate key case-insensitively,
    // then exactly, then the key.
    if let Some(alt) = target
        .alternate_key
        .as_deref()
        .and_then(|a| target.property(a))
        && let Some(column) = alt.column_name()
    {
        let col = scope.column(column);
        plan.order.push((
            ctx.backend.binary_string(ctx.backend.lower(col.clone())),
            false,
            false,
        ));
        let code_point = ctx.schema.code_point_collation(ctx.backend, target, alt);
        plan.order.push((
            sort_form(ctx.backend, col, alt.edm_type, code_point),
            false,
            false,
        ));
    }
    if let Some(key) = scope.key_column() {
        plan.order.push((scope.column(key), false, false));
    }
    Ok(plan)
}

/// `$search`: every term must occur (case-insensitively, as a substring) in
/// at least one searchable property.
pub(crate) fn search_condition(
    backend: Backend,
    root: &Scope<'_>,
    search: &Search,
) -> Result<Expr, TranslateError> {
    let Search { expr, span } = search;
    let columns: Vec<String> = root
        .entity
        .searchable
        .iter()
        .filter_map(|name| root.entity.property(name))
        .filter_map(|p| p.column_name().map(str::to_owned))
        .collect();
    if columns.is_empty() {
        return Err(TranslateError::unsupported(
            "$search",
            *span,
            format!("{} has no searchable properties", root.entity.name),
        ));
    }
    search_expr(backend, root, &columns, expr)
}

fn search_expr(
    backend: Backend,
    root: &Scope<'_>,
    columns: &[String],
    expr: &SearchExpr,
) -> Result<Expr, TranslateError> {
    Ok(match expr {
        SearchExpr::Term(text, span) | SearchExpr::Phrase(text, span) => {
            let text = crate::case::lower(
                &percent_decode(text).map_err(|m| TranslateError::invalid("$search", *span, m))?,
            );
            let mut any: Option<Expr> = None;
            for c in columns {
                let value: Expr = Func::coalesce([root.column(c), Expr::val(String::new())]).into();
                let hit = backend.contains(backend.lower(value), Expr::val(text.clone()));
                any = Some(match any {
                    None => hit,
                    Some(a) => a.or(hit),
                });
            }
            any.unwrap_or_else(|| Expr::val(false))
        }
        SearchExpr::Not(inner, _) => search_expr(backend, root, columns, inner)?.not(),
        SearchExpr::And(l, r, _) => {
            search_expr(backend, root, columns, l)?.and(search_expr(backend, root, columns, r)?)
        }
        SearchExpr::Or(l, r, _) => {
            search_expr(backend, root, columns, l)?.or(search_expr(backend, root, columns, r)?)
        }
    })
}
