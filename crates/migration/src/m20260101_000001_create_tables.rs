//! The initial schema: tenants, users, roles, groups, memberships, pictures,
//! invitations and server settings.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Length of key columns (`userKey`, `roleKey`, `groupKey`, tenant and org keys).
const KEY_LEN: u32 = 100;
/// Length of names and e-mail addresses.
const TEXT_LEN: u32 = 255;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    TenantKey,
    OrgKey,
    TenantKeyNorm,
    OrgKeyNorm,
    CreatedOn,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    TenantId,
    UserKey,
    UserKeyNorm,
    Name,
    Culture,
    Email,
    EmailNorm,
    IsTechnician,
    LastLogin,
    Status,
    PictureUrl,
    HasPicture,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
    TenantId,
    RoleKey,
    RoleKeyNorm,
    Description,
    IsAdministration,
    IsDefault,
    IsInternal,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
    TenantId,
    GroupKey,
    GroupKeyNorm,
    Name,
    Email,
    Notes,
}

#[derive(DeriveIden)]
enum UserRoles {
    Table,
    UserId,
    RoleId,
}

#[derive(DeriveIden)]
enum UserGroups {
    Table,
    UserId,
    GroupId,
}

#[derive(DeriveIden)]
enum Pictures {
    Table,
    UserId,
    ContentType,
    Data,
    UpdatedOn,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    TenantId,
    UserId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    Revoked,
    CreatedOn,
}

#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
}

/// The base fields every `users`, `roles` and `groups` row carries.
/// A UTC timestamp column with at least millisecond precision on every
/// backend: `timestamp with time zone` on PostgreSQL and SQLite, and
/// `datetime(6)` on MySQL/MariaDB (whose `timestamp` keeps whole seconds and
/// ends in 2038). Values are always written in UTC.
fn utc_timestamp<T: IntoIden + 'static>(column: T, backend: DatabaseBackend) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    match backend {
        DatabaseBackend::MySql => def.custom(Alias::new("datetime(6)")),
        _ => def.timestamp_with_time_zone(),
    };
    def
}

/// A `*_norm` column (the Rust `to_lowercase()` of a key or e-mail, which
/// carries the case-insensitive uniqueness). Compared byte for byte on
/// every backend: MySQL/MariaDB's default collation would also fold accents
/// (`resume` = `résumé`) and make distinct keys collide.
fn norm_column<T: IntoIden + 'static>(column: T, len: u32, backend: DatabaseBackend) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    def.string_len(len);
    if backend == DatabaseBackend::MySql {
        def.extra("COLLATE utf8mb4_bin");
    }
    def
}

fn base_fields(
    table: &mut TableCreateStatement,
    backend: DatabaseBackend,
) -> &mut TableCreateStatement {
    table
        .col(
            ColumnDef::new(Alias::new("is_active"))
                .boolean()
                .not_null()
                .default(true),
        )
        .col(
            ColumnDef::new(Alias::new("is_system"))
                .boolean()
                .not_null()
                .default(false),
        )
        .col(
            ColumnDef::new(Alias::new("created_by"))
                .string_len(TEXT_LEN)
                .null(),
        )
        .col(utc_timestamp(Alias::new("created_on"), backend).not_null())
        .col(
            ColumnDef::new(Alias::new("modified_by"))
                .string_len(TEXT_LEN)
                .null(),
        )
        .col(utc_timestamp(Alias::new("modified_on"), backend).not_null())
        .col(
            ColumnDef::new(Alias::new("version"))
                .integer()
                .not_null()
                .default(1),
        )
}

