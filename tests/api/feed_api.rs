//! Black-box tests of the OData v4 feed (`/api/{tenant}/{org}/odata/`):
//! service document, `$metadata` (XML parsed back, JSON CSDL), entity sets,
//! single entities, navigation, `$count`, properties and `$value`, context
//! URLs for `$select`/`$expand`, metadata levels, and errors, each with its
//! exact headers.

use crate::common;
use crate::feed_support;

mod apply_and_pictures;
mod formats;
mod reads;

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
