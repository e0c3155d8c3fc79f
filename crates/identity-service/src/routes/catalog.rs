//! The routes shared by roles and groups under
//! `/api/{tenantKey}/{orgKey}/identity/{set}`: list, create, read, delete,
//! and `PUT {set}/{key}/{attr}` for one attribute.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::body::read_json;
use crate::domain::{Actor, EntityKey};
use crate::error::ApiError;
use crate::etag::Precondition;
use crate::odata::EntityKind;
use crate::state::AppState;
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

    /// Parses a `POST {set}` body (its DTO, converted with `TryFrom`).
    fn parse_new(body: Value) -> Result<Self::New, ApiError>;

    /// Parses the body of `PUT {set}/{key}/{attr}` for an attribute other
    /// than the key.
    fn parse_attribute(attr: &str, body: &Value) -> Result<Self::Attribute, ApiError>;
}

/// The documented routes of a catalog (`roles`, `groups`): in the module
/// that invokes it, one annotated handler per operation over the generic
/// handlers below, and `configure` registering them with their
/// operations; the record segment is named after the noun (`/roles/{role}`).
macro_rules! catalog_routes {
    (
        catalog = $catalog:ty, tag = $tag:literal, record = $record:ty, new = $new:ty,
        list_path = $list_path:literal, set_path = $set_path:literal,
        record_path = $record_path:literal, attribute_path = $attribute_path:literal,
        ids = [$list_id:literal, $get_id:literal, $create_id:literal, $delete_id:literal],
        attributes = [$(($attr:literal, $schema:expr)),* $(,)?] $(,)?
    ) => {
        use $crate::routes::dto::{
            AuthErrors, BadRequest, ConditionalRead, Conflict, IfMatch, NotFound,
            NotImplemented, NotModified, ODataOptions, Page, PreconditionFailed, RecordPath,
            TenantPath, UnsupportedMediaType,
        };
        use $crate::routes::openapi::{Documented, Variant, body as schema};

        /// Registers the routes with their operations.
        pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
            use $crate::routes::catalog::CatalogRoutes as _;
            let set = <$catalog>::SET;
            let record = format!("/{set}/{{{}}}", <$catalog as $crate::storage::catalog::Catalog>::NOUN);
            cfg.service(Documented::new(&format!("/{set}/odata")).route(actix_web::web::get().to(list), __path_list))
                .service(Documented::new(&format!("/{set}")).route(actix_web::web::post().to(create), __path_create))
                .service(
                    Documented::new(&record)
                        .route(actix_web::web::get().to(get), __path_get)
                        .route(actix_web::web::delete().to(delete), __path_delete),
                )
                .service(Documented::new(&format!("{record}/{{attr}}")).route_variants(
                    actix_web::web::put().to(put_attribute),
                    __path_put_attribute,
                    vec![$(Variant {
                        segments: vec![$attr],
                        operation_id: format!("set_{set}_{}", $attr),
                        body: Some($schema),
                    }),*],
                ));
        }

        #[utoipa::path(
            get, path = $list_path, tag = $tag, operation_id = $list_id,
            summary = "A page of records (OData query options)",
            params(TenantPath, ODataOptions),
            responses(
                (status = 200, description = "One page (at most 100 records)", body = Page<$record>),
                BadRequest, NotFound, NotImplemented, AuthErrors
            ),
            security(("bearerAuth" = []), ("clientCredentials" = ["identity.read"]))
        )]
        async fn list(
            req: actix_web::HttpRequest,
            state: actix_web::web::Data<$crate::state::AppState>,
            scope: $crate::tenancy::TenantScope,
        ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
            $crate::routes::catalog::list::<$catalog>(req, state, scope).await
        }

        #[utoipa::path(
            get, path = $record_path, tag = $tag, operation_id = $get_id,
            summary = "A record by id or key (`$select` applies)",
            params(TenantPath, RecordPath, ODataOptions, ConditionalRead),
            responses(
                (status = 200, description = "The record", body = $record,
                    headers(("ETag" = String, description = "The record's ETag: its version in quotes, e.g. \"3\""))),
                NotModified, BadRequest, NotFound, PreconditionFailed, NotImplemented, AuthErrors
            ),
            security(("bearerAuth" = []), ("clientCredentials" = ["identity.read"]))
        )]
        async fn get(
            req: actix_web::HttpRequest,
            state: actix_web::web::Data<$crate::state::AppState>,
            scope: $crate::tenancy::TenantScope,
            path: actix_web::web::Path<(String, String, String)>,
        ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
            $crate::routes::catalog::get::<$catalog>(req, state, scope, path).await
        }

        #[utoipa::path(
            post, path = $set_path, tag = $tag, operation_id = $create_id,
            summary = "Create a record",
            params(TenantPath),
            request_body(content = $new, description = "The record"),
            responses(
                (status = 201, description = "Created; `Location` is the absolute URL of the record; the body is its id",
                    body = uuid::Uuid,
                    headers(("Location" = String, description = "The record's URL"), ("ETag" = String, description = "The record's first ETag, \"1\""))),
                BadRequest, NotFound, Conflict, UnsupportedMediaType, AuthErrors
            ),
            security(("bearerAuth" = []), ("clientCredentials" = ["identity.write"]))
        )]
        async fn create(
            req: actix_web::HttpRequest,
            state: actix_web::web::Data<$crate::state::AppState>,
            scope: $crate::tenancy::TenantScope,
            actor: $crate::domain::Actor,
            payload: actix_web::web::Payload,
        ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
            $crate::routes::catalog::create::<$catalog>(req, state, scope, actor, payload).await
        }

        #[utoipa::path(
            delete, path = $record_path, tag = $tag, operation_id = $delete_id,
            summary = "Delete a record and its memberships",
            params(TenantPath, RecordPath, IfMatch),
            responses((status = 204, description = "Deleted"), NotFound, PreconditionFailed, AuthErrors),
            security(("bearerAuth" = []), ("clientCredentials" = ["identity.write"]))
        )]
        async fn delete(
            req: actix_web::HttpRequest,
            state: actix_web::web::Data<$crate::state::AppState>,
            scope: $crate::tenancy::TenantScope,
            actor: $crate::domain::Actor,
            path: actix_web::web::Path<(String, String, String)>,
        ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
            $crate::routes::catalog::delete::<$catalog>(req, state, scope, actor, path).await
        }

        #[utoipa::path(
            put, path = $attribute_path, tag = $tag,
            summary = "Set one attribute",
            params(TenantPath, RecordPath, IfMatch),
            request_body(content = String, content_type = "application/json", description = "The new value as a bare JSON value"),
            responses(
                (status = 200, description = "Done; the body is empty",
                    headers(("ETag" = String, description = "The record's ETag: its version in quotes, e.g. \"3\""))),
                BadRequest, NotFound, PreconditionFailed, Conflict, UnsupportedMediaType, AuthErrors
            ),
            security(("bearerAuth" = []), ("clientCredentials" = ["identity.write"]))
        )]
        async fn put_attribute(
            req: actix_web::HttpRequest,
            state: actix_web::web::Data<$crate::state::AppState>,
            scope: $crate::tenancy::TenantScope,
            actor: $crate::domain::Actor,
            path: actix_web::web::Path<(String, String, String, String)>,
            payload: actix_web::web::Payload,
        ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
            $crate::routes::catalog::put_attribute::<$catalog>(req, state, scope, actor, path, payload).await
        }
    };
}
pub(crate) use catalog_routes;

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
    require_for::<C>(state, scope, key_or_id, &Precondition::default()).await
}

