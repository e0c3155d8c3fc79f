//! The feed's resources: service document, `$metadata`, entity sets,
//! single entities, navigation, `$count`, properties and `$value`.
//!
//! The resource path after the service root is resolved by
//! [`super::paths`] and dispatched here; every record comes from the read
//! path.

use actix_web::body::{BodySize, MessageBody};
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use odata_parser::ast::{
    Binary, BinaryOp, Expr, ExprKind, Ident, Lambda, LambdaKind, Literal, MemberPath, PathRoot,
    PathSegment, QueryOptions, ResourceSegment,
};
use odata_sql::Schema;
use odata_sql::schema::{EdmType, EntitySet, Navigation, Property};
use serde_json::{Value as Json, json};
use uuid::Uuid;

use super::capabilities::capabilities;
use super::envelope::{apply_properties, select_list};
use super::metadata::{csdl_json, csdl_xml};
use super::paths::{Target, entity_set, not_supported, resolve, resource_path};
use super::prefer::{self, MetadataLevel, percent_decode};
use crate::error::ApiError;
use crate::etag::Precondition;
use crate::odata::schema::identity_schema;
use crate::odata::{self, EntityKind, QueryError, ReadContext, ReadRequest, Shape};
use crate::routes::{read_context, resource};
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
            Box::pin(super::writes::write(&req, &state, &scope, payload, None)).await
        }
        _ => Err(ApiError::MethodNotAllowed {
            method: req.method().to_string(),
        }),
    }
}

pub(super) fn kind_of(set: &EntitySet) -> Option<EntityKind> {
    [EntityKind::User, EntityKind::Role, EntityKind::Group]
        .into_iter()
        .find(|k| k.entity_set() == set.name)
}

/// Everything a feed handler needs about the request.
pub(super) struct Feed<'a> {
    pub(super) req: &'a HttpRequest,
    pub(super) state: &'a AppState,
    pub(super) scope: &'a TenantScope,
    pub(super) options: QueryOptions,
    level: MetadataLevel,
    /// `IEEE754Compatible=true`: Int64/Decimal values (and `@odata.count`)
    /// are JSON strings, and the content type says so.
    ieee754: bool,
    /// `{base}/api/t/o/odata` (no trailing slash).
    pub(super) root: String,
    /// The page size the client preferred (clamped), if it said.
    preferred: Option<u64>,
    pub(super) ctx: ReadContext,
    /// The caller's transaction of a `$batch` change set: writes and the
    /// reads of their answers run in it.
    pub(super) txn: Option<&'a sea_orm::DatabaseTransaction>,
}

