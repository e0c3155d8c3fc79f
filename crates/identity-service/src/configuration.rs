//! Settings of the service.
//!
//! Load order (later wins): built-in defaults, then the TOML file
//! (`odata-users.toml` in the working directory when present, or the file
//! given by `--config PATH`, which must exist), then environment variables.
//! Every field is public so tests can build a `Settings` directly.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// The default configuration file looked up in the working directory.
pub const DEFAULT_CONFIG_FILE: &str = "odata-users.toml";

/// Largest accepted `sqlite_readers` (one thread and connection each).
pub const MAX_SQLITE_READERS: usize = 256;

/// Who named the database of loaded settings (see [`Settings::load_traced`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseOrigin {
    /// The `DATABASE_URL` environment variable.
    Environment,
    /// The key `database_url` of this configuration file.
    File(PathBuf),
    /// Nobody: the built-in default, a SQLite file under `./data`.
    Default,
}

/// Settings and where they came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The settings.
    pub settings: Settings,
    /// The configuration file that was read, if any.
    pub config_file: Option<PathBuf>,
    /// Who named `settings.database_url`.
    pub database_origin: DatabaseOrigin,
}

/// Every setting of the server. Field names are the TOML keys.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on (`APP_BIND`). Default `127.0.0.1:8080` (the
    /// loopback interface; `0.0.0.0:8080` to serve other machines). Port 0
    /// picks a free port.
    pub bind: String,
    /// Database URL (`DATABASE_URL`): `sqlite://PATH?mode=rwc`,
    /// `postgres://...` or `mysql://...`. Default
    /// `sqlite://./data/odata-users.db?mode=rwc` (the directory is created).
    pub database_url: String,
    /// Optional second database URL for LIST reads (`DATABASE_READ_URL`),
    /// typically a PostgreSQL streaming replica: API 1 `odata` lists, the
    /// v4 feed collections and `$count` read from it; single-record reads
    /// and everything inside a write use `database_url`. Lists may lag
    /// behind writes by the replica's replay delay. Unset: one pool.
    pub database_read_url: Option<String>,
    /// Base of absolute links (`Location`, `nextPageLink`, picture URLs,
    /// invitation links), e.g. `https://id.example.com` (`APP_PUBLIC_URL`).
    /// When unset, links in responses are built from the request's `Host`
    /// and mail links from the bound address (none when bound to
    /// `0.0.0.0`/`[::]`); see `links`.
    pub public_url: Option<String>,
    /// Peers whose `Forwarded`/`X-Forwarded-*` headers decide the links of
    /// responses when `public_url` is unset (`APP_TRUSTED_PROXIES`:
    /// comma-separated IPs or CIDRs). Default: none (the headers are ignored).
    pub trusted_proxies: crate::links::TrustedProxies,
    /// Directory where the file mail sink writes one `.eml` per message
    /// when no SMTP server is configured (`APP_MAIL_OUTBOX`). Default `./data/outbox`.
    pub mail_outbox: PathBuf,
    /// SMTP server URL for invitations, e.g. `smtp://user:pass@host:587`
    /// (`APP_SMTP_URL`). Unset: mail goes to `mail_outbox`.
    pub smtp_url: Option<String>,
    /// Lifetime of an invitation token in seconds (`APP_INVITATION_TTL_SECONDS`). Default 7 days.
    pub invitation_ttl_seconds: u64,
    /// Interval of the sweep that marks expired invitations (status 4), in
    /// seconds (`APP_INVITATION_SWEEP_SECONDS`). Default 60.
    pub invitation_sweep_seconds: u64,
    /// Largest accepted picture in bytes of image data, after base64
    /// decoding (`APP_MAX_PICTURE_BYTES`). Default 1 MiB; above it: 413.
    pub max_picture_bytes: usize,
    /// Seed demo data when `serve` finds an empty database (`APP_DEMO`,
    /// `--no-demo`). Default true.
    pub demo: bool,
    /// Number of users the demo seeding creates. Default 1000.
    pub demo_users: usize,
    /// Base64 key used to sign tokens and skiptokens (`APP_SIGNING_KEY`).
    /// Unset: a key is generated on first start and kept in the database so
    /// every instance shares it.
    pub signing_key: Option<String>,
    /// A file holding the base64 signing key (`APP_SIGNING_KEY_FILE`), e.g.
    /// a mounted secret; read at start (unreadable or invalid: the server
    /// does not start). Precedence: `signing_key`, or this file (setting
    /// both is an error), else the key kept in the database.
    pub signing_key_file: Option<PathBuf>,
    /// Largest number of pooled database connections, per pool
    /// (`APP_DB_MAX_CONNECTIONS`). Default 10 (SQLite: at most 8).
    pub db_max_connections: u32,
    /// Smallest number of pooled database connections kept open
    /// (`APP_DB_MIN_CONNECTIONS`). Default 1.
    pub db_min_connections: u32,
    /// Seconds to wait for a pooled connection (a free one, or a new one
    /// while the database refuses connections) before answering 503
    /// (`APP_DB_ACQUIRE_TIMEOUT_SECONDS`). Default 10.
    pub db_acquire_timeout_seconds: u64,
    /// sqlx's per-connection prepared-statement cache on PostgreSQL and
    /// MySQL (`APP_DB_STATEMENT_CACHE`). Default true. Set it to false
    /// behind pgbouncer in transaction pooling mode (pgbouncer 1.18 does not
    /// track prepared statements there): on PostgreSQL it then also keeps
    /// each borrowed pool connection inside one transaction (see
    /// `storage::db`). No effect on SQLite.
    pub db_statement_cache: bool,
    /// Blocking rusqlite connections that serve the OData list reads when
    /// the (read) database is a SQLite file (`APP_SQLITE_READERS`); writes
    /// stay on the sqlx pool. Default: the number of CPUs; 0 reads through
    /// sqlx as well. At most 256.
    pub sqlite_readers: usize,
    /// Milliseconds a cheap-looking OData read on a SQLite file may run on
    /// the HTTP worker thread itself, with that thread's own connection,
    /// before it is interrupted and handed to the reader threads
    /// (`APP_SQLITE_INLINE_MS`). Default 10; 0 sends every read to the
    /// reader threads. Needs `sqlite_readers` > 0. At most 1000.
    pub sqlite_inline_ms: u64,
    /// Requests per minute per API client, counted per instance
    /// (`APP_RATE_LIMIT_PER_MINUTE`); 0 disables. Default 600. A client may
    /// burst up to a minute's worth; above it: 429 with `Retry-After`.
    pub rate_limit_per_minute: u32,
    /// The most an OData query may cost (`APP_QUERY_COST_BUDGET`), by the
    /// cost model of `odata_sql::cost`, checked before any SQL runs; above
    /// it: 400 `QueryTooExpensive` naming the most expensive part. Default
    /// 100 (a lambda over a role's or group's users nested in another
    /// lambda costs at least 130; everything else of the README's examples,
    /// the tests and BI tools' queries stays under 50). 0 disables the check.
    pub query_cost_budget: u64,
    /// The longest an OData read statement may run, in milliseconds
    /// (`APP_READ_TIMEOUT_MS`); past it the statement is interrupted, its
    /// connection freed and the answer is 503 `QueryTimeout` with
    /// `Retry-After`. Default 5000; 0 = no limit. See `crate::fair`.
    pub read_timeout_ms: u64,
    /// Concurrent reads (GET/HEAD of `/api`) per API client
    /// (`APP_READS_PER_CLIENT`); above it: 429 with `Retry-After`.
    /// Default 8 (a BI tool paging with 8 parallel requests); 0 = no cap.
    pub reads_per_client: usize,
    /// Concurrent reads per tenant+organization, all its clients together
    /// (`APP_READS_PER_TENANT`); above it: 429 with `Retry-After`.
    /// Default 16; 0 = no cap.
    pub reads_per_tenant: usize,
    /// The share of the read connections (SQLite readers, else the pool's
    /// `db_max_connections`) one tenant's reads may hold at once, in
    /// percent (`APP_READS_TENANT_SHARE`); at least one. Further reads of
    /// the tenant wait for one of its own to finish (429 after
    /// `db_acquire_timeout_seconds`). Default 50; 0 or 100 = no share.
    pub reads_tenant_share: u8,
    /// Lifetime of the access tokens of `POST /connect/token`, in seconds
    /// (`APP_TOKEN_TTL_SECONDS`). Default 900 (15 minutes), at most 86400.
    pub token_ttl_seconds: u64,
    /// How long an instance trusts its list of revoked clients and its
    /// cache of verified HTTP Basic credentials, in seconds
    /// (`APP_AUTH_CACHE_SECONDS`): a revoked client is refused by every
    /// instance at most this long after `clients revoke`. Default 10; 0
    /// checks the database on every request and caches nothing.
    pub auth_cache_seconds: u64,
    /// Threads that run argon2 for credential checks (HTTP Basic, the token
    /// endpoint), each with one reused 19 MiB block
    /// (`APP_AUTH_VERIFY_THREADS`). Default: 2, or 1 on a single CPU; 1 to 64.
    pub auth_verify_threads: usize,
    /// Credential checks that may wait for a verification thread
    /// (`APP_AUTH_VERIFY_QUEUE`); when it is full the answer is 503 with
    /// `Retry-After`. Default 64.
    pub auth_verify_queue: usize,
    /// Failed client authentications allowed per minute per (client id,
    /// source address) (`APP_AUTH_FAILURES_PER_MINUTE`), bursts up to that;
    /// above it: 429 with `Retry-After`. 0 disables. Default 10.
    pub auth_failures_per_minute: u32,
    /// Failed client authentications allowed per minute per source address,
    /// whatever the client id (`APP_AUTH_SOURCE_FAILURES_PER_MINUTE`). 0
    /// disables. Default 60.
    pub auth_source_failures_per_minute: u32,
    /// Entities per page of the OData v4 feed when the client sends no
    /// `Prefer: odata.maxpagesize` (`APP_FEED_PAGE_SIZE`). Default 1000, at most 5000.
    pub feed_page_size: u64,
    /// Whether the feed's `PATCH`, `PUT` and `DELETE` of an entity (and its
    /// `$ref` writes) need `If-Match` (`APP_FEED_REQUIRE_IF_MATCH`): 428
    /// Precondition Required without it. API 1 never requires it. Default false.
    pub feed_require_if_match: bool,
    /// Most requests in one feed `$batch` (`APP_BATCH_MAX_REQUESTS`),
    /// change sets' requests included: 400 above. The batch body may be
    /// this many times `max_json_bytes` (413 above). Default 100.
    pub batch_max_requests: usize,
    /// Deepest nesting of `$expand` on both APIs (`APP_EXPAND_MAX_DEPTH`):
    /// `$expand=roles($expand=users)` is two levels. Deeper answers 400.
    /// Between 1 and 8; default 3.
    pub expand_max_depth: usize,
    /// How long the change log behind the feed's delta links keeps its
    /// entries, in days (`APP_DELTA_RETENTION_DAYS`, fractions allowed).
    /// A delta link older than this answers 410. Default 30; 0 keeps
    /// nothing (every delta link answers 410; for tests).
    pub delta_retention_days: f64,
    /// Whether feed pages and API 1 lists are gzip-compressed for clients
    /// that send `Accept-Encoding: gzip` (`APP_GZIP`). Default true.
    pub gzip: bool,
    /// Smallest answer compressed, in bytes (`APP_GZIP_MIN_BYTES`):
    /// smaller ones stay plain. Default 1024.
    pub gzip_min_bytes: u64,
    /// Origins allowed to call the service from a browser
    /// (`APP_CORS_ORIGINS`, a comma-separated list such as
    /// `https://bi.example.com,http://localhost:3000`, or `*` for any).
    /// Empty (the default): no CORS headers, cross-origin browser calls are
    /// refused by the browser.
    pub cors_origins: Vec<String>,
    /// Longest accepted query string in bytes (414 above). Default 8192.
    pub max_query_length: usize,
    /// Largest accepted JSON body for requests without a picture, in
    /// bytes. Bodies that may carry a picture get room for the base64 form
    /// of `max_picture_bytes` on top. Default 64 KiB.
    pub max_json_bytes: usize,
    /// Seconds to let in-flight requests finish on shutdown. Default 30.
    pub shutdown_timeout_seconds: u64,
    /// For tests (`APP_DEBUG_READ_STATS`): every response carries
    /// `X-Read-Parses` and `X-Read-Statements`, the number of query-string
    /// parses and SQL statements of the read path for that request.
    /// Default false.
    pub debug_read_stats: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: "127.0.0.1:8080".to_owned(),
            database_url: "sqlite://./data/odata-users.db?mode=rwc".to_owned(),
            database_read_url: None,
            public_url: None,
            trusted_proxies: crate::links::TrustedProxies::default(),
            mail_outbox: PathBuf::from("./data/outbox"),
            smtp_url: None,
            invitation_ttl_seconds: 7 * 24 * 60 * 60,
            invitation_sweep_seconds: 60,
            max_picture_bytes: 1024 * 1024,
            demo: true,
            demo_users: 1000,
            signing_key: None,
            signing_key_file: None,
            db_max_connections: 10,
            db_min_connections: 1,
            db_acquire_timeout_seconds: 10,
            db_statement_cache: true,
            sqlite_readers: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            sqlite_inline_ms: 10,
            rate_limit_per_minute: 600,
            query_cost_budget: odata_sql::cost::DEFAULT_BUDGET,
            read_timeout_ms: 5000,
            reads_per_client: 8,
            reads_per_tenant: 16,
            reads_tenant_share: 50,
            token_ttl_seconds: 15 * 60,
            auth_cache_seconds: 10,
            auth_verify_threads: std::thread::available_parallelism()
                .map_or(1, std::num::NonZero::get)
                .min(2),
            auth_verify_queue: 64,
            auth_failures_per_minute: 10,
            auth_source_failures_per_minute: 60,
            feed_page_size: crate::feed::DEFAULT_PAGE_SIZE,
            feed_require_if_match: false,
            batch_max_requests: 100,
            expand_max_depth: 3,
            delta_retention_days: 30.0,
            gzip: true,
            gzip_min_bytes: 1024,
            cors_origins: Vec::new(),
            max_query_length: 8192,
            max_json_bytes: 64 * 1024,
            shutdown_timeout_seconds: 30,
            debug_read_stats: false,
        }
    }
}

