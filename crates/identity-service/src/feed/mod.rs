//! API 2: the standard OData v4 feed of users, roles and groups under
//! `/api/{tenantKey}/{orgKey}/odata/`, read by BI tools (Power BI, Excel,
//! Tableau) and OData client libraries unmodified, and written by OData
//! clients (`writes`: create, update, delete, `$ref`) through API 1's
//! domain rules and storage, one request at a time or in a `$batch`
//! (`batch`).
//!
//! The feed is a thin layer over the one read path ([`crate::odata::list`]
//! and [`crate::odata::get`]): it parses the resource path with the
//! parser's resource-path entry point, calls the read path with the feed's
//! page size, and wraps the records in OData JSON (context URLs, `value`,
//! `@odata.count`, `@odata.nextLink`, metadata levels). `$metadata` is
//! generated from the same schema description the translator uses, with
//! capability annotations the translator states (`odata_sql::capabilities`).
//!
//! Mounted in `routes` as
//! `web::scope(FEED_SCOPE).wrap(from_fn(feed_guard)).configure(configure)`:
//! the guard gives every response of the scope, errors included, exactly
//! one `OData-Version` ([`mark_odata_version`]).

mod answers;
mod batch;
mod capabilities;
mod delta;
mod envelope;
mod metadata;
mod paths;
mod prefer;
mod request;
mod routes;
mod write_body;
mod writes;

use actix_web::web;

pub use crate::http::{is_batch_path, mark_odata_version};
pub use capabilities::{Capabilities, SetCapabilities};
pub use metadata::{csdl_json, csdl_xml};
pub use prefer::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MetadataLevel};

/// The feed's scope, inside `routes::TENANT_SCOPE`. The literal `odata`
/// segment matches in any case, like every literal segment of the API
/// (`routes::canonical_path` folds it before routing).
pub const FEED_SCOPE: &str = "/odata";

/// Registers the feed's routes inside [`FEED_SCOPE`].
pub fn configure(cfg: &mut web::ServiceConfig) {
    routes::configure(cfg);
}
