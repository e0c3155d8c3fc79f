//! The reader pool against sqlx: the same translator statements over the
//! same SQLite file must decode to the same values through both drivers.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{Duration as ChronoDuration, TimeZone};
use odata_parser::{ParserOptions, parse_query};
use odata_sql::{
    Backend, PARENT_COLUMN, RELATED_KEY_COLUMN, ReadPlan, TenantFilter, Translator,
    computed_column_alias,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult};
use sea_query::{Alias, Query};

use super::*;
use crate::configuration::Settings;
use crate::domain::TenantKey;
use crate::odata::schema::identity_schema;
use crate::storage::{db, tenants};

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
                other => panic!("no seek test for {other:?}"),
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

#[test]
fn values_bind_as_sqlx_encodes_them() {
    use sea_query::Value as V;
    let id = Uuid::new_v4();
    let t = Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap() + ChronoDuration::microseconds(5);
    let cases = [
        (V::Uuid(Some(id)), Value::Blob(id.as_bytes().to_vec())),
        (
            V::ChronoDateTimeUtc(Some(t)),
            Value::Text("2024-03-01T12:00:00.000005+00:00".to_owned()),
        ),
        (
            V::ChronoDateTimeUtc(Some(t - ChronoDuration::microseconds(5))),
            Value::Text("2024-03-01T12:00:00+00:00".to_owned()),
        ),
        (
            V::ChronoDate(NaiveDate::from_ymd_opt(2024, 2, 29)),
            Value::Text("2024-02-29".to_owned()),
        ),
        (V::Bool(Some(true)), Value::Integer(1)),
        (V::Bool(Some(false)), Value::Integer(0)),
        (V::Int(Some(-3)), Value::Integer(-3)),
        (V::BigInt(Some(i64::MAX)), Value::Integer(i64::MAX)),
        (V::Double(Some(0.5)), Value::Real(0.5)),
        (V::String(Some("ß".to_owned())), Value::Text("ß".to_owned())),
        (V::String(None), Value::Null),
        (V::Uuid(None), Value::Null),
        (V::ChronoDateTimeUtc(None), Value::Null),
        (
            V::Json(Some(Box::new(serde_json::json!({"a": [1, "x"]})))),
            Value::Text(r#"{"a":[1,"x"]}"#.to_owned()),
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(to_sqlite(value.clone()).unwrap(), expected, "{value:?}");
    }
    assert!(matches!(
        to_sqlite(V::BigUnsigned(Some(u64::MAX))),
        Err(ReaderError::Decode(_))
    ));
}

#[test]
fn decoders_refuse_what_sqlx_refuses() {
    let conn = Connection::open_in_memory().unwrap();
    register_functions(&conn).unwrap();
    conn.query_row(
        "SELECT 'x' AS t, 1.5 AS r, x'0102' AS b, 7 AS i, NULL AS n, '2024-03-01 12:00:00' AS ts, 1700000000 AS unix",
        [],
        |row| {
            assert!(matches!(int64(row, "t"), Err(ReaderError::Decode(_))));
            assert!(matches!(int64(row, "r"), Err(ReaderError::Decode(_))));
            assert!(matches!(boolean(row, "r"), Err(ReaderError::Decode(_))));
            assert!(matches!(text(row, "i"), Err(ReaderError::Decode(_))));
            assert!(matches!(uuid(row, "b"), Err(ReaderError::Decode(_))));
            assert!(matches!(uuid(row, "i"), Err(ReaderError::Decode(_))));
            assert!(matches!(timestamp(row, "t"), Err(ReaderError::Decode(_))));
            assert!(matches!(date(row, "t"), Err(ReaderError::Decode(_))));
            assert_eq!(double(row, "i").unwrap(), Some(7.0));
            assert_eq!(boolean(row, "i").unwrap(), Some(true));
            assert_eq!(text(row, "n").unwrap(), None);
            assert_eq!(uuid(row, "n").unwrap(), None);
            assert_eq!(
                timestamp(row, "ts").unwrap(),
                Some(Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap())
            );
            assert_eq!(
                timestamp(row, "unix").unwrap(),
                Utc.timestamp_opt(1_700_000_000, 0).single()
            );
            assert!(matches!(
                text(row, "no_such_column"),
                Err(ReaderError::Sqlite(_))
            ));
            assert!(matches!(text(row, 99), Err(ReaderError::Sqlite(_))));
            Ok(())
        },
    )
    .unwrap();
}

/// `odata_lower`/`odata_upper` on the readers answer what the sqlx
/// connections' C functions answer, also for NULL and non-text arguments.
#[tokio::test]
async fn case_functions_match_the_sqlx_ones() {
    let f = fixture(1).await;
    let sql = "SELECT odata_lower('ÄÖÜ Straße ΣΑΣ') AS a, odata_upper('straße ǆ') AS b, \
               odata_lower(NULL) AS c, odata_lower(42) AS d, odata_upper(x'61C3A4') AS e, \
               odata_lower(1.5) AS f, odata_lower(1e20) AS g, odata_lower(0.1) AS h, \
               odata_lower(-2.5e-7) AS i, odata_lower(1.0/3) AS j, odata_lower(100.0) AS k, \
               odata_lower(123456789012345.0) AS l, odata_lower(1e15) AS m, odata_lower(0.0001) AS n, \
               odata_upper(-0.0) AS o, odata_lower(x'FF41') AS p, odata_lower(9e999) AS q";
    let columns = "abcdefghijklmnopq";
    let row =
        f.db.query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            sql,
        ))
        .await
        .unwrap()
        .unwrap();
    let sqlx: Vec<Option<String>> = columns
        .chars()
        .map(|c| row.try_get::<Option<String>>("", &c.to_string()).unwrap())
        .collect();
    let readers: Vec<Option<String>> = f
        .readers
        .run(move |conn| {
            Ok(conn.query_row(sql, [], |row| {
                (0..columns.len())
                    .map(|i| row.get::<_, Option<String>>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()
            })?)
        })
        .await
        .unwrap();
    assert_eq!(readers, sqlx);
    assert_eq!(sqlx[0].as_deref(), Some("äöü straße σασ"));
    assert_eq!(sqlx[2], None);
}

/// `odata_add`/`odata_sub`/`odata_mul` on the readers answer what the
/// sqlx connections' C functions answer (types and values), and both
/// refuse an Int64 overflow with the error the read path answers as 400.
#[tokio::test]
async fn checked_arithmetic_matches_the_sqlx_ones() {
    let f = fixture(1).await;
    let cases = [
        "odata_add(2, 3)",
        "odata_sub(2, 3)",
        "odata_mul(-4, 3)",
        "odata_add(9223372036854775806, 1)",
        "odata_sub(-9223372036854775807, 1)",
        "odata_sub(0, 9223372036854775807)",
        "odata_mul(3037000499, 3037000499)",
        "odata_add(NULL, 1)",
        "odata_mul(9223372036854775807, NULL)",
        "odata_add(1.5, 2)",
        "odata_sub(9223372036854775807, -1.0)",
        "odata_mul(1e308, 10.0)",
        "odata_sub(9e999, 9e999)",
        "odata_add(odata_mul(2, 3), odata_sub(0, 4))",
    ];
    let sql = format!(
        "SELECT {}",
        cases
            .iter()
            .enumerate()
            .map(|(i, c)| format!("typeof({c}) || ' ' || quote({c}) AS c{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let row =
        f.db.query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            sql.clone(),
        ))
        .await
        .unwrap()
        .unwrap();
    let sqlx: Vec<String> = (0..cases.len())
        .map(|i| row.try_get::<String>("", &format!("c{i}")).unwrap())
        .collect();
    let readers: Vec<String> = f
        .readers
        .run(move |conn| {
            Ok(conn.query_row(&sql, [], |row| {
                (0..cases.len())
                    .map(|i| row.get::<_, String>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()
            })?)
        })
        .await
        .unwrap();
    assert_eq!(readers, sqlx);
    assert_eq!(
        sqlx[..8],
        [
            "integer 5",
            "integer -1",
            "integer -12",
            "integer 9223372036854775807",
            "integer -9223372036854775808",
            "integer -9223372036854775807",
            "integer 9223372030926249001",
            "null NULL",
        ]
    );
    assert_eq!(sqlx[9], "real 3.5");
    assert_eq!(sqlx[12], "null NULL");
    assert_eq!(sqlx[13], "integer 2");

    for (call, name) in [
        ("odata_add(9223372036854775807, 1)", "odata_add"),
        ("odata_sub(-9223372036854775807, 2)", "odata_sub"),
        ("odata_sub(0, -9223372036854775807 - 1)", "odata_sub"),
        ("odata_mul(4611686018427387904, 2)", "odata_mul"),
        ("odata_mul(-9223372036854775807 - 1, -1)", "odata_mul"),
    ] {
        let sql = format!("SELECT {call} AS x FROM users");
        let sqlx =
            f.db.query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                sql.clone(),
            ))
            .await
            .unwrap_err();
        let readers = f
            .readers
            .run(move |conn| {
                let mut stmt = conn.prepare(&sql)?;
                let mut rows = stmt.query([])?;
                while rows.next()?.is_some() {}
                Ok(())
            })
            .await
            .unwrap_err();
        let readers = sea_orm::DbErr::from(readers);
        for err in [&sqlx, &readers] {
            let message = err.to_string();
            assert!(
                message.contains(&format!("Int64 overflow in {name}")),
                "{call}: {message}"
            );
            assert!(crate::odata::value_out_of_range(err), "{call}: {err:?}");
        }
    }

    // Not numbers: an error, but not the client's overflow.
    let err =
        f.db.query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "SELECT odata_add('a', 1) AS x",
        ))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("odata_add expects numbers"),
        "{err}"
    );
    assert!(!crate::odata::value_out_of_range(&err));
}

