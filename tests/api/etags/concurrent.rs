//! Two (and more) writers holding the same ETag: exactly one wins.

use super::*;

/// Two (and more) writers holding the same ETag: exactly one wins, every
/// other one gets 412 with the winner's ETag, on every backend.
#[tokio::test]
async fn concurrent_writers_with_the_same_etag_exactly_one_wins() {
    let app = spawn_app().await;
    app.create_user(json!({"userKey": "jane", "name": "Jane", "isTechnician": false}))
        .await;
    let role = app.create_role(json!({"roleKey": "admin"})).await;
    app.create_role(json!({"roleKey": "viewer"})).await;
    const ROUNDS: usize = 12;
    const WRITERS: usize = 4;
    // Membership rounds: each writer adds a group of its own, so that
    // every call would change the user (a call that changes nothing keeps
    // the version, and then every holder of the ETag may go on).
    for round in (0..ROUNDS).filter(|r| r % 4 == 2) {
        for w in 0..WRITERS {
            app.create_group(json!({"groupKey": format!("g{round}_{w}")}))
                .await;
        }
    }
    for round in 0..ROUNDS {
        // Alternate the kinds of write: an attribute, a set replacement,
        // membership calls, and an attribute of a role.
        let (record, writes): (String, Vec<(Method, String, Value)>) = match round % 4 {
            0 => (
                "users/jane".into(),
                (0..WRITERS)
                    .map(|w| {
                        (
                            Method::PUT,
                            "users/jane/name".into(),
                            json!(format!("Jane {round}.{w}")),
                        )
                    })
                    .collect(),
            ),
            1 => (
                "users/jane".into(),
                (0..WRITERS)
                    .map(|w| {
                        let roles = if w % 2 == 0 {
                            json!(["admin"])
                        } else {
                            json!(["viewer"])
                        };
                        (Method::PUT, "users/jane/roles".into(), roles)
                    })
                    .collect(),
            ),
            2 => (
                "users/jane".into(),
                (0..WRITERS)
                    .map(|w| {
                        (
                            Method::POST,
                            "users/jane/groups/add".to_owned(),
                            json!([format!("g{round}_{w}")]),
                        )
                    })
                    .collect(),
            ),
            _ => (
                format!("roles/{role}"),
                (0..WRITERS)
                    .map(|w| {
                        (
                            Method::PUT,
                            format!("roles/{role}/description"),
                            json!(format!("r{round}.{w}")),
                        )
                    })
                    .collect(),
            ),
        };
        let before = current(&app, &record).await;
        let answers = futures_join(&app, &writes, &before).await;
        let won: Vec<&(StatusCode, String)> = answers
            .iter()
            .filter(|(s, _)| *s == StatusCode::OK)
            .collect();
        let lost: Vec<&(StatusCode, String)> = answers
            .iter()
            .filter(|(s, _)| *s == StatusCode::PRECONDITION_FAILED)
            .collect();
        assert_eq!(won.len(), 1, "round {round}: {answers:?}");
        assert_eq!(lost.len(), writes.len() - 1, "round {round}: {answers:?}");
        let after = current(&app, &record).await;
        // The losers were told the winner's ETag.
        let told: HashSet<&String> = lost.iter().map(|(_, t)| t).collect();
        assert!(
            told.iter().all(|t| **t == after),
            "round {round}: {answers:?} vs {after}"
        );
        assert_eq!(won[0].1, after, "round {round}");
        assert_eq!(
            version_of(&after),
            version_of(&before) + 1,
            "round {round}: the winner's change only"
        );
    }
}

/// Sends every write at once with `If-Match: etag`; (status, ETag) of each.
async fn futures_join(
    app: &TestApp,
    writes: &[(Method, String, Value)],
    etag_held: &str,
) -> Vec<(StatusCode, String)> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(writes.len()));
    let mut tasks = Vec::new();
    for (method, path, body) in writes.iter().cloned() {
        let client = app.client.clone();
        let url = app.url(&path);
        let held = etag_held.to_owned();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let response = client
                .request(method, url)
                .header("If-Match", held)
                .json(&body)
                .send()
                .await
                .expect("request");
            let status = response.status();
            let tag = response
                .headers()
                .get("etag")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            (status, tag)
        }));
    }
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.expect("writer task"));
    }
    out
}
