//! Byte-level golden answers: a few real HTTP answers of the server, body
//! TEXT exactly as received (never parsed and re-serialised), pinned with
//! insta snapshots in `tests/api/snapshots/api__golden__*.snap`.
//!
//! What is pinned, per answer: the `Content-Type` header (first line), then
//! the body bytes, then an `<end of body>` line (so a trailing newline or
//! whitespace is a visible change too; a carriage return would show as
//! `<CR>`). That covers the order of the properties in every JSON object,
//! number and timestamp formatting, escaping, `@odata.*` annotations and
//! links. A change of property order (e.g. from today's alphabetical order
//! to `$metadata` declaration order) therefore shows up as a snapshot diff
//! to review, as does any other change of a byte.
//!
//! The answers (the `NN_` prefix of the snapshot names):
//! - API 1 `users/odata` with `$top=2` (`nextPageLink` is null: `$top` is
//!   satisfied by the first page of 100) and with `$select`, `$expand` and
//!   `$count`; API 1 `users/{userKey}`;
//! - the v4 feed's `Users` with `$top=2` (minimal metadata), a page cut by
//!   `Prefer: odata.maxpagesize=2` with its `@odata.nextLink`, with
//!   `$select`, `$expand` and `$count`, and with full metadata;
//!   `Users({id})`, `Roles?$apply=groupby(...)`, `Users/$count` and
//!   `Users({id})/roles`.
//!
//! Each snapshot's `description` header shows the request (for the
//! reviewer; insta compares only the contents).
//!
//! The data (created through the API, in this order): roles `admin`,
//! `auditor`, `viewer` (default); groups `sales`, `support`; users
//! `ana.lima` (pt-PT, lastLogin with microseconds, stored picture, two
//! roles, two groups), `bob.jones` (en-GB, status 2), `chloe.dubois`
//! (fr-FR, accented name, external picture URL) and `dan.kim` (ko-KR, no
//! e-mail, no memberships). They live in their own tenant `golden`/`main`
//! (a fixed key, so the URLs in the answers are the same on every backend).
//!
//! Only what changes from run to run is replaced, by a stable placeholder:
//! - every UUID by `<idN>`, numbered in order of first appearance in the
//!   test's HTTP conversation, so `<id1>`..`<id9>` are the records in the
//!   creation order above (`<id1>` = role `admin`, `<id4>` = group `sales`,
//!   `<id6>` = user `ana.lima`, ... `<id9>` = `dan.kim`) in every snapshot;
//! - RFC 3339 timestamps the test did not set (`createdOn`, `modifiedOn`)
//!   by `<ts>`; the `lastLogin` values set here stay as they are;
//! - `127.0.0.1:<port>` by `<host>`;
//! - the id of the (random) client that wrote the data, the records'
//!   `createdBy` and `modifiedBy`, by `<client>`;
//! - the value of `$skiptoken=` (signed with a per-database key) by `<token>`.
//!
//! The data is the same, byte for byte, on SQLite, PostgreSQL and MariaDB
//! (`ODATA_TEST_BACKEND=postgres|mysql cargo test --test api golden::`): one
//! snapshot set for all backends.
//!
//! Reviewing and updating: after an intended change of the answers run
//!
//! ```sh
//! INSTA_UPDATE=always cargo test --test api golden::   # or: cargo insta test --test api --review -- golden::
//! git diff tests/api/snapshots                         # review every changed byte, then commit
//! ```
//!
//! Without `INSTA_UPDATE` a mismatch fails and insta writes the new answer
//! next to the old one as `*.snap.new`; `scripts/test` sets
//! `INSTA_UPDATE=no`, so CI only fails.

use crate::common;

