//! The reader pool against sqlx: the same translator statements over the
//! same SQLite file must decode to the same values through both drivers.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration as ChronoDuration, NaiveDate, TimeZone, Utc};
use odata_parser::{ParserOptions, parse_query};
use odata_sql::schema::EdmType;
use odata_sql::{
    Backend, PARENT_COLUMN, RELATED_KEY_COLUMN, ReadPlan, TenantFilter, Translator,
    computed_column_alias,
};
use rusqlite::params_from_iter;
use rusqlite::types::Value;
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult};
use sea_query::SelectStatement;
use sea_query::{Alias, Query};
use serde_json::Value as Json;
use uuid::Uuid;

use super::*;
use crate::configuration::Settings;
use crate::domain::TenantKey;
use crate::odata::schema::identity_schema;
use crate::storage::{db, tenants};

mod pool;
mod values;

/// A SQLite file in the temp directory, removed (with its WAL) on drop.
struct TempDb(PathBuf);

impl TempDb {
    fn new() -> Self {
        TempDb(std::env::temp_dir().join(format!("sqlite-reader-{}.db", Uuid::new_v4())))
    }
    fn url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.0.display())
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

/// An empty, migrated SQLite file (its sqlx pool closed again).
async fn migrated_file() -> TempDb {
    let file = TempDb::new();
    let settings = Settings {
        database_url: file.url(),
        db_max_connections: 1,
        ..Settings::default()
    };
    let db = db::connect(&settings).await.unwrap();
    db::migrate(&settings, &db).await.unwrap();
    file
}

struct Fixture {
    _file: TempDb,
    db: DatabaseConnection,
    readers: SqliteReaders,
    tenant: Uuid,
    user_ids: Vec<Uuid>,
}

const NAMES: &[&str] = &[
    "Straße",
    "STRASSE",
    "Σίσυφος",
    "ΣΊΣΥΦΟΣ",
    "ßig",
    "Zoë",
    "abc",
    "Émile",
    "Ǆemal",
    "😀 Smile",
];

/// A migrated file with one tenant, users (microsecond timestamps, nulls,
/// non-ASCII names), roles and memberships, all written through SeaORM.
async fn fixture(readers: usize) -> Fixture {
    let file = TempDb::new();
    let settings = Settings {
        database_url: file.url(),
        db_max_connections: 2,
        ..Settings::default()
    };
    let db = db::connect(&settings).await.expect("connect");
    db::migrate(&settings, &db).await.expect("migrate");
    let key = |v: &str, field: &str| TenantKey::parse(v, field).expect("tenant key");
    let (scope, _) = tenants::create(&db, &key("readers", "tenant"), &key("main", "org"))
        .await
        .expect("tenant");
    let tenant = scope.tenant_id;
    let created = Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap();
    let mut insert = Query::insert();
    insert.into_table(Alias::new("users")).columns(
        [
            "id",
            "tenant_id",
            "user_key",
            "user_key_norm",
            "name",
            "email",
            "email_norm",
            "is_technician",
            "last_login",
            "status",
            "has_picture",
            "picture_url",
            "created_on",
            "modified_on",
        ]
        .map(Alias::new),
    );
    let mut user_ids = Vec::new();
    for (i, name) in NAMES.iter().enumerate() {
        let id = Uuid::new_v4();
        user_ids.push(id);
        let n = i as i64;
        let email = (i % 3 != 0).then(|| format!("u{i}@example.com"));
        // Microseconds, whole seconds and a null among the last logins;
        // two users share one instant (ties broken by the key).
        let last_login = match i % 4 {
            0 => None,
            1 => Some(created + ChronoDuration::microseconds(123_456 + n)),
            2 => Some(created + ChronoDuration::seconds(n)),
            _ => Some(created + ChronoDuration::microseconds(123_457)),
        };
        insert
            .values([
                id.into(),
                tenant.into(),
                format!("user{i}").into(),
                format!("user{i}").into(),
                (*name).into(),
                email.clone().into(),
                email.into(),
                (i % 2 == 0).into(),
                last_login.into(),
                (1 + (i % 4) as i32).into(),
                (i % 5 == 1).into(),
                (i % 5 == 2)
                    .then(|| "https://pictures.example/x.png".to_owned())
                    .into(),
                created.into(),
                (created + ChronoDuration::microseconds(n)).into(),
            ])
            .expect("one value per column");
    }
    db.execute(&insert).await.expect("insert users");
    let mut roles = Query::insert();
    roles.into_table(Alias::new("roles")).columns(
        [
            "id",
            "tenant_id",
            "role_key",
            "role_key_norm",
            "description",
            "created_on",
            "modified_on",
        ]
        .map(Alias::new),
    );
    let role_ids = [Uuid::new_v4(), Uuid::new_v4()];
    for (i, id) in role_ids.iter().enumerate() {
        roles
            .values([
                (*id).into(),
                tenant.into(),
                format!("ROLE{i}").into(),
                format!("role{i}").into(),
                (i == 0).then(|| "Größte Rolle".to_owned()).into(),
                created.into(),
                created.into(),
            ])
            .expect("one value per column");
    }
    db.execute(&roles).await.expect("insert roles");
    let mut members = Query::insert();
    members
        .into_table(Alias::new("user_roles"))
        .columns(["user_id", "role_id"].map(Alias::new));
    for (i, user) in user_ids.iter().enumerate() {
        for role in role_ids.iter().take(i % 3) {
            members
                .values([(*user).into(), (*role).into()])
                .expect("one value per column");
        }
    }
    db.execute(&members).await.expect("insert memberships");
    let path = db::sqlite_reader_file(&file.url()).expect("a file");
    let readers = SqliteReaders::open(&path, readers).expect("open the readers");
    Fixture {
        _file: file,
        db,
        readers,
        tenant,
        user_ids,
    }
}

