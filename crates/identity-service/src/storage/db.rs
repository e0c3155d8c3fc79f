//! Connecting to the database: pool options, SQLite set-up (file
//! directory, WAL, foreign keys, busy timeout, the `odata_lower`/`odata_upper`
//! functions on every connection), migrations and the shared signing key.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use migration::{Migrator, MigratorTrait};
use rand::RngCore;
use sea_orm::sqlx;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::{
    ActiveValue::Set, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend,
    EntityTrait, SqlxPostgresConnector, SqlxSqliteConnector, Statement, TransactionTrait,
};

use super::entities::settings;
use super::{slow_statements, sqlite_functions};
use crate::configuration::Settings;

/// The `settings` row that holds the base64 signing key.
pub const SIGNING_KEY_SETTING: &str = "signing_key";

/// Opens the pool for `settings.database_url` (SQLite, PostgreSQL or MySQL).
pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    connect_url(settings, &settings.database_url).await
}

/// Opens the pool `/ready` pings: one connection to `settings.database_url`
/// of its own, so readiness never waits behind tenant queries holding the
/// main pool. `None` for an in-memory SQLite database (another pool would
/// open another database).
pub async fn connect_health(settings: &Settings) -> anyhow::Result<Option<DatabaseConnection>> {
    if settings.database_url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(&settings.database_url)
            .with_context(|| format!("invalid SQLite URL {}", settings.database_url))?;
        if is_memory(options.get_filename()) {
            return Ok(None);
        }
    }
    let health = Settings {
        db_max_connections: 1,
        db_min_connections: 0,
        ..settings.clone()
    };
    let url = &settings.database_url;
    Ok(Some(connect_url(&health, url).await.with_context(
        || format!("cannot open the readiness pool on {}", redact(url)),
    )?))
}

/// Opens the pool for list reads: `settings.database_read_url` when set
/// (a replica), else `None` (lists read from the primary pool).
pub async fn connect_read(settings: &Settings) -> anyhow::Result<Option<DatabaseConnection>> {
    match &settings.database_read_url {
        Some(url) => Ok(Some(connect_url(settings, url).await.with_context(
            || {
                format!(
                    "cannot open the read pool (DATABASE_READ_URL {})",
                    redact(url)
                )
            },
        )?)),
        None => Ok(None),
    }
}

/// Opens a pool for `url` with the pool settings of `settings`.
///
/// PostgreSQL and MySQL pools test a connection before handing it out
/// (`test_before_acquire`), so connections broken while the server was
/// down or restarting are dropped and replaced: the pool recovers by itself.
/// While the server refuses connections, acquiring retries until
/// `db_acquire_timeout_seconds`, then fails (503 with `Retry-After`).
async fn connect_url(settings: &Settings, url: &str) -> anyhow::Result<DatabaseConnection> {
    if url.starts_with("sqlite:") {
        connect_sqlite(settings, url).await
    } else if !settings.db_statement_cache && is_postgres(url) {
        connect_postgres_pinned(settings, url).await
    } else {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(settings.db_max_connections)
            .min_connections(settings.db_min_connections)
            .acquire_timeout(Duration::from_secs(settings.db_acquire_timeout_seconds))
            .test_before_acquire(true)
            .sqlx_logging(false);
        if !settings.db_statement_cache {
            // MySQL/MariaDB: every statement is prepared again on each use.
            options.map_sqlx_mysql_opts(|o| o.statement_cache_capacity(0));
        }
        let mut conn = Database::connect(options)
            .await
            .with_context(|| format!("cannot connect to {}", redact(url)))?;
        slow_statements::watch(&mut conn, settings.db_slow_statement_ms);
        Ok(conn)
    }
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres:") || url.starts_with("postgresql:")
}

/// What every pooled PostgreSQL connection runs when it is handed out with
/// `APP_DB_STATEMENT_CACHE=false` (see [`connect_postgres_pinned`]).
const PIN_TRANSACTION: &str = "BEGIN; DEALLOCATE ALL";

