//! The OData 4.01 JSON batch format (OData JSON Format 4.01 §19):
//! `{"requests":[{id, method, url, headers, body, atomicityGroup,
//! dependsOn}]}`, answered `{"responses":[{id, status, headers, body,
//! atomicityGroup}]}`. Requests of one atomicity group must be adjacent;
//! each group is a change set.

use actix_web::http::Method;
use serde_json::{Map, Value};

use super::multipart::Malformed;
use super::{Answer, Inner, Item, Outcome};

fn text<'a>(
    request: &'a Map<String, Value>,
    name: &str,
    n: usize,
) -> Result<Option<&'a str>, Malformed> {
    match request.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("requests[{n}].{name} must be a string")),
    }
}

fn request(n: usize, value: &Value) -> Result<(Option<String>, Inner), Malformed> {
    let object = value
        .as_object()
        .ok_or_else(|| format!("requests[{n}] must be an object"))?;
    if let Some(name) = object.keys().find(|k| {
        !matches!(
            k.as_str(),
            "id" | "method" | "url" | "headers" | "body" | "atomicityGroup" | "dependsOn"
        )
    }) {
        return Err(format!(
            "requests[{n}] has an unknown member `{}`",
            crate::error::echo(name)
        ));
    }
    let id = text(object, "id", n)?
        .ok_or_else(|| format!("requests[{n}] has no id"))?
        .to_owned();
    let method =
        text(object, "method", n)?.ok_or_else(|| format!("requests[{n}] has no method"))?;
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("requests[{n}].method is not an HTTP method"))?;
    let url = text(object, "url", n)?
        .ok_or_else(|| format!("requests[{n}] has no url"))?
        .to_owned();
    let mut headers = Vec::new();
    match object.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, value) in map {
                let value = value
                    .as_str()
                    .ok_or_else(|| format!("requests[{n}].headers.{name} must be a string"))?;
                headers.push((name.clone(), value.to_owned()));
            }
        }
        Some(_) => return Err(format!("requests[{n}].headers must be an object")),
    }
    let body = match object.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(body) => {
            if !headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            {
                headers.push(("Content-Type".into(), "application/json".into()));
            }
            body.to_string().into_bytes()
        }
    };
    let depends_on = match object.get("dependsOn") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("requests[{n}].dependsOn must list ids (strings)"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(format!("requests[{n}].dependsOn must be an array")),
    };
    let group = text(object, "atomicityGroup", n)?.map(str::to_owned);
    Ok((
        group,
        Inner {
            id: Some(id),
            method,
            url,
            headers,
            body,
            depends_on,
        },
    ))
}

/// The requests of a JSON batch body.
pub(super) fn parse(body: &[u8]) -> Result<Vec<Item>, Malformed> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the batch body is not JSON: {e}"))?;
    let requests = value
        .as_object()
        .and_then(|o| o.get("requests"))
        .and_then(Value::as_array)
        .ok_or_else(|| "a JSON batch is {\"requests\": [...]}".to_owned())?;
    let mut items: Vec<Item> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut closed_groups = std::collections::HashSet::new();
    for (n, value) in requests.iter().enumerate() {
        let (group, inner) = request(n, value)?;
        let id = inner.id.clone().unwrap_or_default();
        for dependency in &inner.depends_on {
            if !seen.contains(dependency) {
                return Err(format!(
                    "requests[{n}].dependsOn names `{}`, which is not an earlier request or group",
                    crate::error::echo(dependency)
                ));
            }
        }
        if !seen.insert(id.clone()) {
            return Err(format!(
                "requests[{n}].id `{}` is not unique",
                crate::error::echo(&id)
            ));
        }
        match group {
            None => items.push(Item::Single(inner)),
            Some(group) => {
                if inner.method == Method::GET {
                    return Err(format!(
                        "requests[{n}]: an atomicity group holds no GET; send reads outside it"
                    ));
                }
                if let Some(Item::ChangeSet {
                    group: Some(last),
                    requests,
                }) = items.last_mut()
                    && *last == group
                {
                    requests.push(inner);
                    continue;
                }
                if !closed_groups.insert(group.clone()) {
                    return Err(format!(
                        "requests[{n}]: the requests of atomicity group `{}` must be adjacent",
                        crate::error::echo(&group)
                    ));
                }
                seen.insert(group.clone());
                items.push(Item::ChangeSet {
                    group: Some(group),
                    requests: vec![inner],
                });
            }
        }
    }
    Ok(items)
}

