//! Server-driven paging of the OData v4 feed: every row exactly once through
//! nextLinks (also while rows are inserted), `$top`/`$skip` combined with
//! server paging, `Prefer: odata.maxpagesize` and `Preference-Applied`,
//! paging of navigation collections, and a replay of Power Query's
//! `OData.Feed` request sequence.

use crate::common;
use crate::feed_support;

use std::collections::{BTreeSet, HashSet};

use common::{TestApp, spawn_app};
use feed_support::{Answer, POWER_QUERY_ACCEPT, get, get_with, parse_xml, root};
use reqwest::StatusCode;
use serde_json::{Value, json};

const MINIMAL: &str = "application/json;odata.metadata=minimal";

/// Creates `n` users `{prefix}{i}` through API 1, a few requests at a time,
/// and returns their ids.
async fn create_users(app: &TestApp, prefix: &str, n: usize) -> Vec<String> {
    let mut tasks = tokio::task::JoinSet::new();
    let workers = 4;
    for w in 0..workers {
        let client = app.client.clone();
        let url = format!("{}/users", app.base);
        let prefix = prefix.to_owned();
        tasks.spawn(async move {
            let mut ids = Vec::new();
            for i in (w..n).step_by(workers) {
                let response = client
                    .post(&url)
                    .json(&json!({"userKey": format!("{prefix}{i:04}"),
                        "name": format!("User {i:04}"), "isTechnician": i % 2 == 0}))
                    .send()
                    .await
                    .expect("POST users");
                assert_eq!(response.status(), StatusCode::CREATED);
                let id: String = response.json().await.expect("id");
                ids.push(id);
            }
            ids
        });
    }
    let mut ids = Vec::new();
    while let Some(done) = tasks.join_next().await {
        ids.extend(done.expect("task"));
    }
    assert_eq!(ids.len(), n);
    ids
}

/// Follows nextLinks from `first` and returns every page's answer.
async fn pages(app: &TestApp, first: &str, headers: &[(&str, &str)]) -> Vec<Answer> {
    let mut out = Vec::new();
    let mut url = first.to_owned();
    loop {
        let answer = get_with(app, &url, headers).await;
        answer.expect(StatusCode::OK, MINIMAL);
        let next = answer.json()["@odata.nextLink"].as_str().map(str::to_owned);
        out.push(answer);
        match next {
            Some(next) => {
                assert!(
                    next.starts_with(&root(app)),
                    "nextLink {next} is absolute under the service root"
                );
                assert!(out.len() < 1000, "too many pages");
                url = next;
            }
            None => return out,
        }
    }
}

