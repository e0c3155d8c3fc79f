//! Nested `$expand` (issue 11, milestone 4) on generated data: answers of
//! the feed compared with a reference evaluation (the in-memory evaluator,
//! `odata_sql::memory`, applying each level's options to the related
//! records), with the number of statements per request (one per level and
//! navigation, whatever the number of records); the depth limit
//! (`APP_EXPAND_MAX_DEPTH`), `$levels` (400: no recursive navigation) and
//! API 1's `users/odata`, which shares the read path.

use crate::common;

use std::collections::{BTreeSet, HashMap};

use common::TestApp;
use identity_service::odata::schema::identity_schema;
use odata_sql::memory::Evaluator;
use reqwest::StatusCode;
use serde_json::{Map, Value};

const USERS: usize = 60;

/// An expansion of the test queries: the navigation, its options (without
/// `$expand`, written `$name=value`) and its own expansions.
struct Level {
    nav: &'static str,
    options: &'static [&'static str],
    inner: Vec<Level>,
}

fn level(nav: &'static str, options: &'static [&'static str], inner: Vec<Level>) -> Level {
    Level {
        nav,
        options,
        inner,
    }
}

/// `nav(opt;opt;$expand=...)`, percent-encoded where needed.
fn expand_text(levels: &[Level]) -> String {
    levels
        .iter()
        .map(|l| {
            let mut options: Vec<String> = l.options.iter().map(|o| (*o).to_owned()).collect();
            if !l.inner.is_empty() {
                options.push(format!("$expand={}", expand_text(&l.inner)));
            }
            if options.is_empty() {
                l.nav.to_owned()
            } else {
                format!("{}({})", l.nav, options.join(";"))
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The generated data as the feed shows it, with the memberships.
struct World {
    sets: HashMap<&'static str, Vec<Value>>,
    /// (set, id, navigation) -> related ids.
    links: HashMap<(&'static str, String, &'static str), Vec<String>>,
}

/// The set a navigation of `set` leads to.
fn target(set: &str, nav: &str) -> &'static str {
    match (set, nav) {
        ("Users", "roles") => "Roles",
        ("Users", "groups") => "Groups",
        ("Roles" | "Groups", "users") => "Users",
        other => panic!("no navigation {other:?}"),
    }
}

fn alternate_key(set: &str) -> &'static str {
    match set {
        "Users" => "userKey",
        "Roles" => "roleKey",
        "Groups" => "groupKey",
        other => panic!("no set {other}"),
    }
}

/// A record without annotations.
fn plain(record: &Value) -> Value {
    Value::Object(
        record
            .as_object()
            .expect("object")
            .iter()
            .filter(|(k, _)| !k.contains('@'))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

async fn get_json(app: &TestApp, path: &str) -> (StatusCode, Option<u64>, Value) {
    let response = app.get(path).await;
    let status = response.status();
    let statements = response
        .headers()
        .get("x-read-statements")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (
        status,
        statements,
        response.json().await.unwrap_or(Value::Null),
    )
}

/// A query string with each option percent-encoded.
fn encode_query(query: &str) -> String {
    query
        .split('&')
        .map(common::encode)
        .collect::<Vec<_>>()
        .join("&")
}

fn feed(app: &TestApp, rest: &str) -> String {
    format!("/api/{}/main/odata/{rest}", app.tenant)
}

async fn world(app: &TestApp) -> World {
    let mut sets = HashMap::new();
    for set in ["Users", "Roles", "Groups"] {
        let (status, _, body) = get_json(app, &feed(app, set)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("@odata.nextLink").is_none(), "one page");
        let rows: Vec<Value> = body["value"]
            .as_array()
            .expect("value")
            .iter()
            .map(plain)
            .collect();
        sets.insert(set, rows);
    }
    // Memberships from single-level expansions (their own tests check them).
    let mut links = HashMap::new();
    for (set, navs) in [
        ("Users", &["roles", "groups"][..]),
        ("Roles", &["users"][..]),
        ("Groups", &["users"][..]),
    ] {
        let expand: Vec<String> = navs.iter().map(|n| format!("{n}($select=id)")).collect();
        let path = feed(
            app,
            &format!("{set}?$select=id&$expand={}", expand.join(",")),
        );
        let (status, _, body) = get_json(app, &path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for r in body["value"].as_array().expect("value") {
            let id = r["id"].as_str().expect("id").to_owned();
            for nav in navs {
                let related = r[*nav]
                    .as_array()
                    .expect("expanded")
                    .iter()
                    .map(|x| x["id"].as_str().expect("id").to_owned())
                    .collect();
                links.insert((set, id.clone(), *nav), related);
            }
        }
    }
    World { sets, links }
}

/// The reference answer of `levels` expanded on `rows` of `set`, and the
/// expansions (by path) that have at least one parent record: each runs
/// one statement.
fn expand_reference(
    world: &World,
    set: &'static str,
    rows: &mut [Value],
    levels: &[Level],
    path: &str,
    ran: &mut BTreeSet<String>,
) {
    let schema = identity_schema();
    for l in levels {
        let to = target(set, l.nav);
        let here = format!("{path}/{}", l.nav);
        let by_id: HashMap<&str, &Value> = world.sets[to]
            .iter()
            .map(|r| (r["id"].as_str().expect("id"), r))
            .collect();
        let mut select: Option<Vec<&str>> = None;
        let mut query: Vec<String> = Vec::new();
        let mut ordered = false;
        for o in l.options {
            if let Some(s) = o.strip_prefix("$select=") {
                select = Some(s.split(',').collect());
            } else {
                ordered |= o.starts_with("$orderby=");
                query.push((*o).to_owned());
            }
        }
        // The service's order: the given one, then the alternate key
        // case-insensitively, then exactly (the evaluator ends with the key).
        let alt = alternate_key(to);
        let tie = format!("tolower({alt}),{alt}");
        match query.iter_mut().find(|q| q.starts_with("$orderby=")) {
            Some(q) if ordered => {
                q.push(',');
                q.push_str(&tie);
            }
            _ => query.push(format!("$orderby={tie}")),
        }
        let evaluator = Evaluator::for_entity_set(schema, to).expect("set");
        for row in rows.iter_mut() {
            ran.insert(here.clone());
            let id = row["id"].as_str().expect("id").to_owned();
            let related: Vec<Value> = world.links[&(set, id, l.nav)]
                .iter()
                .map(|i| by_id[i.as_str()].clone())
                .collect();
            let outcome = evaluator
                .apply_query(&related, &query.join("&"))
                .expect("reference evaluation");
            let mut kept = outcome.rows;
            expand_reference(world, to, &mut kept, &l.inner, &here, ran);
            let kept: Vec<Value> = kept
                .into_iter()
                .map(|r| project(r, select.as_deref(), &l.inner))
                .collect();
            let object = row.as_object_mut().expect("object");
            if let Some(n) = outcome.count {
                object.insert(format!("{}@odata.count", l.nav), Value::from(n));
            }
            object.insert(l.nav.to_owned(), Value::Array(kept));
        }
    }
}

/// `record` with only the selected properties (the key stays) and the
/// expanded navigations.
fn project(record: Value, select: Option<&[&str]>, inner: &[Level]) -> Value {
    let Some(select) = select else {
        return record;
    };
    let Value::Object(map) = record else {
        return record;
    };
    let keep = |k: &str| {
        k == "id"
            || select.contains(&k)
            || inner
                .iter()
                .any(|l| k == l.nav || k.strip_suffix("@odata.count") == Some(l.nav))
    };
    Value::Object(
        map.into_iter()
            .filter(|(k, _)| keep(k))
            .collect::<Map<String, Value>>(),
    )
}

/// Annotations other than counts removed, at every level.
fn normalised(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.contains('@') || k.ends_with("@odata.count"))
                .map(|(k, v)| (k.clone(), normalised(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalised).collect()),
        other => other.clone(),
    }
}

/// The records of `set` with `top_query` (a top-level `$filter`/`$top`...),
/// their expansions per the reference, and the statements expected.
fn reference(
    world: &World,
    set: &'static str,
    top_query: &str,
    levels: &[Level],
) -> (Vec<Value>, u64) {
    let schema = identity_schema();
    let mut rows = Evaluator::for_entity_set(schema, set)
        .expect("set")
        .apply_query(&world.sets[set], top_query)
        .expect("reference evaluation")
        .rows;
    let mut ran = BTreeSet::new();
    if !rows.is_empty() {
        expand_reference(world, set, &mut rows, levels, "", &mut ran);
    }
    (rows, 1 + ran.len() as u64)
}

async fn loaded_app(
    adjust: impl FnOnce(&mut identity_service::configuration::Settings),
) -> TestApp {
    // Nested expansions through a role's users are over the default cost
    // budget (see `a_hostile_nesting_is_over_the_cost_budget`).
    let app = common::spawn_app_with(|s| {
        s.debug_read_stats = true;
        s.query_cost_budget = 0;
        adjust(s);
    })
    .await;
    let dir = common::generate_users(USERS, 1111);
    common::remap_ids(&dir, &app.tenant);
    identity_service::import::run(&app.pool, &app.tenant, "main", &dir)
        .await
        .expect("import");
    app
}

fn cases() -> Vec<(&'static str, &'static str, Vec<Level>)> {
    vec![
        // Every user's roles with each role's users.
        (
            "Users",
            "$top=25",
            vec![level("roles", &[], vec![level("users", &[], vec![])])],
        ),
        // Options at every level, three levels deep.
        (
            "Users",
            "$filter=status eq 1&$orderby=userKey desc&$top=20",
            vec![
                level(
                    "roles",
                    &["$select=roleKey", "$count=true"],
                    vec![level(
                        "users",
                        &[
                            "$filter=isTechnician eq true or startswith(name,'A')",
                            "$orderby=name desc",
                            "$skip=1",
                            "$top=3",
                            "$select=userKey,name",
                            "$count=true",
                        ],
                        vec![level("groups", &["$select=groupKey,name"], vec![])],
                    )],
                ),
                level("groups", &["$orderby=name", "$top=1"], vec![]),
            ],
        ),
        // From roles down to users and their groups.
        (
            "Roles",
            "",
            vec![level(
                "users",
                &["$top=4", "$select=userKey"],
                vec![level("groups", &["$count=true", "$top=0"], vec![])],
            )],
        ),
        // A nested level with no related record: no statement for it.
        (
            "Groups",
            "$top=5",
            vec![level(
                "users",
                &["$filter=userKey eq 'no such user'"],
                vec![level("roles", &[], vec![])],
            )],
        ),
    ]
}

#[tokio::test]
async fn nested_expand_answers_like_a_reference_with_one_statement_per_level() {
    let app = loaded_app(|_| {}).await;
    let world = world(&app).await;
    assert!(world.sets["Roles"].len() > 1 && world.sets["Groups"].len() > 1);
    // The first case reaches users through roles: the data has memberships.
    let (first, _) = reference(&world, "Users", "$top=25", &cases()[0].2);
    let nested_users: usize = first
        .iter()
        .flat_map(|u| u["roles"].as_array().cloned().unwrap_or_default())
        .map(|r| r["users"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(nested_users > 25, "{nested_users} users under roles");
    for (set, top_query, levels) in cases() {
        let (expected, statements) = reference(&world, set, top_query, &levels);
        assert!(!expected.is_empty(), "{set}?{top_query} selects records");
        let sep = if top_query.is_empty() { "" } else { "&" };
        let query = format!("{top_query}{sep}$expand={}", expand_text(&levels));
        let path = feed(&app, &format!("{set}?{}", encode_query(&query)));
        let (status, got_statements, body) = get_json(&app, &path).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        let got = normalised(&body["value"]);
        assert_eq!(got, Value::Array(expected), "{set}?{query}");
        assert_eq!(
            got_statements,
            Some(statements),
            "statements of {set}?{query}"
        );
    }
}

#[tokio::test]
async fn api1_shares_nested_expand() {
    let app = loaded_app(|_| {}).await;
    let query = "$top=10&$expand=roles($select=roleKey;$expand=users($select=userKey;$top=2))";
    let (status, _, feed_body) =
        get_json(&app, &feed(&app, &format!("Users?{}", encode_query(query)))).await;
    assert_eq!(status, StatusCode::OK, "{feed_body}");
    let (status, _, api1_body) =
        get_json(&app, &format!("users/odata?{}", encode_query(query))).await;
    assert_eq!(status, StatusCode::OK, "{api1_body}");
    let roles = |body: &Value, list: &str| -> Vec<Value> {
        body[list]
            .as_array()
            .expect("value")
            .iter()
            .map(|u| normalised(&u["roles"]))
            .collect()
    };
    let from_feed = roles(&feed_body, "value");
    assert_eq!(from_feed, roles(&api1_body, "items"));
    // A single record expands the same way.
    let first = &feed_body["value"][0];
    let one = "$expand=roles($select=roleKey;$expand=users($select=userKey;$top=2))";
    let id = first["id"].as_str().expect("id");
    let (status, _, single) = get_json(
        &app,
        &feed(&app, &format!("Users({id})?{}", encode_query(one))),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{single}");
    assert_eq!(normalised(&single["roles"]), normalised(&first["roles"]));
    // Full metadata: navigation links at every level, the same records.
    let response = app
        .client
        .get(app.url(&feed(&app, &format!("Users?{}", encode_query(query)))))
        .header("Accept", "application/json;odata.metadata=full")
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    let full: Value = response.json().await.expect("JSON");
    assert_eq!(roles(&full, "value"), from_feed);
    let role = &full["value"]
        .as_array()
        .expect("value")
        .iter()
        .find_map(|u| u["roles"].as_array().and_then(|r| r.first()).cloned())
        .expect("a user with a role");
    assert!(
        role["users@odata.navigationLink"]
            .as_str()
            .is_some_and(|l| l.ends_with("/users")),
        "{role}"
    );
    assert!(
        from_feed.iter().any(|r| r.as_array().is_some_and(|a| a
            .iter()
            .any(|x| x["users"].as_array().is_some_and(|u| !u.is_empty())))),
        "some role has users: {feed_body}"
    );
}

#[tokio::test]
async fn depth_limit_and_levels_are_400() {
    let app = loaded_app(|s| s.expand_max_depth = 2).await;
    let two = "$expand=roles($expand=users)";
    let (status, _, body) =
        get_json(&app, &feed(&app, &format!("Users?{}", encode_query(two)))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let three = "$expand=roles($expand=users($expand=groups))";
    for path in [
        feed(&app, &format!("Users?{}", encode_query(three))),
        format!("users/odata?{}", encode_query(three)),
    ] {
        let (status, _, body) = get_json(&app, &path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("nested 3 levels deep") && message.contains("at most 2"),
            "{body}"
        );
        assert_eq!(body["error"]["target"], "$expand", "{body}");
    }
    let levels = "$expand=roles($levels=2)";
    let (status, _, body) = get_json(
        &app,
        &feed(&app, &format!("Users?{}", encode_query(levels))),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("$levels needs a recursive navigation"),
        "{body}"
    );
    assert_eq!(body["error"]["target"], "$levels", "{body}");

    // Beyond what is ever parsed: 400 too.
    let deep = format!(
        "$expand={}",
        "roles($expand=users($expand=".repeat(5) + "roles" + &"))".repeat(10)
    );
    let (status, _, body) =
        get_json(&app, &feed(&app, &format!("Users?{}", encode_query(&deep)))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn a_hostile_nesting_is_over_the_cost_budget() {
    let app = common::spawn_app().await;
    // 2 + 8 x 4: within the default budget.
    let fits = "$expand=roles($expand=users)";
    let (status, _, body) =
        get_json(&app, &feed(&app, &format!("Users?{}", encode_query(fits)))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Every user of every role of every user, then their groups.
    let hostile = "$expand=roles($expand=users($expand=groups))";
    let (status, _, body) = get_json(
        &app,
        &feed(&app, &format!("Users?{}", encode_query(hostile))),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("the $expand of `groups`"), "{body}");
}

#[tokio::test]
async fn a_depth_of_one_refuses_any_nesting_with_400() {
    let app = common::spawn_app_with(|s| s.expand_max_depth = 1).await;
    let two = "$expand=roles($expand=users)";
    let (status, _, body) =
        get_json(&app, &feed(&app, &format!("Users?{}", encode_query(two)))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("at most 1 level is allowed"), "{body}");
    let one = "$expand=roles($count=true)";
    let (status, _, body) =
        get_json(&app, &feed(&app, &format!("Users?{}", encode_query(one)))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn the_default_depth_is_three() {
    let app = common::spawn_app_with(|s| s.query_cost_budget = 0).await;
    let three = "$expand=roles($expand=users($expand=groups))";
    let (status, _, body) =
        get_json(&app, &feed(&app, &format!("Users?{}", encode_query(three)))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let four = "$expand=roles($expand=users($expand=roles($expand=users)))";
    let (status, _, body) =
        get_json(&app, &feed(&app, &format!("Users?{}", encode_query(four)))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}
