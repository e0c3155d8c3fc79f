//! The server's own HTML pages: the landing page `/` (JSON for
//! `Accept: application/json`), the query explorer `/explorer` and their
//! static assets under `/assets/`, embedded in the binary. The invitation
//! page is in [`super::invitation_page`].
//!
//! Every page is rendered from an embedded template by [`render`], which
//! HTML-escapes each value, and answers with [`CONTENT_SECURITY_POLICY`]:
//! scripts and styles only from this server, no inline code.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::demo::{DEMO_ORG, DEMO_TENANT};
use crate::error::ApiError;
use crate::state::AppState;

/// The policy of every HTML answer: nothing inline, nothing from elsewhere,
/// `fetch` to this server only, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

const LANDING: &str = include_str!("../../assets/landing.html");
const SITE_CSS: &str = include_str!("../../assets/site.css");
const INVITATION_JS: &str = include_str!("../../assets/invitation.js");
const EXPLORER: &str = include_str!("../../assets/explorer.html");
const EXPLORER_JS: &str = include_str!("../../assets/explorer.js");
const EXPLORER_SHAPES_JS: &str = include_str!("../../assets/explorer-shapes.js");
const EXPLORER_TEXT_JS: &str = include_str!("../../assets/explorer-text.js");
const EXPLORER_VIEW_JS: &str = include_str!("../../assets/explorer-view.js");
const EXPLORER_CSS: &str = include_str!("../../assets/explorer.css");

/// The embedded assets: name, content type, text.
const ASSETS: &[(&str, &str, &str)] = &[
    ("site.css", "text/css; charset=utf-8", SITE_CSS),
    (
        "invitation.js",
        "text/javascript; charset=utf-8",
        INVITATION_JS,
    ),
    ("explorer.js", "text/javascript; charset=utf-8", EXPLORER_JS),
    (
        "explorer-shapes.js",
        "text/javascript; charset=utf-8",
        EXPLORER_SHAPES_JS,
    ),
    (
        "explorer-text.js",
        "text/javascript; charset=utf-8",
        EXPLORER_TEXT_JS,
    ),
    (
        "explorer-view.js",
        "text/javascript; charset=utf-8",
        EXPLORER_VIEW_JS,
    ),
    ("explorer.css", "text/css; charset=utf-8", EXPLORER_CSS),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/")
            .route(web::get().to(landing))
            .route(web::head().to(landing)),
    )
    .service(
        super::resource("/explorer")
            .route(web::get().to(explorer))
            .route(web::head().to(explorer)),
    )
    .service(
        super::resource("/assets/{name}")
            .route(web::get().to(asset))
            .route(web::head().to(asset)),
    );
}

/// Escapes `&`, `<`, `>`, `"` and `'`: safe in element content and in
/// quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A value for [`render`]: text (escaped) or markup built from escaped parts.
pub enum Value<'a> {
    Text(&'a str),
    Html(String),
}

