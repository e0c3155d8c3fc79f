//! Reads under hostile load: a time limit on every OData read statement,
//! and fair sharing of reads between clients and tenants.
//!
//! # Time limit (`APP_READ_TIMEOUT_MS`)
//!
//! A read statement running past the limit is stopped by the database and
//! its connection is free again at once; the answer is 503 `QueryTimeout`
//! with `Retry-After`:
//!
//! - SQLite reader pool: the reader connection's progress handler
//!   interrupts it (`storage::sqlite_reader`). Reads run inline on an HTTP
//!   worker thread are interrupted after `APP_SQLITE_INLINE_MS` anyway and
//!   then run on the pool under the limit.
//! - PostgreSQL: the read runs in a transaction that starts with
//!   `SET LOCAL statement_timeout` (it ends with the transaction, so it
//!   also works behind pgbouncer in transaction pooling mode).
//! - MariaDB: every read statement is sent as
//!   `SET STATEMENT max_statement_time=<s> FOR SELECT ...`.
//! - SQLite through sqlx (`APP_SQLITE_READERS=0`, in-memory databases):
//!   no limit. sqlx runs each SQLite connection on a worker thread of its
//!   own and offers no way to interrupt one statement of a pooled
//!   connection; the reader pool is the default for SQLite files.
//!
//! A client that disconnects cancels its read: actix drops the handler's
//! future (`h1_allow_half_closed(false)`), which interrupts the statement
//! on the SQLite reader pool at once. sqlx sends no cancel request to
//! PostgreSQL or MariaDB when its future is dropped, so there the
//! statement runs on until it ends or reaches the time limit, which bounds
//! it.
//!
//! # Fair sharing
//!
//! - [`ReadGate`]: at most `APP_READS_PER_CLIENT` reads (`GET`/`HEAD` of
//!   `/api`) in flight per API client and `APP_READS_PER_TENANT` per
//!   tenant; one more is answered 429 with `Retry-After` at once.
//! - [`TenantShare`]: reads that go to the read connections (the SQLite
//!   reader pool, or the sqlx pool on PostgreSQL/MariaDB) hold at most
//!   `APP_READS_TENANT_SHARE` percent of them per tenant (at least one);
//!   a tenant's further reads wait for one of its own to finish, so other
//!   tenants always find connections. A read that waited longer than
//!   `db_acquire_timeout_seconds` for its tenant's share is answered 429.
//!   Only a server saturated by all tenants together answers 503 (the
//!   pool's acquire timeout).
//!
//! `/health` answers without the database; `/ready` pings through a pool
//! of its own (see `storage::db::connect_health`), so neither waits behind
//! tenant queries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
    TransactionTrait,
};
use sea_query::SelectStatement;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::odata::QueryError;
use crate::odata::rows::{RowSink, Source};

/// Seconds a client over a read cap is asked to wait.
pub const RETRY_AFTER_SECONDS: u64 = crate::error::BUSY_RETRY_AFTER_SECONDS;

/// Tenants tracked by [`TenantShare`] before idle ones are forgotten.
const PRUNE_ABOVE: usize = 1000;

/// The limits the read path applies (part of `odata::ReadContext`).
#[derive(Debug, Clone, Default)]
pub struct ReadLimits {
    /// The longest a read statement may run; `None` for no limit.
    pub timeout: Option<Duration>,
    /// The share of the read connections one tenant may hold.
    pub share: Option<Arc<TenantShare>>,
}

impl ReadLimits {
    /// Waits for a read connection of `tenant`'s share (nothing when
    /// sharing is off); the permit returns it when dropped.
    pub(crate) async fn enter(
        &self,
        tenant: Uuid,
    ) -> Result<Option<OwnedSemaphorePermit>, QueryError> {
        match &self.share {
            Some(share) => share.enter(tenant).await.map(Some),
            None => Ok(None),
        }
    }
}

/// At most `permits` concurrent reads per tenant on the read connections.
#[derive(Debug)]
pub struct TenantShare {
    permits: usize,
    wait: Duration,
    tenants: Mutex<HashMap<Uuid, Arc<Semaphore>>>,
}

impl TenantShare {
    /// `percent` of `connections` (at least one) per tenant, waiting at
    /// most `wait` for one; `None` when `percent` is 0 or 100 (no share).
    pub fn new(connections: usize, percent: u8, wait: Duration) -> Option<TenantShare> {
        if percent == 0 || percent >= 100 {
            return None;
        }
        Some(TenantShare {
            permits: (connections * usize::from(percent) / 100).max(1),
            wait,
            tenants: Mutex::new(HashMap::new()),
        })
    }

    /// Reads of one tenant that may hold read connections at once.
    pub fn permits(&self) -> usize {
        self.permits
    }

    async fn enter(&self, tenant: Uuid) -> Result<OwnedSemaphorePermit, QueryError> {
        let semaphore = {
            let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
            if tenants.len() > PRUNE_ABOVE {
                tenants.retain(|_, s| {
                    Arc::strong_count(s) > 1 || s.available_permits() < self.permits
                });
            }
            tenants
                .entry(tenant)
                .or_insert_with(|| Arc::new(Semaphore::new(self.permits)))
                .clone()
        };
        match tokio::time::timeout(self.wait, semaphore.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; a closed one is a full share too.
            Ok(Err(_)) | Err(_) => Err(QueryError::TenantBusy {
                permits: self.permits,
            }),
        }
    }
}

