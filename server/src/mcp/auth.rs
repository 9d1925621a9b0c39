//! The bearer check in front of the MCP endpoint (MCP authorization, RFC 6750, RFC 9728):
//! every request carries `Authorization: Bearer …`, checked against the database as it is now.
//! Refusals are 401 with a `WWW-Authenticate` challenge pointing at the protected resource
//! metadata (so clients can refresh or sign in), or 403 when org policy closes the door. Never a
//! redirect, never the browser session.

use std::sync::Arc;

use app::domain::access::{Denial, DenialKind, Principal, Purpose};
use app::domain::mcp::tools;
use app::domain::oauth::resource::McpResource;
use app::domain::oauth::scope::ScopeSet;
use app::domain::orgs;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};
use serde_json::json;

use crate::state::AppState;

/// The largest JSON-RPC body read here to find a tool's name (rmcp applies its own limit).
const MAX_PEEK_BYTES: usize = 1 << 20;

/// Which MCP resource a request path addresses.
pub fn endpoint_of(path: &str) -> Option<McpResource> {
    if path == "/mcp" {
        return Some(McpResource::Instance);
    }
    let slug = path.strip_prefix("/o/")?.strip_suffix("/mcp")?;
    (!slug.is_empty() && !slug.contains('/')).then(|| McpResource::Org(slug.to_string()))
}

/// Reads what is left of a refused request's body (within [`MAX_PEEK_BYTES`]) so that the
/// client's connection stays usable: MCP clients send their first request without a token and
/// retry on the same connection right after the 401, and a server that answers without reading
/// the body has to close the connection, which clients report as "disconnected without a
/// response".
async fn drain(req: Request) {
    let _ = axum::body::to_bytes(req.into_body(), MAX_PEEK_BYTES).await;
}

/// The bearer check as a middleware layer (the bench puts it in front of a trivial route; the
/// MCP endpoint calls [`admit`] itself).
pub async fn require_bearer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match admit(&state, req).await {
        Ok(req) => next.run(req).await,
        Err(refusal) => refusal,
    }
}

/// The request with its caller (`Arc<Principal>`) attached, or the refusal to send instead.
/// `OPTIONS` passes untouched.
pub async fn admit(state: &AppState, mut req: Request) -> Result<Request, Response> {
    if req.method() == Method::OPTIONS {
        return Ok(req);
    }
    let Some(endpoint) = endpoint_of(req.uri().path()) else {
        return Err(not_found());
    };
    let Some(secret) = bearer_secret(req.headers()) else {
        drain(req).await;
        return Err(refuse(state, &endpoint, Denial::NoCredential).await);
    };
    let checked = state
        .services
        .access()
        .check(secret, Purpose::Mcp(&endpoint))
        .await;
    let principal = match checked {
        Ok(Ok(p)) => p,
        Ok(Err(denial)) => {
            drain(req).await;
            return Err(refuse(state, &endpoint, denial).await);
        }
        Err(_) => return Err(unavailable()),
    };
    // A grant without every scope: look at the call so that a tool needing more gets the
    // standard step-up challenge (a new consent can fix it) instead of a tool error.
    if !ScopeSet::all().is_subset(principal.scopes()) && req.method() == Method::POST {
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, MAX_PEEK_BYTES).await else {
            return Err((
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is too large.",
            )
                .into_response());
        };
        if let Some(needed) = called_tool(&bytes).and_then(|t| tools::missing_scope(&principal, &t))
        {
            return Err(insufficient_scope(state, &endpoint, &needed));
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    state.services.access().touch(&principal);
    req.extensions_mut().insert::<Arc<Principal>>(principal);
    Ok(req)
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive). Tokens in
/// the query string or body are never looked at.
pub(crate) fn bearer_secret(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The tool a JSON-RPC `tools/call` names, if the body is one.
fn called_tool(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Call {
        method: String,
        params: Option<Params>,
    }
    #[derive(serde::Deserialize)]
    struct Params {
        name: String,
    }
    let call: Call = serde_json::from_slice(body).ok()?;
    (call.method == "tools/call").then_some(call.params?.name)
}

fn metadata_url(state: &AppState, endpoint: &McpResource) -> String {
    format!(
        "{}/.well-known/oauth-protected-resource{}",
        state.config.public_url,
        endpoint.path()
    )
}

/// A quoted-string parameter value: no quotes or backslashes, printable ASCII only.
fn quoted(v: &str) -> String {
    v.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => ' ',
        })
        .collect()
}

