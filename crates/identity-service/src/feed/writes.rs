//! Writes on the feed: `POST Users|Roles|Groups`, `PATCH`/`PUT`/`DELETE`
//! of an entity, and a user's role and group links through `$ref`.
//!
//! Nothing here decides what a valid user, role or group is: bodies are
//! split by [`super::write_body`] and parsed as API 1 parses them (a
//! create's or `PUT`'s properties into API 1's DTO, converted with
//! `TryFrom`: [`crate::routes::dto::convert`]; a `PATCH`'s properties one by
//! one with [`user_change`], [`parse_change`]); the writes
//! are the storage functions API 1 calls, each one transaction that checks
//! `If-Match` with the record's row locked. The guard in front of the
//! feed already asked for the write scope (`identity.write`), Bearer or
//! HTTP Basic alike (inside a `$batch`, [`crate::auth::guard::admit`] did,
//! and the writes run in the change set's transaction when there is one).

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use odata_parser::ast::ResourceSegment;
use odata_sql::schema::{EntitySet, Navigation};
use serde_json::Value;
use uuid::Uuid;

use super::paths::{Target, not_supported, resolve, resource_path};
use super::prefer::{Return, return_preference};
use super::routes::{
    Feed, entity_not_found, feed_context, kind_of, no_set, reject_options, single,
};
use super::write_body::{EntityBody, bind_ids, entity_id, split, target_of};
use crate::domain::{Actor, Culture, NewUser};
use crate::error::ApiError;
use crate::etag::Precondition;
use crate::odata::{self, EntityKind};
use crate::routes::body::read_json;
use crate::routes::catalog::{CatalogRoutes, parse_change};
use crate::routes::dto::{self, parse_body};
use crate::routes::users::user_change;
use crate::state::AppState;
use crate::storage::catalog::{self, Catalog};
use crate::storage::groups::Groups;
use crate::storage::memberships::{Membership, Reference};
use crate::storage::roles::Roles;
use crate::storage::users::{self, MembershipOp};
use crate::tenancy::TenantScope;

/// Runs `$call` with `$db` bound to the writer of `$feed`: the change
/// set's transaction, else the pool (one storage function, two writers).
macro_rules! on_writer {
    ($feed:expr, |$db:ident| $call:expr) => {
        match $feed.change_set {
            Some($db) => $call,
            None => {
                let $db = &$feed.state.db;
                $call
            }
        }
    };
}

/// Every POST, PATCH, PUT and DELETE under the service root.
/// `actor`: the authenticated client (the outer request's inside a
/// `$batch`), recorded as `createdBy`/`modifiedBy`. `txn`: the caller's
/// transaction of a `$batch` change set.
pub(super) async fn write(
    req: &HttpRequest,
    state: &AppState,
    scope: &TenantScope,
    actor: &Actor,
    payload: web::Payload,
    txn: Option<&crate::storage::ChangeSet>,
) -> Result<HttpResponse, ApiError> {
    let (prefix, mut path) = resource_path(req)?;
    let is_ref = matches!(path.segments.last(), Some(ResourceSegment::Ref(_)));
    if is_ref {
        path.segments.pop();
    }
    let not_allowed = || ApiError::MethodNotAllowed {
        method: req.method().to_string(),
    };
    if path.segments.is_empty() {
        return Err(not_allowed());
    }
    let target = resolve(&path)?;
    let ctx = feed_context(req, state);
    let options =
        odata::parse(req.query_string(), &ctx).map_err(|e| e.teach(req.query_string()))?;
    let feed = Feed::new(req, state, scope, options, ctx, prefix, txn)?;
    let method = req.method().clone();
    match (method, target, is_ref) {
        (Method::POST, Target::Collection { set, count: false }, false) => {
            create(&feed, actor, set, payload).await
        }
        (Method::PATCH, Target::Entity { set, id }, false) => {
            update(&feed, actor, set, id, payload, false).await
        }
        (Method::PUT, Target::Entity { set, id }, false) => {
            update(&feed, actor, set, id, payload, true).await
        }
        (Method::DELETE, Target::Entity { set, id }, false) => delete(&feed, actor, set, id).await,
        (
            Method::POST,
            Target::Related {
                set,
                id,
                navigation,
                count: false,
            },
            true,
        ) => {
            let kind = membership(set, navigation)?;
            add_link(&feed, actor, set, id, navigation, kind, payload).await
        }
        (
            Method::DELETE,
            Target::RelatedEntity {
                set,
                id,
                navigation,
                related_id,
            },
            true,
        ) => {
            let kind = membership(set, navigation)?;
            remove_link(&feed, actor, id, kind, related_id).await
        }
        (Method::DELETE, Target::Related { count: false, .. }, true) => {
            Err(ApiError::NotImplemented {
                message: "DELETE …/$ref with $id is not supported: name the related entity in \
                          the path, e.g. DELETE Users(<id>)/roles(<roleId>)/$ref"
                    .into(),
                target: Some("$id".into()),
                details: Vec::new(),
            })
        }
        (
            Method::PATCH | Method::PUT | Method::DELETE,
            Target::Property { .. } | Target::RelatedEntity { .. },
            false,
        ) => Err(not_supported(
            "writing a property or a related entity through its path (PATCH the entity itself)",
        )),
        _ => Err(not_allowed()),
    }
}

