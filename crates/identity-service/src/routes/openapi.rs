//! `/openapi.json`: an OpenAPI 3.0 description of API 1 (users, roles,
//! groups, invitations, health), and `/docs`: a small self-contained page
//! that renders it (no external scripts, so it works offline).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::{base_url, resource};
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/openapi.json").route(web::get().to(document)))
        .service(resource("/docs").route(web::get().to(docs)));
}

async fn document(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(openapi(&base_url(&req, &state)))
}

async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(DOCS_HTML)
}

const BASE: &str = "/api/{tenantKey}/{orgKey}/identity";

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

pub(super) fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}, "description": description})
}

fn json_body(schema: Value, description: &str) -> Value {
    json!({"required": true, "description": description,
        "content": {"application/json": {"schema": schema}}})
}

fn error_response(description: &str) -> Value {
    json!({"description": description,
        "content": {"application/json": {"schema": reference("Error")}}})
}

/// Standard error answers keyed by status.
pub(super) fn errors(statuses: &[u16]) -> Map<String, Value> {
    statuses
        .iter()
        .map(|s| {
            let text = match s {
                400 => "Malformed request, invalid value or unknown role/group (details name each)",
                404 => "The tenant or record does not exist",
                409 => "The key or e-mail is taken (case-insensitively)",
                410 => "The invitation expired",
                413 => "The picture or body is too large",
                415 => "Missing or non-JSON Content-Type, or a picture that is not an image",
                401 => "No, an invalid, an expired or a revoked access token (with WWW-Authenticate: Bearer)",
                403 => "The token is for another tenant/organization, or lacks the scope (identity.read for GET, identity.write otherwise)",
                429 => "The client's rate limit is exhausted (with Retry-After)",
                501 => "A query feature that is not implemented",
                _ => "Error",
            };
            (s.to_string(), error_response(text))
        })
        .collect()
}

struct Op {
    tag: &'static str,
    summary: &'static str,
    params: Vec<Value>,
    body: Option<Value>,
    ok: (u16, Value),
    errors: &'static [u16],
    odata: bool,
}

impl Op {
    fn to_json(&self, method: &str, operation_id: &str) -> Value {
        let mut parameters = vec![
            path_param("tenantKey", "Tenant key (case-insensitive)"),
            path_param("orgKey", "Organization key (case-insensitive)"),
        ];
        parameters.extend(self.params.iter().cloned());
        if self.odata {
            parameters.extend(odata_parameters());
        }
        let mut responses = errors(self.errors);
        responses.insert(self.ok.0.to_string(), self.ok.1.clone());
        // The accepted invitation token is its own credential.
        let public = operation_id == "acceptInvitation";
        if !public {
            responses.extend(errors(&[401, 403, 429]));
        }
        let mut op = json!({
            "tags": [self.tag],
            "summary": self.summary,
            "operationId": operation_id,
            "parameters": parameters,
            "responses": responses,
        });
        if let Some(body) = &self.body {
            op["requestBody"] = body.clone();
        }
        let needed = if method == "get" {
            "identity.read"
        } else {
            "identity.write"
        };
        op["security"] = if public {
            json!([])
        } else {
            json!([{"bearerAuth": []}, {"clientCredentials": [needed]}])
        };
        op
    }
}

pub(super) fn odata_parameters() -> Vec<Value> {
    [
        (
            "$filter",
            "Filter expression, e.g. `status eq 1 and roles/any(r: r/roleKey eq 'ADMIN')`",
        ),
        ("$select", "Properties to return (`id` is always included)"),
        ("$orderby", "Sort order, e.g. `name desc,userKey`"),
        (
            "$top",
            "Number of records in total (pages hold at most 100)",
        ),
        ("$skip", "Records to skip"),
        (
            "$expand",
            "`roles` and/or `groups` as objects instead of keys",
        ),
        ("$count", "`true` fills `count`"),
        (
            "$inlinecount",
            "`allpages` (OData v3 spelling of `$count=true`) or `none`",
        ),
        ("$search", "Free-text search"),
        (
            "$skiptoken",
            "Opaque continuation token from `nextPageLink`",
        ),
    ]
    .iter()
    .map(|(name, description)| {
        json!({"name": name, "in": "query", "required": false,
            "schema": {"type": "string"}, "description": description})
    })
    .collect()
}

