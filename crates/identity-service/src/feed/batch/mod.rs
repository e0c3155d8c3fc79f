//! `POST …/odata/$batch`: OData 4.0 `multipart/mixed` batches and, for
//! requests that send `OData-Version: 4.01` with `Content-Type:
//! application/json`, the 4.01 JSON format.
//!
//! Each inner request is handled by the same functions the feed's routes
//! call ([`super::routes::read`], [`super::writes::write`]) with an
//! `HttpRequest` built from the inner method, URL, headers and body, after
//! the checks the guard makes for a request sent alone
//! ([`crate::auth::guard::admit`]: rate limit, tenant, scope) with the
//! outer request's credentials. Requests run in order; a failing request
//! does not stop the batch (`odata.continue-on-error` is the behaviour).
//!
//! A change set (an atomicity group in JSON) runs in one database
//! transaction ([`ChangeSet`]): the storage functions take it instead of
//! the pool and run as savepoints of it. The first failing request rolls
//! the whole set back, and the set answers with that one error. The
//! tenant's bookkeeping of its writes (row counters, change log) is
//! written once, just before the commit, so the set takes those locks
//! last, as a single write does (see [`crate::storage::bookkeeping`]).

mod json;
mod multipart;

use std::collections::HashMap;

use actix_web::body::MessageBody;
use actix_web::http::{Method, StatusCode, Uri, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};

use super::paths::split_path;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::http::is_batch_path;
use crate::state::AppState;
use crate::storage::ChangeSet;
use crate::tenancy::TenantScope;

/// One request of a batch.
pub(super) struct Inner {
    /// `Content-ID` (multipart) or `id` (JSON).
    id: Option<String>,
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// JSON `dependsOn`: requests (or groups) that must have succeeded.
    depends_on: Vec<String>,
}

/// A request alone, or a change set (atomicity group).
pub(super) enum Item {
    Single(Inner),
    ChangeSet {
        group: Option<String>,
        requests: Vec<Inner>,
    },
}

/// The answer to one inner request.
pub(super) struct Answer {
    id: Option<String>,
    group: Option<String>,
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// What an item answers: one answer, or a change set's answers.
pub(super) enum Outcome {
    Single(Answer),
    ChangeSet(Vec<Answer>),
}

pub(super) fn is_batch(req: &HttpRequest) -> bool {
    is_batch_path(req.path())
}

fn malformed(message: String) -> ApiError {
    ApiError::bad_request(format!("malformed batch: {message}"), Some("$batch"))
}

fn header_text(req: &HttpRequest, name: impl header::AsHeaderName) -> &str {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// `POST …/odata/$batch`.
pub(super) async fn batch(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let principal = req
        .extensions()
        .get::<std::sync::Arc<Principal>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no principal on a guarded route")))?;
    let max_requests = state.settings.batch_max_requests;
    let limit = state
        .settings
        .max_json_bytes
        .saturating_mul(max_requests.max(1));
    let too_large = || ApiError::PayloadTooLarge {
        message: format!("the batch body is larger than {limit} bytes"),
    };
    let body = payload
        .to_bytes_limited(limit)
        .await
        .map_err(|_| too_large())?
        .map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}"), None))?;
    let content_type = header_text(&req, header::CONTENT_TYPE).to_owned();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let json = match essence.as_str() {
        "multipart/mixed" => false,
        "application/json" => {
            if header_text(&req, "odata-version").trim() != "4.01" {
                return Err(ApiError::bad_request(
                    "a JSON batch is OData 4.01: send OData-Version: 4.01 (or send a \
                     multipart/mixed batch)",
                    Some("OData-Version"),
                ));
            }
            true
        }
        _ => {
            return Err(ApiError::UnsupportedMediaType {
                message: "a batch is multipart/mixed (with a boundary), or application/json with \
                          OData-Version: 4.01"
                    .into(),
            });
        }
    };
    let items = if json {
        json::parse(&body).map_err(malformed)?
    } else {
        let boundary = multipart::boundary(&content_type).ok_or_else(|| {
            malformed("the Content-Type multipart/mixed has no boundary parameter".into())
        })?;
        multipart::parse(&body, &boundary).map_err(malformed)?
    };
    let count: usize = items
        .iter()
        .map(|item| match item {
            Item::Single(_) => 1,
            Item::ChangeSet { requests, .. } => requests.len(),
        })
        .sum();
    if count > max_requests {
        return Err(ApiError::bad_request(
            format!("the batch holds {count} requests, more than the limit of {max_requests}"),
            Some("$batch"),
        ));
    }
    let runner = Runner {
        outer: &req,
        state: &state,
        scope: &scope,
        principal: &principal,
        root: split_path(req.path()).0.to_owned(),
        base: crate::routes::base_url(&req, &state),
    };
    let outcomes = runner.run(items, json).await;
    if json {
        Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .insert_header(("OData-Version", "4.01"))
            .body(json::render(&outcomes)))
    } else {
        let boundary = format!("batchresponse_{}", uuid::Uuid::new_v4());
        Ok(HttpResponse::Ok()
            .insert_header((
                header::CONTENT_TYPE,
                format!("multipart/mixed; boundary={boundary}"),
            ))
            .body(multipart::render(&outcomes, &boundary)))
    }
}

