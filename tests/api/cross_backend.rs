//! The same data and the same OData queries give the same rows, in the same
//! order (and the same counts), on SQLite, PostgreSQL and MariaDB.
//!
//! The data is `odata-users generate 200` plus hand-written users that differ only
//! in case or accents, with non-ASCII text and nulls (see
//! `cross_backend/data.rs`). The queries are the handwritten ones below plus
//! a few hundred generated from a fixed seed (`cross_backend/queries.rs`),
//! sent to API 1 (`users/odata`) and to the v4 feed (`odata/Users`, a few to
//! `Roles`/`Groups`, in small pages), each followed through every next
//! link. SQLite is the reference: every query must answer 200 there and
//! exactly the same on the other backends (status, rows, order, count); its
//! answers with plain `$orderby` keys are checked to be totally ordered (the
//! key as the last sort item).
//!
//! A second test runs one script of writes on the feed (creates with
//! binds, `PATCH`, `PUT`, `$ref`, deletes, refused writes, a JSON `$batch`
//! whose first change set fails half-way) on every
//! backend and compares each answer and the data left
//! (`cross_backend/writes.rs`).
//!
//! One database per backend for this whole test binary (created with a
//! unique name, dropped at the end). The server backends come from
//! `ODATA_TEST_POSTGRES_URL` / `ODATA_TEST_MYSQL_URL` (defaults: the local
//! servers of DESIGN.md). When one is unreachable the test says so loudly and
//! compares the others; with `ODATA_TEST_REQUIRE_BACKENDS=1` (set by `.ci/run`)
//! an unreachable backend fails the test.

use crate::common;
#[path = "cross_backend/data.rs"]
mod data;
#[path = "cross_backend/known.rs"]
mod known;
#[path = "cross_backend/queries.rs"]
mod queries;
#[path = "cross_backend/writes.rs"]
mod writes;

use std::path::Path;

use common::{TestApp, spawn_app_with};
use known::KNOWN_DIFFERENCES;
use queries::{Case, Endpoint};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";
const DEFAULT_MYSQL: &str = "mysql://root@127.0.0.1:3306/test";

/// The generator's seed and how many distinct queries it makes.
const SEED: u64 = 0xC805_5BAC_CE2D_0001;
const GENERATED: usize = 320;

/// Page size asked of the feed (`Prefer: odata.maxpagesize`), small so that
/// the feed's paging runs too.
const FEED_PAGE: usize = 70;

/// Fields left out of the comparison: set at import time, so they differ
/// between the loads by construction.
const IGNORED_FIELDS: &[&str] = &["createdOn", "modifiedOn"];

