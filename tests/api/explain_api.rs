//! Explain and validate (issue 13, milestone 2), on the backend under test
//! (`ODATA_TEST_BACKEND`): `GET /api/{t}/{o}/explain/{set}` with the
//! `identity.admin` scope answers the AST, the SQL and bound values on all
//! three backends, the running database's plan, the cost and each step's
//! time; `GET …/validate/{set}` with the read scope answers the AST; a bad
//! query answers the read's error with the caret and an `innererror`
//! (offset, expected tokens, step). 401 without a token, 403 without the
//! scope, and the admin scope does not imply read.

use crate::common;

use common::{TestApp, TestBackend, bearer_client, fetch_token, json_of, spawn_app, test_backend};
use identity_service::auth::Scopes;
use identity_service::domain::TenantKey;
use identity_service::storage::{clients, tenants};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The issue-8 reproducer of the cost model: every user of every role of
/// every user (costs 194, over the default budget of 100).
const NESTED: &str = "roles/any(r: r/users/any(u: contains(u/name,'zz')))";

/// A client of the test tenant with exactly `scopes`, and its token.
async fn client_with(app: &TestApp, scopes: &str) -> reqwest::Client {
    let tenant = TenantKey::parse(&app.tenant, "tenant").unwrap();
    let org = TenantKey::parse("main", "org").unwrap();
    let (scope, _) = tenants::create(&app.pool, &tenant, &org).await.unwrap();
    let (client, secret) = clients::create(&app.pool, &scope, Scopes::parse(scopes).unwrap())
        .await
        .unwrap();
    let token = fetch_token(&app.anonymous, &app.address, &client.client_id, &secret).await;
    bearer_client(&token)
}

fn url(app: &TestApp, path_and_query: &str) -> String {
    format!("{}/api/{}/main/{path_and_query}", app.address, app.tenant)
}

async fn get(client: &reqwest::Client, url: &str) -> reqwest::Response {
    client.get(url).send().await.expect("GET")
}

fn running() -> &'static str {
    match test_backend() {
        TestBackend::Sqlite => "sqlite",
        TestBackend::Postgres => "postgres",
        TestBackend::MySql => "mysql",
    }
}

async fn seed(app: &TestApp) {
    app.create_role(json!({"roleKey": "admin"})).await;
    app.create_user(
        json!({"userKey": "ann", "name": "Ann Silva", "isTechnician": false, "roles": ["admin"]}),
    )
    .await;
}

