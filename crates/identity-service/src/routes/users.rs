//! API 1 user routes under `/api/{tenantKey}/{orgKey}/identity/users`.
//! Literal segments (`odata`, `sendInvitation`) are registered before
//! `{userKey}`; a GUID segment is an id, anything else a key.

use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;

use super::body::read_json;
use super::dto::{
    AuthErrors, BadRequest, ConditionalPicture, ConditionalRead, Conflict, ErrorBody, IfMatch,
    IfMatchPicture, NewUser as NewUserBody, NotFound, NotImplemented, NotModified, ODataOptions,
    Page, PictureQuery as PictureParams, PreconditionFailed, RecordPath, TenantPath, TooLarge,
    UnsupportedMediaType, User, UserPath, parse_body,
};
use super::openapi::{Documented, Variant, body as schema};
use crate::domain::{
    Actor, Culture, Email, EntityKey, NewUser, PictureInput, UserName, UserStatus, key_list,
    parse_last_login,
};
use crate::error::ApiError;
use crate::etag::{self, Precondition};
use crate::odata::EntityKind;
use crate::pictures;
use crate::state::AppState;
use crate::storage::memberships::{Membership, Reference};
use crate::storage::users::{self, MembershipOp, StoredPicture, UserChange};
use crate::tenancy::TenantScope;

/// The attributes `PUT users/{userKey}/{attr}` accepts.
pub const SETTABLE: &[&str] = &[
    "email",
    "groups",
    "isActive",
    "isTechnician",
    "lastLogin",
    "name",
    "picture",
    "roles",
    "status",
    "userKey",
    "culture",
];

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(Documented::new("/users/odata").route(web::get().to(list), __path_list))
        .service(Documented::new("/users").route(web::post().to(create), __path_create))
        .service(
            Documented::new("/users/{user}")
                .route(web::get().to(get), __path_get)
                .route(web::delete().to(delete), __path_delete),
        )
        .service(
            Documented::new("/users/{user}/picture")
                .route(web::get().to(get_picture), __path_get_picture)
                .route(web::put().to(put_picture), __path_put_picture),
        )
        .service(Documented::new("/users/{user}/{attr}").route_variants(
            web::put().to(put_attribute),
            __path_put_attribute,
            attribute_variants(),
        ))
        .service(
            Documented::new("/users/{user}/{collection}/{op}").route_variants(
                web::post().to(membership),
                __path_membership,
                membership_variants(),
            ),
        );
}

/// One documented operation per attribute of `PUT users/{userKey}/{attr}`
/// (the picture has its own route), each with its body.
fn attribute_variants() -> Vec<Variant> {
    [
        ("email", schema::email()),
        ("groups", schema::keys()),
        ("isActive", schema::boolean()),
        ("isTechnician", schema::boolean()),
        ("lastLogin", schema::date_time()),
        ("name", schema::string(false, Some(255))),
        ("roles", schema::keys()),
        ("status", schema::one_of(&[1, 2])),
        ("userKey", schema::string(false, Some(100))),
        ("culture", schema::string(false, None)),
    ]
    .into_iter()
    .map(|(attr, body)| Variant {
        segments: vec![attr],
        operation_id: format!("setUser_{attr}"),
        body: Some(body),
    })
    .collect()
}

/// One documented operation per membership change.
fn membership_variants() -> Vec<Variant> {
    let mut variants = Vec::new();
    for collection in ["roles", "groups"] {
        for op in ["add", "addById", "remove", "removeById"] {
            variants.push(Variant {
                segments: vec![collection, op],
                operation_id: format!("{collection}_{op}"),
                body: None,
            });
        }
    }
    variants
}

/// `GET users/odata`: one page, `{"items","nextPageLink","count"}`.
#[utoipa::path(
    get, path = "/users/odata", tag = "Users", operation_id = "listUsers",
    summary = "A page of users (OData query options)",
    params(TenantPath, ODataOptions),
    responses(
        (status = 200, description = "One page (at most 100 records)", body = Page<User>),
        BadRequest, NotFound, NotImplemented, AuthErrors
    ),
    security(("bearerAuth" = []), ("clientCredentials" = ["identity.read"]))
)]
async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
) -> Result<HttpResponse, ApiError> {
    super::page_response(&req, &state, &scope, EntityKind::User).await
}

