//! Per-client-address rate limit of dynamic registration (tower_governor). Generous enough for
//! hosted clients sharing egress addresses, tight enough that /oauth/register can't flood the
//! database; refused requests get an OAuth-shaped 429 with `Retry-After`.

use app::domain::RequestMeta;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Request, StatusCode, header};
use serde_json::json;
use tower_governor::GovernorError;
use tower_governor::key_extractor::KeyExtractor;

/// The caller's address as the request-metadata middleware recorded it (peer address, or the
/// forwarded one when configured to trust it).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress;

impl KeyExtractor for ClientAddress {
    type Key = String;

    fn extract<T>(&self, req: &Request<T>) -> Result<Self::Key, GovernorError> {
        Ok(req
            .extensions()
            .get::<RequestMeta>()
            .and_then(|m| m.ip.clone())
            .unwrap_or_else(|| "unknown".into()))
    }
}

pub fn too_many(e: GovernorError) -> Response<Body> {
    match e {
        GovernorError::TooManyRequests { wait_time, .. } => {
            let body = json!({
                "error": "too_many_requests",
                "error_description": format!("Too many registrations from your address. Try again in {wait_time} seconds."),
            });
            let mut res = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait_time));
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        other => {
            tracing::error!(error = %other, "rate limiter failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
