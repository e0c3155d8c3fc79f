//! The authentication state of one instance ([`AuthState`], held by
//! [`crate::state::AppState`]): token keys, the rate limiter, and
//! per-instance caches, both bounded in time by `auth_cache_seconds` (0
//! turns both off):
//! - the list of recently revoked clients, read from the database at most
//!   once per period, so a revocation reaches every instance within it;
//! - successful HTTP Basic verifications (argon2 costs tens of
//!   milliseconds, far too much per request), keyed by a SHA-256 of the
//!   credentials; failures are never cached. A `moka` cache, bounded in
//!   entries (the least used go first) and kept [`KNOWN_CREDENTIALS`]
//!   long: within `auth_cache_seconds` an entry answers, after that it
//!   only exempts its credentials from the failure throttle.
//!
//! Credential checks (HTTP Basic in the guard, `POST /connect/token` too) share
//! one path, [`AuthState::verify_client`]: argon2 runs on the fixed threads
//! of [`super::verifier`] behind a bounded queue (full: 503 with
//! `Retry-After`); concurrent checks of the same credentials share one run;
//! failed checks are throttled per (client id, source address) and per
//! source address ([`super::throttle`], 429 with `Retry-After`), except for
//! credentials this instance verified successfully within
//! [`KNOWN_CREDENTIALS`]: those are always verified, so guessing a
//! client's id from the client's own address does not lock it out.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};

use super::Principal;
use super::jwt::TokenKeys;
use super::rate_limit::RateLimiter;
use super::throttle::FailureThrottle;
use super::verifier::{self, Verifier};
use crate::configuration::Settings;
use crate::error::ApiError;
use crate::storage::clients;

/// Most verified credentials kept (moka evicts the least used beyond).
const BASIC_CACHE_CAPACITY: u64 = 10_000;

/// How long credentials verified on this instance stay exempt from the
/// throttling of failures (they are still verified every time the success
/// cache does not answer).
pub const KNOWN_CREDENTIALS: Duration = Duration::from_secs(24 * 60 * 60);

/// Seconds a client is asked to wait when the verification queue is full.
const BUSY_RETRY_AFTER: u64 = 1;

/// Verified credentials' principal and when they were verified.
type Verified = (Arc<Principal>, Instant);

/// A verification in progress that requests with the same credentials join.
type Flight = Arc<tokio::sync::OnceCell<Option<Principal>>>;

/// What the credential checks of one instance did since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthCounts {
    /// argon2 verifications of client secrets run.
    pub argon2_runs: u64,
    /// Checks refused with 503: the verification queue was full.
    pub verify_busy: u64,
    /// Attempts refused with 429 by the failure throttle.
    pub throttled: u64,
}

/// Authentication state of one instance: token keys, caches, rate limiter.
pub struct AuthState {
    /// Signs and verifies access tokens.
    pub keys: TokenKeys,
    /// Per-client request budget.
    pub limiter: RateLimiter,
    token_ttl: Duration,
    cache_ttl: Duration,
    revoked: RwLock<Revocations>,
    refresh: tokio::sync::Mutex<()>,
    /// Credentials (SHA-256 of `id:secret`) verified successfully, with
    /// their principal and when: the success cache within `cache_ttl`, the
    /// exemption from throttling within [`KNOWN_CREDENTIALS`].
    /// A moka cache bounded by [`BASIC_CACHE_CAPACITY`] entries and by
    /// [`KNOWN_CREDENTIALS`] of age.
    basic: moka::sync::Cache<[u8; 32], Verified, BuildHasherDefault<DigestHasher>>,
    /// Verifications in progress, by the same key.
    flights: Mutex<HashMap<[u8; 32], Flight>>,
    /// argon2 on a fixed set of threads behind a bounded queue.
    verifier: Verifier,
    /// Failed attempts per (client id, source) and per source.
    throttle: FailureThrottle,
}

#[derive(Default)]
struct Revocations {
    ids: HashSet<String>,
    refreshed: Option<Instant>,
}

/// A request's place on a [`Flight`]; the last one off (or the first
/// after it landed) takes the flight off the map.
struct Boarding<'a> {
    flights: &'a Mutex<HashMap<[u8; 32], Flight>>,
    key: [u8; 32],
    flight: Flight,
}

impl Drop for Boarding<'_> {
    fn drop(&mut self) {
        if let Ok(mut flights) = self.flights.lock()
            && flights
                .get(&self.key)
                .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
            && (self.flight.initialized() || Arc::strong_count(&self.flight) <= 2)
        {
            flights.remove(&self.key);
        }
    }
}

