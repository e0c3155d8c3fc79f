//! `POST /connect/token`: the OAuth2 client credentials grant (RFC 6749
//! §4.4). The client authenticates with HTTP Basic (`client_id:client_secret`)
//! or with `client_id` and `client_secret` in the form body (not both); the
//! body is `application/x-www-form-urlencoded` with
//! `grant_type=client_credentials` and an optional `scope` (a subset of
//! the client's scopes; default: all of them). The answer is
//! `{"access_token","token_type":"Bearer","expires_in","scope"}` with
//! `Cache-Control: no-store`. Errors use the OAuth2 body of RFC 6749 §5.2,
//! `{"error","error_description"}`: `invalid_request` (400),
//! `invalid_client` (401 with `WWW-Authenticate: Basic`),
//! `unsupported_grant_type` (400), `invalid_scope` (400); every other
//! failure of this route keeps its status in the same body:
//! `invalid_request` for 405, 413 and unreadable bodies,
//! `temporarily_unavailable` for 429 (over the limits of failed client
//! authentications) and 503 (too many being verified, or the database
//! down), with `Retry-After`, `server_error` for 500.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use crate::auth::{Principal, REALM, Scopes, jwt};
use crate::error::ApiError;
use crate::state::AppState;

/// The token endpoint's path.
pub const TOKEN_PATH: &str = "/connect/token";

/// Largest accepted token request body.
const MAX_BODY: usize = 4096;

/// Registers `POST /connect/token`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(TOKEN_PATH)
            .default_service(web::to(method_not_allowed))
            .route(web::post().to(token)),
    );
}

async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    OAuthError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        error: "invalid_request",
        description: format!("{} is not allowed here; use POST", req.method()),
    }
    .response()
}

/// The body, at most [`MAX_BODY`] bytes; 413 or 400 in the OAuth2 body.
async fn read_body(payload: web::Payload) -> Result<web::Bytes, OAuthError> {
    payload
        .to_bytes_limited(MAX_BODY)
        .await
        .map_err(|_| OAuthError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            error: "invalid_request",
            description: format!("the body is larger than {MAX_BODY} bytes"),
        })?
        .map_err(|e| OAuthError::invalid_request(format!("cannot read the body: {e}")))
}

/// A failure of the service itself in the OAuth2 body, with its status
/// and headers (`Retry-After`).
fn api_failure(err: &ApiError) -> HttpResponse {
    let plain = err.error_response();
    let status = plain.status();
    let error = match status {
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
            "temporarily_unavailable"
        }
        StatusCode::UNAUTHORIZED => "invalid_client",
        s if s.is_server_error() => "server_error",
        _ => "invalid_request",
    };
    let mut response = OAuthError {
        status,
        error,
        description: err.to_string(),
    }
    .response();
    if let Some(retry) = plain.headers().get(header::RETRY_AFTER) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry.clone());
    }
    response
}

/// An RFC 6749 §5.2 error.
#[derive(Debug)]
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl OAuthError {
    fn invalid_request(description: impl Into<String>) -> OAuthError {
        OAuthError {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description: description.into(),
        }
    }

    fn invalid_client() -> OAuthError {
        OAuthError {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description:
                "client authentication failed (unknown client, wrong secret or revoked client)"
                    .to_owned(),
        }
    }

    fn response(&self) -> HttpResponse {
        #[derive(Serialize)]
        struct Body<'a> {
            error: &'a str,
            error_description: &'a str,
        }
        let mut response = HttpResponse::build(self.status);
        response
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                format!("Basic realm=\"{REALM}\", charset=\"UTF-8\""),
            ));
        }
        response.json(Body {
            error: self.error,
            error_description: &self.description,
        })
    }
}

#[derive(Serialize)]
struct TokenBody<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: u64,
    scope: String,
}

/// The OAuth 2.0 client credentials grant.
#[utoipa::path(
    post, path = "/connect/token", tag = "Authentication", operation_id = "token",
    summary = "OAuth2 client credentials grant (RFC 6749 4.4): an access token for a client id and secret",
    description = "Authenticate the client with HTTP Basic (`client_id:client_secret`) or with `client_id` and `client_secret` in the body, not both. \
The token is a JWT (HS256) for the client's tenant and organization; send it as `Authorization: Bearer`. \
Answers carry `Cache-Control: no-store`.",
    request_body(content = crate::routes::dto::TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The access token", body = crate::routes::dto::TokenResponse),
        (status = 400, description = "`invalid_request`, `unsupported_grant_type` or `invalid_scope`", body = crate::routes::dto::OAuthError),
        (status = 401, description = "`invalid_client`: unknown or revoked client, wrong secret, no client authentication (with `WWW-Authenticate: Basic`)", body = crate::routes::dto::OAuthError),
        crate::routes::dto::Unavailable
    ),
    security(("clientBasic" = []), ())
)]
pub(crate) async fn token(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let body = match read_body(payload).await {
        Ok(body) => body,
        Err(err) => return err.response(),
    };
    match issue(&req, &body, &state).await {
        Ok(response) => response,
        Err(Failure::OAuth(err)) => err.response(),
        Err(Failure::Api(err)) => api_failure(&err),
    }
}

