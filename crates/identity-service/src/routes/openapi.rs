//! `/openapi.json`: API 1's OpenAPI 3.1 document, generated with `utoipa`
//! from the handlers' `#[utoipa::path]` annotations and the typed shapes of
//! [`super::dto`]; and `/docs/`: Swagger UI (vendored in the binary by
//! `utoipa-swagger-ui`, no CDN) over it, with "try it out" and the token
//! entry of the security schemes.
//!
//! The API 1 routes are registered through `utoipa-actix-web`
//! ([`Documented`] resources in its scopes), so the document's paths are
//! collected from the very registrations that route requests: a route
//! cannot be added without its operation.

use std::sync::{Arc, OnceLock};

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, Resource, ResponseError, Route, web};
use serde_json::{Value, json};
use utoipa::openapi::path::{Operation, Paths};
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::schema::{AdditionalProperties, Schema};
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme,
};
use utoipa::openapi::{Content, OpenApi as Document, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::OpenApiFactory;

use super::{base_url, dto};
use crate::state::AppState;

/// The path of the document.
pub const DOCUMENT_PATH: &str = "/openapi.json";

/// The policy of the docs page: Swagger UI's own scripts and styles from
/// this server (it sets inline styles and uses `data:` images), `fetch`
/// ("try it out", the token request) to this server only, never framed.
pub const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The parts of the document that are not API 1 routes: the info, the
/// security schemes and the server's own routes (token, health).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "odata-users identity API (API 1)",
        description = "Valuekeep-style identity API: users, roles, groups and invitations per tenant and organization.\n\n\
Literal path segments and keys are case-insensitive; a GUID segment is an id, anything else a key. \
Every error has the body `{\"error\":{\"code\",\"message\",\"target\"?,\"details\"?}}`.\n\n\
**Authentication.** Every `/api` route needs `Authorization: Bearer <token>` from `POST /connect/token` \
(OAuth 2.0 client credentials; scopes `identity.read` for GET, `identity.write` for the rest, `identity.admin` for explain), \
except accepting an invitation. In this page: **Authorize**, then either `clientCredentials` (your client id and secret: \
the page asks `/connect/token` for a token) or `bearerAuth` (paste a token).\n\n\
**The OData v4 feed** of the same data (for BI tools) is described by its own \
[`$metadata`](/api/demo/main/odata/$metadata) (here for the demo tenant `demo`/`main`; \
`/api/{tenantKey}/{orgKey}/odata/$metadata` for yours), not by this document; it takes the same Bearer token or HTTP Basic \
with the client id and secret.",
    ),
    paths(super::token::token, super::health::health, super::health::ready),
    components(schemas(dto::ErrorBody, dto::ErrorObject, dto::ErrorDetail)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "Users"), (name = "Memberships"), (name = "Roles"), (name = "Groups"),
        (name = "Invitations"), (name = "Diagnostics"), (name = "Authentication"), (name = "Operations")
    ),
    security(("bearerAuth" = []))
)]
struct ApiDoc;

/// The security schemes: the Bearer token every `/api` route takes, the
/// client credentials flow that gets one, and HTTP Basic (the token
/// endpoint and the v4 feed take the client id and secret).
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearerAuth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from POST /connect/token"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "clientCredentials",
            SecurityScheme::OAuth2(OAuth2::new([Flow::ClientCredentials(
                // Made absolute per request by `document`.
                ClientCredentials::new(
                    "/connect/token",
                    Scopes::from_iter([
                        ("identity.read", "GET and HEAD"),
                        ("identity.write", "POST, PUT and DELETE"),
                        ("identity.admin", "explain (implies neither of the others)"),
                    ]),
                ),
            )])),
        );
        components.add_security_scheme(
            "clientBasic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "client_id:client_secret (the token endpoint; the OData v4 feed takes it too)",
                    ))
                    .build(),
            ),
        );
    }
}

