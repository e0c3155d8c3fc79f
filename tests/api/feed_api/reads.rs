//! Entity sets (`$select`, `$expand`, `$count`, metadata levels), single
//! entities, properties and `$value`, navigation and counts.

use super::*;

#[tokio::test]
async fn entity_sets_with_select_expand_count_and_metadata_levels() {
    let app = spawn_app().await;
    let s = seed(&app).await;

    // The whole set: API 1 records without the navigation arrays.
    let answer = get(&app, "Users?$orderby=userKey").await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(answer.header("preference-applied"), None);
    let expected = json!({
        "@odata.context": context(&app, "Users"),
        "value": [
            feed_user(&app, &s.ann).await,
            feed_user(&app, &s.bob).await,
            feed_user(&app, &s.cid).await,
        ]
    });
    assert_eq!(answer.json(), expected);

    // $select (the key always comes along) and its context URL.
    let answer = get(
        &app,
        "Users?$select=userKey,NAME&$orderby=userKey&$count=true",
    )
    .await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(
        answer.json(),
        json!({
            "@odata.context": context(&app, "Users(userKey,name)"),
            "@odata.count": 3,
            "value": [
                {"@odata.etag": "\"1\"", "id": s.ann, "userKey": "ann", "name": "Ann Smith"},
                {"@odata.etag": "\"1\"", "id": s.bob, "userKey": "bob", "name": "Bob Jones"},
                {"@odata.etag": "\"1\"", "id": s.cid, "userKey": "cid", "name": "Cid"},
            ]
        })
    );

    // $expand: navigation properties appear only when expanded, as objects.
    let answer = get(
        &app,
        "Users?$select=userKey&$expand=roles($select=roleKey;$orderby=roleKey)&$filter=userKey eq 'ann'",
    )
    .await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(
        answer.json(),
        json!({
            "@odata.context": context(&app, "Users(userKey,roles(roleKey))"),
            "value": [{
                "@odata.etag": "\"1\"", "id": s.ann, "userKey": "ann",
                "roles": [
                    {"@odata.etag": "\"1\"", "id": s.admin, "roleKey": "admin"},
                    {"@odata.etag": "\"1\"", "id": s.viewer, "roleKey": "viewer"},
                ]
            }]
        })
    );
    let answer = get(&app, "Users?$expand=groups&$filter=userKey eq 'ann'").await;
    answer.expect(StatusCode::OK, MINIMAL);
    let body = answer.json();
    assert_eq!(body["@odata.context"], context(&app, "Users(groups())"));
    let record = &body["value"][0];
    assert!(
        record.get("roles").is_none(),
        "roles not expanded: {record}"
    );
    assert_eq!(record["groups"][0]["groupKey"], "sales");
    assert_eq!(record["groups"][0]["name"], "Sales");

    // $search and $filter with a lambda.
    let answer = get(
        &app,
        "Users?$search=SMITH OR jones&$select=userKey&$orderby=userKey",
    )
    .await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(ids(&answer.json()), [s.ann.clone(), s.bob.clone()]);
    let answer = get(
        &app,
        "Users?$filter=roles/any(r: r/roleKey eq 'viewer')&$orderby=name desc&$select=name",
    )
    .await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(ids(&answer.json()), [s.bob.clone(), s.ann.clone()]);

    // Roles and Groups sets.
    let answer = get(&app, "Roles?$orderby=roleKey&$select=roleKey,description").await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(
        answer.json(),
        json!({
            "@odata.context": context(&app, "Roles(roleKey,description)"),
            "value": [
                {"@odata.etag": "\"1\"", "id": s.admin, "roleKey": "admin", "description": "Administrators"},
                {"@odata.etag": "\"1\"", "id": s.viewer, "roleKey": "viewer", "description": null},
            ]
        })
    );
    let answer = get(&app, "Groups?$expand=users($select=userKey)").await;
    answer.expect(StatusCode::OK, MINIMAL);
    let body = answer.json();
    assert_eq!(
        body["@odata.context"],
        context(&app, "Groups(users(userKey))")
    );
    assert_eq!(
        body["value"][0]["users"],
        json!([{"@odata.etag": "\"1\"", "id": s.ann, "userKey": "ann"}])
    );

    // odata.metadata=none: no context; =full: ids, types and links.
    for (how, headers, query) in [
        (
            "$format",
            vec![],
            "&$format=application/json;odata.metadata=none",
        ),
        (
            "Accept",
            vec![("Accept", "application/json;odata.metadata=none")],
            "",
        ),
    ] {
        let answer = get_with(
            &app,
            &format!("Users?$select=name&$filter=userKey eq 'cid'{query}"),
            &headers,
        )
        .await;
        answer.expect(StatusCode::OK, "application/json;odata.metadata=none");
        assert_eq!(
            answer.json(),
            json!({"value": [{"id": s.cid, "name": "Cid"}]}),
            "{how}"
        );
    }
    let answer = get_with(
        &app,
        "Users?$select=name,createdOn&$filter=userKey eq 'bob'&$expand=roles($select=roleKey)",
        &[("Accept", "application/json;odata.metadata=full")],
    )
    .await;
    answer.expect(StatusCode::OK, "application/json;odata.metadata=full");
    let body = answer.json();
    let bob = &body["value"][0];
    let created_on = bob["createdOn"].clone();
    assert_eq!(
        bob,
        &json!({
            "@odata.type": "#Identity.User",
            "@odata.id": format!("Users({})", s.bob),
            "@odata.editLink": format!("Users({})", s.bob),
            "@odata.etag": "\"1\"",
            "roles@odata.navigationLink": format!("Users({})/roles", s.bob),
            "groups@odata.navigationLink": format!("Users({})/groups", s.bob),
            "id": s.bob, "id@odata.type": "#Guid",
            "name": "Bob Jones",
            "createdOn": created_on, "createdOn@odata.type": "#DateTimeOffset",
            "roles": [{
                "@odata.type": "#Identity.Role",
                "@odata.id": format!("Roles({})", s.viewer),
                "@odata.editLink": format!("Roles({})", s.viewer),
                "@odata.etag": "\"1\"",
                "users@odata.navigationLink": format!("Roles({})/users", s.viewer),
                "id": s.viewer, "id@odata.type": "#Guid",
                "roleKey": "viewer",
            }]
        })
    );
    // A percent-encoded `$` (python-odata sends `%24top=...`) is the same option.
    let answer = get(
        &app,
        "Users?%24select=userKey&%24filter=userKey%20eq%20%27cid%27&%24top=5",
    )
    .await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(
        answer.json(),
        json!({"@odata.context": context(&app, "Users(userKey)"),
               "value": [{"@odata.etag": "\"1\"", "id": s.cid, "userKey": "cid"}]})
    );
    // $format=json is honoured.
    get(&app, "Users?$format=json")
        .await
        .expect(StatusCode::OK, MINIMAL);
}

