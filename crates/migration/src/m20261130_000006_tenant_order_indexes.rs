//! `(tenant_id, id)` indexes on users, roles and groups.
//!
//! Every list without `$orderby` (and every `$orderby` as its last key)
//! orders by `id` within one tenant, and keyset paging seeks on it. Without
//! this index SQLite and PostgreSQL read and sort all of a tenant's rows for
//! each page: the server benchmark (BENCHMARKS.md, "Server vs SAP CAP")
//! measured `Users?$top=100` at 4 requests/s on 100,000 users. (InnoDB
//! appends the primary key to every secondary index, so on MariaDB it is
//! the same index as one on `tenant_id` alone.)

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
}

#[derive(DeriveIden)]
enum Column {
    TenantId,
    Id,
}

fn tables() -> [(&'static str, DynIden); 3] {
    [
        ("ix_users_tenant_order", Users::Table.into_iden()),
        ("ix_roles_tenant_order", Roles::Table.into_iden()),
        ("ix_groups_tenant_order", Groups::Table.into_iden()),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in tables() {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(table)
                        .col(Column::TenantId)
                        .col(Column::Id)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in tables() {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