#[tokio::test]
async fn explain_answers_ast_sql_on_every_backend_plan_cost_and_timings() {
    let app = spawn_app().await;
    seed(&app).await;
    let admin = client_with(&app, "identity.admin").await;
    let query = "$filter=status eq 1 and contains(name,'Silva')&$orderby=name&$top=5&$count=true";
    let body = json_of(
        get(&admin, &url(&app, &format!("explain/Users?{query}"))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["valid"], true, "{body}");
    assert_eq!(body["entitySet"], "Users");
    assert_eq!(body["api"], "feed");
    assert_eq!(body["backend"], running(), "{body}");
    // The query as parsed (reqwest sent the spaces as %20).
    assert!(
        body["query"]
            .as_str()
            .unwrap()
            .ends_with("&$top=5&$count=true"),
        "{body}"
    );
    // The AST is the parser's serde form, with spans into the query.
    let filter = &body["ast"]["filter"];
    assert!(filter.is_object(), "{body}");
    assert_eq!(body["ast"]["top"]["value"], 5, "{}", body["ast"]);
    assert!(
        body["canonical"].as_str().unwrap().contains("$top=5"),
        "{body}"
    );

    // SQL and bound values for all three backends: the page (top 5 + 1)
    // and the count, each with the tenant id and the literals bound.
    for (backend, placeholder) in [("sqlite", "?"), ("postgres", "$1"), ("mysql", "?")] {
        let statements = body["sql"][backend]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"));
        let roles: Vec<&str> = statements
            .iter()
            .map(|s| s["statement"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["page", "count"], "{backend}: {body}");
        for s in statements {
            let sql = s["sql"].as_str().unwrap();
            assert!(sql.starts_with("SELECT"), "{backend}: {sql}");
            assert!(sql.contains(placeholder), "{backend}: {sql}");
            let values = s["values"].as_array().unwrap();
            assert!(values.contains(&json!(1)), "{backend}: {s}");
            assert!(
                values
                    .iter()
                    .any(|v| v.as_str().is_some_and(|t| t == "Silva")),
                "{backend}: {s}"
            );
        }
        let page = &statements[0];
        assert!(
            page["sql"].as_str().unwrap().contains("LIMIT"),
            "{backend}: {page}"
        );
    }
    assert!(
        body["sql"]["mysql"][0]["sql"]
            .as_str()
            .unwrap()
            .contains('`')
    );
    assert!(
        body["sql"]["postgres"][0]["sql"]
            .as_str()
            .unwrap()
            .contains('"')
    );

    // The running database's plan of each statement, non-empty, naming
    // the users table.
    let plans = body["plan"].as_array().unwrap();
    assert_eq!(plans.len(), 2, "{body}");
    for plan in plans {
        let lines = plan["lines"].as_array().unwrap();
        assert!(!lines.is_empty(), "{plan}");
        assert!(
            lines.iter().any(|l| l.as_str().unwrap().contains("users")),
            "{plan}"
        );
    }

    // The cost the limits assign: a text scan, a count; the default budget.
    let cost = &body["cost"];
    assert!(cost["total"].as_u64().unwrap() > 0, "{cost}");
    assert_eq!(cost["budget"], 100);
    assert_eq!(cost["withinBudget"], true);
    assert!(
        cost["parts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["target"] == "$filter"),
        "{cost}"
    );
    let t = &body["timings"];
    for stage in ["parseMicros", "translateMicros", "planMicros"] {
        assert!(t[stage].is_u64(), "{stage}: {t}");
    }
}

#[tokio::test]
async fn explain_of_an_api1_list_uses_its_page_size() {
    let app = spawn_app().await;
    let admin = client_with(&app, "identity.admin").await;
    let body = json_of(
        get(&admin, &url(&app, "explain/identity/roles?$select=roleKey")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["api"], "identity", "{body}");
    assert_eq!(body["list"], "roles");
    assert_eq!(body["entitySet"], "Roles");
    // API 1 pages hold 100 records: the first page asks for 101 rows.
    let page = &body["sql"]["sqlite"][0];
    assert_eq!(page["statement"], "page");
    let limit = |s: &Value| {
        s["sql"].as_str().unwrap().contains("LIMIT 101")
            || s["values"].as_array().unwrap().contains(&json!(101))
    };
    assert!(limit(page), "{page}");
    // The feed's page size is 1000.
    let body = json_of(
        get(&admin, &url(&app, "explain/Roles")).await,
        StatusCode::OK,
    )
    .await;
    let page = &body["sql"]["postgres"][0];
    assert!(
        page["sql"].as_str().unwrap().contains("LIMIT 1001")
            || page["values"].as_array().unwrap().contains(&json!(1001)),
        "{page}"
    );
    assert_eq!(body["plan"].as_array().unwrap().len(), 1, "{body}");

    // Case of the literal segments is folded, like every route's.
    let response = get(&admin, &url(&app, "EXPLAIN/Identity/users")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = get(&admin, &url(&app, "explain/People")).await;
    common::assert_error(response, StatusCode::NOT_FOUND, "NotFound").await;
    let response = get(&admin, &url(&app, "explain/identity/people")).await;
    common::assert_error(response, StatusCode::NOT_FOUND, "NotFound").await;
}

/// The caret detail of an error body.
fn caret(body: &Value) -> &str {
    body["error"]["details"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["code"] == "QueryPosition"))
        .and_then(|d| d["message"].as_str())
        .unwrap_or_else(|| panic!("no caret detail in {body}"))
}

#[tokio::test]
async fn errors_carry_offset_expected_tokens_and_the_caret() {
    let app = spawn_app().await;
    let admin = client_with(&app, "identity.admin").await;
    for (path, client) in [("explain", &admin), ("validate", &app.client)] {
        // A syntax error: the expression ends where an operand is expected.
        let response = get(
            client,
            &url(&app, &format!("{path}/Users?$filter=status+eq")),
        )
        .await;
        let body = common::assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
        let inner = &body["error"]["innererror"];
        assert_eq!(inner["stage"], "parse", "{body}");
        assert_eq!(inner["offset"], 17, "{body}");
        assert_eq!(inner["option"], "$filter", "{body}");
        assert!(!inner["expected"].as_array().unwrap().is_empty(), "{body}");
        assert!(
            caret(&body).ends_with("  | $filter=status eq\n  |                  ^\n"),
            "{}",
            caret(&body)
        );
        assert_eq!(
            inner["caret"]
                .as_str()
                .unwrap()
                .lines()
                .last()
                .unwrap()
                .find('^'),
            Some(21)
        );
        assert!(inner["timings"]["parseMicros"].is_u64(), "{body}");

        // A name the model does not have: the translation's error.
        let response = get(
            client,
            &url(&app, &format!("{path}/Users?$filter=stauts+eq+1")),
        )
        .await;
        let body = common::assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
        let inner = &body["error"]["innererror"];
        assert_eq!(inner["stage"], "translate", "{body}");
        assert_eq!(inner["offset"], 8, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("status"),
            "{body}"
        );
        assert!(caret(&body).contains("^"), "{body}");
    }
}

#[tokio::test]
async fn over_the_budget_explain_reports_the_cost_and_validate_refuses() {
    let app = spawn_app().await;
    let admin = client_with(&app, "identity.admin").await;
    let query = format!("$filter={}", common::encode(NESTED));
    let body = json_of(
        get(&admin, &url(&app, &format!("explain/Users?{query}"))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["cost"]["total"], 194, "{body}");
    assert_eq!(body["cost"]["withinBudget"], false, "{body}");
    assert!(!body["plan"][0]["lines"].as_array().unwrap().is_empty());

    let response = get(&app.client, &url(&app, &format!("validate/Users?{query}"))).await;
    let body = common::assert_error(response, StatusCode::BAD_REQUEST, "QueryTooExpensive").await;
    assert_eq!(body["error"]["innererror"]["stage"], "cost", "{body}");
    assert_eq!(body["error"]["innererror"]["option"], "$filter", "{body}");
}

#[tokio::test]
async fn validate_with_the_read_scope_answers_the_ast() {
    let app = spawn_app().await;
    let reader = client_with(&app, "identity.read").await;
    let body = json_of(
        get(
            &reader,
            &url(
                &app,
                "validate/Groups?$filter=startswith(groupKey,'a')&$top=2",
            ),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["valid"], true, "{body}");
    assert_eq!(body["entitySet"], "Groups");
    assert_eq!(body["ast"]["top"]["value"], 2, "{body}");
    assert!(body["ast"]["filter"].is_object(), "{body}");
    assert!(
        body.get("sql").is_none() && body.get("plan").is_none(),
        "{body}"
    );
    let body = json_of(
        get(
            &reader,
            &url(&app, "validate/identity/users?$select=userKey"),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["list"], "users", "{body}");
}

#[tokio::test]
async fn explain_needs_the_admin_scope_and_admin_does_not_imply_read() {
    let app = spawn_app().await;
    for path in ["explain/Users", "explain/identity/users", "validate/Users"] {
        let response = get(&app.anonymous, &url(&app, path)).await;
        common::assert_error(response, StatusCode::UNAUTHORIZED, "Unauthorized").await;
    }
    // The default client (read and write) may validate, not explain.
    let response = get(&app.client, &url(&app, "explain/Users")).await;
    let body = common::assert_error(response, StatusCode::FORBIDDEN, "Forbidden").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("identity.admin"),
        "{body}"
    );
    let response = get(&app.client, &url(&app, "explain/identity/users")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = get(&app.client, &url(&app, "validate/Users")).await;
    assert_eq!(response.status(), StatusCode::OK);

    // An admin-only client may explain, but neither validate nor read.
    let admin = client_with(&app, "identity.admin").await;
    assert_eq!(
        get(&admin, &url(&app, "explain/Users")).await.status(),
        StatusCode::OK
    );
    for path in ["validate/Users", "identity/users/odata", "odata/Users"] {
        let response = get(&admin, &url(&app, path)).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    // Another tenant's explain is 403 even with the scope.
    let response = get(
        &admin,
        &format!("{}/api/other-tenant/main/explain/Users", app.address),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn clients_create_grants_admin_when_asked() {
    let app = spawn_app().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_odata-users"))
        .args([
            "clients",
            "create",
            "--tenant",
            &app.tenant,
            "--org",
            "main",
            "--scope",
            "identity.admin",
            "--json",
        ])
        .env("DATABASE_URL", &app.db_url)
        .env_remove("RUST_LOG")
        .output()
        .expect("run odata-users clients create");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let created: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let id = created["clientId"].as_str().unwrap();
    let secret = created["clientSecret"].as_str().unwrap();
    let response = app
        .anonymous
        .post(format!("{}/connect/token", app.address))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={id}&client_secret={secret}"
        ))
        .send()
        .await
        .unwrap();
    let token = json_of(response, StatusCode::OK).await;
    assert_eq!(token["scope"], "identity.admin", "{token}");
    let admin = bearer_client(token["access_token"].as_str().unwrap());
    assert_eq!(
        get(&admin, &url(&app, "explain/Users")).await.status(),
        StatusCode::OK
    );
}