/// Caps on the reads in flight per API client and per tenant.
#[derive(Debug)]
pub struct ReadGate {
    per_client: usize,
    per_tenant: usize,
    in_flight: Mutex<HashMap<String, usize>>,
}

/// A read admitted by [`ReadGate::admit`]; gives its places back on drop.
#[derive(Debug)]
pub struct ReadPermit {
    /// `None` when both caps are off: nothing was counted.
    gate: Option<Arc<ReadGate>>,
    keys: Vec<String>,
}

impl Drop for ReadPermit {
    fn drop(&mut self) {
        let Some(gate) = &self.gate else {
            return;
        };
        let mut in_flight = gate
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for key in &self.keys {
            if let Some(n) = in_flight.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    in_flight.remove(key);
                }
            }
        }
    }
}

impl ReadGate {
    /// At most `per_client` reads per client and `per_tenant` per tenant
    /// in flight; 0 turns a cap off.
    pub fn new(per_client: usize, per_tenant: usize) -> ReadGate {
        ReadGate {
            per_client,
            per_tenant,
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// Admits one more read of `principal`, or refuses it with 429.
    pub fn admit(self: &Arc<Self>, principal: &Principal) -> Result<ReadPermit, ApiError> {
        if self.per_client == 0 && self.per_tenant == 0 {
            // No cap: no key to format, no lock shared by every worker.
            return Ok(ReadPermit {
                gate: None,
                keys: Vec::new(),
            });
        }
        let mut caps = Vec::with_capacity(2);
        if self.per_client > 0 {
            caps.push((
                format!("c\u{0}{}", principal.client_id),
                self.per_client,
                "client",
            ));
        }
        if self.per_tenant > 0 {
            caps.push((
                format!(
                    "t\u{0}{}\u{0}{}",
                    principal.tenant_key.to_ascii_lowercase(),
                    principal.org_key.to_ascii_lowercase()
                ),
                self.per_tenant,
                "tenant",
            ));
        }
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for (key, cap, whose) in &caps {
            if in_flight.get(key).copied().unwrap_or(0) >= *cap {
                return Err(ApiError::TooManyRequests {
                    message: format!(
                        "too many concurrent reads: at most {cap} per {whose}; \
                         retry when one of them has finished"
                    ),
                    retry_after: RETRY_AFTER_SECONDS,
                });
            }
        }
        let mut keys = Vec::with_capacity(caps.len());
        for (key, _, _) in caps {
            *in_flight.entry(key.clone()).or_insert(0) += 1;
            keys.push(key);
        }
        Ok(ReadPermit {
            gate: Some(self.clone()),
            keys,
        })
    }
}

/// Whether a database error is a statement stopped by its time limit:
/// PostgreSQL `query_canceled` (57014, `statement_timeout`) or MariaDB's
/// interrupted query (SQLSTATE 70100, `max_statement_time` exceeded).
pub(crate) fn statement_timed_out(err: &DbErr) -> bool {
    crate::error::has_sqlstate(err, &["57014", "70100"])
}

/// Where a [`Limited`] source runs its statements.
enum Conn<'a> {
    Pool(&'a DatabaseConnection),
    Transaction(&'a DatabaseTransaction),
}

/// The translator's backend for a SeaORM connection's (SQLite for any
/// other: SeaORM's backend enum is non-exhaustive).
pub(crate) fn translator_backend(backend: DbBackend) -> odata_sql::Backend {
    match backend {
        DbBackend::Postgres => odata_sql::Backend::Postgres,
        DbBackend::MySql => odata_sql::Backend::MySql,
        _ => odata_sql::Backend::Sqlite,
    }
}

/// SeaORM (sqlx) on any backend, with the time limit of its backend.
pub(crate) struct Limited<'a> {
    conn: Conn<'a>,
    backend: DbBackend,
    /// MariaDB: `SET STATEMENT max_statement_time=… FOR ` before each
    /// statement.
    prefix: Option<String>,
}

impl Source for Limited<'_> {
    fn backend(&self) -> odata_sql::Backend {
        translator_backend(self.backend)
    }

    async fn query(&self, stmt: &SelectStatement, sink: &mut dyn RowSink) -> Result<(), DbErr> {
        let (sql, values) = self.backend().build(stmt);
        self.query_text(&sql, values.0, sink).await
    }

    async fn query_text(
        &self,
        sql: &str,
        values: Vec<sea_query::Value>,
        sink: &mut dyn RowSink,
    ) -> Result<(), DbErr> {
        let stmt = match &self.prefix {
            Some(prefix) => {
                Statement::from_sql_and_values(self.backend, format!("{prefix}{sql}"), values)
            }
            None => Statement::from_sql_and_values(self.backend, sql, values),
        };
        let rows = match &self.conn {
            Conn::Pool(db) => db.query_all_raw(stmt).await?,
            Conn::Transaction(tx) => tx.query_all_raw(stmt).await?,
        };
        crate::odata::rows::sqlx_rows(&rows, sink)
    }
}

/// Runs `read` inside a caller's transaction `tx` (a `$batch` change set,
/// which reads what it wrote): MariaDB keeps its per-statement limit; the
/// others run without one (a `SET LOCAL` would outlive the read).
pub(crate) async fn txn_read<R>(
    tx: &DatabaseTransaction,
    timeout: Option<Duration>,
    read: impl AsyncFnOnce(&Limited<'_>) -> Result<R, QueryError>,
) -> Result<R, QueryError> {
    let backend = tx.get_database_backend();
    let prefix = match (backend, timeout) {
        (DbBackend::MySql, Some(limit)) => Some(format!(
            "SET STATEMENT max_statement_time={:.3} FOR ",
            limit.as_secs_f64().max(0.001)
        )),
        _ => None,
    };
    read(&Limited {
        conn: Conn::Transaction(tx),
        backend,
        prefix,
    })
    .await
}

/// Runs `read` through SeaORM on `db` under the time limit `timeout` (see
/// the module documentation for each backend); a statement stopped by it
/// is [`QueryError::TimedOut`].
pub(crate) async fn sqlx_read<R>(
    db: &DatabaseConnection,
    timeout: Option<Duration>,
    read: impl AsyncFnOnce(&Limited<'_>) -> Result<R, QueryError>,
) -> Result<R, QueryError> {
    let backend = db.get_database_backend();
    let result = match (backend, timeout) {
        (DbBackend::Postgres, Some(limit)) => {
            let tx = db.begin().await?;
            let ms = limit.as_millis().max(1);
            let result = match tx
                .execute_unprepared(&format!("SET LOCAL statement_timeout = {ms}"))
                .await
            {
                Ok(_) => {
                    read(&Limited {
                        conn: Conn::Transaction(&tx),
                        backend,
                        prefix: None,
                    })
                    .await
                }
                Err(e) => Err(e.into()),
            };
            match result {
                Ok(answer) => tx.commit().await.map(|()| answer).map_err(Into::into),
                Err(e) => {
                    let _ = tx.rollback().await;
                    Err(e)
                }
            }
        }
        (DbBackend::MySql, Some(limit)) => {
            let seconds = limit.as_secs_f64().max(0.001);
            read(&Limited {
                conn: Conn::Pool(db),
                backend,
                prefix: Some(format!(
                    "SET STATEMENT max_statement_time={seconds:.3} FOR "
                )),
            })
            .await
        }
        _ => {
            read(&Limited {
                conn: Conn::Pool(db),
                backend,
                prefix: None,
            })
            .await
        }
    };
    match result {
        Err(QueryError::Database(e)) if statement_timed_out(&e) => {
            tracing::debug!(error = %e, "a read statement ran past the time limit");
            Err(QueryError::TimedOut(timeout.unwrap_or_default()))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(client: &str, tenant: &str) -> Principal {
        Principal {
            client_id: client.to_owned(),
            tenant_key: tenant.to_owned(),
            org_key: "main".to_owned(),
            scopes: crate::auth::Scopes::all(),
        }
    }

    #[test]
    fn gate_caps_clients_and_tenants_and_gives_places_back() {
        let gate = Arc::new(ReadGate::new(2, 3));
        let a1 = principal("a1", "acme");
        let a2 = principal("a2", "ACME");
        let first = gate.admit(&a1).unwrap();
        let _second = gate.admit(&a1).unwrap();
        assert!(gate.admit(&a1).is_err(), "third read of one client");
        let _third = gate.admit(&a2).unwrap();
        assert!(gate.admit(&a2).is_err(), "fourth read of one tenant");
        assert!(gate.admit(&principal("b", "other")).is_ok());
        drop(first);
        assert!(gate.admit(&a2).is_ok());
        let open = Arc::new(ReadGate::new(0, 0));
        let held: Vec<_> = (0..100).map(|_| open.admit(&a1).unwrap()).collect();
        // Without caps nothing is counted, not even while the reads run.
        assert!(open.in_flight.lock().unwrap().is_empty());
        drop(held);
        assert!(open.in_flight.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn share_is_a_part_of_the_connections_per_tenant() {
        assert!(TenantShare::new(8, 100, Duration::from_secs(1)).is_none());
        assert!(TenantShare::new(8, 0, Duration::from_secs(1)).is_none());
        assert_eq!(
            TenantShare::new(1, 50, Duration::ZERO).unwrap().permits(),
            1
        );
        let share = TenantShare::new(4, 50, Duration::from_millis(20)).unwrap();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let _p1 = share.enter(a).await.unwrap();
        let p2 = share.enter(a).await.unwrap();
        assert!(matches!(
            share.enter(a).await,
            Err(QueryError::TenantBusy { permits: 2 })
        ));
        assert!(share.enter(b).await.is_ok());
        drop(p2);
        assert!(share.enter(a).await.is_ok());
    }
}
