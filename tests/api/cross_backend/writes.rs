//! Writes on the v4 feed, compared across backends: one script of creates
//! (with `@odata.bind`), `PATCH`, `PUT`, `$ref`, deletes, refused writes and
//! a JSON `$batch` (a change set rolled back, one committed)
//! (409 on keys and e-mails differing only in case, non-ASCII included;
//! 400; 412) runs on every backend; each answer (status, `ETag`, body) and
//! the data it leaves must be the same as on SQLite. Ids differ between
//! the runs by construction, so every id is replaced by the label of the
//! entity it names before comparing.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestApp, spawn_app_with};

/// One step: method, path under the feed root and body, where
/// `{Set:label}` stands for the id of the entity created under that label;
/// a 201 answer stores its id under `label`.
struct Step {
    method: Method,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: Option<Value>,
    label: Option<&'static str>,
}

fn step(method: Method, path: &'static str, body: Option<Value>) -> Step {
    Step {
        method,
        path,
        headers: &[],
        body,
        label: None,
    }
}

fn script() -> Vec<Step> {
    let create = |path: &'static str, label: &'static str, body: Value| Step {
        label: Some(label),
        ..step(Method::POST, path, Some(body))
    };
    vec![
        create(
            "Roles",
            "arzte",
            json!({"roleKey": "Ärzte", "description": "Straße Ω \"quoted\" 100%_"}),
        ),
        create(
            "Roles",
            "admin",
            json!({"roleKey": "admin", "isAdministration": true}),
        ),
        create(
            "Groups",
            "ops",
            json!({"groupKey": "opérations", "name": "Opérations", "email": "Ops@Example.com"}),
        ),
        create(
            "Users",
            "zoe",
            json!({"userKey": "zoë", "name": "Zoë Ñúñez", "isTechnician": true,
                   "email": "Zoë@Example.com", "culture": "pt-pt",
                   "lastLogin": "2026-01-01T10:00:00.1234567+01:00",
                   "roles@odata.bind": ["Roles({Roles:admin})", "Roles({Roles:arzte})"],
                   "groups@odata.bind": ["Groups({Groups:ops})"]}),
        ),
        // Keys and e-mails are unique case-insensitively (ë/Ë included).
        step(
            Method::POST,
            "Users",
            Some(json!({"userKey": "ZOË", "name": "Other", "isTechnician": false})),
        ),
        step(
            Method::POST,
            "Users",
            Some(
                json!({"userKey": "other", "name": "Other", "isTechnician": false,
                        "email": "zoË@example.COM"}),
            ),
        ),
        step(Method::POST, "Roles", Some(json!({"roleKey": "ärzte"}))),
        create(
            "Users",
            "bo",
            json!({"userKey": "bo", "name": "Bo", "isTechnician": false,
                   "roles@odata.bind": ["Roles({Roles:arzte})"]}),
        ),
        step(
            Method::PATCH,
            "Users({Users:zoe})",
            Some(json!({"name": "Zoë N.", "status": 2})),
        ),
        Step {
            headers: &[("If-Match", "\"1\"")],
            ..step(
                Method::PATCH,
                "Users({Users:zoe})",
                Some(json!({"name": "stale"})),
            )
        },
        Step {
            headers: &[("Prefer", "return=representation")],
            ..step(
                Method::PUT,
                "Roles({Roles:admin})",
                Some(json!({"roleKey": "Administrator", "isDefault": true})),
            )
        },
        step(
            Method::POST,
            "Users({Users:zoe})/groups/$ref",
            Some(json!({"@odata.id": "Groups({Groups:ops})"})),
        ),
        step(
            Method::DELETE,
            "Users({Users:zoe})/roles({Roles:arzte})/$ref",
            None,
        ),
        step(
            Method::PATCH,
            "Users({Users:zoe})",
            Some(json!({"status": 3, "name": "never"})),
        ),
        step(
            Method::PATCH,
            "Users({Users:bo})",
            Some(json!({"userKey": "ZOË", "name": "never"})),
        ),
        step(
            Method::POST,
            "Users",
            Some(json!({"userKey": "x", "name": "X", "isTechnician": false,
                        "roles@odata.bind": ["Roles({Users:bo})"]})),
        ),
        step(Method::DELETE, "Groups({Groups:ops})", None),
        Step {
            headers: &[("Prefer", "return=representation")],
            ..step(
                Method::PUT,
                "Users({Users:bo})",
                Some(json!({"userKey": "bo", "name": "Bö", "isTechnician": true,
                            "email": "bo@example.com"})),
            )
        },
        step(Method::DELETE, "Roles({Roles:arzte})", None),
        // A JSON $batch: a group that fails half-way (409 on a key that
        // differs in case only) rolls back its PATCH; the next group
        // commits; a read after them sees only the second.
        Step {
            headers: &[("OData-Version", "4.01")],
            ..step(
                Method::POST,
                "$batch",
                Some(json!({"requests": [
                    {"id": "1", "method": "patch", "url": "Users({Users:bo})",
                     "atomicityGroup": "g1", "body": {"name": "rolled back"}},
                    {"id": "2", "method": "post", "url": "Roles", "atomicityGroup": "g1",
                     "body": {"roleKey": "ADMINISTRATOR"}},
                    {"id": "3", "method": "patch", "url": "Roles({Roles:admin})",
                     "atomicityGroup": "g2", "headers": {"Prefer": "return=representation"},
                     "body": {"description": "via $batch"}},
                    {"id": "4", "method": "get", "url": "Users({Users:bo})?$select=name"}
                ]})),
            )
        },
        step(
            Method::GET,
            "Users?$expand=roles,groups&$orderby=userKey",
            None,
        ),
        step(
            Method::GET,
            "Roles?$expand=users($select=userKey)&$orderby=roleKey",
            None,
        ),
        step(Method::GET, "Groups?$orderby=groupKey", None),
    ]
}