use common::{TestApp, base64, created_id, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The tenant and org of the golden data.
const TENANT: &str = "golden";
const ORG: &str = "main";

/// `lastLogin` values the data sets: timestamps kept verbatim.
const ANA_LAST_LOGIN: &str = "2024-03-05T14:07:09.123456Z";
const BOB_LAST_LOGIN: &str = "2023-11-30T23:59:59Z";
const SET_TIMESTAMPS: &[&str] = &[ANA_LAST_LOGIN, BOB_LAST_LOGIN];

/// A tiny PNG-signature image (the service sniffs, it does not decode).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01";

/// The running app, a client of the golden tenant, and the UUID placeholders.
struct Golden {
    app: TestApp,
    http: reqwest::Client,
    /// `127.0.0.1:PORT`
    host: String,
    /// The id of the client `http` authenticates as (`createdBy`).
    client_id: String,
    /// UUIDs in order of first appearance: `ids[0]` is `<id1>`.
    ids: Vec<String>,
}

/// A response read completely, body as received.
struct Answer {
    content_type: String,
    body: String,
}

impl Golden {
    /// `{address}/api/golden/main/{rest}`
    fn url(&self, rest: &str) -> String {
        format!("{}/api/{TENANT}/{ORG}/{rest}", self.app.address)
    }

    /// GET, asserting 200, with extra headers.
    async fn get(&self, rest: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.http.get(self.url(rest));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("GET");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().expect("ASCII content type").to_owned())
            .unwrap_or_else(|| "<no content-type>".to_owned());
        let bytes = response.bytes().await.expect("body");
        let body = String::from_utf8(bytes.to_vec()).expect("UTF-8 body");
        assert_eq!(status, StatusCode::OK, "GET {rest}: {body}");
        Answer { content_type, body }
    }

    /// POST a JSON body (asserts 201), registering the new id.
    async fn create(&mut self, collection: &str, body: Value) -> String {
        let response = self
            .http
            .post(self.url(&format!("identity/{collection}")))
            .json(&body)
            .send()
            .await
            .expect("POST");
        let id = created_id(response).await;
        self.placeholder(&id);
        id
    }

    /// The placeholder of a UUID (lower-cased), numbering new ones.
    fn placeholder(&mut self, uuid: &str) -> String {
        let uuid = uuid.to_ascii_lowercase();
        let n = match self.ids.iter().position(|u| *u == uuid) {
            Some(i) => i + 1,
            None => {
                self.ids.push(uuid);
                self.ids.len()
            }
        };
        format!("<id{n}>")
    }

    /// The snapshot text of an answer: content type, body with the
    /// run-dependent parts replaced, end marker.
    fn render(&mut self, answer: &Answer) -> String {
        let body = answer.body.replace(&self.host, "<host>");
        let body = body.replace(&format!("\"{}\"", self.client_id), "\"<client>\"");
        let body = replace_skiptokens(&body);
        let body = self.replace_uuids(&body);
        let body = replace_timestamps(&body);
        let body = body.replace('\r', "<CR>");
        format!("{}\n{body}\n<end of body>", answer.content_type)
    }

    fn replace_uuids(&mut self, text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < text.len() {
            if is_uuid_at(bytes, i) {
                let p = self.placeholder(&text[i..i + 36]);
                out.push_str(&p);
                i += 36;
            } else {
                let c = text[i..].chars().next().expect("char");
                out.push(c);
                i += c.len_utf8();
            }
        }
        out
    }

    /// Asserts the snapshot `name` of `GET rest` with headers.
    async fn snapshot(&mut self, name: &str, rest: &str, headers: &[(&str, &str)]) {
        let answer = self.get(rest, headers).await;
        let text = self.render(&answer);
        // The request, for the reviewer (insta does not compare it).
        let mut request = format!("GET /api/{TENANT}/{ORG}/{rest}");
        for (h, v) in headers {
            request.push_str(&format!("\n{h}: {v}"));
        }
        let description = self.replace_uuids(&request);
        insta::with_settings!({description => description, omit_expression => true}, {
            insta::assert_snapshot!(name, text);
        });
    }
}

/// A UUID (8-4-4-4-12 hex digits) at byte `i`, not inside a longer hex run.
fn is_uuid_at(bytes: &[u8], i: usize) -> bool {
    let Some(candidate) = bytes.get(i..i + 36) else {
        return false;
    };
    let shape = candidate.iter().enumerate().all(|(k, c)| match k {
        8 | 13 | 18 | 23 => *c == b'-',
        _ => c.is_ascii_hexdigit(),
    });
    let before = i > 0 && bytes[i - 1].is_ascii_hexdigit();
    let after = bytes.get(i + 36).is_some_and(u8::is_ascii_hexdigit);
    shape && !before && !after
}

