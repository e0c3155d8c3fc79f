//! `POST users/sendInvitation` and `POST invitations/{token}/accept` (a
//! GET on the accept address is the invitation's page,
//! [`super::invitation_page`]).
//!
//! The invitation is stored (user, memberships, hashed token) in one
//! transaction; the mail is sent after the commit. When delivery fails the
//! answer is 500 (logged with the cause) although the user exists with
//! status 3: calling `sendInvitation` again re-invites it with a new token,
//! so retrying is the remedy and nothing is left half-done.

use std::time::Duration;

use actix_web::http::header::ACCEPT_LANGUAGE;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::dto::{
    Accepted, AuthErrors, BadRequest, Conflict, Gone, InvitedUser, NotFound, TenantPath,
    UnsupportedMediaType, parse_body,
};
use super::openapi::Documented;
use crate::domain::{Actor, Culture};
use crate::error::ApiError;
use crate::mail::{self, MailSink};
use crate::state::AppState;
use crate::storage::invitations::{self as store, Acceptance, Invite};
use crate::tenancy::TenantScope;

/// The sender of invitation mail unless the application provides a
/// configured [`MailSink`] as app data.
pub const DEFAULT_FROM: &str = "OData Users <no-reply@localhost>";

/// Registers both routes; relative to the identity scope
/// (`/api/{tenantKey}/{orgKey}/identity`). Must come before `users/{userKey}`.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(
        Documented::new("/users/sendInvitation")
            .route(web::post().to(send_invitation), __path_send_invitation),
    )
    .service(
        Documented::new("/invitations/{token}/accept")
            .route(web::post().to(accept), __path_accept)
            .undocumented(web::get().to(super::invitation_page::page)),
    );
}

/// The invitation token of the accept address.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TokenPath {
    /// The token from the invitation mail
    pub token: String,
}

/// Parses an InvitedUser body (its DTO, converted with `TryFrom`); every
/// invalid property is reported at once.
pub fn parse_invited_user(body: Value, default_culture: Culture) -> Result<Invite, ApiError> {
    Ok(Invite::try_from((
        parse_body::<InvitedUser>(body)?,
        default_culture,
    ))?)
}

/// `POST /api/{tenantKey}/{orgKey}/identity/users/sendInvitation`: 200 with
/// the user id as a JSON string.
#[utoipa::path(
    post, path = "/users/sendInvitation", tag = "Invitations", operation_id = "sendInvitation",
    summary = "Invite a user by e-mail (status 3 until accepted)",
    params(TenantPath),
    request_body(content = InvitedUser, description = "Who to invite"),
    responses(
        (status = 200, description = "The user id", body = uuid::Uuid),
        BadRequest, NotFound, Conflict, UnsupportedMediaType, AuthErrors
    ),
    security(("bearerAuth" = []), ("clientCredentials" = ["identity.write"]))
)]
pub async fn send_invitation(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: TenantScope,
    actor: Actor,
    sink: Option<web::Data<MailSink>>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let accept_language = req
        .headers()
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let invite = parse_invited_user(
        body.into_inner(),
        Culture::from_accept_language(accept_language),
    )?;
    // Mail links never come from the request (Host, forwarded headers):
    // the configured public URL, else the bound address; checked before
    // anything is stored.
    let base = crate::links::mail_base(
        state.settings.public_url.as_deref(),
        req.app_config().local_addr(),
    )?;
    let ttl = Duration::from_secs(state.settings.invitation_ttl_seconds);
    let issued = store::invite(&state.db, &scope, &actor, invite, ttl).await?;

    let url = mail::accept_url(&base, &scope.tenant_key, &scope.org_key, &issued.token);
    let sink = match sink {
        Some(sink) => sink.get_ref().clone(),
        None => MailSink::new(
            state.settings.smtp_url.as_deref(),
            &state.settings.mail_outbox,
            DEFAULT_FROM,
        )
        .map_err(ApiError::internal)?,
    };
    let message = mail::invitation_message(
        sink.from(),
        &mail::Invitation {
            to_email: &issued.email,
            to_name: &issued.name,
            tenant_key: &scope.tenant_key,
            org_key: &scope.org_key,
            accept_url: &url,
            expires_at: issued.expires_at,
        },
    )
    .map_err(ApiError::internal)?;
    if let Err(error) = sink.send(&message).await {
        tracing::error!(
            %error,
            user_id = %issued.user_id,
            "the invitation is stored but its mail could not be delivered; sending the invitation again issues a new token"
        );
        return Err(ApiError::internal(error));
    }
    tracing::info!(user_id = %issued.user_id, created = issued.created, "invitation sent");
    Ok(HttpResponse::Ok().json(issued.user_id.to_string()))
}

