//! Change tracking on `Users`, `Roles` and `Groups` (delta links).
//!
//! A read of a collection with `Prefer: odata.track-changes` is an ordinary
//! paged read whose next links carry a *snapshot* delta token and whose
//! last page carries `@odata.deltaLink`. Following the delta link answers
//! what was created, changed or deleted since, paged like any other answer
//! (`@odata.nextLink` pages, `@odata.deltaLink` on the last one).
//!
//! A delta token is signed like a skiptoken ([`crate::odata::skiptoken`])
//! and carries the tenant, the entity set, the fingerprint of the
//! `$filter`/`$select` it belongs to, the change number it starts after
//! (`since`), the time it was issued and, inside a paged answer, where the
//! next page starts. The change numbers come from the change log
//! ([`crate::storage::changes`]): taken in commit order per tenant, so a
//! token that saw number `N` has seen every change numbered `N` or less.
//!
//! The first read takes the tenant's current number *before* it reads its
//! first page: a change that commits while the client pages has a larger
//! number and comes again in the first delta. A delta answer fixes the
//! window `(since, upto]` on its first page (`upto` the number current
//! then) and lists the records changed in it, in id order: those that exist
//! and match the `$filter` with their current values, the others as
//! deleted (`reason` `deleted` when gone, `changed` when they no longer
//! match). An import's bulk entry in the window sends every record of the
//! set that matches first. Values may be newer than `upto`: such a record
//! comes again in the next delta, which is harmless.
//!
//! A `$filter` may read the records linked to the record, one navigation
//! step away ([`steps`]; further answers 501). Whether a record matches then
//! changes with its linked records too, and the log is complete for that:
//! a user is logged as changed by every write of its memberships and of
//! each of its roles and groups (`storage::catalog` logs the members of a
//! role on every update); a role or group is logged by every membership
//! added or removed and by a member's delete, and such a delta adds, at
//! read time, the roles or groups whose current members are logged as
//! changed users in the window ([`changes::changed_ids`] with members).
//! The join runs after `upto` committed, on current links: a link removed
//! since logged its role itself, at a larger number. A bulk entry of any
//! set in the window sends every matching record.

use actix_web::HttpResponse;
use actix_web::http::header;
use odata_parser::ast::{
    Expr, ExprKind, Ident, PathRoot, PathSegment, QueryOptions, SelectItem, TextOption,
};
use odata_sql::schema::EntitySet;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use uuid::Uuid;

use super::envelope::select_list;
use super::prefer;
use super::routes::{Feed, Tracking, push_member, tracked_page};
use crate::error::ApiError;
use crate::odata::query_string::canonical_without_paging;
use crate::odata::schema::identity_schema;
use crate::odata::{self, EntityKind, ReadRequest, skiptoken};
use crate::storage::changes;
use crate::storage::counters::Counted;

mod steps;
use steps::steps;

/// The payload of a delta token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Token {
    /// The tenant it was issued for.
    #[serde(rename = "tn")]
    tenant: Uuid,
    /// The entity set.
    #[serde(rename = "es")]
    set: String,
    /// Fingerprint of the `$filter`/`$select` it belongs to.
    #[serde(rename = "fq")]
    query: String,
    /// The change number it starts after.
    #[serde(rename = "sn")]
    since: i64,
    /// When the delta link (or the first read) was issued, Unix ms.
    #[serde(rename = "at")]
    issued: i64,
    /// Inside a paged answer: where the next page starts.
    #[serde(rename = "pg", default, skip_serializing_if = "Option::is_none")]
    page: Option<Paging>,
}

/// Where the next page of a paged answer starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Paging {
    /// A next page of the first read (its `$skiptoken` says where).
    #[serde(rename = "snap")]
    Snapshot,
    /// A next page of a delta answer over the window `(since, upto]`.
    #[serde(rename = "win")]
    Window {
        #[serde(rename = "up")]
        upto: i64,
        /// Sending every record of the set (a bulk entry): the inner
        /// skiptoken of the next page, empty for the first.
        #[serde(rename = "bk", default, skip_serializing_if = "Option::is_none")]
        bulk: Option<String>,
        /// The log's records after this id.
        #[serde(rename = "af", default, skip_serializing_if = "Option::is_none")]
        after: Option<Uuid>,
    },
}

