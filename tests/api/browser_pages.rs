//! The pages a browser sees, over HTTP (status, content type, headers, the
//! HTML's links and escaped values, the requests the pages' script sends):
//! the landing page `/` in HTML and JSON, and the invitation page the mailed
//! link opens (GET on the accept address), its "Accept" button's request,
//! and the one 404 page for unknown tokens and tenants.

use crate::common;

use common::{TestApp, TestBackend, json_of, spawn_app, spawn_app_with, test_backend};
use identity_service::domain::TenantKey;
use identity_service::storage::tenants;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

/// Invites through API 1 (200) and returns the user id and the mailed URL.
async fn invite(app: &TestApp, body: Value) -> (String, String) {
    let id = json_of(
        app.post_json("users/sendInvitation", &body).await,
        StatusCode::OK,
    )
    .await;
    (
        id.as_str().expect("id").to_owned(),
        common::newest_accept_url(&app.outbox),
    )
}

fn header<'a>(response: &'a Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Asserts an HTML answer with the page headers and returns its body.
async fn html_page(response: Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status, "{}", response.url());
    assert!(
        header(&response, "content-type").starts_with("text/html"),
        "{:?}",
        response.headers()
    );
    let csp = header(&response, "content-security-policy").to_owned();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let body = response.text().await.expect("body");
    assert!(body.starts_with("<!doctype html>"), "{body}");
    assert!(
        !body.contains("<script>") && !body.contains("style="),
        "no inline script or style (the CSP forbids them): {body}"
    );
    body
}

#[tokio::test]
async fn the_explorer_is_a_static_page_under_the_policy() {
    let app = spawn_app().await;
    let get = |path: &str| app.anonymous.get(format!("{}{path}", app.address)).send();
    let page = html_page(get("/explorer").await.expect("GET"), StatusCode::OK).await;
    for needle in [
        "src=\"/assets/explorer-text.js\"",
        "src=\"/assets/explorer-view.js\"",
        "src=\"/assets/explorer-shapes.js\"",
        "src=\"/assets/explorer.js\"",
        "href=\"/assets/explorer.css\"",
        "id=\"client-id\"",
        "id=\"query\"",
    ] {
        assert!(page.contains(needle), "{needle} in {page}");
    }
    // The scripts are served from the binary, and they write data only as text.
    for path in [
        "/assets/explorer.js",
        "/assets/explorer-text.js",
        "/assets/explorer-view.js",
        "/assets/explorer-shapes.js",
    ] {
        let script = get(path).await.expect("GET js");
        assert_eq!(script.status(), StatusCode::OK, "{path}");
        assert!(header(&script, "content-type").starts_with("text/javascript"));
        let script = script.text().await.expect("js");
        assert!(!script.contains("innerHTML") && !script.contains("localStorage"));
        assert!(!script.contains("eval(") && !script.contains("new Function"));
    }
    // HEAD answers too; other methods do not.
    let head = app
        .anonymous
        .head(format!("{}/explorer", app.address))
        .send()
        .await
        .expect("HEAD");
    assert_eq!(head.status(), StatusCode::OK);
    let post = app
        .anonymous
        .post(format!("{}/explorer", app.address))
        .send()
        .await
        .expect("POST");
    assert!(post.status().is_client_error(), "{}", post.status());
}

