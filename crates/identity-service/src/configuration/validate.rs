//! The checks of loaded settings: ranges, combinations, and the values
//! that depend on each other.

use super::{MAX_EXPAND_DEPTH, MAX_PAGE_SIZE, MAX_SQLITE_READERS, Settings};

impl Settings {
    pub(super) fn validate(&mut self) -> anyhow::Result<()> {
        let max_depth = MAX_EXPAND_DEPTH;
        if !(1..=max_depth).contains(&self.expand_max_depth) {
            anyhow::bail!(
                "expand_max_depth must be between 1 and {max_depth}, got {}",
                self.expand_max_depth
            );
        }
        if !(1..=MAX_PAGE_SIZE).contains(&self.feed_page_size) {
            anyhow::bail!(
                "feed_page_size must be between 1 and {}, got {}",
                MAX_PAGE_SIZE,
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
        if !(self.db_slow_statement_ms.is_finite() && self.db_slow_statement_ms >= 0.0) {
            anyhow::bail!(
                "db_slow_statement_ms must be a number of milliseconds, 0 or more, got {}",
                self.db_slow_statement_ms
            );
        }
        // An empty endpoint in the file means none, as in the environment.
        self.otlp_endpoint = self.otlp_endpoint.take().filter(|e| !e.trim().is_empty());
        if let Some(endpoint) = &self.otlp_endpoint {
            // The exporter's HTTP client is built without TLS: spans go to
            // a collector or agent on the host or the local network.
            if !endpoint.starts_with("http://") {
                anyhow::bail!(
                    "otlp_endpoint must be an http:// URL (a local OpenTelemetry collector; \
                     TLS is not built in), got {endpoint:?}"
                );
            }
            if !cfg!(feature = "otlp") {
                anyhow::bail!(
                    "otlp_endpoint (APP_OTLP_ENDPOINT) is set, but this build has no OpenTelemetry \
                     export: build with `--features otlp`, or unset it"
                );
            }
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
}
