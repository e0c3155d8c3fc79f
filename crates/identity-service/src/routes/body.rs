//! Reading JSON request bodies with a per-route size limit, so that only
//! the routes that may carry a picture accept large bodies.

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use serde_json::Value;

use crate::error::ApiError;

/// Whether the request declares a JSON body (`application/json` or a
/// `+json` type, any parameters).
pub fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Reads the body as one JSON value: 415 without a JSON `Content-Type`,
/// 413 above `limit` bytes, 400 when empty or malformed.
pub async fn read_json(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<Value, ApiError> {
    if !is_json(req) {
        return Err(ApiError::UnsupportedMediaType {
            message: "the request body must be JSON with Content-Type: application/json".into(),
        });
    }
    let too_large = || ApiError::PayloadTooLarge {
        message: format!("the request body is larger than {limit} bytes"),
    };
    if let Some(length) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && length > limit
    {
        return Err(too_large());
    }
    let body = payload
        .to_bytes_limited(limit)
        .await
        .map_err(|_| too_large())?
        .map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}"), None))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the request body is empty; a JSON value is required",
            None,
        ));
    }
    serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!("the request body is not valid JSON: {e}"), None)
    })
}