fn encode(feed: &Feed<'_>, token: &Token) -> String {
    skiptoken::sign(
        &feed.ctx.signing_key,
        &serde_json::to_vec(token).unwrap_or_default(),
    )
}

fn invalid_token() -> ApiError {
    ApiError::bad_request(
        "the $deltatoken is invalid or does not belong to this entity set, tenant, $filter and $select",
        Some("$deltatoken"),
    )
}

fn decode(feed: &Feed<'_>, text: &str) -> Result<Token, ApiError> {
    let payload = skiptoken::verify(&feed.ctx.signing_key, text).ok_or_else(invalid_token)?;
    serde_json::from_slice(&payload).map_err(|_| invalid_token())
}

/// The options a token is bound to: `$filter`, `$select` and the aliases
/// they may use.
fn tracked_options(options: &QueryOptions) -> QueryOptions {
    QueryOptions {
        filter: options.filter.clone(),
        select: options.select.clone(),
        aliases: options.aliases.clone(),
        ..QueryOptions::default()
    }
}

/// `$filter`/`$select` as URL text (empty without them).
fn tracked_query(options: &QueryOptions) -> String {
    canonical_without_paging(&tracked_options(options))
}

fn not_tracked(what: &str, target: &str) -> ApiError {
    ApiError::NotImplemented {
        message: format!(
            "{what} cannot be combined with change tracking (Prefer: odata.track-changes \
             or $deltatoken): only $filter and $select apply"
        ),
        target: Some(target.to_owned()),
        details: Vec::new(),
    }
}

/// 501 for the options change tracking does not combine with.
fn check_options(options: &QueryOptions, snapshot: bool) -> Result<(), ApiError> {
    // `$filter` and `$select` are checked below; the snapshot's own pages
    // carry a `$skiptoken`, and a delta link its `$deltatoken`.
    let refused = super::routes::present_options(options)
        .into_iter()
        .filter(|(name, _)| !matches!(*name, "$filter" | "$select" | "$deltatoken"))
        .find(|(name, present)| *present && !(snapshot && *name == "$skiptoken"));
    if let Some((name, _)) = refused {
        return Err(not_tracked(name, name));
    }
    if options.filter.is_some() && steps(options) > 1 {
        return Err(not_tracked(
            "a $filter that reads beyond the records linked to the record (a navigation \
             inside a lambda or /$count, a navigation path or $root)",
            "$filter",
        ));
    }
    if let Some(select) = &options.select
        && select.items.iter().any(|i| {
            matches!(
                i,
                SelectItem::Path {
                    options: Some(_),
                    ..
                }
            )
        })
    {
        return Err(not_tracked("nested options in $select", "$select"));
    }
    Ok(())
}

/// The answer of a collection read with change tracking, `None` when the
/// request asks for none (neither `Prefer: odata.track-changes` nor
/// `$deltatoken`).
pub(super) async fn collection(
    feed: &Feed<'_>,
    set: &EntitySet,
    kind: EntityKind,
) -> Result<Option<HttpResponse>, ApiError> {
    if !wanted(feed) {
        return Ok(None);
    }
    // Boxed: the change-tracking reads are kilobytes of future that every
    // plain collection read would otherwise carry and copy.
    Box::pin(tracked_collection(feed, set, kind)).await
}

/// Whether the request reads changes: a `$deltatoken`, or
/// `Prefer: odata.track-changes`.
fn wanted(feed: &Feed<'_>) -> bool {
    feed.options.deltatoken.is_some()
        || prefer::track_changes(
            feed.req
                .headers()
                .get_all("prefer")
                .filter_map(|v| v.to_str().ok()),
        )
}

