//! Writes on the feed, continued: `If-Match` (412, and 428 when the
//! setting requires it), the write scope with Bearer and HTTP Basic, the
//! 400s of API 1's rules, two concurrent `PATCH`es holding one ETag, and
//! what `$metadata` declares writable.

use super::*;

#[tokio::test]
async fn stale_etags_get_412_and_nothing_changes() {
    let app = spawn_app().await;
    let role = id_of(&create(&app, "Roles", &json!({"roleKey": "admin"})).await);
    let user = id_of(
        &create(
            &app,
            "Users",
            &json!({"userKey": "ana", "name": "Ana", "isTechnician": false}),
        )
        .await,
    );
    let url = format!("Users({user})");
    let answer = send(
        &app,
        Method::PATCH,
        &url,
        &[("If-Match", "\"1\"")],
        Some(&json!({"name": "Ana 2"})),
    )
    .await;
    no_content(&answer, 2);
    // The same ETag again is stale: 412 with the current ETag.
    let stale = [("If-Match", "\"1\"")];
    for (method, path, body) in [
        (Method::PATCH, url.clone(), Some(json!({"name": "Ana 3"}))),
        (
            Method::PUT,
            url.clone(),
            Some(json!({"userKey": "x", "name": "X", "isTechnician": true})),
        ),
        (Method::DELETE, url.clone(), None),
        (
            Method::POST,
            format!("{url}/roles/$ref"),
            Some(json!({"@odata.id": format!("Roles({role})")})),
        ),
        (Method::DELETE, format!("{url}/roles({role})/$ref"), None),
    ] {
        let answer = send(&app, method.clone(), &path, &stale, body.as_ref()).await;
        answer.error(StatusCode::PRECONDITION_FAILED, "PreconditionFailed");
        assert_eq!(answer.header("etag"), Some(tag(2)), "{method} {path}");
    }
    let now = entity(&app, &url).await;
    assert_eq!(now["name"], "Ana 2");
    assert_eq!(now["version"], 2);
    // `*` matches any existing entity; a list with the current one too.
    no_content(
        &send(
            &app,
            Method::PATCH,
            &url,
            &[("If-Match", "*")],
            Some(&json!({"name": "Ana 3"})),
        )
        .await,
        3,
    );
    no_content(
        &send(
            &app,
            Method::PATCH,
            &format!("Roles({role})"),
            &[("If-Match", "\"7\", \"1\"")],
            Some(&json!({"isInternal": true})),
        )
        .await,
        2,
    );
    let answer = send(&app, Method::DELETE, &url, &[("If-Match", "\"3\"")], None).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn the_setting_makes_if_match_required_on_the_feed_only() {
    let app = spawn_app_with(|s| s.feed_require_if_match = true).await;
    let role = id_of(&create(&app, "Roles", &json!({"roleKey": "admin"})).await);
    let user = id_of(
        &create(
            &app,
            "Users",
            &json!({"userKey": "ana", "name": "Ana", "isTechnician": false}),
        )
        .await,
    );
    let url = format!("Users({user})");
    for (method, path, body) in [
        (Method::PATCH, url.clone(), Some(json!({"name": "X"}))),
        (
            Method::PUT,
            url.clone(),
            Some(json!({"userKey": "x", "name": "X", "isTechnician": true})),
        ),
        (Method::DELETE, format!("Roles({role})"), None),
        (Method::DELETE, format!("{url}/roles({role})/$ref"), None),
    ] {
        let answer = send(&app, method.clone(), &path, &[], body.as_ref()).await;
        let error = answer.error(StatusCode::PRECONDITION_REQUIRED, "PreconditionRequired");
        assert!(
            error["message"].as_str().unwrap().contains("If-Match"),
            "{error}"
        );
    }
    assert_eq!(entity(&app, &url).await["version"], 1);
    // With If-Match it goes through; creates and adding links need none.
    no_content(
        &send(
            &app,
            Method::PATCH,
            &url,
            &[("If-Match", "\"1\"")],
            Some(&json!({"name": "Ana 2"})),
        )
        .await,
        2,
    );
    no_content(
        &post(
            &app,
            &format!("{url}/roles/$ref"),
            &json!({"@odata.id": format!("Roles({role})")}),
        )
        .await,
        3,
    );
    // API 1 never requires it.
    let response = app.put_json("users/ana/name", &json!("Ana 3")).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn writes_need_the_write_scope_with_bearer_and_basic_alike() {
    let app = spawn_app().await;
    let (id, secret, bearer) = app.client_for(&app.tenant, "main", "identity.read").await;
    let basic = reqwest::Client::new();
    let user = json!({"userKey": "ana", "name": "Ana", "isTechnician": false});
    let with_basic = |request: reqwest::RequestBuilder| request.basic_auth(&id, Some(&secret));
    // Bearer without the write scope: 403.
    let answer = send_with(&app, &bearer, Method::POST, "Users", &[], Some(&user)).await;
    answer.error(StatusCode::FORBIDDEN, "Forbidden");
    // Basic without the write scope: 403; reads work.
    let response = with_basic(basic.post(format!("{}/Users", root(&app))))
        .json(&user)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = with_basic(basic.get(format!("{}/Users", root(&app))))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    let response = with_basic(basic.delete(format!(
        "{}/Users(6f9619ff-8b86-d011-b42d-00c04fc964ff)",
        root(&app)
    )))
    .send()
    .await
    .expect("DELETE");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(user_count(&app).await, "0");
    // Basic with both scopes (the test client) writes.
    let response = basic
        .post(format!("{}/Users", root(&app)))
        .basic_auth(&app.client_id, Some(&app.client_secret))
        .json(&user)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::CREATED);
    // No credentials: 401.
    let response = app
        .anonymous
        .post(format!("{}/Users", root(&app)))
        .json(&user)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(user_count(&app).await, "1");
}

#[tokio::test]
async fn bad_bodies_are_400_and_change_nothing() {
    let app = spawn_app().await;
    let role = id_of(&create(&app, "Roles", &json!({"roleKey": "admin"})).await);
    let user = create(
        &app,
        "Users",
        &json!({"userKey": "ana", "name": "Ana", "isTechnician": false}),
    )
    .await;
    create(
        &app,
        "Users",
        &json!({"userKey": "bob", "name": "Bob", "isTechnician": false}),
    )
    .await;
    let url = format!("Users({})", id_of(&user));
    let new = |extra: Value| {
        let mut body = json!({"userKey": "cy", "name": "Cy", "isTechnician": false});
        for (k, v) in extra.as_object().expect("object") {
            body[k] = v.clone();
        }
        body
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        ("picture", new(json!({"picture": "aGk="})), "picture"),
        ("status 3", new(json!({"status": 3})), "status"),
        ("status 4", new(json!({"status": 4})), "status"),
        ("unknown", new(json!({"nickname": "c"})), "nickname"),
        (
            "unknown bind",
            new(json!({"roles@odata.bind": [format!("Roles({})", id_of(&user))]})),
            "roles",
        ),
        (
            "bind not an entity id",
            new(json!({"roles@odata.bind": ["admin"]})),
            "roles@odata.bind",
        ),
        (
            "bind not an array",
            new(json!({"groups@odata.bind": format!("Roles({role})")})),
            "groups@odata.bind",
        ),
        (
            "bind of another set",
            new(json!({"groups@odata.bind": [format!("Roles({role})")]})),
            "groups@odata.bind",
        ),
        ("bad key", new(json!({"userKey": "a b"})), "userKey"),
    ];
    for (what, body, target) in &cases {
        let answer = post(&app, "Users", body).await;
        let error = answer.error(StatusCode::BAD_REQUEST, "BadRequest");
        let targets: Vec<&str> = std::iter::once(&error["target"])
            .chain(
                error["details"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| &d["target"]),
            )
            .filter_map(Value::as_str)
            .collect();
        assert!(
            targets.contains(target),
            "{what}: {target} not in {targets:?}: {error}"
        );
    }
    assert_eq!(user_count(&app).await, "2", "no create went through");
    // `"picture": null` on a create asks for nothing (a new user has no
    // picture; python-odata sends it): accepted, while it stays a 400 on
    // PATCH below.
    let dee = create(
        &app,
        "Users",
        &json!({"userKey": "dee", "name": "Dee", "isTechnician": false, "picture": null}),
    )
    .await;
    assert_eq!(dee["picture"], Value::Null);
    let answer = send(
        &app,
        Method::DELETE,
        &format!("Users({})", id_of(&dee)),
        &[],
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    // The same rules on PATCH; one bad property fails the whole write.
    for body in [
        json!({"picture": null}),
        json!({"status": 3}),
        json!({"name": "New", "status": 4}),
        json!({"name": "New", "nickname": "n"}),
        json!({"name": ""}),
        json!({"email": "not an e-mail"}),
        json!({"roles@odata.bind": [format!("Roles({role})")]}),
        json!(["name"]),
    ] {
        let answer = send(&app, Method::PATCH, &url, &[], Some(&body)).await;
        assert!(
            answer.status == StatusCode::BAD_REQUEST
                || answer.status == StatusCode::NOT_IMPLEMENTED,
            "{body}: {} {}",
            answer.status,
            answer.body
        );
        answer.expect(answer.status, "application/json");
    }
    // A conflict found inside the transaction rolls back the rest of it.
    let answer = send(
        &app,
        Method::PATCH,
        &url,
        &[],
        Some(&json!({"name": "New", "userKey": "BOB"})),
    )
    .await;
    answer.error(StatusCode::CONFLICT, "Conflict");
    let now = entity(&app, &url).await;
    assert_eq!(now["name"], "Ana");
    assert_eq!(now["userKey"], "ana");
    assert_eq!(now["version"], 1);
    // Deep insert is not supported; non-JSON bodies are 415.
    post(&app, "Users", &new(json!({"roles": [{"roleKey": "x"}]})))
        .await
        .error(StatusCode::NOT_IMPLEMENTED, "NotImplemented");
    let response = app
        .client
        .post(format!("{}/Users", root(&app)))
        .header("Content-Type", "application/xml")
        .body("<entry/>")
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Writes a resource does not take.
    for (method, path) in [
        (Method::POST, url.clone()),
        (Method::PATCH, "Users".to_owned()),
        (Method::DELETE, "Users".to_owned()),
    ] {
        let answer = send(&app, method.clone(), &path, &[], Some(&json!({}))).await;
        answer.error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed");
    }
    assert_eq!(user_count(&app).await, "2");
}

/// Two (and more) PATCHes holding the same ETag: exactly one wins, every
/// other one gets 412 with the winner's ETag.
#[tokio::test]
async fn concurrent_patches_with_the_same_etag_exactly_one_wins() {
    let app = spawn_app().await;
    let user = id_of(
        &create(
            &app,
            "Users",
            &json!({"userKey": "ana", "name": "Ana", "isTechnician": false}),
        )
        .await,
    );
    let role = id_of(&create(&app, "Roles", &json!({"roleKey": "admin"})).await);
    const ROUNDS: usize = 8;
    const WRITERS: usize = 4;
    for round in 0..ROUNDS {
        let url = if round % 2 == 0 {
            format!("{}/Users({user})", root(&app))
        } else {
            format!("{}/Roles({role})", root(&app))
        };
        let before = get(&app, &url).await.header("etag").expect("ETag");
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(WRITERS));
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let body = if round % 2 == 0 {
                json!({"name": format!("Ana {round}.{w}")})
            } else {
                json!({"description": format!("r{round}.{w}")})
            };
            let (client, url, held, barrier) = (
                app.client.clone(),
                url.clone(),
                before.clone(),
                barrier.clone(),
            );
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let response = client
                    .patch(url)
                    .header("If-Match", held)
                    .json(&body)
                    .send()
                    .await
                    .expect("PATCH");
                let etag = response
                    .headers()
                    .get("etag")
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default();
                (response.status(), etag)
            }));
        }
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.expect("writer"));
        }
        let after = get(&app, &url).await.header("etag").expect("ETag");
        let won: Vec<_> = answers
            .iter()
            .filter(|(s, _)| *s == StatusCode::NO_CONTENT)
            .collect();
        let lost: Vec<_> = answers
            .iter()
            .filter(|(s, _)| *s == StatusCode::PRECONDITION_FAILED)
            .collect();
        assert_eq!(won.len(), 1, "round {round}: {answers:?}");
        assert_eq!(lost.len(), WRITERS - 1, "round {round}: {answers:?}");
        assert_eq!(won[0].1, after, "round {round}");
        assert!(
            lost.iter().all(|(_, t)| *t == after),
            "round {round}: {answers:?}"
        );
        let version = |t: &str| t.trim_matches('"').parse::<i64>().expect("numeric ETag");
        assert_eq!(version(&after), version(&before) + 1, "round {round}");
    }
}

