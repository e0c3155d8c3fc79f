//! `list` and `get_by_id`: parse, translate, execute, shape.

use std::collections::HashMap;

use odata_parser::ast::QueryOptions;
use odata_sql::schema::EdmType;
use odata_sql::{
    ApplyPlan, Backend, PARENT_COLUMN, RELATED_KEY_COLUMN, ReadPlan, TenantFilter, TranslateError,
    Translator, computed_column_alias, order_key_alias,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::json::{decode, record, to_sql_value};
use super::query_string::{self, kept_for_next_link};
use super::schema::identity_schema;
use super::skiptoken::{self, Position};
use super::{Api1Page, EntityKind, QueryError, ReadContext};
use crate::tenancy::TenantScope;

fn backend_of(db: &DatabaseConnection) -> Backend {
    match db.get_database_backend() {
        DbBackend::Postgres => Backend::Postgres,
        DbBackend::MySql => Backend::MySql,
        _ => Backend::Sqlite,
    }
}

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
            },
        }
    }
}

fn plan(
    db: &DatabaseConnection,
    scope: &TenantScope,
    kind: EntityKind,
    options: &QueryOptions,
) -> Result<ReadPlan, QueryError> {
    let translator = Translator::new(identity_schema(), backend_of(db));
    Ok(translator.plan(
        kind.entity_set(),
        options,
        TenantFilter {
            value: scope.tenant_id.into(),
        },
    )?)
}

fn invalid_token() -> QueryError {
    QueryError::Invalid {
        message: "the $skiptoken is invalid or does not belong to this query".to_owned(),
        target: Some("$skiptoken".to_owned()),
        offset: None,
    }
}

pub(crate) async fn list(
    db: &DatabaseConnection,
    scope: &TenantScope,
    kind: EntityKind,
    raw_query: &str,
    ctx: &ReadContext,
) -> Result<Api1Page, QueryError> {
    let options = query_string::parse(raw_query)?;
    let plan = plan(db, scope, kind, &options)?;
    let kept = kept_for_next_link(raw_query);
    let fingerprint = skiptoken::fingerprint(&kept);
    if let Some(apply) = &plan.apply {
        return list_aggregated(db, &plan, apply, &options, &kept, fingerprint, ctx).await;
    }

    // Where this page starts and how many rows the client still wants.
    let (after, wanted, offset) = match &options.skiptoken {
        Some(token) => {
            let position =
                skiptoken::decode(&ctx.signing_key, &token.value).ok_or_else(invalid_token)?;
            if position.query != fingerprint || position.keys.len() != plan.order_keys().len() {
                return Err(invalid_token());
            }
            let values = position
                .keys
                .iter()
                .zip(plan.order_keys())
                .map(|(v, k)| to_sql_value(v, k.edm_type))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(invalid_token)?;
            (Some(values), position.remaining, 0)
        }
        None => (None, plan.top, plan.skip.unwrap_or(0)),
    };
    let page_size = ctx.page_size.max(1);
    let limit = wanted.map_or(page_size, |w| w.min(page_size));

    let count = if plan.count && super::counted::counter_answers(&options) {
        Some(super::counted::count_from_counter(db, scope, kind).await?)
    } else if plan.count {
        let stmt = plan.count_statement();
        let row = db.query_one(&stmt).await?;
        let n = match row {
            Some(row) => decode(&row, "count", EdmType::Int64)?.as_u64().unwrap_or(0),
            None => 0,
        };
        Some(n)
    } else {
        None
    };

    if limit == 0 {
        return Ok(Api1Page {
            items: Vec::new(),
            next_page_link: None,
            count,
        });
    }

    let stmt = plan.page_statement(after.as_deref(), limit + 1, offset)?;
    let mut rows = db.query_all(&stmt).await?;
    let more_rows = rows.len() as u64 > limit;
    rows.truncate(limit as usize);

    let still_wanted = wanted.map(|w| w - rows.len() as u64);
    let next_page_link = match rows.last() {
        Some(last) if more_rows && still_wanted != Some(0) => {
            let mut keys = Vec::with_capacity(plan.order_keys().len());
            for (i, k) in plan.order_keys().iter().enumerate() {
                keys.push(decode(last, &order_key_alias(i), k.edm_type)?);
            }
            let token = skiptoken::encode(
                &ctx.signing_key,
                &Position {
                    keys,
                    remaining: still_wanted,
                    query: fingerprint,
                },
            );
            let mut query: Vec<String> = kept.iter().map(|s| (*s).to_owned()).collect();
            query.push(format!("$skiptoken={token}"));
            Some(format!("{}{}?{}", ctx.base_url, ctx.path, query.join("&")))
        }
        _ => None,
    };

    let items = shape(db, scope, &plan, &rows, ctx).await?;
    Ok(Api1Page {
        items,
        next_page_link,
        count,
    })
}

pub(crate) async fn get_by_id(
    db: &DatabaseConnection,
    scope: &TenantScope,
    kind: EntityKind,
    id: Uuid,
    raw_query: &str,
    ctx: &ReadContext,
) -> Result<Option<Json>, QueryError> {
    let options = query_string::parse(raw_query)?;
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
    let plan = plan(db, scope, kind, &options)?;
    let stmt = plan.single_statement(id.into());
    let rows = db.query_all(&stmt).await?;
    let mut items = shape(db, scope, &plan, &rows, ctx).await?;
    Ok(items.pop())
}