fn answer_json(answer: &Answer) -> Value {
    let mut object = Map::new();
    if let Some(id) = &answer.id {
        object.insert("id".into(), Value::String(id.clone()));
    }
    if let Some(group) = &answer.group {
        object.insert("atomicityGroup".into(), Value::String(group.clone()));
    }
    object.insert("status".into(), Value::from(answer.status.as_u16()));
    let mut headers = Map::new();
    let mut is_json = false;
    for (name, value) in &answer.headers {
        if name.eq_ignore_ascii_case("content-type") {
            is_json = value.to_ascii_lowercase().starts_with("application/json");
        }
        headers.insert(name.to_ascii_lowercase(), Value::String(value.clone()));
    }
    object.insert("headers".into(), Value::Object(headers));
    if !answer.body.is_empty() {
        let body = if is_json {
            serde_json::from_slice(&answer.body).ok()
        } else {
            None
        };
        object.insert(
            "body".into(),
            body.unwrap_or_else(|| Value::String(String::from_utf8_lossy(&answer.body).into())),
        );
    }
    Value::Object(object)
}

/// The answer body of a JSON batch.
pub(super) fn render(outcomes: &[Outcome]) -> Vec<u8> {
    let responses: Vec<Value> = outcomes
        .iter()
        .flat_map(|outcome| match outcome {
            Outcome::Single(answer) => vec![answer_json(answer)],
            Outcome::ChangeSet(answers) => answers.iter().map(answer_json).collect(),
        })
        .collect();
    serde_json::json!({ "responses": responses })
        .to_string()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_become_change_sets() {
        let body = br#"{"requests":[
            {"id":"r","method":"get","url":"Users"},
            {"id":"1","method":"post","url":"Roles","atomicityGroup":"g","body":{"roleKey":"a"}},
            {"id":"2","method":"post","url":"$1/x","atomicityGroup":"g","dependsOn":["1"]}
        ]}"#;
        let items = parse(body).expect("parses");
        assert_eq!(items.len(), 2);
        let Item::ChangeSet { group, requests } = &items[1] else {
            panic!("a group")
        };
        assert_eq!(group.as_deref(), Some("g"));
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].method, Method::POST);
        assert!(
            requests[0]
                .headers
                .contains(&("Content-Type".into(), "application/json".into()))
        );
    }

    #[test]
    fn malformed_bodies_are_errors() {
        for body in [
            "",
            "[]",
            "{\"requests\":{}}",
            "{\"requests\":[1]}",
            "{\"requests\":[{\"method\":\"get\",\"url\":\"Users\"}]}",
            "{\"requests\":[{\"id\":\"1\",\"url\":\"Users\"}]}",
            "{\"requests\":[{\"id\":\"1\",\"method\":\"get\"}]}",
            "{\"requests\":[{\"id\":\"1\",\"method\":\"get\",\"url\":\"Users\",\"x\":1}]}",
            "{\"requests\":[{\"id\":\"1\",\"method\":\"get\",\"url\":\"Users\",\"dependsOn\":[\"2\"]}]}",
            "{\"requests\":[{\"id\":\"1\",\"method\":\"get\",\"url\":\"a\"},{\"id\":\"1\",\"method\":\"get\",\"url\":\"b\"}]}",
            "{\"requests\":[{\"id\":\"1\",\"method\":\"post\",\"url\":\"a\",\"atomicityGroup\":\"g\"},{\"id\":\"2\",\"method\":\"get\",\"url\":\"b\"},{\"id\":\"3\",\"method\":\"post\",\"url\":\"a\",\"atomicityGroup\":\"g\"}]}",
        ] {
            assert!(parse(body.as_bytes()).is_err(), "{body}");
        }
    }
}
