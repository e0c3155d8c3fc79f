//! Delta links with a `$filter` over the linked records (a lambda over
//! `roles`, `groups` or `users`, `all`, `/$count`): whether a record
//! matches changes when a linked record or a link changes, without the
//! record itself being written. After role and group renames and
//! description changes, membership adds and removes (API 1, feed `$ref`,
//! `@odata.bind`), member attribute changes, user and role deletes and a
//! `$batch` change set, applying each delta to its snapshot gives exactly
//! the current filtered data, on every set. A filter that reads further
//! than the linked records still answers 501.

use super::{Snapshot, apply_delta, create_user, current, ok, track};
use crate::common::{TestApp, spawn_app};
use crate::feed_support::{get_with, root, send_with};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The tracked reads: every set, `any` with a property of the other side,
/// `all`, `/$count` (with and without `$select`).
const FILTERS: [&str; 11] = [
    "Users?$filter=roles/any(r:r/description eq 'Admin')&$select=id,userKey",
    "Users?$filter=groups/any(g:g/name eq 'Ops')",
    "Users?$filter=groups/all(g:g/name ne 'Ops') and isActive",
    "Users?$filter=roles/$count gt 1&$select=id,name",
    "Roles?$filter=users/any(u:startswith(u/name,'Boss'))",
    "Roles?$filter=users/all(u:u/isActive eq true)&$select=id,roleKey",
    "Roles?$filter=users/$count ge 2",
    "Groups?$filter=users/any(u:u/name eq 'Boss')&$select=id,groupKey,name",
    "Groups?$filter=users/all(u:u/isActive)",
    "Groups?$filter=users/$count gt 1",
    "Groups?$filter=name eq 'Dev' or users/any(u:u/userKey eq 'u4')",
];

/// One tracked read: its URL, the client's copy and its next delta link.
struct Tracked {
    url: &'static str,
    snapshot: Snapshot,
    link: String,
}

async fn track_all(app: &TestApp) -> Vec<Tracked> {
    let mut out = Vec::new();
    for url in FILTERS {
        let (snapshot, link) = track(app, url, 2).await;
        out.push(Tracked {
            url,
            snapshot,
            link,
        });
    }
    out
}

/// Applies each read's delta (in pages of 2) and compares with the current
/// data; returns what each read matched before and after.
async fn apply_all(app: &TestApp, tracked: &mut [Tracked]) -> Vec<(Snapshot, Snapshot)> {
    let mut changes = Vec::new();
    for t in tracked.iter_mut() {
        let before = t.snapshot.clone();
        let (link, _) = apply_delta(app, &mut t.snapshot, &t.link, 2, &[]).await;
        t.link = link;
        let now = current(app, t.url).await;
        assert_eq!(t.snapshot, now, "{}", t.url);
        changes.push((before, now));
    }
    changes
}

/// Whether the read `index` gained a record and lost one.
fn flipped_both_ways(changes: &[(Snapshot, Snapshot)], index: usize) -> bool {
    let (before, after) = &changes[index];
    after.keys().any(|k| !before.contains_key(k)) && before.keys().any(|k| !after.contains_key(k))
}

async fn feed(app: &TestApp, method: Method, url: &str, body: Option<&Value>) {
    let answer = send_with(app, &app.client, method, url, &[], body).await;
    assert!(answer.status.is_success(), "{url}: {}", answer.body);
}