/// `GET users/{id|userKey}`.
#[utoipa::path(
    get, path = "/users/{id}", tag = "Users", operation_id = "getUser",
    summary = "A user by id or key (`$select` and `$expand` apply)",
    params(TenantPath, RecordPath, ODataOptions, ConditionalRead),
    responses(
        (status = 200, description = "The record", body = User, headers(("ETag" = String, description = "The record's ETag: its version in quotes, e.g. \"3\""))),
        NotModified, BadRequest, NotFound, PreconditionFailed, NotImplemented, AuthErrors
    ),
    security(("bearerAuth" = []), ("clientCredentials" = ["identity.read"]))
)]
async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (_, _, user) = path.into_inner();
    // A GUID is looked up directly; a key is resolved to its id first.
    let id = match uuid::Uuid::try_parse(&user) {
        Ok(id) => id,
        Err(_) => users::require(&state.db, &scope, &user).await?,
    };
    super::record_response(&req, &state, &scope, EntityKind::User, id, || {
        users::not_found(&user)
    })
    .await
}

/// `POST users`: 201, `Location`, the id as a JSON string.
#[utoipa::path(
    post, path = "/users", tag = "Users", operation_id = "createUser",
    summary = "Create a user",
    params(TenantPath),
    request_body(content = NewUserBody, description = "The user"),
    responses(
        (status = 201, description = "Created; `Location` is the absolute URL of the record; the body is its id",
            body = uuid::Uuid,
            headers(("Location" = String, description = "The record's URL"), ("ETag" = String, description = "The record's first ETag, \"1\""))),
        BadRequest, NotFound, Conflict, TooLarge, UnsupportedMediaType, AuthErrors
    ),
    security(("bearerAuth" = []), ("clientCredentials" = ["identity.write"]))
)]
async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    actor: Actor,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json(&req, payload, state.settings.picture_json_limit()).await?;
    let accept_language = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let culture = Culture::from_accept_language(accept_language);
    let mut user = NewUser::try_from((parse_body::<NewUserBody>(body)?, culture))?;
    let picture = match user.picture.take() {
        Some(PictureInput::Value(raw)) => {
            Some(pictures::decode(&raw, state.settings.max_picture_bytes)?)
        }
        Some(PictureInput::Clear) | None => None,
    };
    let id = users::create(&state.db, &scope, &actor, user, Reference::Keys, picture).await?;
    Ok(super::created(&req, &state, &scope, "users", id))
}

/// `DELETE users/{id|userKey}`: 204 with memberships, picture and
/// invitations; `If-Match` honoured.
#[utoipa::path(
    delete, path = "/users/{id}", tag = "Users", operation_id = "deleteUser",
    summary = "Delete a user with its memberships, picture and invitations",
    params(TenantPath, RecordPath, IfMatch),
    responses((status = 204, description = "Deleted"), NotFound, PreconditionFailed, AuthErrors),
    security(("bearerAuth" = []), ("clientCredentials" = ["identity.write"]))
)]
async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (_, _, user) = path.into_inner();
    let precondition = Precondition::from_request(&req)?;
    let id = users::require_for(&state.db, &scope, &user, &precondition).await?;
    if users::delete(&state.db, &scope, id, &precondition).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(users::not_found(&user))
    }
}

/// A picture download is the user's (`private`) and is revalidated with
/// its ETag before reuse (`no-cache`).
const PICTURE_CACHE_CONTROL: &str = "private, no-cache";

#[derive(Debug, Deserialize)]
struct PictureQuery {
    #[serde(rename = "fileName", alias = "filename", alias = "FileName")]
    file_name: Option<String>,
}

