//! The API's OpenAPI 3.1 description, generated from the handlers and types, served at
//! `/api/v1/openapi.json` with the configured public URL as its server.

use std::sync::LazyLock;

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use http::{HeaderValue, header};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::{Modify, OpenApi};

use super::{clients, error, mcp_servers, me, members, policy, sso, tokens};
use crate::router::SESSION_COOKIE;
use crate::state::AppState;

const DESCRIPTION: &str = r#"Manage a Gatehouse organization from scripts: its personal tokens (standard PATs and MCP OAuth PATs), OAuth clients, policy, single sign-on and members.

## Authentication
Every call is made as one user in one organization, with their role there **as it is now** (a demotion or removal takes effect on the next call):

* **Personal access token** — `Authorization: Bearer gate_pat_…`. Create one at `/settings/tokens`. The organization is the token's. Reads need any valid token of a member whose role allows the call; calls that change something also need the token's `mcp:write` permission. The organization must allow personal tokens; switching its MCP server off does not close this API (an admin can switch it back on from here). MCP OAuth access tokens are not accepted here.
* **Browser session** — the `gatehouse_session` cookie of a signed-in browser. The organization is the one chosen in the session (the header's org switcher). **CSRF defence:** a call that changes something (`POST`, `PUT`, `PATCH`, `DELETE`) must send the session's CSRF token in the `X-CSRF-Token` header; `GET /api/v1/me` returns it as `csrf_token`. Calls without it are refused with 403 `csrf_failed`, whatever their `Origin`.

A request with an `Authorization` header is judged by the token alone, even when a cookie comes along.

## Errors
Every error is JSON: `{"error": "<code>", "message": "<what went wrong and what to do>"}`, plus `"field"` naming the bad input of a 422. 401 answers carry a `WWW-Authenticate: Bearer` challenge. Ids of another organization's tokens or clients are simply not found (404).

## Roles
Token, client, policy and single sign-on calls need the `admin` role; `GET /api/v1/members` is open to `restricted_querier` and up; `GET /api/v1/me` to every member."#;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse REST API",
        version = "1",
        description = DESCRIPTION,
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        me::me,
        tokens::list,
        tokens::disable,
        tokens::enable,
        tokens::revoke,
        clients::list,
        clients::detail,
        policy::get,
        policy::patch,
        sso::get,
        sso::put,
        sso::delete,
        mcp_servers::list,
        mcp_servers::create,
        mcp_servers::detail,
        mcp_servers::update,
        mcp_servers::delete,
        mcp_servers::set_tool,
        mcp_servers::refresh,
        members::list,
    ),
    components(schemas(
        error::ErrorBody,
        tokens::TokenKind,
        tokens::TokenStatus,
        clients::ClientSource,
        clients::ConnectionState,
        members::RoleName,
    )),
    modifiers(&Security),
    tags(
        (name = "me", description = "The caller"),
        (name = "tokens", description = "Every personal token of the organization: standard PATs and MCP OAuth PATs"),
        (name = "oauth-clients", description = "OAuth clients used in or owned by the organization"),
        (name = "organization", description = "Policy, single sign-on and members"),
    ),
)]
pub struct ApiDoc;

/// The security schemes: the bearer token, the session cookie and its CSRF header.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "pat",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("gate_pat_…")
                    .description(Some(
                        "A standard personal access token. Changes need its `mcp:write` permission.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The browser session of a signed-in user (the org chosen in the session).",
            ))),
        );
        components.add_security_scheme(
            "csrf",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-CSRF-Token",
                "The session's CSRF token (`csrf_token` of GET /api/v1/me); required with the session cookie on every call that changes something.",
            ))),
        );
    }
}

/// The document without its server (that comes from configuration).
static BASE: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(ApiDoc::openapi);

/// The document for this deployment: its server is `GATEHOUSE_PUBLIC_URL`, never the Host.
pub fn document(public_url: &str) -> utoipa::openapi::OpenApi {
    let mut doc = BASE.clone();
    doc.servers = Some(vec![Server::new(public_url.trim_end_matches('/'))]);
    doc
}

pub async fn json(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))],
        Json(document(&state.config.public_url)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_with_every_path_and_scheme() {
        let doc = serde_json::to_value(document("https://gate.example")).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        assert_eq!(doc["servers"][0]["url"], "https://gate.example");
        for path in [
            "/api/v1/me",
            "/api/v1/tokens",
            "/api/v1/tokens/{id}",
            "/api/v1/tokens/{id}/disable",
            "/api/v1/tokens/{id}/enable",
            "/api/v1/oauth-clients",
            "/api/v1/oauth-clients/{client_id}",
            "/api/v1/org/policy",
            "/api/v1/members",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} missing");
        }
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["pat"]["scheme"], "bearer");
        assert_eq!(schemes["session"]["in"], "cookie");
        assert_eq!(schemes["csrf"]["name"], "X-CSRF-Token");
    }
}
