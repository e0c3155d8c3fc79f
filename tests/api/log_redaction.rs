//! Secrets never reach the log: the server binary runs with
//! `RUST_LOG=trace,sqlx=debug` (every request span, every SQL statement)
//! while a client fetches tokens (form body and HTTP Basic), calls the API
//! with its Bearer token and the feed with Basic, sends an invitation and
//! opens the mailed link's page (GET) and accepts it with the mailed token
//! (also with the route's words in other spellings, by POST and GET); the captured stderr holds none of the invitation token, the
//! client secret, the Basic credentials or the access tokens, and the
//! accept route's path is logged with its token segment redacted.
//! SQLite pass only (it runs its own server process).

use crate::common;
use crate::server_support;

use std::process::Stdio;

use reqwest::StatusCode;
use serde_json::{Value, json};
use server_support::Server;

async fn status_and_json(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_secrets_and_invitation_paths_stay_out_of_debug_logs() {
    if common::test_backend() != common::TestBackend::Sqlite {
        eprintln!("log redaction runs its own SQLite server: default (SQLite) pass only");
        return;
    }
    let dir = common::temp_dir();
    let db_url = format!("sqlite://{}?mode=rwc", dir.join("logs.db").display());
    let outbox = dir.join("outbox");
    let log_path = dir.join("stderr.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut server = Server::start(
        &db_url,
        &outbox,
        &[("RUST_LOG", "trace,sqlx=debug")],
        Stdio::from(log),
    );
    let tenant = "logs";
    let (client_id, secret) = common::create_client_cli(&db_url, tenant, "main");
    let http = reqwest::Client::new();
    let address = server.address.clone();

    // Tokens: client credentials in the form body, then by HTTP Basic.
    let form_token = common::fetch_token(&http, &address, &client_id, &secret).await;
    let basic = format!(
        "Basic {}",
        common::base64(format!("{client_id}:{secret}").as_bytes())
    );
    let (status, body) = status_and_json(
        http.post(format!("{address}/connect/token"))
            .header("Authorization", &basic)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .expect("POST /connect/token"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let basic_token = body["access_token"].as_str().expect("token").to_owned();

    // A Bearer call that invites; the token arrives in the outbox only.
    let api = format!("{address}/api/{tenant}/main/identity");
    let bearer = common::bearer_client(&form_token);
    let (status, body) = status_and_json(
        bearer
            .post(format!("{api}/users/sendInvitation"))
            .json(&json!({"email": "ana@example.com"}))
            .send()
            .await
            .expect("invite"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let eml = std::fs::read_dir(&outbox)
        .expect("outbox")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "eml"))
        .expect("a mail");
    let mail = std::fs::read_to_string(&eml).expect("read mail");
    let url = mail
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("http") && l.ends_with("/accept"))
        .unwrap_or_else(|| panic!("no accept URL in {mail}"))
        .to_owned();
    let invitation = url
        .trim_end_matches("/accept")
        .rsplit('/')
        .next()
        .expect("token segment")
        .to_owned();
    assert!(invitation.len() >= 40, "token {invitation}");
    let anonymous = reqwest::Client::new();
    // The link opened in a browser: the invitation page (GET), then the
    // POST its button sends.
    let page = anonymous.get(&url).send().await.expect("GET the page");
    assert_eq!(page.status(), StatusCode::OK);
    let (status, body) = status_and_json(anonymous.post(&url).send().await.expect("accept")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Used tokens, other spellings of the route, a mistyped tail: all 404,
    // none of them logs the token.
    for path in [
        format!("/api/{tenant}/main/identity/invitations/{invitation}/accept"),
        format!("/api/{tenant}/main/Identity/Invitations/{invitation}/accept"),
        format!("/api/{tenant}/main/identity/%69nvitations/{invitation}/accept"),
        format!("/api/{tenant}/main/identity/invitations/{invitation}/accept/"),
        format!("/api/{tenant}/main/identity/invitations/{invitation}"),
    ] {
        for method in [reqwest::Method::POST, reqwest::Method::GET] {
            let response = anonymous
                .request(method.clone(), format!("{address}{path}"))
                .send()
                .await
                .expect("request");
            assert!(
                response.status().is_client_error(),
                "{method} {path}: {}",
                response.status()
            );
        }
    }

    // Bearer and Basic reads (the feed takes Basic).
    let (status, body) = status_and_json(
        bearer
            .get(format!("{api}/users/odata?$count=true"))
            .send()
            .await
            .expect("GET"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = status_and_json(
        http.get(format!("{address}/api/{tenant}/main/odata/Users"))
            .header("Authorization", &basic)
            .send()
            .await
            .expect("GET feed"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = status_and_json(
        common::bearer_client(&basic_token)
            .get(format!("{api}/roles/odata"))
            .send()
            .await
            .expect("GET roles"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // A wrong secret, a secret in a query string the token endpoint ignores.
    let _ = http
        .post(format!("{address}/connect/token?client_secret={secret}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={client_id}&client_secret={secret}x"
        ))
        .send()
        .await
        .expect("POST /connect/token");

    // Let the last lines reach the file, then stop the server: a request
    // for a marker path comes after every request above, so once its line
    // is in the file, theirs are too (polled, not a fixed wait).
    let marker = "log-flush-marker";
    let _ = http
        .get(format!("{address}/{marker}"))
        .send()
        .await
        .expect("GET the marker");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !std::fs::read_to_string(&log_path).is_ok_and(|l| l.contains(marker)) {
        assert!(
            std::time::Instant::now() < deadline,
            "the marker request never reached the log"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    server.kill();
    let logged = std::fs::read_to_string(&log_path).expect("read the log");
    assert!(
        logged.contains("DEBUG") && logged.contains("request_id"),
        "debug logging is on (the test is meaningful): {logged}"
    );
    assert!(
        logged.contains("/invitations/<redacted>/accept"),
        "the accept path is logged with the token redacted: {logged}"
    );
    let basic_b64 = basic.trim_start_matches("Basic ").to_owned();
    for (what, needle) in [
        ("the invitation token", invitation.as_str()),
        ("the client secret", secret.as_str()),
        ("the Basic credentials", basic_b64.as_str()),
        ("the access token (form)", form_token.as_str()),
        ("the access token (Basic)", basic_token.as_str()),
    ] {
        if let Some(at) = logged.find(needle) {
            let line_start = logged[..at].rfind('\n').map_or(0, |i| i + 1);
            let line_end = logged[at..].find('\n').map_or(logged.len(), |i| at + i);
            panic!("{what} is in the log:\n{}", &logged[line_start..line_end]);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