impl AuthState {
    /// The state for `settings`, with token keys derived from `signing_key`.
    pub fn new(settings: &Settings, signing_key: &[u8]) -> AuthState {
        AuthState {
            keys: TokenKeys::derive(signing_key),
            limiter: RateLimiter::new(settings.rate_limit_per_minute),
            token_ttl: Duration::from_secs(settings.token_ttl_seconds),
            cache_ttl: Duration::from_secs(settings.auth_cache_seconds),
            revoked: RwLock::new(Revocations::default()),
            refresh: tokio::sync::Mutex::new(()),
            basic: moka::sync::Cache::builder()
                .max_capacity(BASIC_CACHE_CAPACITY)
                .time_to_live(KNOWN_CREDENTIALS)
                .build_with_hasher(BuildHasherDefault::default()),
            flights: Mutex::new(HashMap::new()),
            verifier: Verifier::new(settings.auth_verify_threads, settings.auth_verify_queue),
            throttle: FailureThrottle::new(
                settings.auth_failures_per_minute,
                settings.auth_source_failures_per_minute,
            ),
        }
    }

    /// The credential checks' counts for `/metrics`: argon2 runs, checks
    /// refused with a full queue (503), attempts refused by the failure
    /// throttle (429).
    pub fn counts(&self) -> AuthCounts {
        let counts = self.verifier.counts();
        AuthCounts {
            argon2_runs: counts.runs.load(Ordering::Relaxed),
            verify_busy: counts.busy.load(Ordering::Relaxed),
            throttled: self.throttle.refused(),
        }
    }

    /// Lifetime of the access tokens this instance issues, in seconds.
    pub fn token_ttl_seconds(&self) -> u64 {
        self.token_ttl.as_secs()
    }

    /// Verifies a client id and secret sent from `source` (the TCP peer)
    /// against the database: the client's principal with every scope it was
    /// granted, or `None` for an unknown or revoked client or a wrong
    /// secret. Errors: 429 over the failure limits, 503 when the
    /// verification queue is full, database failures.
    pub async fn verify_client(
        &self,
        db: &DatabaseConnection,
        client_id: &str,
        secret: &str,
        source: Option<IpAddr>,
    ) -> Result<Option<Principal>, ApiError> {
        let key = credentials_key(client_id, secret);
        let boarding = self.board(key);
        let verdict = boarding
            .flight
            .get_or_try_init(|| self.verify_once(db, client_id, secret, source, &key))
            .await?;
        Ok(verdict.clone())
    }

