//! A database that goes away and comes back: every route answers 503 with
//! `Retry-After` (and the one error body) while it is unreachable, and the
//! server recovers by itself (no restart) once it is back.
//!
//! The server talks to the real PostgreSQL/MariaDB server of the backend
//! under test (`ODATA_TEST_BACKEND`) through a tiny TCP proxy in this test,
//! which can be switched off (every open connection dropped, new ones
//! refused) and on again. On SQLite there is no server to lose: the test
//! says so and skips.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{TestApp, TestBackend};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP proxy to `upstream` on a fixed local port that can be switched off and on.
struct Proxy {
    addr: SocketAddr,
    upstream: String,
    inner: Arc<Mutex<ProxyTasks>>,
}

#[derive(Default)]
struct ProxyTasks {
    acceptor: Option<JoinHandle<()>>,
    connections: Vec<JoinHandle<()>>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let proxy = Proxy {
            addr,
            upstream,
            inner: Arc::new(Mutex::new(ProxyTasks::default())),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let inner = self.inner.clone();
        let upstream = self.upstream.clone();
        let acceptor = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                let mut tasks = inner.lock().expect("proxy lock");
                tasks.connections.retain(|t| !t.is_finished());
                tasks.connections.push(task);
            }
        });
        self.inner.lock().expect("proxy lock").acceptor = Some(acceptor);
    }

    /// The database is gone: open connections are dropped, new ones refused.
    async fn off(&self) {
        let (acceptor, connections) = {
            let mut tasks = self.inner.lock().expect("proxy lock");
            (
                tasks.acceptor.take(),
                std::mem::take(&mut tasks.connections),
            )
        };
        for task in connections.iter().chain(acceptor.iter()) {
            task.abort();
        }
        for task in connections.into_iter().chain(acceptor) {
            let _ = task.await;
        }
    }

    /// The database is back on the same address.
    async fn on(&self) {
        let listener = TcpListener::bind(self.addr).await.expect("rebind proxy");
        self.serve(listener);
    }
}

/// `host:port` of a `postgres://` / `mysql://` URL and the URL with that
/// replaced by `addr`.
fn through(url: &str, addr: SocketAddr) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("URL with a scheme");
    let (authority, path) = rest.split_once('/').expect("URL with a database");
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    (
        hostport.to_owned(),
        format!("{scheme}://{userinfo}{addr}/{path}"),
    )
}

/// The requests checked while the database is off: reads and writes of
/// API 1, the feed, an uncached tenant, and readiness.
fn requests(app: &TestApp, user: &str) -> Vec<(Method, String, Option<serde_json::Value>)> {
    let feed = format!("{}/api/{}/main/odata", app.address, app.tenant);
    vec![
        (
            Method::GET,
            app.url("users/odata?$filter=name eq 'Ann'"),
            None,
        ),
        (Method::GET, app.url(&format!("users/{user}")), None),
        (Method::GET, app.url("roles/odata"), None),
        (Method::GET, app.url("groups/odata"), None),
        (
            Method::POST,
            app.url("users"),
            Some(
                json!({"userKey": "bob", "name": "Bob", "email": "bob@example.com", "isTechnician": false}),
            ),
        ),
        (
            Method::PUT,
            app.url(&format!("users/{user}/name")),
            Some(json!("Annie")),
        ),
        (Method::DELETE, app.url(&format!("users/{user}")), None),
        (Method::GET, format!("{feed}/Users?$top=1"), None),
        (Method::GET, format!("{feed}/Users/$count"), None),
        (Method::GET, format!("{feed}/Users({user})"), None),
        (
            Method::GET,
            format!("{}/api/nosuchtenant/main/identity/users/odata", app.address),
            None,
        ),
        (Method::GET, format!("{}/ready", app.address), None),
    ]
}

async fn send(
    app: &TestApp,
    method: &Method,
    url: &str,
    body: &Option<serde_json::Value>,
) -> reqwest::Response {
    let mut request = app.client.request(method.clone(), url);
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.expect("the server answers")
}

/// Polls `GET users/{user}` until it is 200 again (the pool reconnects by
/// itself); gives up after a generous bound.
async fn until_recovered(app: &TestApp, user: &str) {
    for _ in 0..120 {
        let response = app.get(&format!("users/{user}")).await;
        if response.status() == StatusCode::OK {
            return;
        }
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "while reconnecting only 503 is acceptable"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the server did not recover after the database came back");
}

#[tokio::test]
async fn database_outage_gives_503_and_the_server_recovers() {
    let backend = common::test_backend();
    if backend == TestBackend::Sqlite {
        println!(
            "db_outage: SKIPPED on SQLite (no database server to lose); run with ODATA_TEST_BACKEND=postgres or mysql"
        );
        return;
    }
    let real_url = common::backend_database_url().await;
    let (upstream, _) = through(&real_url, "127.0.0.1:1".parse().expect("addr"));
    let proxy = Proxy::start(upstream).await;
    let (_, proxied_url) = through(&real_url, proxy.addr);
    let app = common::spawn_app_with(|s| {
        s.database_url = proxied_url;
        s.db_acquire_timeout_seconds = 1;
        s.db_max_connections = 4;
    })
    .await;
    let user = app
        .create_user(json!({"userKey": "ann", "name": "Ann", "email": "ann@example.com", "isTechnician": false}))
        .await;
    assert_eq!(
        app.get(&format!("users/{user}")).await.status(),
        StatusCode::OK
    );

    for round in 1..=2 {
        proxy.off().await;
        for (method, url, body) in requests(&app, &user) {
            let response = send(&app, &method, &url, &body).await;
            let status = response.status();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u32>().ok());
            let text = response.text().await.expect("body");
            assert_eq!(
                status,
                StatusCode::SERVICE_UNAVAILABLE,
                "round {round}: {method} {url} while the database is off: {text}"
            );
            assert!(
                retry_after.is_some_and(|s| s > 0),
                "round {round}: {method} {url}: 503 without a Retry-After in seconds"
            );
            let body: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{method} {url}: 503 body is not JSON ({e}): {text}"));
            assert_eq!(body["error"]["code"], "ServiceUnavailable", "{text}");
            assert!(body["error"]["message"].is_string(), "{text}");
        }

        proxy.on().await;
        until_recovered(&app, &user).await;
        // Everything works again on the same server: nothing written while
        // the database was off, reads and writes as usual.
        let list = app.get_users("$filter=userKey eq 'bob'&$count=true").await;
        assert_eq!(
            list["count"], 0,
            "a write answered 503 must not have happened"
        );
        let name = format!("Ann {round}");
        let response = app
            .put_json(&format!("users/{user}/name"), &json!(name))
            .await;
        assert!(
            response.status().is_success(),
            "PUT after recovery: {}",
            response.status()
        );
        assert_eq!(app.get_user(&user).await["name"], name);
        let list = app.get_users(&format!("$filter=name eq '{name}'")).await;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
        let feed = format!("{}/api/{}/main/odata/Users/$count", app.address, app.tenant);
        let count = app.get(&feed).await;
        assert_eq!(count.status(), StatusCode::OK);
        assert_eq!(count.text().await.expect("count"), "1");
        assert_eq!(app.get("/ready").await.status(), StatusCode::OK);
    }
}
