//! Multi-row INSERTs of validated rows, in batches that stay under SQLite's
//! limit of 32766 bound parameters per statement (PostgreSQL and MySQL allow
//! 65535, so the same batches work everywhere). Users, roles and groups
//! add the rows they inserted to the tenant's counter once per call, in the
//! caller's transaction (`storage::counters`).

use chrono::{DateTime, Utc};
use indicatif::ProgressBar;
use sea_orm::{ConnectionTrait, DbErr};
use sea_query::{Alias, Expr, ExprTrait, InsertStatement, Query, Value};
use uuid::Uuid;

use super::{GroupRow, LinkRow, RoleRow, UserRow};
use crate::domain::Actor;
use crate::storage::changes::{self, Op};
use crate::storage::counters::{self, Counted};

/// SQLite's default `SQLITE_MAX_VARIABLE_NUMBER` since 3.32.
const MAX_PARAMS: usize = 32_766;
/// Above this, bigger statements stop paying off (and cost memory).
const MAX_ROWS: usize = 2_000;

/// Who and when, for the base fields of every inserted row.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub tenant_id: Uuid,
    pub now: DateTime<Utc>,
    /// `createdBy` and `modifiedBy` of the rows (`import`, `demo`), and
    /// `modifiedBy` of the users [`touch_users`] changes.
    pub by: Actor,
}

impl Stamp {
    const BASE_COLUMNS: [&'static str; 7] = [
        "is_active",
        "is_system",
        "created_by",
        "created_on",
        "modified_by",
        "modified_on",
        "version",
    ];

    fn base(&self, is_active: bool) -> [Value; 7] {
        [
            is_active.into(),
            false.into(),
            self.by.as_str().into(),
            self.now.into(),
            self.by.as_str().into(),
            self.now.into(),
            1i32.into(),
        ]
    }
}

/// On SQLite, tunes the connection that runs an import transaction: a page
/// cache big enough for the tables and indexes being filled (the default
/// 2 MiB makes every index insert a read from the OS cache), and statement
/// journals in memory (each multi-row INSERT otherwise copies every page it
/// first touches to a temporary file). No-op on other backends.
pub async fn tune_for_bulk<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        db.execute_unprepared("PRAGMA cache_size = -262144").await?;
        db.execute_unprepared("PRAGMA temp_store = MEMORY").await?;
    }
    Ok(())
}

/// Builds the next multi-row INSERT from up to `per_batch` rows, with the
/// number of rows it holds; `None` when `rows` is exhausted.
fn next_batch(
    rows: &mut impl Iterator<Item = Vec<Value>>,
    table: &str,
    columns: &[&str],
    per_batch: usize,
) -> Result<Option<(InsertStatement, u64)>, DbErr> {
    let mut stmt = Query::insert();
    stmt.into_table(Alias::new(table))
        .columns(columns.iter().map(|c| Alias::new(*c)));
    let mut n = 0u64;
    for row in rows.take(per_batch) {
        stmt.values(row.into_iter().map(Expr::val))
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        n += 1;
    }
    Ok((n > 0).then_some((stmt, n)))
}

/// The counter change of `inserted` rows (a file never holds 2^63 rows).
fn count_delta(inserted: u64) -> i64 {
    i64::try_from(inserted).unwrap_or(i64::MAX)
}

/// Records a bulk entry of `set` in the change log (every record of the set
/// counts as created for delta links), when `inserted` rows were written:
/// one log row per file, not one per record, so the import stays fast.
pub async fn record_bulk<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
    set: Counted,
    inserted: u64,
) -> Result<(), DbErr> {
    if inserted == 0 {
        return Ok(());
    }
    changes::record(db, tenant_id, &[(set, Uuid::nil(), Op::Bulk)]).await
}

/// Inserts `rows` into `table`, one statement per batch, advancing
/// `progress`. The next batch is built while the database executes the
/// current one (SQLite runs on its own worker thread), so building and
/// inserting overlap.
async fn insert_rows<C: ConnectionTrait>(
    db: &C,
    table: &str,
    columns: &[&str],
    rows: impl Iterator<Item = Vec<Value>>,
    progress: &ProgressBar,
) -> Result<u64, DbErr> {
    let per_batch = (MAX_PARAMS / columns.len()).clamp(1, MAX_ROWS);
    let mut rows = rows;
    let mut inserted = 0u64;
    let mut current = next_batch(&mut rows, table, columns, per_batch)?;
    while let Some((stmt, n)) = current.take() {
        let (done, following) = tokio::join!(db.execute(&stmt), async {
            next_batch(&mut rows, table, columns, per_batch)
        });
        done?;
        inserted += n;
        progress.inc(n);
        current = following?;
    }
    Ok(inserted)
}

