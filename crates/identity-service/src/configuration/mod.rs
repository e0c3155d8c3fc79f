//! Settings of the service.
//!
//! Load order (later wins): built-in defaults, then the TOML file
//! (`odata-users.toml` in the working directory when present, or the file
//! given by `--config PATH`, which must exist), then environment variables.
//! Every field is public so tests can build a `Settings` directly.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

mod env;
mod proxies;
mod validate;

pub use proxies::TrustedProxies;

/// The default configuration file looked up in the working directory.
pub const DEFAULT_CONFIG_FILE: &str = "odata-users.toml";

/// Page size of API 1 lists (default and maximum).
pub const API1_PAGE_SIZE: u64 = 100;

/// Rows per feed page when the client does not say (`Prefer` absent) and
/// the `feed_page_size` setting (`APP_FEED_PAGE_SIZE`) is not changed.
pub const DEFAULT_PAGE_SIZE: u64 = 1000;

/// The largest feed page `Prefer: odata.maxpagesize` (or `feed_page_size`)
/// can ask for.
pub const MAX_PAGE_SIZE: u64 = 5000;

/// The deepest `$expand` nesting parsed at all; the `expand_max_depth`
/// setting (at most this) limits what is planned.
pub const MAX_EXPAND_DEPTH: usize = 8;

/// Largest accepted `sqlite_readers` (one thread and connection each).
pub const MAX_SQLITE_READERS: usize = 256;

/// How log lines are written (the `log_format` setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event (tracing-subscriber's full format).
    #[default]
    Text,
    /// One JSON object per event, with the fields of its spans.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err("expected text or json".to_owned()),
        }
    }
}

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
    pub trusted_proxies: TrustedProxies,
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
    /// Number of users the demo seeding creates (`APP_DEMO_USERS`).
    /// Default 1000.
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
    /// Longest accepted query string in bytes (`APP_MAX_QUERY_LENGTH`;
    /// 414 above). Default 8192.
    pub max_query_length: usize,
    /// Largest accepted JSON body for requests without a picture, in
    /// bytes (`APP_MAX_JSON_BYTES`). Bodies that may carry a picture get
    /// room for the base64 form of `max_picture_bytes` on top. Default
    /// 64 KiB.
    pub max_json_bytes: usize,
    /// Seconds to let in-flight requests finish on shutdown
    /// (`APP_SHUTDOWN_TIMEOUT_SECONDS`). Default 30.
    pub shutdown_timeout_seconds: u64,
    /// Log lines as text (`text`, the default: one human-readable line
    /// each) or as JSON objects (`json`: one object per line, with the
    /// span fields) (`APP_LOG_FORMAT`). Logs go to stderr either way.
    pub log_format: LogFormat,
    /// OTLP endpoint to export the request spans to over HTTP/protobuf,
    /// e.g. `http://127.0.0.1:4318/v1/traces` (`APP_OTLP_ENDPOINT`; an
    /// `http://` URL: the exporter has no TLS, it talks to a collector on
    /// the host or the local network).
    /// Unset or empty: no export. Needs a build with the `otlp` cargo
    /// feature (a build without it refuses to start with an endpoint set).
    pub otlp_endpoint: Option<String>,
    /// Statements of the database pools (SeaORM/sqlx) slower than this many
    /// milliseconds (fractions allowed: `0.5`) draw a warning that names
    /// the statement's kind and table and its duration, never its text or
    /// values (`APP_DB_SLOW_STATEMENT_MS`). Default 1000; 0 turns it off.
    pub db_slow_statement_ms: f64,
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
            trusted_proxies: TrustedProxies::default(),
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
            feed_page_size: DEFAULT_PAGE_SIZE,
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
            log_format: LogFormat::Text,
            otlp_endpoint: None,
            db_slow_statement_ms: 1000.0,
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

impl Settings {
    /// [`Settings::delta_retention_days`] as a duration.
    pub fn delta_retention(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(
            self.delta_retention_days.clamp(0.0, 36_500.0) * 86_400.0,
        )
    }
}

#[cfg(test)]
mod tests;
