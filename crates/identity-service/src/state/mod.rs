//! The state every worker shares (`web::Data<AppState>` in handlers and
//! middleware): the pools, the settings, the keys, the authentication
//! state, the counters, the read limits and the tenant cache. Below the
//! HTTP helpers, the guard and the routes, which all read it; above
//! everything it holds.

pub mod metrics;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sea_orm::DatabaseConnection;

use crate::auth::AuthState;
use crate::configuration::Settings;
use crate::odata::Reader;
use crate::storage::sqlite_reader::SqliteReaders;
use crate::tenancy::TenantScope;
use metrics::Metrics;

/// Shared state of every worker (`web::Data<AppState>` in handlers).
pub struct AppState {
    /// The database pool (the primary): writes and single-record reads.
    pub db: DatabaseConnection,
    /// The pool for list reads (API 1 `odata` lists, feed collections and
    /// `$count`): `DATABASE_READ_URL` (a replica) when set, else `db`.
    /// Lists read from a replica may lag behind writes by its replay delay.
    pub read_db: DatabaseConnection,
    /// Blocking rusqlite connections for list reads when the read database
    /// is a SQLite file (`sqlite_readers` setting); `None` otherwise (and
    /// then lists read through `read_db`).
    pub sqlite_readers: Option<Arc<SqliteReaders>>,
    /// The settings the application was built with.
    pub settings: Arc<Settings>,
    /// HMAC key for skiptokens (access tokens use a key derived from it);
    /// shared by every instance.
    pub signing_key: Arc<Vec<u8>>,
    /// Access token keys, revocation and Basic caches, rate limiter.
    pub auth: Arc<AuthState>,
    /// Request counters of this instance (`/metrics`).
    pub metrics: Arc<Metrics>,
    /// Caps on reads in flight per client and tenant (see [`crate::fair`]).
    pub read_gate: Arc<crate::fair::ReadGate>,
    /// Time limit and tenant share of reads (see [`crate::fair`]).
    pub read_limits: crate::fair::ReadLimits,
    /// The pool `/ready` pings: one connection of its own, so readiness
    /// never waits behind tenant queries; `None` pings through `db`.
    pub health_db: Option<DatabaseConnection>,
    /// Found tenant+org pairs by lowercased tenant key, then org key.
    tenants: RwLock<HashMap<String, HashMap<String, TenantScope>>>,
}

impl AppState {
    /// Builds the state from an open pool.
    pub fn new(db: DatabaseConnection, settings: Settings, signing_key: Vec<u8>) -> AppState {
        let auth = Arc::new(AuthState::new(&settings, &signing_key));
        let read_gate = Arc::new(crate::fair::ReadGate::new(
            settings.reads_per_client,
            settings.reads_per_tenant,
        ));
        let read_limits = read_limits(&settings, settings.db_max_connections as usize);
        AppState {
            read_gate,
            read_limits,
            health_db: None,
            read_db: db.clone(),
            db,
            sqlite_readers: None,
            auth,
            settings: Arc::new(settings),
            signing_key: Arc::new(signing_key),
            metrics: Arc::new(Metrics::new()),
            tenants: RwLock::new(HashMap::new()),
        }
    }

    /// Serves list reads from `read_db` (a replica) instead of the primary.
    pub fn with_read_db(mut self, read_db: DatabaseConnection) -> AppState {
        self.read_db = read_db;
        self
    }

    /// Where list reads (API 1 lists, feed collections, `$count`) run: the
    /// SQLite readers when there are some, else `read_db`.
    pub fn list_reader(&self) -> Reader<'_> {
        match &self.sqlite_readers {
            Some(readers) => Reader::Sqlite(readers),
            None => Reader::Sqlx(&self.read_db),
        }
    }

    /// Where reads of single records run (they must see the primary): the
    /// SQLite readers when they read the primary's file, else `db`.
    pub fn record_reader(&self) -> Reader<'_> {
        match &self.sqlite_readers {
            Some(readers) if self.settings.database_read_url.is_none() => Reader::Sqlite(readers),
            _ => Reader::Sqlx(&self.db),
        }
    }

    /// Serves list reads on SQLite through these rusqlite readers.
    pub fn with_sqlite_readers(mut self, readers: Option<Arc<SqliteReaders>>) -> AppState {
        if let Some(readers) = &readers {
            self.read_limits = read_limits(&self.settings, readers.readers());
        }
        self.sqlite_readers = readers;
        self
    }

    /// Answers `/ready` from this pool instead of `db`.
    pub fn with_health_db(mut self, health_db: Option<DatabaseConnection>) -> AppState {
        self.health_db = health_db;
        self
    }

    /// The cached scope of a pair of lowercased keys.
    pub(crate) fn cached_tenant(&self, tenant: &str, org: &str) -> Option<TenantScope> {
        self.tenants.read().ok()?.get(tenant)?.get(org).cloned()
    }

    /// Caches the scope of a pair of lowercased keys.
    pub(crate) fn cache_tenant(&self, tenant: &str, org: &str, scope: TenantScope) {
        if let Ok(mut map) = self.tenants.write() {
            map.entry(tenant.to_owned())
                .or_default()
                .insert(org.to_owned(), scope);
        }
    }
}

/// The read limits of `settings` for `connections` read connections.
fn read_limits(settings: &Settings, connections: usize) -> crate::fair::ReadLimits {
    crate::fair::ReadLimits {
        timeout: (settings.read_timeout_ms > 0)
            .then(|| std::time::Duration::from_millis(settings.read_timeout_ms)),
        share: crate::fair::TenantShare::new(
            connections,
            settings.reads_tenant_share,
            std::time::Duration::from_secs(settings.db_acquire_timeout_seconds),
        )
        .map(Arc::new),
    }
}
