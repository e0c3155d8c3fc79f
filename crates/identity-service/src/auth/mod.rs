//! Authentication and per-client limits (DESIGN.md "Security").
//!
//! - [`scopes`]: the two scopes, `identity.read` (GET/HEAD) and
//!   `identity.write` (every other method).
//! - [`secrets`]: client ids, client secrets and their argon2id hashes.
//! - [`jwt`]: the HS256 access tokens of `POST /connect/token`, signed with
//!   a key derived from the service's shared signing key.
//! - [`guard`]: the middleware in front of every `/api/{tenantKey}/{orgKey}`
//!   route (Bearer everywhere, HTTP Basic also on the v4 feed), with the
//!   per-instance caches (revocations, verified Basic credentials).
//! - [`rate_limit`]: the per-client token bucket (`APP_RATE_LIMIT_PER_MINUTE`).
//! - [`verifier`]: argon2 on a fixed set of threads with reused memory,
//!   behind a bounded queue.
//! - [`throttle`]: failed credential checks per (client id, source address)
//!   and per source address.

pub mod guard;
pub mod jwt;
pub mod rate_limit;
pub mod state;
pub mod throttle;
pub mod verifier;

pub use crate::domain::scopes::{Scope, Scopes};
/// Client ids, secrets and their argon2 hashes (in [`crate::domain`], below storage).
pub use crate::domain::{scopes, secrets};
pub use state::{AuthCounts, AuthState};

/// The authenticated caller of a request (in the request extensions once
/// the guard let it through).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The public client id.
    pub client_id: String,
    /// The tenant key the client belongs to, as stored.
    pub tenant_key: String,
    /// The organization key the client belongs to, as stored.
    pub org_key: String,
    /// What this token (or Basic credential) may do.
    pub scopes: Scopes,
}

impl Principal {
    /// The author of the writes this principal makes: its client id.
    pub fn actor(&self) -> crate::domain::Actor {
        crate::domain::Actor::client(self.client_id.clone())
    }

    /// Whether the principal may act on the tenant+org of a request path;
    /// keys compare case-insensitively, as the tenant lookup does.
    pub fn matches_tenant(&self, tenant: &str, org: &str) -> bool {
        same_lowercase(&self.tenant_key, tenant) && same_lowercase(&self.org_key, org)
    }
}

/// `a.to_lowercase() == b.to_lowercase()`, without allocating.
fn same_lowercase(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// The realm named in `WWW-Authenticate` challenges.
pub const REALM: &str = "odata-users";