/// The whole document: the info, security schemes and server routes, and the operations of every route
/// registered by [`super::api_scope`].
pub fn document() -> Document {
    let scope = super::api_scope();
    let mut doc = ApiDoc::openapi();
    doc.paths.merge(scope.paths());
    let mut schemas = Vec::new();
    scope.schemas(&mut schemas);
    let components = doc.components.get_or_insert_with(Default::default);
    components.schemas.extend(schemas);
    // The request bodies' DTOs collect unknown properties to report them:
    // the derive cannot close their schemas, the document does.
    for name in dto::closed() {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(&name) {
            object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
    doc
}

/// The document as JSON, built once per process.
fn document_json() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| serde_json::to_value(document()).expect("the document is JSON"))
}

/// The document for a server at `server` (its base URL): the server entry
/// and the absolute token URL.
pub fn document_for(server: &str) -> Value {
    let mut doc = document_json().clone();
    doc["servers"] = json!([{"url": server}]);
    doc["components"]["securitySchemes"]["clientCredentials"]["flows"]["clientCredentials"]["tokenUrl"] =
        json!(format!("{server}/connect/token"));
    doc
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    // HEAD as GET (the body is not sent), as on the other pages.
    cfg.service(
        super::resource(DOCUMENT_PATH)
            .route(web::get().to(serve_document))
            .route(web::head().to(serve_document)),
    )
    .service(
        web::scope("/docs")
            .service(
                super::resource("")
                    .route(web::get().to(docs_root))
                    .route(web::head().to(docs_root)),
            )
            .service(
                super::resource("/{tail:.*}")
                    .route(web::get().to(docs_file))
                    .route(web::head().to(docs_file)),
            ),
    );
}

async fn serve_document(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(document_for(&base_url(&req, &state)))
}

/// `/docs` is `/docs/` (the UI's files are relative to it).
async fn docs_root() -> HttpResponse {
    HttpResponse::MovedPermanently()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// The Swagger UI configuration: the document, "try it out" open, no
/// external validator badge, deep links (each operation has an id).
fn swagger_config() -> Arc<utoipa_swagger_ui::Config<'static>> {
    static CONFIG: OnceLock<Arc<utoipa_swagger_ui::Config<'static>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            Arc::new(
                utoipa_swagger_ui::Config::new([DOCUMENT_PATH])
                    .try_it_out_enabled(true)
                    .validator_url("none")
                    .deep_linking(true)
                    .display_operation_id(true)
                    .persist_authorization(false),
            )
        })
        .clone()
}

/// `/docs/{file}`: Swagger UI's files, from the binary.
async fn docs_file(path: web::Path<String>) -> HttpResponse {
    let tail = path.into_inner();
    match utoipa_swagger_ui::serve(&tail, swagger_config()) {
        Ok(Some(file)) => {
            let mut response = HttpResponse::Ok();
            response
                .content_type(file.content_type)
                .insert_header((
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(DOCS_CONTENT_SECURITY_POLICY),
                ))
                .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .insert_header((header::REFERRER_POLICY, "no-referrer"));
            response.body(file.bytes.into_owned())
        }
        Ok(None) => crate::error::ApiError::not_found(format!(
            "no file '{}' in the API docs",
            crate::error::echo(&tail)
        ))
        .error_response(),
        Err(error) => crate::error::ApiError::internal(anyhow::anyhow!("{error}")).error_response(),
    }
}

/// An actix resource (unsupported methods answer 405, as
/// [`super::resource`]) with the OpenAPI operations of its routes, for
/// `utoipa-actix-web`'s scopes and service configs.
pub struct Documented {
    pattern: String,
    resource: Resource,
    paths: Paths,
    schemas: Vec<(String, RefOr<Schema>)>,
}

/// One concrete operation of a route whose last segments are parameters
/// the document spells out (`PUT users/{userKey}/{attr}`: one path per
/// attribute, each with its body).
pub struct Variant {
    /// The path segments replacing the template's parameters, in order.
    pub segments: Vec<&'static str>,
    pub operation_id: String,
    /// The schema of the body, when it differs from the template's.
    pub body: Option<Schema>,
}

impl Documented {
    /// A resource at `pattern` (relative to its scope).
    pub fn new(pattern: &str) -> Self {
        Documented {
            pattern: pattern.to_owned(),
            resource: super::resource(pattern),
            paths: Paths::new(),
            schemas: Vec::new(),
        }
    }

