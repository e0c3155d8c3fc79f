//! The feed's answers to reads: pages of a collection (tracked for
//! `$deltatoken` or not), `$count`, single entities, properties and
//! `$value`, and navigation from an entity to its related entities.

use actix_web::HttpResponse;
use actix_web::http::header::{self};
use odata_parser::ast::{
    Binary, BinaryOp, Expr, ExprKind, Ident, Lambda, LambdaKind, Literal, MemberPath, PathRoot,
    PathSegment, QueryOptions,
};
use odata_sql::schema::{EdmType, EntitySet, Navigation, Property};
use serde_json::Value as Json;
use uuid::Uuid;

use super::envelope::{apply_properties, select_list};
use super::paths::{entity_set, not_supported};
use super::request::{Feed, Pieces, kind_of, push_member, reject_options};
use crate::error::ApiError;
use crate::odata::schema::identity_schema;
use crate::odata::{self, ReadRequest};

pub(super) fn ident(name: &str) -> Ident {
    Ident {
        name: name.to_owned(),
        span: Default::default(),
    }
}

pub(super) fn path_expr(names: &[&str]) -> MemberPath {
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
pub(super) fn guid_eq(path: &[&str], id: Uuid) -> Expr {
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
pub(super) fn related_condition(
    set: &EntitySet,
    navigation: &Navigation,
    id: Uuid,
) -> Result<Expr, ApiError> {
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
pub(super) async fn page(
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

/// Up to this many bytes, a page is sent as one buffer (see [`tracked_page`]).
const ONE_PIECE: usize = 8 * 1024;

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
                let mut response = if head.len() + items.len() <= ONE_PIECE {
                    // A small answer (a key lookup) is one buffer: the
                    // copy costs less than a body of pieces (a queue and a
                    // box more to allocate).
                    head.extend_from_slice(&items);
                    feed.json(head)
                } else {
                    feed.json(Pieces::new([head, items]))
                };
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

pub(super) fn text(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain;charset=utf-8"))
        .body(body)
}

/// `$count` of `read` (the client's `$filter`/`$search`, the route's conditions).
pub(super) async fn count(
    feed: &Feed<'_>,
    read: &ReadRequest<'_>,
) -> Result<HttpResponse, ApiError> {
    reject_options(&feed.options, &["$filter", "$search"], "/$count")?;
    let n = odata::count(feed.list_reader(), feed.scope, read, &feed.ctx)
        .await
        .map_err(|e| feed.taught(e))?;
    Ok(text(n.to_string()))
}

pub(super) async fn collection(
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

pub(super) async fn entity(
    feed: &Feed<'_>,
    set: &EntitySet,
    id: Uuid,
) -> Result<HttpResponse, ApiError> {
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
pub(super) async fn require(feed: &Feed<'_>, set: &EntitySet, id: Uuid) -> Result<(), ApiError> {
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

pub(super) async fn property_value(
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

pub(super) async fn related(
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

pub(super) async fn related_entity(
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

#[cfg(test)]
mod tests {
    use odata_sql::Schema;

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