/// `POST /api/{tenantKey}/{orgKey}/identity/invitations/{token}/accept`:
/// no body, no bearer token; 200 `{"id","status":1}`, 404 unknown or used,
/// 410 expired. Reachable without credentials, so an unknown tenant answers
/// the very 404 of an unknown token: nobody learns which tenants exist.
#[utoipa::path(
    post, path = "/invitations/{token}/accept", tag = "Invitations", operation_id = "acceptInvitation",
    summary = "Accept an invitation (the token is the credential; no access token)",
    params(TenantPath, TokenPath),
    responses(
        (status = 200, description = "The user is active", body = Accepted),
        NotFound, Gone
    ),
    security(())
)]
pub async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: Result<TenantScope, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let scope = match scope {
        Ok(scope) => scope,
        Err(ApiError::TenantNotFound { .. }) => return Err(unknown_invitation()),
        Err(other) => return Err(other),
    };
    let token = req.match_info().get("token").unwrap_or_default();
    let outcome = if super::invitation_page::plausible_token(token) {
        store::accept(&state.db, &scope, &Actor::INVITATION, token).await?
    } else {
        Acceptance::Unknown
    };
    match outcome {
        Acceptance::Accepted { user_id } => Ok(HttpResponse::Ok().json(json!({
            "id": user_id.to_string(),
            "status": store::STATUS_ACTIVE,
        }))),
        Acceptance::Expired { .. } => Err(ApiError::Gone {
            message: "this invitation has expired; ask for a new one".into(),
        }),
        Acceptance::Unknown => Err(unknown_invitation()),
    }
}

/// The one 404 of the accept route.
fn unknown_invitation() -> ApiError {
    ApiError::not_found(
        "no such invitation: the token is unknown, was already used or was replaced by a newer invitation",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn en() -> Culture {
        Culture::from_accept_language(None)
    }

    #[test]
    fn a_minimal_body_is_an_email() {
        let invite = parse_invited_user(json!({"email": "Ana@Example.pt"}), en()).expect("valid");
        assert_eq!(invite.email, "Ana@Example.pt");
        assert_eq!(
            (invite.name, invite.user_key, invite.culture),
            (None, None, None)
        );
        assert_eq!((invite.roles, invite.groups), (None, None));
        assert_eq!(invite.default_culture, "en-US");
    }

    #[test]
    fn every_property_is_checked() {
        let invite = parse_invited_user(
            json!({"email": "a@b.co", "name": " Ana ", "userKey": "ana", "culture": "pt-pt",
                    "roles": ["admin"], "groups": []}),
            en(),
        )
        .expect("valid");
        assert_eq!(invite.name.as_deref(), Some("Ana"));
        assert_eq!(invite.culture.as_deref(), Some("pt-PT"));
        assert_eq!(invite.roles, Some(vec!["admin".to_owned()]));
        assert_eq!(invite.groups, Some(vec![]));

        for bad in [
            json!({}),
            json!({"email": null}),
            json!({"email": 3}),
            json!({"email": "nope"}),
            json!({"email": "a@b.co", "userKey": "a b"}),
            json!({"email": "a@b.co", "name": "  "}),
            json!({"email": "a@b.co", "culture": "en_US"}),
            json!({"email": "a@b.co", "roles": "admin"}),
            json!({"email": "a@b.co", "groups": [1]}),
            json!({"email": "a@b.co", "status": 1}),
            json!(["a@b.co"]),
        ] {
            assert!(parse_invited_user(bad.clone(), en()).is_err(), "{bad}");
        }
    }
}