#[tokio::test]
async fn metadata_declares_what_is_writable() {
    let app = spawn_app().await;
    let answer = get_with(&app, "$metadata", &[]).await;
    assert_eq!(answer.status, StatusCode::OK);
    let doc = parse_xml(&answer.body);
    let schema = doc.find("Schema").expect("Schema");
    let user = schema.child_with("EntityType", "Name", "User");
    let computed = |p: &feed_support::Element| {
        p.all("Annotation")
            .any(|a| a.attr("Term") == Some("Core.Computed") && a.attr("Bool") == Some("true"))
    };
    for name in [
        "id",
        "picture",
        "version",
        "createdOn",
        "modifiedOn",
        "isSystem",
    ] {
        assert!(
            computed(user.child_with("Property", "Name", name)),
            "{name} is Core.Computed"
        );
    }
    for name in [
        "userKey",
        "name",
        "email",
        "status",
        "isTechnician",
        "lastLogin",
    ] {
        assert!(
            !computed(user.child_with("Property", "Name", name)),
            "{name} is writable"
        );
    }
    let container = doc.find("EntityContainer").expect("EntityContainer");
    for set in ["Users", "Roles", "Groups"] {
        let s = container.child_with("EntitySet", "Name", set);
        for (term, field) in [
            ("Capabilities.InsertRestrictions", "Insertable"),
            ("Capabilities.UpdateRestrictions", "Updatable"),
            ("Capabilities.DeleteRestrictions", "Deletable"),
        ] {
            let value = s
                .annotation(term)
                .and_then(|a| a.record_value(field))
                .and_then(|v| v.attr("Bool"));
            assert_eq!(value, Some("true"), "{set} {term}");
        }
    }
}
