//! Glue between the routes and the translator: the one read path that turns
//! a typed request into JSON records (see docs/architecture.md).
//!
//! A route parses the raw query string once ([`parse`]) into a
//! [`ReadRequest`]: the query options plus the conditions the route adds
//! (a navigation's parent key, as AST nodes). Every JSON record either API
//! returns comes from [`list`], [`get`] or [`count`]: they translate the
//! request with [`odata_sql`] against [`schema::identity_schema`], run the
//! statements and write the rows straight into JSON bytes (one
//! serializer, [`Shape`] says for which API).

pub(crate) mod counted;
mod expand;
pub mod explain;
mod json;
pub(crate) mod query_string;
mod read;
pub(crate) mod rows;
pub mod schema;
pub(crate) mod skiptoken;
pub mod teach;
mod write;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use odata_parser::ast::{Expr, QueryOptions};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::storage::sqlite_reader::SqliteReaders;
use crate::tenancy::TenantScope;

/// The entity sets records are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// `users` / `Users`.
    User,
    /// `roles` / `Roles`.
    Role,
    /// `groups` / `Groups`.
    Group,
}

impl EntityKind {
    /// The entity set name in the schema.
    pub fn entity_set(self) -> &'static str {
        match self {
            EntityKind::User => schema::USERS,
            EntityKind::Role => schema::ROLES,
            EntityKind::Group => schema::GROUPS,
        }
    }
}

/// Which API the records are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// API 1: unexpanded navigations are listed as arrays of keys.
    Api1,
    /// The v4 feed: navigations only when expanded; `full` metadata adds
    /// `@odata.type`, `@odata.id`, `@odata.editLink`, navigation links and
    /// type annotations.
    Feed {
        /// `odata.metadata=full`.
        full: bool,
        /// `@odata.etag` in every entity (not with `odata.metadata=none`,
        /// which allows no control information but next links and counts).
        etag: bool,
        /// `IEEE754Compatible=true`: Int64 and Decimal values are written
        /// as JSON strings (OData JSON §3.2).
        ieee754: bool,
    },
}

impl Shape {
    /// Whether Int64 and Decimal values are written as JSON strings.
    pub fn ieee754(self) -> bool {
        matches!(self, Shape::Feed { ieee754: true, .. })
    }
}

/// What one request cost the read path: query-string parses and SQL
/// statements. Reported in response headers when `APP_DEBUG_READ_STATS`
/// is set (tests assert "one parse" with it).
#[derive(Debug, Default)]
pub struct ReadStats {
    parses: AtomicU32,
    statements: AtomicU32,
    templated: AtomicU32,
}

impl ReadStats {
    fn parse(&self) {
        self.parses.fetch_add(1, Ordering::Relaxed);
    }

    fn statement(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }

    fn count_templated(&self) {
        self.templated.fetch_add(1, Ordering::Relaxed);
    }

    /// Query strings parsed so far.
    pub fn parses(&self) -> u32 {
        self.parses.load(Ordering::Relaxed)
    }

    /// SQL statements run so far.
    pub fn statements(&self) -> u32 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Statements among them that ran from a statement template (no
    /// translation; see [`odata_sql::template`]).
    pub fn templated(&self) -> u32 {
        self.templated.load(Ordering::Relaxed)
    }
}

/// What the read path needs from the request besides the query.
#[derive(Clone)]
pub struct ReadContext {
    /// `"http://127.0.0.1:8080"` (APP_PUBLIC_URL or from the request), no
    /// trailing slash.
    pub base_url: String,
    /// Request path for next links, e.g. `"/api/t/o/identity/users/odata"`.
    pub path: String,
    /// HMAC key for skiptokens.
    pub signing_key: Arc<Vec<u8>>,
    /// API 1: 100 (default and max page size).
    pub page_size: u64,
    /// The API the records are written for.
    pub shape: Shape,
    /// Parse and statement counts of the request, when reported.
    pub stats: Option<Arc<ReadStats>>,
    /// The most a query may cost (`APP_QUERY_COST_BUDGET`, see
    /// [`odata_sql::cost`]); checked before any SQL runs.
    pub cost_budget: odata_sql::CostBudget,
    /// Time limit and tenant share of reads (see [`crate::fair`]).
    pub limits: crate::fair::ReadLimits,
    /// Deepest nesting of `$expand` planned (`APP_EXPAND_MAX_DEPTH`);
    /// deeper answers 400.
    pub expand_max_depth: usize,
}

impl std::fmt::Debug for ReadContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadContext")
            .field("base_url", &self.base_url)
            .field("path", &self.path)
            .field("signing_key", &"<redacted>")
            .field("page_size", &self.page_size)
            .field("shape", &self.shape)
            .field("cost_budget", &self.cost_budget)
            .field("limits", &self.limits)
            .field("expand_max_depth", &self.expand_max_depth)
            .finish()
    }
}