#[tokio::test]
async fn navigation_filters_stay_sound_over_every_kind_of_write() {
    let app = spawn_app().await;
    let admin = app
        .create_role(json!({"roleKey": "admin", "description": "Admin"}))
        .await;
    let viewer = app
        .create_role(json!({"roleKey": "viewer", "description": "View"}))
        .await;
    let editor = app.create_role(json!({"roleKey": "editor"})).await;
    let ops = app
        .create_group(json!({"groupKey": "ops", "name": "Ops"}))
        .await;
    let dev = app
        .create_group(json!({"groupKey": "dev", "name": "Dev"}))
        .await;
    let mut users = Vec::new();
    for i in 0..6 {
        users.push(create_user(&app, &format!("u{i}"), true).await);
    }
    let links: [(&str, &[&str], &[&str]); 6] = [
        ("u0", &["admin"], &["ops"]),
        ("u1", &["viewer"], &["ops"]),
        ("u2", &["admin", "viewer"], &["dev"]),
        ("u3", &[], &[]),
        ("u4", &["editor"], &[]),
        ("u5", &["viewer"], &["dev"]),
    ];
    for (user, roles, groups) in links {
        ok(app
            .put_json(&format!("users/{user}/roles"), &json!(roles))
            .await)
        .await;
        ok(app
            .put_json(&format!("users/{user}/groups"), &json!(groups))
            .await)
        .await;
    }
    let mut tracked = track_all(&app).await;

    // Round 1: attributes of the other side, links, a member's attributes.
    ok(app
        .put_json("roles/admin/roleKey", &json!("administrator"))
        .await)
    .await;
    ok(app
        .put_json("roles/viewer/description", &json!("Admin"))
        .await)
    .await;
    ok(app
        .put_json("roles/administrator/description", &json!("Root"))
        .await)
    .await;
    feed(
        &app,
        Method::PATCH,
        &format!("Groups({ops})"),
        Some(&json!({"name": "Operations"})),
    )
    .await;
    ok(app
        .post_json("users/u3/roles/add", &json!(["administrator", "viewer"]))
        .await)
    .await;
    feed(
        &app,
        Method::DELETE,
        &format!("Users({})/roles({admin})/$ref", users[2]),
        None,
    )
    .await;
    feed(
        &app,
        Method::POST,
        &format!("Users({})/groups/$ref", users[4]),
        Some(&json!({"@odata.id": format!("Groups({dev})")})),
    )
    .await;
    ok(app.put_json("users/u1/name", &json!("Boss")).await).await;
    ok(app.put_json("users/u5/isActive", &json!(false)).await).await;
    ok(app.put_json("users/u0/roles", &json!(["editor"])).await).await;
    feed(
        &app,
        Method::POST,
        "Users",
        Some(
            &json!({"userKey": "u6", "name": "New", "isTechnician": false,
                     "isActive": false,
                     "roles@odata.bind": [format!("Roles({editor})")],
                     "groups@odata.bind": [format!("Groups({ops})")]}),
        ),
    )
    .await;
    let round = apply_all(&app, &mut tracked).await;
    // Users entered and left the description filter (the role's own
    // write), and the group filter (the group's rename).
    assert!(flipped_both_ways(&round, 0), "{:?}", round[0]);
    assert!(!round[1].1.contains_key(&users[0]), "{:?}", round[1]);
    // A member's rename brings its roles and groups in.
    assert!(round[4].1.contains_key(&viewer), "{:?}", round[4]);
    assert!(round[7].1.contains_key(&ops), "{:?}", round[7]);
    // A member turned inactive takes its roles and groups out.
    assert!(!round[5].1.contains_key(&viewer), "{:?}", round[5]);
    assert!(!round[8].1.contains_key(&dev), "{:?}", round[8]);

    // Round 2: deletes of a member and of a role, a `$batch` change set.
    ok(app.delete("users/u1").await).await;
    ok(app.delete("roles/editor").await).await;
    let batch = json!({"requests": [
        {"id": "1", "method": "patch", "url": format!("Roles({admin})"),
         "atomicityGroup": "g", "body": {"description": "Admin"}},
        {"id": "2", "method": "patch", "url": format!("Users({})", users[3]),
         "atomicityGroup": "g", "body": {"name": "Boss Two"}},
        {"id": "3", "method": "post", "url": format!("Users({})/groups/$ref", users[3]),
         "atomicityGroup": "g", "body": {"@odata.id": format!("Groups({ops})")}},
        {"id": "4", "method": "delete", "url": format!("Users({})/groups({dev})/$ref", users[2]),
         "atomicityGroup": "g"},
        {"id": "5", "method": "patch", "url": format!("Groups({dev})"),
         "atomicityGroup": "g", "body": {"name": "Ops"}},
        {"id": "6", "method": "post", "url": format!("Users({})/roles/$ref", users[4]),
         "atomicityGroup": "g", "body": {"@odata.id": format!("Roles({admin})")}}
    ]});
    let answer = app
        .client
        .post(format!("{}/$batch", root(&app)))
        .header("Content-Type", "application/json")
        .header("OData-Version", "4.01")
        .body(batch.to_string())
        .send()
        .await
        .expect("POST $batch");
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.expect("JSON");
    for response in body["responses"].as_array().expect("responses") {
        let status = response["status"].as_u64().unwrap_or(0);
        assert!((200..300).contains(&status), "{body}");
    }
    let round = apply_all(&app, &mut tracked).await;
    // The deleted member's group left; the batch brought a user into the
    // description filter (a new link) and a renamed member's role in,
    // and the members of a group renamed to 'Ops' into the group filter.
    assert!(!round[7].1.contains_key(&ops), "{:?}", round[7]);
    assert!(round[4].1.contains_key(&admin), "{:?}", round[4]);
    assert!(flipped_both_ways(&round, 0), "{:?}", round[0]);
    assert!(round[1].1.contains_key(&users[4]), "{:?}", round[1]);

    // Round 3: only attributes, of members and of a role: the records
    // whose match changes are written by nobody.
    ok(app.put_json("users/u0/name", &json!("Boss")).await).await;
    ok(app.put_json("users/u4/isActive", &json!(false)).await).await;
    ok(app
        .put_json("roles/viewer/description", &json!("Other"))
        .await)
    .await;
    let round = apply_all(&app, &mut tracked).await;
    assert!(round[7].1.contains_key(&ops), "{:?}", round[7]);
    assert!(!round[5].1.contains_key(&admin), "{:?}", round[5]);
    assert!(!round[8].1.contains_key(&dev), "{:?}", round[8]);
    assert!(!round[0].1.contains_key(&users[2]), "{:?}", round[0]);
    assert!(round[0].0.contains_key(&users[2]), "{:?}", round[0]);

    // Round 4: only a member's delete (its last inactive member gone, a
    // role passes `all`; a group falls under the `/$count`).
    ok(app.delete("users/u5").await).await;
    let round = apply_all(&app, &mut tracked).await;
    assert!(round[5].1.contains_key(&viewer), "{:?}", round[5]);
    assert!(!round[5].0.contains_key(&viewer), "{:?}", round[5]);
    assert!(round[9].0.contains_key(&dev), "{:?}", round[9]);
    assert!(!round[9].1.contains_key(&dev), "{:?}", round[9]);

    // The next deltas are empty: nothing is sent twice for nothing.
    for t in &mut tracked {
        let (_, seen) = apply_delta(&app, &mut t.snapshot, &t.link, 5, &[]).await;
        assert!(seen.is_empty(), "{}: {seen:?}", t.url);
    }
}

#[tokio::test]
async fn filters_reading_beyond_the_linked_records_answer_501() {
    let app = spawn_app().await;
    for query in [
        "Users?$filter=roles/any(r:r/users/any(u:u/name eq 'a'))",
        "Roles?$filter=users/any(u:u/groups/$count gt 1)",
        "Groups?$filter=@a&@a=users/any(u:u/roles/any())",
    ] {
        let error = get_with(&app, query, &[super::TRACK])
            .await
            .error(StatusCode::NOT_IMPLEMENTED, "NotImplemented");
        assert!(
            error["message"]
                .as_str()
                .expect("message")
                .contains("beyond the records linked"),
            "{query}: {error}"
        );
    }
}
