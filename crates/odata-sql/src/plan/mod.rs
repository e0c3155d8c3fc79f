//! From query options to a [`ReadPlan`], and from a plan to statements.

use std::cell::Cell;

use chrono::{DateTime, SubsecRound, Utc};
use odata_parser::ast::{Compute, ComputeItem, QueryOptions, Span};
use sea_query::{Expr, ExprTrait, Value};

use crate::dialect::Backend;
use crate::error::TranslateError;
use crate::expr::{ExprContext, ExprTranslator, Scope, Typed};
use crate::schema::{EdmType, EntityType, Navigation, Property, Schema};

pub mod apply;
mod expand;
mod order;
mod search;
mod select;
mod statement;

use apply::ApplyPlan;
use expand::expand_plans;
use order::{order_keys, with_key};
pub(crate) use search::search_condition;
use select::top_selection;

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
            Some(apply) => apply::plan_apply(&ctx, &root, apply, &mut condition, orderby.as_ref())?,
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
