//! `/api/v1/oauth-clients`: every OAuth client used in or owned by the org, and one client's
//! details (redirect URIs, granted scopes, the org's connections to it).

use app::domain::org_admin::{self, ClientFilter, OrgClient, OrgClientDetail};
use app::model::{ClientKind, ConnectionStatus};
use app::policy::Capability;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::{Access, ApiCaller};
use super::error::{ApiResult, ErrorBody};
use super::tokens::parse_page;
use crate::state::AppState;

/// How the client came to be: created by an org admin, by a user for themselves, registered
/// dynamically (RFC 7591), or known by its metadata document URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientSource {
    Admin,
    User,
    Dynamic,
    Metadata,
}

impl From<ClientKind> for ClientSource {
    fn from(k: ClientKind) -> Self {
        match k {
            ClientKind::Admin => ClientSource::Admin,
            ClientKind::User => ClientSource::User,
            ClientKind::Dynamic => ClientSource::Dynamic,
            ClientKind::Metadata => ClientSource::Metadata,
        }
    }
}

/// A member's connection: `active`, `disabled` (by an admin; can be re-enabled) or `revoked`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    Active,
    Disabled,
    Revoked,
}

impl From<ConnectionStatus> for ConnectionState {
    fn from(s: ConnectionStatus) -> Self {
        match s {
            ConnectionStatus::Active => ConnectionState::Active,
            ConnectionStatus::Disabled => ConnectionState::Disabled,
            ConnectionStatus::Revoked => ConnectionState::Revoked,
        }
    }
}

/// An OAuth client as the org's admins see it. Never its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OAuthClient {
    /// The public client id, as sent in OAuth requests.
    pub client_id: String,
    pub name: String,
    pub source: ClientSource,
    /// The user who registered it (user-created clients).
    pub owner_email: Option<String>,
    /// Created by an admin of this org for it.
    pub owned_by_org: bool,
    pub redirect_uris: Vec<String>,
    /// Scopes members of this org granted it.
    pub granted_scopes: Vec<String>,
    /// Connections in this org that are neither revoked nor disabled.
    pub active_connections: u64,
    /// Last use in this org.
    pub last_used_at: Option<DateTime<Utc>>,
    /// An admin revoked it for this org: new authorizations and tokens are refused here.
    pub blocked_in_org: bool,
    /// An admin of this org made this (org-owned, confidential) client a resource server: it
    /// may introspect the org's tokens at `/oauth/introspect`.
    pub resource_server: bool,
    pub created_at: DateTime<Utc>,
    /// Source `metadata`: the client's `client_id` is the URL of its metadata document, last
    /// fetched then.
    pub metadata_fetched_at: Option<DateTime<Utc>>,
}

impl From<OrgClient> for OAuthClient {
    fn from(c: OrgClient) -> Self {
        Self {
            client_id: c.client_id,
            name: c.name,
            source: c.source.into(),
            owner_email: c.owner_email,
            owned_by_org: c.owned_by_org,
            redirect_uris: c.redirect_uris,
            granted_scopes: c.granted_scopes,
            active_connections: c.active_connections,
            last_used_at: c.last_used_at,
            blocked_in_org: c.blocked_in_org,
            resource_server: c.resource_server,
            created_at: c.created_at,
            metadata_fetched_at: c.metadata_fetched_at,
        }
    }
}

/// One page of the org's clients, by name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OAuthClientList {
    pub clients: Vec<OAuthClient>,
    pub page: u64,
    pub pages: u64,
    pub per_page: u64,
    pub total: u64,
}

/// A member's connection to the client (an MCP OAuth PAT); its id is the token id in
/// `/api/v1/tokens`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientConnection {
    pub id: Uuid,
    pub user_email: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub status: ConnectionState,
}

/// Everything an org admin may see about one client.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OAuthClientDetail {
    #[serde(flatten)]
    pub client: OAuthClient,
    pub description: Option<String>,
    /// `none` (public client) or a `client_secret_*` method (confidential client).
    pub token_endpoint_auth_method: String,
    pub grant_types: Vec<String>,
    /// Scopes the client may ask for.
    pub allowed_scopes: Vec<String>,
    pub client_uri: Option<String>,
    pub verified: bool,
    /// An admin of the org lets this client leave out PKCE.
    pub pkce_optional: bool,
    /// The last four characters of a confidential client's secret.
    pub secret_last_four: Option<String>,
    /// This org's connections to the client, newest first.
    pub connections: Vec<ClientConnection>,
}

