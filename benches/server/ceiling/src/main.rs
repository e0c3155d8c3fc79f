//! The benchmark's ceiling: five OData answers of the side-by-side benchmark,
//! written by hand over the SQLite database `odata-users import` made.
//!
//! No OData parsing, no translator, no ORM, no authentication: each
//! supported URL shape maps to one hand-written SQL statement with bound
//! parameters, prepared once per worker (see [`COUNT_SQL`]), on a blocking
//! rusqlite connection owned by the actix worker thread, and the
//! rows are written straight into the JSON bytes our server writes for the
//! same URL (properties in `$metadata` declaration order). What this server
//! reaches is the upper bound for those queries on this stack (actix-web 4 +
//! SQLite); see README.md.
//!
//!     odata-ceiling --db PATH [--bind 127.0.0.1:0] [--workers N] [--no-qpsg]
//!
//! Prints `listening on http://ADDR` on stdout once bound (as `odata-users
//! serve` does).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, SecondsFormat, TimeZone, Utc};
use rusqlite::config::DbConfig;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Row, params};

mod json;

use json::{json_str, write_user};

/// Our feed's default page size (`APP_FEED_PAGE_SIZE`, `prefer::DEFAULT_PAGE_SIZE`).
const PAGE_SIZE: u64 = 1000;

/// The statements. Every one is scoped to the tenant (`users` is shared by
/// all tenants) and, without `$orderby`, ordered by key as our feed does;
/// the values are bound parameters (`?1` tenant, `?2` LIMIT, `?3`/`?4` the
/// filter's values). Each worker prepares each statement once
/// (`prepare_cached`).
///
/// The connections run with SQLite's query planner stability guarantee
/// (`SQLITE_DBCONFIG_ENABLE_QPSG`): the plan may not depend on the bound
/// values. Without it (`--no-qpsg`) SQLite re-prepares these statements on
/// EVERY execution: the planner looks at bound values (STAT4 probes of
/// indexed comparisons, the LIMIT) and marks the statement to be recompiled
/// whenever they are bound again. Measured on N=2000: a fifth of the CPU of
/// `page100` and four tenths of `key_eq` (see README.md); the plans of these
/// five statements are the same either way.
macro_rules! columns_all {
    () => {
        "SELECT id, user_key, name, culture, email, is_technician, last_login, status, \
         has_picture, picture_url, is_active, is_system, created_by, created_on, modified_by, \
         modified_on, version FROM users WHERE tenant_id = ?1"
    };
}
macro_rules! columns_select3 {
    () => {
        "SELECT id, user_key, name, email, version FROM users WHERE tenant_id = ?1"
    };
}
macro_rules! page_sql {
    ($columns:ident, $condition:literal) => {
        concat!($columns!(), $condition, " ORDER BY id LIMIT ?2")
    };
}

/// The page statement of a query shape.
fn page_sql(select3: bool, filter: &Filter) -> &'static str {
    match (select3, filter) {
        (false, Filter::None) => page_sql!(columns_all, ""),
        (false, Filter::UserKey(_)) => page_sql!(columns_all, " AND user_key = ?3"),
        (false, Filter::StatusTech(..)) => {
            page_sql!(columns_all, " AND status = ?3 AND is_technician = ?4")
        }
        (true, Filter::None) => page_sql!(columns_select3, ""),
        (true, Filter::UserKey(_)) => page_sql!(columns_select3, " AND user_key = ?3"),
        (true, Filter::StatusTech(..)) => {
            page_sql!(columns_select3, " AND status = ?3 AND is_technician = ?4")
        }
    }
}

const COUNT_SQL: &str = "SELECT COUNT(*) FROM users WHERE tenant_id = ?1";
const TENANT_SQL: &str =
    "SELECT id, tenant_key, org_key FROM tenants WHERE tenant_key_norm = ?1 AND org_key_norm = ?2";

struct Tenant {
    id: Vec<u8>,
    tenant_key: String,
    org_key: String,
}