fn tenant_fk<T: IntoIden + 'static>(table: T, column: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();

        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Tenants::Id).uuid().not_null().primary_key())
                    .col(
                        ColumnDef::new(Tenants::TenantKey)
                            .string_len(KEY_LEN)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Tenants::OrgKey)
                            .string_len(KEY_LEN)
                            .not_null(),
                    )
                    .col(norm_column(Tenants::TenantKeyNorm, KEY_LEN * 4, backend).not_null())
                    .col(norm_column(Tenants::OrgKeyNorm, KEY_LEN * 4, backend).not_null())
                    .col(utc_timestamp(Tenants::CreatedOn, backend).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_tenants_keys")
                    .table(Tenants::Table)
                    .col(Tenants::TenantKeyNorm)
                    .col(Tenants::OrgKeyNorm)
                    .unique()
                    .to_owned(),
            )
            .await?;

        let mut users = Table::create();
        users
            .table(Users::Table)
            .if_not_exists()
            .col(ColumnDef::new(Users::Id).uuid().not_null().primary_key())
            .col(ColumnDef::new(Users::TenantId).uuid().not_null())
            .col(
                ColumnDef::new(Users::UserKey)
                    .string_len(KEY_LEN)
                    .not_null(),
            )
            .col(norm_column(Users::UserKeyNorm, KEY_LEN * 4, backend).not_null())
            .col(ColumnDef::new(Users::Name).string_len(TEXT_LEN).not_null())
            // NULL for imported users without a culture (docs/api1.md, "CSV files").
            .col(ColumnDef::new(Users::Culture).string_len(64).null())
            .col(ColumnDef::new(Users::Email).string_len(TEXT_LEN).null())
            .col(norm_column(Users::EmailNorm, TEXT_LEN * 2, backend).null())
            .col(
                ColumnDef::new(Users::IsTechnician)
                    .boolean()
                    .not_null()
                    .default(false),
            )
            .col(utc_timestamp(Users::LastLogin, backend).null())
            .col(
                ColumnDef::new(Users::Status)
                    .integer()
                    .not_null()
                    .default(1),
            )
            .col(ColumnDef::new(Users::PictureUrl).text().null())
            .col(
                ColumnDef::new(Users::HasPicture)
                    .boolean()
                    .not_null()
                    .default(false),
            );
        base_fields(&mut users, backend).foreign_key(&mut tenant_fk(Users::Table, Users::TenantId));
        manager.create_table(users.to_owned()).await?;
        for (name, cols, unique) in [
            (
                "ux_users_key",
                &[Users::TenantId, Users::UserKeyNorm][..],
                true,
            ),
            (
                "ux_users_email",
                &[Users::TenantId, Users::EmailNorm][..],
                true,
            ),
            ("ix_users_name", &[Users::TenantId, Users::Name][..], false),
            (
                "ix_users_status",
                &[Users::TenantId, Users::Status][..],
                false,
            ),
            (
                "ix_users_last_login",
                &[Users::TenantId, Users::LastLogin][..],
                false,
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Users::Table);
            for col in cols {
                index.col(*col);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }

        let mut roles = Table::create();
        roles
            .table(Roles::Table)
            .if_not_exists()
            .col(ColumnDef::new(Roles::Id).uuid().not_null().primary_key())
            .col(ColumnDef::new(Roles::TenantId).uuid().not_null())
            .col(
                ColumnDef::new(Roles::RoleKey)
                    .string_len(KEY_LEN)
                    .not_null(),
            )
            .col(norm_column(Roles::RoleKeyNorm, KEY_LEN * 4, backend).not_null())
            .col(ColumnDef::new(Roles::Description).text().null())
            .col(
                ColumnDef::new(Roles::IsAdministration)
                    .boolean()
                    .not_null()
                    .default(false),
            )
            .col(
                ColumnDef::new(Roles::IsDefault)
                    .boolean()
                    .not_null()
                    .default(false),
            )
            .col(
                ColumnDef::new(Roles::IsInternal)
                    .boolean()
                    .not_null()
                    .default(false),
            );
        base_fields(&mut roles, backend).foreign_key(&mut tenant_fk(Roles::Table, Roles::TenantId));
        manager.create_table(roles.to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_roles_key")
                    .table(Roles::Table)
                    .col(Roles::TenantId)
                    .col(Roles::RoleKeyNorm)
                    .unique()
                    .to_owned(),
            )
            .await?;

        let mut groups = Table::create();
        groups
            .table(Groups::Table)
            .if_not_exists()
            .col(ColumnDef::new(Groups::Id).uuid().not_null().primary_key())
            .col(ColumnDef::new(Groups::TenantId).uuid().not_null())
            .col(
                ColumnDef::new(Groups::GroupKey)
                    .string_len(KEY_LEN)
                    .not_null(),
            )
            .col(norm_column(Groups::GroupKeyNorm, KEY_LEN * 4, backend).not_null())
            .col(ColumnDef::new(Groups::Name).string_len(TEXT_LEN).null())
            .col(ColumnDef::new(Groups::Email).string_len(TEXT_LEN).null())
            .col(ColumnDef::new(Groups::Notes).text().null());
        base_fields(&mut groups, backend)
            .foreign_key(&mut tenant_fk(Groups::Table, Groups::TenantId));
        manager.create_table(groups.to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_groups_key")
                    .table(Groups::Table)
                    .col(Groups::TenantId)
                    .col(Groups::GroupKeyNorm)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UserRoles::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(UserRoles::UserId).uuid().not_null())
                    .col(ColumnDef::new(UserRoles::RoleId).uuid().not_null())
                    .primary_key(
                        Index::create()
                            .col(UserRoles::UserId)
                            .col(UserRoles::RoleId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserRoles::Table, UserRoles::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserRoles::Table, UserRoles::RoleId)
                            .to(Roles::Table, Roles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_user_roles_role")
                    .table(UserRoles::Table)
                    .col(UserRoles::RoleId)
                    .col(UserRoles::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UserGroups::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(UserGroups::UserId).uuid().not_null())
                    .col(ColumnDef::new(UserGroups::GroupId).uuid().not_null())
                    .primary_key(
                        Index::create()
                            .col(UserGroups::UserId)
                            .col(UserGroups::GroupId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserGroups::Table, UserGroups::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserGroups::Table, UserGroups::GroupId)
                            .to(Groups::Table, Groups::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_user_groups_group")
                    .table(UserGroups::Table)
                    .col(UserGroups::GroupId)
                    .col(UserGroups::UserId)
                    .to_owned(),
            )
            .await?;

        let mut data = ColumnDef::new(Pictures::Data);
        match backend {
            // Plain `blob` holds at most 64 KiB on MySQL/MariaDB.
            DatabaseBackend::MySql => data.custom(Alias::new("longblob")),
            _ => data.blob(),
        };
        manager
            .create_table(
                Table::create()
                    .table(Pictures::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Pictures::UserId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Pictures::ContentType)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(data.not_null())
                    .col(utc_timestamp(Pictures::UpdatedOn, backend).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Pictures::Table, Pictures::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Invitations::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Invitations::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Invitations::TenantId).uuid().not_null())
                    .col(ColumnDef::new(Invitations::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(Invitations::TokenHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(utc_timestamp(Invitations::ExpiresAt, backend).not_null())
                    .col(utc_timestamp(Invitations::UsedAt, backend).null())
                    .col(
                        ColumnDef::new(Invitations::Revoked)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(utc_timestamp(Invitations::CreatedOn, backend).not_null())
                    .foreign_key(&mut tenant_fk(Invitations::Table, Invitations::TenantId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invitations::Table, Invitations::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_invitations_token")
                    .table(Invitations::Table)
                    .col(Invitations::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_invitations_user")
                    .table(Invitations::Table)
                    .col(Invitations::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Settings::Key)
                            .string_len(KEY_LEN)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Settings::Value).text().not_null())
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Settings::Table.into_iden(),
            Invitations::Table.into_iden(),
            Pictures::Table.into_iden(),
            UserGroups::Table.into_iden(),
            UserRoles::Table.into_iden(),
            Groups::Table.into_iden(),
            Roles::Table.into_iden(),
            Users::Table.into_iden(),
            Tenants::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
