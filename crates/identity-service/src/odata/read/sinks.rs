//! Row sinks of the read path: records written straight into JSON bytes,
//! related entities' alternate keys, and `$apply` aggregates.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::rc::Rc;

use odata_sql::{
    ApplyPlan, PARENT_COLUMN, RELATED_KEY_COLUMN, ReadPlan, Schema as _, order_key_alias,
};
use sea_orm::DbErr;
use serde_json::Value as Json;
use uuid::Uuid;

use crate::odata::rows::{Row, RowSink, Source, index_of, json_value};
use crate::odata::schema::identity_schema;
use crate::odata::write::{self, Layout, RecordWriter};
use crate::odata::{QueryError, ReadContext, Shape};
use crate::tenancy::TenantScope;

use super::*;

/// The records of one page being written: each record's properties as
/// soon as its row arrives; navigation properties once the page is read.
pub(super) struct Records<'p> {
    pub(super) plan: &'p ReadPlan,
    pub(super) shape: Shape,
    pub(super) writer: RecordWriter<'p>,
    /// Rows seen (the statement asks for one more than `limit`).
    pub(super) rows: u64,
    pub(super) limit: u64,
    /// `[` and each record without its closing `}` (when navigation
    /// properties follow) or whole.
    pub(super) out: Vec<u8>,
    /// End of each record in `out` (when navigation properties follow).
    pub(super) ends: Vec<usize>,
    pub(super) ids: Vec<Uuid>,
    /// The version (ETag) of the first record.
    pub(super) first_version: Option<i64>,
    /// Order-key columns and the values of the last record kept.
    pub(super) key_columns: Vec<usize>,
    pub(super) last_keys: Option<Vec<Json>>,
    /// Whether navigation properties follow the properties.
    pub(super) open: bool,
    /// The column layout of a statement template, kept by the first run.
    pub(super) layout: Option<&'p LayoutCell>,
}

/// The writer's layout and the order-key columns of a template's rows.
pub(super) type LayoutCell = OnceCell<(Rc<Layout>, Vec<usize>)>;

impl<'p> Records<'p> {
    pub(super) fn new(
        plan: &'p ReadPlan,
        ctx: &'p ReadContext,
        scope: &'p TenantScope,
        limit: u64,
    ) -> Self {
        let writer = RecordWriter::new(
            &plan.entity,
            &plan.entity_set,
            identity_schema().namespace(),
            &plan.selection.properties,
            &plan.selection.computed,
            ctx.shape,
            scope_picture_base(ctx, scope),
            plan.key_column(),
        );
        let open = !plan.expand.is_empty()
            || matches!(ctx.shape, Shape::Feed { full: true, .. })
                && !plan.entity.navigations.is_empty()
            || ctx.shape == Shape::Api1 && !plan.selection.navigations.is_empty();
        // About 256 bytes a record; a buffer for the first 64 records (a key
        // lookup under a feed page size of 1000 must not allocate 256 KB).
        let mut out = Vec::with_capacity(256 * limit.min(64) as usize + 2);
        out.push(b'[');
        Records {
            plan,
            shape: ctx.shape,
            writer,
            rows: 0,
            limit,
            out,
            ends: Vec::new(),
            ids: Vec::new(),
            first_version: None,
            key_columns: Vec::new(),
            last_keys: None,
            open,
            layout: None,
        }
    }

    /// Writes the navigation properties (one statement per navigation for
    /// the whole page) and closes every record.
    pub(super) async fn finish<S: Source>(
        self,
        src: &S,
        ctx: &ReadContext,
    ) -> Result<Vec<u8>, QueryError> {
        let Records {
            plan,
            shape,
            writer,
            mut out,
            ends,
            ids,
            open,
            ..
        } = self;
        if !open {
            out.push(b']');
            return Ok(out);
        }
        let schema = identity_schema();
        let position: HashMap<Uuid, usize> =
            ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let parents = || ids.iter().map(|id| (*id).into()).collect::<Vec<_>>();
        let mut tails: Vec<Vec<u8>> = vec![Vec::new(); ids.len()];
        for nav in &plan.entity.navigations {
            for (tail, id) in tails.iter_mut().zip(&ids) {
                writer.navigation_link(tail, *id, &nav.name);
            }
            if let Some(expand) = plan.expand.iter().find(|e| e.navigation.name == nav.name) {
                let members = crate::odata::expand::expansion(
                    src,
                    ctx,
                    shape,
                    writer.picture_base(),
                    plan,
                    expand,
                    &ids,
                )
                .await?;
                for (tail, m) in tails.iter_mut().zip(members) {
                    tail.extend_from_slice(&m);
                }
            } else if shape == Shape::Api1
                && plan
                    .selection
                    .navigations
                    .iter()
                    .any(|n| n.name == nav.name)
                && let Some(stmt) = plan.navigation_keys_statement(schema, nav, parents())
            {
                let mut sink = Keys {
                    columns: None,
                    position: &position,
                    keys: vec![Vec::new(); ids.len()],
                };
                run(src, ctx, &stmt, &mut sink).await?;
                for (tail, mut keys) in tails.iter_mut().zip(sink.keys) {
                    keys.sort_by(|a, b| a.to_lowercase().cmp(&b.to_lowercase()).then(a.cmp(b)));
                    tail.push(b',');
                    write::key(tail, &nav.name);
                    tail.push(b'[');
                    for (i, k) in keys.iter().enumerate() {
                        if i > 0 {
                            tail.push(b',');
                        }
                        write::string(tail, k);
                    }
                    tail.push(b']');
                }
            }
        }
        let mut page =
            Vec::with_capacity(out.len() + tails.iter().map(Vec::len).sum::<usize>() + 8);
        page.push(b'[');
        let mut begin = 1;
        for (i, (end, tail)) in ends.iter().zip(&tails).enumerate() {
            if i > 0 {
                page.push(b',');
            }
            page.extend_from_slice(&out[begin..*end]);
            page.extend_from_slice(tail);
            page.push(b'}');
            begin = *end;
        }
        page.push(b']');
        Ok(page)
    }
}