/// Queries over the generated users plus a few rows that differ only in
/// case and accents. Each runs through every page (nextPageLink).
const HANDWRITTEN: &[&str] = &[
    "",
    "$orderby=name",
    "$orderby=name desc",
    "$orderby=email",
    "$orderby=email desc,userKey",
    "$orderby=lastLogin",
    "$orderby=lastLogin desc",
    "$orderby=tolower(name),userKey",
    "$orderby=culture,status desc,name",
    "$filter=name eq 'Ángela'",
    "$filter=name eq 'ángela'",
    "$filter=tolower(name) eq 'ángela'&$orderby=userKey",
    "$filter=toupper(name) eq 'ÁNGELA'&$orderby=userKey",
    "$filter=contains(name,'ngel')&$orderby=userKey",
    "$filter=contains(name,'NGEL')&$orderby=userKey",
    "$filter=contains(tolower(name),'silva')&$orderby=name",
    "$filter=startswith(name,'Á')&$orderby=userKey",
    "$filter=endswith(email,'.com')&$orderby=userKey",
    "$filter=contains(name,'%25')",
    "$filter=contains(name,'_')",
    "$filter=email eq null&$orderby=userKey",
    "$filter=email ne null&$orderby=email",
    "$filter=lastLogin eq null&$orderby=userKey",
    "$filter=lastLogin ge 2026-01-01T00:00:00Z&$orderby=lastLogin desc,userKey",
    "$filter=status eq 1 and isTechnician eq true&$orderby=name",
    "$filter=(status eq 3 or status eq 4) and isTechnician eq false",
    "$filter=status in (2,3)&$orderby=userKey desc",
    "$filter=not (status eq 1)&$orderby=name",
    "$filter=name gt 'M'&$orderby=name",
    "$filter=name lt 'a'&$orderby=name desc",
    "$filter=length(name) gt 20&$orderby=userKey",
    "$filter=roles/any(r: r/roleKey eq 'admin')&$orderby=userKey",
    "$filter=roles/any()&$orderby=userKey",
    "$filter=groups/all(g: startswith(g/groupKey,'s'))&$orderby=userKey",
    "$top=7&$skip=3&$orderby=name",
    "$top=150&$orderby=userKey",
    "$skip=190",
    "$search=silva&$orderby=userKey",
    "$search=ÁNGELA&$orderby=userKey",
    "$select=userKey,name&$filter=status eq 2&$orderby=name",
    "$filter=name eq 'José Niño'&$orderby=userKey",
    "$filter=startswith(userKey,'case.')&$orderby=name",
    "$filter=startswith(userKey,'case.')&$orderby=name desc,userKey",
    "$filter=name lt 'Ø' and name ge 'Á'&$orderby=name",
    "$filter=contains(name,'🙂')",
    "$filter=indexof(name,'🙂') eq 12",
    "$filter=substring(name,12) eq '🙂'",
    "$filter=length(name) eq 11 and startswith(userKey,'case.')&$orderby=userKey",
    "$filter=contains(name,'''')",
    "$filter=email eq 'strasse2@example.de'",
    "$filter=tolower(email) eq 'strasse2@example.de'",
    "$filter=tolower(name) eq 'strasse groß'&$orderby=userKey",
    "$filter=toupper(name) eq 'STRASSE GROSS'&$orderby=userKey",
    "$filter=tolower(name) eq 'σωκράτης παπαδόπουλος'&$orderby=userKey",
    "$filter=tolower(name) eq 'øyvind ørsted'&$orderby=userKey desc",
    "$search=ΠΑΠΑΔΌΠΟΥΛΟΣ&$orderby=userKey",
    "$search=ørsted&$orderby=userKey",
    "$filter=culture eq null or email eq null&$orderby=culture desc,email,userKey desc",
    "$filter=lastLogin eq 2025-03-01T10:00:00Z&$orderby=lastLogin,name desc",
    "$filter=day(lastLogin) eq 29 and month(lastLogin) eq 2",
    "$filter=date(lastLogin) eq 2025-12-31 or date(lastLogin) eq 2026-01-01&$orderby=lastLogin",
    "$filter=year(lastLogin) eq 2026 and hour(lastLogin) eq 23 and minute(lastLogin) eq 59&$orderby=userKey",
    "$filter=roles/any(r: r/roleKey eq 'Gestão')&$orderby=name",
    "$filter=groups/any(g: g/groupKey eq 'straße-team')&$expand=groups($select=groupKey)",
    "$top=20&$orderby=userKey&$expand=roles($select=roleKey;$expand=users($select=userKey,name;$top=2))",
];

/// Handwritten queries of the v4 feed's `Users` (in pages of [`FEED_PAGE`]).
const HANDWRITTEN_FEED: &[&str] = &[
    "",
    "$count=true&$orderby=lastLogin desc,name",
    "$filter=startswith(userKey,'case.')&$orderby=userKey&$expand=roles($orderby=roleKey desc),groups",
    "$filter=startswith(userKey,'case.') or status eq 2&$orderby=userKey&$expand=roles($select=roleKey;$count=true;$expand=users($select=userKey,name;$filter=contains(name,'a');$orderby=name desc;$skip=1;$top=3;$count=true))",
    "$top=30&$orderby=name&$expand=groups($orderby=name;$expand=users($select=userKey;$orderby=tolower(name);$top=4))",
    "$filter=lastLogin lt 2025-03-01T10:00:00.0000001Z&$orderby=userKey&$select=userKey",
    "$filter=status divby 3 gt 0.33333333333&$count=true&$select=status",
    "$filter=status mod 2.5 eq 1.5&$select=status",
    "$orderby=status divby 3,name&$select=status,name",
    "$apply=groupby((status),aggregate($count as n))&$orderby=n desc",
    "$apply=aggregate(status with average as mean,$count as n)",
    "$apply=groupby((culture),aggregate(status with average as mean))",
    "$apply=filter(lastLogin ne null)/groupby((isTechnician,status),aggregate(lastLogin with max as latest,name with min as first))",
    "$apply=groupby((culture),aggregate(name with max as last,email with countdistinct as emails))&$orderby=last desc&$top=5",
    // "Has a picture" (a stored image or an external URL); the picture's
    // value itself depends on the public URL, so it is not selected.
    "$filter=picture eq null&$orderby=userKey&$select=userKey&$count=true",
    "$filter=picture ne null or startswith(userKey,'case.')&$orderby=userKey&$select=userKey,status&$count=true",
];

