//! The tenant's bookkeeping of a write, and the one lock order it is taken
//! in.
//!
//! Every write of users, roles or groups ends with the tenant's
//! bookkeeping: [`counters::add`] (the `entity_counts` rows of the sets it
//! inserted into or deleted from) and then [`changes::record`] (the
//! tenant's `change_sequence` row and its `change_log` rows). Both lock
//! their rows until the commit, so they come last, after the write has
//! locked every entity row it needs: the entity rows first, then the
//! counters (in [`Counted::ALL`] order), then the sequence. A write that
//! holds the counter or sequence lock therefore never waits for an entity
//! row, and two writes can only wait for each other on entity rows.
//!
//! A `$batch` change set ([`ChangeSet`]) is one transaction holding many
//! writes, each a savepoint of it. If each wrote its bookkeeping at its
//! end, the set would hold the sequence lock from its first write on while
//! its later writes lock entity rows: a single write of one of those rows
//! that waits for the sequence then deadlocks with it (PostgreSQL and
//! MariaDB abort one of the two). So inside a change set the writes only
//! collect their bookkeeping ([`finish_write`]), per tenant, and
//! [`ChangeSet::commit`] writes it all just before the commit, in the same
//! order as a single write: every tenant's summed counter deltas, then one
//! [`changes::record`] with all its entries (one change number for the
//! whole set).

use std::collections::BTreeMap;
use std::sync::Mutex;

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr};
use uuid::Uuid;

use super::changes::{self, Change};
use super::counters::{self, Counted};
use super::{Writer, begin_write};
use crate::error::ApiError;

/// What a change set's writes left for one tenant's bookkeeping.
#[derive(Debug, Default)]
struct Pending {
    /// Summed counter deltas, by set.
    counts: BTreeMap<Counted, i64>,
    /// Change-log entries in the order they were made.
    changes: Vec<Change>,
}

/// A `$batch` change set: the caller's transaction its writes run in (each
/// as a savepoint of it) and the bookkeeping they deferred to its end.
pub struct ChangeSet {
    txn: DatabaseTransaction,
    /// By tenant; a std mutex, never held across an `.await`.
    deferred: Mutex<BTreeMap<Uuid, Pending>>,
}

impl ChangeSet {
    /// Starts the change set's transaction (a write transaction:
    /// `BEGIN IMMEDIATE` on SQLite).
    pub async fn begin(db: &DatabaseConnection) -> Result<ChangeSet, ApiError> {
        Ok(ChangeSet {
            txn: begin_write(db).await?,
            deferred: Mutex::new(BTreeMap::new()),
        })
    }

    /// The transaction, for the reads of the change set's answers.
    pub fn transaction(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Writes the deferred bookkeeping (tenants in id order; per tenant the
    /// counters, then the change log) and commits.
    pub async fn commit(self) -> Result<(), ApiError> {
        let deferred = self
            .deferred
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (tenant_id, pending) in deferred {
            let counts: Vec<(Counted, i64)> = pending.counts.into_iter().collect();
            write(&self.txn, tenant_id, &counts, &pending.changes).await?;
        }
        self.txn.commit().await?;
        Ok(())
    }

    /// Rolls the whole change set back; its deferred bookkeeping goes with
    /// it.
    pub async fn rollback(self) -> Result<(), ApiError> {
        self.txn.rollback().await?;
        Ok(())
    }

    fn defer(&self, tenant_id: Uuid, counts: &[(Counted, i64)], log: &[Change]) {
        let mut deferred = self
            .deferred
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let pending = deferred.entry(tenant_id).or_default();
        for &(set, delta) in counts {
            *pending.counts.entry(set).or_insert(0) += delta;
        }
        pending.changes.extend_from_slice(log);
    }
}

/// The tenant's bookkeeping in `conn`, in the one lock order: the counters
/// (in [`Counted`] order), then the change log.
async fn write(
    conn: &impl ConnectionTrait,
    tenant_id: Uuid,
    counts: &[(Counted, i64)],
    log: &[Change],
) -> Result<(), DbErr> {
    let mut counts = counts.to_vec();
    counts.sort_by_key(|&(set, _)| set);
    for (set, delta) in counts {
        counters::add(conn, tenant_id, set, delta).await?;
    }
    changes::record(conn, tenant_id, log).await
}

/// Ends the write `txn` that `db` began: alone, it writes the tenant's
/// bookkeeping (`counts`: rows inserted or deleted per set; `log`: the
/// change-log entries) and commits; inside a change set, it releases the
/// savepoint and leaves the bookkeeping to [`ChangeSet::commit`].
pub async fn finish_write(
    db: &impl Writer,
    txn: DatabaseTransaction,
    tenant_id: Uuid,
    counts: &[(Counted, i64)],
    log: &[Change],
) -> Result<(), ApiError> {
    match db.change_set() {
        None => {
            write(&txn, tenant_id, counts, log).await?;
            txn.commit().await?;
        }
        Some(change_set) => {
            txn.commit().await?;
            change_set.defer(tenant_id, counts, log);
        }
    }
    Ok(())
}
