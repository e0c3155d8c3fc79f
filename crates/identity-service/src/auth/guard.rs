//! The authentication guard of every `/api/{tenantKey}/{orgKey}` route.
//!
//! In order: credentials (`Authorization: Bearer <access token>`; on the v4
//! feed also `Basic <client id:secret>`), else 401 with `WWW-Authenticate`;
//! the client must not be revoked (401); one request off the client's rate
//! limit (429 with `Retry-After`); the tenant+org of the path must be the
//! client's, compared case-insensitively (403, whether or not that tenant
//! exists); the method's scope must be granted (403, `insufficient_scope`).
//! Only then does the request reach routing and the handlers, which find
//! the [`Principal`] in the request extensions.
//!
//! Exempt: `POST .../identity/invitations/{token}/accept` (the mailed
//! token is the credential). Everything outside `/api` (`/health`,
//! `/ready`, `/metrics`, `/openapi.json`, `/docs`, `/connect/token`) never
//! passes through the guard.
//!
//! Per-instance caches, both bounded in time by `auth_cache_seconds` (0
//! turns both off):
//! - the list of recently revoked clients, read from the database at most
//!   once per period, so a revocation reaches every instance within it;
//! - successful HTTP Basic verifications (argon2 costs tens of
//!   milliseconds, far too much per request), keyed by a SHA-256 of the
//!   credentials; failures are never cached.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use actix_web::HttpMessage;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::web;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};

use super::jwt::{TokenError, TokenKeys};
use super::rate_limit::RateLimiter;
use super::{Principal, REALM, Scope, secrets};
use crate::configuration::Settings;
use crate::error::ApiError;
use crate::startup::AppState;
use crate::storage::clients;

/// Cached Basic verifications kept before expired ones are dropped.
const BASIC_CACHE_PRUNE_ABOVE: usize = 10_000;

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
    basic: Mutex<HashMap<[u8; 32], (Principal, Instant)>>,
    /// Bounds concurrent argon2 verifications (19 MiB each) to the number of
    /// cores: when a cached Basic login expires under load, every request in
    /// flight would otherwise hash at once on its own blocking thread, and
    /// the allocator kept that memory (the server benchmark's RSS grew to
    /// 1.4 GiB with 16 connections).
    hashing: tokio::sync::Semaphore,
}

