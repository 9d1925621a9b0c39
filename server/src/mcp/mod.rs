//! The MCP endpoint: `/mcp` (any of the user's orgs, chosen at consent) and `/o/{org}/mcp` (one
//! org), Streamable HTTP on rmcp behind the bearer check.

pub mod auth;
pub mod endpoint;
pub mod gateway;
pub mod handler;
pub mod inflight;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::{HeaderName, Method, StatusCode, header};
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
    let handler = handler::GatehouseMcp::new(services, state.upstreams.clone());
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
    let door = Arc::new(McpDoor {
        origins: AllowedOrigins::new(&state.config.public_url),
        state: state.clone(),
        endpoint: endpoint::McpEndpoint::new(service, handler),
    });
    let serve = any(move |req: Request| {
        let door = door.clone();
        async move { door.serve(req).await }
    });
    Router::new()
        .route("/mcp", serve.clone())
        .route("/o/{slug}/mcp", serve)
        .layer(cors)
}

/// The origin check, the bearer check and the endpoint, called in turn by one handler. As
/// `from_fn` layers each of the two checks cost a clone of every service inside it and a boxed
/// future per request, on the path every MCP call takes.
struct McpDoor {
    origins: AllowedOrigins,
    state: AppState,
    // Served by reference: rmcp's own `Service` impl clones the whole service, config included
    // (origin strings, a cancellation token), on every request.
    endpoint: endpoint::McpEndpoint,
}

impl McpDoor {
    async fn serve(&self, req: Request) -> Response {
        // Before the bearer check: a page on a foreign origin learns nothing, not even 401.
        if let Some(refusal) = self.origins.refusal(&req) {
            return refusal;
        }
        match auth::admit(&self.state, req).await {
            Ok(req) => self.endpoint.handle(req).await,
            Err(refusal) => refusal,
        }
    }
}

/// The MCP transport's DNS-rebinding guard (MCP 2025-06-18 and later: servers MUST validate
/// `Origin`): a browser request whose `Origin` is not Gatehouse's own or a loopback tool's is
/// refused with 403. Requests without `Origin` (native and hosted clients) pass.
struct AllowedOrigins {
    own: String,
}

impl AllowedOrigins {
    fn new(public_url: &str) -> Self {
        Self {
            own: url::Url::parse(public_url)
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_default(),
        }
    }

    fn allows(&self, origin: &str) -> bool {
        if origin == self.own {
            return true;
        }
        // Loopback tools such as the MCP Inspector, on any port.
        url::Url::parse(origin).is_ok_and(|u| {
            u.scheme() == "http"
                && matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
                && u.path() == "/"
        })
    }

    /// The 403 for a request from a page on a foreign origin; `None` lets it through.
    fn refusal(&self, req: &Request) -> Option<Response> {
        match req.headers().get(header::ORIGIN).map(|v| v.to_str()) {
            None => None,
            Some(Ok(origin)) if self.allows(origin) => None,
            Some(_) => Some((
                StatusCode::FORBIDDEN,
                axum::Json(serde_json::json!({
                    "jsonrpc": "2.0",
                    "id": null,
                    "error": {
                        "code": -32600,
                        "message": "Forbidden: this MCP endpoint doesn't take requests from pages on other origins.",
                    }
                })),
            )
                .into_response()),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::AllowedOrigins;

    #[test]
    fn own_and_loopback_origins_only() {
        let o = AllowedOrigins::new("https://gate.example.com");
        for ok in [
            "https://gate.example.com",
            "http://localhost:6274",
            "http://127.0.0.1:3000",
            "http://[::1]:8080",
        ] {
            assert!(o.allows(ok), "{ok}");
        }
        for bad in [
            "https://evil.example",
            "null",
            "https://gate.example.com.evil.example",
            "http://gate.example.com",
            "https://localhost:6274",
            "",
        ] {
            assert!(!o.allows(bad), "{bad}");
        }
    }
}
