//! The feed's resources: service document, `$metadata`, entity sets,
//! single entities, navigation, `$count`, properties and `$value`.
//!
//! The resource path after the service root is parsed with
//! [`odata_parser::parse_resource_path`] (raw URL text) and dispatched here;
//! every record comes from the read path.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use odata_parser::ast::{
    ExprKind, KeyPredicate, Literal, QueryOptions, ResourcePath, ResourceSegment,
};
use odata_parser::{ParserOptions, parse_resource_path};
use odata_sql::Schema;
use odata_sql::schema::{EntitySet, Navigation, Property};
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use super::capabilities::capabilities;
use super::envelope::{apply_properties, select_list, shape_entity};
use super::metadata::{csdl_json, csdl_xml};
use super::prefer::{self, MetadataLevel, percent_decode};
use crate::error::ApiError;
use crate::odata::schema::identity_schema;
use crate::odata::{self, EntityKind, ReadContext, query_string};
use crate::routes::{base_url, resource};
use crate::startup::AppState;
use crate::tenancy::TenantScope;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("").route(web::get().to(dispatch)))
        .service(resource("/{tail:.*}").route(web::get().to(dispatch)));
}

/// `/api/t/o/odata/Users(…)/roles` -> (`/api/t/o/odata`, `Users(…)/roles`),
/// both still percent-encoded as they arrived.
fn split_path(path: &str) -> (&str, &str) {
    let mut slashes = path.match_indices('/').map(|(i, _)| i);
    match slashes.nth(4) {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (path, ""),
    }
}

fn kind_of(set: &EntitySet) -> Option<EntityKind> {
    [EntityKind::User, EntityKind::Role, EntityKind::Group]
        .into_iter()
        .find(|k| k.entity_set() == set.name)
}

/// Everything a feed handler needs about the request.
struct Feed<'a> {
    req: &'a HttpRequest,
    state: &'a AppState,
    scope: &'a TenantScope,
    /// The raw query string.
    raw: &'a str,
    options: QueryOptions,
    level: MetadataLevel,
    /// `{base}/api/t/o/odata` (no trailing slash).
    root: String,
    base_url: String,
    /// The page size the client preferred (clamped), if it said.
    preferred: Option<u64>,
}

impl Feed<'_> {
    fn read_context(&self) -> ReadContext {
        ReadContext {
            base_url: self.base_url.clone(),
            path: self.req.path().to_owned(),
            signing_key: self.state.signing_key.clone(),
            page_size: self.preferred.unwrap_or(self.state.settings.feed_page_size),
            navigation_keys: false,
        }
    }

    fn context(&self, fragment: &str) -> String {
        format!("{}/$metadata#{fragment}", self.root)
    }

    /// A JSON answer with the content type of the metadata level.
    fn json(&self, body: Map<String, Json>) -> HttpResponse {
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, self.level.content_type()))
            .body(Json::Object(body).to_string())
    }

    fn with_context(&self, fragment: &str) -> Map<String, Json> {
        let mut body = Map::new();
        if self.level.has_context() {
            body.insert(
                "@odata.context".into(),
                Json::String(self.context(fragment)),
            );
        }
        body
    }
}

