//! The one read path: a typed [`ReadRequest`] in, translated once, run on a
//! [`Source`], rows written straight into JSON bytes.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use odata_parser::ast::QueryOptions;
use odata_sql::template::{Instance, Shape as QueryShape, Template};
use odata_sql::{
    ApplyPlan, Backend, PARENT_COLUMN, RELATED_KEY_COLUMN, ReadPlan, Schema as _, TenantFilter,
    TranslateError, Translator, order_key_alias,
};
use sea_orm::DbErr;
use sea_query::SelectStatement;
use serde_json::Value as Json;
use uuid::Uuid;

use super::json::to_sql_value;
use super::query_string::canonical_without_paging;
use super::rows::{Row, RowSink, Source, index_of, json_value};
use super::schema::identity_schema;
use super::skiptoken::{self, Position};
use super::write::{self, Layout, RecordWriter};
use super::{Entity, EntityKind, Page, QueryError, ReadContext, ReadRequest, Shape};
use crate::tenancy::TenantScope;

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

/// A plan and the template of its first page's statement.
struct Templated {
    plan: ReadPlan,
    template: Template,
    layout: LayoutCell,
}

/// Shapes with their templates (`None`: the shape has none), per thread:
/// the HTTP workers and the SQLite reader threads each keep their own, so
/// no lock is taken. At most [`TEMPLATES_PER_THREAD`]; a full map is
/// emptied.
type Templates = HashMap<TemplateKey, Option<Rc<Templated>>>;

/// What a template is kept under: the backend, the entity set, the page
/// size (the template binds the first page's limit) and the query's shape.
#[derive(PartialEq, Eq, Hash)]
struct TemplateKey {
    backend: Backend,
    kind: EntityKind,
    page_size: u64,
    shape: String,
}

const TEMPLATES_PER_THREAD: usize = 512;

thread_local! {
    static TEMPLATES: RefCell<Templates> = RefCell::new(HashMap::new());
}

/// The first page of `req` from a statement template (see
/// [`odata_sql::template`]): the template and the values to bind, when
/// the request's shape has one. Made on the first request of a shape.
#[allow(clippy::type_complexity)]
fn templated<S: Source>(
    src: &S,
    scope: &TenantScope,
    req: &ReadRequest<'_>,
    ctx: &ReadContext,
) -> Result<Option<(Rc<Templated>, Vec<sea_query::Value>)>, QueryError> {
    if !req.conditions.is_empty() {
        return Ok(None);
    }
    let Some(mut shape) = QueryShape::of(req.options) else {
        return Ok(None);
    };
    let key = TemplateKey {
        backend: src.backend(),
        kind: req.kind,
        page_size: ctx.page_size,
        shape: std::mem::take(&mut shape.key),
    };
    let cached = TEMPLATES.with(|t| t.borrow().get(&key).cloned());
    let templated = match cached {
        Some(found) => found,
        None => {
            let made = derive(src, scope, req, ctx, &shape, &key.shape)?.map(Rc::new);
            TEMPLATES.with(|t| {
                let mut t = t.borrow_mut();
                if t.len() >= TEMPLATES_PER_THREAD {
                    t.clear();
                }
                t.insert(key, made.clone());
            });
            made
        }
    };
    let Some(templated) = templated else {
        return Ok(None);
    };
    // An invalid parameter: the translation reports it.
    let Some(params) = shape.values() else {
        return Ok(None);
    };
    let tenant: sea_query::Value = scope.tenant_id.into();
    Ok(templated
        .template
        .bind(&params, &tenant)
        .map(|values| (templated, values)))
}

