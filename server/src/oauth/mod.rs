//! The OAuth 2.1 authorization server's HTTP endpoints.

pub mod authorize;
pub mod discovery;
pub mod params;
pub mod register;
pub mod token;

use app::domain::oauth::OAuthError;
use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderName, HeaderValue, Method, StatusCode, header};
use tower_http::cors::{Any, CorsLayer};

use crate::state::AppState;

/// Discovery, registration, token, revocation and introspection: machine endpoints, open to
/// browser-based clients (MCP Inspector) through CORS, without cookies.
pub fn api_routes() -> Router<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("mcp-protocol-version"),
        ])
        .max_age(std::time::Duration::from_secs(86400));
    Router::new()
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::authorization_server),
        )
        .route(
            "/.well-known/oauth-protected-resource",
            get(discovery::protected_resource),
        )
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(discovery::protected_resource),
        )
        .route(
            "/.well-known/oauth-protected-resource/o/{slug}/mcp",
            get(discovery::org_protected_resource),
        )
        .route("/.well-known/jwks.json", get(discovery::jwks))
        .route("/oauth/register", post(register::register))
        .route("/oauth/token", post(token::token))
        .route("/oauth/revoke", post(token::revoke))
        .route("/oauth/introspect", post(token::introspect))
        .layer(cors)
}

/// An OAuth error as the protocol endpoints answer it: the RFC's JSON body, never cached, and
/// a `Basic` challenge when client authentication by HTTP Basic failed (RFC 6749 §5.2).
pub fn reply(e: OAuthError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = (status, axum::Json(&e)).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if e.basic_challenge && e.error == "invalid_client" {
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"gatehouse\", charset=\"UTF-8\""),
        );
    }
    res
}