/// A read, typed: parsed once at the edge.
#[derive(Debug, Clone)]
pub struct ReadRequest<'q> {
    /// The entity set read.
    pub kind: EntityKind,
    /// The client's query options.
    pub options: &'q QueryOptions,
    /// Conditions the route adds, ANDed with `$filter` (e.g. the parent key
    /// of a navigation, `users/any(p:p/id eq …)`).
    pub conditions: Vec<Expr>,
}

impl<'q> ReadRequest<'q> {
    /// A read of `kind` with the client's `options`.
    pub fn new(kind: EntityKind, options: &'q QueryOptions) -> Self {
        ReadRequest {
            kind,
            options,
            conditions: Vec::new(),
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The records, a JSON array.
    pub items: Vec<u8>,
    /// Absolute URL of the next page, if there is one.
    pub next_link: Option<String>,
    /// The total count when `$count=true` (or `$inlinecount=allpages`).
    pub count: Option<u64>,
}

impl Page {
    /// The records as JSON values (for tests and probes; the routes pass
    /// the bytes on).
    pub fn records(&self) -> Vec<serde_json::Value> {
        serde_json::from_slice(&self.items).unwrap_or_default()
    }
}

/// One record read by [`get`].
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// The record, a JSON object.
    pub json: Vec<u8>,
    /// Its version, whose ETag is `"<version>"` ([`crate::etag`]).
    pub version: Option<i64>,
}

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The query string is malformed (400); with a hint for people when
    /// the likely cause is known (a raw `+`).
    #[error("{0}")]
    Parse(odata_parser::ParseError, Option<&'static str>),
    /// The query is well-formed but wrong for the model: unknown property,
    /// wrong types, out-of-range value, bad `$skiptoken` (400).
    #[error("{message}")]
    Invalid {
        /// For people.
        message: String,
        /// The query option concerned (`$filter`, ...).
        target: Option<String>,
        /// Byte offset in the raw query string.
        offset: Option<usize>,
    },
    /// The query costs more than the budget (400, `QueryTooExpensive`).
    #[error(transparent)]
    TooExpensive(#[from] odata_sql::CostError),
    /// A recognised feature that is not implemented (501).
    #[error("{message}")]
    NotSupported {
        /// For people.
        message: String,
        /// The query option concerned.
        target: Option<String>,
        /// Byte offset in the raw query string.
        offset: Option<usize>,
    },
    /// A statement ran past the read time limit and was stopped (503
    /// `QueryTimeout` with `Retry-After`).
    #[error("the query ran past the time limit of {} ms for a read statement and was stopped", .0.as_millis())]
    TimedOut(std::time::Duration),
    /// The tenant's reads already hold its share of the read connections
    /// and none finished in time (429 with `Retry-After`).
    #[error(
        "the tenant's reads already hold its {permits} read connection(s); retry when one of them has finished"
    )]
    TenantBusy {
        /// The tenant's share.
        permits: usize,
    },
    /// The database failed (500, or 503 when it is unreachable).
    #[error("database error")]
    Database(#[from] sea_orm::DbErr),
}

/// Where reads run: SeaORM (sqlx) on any backend, or the SQLite reader
/// connections (rusqlite, one thread hop per request).
#[derive(Debug, Clone, Copy)]
pub enum Reader<'a> {
    /// A SeaORM pool.
    Sqlx(&'a DatabaseConnection),
    /// SQLite reader connections: the whole read (every statement of the
    /// request) runs on one of them.
    Sqlite(&'a SqliteReaders),
    /// A caller's write transaction (a `$batch` change set), which sees
    /// what the transaction wrote.
    Txn(&'a sea_orm::DatabaseTransaction),
}

impl<'a> From<&'a DatabaseConnection> for Reader<'a> {
    fn from(db: &'a DatabaseConnection) -> Self {
        Reader::Sqlx(db)
    }
}

/// Parses a raw query string (counted in `ctx.stats`).
pub fn parse(raw_query: &str, ctx: &ReadContext) -> Result<QueryOptions, QueryError> {
    if let Some(stats) = &ctx.stats {
        stats.parse();
    }
    query_string::parse(raw_query)
}

/// Refuses a request over the cost budget, before any SQL (the client's
/// options only: the conditions a route adds are its own).
fn check_cost(req: &ReadRequest<'_>, ctx: &ReadContext) -> Result<(), QueryError> {
    odata_sql::cost::check(
        schema::identity_schema(),
        req.kind.entity_set(),
        req.options,
        ctx.cost_budget,
    )?;
    Ok(())
}

/// A database error about a value the query computed or compared: out of
/// range (PostgreSQL and MySQL/MariaDB SQLSTATE 22003, e.g. Int64 overflow
/// of `add`/`mul`/`-` on columns, a 32-bit position; on SQLite the overflow
/// error of the checked arithmetic functions, [`odata_sql::checked`], through
/// sqlx or the rusqlite readers) or a character the database cannot hold
/// (PostgreSQL 22021/22P05, e.g. NUL): the client's query (400), not a
/// server failure.
pub(crate) fn value_out_of_range(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    if let Some(db) = crate::error::database_error(err) {
        return crate::error::has_sqlstate(err, &["22003", "22021", "22P05"])
            || odata_sql::checked::is_overflow(db.message());
    }
    // The rusqlite reader pool's errors (`ReaderError::Sqlite`).
    matches!(err, DbErr::Query(RuntimeErr::Internal(m)) | DbErr::Exec(RuntimeErr::Internal(m))
        if odata_sql::checked::is_overflow(m))
}

/// [`value_out_of_range`] errors as 400.
fn client_values<T>(result: Result<T, QueryError>) -> Result<T, QueryError> {
    match result {
        Err(QueryError::Database(e)) if value_out_of_range(&e) => {
            tracing::debug!(error = %e, "a value of the query is out of range for the database");
            Err(QueryError::Invalid {
                message: "a value the query computes is out of range for its type \
                          (e.g. an Int64 overflow of add, sub, mul or -, or a position \
                          beyond 2147483647)"
                    .to_owned(),
                target: None,
                offset: None,
            })
        }
        other => other,
    }
}

/// The owned parts of a read, moved to a SQLite reader thread.
struct OwnedRead {
    scope: TenantScope,
    kind: EntityKind,
    options: QueryOptions,
    conditions: Vec<Expr>,
    ctx: ReadContext,
}

impl OwnedRead {
    fn new(scope: &TenantScope, req: &ReadRequest<'_>, ctx: &ReadContext) -> Self {
        OwnedRead {
            scope: scope.clone(),
            kind: req.kind,
            options: req.options.clone(),
            conditions: req.conditions.clone(),
            ctx: ctx.clone(),
        }
    }

    fn request(&self) -> ReadRequest<'_> {
        ReadRequest {
            kind: self.kind,
            options: &self.options,
            conditions: self.conditions.clone(),
        }
    }
}

/// Runs `read` on the calling thread's own SQLite connection when the
/// request [looks cheap](cheap) (see [`SqliteReaders::run_inline`]): `None`
/// when it does not, or when it ran past the inline budget, and the read
/// goes to the reader threads.
fn inline<R>(
    readers: &SqliteReaders,
    req: &ReadRequest<'_>,
    read: impl AsyncFnOnce(&rows::Rusqlite<'_>) -> Result<R, QueryError>,
) -> Option<Result<R, QueryError>> {
    if !cheap(req) {
        return None;
    }
    match readers.run_inline(|conn| rows::complete(read(&rows::Rusqlite(conn))))? {
        Ok(Ok(answer)) => Some(answer),
        Ok(Err(e)) | Err(e) => Some(Err(QueryError::Database(e.into()))),
    }
}

/// Whether a read is expected to touch few rows, so that running it on an
/// HTTP worker thread holds that thread for well under a millisecond: the
/// client's options are [cheap](odata_sql::cost::is_cheap) (no lambda,
/// text scan, `$search`, `$apply`, `$compute`, `$expand`, filtered count,
/// `$skip` over 1000) and the route's conditions are parent keys
/// (`users/any(p:p/id eq …)`, one index lookup). A read judged cheap that
/// is not after all is interrupted at the inline budget and run again on
/// the reader threads.
fn cheap(req: &ReadRequest<'_>) -> bool {
    use odata_parser::ast::ExprKind;
    odata_sql::cost::is_cheap(req.options)
        && req.conditions.iter().all(|c| match &c.kind {
            ExprKind::Lambda(l) => l
                .predicate
                .as_deref()
                .is_none_or(odata_sql::cost::is_cheap_filter),
            _ => false,
        })
}

/// Runs `read` on a reader connection: the whole read in one closure.
async fn on_reader<R: Send + 'static>(
    readers: &SqliteReaders,
    owned: OwnedRead,
    read: impl AsyncFnOnce(&rows::Rusqlite<'_>, &OwnedRead) -> Result<R, QueryError> + Send + 'static,
) -> Result<R, QueryError> {
    let result = readers
        .run(move |conn| rows::complete(read(&rows::Rusqlite(conn), &owned)))
        .await;
    match result {
        Ok(answer) => answer,
        Err(crate::storage::sqlite_reader::ReaderError::TimedOut(limit)) => {
            Err(QueryError::TimedOut(limit))
        }
        Err(e) => Err(QueryError::Database(e.into())),
    }
}

/// One page of records of `req.kind` in the tenant.
///
/// Every branch that awaits is boxed (here, in [`count`] and in [`get`]):
/// a future is as large as its largest branch, and the sqlx branches hold
/// SeaORM's futures, several KB that every caller's future would carry and
/// copy at each `.await` up to the handler, although an inline SQLite read
/// (nearly every cheap read) never enters them.
pub async fn list<'a>(
    db: impl Into<Reader<'a>>,
    scope: &TenantScope,
    req: &ReadRequest<'_>,
    ctx: &ReadContext,
) -> Result<Page, QueryError> {
    check_cost(req, ctx)?;
    client_values(match db.into() {
        Reader::Sqlx(db) => {
            Box::pin(async {
                // Fair sharing and time limit: see crate::fair.
                let _share = ctx.limits.enter(scope.tenant_id).await?;
                crate::fair::sqlx_read(db, ctx.limits.timeout, async |src| {
                    read::list(src, scope, req, ctx).await
                })
                .await
            })
            .await
        }
        Reader::Txn(tx) => {
            Box::pin(async {
                crate::fair::txn_read(tx, ctx.limits.timeout, async |src| {
                    read::list(src, scope, req, ctx).await
                })
                .await
            })
            .await
        }
        Reader::Sqlite(readers) => {
            if let Some(page) = inline(readers, req, async |src| {
                read::list(src, scope, req, ctx).await
            }) {
                return client_values(page);
            }
            // Off the worker thread (boxed: see `list`).
            Box::pin(async {
                let _share = ctx.limits.enter(scope.tenant_id).await?;
                on_reader(readers, OwnedRead::new(scope, req, ctx), async |src, o| {
                    read::list(src, &o.scope, &o.request(), &o.ctx).await
                })
                .await
            })
            .await
        }
    })
}

/// [`parse`] and [`list`]: one page per a raw OData query string.
pub async fn list_query<'a>(
    db: impl Into<Reader<'a>>,
    scope: &TenantScope,
    kind: EntityKind,
    raw_query: &str,
    ctx: &ReadContext,
) -> Result<Page, QueryError> {
    let options = parse(raw_query, ctx)?;
    list(db, scope, &ReadRequest::new(kind, &options), ctx).await
}