/// `{base}/api/{tenant}/{org}/identity/users/`: stored pictures are served there.
fn scope_picture_base(ctx: &ReadContext, scope: &TenantScope) -> String {
    [
        ctx.base_url.as_str(),
        "/api/",
        &scope.tenant_key,
        "/",
        &scope.org_key,
        "/identity/users/",
    ]
    .concat()
}

impl RowSink for Records<'_> {
    fn knows_columns(&self) -> bool {
        self.layout.and_then(OnceCell::get).is_some()
    }

    fn columns(&mut self, names: &[&str]) -> Result<(), DbErr> {
        if let Some((layout, key_columns)) = self.layout.and_then(OnceCell::get) {
            self.writer.use_layout(layout.clone());
            self.key_columns.clone_from(key_columns);
            return Ok(());
        }
        self.writer.prepare(names)?;
        self.key_columns = (0..self.plan.order_keys().len())
            .map(|i| index_of(names, &order_key_alias(i)))
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        if let Some(cell) = self.layout {
            let _ = cell.set((self.writer.layout().clone(), self.key_columns.clone()));
        }
        Ok(())
    }

    fn row(&mut self, row: &dyn Row) -> Result<(), DbErr> {
        self.rows += 1;
        if self.rows > self.limit {
            return Ok(());
        }
        if !self.ids.is_empty() && !self.open {
            self.out.push(b',');
        }
        let id = self.writer.open(row, &mut self.out)?;
        if self.ids.is_empty() {
            self.first_version = self.writer.version_of(row)?;
        }
        if self.open {
            self.ends.push(self.out.len());
        } else {
            self.out.push(b'}');
        }
        self.ids.push(id);
        if self.rows == self.limit && !self.key_columns.is_empty() {
            self.last_keys = Some(
                self.key_columns
                    .iter()
                    .zip(self.plan.order_keys())
                    .map(|(i, k)| json_value(row, *i, k.edm_type))
                    .collect::<Result<_, _>>()?,
            );
        }
        Ok(())
    }
}

/// Alternate keys of related entities (API 1's `roles`/`groups` arrays).
pub(super) struct Keys<'a> {
    pub(super) columns: Option<(usize, usize)>,
    pub(super) position: &'a HashMap<Uuid, usize>,
    pub(super) keys: Vec<Vec<String>>,
}

impl RowSink for Keys<'_> {
    fn columns(&mut self, names: &[&str]) -> Result<(), DbErr> {
        self.columns = Some((
            index_of(names, PARENT_COLUMN)?,
            index_of(names, RELATED_KEY_COLUMN)?,
        ));
        Ok(())
    }

    fn row(&mut self, row: &dyn Row) -> Result<(), DbErr> {
        let Some((p, k)) = self.columns else {
            return Ok(());
        };
        if let (Some(parent), Some(key)) = (row.uuid(p)?, row.text(k)?)
            && let Some(&i) = self.position.get(&parent)
        {
            self.keys[i].push(key.into_owned());
        }
        Ok(())
    }
}

/// Rows of an aggregating `$apply`, written as records of its columns.
pub(super) struct Aggregates<'a> {
    pub(super) apply: &'a ApplyPlan,
    pub(super) columns: Vec<usize>,
    pub(super) rows: u64,
    pub(super) limit: u64,
    pub(super) out: Vec<u8>,
    /// Int64 and Decimal values as strings (`IEEE754Compatible=true`).
    pub(super) ieee754: bool,
}

impl RowSink for Aggregates<'_> {
    fn columns(&mut self, names: &[&str]) -> Result<(), DbErr> {
        self.columns = self
            .apply
            .columns
            .iter()
            .map(|c| index_of(names, &c.name))
            .collect::<Result<_, _>>()?;
        Ok(())
    }

    fn row(&mut self, row: &dyn Row) -> Result<(), DbErr> {
        self.rows += 1;
        if self.rows > self.limit {
            return Ok(());
        }
        if self.rows > 1 {
            self.out.push(b',');
        }
        self.out.push(b'{');
        for (n, (c, i)) in self.apply.columns.iter().zip(&self.columns).enumerate() {
            if n > 0 {
                self.out.push(b',');
            }
            write::key(&mut self.out, &c.name);
            write::value(&mut self.out, row, *i, c.edm_type, self.ieee754)?;
        }
        self.out.push(b'}');
        Ok(())
    }
}
