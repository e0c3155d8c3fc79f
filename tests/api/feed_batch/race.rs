//! A change set racing single writes of its users: no deadlock, the
//! counter equals `COUNT(*)`, and the delta reports every change.

use super::*;

/// The records of `Users` read without change tracking (every page), by id,
/// without control information.
async fn users_now(app: &TestApp) -> std::collections::BTreeMap<String, Value> {
    let mut out = std::collections::BTreeMap::new();
    let mut next = "Users".to_owned();
    loop {
        let answer = get(app, &next).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let body = answer.json();
        for record in body["value"].as_array().expect("value") {
            out.insert(
                record["id"].as_str().expect("id").to_owned(),
                without_annotations(record),
            );
        }
        match body["@odata.nextLink"].as_str() {
            Some(link) => next = link.to_owned(),
            None => return out,
        }
    }
}

fn without_annotations(record: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for (k, v) in record.as_object().expect("record") {
        if !k.starts_with('@') {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// Rounds of the change set and the single writes racing it.
const RACE_ROUNDS: usize = 60;

/// A change set that creates a user and then updates users A and B, raced
/// by single `PATCH`es of B and of A. A change set takes the tenant's
/// counter and change-sequence locks only at its end, after its entity
/// rows, as a single write does: before it took them with its first inner
/// write and then waited for B's row, which the single write of B held
/// while it waited for the sequence (a deadlock on PostgreSQL and MariaDB,
/// one request answered with an error). Every request succeeds, the
/// counter equals `COUNT(*)`, and the delta since the start reports every
/// change.
#[tokio::test]
async fn a_change_set_racing_single_writes_of_its_users_never_deadlocks() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for key in ["race-a", "race-b"] {
        let response = app
            .client
            .post(format!("{}/Users", root(&app)))
            .json(&user(key))
            .send()
            .await
            .expect("POST Users");
        assert_eq!(response.status(), StatusCode::CREATED);
        let created: Value = response.json().await.expect("user");
        ids.push(created["id"].as_str().expect("id").to_owned());
    }
    let (a, b) = (ids[0].clone(), ids[1].clone());
    // The client's copy and its delta link, before the race.
    let tracked = get_with(&app, "Users", &[("Prefer", "odata.track-changes")]).await;
    assert_eq!(tracked.status, StatusCode::OK, "{}", tracked.body);
    let body = tracked.json();
    let mut snapshot: std::collections::BTreeMap<String, Value> = body["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().expect("id").to_owned(),
                without_annotations(r),
            )
        })
        .collect();
    let delta_link = body["@odata.deltaLink"]
        .as_str()
        .expect("a delta link")
        .to_owned();

    let patch = |id: String, name: String| {
        let app = &app;
        async move {
            send_with(
                app,
                &app.client,
                reqwest::Method::PATCH,
                &format!("Users({id})"),
                &[],
                Some(&json!({ "name": name })),
            )
            .await
        }
    };
    for round in 0..RACE_ROUNDS {
        let parts = [change_set(&[
            request(
                "POST",
                "Users",
                Some("1"),
                Some(&user(&format!("cs-{round}"))),
            ),
            request(
                "PATCH",
                &format!("Users({a})"),
                Some("2"),
                Some(&json!({"name": format!("A by change set {round}")})),
            ),
            request(
                "PATCH",
                &format!("Users({b})"),
                Some("3"),
                Some(&json!({"name": format!("B by change set {round}")})),
            ),
        ])];
        let (batch, single_b, single_a) = tokio::join!(
            send_multipart(&app, &app.client, &parts),
            patch(b.clone(), format!("B alone {round}")),
            patch(a.clone(), format!("A alone {round}")),
        );
        let codes = statuses(&batch);
        assert!(
            codes.len() == 3 && codes.iter().all(|c| (200..300).contains(c)),
            "round {round}: the change set answered {codes:?}: {}",
            batch.body
        );
        for (who, answer) in [("B", &single_b), ("A", &single_a)] {
            assert!(
                answer.status.is_success(),
                "round {round}: the single PATCH of {who} answered {}: {}",
                answer.status,
                answer.body
            );
        }
    }

    // The counter equals the rows.
    let users = users_now(&app).await;
    assert_eq!(users.len(), 2 + RACE_ROUNDS);
    assert_eq!(count(&app, "Users").await, users.len().to_string());
    let scope = identity_service::storage::tenants::find(&app.pool, &app.tenant, "main")
        .await
        .expect("look the tenant up")
        .expect("the tenant");
    let rows = Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from(Alias::new("users"))
        .and_where(Expr::col(Alias::new("tenant_id")).eq(scope.tenant_id))
        .to_owned();
    let rows = app
        .pool
        .query_one(&rows)
        .await
        .expect("COUNT(*)")
        .expect("a row");
    let rows: i64 = rows.try_get("", "n").expect("n");
    assert_eq!(rows, users.len() as i64, "COUNT(*) of the tenant's users");

    // The delta since the start reports every change: applied to the
    // snapshot, it gives the current data.
    let mut next = delta_link;
    loop {
        let answer = get_with(&app, &next, &[]).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let body = answer.json();
        for entry in body["value"].as_array().expect("value") {
            assert!(
                entry.get("@removed").is_none() && entry.get("reason").is_none(),
                "nothing was deleted: {entry}"
            );
            snapshot.insert(
                entry["id"].as_str().expect("id").to_owned(),
                without_annotations(entry),
            );
        }
        match body["@odata.nextLink"].as_str() {
            Some(link) => next = link.to_owned(),
            None => break,
        }
    }
    assert_eq!(snapshot, users);
}
