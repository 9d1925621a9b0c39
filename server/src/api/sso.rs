//! `/api/v1/org/sso`: the org's single sign-on connection (OpenID Connect). The client secret
//! is write-only: it is never returned, and a PUT without one keeps the stored secret. Every
//! change is audited and applies to the next sign-in.

use app::domain::sso::connection::{self, Connection, ConnectionChange};
use app::model::{AssertionPolicy, Role};
use app::policy::Capability;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Access, ApiCaller};
use super::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// The org's single sign-on connection, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SsoConnection {
    /// The provider's issuer URL (its discovery document is at
    /// `{issuer}/.well-known/openid-configuration`).
    #[schema(example = "https://login.example.com/realms/acme")]
    pub issuer: String,
    /// The client ID the provider gave Gatehouse.
    pub client_id: String,
    /// Email domains whose people sign in through this provider (a domain covers its
    /// subdomains).
    pub domains: Vec<String>,
    /// The role a person gets the first time they sign in through the provider.
    #[schema(value_type = String, example = "querier")]
    pub default_role: Role,
    /// Members with an address of these domains can't sign in with a password.
    pub require_sso: bool,
    /// Sign-in through the provider is possible.
    pub enabled: bool,
    /// Whether the provider grants MCP access with identity assertions (ID-JAG).
    pub identity_assertions: IdentityAssertions,
    /// The redirect URI to register at the provider.
    pub redirect_uri: String,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// Enterprise-managed authorization: the provider's identity assertions (ID-JAG, RFC 7523
/// jwt-bearer grant) grant MCP access to members linked to it. Assertions must name this
/// server's issuer as `aud` and an MCP endpoint as `resource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityAssertions {
    /// The provider may grant MCP access (off by default; switching it off ends every
    /// connection it granted).
    pub enabled: bool,
    /// Client IDs that may present assertions; empty: any confidential client.
    #[serde(default)]
    pub clients: Vec<String>,
    /// The longest lifetime of an access token granted for an assertion (60 to 86400; never
    /// more than the org's access-token lifetime).
    #[schema(example = 3600)]
    #[serde(default = "default_ttl")]
    pub access_token_ttl_secs: i32,
    /// A refresh token comes with the access token (off: the client asks the provider for a
    /// fresh assertion).
    #[serde(default)]
    pub refresh_tokens: bool,
    /// A person the provider vouches for who isn't linked yet joins with `default_role` (their
    /// `email` claim must be in `domains`).
    #[serde(default)]
    pub create_members: bool,
}

fn default_ttl() -> i32 {
    AssertionPolicy::default().access_ttl_secs
}

impl From<AssertionPolicy> for IdentityAssertions {
    fn from(p: AssertionPolicy) -> Self {
        Self {
            enabled: p.enabled,
            clients: p.clients,
            access_token_ttl_secs: p.access_ttl_secs,
            refresh_tokens: p.refresh,
            create_members: p.create_members,
        }
    }
}

impl From<IdentityAssertions> for AssertionPolicy {
    fn from(a: IdentityAssertions) -> Self {
        Self {
            enabled: a.enabled,
            clients: a.clients,
            access_ttl_secs: a.access_token_ttl_secs,
            refresh: a.refresh_tokens,
            create_members: a.create_members,
        }
    }
}

impl SsoConnection {
    fn of(c: Connection, redirect_uri: String) -> Self {
        Self {
            issuer: c.issuer,
            client_id: c.client_id,
            domains: c.domains,
            default_role: c.default_role,
            require_sso: c.require_sso,
            enabled: c.enabled,
            identity_assertions: c.assertions.into(),
            redirect_uri,
            updated_at: c.updated_at,
        }
    }
}