/// Every GET under the service root.
async fn dispatch(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
) -> Result<HttpResponse, ApiError> {
    let normalized = query_string::dollar_option_names(req.query_string());
    let raw = normalized.as_str();
    if raw.len() > state.settings.max_query_length {
        return Err(ApiError::UriTooLong {
            message: format!(
                "the query string has {} bytes, more than the limit of {}",
                raw.len(),
                state.settings.max_query_length
            ),
        });
    }
    let (prefix, tail) = split_path(req.path());
    // `Users/` is `Users` (some clients append a slash to every URL).
    let tail = tail.strip_suffix('/').unwrap_or(tail);
    let path = if tail.is_empty() {
        ResourcePath {
            segments: Vec::new(),
            span: Default::default(),
        }
    } else {
        parse_resource_path(tail, &ParserOptions::default()).map_err(|e| {
            ApiError::bad_request(
                format!("invalid resource path `{tail}`: {}", e.message()),
                Some("resource path"),
            )
        })?
    };
    let options = query_string::parse_feed(raw)?;
    let base_url = base_url(&req, &state);
    let root = format!("{base_url}{prefix}");

    if let [ResourceSegment::Metadata(_)] = path.segments.as_slice() {
        return metadata(&req, &state, &scope, &options, &base_url).await;
    }

    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let level = prefer::metadata_level(options.format.as_ref().map(|f| f.value.as_str()), accept)?;
    let preferred = prefer::max_page_size(
        req.headers()
            .get_all("prefer")
            .filter_map(|v| v.to_str().ok()),
    );
    let feed = Feed {
        req: &req,
        state: &state,
        scope: &scope,
        raw,
        options,
        level,
        root,
        base_url,
        preferred,
    };
    let target = resolve(&path)?;
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

/// What a resource path addresses.
enum Target {
    ServiceDocument,
    Collection {
        set: &'static EntitySet,
        count: bool,
    },
    Entity {
        set: &'static EntitySet,
        id: Uuid,
    },
    Property {
        set: &'static EntitySet,
        id: Uuid,
        property: &'static Property,
        raw_value: bool,
    },
    Related {
        set: &'static EntitySet,
        id: Uuid,
        navigation: &'static Navigation,
        count: bool,
    },
    RelatedEntity {
        set: &'static EntitySet,
        id: Uuid,
        navigation: &'static Navigation,
        related_id: Uuid,
    },
}

/// A path segment after key-as-segment folding.
enum Seg<'a> {
    Member(&'a str, Option<Key<'a>>),
    Count,
    Value,
    Other(&'a ResourceSegment),
}

#[derive(Clone, Copy)]
enum Key<'a> {
    Predicate(&'a KeyPredicate),
    Segment(&'a odata_parser::ast::Expr),
}

fn segments(path: &ResourcePath) -> Vec<Seg<'_>> {
    let mut out: Vec<Seg<'_>> = Vec::new();
    for s in &path.segments {
        match s {
            ResourceSegment::Member { name, key } => {
                out.push(Seg::Member(&name.name, key.as_ref().map(Key::Predicate)));
            }
            ResourceSegment::KeySegment(e) => match out.last_mut() {
                Some(Seg::Member(_, key @ None)) => *key = Some(Key::Segment(e)),
                _ => out.push(Seg::Other(s)),
            },
            ResourceSegment::Count(_) => out.push(Seg::Count),
            ResourceSegment::Value(_) => out.push(Seg::Value),
            other => out.push(Seg::Other(other)),
        }
    }
    out
}

/// 501 naming what is not supported; the target is the `$`-segment itself,
/// or `resource path` for other path features.
fn not_supported(what: &str) -> ApiError {
    let target = if what.starts_with('$') {
        what
    } else {
        "resource path"
    };
    ApiError::NotImplemented {
        message: format!("{what} is not supported by this feed"),
        target: Some(target.to_owned()),
    }
}

fn no_resource(path: &ResourcePath) -> ApiError {
    ApiError::not_found(format!(
        "no resource `{}` in this service (entity sets: Users, Roles, Groups)",
        path.segments
            .iter()
            .map(|s| match s {
                ResourceSegment::Member { name, .. } => name.name.clone(),
                _ => "…".to_owned(),
            })
            .collect::<Vec<_>>()
            .join("/")
    ))
}

fn entity_set(name: &str) -> Result<&'static EntitySet, ApiError> {
    identity_schema().entity_set(name).ok_or_else(|| {
        ApiError::not_found(format!("no entity set `{name}` (Users, Roles, Groups)"))
    })
}

