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

mod databases;
mod helpers;

pub use databases::*;
pub use helpers::*;

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
