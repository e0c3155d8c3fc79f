//! `GET /api/{tenantKey}/{orgKey}/identity/invitations/{token}/accept`: the
//! mailed link opened in a browser. An HTML page with the invitation and an
//! "Accept" button whose script (`/assets/invitation.js`) POSTs to the same
//! address, the accept route of [`super::invitations`]. Reading the page
//! changes nothing.
//!
//! The page names who invited: the client id that called
//! `sendInvitation` (stored with the invitation, `invitations.created_by`;
//! clients have no other name), escaped like every value, or
//! [`UNKNOWN_INVITER`] for an invitation issued before it was stored.
//!
//! An unknown tenant, an implausible, unknown, used or replaced token all
//! answer the one 404 page, byte for byte: the page tells nobody which
//! tenants exist. An expired invitation answers 410 with a page saying so.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::pages::{Value, html, render};
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::invitations as store;
use crate::tenancy::TenantScope;

const INVITATION: &str = include_str!("../../assets/invitation.html");
const EXPIRED: &str = include_str!("../../assets/invitation_expired.html");
const UNKNOWN: &str = include_str!("../../assets/invitation_unknown.html");

/// Who invited, when the invitation does not say (issued before
/// `invitations.created_by` existed).
pub const UNKNOWN_INVITER: &str = "an unknown client";

/// Whether `token` can be a token at all (checked before any lookup).
pub fn plausible_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 128
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The page; see the module documentation.
pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: Result<TenantScope, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let scope = match scope {
        Ok(scope) => scope,
        Err(ApiError::TenantNotFound { .. }) => return Ok(unknown()),
        Err(other) => return Err(other),
    };
    let token = req.match_info().get("token").unwrap_or_default();
    if !plausible_token(token) {
        return Ok(unknown());
    }
    let Some(pending) = store::pending(&state.db, &scope, token).await? else {
        return Ok(unknown());
    };
    let expires = pending.expires_at.format("%Y-%m-%d %H:%M UTC").to_string();
    let values = [
        ("tenant", Value::Text(&scope.tenant_key)),
        ("org", Value::Text(&scope.org_key)),
        ("name", Value::Text(&pending.name)),
        (
            "email",
            Value::Text(pending.email.as_deref().unwrap_or("—")),
        ),
        ("user_key", Value::Text(&pending.user_key)),
        ("expires", Value::Text(&expires)),
        (
            "invited_by",
            Value::Text(pending.invited_by.as_deref().unwrap_or(UNKNOWN_INVITER)),
        ),
    ];
    let (status, template) = if pending.expired {
        (StatusCode::GONE, EXPIRED)
    } else {
        (StatusCode::OK, INVITATION)
    };
    Ok(private(html(status, render(template, &values))))
}

/// The one 404 page.
fn unknown() -> HttpResponse {
    private(html(StatusCode::NOT_FOUND, UNKNOWN.to_owned()))
}

/// A page reached by a secret link is kept by no cache.
fn private(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_placeholder_has_a_value() {
        for template in [INVITATION, EXPIRED] {
            let page = render(
                template,
                &[
                    ("tenant", Value::Text("t")),
                    ("org", Value::Text("o")),
                    ("name", Value::Text("n")),
                    ("email", Value::Text("e")),
                    ("user_key", Value::Text("k")),
                    ("expires", Value::Text("x")),
                    ("invited_by", Value::Text("c")),
                ],
            );
            assert!(!page.contains("{{"), "{page}");
        }
        assert!(!UNKNOWN.contains("{{"));
    }
}
