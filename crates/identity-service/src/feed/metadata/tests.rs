//! The CSDL documents of the identity schema.

use super::*;
use crate::domain::UserStatus;
use crate::feed::DEFAULT_PAGE_SIZE;
use crate::odata::schema::identity_schema;

#[test]
fn status_values_come_from_the_schema_and_match_the_domain() {
    let schema = identity_schema();
    let users = schema.entity_set("Users").expect("Users");
    let status = users.entity_type.property("status").expect("status");
    let values = enumerated_values(status.description.as_deref().unwrap_or(""))
        .expect("status is documented as an enumeration");
    assert_eq!(values.len(), 4);
    for (n, _) in &values {
        assert_eq!(
            UserStatus::from_i64(*n).map(UserStatus::as_i32),
            Some(*n as i32)
        );
    }
    assert_eq!(values[0], (1, "Active"));
    assert_eq!(values[3], (4, "InvitationExpired"));
    assert_eq!(enumerated_values("Always false: deletion is hard."), None);
}

#[test]
fn xml_has_types_keys_and_navigations() {
    let xml = csdl_xml(
        identity_schema(),
        &Capabilities::default(),
        DEFAULT_PAGE_SIZE,
    )
    .expect("xml");
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
    for needle in [
        r#"<EntityType Name="User">"#,
        r#"<PropertyRef Name="id"/>"#,
        r#"<Property Name="userKey" Type="Edm.String" Nullable="false" MaxLength="100"/>"#,
        r#"<Property Name="email" Type="Edm.String" MaxLength="255"/>"#,
        r#"<NavigationProperty Name="roles" Type="Collection(Identity.Role)" Partner="users"/>"#,
        r#"<NavigationPropertyBinding Path="roles" Target="Roles"/>"#,
        r#"<EntitySet Name="Users" EntityType="Identity.User">"#,
        r#"<Annotation Term="Core.SymbolicName" String="InvitationExpired"/>"#,
    ] {
        assert!(xml.contains(needle), "missing {needle} in\n{xml}");
    }
    assert!(!xml.contains("Aggregation"), "no $apply, no Aggregation");
}

#[test]
fn every_set_declares_its_concurrency_property() {
    let schema = identity_schema();
    let xml = csdl_xml(schema, &Capabilities::default(), DEFAULT_PAGE_SIZE).expect("xml");
    // Without the indentation.
    let xml: String = xml.lines().map(str::trim).collect();
    let annotation = r#"<Annotation Term="Core.OptimisticConcurrency"><Collection><PropertyPath>version</PropertyPath></Collection></Annotation>"#;
    assert_eq!(xml.matches(annotation).count(), 3, "{xml}");
    for set in ["Users", "Roles", "Groups"] {
        let start = xml.find(&format!(r#"<EntitySet Name="{set}""#)).expect(set);
        let end = start + xml[start..].find("</EntitySet>").expect("end");
        assert!(xml[start..end].contains(annotation), "{set}");
    }
    let doc = csdl_json(schema, &Capabilities::default(), DEFAULT_PAGE_SIZE);
    for set in ["Users", "Roles", "Groups"] {
        assert_eq!(
            doc["Identity"]["Container"][set]["@Core.OptimisticConcurrency"],
            json!(["version"])
        );
    }
}

#[test]
fn json_csdl_mirrors_the_xml() {
    let caps = Capabilities {
        apply_transformations: vec!["aggregate"],
        ..Capabilities::default()
    };
    let doc = csdl_json(identity_schema(), &caps, DEFAULT_PAGE_SIZE);
    assert_eq!(doc["$EntityContainer"], "Identity.Container");
    let user = &doc["Identity"]["User"];
    assert_eq!(user["$Key"], json!(["id"]));
    assert_eq!(user["id"]["$Type"], "Edm.Guid");
    assert_eq!(user["email"]["$Nullable"], true);
    assert_eq!(user["status"]["$Type"], "Edm.Int32");
    assert_eq!(user["roles"]["$Partner"], "users");
    assert_eq!(
        doc["Identity"]["Container"]["@Aggregation.ApplySupported"]["Transformations"],
        json!(["aggregate"])
    );
}
