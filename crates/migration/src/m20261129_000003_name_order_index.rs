//! PostgreSQL: an index that delivers `$orderby=name` in the translator's
//! order (code points: `name COLLATE "C"`, then `id`), so a page of an
//! unfiltered name-ordered list reads its rows in order instead of sorting
//! the tenant's users. The plain `ix_users_name` (database collation) still
//! serves `name eq` filters. Other backends: nothing (on MariaDB,
//! `m20261130_000004_code_point_strings` puts `name` in a code-point
//! collation, so `ix_users_name` serves it; SQLite's default collation
//! already is binary, so `ix_users_name` serves it there too).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    r#"CREATE INDEX IF NOT EXISTS "ix_users_name_order" ON "users" ("tenant_id", ("name" COLLATE "C"), "id")"#,
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(r#"DROP INDEX IF EXISTS "ix_users_name_order""#)
                .await?;
        }
        Ok(())
    }
}