/// [`collection`] for a request that reads changes.
async fn tracked_collection(
    feed: &Feed<'_>,
    set: &EntitySet,
    kind: EntityKind,
) -> Result<Option<HttpResponse>, ApiError> {
    let token = match &feed.options.deltatoken {
        Some(t) => Some(decode(feed, &t.value)?),
        None => None,
    };
    let preferred = prefer::track_changes(
        feed.req
            .headers()
            .get_all("prefer")
            .filter_map(|v| v.to_str().ok()),
    );
    if token.is_none() && !preferred {
        return Ok(None);
    }
    let snapshot = token
        .as_ref()
        .is_some_and(|t| t.page == Some(Paging::Snapshot));
    check_options(&feed.options, snapshot)?;
    let query = tracked_query(&feed.options);
    let fingerprint = skiptoken::fingerprint(&query);
    let Some(token) = token else {
        let (since, _) = current(feed).await?;
        let start = Token {
            tenant: feed.scope.tenant_id,
            set: set.name.clone(),
            query: fingerprint,
            since,
            issued: changes::now_millis(),
            page: None,
        };
        return first_read(feed, set, kind, &query, start).await.map(Some);
    };
    if token.tenant != feed.scope.tenant_id || token.set != set.name || token.query != fingerprint {
        return Err(invalid_token());
    }
    match token.page {
        Some(Paging::Snapshot) => {
            let start = Token {
                page: None,
                ..token
            };
            first_read(feed, set, kind, &query, start).await.map(Some)
        }
        _ => delta(feed, set, kind, &query, token).await.map(Some),
    }
}

/// The tenant's current change number, read where the lists are read:
/// the batch's transaction, or the list pool (a replica's numbers match
/// its rows).
async fn current(feed: &Feed<'_>) -> Result<(i64, i64), ApiError> {
    Ok(match feed.txn {
        Some(tx) => changes::current_in(tx, feed.scope.tenant_id).await?,
        None => changes::current_in(&feed.state.read_db, feed.scope.tenant_id).await?,
    })
}

/// `{root}/{Set}?{query}&$deltatoken=…`.
fn link(feed: &Feed<'_>, set: &EntitySet, query: &str, token: &Token) -> String {
    let sep = if query.is_empty() { "" } else { "&" };
    format!(
        "{}/{}?{query}{sep}$deltatoken={}",
        feed.root,
        set.name,
        encode(feed, token)
    )
}

/// A page of the first read: the client's options (`$skiptoken` for the
/// next pages), next links carrying the snapshot token, the delta link
/// (from `start.since`) on the last page.
async fn first_read(
    feed: &Feed<'_>,
    set: &EntitySet,
    kind: EntityKind,
    query: &str,
    start: Token,
) -> Result<HttpResponse, ApiError> {
    let mut options = feed.options.clone();
    options.deltatoken = None;
    let read = ReadRequest::new(kind, &options);
    let snapshot = Token {
        page: Some(Paging::Snapshot),
        ..start.clone()
    };
    let tracking = Tracking {
        snapshot_token: encode(feed, &snapshot),
        delta_link: link(feed, set, query, &start),
    };
    tracked_page(feed, set, &read, Some(tracking)).await
}

/// The options of a delta read: the client's `$filter` and `$select`, the
/// key added to a `$select` without it (a delta entry must name its record).
fn delta_options(options: &QueryOptions) -> QueryOptions {
    let mut tracked = tracked_options(options);
    if let Some(select) = &mut tracked.select {
        let has_key = select.items.iter().any(|item| match item {
            SelectItem::Star(_) => true,
            SelectItem::Path { segments, .. } => matches!(
                segments.as_slice(),
                [PathSegment::Member { name, .. }] if name.name.eq_ignore_ascii_case("id")
            ),
            // Actions and functions select no property, the key included.
            SelectItem::AllOperations(_) | SelectItem::Operation { .. } => false,
        });
        if !has_key {
            select.items.push(SelectItem::Path {
                segments: vec![PathSegment::Member {
                    name: Ident {
                        name: "id".to_owned(),
                        span: Default::default(),
                    },
                    key: None,
                }],
                options: None,
                span: Default::default(),
            });
        }
    }
    tracked
}

fn gone(message: &str) -> ApiError {
    ApiError::Gone {
        message: format!(
            "{message}; start over: read the collection again with Prefer: odata.track-changes \
             (without $deltatoken) for a new delta link"
        ),
    }
}