struct Runner<'a> {
    outer: &'a HttpRequest,
    state: &'a AppState,
    scope: &'a TenantScope,
    principal: &'a Principal,
    /// The path of the service root, `/api/t/o/odata`.
    root: String,
    /// The base URL links are built with (`APP_PUBLIC_URL`, else from the
    /// request): absolute URLs under it are paths of this service.
    base: String,
}

/// An error answer (the OData error body of the error).
fn error_answer(err: &ApiError) -> (StatusCode, Vec<(String, String)>, Vec<u8>) {
    let response = err.error_response();
    let status = response.status();
    let headers = response_headers(&response);
    let body = match response.into_body().try_into_bytes() {
        Ok(bytes) => bytes.to_vec(),
        Err(_) => Vec::new(),
    };
    (status, headers, body)
}

fn response_headers(response: &HttpResponse) -> Vec<(String, String)> {
    response
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect()
}

impl Runner<'_> {
    async fn run(&self, items: Vec<Item>, json: bool) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(items.len());
        // JSON: ids (and groups) that failed, for `dependsOn`.
        let mut failed: Vec<String> = Vec::new();
        // JSON: locations of earlier requests, for `$id` references.
        let mut all_locations: HashMap<String, String> = HashMap::new();
        for item in items {
            match item {
                Item::Single(inner) => {
                    let answer =
                        if let Some(dep) = inner.depends_on.iter().find(|d| failed.contains(d)) {
                            self.failed_dependency(&inner, None, dep)
                        } else {
                            self.one(&inner, &all_locations, None).await
                        };
                    if !answer.status.is_success() {
                        failed.extend(inner.id.clone());
                    }
                    if json {
                        remember(&mut all_locations, &answer, &self.base);
                    }
                    outcomes.push(Outcome::Single(answer));
                }
                Item::ChangeSet { group, requests } => {
                    let outcome = self
                        .change_set(group.clone(), requests, &failed, &all_locations)
                        .await;
                    match &outcome {
                        Outcome::Single(answer) => {
                            failed.extend(answer.id.clone());
                            failed.extend(group);
                        }
                        Outcome::ChangeSet(answers) => {
                            if json {
                                for answer in answers {
                                    remember(&mut all_locations, answer, &self.base);
                                }
                            }
                        }
                    }
                    outcomes.push(outcome);
                }
            }
        }
        outcomes
    }

    fn failed_dependency(&self, inner: &Inner, group: Option<String>, dep: &str) -> Answer {
        let err = ApiError::FailedDependency {
            message: format!(
                "request `{}` depends on `{}`, which failed",
                inner.id.as_deref().unwrap_or(""),
                crate::error::echo(dep)
            ),
        };
        let (status, headers, body) = error_answer(&err);
        Answer {
            id: inner.id.clone(),
            group,
            status,
            headers,
            body,
        }
    }

    /// A change set in one transaction: every answer, or the first error.
    async fn change_set(
        &self,
        group: Option<String>,
        requests: Vec<Inner>,
        failed: &[String],
        earlier: &HashMap<String, String>,
    ) -> Outcome {
        let fail = |id: Option<String>, err: ApiError| {
            let (status, headers, body) = error_answer(&err);
            Outcome::Single(Answer {
                id,
                group: group.clone(),
                status,
                headers,
                body,
            })
        };
        let txn = match ChangeSet::begin(&self.state.db).await {
            Ok(txn) => txn,
            Err(err) => return fail(None, err),
        };
        let mut locations = earlier.clone();
        let mut answers = Vec::with_capacity(requests.len());
        for inner in &requests {
            if let Some(dep) = inner.depends_on.iter().find(|d| failed.contains(d)) {
                let _ = txn.rollback().await;
                return Outcome::Single(self.failed_dependency(inner, group.clone(), dep));
            }
            let mut answer = self.one(inner, &locations, Some(&txn)).await;
            answer.group = group.clone();
            if !answer.status.is_success() {
                let _ = txn.rollback().await;
                return Outcome::Single(answer);
            }
            remember(&mut locations, &answer, &self.base);
            answers.push(answer);
        }
        match txn.commit().await {
            Ok(()) => Outcome::ChangeSet(answers),
            Err(err) => fail(None, err),
        }
    }

    /// One request, alone or in `txn`.
    async fn one(
        &self,
        inner: &Inner,
        locations: &HashMap<String, String>,
        txn: Option<&ChangeSet>,
    ) -> Answer {
        let (status, headers, body) = match self.dispatch(inner, locations, txn).await {
            Ok(response) => {
                let status = response.status();
                let headers = response_headers(&response);
                match actix_web::body::to_bytes(response.into_body()).await {
                    Ok(bytes) => (status, headers, bytes.to_vec()),
                    Err(_) => error_answer(&ApiError::internal(anyhow::anyhow!(
                        "an inner response body could not be read"
                    ))),
                }
            }
            Err(err) => error_answer(&err),
        };
        Answer {
            id: inner.id.clone(),
            group: None,
            status,
            headers,
            body,
        }
    }

    /// The absolute path and query of an inner URL: relative to the
    /// service root, an absolute path, an absolute URL, or `$<id>…`.
    fn target(&self, url: &str, locations: &HashMap<String, String>) -> Result<String, ApiError> {
        if let Some(reference) = url.strip_prefix('$') {
            let end = reference.find(['/', '?']).unwrap_or(reference.len());
            let (id, rest) = reference.split_at(end);
            // `$batch`, `$metadata`, … are resources, not references.
            if let Some(location) = locations.get(id) {
                return Ok(format!("{location}{rest}"));
            }
            if !id.chars().all(|c| c.is_ascii_alphabetic()) || id.is_empty() {
                return Err(ApiError::bad_request(
                    format!(
                        "`${}` names no earlier request of this change set with a Location",
                        crate::error::echo(id)
                    ),
                    Some("url"),
                ));
            }
        }
        if url.starts_with('/') {
            return Ok(url.to_owned());
        }
        if url.starts_with("http://") || url.starts_with("https://") {
            return Ok(url_path(url, &self.base));
        }
        Ok(format!("{}/{url}", self.root))
    }

    async fn dispatch(
        &self,
        inner: &Inner,
        locations: &HashMap<String, String>,
        txn: Option<&ChangeSet>,
    ) -> Result<HttpResponse, ApiError> {
        let target = self.target(&inner.url, locations)?;
        let uri: Uri = target.parse().map_err(|_| {
            ApiError::bad_request(
                format!("`{}` is not a valid URL", crate::error::echo(&inner.url)),
                Some("url"),
            )
        })?;
        let mut path = uri.path().to_owned();
        if let Some(canonical) = crate::routes::canonical_path(&path) {
            path = canonical;
        }
        let segments: Vec<&str> = path.split('/').collect();
        if segments.len() < 5 || segments[1] != "api" || segments[4] != "odata" {
            return Err(ApiError::not_found(format!(
                "`{}` is not a resource of the feed: a batch addresses /api/{{tenantKey}}/{{orgKey}}/odata/…",
                crate::error::echo(&inner.url)
            )));
        }
        let (tenant, org) = (segments[2].to_owned(), segments[3].to_owned());
        if is_batch_path(&path) {
            return Err(ApiError::bad_request(
                "a batch cannot hold a $batch",
                Some("url"),
            ));
        }
        crate::auth::guard::admit(
            self.state,
            self.principal,
            &inner.method,
            &path,
            &tenant,
            &org,
        )?;
        // The guard admitted the client's own tenant only, which is the
        // outer request's (compared case-insensitively, as the guard does).
        let _read = if inner.method == Method::GET {
            Some(self.state.read_gate.admit(self.principal)?)
        } else {
            None
        };
        let with_query = match uri.query() {
            Some(q) => format!("{path}?{q}"),
            None => path.clone(),
        };
        // actix-web's request builder (`test::TestRequest`, part of its
        // public API in every build) makes the `HttpRequest` the feed's
        // functions take: no socket, no routing, no middleware.
        let mut builder = actix_web::test::TestRequest::default()
            .method(inner.method.clone())
            .uri(&with_query)
            .param("tenantKey", tenant)
            .param("orgKey", org);
        if let Some(peer) = self.outer.peer_addr() {
            builder = builder.peer_addr(peer);
        }
        // The outer request's Host and proxy headers, so that links are
        // built as for the batch itself.
        for name in [
            header::HOST,
            header::FORWARDED,
            header::HeaderName::from_static("x-forwarded-for"),
            header::HeaderName::from_static("x-forwarded-proto"),
            header::HeaderName::from_static("x-forwarded-host"),
        ] {
            if let Some(value) = self.outer.headers().get(&name) {
                builder = builder.insert_header((name, value.clone()));
            }
        }
        for (name, value) in &inner.headers {
            let name = header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                ApiError::bad_request(
                    format!("`{}` is not a header name", crate::error::echo(name)),
                    Some("headers"),
                )
            })?;
            let value = header::HeaderValue::from_str(value).map_err(|_| {
                ApiError::bad_request(
                    format!("the value of header {name} is not valid"),
                    Some("headers"),
                )
            })?;
            builder = builder.append_header((name, value));
        }
        if !inner.body.is_empty() {
            builder = builder.set_payload(inner.body.clone());
        }
        let (req, mut payload) = builder.to_http_parts();
        let scope = self.scope;
        match inner.method {
            Method::GET => super::routes::read(&req, self.state, scope, txn).await,
            Method::POST | Method::PATCH | Method::PUT | Method::DELETE => {
                let payload = web::Payload::from_request(&req, &mut payload)
                    .await
                    .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
                let actor = self.principal.actor();
                super::writes::write(&req, self.state, scope, &actor, payload, txn).await
            }
            _ => Err(ApiError::MethodNotAllowed {
                method: inner.method.to_string(),
            }),
        }
    }
}

