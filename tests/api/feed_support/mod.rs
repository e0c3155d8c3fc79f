//! Helpers of the OData v4 feed tests: raw GETs with headers, the header
//! checks every feed response must pass, and a tiny XML tree (parsed with
//! quick-xml) to assert on `$metadata`.
#![allow(dead_code)]

use std::collections::BTreeMap;

use quick_xml::Reader;
use quick_xml::events::Event;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::common::TestApp;

/// The `Accept` header Power Query's `OData.Feed` sends.
pub const POWER_QUERY_ACCEPT: &str = "application/json;odata.metadata=minimal;q=1.0,application/json;odata=minimalmetadata;q=0.9,application/atomsvc+xml;q=0.8,application/atom+xml;q=0.8,application/xml;q=0.7,text/plain;q=0.7";

/// `{address}/api/{tenant}/main/odata`
pub fn root(app: &TestApp) -> String {
    format!("{}/api/{}/main/odata", app.address, app.tenant)
}

/// A response read completely.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    /// A header's only value.
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<_> = self.headers.get_all(name).iter().collect();
        assert!(values.len() <= 1, "{name} appears {} times", values.len());
        values
            .first()
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Asserts status, exactly one `OData-Version: 4.0` and the content type.
    pub fn expect(&self, status: StatusCode, content_type: &str) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.body);
        let versions: Vec<_> = self.headers.get_all("odata-version").iter().collect();
        assert_eq!(versions.len(), 1, "exactly one OData-Version header");
        assert_eq!(versions[0], "4.0");
        assert_eq!(
            self.header("content-type").as_deref(),
            Some(content_type),
            "body: {}",
            self.body
        );
        self
    }

    /// Asserts an OData error answer and returns its `error` object.
    pub fn error(&self, status: StatusCode, code: &str) -> Value {
        self.expect(status, "application/json");
        let body = self.json();
        assert_eq!(body["error"]["code"], code, "body: {body}");
        assert!(body["error"]["message"].is_string(), "body: {body}");
        body["error"].clone()
    }
}

/// GET `url` (absolute, or relative to the feed root) with extra headers.
pub async fn get_with(app: &TestApp, url: &str, headers: &[(&str, &str)]) -> Answer {
    let url = if url.starts_with("http") {
        url.to_owned()
    } else {
        format!("{}/{url}", root(app))
    };
    let mut request = app.client.get(&url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("GET");
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.expect("body"),
    }
}

/// A request to the feed (`url` relative to its root, or absolute) with
/// `client`, extra headers and an optional JSON body, read completely.
pub async fn send_with(
    app: &TestApp,
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Answer {
    let url = if url.starts_with("http") {
        url.to_owned()
    } else {
        format!("{}/{url}", root(app))
    };
    let mut request = client.request(method, url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("request");
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.expect("body"),
    }
}

/// GET relative to the feed root without extra headers.
pub async fn get(app: &TestApp, url: &str) -> Answer {
    get_with(app, url, &[]).await
}

/// An XML element with its attributes, children and text.
#[derive(Debug, Clone, Default)]
pub struct Element {
    pub name: String,
    pub attrs: BTreeMap<String, String>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).map(String::as_str)
    }

    /// Children named `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The only child named `name` with attribute `attr` = `value`.
    pub fn child_with<'a>(&'a self, name: &str, attr: &str, value: &str) -> &'a Element {
        let found: Vec<&'a Element> = self
            .children
            .iter()
            .filter(|c| c.name == name && c.attr(attr) == Some(value))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one <{name} {attr}=\"{value}\"> under <{}>",
            self.name
        );
        found[0]
    }

    /// The first descendant (depth-first) named `name`.
    pub fn find(&self, name: &str) -> Option<&Element> {
        for c in &self.children {
            if c.name == name {
                return Some(c);
            }
            if let Some(f) = c.find(name) {
                return Some(f);
            }
        }
        None
    }

    /// The annotation with this term among the children.
    pub fn annotation(&self, term: &str) -> Option<&Element> {
        self.all("Annotation")
            .find(|a| a.attr("Term") == Some(term))
    }

    /// The `PropertyValue` named `property` of a `Record` child.
    pub fn record_value(&self, property: &str) -> Option<&Element> {
        self.all("Record")
            .next()?
            .all("PropertyValue")
            .find(|p| p.attr("Property") == Some(property))
    }
}

/// Parses a whole XML document (panics when it is not well-formed).
pub fn parse_xml(text: &str) -> Element {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Element> = vec![Element::default()];
    fn element(e: &quick_xml::events::BytesStart<'_>) -> Element {
        let mut el = Element {
            name: e.name().as_ref().to_owned(),
            ..Element::default()
        };
        for attr in e.attributes() {
            let attr = attr.expect("well-formed attribute");
            let raw = attr.value.to_string();
            let value = quick_xml::escape::unescape(&raw)
                .expect("valid escapes")
                .into_owned();
            el.attrs.insert(attr.key.as_ref().to_owned(), value);
        }
        el
    }
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => stack.push(element(&e)),
            Event::Empty(e) => {
                let el = element(&e);
                stack.last_mut().expect("parent").children.push(el);
            }
            Event::End(e) => {
                let el = stack.pop().expect("open element");
                assert_eq!(el.name.as_str(), e.name().as_ref(), "mismatched end tag");
                stack.last_mut().expect("parent").children.push(el);
            }
            Event::Text(t) => {
                let top = stack.last_mut().expect("element");
                top.text
                    .push_str(&t.xml_content(quick_xml::XmlVersion::Implicit1_0));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut doc = stack.pop().expect("document");
    assert_eq!(doc.children.len(), 1, "one root element");
    doc.children.pop().expect("root")
}