/// The key of `set` written in a key predicate: an unquoted GUID literal.
fn key_id(set: &EntitySet, key: Key<'_>) -> Result<Uuid, ApiError> {
    let key_name = set.entity_type.key.first().map_or("id", String::as_str);
    let expr = match key {
        Key::Predicate(KeyPredicate::Single(e)) => Some(&**e),
        Key::Predicate(KeyPredicate::Named(pairs)) => match pairs.as_slice() {
            [(name, e)] if name.name.eq_ignore_ascii_case(key_name) => Some(e),
            _ => None,
        },
        Key::Segment(e) => Some(e),
    };
    let bad = || {
        ApiError::bad_request(
            format!(
                "the key of {} is a GUID written without quotes, e.g. {}(6f9619ff-8b86-d011-b42d-00c04fc964ff)",
                set.name, set.name
            ),
            Some("key"),
        )
    };
    match (key, expr.map(|e| &e.kind)) {
        (_, Some(ExprKind::Literal(Literal::Guid(s)))) => Uuid::parse_str(s).map_err(|_| bad()),
        // Key-as-segment (`Users/6f…`): the parser keeps the raw text.
        (Key::Segment(_), Some(ExprKind::Literal(Literal::String(s)))) => {
            Uuid::parse_str(s).map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

fn resolve(path: &ResourcePath) -> Result<Target, ApiError> {
    let segs = segments(path);
    for s in &segs {
        if let Seg::Other(other) = s {
            return Err(match other {
                ResourceSegment::Ref(_) => not_supported("$ref"),
                ResourceSegment::Batch(_) => not_supported("$batch"),
                ResourceSegment::Entity(_) => not_supported("$entity"),
                ResourceSegment::All(_) => not_supported("$all"),
                ResourceSegment::CrossJoin(..) => not_supported("$crossjoin"),
                ResourceSegment::Each(_) => not_supported("$each"),
                ResourceSegment::Query(_) => not_supported("$query"),
                ResourceSegment::Filter(..) => not_supported("a $filter path segment"),
                ResourceSegment::Function { .. } => not_supported("a function call"),
                ResourceSegment::TypeCast(_) => not_supported("a type cast"),
                ResourceSegment::Metadata(_) => no_resource(path),
                _ => no_resource(path),
            });
        }
    }
    Ok(match segs.as_slice() {
        [] => Target::ServiceDocument,
        [Seg::Member(name, None)] => Target::Collection {
            set: entity_set(name)?,
            count: false,
        },
        [Seg::Member(name, None), Seg::Count] => Target::Collection {
            set: entity_set(name)?,
            count: true,
        },
        [Seg::Member(name, Some(key))] => {
            let set = entity_set(name)?;
            Target::Entity {
                set,
                id: key_id(set, *key)?,
            }
        }
        [
            Seg::Member(name, Some(key)),
            Seg::Member(member, related_key),
            rest @ ..,
        ] => {
            let set = entity_set(name)?;
            let id = key_id(set, *key)?;
            let entity = &set.entity_type;
            if let Some(navigation) = entity.navigation(member) {
                let target = entity_set(&navigation.target_set)?;
                match (related_key, rest) {
                    (None, []) => Target::Related {
                        set,
                        id,
                        navigation,
                        count: false,
                    },
                    (None, [Seg::Count]) => Target::Related {
                        set,
                        id,
                        navigation,
                        count: true,
                    },
                    (Some(k), []) => Target::RelatedEntity {
                        set,
                        id,
                        navigation,
                        related_id: key_id(target, *k)?,
                    },
                    _ => return Err(not_supported("a path deeper than one navigation")),
                }
            } else if let Some(property) = entity.property(member) {
                match (related_key, rest) {
                    (None, []) => Target::Property {
                        set,
                        id,
                        property,
                        raw_value: false,
                    },
                    (None, [Seg::Value]) => Target::Property {
                        set,
                        id,
                        property,
                        raw_value: true,
                    },
                    _ => return Err(no_resource(path)),
                }
            } else {
                return Err(ApiError::not_found(format!(
                    "{} has no property or navigation property `{member}`",
                    entity.name
                )));
            }
        }
        _ => return Err(no_resource(path)),
    })
}

fn service_document(feed: &Feed<'_>) -> HttpResponse {
    let mut body = Map::new();
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
    feed.json(body)
}

/// `$metadata`: CSDL XML unless `$format` asks for JSON.
async fn metadata(
    req: &HttpRequest,
    state: &AppState,
    scope: &TenantScope,
    options: &QueryOptions,
    base_url: &str,
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
                    });
                }
            }
        }
    };
    let ctx = ReadContext {
        base_url: base_url.to_owned(),
        path: req.path().to_owned(),
        signing_key: state.signing_key.clone(),
        page_size: state.settings.feed_page_size,
        navigation_keys: false,
    };
    let caps = capabilities(&state.db, scope, &ctx).await?;
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
fn reject_options(options: &QueryOptions, allowed: &[&str], what: &str) -> Result<(), ApiError> {
    let present = [
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
    ];
    for (name, is_present) in present {
        if is_present && !allowed.contains(&name) {
            return Err(ApiError::bad_request(
                format!("{name} does not apply to {what}"),
                Some(name),
            ));
        }
    }
    Ok(())
}