/// Translates `req` and a perturbed copy (other parameter values, another
/// tenant) and keeps the template the two agree on.
fn derive<S: Source>(
    src: &S,
    scope: &TenantScope,
    req: &ReadRequest<'_>,
    ctx: &ReadContext,
    shape: &QueryShape,
    shape_key: &str,
) -> Result<Option<Templated>, QueryError> {
    let plan_a = plan(src, scope, req, ctx)?;
    let (_, limit, offset) = first_page(&plan_a, ctx);
    if limit == 0 || plan_a.apply.is_some() || plan_a.count {
        return Ok(None);
    }
    let statement = |plan: &ReadPlan| {
        plan.page_statement(None, limit + 1, offset)
            .map(|stmt| src.backend().build(&stmt))
    };
    let (sql_a, values_a) = statement(&plan_a)?;
    let perturbed = QueryShape::perturbed(req.options);
    let tenant_b = Uuid::from_u128(scope.tenant_id.as_u128() ^ 1);
    let Some(shape_b) = QueryShape::of(&perturbed).filter(|b| b.key == shape_key) else {
        return Ok(None);
    };
    let plan_b = Translator::new(identity_schema(), src.backend()).plan_with_conditions(
        req.kind.entity_set(),
        &perturbed,
        TenantFilter {
            value: tenant_b.into(),
        },
        &[],
    );
    let Ok(Ok((sql_b, values_b))) = plan_b.map(|p| statement(&p)) else {
        return Ok(None);
    };
    let (Some(params_a), Some(params_b)) = (shape.values(), shape_b.values()) else {
        return Ok(None);
    };
    let (tenant_a, tenant_b) = (scope.tenant_id.into(), tenant_b.into());
    let template = Template::derive(
        Instance {
            sql: &sql_a,
            values: &values_a.0,
            params: &params_a,
            tenant: &tenant_a,
        },
        Instance {
            sql: &sql_b,
            values: &values_b.0,
            params: &params_b,
            tenant: &tenant_b,
        },
    );
    Ok(template.map(|template| Templated {
        plan: plan_a,
        template,
        layout: OnceCell::new(),
    }))
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

/// The records of one page being written: each record's properties as
/// soon as its row arrives; navigation properties once the page is read.
struct Records<'p> {
    plan: &'p ReadPlan,
    shape: Shape,
    writer: RecordWriter<'p>,
    /// Rows seen (the statement asks for one more than `limit`).
    rows: u64,
    limit: u64,
    /// `[` and each record without its closing `}` (when navigation
    /// properties follow) or whole.
    out: Vec<u8>,
    /// End of each record in `out` (when navigation properties follow).
    ends: Vec<usize>,
    ids: Vec<Uuid>,
    /// The version (ETag) of the first record.
    first_version: Option<i64>,
    /// Order-key columns and the values of the last record kept.
    key_columns: Vec<usize>,
    last_keys: Option<Vec<Json>>,
    /// Whether navigation properties follow the properties.
    open: bool,
    /// The column layout of a statement template, kept by the first run.
    layout: Option<&'p LayoutCell>,
}

/// The writer's layout and the order-key columns of a template's rows.
type LayoutCell = OnceCell<(Rc<Layout>, Vec<usize>)>;

impl<'p> Records<'p> {
    fn new(plan: &'p ReadPlan, ctx: &'p ReadContext, scope: &'p TenantScope, limit: u64) -> Self {
        let writer = RecordWriter::new(
            &plan.entity,
            &plan.entity_set,
            identity_schema().namespace(),
            &plan.selection.properties,
            &plan.selection.computed,
            ctx.shape,
            scope_picture_base(ctx, scope),
            plan.key_column(),
        );
        let open = !plan.expand.is_empty()
            || matches!(ctx.shape, Shape::Feed { full: true, .. })
                && !plan.entity.navigations.is_empty()
            || ctx.shape == Shape::Api1 && !plan.selection.navigations.is_empty();
        // About 256 bytes a record; a buffer for the first 64 records (a key
        // lookup under a feed page size of 1000 must not allocate 256 KB).
        let mut out = Vec::with_capacity(256 * limit.min(64) as usize + 2);
        out.push(b'[');
        Records {
            plan,
            shape: ctx.shape,
            writer,
            rows: 0,
            limit,
            out,
            ends: Vec::new(),
            ids: Vec::new(),
            first_version: None,
            key_columns: Vec::new(),
            last_keys: None,
            open,
            layout: None,
        }
    }

    /// Writes the navigation properties (one statement per navigation for
    /// the whole page) and closes every record.
    async fn finish<S: Source>(self, src: &S, ctx: &ReadContext) -> Result<Vec<u8>, QueryError> {
        let Records {
            plan,
            shape,
            writer,
            mut out,
            ends,
            ids,
            open,
            ..
        } = self;
        if !open {
            out.push(b']');
            return Ok(out);
        }
        let schema = identity_schema();
        let position: HashMap<Uuid, usize> =
            ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let parents = || ids.iter().map(|id| (*id).into()).collect::<Vec<_>>();
        let mut tails: Vec<Vec<u8>> = vec![Vec::new(); ids.len()];
        for nav in &plan.entity.navigations {
            for (tail, id) in tails.iter_mut().zip(&ids) {
                writer.navigation_link(tail, *id, &nav.name);
            }
            if let Some(expand) = plan.expand.iter().find(|e| e.navigation.name == nav.name) {
                let members = super::expand::expansion(
                    src,
                    ctx,
                    shape,
                    writer.picture_base(),
                    plan,
                    expand,
                    &ids,
                )
                .await?;
                for (tail, m) in tails.iter_mut().zip(members) {
                    tail.extend_from_slice(&m);
                }
            } else if shape == Shape::Api1
                && plan
                    .selection
                    .navigations
                    .iter()
                    .any(|n| n.name == nav.name)
                && let Some(stmt) = plan.navigation_keys_statement(schema, nav, parents())
            {
                let mut sink = Keys {
                    columns: None,
                    position: &position,
                    keys: vec![Vec::new(); ids.len()],
                };
                run(src, ctx, &stmt, &mut sink).await?;
                for (tail, mut keys) in tails.iter_mut().zip(sink.keys) {
                    keys.sort_by(|a, b| a.to_lowercase().cmp(&b.to_lowercase()).then(a.cmp(b)));
                    tail.push(b',');
                    write::key(tail, &nav.name);
                    tail.push(b'[');
                    for (i, k) in keys.iter().enumerate() {
                        if i > 0 {
                            tail.push(b',');
                        }
                        write::string(tail, k);
                    }
                    tail.push(b']');
                }
            }
        }
        let mut page =
            Vec::with_capacity(out.len() + tails.iter().map(Vec::len).sum::<usize>() + 8);
        page.push(b'[');
        let mut begin = 1;
        for (i, (end, tail)) in ends.iter().zip(&tails).enumerate() {
            if i > 0 {
                page.push(b',');
            }
            page.extend_from_slice(&out[begin..*end]);
            page.extend_from_slice(tail);
            page.push(b'}');
            begin = *end;
        }
        page.push(b']');
        Ok(page)
    }
}

