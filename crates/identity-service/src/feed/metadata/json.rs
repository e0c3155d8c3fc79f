//! The CSDL document as JSON (OData CSDL JSON).

use super::*;

fn json_value(value: &Value) -> Json {
    match value {
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Str(s) => Json::String(s.clone()),
        Value::Enum(_, members) => Json::String(members.join(",")),
        // CSDL JSON §14.4.1.3: property and navigation property paths are strings.
        Value::PropertyPath(p) | Value::NavigationPropertyPath(p) => Json::String(p.clone()),
        Value::Record(fields, annotations) => {
            let mut m = Map::new();
            for (name, v) in fields {
                m.insert((*name).to_owned(), json_value(v));
            }
            json_annotations(&mut m, annotations);
            Json::Object(m)
        }
        Value::Collection(items) => Json::Array(items.iter().map(json_value).collect()),
    }
}

fn json_annotations(m: &mut Map<String, Json>, annotations: &[Annotation]) {
    for a in annotations {
        m.insert(format!("@{}", a.term), json_value(&a.value));
    }
}

fn json_property(p: &Property, writable: bool, caps: &Capabilities) -> Json {
    let mut m = Map::new();
    if p.edm_type != EdmType::String {
        m.insert("$Type".into(), p.edm_type.csdl_name().into());
    }
    if p.nullable {
        m.insert("$Nullable".into(), true.into());
    }
    if let Some(l) = p.max_length {
        m.insert("$MaxLength".into(), l.into());
    }
    if let Some(n) = precision(p, caps) {
        m.insert("$Precision".into(), n.into());
    }
    json_annotations(&mut m, &property_annotations(p, writable));
    Json::Object(m)
}

/// The JSON CSDL document (OData CSDL JSON 4.01 format, `$Version` 4.0).
pub fn csdl_json(schema: &dyn Schema, caps: &Capabilities, page_size: u64) -> Json {
    let mut references = Map::new();
    for v in vocabularies(caps, schema) {
        references.insert(
            format!("{VOCABULARIES}/{}.json", v.namespace),
            json!({ "$Include": [{ "$Namespace": v.namespace, "$Alias": v.alias }] }),
        );
    }
    let mut ns = Map::new();
    for set in schema.entity_sets() {
        let entity = &set.entity_type;
        let mut t = Map::new();
        t.insert("$Kind".into(), "EntityType".into());
        t.insert("$Key".into(), json!(entity.key));
        let writable = settable(set);
        for p in &entity.properties {
            t.insert(
                p.name.clone(),
                json_property(p, writable.contains(&p.name.as_str()), caps),
            );
        }
        for nav in &entity.navigations {
            let mut n = Map::new();
            n.insert("$Kind".into(), "NavigationProperty".into());
            match nav.multiplicity {
                Multiplicity::Many => {
                    n.insert("$Collection".into(), true.into());
                }
                // CSDL JSON: an absent `$Nullable` means false.
                Multiplicity::ZeroOrOne => {
                    n.insert("$Nullable".into(), true.into());
                }
                Multiplicity::One => {}
            }
            n.insert("$Type".into(), target_type(schema, &nav.target_set).into());
            if let Some(partner) = &nav.partner {
                n.insert("$Partner".into(), partner.clone().into());
            }
            t.insert(nav.name.clone(), Json::Object(n));
        }
        ns.insert(entity.name.clone(), Json::Object(t));
    }
    let mut container = Map::new();
    container.insert("$Kind".into(), "EntityContainer".into());
    for set in schema.entity_sets() {
        let mut s = Map::new();
        s.insert("$Collection".into(), true.into());
        s.insert(
            "$Type".into(),
            qualified(schema, &set.entity_type.name).into(),
        );
        let bindings: Map<String, Json> = set
            .entity_type
            .navigations
            .iter()
            .map(|n| (n.name.clone(), Json::String(n.target_set.clone())))
            .collect();
        if !bindings.is_empty() {
            s.insert("$NavigationPropertyBinding".into(), Json::Object(bindings));
        }
        json_annotations(&mut s, &concurrency_annotations(set));
        if let Some(c) = caps.set(&set.name) {
            json_annotations(&mut s, &set_annotations(set, c, caps.max_expand_levels));
        }
        container.insert(set.name.clone(), Json::Object(s));
    }
    json_annotations(
        &mut container,
        &container_annotations(schema, caps, page_size),
    );
    ns.insert(CONTAINER.to_owned(), Json::Object(container));

    let mut doc = Map::new();
    doc.insert("$Version".into(), "4.0".into());
    doc.insert(
        "$EntityContainer".into(),
        qualified(schema, CONTAINER).into(),
    );
    doc.insert("$Reference".into(), Json::Object(references));
    doc.insert(schema.namespace().to_owned(), Json::Object(ns));
    Json::Object(doc)
}
