//! The one read path: a typed [`ReadRequest`] in, translated once, run on a
//! [`Source`], rows written straight into JSON bytes.

use odata_parser::ast::QueryOptions;
use odata_sql::{ApplyPlan, Backend, ReadPlan, TenantFilter, TranslateError, Translator};
use sea_orm::DbErr;
use sea_query::SelectStatement;
use serde_json::Value as Json;
use uuid::Uuid;

use super::json::to_sql_value;
use super::query_string::canonical_without_paging;
use super::rows::{Row, RowSink, Source, index_of};
use super::schema::identity_schema;
use super::skiptoken::{self, Position};
use super::{Entity, Page, QueryError, ReadContext, ReadRequest};
use crate::tenancy::TenantScope;

mod sinks;
mod templates;

use sinks::{Aggregates, LayoutCell, Records};
use templates::templated;

impl From<TranslateError> for QueryError {
    fn from(e: TranslateError) -> Self {
        let span = e.span();
        let offset = (span.end > 0).then_some(span.start);
        // The position goes into the message too, so that every error body
        // tells where the problem is.
        let located = |message: String, target: &str| match offset {
            Some(at) => format!("{message} (in {target} at offset {at})"),
            None => message,
        };
        match e {
            TranslateError::Invalid {
                message, target, ..
            } => QueryError::Invalid {
                message: located(message, &target),
                target: Some(target),
                offset,
            },
            TranslateError::Unsupported {
                message, target, ..
            } => QueryError::NotSupported {
                message: located(message, &target),
                target: Some(target),
                offset,
            },
        }
    }
}

fn plan<S: Source>(
    src: &S,
    scope: &TenantScope,
    req: &ReadRequest<'_>,
    ctx: &ReadContext,
) -> Result<ReadPlan, QueryError> {
    translate(src.backend(), scope, req, ctx)
}

/// The read path's translation of `req` for `backend` (also what
/// `explain` shows, for every backend).
pub(super) fn translate(
    backend: Backend,
    scope: &TenantScope,
    req: &ReadRequest<'_>,
    ctx: &ReadContext,
) -> Result<ReadPlan, QueryError> {
    let translator =
        Translator::new(identity_schema(), backend).with_max_expand_depth(ctx.expand_max_depth);
    Ok(translator.plan_with_conditions(
        req.kind.entity_set(),
        req.options,
        TenantFilter {
            value: scope.tenant_id.into(),
        },
        &req.conditions,
    )?)
}

fn invalid_token() -> QueryError {
    QueryError::Invalid {
        message: "the $skiptoken is invalid or does not belong to this query".to_owned(),
        target: Some("$skiptoken".to_owned()),
        offset: None,
    }
}

/// The absolute next link: the request path, the canonical options
/// (`query`) and a skiptoken for position `keys` bound to them.
fn next_link(ctx: &ReadContext, query: &str, keys: Vec<Json>, remaining: Option<u64>) -> String {
    let token = skiptoken::encode(
        &ctx.signing_key,
        &Position {
            keys,
            remaining,
            query: skiptoken::fingerprint(query),
        },
    );
    let sep = if query.is_empty() { "" } else { "&" };
    format!(
        "{}{}?{query}{sep}$skiptoken={token}",
        ctx.base_url, ctx.path
    )
}

/// Runs one statement, counting it.
pub(super) async fn run<S: Source>(
    src: &S,
    ctx: &ReadContext,
    stmt: &SelectStatement,
    sink: &mut dyn RowSink,
) -> Result<(), DbErr> {
    if let Some(stats) = &ctx.stats {
        stats.statement();
    }
    src.query(stmt, sink).await
}

/// The single integer column `count` of a count statement.
async fn count_of<S: Source>(
    src: &S,
    ctx: &ReadContext,
    stmt: &SelectStatement,
) -> Result<u64, QueryError> {
    struct One(Option<usize>, u64);
    impl RowSink for One {
        fn columns(&mut self, names: &[&str]) -> Result<(), DbErr> {
            self.0 = Some(index_of(names, "count")?);
            Ok(())
        }
        fn row(&mut self, row: &dyn Row) -> Result<(), DbErr> {
            if let Some(i) = self.0 {
                self.1 = u64::try_from(row.int(i)?.unwrap_or(0)).unwrap_or(0);
            }
            Ok(())
        }
    }
    let mut one = One(None, 0);
    run(src, ctx, stmt, &mut one).await?;
    Ok(one.1)
}

/// Where a page starts: after a keyset position or at an offset, and how
/// many rows the client still wants.
struct Start {
    after: Option<Vec<sea_query::Value>>,
    wanted: Option<u64>,
    offset: u64,
}

