//! Indexes for equality filters on the keys and e-mail as written.
//!
//! The unique indexes of the first migration are on the normalized columns
//! (`user_key_norm`, `email_norm`, ...), which serve key resolution in the
//! write path. OData `$filter=userKey eq '...'` / `email eq '...'` /
//! `roleKey eq '...'` / `groupKey eq '...'` compare the columns as written
//! (case-sensitive, decided by the translator), which those indexes cannot
//! serve; `tests/api/explain.rs` found the full scans.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    TenantId,
    UserKey,
    Email,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    TenantId,
    RoleKey,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    TenantId,
    GroupKey,
}

fn index(name: &str, table: impl IntoIden, cols: [DynIden; 2]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(col);
    }
    index.to_owned()
}

fn indexes() -> Vec<(&'static str, IndexCreateStatement)> {
    vec![
        (
            "ix_users_user_key",
            index(
                "ix_users_user_key",
                Users::Table,
                [Users::TenantId.into_iden(), Users::UserKey.into_iden()],
            ),
        ),
        (
            "ix_users_email",
            index(
                "ix_users_email",
                Users::Table,
                [Users::TenantId.into_iden(), Users::Email.into_iden()],
            ),
        ),
        (
            "ix_roles_role_key",
            index(
                "ix_roles_role_key",
                Roles::Table,
                [Roles::TenantId.into_iden(), Roles::RoleKey.into_iden()],
            ),
        ),
        (
            "ix_groups_group_key",
            index(
                "ix_groups_group_key",
                Groups::Table,
                [Groups::TenantId.into_iden(), Groups::GroupKey.into_iden()],
            ),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (_, index) in indexes() {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables: [DynIden; 4] = [
            Users::Table.into_iden(),
            Users::Table.into_iden(),
            Roles::Table.into_iden(),
            Groups::Table.into_iden(),
        ];
        for ((name, _), table) in indexes().into_iter().zip(tables) {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
