//! Building and running the HTTP application.

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::Either;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Server, Service, ServiceRequest, ServiceResponse};
use actix_web::http::Uri;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Condition;
use actix_web::{App, HttpMessage, HttpServer, web};
use anyhow::Context;
use tracing::{Instrument, Span};

use crate::configuration::Settings;
use crate::demo::DemoInfo;
use crate::error::ApiError;
use crate::mail::MailSink;
use crate::odata::ReadStats;
use crate::routes;
pub use crate::state::AppState;
use crate::state::metrics::Metrics;
use crate::storage::db;
use crate::telemetry::RequestId;

/// The request id header: taken from the request when it is a sane token,
/// else generated; echoed on the response and written in every log line of
/// the request.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Query-string parses of the request (with `APP_DEBUG_READ_STATS`).
pub const READ_PARSES: HeaderName = HeaderName::from_static("x-read-parses");
/// SQL statements the read path ran for the request (with `APP_DEBUG_READ_STATS`).
pub const READ_STATEMENTS: HeaderName = HeaderName::from_static("x-read-statements");
/// Test-only header: statements of the request that ran from a statement
/// template (see `odata_sql::template`), without translation.
pub const READ_TEMPLATED: HeaderName = HeaderName::from_static("x-read-templated");

/// A bound, not yet running server.
pub struct Application {
    address: SocketAddr,
    server: Server,
    state: web::Data<AppState>,
    demo: Option<DemoInfo>,
    /// The invitation sweeper, the statistics upkeep, the change log's
    /// pruner and the metrics' upkeep.
    background: [tokio::task::JoinHandle<()>; 4],
}

impl Application {
    /// Connects to the database, migrates it, loads the signing key, seeds
    /// demo data when enabled and the database is empty, and binds
    /// `settings.bind` (port 0 picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let db = db::connect(&settings).await?;
        let read_db = db::connect_read(&settings).await?;
        db::migrate(&settings, &db).await?;
        db::warn_about_ctype(&db).await;
        db::keep_statistics(&db).await;
        let sqlite_readers = db::open_sqlite_readers(&settings)?;
        let health_db = db::connect_health(&settings).await?;
        let key = db::signing_key(&db, &settings).await?;
        let demo = crate::demo::seed_if_empty(&db, &settings)
            .await
            .context("seeding demo data")?;
        let mail = MailSink::new(
            settings.smtp_url.as_deref(),
            &settings.mail_outbox,
            crate::routes::invitations::DEFAULT_FROM,
        )
        .map_err(|e| anyhow::anyhow!("mail set-up failed: {e}"))?;
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot bind {}", settings.bind))?;
        let address = listener.local_addr()?;
        if settings.public_url.is_none() && address.ip().is_unspecified() {
            tracing::warn!("{}", crate::links::unreachable_bind_message(address));
        }
        let mut app_state = AppState::new(db.clone(), settings, key)
            .with_sqlite_readers(sqlite_readers)
            .with_health_db(health_db);
        if let Some(read_db) = read_db {
            app_state = app_state.with_read_db(read_db);
        }
        let background = [
            crate::storage::invitations::spawn_sweeper(db.clone(), &app_state.settings),
            db::spawn_statistics_upkeep(db.clone()),
            // The change log's retention, checked hourly.
            crate::storage::changes::spawn_pruner(
                db.clone(),
                app_state.settings.delta_retention(),
                std::time::Duration::from_secs(3600),
            ),
            spawn_metrics_upkeep(Arc::clone(&app_state.metrics)),
        ];
        let state = web::Data::new(app_state);
        let server = run(listener, state.clone(), web::Data::new(mail))?;
        Ok(Application {
            address,
            server,
            state,
            demo,
            background,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The shared state (database pool, settings).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// What demo seeding created at start-up, if it ran.
    pub fn demo_info(&self) -> Option<&DemoInfo> {
        self.demo.as_ref()
    }

    /// Serves until the process receives Ctrl-C/SIGTERM; in-flight requests
    /// get `shutdown_timeout_seconds` to finish. The background tasks
    /// (invitation sweeper, statistics upkeep) stop with the server.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        for task in &self.background {
            task.abort();
        }
        result
    }
}