    /// The flight of `key`: the one in progress, else a new one.
    fn board(&self, key: [u8; 32]) -> Boarding<'_> {
        let flight = match self.flights.lock() {
            Ok(mut flights) => Arc::clone(flights.entry(key).or_default()),
            Err(_) => Flight::default(),
        };
        Boarding {
            flights: &self.flights,
            key,
            flight,
        }
    }

    /// One verification (of a flight): throttled unless the credentials
    /// are known good, then looked up and hashed.
    async fn verify_once(
        &self,
        db: &DatabaseConnection,
        client_id: &str,
        secret: &str,
        source: Option<IpAddr>,
        key: &[u8; 32],
    ) -> Result<Option<Principal>, ApiError> {
        let known = self.verified_within(key, KNOWN_CREDENTIALS).is_some();
        let attempt = if known {
            None
        } else {
            let attempt = self.throttle.begin(client_id, source).map_err(|retry_after| {
                ApiError::TooManyRequests {
                    message: format!(
                        "too many failed client authentications from this address; retry in {retry_after} s"
                    ),
                    retry_after,
                }
            })?;
            Some(attempt)
        };
        let verified = self.verify_client_now(db, client_id, secret).await;
        match &verified {
            // A failure stays counted; credentials that stopped verifying
            // (revoked client) lose their exemption.
            Ok(None) => self.forget(key),
            Ok(Some(principal)) => self.remember(*key, principal),
            Err(_) => {}
        }
        if let Some(attempt) = attempt
            && !matches!(verified, Ok(None))
        {
            self.throttle.refund(attempt);
        }
        verified
    }

    /// Looks the client up and runs argon2 on the verifier.
    async fn verify_client_now(
        &self,
        db: &DatabaseConnection,
        client_id: &str,
        secret: &str,
    ) -> Result<Option<Principal>, ApiError> {
        let found = clients::find(db, client_id).await?;
        let Some(client) = found.filter(|c| c.record.revoked_on.is_none()) else {
            // The time of a verification, so an unknown id does not show.
            self.hash(secret, verifier::DUMMY_HASH).await?;
            return Ok(None);
        };
        let matches = self.hash(secret, &client.secret_hash).await?;
        Ok(matches.then_some(Principal {
            client_id: client.record.client_id,
            tenant_key: client.record.tenant_key,
            org_key: client.record.org_key,
            scopes: client.record.scopes,
        }))
    }

    async fn hash(&self, secret: &str, stored: &str) -> Result<bool, ApiError> {
        self.verifier
            .verify(secret, stored)
            .await
            .map_err(|verifier::Busy| ApiError::Overloaded {
                message: "too many client authentications in progress; retry shortly".to_owned(),
                retry_after: BUSY_RETRY_AFTER,
            })
    }

    /// HTTP Basic credentials (`decoded`: the base64-decoded
    /// `client_id:secret`, split into its two parts): from the cache when
    /// verified recently, else verified (and cached when they are right).
    ///
    /// The cache is looked up with the SHA-256 of the decoded bytes, which
    /// is [`credentials_key`] of their id and secret: a hit costs one hash
    /// and one map lookup, and copies nothing.
    pub(super) async fn verify_basic(
        &self,
        db: &DatabaseConnection,
        decoded: &[u8],
        (client_id, secret): (&str, &str),
        source: Option<IpAddr>,
    ) -> Result<Option<Arc<Principal>>, ApiError> {
        let key: [u8; 32] = Sha256::digest(decoded).into();
        if !self.cache_ttl.is_zero()
            && let Some(principal) = self.verified_within(&key, self.cache_ttl)
        {
            return Ok(Some(principal));
        }
        // Boxed: the argon2 verification's future is kilobytes that every
        // request's future would otherwise carry (and copy) for a cache hit.
        Ok(Box::pin(self.verify_client(db, client_id, secret, source))
            .await?
            .map(Arc::new))
    }

    /// The principal of credentials verified successfully less than `age` ago.
    fn verified_within(&self, key: &[u8; 32], age: Duration) -> Option<Arc<Principal>> {
        let (principal, verified) = self.basic.get(key)?;
        (verified.elapsed() < age).then_some(principal)
    }

    fn remember(&self, key: [u8; 32], principal: &Principal) {
        self.basic
            .insert(key, (Arc::new(principal.clone()), Instant::now()));
    }

    fn forget(&self, key: &[u8; 32]) {
        self.basic.invalidate(key);
    }

    /// Whether `client_id` was revoked, from a list refreshed at most once
    /// per `auth_cache_seconds`.
    pub(super) async fn is_revoked(
        &self,
        db: &DatabaseConnection,
        client_id: &str,
    ) -> Result<bool, ApiError> {
        if let Some(answer) = self.cached_revocation(client_id) {
            return Ok(answer);
        }
        // Boxed, as in `verify_basic`: only a refresh awaits the database.
        Box::pin(self.refresh_revocations(db, client_id)).await
    }

    /// Reads the recent revocations (one refresh at a time) and answers
    /// whether `client_id` is among them.
    async fn refresh_revocations(
        &self,
        db: &DatabaseConnection,
        client_id: &str,
    ) -> Result<bool, ApiError> {
        let _refreshing = self.refresh.lock().await;
        if let Some(answer) = self.cached_revocation(client_id) {
            return Ok(answer);
        }
        // Older revocations have no unexpired token or cached Basic
        // verification left; the margin covers clock differences.
        let horizon = self.token_ttl + self.cache_ttl + Duration::from_secs(300);
        let since = chrono::Utc::now()
            - chrono::Duration::from_std(horizon).unwrap_or(chrono::Duration::days(1));
        let ids: HashSet<String> = clients::revoked_since(db, since)
            .await?
            .into_iter()
            .collect();
        let revoked = ids.contains(client_id);
        if let Ok(mut list) = self.revoked.write() {
            *list = Revocations {
                ids,
                refreshed: Some(Instant::now()),
            };
        }
        Ok(revoked)
    }

    fn cached_revocation(&self, client_id: &str) -> Option<bool> {
        let list = self.revoked.read().ok()?;
        let refreshed = list.refreshed?;
        (refreshed.elapsed() < self.cache_ttl).then(|| list.ids.contains(client_id))
    }
}

/// The hash of a cache key, which is a SHA-256 digest already: its first
/// eight bytes (no need to hash a hash; nobody picks a digest's bytes).
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        if let Some(head) = bytes.first_chunk::<8>() {
            self.0 ^= u64::from_le_bytes(*head);
        }
    }

    /// The array's length (always 32): nothing to mix in.
    fn write_usize(&mut self, _: usize) {}
}

/// The key of credentials in the caches: SHA-256 of `id:secret`.
pub(super) fn credentials_key(client_id: &str, secret: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(client_id.as_bytes())
        .chain_update(b":")
        .chain_update(secret.as_bytes())
        .finalize()
        .into()
}
