//! Logging: tracing to stderr, filtered by `RUST_LOG` (default `info`).
//!
//! Without `RUST_LOG`, PostgreSQL notices (`sqlx::postgres::notice`) are
//! shown from level `error` only: behind a transaction pooler every write
//! transaction draws an expected "there is already a transaction in
//! progress" warning (see `storage::db`), and migrations draw "already
//! exists, skipping" notices.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber writing to stderr. Safe to call twice
/// (the second call does nothing).
pub fn init(default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!("{default_filter},sqlx::postgres::notice=error"))
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