fn run(
    listener: TcpListener,
    state: web::Data<AppState>,
    mail: web::Data<MailSink>,
) -> anyhow::Result<Server> {
    let shutdown = state.settings.shutdown_timeout_seconds;
    let json_limit = state.settings.max_json_bytes;
    let max_query = state.settings.max_query_length;
    let debug_read_stats = state.settings.debug_read_stats;
    let metrics = state.metrics.clone();
    let cors_enabled = crate::cors::enabled(&state.settings);
    let cors_settings = state.settings.clone();
    let server = HttpServer::new(move || {
        let metrics = metrics.clone();
        App::new()
            .app_data(state.clone())
            .app_data(mail.clone())
            .app_data(routes::json_config(json_limit))
            .app_data(routes::path_config())
            .app_data(routes::query_config())
            .configure(routes::health::configure)
            .configure(routes::metrics::configure)
            .configure(routes::token::configure)
            .service(routes::api_scope())
            // After the API: `/docs/{file}` and `/assets/{name}` are
            // patterns (regex matches) that every API request would
            // otherwise be tried against.
            .configure(routes::openapi::configure)
            .configure(routes::pages::configure)
            .default_service(web::to(routes::unknown_route))
            // CORS in front of the guards: preflights never need credentials.
            .wrap(Condition::new(
                cors_enabled,
                crate::cors::middleware(&cors_settings),
            ))
            // Outermost: every request (refusals too) runs as its request id
            // (see crate::telemetry's log lines).
            .wrap_fn(move |req, srv| {
                let id = chosen_request_id(&req);
                let span = request_span(id);
                let metrics = metrics.clone();
                let inner = crate::telemetry::request_sync_scope(id, || {
                    handle(req, srv, debug_read_stats, max_query, metrics)
                });
                crate::telemetry::request_scope(id, async move {
                    let result = inner.instrument(span).await;
                    if let Ok(mut response) = result {
                        if let Ok(value) = HeaderValue::from_str(id.as_str()) {
                            response.headers_mut().insert(REQUEST_ID, value);
                        }
                        return Ok(response);
                    }
                    result
                })
            })
    })
    .shutdown_timeout(shutdown)
    // A client that closes its side of the connection has gone: stop its
    // handler (dropping its future interrupts a running SQLite read, see
    // crate::fair) instead of computing an answer nobody reads.
    .h1_allow_half_closed(false)
    // Answers go out as soon as they are written (TCP_NODELAY): a feed page
    // is written in pieces (head, records, tail), and with Nagle's algorithm
    // the last small piece waited for the client's delayed ACK (40 ms).
    .on_connect(|conn, _| {
        if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
            let _ = tcp.set_nodelay(true);
        }
    })
    .listen(listener)?
    .run();
    Ok(server)
}

/// Everything of a request inside its request id: the canonical path, the
/// refusals that need no routing (an over-long query string, a CORS
/// preflight from an origin that is not allowed), the `/metrics` counts,
/// the `request finished` event and the read statistics' headers.
fn handle<S, B>(
    mut req: ServiceRequest,
    srv: &S,
    debug_read_stats: bool,
    max_query: usize,
    metrics: Arc<Metrics>,
) -> impl Future<Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    if let Some(path) = routes::canonical_path(req.path()) {
        let with_query = match req.query_string() {
            "" => path,
            q => format!("{path}?{q}"),
        };
        if let Ok(uri) = with_query.parse::<Uri>() {
            req.match_info_mut().get_mut().update(&uri);
            req.head_mut().uri = uri;
        }
    }
    let method = req.method().clone();
    let uri = req.uri().clone();
    let started = std::time::Instant::now();
    let query_length = req.query_string().len();
    let read_stats = debug_read_stats.then(|| {
        let stats = Arc::new(ReadStats::default());
        req.extensions_mut().insert(stats.clone());
        stats
    });
    // Refuse an over-long query string, and a CORS preflight from an origin
    // that is not allowed (without credentials, see crate::cors), before
    // any routing work; the refusal still gets the request id and is
    // counted.
    let refusal = if query_length > max_query {
        Some(ApiError::UriTooLong {
            message: format!(
                "the query string has {query_length} bytes, more than the limit of {max_query}"
            ),
        })
    } else {
        crate::cors::refuse_preflight(&req)
    };
    let next = match refusal {
        None => Either::Left(srv.call(req)),
        Some(error) => Either::Right((req, error)),
    };
    metrics.begin();
    async move {
        let result = match next {
            Either::Left(fut) => fut.await.map(ServiceResponse::map_into_left_body),
            Either::Right((req, error)) => Ok(req.error_response(error).map_into_right_body()),
        };
        let status = match &result {
            Ok(response) => response.status(),
            Err(err) => err.as_response_error().status_code(),
        };
        let elapsed = started.elapsed();
        metrics.finish(status.as_u16(), elapsed);
        if crate::telemetry::exporting() {
            // The request's exported span (see `request_span`).
            Span::current().record("status", status.as_u16());
        }
        let elapsed_ms = elapsed.as_millis() as u64;
        let path = || loggable_path(uri.path());
        if status.is_server_error() {
            tracing::warn!(
                status = status.as_u16(),
                elapsed_ms,
                %method,
                path = %path(),
                "request failed"
            );
        } else {
            tracing::debug!(
                status = status.as_u16(),
                elapsed_ms,
                %method,
                path = %path(),
                "request finished"
            );
        }
        let mut response = result?;
        if let Some(stats) = read_stats {
            let headers = response.headers_mut();
            headers.insert(READ_PARSES, HeaderValue::from(stats.parses()));
            headers.insert(READ_STATEMENTS, HeaderValue::from(stats.statements()));
            headers.insert(READ_TEMPLATED, HeaderValue::from(stats.templated()));
        }
        Ok(response)
    }
}

