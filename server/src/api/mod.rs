//! The REST API under `/api/v1`: an org's tokens, OAuth clients, policy, single sign-on, MCP
//! servers (the gateway) and members for
//! scripts, authenticated by a standard PAT or the browser session (see [`auth`]). Handlers
//! parse, authenticate and call `app`'s domain; the OpenAPI description is generated from them
//! ([`openapi`]) and browsable at `/api/v1/docs/` ([`docs`]).

pub mod auth;
pub mod clients;
pub mod docs;
pub mod error;
pub mod mcp_servers;
pub mod me;
pub mod members;
pub mod openapi;
pub mod policy;
pub mod sso;
pub mod tokens;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use http::{HeaderValue, StatusCode, header};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::SessionManagerLayer;

use crate::session_store::SeaOrmStore;
use crate::state::AppState;
use error::ApiError;

/// The largest request body the API reads (a policy change is a few hundred bytes).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn routes(state: &AppState, sessions: SessionManagerLayer<SeaOrmStore>) -> Router<AppState> {
    let api = Router::new()
        .route("/api/v1/me", get(me::me))
        .route("/api/v1/tokens", get(tokens::list))
        .route("/api/v1/tokens/{id}", delete(tokens::revoke))
        .route("/api/v1/tokens/{id}/disable", post(tokens::disable))
        .route("/api/v1/tokens/{id}/enable", post(tokens::enable))
        .route("/api/v1/oauth-clients", get(clients::list))
        .route("/api/v1/oauth-clients/{client_id}", get(clients::detail))
        .route("/api/v1/org/policy", get(policy::get).patch(policy::patch))
        .route(
            "/api/v1/org/sso",
            get(sso::get).put(sso::put).delete(sso::delete),
        )
        .route(
            "/api/v1/org/mcp-servers",
            get(mcp_servers::list).post(mcp_servers::create),
        )
        .route(
            "/api/v1/org/mcp-servers/{id}",
            get(mcp_servers::detail)
                .put(mcp_servers::update)
                .delete(mcp_servers::delete),
        )
        .route(
            "/api/v1/org/mcp-servers/{id}/refresh",
            post(mcp_servers::refresh),
        )
        .route(
            "/api/v1/org/mcp-servers/{id}/tools/{tool}",
            axum::routing::put(mcp_servers::set_tool),
        )
        .route("/api/v1/members", get(members::list))
        .route("/api/v1", any(unknown))
        .route("/api/v1/", any(unknown))
        .route("/api/v1/{*rest}", any(unknown))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Answers name people and tokens: never keep them in a shared cache.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::touch_after,
        ));
    let docs = Router::new()
        .route("/api/v1/openapi.json", get(openapi::json))
        .route("/api/v1/docs", get(docs::redirect))
        .route("/api/v1/docs/", get(docs::index))
        .route("/api/v1/docs/{file}", get(docs::asset))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(docs::CSP),
        ));
    api.merge(docs)
}

async fn unknown() -> ApiError {
    ApiError::not_found(
        "There is no such API endpoint. The endpoints are listed at /api/v1/openapi.json and /api/v1/docs/.",
    )
}

async fn method_not_allowed() -> Response {
    let mut res = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This endpoint doesn't take that method; see /api/v1/docs/ for the ones it takes.",
    )
    .into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
