//! Change tracking (delta links of the feed): a per-tenant change sequence
//! and a change log.
//!
//! `change_sequence(tenant_id, seq, pruned_seq)`: one row per tenant. Every
//! writing transaction of the service increments `seq` of its tenant (an
//! `UPDATE`, which locks the row until the commit) and writes its log rows
//! with that number, so the numbers are taken in commit order per tenant.
//! `pruned_seq` is the highest number the retention sweep removed.
//!
//! `change_log(tenant_id, seq, entity_set, entity_id, op, changed_at)`:
//! what a transaction created (`op` 1), changed (2) or deleted (3), or a
//! bulk entry (4, `entity_id` the nil UUID: every record of the set may
//! have been created, written by an import). `changed_at` is in Unix
//! milliseconds, which the retention sweep compares. The primary key
//! `(tenant_id, seq, entity_set, entity_id)` serves the delta reads (a
//! range of `seq` in one tenant); `changed_at` has its own index for the
//! sweep. This migration creates every existing tenant's sequence at 0.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChangeSequence {
    Table,
    TenantId,
    Seq,
    PrunedSeq,
}

#[derive(DeriveIden)]
enum ChangeLog {
    Table,
    TenantId,
    Seq,
    EntitySet,
    EntityId,
    Op,
    ChangedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(ChangeSequence::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(ChangeSequence::TenantId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ChangeSequence::Seq)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(ChangeSequence::PrunedSeq)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChangeSequence::Table, ChangeSequence::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let mut entity_set = ColumnDef::new(ChangeLog::EntitySet);
        entity_set.string_len(32).not_null();
        if backend == DatabaseBackend::MySql {
            entity_set.extra("COLLATE utf8mb4_bin");
        }
        manager
            .create_table(
                Table::create()
                    .table(ChangeLog::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(ChangeLog::TenantId).uuid().not_null())
                    .col(ColumnDef::new(ChangeLog::Seq).big_integer().not_null())
                    .col(&mut entity_set)
                    .col(ColumnDef::new(ChangeLog::EntityId).uuid().not_null())
                    .col(ColumnDef::new(ChangeLog::Op).small_integer().not_null())
                    .col(
                        ColumnDef::new(ChangeLog::ChangedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ChangeLog::TenantId)
                            .col(ChangeLog::Seq)
                            .col(ChangeLog::EntitySet)
                            .col(ChangeLog::EntityId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChangeLog::Table, ChangeLog::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_change_log_changed_at")
                    .table(ChangeLog::Table)
                    .col(ChangeLog::ChangedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        let q = if backend == DatabaseBackend::MySql {
            '`'
        } else {
            '"'
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO {q}change_sequence{q} ({q}tenant_id{q}, {q}seq{q}, {q}pruned_seq{q}) \
                 SELECT t.{q}id{q}, 0, 0 FROM {q}tenants{q} t"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ChangeLog::Table).if_exists().to_owned())
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(ChangeSequence::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