/// `{Set:label}` replaced by the ids known so far.
fn fill(text: &str, ids: &BTreeMap<String, String>) -> String {
    let mut out = text.to_owned();
    for (label, id) in ids {
        out = out.replace(&format!("{{{label}}}"), id);
    }
    out
}

fn fill_value(value: &Value, ids: &BTreeMap<String, String>) -> Value {
    match value {
        Value::String(s) => Value::String(fill(s, ids)),
        Value::Array(items) => Value::Array(items.iter().map(|v| fill_value(v, ids)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill_value(v, ids)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Ids (and the client id) back to their labels, the server's address to a placeholder, and
/// the timestamps the runs set (`createdOn`, `modifiedOn`) left out.
fn label_value(value: &Value, ids: &BTreeMap<String, String>, address: &str) -> Value {
    match value {
        Value::String(s) => {
            let mut text = s.replace(address, "<server>");
            for (label, id) in ids {
                text = text.replace(id, label);
            }
            Value::String(text)
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| label_value(v, ids, address)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !super::IGNORED_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), label_value(v, ids, address)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The answers of one backend to the script: (status, ETag, body).
pub async fn run(db_url: &str) -> Vec<(StatusCode, Option<String>, Value)> {
    let url = db_url.to_owned();
    let app: TestApp = spawn_app_with(move |s| s.database_url = url).await;
    let root = format!("{}/api/{}/main/odata", app.address, app.tenant);
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    // The (random) client id, the records' `createdBy`/`modifiedBy`.
    ids.insert("<client>".to_owned(), app.client_id.clone());
    let mut answers = Vec::new();
    for step in script() {
        let mut request = app.client.request(
            step.method.clone(),
            format!("{root}/{}", fill(step.path, &ids)),
        );
        for (name, value) in step.headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = &step.body {
            request = request.json(&fill_value(body, &ids));
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.expect("body");
        let body: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if let (Some(label), StatusCode::CREATED) = (step.label, status) {
            let set = step.path;
            let id = body["id"]
                .as_str()
                .expect("a created entity's id")
                .to_owned();
            ids.insert(format!("{set}:{label}"), id);
        }
        answers.push((status, etag, label_value(&body, &ids, &app.address)));
    }
    answers
}

/// The differences between `got` (on `backend`) and the SQLite answers.
pub fn differences(
    backend: &str,
    got: &[(StatusCode, Option<String>, Value)],
    want: &[(StatusCode, Option<String>, Value)],
) -> Vec<String> {
    let steps = script();
    got.iter()
        .zip(want)
        .zip(&steps)
        .filter(|((g, w), _)| g != w)
        .map(|((g, w), step)| {
            format!(
                "feed write `{} {}` differs between sqlite and {backend}:\n  sqlite: {w:?}\n  {backend}: {g:?}",
                step.method, step.path
            )
        })
        .collect()
}

/// The SQLite answers are the ones the script expects (so the comparison
/// is not between equally wrong answers).
pub fn check_reference(answers: &[(StatusCode, Option<String>, Value)]) -> Vec<String> {
    let statuses: Vec<u16> = answers.iter().map(|(s, _, _)| s.as_u16()).collect();
    let expected = [
        201, 201, 201, 201, 409, 409, 409, 201, 204, 412, 200, 204, 204, 400, 409, 400, 204, 200,
        204, 200, 200, 200, 200,
    ];
    let mut failures = Vec::new();
    if statuses != expected {
        failures.push(format!(
            "feed write script on sqlite: statuses {statuses:?}, expected {expected:?}"
        ));
    }
    let batch = &answers[answers.len() - 4].2["responses"];
    let inner: Vec<(Value, Value)> = batch
        .as_array()
        .map(|r| {
            r.iter()
                .map(|r| (r["id"].clone(), r["status"].clone()))
                .collect()
        })
        .unwrap_or_default();
    let expected_inner = vec![
        (json!("2"), json!(409)),
        (json!("3"), json!(200)),
        (json!("4"), json!(200)),
    ];
    if inner != expected_inner
        || batch[1]["body"]["description"] != "via $batch"
        || batch[2]["body"]["name"] != "Bö"
    {
        failures.push(format!("the $batch step on sqlite answered {batch}"));
    }
    let users = &answers[answers.len() - 3].2["value"];
    let zoe = &users[1];
    let expected_zoe = json!({"userKey": "zoë", "name": "Zoë N.", "status": 2,
                              "email": "Zoë@Example.com", "culture": "pt-PT"});
    for (k, v) in expected_zoe.as_object().expect("object") {
        if &zoe[k] != v {
            failures.push(format!("zoë's {k} is {} on sqlite, expected {v}", zoe[k]));
        }
    }
    let roles: Vec<&Value> = zoe["roles"]
        .as_array()
        .map(|r| r.iter().map(|r| &r["roleKey"]).collect())
        .unwrap_or_default();
    if roles != [&json!("Administrator")] || zoe["groups"] != json!([]) {
        failures.push(format!("zoë's links on sqlite: {zoe}"));
    }
    failures
}
