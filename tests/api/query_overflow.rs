//! Values the databases cannot compute or hold answer 400, not 500, on every
//! backend: a NUL character in a string, Int64 overflow of `add`, `mul` and
//! unary `-`, a `substring` position beyond 32 bits, a Double overflow.
//! Literal arithmetic is checked by the translator (so SQLite, which would
//! silently compute a REAL, refuses it too); column arithmetic that
//! overflows on PostgreSQL or MariaDB is their "out of range" error, mapped
//! to 400; on SQLite the translator writes integer `add`/`sub`/`mul`/`-` as
//! the checked functions `odata_add`/`odata_sub`/`odata_mul`, whose overflow
//! error is mapped to 400 as well.

use crate::common;

use common::{TestApp, assert_error, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

fn feed(app: &TestApp, query: &str) -> String {
    format!(
        "{}/api/{}/main/odata/Users?{query}",
        app.address, app.tenant
    )
}

async fn seed(app: &TestApp) {
    app.create_user(json!({"userKey": "ann", "name": "Ann", "isTechnician": false}))
        .await;
}

/// `$filter={filter}` (encoded) answers 400 on API 1 and on the feed; the
/// message of API 1's answer contains `needle`.
async fn assert_400(app: &TestApp, filter: &str, needle: &str) {
    assert_400_query(app, &format!("$filter={}", common::encode(filter)), needle).await;
}

async fn assert_400_query(app: &TestApp, query: &str, needle: &str) {
    let filter = query;
    let body = assert_error(
        app.get(&format!("users/odata?{query}")).await,
        StatusCode::BAD_REQUEST,
        "BadRequest",
    )
    .await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(needle), "{filter}: {message}");
    let response = app.client.get(feed(app, query)).send().await.unwrap();
    assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
}

#[tokio::test]
async fn a_nul_character_in_a_string_is_400() {
    let app = spawn_app().await;
    seed(&app).await;
    let nul = "the NUL character";
    // Written percent-encoded, as a URL carries it.
    for filter in [
        "name eq 'a%00b'",
        "startswith(name,'%00')",
        "userKey in ('ann','x%00')",
    ] {
        let query = format!("$filter={}", common::encode(filter).replace("%2500", "%00"));
        let body = assert_error(
            app.get(&format!("users/odata?{query}")).await,
            StatusCode::BAD_REQUEST,
            "BadRequest",
        )
        .await;
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(nul), "{filter}: {message}");
        let response = app.client.get(feed(&app, &query)).send().await.unwrap();
        assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
    }
    let body = assert_error(
        app.get("users/odata?$search=a%00").await,
        StatusCode::BAD_REQUEST,
        "BadRequest",
    )
    .await;
    assert_eq!(body["error"]["target"], "$search", "{body}");
}

#[tokio::test]
async fn literal_overflow_is_400_on_every_backend() {
    let app = spawn_app().await;
    seed(&app).await;
    let int64 = "out of the range of Edm.Int64";
    assert_400(&app, "9223372036854775807 add 1 gt 0", int64).await;
    assert_400(&app, "-9223372036854775807 sub 2 lt 0", int64).await;
    assert_400(&app, "status add 4611686018427387904 mul 2 gt 0", int64).await;
    assert_400(&app, "-(-9223372036854775808) gt 0", int64).await;
    assert_400(&app, "-9223372036854775808 div -1 gt 0", int64).await;
    assert_400_query(
        &app,
        "$filter=@x%20mul%202%20gt%200&@x=9223372036854775807",
        int64,
    )
    .await;
    assert_400(
        &app,
        "1e308 mul 1e308 gt 0",
        "out of the range of Edm.Double",
    )
    .await;
    assert_400(&app, "substring(name,2147483648) eq ''", "`substring`").await;
    assert_400(&app, "substring(name,1,2147483648) eq ''", "`substring`").await;
    // In range: answered.
    for ok in [
        "9223372036854775806 add 1 gt 0",
        "-9223372036854775807 sub 1 lt 0",
        "-9223372036854775808 mod -1 eq 0",
        "1e308 mul 1 gt 0",
        "substring(name,2147483646) eq ''",
        "status div 0 eq null",
    ] {
        let body = app
            .get_users(&format!("$filter={}", common::encode(ok)))
            .await;
        assert_eq!(body["items"].as_array().unwrap().len(), 1, "{ok}: {body}");
    }
}

#[tokio::test]
async fn column_overflow_is_400_on_every_backend() {
    let app = spawn_app().await;
    seed(&app).await;
    for query in [
        "$filter=status add 9223372036854775807 gt 0",
        "$filter=(status add 1) mul 9223372036854775807 gt 0",
        // status is 1: the smallest Int64, negated.
        "$filter=-(status sub 9223372036854775807 sub 2) gt 0",
        "$filter=status sub 9223372036854775807 sub 3 lt 0",
        "$orderby=status add 9223372036854775807 desc",
    ] {
        let query = query.replace(' ', "%20");
        // On SQLite the checked `odata_add`/`odata_sub`/`odata_mul` refuse
        // what PostgreSQL and MariaDB refuse as out of range.
        let body = assert_error(
            app.get(&format!("users/odata?{query}")).await,
            StatusCode::BAD_REQUEST,
            "BadRequest",
        )
        .await;
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("out of range"), "{query}: {message}");
        let response = app.client.get(feed(&app, &query)).send().await.unwrap();
        assert_error(response, StatusCode::BAD_REQUEST, "BadRequest").await;
    }
    // In range (the smallest Int64 included): answered, as integers.
    for ok in [
        "status sub 9223372036854775807 sub 2 lt 0",
        "status add 9223372036854775806 eq 9223372036854775807",
        "-(status add 9223372036854775806) lt 0",
        "(status add 3037000498) mul (status add 3037000498) eq 9223372030926249001",
        "status add null eq null",
        "status mul 2 add 1 eq 3",
        "-status eq -1",
    ] {
        let body = app
            .get_users(&format!("$filter={}", common::encode(ok)))
            .await;
        assert_eq!(body["items"].as_array().unwrap().len(), 1, "{ok}: {body}");
    }
}
