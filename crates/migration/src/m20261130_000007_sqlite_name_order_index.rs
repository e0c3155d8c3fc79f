//! SQLite: `ix_users_name_order` on `(tenant_id, name, id)` replaces
//! `ix_users_name` on `(tenant_id, name)` (the name PostgreSQL's index of the
//! same purpose has).
//!
//! `$orderby=name` orders by `name, id` (the key breaks ties). With planner
//! statistics SQLite no longer used an index that serves only the first
//! part of that order: it read the tenant in id order and sorted all of it
//! (the server benchmark's `orderby_skip`). With `id` in the index the whole
//! order is served and `name eq` stays an index search. PostgreSQL's
//! `ix_users_name_order` already ends with `id`, and InnoDB appends the
//! primary key to every secondary index.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Creates `create`, then drops `drop` (SQLite only).
async fn replace(manager: &SchemaManager<'_>, create: &str, drop: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Sqlite {
        return Ok(());
    }
    let conn = manager.get_connection();
    conn.execute_unprepared(create).await?;
    conn.execute_unprepared(&format!(r#"DROP INDEX IF EXISTS "{drop}""#))
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace(
            manager,
            r#"CREATE INDEX "ix_users_name_order" ON "users" ("tenant_id", "name", "id")"#,
            "ix_users_name",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace(
            manager,
            r#"CREATE INDEX "ix_users_name" ON "users" ("tenant_id", "name")"#,
            "ix_users_name_order",
        )
        .await
    }
}
