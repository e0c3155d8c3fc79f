//! Delta links on the OData v4 feed (`Prefer: odata.track-changes`): the
//! first read pages like any other and ends with `@odata.deltaLink`;
//! following it answers what was created, changed or deleted since. After
//! creates, updates, membership changes, deletes (some while the client
//! pages) and an import, applying every delta to the snapshot gives exactly
//! the current data. Also: the 4.01 `@removed` form, 410 for a token past
//! the retention (or pruned), 501 for options that do not combine with
//! change tracking, 400 for a token of another query. Runs on every
//! backend through `ODATA_TEST_BACKEND`.

use crate::common;
use crate::feed_support;

mod navigation;

use std::collections::BTreeMap;
use std::process::Command;

use common::{TestApp, spawn_app, spawn_app_with, temp_dir};
use feed_support::{Answer, get_with, root};
use reqwest::StatusCode;
use serde_json::{Value, json};

const MINIMAL: &str = "application/json;odata.metadata=minimal";
const TRACK: (&str, &str) = ("Prefer", "odata.track-changes");

/// The client's copy of a set: id -> record without control information.
type Snapshot = BTreeMap<String, Value>;

fn plain(record: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for (k, v) in record.as_object().expect("record") {
        if !k.starts_with('@') {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

fn id_of(record: &Value) -> String {
    record["id"].as_str().expect("id").to_owned()
}

/// `Users(…)` of a deleted entry's entity id.
fn id_in_url(url: &str) -> String {
    let open = url.rfind('(').expect("(");
    url[open + 1..url.len() - 1].to_owned()
}

/// Reads every page of a change-tracked read; the snapshot and the delta link.
async fn track(app: &TestApp, url: &str, page_size: u32) -> (Snapshot, String) {
    let prefer = format!("odata.track-changes, odata.maxpagesize={page_size}");
    let mut snapshot = Snapshot::new();
    let mut next = url.to_owned();
    loop {
        let answer = get_with(app, &next, &[("Prefer", prefer.as_str())]).await;
        answer.expect(StatusCode::OK, MINIMAL);
        let applied = answer.header("preference-applied").unwrap_or_default();
        assert!(applied.contains("odata.track-changes"), "{applied}");
        let body = answer.json();
        for record in body["value"].as_array().expect("value") {
            snapshot.insert(id_of(record), plain(record));
        }
        match (
            body["@odata.nextLink"].as_str(),
            body["@odata.deltaLink"].as_str(),
        ) {
            (Some(link), None) => next = link.to_owned(),
            (None, Some(delta)) => return (snapshot, delta.to_owned()),
            other => panic!("a page needs a next link or a delta link: {other:?} {body}"),
        }
    }
}

/// Follows a delta link through all its pages, applying each entry to
/// `snapshot`; returns the next delta link and the entries seen.
async fn apply_delta(
    app: &TestApp,
    snapshot: &mut Snapshot,
    delta_link: &str,
    page_size: u32,
    headers: &[(&str, &str)],
) -> (String, Vec<Value>) {
    let prefer = format!("odata.maxpagesize={page_size}");
    let mut all_headers = vec![("Prefer", prefer.as_str())];
    all_headers.extend_from_slice(headers);
    let mut next = delta_link.to_owned();
    let mut seen = Vec::new();
    loop {
        let answer = get_with(app, &next, &all_headers).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let body = answer.json();
        assert!(
            body["@odata.context"]
                .as_str()
                .expect("context")
                .ends_with("/$delta"),
            "{body}"
        );
        for entry in body["value"].as_array().expect("value") {
            seen.push(entry.clone());
            if let Some(removed) = entry.get("@removed") {
                assert!(removed["reason"].is_string(), "{entry}");
                snapshot.remove(&id_of(entry));
            } else if entry["@odata.context"]
                .as_str()
                .is_some_and(|c| c.ends_with("/$deletedEntity"))
            {
                let reason = entry["reason"].as_str().expect("reason");
                assert!(reason == "deleted" || reason == "changed", "{entry}");
                snapshot.remove(&id_in_url(entry["id"].as_str().expect("id")));
            } else {
                snapshot.insert(id_of(entry), plain(entry));
            }
        }
        match (
            body["@odata.nextLink"].as_str(),
            body["@odata.deltaLink"].as_str(),
        ) {
            (Some(link), None) => next = link.to_owned(),
            (None, Some(delta)) => return (delta.to_owned(), seen),
            other => panic!("a delta page needs a next or a delta link: {other:?} {body}"),
        }
    }
}

/// The current data of `url` read without change tracking.
async fn current(app: &TestApp, url: &str) -> Snapshot {
    let mut snapshot = Snapshot::new();
    let mut next = url.to_owned();
    loop {
        let answer = get_with(app, &next, &[]).await;
        answer.expect(StatusCode::OK, MINIMAL);
        let body = answer.json();
        for record in body["value"].as_array().expect("value") {
            snapshot.insert(id_of(record), plain(record));
        }
        match body["@odata.nextLink"].as_str() {
            Some(link) => next = link.to_owned(),
            None => return snapshot,
        }
    }
}

/// Applies deltas until one is empty (every write has finished) and
/// compares with the current data.
async fn converge(app: &TestApp, url: &str, snapshot: &mut Snapshot, mut link: String) -> String {
    for _ in 0..5 {
        let (next, seen) = apply_delta(app, snapshot, &link, 3, &[]).await;
        link = next;
        if seen.is_empty() {
            break;
        }
    }
    assert_eq!(*snapshot, current(app, url).await);
    link
}

async fn create_user(app: &TestApp, key: &str, active: bool) -> String {
    app.create_user(json!({
        "userKey": key,
        "name": format!("User {key}"),
        "email": format!("{key}@example.com"),
        "isTechnician": false,
        "isActive": active,
    }))
    .await
}

async fn ok(response: reqwest::Response) {
    let status = response.status();
    assert!(
        status.is_success(),
        "{status}: {}",
        response.text().await.unwrap_or_default()
    );
}

#[tokio::test]
async fn deltas_applied_to_the_snapshot_give_the_current_data() {
    let app = spawn_app().await;
    for key in ["admin", "viewer", "editor"] {
        app.create_role(json!({ "roleKey": key })).await;
    }
    app.create_group(json!({ "groupKey": "ops", "name": "Ops" }))
        .await;
    for i in 0..10 {
        create_user(&app, &format!("u{i}"), i % 4 != 3).await;
    }
    ok(app.put_json("users/u1/roles", &json!(["admin"])).await).await;

    // A filter and a select: users leaving the filter come as removed
    // ("changed"), and the key is part of every entry.
    let url = "Users?$filter=isActive eq true&$select=id,userKey,name,email,version";
    let prefer = "odata.track-changes, odata.maxpagesize=3";
    // The first read, with writes between its pages.
    let mut snapshot = Snapshot::new();
    let mut next = url.to_owned();
    let mut page = 0;
    let delta_link = loop {
        let answer = get_with(&app, &next, &[("Prefer", prefer)]).await;
        answer.expect(StatusCode::OK, MINIMAL);
        assert_eq!(
            answer.header("preference-applied").as_deref(),
            Some("odata.track-changes, odata.maxpagesize=3")
        );
        let body = answer.json();
        for record in body["value"].as_array().expect("value") {
            snapshot.insert(id_of(record), plain(record));
        }
        page += 1;
        match page {
            1 => {
                create_user(&app, "during1", true).await;
                ok(app
                    .put_json("users/u0/name", &json!("Renamed while paging"))
                    .await)
                .await;
            }
            2 => {
                ok(app.delete("users/u9").await).await;
                ok(app
                    .post_json("users/u2/roles/add", &json!(["viewer"]))
                    .await)
                .await;
            }
            _ => {}
        }
        match (
            body["@odata.nextLink"].as_str(),
            body["@odata.deltaLink"].as_str(),
        ) {
            (Some(link), None) => {
                assert!(link.contains("$deltatoken="), "{link}");
                next = link.to_owned();
            }
            (None, Some(delta)) => break delta.to_owned(),
            other => panic!("{other:?} {body}"),
        }
    };
    assert!(page >= 3, "paged");
    assert!(
        delta_link.starts_with(&format!("{}/Users?", root(&app))),
        "{delta_link}"
    );

    // Writes after the first read.
    create_user(&app, "new1", true).await;
    create_user(&app, "new2", false).await;
    ok(app.put_json("users/u4/name", &json!("Changed")).await).await;
    ok(app.put_json("users/u5/isActive", &json!(false)).await).await; // leaves the filter
    ok(app.put_json("users/u7/isActive", &json!(true)).await).await; // enters it
    ok(app.post_json("users/u6/groups/add", &json!(["ops"])).await).await;
    ok(app.delete("users/u8").await).await;
    let u3_membership = app.get_user("u1").await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    ok(app
        .put_json("roles/admin/roleKey", &json!("administrator"))
        .await)
    .await;

    let (link, seen) = apply_delta(&app, &mut snapshot, &delta_link, 2, &[]).await;
    // A membership change shows as a changed user.
    let u6 = app.get_user("u6").await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for id in [&u6, &u3_membership] {
        assert!(
            seen.iter().any(|e| e["id"].as_str() == Some(id.as_str())),
            "membership change of {id} missing from {seen:?}"
        );
    }
    // u5 left the filter: removed with reason "changed"; u8 is gone.
    assert!(seen.iter().any(|e| e["reason"] == "changed"), "{seen:?}");
    assert!(seen.iter().any(|e| e["reason"] == "deleted"), "{seen:?}");
    assert_eq!(snapshot, current(&app, url).await);

    // Writers running while the client follows the next delta link.
    let writer = {
        let client = app.client.clone();
        let base = app.base.clone();
        tokio::spawn(async move {
            for i in 0..6 {
                let body = json!({"userKey": format!("c{i}"), "name": "C", "isTechnician": false});
                let r = client
                    .post(format!("{base}/users"))
                    .json(&body)
                    .send()
                    .await;
                assert!(r.expect("POST").status().is_success());
                let r = client
                    .put(format!("{base}/users/u{}/name", i % 3))
                    .json(&json!(format!("Concurrent {i}")))
                    .send()
                    .await;
                assert!(r.expect("PUT").status().is_success());
            }
            let r = client.delete(format!("{base}/users/c0")).send().await;
            assert!(r.expect("DELETE").status().is_success());
        })
    };
    let (link, _) = apply_delta(&app, &mut snapshot, &link, 1, &[]).await;
    writer.await.expect("writer");
    let link = converge(&app, url, &mut snapshot, link).await;

    // A delete of a role: its members change (and stay in the filter).
    ok(app.delete("roles/viewer").await).await;
    let (_, seen) = apply_delta(&app, &mut snapshot, &link, 10, &[]).await;
    let u2 = app.get_user("u2").await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert!(
        seen.iter().any(|e| e["id"].as_str() == Some(u2.as_str())),
        "{seen:?}"
    );
    assert_eq!(snapshot, current(&app, url).await);
}

#[tokio::test]
async fn roles_and_groups_are_tracked_too() {
    let app = spawn_app().await;
    app.create_role(json!({ "roleKey": "a" })).await;
    app.create_role(json!({ "roleKey": "b", "description": "B" }))
        .await;
    app.create_group(json!({ "groupKey": "g1", "name": "G1" }))
        .await;
    app.create_group(json!({ "groupKey": "g2", "name": "G2" }))
        .await;
    let (mut roles, roles_link) = track(&app, "Roles", 1).await;
    let (mut groups, groups_link) = track(&app, "Groups?$select=id,name", 1).await;
    assert_eq!(roles.len(), 2);
    assert_eq!(groups.len(), 2);

    app.create_role(json!({ "roleKey": "c" })).await;
    ok(app.put_json("roles/a/description", &json!("changed")).await).await;
    ok(app.delete("roles/b").await).await;
    app.create_group(json!({ "groupKey": "g3", "name": "G3" }))
        .await;
    ok(app.put_json("groups/g1/name", &json!("renamed")).await).await;
    ok(app.delete("groups/g2").await).await;
    // A user's write is no change of Roles or Groups.
    create_user(&app, "x", true).await;

    let (_, seen) = apply_delta(&app, &mut roles, &roles_link, 2, &[]).await;
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(roles, current(&app, "Roles").await);
    let (_, seen) = apply_delta(&app, &mut groups, &groups_link, 2, &[]).await;
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(groups, current(&app, "Groups?$select=id,name").await);
}

#[tokio::test]
async fn clients_of_401_get_removed_entries() {
    let app = spawn_app().await;
    let keep = create_user(&app, "keep", true).await;
    let gone = create_user(&app, "gone", true).await;
    let (mut snapshot, link) = track(&app, "Users?$select=name", 10).await;
    // `$select` without the key: delta entries carry it anyway.
    ok(app.delete("users/gone").await).await;
    ok(app.put_json("users/keep/name", &json!("Kept")).await).await;

    let answer = get_with(&app, &link, &[("OData-MaxVersion", "4.01")]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.header("odata-version").as_deref(), Some("4.01"));
    let body = answer.json();
    let entries = body["value"].as_array().expect("value");
    assert_eq!(entries.len(), 2, "{body}");
    let removed = entries
        .iter()
        .find(|e| e.get("@removed").is_some())
        .expect("a removed entry");
    assert_eq!(removed["@removed"], json!({"reason": "deleted"}));
    assert_eq!(removed["id"], gone.as_str());
    assert_eq!(
        removed["@id"],
        format!("{}/Users({gone})", root(&app)).as_str()
    );
    let changed = entries
        .iter()
        .find(|e| e.get("@removed").is_none())
        .expect("a changed entry");
    assert_eq!(changed["id"], keep.as_str());
    assert_eq!(changed["name"], "Kept");

    // The same link in the 4.0 form.
    let answer = get_with(&app, &link, &[]).await;
    answer.expect(StatusCode::OK, MINIMAL);
    let body = answer.json();
    let deleted = body["value"]
        .as_array()
        .expect("value")
        .iter()
        .find(|e| e.get("reason").is_some())
        .expect("a deleted entry")
        .clone();
    assert_eq!(
        deleted,
        json!({
            "@odata.context": format!("{}/$metadata#Users/$deletedEntity", root(&app)),
            "id": format!("{}/Users({gone})", root(&app)),
            "reason": "deleted",
        })
    );
    assert_eq!(
        body["@odata.context"],
        format!("{}/$metadata#Users(name)/$delta", root(&app)).as_str()
    );
    snapshot.remove(&gone);
    assert_eq!(snapshot.len(), 1);
}

#[tokio::test]
async fn a_token_past_the_retention_answers_410() {
    // A database of its own: with a retention of 0 the server's pruner
    // empties the change log of every tenant in its database, which on a
    // server backend is shared by the tests of this binary.
    let url = common::own_database_url().await;
    let app = spawn_app_with(move |s| {
        s.database_url = url;
        s.delta_retention_days = 0.0;
    })
    .await;
    create_user(&app, "a", true).await;
    let (_, link) = track(&app, "Users", 10).await;
    let error = get_with(&app, &link, &[])
        .await
        .error(StatusCode::GONE, "Gone");
    let message = error["message"].as_str().expect("message");
    assert!(message.contains("odata.track-changes"), "{message}");
    assert!(message.contains("retention"), "{message}");
}

#[tokio::test]
async fn a_token_whose_changes_were_pruned_answers_410() {
    // A database of its own: the sweep below prunes every tenant's log.
    let app = common::spawn_app_alone().await;
    create_user(&app, "a", true).await;
    let (_, link) = track(&app, "Users", 10).await;
    create_user(&app, "b", true).await;
    // Still answerable.
    let answer = get_with(&app, &link, &[]).await;
    answer.expect(StatusCode::OK, MINIMAL);
    // The sweep removes everything older than now (a retention of 0).
    let removed = identity_service::storage::changes::prune(
        &app.pool,
        identity_service::storage::changes::now_millis() + 1,
    )
    .await
    .expect("prune");
    assert!(removed >= 1, "{removed}");
    let error = get_with(&app, &link, &[])
        .await
        .error(StatusCode::GONE, "Gone");
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .contains("start over"),
        "{error}"
    );
    // Starting over works.
    let (snapshot, _) = track(&app, "Users", 10).await;
    assert_eq!(snapshot.len(), 2);
}

#[tokio::test]
async fn options_that_do_not_combine_with_tracking_answer_501_and_bad_tokens_400() {
    let app = spawn_app().await;
    for query in [
        "Users?$orderby=name",
        "Users?$top=2",
        "Users?$skip=1",
        "Users?$count=true",
        "Users?$expand=roles",
        "Users?$search=a",
        "Users?$filter=roles/any(r:r/users/any(u:u/userKey eq 'a'))",
        "Users?$skiptoken=abc",
    ] {
        let error = get_with(&app, query, &[TRACK])
            .await
            .error(StatusCode::NOT_IMPLEMENTED, "NotImplemented");
        assert!(
            error["message"]
                .as_str()
                .expect("message")
                .contains("only $filter and $select apply"),
            "{query}: {error}"
        );
    }
    // Without the preference these are ordinary reads.
    get_with(&app, "Users?$orderby=name", &[])
        .await
        .expect(StatusCode::OK, MINIMAL);

    let (_, link) = track(&app, "Users?$filter=isActive eq true", 10).await;
    // The token belongs to its filter, set and tenant.
    let token = link.rsplit_once("$deltatoken=").expect("token").1;
    for other in [
        format!("Users?$filter=isActive eq false&$deltatoken={token}"),
        format!("Users?$deltatoken={token}"),
        format!("Roles?$filter=isActive eq true&$deltatoken={token}"),
        format!("Users?$filter=isActive eq true&$deltatoken={token}x"),
        "Users?$deltatoken=garbage".to_owned(),
    ] {
        get_with(&app, &other, &[])
            .await
            .error(StatusCode::BAD_REQUEST, "BadRequest");
    }
    // Options added to a delta link are refused like on the first read.
    get_with(&app, &format!("{link}&$top=1"), &[])
        .await
        .error(StatusCode::NOT_IMPLEMENTED, "NotImplemented");
}

#[tokio::test]
async fn metadata_declares_change_tracking() {
    let app = spawn_app().await;
    let answer = get_with(&app, "$metadata", &[]).await;
    assert_eq!(answer.status, StatusCode::OK);
    let xml = feed_support::parse_xml(&answer.body);
    let container = xml.find("EntityContainer").expect("EntityContainer");
    for (name, navigations) in [
        ("Users", &["roles", "groups"][..]),
        ("Roles", &["users"][..]),
        ("Groups", &["users"][..]),
    ] {
        let set = container.child_with("EntitySet", "Name", name);
        let tracking = set
            .annotation("Capabilities.ChangeTracking")
            .unwrap_or_else(|| panic!("ChangeTracking on {set:?}"));
        let supported = tracking.record_value("Supported").expect("Supported");
        assert_eq!(supported.attr("Bool"), Some("true"));
        // A tracked `$filter` may read the linked records.
        let paths: Vec<&str> = tracking
            .record_value("FilterableProperties")
            .and_then(|v| v.find("Collection").or(Some(v)))
            .map(|c| c.all("PropertyPath").map(|p| p.text.as_str()).collect())
            .unwrap_or_default();
        for wanted in navigations.iter().chain(&["id"]) {
            assert!(paths.contains(wanted), "{name}: {paths:?}");
        }
    }
}

#[tokio::test]
async fn imported_users_come_as_created() {
    let app = spawn_app().await;
    create_user(&app, "before", true).await;
    let url = "Users?$select=id,userKey,name,status";
    let (mut snapshot, link) = track(&app, url, 50).await;
    assert_eq!(snapshot.len(), 1);
    // Filters over the links: the imported memberships change them too.
    let linked = [
        "Roles?$filter=users/$count gt 0",
        "Groups?$filter=users/any(u:u/isActive)",
        "Users?$filter=roles/any()&$select=id",
    ];
    let mut tracked = Vec::new();
    for url in linked {
        tracked.push((url, track(&app, url, 50).await));
    }

    let data = common::generate_users(40, 4242);
    common::remap_ids(&data, &app.tenant);
    let out = Command::new(env!("CARGO_BIN_EXE_odata-users"))
        .args([
            "import",
            "--tenant",
            &app.tenant,
            "--org",
            "main",
            data.to_str().expect("utf-8 path"),
        ])
        .env("DATABASE_URL", &app.db_url)
        .env("APP_DEMO", "false")
        .env("RUST_LOG", "warn")
        .current_dir(temp_dir())
        .output()
        .expect("run odata-users");
    assert!(
        out.status.success(),
        "import failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Small pages: the bulk entry pages through every user of the set.
    let (_, seen) = apply_delta(&app, &mut snapshot, &link, 7, &[]).await;
    assert!(seen.len() >= 40, "{}", seen.len());
    assert_eq!(snapshot.len(), 41);
    assert_eq!(snapshot, current(&app, url).await);
    for (url, (mut snapshot, link)) in tracked {
        assert!(snapshot.is_empty(), "{url}");
        apply_delta(&app, &mut snapshot, &link, 7, &[]).await;
        let now = current(&app, url).await;
        assert!(!now.is_empty(), "{url}");
        assert_eq!(snapshot, now, "{url}");
    }
}

/// An `Answer` is only used through the helpers here.
#[allow(dead_code)]
fn _answer(_: Answer) {}