fn plan_of(set: &str, query: &str, tenant: Uuid) -> ReadPlan {
    let options = parse_query(query, &ParserOptions::default())
        .unwrap_or_else(|e| panic!("{query}: {}", e.render(query)));
    Translator::new(identity_schema(), Backend::Sqlite)
        .plan(
            set,
            &options,
            TenantFilter {
                value: tenant.into(),
            },
        )
        .unwrap_or_else(|e| panic!("{query}: {e}"))
}

/// The EDM type of a result column of `plan`'s statements.
fn edm_of(plan: &ReadPlan, column: &str) -> EdmType {
    if let Some(i) = column
        .strip_prefix("__k")
        .and_then(|i| i.parse::<usize>().ok())
    {
        return plan.order_keys()[i].edm_type;
    }
    if let Some(c) = plan
        .selection
        .computed
        .iter()
        .find(|c| computed_column_alias(&c.name) == column)
    {
        return c.edm_type;
    }
    if let Some(apply) = &plan.apply
        && let Some(c) = apply.columns.iter().find(|c| c.name == column)
    {
        return c.edm_type;
    }
    match column {
        PARENT_COLUMN => return EdmType::Guid,
        RELATED_KEY_COLUMN => return EdmType::String,
        "count" => return EdmType::Int64,
        "has_picture" => return EdmType::Boolean,
        "picture_url" => return EdmType::String,
        _ => {}
    }
    std::iter::once(&plan.entity)
        .chain(plan.expand.iter().map(|e| &e.target))
        .flat_map(|e| e.properties.iter())
        .find(|p| p.column_name() == Some(column))
        .map(|p| p.edm_type)
        .unwrap_or_else(|| panic!("no EDM type for column {column}"))
}

type Rows = Vec<Vec<(String, Json)>>;

async fn through_sqlx(db: &DatabaseConnection, plan: &ReadPlan, stmt: &SelectStatement) -> Rows {
    let rows: Vec<QueryResult> = db.query_all(stmt).await.expect("sqlx query");
    rows.iter()
        .map(|row| {
            row.column_names()
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    let v = crate::odata::rows::json_value(row, i, edm_of(plan, &c))
                        .unwrap_or_else(|e| panic!("sqlx decode {c}: {e}"));
                    (c, v)
                })
                .collect()
        })
        .collect()
}

