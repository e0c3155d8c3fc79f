//! The `products_service` example (issue 12, milestones 2 and 5): its app,
//! started on port 0 on the backend under test (`ODATA_TEST_BACKEND`) with
//! pages of 2 rows, answers a fixed set of queries like the in-memory
//! evaluator over the same rows (read back through SeaORM), follows its
//! next links to the end, expands categories' products, and answers bad
//! queries and tampered skiptokens with OData errors.

use crate::common;

#[allow(dead_code)]
// The example under its own name (this module is named after it too).
#[allow(clippy::module_inception)]
#[path = "../../examples/products_service.rs"]
mod products_service;

use actix_web::{App, HttpServer};
use odata_sql::memory::Evaluator;
use products_service::{category, product};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value as Json, json};

/// The tenant-1 rows as the evaluator sees them: products with their
/// category object, categories with their products array.
async fn records(db: &sea_orm::DatabaseConnection) -> (Vec<Json>, Vec<Json>) {
    let cats = category::Entity::find()
        .filter(category::Column::TenantId.eq(1))
        .all(db)
        .await
        .expect("categories");
    let prods = product::Entity::find()
        .filter(product::Column::TenantId.eq(1))
        .all(db)
        .await
        .expect("products");
    let cat_json = |c: &category::Model| json!({"id": c.id, "name": c.name});
    let products: Vec<Json> = prods
        .iter()
        .map(|p| {
            let cat = cats
                .iter()
                .find(|c| Some(c.id) == p.category_id)
                .map(cat_json);
            json!({"id": p.id, "name": p.name, "price": p.price, "categoryId": p.category_id,
                   "category": cat})
        })
        .collect();
    let categories = cats
        .iter()
        .map(|c| {
            let mine: Vec<Json> = products
                .iter()
                .filter(|p| p["categoryId"] == c.id)
                .map(|p| {
                    let mut p = p.clone();
                    p.as_object_mut().map(|o| o.remove("category"));
                    p
                })
                .collect();
            json!({"id": c.id, "name": c.name, "products": mine})
        })
        .collect();
    (products, categories)
}

/// Every page of `set?query` (following next links): the records, the
/// count of the first page, and the number of pages.
async fn all_pages(base: &str, set: &str, query: &str) -> (Vec<Json>, Option<u64>, usize) {
    let client = reqwest::Client::new();
    let mut url = format!("{base}/odata/{set}?{}", query.replace(' ', "%20"));
    let (mut rows, mut count, mut pages) = (Vec::new(), None, 0);
    loop {
        let res = client.get(&url).send().await.expect("a response");
        assert_eq!(res.status(), 200, "{url}");
        let body: Json = res.json().await.expect("JSON");
        assert!(
            body["@odata.context"]
                .as_str()
                .is_some_and(|c| c.starts_with(&format!("/odata/$metadata#{set}"))),
            "{body}"
        );
        let value = body["value"].as_array().expect("value").clone();
        assert!(value.len() <= 2, "a page holds at most 2 rows: {body}");
        if pages == 0 {
            count = body["@odata.count"].as_u64();
        } else {
            assert_eq!(body["@odata.count"].as_u64(), count, "{url}");
        }
        pages += 1;
        rows.extend(value);
        match body["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(next.starts_with(base), "an absolute next link: {next}");
                url = next.to_owned();
            }
            None => return (rows, count, pages),
        }
        assert!(pages < 20, "paging does not end: {url}");
    }
}

async fn error(base: &str, path_and_query: &str) -> (u16, Json) {
    let res = reqwest::get(format!("{base}{}", path_and_query.replace(' ', "%20")))
        .await
        .expect("a response");
    let status = res.status().as_u16();
    let body: Json = res.json().await.expect("an OData error body");
    let e = &body["error"];
    assert!(e["code"].is_string() && e["message"].is_string(), "{body}");
    assert!(
        e["details"].is_array() && e.get("target").is_some(),
        "{body}"
    );
    (status, body)
}

