//! Row counters per tenant scope and entity set: `entity_counts(tenant_id,
//! entity_set, count)`, primary key `(tenant_id, entity_set)`, so that an
//! unfiltered `$count` reads one row instead of counting the tenant.
//!
//! `entity_set` is the OData entity set the counter belongs to (`Users`,
//! `Roles`, `Groups`). The service adjusts a counter in the transaction
//! that inserts or deletes the rows (see `storage::counters`). This
//! migration back-fills one row per tenant and set from the rows that are
//! there (0 for an empty set), so every tenant has its three counters.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EntityCounts {
    Table,
    TenantId,
    EntitySet,
    Count,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

/// `(entity set, table)` of every counted set.
const COUNTED: [(&str, &str); 3] = [("Users", "users"), ("Roles", "roles"), ("Groups", "groups")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut entity_set = ColumnDef::new(EntityCounts::EntitySet);
        entity_set.string_len(32).not_null();
        if backend == DatabaseBackend::MySql {
            entity_set.extra("COLLATE utf8mb4_bin");
        }
        manager
            .create_table(
                Table::create()
                    .table(EntityCounts::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(EntityCounts::TenantId).uuid().not_null())
                    .col(&mut entity_set)
                    .col(
                        ColumnDef::new(EntityCounts::Count)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .primary_key(
                        Index::create()
                            .col(EntityCounts::TenantId)
                            .col(EntityCounts::EntitySet),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(EntityCounts::Table, EntityCounts::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Back-fill: one counter per tenant and set, from the rows present.
        let q = if backend == DatabaseBackend::MySql {
            '`'
        } else {
            '"'
        };
        let conn = manager.get_connection();
        for (set, table) in COUNTED {
            conn.execute_unprepared(&format!(
                "INSERT INTO {q}entity_counts{q} ({q}tenant_id{q}, {q}entity_set{q}, {q}count{q}) \
                 SELECT t.{q}id{q}, '{set}', \
                 (SELECT COUNT(*) FROM {q}{table}{q} x WHERE x.{q}tenant_id{q} = t.{q}id{q}) \
                 FROM {q}tenants{q} t"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(EntityCounts::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
