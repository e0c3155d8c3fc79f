//! The change log behind the feed's delta links (migration
//! `m20261205_000009_change_log`).
//!
//! Every writing transaction of a tenant's users, roles or groups calls
//! [`record`] as one of its last statements before the commit (through
//! [`super::finish_write`]; a `$batch` change set calls it once, for all
//! its writes, just before its commit: see [`super::bookkeeping`]). [`record`]
//! first increments the tenant's row of `change_sequence` (an upsert, so an
//! `UPDATE` of an existing row) and then writes its `change_log` rows with
//! that number. The `UPDATE` locks the row until the commit, so a second
//! writer of the tenant waits there until the first has committed (or
//! rolled back) and then takes the next number: the numbers of a tenant are
//! taken in commit order, on SQLite (one writer at a time anyway),
//! PostgreSQL and MariaDB alike. A reader that sees `seq = N` in
//! `change_sequence` therefore sees every log row numbered `N` or less:
//! nothing that committed later can carry a smaller number, so a delta
//! token holding `N` never skips a change that began before and committed
//! after another one.
//!
//! What a change of a record is reaches as far as a delta's `$filter` can
//! read (its linked records, see `feed::delta`): an update of a role or
//! group logs its members as changed users, a membership added or removed
//! (and a user's delete) logs the role or group, and a role's or group's
//! delta with a `$filter` over `users` adds the records whose current
//! members are logged as changed ([`changed_ids`] with members).
//!
//! Deletes are hard, so the log is the only trace of them; [`prune`] keeps
//! the retention (`APP_DELTA_RETENTION_DAYS`) and remembers the highest
//! number it removed per tenant (`pruned_seq`), so a token from before it
//! answers 410 instead of silently missing changes.

use std::collections::{BTreeSet, HashMap};

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, OnConflict, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use super::counters::Counted;

const SEQUENCE: &str = "change_sequence";
const LOG: &str = "change_log";
/// Log rows written by one multi-row INSERT at most (6 values each).
const CHUNK: usize = 500;

fn col(name: &str) -> Alias {
    Alias::new(name)
}

fn statement_error(err: sea_orm::sea_query::error::Error) -> DbErr {
    DbErr::Custom(format!("building a change-log statement: {err}"))
}

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    /// Inserted.
    Created = 1,
    /// Updated (attributes, memberships, picture, status).
    Changed = 2,
    /// Deleted.
    Deleted = 3,
    /// An import (or the demo data) inserted rows of the set: every record
    /// of the set counts as created. The entity id is the nil UUID.
    Bulk = 4,
}

/// One change: the set, the record, what happened.
pub type Change = (Counted, Uuid, Op);

/// The current time in Unix milliseconds (the log's `changed_at`).
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Records `changes` of the tenant in the caller's transaction: takes the
/// tenant's next change number (locking its sequence row until the
/// commit) and writes one log row per distinct change. No changes write
/// nothing.
pub async fn record(
    conn: &impl ConnectionTrait,
    tenant_id: Uuid,
    changes: &[Change],
) -> Result<(), DbErr> {
    if changes.is_empty() {
        return Ok(());
    }
    let distinct = distinct(changes);
    bump(conn, tenant_id).await?;
    let now = now_millis();
    if let [(set, id, op)] = distinct.as_slice() {
        // The number straight from the (locked) sequence row: no read-back.
        let mut select = Query::select();
        select
            .column(col("tenant_id"))
            .column(col("seq"))
            .expr(Expr::val(set.entity_set()))
            .expr(Expr::val(*id))
            .expr(Expr::val(*op as i16))
            .expr(Expr::val(now))
            .from(col(SEQUENCE))
            .and_where(Expr::col(col("tenant_id")).eq(tenant_id));
        let mut insert = Query::insert();
        insert
            .into_table(col(LOG))
            .columns(log_columns())
            .select_from(select)
            .map_err(statement_error)?;
        conn.execute(&insert).await?;
        return Ok(());
    }
    let seq = current_in(conn, tenant_id).await?.0;
    for chunk in distinct.chunks(CHUNK) {
        let mut insert = Query::insert();
        insert.into_table(col(LOG)).columns(log_columns());
        for (set, id, op) in chunk {
            insert
                .values([
                    Expr::val(tenant_id),
                    Expr::val(seq),
                    Expr::val(set.entity_set()),
                    Expr::val(*id),
                    Expr::val(*op as i16),
                    Expr::val(now),
                ])
                .map_err(statement_error)?;
        }
        conn.execute(&insert).await?;
    }
    Ok(())
}