/// One per actix worker thread: its connection (statements cached on it)
/// and the tenants it has looked up (tenants are never renamed or deleted).
struct Worker {
    conn: Connection,
    tenants: HashMap<(String, String), std::rc::Rc<Tenant>>,
}

thread_local! {
    static WORKER: RefCell<Option<Worker>> = const { RefCell::new(None) };
}

struct Config {
    db: PathBuf,
    /// `--no-qpsg`: without the query planner stability guarantee (see [`COUNT_SQL`]).
    no_qpsg: bool,
}

fn open(db: &PathBuf, no_qpsg: bool) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.set_prepared_statement_cache_capacity(16);
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, !no_qpsg)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Runs `f` with this thread's worker, opening its connection on first use.
fn with_worker<T>(
    config: &Config,
    f: impl FnOnce(&mut Worker) -> Result<T, Failure>,
) -> Result<T, Failure> {
    WORKER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(Worker {
                conn: open(&config.db, config.no_qpsg).map_err(Failure::db)?,
                tenants: HashMap::new(),
            });
        }
        f(slot.as_mut().expect("opened above"))
    })
}

/// Why a request failed.
struct Failure {
    status: StatusCode,
    message: String,
}

impl Failure {
    fn db(e: rusqlite::Error) -> Self {
        Failure {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: format!("database error: {e}"),
        }
    }
    fn unsupported(what: &str) -> Self {
        Failure {
            status: StatusCode::NOT_IMPLEMENTED,
            message: format!(
                "the ceiling serves five query shapes only (see README.md), not {what}"
            ),
        }
    }
    fn response(&self) -> HttpResponse {
        let mut body = Vec::with_capacity(self.message.len() + 64);
        body.extend_from_slice(br#"{"error":{"code":""#);
        body.extend_from_slice(self.status.as_str().as_bytes());
        body.extend_from_slice(br#"","message":"#);
        json_str(&mut body, &self.message);
        body.extend_from_slice(b"}}");
        HttpResponse::build(self.status)
            .insert_header((CONTENT_TYPE, "application/json"))
            .body(body)
    }
}

fn tenant(worker: &mut Worker, tenant: &str, org: &str) -> Result<std::rc::Rc<Tenant>, Failure> {
    let key = (tenant.to_lowercase(), org.to_lowercase());
    if let Some(t) = worker.tenants.get(&key) {
        return Ok(t.clone());
    }
    let mut stmt = worker
        .conn
        .prepare_cached(TENANT_SQL)
        .map_err(Failure::db)?;
    let mut rows = stmt.query(params![key.0, key.1]).map_err(Failure::db)?;
    let Some(row) = rows.next().map_err(Failure::db)? else {
        return Err(Failure {
            status: StatusCode::NOT_FOUND,
            message: format!("no tenant {tenant}/{org}"),
        });
    };
    let found = std::rc::Rc::new(Tenant {
        id: row.get(0).map_err(Failure::db)?,
        tenant_key: row.get(1).map_err(Failure::db)?,
        org_key: row.get(2).map_err(Failure::db)?,
    });
    drop(rows);
    drop(stmt);
    worker.tenants.insert(key, found.clone());
    Ok(found)
}

// ---------------------------------------------------------------- query shapes

enum Filter {
    None,
    /// `$filter=userKey eq '…'` (the literal decoded).
    UserKey(String),
    /// `$filter=status eq N and isTechnician eq true|false`.
    StatusTech(i64, bool),
}

struct PageQuery<'a> {
    filter: Filter,
    /// `$select=userKey,name,email`.
    select3: bool,
    top: Option<u64>,
    /// The options a next link keeps (all but `$top`, `$skip`, `$skiptoken`), as written.
    kept: Vec<&'a str>,
}

/// The query string, if it is one of the supported shapes (options in any order).
fn page_query(raw: &str) -> Result<PageQuery<'_>, Failure> {
    let mut q = PageQuery {
        filter: Filter::None,
        select3: false,
        top: None,
        kept: Vec::new(),
    };
    for piece in raw.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        match name {
            "$top" => {
                q.top = Some(value.parse().map_err(|_| Failure::unsupported(piece))?);
                continue;
            }
            "$select" if value == "userKey,name,email" => q.select3 = true,
            "$filter" => q.filter = filter(value).ok_or_else(|| Failure::unsupported(piece))?,
            _ => return Err(Failure::unsupported(piece)),
        }
        q.kept.push(piece);
    }
    Ok(q)
}

