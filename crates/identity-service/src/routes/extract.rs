//! The tenant extractor: the one place a request becomes a [`TenantScope`].
//! Authentication runs before it, in the guard middleware of the `/api`
//! scopes ([`crate::auth::guard`]): a handler that gets a scope was called
//! by a client of that very tenant+org with the scope its method needs.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use crate::error::ApiError;
use crate::startup::AppState;
use crate::storage::tenants;
use crate::tenancy::TenantScope;

impl FromRequest for TenantScope {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<TenantScope, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let tenant = req.match_info().get("tenantKey").map(str::to_owned);
        let org = req.match_info().get("orgKey").map(str::to_owned);
        Box::pin(async move {
            let (Some(state), Some(tenant), Some(org)) = (state, tenant, org) else {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "TenantScope extracted outside a /api/{{tenantKey}}/{{orgKey}} route"
                )));
            };
            resolve(&state, &tenant, &org).await
        })
    }
}

/// Looks the pair up (case-insensitively); found pairs are cached, since
/// tenants are never deleted or renamed.
pub async fn resolve(state: &AppState, tenant: &str, org: &str) -> Result<TenantScope, ApiError> {
    let cache_key = (tenant.to_lowercase(), org.to_lowercase());
    if let Some(scope) = state.cached_tenant(&cache_key) {
        return Ok(scope);
    }
    match tenants::find(&state.db, tenant, org).await? {
        Some(scope) => {
            state.cache_tenant(cache_key, scope.clone());
            Ok(scope)
        }
        None => Err(ApiError::TenantNotFound {
            tenant: tenant.to_owned(),
            org: org.to_owned(),
        }),
    }
}
