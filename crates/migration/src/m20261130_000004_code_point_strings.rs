//! MySQL/MariaDB: the string columns of the OData model in
//! `utf8mb4_nopad_bin`, a collation that compares and sorts by Unicode code
//! point, case- and accent-sensitively, without padding (`'a' <> 'a '`):
//! OData's string semantics. The translator then compares and sorts these
//! columns as they are (the service's `Schema::code_point_collation` says
//! so) instead of `CAST(... AS BINARY)`, and their indexes serve `eq`,
//! ranges, `startswith` and `$orderby` (e.g. `ix_users_name` for
//! `$orderby=name`). `utf8mb4_bin` would not do: it is `PAD SPACE`.
//!
//! The `ALTER TABLE`s rebuild the tables and their indexes (one statement
//! per table). `down` restates the columns without a collation, which gives
//! them the table's default again, the collation the first migration left
//! them in. SQLite (binary text comparison already) and PostgreSQL (the
//! translator adds `COLLATE "C"`): nothing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The collation of the model's string columns on MySQL/MariaDB.
const CODE_POINT_COLLATION: &str = "utf8mb4_nopad_bin";

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    UserKey,
    Name,
    Culture,
    Email,
    CreatedBy,
    ModifiedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum Roles {
    Table,
    RoleKey,
    Description,
    CreatedBy,
    ModifiedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum Groups {
    Table,
    GroupKey,
    Name,
    Email,
    Notes,
    CreatedBy,
    ModifiedBy,
}

/// A column's type as the first migration created it.
#[derive(Clone, Copy)]
enum Type {
    Varchar(u32),
    Text,
}

/// One string column: its name, type and nullability, exactly as the first
/// migration defined them (a `MODIFY` restates the whole definition).
struct StringColumn {
    name: DynIden,
    ty: Type,
    nullable: bool,
}

fn column(name: impl IntoIden, ty: Type, nullable: bool) -> StringColumn {
    StringColumn {
        name: name.into_iden(),
        ty,
        nullable,
    }
}

/// Every string column of `users`, `roles` and `groups` that the OData
/// model exposes (the `*_norm` columns already are `utf8mb4_bin` and only
/// serve uniqueness and key lookups; `picture_url` is never compared).
fn tables() -> Vec<(DynIden, Vec<StringColumn>)> {
    use Type::{Text, Varchar};
    vec![
        (
            Users::Table.into_iden(),
            vec![
                column(Users::UserKey, Varchar(100), false),
                column(Users::Name, Varchar(255), false),
                column(Users::Culture, Varchar(64), true),
                column(Users::Email, Varchar(255), true),
                column(Users::CreatedBy, Varchar(255), true),
                column(Users::ModifiedBy, Varchar(255), true),
            ],
        ),
        (
            Roles::Table.into_iden(),
            vec![
                column(Roles::RoleKey, Varchar(100), false),
                column(Roles::Description, Text, true),
                column(Roles::CreatedBy, Varchar(255), true),
                column(Roles::ModifiedBy, Varchar(255), true),
            ],
        ),
        (
            Groups::Table.into_iden(),
            vec![
                column(Groups::GroupKey, Varchar(100), false),
                column(Groups::Name, Varchar(255), true),
                column(Groups::Email, Varchar(255), true),
                column(Groups::Notes, Text, true),
                column(Groups::CreatedBy, Varchar(255), true),
                column(Groups::ModifiedBy, Varchar(255), true),
            ],
        ),
    ]
}

/// `ALTER TABLE t MODIFY c1 ..., MODIFY c2 ...` with every string column of
/// the table in `collation` (`None`: the table's default).
fn alter(
    table: DynIden,
    columns: Vec<StringColumn>,
    collation: Option<&str>,
) -> TableAlterStatement {
    let mut alter = Table::alter();
    alter.table(table);
    for StringColumn { name, ty, nullable } in columns {
        let mut def = ColumnDef::new(name);
        match ty {
            Type::Varchar(len) => def.string_len(len),
            Type::Text => def.text(),
        };
        if nullable {
            def.null();
        } else {
            def.not_null();
        }
        if let Some(collation) = collation {
            def.extra(format!("COLLATE {collation}"));
        }
        alter.modify_column(def);
    }
    alter.to_owned()
}

async fn set_collation(manager: &SchemaManager<'_>, collation: Option<&str>) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::MySql {
        return Ok(());
    }
    for (table, columns) in tables() {
        manager
            .alter_table(alter(table, columns, collation))
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_collation(manager, Some(CODE_POINT_COLLATION)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_collation(manager, None).await
    }
}