/// `GET users/{id}/picture?fileName=`: the stored image with its content
/// type and its own `ETag` (a hash of the bytes, [`etag::picture_tag`]:
/// it changes exactly when the image does), `If-None-Match` → 304 and
/// `If-Match` → 412 against it; a 302 to an external picture, or 404.
/// The 302 and the 404s carry no ETag and evaluate no condition (RFC 9110
/// §13.2.1: without the conditions they would not be 2xx): an external
/// image is validated by its own server.
#[utoipa::path(
    get, path = "/users/{id}/picture", tag = "Users", operation_id = "getUserPicture",
    summary = "The user's picture (302 to an external picture)",
    params(TenantPath, RecordPath, PictureParams, ConditionalPicture),
    responses(
        (status = 200, description = "The image, with its sniffed type and `Content-Disposition`",
            content(("image/png"), ("image/jpeg"), ("image/gif"), ("image/webp")),
            headers(("ETag" = String, description = "The picture's ETag: a hash of the image, e.g. \"p-3f2a…\"; the same bytes keep it"))),
        (status = 302, description = "The picture is an external URL (no ETag; conditions are not evaluated)",
            headers(("Location" = String, description = "The picture's URL"))),
        (status = 304, description = "Not modified: the image still has the ETag of `If-None-Match`",
            headers(("ETag" = String, description = "The picture's ETag"))),
        (status = 412, description = "`If-Match` does not match the picture's ETag", body = ErrorBody,
            headers(("ETag" = String, description = "The picture's current ETag"))),
        BadRequest, NotFound, AuthErrors
    ),
    security(("bearerAuth" = []), ("clientCredentials" = ["identity.read"]))
)]
async fn get_picture(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (_, _, user) = path.into_inner();
    let query = web::Query::<PictureQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}"), None))?
        .into_inner();
    let precondition = Precondition::from_request(&req)?;
    let id = users::require(&state.db, &scope, &user).await?;
    match users::picture(&state.db, &scope, id).await? {
        None => Err(users::not_found(&user)),
        Some(None) => Err(ApiError::not_found(format!(
            "user '{}' has no picture",
            crate::error::echo(&user)
        ))),
        Some(Some(StoredPicture::External(url))) => Ok(HttpResponse::Found()
            .insert_header((header::LOCATION, url))
            .finish()),
        Some(Some(StoredPicture::Image { content_type, data })) => {
            let tag = etag::picture_tag(&data);
            // A 304 carries the ETag and Cache-Control the 200 would.
            if let Some(mut not_modified) = precondition.check_read_tag(&tag, false)? {
                not_modified.headers_mut().insert(
                    header::CACHE_CONTROL,
                    header::HeaderValue::from_static(PICTURE_CACHE_CONTROL),
                );
                return Ok(not_modified);
            }
            let name = file_name(query.file_name.as_deref(), &user, &content_type);
            Ok(HttpResponse::Ok()
                .content_type(content_type)
                .insert_header(disposition(name))
                .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .insert_header((header::CACHE_CONTROL, PICTURE_CACHE_CONTROL))
                .insert_header(etag::tag_header(&etag::quoted(&tag)))
                .body(data))
        }
    }
}

/// `inline` with the name; a non-ASCII name travels as RFC 5987
/// `filename*` with an ASCII `filename` fallback.
fn disposition(name: String) -> ContentDisposition {
    let mut parameters = Vec::with_capacity(2);
    if name.is_ascii() {
        parameters.push(DispositionParam::Filename(name));
    } else {
        let fallback: String = name
            .chars()
            .map(|c| if c.is_ascii() { c } else { '_' })
            .collect();
        parameters.push(DispositionParam::Filename(fallback));
        parameters.push(DispositionParam::FilenameExt(ExtendedValue {
            charset: Charset::Ext("UTF-8".to_owned()),
            language_tag: None,
            value: name.into_bytes(),
        }));
    }
    ContentDisposition {
        disposition: DispositionType::Inline,
        parameters,
    }
}

/// The download name: the client's `fileName` (else the user key) reduced
/// to safe characters (no control or bidirectional control characters, no
/// `"`, `\\`, `/`, `;`), with the extension of the sniffed type in place
/// of any other (`x.exe` of a PNG is `x.png`).
fn file_name(requested: Option<&str>, user: &str, content_type: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| {
                !c.is_control() && !is_bidi_control(*c) && !matches!(c, '"' | '\\' | '/' | ';')
            })
            .collect::<String>()
            .trim()
            .to_owned()
    };
    let ext = pictures::extension(content_type);
    let stem = |name: String| -> String {
        let stem = match name.rsplit_once('.') {
            Some((stem, _)) => stem.trim_end_matches(['.', ' ']).to_owned(),
            None => name,
        };
        stem.trim().to_owned()
    };
    let name = requested
        .map(|r| stem(clean(r)))
        .filter(|s| !s.is_empty())
        .or_else(|| Some(clean(user)).filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "picture".to_owned());
    format!("{name}.{ext}")
}