/// One page of a delta answer.
async fn delta(
    feed: &Feed<'_>,
    set: &EntitySet,
    kind: EntityKind,
    query: &str,
    token: Token,
) -> Result<HttpResponse, ApiError> {
    match feed.txn {
        Some(tx) => delta_on(tx, feed, set, kind, query, token).await,
        None => delta_on(&feed.state.read_db, feed, set, kind, query, token).await,
    }
}

/// [`delta`] with the change log read on `conn`.
async fn delta_on(
    conn: &impl sea_orm::ConnectionTrait,
    feed: &Feed<'_>,
    set: &EntitySet,
    kind: EntityKind,
    query: &str,
    token: Token,
) -> Result<HttpResponse, ApiError> {
    let settings = &feed.state.settings;
    let retention = i64::try_from(settings.delta_retention().as_millis()).unwrap_or(i64::MAX);
    let now = changes::now_millis();
    if token.issued.saturating_add(retention) <= now {
        return Err(gone(&format!(
            "the delta link is older than the change log's retention ({} days)",
            settings.delta_retention_days
        )));
    }
    let tenant = feed.scope.tenant_id;
    let counted = Counted::from(kind);
    let (current, pruned) = changes::current_in(conn, tenant).await?;
    if token.since < pruned {
        return Err(gone(
            "the changes since this delta link were removed from the change log",
        ));
    }
    // A `$filter` over the linked records: an import of any set may
    // change which records match (new links come as a bulk entry of
    // `Users`), and a role or group also changes with its members.
    let navigating = steps(&feed.options) > 0;
    let (upto, bulk, after) = match &token.page {
        Some(Paging::Window { upto, bulk, after }) => (*upto, bulk.clone(), *after),
        _ => {
            let sets: &[Counted] = if navigating {
                &Counted::ALL
            } else {
                std::slice::from_ref(&counted)
            };
            let bulk = changes::has_bulk(conn, tenant, sets, token.since, current).await?;
            (current, bulk.then(String::new), None)
        }
    };
    let options = delta_options(&feed.options);
    let page_size = feed.ctx.page_size.max(1);
    let mut entries: Vec<u8> = Vec::with_capacity(1024);
    entries.push(b'[');
    let next: Option<Paging>;
    if let Some(inner) = bulk {
        // Every record of the set that matches, paged by the read path.
        let mut options = options;
        if !inner.is_empty() {
            options.skiptoken = Some(TextOption {
                value: inner,
                span: Default::default(),
            });
        }
        let read = ReadRequest::new(kind, &options);
        let page = odata::list(feed.list_reader(), feed.scope, &read, &feed.ctx)
            .await
            .map_err(|e| feed.taught(e))?;
        let items = page.items.get(1..page.items.len().saturating_sub(1));
        entries.extend_from_slice(items.unwrap_or_default());
        let inner_next = page
            .next_link
            .as_deref()
            .and_then(|l| l.rsplit_once("$skiptoken="))
            .map(|(_, t)| t.to_owned());
        next = Some(Paging::Window {
            upto,
            bulk: inner_next,
            after: None,
        });
    } else {
        let ids = changes::changed_ids(
            conn,
            tenant,
            counted,
            token.since,
            upto,
            after,
            page_size,
            navigating,
        )
        .await?;
        let mut found: std::collections::BTreeSet<Uuid> = Default::default();
        if !ids.is_empty() {
            let mut read = ReadRequest::new(kind, &options);
            read.conditions.push(id_in(&ids));
            let mut ctx = feed.ctx.clone();
            ctx.page_size = ids.len() as u64;
            let page = odata::list(feed.list_reader(), feed.scope, &read, &ctx)
                .await
                .map_err(|e| feed.taught(e))?;
            let records: Vec<serde_json::Map<String, Json>> =
                serde_json::from_slice(&page.items).map_err(ApiError::internal)?;
            for record in &records {
                if let Some(id) = record
                    .get("id")
                    .and_then(Json::as_str)
                    .and_then(|s| Uuid::parse_str(s).ok())
                {
                    found.insert(id);
                }
                if entries.len() > 1 {
                    entries.push(b',');
                }
                serde_json::to_writer(&mut entries, record).map_err(ApiError::internal)?;
            }
            let missing: Vec<Uuid> = ids
                .iter()
                .copied()
                .filter(|id| !found.contains(id))
                .collect();
            let still_there = changes::existing(conn, tenant, counted, &missing).await?;
            let v401 = prefer::allows_401(
                feed.req
                    .headers()
                    .get("odata-maxversion")
                    .and_then(|v| v.to_str().ok()),
            );
            for id in missing {
                let reason = if still_there.contains(&id) {
                    "changed"
                } else {
                    "deleted"
                };
                if entries.len() > 1 {
                    entries.push(b',');
                }
                removed_entry(feed, set, id, reason, v401, &mut entries);
            }
        }
        next = (ids.len() as u64 == page_size).then(|| Paging::Window {
            upto,
            bulk: None,
            after: ids.last().copied(),
        });
    }
    entries.push(b']');

    let fragment = format!(
        "{}{}/$delta",
        set.name,
        select_list(identity_schema(), set, feed.options.select.as_ref(), None)
    );
    let mut body = Vec::with_capacity(entries.len() + 512);
    if feed.open_body(&fragment, &mut body) {
        body.push(b',');
    }
    body.extend_from_slice(b"\"value\":");
    body.extend_from_slice(&entries);
    body.push(b',');
    match next {
        Some(paging) => {
            let next_token = Token {
                page: Some(paging),
                ..token.clone()
            };
            push_member(
                &mut body,
                "@odata.nextLink",
                &link(feed, set, query, &next_token),
            );
        }
        None => {
            let following = Token {
                since: upto,
                issued: changes::now_millis(),
                page: None,
                ..token.clone()
            };
            push_member(
                &mut body,
                "@odata.deltaLink",
                &link(feed, set, query, &following),
            );
        }
    }
    body.push(b'}');
    let mut response = feed.json(body);
    feed.preference_applied(&mut response, true);
    if prefer::allows_401(
        feed.req
            .headers()
            .get("odata-maxversion")
            .and_then(|v| v.to_str().ok()),
    ) {
        response.headers_mut().insert(
            header::HeaderName::from_static("odata-version"),
            header::HeaderValue::from_static("4.01"),
        );
    }
    Ok(response)
}