fn filter(value: &str) -> Option<Filter> {
    if let Some(rest) = value.strip_prefix("userKey%20eq%20'") {
        let literal = rest.strip_suffix('\'')?;
        let decoded = percent_decode(literal)?;
        // '' is a quote inside an OData string literal; a lone quote ends it.
        let mut out = String::with_capacity(decoded.len());
        let mut chars = decoded.chars();
        while let Some(c) = chars.next() {
            if c == '\'' && chars.next() != Some('\'') {
                return None;
            }
            out.push(c);
        }
        return Some(Filter::UserKey(out));
    }
    let rest = value.strip_prefix("status%20eq%20")?;
    let (status, tech) = rest.split_once("%20and%20isTechnician%20eq%20")?;
    let status = status.parse().ok()?;
    let tech = match tech {
        "true" => true,
        "false" => false,
        _ => return None,
    };
    Some(Filter::StatusTech(status, tech))
}

fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_owned());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

// ---------------------------------------------------------------- handlers

/// `/api/{tenant}/{org}/odata/{tail}`: `Users` or `Users/$count`.
async fn feed(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    config: web::Data<Config>,
) -> HttpResponse {
    let (t, o, tail) = path.into_inner();
    let result = match tail.as_str() {
        "Users" => users(&req, &config, &t, &o),
        "Users/$count" => count(&req, &config, &t, &o),
        other => Err(Failure::unsupported(&format!("the resource `{other}`"))),
    };
    result.unwrap_or_else(|f| f.response())
}

fn odata(builder: &mut actix_web::HttpResponseBuilder) -> &mut actix_web::HttpResponseBuilder {
    builder.insert_header((
        HeaderName::from_static("odata-version"),
        HeaderValue::from_static("4.0"),
    ))
}

fn count(req: &HttpRequest, config: &Config, t: &str, o: &str) -> Result<HttpResponse, Failure> {
    if !req.query_string().is_empty() {
        return Err(Failure::unsupported("query options on /$count"));
    }
    let n: i64 = with_worker(config, |w| {
        let tenant = tenant(w, t, o)?;
        let mut stmt = w.conn.prepare_cached(COUNT_SQL).map_err(Failure::db)?;
        stmt.query_row(params![tenant.id], |r| r.get(0))
            .map_err(Failure::db)
    })?;
    Ok(odata(&mut HttpResponse::Ok())
        .insert_header((CONTENT_TYPE, "text/plain;charset=utf-8"))
        .body(n.to_string()))
}

