//! RFC 7591 dynamic client registration.

use app::domain::oauth::OAuthError;
use app::domain::oauth::clients::{self, ClientMetadata};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::state::AppState;
use app::domain::RequestMeta;

pub async fn register(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !state.config.dynamic_registration {
        return (
            StatusCode::FORBIDDEN,
            OAuthError::new("access_denied", "Dynamic client registration is turned off on this server. Ask an administrator to register the app."),
        )
            .into_response();
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/json") {
        return OAuthError::invalid_client_metadata(
            "Send the client metadata as application/json.",
        )
        .into_response();
    }
    let metadata: ClientMetadata = match serde_json::from_slice(&body) {
        Ok(m) => m,
        Err(e) => {
            return OAuthError::invalid_client_metadata(format!(
                "The client metadata could not be read: {e}"
            ))
            .into_response();
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
        Err(e) => e.into_response(),
    }
}