async fn through_readers(readers: &SqliteReaders, plan: &ReadPlan, stmt: &SelectStatement) -> Rows {
    let types: Vec<(String, EdmType)> = {
        // Column names from sea-query's own SQL, via a prepared statement.
        let stmt = stmt.clone();
        readers
            .run(move |conn| {
                let (sql, _) = bind(&stmt)?;
                let prepared = conn.prepare_cached(&sql)?;
                Ok(prepared
                    .column_names()
                    .into_iter()
                    .map(str::to_owned)
                    .collect::<Vec<_>>())
            })
            .await
            .expect("column names")
            .into_iter()
            .map(|c| {
                let t = edm_of(plan, &c);
                (c, t)
            })
            .collect()
    };
    let stmt = stmt.clone();
    readers
        .run(move |conn| {
            let mut out = Vec::new();
            for_each_row(conn, &stmt, |row| {
                let mut record = Vec::with_capacity(types.len());
                for (i, (name, ty)) in types.iter().enumerate() {
                    let by_index = json(row, i, *ty)?;
                    let by_name = json(row, name.as_str(), *ty)?;
                    assert_eq!(by_index, by_name, "column {name} by index and by name");
                    record.push((name.clone(), by_index));
                }
                out.push(record);
                Ok(())
            })?;
            Ok(out)
        })
        .await
        .expect("reader query")
}

/// The seek position (`__k0..`) of a row read through sqlx, as bound values.
fn position_of(plan: &ReadPlan, row: &QueryResult) -> Vec<sea_query::Value> {
    use sea_query::Value as V;
    plan.order_keys()
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let col = odata_sql::order_key_alias(i);
            match k.edm_type {
                EdmType::String => V::String(row.try_get("", &col).unwrap()),
                EdmType::Guid => V::Uuid(row.try_get("", &col).unwrap()),
                EdmType::DateTimeOffset => V::ChronoDateTimeUtc(row.try_get("", &col).unwrap()),
                EdmType::Boolean => V::Bool(row.try_get("", &col).unwrap()),
                EdmType::Int32 | EdmType::Int64 => V::BigInt(row.try_get("", &col).unwrap()),
                other @ (EdmType::Decimal | EdmType::Double | EdmType::Date) => {
                    panic!("no seek test for {other:?}")
                }
            }
        })
        .collect()
}

#[tokio::test]
async fn reads_decode_as_through_sqlx() {
    let f = fixture(2).await;
    let some_user = f.user_ids[1];
    let some_login = "2024-03-01T12:00:00.123457Z";
    // (query, expected number of rows on the first page when known)
    let queries: Vec<(String, Option<usize>)> = vec![
        (String::new(), Some(NAMES.len())),
        (format!("$filter=id eq {some_user}"), Some(1)),
        (format!("$filter=id ne {some_user}"), Some(NAMES.len() - 1)),
        // Users 1, 3, 7 logged in at .123457, 5 and 9 later by µs, 2 and 6
        // by seconds; 0, 4, 8 never.
        (format!("$filter=lastLogin ge {some_login}"), Some(7)),
        (
            "$filter=lastLogin lt 2024-03-01T12:00:00.123461Z".to_owned(),
            Some(3),
        ),
        (format!("$filter=lastLogin eq {some_login}"), Some(3)),
        ("$filter=lastLogin eq null".to_owned(), Some(3)),
        ("$filter=tolower(name) eq 'straße'".to_owned(), Some(1)),
        ("$filter=toupper(name) eq 'ΣΊΣΥΦΟΣ'".to_owned(), Some(2)),
        ("$filter=tolower(name) eq 'σίσυφοσ'".to_owned(), Some(1)),
        ("$filter=toupper(name) eq 'STRAßE'".to_owned(), Some(1)),
        ("$filter=contains(name,'ß')".to_owned(), Some(2)),
        ("$filter=contains(tolower(name),'é')".to_owned(), Some(1)),
        ("$filter=startswith(name,'Σ')".to_owned(), Some(2)),
        ("$filter=isTechnician eq true and status ge 2".to_owned(), None),
        ("$filter=email eq null".to_owned(), Some(4)),
        ("$orderby=tolower(name) desc".to_owned(), Some(NAMES.len())),
        ("$orderby=name".to_owned(), Some(NAMES.len())),
        ("$orderby=lastLogin desc,name".to_owned(), Some(NAMES.len())),
        ("$orderby=lastLogin".to_owned(), Some(NAMES.len())),
        ("$select=id,name,picture,lastLogin,email".to_owned(), None),
        ("$count=true&$filter=status eq 2".to_owned(), None),
        ("$expand=roles".to_owned(), None),
        ("$expand=roles($select=roleKey,description)".to_owned(), None),
        (
            "$apply=aggregate(name with countdistinct as n,name with max as hi,lastLogin with min as lo)"
                .to_owned(),
            Some(1),
        ),
    ];
    let parents: Vec<sea_query::Value> = f.user_ids.iter().map(|u| (*u).into()).collect();
    let mut checked_rows = 0;
    for (query, expected) in &queries {
        let plan = plan_of("Users", query, f.tenant);
        let mut statements = Vec::new();
        if let Some(apply) = &plan.apply {
            statements.push(("apply page".to_owned(), apply.page_statement(100, 0)));
            statements.push(("apply count".to_owned(), apply.count_statement()));
        } else {
            statements.push((
                "page".to_owned(),
                plan.page_statement(None, 101, 0).expect("page"),
            ));
            statements.push(("count".to_owned(), plan.count_statement()));
            for expand in &plan.expand {
                statements.push((
                    format!("expand {}", expand.navigation.name),
                    plan.expand_statement(expand, parents.clone()),
                ));
            }
            for nav in &plan.selection.navigations {
                if let Some(stmt) =
                    plan.navigation_keys_statement(identity_schema(), nav, parents.clone())
                {
                    statements.push((format!("keys {}", nav.name), stmt));
                }
            }
        }
        for (what, stmt) in &statements {
            let sqlx = through_sqlx(&f.db, &plan, stmt).await;
            let readers = through_readers(&f.readers, &plan, stmt).await;
            assert_eq!(readers, sqlx, "{query} ({what})");
            checked_rows += sqlx.len();
            if what == "page"
                && let Some(n) = expected
            {
                assert_eq!(sqlx.len(), *n, "{query}: rows of the first page");
            }
        }

        // Keyset paging: after every row of the page, through both drivers,
        // and the rest of the page is what follows.
        if plan.apply.is_none() {
            let page_stmt = plan.page_statement(None, 101, 0).expect("page");
            let page: Vec<QueryResult> = f.db.query_all(&page_stmt).await.expect("page");
            let whole = through_sqlx(&f.db, &plan, &page_stmt).await;
            for (i, row) in page.iter().enumerate() {
                let after = position_of(&plan, row);
                let stmt = plan.page_statement(Some(&after), 101, 0).expect("seek");
                let sqlx = through_sqlx(&f.db, &plan, &stmt).await;
                let readers = through_readers(&f.readers, &plan, &stmt).await;
                assert_eq!(readers, sqlx, "{query} after row {i}");
                assert_eq!(sqlx, whole[i + 1..], "{query} after row {i}: the rest");
            }
        }
    }
    assert!(checked_rows > 100, "only {checked_rows} rows compared");
}