/// A PostgreSQL pool that works behind a transaction-pooling proxy
/// (pgbouncer `pool_mode = transaction`, which Debian's pgbouncer 1.18 runs
/// without prepared-statement support).
///
/// sqlx 0.9 prepares every statement under a name (`sqlx_s_N`, numbered per
/// client connection), even with its statement cache off, and sends the
/// Parse and the Bind/Execute of one statement in two round trips. Behind a
/// transaction pooler each round trip that ends outside a transaction may
/// land on a different server connection, so a statement can be missing
/// where it is executed, or collide with another client's statement of the
/// same name. This pool therefore keeps everything a borrowed connection
/// does inside one transaction, which the pooler keeps on one server
/// connection:
///
/// - a connection handed out (new, `after_connect`; idle, `before_acquire`)
///   first runs `BEGIN; DEALLOCATE ALL` in one simple-protocol message: the
///   transaction pins a server connection and `DEALLOCATE ALL` drops every
///   statement name any earlier client left on it, so names never collide;
/// - a connection given back (`after_release`) runs `COMMIT`, releasing the
///   server connection to the pooler;
/// - the statement cache is off, so sqlx never reuses a name across
///   transactions.
///
/// Writes are unaffected: every write of the service runs in an explicit
/// transaction whose `COMMIT` is awaited before the response (the `BEGIN`
/// inside the pinning one only draws a warning from PostgreSQL, and its
/// `COMMIT` ends both), so `after_release` commits only reads. The price is
/// two extra round trips per borrowed connection and one more per statement
/// (no cached statements); idle connections hold no server connection
/// (`min_connections` is 0 in this mode, as an idle connection made to
/// satisfy it would sit in its pinning transaction).
async fn connect_postgres_pinned(
    settings: &Settings,
    url: &str,
) -> anyhow::Result<DatabaseConnection> {
    let options = PgConnectOptions::from_str(url)
        .with_context(|| format!("invalid PostgreSQL URL {}", redact(url)))?
        .statement_cache_capacity(0);
    let options = slow_statements::quiet_slow_statements(options);
    let pool = PgPoolOptions::new()
        .max_connections(settings.db_max_connections)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(settings.db_acquire_timeout_seconds))
        .test_before_acquire(true)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                sqlx::raw_sql(PIN_TRANSACTION).execute(conn).await?;
                Ok(())
            })
        })
        .before_acquire(|conn, _meta| {
            Box::pin(async move {
                sqlx::raw_sql(PIN_TRANSACTION).execute(conn).await?;
                Ok(true)
            })
        })
        .after_release(|conn, _meta| {
            Box::pin(async move {
                sqlx::raw_sql("COMMIT").execute(conn).await?;
                Ok(true)
            })
        })
        .connect_with(options)
        .await
        .with_context(|| format!("cannot connect to {}", redact(url)))?;
    let mut conn = SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
    slow_statements::watch(&mut conn, settings.db_slow_statement_ms);
    Ok(conn)
}

async fn connect_sqlite(settings: &Settings, url: &str) -> anyhow::Result<DatabaseConnection> {
    let options =
        SqliteConnectOptions::from_str(url).with_context(|| format!("invalid SQLite URL {url}"))?;
    let options = options
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(super::sqlite_reader::BUSY_TIMEOUT);
    let options = slow_statements::quiet_slow_statements(options);
    let file = options.get_filename().to_owned();
    let memory = is_memory(&file);
    if !memory {
        create_parent_dir(&file)?;
    }
    let mut pool = SqlitePoolOptions::new()
        .max_connections(settings.db_max_connections.min(8))
        .min_connections(settings.db_min_connections)
        .acquire_timeout(Duration::from_secs(settings.db_acquire_timeout_seconds));
    if memory {
        // An in-memory database lives as long as a connection to it: keep
        // one open for the life of the pool and never recycle it.
        pool = pool
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
    }
    let pool = pool
        .after_connect(|conn, _meta| Box::pin(sqlite_functions::register_on(conn)))
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open SQLite database {}", file.display()))?;
    let mut conn = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
    slow_statements::watch(&mut conn, settings.db_slow_statement_ms);
    Ok(conn)
}