/// Whether a raw option name is `name` (`$name`, `%24name` or, as OData
/// 4.01 allows, `name`; case-insensitive), as the parser reads it.
fn is_option(raw_name: &str, name: &str) -> bool {
    let bare = raw_name
        .strip_prefix('$')
        .or_else(|| {
            raw_name
                .get(..3)
                .filter(|p| p.eq_ignore_ascii_case("%24"))
                .map(|_| &raw_name[3..])
        })
        .unwrap_or(raw_name);
    bare.eq_ignore_ascii_case(name)
}

fn raw_options(raw: &str) -> impl Iterator<Item = &str> {
    raw.split('&').filter(|p| !p.is_empty())
}

/// The raw query with `condition` (raw URL text) ANDed into its `$filter`.
fn with_filter(raw: &str, condition: &str) -> String {
    let mut found = false;
    let mut pieces: Vec<String> = raw_options(raw)
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            if is_option(name, "filter") {
                found = true;
                format!("{name}=({value})%20and%20{condition}")
            } else {
                piece.to_owned()
            }
        })
        .collect();
    if !found {
        pieces.push(format!("$filter={condition}"));
    }
    pieces.join("&")
}

/// The raw query plus `extra` options.
fn with_options(raw: &str, extra: &str) -> String {
    if raw.is_empty() {
        extra.to_owned()
    } else {
        format!("{raw}&{extra}")
    }
}

/// The filter that keeps the entities related to parent `id` through
/// `navigation`: `users/any(p:p/id eq …)` on the target set.
fn related_condition(
    set: &EntitySet,
    navigation: &Navigation,
    id: Uuid,
) -> Result<String, ApiError> {
    let partner = navigation.partner.as_deref().ok_or_else(|| {
        not_supported(&format!(
            "navigation `{}` without a partner",
            navigation.name
        ))
    })?;
    let key = set.entity_type.key.first().map_or("id", String::as_str);
    Ok(format!("{partner}/any(p:p/{key}%20eq%20{id})"))
}

