//! API 1 group routes under `/api/{tenantKey}/{orgKey}/identity/groups`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::body::read_json;
use super::{read_context, resource};
use crate::domain::{Email, EntityKey, NewGroup};
use crate::error::ApiError;
use crate::odata::{self, EntityKind};
use crate::startup::AppState;
use crate::storage::groups::{self, GroupChange};
use crate::tenancy::TenantScope;

/// The attributes `PUT groups/{groupKey}/{attr}` accepts.
pub const SETTABLE: &[&str] = &["groupKey", "name", "email", "notes", "isActive"];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/groups/odata").route(web::get().to(list)))
        .service(resource("/groups").route(web::post().to(create)))
        .service(
            resource("/groups/{group}")
                .route(web::get().to(get))
                .route(web::delete().to(delete)),
        )
        .service(resource("/groups/{group}/{attr}").route(web::put().to(put_attribute)));
}

async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
) -> Result<HttpResponse, ApiError> {
    super::page_response(&req, &state, &scope, EntityKind::Group).await
}

async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (_, _, group) = path.into_inner();
    // A GUID is looked up directly; a key is resolved to its id first.
    let id = match uuid::Uuid::try_parse(&group) {
        Ok(id) => id,
        Err(_) => groups::resolve(&state.db, &scope, &group)
            .await?
            .ok_or_else(|| groups::not_found(&group))?,
    };
    let ctx = read_context(&req, &state);
    let record = odata::get_by_id(
        &state.db,
        &scope,
        EntityKind::Group,
        id,
        req.query_string(),
        &ctx,
    )
    .await?
    .ok_or_else(|| groups::not_found(&group))?;
    Ok(HttpResponse::Ok().json(record))
}

async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json(&req, payload, state.settings.max_json_bytes).await?;
    let group = NewGroup::from_json(&body)?;
    let id = groups::create(&state.db, &scope, group).await?;
    Ok(super::created(&req, &state, &scope, "groups", id))
}

async fn delete(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (_, _, group) = path.into_inner();
    let id = groups::resolve(&state.db, &scope, &group)
        .await?
        .ok_or_else(|| groups::not_found(&group))?;
    if groups::delete(&state.db, &scope, id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(groups::not_found(&group))
    }
}

async fn put_attribute(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(String, String, String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (_, _, group, attr) = path.into_inner();
    if !SETTABLE.contains(&attr.as_str()) {
        return Err(ApiError::bad_request(
            format!(
                "'{attr}' is not a settable group attribute; expected one of: {}",
                SETTABLE.join(", ")
            ),
            Some(&attr),
        ));
    }
    let body = read_json(&req, payload, state.settings.max_json_bytes).await?;
    let change = group_change(&attr, &body)?;
    let id = groups::resolve(&state.db, &scope, &group)
        .await?
        .ok_or_else(|| groups::not_found(&group))?;
    groups::update(&state.db, &scope, id, change).await?;
    Ok(HttpResponse::Ok().finish())
}

fn group_change(attr: &str, body: &Value) -> Result<GroupChange, ApiError> {
    Ok(match attr {
        "groupKey" => {
            let key = body
                .as_str()
                .ok_or_else(|| ApiError::bad_request("groupKey must be a string", Some(attr)))?;
            GroupChange::GroupKey(EntityKey::parse(key, "groupKey")?)
        }
        "name" => GroupChange::Name(super::optional_text(body, attr, 255)?),
        "notes" => GroupChange::Notes(super::optional_text(
            body,
            attr,
            crate::domain::MAX_TEXT_CHARS,
        )?),
        "email" => match body {
            Value::Null => GroupChange::Email(None),
            Value::String(s) => GroupChange::Email(Some(Email::parse(s, "email")?)),
            _ => {
                return Err(ApiError::bad_request(
                    "email must be a string or null",
                    Some(attr),
                ));
            }
        },
        "isActive" => {
            GroupChange::IsActive(body.as_bool().ok_or_else(|| {
                ApiError::bad_request("isActive must be true or false", Some(attr))
            })?)
        }
        other => {
            return Err(ApiError::bad_request(
                format!("'{other}' is not a settable group attribute"),
                Some(other),
            ));
        }
    })
}