fn empty_ok() -> (u16, Value) {
    (200, json!({"description": "Done; the body is empty"}))
}

fn created() -> (u16, Value) {
    (
        201,
        json!({"description": "Created; `Location` is the absolute URL of the record",
            "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
            "content": {"application/json": {"schema": {"type": "string", "format": "uuid"}}}}),
    )
}

fn record(name: &str) -> (u16, Value) {
    (
        200,
        json!({"description": "The record",
            "content": {"application/json": {"schema": reference(name)}}}),
    )
}

fn page(name: &str) -> (u16, Value) {
    (
        200,
        json!({"description": "One page (at most 100 records)",
        "content": {"application/json": {"schema": {
            "type": "object",
            "required": ["items", "nextPageLink", "count"],
            "properties": {
                "items": {"type": "array", "items": reference(name)},
                "nextPageLink": {"type": "string", "format": "uri", "nullable": true},
                "count": {"type": "integer", "nullable": true}
            }}}}}),
    )
}

fn key_list_body(what: &str) -> Value {
    json_body(json!({"type": "array", "items": {"type": "string"}}), what)
}

fn bare_value(schema: Value) -> Value {
    json_body(schema, "The new value as a bare JSON value")
}

/// The user attributes settable with `PUT users/{userKey}/{attr}` and their body schemas.
fn user_attributes() -> Vec<(&'static str, Value)> {
    vec![
        (
            "email",
            json!({"type": "string", "format": "email", "nullable": true}),
        ),
        (
            "groups",
            json!({"type": "array", "items": {"type": "string"}}),
        ),
        ("isActive", json!({"type": "boolean"})),
        ("isTechnician", json!({"type": "boolean"})),
        (
            "lastLogin",
            json!({"type": "string", "format": "date-time", "nullable": true}),
        ),
        ("name", json!({"type": "string", "maxLength": 255})),
        (
            "roles",
            json!({"type": "array", "items": {"type": "string"}}),
        ),
        ("status", json!({"type": "integer", "enum": [1, 2]})),
        ("userKey", json!({"type": "string", "maxLength": 100})),
        ("culture", json!({"type": "string", "example": "en-US"})),
    ]
}

fn base_properties() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!({"type": "string", "format": "uuid"}));
    for flag in ["isActive", "isSystem", "isDeleted"] {
        m.insert(flag.into(), json!({"type": "boolean"}));
    }
    for who in ["createdBy", "modifiedBy"] {
        m.insert(who.into(), json!({"type": "string", "nullable": true}));
    }
    for when in ["createdOn", "modifiedOn"] {
        m.insert(
            when.into(),
            json!({"type": "string", "format": "date-time"}),
        );
    }
    m.insert("version".into(), json!({"type": "integer"}));
    m
}

/// How an operation takes part in optimistic concurrency (ETags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conditional {
    /// Reads one record: `ETag`, `If-None-Match` (304), `If-Match` (412).
    Read,
    /// Creates a record: its first `ETag`.
    Create,
    /// Changes or deletes one record: `If-Match` (412) and the new `ETag`.
    Write,
}

/// Which records' operations carry ETags: a read of one record, creating
/// one, and every write that addresses one (attributes, picture,
/// memberships, delete).
fn conditional(path: &str, method: &str) -> Option<Conditional> {
    let rest = path.strip_prefix(BASE)?;
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("get", [_, "{id}"]) => Some(Conditional::Read),
        ("post", ["users" | "roles" | "groups"]) => Some(Conditional::Create),
        ("delete", [_, "{id}"]) | ("put", [_, _, _]) => Some(Conditional::Write),
        ("post", ["users", "{userKey}", "roles" | "groups", _]) => Some(Conditional::Write),
        _ => None,
    }
}

fn etag_header() -> Value {
    json!({"description": "The record's ETag: its version in quotes, e.g. \"3\" (a strong entity tag)",
        "schema": {"type": "string"}})
}

