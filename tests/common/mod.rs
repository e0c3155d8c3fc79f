//! Test harness: the real application on 127.0.0.1:0 with a fresh mail
//! outbox per test, no demo data, and one tenant per test.
//!
//! The database comes from `ODATA_TEST_BACKEND`:
//! - `sqlite` (default): a fresh SQLite file per test; the tenant is `acme`/`main`.
//! - `postgres` / `mysql`: ONE uniquely named database per test binary on the
//!   server of `ODATA_TEST_POSTGRES_URL` / `ODATA_TEST_MYSQL_URL` (defaults:
//!   the local servers), created and migrated once; each test gets its own
//!   tenant `acmeN`/`main` in it, so tests stay independent (the end-to-end
//!   binary, `tests/api`, has all its modules in that one database). A test
//!   that needs a database to itself asks for one ([`own_database_url`],
//!   [`spawn_app_alone`]). Databases left by earlier runs of the same binary
//!   whose process is gone are dropped first.
//!
//! With `ODATA_TEST_PGBOUNCER=1` (PostgreSQL only) every application and
//! server process of the binary reaches that database through a pgbouncer
//! (Debian's 1.18, *transaction* pooling, as the `postgres` user when
//! running as root) started for the binary and stopped when it exits, with
//! `db_statement_cache = false` (server processes started by tests get it
//! from `APP_DB_STATEMENT_CACHE=false`, which `scripts/test` exports for
//! that pass). See docs/scale-out.md and tests/pgbouncer.rs.
//!
//! Tests address the tenant through `TestApp::base`/`TestApp::tenant`, never
//! by a literal. Logs stay quiet unless `TEST_LOG` is set.
//!
//! Authentication: every test app gets an API client of its tenant with
//! both scopes (`TestApp::client_id`/`client_secret`) and an access token
//! from `POST /connect/token`; `TestApp::client` sends it as
//! `Authorization: Bearer` on every request (a request that sets its own
//! `Authorization` overrides it), `TestApp::anonymous` sends nothing. The
//! rate limit is off in test apps (`rate_limit_per_minute = 0`) unless a
//! test turns it on. Server processes started by tests get a client from
//! `odata-users clients create --json` ([`create_client_cli`]).
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Once;

use identity_service::auth::Scopes;
use identity_service::configuration::Settings;
use identity_service::domain::TenantKey;
use identity_service::startup::Application;
use identity_service::storage::{clients, tenants};
use reqwest::{Response, StatusCode};
use serde_json::Value;

static TRACING: Once = Once::new();

/// A running application and a client to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub client: reqwest::Client,
    /// The mail outbox directory (one `.eml` per message).
    pub outbox: PathBuf,
    /// The database URL (a SQLite file under a unique temp directory, or the
    /// test binary's database on a server backend).
    pub db_url: String,
    /// `{address}/api/{tenant}/main/identity`
    pub base: String,
    /// A client without credentials (no `Authorization` header).
    pub anonymous: reqwest::Client,
    /// The test tenant's API client (both scopes).
    pub client_id: String,
    pub client_secret: String,
    /// The access token `client` sends.
    pub token: String,
    /// The application's database pool (for creating clients of other tenants).
    pub pool: sea_orm::DatabaseConnection,
    /// The tenant key of this test (`acme` on SQLite, `acmeN` on a shared server database).
    pub tenant: String,
    /// The temp directory holding the database and outbox, removed on drop.
    pub dir: PathBuf,
}

/// Settings of a test application under `dir` (port 0, no demo data).
pub fn test_settings(dir: &std::path::Path) -> Settings {
    Settings {
        bind: "127.0.0.1:0".to_owned(),
        database_url: format!("sqlite://{}?mode=rwc", dir.join("test.db").display()),
        mail_outbox: dir.join("outbox"),
        demo: false,
        db_max_connections: 4,
        // Suites send hundreds of requests a minute; tests/api/auth.rs turns
        // the limit on where it is the subject.
        rate_limit_per_minute: 0,
        ..Settings::default()
    }
}

