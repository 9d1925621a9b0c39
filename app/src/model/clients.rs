//! OAuth clients: the org admin's list (`/admin/oauth-clients`), a member's own apps
//! (`/settings/oauth-apps`) and the apps connected to their account (`/settings/connected-apps`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where an OAuth client came from. Stored in `oauth_clients.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text"))]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    /// Created by an org admin for the org (`/admin/oauth-clients/new`).
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "admin"))]
    Admin,
    /// A member's own app (`/settings/oauth-apps/new`).
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "user"))]
    User,
    /// Registered itself (RFC 7591).
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "dynamic"))]
    Dynamic,
    /// Identified by a client ID metadata document.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "metadata"))]
    Metadata,
}

impl ClientKind {
    pub const ALL: [ClientKind; 4] = [
        ClientKind::Admin,
        ClientKind::User,
        ClientKind::Dynamic,
        ClientKind::Metadata,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::Admin => "admin",
            ClientKind::User => "user",
            ClientKind::Dynamic => "dynamic",
            ClientKind::Metadata => "metadata",
        }
    }

    pub fn parse(s: &str) -> Option<ClientKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    /// The source column of the admin's client list.
    pub fn label(self) -> &'static str {
        match self {
            ClientKind::Admin => "Admin-created",
            ClientKind::User => "User-created",
            ClientKind::Dynamic => "Dynamically registered",
            ClientKind::Metadata => "Metadata document",
        }
    }
}

/// The state of a connection (an MCP OAuth PAT), derived from its row: revoked wins over
/// disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    Active,
    Disabled,
    Revoked,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Active => "active",
            ConnectionStatus::Disabled => "disabled",
            ConnectionStatus::Revoked => "revoked",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ConnectionStatus::Active => "Active",
            ConnectionStatus::Disabled => "Disabled by an admin",
            ConnectionStatus::Revoked => "Revoked",
        }
    }
}

/// One OAuth client used in or owned by an org, as its admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgClient {
    /// The client's row id (for links and forms).
    pub id: Uuid,
    pub client_id: String,
    pub name: String,
    pub source: ClientKind,
    pub owner_email: Option<String>,
    /// Created by an admin of this org for it: the org may delete it.
    pub owned_by_org: bool,
    pub redirect_uris: Vec<String>,
    /// Scopes members of this org granted it.
    pub granted_scopes: Vec<String>,
    /// Connections in this org that are neither revoked nor disabled.
    pub active_connections: u64,
    /// Last use in this org.
    pub last_used_at: Option<DateTime<Utc>>,
    pub blocked_in_org: bool,
    /// An org admin made this (org-owned, confidential) client a resource server: it may
    /// introspect the org's tokens.
    pub resource_server: bool,
    pub created_at: DateTime<Utc>,
    /// A metadata-document client: when Gatehouse last fetched its document (at its
    /// `client_id` URL).
    pub metadata_fetched_at: Option<DateTime<Utc>>,
}

/// Which of the org's clients to list. Empty strings mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientFilter {
    /// Part of the name, the client id or the owner's email.
    pub q: Option<String>,
    /// `admin`, `user`, `dynamic` or `metadata`.
    pub source: Option<String>,
    /// `yes` (blocked in this org) or `no`.
    pub blocked: Option<String>,
}

/// One page of the org's clients, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientPage {
    pub clients: Vec<OrgClient>,
    pub page: u64,
    pub pages: u64,
    pub total: u64,
}

/// One member's connection to a client, on the client's detail page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientConnection {
    pub id: Uuid,
    pub user_email: String,
    pub scope: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub status: ConnectionStatus,
}

/// Everything an org admin may see about one client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgClientDetail {
    pub client: OrgClient,
    pub description: Option<String>,
    /// `none` (public client) or a `client_secret_*` method (confidential).
    pub auth_method: String,
    pub grant_types: Vec<String>,
    pub allowed_scopes: Vec<String>,
    pub client_uri: Option<String>,
    pub verified: bool,
    /// An org admin let this client leave out PKCE.
    pub pkce_optional: bool,
    pub secret_last_four: Option<String>,
    /// This org's connections to the client, newest first.
    pub connections: Vec<ClientConnection>,
}

/// `/admin/oauth-clients`: the org and one page of its clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminClients {
    pub org_name: String,
    pub list: ClientPage,
}

/// An OAuth client an admin just created for the org: `secret` (confidential clients) is
/// shown once and never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedOrgClient {
    pub id: Uuid,
    pub client_id: String,
    pub name: String,
    pub secret: Option<String>,
}

