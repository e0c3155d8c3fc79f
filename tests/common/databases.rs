//! The database a test runs on: the backend (`ODATA_TEST_BACKEND`), the
//! binary's one server database, databases of a test's own, and the
//! pgbouncer in front of PostgreSQL (`ODATA_TEST_PGBOUNCER=1`).

use super::*;

/// The database backend the black-box tests run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
    MySql,
}

/// `ODATA_TEST_BACKEND` (`sqlite`, `postgres`, `mysql`/`mariadb`).
pub fn test_backend() -> TestBackend {
    match std::env::var("ODATA_TEST_BACKEND").as_deref() {
        Ok("postgres") | Ok("postgresql") => TestBackend::Postgres,
        Ok("mysql") | Ok("mariadb") => TestBackend::MySql,
        Ok("sqlite") | Ok("") | Err(_) => TestBackend::Sqlite,
        Ok(other) => panic!("unknown ODATA_TEST_BACKEND={other} (sqlite, postgres, mysql)"),
    }
}

impl TestBackend {
    /// A server backend's administrative URL (`ODATA_TEST_POSTGRES_URL` /
    /// `ODATA_TEST_MYSQL_URL`, else the local default) and whether it is
    /// MySQL/MariaDB; `None` for SQLite.
    pub fn admin_url(self) -> Option<(String, bool)> {
        let (var, default, mysql) = match self {
            TestBackend::Postgres => (
                "ODATA_TEST_POSTGRES_URL",
                "postgres://postgres@127.0.0.1:5432/test",
                false,
            ),
            TestBackend::MySql => (
                "ODATA_TEST_MYSQL_URL",
                "mysql://root@127.0.0.1:3306/test",
                true,
            ),
            TestBackend::Sqlite => return None,
        };
        Some((
            std::env::var(var).unwrap_or_else(|_| default.to_owned()),
            mysql,
        ))
    }
}

static SERVER_DATABASE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
pub(super) static BUILD_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static CREATE_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static OWN_COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
pub(super) static TENANT_COUNTER: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(1);

/// The URL of this test binary's database on the server backend, created
/// (and its leftovers from dead processes dropped) on first use.
pub(super) async fn server_database(backend: TestBackend) -> String {
    SERVER_DATABASE
        .get_or_init(|| async move {
            use sea_orm::{ConnectionTrait, Database};
            let Some((admin_url, mysql)) = backend.admin_url() else {
                unreachable!("SQLite uses a file per test")
            };
            let admin = Database::connect(&admin_url)
                .await
                .unwrap_or_else(|e| panic!("{backend:?} unreachable at {admin_url}: {e}"));
            let binary = std::env::current_exe()
                .ok()
                .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .unwrap_or_default();
            let binary: String = binary
                .split('-')
                .next()
                .unwrap_or("tests")
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(40)
                .collect();
            let prefix = format!("odata_bb_{binary}_");
            let list = if mysql {
                "SELECT schema_name AS name FROM information_schema.schemata".to_owned()
            } else {
                "SELECT datname AS name FROM pg_database".to_owned()
            };
            let rows = admin
                .query_all_raw(sea_orm::Statement::from_string(
                    admin.get_database_backend(),
                    list,
                ))
                .await
                .expect("list databases");
            for row in rows {
                let Ok(name) = row.try_get::<String>("", "name") else {
                    continue;
                };
                // `{prefix}{pid}` or `{prefix}{pid}_{n}` (own_database_url).
                let Some(pid) = name
                    .strip_prefix(&prefix)
                    .and_then(|rest| rest.split('_').next())
                else {
                    continue;
                };
                if pid.parse::<u32>().is_ok()
                    && !std::path::Path::new(&format!("/proc/{pid}")).exists()
                {
                    let _ = admin.execute_unprepared(&drop_sql(&name, mysql)).await;
                }
            }
            let name = format!("{prefix}{}", std::process::id());
            let _ = admin.execute_unprepared(&drop_sql(&name, mysql)).await;
            admin
                .execute_unprepared(&create_sql(&name, mysql))
                .await
                .unwrap_or_else(|e| panic!("create test database {name}: {e}"));
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b.to_owned())
                .expect("database URL with a path");
            let base = if backend == TestBackend::Postgres && through_pgbouncer() {
                pgbouncer_base(&base).await
            } else {
                base
            };
            format!("{base}/{name}")
        })
        .await
        .clone()
}

