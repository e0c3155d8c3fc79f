//! The end-to-end tests: ONE test binary (`cargo test -p odata-users --test
//! api`), one module per subject, so the whole service is linked once
//! instead of once per file (zero2prod's `tests/api/main.rs` is the model).
//!
//! Run one module with a filter: `cargo test -p odata-users --test api
//! feed_api::` (the test names start with the module's name).
//!
//! Every module shares the process, so a module here must not set
//! process-global state (environment variables, the global tracing
//! subscriber, rlimits) and must not depend on being alone for what it
//! measures. On a server backend (`ODATA_TEST_BACKEND=postgres|mysql`) every
//! module shares this binary's one database (`common`): each test works in
//! a tenant of its own (`acmeN`), and the few that need a database to
//! themselves (the demo tenant, `$count` of a whole database) ask for one
//! with `common::own_database_url` / `common::spawn_app_alone`.
//!
//! These stay test binaries of their own (`tests/*.rs`), because they need
//! a process of their own:
//! - `auth_memory`: measures a server process's resident memory (`VmRSS`)
//!   under 200 concurrent logins; other tests' load would blur it.
//! - `durability`: `kill -9` of a server process mid-write and the check
//!   of what survived.
//! - `db_outage`: switches the database away under a server and back.
//! - `pgbouncer`: starts pgbouncers with pooling modes of its own.
//! - `multi_instance`: several server processes on one database.
//! - `replica`: a PostgreSQL primary and streaming replica of its own.
//! - `hostile_reads`: asserts how soon a read is stopped or refused (the
//!   statement time limit, the read caps, cancellation) while it loads the
//!   database on purpose; it needs to be alone for those measurements, and
//!   would slow every test running beside it.
//!
//! Everything else is a module here. Gated modules keep their gates:
//! `browser` (`ODATA_TEST_BROWSER`), `api_fuzz` and `api_docs`'s validator
//! (`ODATA_TEST_API_FUZZ`), `feed_clients` (`ODATA_TEST_FEED_CLIENTS`),
//! `cross_backend` (the reachable servers of `ODATA_TEST_POSTGRES_URL` /
//! `ODATA_TEST_MYSQL_URL`), and the SQLite-only or server-only tests check
//! `ODATA_TEST_BACKEND` as before. `log_redaction` runs its own server
//! process and reads that process's stderr, so it needs nothing global.

#[path = "../common/mod.rs"]
mod common;
mod feed_support;
#[path = "../server_support/mod.rs"]
mod server_support;

mod api1_errors;
mod api1_invitations;
mod api1_memberships;
mod api1_pictures;
mod api1_query_differential;
mod api1_query_options;
mod api1_roles_groups;
mod api1_users;
mod api_docs;
mod api_fuzz;
mod auth;
mod browser;
mod browser_pages;
mod cli;
mod counters;
mod cross_backend;
mod edges;
mod entity_schema;
mod errors_transport;
mod etags;
mod explain;
mod explain_api;
mod feed_api;
mod feed_batch;
mod feed_clients;
mod feed_delta;
mod feed_nested_expand;
mod feed_paging;
mod feed_writes;
mod golden;
mod import_cli;
mod links;
mod log_format;
mod log_redaction;
mod products_service;
mod query_cost;
mod query_overflow;
mod query_strings;
mod record_authors;