/// [`require`] for a write under `precondition`: absent is 412 with
/// `If-Match` ([`Precondition::absent`]).
async fn require_for<C: Catalog>(
    state: &AppState,
    scope: &TenantScope,
    key_or_id: &str,
    precondition: &Precondition,
) -> Result<uuid::Uuid, ApiError> {
    catalog::resolve::<C>(&state.db, scope, key_or_id)
        .await?
        .ok_or_else(|| precondition.absent(catalog::not_found::<C>(key_or_id)))
}

pub(super) async fn list<C: CatalogRoutes>(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
) -> Result<HttpResponse, ApiError> {
    super::page_response(&req, &state, &scope, C::KIND).await
}

pub(super) async fn get<C: CatalogRoutes>(
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

pub(super) async fn create<C: CatalogRoutes>(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    actor: Actor,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json(&req, payload, state.settings.max_json_bytes).await?;
    let new = C::parse_new(body)?;
    let id = catalog::create::<C>(&state.db, &scope, &actor, new).await?;
    Ok(super::created(&req, &state, &scope, C::SET, id))
}

pub(super) async fn delete<C: CatalogRoutes>(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    actor: Actor,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (_, _, key) = path.into_inner();
    let precondition = Precondition::from_request(&req)?;
    let id = require_for::<C>(&state, &scope, &key, &precondition).await?;
    if catalog::delete::<C>(&state.db, &scope, &actor, id, &precondition).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(catalog::not_found::<C>(&key))
    }
}

pub(super) async fn put_attribute<C: CatalogRoutes>(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    actor: Actor,
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
    let id = require_for::<C>(&state, &scope, &key, &precondition).await?;
    let version =
        catalog::update::<C>(&state.db, &scope, &actor, id, vec![change], &precondition).await?;
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