impl Feed<'_> {
    /// Where single records are read: the change set's transaction, else
    /// the state's record reader.
    pub(super) fn record_reader(&self) -> odata::Reader<'_> {
        match self.txn {
            Some(tx) => odata::Reader::Txn(tx),
            None => self.state.record_reader(),
        }
    }

    /// Where lists are read: the change set's transaction, else the
    /// state's list reader.
    pub(super) fn list_reader(&self) -> odata::Reader<'_> {
        match self.txn {
            Some(tx) => odata::Reader::Txn(tx),
            None => self.state.list_reader(),
        }
    }

    /// The API error of a read that failed on the request's query, with
    /// the caret rendering ([`QueryError::teach`]).
    pub(super) fn taught(&self, e: QueryError) -> ApiError {
        e.teach(self.req.query_string())
    }

    /// A read of `kind` with the client's options.
    pub(super) fn read(&self, kind: EntityKind) -> ReadRequest<'_> {
        ReadRequest::new(kind, &self.options)
    }

    pub(super) fn context(&self, fragment: &str) -> String {
        [self.root.as_str(), "/$metadata#", fragment].concat()
    }

    /// `{"@odata.context":"…"` (or just `{` without context), ready for
    /// the next member after a comma-free start.
    pub(super) fn open_body(&self, fragment: &str, out: &mut Vec<u8>) -> bool {
        out.push(b'{');
        if self.level.has_context() {
            push_member(out, "@odata.context", &self.context(fragment));
            true
        } else {
            false
        }
    }

    /// A JSON answer with the content type of the metadata level (and
    /// `IEEE754Compatible=true` when asked for).
    pub(super) fn json(&self, body: impl MessageBody + 'static) -> HttpResponse {
        let negotiated = prefer::Negotiated {
            level: self.level,
            ieee754: self.ieee754,
        };
        HttpResponse::Ok()
            .insert_header((
                header::CONTENT_TYPE,
                HeaderValue::from_static(negotiated.content_type()),
            ))
            .body(body)
    }

    /// The answer about one entity read at `version` (its own, or its
    /// property's): 304 when `If-None-Match` matches, 412 when `If-Match`
    /// does not, else `answer()` with the entity's `ETag`.
    fn conditional(
        &self,
        version: Option<i64>,
        answer: impl FnOnce() -> Result<HttpResponse, ApiError>,
    ) -> Result<HttpResponse, ApiError> {
        let precondition = Precondition::from_request(self.req)?;
        let Some(version) = version else {
            return answer();
        };
        let expanded = self.options.expand.is_some();
        if let Some(not_modified) = precondition.check_read(version, expanded)? {
            return Ok(not_modified);
        }
        let mut response = answer()?;
        if response.status().is_success() {
            let (name, value) = crate::etag::header(version);
            response.headers_mut().insert(name, value);
        }
        Ok(response)
    }
}

/// `"name":"value"` (JSON-escaped).
pub(super) fn push_member(out: &mut Vec<u8>, name: &str, value: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, name);
    out.push(b':');
    let _ = serde_json::to_writer(&mut *out, value);
}

/// API 1's read context with the feed's page size and shape.
pub(super) fn feed_context(req: &HttpRequest, state: &AppState) -> ReadContext {
    let mut ctx = read_context(req, state);
    ctx.page_size = state.settings.feed_page_size;
    ctx.shape = Shape::Feed {
        full: false,
        etag: true,
        ieee754: false,
    };
    ctx
}