/// Adds the ETag headers, conditional request headers and the 304/412
/// answers to an operation on one record.
fn describe_conditional(op: &mut Value, kind: Conditional) {
    let header_param = |name: &str, description: &str| {
        json!({"name": name, "in": "header", "required": false,
            "schema": {"type": "string"}, "description": description})
    };
    let if_match = header_param(
        "If-Match",
        "Only if the record's ETag is one of these (e.g. \"3\"; `*`: any existing record); else 412. Never required.",
    );
    let ok = match kind {
        Conditional::Read => "200",
        Conditional::Create => "201",
        Conditional::Write => {
            if op["responses"]["204"].is_object() {
                "204"
            } else {
                "200"
            }
        }
    };
    if ok != "204" {
        op["responses"][ok]["headers"]["ETag"] = etag_header();
    }
    let precondition_failed = || {
        let mut response = error_response(
            "If-Match does not match the record's current ETag (or If-None-Match does); the ETag header holds the current one",
        );
        response["headers"] = json!({"ETag": etag_header()});
        response
    };
    let params = op["parameters"].as_array_mut();
    match kind {
        Conditional::Read => {
            if let Some(params) = params {
                params.push(header_param(
                    "If-None-Match",
                    "The ETag(s) the client holds (weak comparison, or `*`): 304 without a body when the record still has one of them",
                ));
                params.push(if_match);
            }
            op["responses"]["304"] = json!({"description": "Not modified: the record still has the ETag of If-None-Match",
                "headers": {"ETag": etag_header()}});
            op["responses"]["412"] = precondition_failed();
        }
        Conditional::Write => {
            if let Some(params) = params {
                params.push(if_match);
            }
            op["responses"]["412"] = precondition_failed();
        }
        Conditional::Create => {}
    }
}

fn schema_with(extra: Value) -> Value {
    let mut properties = base_properties();
    if let Value::Object(more) = extra {
        properties.extend(more);
    }
    json!({"type": "object", "properties": properties})
}