#[tokio::test]
async fn more_callers_than_readers_all_complete() {
    let f = fixture(2).await;
    let readers = Arc::new(f.readers);
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..40_i64 {
        let readers = readers.clone();
        let (running, most) = (running.clone(), most.clone());
        tasks.push(tokio::spawn(async move {
            readers
                .run(move |conn| {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    let n: i64 =
                        conn.query_row("SELECT count(*) + ?1 FROM users", [i], |r| r.get(0))?;
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok(n - i)
                })
                .await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), NAMES.len() as i64);
    }
    assert!(most.load(Ordering::SeqCst) <= 2, "more than 2 at once");
    assert_eq!(readers.readers(), 2);
}

#[tokio::test]
async fn readers_do_not_write_and_recover() {
    let f = fixture(1).await;
    // query_only: writes are refused.
    let write = f
        .readers
        .run(|conn| Ok(conn.execute("DELETE FROM users", [])?))
        .await;
    assert!(matches!(write, Err(ReaderError::Sqlite(_))), "{write:?}");
    // A panic is an error, and the connection keeps serving.
    let panicked = f
        .readers
        .run(|_| -> Result<(), ReaderError> { panic!("boom") })
        .await;
    assert!(matches!(panicked, Err(ReaderError::Panicked)));
    // A transaction left open is ended before the next caller.
    f.readers
        .run(|conn| Ok(conn.execute_batch("BEGIN; SELECT 1 FROM users;")?))
        .await
        .unwrap();
    let autocommit = f.readers.run(|conn| Ok(conn.is_autocommit())).await;
    assert!(autocommit.unwrap());
    // New rows written through sqlx are seen by the readers.
    let before: i64 = f
        .readers
        .run(|conn| Ok(conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?))
        .await
        .unwrap();
    f.db.execute_unprepared("DELETE FROM users WHERE name = 'abc'")
        .await
        .unwrap();
    let after: i64 = f
        .readers
        .run(|conn| Ok(conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(after, before - 1);
    let err: sea_orm::DbErr = ReaderError::Timeout(DEFAULT_ACQUIRE_TIMEOUT).into();
    assert!(crate::error::is_connection_error(&err));
}

#[tokio::test]
async fn a_caller_waiting_too_long_times_out() {
    let file = migrated_file().await;
    let readers = Arc::new(
        SqliteReaders::open_with_timeout(&file.0, 1, std::time::Duration::from_millis(50)).unwrap(),
    );
    let slow = {
        let readers = readers.clone();
        tokio::spawn(async move {
            readers
                .run(|_| {
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    Ok(1)
                })
                .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let waiting = readers.run(|_| Ok(2)).await;
    assert!(
        matches!(waiting, Err(ReaderError::Timeout(_))),
        "{waiting:?}"
    );
    assert_eq!(slow.await.unwrap().unwrap(), 1);
    assert_eq!(readers.run(|_| Ok(3)).await.unwrap(), 3);
}

#[test]
fn memory_databases_get_no_readers() {
    assert!(db::sqlite_reader_file("sqlite::memory:").is_none());
    assert!(db::sqlite_reader_file("sqlite://x.db?mode=memory").is_none());
    assert!(db::sqlite_reader_file("postgres://h/db").is_none());
    assert_eq!(
        db::sqlite_reader_file("sqlite://./data/x.db?mode=rwc"),
        Some(PathBuf::from("./data/x.db"))
    );
}

#[tokio::test]
async fn readers_open_for_a_sqlite_file_only() {
    let file = TempDb::new();
    let settings = Settings {
        database_url: file.url(),
        db_max_connections: 1,
        sqlite_readers: 3,
        ..Settings::default()
    };
    let db = db::connect(&settings).await.unwrap();
    db::migrate(&settings, &db).await.unwrap();
    let readers = db::open_sqlite_readers(&settings)
        .unwrap()
        .expect("readers");
    assert_eq!(readers.readers(), 3);
    let off = Settings {
        sqlite_readers: 0,
        ..settings.clone()
    };
    assert!(db::open_sqlite_readers(&off).unwrap().is_none());
    let memory = Settings {
        database_url: "sqlite::memory:".to_owned(),
        ..settings
    };
    assert!(db::open_sqlite_readers(&memory).unwrap().is_none());
    // A file that does not exist is an error (the readers never create it).
    assert!(SqliteReaders::open(&file.0.with_extension("missing"), 1).is_err());
}

#[tokio::test]
async fn inline_reads_run_on_the_calling_thread_within_their_budget() {
    let f = fixture(1).await;
    let readers = SqliteReaders::open(&f._file.0, 1)
        .unwrap()
        .with_inline_budget(std::time::Duration::from_millis(50));
    let caller = std::thread::current().id();
    // A cheap read runs here, on a connection of this thread's own.
    let (thread, users) = readers
        .run_inline(|conn| {
            let n: i64 = conn
                .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
                .unwrap();
            (std::thread::current().id(), n)
        })
        .expect("answered inline")
        .expect("no panic");
    assert_eq!(thread, caller);
    assert_eq!(users, f.user_ids.len() as i64);
    // One past its budget is interrupted: no answer, the caller goes to the
    // reader threads (which have no budget).
    let started = std::time::Instant::now();
    let interrupted =
        readers.run_inline(|conn| conn.query_row(ENDLESS, [], |r| r.get::<_, i64>(0)));
    assert!(interrupted.is_none(), "{interrupted:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // The connection is usable again at once, and stays this thread's.
    let again = readers
        .run_inline(|conn| {
            conn.query_row("SELECT 7", [], |r| r.get::<_, i64>(0))
                .unwrap()
        })
        .expect("answered inline")
        .unwrap();
    assert_eq!(again, 7);
    // A panic is reported as on the reader threads.
    let panicked = readers.run_inline(|_| -> i64 { panic!("boom") });
    assert!(matches!(panicked, Some(Err(ReaderError::Panicked))));
    // Off: nothing runs inline.
    let off = SqliteReaders::open(&f._file.0, 1)
        .unwrap()
        .with_inline_budget(std::time::Duration::ZERO);
    assert!(off.run_inline(|_| 1).is_none());
}

#[tokio::test]
async fn statements_without_ranges_are_not_re_prepared_per_value() {
    let f = fixture(1).await;
    // STAT4 samples, which make plans value-dependent.
    f.db.execute_unprepared("ANALYZE").await.unwrap();
    let conn = open_connection(&f._file.0).unwrap();
    let reprepares = |query: &str, values: &[&str]| -> i32 {
        let mut total = 0;
        for v in values {
            let plan = plan_of("Users", &query.replace("{}", v), f.tenant);
            let stmt = plan.page_statement(None, 100, 0).unwrap();
            let (sql, bound) = bind(&stmt).unwrap();
            let mut prepared = prepare_cached(&conn, &sql).unwrap();
            let mut rows = prepared.query(params_from_iter(&bound)).unwrap();
            while rows.next().unwrap().is_some() {}
            drop(rows);
            total = prepared.get_status(rusqlite::StatementStatus::RePrepare);
        }
        total
    };
    // Equalities: one plan for every value, never prepared again.
    assert_eq!(
        reprepares("$filter=userKey eq '{}'", &["a", "b", "c", "d"]),
        0
    );
    assert_eq!(reprepares("$filter=status eq {}", &["1", "2", "3"]), 0);
    // A range keeps value-dependent plans (STAT4 tells a selective range
    // from a wide one), at the price of a re-preparation per new value.
    assert!(value_dependent(
        &bind(
            &plan_of(
                "Users",
                "$filter=lastLogin ge 2026-01-01T00:00:00Z",
                f.tenant
            )
            .page_statement(None, 100, 0)
            .unwrap()
        )
        .unwrap()
        .0
    ));
    assert!(!value_dependent(
        &bind(
            &plan_of("Users", "$filter=userKey eq 'x'", f.tenant)
                .page_statement(None, 100, 0)
                .unwrap()
        )
        .unwrap()
        .0
    ));
}

/// A statement that never ends on its own (a recursive CTE counting up).
const ENDLESS: &str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) \
                       SELECT count(*) FROM n";

#[tokio::test]
async fn a_statement_past_the_read_timeout_is_interrupted() {
    let file = migrated_file().await;
    let limit = std::time::Duration::from_millis(50);
    let readers = SqliteReaders::open(&file.0, 1)
        .unwrap()
        .with_read_timeout(limit);
    assert_eq!(readers.read_timeout(), limit);
    let started = Instant::now();
    let endless = readers
        .run(|conn| Ok(conn.query_row(ENDLESS, [], |r| r.get::<_, i64>(0))?))
        .await;
    assert!(
        matches!(endless, Err(ReaderError::TimedOut(l)) if l == limit),
        "{endless:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    // The reader is free, and a quick statement is not affected.
    let one = readers
        .run(|conn| Ok(conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
        .await;
    assert_eq!(one.unwrap(), 1);
}

#[tokio::test]
async fn a_dropped_caller_interrupts_its_statement() {
    let file = migrated_file().await;
    // No time limit: only the dropped future can stop the statement.
    let readers = SqliteReaders::open(&file.0, 1).unwrap();
    let gave_up = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        readers.run(|conn| Ok(conn.query_row(ENDLESS, [], |r| r.get::<_, i64>(0))?)),
    )
    .await;
    assert!(gave_up.is_err(), "the endless statement ended");
    let started = Instant::now();
    let one = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        readers.run(|conn| Ok(conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?)),
    )
    .await;
    assert_eq!(one.expect("the reader stayed busy").unwrap(), 1);
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}
