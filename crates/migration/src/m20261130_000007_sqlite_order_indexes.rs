//! SQLite: the indexes that serve `$orderby=name|status|lastLogin` end with
//! `id`: `ix_users_name_order`, `ix_users_status_order` and
//! `ix_users_last_login_order` on `(tenant_id, <column>, id)` replace
//! `ix_users_name`, `ix_users_status` and `ix_users_last_login`.
//!
//! `$orderby=name` orders by `name, id` (the key breaks ties), and so on.
//! With planner statistics SQLite no longer used an index that serves only
//! the first part of that order: it read the tenant in id order and sorted
//! all of it (the server benchmark's `orderby_skip`). With `id` in the index
//! the whole order is served, and equality and range filters on the column
//! still search it. PostgreSQL's `ix_users_name_order` already ends with
//! `id` (its other indexes are left to incremental sorts), and InnoDB
//! appends the primary key to every secondary index.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(new index, column, old index)`: the new one is on
/// `(tenant_id, column, id)`, the old one on `(tenant_id, column)`.
const REPLACED: [(&str, &str, &str); 3] = [
    ("ix_users_name_order", "name", "ix_users_name"),
    ("ix_users_status_order", "status", "ix_users_status"),
    (
        "ix_users_last_login_order",
        "last_login",
        "ix_users_last_login",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Sqlite {
            return Ok(());
        }
        let conn = manager.get_connection();
        for (new, column, old) in REPLACED {
            // Created under a new name before the old one is dropped:
            // dropping and re-creating one name failed inside the
            // migration's transaction ("index already exists").
            conn.execute_unprepared(&format!(
                r#"CREATE INDEX "{new}" ON "users" ("tenant_id", "{column}", "id")"#
            ))
            .await?;
            conn.execute_unprepared(&format!(r#"DROP INDEX IF EXISTS "{old}""#))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Sqlite {
            return Ok(());
        }
        let conn = manager.get_connection();
        for (new, column, old) in REPLACED {
            conn.execute_unprepared(&format!(
                r#"CREATE INDEX "{old}" ON "users" ("tenant_id", "{column}")"#
            ))
            .await?;
            conn.execute_unprepared(&format!(r#"DROP INDEX IF EXISTS "{new}""#))
                .await?;
        }
        Ok(())
    }
}