impl Settings {
    /// Loads defaults, then the config file, then the process environment.
    ///
    /// `config` is the `--config PATH` argument: that file must exist.
    /// Without it, `odata-users.toml` in the working directory is read when present.
    pub fn load(config: Option<&Path>) -> anyhow::Result<Settings> {
        Ok(Self::load_traced(config)?.settings)
    }

    /// [`Settings::load`], also saying which configuration file was read
    /// and who named the database (for the command line's messages).
    pub fn load_traced(config: Option<&Path>) -> anyhow::Result<Loaded> {
        let file = match config {
            Some(path) => Some(path.to_owned()),
            None => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|path| path.exists()),
        };
        let text = match &file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?,
            ),
            None => None,
        };
        let env = |name: &str| std::env::var(name).ok();
        let settings = Self::from_sources(text.as_deref(), env)?;
        // The text parsed as a `Settings` above, so it is a TOML table.
        let file_names_database = text.as_deref().is_some_and(|text| {
            toml::from_str::<toml::Table>(text)
                .is_ok_and(|table| table.contains_key("database_url"))
        });
        let database_origin = if env("DATABASE_URL").is_some() {
            DatabaseOrigin::Environment
        } else if let (true, Some(path)) = (file_names_database, &file) {
            DatabaseOrigin::File(path.clone())
        } else {
            DatabaseOrigin::Default
        };
        Ok(Loaded {
            settings,
            config_file: file,
            database_origin,
        })
    }

    /// The TOML keys: the names of the fields of [`Settings`], in order.
    pub fn keys() -> &'static [&'static str] {
        field_names::of::<Settings>()
    }

    /// The environment variables [`Settings::load`] reads, in the order it
    /// reads them. Each one sets the key of the same name in lower case
    /// without the `APP_` prefix (`APP_BIND` sets `bind`, `DATABASE_URL`
    /// sets `database_url`).
    pub fn env_names() -> Vec<String> {
        let names = std::cell::RefCell::new(Vec::new());
        // Nothing is set, so the defaults load and validate.
        let _ = Self::from_sources(None, |name| {
            names.borrow_mut().push(name.to_owned());
            None
        });
        names.into_inner()
    }

    /// Builds settings from an optional TOML text and an environment lookup
    /// (injected so that tests do not touch the process environment).
    pub fn from_sources(
        toml_text: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Settings> {
        let mut settings = match toml_text {
            Some(text) => toml::from_str::<Settings>(text).context("invalid configuration file")?,
            None => Settings::default(),
        };
        settings.apply_env(env)?;
        settings.validate()?;
        Ok(settings)
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        if let Some(v) = env("DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = env("DATABASE_READ_URL") {
            self.database_read_url = non_empty(v);
        }
        if let Some(v) = env("APP_DB_MAX_CONNECTIONS") {
            self.db_max_connections = parse_env("APP_DB_MAX_CONNECTIONS", &v)?;
        }
        if let Some(v) = env("APP_DB_MIN_CONNECTIONS") {
            self.db_min_connections = parse_env("APP_DB_MIN_CONNECTIONS", &v)?;
        }
        if let Some(v) = env("APP_DB_ACQUIRE_TIMEOUT_SECONDS") {
            self.db_acquire_timeout_seconds = parse_env("APP_DB_ACQUIRE_TIMEOUT_SECONDS", &v)?;
        }
        if let Some(v) = env("APP_DB_STATEMENT_CACHE") {
            self.db_statement_cache = parse_bool("APP_DB_STATEMENT_CACHE", &v)?;
        }
        if let Some(v) = env("APP_SQLITE_READERS") {
            self.sqlite_readers = parse_env("APP_SQLITE_READERS", &v)?;
        }
        if let Some(v) = env("APP_SQLITE_INLINE_MS") {
            self.sqlite_inline_ms = parse_env("APP_SQLITE_INLINE_MS", &v)?;
        }
        if let Some(v) = env("APP_BIND") {
            self.bind = v;
        }
        if let Some(v) = env("APP_PUBLIC_URL") {
            self.public_url = non_empty(v);
        }
        if let Some(v) = env("APP_TRUSTED_PROXIES") {
            self.trusted_proxies = crate::links::TrustedProxies::parse(&v)
                .map_err(|e| anyhow::anyhow!("APP_TRUSTED_PROXIES: {e}"))?;
        }
        if let Some(v) = env("APP_MAIL_OUTBOX") {
            self.mail_outbox = PathBuf::from(v);
        }
        if let Some(v) = env("APP_SMTP_URL") {
            self.smtp_url = non_empty(v);
        }
        if let Some(v) = env("APP_INVITATION_TTL_SECONDS") {
            self.invitation_ttl_seconds = parse_env("APP_INVITATION_TTL_SECONDS", &v)?;
        }
        if let Some(v) = env("APP_INVITATION_SWEEP_SECONDS") {
            self.invitation_sweep_seconds = parse_env("APP_INVITATION_SWEEP_SECONDS", &v)?;
        }
        if let Some(v) = env("APP_MAX_PICTURE_BYTES") {
            self.max_picture_bytes = parse_env("APP_MAX_PICTURE_BYTES", &v)?;
        }
        if let Some(v) = env("APP_DEMO") {
            self.demo = parse_bool("APP_DEMO", &v)?;
        }
        if let Some(v) = env("APP_SIGNING_KEY") {
            self.signing_key = non_empty(v);
        }
        if let Some(v) = env("APP_SIGNING_KEY_FILE") {
            self.signing_key_file = non_empty(v).map(PathBuf::from);
        }
        if let Some(v) = env("APP_RATE_LIMIT_PER_MINUTE") {
            self.rate_limit_per_minute = parse_env("APP_RATE_LIMIT_PER_MINUTE", &v)?;
        }
        if let Some(v) = env("APP_QUERY_COST_BUDGET") {
            self.query_cost_budget = parse_env("APP_QUERY_COST_BUDGET", &v)?;
        }
        if let Some(v) = env("APP_READ_TIMEOUT_MS") {
            self.read_timeout_ms = parse_env("APP_READ_TIMEOUT_MS", &v)?;
        }
        if let Some(v) = env("APP_READS_PER_CLIENT") {
            self.reads_per_client = parse_env("APP_READS_PER_CLIENT", &v)?;
        }
        if let Some(v) = env("APP_READS_PER_TENANT") {
            self.reads_per_tenant = parse_env("APP_READS_PER_TENANT", &v)?;
        }
        if let Some(v) = env("APP_READS_TENANT_SHARE") {
            self.reads_tenant_share = parse_env("APP_READS_TENANT_SHARE", &v)?;
        }
        if let Some(v) = env("APP_TOKEN_TTL_SECONDS") {
            self.token_ttl_seconds = parse_env("APP_TOKEN_TTL_SECONDS", &v)?;
        }
        if let Some(v) = env("APP_AUTH_CACHE_SECONDS") {
            self.auth_cache_seconds = parse_env("APP_AUTH_CACHE_SECONDS", &v)?;
        }
        if let Some(v) = env("APP_AUTH_VERIFY_THREADS") {
            self.auth_verify_threads = parse_env("APP_AUTH_VERIFY_THREADS", &v)?;
        }
        if let Some(v) = env("APP_AUTH_VERIFY_QUEUE") {
            self.auth_verify_queue = parse_env("APP_AUTH_VERIFY_QUEUE", &v)?;
        }
        if let Some(v) = env("APP_AUTH_FAILURES_PER_MINUTE") {
            self.auth_failures_per_minute = parse_env("APP_AUTH_FAILURES_PER_MINUTE", &v)?;
        }
        if let Some(v) = env("APP_AUTH_SOURCE_FAILURES_PER_MINUTE") {
            self.auth_source_failures_per_minute =
                parse_env("APP_AUTH_SOURCE_FAILURES_PER_MINUTE", &v)?;
        }
        if let Some(v) = env("APP_FEED_PAGE_SIZE") {
            self.feed_page_size = parse_env("APP_FEED_PAGE_SIZE", &v)?;
        }
        if let Some(v) = env("APP_FEED_REQUIRE_IF_MATCH") {
            self.feed_require_if_match = parse_bool("APP_FEED_REQUIRE_IF_MATCH", &v)?;
        }
        if let Some(v) = env("APP_DELTA_RETENTION_DAYS") {
            self.delta_retention_days = parse_env("APP_DELTA_RETENTION_DAYS", &v)?;
        }
        if let Some(v) = env("APP_EXPAND_MAX_DEPTH") {
            self.expand_max_depth = parse_env("APP_EXPAND_MAX_DEPTH", &v)?;
        }
        if let Some(v) = env("APP_BATCH_MAX_REQUESTS") {
            self.batch_max_requests = parse_env("APP_BATCH_MAX_REQUESTS", &v)?;
        }
        if let Some(v) = env("APP_GZIP") {
            self.gzip = parse_bool("APP_GZIP", &v)?;
        }
        if let Some(v) = env("APP_GZIP_MIN_BYTES") {
            self.gzip_min_bytes = parse_env("APP_GZIP_MIN_BYTES", &v)?;
        }
        if let Some(v) = env("APP_CORS_ORIGINS") {
            self.cors_origins = v
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = env("APP_DEBUG_READ_STATS") {
            self.debug_read_stats = parse_bool("APP_DEBUG_READ_STATS", &v)?;
        }
        Ok(())
    }

    fn validate(&mut self) -> anyhow::Result<()> {
        let max_depth = crate::odata::query_string::MAX_EXPAND_DEPTH;
        if !(1..=max_depth).contains(&self.expand_max_depth) {
            anyhow::bail!(
                "expand_max_depth must be between 1 and {max_depth}, got {}",
                self.expand_max_depth
            );
        }
        if !(1..=crate::feed::MAX_PAGE_SIZE).contains(&self.feed_page_size) {
            anyhow::bail!(
                "feed_page_size must be between 1 and {}, got {}",
                crate::feed::MAX_PAGE_SIZE,
                self.feed_page_size
            );
        }
        for origin in &self.cors_origins {
            let valid = origin == "*"
                || url::Url::parse(origin).is_ok_and(|u| {
                    matches!(u.scheme(), "http" | "https")
                        && u.origin().ascii_serialization() == *origin
                });
            if !valid {
                anyhow::bail!(
                    "cors_origins: {origin:?} is not an origin (scheme://host[:port], no path or \
                     trailing slash) nor *"
                );
            }
        }
        if let Some(url) = &self.public_url {
            let trimmed = url.trim_end_matches('/');
            if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
                anyhow::bail!("public_url must start with http:// or https://, got {url:?}");
            }
            self.public_url = Some(trimmed.to_owned());
        }
        if !(1..=24 * 60 * 60).contains(&self.token_ttl_seconds) {
            anyhow::bail!(
                "token_ttl_seconds must be between 1 and 86400, got {}",
                self.token_ttl_seconds
            );
        }
        if self.signing_key.is_some() && self.signing_key_file.is_some() {
            anyhow::bail!(
                "set either signing_key (APP_SIGNING_KEY) or signing_key_file (APP_SIGNING_KEY_FILE), not both"
            );
        }
        if !(1..=64).contains(&self.auth_verify_threads) {
            anyhow::bail!(
                "auth_verify_threads must be between 1 and 64, got {}",
                self.auth_verify_threads
            );
        }
        if self.auth_verify_queue > 100_000 {
            anyhow::bail!(
                "auth_verify_queue must be at most 100000, got {}",
                self.auth_verify_queue
            );
        }
        if !(self.delta_retention_days.is_finite()
            && (0.0..=36_500.0).contains(&self.delta_retention_days))
        {
            anyhow::bail!(
                "delta_retention_days must be between 0 and 36500, got {}",
                self.delta_retention_days
            );
        }
        if self.invitation_sweep_seconds == 0 {
            anyhow::bail!("invitation_sweep_seconds must be at least 1");
        }
        if self.db_max_connections == 0 {
            anyhow::bail!("db_max_connections must be at least 1");
        }
        if self.db_min_connections > self.db_max_connections {
            anyhow::bail!("db_min_connections must not exceed db_max_connections");
        }
        if self.sqlite_readers > MAX_SQLITE_READERS {
            anyhow::bail!(
                "sqlite_readers must be at most {MAX_SQLITE_READERS}, got {}",
                self.sqlite_readers
            );
        }
        if self.sqlite_inline_ms > 1000 {
            anyhow::bail!(
                "sqlite_inline_ms must be at most 1000, got {}",
                self.sqlite_inline_ms
            );
        }
        if self.reads_tenant_share > 100 {
            anyhow::bail!(
                "reads_tenant_share is a percentage (0-100), got {}",
                self.reads_tenant_share
            );
        }
        if self.db_acquire_timeout_seconds == 0 {
            anyhow::bail!("db_acquire_timeout_seconds must be at least 1");
        }
        if let Some(read) = &self.database_read_url {
            let scheme = |url: &str| url.split(':').next().unwrap_or("").to_ascii_lowercase();
            let family = |s: String| {
                if s == "postgresql" {
                    "postgres".to_owned()
                } else {
                    s
                }
            };
            if family(scheme(read)) != family(scheme(&self.database_url)) {
                anyhow::bail!(
                    "database_read_url must use the same database as database_url (a replica of it)"
                );
            }
        }
        Ok(())
    }

    /// Limit of a JSON body that may carry a picture: base64 needs 4 bytes
    /// per 3, a data URL adds a short prefix, and the rest of a user record fits
    /// in `max_json_bytes`.
    pub fn picture_json_limit(&self) -> usize {
        self.max_picture_bytes
            .div_ceil(3)
            .saturating_mul(4)
            .saturating_add(self.max_json_bytes)
    }
}

