//! `$apply` against a reference computation, and `picture` filters by
//! presence only.

use super::*;

/// `$apply` through the feed, checked against the same numbers computed
/// here from the plain entity set.
#[tokio::test]
async fn apply_groups_and_aggregates_like_a_reference_computation() {
    let app = spawn_app().await;
    let mut users = Vec::new();
    for i in 0..11 {
        users.push(json!({
            "userKey": format!("u{i:02}"),
            "name": format!("User {}", i % 4),
            "isTechnician": i % 3 == 0,
            "status": if i % 5 == 0 { 2 } else { 1 },
        }));
    }
    for u in &users {
        app.create_user(u.clone()).await;
    }
    let all = get(
        &app,
        "Users?$select=userKey,name,isTechnician,status,version",
    )
    .await;
    all.expect(StatusCode::OK, MINIMAL);
    let rows = all.json()["value"].as_array().expect("value").clone();
    assert_eq!(rows.len(), 11);

    // Reference: groups by (isTechnician) with count, sum/min/max/average
    // of status and the number of distinct names.
    let mut expected: Vec<Value> = Vec::new();
    for tech in [false, true] {
        let group: Vec<&Value> = rows.iter().filter(|r| r["isTechnician"] == tech).collect();
        let statuses: Vec<i64> = group.iter().filter_map(|r| r["status"].as_i64()).collect();
        let names: std::collections::BTreeSet<&str> =
            group.iter().filter_map(|r| r["name"].as_str()).collect();
        let sum: i64 = statuses.iter().sum();
        expected.push(json!({
            "isTechnician": tech,
            "n": group.len(),
            "s": sum,
            "lo": statuses.iter().min(),
            "hi": statuses.iter().max(),
            "avg": sum as f64 / statuses.len() as f64,
            "names": names.len(),
        }));
    }
    let answer = get(
        &app,
        "Users?$apply=groupby((isTechnician),aggregate($count as n,status with sum as s,\
         status with min as lo,status with max as hi,status with average as avg,\
         name with countdistinct as names))/orderby(isTechnician)",
    )
    .await;
    answer.expect(StatusCode::OK, MINIMAL);
    let body = answer.json();
    assert_eq!(
        body["@odata.context"],
        context(&app, "Users(isTechnician,n,s,lo,hi,avg,names)")
    );
    let got = body["value"].as_array().expect("value");
    assert_eq!(got.len(), 2);
    for (g, e) in got.iter().zip(&expected) {
        for k in ["isTechnician", "n", "s", "lo", "hi", "names"] {
            assert_eq!(
                g[k].as_f64().or(g[k].as_bool().map(f64::from)),
                e[k].as_f64().or(e[k].as_bool().map(f64::from)),
                "{k}: {g} vs {e}"
            );
        }
        let avg = g["avg"].as_f64().expect("avg");
        assert!(
            (avg - e["avg"].as_f64().unwrap_or_default()).abs() < 1e-9,
            "{g} vs {e}"
        );
    }

    // filter before, orderby/top/skip after the grouping.
    let answer = get(
        &app,
        "Users?$apply=filter(status eq 1)/groupby((name),aggregate($count as n))\
         /orderby(n desc,name)/skip(1)/top(2)",
    )
    .await;
    answer.expect(StatusCode::OK, MINIMAL);
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for r in rows.iter().filter(|r| r["status"] == 1) {
        *counts
            .entry(r["name"].as_str().unwrap_or_default())
            .or_default() += 1;
    }
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let expected: Vec<Value> = ranked[1..3]
        .iter()
        .map(|(name, n)| json!({"name": name, "n": n}))
        .collect();
    assert_eq!(body_value(&answer), expected);

    // The whole set as one aggregate, and $count as an alias.
    let answer = get(&app, "Users?$apply=aggregate($count as total)").await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(body_value(&answer), vec![json!({"total": 11})]);
}

fn body_value(answer: &feed_support::Answer) -> Vec<Value> {
    answer.json()["value"].as_array().expect("value").clone()
}