async fn refuse(state: &AppState, endpoint: &McpResource, denial: Denial) -> Response {
    // A challenge must point at metadata that exists (RS-5): an unknown org has no endpoint.
    if let McpResource::Org(slug) = endpoint {
        match orgs::find_by_slug(&state.services.db, slug).await {
            Ok(Some(_)) => {}
            Ok(None) => return not_found(),
            Err(_) => return unavailable(),
        }
    }
    let metadata = metadata_url(state, endpoint);
    let scope = ScopeSet::all().to_string();
    let why = denial.to_string();
    match denial.kind() {
        DenialKind::Missing => challenge(
            StatusCode::UNAUTHORIZED,
            format!(r#"Bearer resource_metadata="{metadata}", scope="{scope}""#),
            json!({ "error": "unauthorized", "error_description": why }),
        ),
        DenialKind::Credential => challenge(
            StatusCode::UNAUTHORIZED,
            format!(
                r#"Bearer resource_metadata="{metadata}", scope="{scope}", error="invalid_token", error_description="{}""#,
                quoted(&why)
            ),
            json!({ "error": "invalid_token", "error_description": why }),
        ),
        // Policy, not credentials: no challenge a client would answer by signing in again.
        DenialKind::Policy | DenialKind::Scope => (
            StatusCode::FORBIDDEN,
            axum::Json(json!({ "error": "access_denied", "error_description": why })),
        )
            .into_response(),
    }
}

fn insufficient_scope(state: &AppState, endpoint: &McpResource, needed: &ScopeSet) -> Response {
    let metadata = metadata_url(state, endpoint);
    let why = format!("This call needs the scopes {needed}; approve them to continue.");
    challenge(
        StatusCode::FORBIDDEN,
        format!(
            r#"Bearer error="insufficient_scope", scope="{needed}", resource_metadata="{metadata}", error_description="{}""#,
            quoted(&why)
        ),
        json!({ "error": "insufficient_scope", "error_description": why, "scope": needed.to_string() }),
    )
}

fn challenge(status: StatusCode, www_authenticate: String, body: serde_json::Value) -> Response {
    let mut res = (status, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&www_authenticate) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "error": "not_found", "error_description": "No such MCP endpoint." })),
    )
        .into_response()
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({ "error": "temporarily_unavailable", "error_description": "Try again in a moment." })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_endpoints() {
        assert_eq!(endpoint_of("/mcp"), Some(McpResource::Instance));
        assert_eq!(
            endpoint_of("/o/acme/mcp"),
            Some(McpResource::Org("acme".into()))
        );
        assert_eq!(endpoint_of("/o//mcp"), None);
        assert_eq!(endpoint_of("/o/a/b/mcp"), None);
        assert_eq!(endpoint_of("/mcp/"), None);
    }

    #[test]
    fn bearer_header_only_and_case_insensitive() {
        let mut h = http::HeaderMap::new();
        assert_eq!(bearer_secret(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc"),
        );
        assert_eq!(bearer_secret(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_secret(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer_secret(&h), None);
    }

    #[test]
    fn finds_the_called_tool() {
        let body = br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"set_org_policy","arguments":{}}}"#;
        assert_eq!(called_tool(body).as_deref(), Some("set_org_policy"));
        assert_eq!(
            called_tool(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
            None
        );
        assert_eq!(called_tool(b"not json"), None);
    }

    #[test]
    fn challenge_values_stay_quoted_strings() {
        assert_eq!(quoted(r#"a "b" \c"#), "a 'b' 'c");
    }
}