/// One entry per (set, record), in the order first named: the last
/// operation named wins, except that a record created and then changed in
/// one transaction (a `$batch` change set) stays created.
fn distinct(changes: &[Change]) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::with_capacity(changes.len());
    let mut at: HashMap<(Counted, Uuid), usize> = HashMap::with_capacity(changes.len());
    for &(set, id, op) in changes {
        match at.get(&(set, id)) {
            Some(&i) => {
                let kept = &mut out[i].2;
                if !(*kept == Op::Created && op == Op::Changed) {
                    *kept = op;
                }
            }
            None => {
                at.insert((set, id), out.len());
                out.push((set, id, op));
            }
        }
    }
    out
}

fn log_columns() -> [Alias; 6] {
    [
        col("tenant_id"),
        col("seq"),
        col("entity_set"),
        col("entity_id"),
        col("op"),
        col("changed_at"),
    ]
}

/// `seq = seq + 1` of the tenant's sequence row, creating it (at 1) when
/// absent. Locks the row until the transaction ends.
async fn bump(conn: &impl ConnectionTrait, tenant_id: Uuid) -> Result<(), DbErr> {
    let mut stmt = Query::insert();
    stmt.into_table(col(SEQUENCE))
        .columns([col("tenant_id"), col("seq"), col("pruned_seq")])
        .values([Expr::val(tenant_id), Expr::val(1i64), Expr::val(0i64)])
        .map_err(statement_error)?
        .on_conflict(
            OnConflict::column(col("tenant_id"))
                .value(col("seq"), Expr::col((col(SEQUENCE), col("seq"))).add(1))
                .to_owned(),
        );
    conn.execute(&stmt).await?;
    Ok(())
}

/// Creates the tenant's sequence at 0 where absent (in the transaction
/// that creates the tenant).
pub async fn create_for_tenant(conn: &impl ConnectionTrait, tenant_id: Uuid) -> Result<(), DbErr> {
    let mut stmt = Query::insert();
    stmt.into_table(col(SEQUENCE))
        .columns([col("tenant_id"), col("seq"), col("pruned_seq")])
        .values([Expr::val(tenant_id), Expr::val(0i64), Expr::val(0i64)])
        .map_err(statement_error)?
        .on_conflict(
            OnConflict::column(col("tenant_id"))
                .do_nothing_on([col("tenant_id")])
                .to_owned(),
        );
    conn.execute(&stmt).await?;
    Ok(())
}

/// The tenant's last change number and the highest number pruned (0 and
/// 0 for a tenant without changes).
pub async fn current_in(conn: &impl ConnectionTrait, tenant_id: Uuid) -> Result<(i64, i64), DbErr> {
    let stmt = Query::select()
        .column(col("seq"))
        .column(col("pruned_seq"))
        .from(col(SEQUENCE))
        .and_where(Expr::col(col("tenant_id")).eq(tenant_id))
        .to_owned();
    Ok(match conn.query_one(&stmt).await? {
        Some(row) => (
            row.try_get::<i64>("", "seq")?,
            row.try_get::<i64>("", "pruned_seq")?,
        ),
        None => (0, 0),
    })
}