/// The number of records `req` addresses (`$filter`, `$search` and the
/// route's conditions; paging options do not apply).
pub async fn count<'a>(
    db: impl Into<Reader<'a>>,
    scope: &TenantScope,
    req: &ReadRequest<'_>,
    ctx: &ReadContext,
) -> Result<u64, QueryError> {
    check_cost(req, ctx)?;
    client_values(match db.into() {
        Reader::Sqlx(db) => {
            Box::pin(async {
                // Fair sharing and time limit: see crate::fair.
                let _share = ctx.limits.enter(scope.tenant_id).await?;
                crate::fair::sqlx_read(db, ctx.limits.timeout, async |src| {
                    read::count(src, scope, req, ctx).await
                })
                .await
            })
            .await
        }
        Reader::Txn(tx) => {
            Box::pin(async {
                crate::fair::txn_read(tx, ctx.limits.timeout, async |src| {
                    read::count(src, scope, req, ctx).await
                })
                .await
            })
            .await
        }
        Reader::Sqlite(readers) => {
            if let Some(n) = inline(readers, req, async |src| {
                read::count(src, scope, req, ctx).await
            }) {
                return client_values(n);
            }
            // Off the worker thread (boxed: see `list`).
            Box::pin(async {
                let _share = ctx.limits.enter(scope.tenant_id).await?;
                on_reader(readers, OwnedRead::new(scope, req, ctx), async |src, o| {
                    read::count(src, &o.scope, &o.request(), &o.ctx).await
                })
                .await
            })
            .await
        }
    })
}

