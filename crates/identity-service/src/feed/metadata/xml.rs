//! The CSDL document as XML.

use super::*;

type XmlWriter = Writer<Vec<u8>>;

/// Writes `value` as attribute (`Bool="true"`) when it is a simple value,
/// else as a child element.
fn xml_with_value<'a>(
    element: quick_xml::writer::ElementWriter<'a, Vec<u8>>,
    value: &Value,
    annotations: &[Annotation],
) -> io::Result<()> {
    let simple = match value {
        Value::Bool(b) => Some(("Bool", b.to_string())),
        Value::Int(i) => Some(("Int", i.to_string())),
        Value::Str(s) => Some(("String", s.clone())),
        Value::Enum(ty, members) => Some(("EnumMember", enum_xml(ty, members))),
        Value::PropertyPath(p) => Some(("PropertyPath", p.clone())),
        Value::NavigationPropertyPath(p) => Some(("NavigationPropertyPath", p.clone())),
        Value::Record(..) | Value::Collection(_) => None,
    };
    match simple {
        Some((attr, text)) => {
            let element = element.with_attribute((attr, text.as_str()));
            if annotations.is_empty() {
                element.write_empty()?;
            } else {
                element.write_inner_content(|w| xml_annotations(w, annotations))?;
            }
        }
        None => {
            element.write_inner_content(|w| {
                xml_expression(w, value)?;
                xml_annotations(w, annotations)
            })?;
        }
    }
    Ok(())
}