/// The membership a navigation of `set` writes: a user's `roles` or
/// `groups`; 501 from the other side (a role's or group's `users`).
fn membership(set: &EntitySet, navigation: &Navigation) -> Result<Membership, ApiError> {
    match (kind_of(set), navigation.name.as_str()) {
        (Some(EntityKind::User), "roles") => Ok(Membership::Roles),
        (Some(EntityKind::User), "groups") => Ok(Membership::Groups),
        _ => Err(ApiError::NotImplemented {
            message: format!(
                "links are written from the user: POST Users(<id>)/{}/$ref, not {}(<id>)/{}/$ref",
                set.name.to_ascii_lowercase(),
                set.name,
                navigation.name
            ),
            target: Some("$ref".into()),
            details: Vec::new(),
        }),
    }
}

/// The request's `If-Match`/`If-None-Match`; 428 when the feed requires
/// `If-Match` (`APP_FEED_REQUIRE_IF_MATCH`) on this write (`PATCH`, `PUT`
/// and `DELETE`) and it is absent.
fn precondition(feed: &Feed<'_>) -> Result<Precondition, ApiError> {
    let precondition = Precondition::from_request(feed.req)?;
    let required = matches!(
        *feed.req.method(),
        Method::PATCH | Method::PUT | Method::DELETE
    );
    if required && feed.state.settings.feed_require_if_match && !precondition.has_if_match() {
        return Err(ApiError::PreconditionRequired {
            message: "this service requires If-Match on PATCH, PUT and DELETE: read the entity \
                      and send its ETag (If-Match: \"<version>\"), or If-Match: * to write \
                      whatever its version"
                .into(),
        });
    }
    Ok(precondition)
}

/// The client's `return` preference.
fn preference(feed: &Feed<'_>) -> Option<Return> {
    return_preference(
        feed.req
            .headers()
            .get_all("prefer")
            .filter_map(|v| v.to_str().ok()),
    )
}