/// A deleted entry: the 4.0 deleted-entity form, or the 4.01 `@removed`
/// form when the client allows 4.01.
fn removed_entry(
    feed: &Feed<'_>,
    set: &EntitySet,
    id: Uuid,
    reason: &str,
    v401: bool,
    out: &mut Vec<u8>,
) {
    let entity_id = format!("{}/{}({id})", feed.root, set.name);
    let entry = if v401 {
        serde_json::json!({
            "@removed": {"reason": reason},
            "@id": entity_id,
            "id": id.to_string(),
        })
    } else {
        serde_json::json!({
            "@odata.context": feed.context(&format!("{}/$deletedEntity", set.name)),
            "id": entity_id,
            "reason": reason,
        })
    };
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(out, &entry);
}

/// `id in (…)` as an AST node.
fn id_in(ids: &[Uuid]) -> Expr {
    use odata_parser::ast::{In, Literal, MemberPath};
    let node = |kind| Expr {
        kind,
        span: Default::default(),
    };
    let path = MemberPath {
        root: PathRoot::Implicit,
        segments: vec![PathSegment::Member {
            name: Ident {
                name: "id".to_owned(),
                span: Default::default(),
            },
            key: None,
        }],
        span: Default::default(),
    };
    node(ExprKind::In(In {
        expr: Box::new(node(ExprKind::Path(path))),
        list: Box::new(node(ExprKind::List(
            ids.iter()
                .map(|id| node(ExprKind::Literal(Literal::Guid(id.to_string()))))
                .collect(),
        ))),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_through_json() {
        let token = Token {
            tenant: Uuid::nil(),
            set: "Users".into(),
            query: "q".into(),
            since: 7,
            issued: 1,
            page: Some(Paging::Window {
                upto: 9,
                bulk: Some(String::new()),
                after: Some(Uuid::nil()),
            }),
        };
        let text = serde_json::to_vec(&token).expect("json");
        assert_eq!(serde_json::from_slice::<Token>(&text).expect("back"), token);
        // A skiptoken's payload is no delta token.
        assert!(serde_json::from_slice::<Token>(br#"{"k":[],"q":"x"}"#).is_err());
    }
}
