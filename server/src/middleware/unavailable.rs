//! What a client sees while the database is away: `503 Service Unavailable` with
//! `Retry-After`, never a hang or a bare 500.
//!
//! The domain already turns "can't reach the database" into 503 where it can tell. Some layers
//! can't (the session store answers 500 on any failure), so a 500 is checked once more here: if
//! the database doesn't answer a ping either, the answer becomes a 503.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

/// Seconds a client is asked to wait.
pub const RETRY_AFTER_SECS: u64 = 5;

pub async fn retry_later(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let mut res = next.run(req).await;
    if res.status() == StatusCode::INTERNAL_SERVER_ERROR && !database_answers(&state).await {
        res = unavailable(wants_html);
    }
    if res.status() == StatusCode::SERVICE_UNAVAILABLE
        && !res.headers().contains_key(header::RETRY_AFTER)
    {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    }
    res
}

async fn database_answers(state: &AppState) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(1), state.services.db.ping()).await,
        Ok(Ok(()))
    )
}

fn unavailable(html: bool) -> Response {
    let message = app::error::AppError::Unavailable.to_string();
    if html {
        let page = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Try again shortly · Gatehouse</title></head>\
             <body><main><h1>Try again shortly</h1><p>{message}</p></main></body></html>"
        );
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            page,
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "error": "temporarily_unavailable", "error_description": message })),
        )
            .into_response()
    }
}