#[tokio::test]
async fn single_entities_properties_and_values() {
    let app = spawn_app().await;
    let s = seed(&app).await;

    let answer = get(&app, &format!("Users({})", s.ann)).await;
    answer.expect(StatusCode::OK, MINIMAL);
    let mut expected = feed_user(&app, &s.ann).await;
    expected["@odata.context"] = json!(context(&app, "Users/$entity"));
    assert_eq!(answer.json(), expected);

    let answer = get(
        &app,
        &format!(
            "Users({})?$select=name&$expand=roles($select=roleKey)",
            s.bob
        ),
    )
    .await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(
        answer.json(),
        json!({
            "@odata.context": context(&app, "Users(name,roles(roleKey))/$entity"),
            "@odata.etag": "\"1\"", "id": s.bob, "name": "Bob Jones",
            "roles": [{"@odata.etag": "\"1\"", "id": s.viewer, "roleKey": "viewer"}]
        })
    );

    let answer = get(&app, &format!("Roles({})", s.admin)).await;
    answer.expect(StatusCode::OK, MINIMAL);
    let body = answer.json();
    assert_eq!(body["@odata.context"], context(&app, "Roles/$entity"));
    assert_eq!(body["roleKey"], "admin");
    assert!(body.get("users").is_none());
    let answer = get(&app, &format!("Groups({})?$select=groupKey", s.sales)).await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(
        answer.json(),
        json!({"@odata.context": context(&app, "Groups(groupKey)/$entity"),
               "@odata.etag": "\"1\"", "id": s.sales, "groupKey": "sales"})
    );

    // A property, its raw value, and null (204).
    let answer = get(&app, &format!("Users({})/name", s.ann)).await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(
        answer.json(),
        json!({"@odata.context": context(&app, &format!("Users({})/name", s.ann)),
               "value": "Ann Smith"})
    );
    let answer = get(&app, &format!("Users({})/name/$value", s.ann)).await;
    answer.expect(StatusCode::OK, "text/plain;charset=utf-8");
    assert_eq!(answer.body, "Ann Smith");
    let answer = get(&app, &format!("Users({})/status/$value", s.ann)).await;
    answer.expect(StatusCode::OK, "text/plain;charset=utf-8");
    assert_eq!(answer.body, "1");
    let answer = get(&app, &format!("Users({})/isTechnician", s.ann)).await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(answer.json()["value"], true);
    let answer = get(&app, &format!("Users({})/email", s.cid)).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert_eq!(answer.header("odata-version").as_deref(), Some("4.0"));
    assert_eq!(answer.body, "");
    let answer = get(&app, &format!("Users({})/email/$value", s.cid)).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);

    // Key as segment (OData 4.01) addresses the same entity.
    let answer = get(&app, &format!("Users/{}/name/$value", s.bob)).await;
    answer.expect(StatusCode::OK, "text/plain;charset=utf-8");
    assert_eq!(answer.body, "Bob Jones");

    // Options that do not apply to a single entity or a property are 400.
    let answer = get(&app, &format!("Users({})?$top=1", s.ann)).await;
    assert_eq!(
        answer.error(StatusCode::BAD_REQUEST, "BadRequest")["target"],
        "$top"
    );
    let answer = get(&app, &format!("Users({})/name?$select=name", s.ann)).await;
    assert_eq!(
        answer.error(StatusCode::BAD_REQUEST, "BadRequest")["target"],
        "$select"
    );
}