/// Replaces the value after each `$skiptoken=` (up to `&`, `"` or the end).
fn replace_skiptokens(text: &str) -> String {
    const KEY: &str = "$skiptoken=";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(KEY) {
        let value_start = at + KEY.len();
        out.push_str(&rest[..value_start]);
        out.push_str("<token>");
        let value_len = rest[value_start..]
            .find(['&', '"'])
            .unwrap_or(rest.len() - value_start);
        rest = &rest[value_start + value_len..];
    }
    out.push_str(rest);
    out
}

/// The length of an RFC 3339 timestamp starting at byte `i`
/// (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`), if any.
fn timestamp_len_at(bytes: &[u8], i: usize) -> Option<usize> {
    if i > 0 && bytes[i - 1].is_ascii_digit() {
        return None;
    }
    let digit = |k: usize| bytes.get(i + k).is_some_and(u8::is_ascii_digit);
    let is = |k: usize, c: u8| bytes.get(i + k) == Some(&c);
    let date_time = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
        .into_iter()
        .all(digit)
        && is(4, b'-')
        && is(7, b'-')
        && (is(10, b'T') || is(10, b't'))
        && is(13, b':')
        && is(16, b':');
    if !date_time {
        return None;
    }
    let mut k = 19;
    if is(k, b'.') && digit(k + 1) {
        k += 1;
        while digit(k) {
            k += 1;
        }
    }
    if is(k, b'Z') || is(k, b'z') {
        Some(k + 1)
    } else if (is(k, b'+') || is(k, b'-'))
        && digit(k + 1)
        && digit(k + 2)
        && is(k + 3, b':')
        && digit(k + 4)
        && digit(k + 5)
    {
        Some(k + 6)
    } else {
        None
    }
}

