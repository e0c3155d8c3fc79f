//! Where absolute links come from: mail links only from `APP_PUBLIC_URL`
//! or the bound address, response links from `APP_PUBLIC_URL` or the
//! request's `Host`; `Forwarded`/`X-Forwarded-*` only from a peer in
//! `APP_TRUSTED_PROXIES`.

use crate::common;
use crate::feed_support;

use std::path::PathBuf;

use common::{TestApp, json_of, spawn_app, spawn_app_with};
use feed_support::root;
use identity_service::links::TrustedProxies;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Headers a client may send to steer links elsewhere.
const FORGED: &[(&str, &str)] = &[
    ("X-Forwarded-Host", "evil.example"),
    ("X-Forwarded-Proto", "https"),
    ("X-Forwarded-Port", "443"),
    ("Forwarded", "for=1.2.3.4;host=evil.example;proto=https"),
];

fn with_headers(
    mut request: reqwest::RequestBuilder,
    headers: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
}

/// The `.eml` files of the outbox, oldest first.
fn outbox(app: &TestApp) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&app.outbox)
        .map(|dir| {
            dir.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Invites with extra headers (asserting 200) and returns the mail's text.
async fn invite_mail(app: &TestApp, email: &str, headers: &[(&str, &str)]) -> String {
    let request = app
        .client
        .post(app.url("users/sendInvitation"))
        .json(&json!({ "email": email }));
    let response = with_headers(request, headers)
        .send()
        .await
        .expect("POST sendInvitation");
    json_of(response, StatusCode::OK).await;
    let last = outbox(app).pop().expect("a message in the outbox");
    std::fs::read_to_string(last).expect("read .eml")
}

fn assert_not_forged(text: &str) {
    assert!(!text.contains("evil.example"), "a forged host: {text}");
    assert!(!text.contains("https://"), "a forged scheme: {text}");
}

#[tokio::test]
async fn forged_hosts_and_forwarded_headers_never_reach_a_mail() {
    let app = spawn_app().await;
    let mut headers = FORGED.to_vec();
    headers.push(("Host", "evil.example"));
    let mail = invite_mail(&app, "ana@example.com", &headers).await;
    assert_not_forged(&mail);
    let link = format!(
        "{}/api/{}/main/identity/invitations/",
        app.address, app.tenant
    );
    assert!(mail.contains(&link), "the bound address and port: {mail}");

    // A trusted proxy decides response links, never mail links.
    let app = spawn_app_with(|s| {
        s.trusted_proxies = TrustedProxies::parse("127.0.0.1,::1").expect("proxies");
    })
    .await;
    let mail = invite_mail(&app, "bea@example.com", &headers).await;
    assert_not_forged(&mail);
    assert!(mail.contains(&format!("{}/api/", app.address)), "{mail}");

    // APP_PUBLIC_URL wins over everything.
    let app = spawn_app_with(|s| s.public_url = Some("https://id.example.com".to_owned())).await;
    let mail = invite_mail(&app, "cid@example.com", &headers).await;
    assert!(!mail.contains("evil.example"), "{mail}");
    assert!(
        mail.contains(&format!(
            "https://id.example.com/api/{}/main/identity/invitations/",
            app.tenant
        )),
        "{mail}"
    );
}

#[tokio::test]
async fn bound_to_every_interface_without_a_public_url_no_mail_is_sent() {
    let app = spawn_app_with(|s| s.bind = "0.0.0.0:0".to_owned()).await;
    let response = app
        .post_json("users/sendInvitation", &json!({"email": "dan@example.com"}))
        .await;
    let body = json_of(response, StatusCode::INTERNAL_SERVER_ERROR).await;
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("APP_PUBLIC_URL"), "a clear error: {body}");
    assert!(message.contains("0.0.0.0"), "{body}");
    assert!(outbox(&app).is_empty(), "no mail");
    let listed = app.get_users("$filter=email eq 'dan@example.com'").await;
    assert_eq!(listed["items"], json!([]), "nothing stored: {listed}");

    let app = spawn_app_with(|s| {
        s.bind = "0.0.0.0:0".to_owned();
        s.public_url = Some("https://id.example.com".to_owned());
    })
    .await;
    let mail = invite_mail(&app, "dan@example.com", &[]).await;
    assert!(mail.contains("https://id.example.com/api/"), "{mail}");
}

/// 101 users: one more than API 1's page, so its lists have a next link.
async fn seed(app: &TestApp) {
    let mut tasks = tokio::task::JoinSet::new();
    let workers = 4;
    for w in 0..workers {
        let client = app.client.clone();
        let url = app.url("users");
        tasks.spawn(async move {
            for i in (w..101).step_by(workers) {
                let response = client
                    .post(&url)
                    .json(
                        &json!({"userKey": format!("u{i:03}"), "name": "U", "isTechnician": false}),
                    )
                    .send()
                    .await
                    .expect("POST users");
                assert_eq!(response.status(), StatusCode::CREATED);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("seeding task");
    }
}

/// API 1's list page, the feed's page and the `Location` of a create, each
/// sent with `headers`: every absolute link in them.
async fn links(app: &TestApp, headers: &[(&str, &str)]) -> Vec<String> {
    let mut found = Vec::new();
    let api1 = with_headers(app.client.get(app.url("users/odata")), headers)
        .send()
        .await
        .expect("GET users/odata");
    let api1 = json_of(api1, StatusCode::OK).await;
    found.push(
        api1["nextPageLink"]
            .as_str()
            .expect("nextPageLink")
            .to_owned(),
    );

    let feed = with_headers(
        app.client.get(format!("{}/Users", root(app))),
        &[headers, &[("Prefer", "odata.maxpagesize=1")]].concat(),
    )
    .send()
    .await
    .expect("GET feed Users");
    let feed: Value = json_of(feed, StatusCode::OK).await;
    for name in ["@odata.context", "@odata.nextLink"] {
        found.push(feed[name].as_str().expect(name).to_owned());
    }

    let create = with_headers(app.client.post(app.url("roles")), headers)
        .json(&json!({"roleKey": format!("r{}", uuid::Uuid::new_v4().simple())}))
        .send()
        .await
        .expect("POST roles");
    assert_eq!(create.status(), StatusCode::CREATED);
    let location = create.headers()["location"].to_str().expect("ascii");
    found.push(location.to_owned());
    found
}

#[tokio::test]
async fn forged_forwarded_headers_never_reach_a_link() {
    let app = spawn_app().await;
    seed(&app).await;
    for header in FORGED {
        for link in links(&app, &[*header]).await {
            assert!(
                link.starts_with(&format!("{}/api/{}/main/", app.address, app.tenant)),
                "{header:?} reached {link}"
            );
        }
    }
}

#[tokio::test]
async fn a_trusted_proxys_forwarded_host_decides_response_links() {
    let app = spawn_app_with(|s| {
        s.trusted_proxies = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1").expect("proxies");
    })
    .await;
    seed(&app).await;
    let expected = format!("https://proxy.example/api/{}/main/", app.tenant);
    for headers in [
        &[
            ("X-Forwarded-Host", "proxy.example"),
            ("X-Forwarded-Proto", "https"),
        ][..],
        &[("Forwarded", "for=1.2.3.4;host=proxy.example;proto=https")][..],
    ] {
        for link in links(&app, headers).await {
            assert!(link.starts_with(&expected), "{headers:?}: {link}");
        }
    }
    // Without forwarded headers: the request's Host.
    for link in links(&app, &[]).await {
        assert!(link.starts_with(&app.address), "{link}");
    }

    // A peer outside the list is not believed.
    let app = spawn_app_with(|s| {
        s.trusted_proxies = TrustedProxies::parse("10.0.0.0/8").expect("proxies");
    })
    .await;
    seed(&app).await;
    for link in links(&app, &[("X-Forwarded-Host", "proxy.example")]).await {
        assert!(link.starts_with(&app.address), "{link}");
    }
}