#[derive(Default)]
struct Revocations {
    ids: HashSet<String>,
    refreshed: Option<Instant>,
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
            basic: Mutex::new(HashMap::new()),
            hashing: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, usize::from),
            ),
        }
    }

    /// Lifetime of the access tokens this instance issues, in seconds.
    pub fn token_ttl_seconds(&self) -> u64 {
        self.token_ttl.as_secs()
    }

    /// Verifies a client id and secret against the database (argon2 on the
    /// blocking pool): the client's principal with every scope it was
    /// granted, or `None` for an unknown or revoked client or a wrong secret.
    pub async fn verify_client(
        &self,
        db: &DatabaseConnection,
        client_id: &str,
        secret: &str,
    ) -> Result<Option<Principal>, ApiError> {
        let _permit = self.hashing.acquire().await.map_err(ApiError::internal)?;
        self.verify_client_now(db, client_id, secret).await
    }

    /// [`Self::verify_client`] for a caller that holds a hashing permit.
    async fn verify_client_now(
        &self,
        db: &DatabaseConnection,
        client_id: &str,
        secret: &str,
    ) -> Result<Option<Principal>, ApiError> {
        let found = clients::find(db, client_id).await?;
        let secret = secret.to_owned();
        let Some(client) = found.filter(|c| c.record.revoked_on.is_none()) else {
            web::block(move || secrets::verify_nothing(&secret))
                .await
                .map_err(ApiError::internal)?;
            return Ok(None);
        };
        let hash = client.secret_hash.clone();
        let matches = web::block(move || secrets::verify_secret(&secret, &hash))
            .await
            .map_err(ApiError::internal)?;
        Ok(matches.then_some(Principal {
            client_id: client.record.client_id,
            tenant_key: client.record.tenant_key,
            org_key: client.record.org_key,
            scopes: client.record.scopes,
        }))
    }

    /// HTTP Basic credentials: from the cache when verified recently, else
    /// verified (and cached when they are right).
    async fn verify_basic(
        &self,
        db: &DatabaseConnection,
        client_id: &str,
        secret: &str,
    ) -> Result<Option<Principal>, ApiError> {
        let key: [u8; 32] = Sha256::new()
            .chain_update(client_id.as_bytes())
            .chain_update(b":")
            .chain_update(secret.as_bytes())
            .finalize()
            .into();
        if let Some(principal) = self.cached_basic(&key) {
            return Ok(Some(principal));
        }
        let _permit = self.hashing.acquire().await.map_err(ApiError::internal)?;
        // The same credentials may have been verified while this request
        // waited for the permit: then they are not hashed again.
        if let Some(principal) = self.cached_basic(&key) {
            return Ok(Some(principal));
        }
        let verified = self.verify_client_now(db, client_id, secret).await?;
        let now = Instant::now();
        if let Some(principal) = &verified
            && !self.cache_ttl.is_zero()
            && let Ok(mut cache) = self.basic.lock()
        {
            if cache.len() > BASIC_CACHE_PRUNE_ABOVE {
                cache.retain(|_, (_, expires)| *expires > now);
            }
            cache.insert(key, (principal.clone(), now + self.cache_ttl));
        }
        Ok(verified)
    }

    /// The principal of Basic credentials verified less than
    /// `auth_cache_seconds` ago.
    fn cached_basic(&self, key: &[u8; 32]) -> Option<Principal> {
        let cache = self.basic.lock().ok()?;
        let (principal, expires) = cache.get(key)?;
        (*expires > Instant::now()).then(|| principal.clone())
    }

    /// Whether `client_id` was revoked, from a list refreshed at most once
    /// per `auth_cache_seconds`.
    async fn is_revoked(&self, db: &DatabaseConnection, client_id: &str) -> Result<bool, ApiError> {
        if let Some(answer) = self.cached_revocation(client_id) {
            return Ok(answer);
        }
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

/// Which credentials a guarded scope accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accepts {
    /// Bearer tokens only (API 1).
    Bearer,
    /// Bearer tokens and HTTP Basic client credentials (the v4 feed).
    BearerOrBasic,
}

impl Accepts {
    /// The challenges of a 401.
    fn challenges(self, error: Option<&TokenError>) -> Vec<String> {
        let bearer = match error {
            Some(e) => format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{e}\""
            ),
            None => format!("Bearer realm=\"{REALM}\""),
        };
        match self {
            Accepts::Bearer => vec![bearer],
            Accepts::BearerOrBasic => {
                vec![
                    bearer,
                    format!("Basic realm=\"{REALM}\", charset=\"UTF-8\""),
                ]
            }
        }
    }
}

/// Middleware of API 1 (`/api/{tenantKey}/{orgKey}/identity`): Bearer tokens.
pub async fn api_guard<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    if is_invitation_accept(req.path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    guard(req, next, Accepts::Bearer).await
}

/// Middleware of the v4 feed (`/api/{tenantKey}/{orgKey}/odata`): Bearer
/// tokens or HTTP Basic client credentials (BI tools).
pub async fn feed_guard<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    guard(req, next, Accepts::BearerOrBasic).await
}

async fn guard<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
    accepts: Accepts,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    match authorize(&req, accepts).await {
        Ok(principal) => {
            // Reads in flight per client and tenant (crate::fair), held
            // until the handler has answered.
            let _read = if matches!(*req.method(), Method::GET | Method::HEAD) {
                let gate = req
                    .app_data::<web::Data<AppState>>()
                    .map(|s| s.read_gate.clone());
                match gate.map(|g| g.admit(&principal)).transpose() {
                    Ok(permit) => permit,
                    Err(err) => return Ok(req.error_response(err).map_into_right_body()),
                }
            } else {
                None
            };
            req.extensions_mut().insert(principal);
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        Err(err) => Ok(req.error_response(err).map_into_right_body()),
    }
}

/// `/api/{t}/{o}/identity/invitations/{token}/accept` (canonical spelling,
/// as the path middleware leaves it).
fn is_invitation_accept(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    segments.len() == 8
        && segments[1] == "api"
        && segments[4] == "identity"
        && segments[5] == "invitations"
        && segments[7] == "accept"
}