fn ids_of(answer: &Answer) -> Vec<String> {
    answer.json()["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

fn all_ids(answers: &[Answer]) -> Vec<String> {
    answers.iter().flat_map(ids_of).collect()
}

fn sizes(answers: &[Answer]) -> Vec<usize> {
    answers.iter().map(|a| ids_of(a).len()).collect()
}

#[tokio::test]
async fn next_links_return_every_row_once_with_top_skip_and_prefer() {
    let app = spawn_app().await;
    let mut created = create_users(&app, "u", 23).await;
    created.sort();
    let prefer = [("Prefer", "odata.maxpagesize=5")];

    // Default order is the key; every row exactly once, in order.
    let answers = pages(&app, "Users?$select=userKey", &prefer).await;
    assert_eq!(sizes(&answers), [5, 5, 5, 5, 3]);
    for a in &answers {
        assert_eq!(
            a.header("preference-applied").as_deref(),
            Some("odata.maxpagesize=5")
        );
        assert_eq!(
            a.json()["@odata.context"],
            format!("{}/$metadata#Users(userKey)", root(&app))
        );
    }
    assert_eq!(all_ids(&answers), created);

    // A sort order and a filter survive across pages.
    let full = get(
        &app,
        "Users?$orderby=name desc&$filter=isTechnician eq true&$count=true",
    )
    .await;
    full.expect(StatusCode::OK, MINIMAL);
    let expected = ids_of(&full);
    assert_eq!(expected.len(), 12);
    let answers = pages(
        &app,
        "Users?$orderby=name desc&$filter=isTechnician eq true&$count=true",
        &prefer,
    )
    .await;
    assert_eq!(sizes(&answers), [5, 5, 2]);
    assert_eq!(all_ids(&answers), expected);
    for a in &answers {
        assert_eq!(a.json()["@odata.count"], 12);
    }

    // $top and $skip combine with server paging.
    let ordered = ids_of(&get(&app, "Users?$orderby=userKey").await);
    let answers = pages(&app, "Users?$orderby=userKey&$top=12", &prefer).await;
    assert_eq!(sizes(&answers), [5, 5, 2]);
    assert_eq!(all_ids(&answers), ordered[..12]);
    let answers = pages(&app, "Users?$orderby=userKey&$top=7&$skip=3", &prefer).await;
    assert_eq!(sizes(&answers), [5, 2]);
    assert_eq!(all_ids(&answers), ordered[3..10]);
    let answers = pages(&app, "Users?$orderby=userKey&$skip=20", &prefer).await;
    assert_eq!(all_ids(&answers), ordered[20..]);
    let answers = pages(&app, "Users?$top=5", &prefer).await;
    assert_eq!(sizes(&answers), [5], "no nextLink when $top is reached");

    // Without Prefer: the default page (1000) holds everything, no
    // Preference-Applied; an over-large preference is clamped to 5000.
    let answer = get(&app, "Users").await;
    assert_eq!(answer.header("preference-applied"), None);
    assert_eq!(ids_of(&answer).len(), 23);
    assert!(answer.json().get("@odata.nextLink").is_none());
    let answer = get_with(&app, "Users", &[("Prefer", "odata.maxpagesize=999999")]).await;
    assert_eq!(
        answer.header("preference-applied").as_deref(),
        Some("odata.maxpagesize=5000")
    );

    // A nextLink is bound to its query: changing the filter breaks it.
    let first = get_with(&app, "Users?$filter=isTechnician eq true", &prefer).await;
    let next = first.json()["@odata.nextLink"]
        .as_str()
        .expect("nextLink")
        .to_owned();
    let tampered = next.replace("isTechnician%20eq%20true", "isTechnician%20eq%20false");
    assert_ne!(tampered, next);
    let error = get(&app, &tampered)
        .await
        .error(StatusCode::BAD_REQUEST, "BadRequest");
    assert_eq!(error["target"], "$skiptoken");
}

#[tokio::test]
async fn navigation_collections_page_through_next_links() {
    let app = spawn_app().await;
    let mut role_ids = Vec::new();
    let mut keys = Vec::new();
    for i in 0..7 {
        let key = format!("role{i}");
        role_ids.push(app.create_role(json!({"roleKey": key})).await);
        keys.push(key);
    }
    app.create_role(json!({"roleKey": "unrelated"})).await;
    let user = app
        .create_user(json!({"userKey": "ann", "name": "Ann", "isTechnician": false, "roles": keys}))
        .await;
    role_ids.sort();

    let prefer = [("Prefer", "odata.maxpagesize=3")];
    let answers = pages(
        &app,
        &format!("Users({user})/roles?$select=roleKey"),
        &prefer,
    )
    .await;
    assert_eq!(sizes(&answers), [3, 3, 1]);
    assert_eq!(all_ids(&answers), role_ids);
    for a in &answers[..2] {
        let next = a.json()["@odata.nextLink"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            next.starts_with(&format!(
                "{}/Users({user})/roles?$select=roleKey&$skiptoken=",
                root(&app)
            )),
            "{next}"
        );
    }
    for a in &answers {
        assert_eq!(
            a.json()["@odata.context"],
            format!("{}/$metadata#Roles(roleKey)", root(&app))
        );
    }
    // With the client's own $filter and $top.
    let answers = pages(
        &app,
        &format!("Users({user})/roles?$filter=roleKey ne 'role0'&$orderby=roleKey desc&$top=5"),
        &prefer,
    )
    .await;
    assert_eq!(sizes(&answers), [3, 2]);
    let got: Vec<String> = answers
        .iter()
        .flat_map(|a| {
            a.json()["value"]
                .as_array()
                .expect("value")
                .iter()
                .map(|r| r["roleKey"].as_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(got, ["role6", "role5", "role4", "role3", "role2"]);
}

#[tokio::test]
async fn paging_while_rows_are_inserted_misses_and_repeats_nothing() {
    let app = spawn_app().await;
    let existing: BTreeSet<String> = create_users(&app, "old", 30).await.into_iter().collect();
    for order in ["", "&$orderby=userKey desc", "&$orderby=name"] {
        let mut url = format!("Users?$select=userKey{order}");
        let mut seen: Vec<String> = Vec::new();
        let mut round = 0;
        loop {
            let answer = get_with(&app, &url, &[("Prefer", "odata.maxpagesize=4")]).await;
            answer.expect(StatusCode::OK, MINIMAL);
            seen.extend(ids_of(&answer));
            // Insert between page fetches: random ids land before and
            // after the current position.
            create_users(&app, &format!("new{round}x{}", order.len()), 2).await;
            round += 1;
            match answer.json()["@odata.nextLink"].as_str() {
                Some(next) => url = next.to_owned(),
                None => break,
            }
            assert!(round < 200, "paging does not end");
        }
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "a row was repeated ({order})");
        for id in &existing {
            assert!(
                unique.contains(id),
                "pre-existing row {id} missing ({order})"
            );
        }
    }
}

#[tokio::test]
async fn power_query_odata_feed_replay() {
    let app = spawn_app().await;
    let created: BTreeSet<String> = create_users(&app, "pq", 1001).await.into_iter().collect();
    let headers = [
        ("Accept", POWER_QUERY_ACCEPT),
        ("OData-MaxVersion", "4.0"),
        ("MaxDataServiceVersion", "3.0"),
    ];

    // 1. The service document (Power Query asks for the root first).
    let answer = get_with(&app, &root(&app), &headers).await;
    answer.expect(StatusCode::OK, MINIMAL);
    let service: Value = answer.json();
    assert_eq!(
        service["@odata.context"],
        format!("{}/$metadata", root(&app))
    );
    let users_url = service["value"]
        .as_array()
        .expect("value")
        .iter()
        .find(|s| s["name"] == "Users")
        .and_then(|s| s["url"].as_str())
        .expect("Users in the service document")
        .to_owned();
    assert_eq!(users_url, "Users");

    // 2. $metadata: XML although JSON is preferred.
    let answer = get_with(&app, "$metadata", &headers).await;
    answer.expect(StatusCode::OK, "application/xml");
    let edmx = parse_xml(&answer.body);
    let container = edmx.find("EntityContainer").expect("container");
    container.child_with("EntitySet", "Name", "Users");

    // 3. The entity set, following nextLinks: pages of the default 1000.
    let answers = pages(&app, &format!("{}/{users_url}", root(&app)), &headers).await;
    assert_eq!(sizes(&answers), [1000, 1]);
    for a in &answers {
        assert_eq!(a.header("preference-applied"), None);
        let body = a.json();
        assert_eq!(
            body["@odata.context"],
            format!("{}/$metadata#Users", root(&app))
        );
        for record in body["value"].as_array().expect("value") {
            assert!(record.get("roles").is_none() && record.get("groups").is_none());
            assert!(record["userKey"].is_string() && record["createdOn"].is_string());
        }
    }
    let seen = all_ids(&answers);
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len());
    assert_eq!(unique, created);
}