fn is_memory(file: &std::path::Path) -> bool {
    let s = file.to_string_lossy();
    s.is_empty() || s == ":memory:" || s.starts_with("file::memory:")
}

fn create_parent_dir(file: &std::path::Path) -> anyhow::Result<()> {
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create directory {}", parent.display()))?;
    }
    Ok(())
}

/// The URL with its password (in the user info or a `password` query
/// parameter) replaced by `***` for messages (connection errors, the CLI's
/// database line); an unparsable URL shows its scheme only.
pub fn redact(url: &str) -> String {
    const MASK: &str = "***";
    let Ok(mut parsed) = url::Url::parse(url) else {
        let scheme = url.split_once(':').map_or("database", |(scheme, _)| scheme);
        return format!("{scheme}://(unparsable URL not shown)");
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some(MASK));
    }
    let secret = |key: &str| {
        matches!(
            key.to_ascii_lowercase().as_str(),
            "password" | "sslpassword" | "pass" | "pwd"
        )
    };
    if parsed.query_pairs().any(|(key, _)| secret(&key)) {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(key, value)| {
                let value = if secret(&key) {
                    MASK.to_owned()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// Logs a warning when a PostgreSQL database's `LC_CTYPE` is not UTF-8:
/// there `lower`/`upper` (`tolower`, `toupper`, `$search`) fold ASCII
/// letters only, unlike on the other backends.
pub async fn warn_about_ctype(db: &DatabaseConnection) {
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let statement = Statement::from_string(DbBackend::Postgres, "SHOW lc_ctype");
    if let Ok(Some(row)) = db.query_one_raw(statement).await
        && let Ok(ctype) = row.try_get_by_index::<String>(0)
    {
        let lower = ctype.to_ascii_lowercase();
        if !(lower.contains("utf8") || lower.contains("utf-8")) {
            tracing::warn!(
                lc_ctype = %ctype,
                "the database's LC_CTYPE is not UTF-8: tolower/toupper/$search fold only ASCII letters; create it with a UTF-8 locale (e.g. C.UTF-8)"
            );
        }
    }
}

/// The tables whose planner statistics matter for the read path.
const ANALYZED_TABLES: &str = "users, roles, `groups`, user_roles, user_groups, tenants";

/// Refreshes the query planner's statistics after a bulk write (import,
/// demo data): `ANALYZE` on SQLite and PostgreSQL, `ANALYZE TABLE` on
/// MariaDB. Without statistics SQLite picks the `(tenant_id, id)` index that
/// serves the default order over a selective one, e.g. for
/// `userKey eq '...'` (the server benchmark measured 64 instead of 4,600
/// requests/s). A failure is logged, not returned: the data is written.
pub async fn analyze(db: &DatabaseConnection) {
    let sql = match db.get_database_backend() {
        DbBackend::Sqlite | DbBackend::Postgres => "ANALYZE".to_owned(),
        _ => format!("ANALYZE TABLE {ANALYZED_TABLES}"),
    };
    if let Err(error) = db.execute_unprepared(&sql).await {
        tracing::warn!(%error, "refreshing the planner statistics failed");
    }
}

/// Keeps SQLite's planner statistics current (PostgreSQL's autovacuum and
/// InnoDB's persistent statistics do that by themselves): a database never
/// analyzed is analyzed, otherwise `PRAGMA optimize` re-analyzes the tables
/// that changed a lot since. Run at start and by the periodic sweeper.
pub async fn keep_statistics(db: &DatabaseConnection) {
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let analyzed = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'",
        ))
        .await;
    if !matches!(analyzed, Ok(Some(_))) {
        return analyze(db).await;
    }
    if let Err(error) = db.execute_unprepared("PRAGMA optimize=0x10002").await {
        tracing::warn!(%error, "refreshing the planner statistics failed");
    }
}

/// Runs [`keep_statistics`] every hour until the runtime shuts down (or the
/// handle is aborted); a no-op task on PostgreSQL and MariaDB.
pub fn spawn_statistics_upkeep(db: DatabaseConnection) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if db.get_database_backend() != DbBackend::Sqlite {
            return;
        }
        let every = Duration::from_secs(3600);
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            keep_statistics(&db).await;
        }
    })
}

