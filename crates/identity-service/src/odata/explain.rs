//! Explain and validate: a query taken through the read path's own steps
//! ([`super::parse`], then the translation of the read path, then the cost
//! of [`odata_sql::cost`]) without reading a row. [`validate`] stops there;
//! [`explain`] also builds the statements a first page runs, for the
//! running backend and the other two, and [`database_plan`] asks the
//! database for its plan of them (`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN`
//! on PostgreSQL and MariaDB). Nothing here is on the read path.

use std::time::Instant;

use odata_parser::ast::QueryOptions;
use odata_sql::cost::{Cost, query_cost};
use odata_sql::{Backend, CostBudget};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use sea_query::SelectStatement;
use serde_json::{Value as Json, json};

use super::schema::identity_schema;
use super::{EntityKind, QueryError, ReadContext, ReadRequest, Reader, read};
use crate::storage::sqlite_reader;
use crate::tenancy::TenantScope;

/// Which step a query failed at, or how long each step took (µs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    /// Parsing the query string.
    pub parse_us: u64,
    /// Translating it for the running backend and building its statements.
    pub translate_us: u64,
    /// The database's plan (`EXPLAIN`), when asked for.
    pub plan_us: Option<u64>,
}

impl Timings {
    /// `{"parseMicros":…,"translateMicros":…,"planMicros":…}`.
    pub fn to_json(self) -> Json {
        json!({
            "parseMicros": self.parse_us,
            "translateMicros": self.translate_us,
            "planMicros": self.plan_us,
        })
    }
}

fn micros(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// The step a query failed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The query string does not parse.
    Parse,
    /// It parses but is wrong for the model (or not supported).
    Translate,
    /// It is over the cost budget (validate only: explain reports the cost).
    Cost,
}

impl Stage {
    /// The name in error bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Parse => "parse",
            Stage::Translate => "translate",
            Stage::Cost => "cost",
        }
    }
}

/// A query that failed a step.
#[derive(Debug)]
pub struct Failed {
    /// Why, as the read path would answer it.
    pub error: QueryError,
    /// The step.
    pub stage: Stage,
    /// The time the steps up to the failure took.
    pub timings: Timings,
}

/// One statement of a first page, built for one backend.
#[derive(Debug, Clone)]
pub struct Built {
    /// `page` (the first page, one extra row telling whether more follow)
    /// or `count` (`$count=true`).
    pub role: &'static str,
    /// The statement.
    pub statement: SelectStatement,
}

/// A query the read path accepts: its options, its statements on every
/// backend, its cost.
#[derive(Debug)]
pub struct Explained {
    /// The parsed options (the AST).
    pub options: QueryOptions,
    /// The running backend.
    pub backend: Backend,
    /// The statements on each of [`Backend::ALL`], in that order.
    pub statements: Vec<(Backend, Vec<Built>)>,
    /// The cost the limits assign, and the budget.
    pub cost: Cost,
    /// `APP_QUERY_COST_BUDGET` (0: no limit).
    pub budget: CostBudget,
    /// Parse and translate times.
    pub timings: Timings,
}

/// Parses `raw` as the read path does, timed.
fn parse_timed(raw: &str, ctx: &ReadContext) -> Result<(QueryOptions, u64), Box<Failed>> {
    let start = Instant::now();
    let parsed = super::parse(raw, ctx);
    let parse_us = micros(start);
    parsed.map(|o| (o, parse_us)).map_err(|error| {
        Box::new(Failed {
            error,
            stage: Stage::Parse,
            timings: Timings {
                parse_us,
                ..Timings::default()
            },
        })
    })
}

