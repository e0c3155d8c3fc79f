//! Black-box tests of the OData v4 feed (`/api/{tenant}/{org}/odata/`):
//! service document, `$metadata` (XML parsed back, JSON CSDL), entity sets,
//! single entities, navigation, `$count`, properties and `$value`, context
//! URLs for `$select`/`$expand`, metadata levels, and errors, each with its
//! exact headers.

use crate::common;
use crate::feed_support;

use common::{TestApp, spawn_app};
use feed_support::{Element, POWER_QUERY_ACCEPT, get, get_with, parse_xml, root};
use reqwest::StatusCode;
use serde_json::{Value, json};

const MINIMAL: &str = "application/json;odata.metadata=minimal";

/// Ids of the seeded records.
struct Seed {
    ann: String,
    bob: String,
    cid: String,
    admin: String,
    viewer: String,
    sales: String,
}

/// Two roles, one group, three users: ann (admin, viewer; sales), bob
/// (viewer), cid (nothing, no e-mail).
async fn seed(app: &TestApp) -> Seed {
    let admin = app
        .create_role(json!({"roleKey": "admin", "description": "Administrators"}))
        .await;
    let viewer = app.create_role(json!({"roleKey": "viewer"})).await;
    let sales = app
        .create_group(json!({"groupKey": "sales", "name": "Sales"}))
        .await;
    let ann = app
        .create_user(
            json!({"userKey": "ann", "name": "Ann Smith", "email": "ann@example.com",
            "isTechnician": true, "roles": ["admin", "viewer"], "groups": ["sales"]}),
        )
        .await;
    let bob = app
        .create_user(
            json!({"userKey": "bob", "name": "Bob Jones", "isTechnician": false,
            "roles": ["viewer"]}),
        )
        .await;
    let cid = app
        .create_user(json!({"userKey": "cid", "name": "Cid", "isTechnician": false}))
        .await;
    Seed {
        ann,
        bob,
        cid,
        admin,
        viewer,
        sales,
    }
}

/// The API 1 record of a user without its navigation arrays: what the feed
/// must return for it (one serializer).
/// The feed's record of a user: API 1's without the navigation arrays, with
/// its ETag annotation.
async fn feed_user(app: &TestApp, id: &str) -> Value {
    let mut record = app.get_user(id).await;
    let etag = format!("\"{}\"", record["version"]);
    let object = record.as_object_mut().expect("object");
    object.remove("roles");
    object.remove("groups");
    object.insert("@odata.etag".to_owned(), json!(etag));
    record
}

fn context(app: &TestApp, fragment: &str) -> String {
    format!("{}/$metadata#{fragment}", root(app))
}

fn ids(body: &Value) -> Vec<String> {
    body["value"]
        .as_array()
        .expect("value array")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn service_document_with_and_without_trailing_slash() {
    let app = spawn_app().await;
    let expected = json!({
        "@odata.context": format!("{}/$metadata", root(&app)),
        "value": [
            {"name": "Users", "kind": "EntitySet", "url": "Users"},
            {"name": "Roles", "kind": "EntitySet", "url": "Roles"},
            {"name": "Groups", "kind": "EntitySet", "url": "Groups"},
        ]
    });
    for url in [root(&app), format!("{}/", root(&app))] {
        let answer = get(&app, &url).await;
        answer.expect(StatusCode::OK, MINIMAL);
        assert_eq!(answer.json(), expected);
    }
    let error = get(&app, "?$top=1")
        .await
        .error(StatusCode::BAD_REQUEST, "BadRequest");
    assert_eq!(error["target"], "$top");
    // A trailing slash after a resource is tolerated.
    let answer = get(&app, "Users/?$top=0&$count=true").await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(answer.json()["@odata.count"], 0);
    // Literal segments are case-insensitive, like everywhere in the API.
    let answer = get(
        &app,
        &format!("{}/API/{}/main/OData/", app.address, app.tenant),
    )
    .await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(answer.json()["value"], expected["value"]);
}

fn property<'a>(entity: &'a Element, name: &str) -> &'a Element {
    entity.child_with("Property", "Name", name)
}