/// Replaces every RFC 3339 timestamp but those the test set by `<ts>`.
fn replace_timestamps(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if let Some(len) = timestamp_len_at(bytes, i) {
            let ts = &text[i..i + len];
            out.push_str(if SET_TIMESTAMPS.contains(&ts) {
                ts
            } else {
                "<ts>"
            });
            i += len;
        } else {
            let c = text[i..].chars().next().expect("char");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Three roles, two groups, four users with memberships (see the module doc).
async fn seed(g: &mut Golden) -> (String, String) {
    g.create(
        "roles",
        json!({"roleKey": "admin", "description": "Administrators", "isAdministration": true}),
    )
    .await;
    g.create(
        "roles",
        json!({"roleKey": "auditor", "description": "Read-only \"audit\" access"}),
    )
    .await;
    g.create("roles", json!({"roleKey": "viewer", "isDefault": true}))
        .await;
    g.create(
        "groups",
        json!({"groupKey": "sales", "name": "Sales", "email": "sales@example.com"}),
    )
    .await;
    g.create(
        "groups",
        json!({"groupKey": "support", "name": "Support", "notes": "Second line"}),
    )
    .await;
    let ana = g
        .create(
            "users",
            json!({"userKey": "ana.lima", "name": "Ana Lima", "email": "ana.lima@example.pt",
                "culture": "pt-PT", "isTechnician": true, "lastLogin": ANA_LAST_LOGIN,
                "roles": ["viewer", "admin"], "groups": ["support", "sales"],
                "picture": base64(PNG)}),
        )
        .await;
    g.create(
        "users",
        json!({"userKey": "bob.jones", "name": "Bob Jones", "email": "bob.jones@example.com",
            "culture": "en-GB", "isTechnician": false, "status": 2,
            "lastLogin": BOB_LAST_LOGIN, "roles": ["viewer"], "groups": ["support"]}),
    )
    .await;
    let chloe = g
        .create(
            "users",
            json!({"userKey": "chloe.dubois", "name": "Chloé Dubois",
                "email": "chloe.dubois@example.fr", "culture": "fr-FR", "isTechnician": true,
                "roles": ["auditor"], "groups": ["sales"]}),
        )
        .await;
    g.create(
        "users",
        json!({"userKey": "dan.kim", "name": "Dan Kim", "culture": "ko-KR",
            "isTechnician": false}),
    )
    .await;
    // An external picture URL is set through the attribute route.
    let response = g
        .http
        .put(g.url("identity/users/chloe.dubois/picture"))
        .json(&json!("https://cdn.example.com/chloe.png"))
        .send()
        .await
        .expect("PUT picture");
    assert_eq!(response.status(), StatusCode::OK);
    (ana, chloe)
}

#[tokio::test]
async fn golden_answers() {
    let app = spawn_app().await;
    let (client_id, _, http) = app
        .client_for(TENANT, ORG, "identity.read identity.write")
        .await;
    let host = app
        .address
        .strip_prefix("http://")
        .expect("http address")
        .to_owned();
    let mut g = Golden {
        app,
        http,
        host,
        client_id,
        ids: Vec::new(),
    };
    let (ana, chloe) = seed(&mut g).await;
    assert_eq!(g.ids.len(), 9, "the seed's ids are <id1>..<id9>");

    // API 1.
    g.snapshot(
        "01_api1_users_orderby_top2",
        "identity/users/odata?$orderby=userKey&$top=2",
        &[],
    )
    .await;
    g.snapshot(
        "02_api1_users_select_expand_count",
        "identity/users/odata?$select=name,email&$expand=roles&$count=true&$orderby=userKey",
        &[],
    )
    .await;
    g.snapshot("03_api1_user_by_key", "identity/users/ana.lima", &[])
        .await;

    // The OData v4 feed.
    g.snapshot(
        "04_feed_users_orderby_top2",
        "odata/Users?$orderby=userKey&$top=2",
        &[],
    )
    .await;
    g.snapshot(
        "05_feed_users_select_expand_count",
        "odata/Users?$select=userKey,name&$expand=groups&$count=true&$orderby=userKey",
        &[],
    )
    .await;
    // `$top=2` is satisfied by the first page: no next link. A smaller
    // page size gives one, with its signed `$skiptoken`.
    g.snapshot(
        "04b_feed_users_next_link",
        "odata/Users?$orderby=userKey&$select=userKey",
        &[("Prefer", "odata.maxpagesize=2")],
    )
    .await;
    g.snapshot("06_feed_user_entity", &format!("odata/Users({chloe})"), &[])
        .await;
    g.snapshot(
        "07_feed_users_full_metadata",
        "odata/Users?$orderby=userKey&$top=1",
        &[("Accept", "application/json;odata.metadata=full")],
    )
    .await;
    g.snapshot(
        "08_feed_roles_apply_groupby",
        "odata/Roles?$apply=groupby((isDefault),aggregate($count%20as%20n))",
        &[],
    )
    .await;
    g.snapshot("09a_feed_users_count", "odata/Users/$count", &[])
        .await;
    g.snapshot(
        "09b_feed_user_roles",
        // Without `$orderby` a collection is in key order, i.e. by random UUID.
        &format!("odata/Users({ana})/roles?$orderby=roleKey"),
        &[],
    )
    .await;
}

#[test]
fn placeholders_replace_only_the_run_dependent_parts() {
    assert_eq!(
        replace_skiptokens(
            r#"{"a":"http://h/x?$top=2&$skiptoken=abc-_1","b":"?$skiptoken=z&y=1"}"#
        ),
        r#"{"a":"http://h/x?$top=2&$skiptoken=<token>","b":"?$skiptoken=<token>&y=1"}"#
    );
    assert_eq!(
        replace_timestamps(&format!(
            "a 2026-01-02T03:04:05.678901Z b {ANA_LAST_LOGIN} c 2026-01-02T03:04:05+00:00 d 12026-01-02T03:04:05Z"
        )),
        format!("a <ts> b {ANA_LAST_LOGIN} c <ts> d 12026-01-02T03:04:05Z")
    );
    let bytes = b"a6f9619ff-8b86-d011-b42d-00c04fc964ff 6f9619ff-8b86-d011-b42d-00c04fc964ff";
    assert!(!is_uuid_at(bytes, 1), "inside a longer hex run");
    assert!(is_uuid_at(bytes, 38));
}