/// The record with this id in the tenant (a JSON object), shaped per the
/// request's `$select`/`$expand`; `None` when there is none (or the
/// request's conditions exclude it).
pub async fn get<'a>(
    db: impl Into<Reader<'a>>,
    scope: &TenantScope,
    req: &ReadRequest<'_>,
    id: Uuid,
    ctx: &ReadContext,
) -> Result<Option<Entity>, QueryError> {
    check_cost(req, ctx)?;
    client_values(match db.into() {
        Reader::Sqlx(db) => {
            Box::pin(async {
                // Fair sharing and time limit: see crate::fair.
                let _share = ctx.limits.enter(scope.tenant_id).await?;
                crate::fair::sqlx_read(db, ctx.limits.timeout, async |src| {
                    read::get(src, scope, req, id, ctx).await
                })
                .await
            })
            .await
        }
        Reader::Txn(tx) => {
            Box::pin(async {
                crate::fair::txn_read(tx, ctx.limits.timeout, async |src| {
                    read::get(src, scope, req, id, ctx).await
                })
                .await
            })
            .await
        }
        Reader::Sqlite(readers) => {
            if let Some(record) = inline(readers, req, async |src| {
                read::get(src, scope, req, id, ctx).await
            }) {
                return client_values(record);
            }
            // Off the worker thread (boxed: see `list`).
            Box::pin(async {
                let _share = ctx.limits.enter(scope.tenant_id).await?;
                on_reader(
                    readers,
                    OwnedRead::new(scope, req, ctx),
                    async move |src, o| read::get(src, &o.scope, &o.request(), id, &o.ctx).await,
                )
                .await
            })
            .await
        }
    })
}