/// The field names serde's derive hands to `deserialize_struct`, caught by
/// a deserializer that accepts nothing else.
mod field_names {
    use serde::de::{self, Deserialize, Deserializer, Visitor};

    struct Probe<'a>(&'a mut &'static [&'static str]);

    impl<'de> Deserializer<'de> for Probe<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("probed"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }

    /// The field names of the struct `T` (empty for other types).
    pub fn of<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
        let mut fields: &'static [&'static str] = &[];
        let _ = T::deserialize(Probe(&mut fields));
        fields
    }
}

fn non_empty(v: String) -> Option<String> {
    if v.trim().is_empty() { None } else { Some(v) }
}

impl Settings {
    /// [`Settings::delta_retention_days`] as a duration.
    pub fn delta_retention(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(
            self.delta_retention_days.clamp(0.0, 36_500.0) * 86_400.0,
        )
    }
}

fn parse_env<T: std::str::FromStr>(name: &str, value: &str) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    value
        .trim()
        .parse::<T>()
        .map_err(|e| anyhow::anyhow!("{name}={value:?} is not valid: {e}"))
}

fn parse_bool(name: &str, value: &str) -> anyhow::Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => anyhow::bail!("{name}={value:?} is not a boolean (true/false)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_without_file_or_env() {
        let s = Settings::from_sources(None, env(&[])).unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.max_picture_bytes, 1_048_576);
        assert_eq!(s.invitation_ttl_seconds, 604_800);
    }

    #[test]
    fn file_then_env_override() {
        let file = "bind = \"0.0.0.0:9000\"\ndemo = false\nmax_picture_bytes = 10\n";
        let s = Settings::from_sources(
            Some(file),
            env(&[
                ("APP_BIND", "127.0.0.1:1"),
                ("APP_PUBLIC_URL", "https://x.test/"),
            ]),
        )
        .unwrap();
        assert_eq!(s.bind, "127.0.0.1:1");
        assert!(!s.demo);
        assert_eq!(s.max_picture_bytes, 10);
        assert_eq!(s.public_url.as_deref(), Some("https://x.test"));
    }

    #[test]
    fn sqlite_readers_from_file_and_env() {
        assert!(Settings::default().sqlite_readers >= 1);
        let s = Settings::from_sources(Some("sqlite_readers = 3\n"), env(&[])).unwrap();
        assert_eq!(s.sqlite_readers, 3);
        let s = Settings::from_sources(
            Some("sqlite_readers = 3\n"),
            env(&[("APP_SQLITE_READERS", "0")]),
        )
        .unwrap();
        assert_eq!(s.sqlite_readers, 0);
        assert!(Settings::from_sources(None, env(&[("APP_SQLITE_READERS", "-1")])).is_err());
        assert!(Settings::from_sources(None, env(&[("APP_SQLITE_READERS", "257")])).is_err());
        assert_eq!(Settings::default().sqlite_inline_ms, 10);
        let s = Settings::from_sources(None, env(&[("APP_SQLITE_INLINE_MS", "0")])).unwrap();
        assert_eq!(s.sqlite_inline_ms, 0);
        assert!(Settings::from_sources(None, env(&[("APP_SQLITE_INLINE_MS", "1001")])).is_err());
    }

    #[test]
    fn compression_and_cors_settings() {
        let s = Settings::from_sources(None, env(&[])).unwrap();
        assert!(s.gzip && s.cors_origins.is_empty());
        assert_eq!(s.gzip_min_bytes, 1024);
        let s = Settings::from_sources(
            None,
            env(&[
                ("APP_GZIP", "false"),
                ("APP_GZIP_MIN_BYTES", "4096"),
                (
                    "APP_CORS_ORIGINS",
                    " https://bi.example.com , http://localhost:3000,",
                ),
            ]),
        )
        .unwrap();
        assert!(!s.gzip);
        assert_eq!(s.gzip_min_bytes, 4096);
        assert_eq!(
            s.cors_origins,
            ["https://bi.example.com", "http://localhost:3000"]
        );
        let s = Settings::from_sources(Some("cors_origins = [\"*\"]\n"), env(&[])).unwrap();
        assert_eq!(s.cors_origins, ["*"]);
        for bad in [
            "https://bi.example.com/",
            "https://bi.example.com/app",
            "bi.example.com",
            "ftp://x.test",
        ] {
            assert!(
                Settings::from_sources(None, env(&[("APP_CORS_ORIGINS", bad)])).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(Settings::from_sources(None, env(&[("APP_DEMO", "maybe")])).is_err());
        assert!(Settings::from_sources(None, env(&[("APP_MAX_PICTURE_BYTES", "-1")])).is_err());
        assert!(Settings::from_sources(Some("nope = 1"), env(&[])).is_err());
        assert!(Settings::from_sources(None, env(&[("APP_PUBLIC_URL", "ftp://x")])).is_err());
        assert!(Settings::from_sources(None, env(&[("APP_TRUSTED_PROXIES", "10/8")])).is_err());
    }

    #[test]
    fn the_signing_key_comes_from_one_place() {
        let s = Settings::from_sources(None, env(&[("APP_SIGNING_KEY_FILE", "/run/key")])).unwrap();
        assert_eq!(s.signing_key_file, Some(PathBuf::from("/run/key")));
        assert!(
            Settings::from_sources(
                None,
                env(&[
                    ("APP_SIGNING_KEY_FILE", "/run/key"),
                    ("APP_SIGNING_KEY", "a2V5")
                ])
            )
            .is_err()
        );
    }

    #[test]
    fn trusted_proxies_from_file_and_env() {
        assert!(Settings::default().trusted_proxies.is_empty());
        let s =
            Settings::from_sources(Some("trusted_proxies = [\"10.0.0.0/8\"]\n"), env(&[])).unwrap();
        assert!(s.trusted_proxies.contains("10.9.9.9".parse().unwrap()));
        let s = Settings::from_sources(
            Some("trusted_proxies = \"10.0.0.0/8\"\n"),
            env(&[("APP_TRUSTED_PROXIES", "127.0.0.1, ::1")]),
        )
        .unwrap();
        assert!(s.trusted_proxies.contains("::1".parse().unwrap()));
        assert!(!s.trusted_proxies.contains("10.9.9.9".parse().unwrap()));
    }

    #[test]
    fn database_settings_from_env() {
        let s = Settings::from_sources(
            Some("database_url = \"postgres://p@h/db\"\n"),
            env(&[
                ("DATABASE_READ_URL", "postgres://p@replica/db"),
                ("APP_DB_MAX_CONNECTIONS", "20"),
                ("APP_DB_MIN_CONNECTIONS", "2"),
                ("APP_DB_ACQUIRE_TIMEOUT_SECONDS", "3"),
                ("APP_DB_STATEMENT_CACHE", "false"),
            ]),
        )
        .unwrap();
        assert_eq!(
            s.database_read_url.as_deref(),
            Some("postgres://p@replica/db")
        );
        assert_eq!(
            (
                s.db_max_connections,
                s.db_min_connections,
                s.db_acquire_timeout_seconds
            ),
            (20, 2, 3)
        );
        assert!(!s.db_statement_cache);
        assert!(Settings::default().db_statement_cache);
        assert!(Settings::default().database_read_url.is_none());
        // A read URL of another database kind is refused.
        assert!(
            Settings::from_sources(None, env(&[("DATABASE_READ_URL", "postgres://h/db")])).is_err()
        );
        assert!(Settings::from_sources(None, env(&[("APP_DB_MIN_CONNECTIONS", "99")])).is_err());
    }

    #[test]
    fn auth_settings_come_from_the_environment_and_are_checked() {
        let defaults = Settings::default();
        assert_eq!(
            (
                defaults.token_ttl_seconds,
                defaults.auth_cache_seconds,
                defaults.rate_limit_per_minute
            ),
            (900, 10, 600)
        );
        let s = Settings::from_sources(
            None,
            env(&[
                ("APP_TOKEN_TTL_SECONDS", "60"),
                ("APP_AUTH_CACHE_SECONDS", "0"),
                ("APP_RATE_LIMIT_PER_MINUTE", "0"),
            ]),
        )
        .unwrap();
        assert_eq!(
            (
                s.token_ttl_seconds,
                s.auth_cache_seconds,
                s.rate_limit_per_minute
            ),
            (60, 0, 0)
        );
        for bad in ["0", "86401", "soon"] {
            assert!(
                Settings::from_sources(None, env(&[("APP_TOKEN_TTL_SECONDS", bad)])).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn credential_check_settings() {
        let defaults = Settings::default();
        assert!((1..=2).contains(&defaults.auth_verify_threads));
        assert_eq!(
            (
                defaults.auth_verify_queue,
                defaults.auth_failures_per_minute,
                defaults.auth_source_failures_per_minute
            ),
            (64, 10, 60)
        );
        let s = Settings::from_sources(
            None,
            env(&[
                ("APP_AUTH_VERIFY_THREADS", "4"),
                ("APP_AUTH_VERIFY_QUEUE", "0"),
                ("APP_AUTH_FAILURES_PER_MINUTE", "0"),
                ("APP_AUTH_SOURCE_FAILURES_PER_MINUTE", "5"),
            ]),
        )
        .unwrap();
        assert_eq!(
            (
                s.auth_verify_threads,
                s.auth_verify_queue,
                s.auth_failures_per_minute,
                s.auth_source_failures_per_minute
            ),
            (4, 0, 0, 5)
        );
        for bad in ["0", "65", "many"] {
            assert!(
                Settings::from_sources(None, env(&[("APP_AUTH_VERIFY_THREADS", bad)])).is_err(),
                "{bad}"
            );
        }
        assert!(Settings::from_sources(None, env(&[("APP_AUTH_VERIFY_QUEUE", "100001")])).is_err());
    }

    #[test]
    fn keys_and_environment_variables() {
        let keys = Settings::keys();
        assert_eq!(keys.first(), Some(&"bind"));
        assert!(keys.contains(&"database_url") && keys.contains(&"debug_read_stats"));
        let names = Settings::env_names();
        assert!(names.iter().any(|n| n == "DATABASE_URL"));
        // Every variable sets the key of its name.
        for name in &names {
            let key = name
                .strip_prefix("APP_")
                .unwrap_or(name)
                .to_ascii_lowercase();
            assert!(keys.contains(&key.as_str()), "{name} sets no key {key}");
        }
    }

    #[test]
    fn picture_limit_leaves_room_for_base64() {
        let s = Settings::default();
        assert!(s.picture_json_limit() > s.max_picture_bytes * 4 / 3);
    }
}