/// Applies every pending migration.
///
/// Behind a transaction pooler (PostgreSQL with the statement cache off,
/// see `connect_postgres_pinned`) the migrator's statements that run
/// outside its own transactions (creating its bookkeeping table) are only
/// committed when their pool connection is given back, which may be after
/// the next statement started on another connection. There the migration
/// runs on a pool of its own with a single connection, so each statement
/// sees the committed work of the one before.
pub async fn migrate(settings: &Settings, db: &DatabaseConnection) -> anyhow::Result<()> {
    if !settings.db_statement_cache && is_postgres(&settings.database_url) {
        let single = Settings {
            db_max_connections: 1,
            ..settings.clone()
        };
        let conn = connect_postgres_pinned(&single, &settings.database_url).await?;
        let done = Migrator::up(&conn, None).await;
        conn.close().await?;
        return done.context("database migration failed");
    }
    Migrator::up(db, None)
        .await
        .context("database migration failed")
}

/// The signing key: `APP_SIGNING_KEY` (settings) when given, else the key
/// kept in the `settings` table, generated (32 random bytes) on first start.
/// Concurrent first starts agree on one key: the insert ignores conflicts
/// and the stored row is read back.
pub async fn signing_key(db: &DatabaseConnection, settings: &Settings) -> anyhow::Result<Vec<u8>> {
    if let Some(configured) = &settings.signing_key {
        return configured_key(configured, "APP_SIGNING_KEY");
    }
    if let Some(path) = &settings.signing_key_file {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read the signing key file {} (APP_SIGNING_KEY_FILE)",
                path.display()
            )
        })?;
        return configured_key(
            &text,
            &format!(
                "the signing key file {} (APP_SIGNING_KEY_FILE)",
                path.display()
            ),
        );
    }
    if let Some(row) = settings::Entity::find_by_id(SIGNING_KEY_SETTING.to_owned())
        .one(db)
        .await?
    {
        return STANDARD
            .decode(row.value.trim())
            .context("the stored signing key is not base64");
    }
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    let model = settings::ActiveModel {
        key: Set(SIGNING_KEY_SETTING.to_owned()),
        value: Set(STANDARD.encode(key)),
    };
    // Committed before the read-back, also behind a transaction pooler.
    let txn = db.begin().await?;
    settings::Entity::insert(model)
        .on_conflict_do_nothing_on([settings::Column::Key])
        .exec(&txn)
        .await?;
    txn.commit().await?;
    let row = settings::Entity::find_by_id(SIGNING_KEY_SETTING.to_owned())
        .one(db)
        .await?
        .context("the signing key row vanished")?;
    STANDARD
        .decode(row.value.trim())
        .context("the stored signing key is not base64")
}

/// A configured base64 key of at least 16 bytes; `origin` names it in errors.
fn configured_key(text: &str, origin: &str) -> anyhow::Result<Vec<u8>> {
    let key = STANDARD
        .decode(text.trim())
        .with_context(|| format!("{origin} must hold a base64 key"))?;
    if key.len() < 16 {
        anyhow::bail!("{origin} must decode to at least 16 bytes");
    }
    Ok(key)
}

/// Where a SQLite URL points, for messages (`None` for other databases).
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    if !url.starts_with("sqlite:") {
        return None;
    }
    SqliteConnectOptions::from_str(url)
        .ok()
        .map(|o| o.get_filename().to_owned())
}

