//! The feed's resources: service document, `$metadata`, entity sets,
//! single entities, navigation, `$count`, properties and `$value`.
//!
//! The resource path after the service root is resolved by
//! [`super::paths`] and dispatched here; every record comes from the read
//! path.

use actix_web::http::header::{self};
use actix_web::{HttpRequest, HttpResponse, web};
use odata_parser::ast::{QueryOptions, ResourceSegment};
use odata_sql::Schema;
use serde_json::{Value as Json, json};

pub(super) use super::answers::{Tracking, entity_not_found, no_set, single, tracked_page};
use super::answers::{collection, entity, property_value, related, related_entity};
use super::capabilities;
use super::metadata::{csdl_json, csdl_xml};
use super::paths::{Target, resolve, resource_path};
use super::prefer::{self, percent_decode};
pub(super) use super::request::{
    Feed, feed_context, kind_of, present_options, push_member, reject_options,
};
use crate::error::ApiError;
use crate::odata::schema::identity_schema;
use crate::odata::{self, ReadContext};
use crate::routes::resource;
use crate::state::AppState;
use crate::tenancy::TenantScope;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    // Every path below the root goes to the scope's default service rather
    // than to a `/{tail:.*}` resource, whose regex match cost a tenth of
    // the instructions of a key lookup.
    cfg.service(resource("").route(web::get().to(dispatch)))
        .default_service(web::to(below_root));
}

/// A path below the service root: `POST $batch` ([`super::batch`]); GET
/// reads; POST, PATCH, PUT and DELETE
/// write ([`super::writes`]).
async fn below_root(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    use actix_web::http::Method;
    // Each branch's future is boxed: this handler's own future stays small,
    // and actix-web moves it (a memcpy of its whole size) when it boxes it.
    if super::batch::is_batch(&req) {
        // `$batch` is POST only.
        return match *req.method() {
            Method::POST => Box::pin(super::batch::batch(req, state, scope, payload)).await,
            _ => Err(ApiError::MethodNotAllowed {
                method: req.method().to_string(),
            }),
        };
    }
    match *req.method() {
        Method::GET => Box::pin(dispatch(req, state, scope)).await,
        Method::POST | Method::PATCH | Method::PUT | Method::DELETE => {
            let actor = crate::http::actor(&req)?;
            Box::pin(super::writes::write(
                &req, &state, &scope, &actor, payload, None,
            ))
            .await
        }
        _ => Err(ApiError::MethodNotAllowed {
            method: req.method().to_string(),
        }),
    }
}

/// Every GET under the service root.
async fn dispatch(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
) -> Result<HttpResponse, ApiError> {
    read(&req, &state, &scope, None).await
}

/// A GET under the service root (`txn`: inside a `$batch` change set).
pub(super) async fn read(
    req: &HttpRequest,
    state: &AppState,
    scope: &TenantScope,
    txn: Option<&crate::storage::ChangeSet>,
) -> Result<HttpResponse, ApiError> {
    // Over-long query strings were refused (414) by the middleware.
    let (prefix, path) = resource_path(req)?;
    let ctx = feed_context(req, state);
    let options =
        odata::parse(req.query_string(), &ctx).map_err(|e| e.teach(req.query_string()))?;

    if let [ResourceSegment::Metadata(_)] = path.segments.as_slice() {
        return metadata(state, &options, &ctx);
    }

    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let has_format = options.format.is_some();
    let feed = Feed::new(req, state, scope, options, ctx, prefix, txn)?;
    let target = resolve(&path)?;
    // `$format` wins over `Accept` (checked in `negotiate`); without it, an
    // `Accept` that allows nothing the feed writes is a 406. `$count` and
    // `$value` are plain text.
    let text = matches!(
        target,
        Target::Collection { count: true, .. }
            | Target::Related { count: true, .. }
            | Target::Property {
                raw_value: true,
                ..
            }
    );
    if !has_format && !prefer::acceptable(accept, text) {
        return Err(ApiError::NotAcceptable {
            message: format!(
                "the Accept header allows nothing this resource is available as ({}); \
                 send application/json (or no Accept)",
                if text {
                    "text/plain or application/json"
                } else {
                    "application/json"
                }
            ),
        });
    }
    match target {
        Target::ServiceDocument => {
            reject_options(&feed.options, &[], "the service document")?;
            Ok(service_document(&feed))
        }
        Target::Collection { set, count } => collection(&feed, set, count).await,
        Target::Entity { set, id } => entity(&feed, set, id).await,
        Target::Property {
            set,
            id,
            property,
            raw_value,
        } => property_value(&feed, set, id, property, raw_value).await,
        Target::Related {
            set,
            id,
            navigation,
            count,
        } => Box::pin(related(&feed, set, id, navigation, count)).await,
        Target::RelatedEntity {
            set,
            id,
            navigation,
            related_id,
        } => Box::pin(related_entity(&feed, set, id, navigation, related_id)).await,
    }
}

fn service_document(feed: &Feed<'_>) -> HttpResponse {
    let mut body = serde_json::Map::new();
    if feed.level.has_context() {
        body.insert(
            "@odata.context".into(),
            Json::String(format!("{}/$metadata", feed.root)),
        );
    }
    let sets: Vec<Json> = identity_schema()
        .entity_sets()
        .iter()
        .map(|s| json!({"name": s.name, "kind": "EntitySet", "url": s.name}))
        .collect();
    body.insert("value".into(), Json::Array(sets));
    feed.json(Json::Object(body).to_string().into_bytes())
}

/// `$metadata`: CSDL XML unless `$format` asks for JSON. The capability
/// annotations are what the translator states for the database's backend
/// (no query runs).
fn metadata(
    state: &AppState,
    options: &QueryOptions,
    ctx: &ReadContext,
) -> Result<HttpResponse, ApiError> {
    reject_options(options, &[], "$metadata")?;
    let json = match &options.format {
        None => false,
        Some(f) => {
            let v = percent_decode(&f.value).to_ascii_lowercase();
            let essence = v.split(';').next().unwrap_or("").trim().to_owned();
            match essence.as_str() {
                "xml" | "application/xml" => false,
                "json" | "application/json" => true,
                _ => {
                    return Err(ApiError::NotImplemented {
                        message: format!(
                            "$metadata is available as XML (default) or JSON ($format=json), not `{}`",
                            f.value
                        ),
                        target: Some("$format".to_owned()),
                        details: Vec::new(),
                    });
                }
            }
        }
    };
    let caps = capabilities::for_backend(
        crate::fair::translator_backend(state.db.get_database_backend()),
        ctx.expand_max_depth,
        ctx.cost_budget,
    );
    let schema = identity_schema();
    if json {
        Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .body(csdl_json(schema, &caps, state.settings.feed_page_size).to_string()))
    } else {
        let xml =
            csdl_xml(schema, &caps, state.settings.feed_page_size).map_err(ApiError::internal)?;
        Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "application/xml"))
            .body(xml))
    }
}
