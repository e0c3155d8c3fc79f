//! API clients (OAuth2 client credentials): one row per client, its public
//! `client_id`, the argon2id hash of its secret (never the secret), the
//! tenant+org it may act on, its scopes and when it was revoked.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
    ClientId,
    SecretHash,
    TenantId,
    Scopes,
    CreatedOn,
    RevokedOn,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

/// A UTC timestamp column, as in the first migration (`datetime(6)` on MySQL).
fn utc_timestamp<T: IntoIden + 'static>(column: T, backend: DatabaseBackend) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    match backend {
        DatabaseBackend::MySql => def.custom(Alias::new("datetime(6)")),
        _ => def.timestamp_with_time_zone(),
    };
    def
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut client_id = ColumnDef::new(Clients::ClientId);
        client_id.string_len(64).not_null();
        if backend == DatabaseBackend::MySql {
            // Client ids are compared byte for byte.
            client_id.extra("COLLATE utf8mb4_bin");
        }
        manager
            .create_table(
                Table::create()
                    .table(Clients::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Clients::Id).uuid().not_null().primary_key())
                    .col(&mut client_id)
                    .col(
                        ColumnDef::new(Clients::SecretHash)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Clients::TenantId).uuid().not_null())
                    .col(ColumnDef::new(Clients::Scopes).string_len(255).not_null())
                    .col(utc_timestamp(Clients::CreatedOn, backend).not_null())
                    .col(utc_timestamp(Clients::RevokedOn, backend).null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Clients::Table, Clients::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_clients_client_id")
                    .table(Clients::Table)
                    .col(Clients::ClientId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_clients_tenant")
                    .table(Clients::Table)
                    .col(Clients::TenantId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Clients::Table).if_exists().to_owned())
            .await
    }
}
