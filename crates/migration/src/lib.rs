//! Migrations of the identity service.
//!
//! The first migration creates every table of `docs/architecture.md`; the
//! later ones add the indexes `tests/api/explain.rs` asked for and, on
//! MariaDB/MySQL, put the model's string columns in a code-point collation
//! (`utf8mb4_nopad_bin`) those indexes can serve OData's order with; the
//! eighth adds the per-tenant row counters behind unfiltered `$count`, the
//! ninth the change log of delta links, the tenth the issuer of an invitation
//! (`invitations.created_by`). The
//! column types are chosen to work on SQLite, PostgreSQL and MariaDB/MySQL alike:
//! UUIDs use `uuid` (16-byte binary on MySQL, native on PostgreSQL, a blob
//! value on SQLite), timestamps `timestamp with time zone`, every indexed
//! string has a bounded `varchar` length (MariaDB cannot index unbounded text),
//! and the picture blob is `longblob` on MySQL (plain `blob` stops at 64 KiB).
//!
//! ```no_run
//! use migration::{Migrator, MigratorTrait};
//! # async fn run(db: &sea_orm_migration::sea_orm::DatabaseConnection) -> Result<(), migration::DbErr> {
//! Migrator::up(db, None).await?;
//! # Ok(())
//! # }
//! ```
pub use sea_orm_migration::prelude::*;

mod m20260101_000001_create_tables;
mod m20261129_000002_lookup_indexes;
mod m20261129_000003_name_order_index;
mod m20261130_000004_code_point_strings;
mod m20261130_000005_clients;
mod m20261130_000006_tenant_order_indexes;
mod m20261130_000007_sqlite_order_indexes;
mod m20261201_000008_entity_counts;
mod m20261205_000009_change_log;
mod m20261206_000010_invitation_creator;

/// Every migration of the service, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_create_tables::Migration),
            Box::new(m20261129_000002_lookup_indexes::Migration),
            Box::new(m20261129_000003_name_order_index::Migration),
            Box::new(m20261130_000004_code_point_strings::Migration),
            Box::new(m20261130_000005_clients::Migration),
            Box::new(m20261130_000006_tenant_order_indexes::Migration),
            Box::new(m20261130_000007_sqlite_order_indexes::Migration),
            Box::new(m20261201_000008_entity_counts::Migration),
            Box::new(m20261205_000009_change_log::Migration),
            Box::new(m20261206_000010_invitation_creator::Migration),
        ]
    }
}
