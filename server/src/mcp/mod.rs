//! The MCP endpoint: `/mcp` (any of the user's orgs, chosen at consent) and `/o/{org}/mcp` (one
//! org), Streamable HTTP on rmcp behind the bearer check.

pub mod auth;
pub mod endpoint;
pub mod handler;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::routing::any;
use http::{HeaderName, Method, header};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tower_http::cors::{Any, CorsLayer};

use crate::state::AppState;

pub fn routes(state: &AppState) -> Router<AppState> {
    let services = state.services.clone();
    // Stateless: every request stands alone (authenticated on its own), so any Gatehouse
    // process can answer it and nothing lives in memory between calls. Simple calls answer
    // with plain JSON instead of an event stream.
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        // The Host check guards unauthenticated local servers against DNS rebinding; every
        // request here needs a bearer token a rebinding page doesn't have, and deployments sit
        // behind proxies with their own host names.
        .disable_allowed_hosts()
        .with_allowed_origins(allowed_origins(&state.config.public_url));
    let handler = handler::GatehouseMcp::new(services);
    let factory = handler.clone();
    let service = StreamableHttpService::new(
        move || Ok(factory.clone()),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("mcp-protocol-version"),
            HeaderName::from_static("mcp-session-id"),
            HeaderName::from_static("last-event-id"),
            HeaderName::from_static("mcp-method"),
            HeaderName::from_static("mcp-name"),
        ])
        .expose_headers([
            header::WWW_AUTHENTICATE,
            HeaderName::from_static("mcp-session-id"),
            HeaderName::from_static("mcp-protocol-version"),
        ])
        .max_age(std::time::Duration::from_secs(86400));
    // Served by reference: rmcp's own `Service` impl clones the whole service, config included
    // (origin strings, a cancellation token), and axum clones the route before that, on
    // every request.
    let endpoint = Arc::new(endpoint::McpEndpoint::new(service, handler));
    let serve = any(move |req: Request| {
        let endpoint = endpoint.clone();
        async move { endpoint.handle(req).await }
    });
    Router::new()
        .route("/mcp", serve.clone())
        .route("/o/{slug}/mcp", serve)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_bearer,
        ))
        .layer(cors)
}

/// Browser origins allowed to call the MCP endpoint (requests without `Origin`, from native
/// and hosted clients, always pass): Gatehouse's own origin and loopback tools such as the
/// MCP Inspector.
fn allowed_origins(public_url: &str) -> Vec<String> {
    let mut origins = vec![
        "http://localhost:*".to_string(),
        "http://127.0.0.1:*".to_string(),
        "http://[::1]:*".to_string(),
    ];
    if let Ok(u) = url::Url::parse(public_url) {
        origins.push(u.origin().ascii_serialization());
    }
    origins
}