/// The number of entities `req` addresses (its `$filter`, `$search` and
/// conditions; `$top`/`$skip` do not apply).
pub(crate) async fn count<S: Source>(
    src: &S,
    scope: &TenantScope,
    req: &ReadRequest<'_>,
    ctx: &ReadContext,
) -> Result<u64, QueryError> {
    let plan = plan(src, scope, req, ctx)?;
    match &plan.apply {
        Some(apply) => count_of(src, ctx, &apply.count_statement()).await,
        None => {
            count_of(
                src,
                ctx,
                &super::counted::count_statement(req, scope, &plan),
            )
            .await
        }
    }
}

pub(crate) async fn list<S: Source>(
    src: &S,
    scope: &TenantScope,
    req: &ReadRequest<'_>,
    ctx: &ReadContext,
) -> Result<Page, QueryError> {
    if let Some((templated, values)) = templated(src, scope, req, ctx)? {
        let plan = &templated.plan;
        // The template's statement has this limit and offset bound already.
        let (wanted, limit, _) = first_page(plan, ctx);
        if limit == 0 {
            return Ok(empty_page(None));
        }
        let query = PageQuery::Text(&templated.template.sql, values, &templated.layout);
        return page(src, scope, ctx, plan, query, limit, wanted, None, || {
            canonical_without_paging(req.options)
        })
        .await;
    }
    let plan = plan(src, scope, req, ctx)?;
    let options = req.options;
    // The canonical options (without paging) are the fingerprint a token is
    // bound to and the query of next links; made once, when needed.
    let mut canonical: Option<String> = None;
    let mut canonical_text = || {
        canonical
            .get_or_insert_with(|| canonical_without_paging(options))
            .clone()
    };
    if let Some(apply) = &plan.apply {
        return list_aggregated(src, &plan, apply, options, canonical_text, ctx).await;
    }

    let start = match &options.skiptoken {
        Some(token) => {
            let position =
                skiptoken::decode(&ctx.signing_key, &token.value).ok_or_else(invalid_token)?;
            if position.query != skiptoken::fingerprint(&canonical_text())
                || position.keys.len() != plan.order_keys().len()
            {
                return Err(invalid_token());
            }
            let values = position
                .keys
                .iter()
                .zip(plan.order_keys())
                .map(|(v, k)| to_sql_value(v, k.edm_type))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(invalid_token)?;
            Start {
                after: Some(values),
                wanted: position.remaining,
                offset: 0,
            }
        }
        None => Start {
            after: None,
            wanted: plan.top,
            offset: plan.skip.unwrap_or(0),
        },
    };
    let limit = page_limit(start.wanted, ctx);

    let count = if plan.count {
        let stmt = super::counted::count_statement(req, scope, &plan);
        Some(count_of(src, ctx, &stmt).await?)
    } else {
        None
    };
    if limit == 0 {
        return Ok(empty_page(count));
    }

    let stmt = plan.page_statement(start.after.as_deref(), limit + 1, start.offset)?;
    let query = PageQuery::Built(Box::new(stmt));
    page(
        src,
        scope,
        ctx,
        &plan,
        query,
        limit,
        start.wanted,
        count,
        canonical_text,
    )
    .await
}

fn empty_page(count: Option<u64>) -> Page {
    Page {
        items: b"[]".to_vec(),
        next_link: None,
        count,
    }
}

/// How many records the client wants (`$top`), how many go on the first
/// page and how many are skipped before it (`$skip`).
fn first_page(plan: &ReadPlan, ctx: &ReadContext) -> (Option<u64>, u64, u64) {
    (plan.top, page_limit(plan.top, ctx), plan.skip.unwrap_or(0))
}

/// The records a page holds when the client still wants `wanted`: at most
/// the page size.
pub(super) fn page_limit(wanted: Option<u64>, ctx: &ReadContext) -> u64 {
    let page_size = ctx.page_size.max(1);
    wanted.map_or(page_size, |w| w.min(page_size))
}

/// The statement of a page: built from the plan, or a template's text.
enum PageQuery<'t> {
    Built(Box<SelectStatement>),
    Text(&'t str, Vec<sea_query::Value>, &'t LayoutCell),
}