/// A page of an aggregating `$apply`: rows of the result's columns, paged
/// by position (the skiptoken carries the offset reached).
async fn list_aggregated(
    db: &DatabaseConnection,
    plan: &ReadPlan,
    apply: &ApplyPlan,
    options: &QueryOptions,
    kept: &[&str],
    fingerprint: String,
    ctx: &ReadContext,
) -> Result<Api1Page, QueryError> {
    let (offset, wanted) = match &options.skiptoken {
        Some(token) => {
            let position =
                skiptoken::decode(&ctx.signing_key, &token.value).ok_or_else(invalid_token)?;
            let offset = match position.keys.as_slice() {
                [Json::Number(n)] if position.query == fingerprint => {
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
        match db.query_one(&apply.count_statement()).await? {
            Some(row) => Some(decode(&row, "count", EdmType::Int64)?.as_u64().unwrap_or(0)),
            None => Some(0),
        }
    } else {
        None
    };
    if limit == 0 {
        return Ok(Api1Page {
            items: Vec::new(),
            next_page_link: None,
            count,
        });
    }
    let mut rows = db
        .query_all(&apply.page_statement(limit + 1, offset))
        .await?;
    let more_rows = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut item = Map::new();
        for c in &apply.columns {
            item.insert(c.name.clone(), decode(row, &c.name, c.edm_type)?);
        }
        items.push(Json::Object(item));
    }
    let still_wanted = wanted.map(|w| w - rows.len() as u64);
    let next_page_link = (more_rows && still_wanted != Some(0)).then(|| {
        let token = skiptoken::encode(
            &ctx.signing_key,
            &Position {
                keys: vec![Json::from(offset + rows.len() as u64)],
                remaining: still_wanted,
                query: fingerprint,
            },
        );
        let mut query: Vec<String> = kept.iter().map(|s| (*s).to_owned()).collect();
        query.push(format!("$skiptoken={token}"));
        format!("{}{}?{}", ctx.base_url, ctx.path, query.join("&"))
    });
    Ok(Api1Page {
        items,
        next_page_link,
        count,
    })
}

/// Shapes rows into records, adding related keys and expansions (one query
/// per navigation for the whole page).
async fn shape(
    db: &DatabaseConnection,
    scope: &TenantScope,
    plan: &ReadPlan,
    rows: &[QueryResult],
    ctx: &ReadContext,
) -> Result<Vec<Json>, QueryError> {
    let key_col = plan.key_column().to_owned();
    let mut records: Vec<Map<String, Json>> = Vec::with_capacity(rows.len());
    let mut ids: Vec<Uuid> = Vec::with_capacity(rows.len());
    for row in rows {
        let mut rec = record(row, &plan.entity, &plan.selection.properties, scope, ctx)?;
        for c in &plan.selection.computed {
            rec.insert(
                c.name.clone(),
                decode(row, &computed_column_alias(&c.name), c.edm_type)?,
            );
        }
        records.push(rec);
        ids.push(row.try_get::<Uuid>("", &key_col)?);
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let parents = || ids.iter().map(|id| (*id).into()).collect::<Vec<_>>();
    let schema = identity_schema();

    let key_lists = if ctx.navigation_keys {
        plan.selection.navigations.as_slice()
    } else {
        &[]
    };
    for nav in key_lists {
        if plan.expand.iter().any(|e| e.navigation.name == nav.name) {
            continue;
        }
        let Some(stmt) = plan.navigation_keys_statement(schema, nav, parents()) else {
            continue;
        };
        let mut by_parent: HashMap<Uuid, Vec<String>> = HashMap::new();
        for row in db.query_all(&stmt).await? {
            let parent = row.try_get::<Uuid>("", PARENT_COLUMN)?;
            let key = row.try_get::<String>("", RELATED_KEY_COLUMN)?;
            by_parent.entry(parent).or_default().push(key);
        }
        for (rec, id) in records.iter_mut().zip(&ids) {
            let mut keys = by_parent.remove(id).unwrap_or_default();
            keys.sort_by(|a, b| a.to_lowercase().cmp(&b.to_lowercase()).then(a.cmp(b)));
            rec.insert(
                nav.name.clone(),
                Json::Array(keys.into_iter().map(Json::String).collect()),
            );
        }
    }

    for expand in &plan.expand {
        let stmt = plan.expand_statement(expand, parents());
        let mut by_parent: HashMap<Uuid, Vec<Json>> = HashMap::new();
        for row in db.query_all(&stmt).await? {
            let parent = row.try_get::<Uuid>("", PARENT_COLUMN)?;
            let related = record(&row, &expand.target, &expand.properties, scope, ctx)?;
            by_parent
                .entry(parent)
                .or_default()
                .push(Json::Object(related));
        }
        // Nested $skip/$top apply per parent, in the expansion's order.
        let skip = usize::try_from(expand.skip.unwrap_or(0)).unwrap_or(usize::MAX);
        let top = expand
            .top
            .map_or(usize::MAX, |t| usize::try_from(t).unwrap_or(usize::MAX));
        for (rec, id) in records.iter_mut().zip(&ids) {
            let related = by_parent.remove(id).unwrap_or_default();
            rec.insert(
                expand.navigation.name.clone(),
                Json::Array(related.into_iter().skip(skip).take(top).collect()),
            );
        }
    }

    Ok(records.into_iter().map(Json::Object).collect())
}
