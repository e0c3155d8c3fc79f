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
//! The state it consults (tokens, caches, throttles) is [`AuthState`]
//! (`auth/state.rs`).

use std::sync::Arc;

use actix_web::HttpMessage;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::web;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::jwt::TokenError;
pub use super::state::{AuthState, KNOWN_CREDENTIALS};
use super::{Principal, REALM, Scope};
use crate::error::ApiError;
use crate::state::AppState;

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
    let mut response = guard(req, next, Accepts::BearerOrBasic).await;
    // Every answer of the feed, errors of the guard included, carries
    // `OData-Version` (done here rather than by a middleware layer of its
    // own around every feed request).
    if let Ok(response) = &mut response {
        crate::http::mark_odata_version(response.headers_mut());
    }
    response
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
                let admitted = req
                    .app_data::<web::Data<AppState>>()
                    .map(|s| s.read_gate.admit(&principal));
                match admitted.transpose() {
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
enum Credentials<'a> {
    /// The token of `Bearer <token>`.
    Bearer(&'a str),
    /// The base64-decoded `client_id:secret` of `Basic <base64>` (split,
    /// and refused when it is not one, by [`Decoded::parts`]).
    Basic(Decoded),
}

/// Base64-decoded Basic credentials: on the stack when they are short, as
/// they almost always are.
enum Decoded {
    Inline([u8; 192], usize),
    Heap(Vec<u8>),
}

impl Decoded {
    fn of(base64: &str) -> Option<Decoded> {
        let mut buf = [0u8; 192];
        if base64::decoded_len_estimate(base64.len()) <= buf.len() {
            let n = STANDARD.decode_slice(base64, &mut buf).ok()?;
            Some(Decoded::Inline(buf, n))
        } else {
            STANDARD.decode(base64).ok().map(Decoded::Heap)
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Decoded::Inline(buf, n) => &buf[..*n],
            Decoded::Heap(v) => v,
        }
    }

    /// The client id and the secret, borrowed; `None` unless the bytes are
    /// UTF-8 `client_id:secret` with a non-empty id.
    fn parts(&self) -> Option<(&str, &str)> {
        std::str::from_utf8(self.bytes())
            .ok()?
            .split_once(':')
            .filter(|(id, _)| !id.is_empty())
    }
}

fn credentials(req: &ServiceRequest, accepts: Accepts) -> Result<Credentials<'_>, ApiError> {
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
        return Ok(Credentials::Bearer(rest));
    }
    if scheme.eq_ignore_ascii_case("basic") && accepts == Accepts::BearerOrBasic {
        return match Decoded::of(rest) {
            Some(decoded) => Ok(Credentials::Basic(decoded)),
            None => Err(malformed_basic(accepts)),
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

/// The 401 of HTTP Basic credentials that are not base64 of
/// `client_id:secret`.
fn malformed_basic(accepts: Accepts) -> ApiError {
    ApiError::Unauthorized {
        message: "malformed HTTP Basic credentials (expected base64 of client_id:client_secret)"
            .to_owned(),
        challenges: accepts.challenges(None),
    }
}

async fn authorize(req: &ServiceRequest, accepts: Accepts) -> Result<Arc<Principal>, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no AppState")))?;
    let auth = &state.auth;
    let principal = match credentials(req, accepts)? {
        Credentials::Bearer(token) => {
            Arc::new(
                auth.keys
                    .verify(token)
                    .map_err(|error| ApiError::Unauthorized {
                        message: error.to_string(),
                        challenges: accepts.challenges(Some(&error)),
                    })?,
            )
        }
        Credentials::Basic(decoded) => auth
            .verify_basic(
                &state.db,
                decoded.bytes(),
                decoded.parts().ok_or_else(|| malformed_basic(accepts))?,
                req.peer_addr().map(|peer| peer.ip()),
            )
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
    let tenant = req.match_info().get("tenantKey").unwrap_or("");
    let org = req.match_info().get("orgKey").unwrap_or("");
    // A feed `$batch` needs only the read scope: each of its requests is
    // admitted on its own (`admit`), writes with the write scope.
    let method = if crate::http::is_batch_path(req.path()) && *req.method() == Method::POST {
        Method::GET
    } else {
        req.method().clone()
    };
    admit(state, &principal, &method, req.path(), tenant, org)?;
    Ok(principal)
}

/// What every request of an authenticated client passes, alone or inside
/// a feed `$batch`: one request off the client's rate limit (429), the
/// tenant+org of the path must be the client's (403), the method's scope
/// must be granted (403, `insufficient_scope`).
pub fn admit(
    state: &AppState,
    principal: &Principal,
    method: &Method,
    path: &str,
    tenant: &str,
    org: &str,
) -> Result<(), ApiError> {
    if let Err(retry_after) = state.auth.limiter.check(&principal.client_id) {
        return Err(ApiError::TooManyRequests {
            message: format!(
                "rate limit of {} requests per minute exceeded; retry in {retry_after} s",
                state.settings.rate_limit_per_minute
            ),
            retry_after,
        });
    }
    if !principal.matches_tenant(tenant, org) {
        return Err(ApiError::Forbidden {
            message: format!("the client may not access tenant '{tenant}' organization '{org}'"),
            challenge: None,
        });
    }
    let needed = required_scope(method, path);
    if !principal.scopes.contains(needed) {
        return Err(ApiError::Forbidden {
            message: format!(
                "insufficient scope: {method} {path} needs '{}'",
                needed.as_str()
            ),
            challenge: Some(format!(
                "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{}\"",
                needed.as_str()
            )),
        });
    }
    Ok(())
}

/// The scope a request needs: `identity.admin` for the diagnostics under
/// `/api/{t}/{o}/explain/` (whatever the method), else the method's scope
/// (`/validate/` is a read).
pub fn required_scope(method: &Method, path: &str) -> Scope {
    if path.split('/').nth(4) == Some(crate::http::EXPLAIN) {
        Scope::Admin
    } else {
        Scope::for_method(method)
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::super::state::credentials_key;
    use super::*;

    #[test]
    fn basic_credentials_split_into_id_and_secret_or_are_malformed() {
        let of = |text: &str| Decoded::of(&STANDARD.encode(text)).expect("valid base64");
        assert_eq!(of("id:se:cret").parts(), Some(("id", "se:cret")));
        assert_eq!(of("id:").parts(), Some(("id", "")));
        assert_eq!(of("no colon").parts(), None);
        assert_eq!(of(":secret").parts(), None);
        assert!(
            Decoded::of(&STANDARD.encode([b'a', b':', 0xff])).is_some_and(|d| d.parts().is_none())
        );
        assert!(Decoded::of("not base64!").is_none());
        // Longer than the stack buffer: decoded on the heap, same answer.
        let long = format!("client:{}", "s".repeat(400));
        let decoded = of(&long);
        assert!(matches!(decoded, Decoded::Heap(_)));
        assert_eq!(decoded.parts(), Some(("client", &long[7..])));
        // The cache key of the decoded bytes is the key of id and secret.
        let key: [u8; 32] = Sha256::digest(of("id:se:cret").bytes()).into();
        assert_eq!(key, credentials_key("id", "se:cret"));
    }

    #[test]
    fn explain_needs_the_admin_scope() {
        assert_eq!(
            required_scope(&Method::GET, "/api/t/o/explain/Users"),
            Scope::Admin
        );
        assert_eq!(
            required_scope(&Method::GET, "/api/t/o/validate/Users"),
            Scope::Read
        );
        assert_eq!(
            required_scope(&Method::GET, "/api/t/o/identity/users/explain"),
            Scope::Read
        );
        assert_eq!(
            required_scope(&Method::POST, "/api/t/o/identity/users"),
            Scope::Write
        );
    }

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