impl<'a> Feed<'a> {
    /// The feed of a request whose query string parsed into `options`:
    /// the negotiated metadata level and page size, and the service root
    /// (`prefix` is its path).
    pub(super) fn new(
        req: &'a HttpRequest,
        state: &'a AppState,
        scope: &'a TenantScope,
        options: QueryOptions,
        mut ctx: ReadContext,
        prefix: &str,
        txn: Option<&'a sea_orm::DatabaseTransaction>,
    ) -> Result<Feed<'a>, ApiError> {
        let root = [ctx.base_url.as_str(), prefix].concat();
        let accept = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok());
        let prefer::Negotiated { level, ieee754 } =
            prefer::negotiate(options.format.as_ref().map(|f| f.value.as_str()), accept)?;
        let preferred = prefer::max_page_size(
            req.headers()
                .get_all("prefer")
                .filter_map(|v| v.to_str().ok()),
        );
        ctx.shape = Shape::Feed {
            full: level == MetadataLevel::Full,
            etag: level != MetadataLevel::None,
            ieee754,
        };
        if let Some(n) = preferred {
            ctx.page_size = n;
        }
        Ok(Feed {
            req,
            state,
            scope,
            options,
            level,
            ieee754,
            root,
            preferred,
            ctx,
            txn,
        })
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
    txn: Option<&sea_orm::DatabaseTransaction>,
) -> Result<HttpResponse, ApiError> {
    // Over-long query strings were refused (414) by the middleware.
    let (prefix, path) = resource_path(req)?;
    let ctx = feed_context(req, state);
    let options =
        odata::parse(req.query_string(), &ctx).map_err(|e| e.teach(req.query_string()))?;

    if let [ResourceSegment::Metadata(_)] = path.segments.as_slice() {
        return metadata(state, scope, &options, &ctx).await;
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
        } => related(&feed, set, id, navigation, count).await,
        Target::RelatedEntity {
            set,
            id,
            navigation,
            related_id,
        } => related_entity(&feed, set, id, navigation, related_id).await,
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

/// `$metadata`: CSDL XML unless `$format` asks for JSON.
async fn metadata(
    state: &AppState,
    scope: &TenantScope,
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
    let caps = capabilities(&state.db, scope, ctx)
        .await
        .map_err(ApiError::from_query)?;
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

/// 400 for each system query option outside `allowed` that does not apply
/// to `what` (`$format` and custom options always pass).
pub(super) fn reject_options(
    options: &QueryOptions,
    allowed: &[&str],
    what: &str,
) -> Result<(), ApiError> {
    for (name, is_present) in present_options(options) {
        if is_present && !allowed.contains(&name) {
            return Err(ApiError::bad_request(
                format!("{name} does not apply to {what}"),
                Some(name),
            ));
        }
    }
    Ok(())
}

/// Each system query option a route may refuse, and whether `options`
/// has it.
pub(super) fn present_options(options: &QueryOptions) -> [(&'static str, bool); 16] {
    [
        ("$filter", options.filter.is_some()),
        ("$select", options.select.is_some()),
        ("$orderby", options.orderby.is_some()),
        ("$top", options.top.is_some()),
        ("$skip", options.skip.is_some()),
        ("$count", options.count.is_some()),
        ("$expand", options.expand.is_some()),
        ("$search", options.search.is_some()),
        ("$compute", options.compute.is_some()),
        ("$apply", options.apply.is_some()),
        ("$levels", options.levels.is_some()),
        ("$skiptoken", options.skiptoken.is_some()),
        ("$deltatoken", options.deltatoken.is_some()),
        ("$schemaversion", options.schemaversion.is_some()),
        ("$index", options.index.is_some()),
        ("$id", options.id.is_some()),
    ]
}

fn ident(name: &str) -> Ident {
    Ident {
        name: name.to_owned(),
        span: Default::default(),
    }
}

fn path_expr(names: &[&str]) -> MemberPath {
    MemberPath {
        root: PathRoot::Implicit,
        segments: names
            .iter()
            .map(|n| PathSegment::Member {
                name: ident(n),
                key: None,
            })
            .collect(),
        span: Default::default(),
    }
}

/// `path eq <guid>` as an AST node.
fn guid_eq(path: &[&str], id: Uuid) -> Expr {
    let node = |kind| Expr {
        kind,
        span: Default::default(),
    };
    node(ExprKind::Binary(Binary {
        op: BinaryOp::Eq,
        op_span: Default::default(),
        left: Box::new(node(ExprKind::Path(path_expr(path)))),
        right: Box::new(node(ExprKind::Literal(Literal::Guid(id.to_string())))),
    }))
}

/// The condition that keeps the entities related to parent `id` through
/// `navigation`, on the target set: `users/any(p:p/id eq …)`.
fn related_condition(set: &EntitySet, navigation: &Navigation, id: Uuid) -> Result<Expr, ApiError> {
    let partner = navigation.partner.as_deref().ok_or_else(|| {
        not_supported(&format!(
            "navigation `{}` without a partner",
            navigation.name
        ))
    })?;
    let key = set.entity_type.key.first().map_or("id", String::as_str);
    Ok(Expr {
        kind: ExprKind::Lambda(Lambda {
            collection: path_expr(&[partner]),
            kind: LambdaKind::Any,
            variable: Some(ident("p")),
            predicate: Some(Box::new(guid_eq(&["p", key], id))),
        }),
        span: Default::default(),
    })
}

/// One page of `read` on `set`.
async fn page(
    feed: &Feed<'_>,
    set: &EntitySet,
    read: &ReadRequest<'_>,
) -> Result<HttpResponse, ApiError> {
    tracked_page(feed, set, read, None).await
}

/// A page of the first read with change tracking: next links carry the
/// snapshot's delta token, the last page the delta link.
pub(super) struct Tracking {
    /// Appended to next links as `$deltatoken`.
    pub(super) snapshot_token: String,
    /// `@odata.deltaLink` of the last page.
    pub(super) delta_link: String,
}

/// [`page`], with change tracking when `tracking` says.
pub(super) async fn tracked_page(
    feed: &Feed<'_>,
    set: &EntitySet,
    read: &ReadRequest<'_>,
    tracking: Option<Tracking>,
) -> Result<HttpResponse, ApiError> {
    // Collections read from the read pool (a replica when configured).
    let page = odata::list(feed.list_reader(), feed.scope, read, &feed.ctx)
        .await
        .map_err(|e| feed.taught(e))?;
    let schema = identity_schema();
    // `$apply` that groups or aggregates yields records that are not
    // entities: the context lists their properties.
    let fragment = match feed.options.apply.as_ref().and_then(apply_properties) {
        Some(props) => format!("{}({})", set.name, props.join(",")),
        None => format!(
            "{}{}",
            set.name,
            select_list(
                schema,
                set,
                feed.options.select.as_ref(),
                feed.options.expand.as_ref()
            )
        ),
    };
    // The records go out as they are (no copy into an envelope): the
    // answer is two pieces, the envelope's head, and the records followed
    // by its tail.
    let mut head = Vec::with_capacity(256);
    let mut more = feed.open_body(&fragment, &mut head);
    if let Some(count) = page.count {
        if more {
            head.push(b',');
        }
        // A string with IEEE754Compatible=true (OData JSON §3.2, §4.5.5).
        let count = if feed.ieee754 {
            format!("\"@odata.count\":\"{count}\"")
        } else {
            format!("\"@odata.count\":{count}")
        };
        head.extend_from_slice(count.as_bytes());
        more = true;
    }
    if more {
        head.push(b',');
    }
    head.extend_from_slice(b"\"value\":");
    let mut tail = Vec::with_capacity(16);
    match (&page.next_link, &tracking) {
        (Some(link), None) => {
            tail.push(b',');
            push_member(&mut tail, "@odata.nextLink", link);
        }
        (Some(link), Some(t)) => {
            tail.push(b',');
            let link = format!("{link}&$deltatoken={}", t.snapshot_token);
            push_member(&mut tail, "@odata.nextLink", &link);
        }
        (None, Some(t)) => {
            tail.push(b',');
            push_member(&mut tail, "@odata.deltaLink", &t.delta_link);
        }
        (None, None) => {}
    }
    tail.push(b'}');
    let settings = &feed.state.settings;
    let mut response =
        match crate::compress::gzip_body(feed.req, settings, &[&head, &page.items, &tail]) {
            Some(gz) => {
                let mut response = feed.json(gz);
                crate::compress::mark(&mut response, settings, true);
                response
            }
            None => {
                // The tail joins the records (there is nearly always room
                // left in their buffer): actix-web sends what it holds once
                // it holds 32 KiB, so a separate tail after large records
                // was a second `sendto` and a second TCP segment.
                let mut items = page.items;
                items.extend_from_slice(&tail);
                let mut response = feed.json(Pieces::new([head, items]));
                crate::compress::mark(&mut response, settings, false);
                response
            }
        };
    feed.preference_applied(&mut response, tracking.is_some());
    Ok(response)
}

impl Feed<'_> {
    /// `Preference-Applied`: the page size the client preferred, and
    /// `odata.track-changes` when `tracked`.
    pub(super) fn preference_applied(&self, response: &mut HttpResponse, tracked: bool) {
        let mut applied: Vec<String> = Vec::new();
        if tracked {
            applied.push("odata.track-changes".to_owned());
        }
        if let Some(n) = self.preferred {
            applied.push(format!("odata.maxpagesize={n}"));
        }
        if applied.is_empty() {
            return;
        }
        if let Ok(v) = header::HeaderValue::from_str(&applied.join(", ")) {
            response
                .headers_mut()
                .insert(header::HeaderName::from_static("preference-applied"), v);
        }
    }
}

pub(super) fn no_set(set: &EntitySet) -> ApiError {
    ApiError::internal(anyhow::anyhow!("entity set {} has no read path", set.name))
}

fn text(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain;charset=utf-8"))
        .body(body)
}

/// `$count` of `read` (the client's `$filter`/`$search`, the route's conditions).
async fn count(feed: &Feed<'_>, read: &ReadRequest<'_>) -> Result<HttpResponse, ApiError> {
    reject_options(&feed.options, &["$filter", "$search"], "/$count")?;
    let n = odata::count(feed.list_reader(), feed.scope, read, &feed.ctx)
        .await
        .map_err(|e| feed.taught(e))?;
    Ok(text(n.to_string()))
}

async fn collection(
    feed: &Feed<'_>,
    set: &EntitySet,
    is_count: bool,
) -> Result<HttpResponse, ApiError> {
    let kind = kind_of(set).ok_or_else(|| no_set(set))?;
    if !is_count && let Some(answer) = super::delta::collection(feed, set, kind).await? {
        return Ok(answer);
    }
    let read = feed.read(kind);
    if is_count {
        count(feed, &read).await
    } else {
        page(feed, set, &read).await
    }
}

pub(super) fn entity_not_found(set: &EntitySet, id: Uuid) -> ApiError {
    ApiError::not_found(format!("no {} with id {id}", set.entity_type.name))
}

async fn entity(feed: &Feed<'_>, set: &EntitySet, id: Uuid) -> Result<HttpResponse, ApiError> {
    let kind = kind_of(set).ok_or_else(|| no_set(set))?;
    let record = odata::get(
        feed.record_reader(),
        feed.scope,
        &feed.read(kind),
        id,
        &feed.ctx,
    )
    .await
    .map_err(|e| feed.taught(e))?
    .ok_or_else(|| entity_not_found(set, id))?;
    feed.conditional(record.version, || Ok(single(feed, set, &record.json)))
}

/// A single entity with its `…/$entity` context.
pub(super) fn single(feed: &Feed<'_>, set: &EntitySet, record: &[u8]) -> HttpResponse {
    let schema = identity_schema();
    let fragment = format!(
        "{}{}/$entity",
        set.name,
        select_list(
            schema,
            set,
            feed.options.select.as_ref(),
            feed.options.expand.as_ref()
        )
    );
    let mut body = Vec::with_capacity(record.len() + 128);
    let more = feed.open_body(&fragment, &mut body);
    // `record` is `{…}`: its members follow the context.
    let members = record.get(1..).unwrap_or(b"}");
    if more && members != b"}" {
        body.push(b',');
    }
    body.extend_from_slice(members);
    feed.json(body)
}

/// 404 unless the entity exists.
async fn require(feed: &Feed<'_>, set: &EntitySet, id: Uuid) -> Result<(), ApiError> {
    let kind = kind_of(set).ok_or_else(|| no_set(set))?;
    let key = set.entity_type.key.first().map_or("id", String::as_str);
    let options = QueryOptions::default();
    let read = ReadRequest {
        kind,
        options: &options,
        conditions: vec![guid_eq(&[key], id)],
    };
    match odata::count(feed.record_reader(), feed.scope, &read, &feed.ctx)
        .await
        .map_err(|e| feed.taught(e))?
    {
        0 => Err(entity_not_found(set, id)),
        _ => Ok(()),
    }
}

async fn property_value(
    feed: &Feed<'_>,
    set: &EntitySet,
    id: Uuid,
    property: &Property,
    raw_value: bool,
) -> Result<HttpResponse, ApiError> {
    reject_options(&feed.options, &[], "a property")?;
    let kind = kind_of(set).ok_or_else(|| no_set(set))?;
    let record = odata::get(
        feed.record_reader(),
        feed.scope,
        &feed.read(kind),
        id,
        &feed.ctx,
    )
    .await
    .map_err(|e| feed.taught(e))?
    .ok_or_else(|| entity_not_found(set, id))?;
    // A property answers with its entity's ETag.
    feed.conditional(record.version, || {
        let record: serde_json::Map<String, Json> =
            serde_json::from_slice(&record.json).map_err(ApiError::internal)?;
        let mut value = record.get(&property.name).cloned().unwrap_or(Json::Null);
        if feed.ieee754
            && matches!(property.edm_type, EdmType::Int64 | EdmType::Decimal)
            && let Json::Number(n) = &value
        {
            value = Json::String(n.to_string());
        }
        if value.is_null() {
            // OData: a null property (and its $value) is 204 No Content.
            return Ok(HttpResponse::NoContent().finish());
        }
        if raw_value {
            let text_value = match value {
                Json::String(s) => s,
                other => other.to_string(),
            };
            return Ok(text(text_value));
        }
        let mut body = Vec::new();
        let more = feed.open_body(&format!("{}({id})/{}", set.name, property.name), &mut body);
        if more {
            body.push(b',');
        }
        body.extend_from_slice(b"\"value\":");
        serde_json::to_writer(&mut body, &value).map_err(ApiError::internal)?;
        body.push(b'}');
        Ok(feed.json(body))
    })
}

async fn related(
    feed: &Feed<'_>,
    set: &EntitySet,
    id: Uuid,
    navigation: &Navigation,
    is_count: bool,
) -> Result<HttpResponse, ApiError> {
    let target = entity_set(&navigation.target_set)?;
    let kind = kind_of(target).ok_or_else(|| no_set(target))?;
    require(feed, set, id).await?;
    let mut read = feed.read(kind);
    read.conditions
        .push(related_condition(set, navigation, id)?);
    if is_count {
        count(feed, &read).await
    } else {
        page(feed, target, &read).await
    }
}

async fn related_entity(
    feed: &Feed<'_>,
    set: &EntitySet,
    id: Uuid,
    navigation: &Navigation,
    related_id: Uuid,
) -> Result<HttpResponse, ApiError> {
    reject_options(&feed.options, &["$select", "$expand"], "a single entity")?;
    let target = entity_set(&navigation.target_set)?;
    let kind = kind_of(target).ok_or_else(|| no_set(target))?;
    require(feed, set, id).await?;
    let mut read = feed.read(kind);
    read.conditions
        .push(related_condition(set, navigation, id)?);
    let record = odata::get(
        feed.record_reader(),
        feed.scope,
        &read,
        related_id,
        &feed.ctx,
    )
    .await
    .map_err(|e| feed.taught(e))?
    .ok_or_else(|| {
        ApiError::not_found(format!(
            "{} {id} has no {} with id {related_id}",
            set.entity_type.name, navigation.name
        ))
    })?;
    feed.conditional(record.version, || Ok(single(feed, target, &record.json)))
}

/// A response body sent as the buffers it was written in, without joining
/// them (its length is known, so no chunked encoding).
struct Pieces {
    parts: std::collections::VecDeque<Bytes>,
    size: u64,
}

impl Pieces {
    fn new<const N: usize>(parts: [Vec<u8>; N]) -> Self {
        let parts: std::collections::VecDeque<Bytes> = parts
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(Bytes::from)
            .collect();
        let size = parts.iter().map(|p| p.len() as u64).sum();
        Pieces { parts, size }
    }
}

impl MessageBody for Pieces {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.size)
    }

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Bytes, Self::Error>>> {
        std::task::Poll::Ready(self.get_mut().parts.pop_front().map(Ok))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn related_conditions_are_lambdas_over_the_partner() {
        let schema = identity_schema();
        let users = schema.entity_set("Users").expect("Users");
        let roles = users.entity_type.navigation("roles").expect("roles");
        let id = Uuid::nil();
        let e = related_condition(users, roles, id).expect("partner");
        assert_eq!(e.to_string(), format!("users/any(p:p/id eq {id})"));
    }
}
