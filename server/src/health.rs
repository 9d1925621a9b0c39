//! Liveness and readiness probes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::state::AppState;

/// The process is up and serving.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The database answers; otherwise 503 so a load balancer stops sending traffic.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let ping = tokio::time::timeout(std::time::Duration::from_secs(2), state.services.db.ping());
    match ping.await {
        Ok(Ok(())) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        failed => {
            let e = match failed {
                Ok(Err(e)) => e.to_string(),
                _ => "no answer within 2 s".to_string(),
            };
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": "database unreachable" })),
            )
        }
    }
}
