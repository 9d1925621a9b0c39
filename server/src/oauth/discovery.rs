//! Discovery documents: RFC 8414 authorization server metadata and RFC 9728 protected resource
//! metadata, built from the configured public URL only (never the Host header).

use app::domain::oauth::grants::JWT_BEARER;
use app::domain::oauth::resource::McpResource;
use app::domain::oauth::scope::ScopeSet;
use app::domain::orgs;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{Value, json};

use crate::state::AppState;

pub fn authorization_server_metadata(state: &AppState) -> Value {
    let base = &state.config.public_url;
    let scopes: Vec<&str> = ScopeSet::all().iter().collect();
    let mut m = json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "introspection_endpoint": format!("{base}/oauth/introspect"),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", JWT_BEARER],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "scopes_supported": scopes,
        "authorization_response_iss_parameter_supported": true,
        "service_documentation": format!("{base}/"),
    });
    if state.config.dynamic_registration {
        m["registration_endpoint"] = json!(format!("{base}/oauth/register"));
    }
    // Clients prefer a metadata document when this is true (with "none" among the token
    // endpoint's methods, above), and fall back to registration otherwise.
    m["client_id_metadata_document_supported"] = json!(state.config.metadata_documents);
    m
}

pub async fn authorization_server(State(state): State<AppState>) -> Json<Value> {
    Json(authorization_server_metadata(&state))
}

/// Gatehouse's published signing keys (RFC 7517 JWK Set): what verifies the assertions it
/// signs. Cacheable for five minutes: a new key is published an hour before it signs.
pub async fn jwks(State(state): State<AppState>) -> Response {
    match app::domain::signing_keys::jwks(&state.services.db).await {
        Ok(set) => (
            [(http::header::CACHE_CONTROL, "public, max-age=300")],
            Json(set),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the key set can't be read");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

fn protected_resource_metadata(
    state: &AppState,
    resource: &McpResource,
    org_name: Option<&str>,
) -> Value {
    let base = &state.config.public_url;
    let scopes: Vec<&str> = ScopeSet::all().iter().collect();
    json!({
        "resource": resource.url(base),
        "authorization_servers": [base],
        "scopes_supported": scopes,
        "bearer_methods_supported": ["header"],
        "resource_name": match org_name {
            Some(name) => format!("Gatehouse MCP for {name}"),
            None => "Gatehouse MCP".to_string(),
        },
        "resource_documentation": format!("{base}/"),
    })
}

/// `/.well-known/oauth-protected-resource` and `…/mcp`: the instance-wide MCP endpoint.
pub async fn protected_resource(State(state): State<AppState>) -> Json<Value> {
    Json(protected_resource_metadata(
        &state,
        &McpResource::Instance,
        None,
    ))
}

/// `/.well-known/oauth-protected-resource/o/{org}/mcp`: one org's MCP endpoint.
pub async fn org_protected_resource(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Response {
    match orgs::find_by_slug(&state.services.db, &slug).await {
        Ok(Some(org)) => Json(protected_resource_metadata(
            &state,
            &McpResource::Org(org.slug.clone()),
            Some(&org.name),
        ))
        .into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "not_found", "error_description": "No such MCP resource." })),
        )
            .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": "temporarily_unavailable" })),
        )
            .into_response(),
    }
}