/// `picture eq null` / `ne null` ("has a picture": a stored image or an
/// external URL) on the feed and on API 1's `users/odata`, checked against
/// the `picture` values the records carry; every other use of `picture` in
/// `$filter` and `$orderby` stays 501.
#[tokio::test]
async fn picture_filters_by_presence_only() {
    let app = spawn_app().await;
    let seed = seed(&app).await;
    let png = common::base64(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\x07\x07\x07\x07");
    let stored = app.put_json("users/ann/picture", &json!(png)).await;
    assert_eq!(stored.status(), StatusCode::OK);
    let external = app
        .put_json(
            "users/bob/picture",
            &json!("https://cdn.example.com/bob.png"),
        )
        .await;
    assert_eq!(external.status(), StatusCode::OK);
    let dan = app
        .create_user(
            json!({"userKey": "dan", "name": "Dan", "isTechnician": false,
            "picture": "https://cdn.example.com/dan.png", "roles": ["viewer"]}),
        )
        .await;
    // The one who had a picture and lost it has none again.
    assert_eq!(
        app.put_json("users/dan/picture", &json!(null))
            .await
            .status(),
        StatusCode::OK
    );

    // Reference: the records' own `picture` values.
    let all = get(&app, "Users?$select=id,picture").await.json();
    let mut with = Vec::new();
    let mut without = Vec::new();
    for r in all["value"].as_array().expect("value") {
        let id = r["id"].as_str().expect("id").to_owned();
        if r["picture"].is_null() {
            without.push(id);
        } else {
            with.push(id);
        }
    }
    with.sort();
    without.sort();
    let mut expected_with = vec![seed.ann.clone(), seed.bob.clone()];
    expected_with.sort();
    let mut expected_without = vec![seed.cid.clone(), dan.clone()];
    expected_without.sort();
    assert_eq!(with, expected_with);
    assert_eq!(without, expected_without);

    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    for (filter, expected) in [
        ("picture ne null", &with),
        ("null ne picture", &with),
        ("picture eq null", &without),
        ("not (picture eq null)", &with),
        ("not (picture ne null)", &without),
        ("picture eq @p&@p=null", &without),
        (
            "picture eq null or picture ne null",
            &all_ids(&with, &without),
        ),
        ("picture ne null and isTechnician", &vec![seed.ann.clone()]),
    ] {
        let body = get(&app, &format!("Users?$filter={filter}"))
            .await
            .expect(StatusCode::OK, MINIMAL)
            .json();
        assert_eq!(&sorted(ids(&body)), expected, "feed: {filter}");
        let count = get(&app, &format!("Users/$count?$filter={filter}")).await;
        assert_eq!(
            count.body,
            expected.len().to_string(),
            "feed $count: {filter}"
        );
        let page = app
            .get(&format!(
                "users/odata?$filter={}",
                filter.replace(' ', "%20")
            ))
            .await;
        assert_eq!(page.status(), StatusCode::OK, "API 1: {filter}");
        let page: Value = page.json().await.expect("API 1 page");
        let api1: Vec<String> = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|r| r["id"].as_str().expect("id").to_owned())
            .collect();
        assert_eq!(&sorted(api1), expected, "API 1: {filter}");
    }
    // Inside a lambda, over the navigation's scope.
    let body = get(
        &app,
        "Roles?$filter=users/any(u: u/picture ne null)&$select=id",
    )
    .await
    .json();
    assert_eq!(
        sorted(ids(&body)),
        sorted(vec![seed.admin.clone(), seed.viewer.clone()])
    );
    let body = get(
        &app,
        "Roles?$filter=users/all(u: u/picture eq null)&$select=id",
    )
    .await
    .json();
    assert!(ids(&body).is_empty(), "{body}");

    // Its value depends on the public URL: nothing else is supported.
    for query in [
        "Users?$filter=picture eq 'https://cdn.example.com/bob.png'",
        "Users?$filter=contains(picture,'bob')",
        "Users?$filter=picture gt null",
        "Users?$filter=picture in (null)",
        "Users?$orderby=picture",
    ] {
        let error = get(&app, query)
            .await
            .error(StatusCode::NOT_IMPLEMENTED, "NotImplemented");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.contains("picture"), "{query}: {message}");
        assert!(message.contains("public URL"), "{query}: {message}");
    }
    let error = get(&app, "Users?$filter=startswith(picture,'x')")
        .await
        .error(StatusCode::NOT_IMPLEMENTED, "NotImplemented");
    assert_eq!(error["target"], "$filter");
    let error = get(&app, "Users?$orderby=picture")
        .await
        .error(StatusCode::NOT_IMPLEMENTED, "NotImplemented");
    assert_eq!(error["target"], "$orderby");
    let response = app.get("users/odata?$orderby=picture").await;
    assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED);
}

fn all_ids(a: &[String], b: &[String]) -> Vec<String> {
    let mut v: Vec<String> = a.iter().chain(b).cloned().collect();
    v.sort();
    v
}