struct ServerDatabase {
    admin_url: String,
    name: String,
    url: String,
    mysql: bool,
}

impl ServerDatabase {
    /// Creates a uniquely named database on the server behind `admin_url`.
    async fn create(admin_url: &str, mysql: bool) -> Result<ServerDatabase, String> {
        let admin = Database::connect(admin_url)
            .await
            .map_err(|e| e.to_string())?;
        let name = format!("odata_xb_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute_unprepared(&common::create_sql(&name, mysql))
            .await
            .map_err(|e| e.to_string())?;
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .ok_or("database URL without a path")?;
        Ok(ServerDatabase {
            admin_url: admin_url.to_owned(),
            url: format!("{base}/{name}"),
            name,
            mysql,
        })
    }

    async fn drop_database(&self) {
        let Ok(admin) = Database::connect(&self.admin_url).await else {
            return;
        };
        let _ = admin
            .execute_unprepared(&common::drop_sql(&self.name, self.mysql))
            .await;
    }
}

/// One backend's answer to one query: every page followed.
#[derive(Debug, Clone)]
enum Outcome {
    Rows {
        rows: Vec<Value>,
        /// `count` (API 1) or `@odata.count` (feed) of the first page.
        count: Option<Value>,
    },
    Error {
        status: StatusCode,
        url: String,
        body: String,
    },
}

impl Outcome {
    fn summary(&self) -> String {
        match self {
            Outcome::Rows { rows, count } => match count {
                Some(c) => format!("200 with {} rows, count {c}", rows.len()),
                None => format!("200 with {} rows", rows.len()),
            },
            Outcome::Error { status, url, body } => format!("{status} for {url}: {body}"),
        }
    }
}

/// What is compared of a row: everything but the import timestamps (which
/// differ between the loads by construction), with this server's address
/// replaced by a placeholder.
fn comparable(value: &Value, address: &str) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !IGNORED_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), comparable(v, address)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| comparable(v, address)).collect()),
        Value::String(s) if s.starts_with(address) => {
            Value::String(s.replacen(address, "<server>", 1))
        }
        other => other.clone(),
    }
}

/// Runs `case` on `app`, following every next link.
async fn run_case(app: &TestApp, case: &Case) -> Outcome {
    let (mut url, rows_field, next_field, count_field) = match case.endpoint {
        Endpoint::Api1Users => (
            format!("{}/users/odata?{}", app.base, case.raw),
            "items",
            "nextPageLink",
            "count",
        ),
        Endpoint::Feed(set) => (
            format!(
                "{}/api/{}/main/odata/{set}?{}",
                app.address, app.tenant, case.raw
            ),
            "value",
            "@odata.nextLink",
            "@odata.count",
        ),
    };
    let mut rows = Vec::new();
    let mut count = None;
    for page in 0.. {
        let mut request = app.client.get(&url);
        if matches!(case.endpoint, Endpoint::Feed(_)) {
            request = request.header("Prefer", format!("odata.maxpagesize={FEED_PAGE}"));
        }
        let response = request.send().await.expect("GET");
        let status = response.status();
        let text = response.text().await.expect("body");
        let body: Option<Value> = serde_json::from_str(&text).ok();
        let (StatusCode::OK, Some(body)) = (status, body) else {
            return Outcome::Error {
                status,
                url,
                body: text,
            };
        };
        let Some(items) = body[rows_field].as_array() else {
            return Outcome::Error {
                status,
                url,
                body: format!("no `{rows_field}` array: {text}"),
            };
        };
        rows.extend(items.iter().map(|r| comparable(r, &app.address)));
        if page == 0 {
            count = body.get(count_field).filter(|c| !c.is_null()).cloned();
        }
        match body[next_field].as_str() {
            Some(next) if page < 40 => url = next.to_owned(),
            Some(_) => {
                return Outcome::Error {
                    status,
                    url,
                    body: "more than 40 pages".to_owned(),
                };
            }
            None => break,
        }
    }
    Outcome::Rows { rows, count }
}