/// The SQLite file behind `url` when the rusqlite reader pool can serve
/// it: `None` for other databases and for in-memory SQLite databases
/// (`sqlite::memory:`, `mode=memory`), which exist per connection.
pub fn sqlite_reader_file(url: &str) -> Option<PathBuf> {
    let file = sqlite_file(url)?;
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let memory = is_memory(&file)
        // sqlx names `sqlite::memory:` databases `file:sqlx-in-memory-N`.
        || path.trim_start_matches("sqlite:").trim_start_matches("//") == ":memory:"
        || file.to_string_lossy().starts_with("file:sqlx-in-memory-")
        || query.split('&').any(|p| p == "mode=memory");
    (!memory).then_some(file)
}

/// Opens the rusqlite reader pool for list reads (see
/// [`super::sqlite_reader`]) when the read database (`database_read_url`,
/// else `database_url`) is a SQLite file and `sqlite_readers` is not 0.
/// Call after [`migrate`]: the file must exist and be in WAL mode.
pub fn open_sqlite_readers(
    settings: &Settings,
) -> anyhow::Result<Option<std::sync::Arc<super::sqlite_reader::SqliteReaders>>> {
    if settings.sqlite_readers == 0 {
        return Ok(None);
    }
    let url = settings
        .database_read_url
        .as_deref()
        .unwrap_or(&settings.database_url);
    let Some(file) = sqlite_reader_file(url) else {
        return Ok(None);
    };
    let readers = super::sqlite_reader::SqliteReaders::open_with_timeout(
        &file,
        settings.sqlite_readers,
        Duration::from_secs(settings.db_acquire_timeout_seconds),
    )?
    .with_inline_budget(Duration::from_millis(settings.sqlite_inline_ms))
    .with_read_timeout(Duration::from_millis(settings.read_timeout_ms));
    Ok(Some(std::sync::Arc::new(readers)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ConnectionTrait, Statement};

    fn memory_settings() -> Settings {
        Settings {
            database_url: "sqlite::memory:".to_owned(),
            db_max_connections: 1,
            ..Settings::default()
        }
    }

    #[tokio::test]
    async fn unicode_lower_and_upper_are_registered() {
        let db = connect(&memory_settings()).await.unwrap();
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT odata_lower('ÄÖÜ Straße') AS l, odata_upper('straße') AS u, odata_lower(NULL) IS NULL AS n",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get::<String>("", "l").unwrap(), "äöü straße");
        assert_eq!(row.try_get::<String>("", "u").unwrap(), "STRAßE");
        assert!(row.try_get::<bool>("", "n").unwrap());
    }

    #[tokio::test]
    async fn migrate_and_signing_key_is_stable() {
        let settings = memory_settings();
        let db = connect(&settings).await.unwrap();
        migrate(&settings, &db).await.unwrap();
        migrate(&settings, &db).await.unwrap();
        let first = signing_key(&db, &settings).await.unwrap();
        let second = signing_key(&db, &settings).await.unwrap();
        assert_eq!(first.len(), 32);
        assert_eq!(first, second);
        let overridden = Settings {
            signing_key: Some(STANDARD.encode([7u8; 32])),
            ..settings
        };
        assert_eq!(signing_key(&db, &overridden).await.unwrap(), vec![7u8; 32]);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://app:s3cret@db.example.com:5432/ids"),
            "postgres://app:***@db.example.com:5432/ids"
        );
        assert_eq!(
            redact("mysql://root@127.0.0.1:3306/test"),
            "mysql://root@127.0.0.1:3306/test"
        );
        let url = redact("postgres://db/ids?user=app&password=s3cret&sslmode=require");
        assert!(!url.contains("s3cret"), "{url}");
        assert!(url.contains("sslmode=require") && url.contains("password=***"));
        let url = redact("postgres://app:s3cret@[bad");
        assert!(!url.contains("s3cret"), "{url}");
        assert!(url.starts_with("postgres://"), "{url}");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
        assert_eq!(redact("sqlite::memory:"), "sqlite::memory:");
    }
}