/// Records the `Location` of a successful answer (as a path) under its id.
fn remember(locations: &mut HashMap<String, String>, answer: &Answer, base: &str) {
    let Some(id) = &answer.id else { return };
    if !answer.status.is_success() {
        return;
    }
    let Some((_, location)) = answer
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("location"))
    else {
        return;
    };
    locations.insert(id.clone(), url_path(location, base));
}

/// The path (and query) of an absolute URL: what follows `base` when it
/// starts with it (a public URL may have a path of its own), else what
/// follows the authority.
fn url_path(url: &str, base: &str) -> String {
    if let Some(rest) = url.strip_prefix(base)
        && (rest.is_empty() || rest.starts_with('/'))
    {
        return if rest.is_empty() {
            "/".to_owned()
        } else {
            rest.to_owned()
        };
    }
    match url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]).to_owned(),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_urls_become_paths_of_the_service() {
        let base = "https://id.example.com/identity";
        assert_eq!(
            url_path(
                "https://id.example.com/identity/api/t/o/odata/Users(1)",
                base
            ),
            "/api/t/o/odata/Users(1)"
        );
        assert_eq!(
            url_path(
                "http://127.0.0.1:8080/api/t/o/odata/Users?$top=1",
                "http://x"
            ),
            "/api/t/o/odata/Users?$top=1"
        );
        assert_eq!(url_path("http://host", "http://other"), "/");
        assert!(is_batch_path("/api/t/o/odata/$batch"));
        assert!(is_batch_path("/api/t/o/odata/%24batch"));
        assert!(!is_batch_path("/api/t/o/identity/$batch"));
        assert!(!is_batch_path("/api/t/o/odata/Users"));
    }
}