enum Failure {
    OAuth(OAuthError),
    /// A failure of the service itself (database down: 503; else 500).
    Api(ApiError),
}

impl From<OAuthError> for Failure {
    fn from(err: OAuthError) -> Self {
        Failure::OAuth(err)
    }
}

impl From<ApiError> for Failure {
    fn from(err: ApiError) -> Self {
        Failure::Api(err)
    }
}

async fn issue(req: &HttpRequest, body: &[u8], state: &AppState) -> Result<HttpResponse, Failure> {
    let form_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
        .unwrap_or(false);
    if !form_type {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        )
        .into());
    }
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| OAuthError::invalid_request(format!("malformed form body: {e}")))?;
    let param = |name: &str| -> Result<Option<&str>, OAuthError> {
        let mut values = params.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        let first = values.next();
        if values.next().is_some() {
            return Err(OAuthError::invalid_request(format!(
                "parameter '{name}' is repeated"
            )));
        }
        Ok(first.map(String::as_str).filter(|v| !v.is_empty()))
    };
    match param("grant_type")? {
        None => return Err(OAuthError::invalid_request("grant_type is required").into()),
        Some("client_credentials") => {}
        Some(other) => {
            return Err(OAuthError {
                status: StatusCode::BAD_REQUEST,
                error: "unsupported_grant_type",
                description: format!(
                    "grant_type '{other}' is not supported; use client_credentials"
                ),
            }
            .into());
        }
    }
    let basic = basic_credentials(req)?;
    let form = (param("client_id")?, param("client_secret")?);
    let (client_id, secret) = match (basic, form) {
        (Some(_), (Some(_), _) | (_, Some(_))) => {
            return Err(OAuthError::invalid_request(
                "use one client authentication method: HTTP Basic or client_id/client_secret in the body, not both",
            )
            .into());
        }
        (Some(pair), _) => pair,
        (None, (Some(id), Some(secret))) => (id.to_owned(), secret.to_owned()),
        (None, (Some(_), None)) => {
            return Err(OAuthError::invalid_request("client_secret is required").into());
        }
        (None, (None, _)) => {
            return Err(OAuthError {
                description: "client authentication required: HTTP Basic or client_id and client_secret in the body".to_owned(),
                ..OAuthError::invalid_client()
            }
            .into());
        }
    };
    let requested = match param("scope")? {
        Some(text) => Some(Scopes::parse(text).map_err(|e| OAuthError {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_scope",
            description: e,
        })?),
        None => None,
    };
    let granted: Principal = state
        .auth
        .verify_client(
            &state.db,
            &client_id,
            &secret,
            req.peer_addr().map(|peer| peer.ip()),
        )
        .await?
        .ok_or_else(OAuthError::invalid_client)?;
    let scopes = match requested {
        Some(scopes) if !scopes.is_subset_of(granted.scopes) => {
            return Err(OAuthError {
                status: StatusCode::BAD_REQUEST,
                error: "invalid_scope",
                description: format!(
                    "the client may request only '{}', not '{scopes}'",
                    granted.scopes
                ),
            }
            .into());
        }
        Some(scopes) => scopes,
        None => granted.scopes,
    };
    let principal = Principal { scopes, ..granted };
    let ttl = state.auth.token_ttl_seconds();
    let access_token = state
        .auth
        .keys
        .issue(&principal, jwt::now_seconds(), ttl)
        .map_err(ApiError::internal)?;
    tracing::info!(client_id = %principal.client_id, scope = %scopes, "access token issued");
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .content_type(ContentType::json())
        .json(TokenBody {
            access_token: &access_token,
            token_type: "Bearer",
            expires_in: ttl,
            scope: scopes.to_string(),
        }))
}

/// `Authorization: Basic` client credentials, if sent. Per RFC 6749 §2.3.1
/// the id and secret are form-urlencoded before base64; they are decoded.
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or("");
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError {
            description: "the token endpoint takes HTTP Basic client authentication".to_owned(),
            ..OAuthError::invalid_client()
        });
    }
    let decoded = STANDARD
        .decode(rest.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| OAuthError::invalid_request("malformed HTTP Basic credentials"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| OAuthError::invalid_request("malformed HTTP Basic credentials"))?;
    let unescape = |s: &str| -> Result<String, OAuthError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!("v={s}"))
            .map_err(|_| OAuthError::invalid_request("malformed HTTP Basic credentials"))?;
        Ok(pairs.into_iter().next().map(|(_, v)| v).unwrap_or_default())
    };
    Ok(Some((unescape(id)?, unescape(secret)?)))
}
