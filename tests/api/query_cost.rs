//! The query cost model (`APP_QUERY_COST_BUDGET`, `odata_sql::cost`):
//! an expensive query answers 400 `QueryTooExpensive` naming its most
//! expensive part, on both APIs and every backend, before any SQL runs;
//! the benchmark queries and BI tools' patterns stay under the default.

use crate::common;

use common::{TestApp, assert_error, json_of, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::json;

/// The reproducer: every user of every role of every user.
const NESTED: &str = "roles/any(r: r/users/any(u: contains(u/name,'zz')))";

fn feed(app: &TestApp, path_and_query: &str) -> String {
    format!(
        "{}/api/{}/main/odata/{path_and_query}",
        app.address, app.tenant
    )
}

async fn seed(app: &TestApp) {
    app.create_role(json!({"roleKey": "admin"})).await;
    app.create_user(
        json!({"userKey": "ann", "name": "Ann zz", "isTechnician": false,
        "roles": ["admin"]}),
    )
    .await;
    app.create_user(
        json!({"userKey": "bob", "name": "Bob", "isTechnician": true,
        "roles": ["admin"]}),
    )
    .await;
}

/// The message names the nested lambda, its cost, the total, the budget
/// and where it is.
fn assert_names_the_nested_lambda(body: &serde_json::Value, offset: usize) {
    let message = body["error"]["message"].as_str().unwrap();
    assert_eq!(
        message,
        format!(
            "the query is too expensive: the nested any() over `users` inside roles/any \
             costs 128, the whole query 194, the budget is 100 (in $filter at offset {offset})"
        ),
        "{body}"
    );
    assert_eq!(body["error"]["target"], "$filter", "{body}");
}

#[tokio::test]
async fn the_nested_lambda_answers_400_on_both_apis() {
    let app = spawn_app().await;
    seed(&app).await;
    let query = format!("$filter={}", common::encode(NESTED));
    let offset = "$filter=".len() + common::encode("roles/any(r: ").len();

    let response = app.get(&format!("users/odata?{query}")).await;
    let body = assert_error(response, StatusCode::BAD_REQUEST, "QueryTooExpensive").await;
    assert_names_the_nested_lambda(&body, offset);

    let response = app
        .client
        .get(feed(&app, &format!("Users?{query}")))
        .send()
        .await
        .unwrap();
    let body = assert_error(response, StatusCode::BAD_REQUEST, "QueryTooExpensive").await;
    assert_names_the_nested_lambda(&body, offset);

    // Counting and single records are checked too.
    let response = app
        .client
        .get(feed(&app, &format!("Users/$count?{query}")))
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::BAD_REQUEST, "QueryTooExpensive").await;

    // The same nesting from roles: users, then their roles (bounded) is fine.
    let cheap = common::encode("users/any(u: u/roles/any(r: r/roleKey eq 'admin'))");
    let body = json_of(
        app.get(&format!("roles/odata?$filter={cheap}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1, "{body}");
}

#[tokio::test]
async fn the_budget_is_configurable_and_0_turns_it_off() {
    let app = spawn_app_with(|s| s.query_cost_budget = 0).await;
    seed(&app).await;
    let query = format!("$filter={}&$orderby=userKey", common::encode(NESTED));
    let body = app.get_users(&query).await;
    let keys: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userKey"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["ann", "bob"], "{body}");

    // A small budget refuses what the default allows, naming the part.
    let app = spawn_app_with(|s| s.query_cost_budget = 3).await;
    seed(&app).await;
    app.get_users("$expand=roles").await;
    let response = app
        .get("users/odata?$expand=roles&$filter=contains(name,'a')&$count=true")
        .await;
    let body = assert_error(response, StatusCode::BAD_REQUEST, "QueryTooExpensive").await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("the $expand of `roles` costs 2, the whole query 4, the budget is 3"),
        "{message}"
    );
    assert_eq!(body["error"]["target"], "$expand", "{body}");
}

#[test]
fn the_setting_is_read_from_the_environment() {
    use identity_service::configuration::Settings;
    let defaults = Settings::from_sources(None, |_| None).unwrap();
    assert_eq!(defaults.query_cost_budget, 100);
    let set = Settings::from_sources(None, |name| {
        (name == "APP_QUERY_COST_BUDGET").then(|| "0".to_owned())
    })
    .unwrap();
    assert_eq!(set.query_cost_budget, 0);
    assert!(
        Settings::from_sources(None, |name| {
            (name == "APP_QUERY_COST_BUDGET").then(|| "lots".to_owned())
        })
        .is_err()
    );
}

/// Every query of benches/server/queries-ours.txt, and the BI tools'
/// patterns, answers 200 under the default budget, and its cost is at most
/// half of it.
#[tokio::test]
async fn benchmark_and_bi_queries_are_under_the_default_budget() {
    let app = spawn_app().await;
    seed(&app).await;
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/server/queries-ours.txt"),
    )
    .unwrap();
    let mut urls: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').nth(1).expect("id<TAB>url").to_owned())
        .collect();
    assert!(urls.len() >= 14, "{urls:?}");
    // Power BI / Excel paging, python-odata, SAP Cloud SDK shapes.
    urls.extend(
        [
            "Users?$select=id,userKey,name,email&$top=1000&$skip=2000",
            "Users?$filter=(status%20eq%201%20or%20status%20eq%202)%20and%20name%20ge%20'A'&$orderby=name&$top=1000",
            "Users?$expand=roles,groups&$top=1000",
            "Users?$filter=startswith(name,'A')%20and%20isTechnician%20eq%20false&$count=true",
            "Users?$filter=contains(name,'a')%20or%20contains(email,'a')&$select=userKey&$inlinecount=allpages",
            "Roles?$expand=users($select=userKey,name;$orderby=name;$top=5)&$count=true",
            "Users?$apply=groupby((status),aggregate($count%20as%20n))",
            "Users?$search=ann%20OR%20bob&$top=10",
        ]
        .map(str::to_owned),
    );
    for url in urls {
        let (path, query) = url.split_once('?').unwrap_or((&url, ""));
        let set = path.split(['/', '(']).next().unwrap();
        let options = odata_parser::parse_query(
            &query.replace("%20", " "),
            &odata_parser::ParserOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{url}: {e}"));
        let cost = odata_sql::cost::query_cost(
            identity_service::odata::schema::identity_schema(),
            set,
            &options,
        );
        assert!(
            cost.total <= odata_sql::cost::DEFAULT_BUDGET / 2,
            "{url} costs {cost:?}"
        );
        let response = app.client.get(feed(&app, &url)).send().await.unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{url}: {body}");
    }
}