/// A fresh unique temp directory.
pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("odata-users-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Spawns the application with default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

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
static BUILD_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static CREATE_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static OWN_COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
static TENANT_COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

/// The URL of this test binary's database on the server backend, created
/// (and its leftovers from dead processes dropped) on first use.
async fn server_database(backend: TestBackend) -> String {
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

/// Spawns the application after letting `adjust` change the settings.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    TRACING.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            // Text lines, no OTLP export: nothing to flush, the guard goes.
            let _ = identity_service::telemetry::init(
                "debug",
                identity_service::configuration::LogFormat::Text,
                None,
            );
        }
    });
    let dir = temp_dir();
    let mut settings = test_settings(&dir);
    let backend = test_backend();
    let tenant_key = if backend == TestBackend::Sqlite {
        "acme".to_owned()
    } else {
        settings.database_url = server_database(backend).await;
        format!(
            "acme{}",
            TENANT_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        )
    };
    if through_pgbouncer() {
        settings.db_statement_cache = false;
    }
    adjust(&mut settings);
    let outbox = settings.mail_outbox.clone();
    let db_url = settings.database_url.clone();
    // Migrations and the first-start signing key run once per database:
    // build one application at a time.
    let app = {
        let _guard = BUILD_LOCK.lock().await;
        Application::build(settings)
            .await
            .expect("build the application")
    };
    let tenant = TenantKey::parse(&tenant_key, "tenant").expect("tenant key");
    let org = TenantKey::parse("main", "org").expect("org key");
    let (scope, _) = tenants::create(&app.state().db, &tenant, &org)
        .await
        .expect("create the test tenant");
    let (client, client_secret) = clients::create(&app.state().db, &scope, Scopes::all())
        .await
        .expect("create the test client");
    let address = format!("http://127.0.0.1:{}", app.port());
    let pool = app.state().db.clone();
    tokio::spawn(app.run_until_stopped());
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let token = fetch_token(&anonymous, &address, &client.client_id, &client_secret).await;
    TestApp {
        base: format!("{address}/api/{tenant_key}/main/identity"),
        tenant: tenant_key,
        address,
        client: bearer_client(&token),
        anonymous,
        client_id: client.client_id,
        client_secret,
        token,
        pool,
        outbox,
        db_url,
        dir,
    }
}

/// A reqwest client (redirects off) that sends `Authorization: Bearer {token}`.
pub fn bearer_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).expect("token header"),
    );
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .expect("client")
}

/// An access token from `POST {address}/connect/token` for a client id and
/// secret (client credentials in the form body); asserts 200.
pub async fn fetch_token(
    http: &reqwest::Client,
    address: &str,
    client_id: &str,
    secret: &str,
) -> String {
    let response = http
        .post(format!("{address}/connect/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={client_id}&client_secret={secret}"
        ))
        .send()
        .await
        .expect("POST /connect/token");
    let body = json_of(response, StatusCode::OK).await;
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token in {body}"))
        .to_owned()
}

/// Client credentials of a server process: `odata-users clients create
/// --tenant T --org O --json` run with `DATABASE_URL=database_url` (and the
/// environment of the tests' server processes); returns (client id, secret).
pub fn create_client_cli(database_url: &str, tenant: &str, org: &str) -> (String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_odata-users"))
        .args([
            "clients", "create", "--tenant", tenant, "--org", org, "--json",
        ])
        .env("DATABASE_URL", database_url)
        .env_remove("RUST_LOG")
        .output()
        .expect("run odata-users clients create");
    assert!(
        output.status.success(),
        "clients create failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let body: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("clients create --json printed {stdout:?}: {e}"));
    (
        body["clientId"].as_str().expect("clientId").to_owned(),
        body["clientSecret"]
            .as_str()
            .expect("clientSecret")
            .to_owned(),
    )
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl TestApp {
    /// `{base}/{path}` unless `path` is absolute (`http...`) or starts at the root (`/`).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else if path.starts_with('/') {
            format!("{}{path}", self.address)
        } else {
            format!("{}/{path}", self.base)
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .put(self.url(path))
            .json(body)
            .send()
            .await
            .expect("PUT")
    }

    /// A request with a raw body and an optional `Content-Type`.
    pub async fn send_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &str,
        content_type: Option<&str>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .body(body.to_owned());
        if let Some(ct) = content_type {
            request = request.header("Content-Type", ct);
        }
        request.send().await.expect("request")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.client
            .delete(self.url(path))
            .send()
            .await
            .expect("DELETE")
    }

    /// A new client of `tenant`/`org` (created when absent) with `scopes`:
    /// its id, secret and a reqwest client sending its access token.
    pub async fn client_for(
        &self,
        tenant: &str,
        org: &str,
        scopes: &str,
    ) -> (String, String, reqwest::Client) {
        let tenant = TenantKey::parse(tenant, "tenant").expect("tenant key");
        let org = TenantKey::parse(org, "org").expect("org key");
        let (scope, _) = tenants::create(&self.pool, &tenant, &org)
            .await
            .expect("create the tenant");
        let scopes = Scopes::parse(scopes).expect("scopes");
        let (client, secret) = clients::create(&self.pool, &scope, scopes)
            .await
            .expect("create a client");
        let token = fetch_token(&self.anonymous, &self.address, &client.client_id, &secret).await;
        (client.client_id, secret, bearer_client(&token))
    }

    /// A reqwest client with a full-scope token of `tenant`/`org`.
    pub async fn tenant_client(&self, tenant: &str, org: &str) -> reqwest::Client {
        self.client_for(tenant, org, "identity.read identity.write")
            .await
            .2
    }

    /// `GET users/odata?{query}` as JSON (asserts 200).
    pub async fn get_users(&self, query: &str) -> Value {
        let response = self.get(&format!("users/odata?{query}")).await;
        json_of(response, StatusCode::OK).await
    }

    /// `GET users/{key_or_id}` as JSON (asserts 200).
    pub async fn get_user(&self, key_or_id: &str) -> Value {
        json_of(
            self.get(&format!("users/{key_or_id}")).await,
            StatusCode::OK,
        )
        .await
    }

    /// `POST users` (asserts 201) and returns the new id.
    pub async fn create_user(&self, body: Value) -> String {
        created_id(self.post_json("users", &body).await).await
    }

    /// `POST roles` (asserts 201) and returns the new id.
    pub async fn create_role(&self, body: Value) -> String {
        created_id(self.post_json("roles", &body).await).await
    }

    /// `POST groups` (asserts 201) and returns the new id.
    pub async fn create_group(&self, body: Value) -> String {
        created_id(self.post_json("groups", &body).await).await
    }
}