/// Loads the data into `db_url` (the test tenant) and runs every case.
async fn run_backend(label: &str, db_url: &str, data: &Path, cases: &[Case]) -> Vec<Outcome> {
    let url = db_url.to_owned();
    let app = spawn_app_with(move |s| s.database_url = url).await;
    let db = Database::connect(db_url).await.expect("connect for import");
    identity_service::import::run(&db, &app.tenant, "main", data)
        .await
        .unwrap_or_else(|e| panic!("{label}: import failed: {e:#}"));
    let mut outcomes = Vec::with_capacity(cases.len());
    for case in cases {
        outcomes.push(run_case(&app, case).await);
    }
    outcomes
}

/// How `got` (on `label`) differs from the reference (SQLite), if it does.
fn difference(label: &str, got: &Outcome, want: &Outcome) -> Option<String> {
    let (
        Outcome::Rows {
            rows: got_rows,
            count: got_count,
        },
        Outcome::Rows {
            rows: want_rows,
            count: want_count,
        },
    ) = (got, want)
    else {
        return Some(format!(
            "sqlite: {}\n{label}: {}",
            want.summary(),
            got.summary()
        ));
    };
    if got_count != want_count {
        return Some(format!(
            "count: sqlite {want_count:?}, {label} {got_count:?}"
        ));
    }
    let differ = |i: usize| match (got_rows.get(i), want_rows.get(i)) {
        (Some(a), Some(b)) => !same(a, b),
        _ => true,
    };
    let at = (0..got_rows.len().max(want_rows.len())).find(|i| differ(*i))?;
    let none = Value::String("(no row)".to_owned());
    Some(format!(
        "sqlite {} rows, {label} {} rows; first difference at row {at}:\nsqlite: {}\n{label}: {}",
        want_rows.len(),
        got_rows.len(),
        want_rows.get(at).unwrap_or(&none),
        got_rows.get(at).unwrap_or(&none)
    ))
}