/// `{base}/api/{tenant}/{org}/identity/users/`: stored pictures are served there.
fn scope_picture_base(ctx: &ReadContext, scope: &TenantScope) -> String {
    [
        ctx.base_url.as_str(),
        "/api/",
        &scope.tenant_key,
        "/",
        &scope.org_key,
        "/identity/users/",
    ]
    .concat()
}

impl RowSink for Records<'_> {
    fn knows_columns(&self) -> bool {
        self.layout.and_then(OnceCell::get).is_some()
    }

    fn columns(&mut self, names: &[&str]) -> Result<(), DbErr> {
        if let Some((layout, key_columns)) = self.layout.and_then(OnceCell::get) {
            self.writer.use_layout(layout.clone());
            self.key_columns.clone_from(key_columns);
            return Ok(());
        }
        self.writer.prepare(names)?;
        self.key_columns = (0..self.plan.order_keys().len())
            .map(|i| index_of(names, &order_key_alias(i)))
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        if let Some(cell) = self.layout {
            let _ = cell.set((self.writer.layout().clone(), self.key_columns.clone()));
        }
        Ok(())
    }

    fn row(&mut self, row: &dyn Row) -> Result<(), DbErr> {
        self.rows += 1;
        if self.rows > self.limit {
            return Ok(());
        }
        if !self.ids.is_empty() && !self.open {
            self.out.push(b',');
        }
        let id = self.writer.open(row, &mut self.out)?;
        if self.ids.is_empty() {
            self.first_version = self.writer.version_of(row)?;
        }
        if self.open {
            self.ends.push(self.out.len());
        } else {
            self.out.push(b'}');
        }
        self.ids.push(id);
        if self.rows == self.limit && !self.key_columns.is_empty() {
            self.last_keys = Some(
                self.key_columns
                    .iter()
                    .zip(self.plan.order_keys())
                    .map(|(i, k)| json_value(row, *i, k.edm_type))
                    .collect::<Result<_, _>>()?,
            );
        }
        Ok(())
    }
}

/// Alternate keys of related entities (API 1's `roles`/`groups` arrays).
struct Keys<'a> {
    columns: Option<(usize, usize)>,
    position: &'a HashMap<Uuid, usize>,
    keys: Vec<Vec<String>>,
}

impl RowSink for Keys<'_> {
    fn columns(&mut self, names: &[&str]) -> Result<(), DbErr> {
        self.columns = Some((
            index_of(names, PARENT_COLUMN)?,
            index_of(names, RELATED_KEY_COLUMN)?,
        ));
        Ok(())
    }

    fn row(&mut self, row: &dyn Row) -> Result<(), DbErr> {
        let Some((p, k)) = self.columns else {
            return Ok(());
        };
        if let (Some(parent), Some(key)) = (row.uuid(p)?, row.text(k)?)
            && let Some(&i) = self.position.get(&parent)
        {
            self.keys[i].push(key.into_owned());
        }
        Ok(())
    }
}

/// Rows of an aggregating `$apply`, written as records of its columns.
struct Aggregates<'a> {
    apply: &'a ApplyPlan,
    columns: Vec<usize>,
    rows: u64,
    limit: u64,
    out: Vec<u8>,
    /// Int64 and Decimal values as strings (`IEEE754Compatible=true`).
    ieee754: bool,
}

impl RowSink for Aggregates<'_> {
    fn columns(&mut self, names: &[&str]) -> Result<(), DbErr> {
        self.columns = self
            .apply
            .columns
            .iter()
            .map(|c| index_of(names, &c.name))
            .collect::<Result<_, _>>()?;
        Ok(())
    }

    fn row(&mut self, row: &dyn Row) -> Result<(), DbErr> {
        self.rows += 1;
        if self.rows > self.limit {
            return Ok(());
        }
        if self.rows > 1 {
            self.out.push(b',');
        }
        self.out.push(b'{');
        for (n, (c, i)) in self.apply.columns.iter().zip(&self.columns).enumerate() {
            if n > 0 {
                self.out.push(b',');
            }
            write::key(&mut self.out, &c.name);
            write::value(&mut self.out, row, *i, c.edm_type, self.ieee754)?;
        }
        self.out.push(b'}');
        Ok(())
    }
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