/// What the admin's "new OAuth client" form needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewClientForm {
    pub org_name: String,
    /// (scope, plain-words description)
    pub scopes: Vec<(String, String)>,
    /// The org's allowed redirect hosts (empty: any).
    pub redirect_hosts: Vec<String>,
    /// The client created by the last plain form post (no JavaScript), shown once.
    pub created: Option<CreatedOrgClient>,
    /// What was typed when the form was last refused (a plain form post), shown once.
    pub draft: Option<OAuthAppDraft>,
}

/// Whether an OAuth app is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthAppStatus {
    /// Someone has authorized it at least once.
    Active,
    /// Nobody has authorized it yet.
    Unused,
    /// An admin of its organization blocked it there.
    Blocked,
}

impl OAuthAppStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthAppStatus::Active => "active",
            OAuthAppStatus::Unused => "unused",
            OAuthAppStatus::Blocked => "blocked",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OAuthAppStatus::Active => "Active",
            OAuthAppStatus::Unused => "Not used yet",
            OAuthAppStatus::Blocked => "Blocked by an admin",
        }
    }
}

/// An OAuth app (client) as its owner sees it: a user's own app or an org's admin-created one.
/// Never the secret; `secret_hint` tells secrets apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthAppView {
    /// The client's row id (for links and forms).
    pub id: Uuid,
    /// The public OAuth `client_id`.
    pub client_id: String,
    pub name: String,
    pub description: Option<String>,
    /// `User` (a member's own app) or `Admin` (created by an org admin for the org).
    pub kind: ClientKind,
    /// Confidential apps authenticate with a client secret; public ones (native, browser) don't.
    pub confidential: bool,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    /// `gate_cs_…abcd` for a confidential app.
    pub secret_hint: Option<String>,
    pub secret_rotated_at: Option<DateTime<Utc>>,
    /// The organization it was registered in.
    pub org_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Connections (MCP OAuth PATs) to it that are neither revoked nor disabled.
    pub active_connections: u64,
    pub status: OAuthAppStatus,
}

/// One page of a user's OAuth apps, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthAppList {
    pub apps: Vec<OAuthAppView>,
    pub page: u64,
    pub pages: u64,
    pub total: u64,
    /// A message shown once (e.g. after a deletion).
    pub notice: Option<String>,
}

/// Credentials shown exactly once: after an app is created, or after its secret is rotated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthAppCredentials {
    pub client_id: String,
    /// The client secret (confidential apps only).
    pub secret: Option<String>,
    /// True after a rotation (the old secret stopped working), false after creation.
    pub rotated: bool,
}

/// What the app's detail page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthAppDetail {
    pub app: OAuthAppView,
    /// Present exactly once, right after creation or rotation.
    pub credentials: Option<OAuthAppCredentials>,
    /// The result of the last change (shown once).
    pub notice: Option<String>,
    /// (scope, plain-words description) the app may be given.
    pub scope_choices: Vec<(String, String)>,
    /// The endpoints an app developer needs.
    pub authorize_url: String,
    pub token_url: String,
    pub mcp_url: String,
    /// What was typed in the settings form when it was last refused (a plain form post), shown
    /// once.
    pub draft: Option<OAuthAppDraft>,
}

/// What the "new OAuth app" form needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthAppSettings {
    /// (scope, plain-words description)
    pub scope_choices: Vec<(String, String)>,
    /// The org the app will be registered in, if the user has one.
    pub org_name: Option<String>,
    /// Hosts the org allows redirect URIs to point at (empty: any).
    pub allowed_redirect_hosts: Vec<String>,
    pub max_redirect_uris: usize,
    /// What was typed when the form was last refused (a plain form post), shown once.
    pub draft: Option<OAuthAppDraft>,
}

/// An OAuth app (or org client) form as typed: the new app form, an app's settings form and
/// the admin's new client form. Never a secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthAppDraft {
    pub name: String,
    /// One per line, as typed.
    pub redirect_uris: String,
    pub description: String,
    pub scopes: Vec<String>,
    /// `confidential` or `public` (the new app forms only).
    pub client_type: String,
}

impl OAuthAppDraft {
    /// Whether the type chosen was "public" (else the form's default, confidential, is checked).
    pub fn is_public(&self) -> bool {
        self.client_type.trim() == "public"
    }
}

/// One app connected to the user's account in one org (a connection, i.e. an MCP OAuth PAT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedAppView {
    /// The connection's id.
    pub id: Uuid,
    pub org_name: String,
    pub org_slug: String,
    pub client_id: String,
    pub client_name: String,
    pub client_kind: ClientKind,
    pub verified: bool,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Active or disabled (revoked connections are not listed).
    pub status: ConnectionStatus,
    /// Granted by the org's identity provider (an identity assertion), not on the consent
    /// screen.
    pub via_assertion: bool,
}

/// One page of the user's connections, grouped by org (by org name, then newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedAppList {
    pub connections: Vec<ConnectedAppView>,
    pub page: u64,
    pub pages: u64,
    pub total: u64,
}