/// Asserts the status and returns the JSON body.
pub async fn json_of(response: Response, expected: StatusCode) -> Value {
    let status = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(status, expected, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text}"))
}

/// Asserts a 201 whose body is the id as a JSON string and returns it.
pub async fn created_id(response: Response) -> String {
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = json_of(response, StatusCode::CREATED).await;
    let id = body
        .as_str()
        .expect("201 body is the id as a JSON string")
        .to_owned();
    let location = location.expect("201 has a Location header");
    assert!(
        location.ends_with(&id),
        "Location {location} does not end with {id}"
    );
    id
}

/// Asserts the status and the error code of an error body; returns the body.
pub async fn assert_error(response: Response, expected: StatusCode, code: &str) -> Value {
    let body = json_of(response, expected).await;
    assert_eq!(body["error"]["code"], code, "error body: {body}");
    assert!(body["error"]["message"].is_string(), "error body: {body}");
    body
}

/// Standard base64 with padding (kept here so the tests need no extra crate).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(ALPHABET[(n >> 18) as usize & 63] as char);
        out.push(ALPHABET[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            ALPHABET[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            ALPHABET[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Percent-encodes everything but unreserved characters and the OData
/// punctuation that is safe in a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'\''
            | b'('
            | b')'
            | b','
            | b'/'
            | b':'
            | b';'
            | b'='
            | b'$' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// RFC 4180 (quoted fields, doubled quotes, CRLF or LF).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// Makes the generated ids unique to `tenant` (several tests share one
/// database on a server backend, and ids are primary keys): every UUID in
/// the CSV files is XORed with a mask derived from the tenant key, so the
/// same tenant always gets the same ids, and `acme` keeps the originals.
pub fn remap_ids(dir: &std::path::Path, tenant: &str) {
    if tenant == "acme" {
        return;
    }
    let mut mask = [0u8; 16];
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, m) in mask.iter_mut().enumerate() {
        for b in tenant.bytes().chain([i as u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        *m = (h >> 24) as u8;
    }
    let is_uuid = |s: &[u8]| {
        s.len() == 36
            && s.iter().enumerate().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => *c == b'-',
                _ => c.is_ascii_hexdigit(),
            })
    };
    for entry in std::fs::read_dir(dir).expect("data dir") {
        let path = entry.expect("entry").path();
        let text = std::fs::read(&path).expect("read csv");
        let mut out = Vec::with_capacity(text.len());
        let mut i = 0;
        while i < text.len() {
            if i + 36 <= text.len() && is_uuid(&text[i..i + 36]) {
                let id = uuid::Uuid::parse_str(std::str::from_utf8(&text[i..i + 36]).unwrap_or(""))
                    .expect("a UUID");
                let mut bytes = *id.as_bytes();
                for (b, m) in bytes.iter_mut().zip(mask) {
                    *b ^= m;
                }
                out.extend_from_slice(uuid::Uuid::from_bytes(bytes).to_string().as_bytes());
                i += 36;
            } else {
                out.push(text[i]);
                i += 1;
            }
        }
        std::fs::write(&path, out).expect("write csv");
    }
}

/// `odata-users generate n DIR --seed seed` (the project's generator,
/// [`identity_service::sample_data`]) into a fresh directory.
pub fn generate_users(n: usize, seed: u64) -> PathBuf {
    let dir = temp_dir().join("data");
    identity_service::sample_data::write_dir(&dir, n, seed).expect("generate the test data");
    dir
}