/// The culture of a user created (or replaced) without one: the best
/// valid `Accept-Language` tag, else `en-US` (as API 1's create).
fn default_culture(req: &HttpRequest) -> Culture {
    Culture::from_accept_language(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// The body of a create or update, split; 415 unless JSON. On a create
/// (`creating`), `"picture": null` is accepted and dropped: a new user has
/// no picture, so it asks for nothing, and python-odata sends every
/// property of a new entity (it knows `Core.Computed` only by its full
/// name, not through the `Core` alias), `picture` included. A picture
/// value, or `picture` on an update, stays a 400.
async fn entity_body(
    feed: &Feed<'_>,
    set: &EntitySet,
    payload: web::Payload,
    creating: bool,
) -> Result<EntityBody, ApiError> {
    reject_options(&feed.options, &["$select", "$expand"], "a write")?;
    let mut body = read_json(feed.req, payload, feed.state.settings.max_json_bytes).await?;
    if creating
        && let Value::Object(members) = &mut body
        && members.get("picture").is_some_and(Value::is_null)
        && set.entity_type.property("picture").is_some()
    {
        members.remove("picture");
    }
    split(set, body)
}

fn object(properties: serde_json::Map<String, Value>) -> Value {
    Value::Object(properties)
}

/// The user of a create or `PUT` body's properties: API 1's DTO and
/// conversion, with the request's `Accept-Language` culture as default.
fn new_user(
    feed: &Feed<'_>,
    properties: serde_json::Map<String, Value>,
) -> Result<NewUser, ApiError> {
    let body = parse_body::<dto::NewUser>(object(properties))?;
    Ok(NewUser::try_from((body, default_culture(feed.req)))?)
}

/// The path of the service root (`/api/t/o/odata`), which entity ids in
/// bodies may start with.
fn root_path<'a>(feed: &'a Feed<'_>) -> &'a str {
    let base = feed.ctx.base_url.len();
    feed.root.get(base..).unwrap_or("")
}

fn no_binds(body: &EntityBody, what: &str) -> Result<(), ApiError> {
    match body.binds.first() {
        None => Ok(()),
        Some((name, _)) => Err(ApiError::NotImplemented {
            message: format!(
                "`{name}@odata.bind` is not supported {what}: link a user's roles and groups \
                 on its create, or with POST Users(<id>)/roles/$ref and \
                 DELETE Users(<id>)/roles(<roleId>)/$ref"
            ),
            target: Some(format!("{name}@odata.bind")),
            details: Vec::new(),
        }),
    }
}

/// `POST Users|Roles|Groups`: 201 with the entity, `Location` and `ETag`
/// (`Prefer: return=minimal`: 204 with `Location` and `OData-EntityId`).
async fn create(
    feed: &Feed<'_>,
    actor: &Actor,
    set: &'static EntitySet,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let kind = kind_of(set).ok_or_else(|| no_set(set))?;
    let body = entity_body(feed, set, payload, true).await?;
    let id = match kind {
        EntityKind::User => {
            let mut roles = Vec::new();
            let mut groups = Vec::new();
            for (navigation, value) in &body.binds {
                let target = target_of(set, navigation)?;
                let ids = bind_ids(navigation, value, target, root_path(feed))?;
                match navigation.as_str() {
                    "roles" => roles = ids,
                    _ => groups = ids,
                }
            }
            let mut user = new_user(feed, body.properties)?;
            user.roles = roles;
            user.groups = groups;
            on_writer!(feed, |db| users::create(
                db,
                feed.scope,
                actor,
                user,
                Reference::Ids,
                None
            )
            .await)?
        }
        EntityKind::Role => {
            no_binds(&body, "on a role")?;
            on_writer!(feed, |db| catalog::create::<Roles>(
                db,
                feed.scope,
                actor,
                Roles::parse_new(object(body.properties))?,
            )
            .await)?
        }
        EntityKind::Group => {
            no_binds(&body, "on a group")?;
            on_writer!(feed, |db| catalog::create::<Groups>(
                db,
                feed.scope,
                actor,
                Groups::parse_new(object(body.properties))?,
            )
            .await)?
        }
    };
    let location = format!("{}/{}({id})", feed.root, set.name);
    if preference(feed) == Some(Return::Minimal) {
        return Ok(HttpResponse::NoContent()
            .insert_header((header::LOCATION, location.clone()))
            .insert_header(("OData-EntityId", location))
            .insert_header(("Preference-Applied", "return=minimal"))
            .insert_header(crate::etag::header(1))
            .finish());
    }
    let mut response = representation(feed, set, kind, id).await?;
    response.head_mut().status = StatusCode::CREATED;
    response
        .headers_mut()
        .insert(header::LOCATION, header_value(&location)?);
    if preference(feed) == Some(Return::Representation) {
        response.headers_mut().insert(
            header::HeaderName::from_static("preference-applied"),
            header::HeaderValue::from_static("return=representation"),
        );
    }
    Ok(response)
}

fn header_value(text: &str) -> Result<header::HeaderValue, ApiError> {
    header::HeaderValue::from_str(text).map_err(ApiError::internal)
}

/// 200 with the entity as it is now (the request's `$select`/`$expand`)
/// and its `ETag`.
async fn representation(
    feed: &Feed<'_>,
    set: &EntitySet,
    kind: EntityKind,
    id: Uuid,
) -> Result<HttpResponse, ApiError> {
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
    let mut response = single(feed, set, &record.json);
    if let Some(version) = record.version {
        let (name, value) = crate::etag::header(version);
        response.headers_mut().insert(name, value);
    }
    Ok(response)
}

/// The answer to an update at `version`: 204 with the `ETag`, or with
/// `Prefer: return=representation` 200 with the entity.
async fn updated(
    feed: &Feed<'_>,
    set: &EntitySet,
    kind: EntityKind,
    id: Uuid,
    version: i64,
) -> Result<HttpResponse, ApiError> {
    match preference(feed) {
        Some(Return::Representation) => {
            let mut response = representation(feed, set, kind, id).await?;
            response.headers_mut().insert(
                header::HeaderName::from_static("preference-applied"),
                header::HeaderValue::from_static("return=representation"),
            );
            Ok(response)
        }
        other => {
            let mut response = HttpResponse::NoContent();
            response.insert_header(crate::etag::header(version));
            if other == Some(Return::Minimal) {
                response.insert_header(("Preference-Applied", "return=minimal"));
            }
            Ok(response.finish())
        }
    }
}

/// `PATCH` (the properties sent) or `PUT` (`replace`: every property a
/// client may set, the unsent ones to their defaults) of an entity.
async fn update(
    feed: &Feed<'_>,
    actor: &Actor,
    set: &'static EntitySet,
    id: Uuid,
    payload: web::Payload,
    replace: bool,
) -> Result<HttpResponse, ApiError> {
    let kind = kind_of(set).ok_or_else(|| no_set(set))?;
    let precondition = precondition(feed)?;
    let body = entity_body(feed, set, payload, false).await?;
    no_binds(&body, "on an update")?;
    let version = match kind {
        EntityKind::User => {
            let changes = if replace {
                let user = new_user(feed, body.properties)?;
                users::replacement(user)
            } else {
                body.properties
                    .iter()
                    .map(|(name, value)| user_change(name, value))
                    .collect::<Result<Vec<_>, _>>()?
            };
            on_writer!(feed, |db| users::update(
                db,
                feed.scope,
                actor,
                id,
                changes,
                &precondition
            )
            .await)?
        }
        EntityKind::Role => {
            let changes = catalog_changes::<Roles>(body, replace, Roles::parse_new)?;
            on_writer!(feed, |db| catalog::update::<Roles>(
                db,
                feed.scope,
                actor,
                id,
                changes,
                &precondition
            )
            .await)?
        }
        EntityKind::Group => {
            let changes = catalog_changes::<Groups>(body, replace, Groups::parse_new)?;
            on_writer!(feed, |db| catalog::update::<Groups>(
                db,
                feed.scope,
                actor,
                id,
                changes,
                &precondition
            )
            .await)?
        }
    };
    updated(feed, set, kind, id, version).await
}

/// The changes of a role or group body: each property sent (`PATCH`), or
/// the record as `parse_new` reads it with its defaults (`PUT`).
fn catalog_changes<C: CatalogRoutes>(
    body: EntityBody,
    replace: bool,
    parse_new: fn(Value) -> Result<C::New, ApiError>,
) -> Result<Vec<catalog::Change<<C as Catalog>::Attribute>>, ApiError> {
    if replace {
        return Ok(catalog::replacement::<C>(parse_new(object(
            body.properties,
        ))?));
    }
    body.properties
        .iter()
        .map(|(name, value)| parse_change::<C>(name, value))
        .collect()
}

/// `DELETE Users(id)` (or a role or group): 204, or 404.
async fn delete(
    feed: &Feed<'_>,
    actor: &Actor,
    set: &EntitySet,
    id: Uuid,
) -> Result<HttpResponse, ApiError> {
    reject_options(&feed.options, &[], "a delete")?;
    let kind = kind_of(set).ok_or_else(|| no_set(set))?;
    let precondition = precondition(feed)?;
    let deleted = match kind {
        EntityKind::User => {
            on_writer!(feed, |db| users::delete(db, feed.scope, id, &precondition)
                .await)?
        }
        EntityKind::Role => on_writer!(feed, |db| catalog::delete::<Roles>(
            db,
            feed.scope,
            actor,
            id,
            &precondition
        )
        .await)?,
        EntityKind::Group => on_writer!(feed, |db| catalog::delete::<Groups>(
            db,
            feed.scope,
            actor,
            id,
            &precondition
        )
        .await)?,
    };
    if deleted {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(entity_not_found(set, id))
    }
}

/// 204 with the user's `ETag` after a link write.
fn linked(version: i64) -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header(crate::etag::header(version))
        .finish()
}

/// `POST Users(id)/roles/$ref` with `{"@odata.id": "Roles(<id>)"}`: adds
/// the link (nothing changes when it exists), `If-Match` compared with the
/// user's ETag.
async fn add_link(
    feed: &Feed<'_>,
    actor: &Actor,
    set: &EntitySet,
    id: Uuid,
    navigation: &Navigation,
    kind: Membership,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    reject_options(&feed.options, &[], "a $ref")?;
    let precondition = precondition(feed)?;
    let body = read_json(feed.req, payload, feed.state.settings.max_json_bytes).await?;
    let target = target_of(set, &navigation.name)?;
    let reference = reference(&body, target, root_path(feed))?;
    let version = on_writer!(feed, |db| users::change_memberships(
        db,
        feed.scope,
        actor,
        &id.to_string(),
        kind,
        MembershipOp::Add,
        Reference::Ids,
        &[reference.to_string()],
        &precondition,
    )
    .await)?;
    Ok(linked(version))
}

/// The entity a `$ref` body names: `{"@odata.id": "<entity id>"}`.
fn reference(body: &Value, target: &EntitySet, root_path: &str) -> Result<Uuid, ApiError> {
    let bad = || {
        ApiError::bad_request(
            format!(
                "the body of a $ref must be {{\"@odata.id\": \"{}(<id>)\"}}",
                target.name
            ),
            Some("@odata.id"),
        )
    };
    let object = body.as_object().ok_or_else(bad)?;
    if let Some(name) = object.keys().find(|k| !k.starts_with('@')) {
        return Err(ApiError::bad_request(
            format!(
                "unknown member `{}` in a $ref body; only \"@odata.id\" is read",
                crate::error::echo(name)
            ),
            Some(name),
        ));
    }
    let text = object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("@odata.id") || k.as_str() == "@id")
        .and_then(|(_, v)| v.as_str())
        .ok_or_else(bad)?;
    entity_id(text, target, root_path, "@odata.id")
}

/// `DELETE Users(id)/roles(roleId)/$ref`: removes the link (nothing
/// changes when there is none), `If-Match` compared with the user's ETag.
async fn remove_link(
    feed: &Feed<'_>,
    actor: &Actor,
    id: Uuid,
    kind: Membership,
    related_id: Uuid,
) -> Result<HttpResponse, ApiError> {
    reject_options(&feed.options, &[], "a $ref")?;
    let precondition = precondition(feed)?;
    let version = on_writer!(feed, |db| users::change_memberships(
        db,
        feed.scope,
        actor,
        &id.to_string(),
        kind,
        MembershipOp::Remove,
        Reference::Ids,
        &[related_id.to_string()],
        &precondition,
    )
    .await)?;
    Ok(linked(version))
}
