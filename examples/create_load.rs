//! A small, bounded write load: `POST users` from N concurrent workers for
//! a fixed time against a running server, then creates/s and latencies.
//!
//! ```sh
//! ID=... SECRET=... cargo run --release --example create_load -- \
//!     http://127.0.0.1:18080 bench main 16 25
//! ```
//!
//! Arguments: server address (loopback only), tenant, org, concurrency,
//! seconds. `ID`/`SECRET` are an API client of the tenant (`odata-users
//! clients create --tenant T --org O`). User keys are unique per run
//! (`load-<run>-<worker>-<n>`), so runs can be repeated on one database.
//! The server should run with `APP_RATE_LIMIT_PER_MINUTE=0`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn usage() -> ! {
    eprintln!(
        "usage: create_load ADDRESS TENANT ORG CONCURRENCY SECONDS (ID, SECRET in the environment)"
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [address, tenant, org, concurrency, seconds] = args.as_slice() else {
        usage()
    };
    let host = address
        .strip_prefix("http://")
        .and_then(|rest| rest.split(['/', ':']).next())
        .unwrap_or("");
    if host != "127.0.0.1" && host != "localhost" {
        eprintln!("create_load only targets a loopback address (http://127.0.0.1:PORT)");
        std::process::exit(2);
    }
    let (Ok(concurrency), Ok(seconds)) = (concurrency.parse::<usize>(), seconds.parse::<u64>())
    else {
        usage()
    };
    let (Ok(id), Ok(secret)) = (std::env::var("ID"), std::env::var("SECRET")) else {
        usage()
    };
    let http = reqwest::Client::new();
    let token: Value = match http
        .post(format!("{address}/connect/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
    {
        Ok(response) => response.json().await.unwrap_or(Value::Null),
        Err(e) => {
            eprintln!("token request failed: {e}");
            std::process::exit(1);
        }
    };
    let Some(token) = token["access_token"].as_str().map(str::to_owned) else {
        eprintln!("no access token: {token}");
        std::process::exit(1);
    };
    let url = format!("{address}/api/{tenant}/{org}/identity/users");
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (http, url, token) = (http.clone(), url.clone(), token.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0u64;
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let body = json!({
                        "userKey": format!("load-{run}-{worker}-{n}"),
                        "name": format!("Load {worker} {n}"),
                        "isTechnician": n.is_multiple_of(2),
                        "roles": [],
                    });
                    n += 1;
                    let sent = Instant::now();
                    match http.post(&url).bearer_auth(&token).json(&body).send().await {
                        Ok(r) if r.status() == reqwest::StatusCode::CREATED => {
                            latencies.push(sent.elapsed());
                        }
                        _ => failures += 1,
                    }
                }
                (latencies, failures)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut failures = 0;
    for worker in workers {
        if let Ok((l, f)) = worker.await {
            latencies.extend(l);
            failures += f;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "creates: {} in {elapsed:.1} s = {:.0}/s, failures {failures}, p50 {:.1} ms, p99 {:.1} ms (concurrency {concurrency})",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        pick(0.50),
        pick(0.99),
    );
}