/// The request's span, made only when spans are exported over OTLP:
/// `request` with the request's id, and `status` recorded by [`handle`]
/// when the answer is ready. The log does not need it: its lines get the id from the
/// request's task-local (see crate::telemetry), and its last event has the
/// method, the path, the status and the time taken.
fn request_span(id: RequestId) -> Span {
    if !crate::telemetry::exporting() {
        return Span::none();
    }
    tracing::info_span!("request", request_id = %id.as_str(), status = tracing::field::Empty)
}

/// The request's id: the client's `X-Request-Id` when it is a sane token
/// (1 to 64 ASCII letters, digits, `-` and `_`), else a random (version 4)
/// UUID.
fn chosen_request_id(request: &ServiceRequest) -> RequestId {
    request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|sent| RequestId::new(sent.as_bytes()))
        .unwrap_or_else(RequestId::random)
}

/// Folds the request latencies into the `/metrics` histogram every five
/// seconds, so that its samples stay few however long nobody scrapes.
fn spawn_metrics_upkeep(
    metrics: Arc<crate::state::metrics::Metrics>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            ticks.tick().await;
            metrics.upkeep();
        }
    })
}

/// The request path as logged: every segment after an `invitations`
/// segment (any case, percent-encoded or not) but `accept` becomes
/// `<redacted>`, so an invitation token never reaches a log line, also on a
/// mistyped accept route.
fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    let is = |segment: &str, word: &str| {
        percent_encoding::percent_decode_str(segment)
            .decode_utf8_lossy()
            .eq_ignore_ascii_case(word)
    };
    let mut segments = path.split('/');
    let Some(at) = segments.position(|s| is(s, "invitations")) else {
        return std::borrow::Cow::Borrowed(path);
    };
    let redacted: Vec<&str> = path
        .split('/')
        .enumerate()
        .map(|(i, s)| {
            if i <= at || s.is_empty() || is(s, "accept") {
                s
            } else {
                "<redacted>"
            }
        })
        .collect();
    std::borrow::Cow::Owned(redacted.join("/"))
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn invitation_tokens_are_redacted_from_logged_paths() {
        for (path, logged) in [
            (
                "/api/t/o/identity/invitations/abcDEF-_123/accept",
                "/api/t/o/identity/invitations/<redacted>/accept",
            ),
            (
                "/api/t/o/identity/%49nvitations/abc/accept/",
                "/api/t/o/identity/%49nvitations/<redacted>/accept/",
            ),
            (
                "/api/t/o/identity/INVITATIONS/abc",
                "/api/t/o/identity/INVITATIONS/<redacted>",
            ),
            (
                "/api/t/o/identity/invitations/abc/x/accept",
                "/api/t/o/identity/invitations/<redacted>/<redacted>/accept",
            ),
            ("/api/t/o/identity/users/abc", "/api/t/o/identity/users/abc"),
            ("/health", "/health"),
        ] {
            assert_eq!(loggable_path(path), logged, "{path}");
        }
    }
}