/// Asserts a property's type, nullability and maximum length.
fn assert_property(entity: &Element, name: &str, ty: &str, nullable: bool, max: Option<&str>) {
    let p = property(entity, name);
    assert_eq!(p.attr("Type"), Some(ty), "{name}");
    assert_eq!(
        p.attr("Nullable"),
        if nullable { None } else { Some("false") },
        "{name}"
    );
    assert_eq!(p.attr("MaxLength"), max, "{name}");
}

#[tokio::test]
async fn metadata_is_csdl_xml_whatever_accept_prefers() {
    let app = spawn_app().await;
    for accept in [
        POWER_QUERY_ACCEPT,
        "application/json",
        "application/xml",
        "*/*",
    ] {
        let answer = get_with(&app, "$metadata", &[("Accept", accept)]).await;
        answer.expect(StatusCode::OK, "application/xml");
        assert!(answer.body.starts_with("<?xml"), "{accept}");
    }
    let answer = get(&app, "$metadata").await;
    let edmx = parse_xml(&answer.body);
    assert_eq!(edmx.name, "edmx:Edmx");
    assert_eq!(edmx.attr("Version"), Some("4.0"));
    let schema = edmx.find("Schema").expect("Schema");
    assert_eq!(schema.attr("Namespace"), Some("Identity"));
    assert_eq!(
        schema.attr("xmlns"),
        Some("http://docs.oasis-open.org/odata/ns/edm")
    );

    // Entity types: exactly the names of DESIGN.md, in the JSON order.
    let names = |entity: &Element| -> Vec<String> {
        entity
            .all("Property")
            .map(|p| p.attr("Name").unwrap_or_default().to_owned())
            .collect()
    };
    let base = [
        "isActive",
        "isSystem",
        "isDeleted",
        "createdBy",
        "createdOn",
        "modifiedBy",
        "modifiedOn",
        "version",
    ];
    let user = schema.child_with("EntityType", "Name", "User");
    let mut expected: Vec<&str> = vec![
        "id",
        "userKey",
        "name",
        "culture",
        "email",
        "isTechnician",
        "lastLogin",
        "status",
        "picture",
    ];
    expected.extend(base);
    assert_eq!(names(user), expected);
    let role = schema.child_with("EntityType", "Name", "Role");
    let mut expected: Vec<&str> = vec![
        "id",
        "roleKey",
        "description",
        "isAdministration",
        "isDefault",
        "isInternal",
    ];
    expected.extend(base);
    assert_eq!(names(role), expected);
    let group = schema.child_with("EntityType", "Name", "Group");
    let mut expected: Vec<&str> = vec!["id", "groupKey", "name", "email", "notes"];
    expected.extend(base);
    assert_eq!(names(group), expected);

    for entity in [user, role, group] {
        let key = entity.find("PropertyRef").expect("key");
        assert_eq!(key.attr("Name"), Some("id"));
        assert_property(entity, "id", "Edm.Guid", false, None);
        assert_property(entity, "createdOn", "Edm.DateTimeOffset", false, None);
        assert_property(entity, "createdBy", "Edm.String", true, Some("255"));
        assert_property(entity, "version", "Edm.Int32", false, None);
        assert_property(entity, "isDeleted", "Edm.Boolean", false, None);
    }
    // Timestamps declare the fractional-second digits they can have: no
    // more than the values the feed actually writes.
    let precision: usize = property(user, "createdOn")
        .attr("Precision")
        .and_then(|p| p.parse().ok())
        .expect("createdOn has a Precision");
    app.create_user(json!({"userKey": "t", "name": "T", "isTechnician": false}))
        .await;
    let created = get(&app, "Users?$select=createdOn").await.json()["value"][0]["createdOn"]
        .as_str()
        .expect("createdOn")
        .to_owned();
    let fraction = created
        .trim_end_matches('Z')
        .split_once('.')
        .map_or(0, |(_, f)| f.len());
    assert!(
        fraction <= precision,
        "{created} has more than {precision} digits"
    );
    assert_property(user, "userKey", "Edm.String", false, Some("100"));
    assert_property(user, "name", "Edm.String", false, Some("255"));
    assert_property(user, "email", "Edm.String", true, Some("255"));
    assert_property(user, "lastLogin", "Edm.DateTimeOffset", true, None);
    assert_property(user, "isTechnician", "Edm.Boolean", false, None);
    assert_property(user, "status", "Edm.Int32", false, None);
    assert_property(role, "roleKey", "Edm.String", false, Some("100"));
    assert_property(group, "groupKey", "Edm.String", false, Some("100"));
    assert_property(group, "name", "Edm.String", true, Some("255"));

    // status: its four values in Validation.AllowedValues.
    let status = property(user, "status");
    let allowed = status
        .annotation("Validation.AllowedValues")
        .expect("AllowedValues");
    let values: Vec<(String, String)> = allowed
        .find("Collection")
        .expect("collection")
        .all("Record")
        .map(|r| {
            let value = r
                .child_with("PropertyValue", "Property", "Value")
                .attr("Int")
                .unwrap_or_default()
                .to_owned();
            let name = r
                .annotation("Core.SymbolicName")
                .and_then(|a| a.attr("String"))
                .unwrap_or_default()
                .to_owned();
            (value, name)
        })
        .collect();
    assert_eq!(
        values,
        [
            ("1", "Active"),
            ("2", "Inactive"),
            ("3", "InvitationSent"),
            ("4", "InvitationExpired")
        ]
        .map(|(v, n)| (v.to_owned(), n.to_owned()))
    );

    // Navigation properties with partners.
    for (entity, nav, ty, partner) in [
        (user, "roles", "Collection(Identity.Role)", "users"),
        (user, "groups", "Collection(Identity.Group)", "users"),
        (role, "users", "Collection(Identity.User)", "roles"),
        (group, "users", "Collection(Identity.User)", "groups"),
    ] {
        let n = entity.child_with("NavigationProperty", "Name", nav);
        assert_eq!(n.attr("Type"), Some(ty));
        assert_eq!(n.attr("Partner"), Some(partner));
    }

    // The container: sets and bindings.
    let container = schema.child_with("EntityContainer", "Name", "Container");
    for (set, ty, bindings) in [
        (
            "Users",
            "Identity.User",
            vec![("roles", "Roles"), ("groups", "Groups")],
        ),
        ("Roles", "Identity.Role", vec![("users", "Users")]),
        ("Groups", "Identity.Group", vec![("users", "Users")]),
    ] {
        let s = container.child_with("EntitySet", "Name", set);
        assert_eq!(s.attr("EntityType"), Some(ty));
        let found: Vec<(&str, &str)> = s
            .all("NavigationPropertyBinding")
            .map(|b| {
                (
                    b.attr("Path").unwrap_or_default(),
                    b.attr("Target").unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(found, bindings);
        assert_eq!(
            s.annotation("Capabilities.TopSupported")
                .and_then(|a| a.attr("Bool")),
            Some("true")
        );
        let count = s
            .annotation("Capabilities.CountRestrictions")
            .expect("CountRestrictions");
        assert_eq!(
            count.record_value("Countable").and_then(|v| v.attr("Bool")),
            Some("true")
        );
        let search = s
            .annotation("Capabilities.SearchRestrictions")
            .expect("SearchRestrictions");
        assert_eq!(
            search
                .record_value("Searchable")
                .and_then(|v| v.attr("Bool")),
            Some("true")
        );
        let insert = s
            .annotation("Capabilities.InsertRestrictions")
            .expect("InsertRestrictions");
        assert_eq!(
            insert
                .record_value("Insertable")
                .and_then(|v| v.attr("Bool")),
            Some("true"),
            "the feed takes writes (tests/api/feed_writes.rs)"
        );
    }
    let users = container.child_with("EntitySet", "Name", "Users");
    // Every property is filterable (`picture` with `eq null`/`ne null`
    // only, which is what the probe asks).
    let filter = users
        .annotation("Capabilities.FilterRestrictions")
        .expect("FilterRestrictions");
    let non_filterable: Vec<&str> = filter
        .record_value("NonFilterableProperties")
        .and_then(|v| v.find("Collection").or(Some(v)))
        .map(|c| c.all("PropertyPath").map(|p| p.text.as_str()).collect())
        .unwrap_or_default();
    assert!(non_filterable.is_empty(), "{non_filterable:?}");
    let functions: Vec<&str> = container
        .annotation("Capabilities.FilterFunctions")
        .and_then(|a| a.find("Collection"))
        .map(|c| c.all("String").map(|s| s.text.as_str()).collect())
        .unwrap_or_default();
    for f in [
        "contains",
        "startswith",
        "endswith",
        "tolower",
        "year",
        "round",
    ] {
        assert!(functions.contains(&f), "{f} missing from {functions:?}");
    }
    // Every listed function really works in $filter.
    let samples = [
        ("contains", "contains(name,'a')"),
        ("startswith", "startswith(name,'a')"),
        ("endswith", "endswith(name,'a')"),
        ("length", "length(name) gt 1"),
        ("tolower", "tolower(name) eq 'a'"),
        ("year", "year(createdOn) gt 2000"),
        ("round", "round(version) eq 1"),
    ];
    for (f, sample) in samples {
        if functions.contains(&f) {
            get(&app, &format!("Users?$filter={sample}"))
                .await
                .expect(StatusCode::OK, MINIMAL);
        }
    }
    // The Aggregation vocabulary appears exactly when $apply works.
    let apply = get(&app, "Users?$apply=aggregate($count as n)").await;
    let declared = container.annotation("Aggregation.ApplySupported").is_some();
    let referenced = edmx
        .all("edmx:Reference")
        .any(|r| r.find("edmx:Include").and_then(|i| i.attr("Alias")) == Some("Aggregation"));
    if apply.status == StatusCode::OK {
        assert!(declared && referenced, "$apply works but is not declared");
    } else {
        apply.error(StatusCode::NOT_IMPLEMENTED, "NotImplemented");
        assert!(
            !declared && !referenced,
            "$apply is declared but answers 501"
        );
    }
    // MaxLevels says how deep $expand really goes.
    let expand = users
        .annotation("Capabilities.ExpandRestrictions")
        .expect("ExpandRestrictions");
    let max_levels: u32 = expand
        .record_value("MaxLevels")
        .and_then(|v| v.attr("Int"))
        .and_then(|v| v.parse().ok())
        .expect("MaxLevels");
    assert!(max_levels >= 1);
    let nested = get(&app, "Users?$expand=roles($expand=users)").await;
    assert_eq!(
        nested.status == StatusCode::OK,
        max_levels >= 2,
        "{}",
        nested.body
    );
}

#[tokio::test]
async fn metadata_as_json_csdl_only_with_format_json() {
    let app = spawn_app().await;
    for format in ["json", "application/json"] {
        let answer = get(&app, &format!("$metadata?$format={format}")).await;
        answer.expect(StatusCode::OK, "application/json");
        let doc = answer.json();
        assert_eq!(doc["$Version"], "4.0");
        assert_eq!(doc["$EntityContainer"], "Identity.Container");
        let user = &doc["Identity"]["User"];
        assert_eq!(user["$Kind"], "EntityType");
        assert_eq!(user["$Key"], json!(["id"]));
        // The service computes the key (and the other read-only properties).
        assert_eq!(
            user["id"],
            json!({"$Type": "Edm.Guid", "@Core.Computed": true})
        );
        assert_eq!(user["userKey"], json!({"$MaxLength": 100}));
        assert_eq!(user["email"], json!({"$Nullable": true, "$MaxLength": 255}));
        assert_eq!(user["status"]["$Type"], "Edm.Int32");
        assert_eq!(
            user["status"]["@Validation.AllowedValues"][0],
            json!({"Value": 1, "@Core.SymbolicName": "Active"})
        );
        assert_eq!(
            user["roles"],
            json!({"$Kind": "NavigationProperty", "$Collection": true,
                   "$Type": "Identity.Role", "$Partner": "users"})
        );
        let users = &doc["Identity"]["Container"]["Users"];
        assert_eq!(users["$Type"], "Identity.User");
        assert_eq!(
            users["$NavigationPropertyBinding"],
            json!({"roles": "Roles", "groups": "Groups"})
        );
        assert_eq!(users["@Capabilities.CountRestrictions"]["Countable"], true);
        assert_eq!(
            users["@Capabilities.FilterRestrictions"]["NonFilterableProperties"],
            json!([])
        );
        assert!(user["createdOn"]["$Precision"].is_u64());
    }
    let answer = get(&app, "$metadata?$format=atom").await;
    let error = answer.error(StatusCode::NOT_IMPLEMENTED, "NotImplemented");
    assert_eq!(error["target"], "$format");
    let answer = get(&app, "$metadata?$top=1").await;
    assert_eq!(
        answer.error(StatusCode::BAD_REQUEST, "BadRequest")["target"],
        "$top"
    );
}

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

#[tokio::test]
async fn errors_are_odata_errors_with_the_version_header() {
    let app = spawn_app().await;
    seed(&app).await;

    // Parse errors name the option, the offset and what was expected.
    let error = get(&app, "Users?$filter=name eq")
        .await
        .error(StatusCode::BAD_REQUEST, "BadRequest");
    assert_eq!(error["target"], "$filter");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains("offset"), "{message}");
    assert!(message.contains("expected"), "{message}");
    // Unknown properties are 400 naming the option.
    let error = get(&app, "Users?$select=nope")
        .await
        .error(StatusCode::BAD_REQUEST, "BadRequest");
    assert_eq!(error["target"], "$select");
    // Keys are unquoted GUIDs.
    for key in ["'ann'", "1", "true", "id=1"] {
        let error = get(&app, &format!("Users({key})"))
            .await
            .error(StatusCode::BAD_REQUEST, "BadRequest");
        assert_eq!(error["target"], "key", "{key}");
    }
    // Not even a literal: the resource path does not parse.
    let error = get(&app, "Users(ann)")
        .await
        .error(StatusCode::BAD_REQUEST, "BadRequest");
    assert_eq!(error["target"], "resource path");
    // Unknown resources are 404.
    get(&app, "Nobody")
        .await
        .error(StatusCode::NOT_FOUND, "NotFound");
    get(&app, "Users(00000000-0000-0000-0000-000000000001)/nothing")
        .await
        .error(StatusCode::NOT_FOUND, "NotFound");
    // What is not supported is 501 naming it, never ignored.
    // `$batch` is POST only (tests/api/feed_batch.rs).
    get(&app, "$batch")
        .await
        .error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed");
    for (url, target) in [
        ("Users/$ref", "$ref"),
        ("Users?$format=atom", "$format"),
        ("Users()", "resource path"),
    ] {
        let error = get(&app, url)
            .await
            .error(StatusCode::NOT_IMPLEMENTED, "NotImplemented");
        assert_eq!(error["target"], target, "{url}");
    }
    // A delta token not issued by the feed is 400 (tests/api/feed_delta.rs).
    let error = get(&app, "Users?$deltatoken=x")
        .await
        .error(StatusCode::BAD_REQUEST, "BadRequest");
    assert_eq!(error["target"], "$deltatoken");
    // A tampered skiptoken is 400.
    let error = get(&app, "Users?$skiptoken=abc.def")
        .await
        .error(StatusCode::BAD_REQUEST, "BadRequest");
    assert_eq!(error["target"], "$skiptoken");
    // Another (here unknown) tenant: 403 with the version header too.
    let answer = get(
        &app,
        &format!("{}/api/nobody/main/odata/Users", app.address),
    )
    .await;
    answer.error(StatusCode::FORBIDDEN, "Forbidden");
    // A method the resource does not take (writes: tests/api/feed_writes.rs).
    let response = app
        .client
        .patch(format!("{}/Users", root(&app)))
        .json(&json!({}))
        .send()
        .await
        .expect("PATCH");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        response
            .headers()
            .get_all("odata-version")
            .iter()
            .collect::<Vec<_>>(),
        ["4.0"]
    );
}

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

/// 406 for an `Accept` that allows nothing the feed writes (never for
/// `$metadata`, never when `$format` says what to write); JSON with any
/// parameters, wildcards and no `Accept` stay fine.
#[tokio::test]
async fn accept_without_anything_the_feed_writes_is_406() {
    let app = spawn_app().await;
    let seed = seed(&app).await;
    let entity = format!("Users({})", seed.ann);
    let related = format!("Users({})/roles", seed.ann);
    for accept in [
        "application/xml",
        "text/csv",
        "application/atom+xml, text/html",
        "application/json;q=0",
    ] {
        for url in [
            "",
            "Users",
            entity.as_str(),
            related.as_str(),
            "Users?$top=1",
        ] {
            let error = get_with(&app, url, &[("Accept", accept)])
                .await
                .error(StatusCode::NOT_ACCEPTABLE, "NotAcceptable");
            let message = error["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("application/json"),
                "{url} {accept}: {message}"
            );
        }
        // $metadata is XML whatever Accept says.
        let answer = get_with(&app, "$metadata", &[("Accept", accept)]).await;
        answer.expect(StatusCode::OK, "application/xml");
        // $format wins over Accept.
        get_with(&app, "Users?$format=json", &[("Accept", accept)])
            .await
            .expect(StatusCode::OK, MINIMAL);
    }
    // $count and $value are plain text: text/plain is fine there, and so
    // is JSON (clients that send one Accept for everything), XML is not.
    for url in ["Users/$count", &format!("{entity}/name/$value")] {
        for accept in ["text/plain", "text/*", "application/json", "*/*"] {
            let answer = get_with(&app, url, &[("Accept", accept)]).await;
            answer.expect(StatusCode::OK, "text/plain;charset=utf-8");
        }
        get_with(&app, url, &[("Accept", "application/xml")])
            .await
            .error(StatusCode::NOT_ACCEPTABLE, "NotAcceptable");
    }
    get_with(&app, "Users", &[("Accept", "text/plain")])
        .await
        .error(StatusCode::NOT_ACCEPTABLE, "NotAcceptable");
    for accept in [
        "*/*",
        "application/*",
        "application/json",
        "application/json;charset=utf-8",
        "application/json;odata.metadata=minimal;odata.streaming=true;charset=utf-8",
        "application/json;IEEE754Compatible=false",
        "application/xml;q=0.9, application/json;q=0.1",
        POWER_QUERY_ACCEPT,
    ] {
        let answer = get_with(&app, "Users", &[("Accept", accept)]).await;
        answer.expect(StatusCode::OK, MINIMAL);
        assert_eq!(ids(&answer.json()).len(), 3, "{accept}");
    }
    get(&app, "Users").await.expect(StatusCode::OK, MINIMAL);
}

/// `IEEE754Compatible=true` (in `Accept` or `$format`): Int64 and Decimal
/// values, `@odata.count` included, are JSON strings and the content type
/// says so; Int32 and Double stay numbers.
#[tokio::test]
async fn ieee754_compatible_writes_int64_as_strings() {
    let app = spawn_app().await;
    let seed = seed(&app).await;
    const IEEE: &str = "application/json;odata.metadata=minimal;IEEE754Compatible=true";
    let apply = "Users?$apply=groupby((isTechnician),aggregate($count as n,\
                 status with sum as s,status with max as hi,status with average as avg))\
                 /orderby(isTechnician)";

    // Reference: the same reads without the flag.
    let plain_page = get(&app, "Users?$count=true&$orderby=userKey").await;
    plain_page.expect(StatusCode::OK, MINIMAL);
    let plain_page = plain_page.json();
    assert_eq!(plain_page["@odata.count"], json!(3));
    let plain_apply = get(&app, apply).await;
    plain_apply.expect(StatusCode::OK, MINIMAL);
    let plain_apply = plain_apply.json();
    assert!(plain_apply["value"][0]["n"].is_u64(), "{plain_apply}");

    let stringified = |mut page: Value, int64: &[&str]| {
        for r in page["value"].as_array_mut().expect("value") {
            for name in int64 {
                let n = r[*name].as_i64().expect("an Int64 number");
                r[*name] = json!(n.to_string());
            }
        }
        page
    };
    let accept = [("Accept", "application/json;IEEE754Compatible=true")];
    let formats = [
        "$format=application/json;IEEE754Compatible=true",
        "$format=application%2Fjson%3Bieee754compatible%3Dtrue",
    ];
    // Collections with their count: every way to ask.
    let mut answers = vec![get_with(&app, "Users?$count=true&$orderby=userKey", &accept).await];
    for format in formats {
        answers.push(
            get(
                &app,
                &format!("Users?$count=true&$orderby=userKey&{format}"),
            )
            .await,
        );
    }
    for answer in &answers {
        answer.expect(StatusCode::OK, IEEE);
        let mut body = answer.json();
        assert_eq!(body["@odata.count"], json!("3"), "{body}");
        body["@odata.count"] = json!(3);
        // Entities have no Int64 or Decimal property: `status` and
        // `version` (Int32) stay numbers, the records are the same.
        assert_eq!(body, plain_page);
        assert!(body["value"][0]["status"].is_u64());
        assert!(body["value"][0]["version"].is_u64());
    }
    // $apply: the count and the sum are Int64, max of an Int32 is Int32,
    // the average a Double.
    let mut answers = vec![get_with(&app, apply, &accept).await];
    for format in formats {
        answers.push(get(&app, &format!("{apply}&{format}")).await);
    }
    let expected = stringified(plain_apply.clone(), &["n", "s"]);
    for answer in &answers {
        answer.expect(StatusCode::OK, IEEE);
        let body = answer.json();
        assert_eq!(body, expected);
        assert!(body["value"][0]["hi"].is_u64(), "{body}");
        assert!(body["value"][0]["avg"].is_number(), "{body}");
    }
    // Other levels keep the flag in their content type.
    let answer = get_with(
        &app,
        &format!("Users({})", seed.ann),
        &[(
            "Accept",
            "application/json;odata.metadata=full;IEEE754Compatible=true",
        )],
    )
    .await;
    answer.expect(
        StatusCode::OK,
        "application/json;odata.metadata=full;IEEE754Compatible=true",
    );
    assert!(answer.json()["version"].is_u64());
    let answer = get(
        &app,
        "Users?$count=true&$format=application/json;odata.metadata=none;IEEE754Compatible=true",
    )
    .await;
    answer.expect(
        StatusCode::OK,
        "application/json;odata.metadata=none;IEEE754Compatible=true",
    );
    assert_eq!(answer.json()["@odata.count"], json!("3"));
    // $format wins: no flag there, none from Accept.
    let answer = get_with(&app, "Users?$count=true&$format=json", &accept).await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(answer.json()["@odata.count"], json!(3));
    // `/$count` stays plain text.
    let answer = get_with(&app, "Users/$count", &accept).await;
    answer.expect(StatusCode::OK, "text/plain;charset=utf-8");
    assert_eq!(answer.body, "3");
}
