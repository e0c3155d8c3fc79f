//! API 1 role routes under `/api/{tenantKey}/{orgKey}/identity/roles`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::body::read_json;
use super::{read_context, resource};
use crate::domain::{EntityKey, NewRole};
use crate::error::ApiError;
use crate::odata::{self, EntityKind};
use crate::startup::AppState;
use crate::storage::roles::{self, RoleChange};
use crate::tenancy::TenantScope;

/// The attributes `PUT roles/{roleKey}/{attr}` accepts.
pub const SETTABLE: &[&str] = &[
    "roleKey",
    "description",
    "isAdministration",
    "isDefault",
    "isInternal",
    "isActive",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/roles/odata").route(web::get().to(list)))
        .service(resource("/roles").route(web::post().to(create)))
        .service(
            resource("/roles/{role}")
                .route(web::get().to(get))
                .route(web::delete().to(delete)),
        )
        .service(resource("/roles/{role}/{attr}").route(web::put().to(put_attribute)));
}

async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
) -> Result<HttpResponse, ApiError> {
    super::page_response(&req, &state, &scope, EntityKind::Role).await
}

async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (_, _, role) = path.into_inner();
    // A GUID is looked up directly; a key is resolved to its id first.
    let id = match uuid::Uuid::try_parse(&role) {
        Ok(id) => id,
        Err(_) => roles::resolve(&state.db, &scope, &role)
            .await?
            .ok_or_else(|| roles::not_found(&role))?,
    };
    let ctx = read_context(&req, &state);
    let record = odata::get_by_id(
        &state.db,
        &scope,
        EntityKind::Role,
        id,
        req.query_string(),
        &ctx,
    )
    .await?
    .ok_or_else(|| roles::not_found(&role))?;
    Ok(HttpResponse::Ok().json(record))
}

async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json(&req, payload, state.settings.max_json_bytes).await?;
    let role = NewRole::from_json(&body)?;
    let id = roles::create(&state.db, &scope, role).await?;
    Ok(super::created(&req, &state, &scope, "roles", id))
}

async fn delete(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (_, _, role) = path.into_inner();
    let id = roles::resolve(&state.db, &scope, &role)
        .await?
        .ok_or_else(|| roles::not_found(&role))?;
    if roles::delete(&state.db, &scope, id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(roles::not_found(&role))
    }
}

async fn put_attribute(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(String, String, String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (_, _, role, attr) = path.into_inner();
    if !SETTABLE.contains(&attr.as_str()) {
        return Err(ApiError::bad_request(
            format!(
                "'{attr}' is not a settable role attribute; expected one of: {}",
                SETTABLE.join(", ")
            ),
            Some(&attr),
        ));
    }
    let body = read_json(&req, payload, state.settings.max_json_bytes).await?;
    let change = role_change(&attr, &body)?;
    let id = roles::resolve(&state.db, &scope, &role)
        .await?
        .ok_or_else(|| roles::not_found(&role))?;
    roles::update(&state.db, &scope, id, change).await?;
    Ok(HttpResponse::Ok().finish())
}

fn role_change(attr: &str, body: &Value) -> Result<RoleChange, ApiError> {
    let boolean = || {
        body.as_bool().ok_or_else(|| {
            ApiError::bad_request(format!("{attr} must be true or false"), Some(attr))
        })
    };
    Ok(match attr {
        "roleKey" => {
            let key = body
                .as_str()
                .ok_or_else(|| ApiError::bad_request("roleKey must be a string", Some(attr)))?;
            RoleChange::RoleKey(EntityKey::parse(key, "roleKey")?)
        }
        "description" => RoleChange::Description(super::optional_text(
            body,
            attr,
            crate::domain::MAX_TEXT_CHARS,
        )?),
        "isAdministration" => RoleChange::IsAdministration(boolean()?),
        "isDefault" => RoleChange::IsDefault(boolean()?),
        "isInternal" => RoleChange::IsInternal(boolean()?),
        "isActive" => RoleChange::IsActive(boolean()?),
        other => {
            return Err(ApiError::bad_request(
                format!("'{other}' is not a settable role attribute"),
                Some(other),
            ));
        }
    })
}
