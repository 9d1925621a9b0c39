//! Records who is calling (client address, user agent) for audit events and throttling, and
//! hands a page load the flash message waiting in its session.

use std::net::SocketAddr;

use app::domain::RequestMeta;
use app::domain::secrets::random_urlsafe;
use app::model::Flash;
use app::web::{PoppedFlash, SESSION_CSRF, SESSION_FLASH};
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{Method, header};
use tower_sessions::Session;

use crate::state::AppState;

/// Every route: who is calling, for audit events and throttling.
pub async fn record(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let forwarded = state
        .config
        .trust_forwarded_for
        .then(|| {
            req.headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
        })
        .flatten()
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_string())
        .filter(|v| v.parse::<std::net::IpAddr>().is_ok());
    let meta = RequestMeta {
        ip: forwarded.or(peer),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    req.extensions_mut().insert(meta);
    next.run(req).await
}

/// Browser routes (inside the session layer): flash message and CSRF proof for page loads,
/// and no caching of HTML.
pub async fn page_session(mut req: Request, next: Next) -> Response {
    // Only a full page load shows (and so consumes) the flash message.
    let page_load = req.method() == Method::GET
        && !req.uri().path().starts_with("/fn/")
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
    if page_load && let Some(session) = req.extensions().get::<Session>().cloned() {
        if let Ok(Some(flash)) = session.remove::<Flash>(SESSION_FLASH).await {
            req.extensions_mut().insert(PoppedFlash(flash));
        }
        // The page's forms need a CSRF proof; create it before rendering starts so the session
        // cookie goes out with this response.
        if matches!(session.get::<String>(SESSION_CSRF).await, Ok(None)) {
            let _ = session.insert(SESSION_CSRF, random_urlsafe(32)).await;
        }
    }
    let mut res = next.run(req).await;
    // Pages can show one-time values (invitation links); never keep them in a cache.
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html && !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
    }
    res
}