#[tokio::test]
async fn the_example_service_answers_like_the_evaluator() {
    let url = common::backend_database_url().await;
    // The service's pool: on SQLite it registers the SQL functions that
    // `tolower`, `toupper` and integer arithmetic need; through pgbouncer it
    // runs without cached statements.
    let db = identity_service::storage::db::connect(&common::db_settings(&url))
        .await
        .expect("connect");
    let odata = products_service::service(db)
        .await
        .expect("the service starts")
        .page_size(2);
    let (products, categories) = records(odata.db()).await;
    assert_eq!((products.len(), categories.len()), (7, 2));
    let base = start(Some(odata.clone()));

    let schema = odata.schema();
    for (set, rows, query) in [
        ("Products", &products, ""),
        (
            "Products",
            &products,
            "$filter=price gt 1&$orderby=price desc",
        ),
        ("Products", &products, "$orderby=name&$select=name,price"),
        (
            "Products",
            &products,
            "$filter=category/name eq 'Bakery'&$orderby=price,name desc",
        ),
        (
            "Products",
            &products,
            "$filter=price eq null or startswith(name,'B')&$count=true",
        ),
        ("Products", &products, "$top=3&$skip=1&$orderby=price desc"),
        (
            "Products",
            &products,
            "$filter=contains(name,'an')&$count=true&$top=1",
        ),
        (
            "Products",
            &products,
            "$orderby=category/name desc,id&$top=5",
        ),
        ("Products", &products, "$filter=id in (1,4,7)&$select=id"),
        (
            "Products",
            &products,
            "$filter=price ge 2.5 and price lt 3.5&$orderby=name desc",
        ),
        (
            "Categories",
            &categories,
            "$orderby=name&$select=name&$count=true",
        ),
    ] {
        let expected = Evaluator::for_entity_set(schema, set)
            .expect("the set")
            .apply_query(rows, query)
            .unwrap_or_else(|e| panic!("{query}: {e:?}"));
        // The evaluator keeps navigation properties when nothing is
        // selected; the service writes structural properties only.
        let strip = |mut r: Json| {
            if let Some(o) = r.as_object_mut() {
                o.remove("category");
                o.remove("products");
            }
            r
        };
        let want: Vec<Json> = expected.rows.into_iter().map(strip).collect();
        let (got, count, pages) = all_pages(&base, set, query).await;
        assert_eq!(got, want, "{set}?{query}");
        assert_eq!(count, expected.count, "{set}?{query}");
        assert_eq!(pages, want.len().div_ceil(2).max(1), "{set}?{query}");
    }

    // $expand of a collection, with nested options: each category's
    // products are the evaluator's answer over that category's products.
    let nested = "$filter=price gt 1&$orderby=price desc,name&$top=2";
    let (got, _, _) = all_pages(
        &base,
        "Categories",
        &format!("$expand=products({})&$orderby=id", nested.replace('&', ";")),
    )
    .await;
    assert_eq!(got.len(), 2);
    for (cat, got) in categories.iter().zip(&got) {
        let mine = cat["products"].as_array().expect("products");
        let want = Evaluator::for_entity_set(schema, "Products")
            .expect("Products")
            .apply_query(mine, nested)
            .expect("evaluates")
            .rows;
        let want: Vec<Json> = want
            .into_iter()
            .map(|mut p| {
                p.as_object_mut().map(|o| o.remove("category"));
                p
            })
            .collect();
        assert_eq!(got["id"], cat["id"]);
        assert_eq!(got["products"], Json::Array(want), "{got}");
    }

    // $expand of a to-one navigation: an object, or null for the product
    // without a category; with the evaluator's rows, filter, order and
    // paging (the evaluator's rows carry the category object).
    for (query, nested) in [
        ("$orderby=id", None),
        (
            "$filter=price lt 3&$orderby=category/name desc,name&$count=true",
            None,
        ),
        ("$select=id,name&$orderby=name&$top=5", Some("name")),
        (
            "$filter=categoryId eq null or price gt 2&$orderby=id",
            Some("id,name"),
        ),
    ] {
        let expand = match nested {
            Some(sel) => format!("$expand=category($select={sel})"),
            None => "$expand=category".to_owned(),
        };
        let full = format!("{query}&{expand}");
        let (got, count, _) = all_pages(&base, "Products", &full).await;
        let expected = Evaluator::for_entity_set(schema, "Products")
            .expect("Products")
            .apply_query(&products, query)
            .unwrap_or_else(|e| panic!("{query}: {e:?}"));
        let want: Vec<Json> = expected
            .rows
            .into_iter()
            .map(|mut r| {
                // The row's category, not `r`'s: `$select` drops it from `r`.
                let row = products.iter().find(|p| p["id"] == r["id"]).expect("row");
                let mut cat = row["category"].clone();
                if let (Some(sel), Some(o)) = (nested, cat.as_object_mut()) {
                    o.retain(|k, _| sel.split(',').any(|s| s == k));
                }
                if let Some(o) = r.as_object_mut() {
                    o.insert("category".to_owned(), cat);
                }
                r
            })
            .collect();
        assert_eq!(got, want, "Products?{full}");
        assert_eq!(count, expected.count, "Products?{full}");
    }
    let body: Json = reqwest::get(format!(
        "{base}/odata/Products?$filter=id in (1,8)&$orderby=id&$expand=category($select=name)"
    ))
    .await
    .expect("a response")
    .json()
    .await
    .expect("JSON");
    assert_eq!(
        body["@odata.context"], "/odata/$metadata#Products(category())",
        "{body}"
    );
    assert_eq!(
        body["value"],
        json!([
            {"id": 1, "name": "Apple", "price": 1.25, "categoryId": 1, "category": {"name": "Fruit"}},
            {"id": 8, "name": "Salt", "price": 0.75, "categoryId": null, "category": null}
        ])
    );

    // The context URL names what was selected and expanded.
    let body: Json = reqwest::get(format!(
        "{base}/odata/Categories?$select=name,products&$expand=products($select=name)&$top=1"
    ))
    .await
    .expect("a response")
    .json()
    .await
    .expect("JSON");
    assert_eq!(
        body["@odata.context"], "/odata/$metadata#Categories(name,products())",
        "{body}"
    );
    assert_eq!(
        body["value"],
        json!([{"name": "Fruit", "products": [{"name": "Apple"}, {"name": "banana"}, {"name": "Cherry"}]}])
    );

    // Properties in schema order, in the body as written.
    let text = reqwest::get(format!("{base}/odata/Products?$top=1"))
        .await
        .expect("a response")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains(r#"{"id":1,"name":"Apple","price":1.25,"categoryId":1}"#),
        "{text}"
    );

    // Errors: the OData body, the right status, the parse offset.
    let (status, body) = error(&base, "/odata/Products?$filter=name eq").await;
    assert_eq!((status, &body["error"]["target"]), (400, &json!("$filter")));
    let message = body["error"]["message"].as_str().unwrap_or_default();
    // The byte offset in the raw query string (`$filter=name%20eq`).
    assert!(message.contains("at offset 17"), "{body}");
    let (status, body) = error(&base, "/odata/Products?$filter=nope eq 1").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = error(&base, "/odata/Products?$orderby=name,,id").await;
    assert_eq!(status, 400, "{body}");
    // Nested options other than $select are meaningless on a to-one
    // navigation: 400 naming the option.
    for nested in [
        "$filter=name eq 'Fruit'",
        "$orderby=name",
        "$top=1",
        "$skip=1",
        "$count=true",
    ] {
        let query = format!("/odata/Products?$expand=category({nested})");
        let (status, body) = error(&base, &query).await;
        assert_eq!(
            (status, &body["error"]["target"]),
            (400, &json!("$expand")),
            "{query}"
        );
        let option = nested.split('=').next().unwrap_or_default();
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(option) && message.contains("to-one"),
            "{body}"
        );
    }
    // A to-one navigation cannot be $select-ed (only expanded).
    let (status, body) = error(&base, "/odata/Products?$select=category").await;
    assert_eq!(status, 501, "{body}");
    let (status, body) = error(
        &base,
        "/odata/Products?$apply=aggregate(price with sum as total)",
    )
    .await;
    assert_eq!(status, 501, "{body}");

    // Skiptokens: altered, foreign to the query, or garbage are 400s.
    let first: Json = reqwest::get(format!("{base}/odata/Products?$orderby=name"))
        .await
        .expect("a response")
        .json()
        .await
        .expect("JSON");
    let next = first["@odata.nextLink"].as_str().expect("a next link");
    let token = next.rsplit_once("$skiptoken=").expect("a token").1;
    let mut altered = token.to_owned();
    let c = if altered.starts_with('e') { "f" } else { "e" };
    altered.replace_range(0..1, c);
    for query in [
        format!("$orderby=name&$skiptoken={altered}"),
        format!("$orderby=name desc&$skiptoken={token}"),
        format!("$orderby=name&$filter=id gt 0&$skiptoken={token}"),
        "$orderby=name&$skiptoken=garbage".to_owned(),
        "$orderby=name&$skiptoken=".to_owned(),
    ] {
        let (status, body) = error(&base, &format!("/odata/Products?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["target"], "$skiptoken", "{query}: {body}");
    }
    // The untouched token still works, and the service is still up.
    let (rows, _, _) = all_pages(
        &base,
        "Products",
        &format!("$orderby=name&$skiptoken={token}"),
    )
    .await;
    assert_eq!(rows.len(), 5);
    let all = reqwest::get(format!("{base}/odata/Products?$filter=id gt 0"))
        .await
        .expect("a response")
        .text()
        .await
        .expect("text");
    assert!(!all.contains("Secret"), "another tenant's row: {all}");
}

/// Starts `odata` (or no OData at all) with the example's routes on port 0.
fn start(odata: Option<odata_sql::actix::OData>) -> String {
    let server = HttpServer::new(move || {
        let app = App::new().configure(products_service::routes);
        match &odata {
            Some(o) => app.app_data(o.clone()),
            None => app,
        }
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .expect("binds");
    let base = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    base
}

/// The example as `main` runs it: a plain SeaORM connection to an in-memory
/// SQLite database (no `odata_*` functions), the tenant from the request,
/// and an app without `OData`.
#[tokio::test]
async fn a_plain_sqlite_connection_a_tenant_per_request_and_a_missing_registration() {
    let db = sea_orm::Database::connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    let odata = products_service::service(db)
        .await
        .expect("the service starts")
        .tenant_from(|req| {
            let tenant = req
                .headers()
                .get("x-tenant")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(1);
            Ok(tenant.into())
        });
    let base = start(Some(odata));
    let names = |tenant: &'static str| {
        let base = base.clone();
        async move {
            let body: Json = reqwest::Client::new()
                .get(format!("{base}/odata/Products?$select=name&$orderby=id"))
                .header("x-tenant", tenant)
                .send()
                .await
                .expect("a response")
                .json()
                .await
                .expect("JSON");
            body["value"].clone()
        }
    };
    assert_eq!(names("2").await, json!([{"name": "Secret"}]));
    assert_eq!(names("1").await.as_array().map(Vec::len), Some(7));
    assert_eq!(names("3").await, json!([]));

    // Without the SQL functions: 501 that says why, not a 500.
    let (status, body) = error(&base, "/odata/Products?$filter=tolower(name) eq 'apple'").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (501, &json!("NotImplemented"))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("odata_")),
        "{body}"
    );
    // Everything else works on it.
    let (status, _) = error(&base, "/odata/Products?$filter=name eq").await;
    assert_eq!(status, 400);

    // An app that did not register OData: 500 with the OData body, no
    // details leaked.
    let bare = start(None);
    let (status, body) = error(&bare, "/odata/Products").await;
    assert_eq!(status, 500);
    assert_eq!(body["error"]["message"], "internal error", "{body}");
}