/// What a read of `kind` would refuse before running any SQL: a parse
/// error, a translation error (unknown name, wrong type, unsupported), or a
/// cost over the budget. `Ok` holds the parsed options.
pub fn validate(
    raw: &str,
    kind: EntityKind,
    scope: &TenantScope,
    backend: Backend,
    ctx: &ReadContext,
) -> Result<QueryOptions, Box<Failed>> {
    let (options, parse_us) = parse_timed(raw, ctx)?;
    let req = ReadRequest::new(kind, &options);
    let start = Instant::now();
    let translated = read::translate(backend, scope, &req, ctx);
    let mut timings = Timings {
        parse_us,
        translate_us: micros(start),
        plan_us: None,
    };
    if let Err(error) = translated {
        return Err(Box::new(Failed {
            error,
            stage: Stage::Translate,
            timings,
        }));
    }
    let start = Instant::now();
    let checked = odata_sql::cost::check(
        identity_schema(),
        kind.entity_set(),
        &options,
        ctx.cost_budget,
    );
    timings.translate_us += micros(start);
    match checked {
        Ok(_) => Ok(options),
        Err(e) => Err(Box::new(Failed {
            error: e.into(),
            stage: Stage::Cost,
            timings,
        })),
    }
}

/// The statements of the first page of `req` on `backend`, as the read
/// path builds them (without a statement template: the template's text is
/// the same statement, cached).
fn first_page(
    backend: Backend,
    scope: &TenantScope,
    req: &ReadRequest<'_>,
    ctx: &ReadContext,
) -> Result<Vec<Built>, QueryError> {
    let plan = read::translate(backend, scope, req, ctx)?;
    let limit = read::page_limit(plan.top, ctx);
    let offset = plan.skip.unwrap_or(0);
    let mut built = Vec::new();
    match &plan.apply {
        Some(apply) => {
            if limit > 0 {
                built.push(Built {
                    role: "page",
                    statement: apply.page_statement(limit + 1, offset),
                });
            }
            if plan.count {
                built.push(Built {
                    role: "count",
                    statement: apply.count_statement(),
                });
            }
        }
        None => {
            if limit > 0 {
                built.push(Built {
                    role: "page",
                    statement: plan.page_statement(None, limit + 1, offset)?,
                });
            }
            if plan.count {
                built.push(Built {
                    role: "count",
                    statement: super::counted::count_statement(req, scope, &plan),
                });
            }
        }
    }
    Ok(built)
}

/// `raw` parsed, translated for every backend and costed (over the budget
/// is reported, not refused: explaining an expensive query is the point).
pub fn explain(
    raw: &str,
    kind: EntityKind,
    scope: &TenantScope,
    backend: Backend,
    ctx: &ReadContext,
) -> Result<Explained, Box<Failed>> {
    let (options, parse_us) = parse_timed(raw, ctx)?;
    let req = ReadRequest::new(kind, &options);
    let start = Instant::now();
    let running = first_page(backend, scope, &req, ctx);
    let mut timings = Timings {
        parse_us,
        translate_us: micros(start),
        plan_us: None,
    };
    let translate_failed = |error| {
        Box::new(Failed {
            error,
            stage: Stage::Translate,
            timings,
        })
    };
    let running = running.map_err(translate_failed)?;
    let mut statements = Vec::with_capacity(Backend::ALL.len());
    for other in Backend::ALL {
        let built = if other == backend {
            running.clone()
        } else {
            first_page(other, scope, &req, ctx).map_err(translate_failed)?
        };
        statements.push((other, built));
    }
    let start = Instant::now();
    let cost = query_cost(identity_schema(), kind.entity_set(), &options);
    timings.translate_us += micros(start);
    Ok(Explained {
        options,
        backend,
        statements,
        cost,
        budget: ctx.cost_budget,
        timings,
    })
}

/// The backend's name in explain answers.
pub fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
        Backend::MySql => "mysql",
    }
}

/// The backend reads of `reader` run on.
pub fn reader_backend(reader: Reader<'_>) -> Backend {
    let of = crate::fair::translator_backend;
    match reader {
        Reader::Sqlx(db) => of(db.get_database_backend()),
        Reader::Txn(tx) => of(tx.get_database_backend()),
        Reader::Sqlite(_) => Backend::Sqlite,
    }
}

/// `{"statement":"page","sql":"…","values":[…]}`: the SQL text and its
/// bound values (as JSON) on `backend`.
pub fn statement_json(backend: Backend, built: &Built) -> Json {
    let (sql, values) = backend.build(&built.statement);
    let values: Vec<Json> = values
        .0
        .iter()
        .map(sea_query::value::sea_value_to_json_value)
        .collect();
    json!({"statement": built.role, "sql": sql, "values": values})
}