/// JSON equality, except that two non-integer numbers are the same when
/// they differ by floating-point rounding only (relative 1e-12: an average
/// computed in `f64` or in a database's `numeric` and converted). A decimal
/// cut to fewer digits still differs.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn server_url(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_rows_in_the_same_order_on_every_backend() {
    if common::test_backend() != common::TestBackend::Sqlite {
        eprintln!("cross-backend: compares all backends in the default (SQLite) pass only");
        return;
    }
    let required = std::env::var("ODATA_TEST_REQUIRE_BACKENDS").is_ok_and(|v| v == "1");
    let data_dir = common::temp_dir();
    let sample = data::generate(&data_dir);

    let mut cases: Vec<Case> = HANDWRITTEN
        .iter()
        .map(|q| Case::handwritten(Endpoint::Api1Users, q))
        .chain(
            HANDWRITTEN_FEED
                .iter()
                .map(|q| Case::handwritten(Endpoint::Feed("Users"), q)),
        )
        .collect();
    let generated = queries::generate(SEED, &sample, GENERATED);
    assert_eq!(generated.len(), GENERATED, "distinct generated queries");
    cases.extend(generated);
    let label = |case: &Case| format!("{}?{}", case.endpoint, case.shown);

    let sqlite_dir = common::temp_dir();
    let sqlite_url = format!("sqlite://{}?mode=rwc", sqlite_dir.join("xb.db").display());
    let reference = run_backend("sqlite", &sqlite_url, &data_dir, &cases).await;

    let mut failures: Vec<String> = Vec::new();
    check_reference(&cases, &reference, &sample, &mut failures);

    let mut skipped = Vec::new();
    let mut compared = vec!["sqlite"];
    // Known differences seen, as (backend, case label).
    let mut known_seen: Vec<(&str, &str)> = Vec::new();
    for (backend, var, default, mysql) in [
        (
            "postgres",
            "ODATA_TEST_POSTGRES_URL",
            DEFAULT_POSTGRES,
            false,
        ),
        ("mariadb", "ODATA_TEST_MYSQL_URL", DEFAULT_MYSQL, true),
    ] {
        let admin_url = server_url(var, default);
        let server = match ServerDatabase::create(&admin_url, mysql).await {
            Ok(server) => server,
            Err(e) => {
                assert!(
                    !required,
                    "{backend} is required (ODATA_TEST_REQUIRE_BACKENDS=1) but unreachable at {admin_url}: {e}"
                );
                skipped.push(format!("{backend} ({admin_url}: {e})"));
                continue;
            }
        };
        let outcomes = run_backend(backend, &server.url, &data_dir, &cases).await;
        server.drop_database().await;
        for ((case, got), want) in cases.iter().zip(&outcomes).zip(&reference) {
            let Some(diff) = difference(backend, got, want) else {
                continue;
            };
            let name = label(case);
            if let Some(known) = KNOWN_DIFFERENCES
                .iter()
                .find(|(b, q, _)| *b == backend && *q == name.as_str())
            {
                eprintln!(
                    "cross-backend: known difference on {backend} ({}) for `{name}`:\n{diff}\n",
                    known.2
                );
                known_seen.push((known.0, known.1));
                continue;
            }
            failures.push(format!(
                "`{name}` differs between sqlite and {backend}\n(sent as `{}`)\n{diff}",
                case.raw
            ));
        }
        compared.push(backend);
    }
    for (backend, known, _) in KNOWN_DIFFERENCES {
        if !cases.iter().any(|c| label(c) == *known) {
            failures.push(format!(
                "KNOWN_DIFFERENCES names `{known}`, which is not a query of this test any more"
            ));
        } else if compared.contains(backend) && !known_seen.contains(&(*backend, *known)) {
            failures.push(format!(
                "`{known}` now gives the same answer on {backend} as on sqlite: remove it from KNOWN_DIFFERENCES"
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&data_dir);
    let _ = std::fs::remove_dir_all(&sqlite_dir);
    eprintln!(
        "cross-backend: {} queries ({} handwritten, {GENERATED} generated) compared on {}; {} known differences",
        cases.len(),
        HANDWRITTEN.len() + HANDWRITTEN_FEED.len(),
        compared.join(", "),
        known_seen.len()
    );
    if !skipped.is_empty() {
        eprintln!(
            "\n!!! cross-backend: SKIPPED {} (unreachable; set ODATA_TEST_REQUIRE_BACKENDS=1 to make this fail)\n",
            skipped.join("; ")
        );
    }
    if !failures.is_empty() {
        for failure in &failures {
            eprintln!("cross-backend FAILURE: {failure}\n");
        }
        let first: Vec<&str> = failures.iter().take(10).map(String::as_str).collect();
        panic!(
            "{} failure(s) (all printed above); the first {}:\n\n{}",
            failures.len(),
            first.len(),
            first.join("\n\n")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_writes_answer_the_same_on_every_backend() {
    if common::test_backend() != common::TestBackend::Sqlite {
        eprintln!("cross-backend writes: compares all backends in the default (SQLite) pass only");
        return;
    }
    let required = std::env::var("ODATA_TEST_REQUIRE_BACKENDS").is_ok_and(|v| v == "1");
    let sqlite_dir = common::temp_dir();
    let sqlite_url = format!("sqlite://{}?mode=rwc", sqlite_dir.join("xbw.db").display());
    let reference = writes::run(&sqlite_url).await;
    let mut failures = writes::check_reference(&reference);
    let mut compared = vec!["sqlite"];
    for (backend, var, default, mysql) in [
        (
            "postgres",
            "ODATA_TEST_POSTGRES_URL",
            DEFAULT_POSTGRES,
            false,
        ),
        ("mariadb", "ODATA_TEST_MYSQL_URL", DEFAULT_MYSQL, true),
    ] {
        let admin_url = server_url(var, default);
        let server = match ServerDatabase::create(&admin_url, mysql).await {
            Ok(server) => server,
            Err(e) => {
                assert!(
                    !required,
                    "{backend} is required (ODATA_TEST_REQUIRE_BACKENDS=1) but unreachable at {admin_url}: {e}"
                );
                eprintln!("\n!!! cross-backend writes: SKIPPED {backend} ({admin_url}: {e})\n");
                continue;
            }
        };
        let answers = writes::run(&server.url).await;
        server.drop_database().await;
        failures.extend(writes::differences(backend, &answers, &reference));
        compared.push(backend);
    }
    let _ = std::fs::remove_dir_all(&sqlite_dir);
    eprintln!(
        "cross-backend writes: {} feed writes and reads compared on {}",
        reference.len(),
        compared.join(", ")
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Checks the reference answers themselves: every query answers 200, the
/// data and the queries are not vacuous, the handwritten expectations hold,
/// and every answer with checkable `$orderby` keys is totally ordered.
fn check_reference(
    cases: &[Case],
    reference: &[Outcome],
    sample: &data::Sample,
    failures: &mut Vec<String>,
) {
    let rows_of = |shown: &str| -> Vec<String> {
        let i = cases
            .iter()
            .position(|c| c.shown == shown)
            .unwrap_or_else(|| panic!("no query `{shown}`"));
        match &reference[i] {
            Outcome::Rows { rows, .. } => rows
                .iter()
                .map(|r| r["userKey"].as_str().unwrap_or_default().to_owned())
                .collect(),
            other => panic!("`{shown}`: {}", other.summary()),
        }
    };
    assert_eq!(
        rows_of("").len(),
        sample.users(),
        "all users listed on SQLite"
    );
    assert_eq!(rows_of("$filter=name eq 'Ángela'"), ["case.angela.1"]);
    assert_eq!(
        rows_of("$filter=tolower(name) eq 'ángela'&$orderby=userKey"),
        ["case.angela.1", "case.angela.2"]
    );
    assert_eq!(rows_of("$filter=contains(name,'%25')"), ["case.pct"]);
    // Precomposed and combining accents are different strings.
    assert_eq!(
        rows_of("$filter=name eq 'José Niño'&$orderby=userKey"),
        ["case.jose.1"]
    );
    // Positions count characters, also outside the BMP.
    assert_eq!(rows_of("$filter=indexof(name,'🙂') eq 12"), ["case.emoji"]);
    assert_eq!(rows_of("$filter=contains(name,'''')"), ["case.quote"]);
    assert_eq!(rows_of("$filter=email eq 'strasse2@example.de'").len(), 0);
    assert_eq!(
        rows_of("$filter=tolower(email) eq 'strasse2@example.de'"),
        ["case.strasse.2"]
    );

    let (mut non_empty, mut proper_subset, mut ordered) = (0, 0, 0);
    for (case, outcome) in cases.iter().zip(reference) {
        let Outcome::Rows { rows, .. } = outcome else {
            failures.push(format!(
                "`{}?{}` fails on sqlite: {}",
                case.endpoint,
                case.shown,
                outcome.summary()
            ));
            continue;
        };
        non_empty += usize::from(!rows.is_empty());
        proper_subset += usize::from(!rows.is_empty() && rows.len() < sample.users());
        if let Some(order) = &case.order {
            match queries::check_total_order(rows, order) {
                Ok(checked) => ordered += usize::from(checked && rows.len() > 1),
                Err(e) => {
                    failures.push(format!("`{}?{}` on sqlite: {e}", case.endpoint, case.shown))
                }
            }
        }
    }
    eprintln!(
        "cross-backend: on sqlite {non_empty} of {} queries return rows, {proper_subset} a proper subset; {ordered} orders checked",
        cases.len()
    );
    // Not vacuous: most queries return rows, many select some, and the
    // order of many answers was checked.
    if non_empty * 10 < cases.len() * 6 {
        failures.push(format!("only {non_empty} queries return rows on sqlite"));
    }
    if proper_subset * 10 < cases.len() * 4 {
        failures.push(format!(
            "only {proper_subset} queries select some of the rows on sqlite"
        ));
    }
    if ordered < 100 {
        failures.push(format!("only {ordered} answers had their order checked"));
    }
}