fn users(req: &HttpRequest, config: &Config, t: &str, o: &str) -> Result<HttpResponse, Failure> {
    let q = page_query(req.query_string())?;
    let info = req.connection_info();
    let base = format!("{}://{}", info.scheme(), info.host());
    drop(info);
    let path = req.path();
    // `/api/t/o/odata` as the request wrote it (the context's service root).
    let root_len = path.len() - "/Users".len();
    let root = &path[..root_len];

    let limit = q.top.map_or(PAGE_SIZE, |t| t.min(PAGE_SIZE));
    // A next link is possible only if the client wants more than a page.
    let may_continue = q.top.is_none_or(|t| t > limit);
    let fetch = if may_continue { limit + 1 } else { limit };

    let mut body = Vec::with_capacity(if q.select3 { 16 * 1024 } else { 64 * 1024 });
    body.extend_from_slice(br#"{"@odata.context":"#);
    let mut context = String::with_capacity(base.len() + root.len() + 48);
    let _ = write!(context, "{base}{root}/$metadata#Users");
    if q.select3 {
        context.push_str("(userKey,name,email)");
    }
    json_str(&mut body, &context);
    body.extend_from_slice(br#","value":["#);

    let last_id = with_worker(config, |w| {
        let tenant = tenant(w, t, o)?;
        let sql = page_sql(q.select3, &q.filter);
        let mut stmt = w.conn.prepare_cached(sql).map_err(Failure::db)?;
        let fetch = fetch as i64;
        let mut rows = match &q.filter {
            Filter::None => stmt.query(params![tenant.id, fetch]),
            Filter::UserKey(k) => stmt.query(params![tenant.id, fetch, k]),
            Filter::StatusTech(s, b) => stmt.query(params![tenant.id, fetch, s, b]),
        }
        .map_err(Failure::db)?;
        let picture_prefix = format!(
            "{base}/api/{}/{}/identity/users/",
            tenant.tenant_key, tenant.org_key
        );
        let mut n = 0u64;
        let mut last_id = [0u8; 16];
        let mut more = false;
        while let Some(row) = rows.next().map_err(Failure::db)? {
            if n == limit {
                more = true;
                break;
            }
            if n > 0 {
                body.push(b',');
            }
            last_id = write_user(&mut body, row, q.select3, &picture_prefix)?;
            n += 1;
        }
        let wanted_more = q.top.is_none_or(|t| t > n);
        Ok((more && wanted_more).then_some(last_id))
    })?;
    body.push(b']');
    if let Some(id) = last_id {
        // Our link keeps the client's other options and adds an opaque
        // $skiptoken; the ceiling's token (the last key in hex) is opaque
        // too, and the ceiling does not serve it back.
        let mut link = String::with_capacity(base.len() + path.len() + 128);
        link.push_str(&base);
        link.push_str(path);
        link.push('?');
        for piece in &q.kept {
            link.push_str(piece);
            link.push('&');
        }
        link.push_str("$skiptoken=");
        for b in id {
            let _ = write!(link, "{b:02x}");
        }
        body.extend_from_slice(br#","@odata.nextLink":"#);
        json_str(&mut body, &link);
    }
    body.push(b'}');
    Ok(odata(&mut HttpResponse::Ok())
        .insert_header((CONTENT_TYPE, "application/json;odata.metadata=minimal"))
        .body(body))
}

// ---------------------------------------------------------------- main

fn usage() -> ! {
    eprintln!("usage: odata-ceiling --db PATH [--bind 127.0.0.1:0] [--workers N] [--no-qpsg]");
    std::process::exit(2)
}

fn main() -> std::io::Result<()> {
    let mut db = None;
    let mut bind_addr = "127.0.0.1:0".to_owned();
    let mut workers = None;
    let mut no_qpsg = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--db" => db = Some(PathBuf::from(args.next().unwrap_or_else(|| usage()))),
            "--bind" => bind_addr = args.next().unwrap_or_else(|| usage()),
            "--no-qpsg" => no_qpsg = true,
            "--workers" => {
                workers = Some(
                    args.next()
                        .and_then(|n| n.parse::<usize>().ok())
                        .unwrap_or_else(|| usage()),
                )
            }
            _ => usage(),
        }
    }
    let db = db.unwrap_or_else(|| usage());
    // Fail early (and before printing the address) when the database cannot be read.
    {
        let conn = open(&db, no_qpsg).map_err(std::io::Error::other)?;
        conn.query_row("SELECT COUNT(*) FROM tenants", [], |r| r.get::<_, i64>(0))
            .map_err(std::io::Error::other)?;
    }
    let config = web::Data::new(Config { db, no_qpsg });
    actix_web::rt::System::new().block_on(async move {
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(config.clone())
                .route("/api/{tenant}/{org}/odata/{tail:.*}", web::get().to(feed))
        });
        if let Some(n) = workers {
            server = server.workers(n);
        }
        let server = server.bind(bind_addr.as_str())?;
        for addr in server.addrs() {
            println!("listening on http://{addr}");
        }
        use std::io::Write as _;
        std::io::stdout().flush()?;
        server.run().await
    })
}