/// Runs the statement of a page (`limit + 1` rows) and writes its records
/// and next link.
#[allow(clippy::too_many_arguments)]
async fn page<S: Source>(
    src: &S,
    scope: &TenantScope,
    ctx: &ReadContext,
    plan: &ReadPlan,
    query: PageQuery<'_>,
    limit: u64,
    wanted: Option<u64>,
    count: Option<u64>,
    mut canonical_text: impl FnMut() -> String,
) -> Result<Page, QueryError> {
    let mut records = Records::new(plan, ctx, scope, limit);
    match query {
        PageQuery::Built(stmt) => run(src, ctx, &stmt, &mut records).await?,
        PageQuery::Text(sql, values, layout) => {
            records.layout = Some(layout);
            if let Some(stats) = &ctx.stats {
                stats.statement();
                stats.count_templated();
            }
            src.query_text(sql, values, &mut records).await?
        }
    }
    let more_rows = records.rows > limit;
    let sent = records.ids.len() as u64;
    let still_wanted = wanted.map(|w| w - sent);
    let next_link = match records.last_keys.take() {
        Some(keys) if more_rows && still_wanted != Some(0) => {
            Some(next_link(ctx, &canonical_text(), keys, still_wanted))
        }
        _ => None,
    };
    let items = records.finish(src, ctx).await?;
    Ok(Page {
        items,
        next_link,
        count,
    })
}

/// The record with this id, shaped per the request's `$select`/`$expand`
/// (the request's conditions apply too); `None` when there is none.
pub(crate) async fn get<S: Source>(
    src: &S,
    scope: &TenantScope,
    req: &ReadRequest<'_>,
    id: Uuid,
    ctx: &ReadContext,
) -> Result<Option<Entity>, QueryError> {
    let options = req.options;
    for (name, present) in [
        ("$filter", options.filter.is_some()),
        ("$orderby", options.orderby.is_some()),
        ("$top", options.top.is_some()),
        ("$skip", options.skip.is_some()),
        ("$count", options.count.is_some()),
        ("$search", options.search.is_some()),
        ("$skiptoken", options.skiptoken.is_some()),
        ("$apply", options.apply.is_some()),
    ] {
        if present {
            return Err(QueryError::Invalid {
                message: format!("{name} does not apply to a single record"),
                target: Some(name.to_owned()),
                offset: None,
            });
        }
    }
    let plan = plan(src, scope, req, ctx)?;
    let stmt = plan.single_statement(id.into());
    let mut records = Records::new(&plan, ctx, scope, 1);
    run(src, ctx, &stmt, &mut records).await?;
    if records.ids.is_empty() {
        return Ok(None);
    }
    let version = records.first_version;
    let mut items = records.finish(src, ctx).await?;
    // `[{...}]` -> `{...}`
    items.pop();
    items.remove(0);
    Ok(Some(Entity {
        json: items,
        version,
    }))
}

/// A page of an aggregating `$apply`: rows of the result's columns, paged
/// by position (the skiptoken carries the offset reached).
async fn list_aggregated<S: Source>(
    src: &S,
    plan: &ReadPlan,
    apply: &ApplyPlan,
    options: &QueryOptions,
    mut canonical_text: impl FnMut() -> String,
    ctx: &ReadContext,
) -> Result<Page, QueryError> {
    let (offset, wanted) = match &options.skiptoken {
        Some(token) => {
            let position =
                skiptoken::decode(&ctx.signing_key, &token.value).ok_or_else(invalid_token)?;
            let offset = match position.keys.as_slice() {
                [Json::Number(n)]
                    if position.query == skiptoken::fingerprint(&canonical_text()) =>
                {
                    n.as_u64().ok_or_else(invalid_token)?
                }
                _ => return Err(invalid_token()),
            };
            (offset, position.remaining)
        }
        None => (plan.skip.unwrap_or(0), plan.top),
    };
    let page_size = ctx.page_size.max(1);
    let limit = wanted.map_or(page_size, |w| w.min(page_size));
    let count = if plan.count {
        Some(count_of(src, ctx, &apply.count_statement()).await?)
    } else {
        None
    };
    if limit == 0 {
        return Ok(Page {
            items: b"[]".to_vec(),
            next_link: None,
            count,
        });
    }
    let mut sink = Aggregates {
        apply,
        columns: Vec::new(),
        rows: 0,
        limit,
        out: vec![b'['],
        ieee754: ctx.shape.ieee754(),
    };
    run(
        src,
        ctx,
        &apply.page_statement(limit + 1, offset),
        &mut sink,
    )
    .await?;
    let more_rows = sink.rows > limit;
    let sent = sink.rows.min(limit);
    let mut items = sink.out;
    items.push(b']');
    let still_wanted = wanted.map(|w| w - sent);
    let next_link = (more_rows && still_wanted != Some(0)).then(|| {
        let keys = vec![Json::from(offset + sent)];
        next_link(ctx, &canonical_text(), keys, still_wanted)
    });
    Ok(Page {
        items,
        next_link,
        count,
    })
}