/// The Unicode Bidi_Control characters (ALM, LRM, RLM, the embeddings,
/// overrides and isolates): they can make `gnp.exe` look like `exe.png`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `PUT users/{userKey}/picture`: a data URL, base64 or `null`.
/// `If-Match` takes the user's ETag or the stored picture's.
#[utoipa::path(
    put, path = "/users/{userKey}/picture", tag = "Users", operation_id = "setUserPicture",
    summary = "Set the picture: data URL, base64 (PNG, JPEG, GIF, WebP) or null",
    params(TenantPath, UserPath, IfMatchPicture),
    request_body(content = Option<String>, description = "The new value as a bare JSON value"),
    responses(
        (status = 200, description = "Done; the body is empty", headers(("ETag" = String, description = "The record's ETag: its version in quotes, e.g. \"3\""))),
        BadRequest, NotFound, PreconditionFailed, TooLarge, UnsupportedMediaType, AuthErrors
    ),
    security(("bearerAuth" = []), ("clientCredentials" = ["identity.write"]))
)]
async fn put_picture(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    actor: Actor,
    path: web::Path<(String, String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (_, _, user) = path.into_inner();
    let precondition = Precondition::from_request(&req)?;
    let body = read_json(&req, payload, state.settings.picture_json_limit()).await?;
    let id = users::require_for(&state.db, &scope, &user, &precondition).await?;
    let change = picture_change(&body, state.settings.max_picture_bytes)?;
    let version = users::update(&state.db, &scope, &actor, id, vec![change], &precondition).await?;
    Ok(super::written(version))
}

fn picture_change(body: &Value, max_bytes: usize) -> Result<UserChange, ApiError> {
    match body {
        Value::Null => Ok(UserChange::Picture(None)),
        Value::String(raw) => Ok(UserChange::Picture(Some(pictures::decode(raw, max_bytes)?))),
        _ => Err(ApiError::bad_request(
            "picture must be a data URL or base64 string, or null",
            Some("picture"),
        )),
    }
}

/// `PUT users/{userKey}/{attr}`: the body is the bare JSON value.
#[utoipa::path(
    put, path = "/users/{userKey}/{attribute}", tag = "Users",
    summary = "Set one attribute of a user",
    params(TenantPath, UserPath, IfMatch),
    request_body(content = String, content_type = "application/json", description = "The new value as a bare JSON value"),
    responses(
        (status = 200, description = "Done; the body is empty", headers(("ETag" = String, description = "The record's ETag: its version in quotes, e.g. \"3\""))),
        BadRequest, NotFound, PreconditionFailed, Conflict, UnsupportedMediaType, AuthErrors
    ),
    security(("bearerAuth" = []), ("clientCredentials" = ["identity.write"]))
)]
async fn put_attribute(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    actor: Actor,
    path: web::Path<(String, String, String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (_, _, user, attr) = path.into_inner();
    if !SETTABLE.contains(&attr.as_str()) {
        return Err(ApiError::bad_request(
            format!(
                "'{attr}' is not a settable user attribute; expected one of: {}",
                SETTABLE.join(", ")
            ),
            Some(&attr),
        ));
    }
    let precondition = Precondition::from_request(&req)?;
    let body = read_json(&req, payload, state.settings.max_json_bytes).await?;
    let change = user_change(&attr, &body)?;
    let id = users::require_for(&state.db, &scope, &user, &precondition).await?;
    let version = users::update(&state.db, &scope, &actor, id, vec![change], &precondition).await?;
    Ok(super::written(version))
}

fn expect_str<'a>(body: &'a Value, attr: &str, what: &str) -> Result<&'a str, ApiError> {
    body.as_str()
        .ok_or_else(|| ApiError::bad_request(format!("{attr} must be {what}"), Some(attr)))
}

fn expect_bool(body: &Value, attr: &str) -> Result<bool, ApiError> {
    body.as_bool()
        .ok_or_else(|| ApiError::bad_request(format!("{attr} must be true or false"), Some(attr)))
}