/// One page of `set` read with `read_query`; the next link, when the read
/// query differs from the client's, is rebuilt from the client's query.
async fn page(
    feed: &Feed<'_>,
    set: &EntitySet,
    read_query: &str,
) -> Result<HttpResponse, ApiError> {
    let kind = kind_of(set).ok_or_else(|| no_set(set))?;
    let ctx = feed.read_context();
    // Collections read from the read pool (a replica when configured).
    let page = odata::list(&feed.state.read_db, feed.scope, kind, read_query, &ctx).await?;
    let schema = identity_schema();
    // `$apply` that groups or aggregates yields records that are not
    // entities: the context lists their properties, and they are passed on
    // as the read path shaped them.
    let aggregated = feed.options.apply.as_ref().and_then(apply_properties);
    let fragment = match &aggregated {
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
    let mut body = feed.with_context(&fragment);
    if let Some(count) = page.count {
        body.insert("@odata.count".into(), Json::from(count));
    }
    let items: Vec<Json> = if aggregated.is_some() {
        page.items
    } else {
        page.items
            .into_iter()
            .map(|r| shape_entity(schema, set, r, feed.options.expand.as_ref(), feed.level))
            .collect()
    };
    body.insert("value".into(), Json::Array(items));
    if let Some(link) = page.next_page_link {
        let link = if read_query == feed.raw {
            link
        } else {
            next_link_for_client(feed, &link)
        };
        body.insert("@odata.nextLink".into(), Json::String(link));
    }
    let mut response = feed.json(body);
    if let Some(n) = feed.preferred
        && let Ok(v) = header::HeaderValue::from_str(&format!("odata.maxpagesize={n}"))
    {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static("preference-applied"), v);
    }
    Ok(response)
}

/// The client's own query (without paging options) with the skiptoken of
/// the read path's next link: following it re-derives the same read query,
/// so the token's query fingerprint matches.
fn next_link_for_client(feed: &Feed<'_>, read_link: &str) -> String {
    let token = read_link.rsplit_once("$skiptoken=").map_or("", |(_, t)| t);
    let mut kept: Vec<&str> = raw_options(feed.raw)
        .filter(|piece| {
            let name = piece.split_once('=').map_or(*piece, |(n, _)| n);
            !(is_option(name, "skip") || is_option(name, "top") || is_option(name, "skiptoken"))
        })
        .collect();
    let token_option = format!("$skiptoken={token}");
    kept.push(&token_option);
    format!("{}{}?{}", feed.base_url, feed.req.path(), kept.join("&"))
}

fn no_set(set: &EntitySet) -> ApiError {
    ApiError::internal(anyhow::anyhow!("entity set {} has no read path", set.name))
}

fn text(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain;charset=utf-8"))
        .body(body)
}

/// `$count` of `set` with `read_query` (the client's `$filter`/`$search`).
async fn count(
    feed: &Feed<'_>,
    set: &EntitySet,
    read_query: &str,
) -> Result<HttpResponse, ApiError> {
    reject_options(&feed.options, &["$filter", "$search"], "/$count")?;
    let kind = kind_of(set).ok_or_else(|| no_set(set))?;
    let query = with_options(read_query, "$count=true&$top=0");
    let page = odata::list(
        &feed.state.read_db,
        feed.scope,
        kind,
        &query,
        &feed.read_context(),
    )
    .await?;
    Ok(text(page.count.unwrap_or(0).to_string()))
}

async fn collection(
    feed: &Feed<'_>,
    set: &EntitySet,
    is_count: bool,
) -> Result<HttpResponse, ApiError> {
    if is_count {
        count(feed, set, feed.raw).await
    } else {
        page(feed, set, feed.raw).await
    }
}

fn entity_not_found(set: &EntitySet, id: Uuid) -> ApiError {
    ApiError::not_found(format!("no {} with id {id}", set.entity_type.name))
}

async fn entity(feed: &Feed<'_>, set: &EntitySet, id: Uuid) -> Result<HttpResponse, ApiError> {
    let kind = kind_of(set).ok_or_else(|| no_set(set))?;
    let record = odata::get_by_id(
        &feed.state.db,
        feed.scope,
        kind,
        id,
        feed.raw,
        &feed.read_context(),
    )
    .await?
    .ok_or_else(|| entity_not_found(set, id))?;
    Ok(single(feed, set, record))
}

/// A single entity with its `…/$entity` context.
fn single(feed: &Feed<'_>, set: &EntitySet, record: Json) -> HttpResponse {
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
    let mut body = feed.with_context(&fragment);
    if let Json::Object(fields) = shape_entity(
        schema,
        set,
        record,
        feed.options.expand.as_ref(),
        feed.level,
    ) {
        body.extend(fields);
    }
    feed.json(body)
}

