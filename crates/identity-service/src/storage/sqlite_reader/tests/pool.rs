//! The pool: queueing, timeouts, interruption, inline reads and plans.

use super::*;

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
    // The slow job tells when it runs: the waiter queues only then, so a
    // reader thread that starts late on a loaded machine cannot let the
    // waiter through (or time the slow job out) and make the test flaky.
    let (started, running) = tokio::sync::oneshot::channel::<()>();
    let slow = {
        let readers = readers.clone();
        tokio::spawn(async move {
            readers
                .run(move |_| {
                    let _ = started.send(());
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    Ok(1)
                })
                .await
        })
    };
    running.await.expect("the slow job ran");
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
    // (ENDLESS never ends on its own: that it returned is the proof.)
    let interrupted =
        readers.run_inline(|conn| conn.query_row(ENDLESS, [], |r| r.get::<_, i64>(0)));
    assert!(interrupted.is_none(), "{interrupted:?}");
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
    // ENDLESS never ends on its own: that it returned is the proof.
    let endless = readers
        .run(|conn| Ok(conn.query_row(ENDLESS, [], |r| r.get::<_, i64>(0))?))
        .await;
    assert!(
        matches!(endless, Err(ReaderError::TimedOut(l)) if l == limit),
        "{endless:?}"
    );
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
    // Had the statement gone on, the reader would never answer.
    let one = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        readers.run(|conn| Ok(conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?)),
    )
    .await;
    assert_eq!(one.expect("the reader stayed busy").unwrap(), 1);
}

/// This repository builds SQLite with a page cache per connection and no
/// global memory statistics (`LIBSQLITE3_FLAGS` in `.cargo/config.toml`):
/// with libsqlite3-sys's defaults, one reader's scan evicts the other
/// readers' cached pages (BENCHMARKS.md, "One page cache per connection").
#[test]
fn the_linked_sqlite_is_built_for_concurrent_readers() {
    let conn = Connection::open_in_memory().unwrap();
    assert_eq!(costly_options(&conn).unwrap(), Vec::<&str>::new());
}