#[tokio::test]
async fn navigation_and_counts() {
    let app = spawn_app().await;
    let s = seed(&app).await;

    let answer = get(
        &app,
        &format!("Users({})/roles?$orderby=roleKey&$count=true", s.ann),
    )
    .await;
    answer.expect(StatusCode::OK, MINIMAL);
    let body = answer.json();
    assert_eq!(body["@odata.context"], context(&app, "Roles"));
    assert_eq!(body["@odata.count"], 2);
    assert_eq!(ids(&body), [s.admin.clone(), s.viewer.clone()]);
    assert!(body["value"][0].get("users").is_none());
    assert_eq!(body["value"][0]["roleKey"], "admin");

    let answer = get(
        &app,
        &format!("Users({})/roles?$filter=roleKey eq 'viewer'", s.ann),
    )
    .await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(ids(&answer.json()), vec![s.viewer.clone()]);
    let answer = get(&app, &format!("Users({})/groups?$select=groupKey", s.ann)).await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(
        answer.json(),
        json!({"@odata.context": context(&app, "Groups(groupKey)"),
               "value": [{"@odata.etag": "\"1\"", "id": s.sales, "groupKey": "sales"}]})
    );
    let answer = get(&app, &format!("Users({})/groups", s.cid)).await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(answer.json()["value"], json!([]));
    let answer = get(
        &app,
        &format!("Roles({})/users?$orderby=userKey&$select=userKey", s.viewer),
    )
    .await;
    answer.expect(StatusCode::OK, MINIMAL);
    let body = answer.json();
    assert_eq!(body["@odata.context"], context(&app, "Users(userKey)"));
    assert_eq!(ids(&body), [s.ann.clone(), s.bob.clone()]);
    let answer = get(&app, &format!("Groups({})/users", s.sales)).await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(ids(&answer.json()), vec![s.ann.clone()]);

    // `$` and `/` sent percent-encoded (curl --data-urlencode, Python's
    // urlencode) mean `$` and `/` (a raw `+` is a space on both APIs:
    // tests/api/query_strings.rs).
    let answer = get(
        &app,
        "Users?%24filter=roles%2F%24count%20eq%202&%24select=userKey",
    )
    .await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(ids(&answer.json()), vec![s.ann.clone()]);
    let answer = get(&app, "Users?$filter=roles/%24count eq 2&$select=userKey").await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(ids(&answer.json()), vec![s.ann.clone()]);

    // A related entity through the navigation, and one that is not related.
    let answer = get(
        &app,
        &format!("Users({})/roles({})?$select=roleKey", s.ann, s.admin),
    )
    .await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(
        answer.json(),
        json!({"@odata.context": context(&app, "Roles(roleKey)/$entity"),
               "@odata.etag": "\"1\"", "id": s.admin, "roleKey": "admin"})
    );
    get(&app, &format!("Users({})/roles({})", s.bob, s.admin))
        .await
        .error(StatusCode::NOT_FOUND, "NotFound");

    // $count: text/plain numbers, with $filter and $search.
    for (url, n) in [
        ("Users/$count".to_owned(), "3"),
        ("Users/$count?$filter=isTechnician eq false".to_owned(), "2"),
        ("Users/$count?$search=smith".to_owned(), "1"),
        ("Roles/$count".to_owned(), "2"),
        ("Groups/$count".to_owned(), "1"),
        (format!("Users({})/roles/$count", s.ann), "2"),
        (
            format!("Users({})/roles/$count?$filter=roleKey eq 'admin'", s.ann),
            "1",
        ),
        (format!("Roles({})/users/$count", s.viewer), "2"),
        (format!("Users({})/groups/$count", s.cid), "0"),
    ] {
        let answer = get(&app, &url).await;
        answer.expect(StatusCode::OK, "text/plain;charset=utf-8");
        assert_eq!(answer.body, n, "{url}");
    }
    let answer = get(&app, "Users/$count?$top=2").await;
    assert_eq!(
        answer.error(StatusCode::BAD_REQUEST, "BadRequest")["target"],
        "$top"
    );

    // The parent must exist.
    let missing = "00000000-0000-0000-0000-000000000001";
    for url in [
        format!("Users({missing})"),
        format!("Users({missing})/roles"),
        format!("Users({missing})/roles/$count"),
        format!("Roles({missing})/users"),
        format!("Users({missing})/name"),
    ] {
        get(&app, &url)
            .await
            .error(StatusCode::NOT_FOUND, "NotFound");
    }
}