/// The whole connection. `client_secret` may be left out to keep the stored one (it is
/// required when the org has no connection yet); unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "issuer": "https://login.example.com/realms/acme",
    "client_id": "gatehouse",
    "client_secret": "…",
    "domains": ["acme.example"],
    "default_role": "querier",
    "require_sso": false,
    "enabled": true
}))]
pub struct SsoConnectionPut {
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Domains where the calling admin's own verified address is (or subdomains of it).
    pub domains: Vec<String>,
    /// Any role but `admin`.
    #[schema(value_type = String, example = "querier")]
    pub default_role: Role,
    #[serde(default)]
    pub require_sso: bool,
    #[serde(default = "on")]
    pub enabled: bool,
    /// Left out: the stored settings are kept (off for a new connection).
    #[serde(default)]
    pub identity_assertions: Option<IdentityAssertions>,
}

fn on() -> bool {
    true
}

fn redirect_uri(state: &AppState) -> String {
    app::domain::sso::flow::callback_url(&state.services)
}

/// Get the org's single sign-on connection
#[utoipa::path(
    get,
    path = "/api/v1/org/sso",
    operation_id = "get_org_sso",
    tag = "organization",
    responses(
        (status = 200, description = "The connection", body = SsoConnection),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Not an admin of the organization", body = ErrorBody),
        (status = 404, description = "The organization has no single sign-on set up", body = ErrorBody),
    ),
    security(("pat" = []), ("session" = []))
)]
pub async fn get(
    caller: ApiCaller,
    State(state): State<AppState>,
) -> ApiResult<Json<SsoConnection>> {
    let (org, _) = caller.require(Capability::AdministerOrg, Access::Read)?;
    let conn = connection::get(&state.services.db, org.id)
        .await?
        .ok_or_else(|| ApiError::not_found("This organization has no single sign-on set up."))?;
    Ok(Json(SsoConnection::of(conn, redirect_uri(&state))))
}

/// Set up or replace the org's single sign-on connection
///
/// Returns the connection as it now is. A bad value is refused with 422 naming the field, and
/// nothing is changed.
#[utoipa::path(
    put,
    path = "/api/v1/org/sso",
    operation_id = "put_org_sso",
    tag = "organization",
    request_body(content = SsoConnectionPut, content_type = "application/json"),
    responses(
        (status = 200, description = "The connection as it now is", body = SsoConnection),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, a token without `mcp:write`, or a session call without its CSRF token", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A bad value or an unknown field (`field` names it)", body = ErrorBody),
    ),
    security(("pat" = ["mcp:write"]), ("session" = [], "csrf" = []))
)]
pub async fn put(
    caller: ApiCaller,
    State(state): State<AppState>,
    body: Result<Json<SsoConnectionPut>, JsonRejection>,
) -> ApiResult<Json<SsoConnection>> {
    let (org, _) = caller.require(Capability::AdministerOrg, Access::Write)?;
    let Json(put) = body?;
    let saved = connection::save(
        &state.services,
        Some(caller.user_id),
        org.id,
        &ConnectionChange {
            issuer: put.issuer,
            client_id: put.client_id,
            client_secret: put.client_secret,
            domains: put.domains,
            default_role: put.default_role,
            require_sso: put.require_sso,
            enabled: put.enabled,
            assertions: put.identity_assertions.map(Into::into),
        },
        &caller.meta,
    )
    .await?;
    Ok(Json(SsoConnection::of(saved, redirect_uri(&state))))
}

/// Remove the org's single sign-on connection
///
/// Its members sign in with passwords again (an account made by single sign-on sets one with
/// "Forgot your password?").
#[utoipa::path(
    delete,
    path = "/api/v1/org/sso",
    operation_id = "delete_org_sso",
    tag = "organization",
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, a token without `mcp:write`, or a session call without its CSRF token", body = ErrorBody),
        (status = 404, description = "The organization has no single sign-on set up", body = ErrorBody),
    ),
    security(("pat" = ["mcp:write"]), ("session" = [], "csrf" = []))
)]
pub async fn delete(caller: ApiCaller, State(state): State<AppState>) -> ApiResult<StatusCode> {
    let (org, _) = caller.require(Capability::AdministerOrg, Access::Write)?;
    connection::remove(&state.services, Some(caller.user_id), org.id, &caller.meta).await?;
    Ok(StatusCode::NO_CONTENT)
}