/// A database of its own on the backend under test, migrated by the first
/// application built on it: a fresh SQLite file, or a new uniquely named
/// database (`{binary database}_{n}`) on the server backend, dropped with
/// the binary's database by the next run once this process is gone. For
/// tests that need the whole database to themselves (the demo tenant,
/// database-wide counts), since every test of the binary shares its one
/// server database.
pub async fn own_database_url() -> String {
    let backend = test_backend();
    if backend == TestBackend::Sqlite {
        return backend_database_url().await;
    }
    let shared = server_database(backend).await;
    let (base, name) = shared.rsplit_once('/').expect("database URL with a path");
    let name = format!(
        "{name}_{}",
        OWN_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let Some((admin_url, mysql)) = backend.admin_url() else {
        unreachable!("a server backend")
    };
    use sea_orm::{ConnectionTrait, Database};
    // One CREATE DATABASE at a time (PostgreSQL copies template1 for each).
    let _guard = CREATE_LOCK.lock().await;
    let admin = Database::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("{backend:?} unreachable at {admin_url}: {e}"));
    admin
        .execute_unprepared(&create_sql(&name, mysql))
        .await
        .unwrap_or_else(|e| panic!("create test database {name}: {e}"));
    let _ = admin.close().await;
    format!("{base}/{name}")
}

/// [`spawn_app`] on a database of its own ([`own_database_url`]).
pub async fn spawn_app_alone() -> TestApp {
    let url = own_database_url().await;
    spawn_app_with(move |s| s.database_url = url).await
}

/// A database URL on the backend under test for tests that run their own
/// server processes: a fresh SQLite file, or this binary's server database.
pub async fn backend_database_url() -> String {
    match test_backend() {
        TestBackend::Sqlite => format!(
            "sqlite://{}?mode=rwc",
            temp_dir().join("shared.db").display()
        ),
        backend => server_database(backend).await,
    }
}

/// `CREATE DATABASE` for a test database (`utf8mb4` on MySQL/MariaDB).
pub fn create_sql(name: &str, mysql: bool) -> String {
    if mysql {
        format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    } else {
        format!("CREATE DATABASE \"{name}\"")
    }
}

/// `DROP DATABASE` for a test database, also while connections are open.
pub fn drop_sql(name: &str, mysql: bool) -> String {
    if mysql {
        format!("DROP DATABASE IF EXISTS `{name}`")
    } else {
        format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")
    }
}

/// Settings for a test that opens its own pool on `url` (a database of the
/// backend under test): the defaults, with the statement cache off when the
/// backend is reached through pgbouncer (transaction pooling needs it).
pub fn db_settings(url: &str) -> Settings {
    Settings {
        database_url: url.to_owned(),
        db_statement_cache: !through_pgbouncer(),
        ..Settings::default()
    }
}

/// `ODATA_TEST_PGBOUNCER=1`: the PostgreSQL backend is reached through pgbouncer.
pub fn through_pgbouncer() -> bool {
    test_backend() == TestBackend::Postgres
        && matches!(
            std::env::var("ODATA_TEST_PGBOUNCER").as_deref(),
            Ok("1") | Ok("true")
        )
}

/// Starts a pgbouncer (transaction pooling) in front of the server of
/// `base` (`postgres://user@host:port`) for this test binary and returns
/// `base` pointing at it. A watchdog shell stops pgbouncer and removes its
/// directory once this process has exited.
async fn pgbouncer_base(base: &str) -> String {
    let binary = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("ODATA_TEST_PGBOUNCER=1 but pgbouncer is not installed");
    let (scheme, rest) = base.split_once("://").expect("URL with a scheme");
    let (userinfo, hostport) = match rest.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), rest),
    };
    let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, "5432"));
    let user = userinfo
        .trim_end_matches('@')
        .split(':')
        .next()
        .filter(|u| !u.is_empty())
        .unwrap_or("postgres");
    let dir = temp_dir();
    let listen = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let ini = dir.join("pgbouncer.ini");
    std::fs::write(
        &ini,
        format!(
            "[databases]\n* = host={host} port={port} user={user}\n[pgbouncer]\n\
             listen_addr = 127.0.0.1\nlisten_port = {listen}\nunix_socket_dir =\n\
             auth_type = any\npool_mode = transaction\nmax_client_conn = 500\n\
             default_pool_size = 20\nignore_startup_parameters = extra_float_digits, options\n\
             logfile = {dir}/pgbouncer.log\npidfile = {dir}/pgbouncer.pid\n",
            dir = dir.display()
        ),
    )
    .expect("write pgbouncer.ini");
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let run = if root {
        let chown = std::process::Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .expect("chown");
        assert!(chown.success(), "chown the pgbouncer directory");
        format!("runuser -u postgres -- {binary}")
    } else {
        binary.to_owned()
    };
    let script = format!(
        "{run} '{ini}' & while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         kill $(cat '{dir}/pgbouncer.pid') 2>/dev/null; sleep 1; rm -rf '{dir}'",
        ini = ini.display(),
        pid = std::process::id(),
        dir = dir.display()
    );
    // The watchdog outlives this process on purpose (it stops pgbouncer
    // after the process has exited), so it is never waited for.
    #[allow(clippy::zombie_processes)]
    std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start pgbouncer");
    for _ in 0..400 {
        if tokio::net::TcpStream::connect(("127.0.0.1", listen))
            .await
            .is_ok()
        {
            return format!("{scheme}://{userinfo}127.0.0.1:{listen}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!(
        "pgbouncer did not start: {}",
        dir.join("pgbouncer.log").display()
    );
}