/// The change one `PUT users/{userKey}/{attr}` body asks for (also one
/// property of a feed `PATCH Users(id)`: one parser for both APIs).
pub(crate) fn user_change(attr: &str, body: &Value) -> Result<UserChange, ApiError> {
    Ok(match attr {
        "email" => match body {
            Value::Null => UserChange::Email(None),
            _ => UserChange::Email(Some(Email::parse(
                expect_str(body, attr, "a string or null")?,
                "email",
            )?)),
        },
        "isActive" => UserChange::IsActive(expect_bool(body, attr)?),
        "isTechnician" => UserChange::IsTechnician(expect_bool(body, attr)?),
        "lastLogin" => UserChange::LastLogin(parse_last_login(body)?),
        "name" => UserChange::Name(UserName::parse(expect_str(body, attr, "a string")?)?),
        "status" => UserChange::Status(UserStatus::parse_settable(body)?),
        "userKey" => UserChange::UserKey(EntityKey::parse(
            expect_str(body, attr, "a string")?,
            "userKey",
        )?),
        "culture" => UserChange::Culture(Culture::parse(expect_str(body, attr, "a string")?)?),
        "roles" => UserChange::Roles(keys_or_null(body, attr)?),
        "groups" => UserChange::Groups(keys_or_null(body, attr)?),
        other => {
            return Err(ApiError::bad_request(
                format!("'{other}' is not a settable user attribute"),
                Some(other),
            ));
        }
    })
}

fn keys_or_null(body: &Value, attr: &str) -> Result<Vec<String>, ApiError> {
    match body {
        Value::Null => Ok(Vec::new()),
        _ => Ok(key_list(body, attr)?),
    }
}

/// `POST users/{userKey}/{roles|groups}/{add|addById|remove|removeById}`.
#[utoipa::path(
    post, path = "/users/{userKey}/{collection}/{operation}", tag = "Memberships",
    summary = "Change memberships (idempotent; all-or-nothing: an unknown entry changes nothing)",
    params(TenantPath, UserPath, IfMatch),
    request_body(content = Vec<String>, description = "Role or group keys (`add`, `remove`) or ids (`addById`, `removeById`)"),
    responses(
        (status = 200, description = "Done; the body is empty", headers(("ETag" = String, description = "The record's ETag: its version in quotes, e.g. \"3\""))),
        BadRequest, NotFound, PreconditionFailed, UnsupportedMediaType, AuthErrors
    ),
    security(("bearerAuth" = []), ("clientCredentials" = ["identity.write"]))
)]
async fn membership(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    actor: Actor,
    path: web::Path<(String, String, String, String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (_, _, user, collection, op) = path.into_inner();
    let kind = match collection.as_str() {
        "roles" => Membership::Roles,
        "groups" => Membership::Groups,
        _ => return Err(super::no_route(&req)),
    };
    let (op, by) = match op.as_str() {
        "add" => (MembershipOp::Add, Reference::Keys),
        "addById" => (MembershipOp::Add, Reference::Ids),
        "remove" => (MembershipOp::Remove, Reference::Keys),
        "removeById" => (MembershipOp::Remove, Reference::Ids),
        _ => return Err(super::no_route(&req)),
    };
    let precondition = Precondition::from_request(&req)?;
    let body = read_json(&req, payload, state.settings.max_json_bytes).await?;
    let entries = key_list(&body, "value")?;
    let version = users::change_memberships(
        &state.db,
        &scope,
        &actor,
        &user,
        kind,
        op,
        by,
        &entries,
        &precondition,
    )
    .await?;
    Ok(super::written(version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attribute_bodies_are_typed() {
        assert!(matches!(
            user_change("name", &json!("Jane")),
            Ok(UserChange::Name(_))
        ));
        assert!(user_change("name", &json!(5)).is_err());
        assert!(user_change("isActive", &json!("true")).is_err());
        assert!(matches!(
            user_change("email", &json!(null)),
            Ok(UserChange::Email(None))
        ));
        assert!(user_change("email", &json!("nope")).is_err());
        assert!(user_change("status", &json!(3)).is_err());
        assert!(
            matches!(user_change("roles", &json!(["a"])), Ok(UserChange::Roles(r)) if r == ["a"])
        );
        assert!(user_change("roles", &json!("a")).is_err());
        assert!(user_change("lastLogin", &json!("yesterday")).is_err());
        assert!(user_change("userKey", &json!("odata")).is_err());
    }

    #[test]
    fn download_names_are_sanitized() {
        assert_eq!(file_name(Some("me.png"), "jane", "image/png"), "me.png");
        assert_eq!(
            file_name(Some("a\"b\r\n.png"), "jane", "image/png"),
            "ab.png"
        );
        assert_eq!(file_name(None, "jane", "image/jpeg"), "jane.jpg");
        assert_eq!(file_name(Some("  "), "jane", "image/gif"), "jane.gif");
    }
}
