//! `$expand`ed navigations of a page, nested to any planned depth: one
//! statement per level and navigation, for every record of the level above
//! at once (never one per record).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use odata_sql::{ExpandPlan, PARENT_COLUMN, ReadPlan, Schema as _};
use sea_orm::DbErr;
use uuid::Uuid;

use super::read::run;
use super::rows::{Row, RowSink, Source, index_of};
use super::schema::identity_schema;
use super::write::{self, RecordWriter};
use super::{QueryError, ReadContext, Shape};

/// What one expansion adds to each of its parents.
type Members = Vec<Vec<u8>>;

/// The members `expand` adds to each record of `ids` (in that order):
/// `,"nav@odata.count":n` when the expansion asks for its count, then
/// `,"nav":[...]`, the related records written with their own nested
/// expansions. `plan` builds the statements (its backend); `picture_base`
/// is where the tenant's stored pictures are served (users' `picture`).
#[allow(clippy::too_many_arguments)]
pub(super) fn expansion<'a, S: Source>(
    src: &'a S,
    ctx: &'a ReadContext,
    shape: Shape,
    picture_base: &'a str,
    plan: &'a ReadPlan,
    expand: &'a ExpandPlan,
    ids: &'a [Uuid],
) -> Pin<Box<dyn Future<Output = Result<Members, QueryError>> + 'a>> {
    Box::pin(async move {
        let schema = identity_schema();
        let nav = &expand.navigation;
        let target_set = schema
            .entity_set(&nav.target_set)
            .map_or(nav.target_set.as_str(), |s| s.name.as_str());
        let key_column = expand
            .target
            .key
            .first()
            .and_then(|k| expand.target.property(k))
            .and_then(|p| p.column_name())
            .unwrap_or("id");
        let writer = RecordWriter::new(
            &expand.target,
            target_set,
            schema.namespace(),
            &expand.properties,
            &[],
            shape,
            picture_base.to_owned(),
            key_column,
        );
        let position: HashMap<Uuid, usize> =
            ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let nested = !expand.expand.is_empty();
        let mut sink = Related {
            writer,
            parent: 0,
            position: &position,
            items: vec![Gathered::default(); ids.len()],
            skip: expand.skip.unwrap_or(0),
            top: expand.top.unwrap_or(u64::MAX),
            open: nested,
        };
        let parents = ids.iter().map(|id| (*id).into()).collect::<Vec<_>>();
        run(src, ctx, &plan.expand_statement(expand, parents), &mut sink).await?;
        let Related {
            writer, mut items, ..
        } = sink;

        if nested {
            // The next level, once for every distinct related record (a
            // role shared by several users is expanded once).
            let mut children: Vec<Uuid> = Vec::new();
            let mut index: HashMap<Uuid, usize> = HashMap::new();
            for g in &items {
                for (_, id) in &g.ends {
                    index.entry(*id).or_insert_with(|| {
                        children.push(*id);
                        children.len() - 1
                    });
                }
            }
            let mut tails: Vec<Vec<u8>> = vec![Vec::new(); children.len()];
            for target_nav in &expand.target.navigations {
                for (tail, id) in tails.iter_mut().zip(&children) {
                    writer.navigation_link(tail, *id, &target_nav.name);
                }
                let Some(inner) = expand
                    .expand
                    .iter()
                    .find(|e| e.navigation.name == target_nav.name)
                else {
                    continue;
                };
                let members = if children.is_empty() {
                    Vec::new()
                } else {
                    expansion(src, ctx, shape, picture_base, plan, inner, &children).await?
                };
                for (tail, m) in tails.iter_mut().zip(members) {
                    tail.extend_from_slice(&m);
                }
            }
            for g in &mut items {
                g.out = close_records(&g.out, &g.ends, |id| &tails[index[&id]]);
            }
        }

        Ok(items
            .into_iter()
            .map(|g| {
                let mut m = Vec::with_capacity(g.out.len() + nav.name.len() + 32);
                if expand.count {
                    m.push(b',');
                    write::key(&mut m, &format!("{}@odata.count", nav.name));
                    m.extend_from_slice(g.seen.to_string().as_bytes());
                }
                m.push(b',');
                write::key(&mut m, &nav.name);
                m.push(b'[');
                m.extend_from_slice(&g.out);
                m.push(b']');
                m
            })
            .collect())
    })
}

/// Records written open (each ends at its offset in `out`), each closed
/// with its tail and `}`, separated by commas.
fn close_records<'t>(
    out: &[u8],
    ends: &[(usize, Uuid)],
    tail: impl Fn(Uuid) -> &'t Vec<u8>,
) -> Vec<u8> {
    let mut closed = Vec::with_capacity(out.len() + ends.len() * 64);
    let mut begin = 0;
    for (i, (end, id)) in ends.iter().enumerate() {
        if i > 0 {
            closed.push(b',');
        }
        closed.extend_from_slice(&out[begin..*end]);
        closed.extend_from_slice(tail(*id));
        closed.push(b'}');
        begin = *end;
    }
    closed
}

/// The related records of one parent.
#[derive(Clone, Default)]
struct Gathered {
    /// The records written so far (open ones back to back, see `ends`).
    out: Vec<u8>,
    /// How many related records the statement returned (the nested
    /// `$count`).
    seen: u64,
    /// With a nested expansion: where each record (left open) ends in
    /// `out`, and its key.
    ends: Vec<(usize, Uuid)>,
}

/// Related records of an expansion, gathered per parent.
struct Related<'a> {
    writer: RecordWriter<'a>,
    parent: usize,
    position: &'a HashMap<Uuid, usize>,
    items: Vec<Gathered>,
    skip: u64,
    top: u64,
    /// Records stay open for the next level's members.
    open: bool,
}

impl RowSink for Related<'_> {
    fn columns(&mut self, names: &[&str]) -> Result<(), DbErr> {
        self.parent = index_of(names, PARENT_COLUMN)?;
        self.writer.prepare(names)
    }

    fn row(&mut self, row: &dyn Row) -> Result<(), DbErr> {
        let Some(parent) = row.uuid(self.parent)? else {
            return Ok(());
        };
        let Some(&i) = self.position.get(&parent) else {
            return Ok(());
        };
        let g = &mut self.items[i];
        g.seen += 1;
        // Nested $skip/$top apply per parent, in the expansion's order.
        if g.seen <= self.skip || g.seen - self.skip > self.top {
            return Ok(());
        }
        if self.open {
            let id = self.writer.open(row, &mut g.out)?;
            g.ends.push((g.out.len(), id));
        } else {
            if !g.out.is_empty() {
                g.out.push(b',');
            }
            let id = self.writer.open(row, &mut g.out)?;
            self.writer.close(&mut g.out, id);
        }
        Ok(())
    }
}