/// The whole document; `server` is the base URL of this server.
pub fn openapi(server: &str) -> Value {
    let user_key = || path_param("userKey", "User key (case-insensitive) or id");
    let id = || path_param("id", "Record id (GUID) or key");
    let ops: Vec<(String, &str, &str, Op)> = vec![
        (
            format!("{BASE}/users/odata"),
            "get",
            "listUsers",
            Op {
                tag: "Users",
                summary: "A page of users (OData query options)",
                params: vec![],
                body: None,
                ok: page("User"),
                errors: &[400, 404, 501],
                odata: true,
            },
        ),
        (
            format!("{BASE}/users/{{id}}"),
            "get",
            "getUser",
            Op {
                tag: "Users",
                summary: "A user by id or key",
                params: vec![id()],
                body: None,
                ok: record("User"),
                errors: &[400, 404, 501],
                odata: true,
            },
        ),
        (
            format!("{BASE}/users/{{id}}/picture"),
            "get",
            "getUserPicture",
            Op {
                tag: "Users",
                summary: "The user's picture (302 to an external picture)",
                params: vec![
                    id(),
                    json!({"name": "fileName", "in": "query", "required": false,
                "schema": {"type": "string"}, "description": "Names the download"}),
                ],
                body: None,
                ok: (
                    200,
                    json!({"description": "The image", "content": {
                "image/png": {}, "image/jpeg": {}, "image/gif": {}, "image/webp": {}}}),
                ),
                errors: &[400, 404],
                odata: false,
            },
        ),
        (
            format!("{BASE}/users"),
            "post",
            "createUser",
            Op {
                tag: "Users",
                summary: "Create a user",
                params: vec![],
                body: Some(json_body(reference("ApiUserResource"), "The user")),
                ok: created(),
                errors: &[400, 404, 409, 413, 415],
                odata: false,
            },
        ),
        (
            format!("{BASE}/users/sendInvitation"),
            "post",
            "sendInvitation",
            Op {
                tag: "Invitations",
                summary: "Invite a user by e-mail (status 3 until accepted)",
                params: vec![],
                body: Some(json_body(reference("InvitedUser"), "Who to invite")),
                ok: (
                    200,
                    json!({"description": "The user id", "content": {"application/json":
                {"schema": {"type": "string", "format": "uuid"}}}}),
                ),
                errors: &[400, 404, 409, 415],
                odata: false,
            },
        ),
        (
            format!("{BASE}/invitations/{{token}}/accept"),
            "post",
            "acceptInvitation",
            Op {
                tag: "Invitations",
                summary: "Accept an invitation (the token is the credential)",
                params: vec![path_param("token", "The token from the invitation mail")],
                body: None,
                ok: (
                    200,
                    json!({"description": "The user is active", "content": {"application/json":
                {"schema": {"type": "object", "properties": {
                    "id": {"type": "string", "format": "uuid"}, "status": {"type": "integer"}}}}}}),
                ),
                errors: &[404, 410],
                odata: false,
            },
        ),
        (
            format!("{BASE}/users/{{userKey}}/picture"),
            "put",
            "setUserPicture",
            Op {
                tag: "Users",
                summary: "Set the picture: data URL, base64 (PNG, JPEG, GIF, WebP) or null",
                params: vec![user_key()],
                body: Some(bare_value(json!({"type": "string", "nullable": true}))),
                ok: empty_ok(),
                errors: &[400, 404, 413, 415],
                odata: false,
            },
        ),
        (
            format!("{BASE}/users/{{id}}"),
            "delete",
            "deleteUser",
            Op {
                tag: "Users",
                summary: "Delete a user with its memberships, picture and invitations",
                params: vec![id()],
                body: None,
                ok: (204, json!({"description": "Deleted"})),
                errors: &[404],
                odata: false,
            },
        ),
    ];
    let mut paths: Map<String, Value> = Map::new();
    let mut add = |path: String, method: &str, operation_id: &str, op: &Op| {
        let mut operation = op.to_json(method, operation_id);
        if let Some(kind) = conditional(&path, method) {
            describe_conditional(&mut operation, kind);
        }
        let entry = paths.entry(path).or_insert_with(|| json!({}));
        entry[method] = operation;
    };
    for (path, method, operation_id, op) in &ops {
        add(path.clone(), method, operation_id, op);
    }
    for (attr, schema) in user_attributes() {
        let op = Op {
            tag: "Users",
            summary: "Set one attribute of a user",
            params: vec![user_key()],
            body: Some(bare_value(schema)),
            ok: empty_ok(),
            errors: &[400, 404, 409, 415],
            odata: false,
        };
        add(
            format!("{BASE}/users/{{userKey}}/{attr}"),
            "put",
            &format!("setUser_{attr}"),
            &op,
        );
    }
    for collection in ["roles", "groups"] {
        for (operation, what) in [
            ("add", "keys to add"),
            ("addById", "ids to add"),
            ("remove", "keys to remove"),
            ("removeById", "ids to remove"),
        ] {
            let op = Op {
                tag: "Memberships",
                summary: "Change memberships (idempotent; an unknown entry changes nothing)",
                params: vec![user_key()],
                body: Some(key_list_body(what)),
                ok: empty_ok(),
                errors: &[400, 404, 415],
                odata: false,
            };
            add(
                format!("{BASE}/users/{{userKey}}/{collection}/{operation}"),
                "post",
                &format!("{collection}_{operation}"),
                &op,
            );
        }
    }
    for (set, tag, schema, new_schema, attributes) in [
        (
            "roles",
            "Roles",
            "Role",
            "NewRole",
            vec![
                ("roleKey", json!({"type": "string"})),
                ("description", json!({"type": "string", "nullable": true})),
                ("isAdministration", json!({"type": "boolean"})),
                ("isDefault", json!({"type": "boolean"})),
                ("isInternal", json!({"type": "boolean"})),
                ("isActive", json!({"type": "boolean"})),
            ],
        ),
        (
            "groups",
            "Groups",
            "Group",
            "NewGroup",
            vec![
                ("groupKey", json!({"type": "string"})),
                ("name", json!({"type": "string", "nullable": true})),
                (
                    "email",
                    json!({"type": "string", "format": "email", "nullable": true}),
                ),
                ("notes", json!({"type": "string", "nullable": true})),
                ("isActive", json!({"type": "boolean"})),
            ],
        ),
    ] {
        add(
            format!("{BASE}/{set}/odata"),
            "get",
            &format!("list_{set}"),
            &Op {
                tag,
                summary: "A page of records (OData query options)",
                params: vec![],
                body: None,
                ok: page(schema),
                errors: &[400, 404, 501],
                odata: true,
            },
        );
        add(
            format!("{BASE}/{set}/{{id}}"),
            "get",
            &format!("get_{set}"),
            &Op {
                tag,
                summary: "A record by id or key",
                params: vec![id()],
                body: None,
                ok: record(schema),
                errors: &[400, 404, 501],
                odata: true,
            },
        );
        add(
            format!("{BASE}/{set}"),
            "post",
            &format!("create_{set}"),
            &Op {
                tag,
                summary: "Create a record",
                params: vec![],
                body: Some(json_body(reference(new_schema), "The record")),
                ok: created(),
                errors: &[400, 404, 409, 415],
                odata: false,
            },
        );
        add(
            format!("{BASE}/{set}/{{id}}"),
            "delete",
            &format!("delete_{set}"),
            &Op {
                tag,
                summary: "Delete a record and its memberships",
                params: vec![id()],
                body: None,
                ok: (204, json!({"description": "Deleted"})),
                errors: &[404],
                odata: false,
            },
        );
        for (attr, attr_schema) in attributes {
            add(
                format!("{BASE}/{set}/{{id}}/{attr}"),
                "put",
                &format!("set_{set}_{attr}"),
                &Op {
                    tag,
                    summary: "Set one attribute",
                    params: vec![id()],
                    body: Some(bare_value(attr_schema)),
                    ok: empty_ok(),
                    errors: &[400, 404, 409, 415],
                    odata: false,
                },
            );
        }
    }
    super::explain::openapi(&mut paths);
    paths.insert(
        "/health".into(),
        json!({"get": {"tags": ["Operations"], "summary": "The process answers", "operationId": "health",
            "security": [], "responses": {"200": {"description": "OK"}}}}),
    );
    paths.insert(
        "/ready".into(),
        json!({"get": {"tags": ["Operations"], "summary": "The database answers", "operationId": "ready",
            "security": [],
            "responses": {"200": {"description": "Ready"}, "503": error_response("The database is unavailable")}}}),
    );
    let oauth_error = |description: &str| {
        json!({"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}}})
    };
    paths.insert(
        "/connect/token".into(),
        json!({"post": {"tags": ["Authentication"], "operationId": "token",
            "summary": "OAuth2 client credentials grant (RFC 6749 4.4): an access token for a client id and secret",
            "description": "Authenticate the client with HTTP Basic (client_id:client_secret) or with client_id and client_secret in the body, not both. \
                The token is a JWT (HS256) for the client's tenant and organization; send it as Authorization: Bearer. \
                Answers carry Cache-Control: no-store.",
            "security": [{"clientBasic": []}, {}],
            "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {
                "type": "object", "required": ["grant_type"], "properties": {
                    "grant_type": {"type": "string", "enum": ["client_credentials"]},
                    "scope": {"type": "string", "description": "Space-separated subset of the client's scopes (default: all of them)"},
                    "client_id": {"type": "string"}, "client_secret": {"type": "string"}
                }}}}},
            "responses": {
                "200": {"description": "The access token", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenResponse"}}}},
                "400": oauth_error("invalid_request, unsupported_grant_type or invalid_scope"),
                "401": oauth_error("invalid_client: unknown or revoked client, wrong secret, no client authentication (with WWW-Authenticate: Basic)"),
                "503": error_response("The database is unavailable")
            }}}),
    );

    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "odata-users identity API (API 1)",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Valuekeep-style identity API: users, roles, groups and invitations per tenant and organization. \
                Literal path segments and keys are case-insensitive; a GUID segment is an id, anything else a key. \
                Every error has the body {\"error\":{\"code\",\"message\",\"target\"?,\"details\"?}}. \
                Every /api route needs Authorization: Bearer <token> from POST /connect/token (client credentials; \
                scopes identity.read for GET, identity.write for the rest), except accepting an invitation. \
                The standard OData v4 feed lives under /api/{tenantKey}/{orgKey}/odata/."
        },
        "servers": [{"url": server}],
        "tags": [
            {"name": "Users"}, {"name": "Memberships"}, {"name": "Roles"}, {"name": "Groups"},
            {"name": "Invitations"}, {"name": "Diagnostics"}, {"name": "Authentication"}, {"name": "Operations"}
        ],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "An access token from POST /connect/token"},
            "clientCredentials": {"type": "oauth2", "flows": {"clientCredentials": {
                "tokenUrl": format!("{server}/connect/token"),
                "scopes": {"identity.read": "GET and HEAD", "identity.write": "POST, PUT and DELETE",
                    "identity.admin": "explain (implies neither of the others)"}}}},
            "clientBasic": {"type": "http", "scheme": "basic",
                "description": "client_id:client_secret (the token endpoint; the OData v4 feed takes it too)"}
        },
        "schemas": {
            "TokenResponse": {"type": "object", "required": ["access_token", "token_type", "expires_in", "scope"], "properties": {
                "access_token": {"type": "string"}, "token_type": {"type": "string", "enum": ["Bearer"]},
                "expires_in": {"type": "integer", "description": "Seconds"}, "scope": {"type": "string"}}},
            "OAuthError": {"type": "object", "required": ["error"], "properties": {
                "error": {"type": "string", "enum": ["invalid_request", "invalid_client", "unsupported_grant_type", "invalid_scope"]},
                "error_description": {"type": "string"}}},
            "User": schema_with(json!({
                "userKey": {"type": "string"}, "name": {"type": "string"},
                "culture": {"type": "string"}, "email": {"type": "string", "nullable": true},
                "isTechnician": {"type": "boolean"},
                "lastLogin": {"type": "string", "format": "date-time", "nullable": true},
                "status": {"type": "integer", "enum": [1, 2, 3, 4],
                    "description": "1 Active, 2 Inactive, 3 InvitationSent, 4 InvitationExpired"},
                "picture": {"type": "string", "format": "uri", "nullable": true},
                "roles": {"type": "array", "items": {"type": "string"}, "description": "Role keys (objects under $expand)"},
                "groups": {"type": "array", "items": {"type": "string"}, "description": "Group keys (objects under $expand)"}
            })),
            "Role": schema_with(json!({
                "roleKey": {"type": "string"}, "description": {"type": "string", "nullable": true},
                "isAdministration": {"type": "boolean"}, "isDefault": {"type": "boolean"},
                "isInternal": {"type": "boolean"}
            })),
            "Group": schema_with(json!({
                "groupKey": {"type": "string"}, "name": {"type": "string", "nullable": true},
                "email": {"type": "string", "nullable": true}, "notes": {"type": "string", "nullable": true}
            })),
            "ApiUserResource": {"type": "object", "required": ["userKey", "name", "isTechnician"], "properties": {
                "userKey": {"type": "string", "maxLength": 100}, "name": {"type": "string", "maxLength": 255},
                "isTechnician": {"type": "boolean"},
                "culture": {"type": "string", "description": "BCP 47; default from Accept-Language, else en-US"},
                "email": {"type": "string", "format": "email", "nullable": true},
                "roles": {"type": "array", "items": {"type": "string"}},
                "groups": {"type": "array", "items": {"type": "string"}},
                "status": {"type": "integer", "enum": [1, 2]},
                "isActive": {"type": "boolean"},
                "lastLogin": {"type": "string", "format": "date-time", "nullable": true},
                "picture": {"type": "string", "nullable": true, "description": "Data URL, base64 or http(s) URL"}
            }},
            "InvitedUser": {"type": "object", "required": ["email"], "properties": {
                "email": {"type": "string", "format": "email"}, "name": {"type": "string"},
                "userKey": {"type": "string"}, "culture": {"type": "string"},
                "roles": {"type": "array", "items": {"type": "string"}},
                "groups": {"type": "array", "items": {"type": "string"}}
            }},
            "NewRole": {"type": "object", "required": ["roleKey"], "properties": {
                "roleKey": {"type": "string"}, "description": {"type": "string", "nullable": true},
                "isAdministration": {"type": "boolean"}, "isDefault": {"type": "boolean"},
                "isInternal": {"type": "boolean"}, "isActive": {"type": "boolean"}
            }},
            "NewGroup": {"type": "object", "required": ["groupKey"], "properties": {
                "groupKey": {"type": "string"}, "name": {"type": "string", "nullable": true},
                "email": {"type": "string", "format": "email", "nullable": true},
                "notes": {"type": "string", "nullable": true}, "isActive": {"type": "boolean"}
            }},
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"},
                    "target": {"type": "string"},
                    "details": {"type": "array", "items": {"type": "object", "properties": {
                        "code": {"type": "string"}, "message": {"type": "string"}, "target": {"type": "string"}}}},
                    "innererror": {"type": "object", "description": "explain and validate: stage, option, offset, expected, query, caret, timings"}
                }}}}
        }}
    })
}

