//! The routes shared by roles and groups under
//! `/api/{tenantKey}/{orgKey}/identity/{set}`: list, create, read, delete,
//! and `PUT {set}/{key}/{attr}` for one attribute.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::body::read_json;
use super::resource;
use crate::domain::EntityKey;
use crate::error::ApiError;
use crate::etag::Precondition;
use crate::odata::EntityKind;
use crate::startup::AppState;
use crate::storage::catalog::{self, Catalog, Change};
use crate::tenancy::TenantScope;

/// What the routes of one catalog add to its storage: the path, the OData
/// entity set, and the parsing of bodies.
pub trait CatalogRoutes: Catalog {
    /// The path segment after `identity/`: `roles`.
    const SET: &'static str;
    /// The entity set its records are read from.
    const KIND: EntityKind;
    /// The attributes `PUT {set}/{key}/{attr}` accepts, the key among them.
    const SETTABLE: &'static [&'static str];

    /// Parses a `POST {set}` body.
    fn parse_new(body: &Value) -> Result<Self::New, ApiError>;

    /// Parses the body of `PUT {set}/{key}/{attr}` for an attribute other
    /// than the key.
    fn parse_attribute(attr: &str, body: &Value) -> Result<Self::Attribute, ApiError>;
}

/// Registers the routes of catalog `C`; the record segment is named after
/// its noun (`/roles/{role}`).
pub fn configure<C: CatalogRoutes>(cfg: &mut web::ServiceConfig) {
    let set = C::SET;
    let record = format!("/{set}/{{{}}}", C::NOUN);
    cfg.service(resource(&format!("/{set}/odata")).route(web::get().to(list::<C>)))
        .service(resource(&format!("/{set}")).route(web::post().to(create::<C>)))
        .service(
            resource(&record)
                .route(web::get().to(get::<C>))
                .route(web::delete().to(delete::<C>)),
        )
        .service(resource(&format!("{record}/{{attr}}")).route(web::put().to(put_attribute::<C>)));
}

/// The 400 of an attribute `PUT {set}/{key}/{attr}` does not accept.
pub fn not_settable<C: CatalogRoutes>(attr: &str) -> ApiError {
    ApiError::bad_request(
        format!(
            "'{attr}' is not a settable {} attribute; expected one of: {}",
            C::NOUN,
            C::SETTABLE.join(", ")
        ),
        Some(attr),
    )
}

/// The 400 of a boolean attribute whose body is not `true` or `false`.
pub fn boolean(attr: &str, body: &Value) -> Result<bool, ApiError> {
    body.as_bool()
        .ok_or_else(|| ApiError::bad_request(format!("{attr} must be true or false"), Some(attr)))
}

/// The id of the record `key_or_id` names; 404 when absent.
async fn require<C: Catalog>(
    state: &AppState,
    scope: &TenantScope,
    key_or_id: &str,
) -> Result<uuid::Uuid, ApiError> {
    catalog::resolve::<C>(&state.db, scope, key_or_id)
        .await?
        .ok_or_else(|| catalog::not_found::<C>(key_or_id))
}

async fn list<C: CatalogRoutes>(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
) -> Result<HttpResponse, ApiError> {
    super::page_response(&req, &state, &scope, C::KIND).await
}

async fn get<C: CatalogRoutes>(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (_, _, key) = path.into_inner();
    // A GUID is looked up directly; a key is resolved to its id first.
    let id = match uuid::Uuid::try_parse(&key) {
        Ok(id) => id,
        Err(_) => require::<C>(&state, &scope, &key).await?,
    };
    super::record_response(&req, &state, &scope, C::KIND, id, || {
        catalog::not_found::<C>(&key)
    })
    .await
}

async fn create<C: CatalogRoutes>(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json(&req, payload, state.settings.max_json_bytes).await?;
    let new = C::parse_new(&body)?;
    let id = catalog::create::<C>(&state.db, &scope, new).await?;
    Ok(super::created(&req, &state, &scope, C::SET, id))
}

async fn delete<C: CatalogRoutes>(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (_, _, key) = path.into_inner();
    let precondition = Precondition::from_request(&req)?;
    let id = require::<C>(&state, &scope, &key).await?;
    if catalog::delete::<C>(&state.db, &scope, id, &precondition).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(catalog::not_found::<C>(&key))
    }
}

async fn put_attribute<C: CatalogRoutes>(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(String, String, String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (_, _, key, attr) = path.into_inner();
    if !C::SETTABLE.contains(&attr.as_str()) {
        return Err(not_settable::<C>(&attr));
    }
    let precondition = Precondition::from_request(&req)?;
    let body = read_json(&req, payload, state.settings.max_json_bytes).await?;
    let change = parse_change::<C>(&attr, &body)?;
    let id = require::<C>(&state, &scope, &key).await?;
    let version = catalog::update::<C>(&state.db, &scope, id, vec![change], &precondition).await?;
    Ok(super::written(version))
}

/// The change of attribute `attr` (the key or another) a body asks for:
/// `PUT {set}/{key}/{attr}` and each property of a feed `PATCH`.
pub(crate) fn parse_change<C: CatalogRoutes>(
    attr: &str,
    body: &Value,
) -> Result<Change<C::Attribute>, ApiError> {
    if attr != C::KEY_ATTRIBUTE {
        return C::parse_attribute(attr, body).map(Change::Attribute);
    }
    let key = body
        .as_str()
        .ok_or_else(|| ApiError::bad_request(format!("{attr} must be a string"), Some(attr)))?;
    Ok(Change::Key(EntityKey::parse(key, C::KEY_ATTRIBUTE)?))
}