/// The cost as JSON: total, budget, whether it is within, and the parts.
pub fn cost_json(cost: &Cost, budget: CostBudget) -> Json {
    let parts: Vec<Json> = cost
        .parts
        .iter()
        .map(|p| {
            json!({
                "what": p.what,
                "target": p.target,
                "offset": p.span.start,
                "end": p.span.end,
                "cost": p.cost,
            })
        })
        .collect();
    json!({
        "total": cost.total,
        "budget": budget.is_limited().then_some(budget.0),
        "withinBudget": !budget.is_limited() || cost.total <= budget.0,
        "parts": parts,
    })
}

/// The database's plan of `stmt` on the running backend, one line per
/// plan row: SQLite's `EXPLAIN QUERY PLAN` `detail` column, PostgreSQL's
/// `EXPLAIN` `QUERY PLAN` lines, MariaDB's `EXPLAIN` rows as
/// `table=… type=… key=… possible_keys=… rows=… extra=…`. The statement is
/// planned, never run.
pub async fn database_plan(
    reader: Reader<'_>,
    stmt: &SelectStatement,
) -> Result<Vec<String>, QueryError> {
    match reader {
        Reader::Sqlite(readers) => {
            let stmt = stmt.clone();
            readers
                .run(move |conn| sqlite_reader::explain_query_plan(conn, &stmt))
                .await
                .map_err(|e| QueryError::Database(e.into()))
        }
        Reader::Sqlx(db) => sqlx_plan(db, stmt).await.map_err(QueryError::Database),
        Reader::Txn(_) => Err(QueryError::NotSupported {
            message: "explain does not run inside a transaction".to_owned(),
            target: None,
            offset: None,
        }),
    }
}

async fn sqlx_plan(
    db: &DatabaseConnection,
    stmt: &SelectStatement,
) -> Result<Vec<String>, sea_orm::DbErr> {
    let db_backend = db.get_database_backend();
    let backend = reader_backend(Reader::Sqlx(db));
    let (sql, values) = backend.build(stmt);
    let explain = match backend {
        Backend::Sqlite => format!("EXPLAIN QUERY PLAN {sql}"),
        Backend::Postgres | Backend::MySql => format!("EXPLAIN {sql}"),
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(db_backend, explain, values))
        .await?;
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        let text = |c: &str| {
            row.try_get::<Option<String>>("", c)
                .ok()
                .flatten()
                .unwrap_or_default()
        };
        lines.push(match backend {
            Backend::Sqlite => text("detail"),
            Backend::Postgres => text("QUERY PLAN"),
            Backend::MySql => {
                let rows = row
                    .try_get::<Option<u64>>("", "rows")
                    .ok()
                    .flatten()
                    .map_or_else(|| text("rows"), |n| n.to_string());
                format!(
                    "table={} type={} key={} possible_keys={} rows={rows} extra={}",
                    text("table"),
                    text("type"),
                    text("key"),
                    text("possible_keys"),
                    text("Extra")
                )
            }
        });
    }
    Ok(lines)
}

/// The `innererror` of a failed explain or validate: where (`offset` into
/// `text`, the query as parsed), what would have been accepted there
/// (`expected`, parse errors only), the caret rendering, and the step.
pub fn inner_error(failed: &Failed, text: &str, message: &str) -> Json {
    let (offset, expected, option) = match &failed.error {
        QueryError::Parse(e, _) => (Some(e.offset), e.expected.clone(), e.option.clone()),
        QueryError::Invalid { offset, target, .. }
        | QueryError::NotSupported { offset, target, .. } => (*offset, Vec::new(), target.clone()),
        QueryError::TooExpensive(e) => (
            (e.span().end > 0).then_some(e.span().start),
            Vec::new(),
            Some(e.target().to_owned()),
        ),
        _ => (None, Vec::new(), None),
    };
    json!({
        "stage": failed.stage.as_str(),
        "option": option,
        "offset": offset,
        "expected": expected,
        "query": text,
        "caret": offset.map(|at| odata_parser::render_caret(message, text, at)),
        "timings": failed.timings.to_json(),
    })
}