fn window(tenant_id: Uuid, set: Counted, since: i64, upto: i64) -> SelectStatement {
    Query::select()
        .from(col(LOG))
        .and_where(Expr::col(col("tenant_id")).eq(tenant_id))
        .and_where(Expr::col(col("seq")).gt(since))
        .and_where(Expr::col(col("seq")).lte(upto))
        .and_where(Expr::col(col("entity_set")).eq(set.entity_set()))
        .to_owned()
}

/// Whether an import wrote rows of any of `sets` in the window
/// `(since, upto]`.
pub async fn has_bulk(
    conn: &impl ConnectionTrait,
    tenant_id: Uuid,
    sets: &[Counted],
    since: i64,
    upto: i64,
) -> Result<bool, DbErr> {
    for &set in sets {
        let stmt = window(tenant_id, set, since, upto)
            .expr_as(Expr::val(1), col("one"))
            .and_where(Expr::col(col("op")).eq(Op::Bulk as i16))
            .limit(1)
            .to_owned();
        if conn.query_one(&stmt).await?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The membership table linking users to the records of `set` and its
/// column holding the record's id; `None` for `Users`.
fn member_link(set: Counted) -> Option<(&'static str, &'static str)> {
    match set {
        Counted::Users => None,
        Counted::Roles => Some(("user_roles", "role_id")),
        Counted::Groups => Some(("user_groups", "group_id")),
    }
}

/// The distinct records of `set` changed in the window `(since, upto]`,
/// in id order, after `after`, at most `limit`. With `with_members`, a
/// role or group also counts as changed when one of its current members
/// is logged as changed in the window (its `$filter` over `users` reads
/// the member's properties; see the module's notes).
#[allow(clippy::too_many_arguments)]
pub async fn changed_ids(
    conn: &impl ConnectionTrait,
    tenant_id: Uuid,
    set: Counted,
    since: i64,
    upto: i64,
    after: Option<Uuid>,
    limit: u64,
    with_members: bool,
) -> Result<Vec<Uuid>, DbErr> {
    let mut own = window(tenant_id, set, since, upto);
    own.column(col("entity_id"))
        .and_where(Expr::col(col("op")).ne(Op::Bulk as i16));
    if let Some(after) = after {
        own.and_where(Expr::col(col("entity_id")).gt(after));
    }
    let stmt = match member_link(set).filter(|_| with_members) {
        None => own
            .distinct()
            .order_by(col("entity_id"), Order::Asc)
            .limit(limit)
            .to_owned(),
        Some((table, id_column)) => {
            // The records of `set` whose members changed in the window:
            // the log's user entries joined with the current links.
            let mut through = Query::select();
            through
                .expr_as(Expr::col((col("m"), col(id_column))), col("entity_id"))
                .from_as(col(LOG), col("l"))
                .inner_join(
                    sea_orm::sea_query::TableRef::Table(col(table).into(), Some(col("m").into())),
                    Expr::col((col("m"), col("user_id"))).equals((col("l"), col("entity_id"))),
                )
                .and_where(Expr::col((col("l"), col("tenant_id"))).eq(tenant_id))
                .and_where(Expr::col((col("l"), col("seq"))).gt(since))
                .and_where(Expr::col((col("l"), col("seq"))).lte(upto))
                .and_where(Expr::col((col("l"), col("entity_set"))).eq(Counted::Users.entity_set()))
                .and_where(Expr::col((col("l"), col("op"))).ne(Op::Bulk as i16));
            if let Some(after) = after {
                through.and_where(Expr::col((col("m"), col(id_column))).gt(after));
            }
            own.union(sea_orm::sea_query::UnionType::Distinct, through);
            Query::select()
                .column(col("entity_id"))
                .from_subquery(own, col("c"))
                .order_by(col("entity_id"), Order::Asc)
                .limit(limit)
                .to_owned()
        }
    };
    let rows = conn.query_all(&stmt).await?;
    rows.iter()
        .map(|row| row.try_get::<Uuid>("", "entity_id"))
        .collect()
}

/// Which of `ids` are records of `set` in the tenant.
pub async fn existing(
    conn: &impl ConnectionTrait,
    tenant_id: Uuid,
    set: Counted,
    ids: &[Uuid],
) -> Result<BTreeSet<Uuid>, DbErr> {
    if ids.is_empty() {
        return Ok(BTreeSet::new());
    }
    let stmt = Query::select()
        .column(col("id"))
        .from(col(set.table()))
        .and_where(Expr::col(col("tenant_id")).eq(tenant_id))
        .and_where(Expr::col(col("id")).is_in(ids.iter().copied()))
        .to_owned();
    let rows = conn.query_all(&stmt).await?;
    rows.iter()
        .map(|row| row.try_get::<Uuid>("", "id"))
        .collect()
}

/// Removes the log rows older than `cutoff` (Unix milliseconds), first
/// raising each tenant's `pruned_seq` to the highest number removed, in
/// one transaction. Returns the rows removed.
pub async fn prune(db: &sea_orm::DatabaseConnection, cutoff: i64) -> Result<u64, DbErr> {
    use sea_orm::TransactionTrait;
    let old = |alias: &str| {
        Query::select()
            .from_as(col(LOG), col(alias))
            .and_where(
                Expr::col((col(alias), col("tenant_id"))).equals((col(SEQUENCE), col("tenant_id"))),
            )
            .and_where(Expr::col((col(alias), col("changed_at"))).lt(cutoff))
            .to_owned()
    };
    let mut highest = old("l");
    highest.expr(Func::max(Expr::col((col("l"), col("seq")))));
    let mut any = old("l");
    any.expr(Expr::val(1));
    let raise = Query::update()
        .table(col(SEQUENCE))
        .value(
            col("pruned_seq"),
            Expr::SubQuery(None, Box::new(highest.into())),
        )
        .and_where(Expr::exists(any))
        .to_owned();
    // Only rows at or below the recorded number go: a row that committed
    // after the raise keeps its tenant's tokens answerable.
    let recorded = Query::select()
        .column(col("pruned_seq"))
        .from_as(col(SEQUENCE), col("s"))
        .and_where(Expr::col((col("s"), col("tenant_id"))).equals((col(LOG), col("tenant_id"))))
        .to_owned();
    let delete = Query::delete()
        .from_table(col(LOG))
        .and_where(Expr::col(col("changed_at")).lt(cutoff))
        .and_where(Expr::col(col("seq")).lte(Expr::SubQuery(None, Box::new(recorded.into()))))
        .to_owned();
    let txn = db.begin().await?;
    txn.execute(&raise).await?;
    let removed = txn.execute(&delete).await?.rows_affected();
    txn.commit().await?;
    Ok(removed)
}

/// Runs [`prune`] for `retention` at start-up and then every `every`
/// until the runtime shuts down; failures are logged and retried at the
/// next tick.
pub fn spawn_pruner(
    db: sea_orm::DatabaseConnection,
    retention: std::time::Duration,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = every.max(std::time::Duration::from_secs(1));
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let keep = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
            match prune(&db, now_millis().saturating_sub(keep)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "change log: pruned past the retention"),
                Err(error) => tracing::warn!(%error, "change log pruning failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_entry_per_record_and_created_then_changed_stays_created() {
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let changes = [
            (Counted::Users, a, Op::Created),
            (Counted::Users, b, Op::Changed),
            (Counted::Users, a, Op::Changed),
            (Counted::Roles, a, Op::Changed),
            (Counted::Users, b, Op::Deleted),
            (Counted::Users, c, Op::Created),
            (Counted::Users, c, Op::Deleted),
            (Counted::Users, a, Op::Changed),
        ];
        assert_eq!(
            distinct(&changes),
            vec![
                (Counted::Users, a, Op::Created),
                (Counted::Users, b, Op::Deleted),
                (Counted::Roles, a, Op::Changed),
                (Counted::Users, c, Op::Deleted),
            ]
        );
        assert!(distinct(&[]).is_empty());
    }
}