/// The `/docs` page: fetches `/openapi.json` and lists every operation with
/// its parameters, body and answers.
const DOCS_HTML: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>odata-users API 1</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
h2{border-bottom:1px solid #ccc;padding-bottom:.2em}
details{margin:.3em 0;border:1px solid #ddd;border-radius:4px;padding:.3em .6em}
summary{cursor:pointer}
.m{display:inline-block;min-width:4.5em;font-weight:bold;font-family:monospace}
.get{color:#0a6}.post{color:#06c}.put{color:#b70}.delete{color:#c22}
code,pre{background:#f5f5f5;padding:.1em .3em;border-radius:3px}
pre{padding:.6em;overflow:auto}
</style></head><body>
<h1>odata-users API 1</h1>
<p id="intro">Loading <a href="openapi.json">openapi.json</a>...</p>
<div id="ops"></div>
<script>
fetch('openapi.json').then(r => r.json()).then(doc => {
  const esc = s => String(s).replace(/[&<>"]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
  document.getElementById('intro').innerHTML = esc(doc.info.description) +
    ' Server: <code>' + esc(doc.servers[0].url) + '</code>. Raw document: <a href="openapi.json">openapi.json</a>.';
  const byTag = {};
  for (const [path, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item))
      (byTag[(op.tags || ['Other'])[0]] ||= []).push({path, method, op});
  let html = '';
  for (const [tag, ops] of Object.entries(byTag)) {
    html += '<h2>' + esc(tag) + '</h2>';
    for (const {path, method, op} of ops) {
      html += '<details><summary><span class="m ' + method + '">' + method.toUpperCase() + '</span> <code>' +
        esc(path) + '</code> ' + esc(op.summary || '') + '</summary>';
      const params = (op.parameters || []).map(p => '<li><code>' + esc(p.name) + '</code> (' + esc(p.in) + ') ' + esc(p.description || '') + '</li>').join('');
      if (params) html += '<p>Parameters:</p><ul>' + params + '</ul>';
      if (op.requestBody) for (const [type, media] of Object.entries(op.requestBody.content))
        html += '<p>Body (<code>' + esc(type) + '</code>):</p><pre>' + esc(JSON.stringify(media.schema, null, 2)) + '</pre>';
      html += '<p>Answers:</p><ul>' + Object.entries(op.responses).map(([s, r]) => '<li><b>' + esc(s) + '</b> ' + esc(r.description) + '</li>').join('') + '</ul>';
      html += '</details>';
    }
  }
  html += '<h2>Schemas</h2><pre>' + esc(JSON.stringify(doc.components.schemas, null, 2)) + '</pre>';
  document.getElementById('ops').innerHTML = html;
}).catch(e => { document.getElementById('intro').textContent = 'Cannot load openapi.json: ' + e; });
</script></body></html>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_operation_is_described() {
        let doc = openapi("http://x");
        let paths = doc["paths"].as_object().unwrap();
        let mut count = 0;
        for item in paths.values() {
            count += item.as_object().unwrap().len();
        }
        // 26 seed operations (GET by id and by key share one path) plus
        // roles, groups, invitations and operations.
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
        ] {
            let full = format!("{BASE}{path}");
            assert!(
                paths.get(&full).and_then(|p| p.get(method)).is_some(),
                "{method} {full}"
            );
        }
        assert_eq!(doc["servers"][0]["url"], "http://x");
    }

    #[test]
    fn security_is_described() {
        let doc = openapi("http://x");
        assert_eq!(
            doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
            "bearer"
        );
        assert_eq!(
            doc["components"]["securitySchemes"]["clientCredentials"]["flows"]["clientCredentials"]
                ["tokenUrl"],
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
        assert_eq!(accept["security"], json!([]));
        assert!(accept["responses"]["401"].is_null());
        assert_eq!(doc["paths"]["/health"]["get"]["security"], json!([]));
    }

    #[test]
    fn etags_and_conditional_requests_are_described() {
        let doc = openapi("http://x");
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
        for (path, method) in [
            ("/users/odata", "get"),
            ("/users/{id}/picture", "get"),
            ("/users/sendInvitation", "post"),
        ] {
            let other = op(path, method);
            assert!(other["responses"]["412"].is_null(), "{path}");
            assert!(header_params(&other).is_empty(), "{path}");
        }
    }
}
