//! CORS for browser clients (`APP_CORS_ORIGINS`, off by default), with
//! `actix-cors`. A preflight request (`OPTIONS` with `Origin` and
//! `Access-Control-Request-Method`) never needs credentials: an allowed
//! origin gets the CORS answer, any other origin (and every origin while
//! CORS is off) a 403 OData error naming the setting; neither reaches the
//! authentication guards.

use actix_web::dev::ServiceRequest;
use actix_web::http::{Method, header};

use crate::configuration::Settings;
use crate::error::ApiError;

/// Methods a browser may use across origins: every method the API serves.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Headers a browser script may read from an answer besides the safelisted
/// ones: what the API's clients need (ETags, created locations, OData
/// headers, retry advice, the request id for support).
const EXPOSED: [&str; 7] = [
    "etag",
    "location",
    "odata-version",
    "preference-applied",
    "retry-after",
    "www-authenticate",
    "x-request-id",
];

/// Whether CORS is on.
pub fn enabled(settings: &Settings) -> bool {
    !settings.cors_origins.is_empty()
}

/// The `actix-cors` middleware for the configured origins (used only when
/// [`enabled`]): any request header, the API's methods, `EXPOSED`
/// headers, preflights cached for an hour. `*` answers
/// `Access-Control-Allow-Origin: *`; tokens travel in `Authorization`, so
/// no credentials mode is needed.
pub fn middleware(settings: &Settings) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(METHODS)
        .allow_any_header()
        .expose_headers(EXPOSED)
        .max_age(3600);
    if settings.cors_origins.iter().any(|o| o == "*") {
        cors = cors.allow_any_origin().send_wildcard();
    } else {
        for origin in &settings.cors_origins {
            cors = cors.allowed_origin(origin);
        }
    }
    cors
}

/// Whether `origin` may call the service from a browser.
fn allowed(settings: &Settings, origin: &str) -> bool {
    settings
        .cors_origins
        .iter()
        .any(|o| o == "*" || o == origin)
}

/// Whether `req` is a CORS preflight request.
fn is_preflight(req: &ServiceRequest) -> bool {
    req.method() == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The refusal of a preflight from an origin that is not allowed (every
/// origin while CORS is off): a 403 OData error naming the setting, given
/// by the outermost middleware (`startup`), in front of [`middleware`] and
/// of the guards, so it needs no credentials. `None` for every other
/// request.
pub fn refuse_preflight(req: &ServiceRequest) -> Option<ApiError> {
    if !is_preflight(req) {
        return None;
    }
    let settings = &req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()?
        .settings;
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .unwrap_or("");
    if allowed(settings, origin) {
        return None;
    }
    let message = if enabled(settings) {
        format!(
            "cross-origin requests from `{}` are not allowed: the allowed origins are set with APP_CORS_ORIGINS",
            crate::error::echo(origin)
        )
    } else {
        "cross-origin requests are not enabled on this server: set APP_CORS_ORIGINS to allow browser clients of other origins".to_owned()
    };
    Some(ApiError::Forbidden {
        message,
        challenge: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_exactly_or_any() {
        let settings = Settings {
            cors_origins: vec!["https://bi.example.com".into()],
            ..Settings::default()
        };
        assert!(allowed(&settings, "https://bi.example.com"));
        assert!(!allowed(&settings, "https://evil.example.com"));
        assert!(!allowed(&settings, "https://bi.example.com.evil.com"));
        assert!(enabled(&settings));
        let any = Settings {
            cors_origins: vec!["*".into()],
            ..Settings::default()
        };
        assert!(allowed(&any, "http://localhost:3000"));
        assert!(!enabled(&Settings::default()));
        assert!(!allowed(&Settings::default(), "http://localhost:3000"));
    }
}