    /// Adds a route and its operation (`__path_<handler>` of
    /// `#[utoipa::path]`), whose path must be the resource's pattern
    /// (parameter names aside).
    pub fn route(mut self, route: Route, operation: impl OpenApiFactory) -> Self {
        let paths = operation.paths();
        for path in paths.paths.keys() {
            assert_eq!(
                shape(path),
                shape(&self.pattern),
                "the operation's path {path} is not the route's {}",
                self.pattern
            );
        }
        self.paths.merge(paths);
        operation.schemas(&mut self.schemas);
        self.resource = self.resource.route(route);
        self
    }

    /// Adds a route whose template operation (with trailing path
    /// parameters) is documented once per variant.
    pub fn route_variants(
        mut self,
        route: Route,
        template: impl OpenApiFactory,
        variants: Vec<Variant>,
    ) -> Self {
        let paths = template.paths();
        template.schemas(&mut self.schemas);
        for (path, item) in paths.paths {
            assert_eq!(shape(&path), shape(&self.pattern), "{path}");
            for variant in &variants {
                let mut segments: Vec<String> = path.split('/').map(str::to_owned).collect();
                let n = variant.segments.len();
                let start = segments.len() - n;
                let mut removed = Vec::new();
                for (slot, value) in segments[start..].iter_mut().zip(&variant.segments) {
                    removed.push(slot.trim_matches(['{', '}']).to_owned());
                    *slot = (*value).to_owned();
                }
                let mut item = item.clone();
                for operation in operations(&mut item) {
                    operation.operation_id = Some(variant.operation_id.clone());
                    if let Some(parameters) = &mut operation.parameters {
                        parameters.retain(|p| !removed.contains(&p.name));
                    }
                    if let (Some(schema), Some(body)) =
                        (&variant.body, operation.request_body.as_mut())
                    {
                        set_body_schema(body, schema.clone());
                    }
                }
                let mut one = Paths::new();
                one.paths.insert(segments.join("/"), item);
                self.paths.merge(one);
            }
        }
        self.resource = self.resource.route(route);
        self
    }

    /// Adds a route that is not part of API 1's document (the invitation's
    /// HTML page on the accept address).
    pub fn undocumented(mut self, route: Route) -> Self {
        self.resource = self.resource.route(route);
        self
    }
}

fn operations(item: &mut utoipa::openapi::PathItem) -> Vec<&mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn set_body_schema(body: &mut RequestBody, schema: Schema) {
    body.content.insert(
        "application/json".to_owned(),
        Content::new(Some(RefOr::T(schema))),
    );
}

/// A path with its parameter names erased: `/users/{user}` and
/// `/users/{id}` have one shape.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

impl HttpServiceFactory for Documented {
    fn register(self, config: &mut AppService) {
        self.resource.register(config);
    }
}

impl OpenApiFactory for Documented {
    fn paths(&self) -> Paths {
        self.paths.clone()
    }

    fn schemas(&self, schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.extend(self.schemas.iter().cloned());
    }
}

/// Body schemas of the attribute `PUT`s, by JSON type.
pub mod body {
    use utoipa::openapi::schema::{
        ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
    };

    fn typed(kind: Type, nullable: bool) -> ObjectBuilder {
        let schema_type = if nullable {
            SchemaType::from_iter([kind, Type::Null])
        } else {
            SchemaType::Type(kind)
        };
        ObjectBuilder::new().schema_type(schema_type)
    }

    /// A string; `max` characters at most.
    pub fn string(nullable: bool, max: Option<usize>) -> Schema {
        Schema::Object(typed(Type::String, nullable).max_length(max).build())
    }

    /// An e-mail address or null.
    pub fn email() -> Schema {
        Schema::Object(
            typed(Type::String, true)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
                .build(),
        )
    }

    /// An RFC 3339 time or null.
    pub fn date_time() -> Schema {
        Schema::Object(
            typed(Type::String, true)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                .build(),
        )
    }

    pub fn boolean() -> Schema {
        Schema::Object(typed(Type::Boolean, false).build())
    }