/// 404 unless the entity exists.
async fn require(feed: &Feed<'_>, set: &EntitySet, id: Uuid) -> Result<(), ApiError> {
    let kind = kind_of(set).ok_or_else(|| no_set(set))?;
    let key = set.entity_type.key.first().map_or("id", String::as_str);
    odata::get_by_id(
        &feed.state.db,
        feed.scope,
        kind,
        id,
        &format!("$select={key}"),
        &feed.read_context(),
    )
    .await?
    .map(|_| ())
    .ok_or_else(|| entity_not_found(set, id))
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
    let record = odata::get_by_id(
        &feed.state.db,
        feed.scope,
        kind,
        id,
        &format!("$select={}", property.name),
        &feed.read_context(),
    )
    .await?
    .ok_or_else(|| entity_not_found(set, id))?;
    let value = record.get(&property.name).cloned().unwrap_or(Json::Null);
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
    let mut body = feed.with_context(&format!("{}({id})/{}", set.name, property.name));
    body.insert("value".into(), value);
    Ok(feed.json(body))
}

async fn related(
    feed: &Feed<'_>,
    set: &EntitySet,
    id: Uuid,
    navigation: &Navigation,
    is_count: bool,
) -> Result<HttpResponse, ApiError> {
    let target = entity_set(&navigation.target_set)?;
    require(feed, set, id).await?;
    let read_query = with_filter(feed.raw, &related_condition(set, navigation, id)?);
    if is_count {
        count(feed, target, &read_query).await
    } else {
        page(feed, target, &read_query).await
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
    let key = target.entity_type.key.first().map_or("id", String::as_str);
    let condition = format!(
        "{key}%20eq%20{related_id}%20and%20{}",
        related_condition(set, navigation, id)?
    );
    let query = with_options(feed.raw, &format!("$filter={condition}&$top=1"));
    let page = odata::list(
        &feed.state.db,
        feed.scope,
        kind,
        &query,
        &feed.read_context(),
    )
    .await?;
    let record = page.items.into_iter().next().ok_or_else(|| {
        ApiError::not_found(format!(
            "{} {id} has no {} with id {related_id}",
            set.entity_type.name, navigation.name
        ))
    })?;
    Ok(single(feed, target, record))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_after_the_service_root() {
        assert_eq!(split_path("/api/t/o/odata"), ("/api/t/o/odata", ""));
        assert_eq!(split_path("/api/t/o/odata/"), ("/api/t/o/odata", ""));
        assert_eq!(
            split_path("/api/t/o/odata/Users(1)/roles"),
            ("/api/t/o/odata", "Users(1)/roles")
        );
    }

    #[test]
    fn filters_are_anded_in_place() {
        assert_eq!(with_filter("", "x"), "$filter=x");
        assert_eq!(
            with_filter("$top=2&%24Filter=a%20or%20b&$select=id", "x"),
            "$top=2&%24Filter=(a%20or%20b)%20and%20x&$select=id"
        );
        assert_eq!(with_filter("filter=a", "x"), "filter=(a)%20and%20x");
    }

    #[test]
    fn percent_encoded_dollars_become_dollars_in_names_only() {
        assert_eq!(
            query_string::dollar_option_names(
                "%24top=5&%24Filter=a%20eq%20%2724%27&x=%24y&&$skip=1"
            ),
            "$top=5&$Filter=a%20eq%20%2724%27&x=%24y&&$skip=1"
        );
        assert_eq!(query_string::dollar_option_names(""), "");
    }

    #[test]
    fn option_names() {
        assert!(is_option("$top", "top"));
        assert!(is_option("%24TOP", "top"));
        assert!(is_option("Top", "top"));
        assert!(!is_option("$topx", "top"));
    }
}