fn enum_xml(ty: &str, members: &[&str]) -> String {
    members
        .iter()
        .map(|m| format!("{ty}/{m}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A value as an element (inside a `Collection` or as a child).
fn xml_expression(w: &mut XmlWriter, value: &Value) -> io::Result<()> {
    let text = |w: &mut XmlWriter, name: &str, t: &str| -> io::Result<()> {
        w.create_element(name)
            .write_text_content(BytesText::new(t))?;
        Ok(())
    };
    match value {
        Value::Bool(b) => text(w, "Bool", &b.to_string()),
        Value::Int(i) => text(w, "Int", &i.to_string()),
        Value::Str(s) => text(w, "String", s),
        Value::Enum(ty, members) => text(w, "EnumMember", &enum_xml(ty, members)),
        Value::PropertyPath(p) => text(w, "PropertyPath", p),
        Value::NavigationPropertyPath(p) => text(w, "NavigationPropertyPath", p),
        Value::Record(fields, annotations) => {
            w.create_element("Record").write_inner_content(|w| {
                for (name, v) in fields {
                    let element = w
                        .create_element("PropertyValue")
                        .with_attribute(("Property", *name));
                    xml_with_value(element, v, &[])?;
                }
                xml_annotations(w, annotations)
            })?;
            Ok(())
        }
        Value::Collection(items) => {
            let element = w.create_element("Collection");
            if items.is_empty() {
                element.write_empty()?;
            } else {
                element.write_inner_content(|w| {
                    for item in items {
                        xml_expression(w, item)?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        }
    }
}

fn xml_annotations(w: &mut XmlWriter, annotations: &[Annotation]) -> io::Result<()> {
    for a in annotations {
        let element = w
            .create_element("Annotation")
            .with_attribute(("Term", a.term));
        xml_with_value(element, &a.value, &[])?;
    }
    Ok(())
}

fn xml_property(
    w: &mut XmlWriter,
    p: &Property,
    writable: bool,
    caps: &Capabilities,
) -> io::Result<()> {
    let mut element = w
        .create_element("Property")
        .with_attribute(("Name", p.name.as_str()))
        .with_attribute(("Type", p.edm_type.csdl_name()));
    if !p.nullable {
        element = element.with_attribute(("Nullable", "false"));
    }
    let max_length = p.max_length.map(|m| m.to_string());
    if let Some(m) = &max_length {
        element = element.with_attribute(("MaxLength", m.as_str()));
    }
    let precision = precision(p, caps).map(|n| n.to_string());
    if let Some(n) = &precision {
        element = element.with_attribute(("Precision", n.as_str()));
    }
    let annotations = property_annotations(p, writable);
    if annotations.is_empty() {
        element.write_empty()?;
    } else {
        element.write_inner_content(|w| xml_annotations(w, &annotations))?;
    }
    Ok(())
}

fn xml_entity_type(
    w: &mut XmlWriter,
    schema: &dyn Schema,
    set: &EntitySet,
    caps: &Capabilities,
) -> io::Result<()> {
    let entity = &set.entity_type;
    w.create_element("EntityType")
        .with_attribute(("Name", entity.name.as_str()))
        .write_inner_content(|w| {
            w.create_element("Key").write_inner_content(|w| {
                for k in &entity.key {
                    w.create_element("PropertyRef")
                        .with_attribute(("Name", k.as_str()))
                        .write_empty()?;
                }
                Ok(())
            })?;
            let writable = settable(set);
            for p in &entity.properties {
                xml_property(w, p, writable.contains(&p.name.as_str()), caps)?;
            }
            for nav in &entity.navigations {
                let target = target_type(schema, &nav.target_set);
                let ty = if nav.is_collection() {
                    format!("Collection({target})")
                } else {
                    target
                };
                let mut element = w
                    .create_element("NavigationProperty")
                    .with_attribute(("Name", nav.name.as_str()))
                    .with_attribute(("Type", ty.as_str()));
                // A single-valued navigation is nullable unless it says not.
                if nav.multiplicity == Multiplicity::One {
                    element = element.with_attribute(("Nullable", "false"));
                }
                if let Some(partner) = &nav.partner {
                    element = element.with_attribute(("Partner", partner.as_str()));
                }
                element.write_empty()?;
            }
            Ok(())
        })?;
    Ok(())
}

/// The CSDL XML document.
pub fn csdl_xml(
    schema: &dyn Schema,
    caps: &Capabilities,
    page_size: u64,
) -> Result<String, io::Error> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    w.create_element("edmx:Edmx")
        .with_attribute(("xmlns:edmx", "http://docs.oasis-open.org/odata/ns/edmx"))
        .with_attribute(("Version", "4.0"))
        .write_inner_content(|w| {
            for v in vocabularies(caps, schema) {
                let uri = format!("{VOCABULARIES}/{}.xml", v.namespace);
                w.create_element("edmx:Reference")
                    .with_attribute(("Uri", uri.as_str()))
                    .write_inner_content(|w| {
                        w.create_element("edmx:Include")
                            .with_attribute(("Namespace", v.namespace))
                            .with_attribute(("Alias", v.alias))
                            .write_empty()?;
                        Ok(())
                    })?;
            }
            w.create_element("edmx:DataServices")
                .write_inner_content(|w| {
                    w.create_element("Schema")
                        .with_attribute(("xmlns", "http://docs.oasis-open.org/odata/ns/edm"))
                        .with_attribute(("Namespace", schema.namespace()))
                        .write_inner_content(|w| {
                            for set in schema.entity_sets() {
                                xml_entity_type(w, schema, set, caps)?;
                            }
                            xml_container(w, schema, caps, page_size)
                        })?;
                    Ok(())
                })?;
            Ok(())
        })?;
    String::from_utf8(w.into_inner()).map_err(io::Error::other)
}

fn xml_container(
    w: &mut XmlWriter,
    schema: &dyn Schema,
    caps: &Capabilities,
    page_size: u64,
) -> io::Result<()> {
    w.create_element("EntityContainer")
        .with_attribute(("Name", CONTAINER))
        .write_inner_content(|w| {
            for set in schema.entity_sets() {
                let ty = qualified(schema, &set.entity_type.name);
                w.create_element("EntitySet")
                    .with_attribute(("Name", set.name.as_str()))
                    .with_attribute(("EntityType", ty.as_str()))
                    .write_inner_content(|w| {
                        for nav in &set.entity_type.navigations {
                            w.create_element("NavigationPropertyBinding")
                                .with_attribute(("Path", nav.name.as_str()))
                                .with_attribute(("Target", nav.target_set.as_str()))
                                .write_empty()?;
                        }
                        xml_annotations(w, &concurrency_annotations(set))?;
                        if let Some(c) = caps.set(&set.name) {
                            xml_annotations(w, &set_annotations(set, c, caps.max_expand_levels))?;
                        }
                        Ok(())
                    })?;
            }
            xml_annotations(w, &container_annotations(schema, caps, page_size))
        })?;
    Ok(())
}
