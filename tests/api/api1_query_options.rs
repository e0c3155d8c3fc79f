//! `GET users/odata` (and roles/groups) end to end: paging with signed
//! skiptokens, `$top` above the page size, counts, `$select`/`$expand`
//! shapes, single records, and the 400/501 answers.

use crate::common;

use reqwest::StatusCode;
use serde_json::Value;

/// An application loaded with `odata-users generate 300` (seed 42).
async fn loaded_app() -> common::TestApp {
    let app = common::spawn_app().await;
    let dir = app.dir.join("data");
    identity_service::sample_data::write_dir(
        &dir,
        300,
        identity_service::sample_data::DEFAULT_SEED,
    )
    .expect("generate the test data");
    common::remap_ids(&dir, &app.tenant);
    let settings = common::db_settings(&app.db_url);
    let db = identity_service::storage::db::connect(&settings)
        .await
        .expect("connect");
    identity_service::import::run(&db, &app.tenant, "main", &dir)
        .await
        .expect("import");
    app
}

async fn get(app: &common::TestApp, path: &str) -> (StatusCode, Value) {
    let resp = app.get(path).await;
    let status = resp.status();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn paging_follows_signed_keyset_links_up_to_top() {
    let app = loaded_app().await;

    // $top above the page size: 100 + 100 + 50, links absolute, count in each page.
    let (status, first) = get(
        &app,
        "users/odata?$orderby=name%20desc&$top=250&$count=true",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["items"].as_array().unwrap().len(), 100);
    assert_eq!(first["count"], 300);
    let link = first["nextPageLink"].as_str().expect("a next link");
    let prefix = format!("{}/users/odata?", app.base);
    assert!(link.starts_with(&prefix), "{link}");
    assert!(link.contains("$skiptoken="), "{link}");
    assert!(!link.contains("$top="), "{link}");
    let (_, second) = get(&app, link).await;
    assert_eq!(second["items"].as_array().unwrap().len(), 100);
    assert_eq!(second["count"], 300);
    let (_, third) = get(&app, second["nextPageLink"].as_str().unwrap()).await;
    assert_eq!(third["items"].as_array().unwrap().len(), 50);
    assert_eq!(third["nextPageLink"], Value::Null);

    // The same rows as one unpaged order: no duplicates, no gaps.
    let mut all = ids(&first);
    all.extend(ids(&second));
    all.extend(ids(&third));
    let names: Vec<String> = [&first, &second, &third]
        .iter()
        .flat_map(|p| p["items"].as_array().unwrap().clone())
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(names, sorted, "code-point order, descending");
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 250);

    // Without $top: every row, page by page; count null when not asked.
    let (_, page) = get(&app, "users/odata").await;
    assert_eq!(page["count"], Value::Null);
    let mut seen = ids(&page);
    let mut next = page["nextPageLink"].as_str().map(str::to_owned);
    while let Some(link) = next {
        let (status, page) = get(&app, &link).await;
        assert_eq!(status, StatusCode::OK);
        seen.extend(ids(&page));
        next = page["nextPageLink"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len(), 300);

    // $skip applies to the first page only; $top=0 is an empty page.
    let (_, page) = get(&app, "users/odata?$skip=295&$inlinecount=allpages").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    assert_eq!(page["count"], 300);
    assert_eq!(page["nextPageLink"], Value::Null);
    let (_, page) = get(&app, "users/odata?$top=0").await;
    assert_eq!(page["items"], serde_json::json!([]));
    assert_eq!(page["nextPageLink"], Value::Null);
}

#[tokio::test]
async fn skiptokens_are_tamper_checked_and_bound_to_their_query() {
    let app = loaded_app().await;
    let (_, first) = get(&app, "users/odata?$filter=status%20eq%201").await;
    let link = first["nextPageLink"]
        .as_str()
        .expect("more than a page of status 1");
    let token = link.split("$skiptoken=").nth(1).unwrap();

    // Another query with this token.
    let (status, body) = get(
        &app,
        &format!("users/odata?$filter=status%20eq%202&$skiptoken={token}"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["target"], "$skiptoken");

    // A changed token.
    let mut forged = token.to_owned();
    let c = if forged.starts_with('e') { "f" } else { "e" };
    forged.replace_range(0..1, c);
    let (status, _) = get(
        &app,
        &format!("users/odata?$filter=status%20eq%201&$skiptoken={forged}"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get(&app, "users/odata?$skiptoken=not-a-token").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn select_and_expand_shape_the_records() {
    let app = loaded_app().await;
    let (status, page) = get(
        &app,
        "users/odata?$select=userKey,roles&$filter=roles/$count%20ge%202&$top=3",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    for item in page["items"].as_array().unwrap() {
        let mut keys: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(keys, ["id", "roles", "userKey"]);
        let roles: Vec<&str> = item["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert!(roles.len() >= 2);
        let mut sorted = roles.clone();
        sorted.sort_by_key(|r| r.to_lowercase());
        assert_eq!(roles, sorted, "role keys sorted case-insensitively");
    }

    let (_, page) = get(
        &app,
        "users/odata?$expand=roles($select=roleKey)&$filter=roles/any()&$top=2",
    )
    .await;
    for item in page["items"].as_array().unwrap() {
        let roles = item["roles"].as_array().unwrap();
        assert!(!roles.is_empty());
        for r in roles {
            let mut keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort();
            assert_eq!(keys, ["id", "roleKey"]);
        }
        assert!(item["groups"].is_array(), "groups stay a key array");
        assert!(item["createdOn"].as_str().unwrap().ends_with('Z'));
    }

    // Nested $orderby/$skip/$top per user.
    let (status, page) = get(
        &app,
        "users/odata?$expand=roles($orderby=roleKey%20desc;$skip=1;$top=1)&$filter=roles/$count%20ge%203&$top=5",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (_, keys_page) = get(
        &app,
        "users/odata?$select=roles&$filter=roles/$count%20ge%203&$top=5",
    )
    .await;
    for (item, keys) in page["items"]
        .as_array()
        .unwrap()
        .iter()
        .zip(keys_page["items"].as_array().unwrap())
    {
        let mut all: Vec<&str> = keys["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        all.sort_by(|a, b| b.cmp(a));
        let expanded: Vec<&str> = item["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["roleKey"].as_str().unwrap())
            .collect();
        assert_eq!(expanded, vec![all[1]], "the second role key, descending");
    }

    // One record by id, shaped by $select.
    let id = ids(&page)[0].clone();
    let (status, one) = get(&app, &format!("users/{id}?$select=name")).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    let mut keys: Vec<&str> = one
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["id", "name"]);
}

#[tokio::test]
async fn roles_and_groups_are_listed_through_the_same_engine() {
    let app = loaded_app().await;
    let (status, page) = get(&app, "roles/odata?$orderby=roleKey&$count=true").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["count"], 20);
    let keys: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["roleKey"].as_str().unwrap())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);

    // A role lists its users only when asked.
    let first = &page["items"][0];
    assert!(first.get("users").is_none(), "{first}");
    for k in [
        "id",
        "roleKey",
        "description",
        "isAdministration",
        "isDefault",
        "isInternal",
        "isDeleted",
        "version",
    ] {
        assert!(first.get(k).is_some(), "{k} in {first}");
    }
    let (status, page) = get(
        &app,
        "roles/odata?$select=roleKey,users&$filter=users/any()&$top=1",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(!page["items"][0]["users"].as_array().unwrap().is_empty());

    let (status, page) = get(&app, "groups/odata?$search=a&$select=groupKey&$top=5").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(!page["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn invalid_queries_are_400_and_unsupported_ones_501() {
    let app = common::spawn_app().await;
    for (query, status, target) in [
        (
            "$filter=nmae%20eq%20'x'",
            StatusCode::BAD_REQUEST,
            "$filter",
        ),
        ("$filter=name%20eq%201", StatusCode::BAD_REQUEST, "$filter"),
        ("$filter=name%20eq", StatusCode::BAD_REQUEST, "$filter"),
        ("$orderby=nope", StatusCode::BAD_REQUEST, "$orderby"),
        ("$select=nope", StatusCode::BAD_REQUEST, "$select"),
        ("$top=-1", StatusCode::BAD_REQUEST, "$top"),
        ("$top=99999999999999999999", StatusCode::BAD_REQUEST, "$top"),
        (
            "$apply=groupby((status))/filter(status%20eq%201)",
            StatusCode::NOT_IMPLEMENTED,
            "$apply",
        ),
        (
            "$apply=groupby((status))&$filter=status%20eq%201",
            StatusCode::NOT_IMPLEMENTED,
            "$filter",
        ),
        (
            "$filter=picture%20eq%20%27x%27",
            StatusCode::NOT_IMPLEMENTED,
            "$filter",
        ),
        ("$expand=roles/$ref", StatusCode::NOT_IMPLEMENTED, "$expand"),
    ] {
        let (got, body) = get(&app, &format!("users/odata?{query}")).await;
        assert_eq!(got, status, "{query}: {body}");
        assert_eq!(body["error"]["target"], target, "{query}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}

#[tokio::test]
async fn computed_properties_filter_sort_select_and_page() {
    let app = loaded_app().await;
    let mut lengths: Vec<(u64, String)> = Vec::new();
    let mut next = Some(
        "users/odata?$compute=length(name)%20as%20n&$select=name,n&$filter=n%20gt%205&$orderby=n%20desc"
            .to_owned(),
    );
    while let Some(link) = next {
        let (status, page) = get(&app, &link).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for item in page["items"].as_array().unwrap() {
            let name = item["name"].as_str().unwrap();
            let n = item["n"].as_u64().expect("n is a number");
            assert_eq!(n as usize, name.chars().count(), "{item}");
            assert!(n > 5);
            lengths.push((n, item["id"].as_str().unwrap().to_owned()));
        }
        next = page["nextPageLink"].as_str().map(str::to_owned);
    }
    assert!(lengths.len() > 100, "more than one page");
    let mut sorted = lengths.clone();
    sorted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    assert_eq!(lengths, sorted, "n descending, then the key");
}

#[tokio::test]
async fn apply_groups_and_aggregates() {
    let app = loaded_app().await;
    let (status, page) = get(
        &app,
        "users/odata?$apply=groupby((status),aggregate($count%20as%20n,lastLogin%20with%20max%20as%20last))&$orderby=status&$count=true",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(page["count"].as_u64(), Some(items.len() as u64));
    let statuses: Vec<u64> = items
        .iter()
        .map(|i| i["status"].as_u64().unwrap())
        .collect();
    let mut sorted = statuses.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(statuses, sorted, "one row per status, in order");
    let total: u64 = items.iter().map(|i| i["n"].as_u64().unwrap()).sum();
    assert_eq!(total, 300);
    assert!(
        items
            .iter()
            .any(|i| i["last"].as_str().is_some_and(|t| t.ends_with('Z')))
    );

    // The same totals after a filter step, paged two groups at a time.
    let mut next = Some(
        "users/odata?$apply=filter(isActive)/groupby((culture),aggregate($count%20as%20n))&$top=2"
            .to_owned(),
    );
    let mut rows = 0;
    while let Some(link) = next {
        let (status, page) = get(&app, &link).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        rows += page["items"].as_array().unwrap().len();
        next = page["nextPageLink"].as_str().map(str::to_owned);
    }
    assert_eq!(rows, 2, "$top bounds the groups");

    let (status, page) = get(&app, "users/odata?$apply=aggregate($count%20as%20total)").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"], serde_json::json!([{"total": 300}]));
}

/// The same query shape with literals of different types, on one pooled
/// connection: a cached prepared statement must never read a value as
/// another type (PostgreSQL once bound `0.5` into the `int8` of `gt 2`).
#[tokio::test]
async fn literals_of_different_types_in_the_same_shape_on_one_connection() {
    let app = common::spawn_app_with(|s| {
        s.db_max_connections = 1;
        s.db_min_connections = 1;
    })
    .await;
    for (key, status) in [("a", 1), ("b", 2), ("c", 1)] {
        app.create_user(serde_json::json!({"userKey": key, "name": key, "isTechnician": false, "status": status}))
            .await;
    }
    let count = |q: &'static str| {
        let app = &app;
        async move {
            let (status, body) = get(app, &format!("users/odata?$count=true&{q}")).await;
            assert_eq!(status, StatusCode::OK, "{q}: {body}");
            body["count"].as_u64().expect("count")
        }
    };
    assert_eq!(count("$filter=status divby 1 gt 1").await, 1);
    assert_eq!(count("$filter=status divby 1 gt 0.5").await, 3);
    assert_eq!(count("$filter=status divby 1 gt 1.5").await, 1);
    assert_eq!(count("$filter=status add 1 eq 2").await, 2);
    assert_eq!(count("$filter=status add 1 eq 2.0").await, 2);
}