#[tokio::test]
async fn the_landing_page_answers_html_and_json() {
    // The demo tenant's absence, then presence, is the subject.
    let app = common::spawn_app_alone().await;
    let get = |accept: Option<&'static str>| {
        let mut request = app.anonymous.get(format!("{}/", app.address));
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        request.send()
    };
    for accept in [
        None,
        Some("text/html,application/xhtml+xml,*/*;q=0.8"),
        Some("*/*"),
    ] {
        let page = html_page(get(accept).await.expect("GET /"), StatusCode::OK).await;
        for link in [
            "href=\"/docs/\"",
            "href=\"/health\"",
            "href=\"/openapi.json\"",
        ] {
            assert!(page.contains(link), "{link} in {page}");
        }
        assert!(page.contains(env!("CARGO_PKG_VERSION")), "{page}");
        assert!(
            page.contains("/connect/token"),
            "how to get a token: {page}"
        );
        assert!(page.contains("href=\"/explorer\""), "{page}");
        assert!(!page.contains("not available yet"), "{page}");
        // No demo tenant in a test database: the feed is explained, not linked.
        assert!(page.contains("no demo tenant"), "{page}");
        assert!(!page.contains("$metadata\">"), "{page}");
    }
    // Every page link answers.
    for path in [
        "/explorer",
        "/assets/explorer.js",
        "/assets/explorer-text.js",
        "/assets/explorer-view.js",
        "/assets/explorer-shapes.js",
        "/assets/explorer.css",
        "/docs/",
        "/health",
        "/ready",
        "/openapi.json",
        "/assets/site.css",
    ] {
        let response = app
            .anonymous
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let css = app
        .anonymous
        .get(format!("{}/assets/site.css", app.address))
        .send()
        .await
        .expect("GET css");
    assert!(header(&css, "content-type").starts_with("text/css"));
    let missing = app
        .anonymous
        .get(format!("{}/assets/nope.js", app.address))
        .send()
        .await
        .expect("GET");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let response = get(Some("application/json")).await.expect("GET / JSON");
    assert!(header(&response, "content-type").starts_with("application/json"));
    let data = json_of(response, StatusCode::OK).await;
    assert_eq!(data["name"], "odata-users");
    assert_eq!(data["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(data["links"]["docs"], format!("{}/docs/", app.address));
    assert_eq!(data["links"]["health"], format!("{}/health", app.address));
    assert_eq!(
        data["links"]["token"],
        format!("{}/connect/token", app.address)
    );
    assert_eq!(data["links"].get("metadata"), None, "{data}");
    assert_eq!(data["demoTenant"], Value::Null);
    assert_eq!(
        data["links"]["explorer"],
        format!("{}/explorer", app.address)
    );
    assert_eq!(data.get("notAvailableYet"), None, "{data}");
    // No demo tenant: the explorer's tenant and org fields start empty (the
    // token's claims fill them at sign-in).
    let explorer = || {
        app.anonymous
            .get(format!("{}/explorer", app.address))
            .send()
    };
    let page = html_page(explorer().await.expect("GET"), StatusCode::OK).await;
    assert!(page.contains("id=\"tenant\" value=\"\""), "{page}");

    // With a demo tenant, the feed's service document and $metadata are linked.
    let demo = TenantKey::parse("demo", "tenant").expect("key");
    let main = TenantKey::parse("main", "org").expect("key");
    tenants::create(&app.pool, &demo, &main)
        .await
        .expect("demo tenant");
    // With it, it is the explorer's default.
    let page = html_page(explorer().await.expect("GET"), StatusCode::OK).await;
    assert!(page.contains("id=\"tenant\" value=\"demo\""), "{page}");
    assert!(page.contains("id=\"org\" value=\"main\""), "{page}");
    let page = html_page(get(None).await.expect("GET /"), StatusCode::OK).await;
    assert!(page.contains("href=\"/api/demo/main/odata\""), "{page}");
    assert!(
        page.contains("href=\"/api/demo/main/odata/$metadata\""),
        "{page}"
    );
    assert!(
        page.contains("/api/demo/main/identity/users/odata"),
        "{page}"
    );
    let data = json_of(
        get(Some("application/json;q=0.9, text/html;q=0.5"))
            .await
            .expect("GET / JSON"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        data["links"]["metadata"],
        format!("{}/api/demo/main/odata/$metadata", app.address)
    );
    assert_eq!(
        data["links"]["serviceDocument"],
        format!("{}/api/demo/main/odata", app.address)
    );
    assert_eq!(
        data["demoTenant"],
        json!({"tenantKey": "demo", "orgKey": "main"})
    );
    // The linked feed asks a browser for Basic credentials.
    let feed = app
        .anonymous
        .get(format!("{}/api/demo/main/odata/$metadata", app.address))
        .send()
        .await
        .expect("GET $metadata");
    assert_eq!(feed.status(), StatusCode::UNAUTHORIZED);
    assert!(
        feed.headers()
            .get_all("www-authenticate")
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.starts_with("Basic "))),
        "{:?}",
        feed.headers()
    );
}

#[tokio::test]
async fn the_invitation_page_shows_the_invitation_escaped_and_its_button_accepts() {
    let app = spawn_app().await;
    let name = "<script>alert(1)</script> Ana & \"Co\"";
    let (id, url) = invite(
        &app,
        json!({"email": "ana@example.com", "name": name, "userKey": "ana-<b>"}),
    )
    .await;
    let response = app.anonymous.get(&url).send().await.expect("GET page");
    assert_eq!(header(&response, "cache-control"), "no-store");
    assert_eq!(header(&response, "referrer-policy"), "no-referrer");
    let page = html_page(response, StatusCode::OK).await;
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt; Ana &amp; &quot;Co&quot;"),
        "the name, escaped: {page}"
    );
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(
        page.contains("ana-&lt;b&gt;"),
        "the user key, escaped: {page}"
    );
    assert!(!page.contains("<b>"), "{page}");
    assert!(page.contains("ana@example.com"), "{page}");
    assert!(
        page.contains(&format!("<dt>Invited by</dt><dd>{}</dd>", app.client_id)),
        "the inviting client: {page}"
    );
    assert!(
        page.contains(&format!("<strong>{}</strong>", app.tenant)),
        "{page}"
    );
    assert!(page.contains("<strong>main</strong>"), "{page}");
    assert!(
        page.contains("<script src=\"/assets/invitation.js\" defer></script>"),
        "{page}"
    );
    assert!(page.contains("id=\"accept\""), "{page}");
    let token = url
        .trim_end_matches("/accept")
        .rsplit('/')
        .next()
        .expect("token");
    assert!(!page.contains(token), "the page does not repeat the token");
    // Reading the page changes nothing.
    assert_eq!(app.get_user(&id).await["status"], 3);

    // The button's script: an empty POST to the page's own address.
    let script = app
        .anonymous
        .get(format!("{}/assets/invitation.js", app.address))
        .send()
        .await
        .expect("GET script");
    assert_eq!(script.status(), StatusCode::OK);
    assert!(header(&script, "content-type").starts_with("text/javascript"));
    let script = script.text().await.expect("script");
    assert!(
        script.contains("fetch(window.location.pathname, {"),
        "{script}"
    );
    assert!(script.contains("method: \"POST\""), "{script}");
    assert!(script.contains("Accept: \"application/json\""), "{script}");
    assert!(script.contains("credentials: \"omit\""), "{script}");
    assert!(!script.contains("innerHTML"), "results shown as text only");

    // The same request the script sends: no body, no credentials.
    let path = url
        .strip_prefix(&app.address)
        .expect("the mailed URL is on this server");
    let accepted = app
        .anonymous
        .post(format!("{}{path}", app.address))
        .header("Accept", "application/json")
        .send()
        .await
        .expect("POST accept");
    assert_eq!(
        json_of(accepted, StatusCode::OK).await,
        json!({"id": id, "status": 1})
    );
    assert_eq!(app.get_user(&id).await["status"], 1);
    // Used: the page is now the 404 page.
    let page = html_page(
        app.anonymous.get(&url).send().await.expect("GET"),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(page.contains("No such invitation"), "{page}");
}

#[tokio::test]
async fn unknown_tokens_and_tenants_get_the_same_404_page() {
    let app = spawn_app().await;
    let (_, url) = invite(&app, json!({"email": "bo@example.com"})).await;
    let token = url
        .trim_end_matches("/accept")
        .rsplit('/')
        .next()
        .expect("token");
    let unknown = "A".repeat(token.len());
    let paths = [
        format!(
            "/api/{}/main/identity/invitations/{unknown}/accept",
            app.tenant
        ),
        format!("/api/nosuchtenant/main/identity/invitations/{token}/accept"),
        format!(
            "/api/{}/other/identity/invitations/{token}/accept",
            app.tenant
        ),
        format!(
            "/api/{}/main/identity/invitations/not%20a%20token/accept",
            app.tenant
        ),
        format!(
            "/api/{}/main/identity/invitations/{}/accept",
            app.tenant,
            "x".repeat(200)
        ),
    ];
    let mut bodies = Vec::new();
    for path in &paths {
        let response = app
            .anonymous
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .expect("GET");
        assert_eq!(header(&response, "cache-control"), "no-store", "{path}");
        bodies.push(html_page(response, StatusCode::NOT_FOUND).await);
    }
    assert!(bodies[0].contains("No such invitation"), "{}", bodies[0]);
    for (path, body) in paths.iter().zip(&bodies) {
        assert_eq!(body, &bodies[0], "{path}: the same 404 page");
    }
    // The real invitation still shows (and the POST route's 404 is unchanged).
    html_page(
        app.anonymous.get(&url).send().await.expect("GET"),
        StatusCode::OK,
    )
    .await;
    let post = app
        .anonymous
        .post(format!("{}{}", app.address, paths[1]))
        .send()
        .await
        .expect("POST");
    common::assert_error(post, StatusCode::NOT_FOUND, "NotFound").await;
}

#[tokio::test]
async fn an_expired_invitation_page_says_so_and_changes_nothing() {
    let app = spawn_app_with(|s| {
        s.invitation_ttl_seconds = 0;
        s.invitation_sweep_seconds = 3600;
    })
    .await;
    let (id, url) = invite(
        &app,
        json!({"email": "late@example.com", "name": "Late <Lu>"}),
    )
    .await;
    let page = html_page(
        app.anonymous.get(&url).send().await.expect("GET"),
        StatusCode::GONE,
    )
    .await;
    assert!(page.contains("expired"), "{page}");
    assert!(page.contains("Late &lt;Lu&gt;"), "{page}");
    assert!(
        page.contains(&format!("(<strong>{}</strong>)", app.client_id)),
        "the inviting client: {page}"
    );
    assert!(!page.contains("id=\"accept\""), "no button: {page}");
    // Other tests' sweepers share a server database.
    if test_backend() == TestBackend::Sqlite {
        assert_eq!(app.get_user(&id).await["status"], 3, "GET changed nothing");
    }
    let post = app.anonymous.post(&url).send().await.expect("POST");
    common::assert_error(post, StatusCode::GONE, "Gone").await;
}

#[tokio::test]
async fn the_button_works_with_cors_on_for_other_origins() {
    // A browser sends `Origin` with a same-origin POST: the page's own
    // origin must not be refused when APP_CORS_ORIGINS lists only others.
    let app = spawn_app_with(|s| s.cors_origins = vec!["https://bi.example.com".into()]).await;
    let (id, url) = invite(&app, json!({"email": "cors@example.com"})).await;
    let accepted = app
        .anonymous
        .post(&url)
        .header("Origin", &app.address)
        .header("Accept", "application/json")
        .send()
        .await
        .expect("POST accept");
    assert_eq!(
        json_of(accepted, StatusCode::OK).await,
        json!({"id": id, "status": 1})
    );
}

#[tokio::test]
async fn the_page_names_the_client_of_the_latest_invitation_escaped() {
    let app = spawn_app().await;
    let (b_id, _, b) = app
        .client_for(&app.tenant, "main", "identity.read identity.write")
        .await;
    invite(&app, json!({"email": "cy@example.com"})).await;
    // Re-invited by another client: the new link names that one.
    let response = b
        .post(app.url("users/sendInvitation"))
        .json(&json!({"email": "cy@example.com"}))
        .send()
        .await
        .expect("POST sendInvitation");
    assert_eq!(response.status(), StatusCode::OK);
    let url = common::newest_accept_url(&app.outbox);
    let page = html_page(
        app.anonymous.get(&url).send().await.expect("GET"),
        StatusCode::OK,
    )
    .await;
    assert!(
        page.contains(&format!("<dt>Invited by</dt><dd>{b_id}</dd>")),
        "{page}"
    );
    assert!(!page.contains(&app.client_id), "{page}");
    // The stored value is written as text, whatever it holds (an
    // invitation of an older version has none: "an unknown client").
    let token = url
        .trim_end_matches("/accept")
        .rsplit('/')
        .next()
        .expect("token");
    let hash = identity_service::storage::invitations::hash_token(token);
    for (stored, shown) in [
        (
            Some("<i>x</i> & \"y\""),
            "&lt;i&gt;x&lt;/i&gt; &amp; &quot;y&quot;",
        ),
        (None, "an unknown client"),
    ] {
        set_invited_by(&app, &hash, stored).await;
        let page = html_page(
            app.anonymous.get(&url).send().await.expect("GET"),
            StatusCode::OK,
        )
        .await;
        assert!(
            page.contains(&format!("<dt>Invited by</dt><dd>{shown}</dd>")),
            "{page}"
        );
        assert!(!page.contains("<i>x"), "{page}");
    }
}

/// Overwrites `invitations.created_by` of the invitation with token hash
/// `hash`.
async fn set_invited_by(app: &TestApp, hash: &str, value: Option<&str>) {
    use identity_service::storage::entities::invitations;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let updated = invitations::Entity::update_many()
        .col_expr(
            invitations::Column::CreatedBy,
            Expr::value(value.map(str::to_owned)),
        )
        .filter(invitations::Column::TokenHash.eq(hash))
        .exec(&app.pool)
        .await
        .expect("UPDATE invitations");
    assert_eq!(updated.rows_affected, 1);
}
