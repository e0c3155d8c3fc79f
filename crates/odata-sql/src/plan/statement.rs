//! The statements of a [`ReadPlan`]: a page, the count, one entity, navigation keys and expansions.

use odata_parser::ast::Span;
use sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SelectStatement, Value};

use super::{
    ExpandPlan, OrderKey, PARENT_COLUMN, RELATED_KEY_COLUMN, ReadPlan, computed_column_alias,
    order_key_alias,
};
use crate::dialect::Backend;
use crate::error::TranslateError;
use crate::expr::Scope;
use crate::schema::{Navigation, Property, PropertySource, Schema};

use super::order::{order_by, seek_condition, sort_form};

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
pub(super) fn related_select(
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