impl From<OrgClientDetail> for OAuthClientDetail {
    fn from(d: OrgClientDetail) -> Self {
        Self {
            client: d.client.into(),
            description: d.description,
            token_endpoint_auth_method: d.auth_method,
            grant_types: d.grant_types,
            allowed_scopes: d.allowed_scopes,
            client_uri: d.client_uri,
            verified: d.verified,
            pkce_optional: d.pkce_optional,
            secret_last_four: d.secret_last_four,
            connections: d
                .connections
                .into_iter()
                .map(|c| ClientConnection {
                    id: c.id,
                    user_email: c.user_email,
                    scope: c.scope,
                    created_at: c.created_at,
                    last_used_at: c.last_used_at,
                    status: c.status.into(),
                })
                .collect(),
        }
    }
}

/// Filters and page of the client list; each filter is optional.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientQuery {
    /// Part of the name, the client id or the owner's email.
    pub q: Option<String>,
    /// Only clients of this source.
    #[param(value_type = Option<ClientSource>)]
    pub source: Option<String>,
    /// `yes`: only clients revoked for this org; `no`: only the others.
    #[param(pattern = "^(yes|no)$")]
    pub blocked: Option<String>,
    /// The page, from 1 (50 rows a page); a page past the end answers the last one.
    #[param(value_type = Option<u64>, minimum = 1)]
    pub page: Option<String>,
}

/// List the org's OAuth clients
///
/// Admin-created, user-created, dynamically registered and metadata-document clients owned by
/// the organization or connected to it by one of its members, by name, 50 a page.
#[utoipa::path(
    get,
    path = "/api/v1/oauth-clients",
    operation_id = "list_oauth_clients",
    tag = "oauth-clients",
    params(ClientQuery),
    responses(
        (status = 200, description = "One page of clients", body = OAuthClientList),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Not an admin of the organization", body = ErrorBody),
        (status = 422, description = "A filter value this API doesn't know (`field` names it)", body = ErrorBody),
    ),
    security(("pat" = []), ("session" = []))
)]
pub async fn list(
    caller: ApiCaller,
    State(state): State<AppState>,
    query: Result<Query<ClientQuery>, QueryRejection>,
) -> ApiResult<Json<OAuthClientList>> {
    let (org, _) = caller.require(Capability::AdministerOrg, Access::Read)?;
    let Query(q) = query?;
    let page = parse_page(q.page.as_deref())?;
    let filter = ClientFilter {
        q: q.q,
        source: q.source,
        blocked: q.blocked,
    };
    let p = org_admin::clients_page(&state.services.db, org.id, &filter, page).await?;
    Ok(Json(OAuthClientList {
        clients: p.clients.into_iter().map(OAuthClient::from).collect(),
        page: p.page,
        pages: p.pages,
        per_page: org_admin::PAGE_SIZE,
        total: p.total,
    }))
}

/// Get one OAuth client
///
/// Redirect URIs, granted and allowed scopes, how it authenticates, and the organization's
/// connections to it. Clients the organization neither owns nor uses are not found.
#[utoipa::path(
    get,
    path = "/api/v1/oauth-clients/{client_id}",
    operation_id = "get_oauth_client",
    tag = "oauth-clients",
    params(("client_id" = String, Path, description = "The client's public client id")),
    responses(
        (status = 200, description = "The client", body = OAuthClientDetail),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Not an admin of the organization", body = ErrorBody),
        (status = 404, description = "No such client in this organization", body = ErrorBody),
    ),
    security(("pat" = []), ("session" = []))
)]
pub async fn detail(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(client_id): Path<String>,
) -> ApiResult<Json<OAuthClientDetail>> {
    let (org, _) = caller.require(Capability::AdministerOrg, Access::Read)?;
    let d = org_admin::client_detail(&state.services.db, org.id, &client_id).await?;
    Ok(Json(d.into()))
}