pub async fn insert_users<C: ConnectionTrait>(
    db: &C,
    stamp: &Stamp,
    rows: &[UserRow],
    progress: &ProgressBar,
) -> Result<u64, DbErr> {
    let mut columns = vec![
        "id",
        "tenant_id",
        "user_key",
        "user_key_norm",
        "name",
        "culture",
        "email",
        "email_norm",
        "is_technician",
        "last_login",
        "status",
        "picture_url",
        "has_picture",
    ];
    columns.extend(Stamp::BASE_COLUMNS);
    let columns_len = columns.len();
    let values = rows.iter().map(|u| {
        let mut v: Vec<Value> = Vec::with_capacity(columns_len);
        v.extend([
            u.id.into(),
            stamp.tenant_id.into(),
            u.user_key.clone().into(),
            u.user_key.to_lowercase().into(),
            u.name.clone().into(),
            u.culture.clone().into(),
            u.email.clone().into(),
            u.email.as_ref().map(|e| e.to_lowercase()).into(),
            u.is_technician.into(),
            u.last_login.into(),
            u.status.into(),
            u.picture_url.clone().into(),
            false.into(),
        ]);
        v.extend(stamp.base(u.is_active));
        v
    });
    let inserted = insert_rows(db, "users", &columns, values, progress).await?;
    counters::add(db, stamp.tenant_id, Counted::Users, count_delta(inserted)).await?;
    record_bulk(db, stamp.tenant_id, Counted::Users, inserted).await?;
    Ok(inserted)
}

pub async fn insert_roles<C: ConnectionTrait>(
    db: &C,
    stamp: &Stamp,
    rows: &[RoleRow],
    progress: &ProgressBar,
) -> Result<u64, DbErr> {
    let mut columns = vec![
        "id",
        "tenant_id",
        "role_key",
        "role_key_norm",
        "description",
        "is_administration",
        "is_default",
        "is_internal",
    ];
    columns.extend(Stamp::BASE_COLUMNS);
    let values = rows.iter().map(|r| {
        let mut v: Vec<Value> = vec![
            r.id.into(),
            stamp.tenant_id.into(),
            r.role_key.clone().into(),
            r.role_key.to_lowercase().into(),
            r.description.clone().into(),
            false.into(),
            false.into(),
            false.into(),
        ];
        v.extend(stamp.base(true));
        v
    });
    let inserted = insert_rows(db, "roles", &columns, values, progress).await?;
    counters::add(db, stamp.tenant_id, Counted::Roles, count_delta(inserted)).await?;
    record_bulk(db, stamp.tenant_id, Counted::Roles, inserted).await?;
    Ok(inserted)
}

pub async fn insert_groups<C: ConnectionTrait>(
    db: &C,
    stamp: &Stamp,
    rows: &[GroupRow],
    progress: &ProgressBar,
) -> Result<u64, DbErr> {
    let mut columns = vec![
        "id",
        "tenant_id",
        "group_key",
        "group_key_norm",
        "name",
        "email",
        "notes",
    ];
    columns.extend(Stamp::BASE_COLUMNS);
    let values = rows.iter().map(|g| {
        let mut v: Vec<Value> = vec![
            g.id.into(),
            stamp.tenant_id.into(),
            g.group_key.clone().into(),
            g.group_key.to_lowercase().into(),
            g.name.clone().into(),
            Option::<String>::None.into(),
            Option::<String>::None.into(),
        ];
        v.extend(stamp.base(true));
        v
    });
    let inserted = insert_rows(db, "groups", &columns, values, progress).await?;
    counters::add(db, stamp.tenant_id, Counted::Groups, count_delta(inserted)).await?;
    record_bulk(db, stamp.tenant_id, Counted::Groups, inserted).await?;
    Ok(inserted)
}

/// Which membership table a link file fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkTable {
    UserRoles,
    UserGroups,
}

impl LinkTable {
    fn table_and_columns(self) -> (&'static str, [&'static str; 2]) {
        match self {
            Self::UserRoles => ("user_roles", ["user_id", "role_id"]),
            Self::UserGroups => ("user_groups", ["user_id", "group_id"]),
        }
    }
}

pub async fn insert_links<C: ConnectionTrait>(
    db: &C,
    table: LinkTable,
    rows: &[LinkRow],
    progress: &ProgressBar,
) -> Result<u64, DbErr> {
    let (name, columns) = table.table_and_columns();
    let values = rows
        .iter()
        .map(|l| vec![Value::from(l.user_id), Value::from(l.other_id)]);
    insert_rows(db, name, &columns, values, progress).await
}

/// Bumps `version` and `modified_on` of the tenant's users `ids` (who got
/// new memberships from an import: a change of theirs, by `stamp.by`), in the caller's
/// transaction, at most [`MAX_ROWS`] ids a statement.
pub async fn touch_users<C: ConnectionTrait>(
    db: &C,
    stamp: &Stamp,
    ids: &[Uuid],
) -> Result<(), DbErr> {
    for chunk in ids.chunks(MAX_ROWS) {
        let update = Query::update()
            .table(Alias::new("users"))
            .value(
                Alias::new("version"),
                Expr::col(Alias::new("version")).add(1),
            )
            .value(Alias::new("modified_on"), stamp.now)
            .value(Alias::new("modified_by"), stamp.by.as_str())
            .and_where(Expr::col(Alias::new("tenant_id")).eq(stamp.tenant_id))
            .and_where(Expr::col(Alias::new("id")).is_in(chunk.iter().copied()))
            .to_owned();
        db.execute(&update).await?;
    }
    Ok(())
}