/// id, last_login, modified_on, is_technician, status, name.
type Typed = (
    Uuid,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
    bool,
    i64,
    String,
);

#[tokio::test]
async fn typed_decoders_match_sqlx() {
    let f = fixture(1).await;
    let stmt = plan_of("Users", "$orderby=lastLogin", f.tenant)
        .page_statement(None, 100, 0)
        .expect("page");
    let sqlx: Vec<Typed> =
        f.db.query_all(&stmt)
            .await
            .expect("sqlx")
            .iter()
            .map(|r| {
                (
                    r.try_get("", "id").unwrap(),
                    r.try_get("", "last_login").unwrap(),
                    r.try_get("", "modified_on").unwrap(),
                    r.try_get("", "is_technician").unwrap(),
                    r.try_get("", "status").unwrap(),
                    r.try_get("", "name").unwrap(),
                )
            })
            .collect();
    let readers: Vec<Typed> = f
        .readers
        .run(move |conn| {
            let mut out = Vec::new();
            for_each_row(conn, &stmt, |row| {
                let need = |what: &str| ReaderError::Decode(format!("{what} is null"));
                out.push((
                    uuid(row, "id")?.ok_or_else(|| need("id"))?,
                    timestamp(row, "last_login")?,
                    timestamp(row, "modified_on")?.ok_or_else(|| need("modified_on"))?,
                    boolean(row, "is_technician")?.ok_or_else(|| need("is_technician"))?,
                    int64(row, "status")?.ok_or_else(|| need("status"))?,
                    text(row, "name")?.ok_or_else(|| need("name"))?.to_owned(),
                ));
                Ok(())
            })?;
            Ok(out)
        })
        .await
        .expect("readers");
    assert_eq!(readers, sqlx);
    assert_eq!(readers.len(), NAMES.len());
    // Microseconds survive.
    assert!(
        readers
            .iter()
            .any(|r| r.1.is_some_and(|t| t.timestamp_subsec_micros() == 123_457))
    );
}