/// Replaces each `{{name}}` of `template` by its value, in one pass (a value
/// is never scanned for placeholders). A name without a value is a bug of
/// the template (a debug assertion; left as is in release builds).
pub fn render(template: &str, values: &[(&str, Value<'_>)]) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..end];
        match values.iter().find(|(n, _)| *n == name) {
            Some((_, Value::Text(text))) => out.push_str(&escape(text)),
            Some((_, Value::Html(html))) => out.push_str(html),
            None => {
                debug_assert!(false, "no value for the placeholder {name}");
                out.push_str(&rest[start..start + end + 4]);
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// An HTML answer with the page headers.
pub fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(body)
}

/// Whether the client prefers JSON to HTML by its `Accept` header (quality
/// values honoured; a tie, `*/*` or no header is HTML).
fn prefers_json(req: &HttpRequest) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let (mut json, mut html) = (0.0_f32, 0.0_f32);
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            "application/json" => json = json.max(q),
            "text/html" | "text/*" | "*/*" => html = html.max(q),
            _ => {}
        }
    }
    json > html
}

/// `GET /`: what this server is and where to go next; JSON with the same
/// content for `Accept: application/json`.
async fn landing(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let base = super::base_url(&req, &state);
    // The demo tenant, when this database has one (a database error leaves
    // its links out rather than failing the page).
    let demo = super::extract::resolve(&state, DEMO_TENANT, DEMO_ORG)
        .await
        .ok();
    let feed = demo.as_ref().map(|scope| {
        format!(
            "/api/{}/{}/odata",
            super::encode_segment(&scope.tenant_key),
            super::encode_segment(&scope.org_key)
        )
    });
    let version = env!("CARGO_PKG_VERSION");
    if prefers_json(&req) {
        let absolute = |path: &str| format!("{base}{path}");
        let mut links = serde_json::Map::new();
        for (name, path) in [
            ("explorer", "/explorer"),
            ("docs", "/docs/"),
            ("openapi", "/openapi.json"),
            ("health", "/health"),
            ("ready", "/ready"),
            ("token", "/connect/token"),
        ] {
            links.insert(name.into(), absolute(path).into());
        }
        if let Some(feed) = &feed {
            links.insert("serviceDocument".into(), absolute(feed).into());
            links.insert(
                "metadata".into(),
                absolute(&format!("{feed}/$metadata")).into(),
            );
        }
        return Ok(HttpResponse::Ok().json(json!({
            "name": "odata-users",
            "version": version,
            "description": "An OData-first identity service: API 1 (users, roles, groups, invitations) under /api/{tenantKey}/{orgKey}/identity and an OData v4 feed under /api/{tenantKey}/{orgKey}/odata.",
            "links": links,
            "demoTenant": demo.as_ref().map(|s| json!({"tenantKey": s.tenant_key, "orgKey": s.org_key})),
            "token": format!("POST {base}/connect/token with grant_type=client_credentials and an API client's id and secret (HTTP Basic or form fields)"),
        })));
    }
    let feed_links = match &feed {
        Some(feed) => format!(
            "<li>The demo tenant's feed: <a href=\"{feed}\">service document</a> and \
             <a href=\"{feed}/$metadata\">$metadata</a> (the browser asks for a client id and secret)</li>",
            feed = escape(feed)
        ),
        None => "<li>The feed's service document and <code>$metadata</code> are at \
                 <code>/api/{tenantKey}/{orgKey}/odata</code> and \
                 <code>/api/{tenantKey}/{orgKey}/odata/$metadata</code>; this database has \
                 no demo tenant to link to (the first start on an empty database seeds \
                 <code>demo</code>/<code>main</code>).</li>"
            .to_owned(),
    };
    let (tenant, org) = match &demo {
        Some(scope) => (&*scope.tenant_key, &*scope.org_key),
        None => ("TENANT", "ORG"),
    };
    let body = render(
        LANDING,
        &[
            ("version", Value::Text(version)),
            ("feed_links", Value::Html(feed_links)),
            ("base", Value::Text(&base)),
            ("tenant", Value::Text(tenant)),
            ("org", Value::Text(org)),
        ],
    );
    Ok(html(StatusCode::OK, body))
}

/// `GET /explorer`: the query explorer, a static page whose script
/// (`/assets/explorer.js`) signs in with a client id and secret and talks
/// to the token, feed, validate and explain routes with `fetch`. The demo
/// tenant, when there is one, is the page's default tenant and org.
async fn explorer(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let demo = super::extract::resolve(&state, DEMO_TENANT, DEMO_ORG)
        .await
        .ok();
    let (tenant, org) = match &demo {
        Some(scope) => (&*scope.tenant_key, &*scope.org_key),
        None => ("", ""),
    };
    let body = render(
        EXPLORER,
        &[
            ("version", Value::Text(env!("CARGO_PKG_VERSION"))),
            ("tenant", Value::Text(tenant)),
            ("org", Value::Text(org)),
        ],
    );
    Ok(html(StatusCode::OK, body))
}

/// `GET /assets/{name}`: an embedded stylesheet or script.
async fn asset(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let name = req.match_info().get("name").unwrap_or_default();
    let Some((_, content_type, text)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return Err(super::no_route(&req));
    };
    Ok(HttpResponse::Ok()
        .content_type(*content_type)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(*text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_once_and_never_rescanned() {
        let page = render(
            "<p>{{a}} {{b}}</p>",
            &[
                ("a", Value::Text("<script>x</script> & \"q\" 'r' {{b}}")),
                ("b", Value::Html("<em>ok</em>".into())),
            ],
        );
        assert_eq!(
            page,
            "<p>&lt;script&gt;x&lt;/script&gt; &amp; &quot;q&quot; &#39;r&#39; {{b}} <em>ok</em></p>"
        );
    }

    #[test]
    fn the_landing_template_has_a_value_for_every_placeholder() {
        let landing = render(
            LANDING,
            &[
                ("version", Value::Text("1")),
                ("feed_links", Value::Html(String::new())),
                ("base", Value::Text("http://x")),
                ("tenant", Value::Text("t")),
                ("org", Value::Text("o")),
            ],
        );
        assert!(!landing.contains("{{"), "{landing}");
        let explorer = render(
            EXPLORER,
            &[
                ("version", Value::Text("1")),
                ("tenant", Value::Text("t")),
                ("org", Value::Text("o")),
            ],
        );
        assert!(!explorer.contains("{{"), "{explorer}");
    }
}
