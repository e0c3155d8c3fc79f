//! The tenant scope every request and every storage call carries.

use std::sync::Arc;

use uuid::Uuid;

/// A resolved tenant+organization. Built only by the request extractor (or
/// the CLI) after the pair was found in the `tenants` table, so holding one
/// means the tenant exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantScope {
    /// `tenants.id`: the value every statement filters on.
    pub tenant_id: Uuid,
    /// The tenant key as stored (used to build links). Shared: a scope is
    /// cloned out of the tenant cache on every request.
    pub tenant_key: Arc<str>,
    /// The organization key as stored (used to build links).
    pub org_key: Arc<str>,
}
