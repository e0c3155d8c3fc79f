//! Row counters per tenant scope and entity set (`entity_counts`, migration
//! `m20261201_000008_entity_counts`): an unfiltered `$count` reads one row
//! instead of counting the tenant's rows.
//!
//! Every write that inserts or deletes users, roles or groups calls [`add`]
//! in its own transaction, with the number of rows it actually inserted or
//! deleted, at its end, just before the change log (through
//! [`super::finish_write`]; a `$batch` change set adds its writes' summed
//! deltas once, just before its commit: see [`super::bookkeeping`]). The
//! counter row is locked until the commit, so it is held as briefly as
//! possible, and always after the write's entity rows. Rows
//! written outside the service (by hand, in SQL) are not counted until
//! [`recount`] (`odata-users recount`) runs.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use uuid::Uuid;

use super::begin_write;
use crate::error::ApiError;
use crate::tenancy::TenantScope;

const TABLE: &str = "entity_counts";
const TENANT_ID: &str = "tenant_id";
const ENTITY_SET: &str = "entity_set";
const COUNT: &str = "count";

/// A counted entity set.
/// Ordered as [`Counted::ALL`]: the order writes lock the counters in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Counted {
    Users,
    Roles,
    Groups,
}

impl Counted {
    /// Every counted set.
    pub const ALL: [Counted; 3] = [Counted::Users, Counted::Roles, Counted::Groups];

    /// The value of `entity_counts.entity_set` (the OData entity set name).
    pub fn entity_set(self) -> &'static str {
        match self {
            Counted::Users => "Users",
            Counted::Roles => "Roles",
            Counted::Groups => "Groups",
        }
    }

    /// The table whose rows are counted.
    pub fn table(self) -> &'static str {
        match self {
            Counted::Users => "users",
            Counted::Roles => "roles",
            Counted::Groups => "groups",
        }
    }
}

fn col(name: &str) -> Alias {
    Alias::new(name)
}

fn statement_error(err: sea_orm::sea_query::error::Error) -> DbErr {
    DbErr::Custom(format!("building a counter statement: {err}"))
}

/// Adds `delta` (negative for deletes) to the counter of `set` in the
/// tenant, creating it when absent: one upsert (`ON CONFLICT DO UPDATE` on
/// SQLite and PostgreSQL, `ON DUPLICATE KEY UPDATE` on MariaDB/MySQL). Call
/// it inside the transaction that inserted or deleted the rows. A `delta`
/// of 0 writes nothing.
pub async fn add(
    conn: &impl ConnectionTrait,
    tenant_id: Uuid,
    set: Counted,
    delta: i64,
) -> Result<(), DbErr> {
    if delta == 0 {
        return Ok(());
    }
    upsert(conn, tenant_id, set, delta).await
}

async fn upsert(
    conn: &impl ConnectionTrait,
    tenant_id: Uuid,
    set: Counted,
    delta: i64,
) -> Result<(), DbErr> {
    let mut stmt = Query::insert();
    stmt.into_table(col(TABLE))
        .columns([col(TENANT_ID), col(ENTITY_SET), col(COUNT)])
        .values([
            Expr::val(tenant_id),
            Expr::val(set.entity_set()),
            Expr::val(Ord::max(delta, 0)),
        ])
        .map_err(statement_error)?
        .on_conflict(
            OnConflict::columns([col(TENANT_ID), col(ENTITY_SET)])
                .value(col(COUNT), Expr::col((col(TABLE), col(COUNT))).add(delta))
                .to_owned(),
        );
    conn.execute(&stmt).await?;
    Ok(())
}

/// Creates the tenant's counters at 0 where absent (in the transaction
/// that creates the tenant), so that later writes update an existing row
/// instead of racing to insert it.
pub async fn create_for_tenant(conn: &impl ConnectionTrait, tenant_id: Uuid) -> Result<(), DbErr> {
    let mut stmt = Query::insert();
    stmt.into_table(col(TABLE))
        .columns([col(TENANT_ID), col(ENTITY_SET), col(COUNT)]);
    for set in Counted::ALL {
        stmt.values([
            Expr::val(tenant_id),
            Expr::val(set.entity_set()),
            Expr::val(0i64),
        ])
        .map_err(statement_error)?;
    }
    // MySQL has no DO NOTHING: there it is a no-op update of the key.
    stmt.on_conflict(
        OnConflict::columns([col(TENANT_ID), col(ENTITY_SET)])
            .do_nothing_on([col(TENANT_ID)])
            .to_owned(),
    );
    conn.execute(&stmt).await?;
    Ok(())
}

/// The number of rows of `set` in the tenant, from its counter (0 when the
/// tenant has no counter row).
pub async fn count(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    set: impl Into<Counted>,
) -> Result<u64, DbErr> {
    let stmt = count_statement(scope, set);
    let n = match db.query_one(&stmt).await? {
        Some(row) => row.try_get::<i64>("", COUNT)?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// `SELECT count FROM entity_counts WHERE tenant and set`: one row with the
/// column `count`, or none when the tenant has no counter row (0).
pub fn count_statement(scope: &TenantScope, set: impl Into<Counted>) -> SelectStatement {
    let set = set.into();
    Query::select()
        .column(col(COUNT))
        .from(col(TABLE))
        .and_where(Expr::col(col(TENANT_ID)).eq(scope.tenant_id))
        .and_where(Expr::col(col(ENTITY_SET)).eq(set.entity_set()))
        .to_owned()
}

/// What [`recount`] changed: `(set, counter before, rows counted)` for
/// every set of the tenant.
pub type Recounted = Vec<(Counted, u64, u64)>;

/// Sets the tenant's counters to the rows actually there (`COUNT(*)`), one
/// transaction per set: the operator's repair after rows were written or
/// deleted outside the service. Safe while the service writes: the counter
/// row is locked before the rows are counted, so a concurrent insert or
/// delete either is counted or adjusts the counter after this commit.
pub async fn recount(db: &DatabaseConnection, scope: &TenantScope) -> Result<Recounted, ApiError> {
    let mut changes = Vec::with_capacity(Counted::ALL.len());
    for set in Counted::ALL {
        let txn = begin_write(db).await?;
        // Locks the counter row (creating it when absent).
        upsert(&txn, scope.tenant_id, set, 0).await?;
        let before = count(&txn, scope, set).await?;
        let rows = Query::select()
            .expr_as(Expr::cust("COUNT(*)"), col(COUNT))
            .from(col(set.table()))
            .and_where(Expr::col(col(TENANT_ID)).eq(scope.tenant_id))
            .to_owned();
        let actual = match txn.query_one(&rows).await? {
            Some(row) => row.try_get::<i64>("", COUNT)?,
            None => 0,
        };
        let update = Query::update()
            .table(col(TABLE))
            .value(col(COUNT), actual)
            .and_where(Expr::col(col(TENANT_ID)).eq(scope.tenant_id))
            .and_where(Expr::col(col(ENTITY_SET)).eq(set.entity_set()))
            .to_owned();
        txn.execute(&update).await?;
        txn.commit().await?;
        changes.push((set, before, u64::try_from(actual).unwrap_or(0)));
    }
    Ok(changes)
}