    /// An integer among `values`.
    pub fn one_of(values: &[i64]) -> Schema {
        Schema::Object(
            typed(Type::Integer, false)
                .enum_values(Some(values.iter().copied()))
                .build(),
        )
    }

    /// An array of keys (or ids).
    pub fn keys() -> Schema {
        Schema::Array(
            ArrayBuilder::new()
                .items(ObjectBuilder::new().schema_type(Type::String))
                .build(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "/api/{tenantKey}/{orgKey}/identity";

    #[test]
    fn request_bodies_are_closed() {
        let doc = document_for("http://x");
        for name in dto::closed() {
            let schema = &doc["components"]["schemas"][&name];
            assert_eq!(schema["additionalProperties"], json!(false), "{name}");
            assert_eq!(schema["type"], "object", "{name}");
            assert!(schema["properties"].get("unknown").is_none(), "{name}");
        }
        assert_eq!(
            doc["components"]["schemas"]["ApiUserResource"]["required"],
            json!(["userKey", "name", "isTechnician"])
        );
    }

    #[test]
    fn every_seed_operation_is_described() {
        let doc = document_for("http://x");
        let paths = doc["paths"].as_object().unwrap();
        let count: usize = paths
            .values()
            .map(|item| item.as_object().unwrap().len())
            .sum();
        assert!(count > 26, "{count}");
        for (path, method) in [
            ("/users/odata", "get"),
            ("/users/{id}", "get"),
            ("/users/{id}", "delete"),
            ("/users/{id}/picture", "get"),
            ("/users", "post"),
            ("/users/sendInvitation", "post"),
            ("/users/{userKey}/groups/add", "post"),
            ("/users/{userKey}/groups/addById", "post"),
            ("/users/{userKey}/groups/remove", "post"),
            ("/users/{userKey}/groups/removeById", "post"),
            ("/users/{userKey}/roles/add", "post"),
            ("/users/{userKey}/roles/addById", "post"),
            ("/users/{userKey}/roles/remove", "post"),
            ("/users/{userKey}/roles/removeById", "post"),
            ("/users/{userKey}/email", "put"),
            ("/users/{userKey}/groups", "put"),
            ("/users/{userKey}/isActive", "put"),
            ("/users/{userKey}/isTechnician", "put"),
            ("/users/{userKey}/lastLogin", "put"),
            ("/users/{userKey}/name", "put"),
            ("/users/{userKey}/picture", "put"),
            ("/users/{userKey}/roles", "put"),
            ("/users/{userKey}/status", "put"),
            ("/users/{userKey}/userKey", "put"),
            ("/users/{userKey}/culture", "put"),
            ("/roles/{id}/description", "put"),
            ("/groups/{id}/notes", "put"),
        ] {
            let full = format!("{BASE}{path}");
            assert!(
                paths.get(&full).and_then(|p| p.get(method)).is_some(),
                "{method} {full}"
            );
        }
        assert_eq!(doc["servers"][0]["url"], "http://x");
        // The template parameters are gone from the concrete paths.
        let put = &paths[&format!("{BASE}/users/{{userKey}}/status")]["put"];
        let names: Vec<&str> = put["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["tenantKey", "orgKey", "userKey", "If-Match"]);
        assert_eq!(put["operationId"], "setUser_status");
        assert_eq!(
            put["requestBody"]["content"]["application/json"]["schema"]["enum"],
            json!([1, 2])
        );
    }

    #[test]
    fn security_is_described() {
        let doc = document_for("http://x");
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["bearerAuth"]["scheme"], "bearer");
        assert_eq!(schemes["clientBasic"]["scheme"], "basic");
        assert_eq!(
            schemes["clientCredentials"]["flows"]["clientCredentials"]["tokenUrl"],
            "http://x/connect/token"
        );
        assert!(doc["paths"]["/connect/token"]["post"].is_object());
        let list = &doc["paths"][format!("{BASE}/users/odata")]["get"];
        assert_eq!(list["security"][1]["clientCredentials"][0], "identity.read");
        assert!(list["responses"]["401"].is_object());
        let create = &doc["paths"][format!("{BASE}/users")]["post"];
        assert_eq!(
            create["security"][1]["clientCredentials"][0],
            "identity.write"
        );
        let accept = &doc["paths"][format!("{BASE}/invitations/{{token}}/accept")]["post"];
        assert_eq!(accept["security"], json!([{}]));
        assert!(accept["responses"]["401"].is_null());
        assert_eq!(doc["paths"]["/health"]["get"]["security"], json!([{}]));
        // The feed is described by its $metadata, linked from the description.
        assert!(
            doc["info"]["description"]
                .as_str()
                .unwrap()
                .contains("/odata/$metadata")
        );
    }

    #[test]
    fn etags_and_conditional_requests_are_described() {
        let doc = document_for("http://x");
        let op = |path: &str, method: &str| doc["paths"][format!("{BASE}{path}")][method].clone();
        let header_params = |op: &Value| -> Vec<String> {
            op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["in"] == "header")
                .map(|p| p["name"].as_str().unwrap().to_owned())
                .collect()
        };
        for set in ["users", "roles", "groups"] {
            let get = op(&format!("/{set}/{{id}}"), "get");
            assert!(
                get["responses"]["200"]["headers"]["ETag"].is_object(),
                "{set}"
            );
            assert!(get["responses"]["304"].is_object(), "{set}");
            assert!(
                get["responses"]["412"]["headers"]["ETag"].is_object(),
                "{set}"
            );
            assert_eq!(header_params(&get), ["If-None-Match", "If-Match"], "{set}");
            let delete = op(&format!("/{set}/{{id}}"), "delete");
            assert!(delete["responses"]["412"].is_object(), "{set}");
            assert_eq!(header_params(&delete), ["If-Match"], "{set}");
            let create = op(&format!("/{set}"), "post");
            assert!(
                create["responses"]["201"]["headers"]["ETag"].is_object(),
                "{set}"
            );
        }
        for (path, method) in [
            ("/users/{userKey}/name", "put"),
            ("/users/{userKey}/picture", "put"),
            ("/users/{userKey}/roles/add", "post"),
            ("/roles/{id}/description", "put"),
            ("/groups/{id}/name", "put"),
        ] {
            let write = op(path, method);
            assert_eq!(header_params(&write), ["If-Match"], "{path}");
            assert!(
                write["responses"]["200"]["headers"]["ETag"].is_object(),
                "{path}"
            );
            assert!(write["responses"]["412"].is_object(), "{path}");
        }
        // The picture download: its own ETag, 304 and 412 (no ETag on the 302).
        let picture = op("/users/{id}/picture", "get");
        for status in ["200", "304", "412"] {
            assert!(
                picture["responses"][status]["headers"]["ETag"].is_object(),
                "{status}"
            );
        }
        assert!(picture["responses"]["302"]["headers"]["ETag"].is_null());
        assert_eq!(header_params(&picture), ["If-None-Match", "If-Match"]);
        for (path, method) in [("/users/odata", "get"), ("/users/sendInvitation", "post")] {
            let other = op(path, method);
            assert!(other["responses"]["412"].is_null(), "{path}");
            assert!(header_params(&other).is_empty(), "{path}");
        }
    }

    #[test]
    fn list_routes_take_the_odata_options() {
        let doc = document_for("http://x");
        for path in [
            format!("{BASE}/users/odata"),
            format!("{BASE}/roles/odata"),
            format!("{BASE}/groups/odata"),
            "/api/{tenantKey}/{orgKey}/explain/identity/{list}".to_owned(),
            "/api/{tenantKey}/{orgKey}/validate/{entitySet}".to_owned(),
        ] {
            let names: Vec<&str> = doc["paths"][&path]["get"]["parameters"]
                .as_array()
                .unwrap_or_else(|| panic!("{path}"))
                .iter()
                .filter(|p| p["in"] == "query")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            for option in [
                "$filter",
                "$select",
                "$orderby",
                "$top",
                "$skip",
                "$expand",
                "$count",
                "$inlinecount",
                "$search",
                "$skiptoken",
            ] {
                assert!(names.contains(&option), "{option} in {path}: {names:?}");
            }
        }
    }
}