/// Credentials as sent.
enum Credentials {
    Bearer(String),
    Basic { client_id: String, secret: String },
}

fn credentials(req: &ServiceRequest, accepts: Accepts) -> Result<Credentials, ApiError> {
    let unauthorized = |message: &str, error: Option<&TokenError>| ApiError::Unauthorized {
        message: message.to_owned(),
        challenges: accepts.challenges(error),
    };
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err(unauthorized(
            match accepts {
                Accepts::Bearer => {
                    "authentication required: send Authorization: Bearer <token> (POST /connect/token issues one)"
                }
                Accepts::BearerOrBasic => {
                    "authentication required: send Authorization: Bearer <token> or HTTP Basic with a client id and secret"
                }
            },
            None,
        ));
    };
    let value = value.to_str().unwrap_or("");
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        return Ok(Credentials::Bearer(rest.to_owned()));
    }
    if scheme.eq_ignore_ascii_case("basic") && accepts == Accepts::BearerOrBasic {
        let decoded = STANDARD
            .decode(rest)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        return match decoded.as_deref().and_then(|s| s.split_once(':')) {
            Some((id, secret)) if !id.is_empty() => Ok(Credentials::Basic {
                client_id: id.to_owned(),
                secret: secret.to_owned(),
            }),
            _ => Err(unauthorized(
                "malformed HTTP Basic credentials (expected base64 of client_id:client_secret)",
                None,
            )),
        };
    }
    Err(unauthorized(
        match accepts {
            Accepts::Bearer => "unsupported Authorization scheme: this API takes Bearer tokens",
            Accepts::BearerOrBasic => {
                "unsupported Authorization scheme: the feed takes Bearer tokens or HTTP Basic"
            }
        },
        Some(&TokenError::Invalid),
    ))
}

async fn authorize(req: &ServiceRequest, accepts: Accepts) -> Result<Principal, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no AppState")))?;
    let auth = &state.auth;
    let principal = match credentials(req, accepts)? {
        Credentials::Bearer(token) => {
            auth.keys
                .verify(&token)
                .map_err(|error| ApiError::Unauthorized {
                    message: error.to_string(),
                    challenges: accepts.challenges(Some(&error)),
                })?
        }
        Credentials::Basic { client_id, secret } => auth
            .verify_basic(&state.db, &client_id, &secret)
            .await?
            .ok_or_else(|| ApiError::Unauthorized {
                message: "invalid client credentials".to_owned(),
                challenges: accepts.challenges(None),
            })?,
    };
    if auth.is_revoked(&state.db, &principal.client_id).await? {
        return Err(ApiError::Unauthorized {
            message: "the client has been revoked".to_owned(),
            challenges: accepts.challenges(Some(&TokenError::Invalid)),
        });
    }
    if let Err(retry_after) = auth.limiter.check(&principal.client_id) {
        return Err(ApiError::TooManyRequests {
            message: format!(
                "rate limit of {} requests per minute exceeded; retry in {retry_after} s",
                state.settings.rate_limit_per_minute
            ),
            retry_after,
        });
    }
    let tenant = req.match_info().get("tenantKey").unwrap_or("");
    let org = req.match_info().get("orgKey").unwrap_or("");
    if !principal.matches_tenant(tenant, org) {
        return Err(ApiError::Forbidden {
            message: format!("the client may not access tenant '{tenant}' organization '{org}'"),
            challenge: None,
        });
    }
    let needed = Scope::for_method(req.method());
    if !principal.scopes.contains(needed) {
        return Err(ApiError::Forbidden {
            message: format!(
                "insufficient scope: {} {} needs '{}'",
                req.method(),
                req.path(),
                needed.as_str()
            ),
            challenge: Some(format!(
                "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{}\"",
                needed.as_str()
            )),
        });
    }
    Ok(principal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_accept_route_is_exempt() {
        assert!(is_invitation_accept(
            "/api/acme/main/identity/invitations/abc/accept"
        ));
        assert!(!is_invitation_accept("/api/acme/main/identity/users/abc"));
        assert!(!is_invitation_accept(
            "/api/acme/main/identity/invitations/abc/accept/x"
        ));
        assert!(!is_invitation_accept(
            "/api/acme/main/identity/users/invitations/accept"
        ));
    }
}
