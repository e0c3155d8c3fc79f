//! The environment variables over the file's settings (`APP_*`,
//! `DATABASE_URL`, `DATABASE_READ_URL`).

use std::path::PathBuf;

use super::{Settings, TrustedProxies};

impl Settings {
    pub(super) fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
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
            self.trusted_proxies = TrustedProxies::parse(&v)
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
        if let Some(v) = env("APP_DEMO_USERS") {
            self.demo_users = parse_env("APP_DEMO_USERS", &v)?;
        }
        if let Some(v) = env("APP_MAX_QUERY_LENGTH") {
            self.max_query_length = parse_env("APP_MAX_QUERY_LENGTH", &v)?;
        }
        if let Some(v) = env("APP_MAX_JSON_BYTES") {
            self.max_json_bytes = parse_env("APP_MAX_JSON_BYTES", &v)?;
        }
        if let Some(v) = env("APP_SHUTDOWN_TIMEOUT_SECONDS") {
            self.shutdown_timeout_seconds = parse_env("APP_SHUTDOWN_TIMEOUT_SECONDS", &v)?;
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
        if let Some(v) = env("APP_LOG_FORMAT") {
            self.log_format = parse_env("APP_LOG_FORMAT", &v)?;
        }
        if let Some(v) = env("APP_OTLP_ENDPOINT") {
            self.otlp_endpoint = non_empty(v);
        }
        if let Some(v) = env("APP_DB_SLOW_STATEMENT_MS") {
            self.db_slow_statement_ms = parse_env("APP_DB_SLOW_STATEMENT_MS", &v)?;
        }
        if let Some(v) = env("APP_DEBUG_READ_STATS") {
            self.debug_read_stats = parse_bool("APP_DEBUG_READ_STATS", &v)?;
        }
        Ok(())
    }
}

fn non_empty(v: String) -> Option<String> {
    if v.trim().is_empty() { None } else { Some(v) }
}

pub(super) fn parse_env<T: std::str::FromStr>(name: &str, value: &str) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    value
        .trim()
        .parse::<T>()
        .map_err(|e| anyhow::anyhow!("{name}={value:?} is not valid: {e}"))
}

pub(super) fn parse_bool(name: &str, value: &str) -> anyhow::Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => anyhow::bail!("{name}={value:?} is not a boolean (true/false)"),
    }
}
