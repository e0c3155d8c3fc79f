//! The tenant extractor: the one place a request becomes a [`TenantScope`].
//! Authentication runs before it, in the guard middleware of the `/api`
//! scopes ([`crate::auth::guard`]): a handler that gets a scope was called
//! by a client of that very tenant+org with the scope its method needs.

use std::borrow::Cow;
use std::future::{Future, Ready, ready};
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures_util::future::Either;

use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::tenants;
use crate::tenancy::TenantScope;

impl FromRequest for TenantScope {
    type Error = ApiError;
    type Future = Either<
        Ready<Result<TenantScope, ApiError>>,
        Pin<Box<dyn Future<Output = Result<TenantScope, ApiError>>>>,
    >;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>();
        let (Some(state), Some(tenant), Some(org)) = (
            state,
            req.match_info().get("tenantKey"),
            req.match_info().get("orgKey"),
        ) else {
            return Either::Left(ready(Err(ApiError::internal(anyhow::anyhow!(
                "TenantScope extracted outside a /api/{{tenantKey}}/{{orgKey}} route"
            )))));
        };
        // A known pair (nearly every request) answers at once.
        if let Some(scope) = state.cached_tenant(&lowercase(tenant), &lowercase(org)) {
            return Either::Left(ready(Ok(scope)));
        }
        let state = state.clone();
        let (tenant, org) = (tenant.to_owned(), org.to_owned());
        Either::Right(Box::pin(
            async move { resolve(&state, &tenant, &org).await },
        ))
    }
}

/// `key.to_lowercase()`, borrowed when it is lowercase already.
fn lowercase(key: &str) -> Cow<'_, str> {
    if key.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        Cow::Borrowed(key)
    } else {
        Cow::Owned(key.to_lowercase())
    }
}

/// Looks the pair up (case-insensitively); found pairs are cached, since
/// tenants are never deleted or renamed.
pub async fn resolve(state: &AppState, tenant: &str, org: &str) -> Result<TenantScope, ApiError> {
    let (tenant_norm, org_norm) = (lowercase(tenant), lowercase(org));
    if let Some(scope) = state.cached_tenant(&tenant_norm, &org_norm) {
        return Ok(scope);
    }
    match tenants::find(&state.db, tenant, org).await? {
        Some(scope) => {
            state.cache_tenant(&tenant_norm, &org_norm, scope.clone());
            Ok(scope)
        }
        None => Err(ApiError::TenantNotFound {
            tenant: tenant.to_owned(),
            org: org.to_owned(),
        }),
    }
}

/// The author of a write: the client the guard let through
/// ([`crate::http::actor`]).
impl FromRequest for crate::domain::Actor {
    type Error = ApiError;
    type Future = Ready<Result<crate::domain::Actor, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(crate::http::actor(req))
    }
}
