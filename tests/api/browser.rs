//! The server's pages in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`, driven by Selenium pinned in
//! `scripts/browser/requirements.txt`): `scripts/browser.sh check` runs
//! `scripts/browser/check.py` against an application this test starts with
//! known data. The landing page and its links; the explorer: sign in,
//! completion (of the aliases an `$apply` produces too), an error marked
//! under the right character, rows and paging by next links, values shown
//! as text, a groupby chart, explain with and without `identity.admin`,
//! the "copy as" snippets run (curl, Python requests, JavaScript fetch
//! under Node, Power Query's URL), of the first page and of page 2 (its
//! `$skiptoken`); API 1's groups list read and paged; the API docs
//! (Swagger UI): an API 1 operation called with "try it out", 401 without a
//! token, 200 after Authorize with client credentials and with a pasted
//! Bearer token; the invitation page accepted by clicking. Screenshots go to
//! `$CARGO_TARGET_DIR/browser-screenshots` (default `target/`).
//!
//! Once, on the SQLite pass. Without the tools (`scripts/browser.sh
//! install`) it skips loudly; `ODATA_TEST_BROWSER=1` (set by `.ci/run`)
//! makes missing tools a failure.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{TestBackend, json_of, spawn_app_with, test_backend};
use identity_service::auth::Scopes;
use identity_service::storage::{clients, tenants};
use reqwest::StatusCode;
use serde_json::json;

const PAGE_SIZE: u64 = 7;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tools_dir() -> PathBuf {
    std::env::var_os("BROWSER_TOOLS_DIR")
        .map(PathBuf::from)
        .map(|d| if d.is_absolute() { d } else { root().join(d) })
        .unwrap_or_else(|| root().join("target/browser-tools"))
}

fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|d| if d.is_absolute() { d } else { root().join(d) })
        .unwrap_or_else(|| root().join("target"));
    target.join("browser-screenshots")
}

/// What is missing of chromium, chromedriver and the Selenium venv.
fn missing_tools(dir: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    for path in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        if !Path::new(path).exists() {
            missing.push(path.to_owned());
        }
    }
    let python = dir.join("venv/bin/python");
    if !python.exists() {
        missing.push(python.display().to_string());
    }
    missing
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_work_in_a_real_browser() {
    if test_backend() != TestBackend::Sqlite {
        eprintln!("the browser checks run in the default (SQLite) pass only");
        return;
    }
    let dir = tools_dir();
    let missing = missing_tools(&dir);
    if !missing.is_empty() {
        assert!(
            std::env::var("ODATA_TEST_BROWSER").as_deref() != Ok("1"),
            "ODATA_TEST_BROWSER=1 but the browser tools are missing: {missing:?} \
             (scripts/browser.sh install)"
        );
        eprintln!(
            "\n!!! SKIPPED the browser checks: missing {missing:?}; run scripts/browser.sh install\n"
        );
        return;
    }

    let app = spawn_app_with(|s| s.feed_page_size = PAGE_SIZE).await;
    // Users: statuses 1 and 2, two names with markup and characters the
    // explorer must encode (`+`, `&`), and an invitation (status 3).
    let mut users: Vec<(String, String, i64)> = (0..20)
        .map(|i| {
            let status = if i % 3 == 0 { 2 } else { 1 };
            (format!("user{i:02}"), format!("Person {i:02}"), status)
        })
        .collect();
    users.push(("zoe".into(), "Zoë <b>bold</b> & co".into(), 1));
    users.push((
        "ann-plus".into(),
        "Ann+Lee <img src=x onerror=alert(1)>".into(),
        1,
    ));
    for (i, (key, name, status)) in users.iter().enumerate() {
        let created = app
            .post_json(
                "users",
                &json!({"userKey": key, "name": name, "status": status, "isTechnician": i % 2 == 0}),
            )
            .await;
        assert!(created.status().is_success(), "create {key}");
    }
    let invited = json_of(
        app.post_json(
            "users/sendInvitation",
            &json!({"email": "ivy@example.com", "name": "Ivy Invited", "userKey": "ivy"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let invited_id = invited.as_str().expect("id").to_owned();
    // More groups than API 1's page (100): its list pages by next links.
    let group_keys: Vec<String> = (0..103).map(|i| format!("group-{i:03}")).collect();
    for key in &group_keys {
        let created = app
            .post_json(
                "groups",
                &json!({"groupKey": key, "name": format!("Group {key}")}),
            )
            .await;
        assert!(created.status().is_success(), "create {key}");
    }
    let invitation_url = common::newest_accept_url(&app.outbox);

    let mut status1: Vec<String> = users
        .iter()
        .filter(|u| u.2 == 1)
        .map(|u| u.0.clone())
        .collect();
    status1.sort();
    let mut by_status: BTreeMap<String, i64> = BTreeMap::new();
    for (_, _, status) in &users {
        *by_status.entry(status.to_string()).or_default() += 1;
    }
    by_status.insert("3".into(), 1);
    let markup: Vec<&str> = vec![users[21].1.as_str(), users[20].1.as_str()];

    // A client with read and admin (explain) besides the test's read+write one.
    let scope = tenants::find(&app.pool, &app.tenant, "main")
        .await
        .expect("find the tenant")
        .expect("the tenant");
    let (admin, admin_secret) = clients::create(
        &app.pool,
        &scope,
        Scopes::parse("identity.read identity.admin").expect("scopes"),
    )
    .await
    .expect("create the admin client");

    let shots = screenshots_dir();
    std::fs::create_dir_all(&shots).expect("screenshot directory");
    let config = json!({
        "address": app.address,
        "tenant": app.tenant,
        "clientId": app.client_id,
        "clientSecret": app.client_secret,
        "adminId": admin.client_id,
        "adminSecret": admin_secret,
        "pageSize": PAGE_SIZE,
        "status1Keys": status1,
        "usersByStatus": by_status,
        "markupNames": markup,
        "invitationUrl": invitation_url,
        "invitedName": "Ivy Invited",
        "groupKeys": group_keys,
        "screenshots": shots,
    });
    let config_path = app.dir.join("browser.json");
    std::fs::write(&config_path, config.to_string()).expect("write the configuration");

    let output = tokio::task::spawn_blocking(move || {
        Command::new("bash")
            .arg(root().join("scripts/browser.sh"))
            .arg("check")
            .env("BROWSER_TOOLS_DIR", &dir)
            .env("BROWSER_CONFIG", &config_path)
            .output()
            .expect("run scripts/browser.sh")
    })
    .await
    .expect("the browser script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "browser checks failed (screenshots in {})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        shots.display()
    );
    // The checks' log (timings, screenshot paths) for `--nocapture` and CI logs.
    eprintln!("{stdout}");
    for line in [
        "landing page:",
        "completion:",
        "completion after $apply:",
        "errors: an unknown property marked under its first character",
        "paging:",
        "escaping:",
        "chart:",
        "explain without identity.admin",
        "copy as: the curl",
        "copy as page 2:",
        "api 1: groups",
        "explain with identity.admin",
        "docs: listUsers called from /docs/",
        "invitation: accepted by clicking",
        "all browser checks passed",
    ] {
        assert!(stdout.contains(line), "missing `{line}` in\n{stdout}");
    }
    // The click accepted the invitation for real.
    assert_eq!(app.get_user(&invited_id).await["status"], 1);
}
