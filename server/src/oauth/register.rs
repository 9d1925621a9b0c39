//! RFC 7591 dynamic client registration.

use app::domain::RequestMeta;
use app::domain::oauth::OAuthError;
use app::domain::oauth::clients::{self, ClientMetadata, MAX_REGISTRATION_BYTES};
use axum::Json;
use axum::body::Body;
use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};

use super::reply;
use crate::state::AppState;

pub async fn register(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if !state.config.dynamic_registration {
        let mut res = reply(OAuthError::new(
            "access_denied",
            "Dynamic client registration is turned off on this server. Ask an administrator to register the app.",
        ));
        *res.status_mut() = StatusCode::FORBIDDEN;
        return res;
    }
    // Per client address, counted in the database so every node counts the same; generous
    // enough for hosted clients sharing egress addresses (they register on every connection).
    match state
        .services
        .throttle
        .registration_attempt(meta.ip.as_deref())
        .await
    {
        Ok(None) => {}
        Ok(Some(wait)) => return too_many(wait),
        Err(e) => return reply(e.into()),
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/json") {
        return reply(OAuthError::invalid_client_metadata(
            "Send the client metadata as application/json.",
        ));
    }
    // The whole document is bounded before it is parsed (each member is bounded again).
    let Ok(body) = axum::body::to_bytes(body, MAX_REGISTRATION_BYTES).await else {
        return reply(OAuthError::invalid_client_metadata(format!(
            "The client metadata is larger than {} KiB.",
            MAX_REGISTRATION_BYTES / 1024
        )));
    };
    let metadata: ClientMetadata = match serde_json::from_slice(&body) {
        Ok(m) => m,
        Err(e) => {
            return reply(OAuthError::invalid_client_metadata(format!(
                "The client metadata could not be read: {e}"
            )));
        }
    };
    match clients::register_dynamic(&state.services, metadata, &meta).await {
        Ok(reg) => {
            let body = clients::registration_response(&reg.client, reg.secret.as_deref());
            let mut res = (StatusCode::CREATED, Json(body)).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => reply(e),
    }
}

/// `429` in the shape of an OAuth error, with `Retry-After`.
fn too_many(wait: std::time::Duration) -> Response {
    let secs = wait.as_secs().max(1);
    let mut res = reply(OAuthError::new(
        "too_many_requests",
        format!("Too many registrations from your address. Try again in {secs} seconds."),
    ));
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    res
}
