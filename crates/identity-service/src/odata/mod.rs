//! Glue between the routes and the translator: the one read path that turns
//! a raw OData query string into JSON records (see docs/architecture.md).
//!
//! Every JSON record the API returns comes from [`list`] or [`get_by_id`]:
//! they parse the raw query, translate it with [`odata_sql`] against
//! [`schema::identity_schema`], run the statements through SeaORM and shape
//! the records (one serializer).

pub(crate) mod counted;
mod json;
pub(crate) mod query_string;
mod read;
pub mod schema;
mod skiptoken;

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use uuid::Uuid;

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
    /// Whether records carry the keys of their unexpanded navigations
    /// (API 1's `roles`/`groups` arrays). The v4 feed leaves them out, so
    /// they are not read.
    pub navigation_keys: bool,
}

impl std::fmt::Debug for ReadContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadContext")
            .field("base_url", &self.base_url)
            .field("path", &self.path)
            .field("signing_key", &"<redacted>")
            .field("page_size", &self.page_size)
            .finish()
    }
}

/// One page of an API 1 list.
#[derive(Debug, Clone, PartialEq)]
pub struct Api1Page {
    /// The records.
    pub items: Vec<serde_json::Value>,
    /// Absolute URL of the next page, if there is one.
    pub next_page_link: Option<String>,
    /// The total count when `$count=true` (or `$inlinecount=allpages`).
    pub count: Option<u64>,
}

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The query string is malformed (400).
    #[error("{0}")]
    Parse(odata_parser::ParseError),
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
    /// A recognised feature that is not implemented (501).
    #[error("{message}")]
    NotSupported {
        /// For people.
        message: String,
        /// The query option concerned.
        target: Option<String>,
    },
    /// The database failed (500, or 503 when it is unreachable).
    #[error("database error")]
    Database(#[from] sea_orm::DbErr),
}

/// One page of records of `kind` in the tenant, per the raw OData query
/// string (`$filter $select $orderby $top $skip $count $inlinecount $expand
/// $search $skiptoken`).
pub async fn list(
    db: &DatabaseConnection,
    scope: &TenantScope,
    kind: EntityKind,
    raw_query: &str,
    ctx: &ReadContext,
) -> Result<Api1Page, QueryError> {
    read::list(db, scope, kind, raw_query, ctx).await
}

/// The record with this id in the tenant, shaped per the raw query (`$select`,
/// `$expand`); `None` when there is none.
pub async fn get_by_id(
    db: &DatabaseConnection,
    scope: &TenantScope,
    kind: EntityKind,
    id: Uuid,
    raw_query: &str,
    ctx: &ReadContext,
) -> Result<Option<serde_json::Value>, QueryError> {
    read::get_by_id(db, scope, kind, id, raw_query, ctx).await
}
