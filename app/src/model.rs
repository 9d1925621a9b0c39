//! Data shapes shared by the server and the browser: what pages render and forms return.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A member's role in one organization, from least to most privileged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    RestrictedQuerier,
    Querier,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Viewer,
        Role::RestrictedQuerier,
        Role::Querier,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::RestrictedQuerier => "restricted_querier",
            Role::Querier => "querier",
            Role::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::RestrictedQuerier => "Restricted querier",
            Role::Querier => "Querier",
            Role::Admin => "Admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub name: Option<String>,
}

impl UserView {
    pub fn display_name(&self) -> &str {
        self.name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(&self.email)
    }
}

/// An organization as seen by one member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgView {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub role: Role,
}

/// What every page needs to draw its frame: who is signed in, their orgs, the CSRF proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SessionInfo {
    pub user: Option<UserView>,
    pub orgs: Vec<OrgView>,
    pub current_org: Option<OrgView>,
    pub csrf: String,
    pub flash: Option<Flash>,
    pub signup_enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub user: UserView,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub orgs: Vec<OrgView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgOverview {
    pub org: OrgView,
    pub member_count: u64,
    pub created_at: DateTime<Utc>,
    pub is_current: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub membership_id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
    pub is_self: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembersPage {
    pub org: OrgView,
    pub members: Vec<MemberView>,
    pub invitations: Vec<InvitationView>,
    pub admin_count: u64,
}

/// Adding someone by email either adds an existing account or creates an invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AddMemberOutcome {
    Added {
        email: String,
        role: Role,
    },
    /// `link` carries the one-time invitation secret: it is shown once, to the admin.
    Invited {
        email: String,
        role: Role,
        link: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvitationState {
    Pending,
    Accepted,
    Expired,
    Revoked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationInfo {
    pub org_name: String,
    pub org_slug: String,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub state: InvitationState,
    pub expires_at: DateTime<Utc>,
    /// The signed-in user's email, if any, so the page can say whether it matches.
    pub signed_in_as: Option<String>,
    pub already_member: bool,
}

/// A one-time message shown on the next page: after a form post without JavaScript, or as
/// the result of an action. `copy` holds a value shown once with a copy button (e.g. a link).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    pub text: String,
    pub copy: Option<String>,
}

/// One organization on the consent screen: the user's role there, or why it can't be chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentOrg {
    pub slug: String,
    pub name: String,
    pub role: Role,
    /// Org policy refuses this connection (MCP off, MCP OAuth PATs off, app blocked, …).
    pub blocked: Option<String>,
}

/// Everything the consent screen shows for one pending authorization request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentView {
    pub request_id: Uuid,
    pub client_name: String,
    pub client_id: String,
    pub verified: bool,
    pub dynamic: bool,
    pub redirect_host: String,
    pub localhost_redirect: bool,
    pub user_email: String,
    /// (scope, plain-words description)
    pub scopes: Vec<(String, String)>,
    pub resource: String,
    pub orgs: Vec<ConsentOrg>,
    /// Set when the MCP URL named the org (`/o/{org}/mcp`): no choice to make.
    pub fixed_org: Option<String>,
    pub preselected: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// The state of a standard personal access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatStatus {
    Active,
    Expired,
    Revoked,
    Disabled,
}

impl PatStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PatStatus::Active => "active",
            PatStatus::Expired => "expired",
            PatStatus::Revoked => "revoked",
            PatStatus::Disabled => "disabled",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PatStatus::Active => "Active",
            PatStatus::Expired => "Expired",
            PatStatus::Revoked => "Revoked",
            PatStatus::Disabled => "Disabled by an admin",
        }
    }
}

/// One of the signed-in user's standard personal access tokens (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatView {
    pub id: Uuid,
    pub name: String,
    /// Prefix and last four characters, e.g. `gate_pat_…abcd`.
    pub hint: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub status: PatStatus,
}

/// One page of the user's tokens in one org, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatList {
    pub tokens: Vec<PatView>,
    /// This page, from 1.
    pub page: u64,
    /// How many pages there are (at least 1).
    pub pages: u64,
    pub total: u64,
}

/// A token just created: `secret` is shown once and never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedPat {
    pub secret: String,
    pub token: PatView,
}

/// What the personal tokens page needs besides the list: who may create, and the form's choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatSettings {
    pub org: OrgView,
    /// Why this member can't create tokens here (role or org policy); `None` when they can.
    pub refusal: Option<String>,
    /// (scope, plain-words description)
    pub scopes: Vec<(String, String)>,
    pub expiry_choices: Vec<i32>,
    pub default_expiry_days: i32,
    pub max_expiry_days: i32,
    /// The org's MCP endpoint, where the token is sent as a bearer token.
    pub mcp_url: String,
    /// What was typed in the create form when it was last refused (a plain form post), shown
    /// once.
    pub draft: Option<PatDraft>,
}

/// The personal token form as typed (no secret in it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatDraft {
    pub name: String,
    pub scopes: Vec<String>,
    pub expires_in_days: String,
}

// ---- Org admin: OAuth clients and tokens (/admin/oauth-clients, /admin/tokens) ----

/// One personal token of an org as its admins see it: a standard PAT or an MCP OAuth PAT
/// (a connection). Never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgToken {
    /// The PAT's token id, or the connection's id for an MCP OAuth PAT.
    pub id: Uuid,
    /// `pat` or `mcp_oauth_pat`.
    pub kind: String,
    pub name: Option<String>,
    pub user_id: Uuid,
    pub owner_email: String,
    /// The OAuth client's public `client_id` (MCP OAuth PATs only).
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    /// `gate_pat_…abcd` for a standard PAT.
    pub hint: Option<String>,
    pub scope: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// `active`, `expired`, `disabled` or `revoked`.
    pub status: String,
}

/// Which of the org's tokens to list. Empty strings mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenFilter {
    /// `pat` or `mcp_oauth_pat`.
    pub kind: Option<String>,
    /// Part of the owner's email, or the owner's user id.
    pub user: Option<String>,
    /// `active`, `expired`, `disabled` or `revoked`.
    pub status: Option<String>,
}

/// One page of the org's tokens, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPage {
    pub tokens: Vec<OrgToken>,
    /// This page, from 1.
    pub page: u64,
    /// How many pages there are (at least 1).
    pub pages: u64,
    pub total: u64,
}

/// One OAuth client used in or owned by an org, as its admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgClient {
    /// The client's row id (for links and forms).
    pub id: Uuid,
    pub client_id: String,
    pub name: String,
    /// `admin`, `user`, `dynamic` or `metadata`.
    pub source: String,
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
    pub created_at: DateTime<Utc>,
}

impl OrgClient {
    pub fn source_label(&self) -> &'static str {
        client_source_label(&self.source)
    }
}

pub fn client_source_label(source: &str) -> &'static str {
    match source {
        "admin" => "Admin-created",
        "user" => "User-created",
        "dynamic" => "Dynamically registered",
        "metadata" => "Metadata document",
        _ => "Other",
    }
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
    /// `active`, `disabled` or `revoked`.
    pub status: String,
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

/// `/admin/tokens`: the org and one page of its tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminTokens {
    pub org_name: String,
    pub list: TokenPage,
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

// ---- end org admin ----

// ---- OAuth apps and connected apps (/settings/oauth-apps, /settings/connected-apps) ----

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
    /// `user` (a member's own app) or `admin` (created by an org admin for the org).
    pub kind: String,
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
    /// `admin`, `user`, `dynamic` or `metadata`.
    pub client_kind: String,
    pub verified: bool,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// `active` or `disabled` (revoked connections are not listed).
    pub status: String,
}

/// One page of the user's connections, grouped by org (by org name, then newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedAppList {
    pub connections: Vec<ConnectedAppView>,
    pub page: u64,
    pub pages: u64,
    pub total: u64,
}

// ---- end OAuth apps and connected apps ----

// ---- Org settings and audit log (/admin/settings, /admin/audit) ----

/// The org policy form's values, as typed (strings, so a refused form shows what was typed).
/// Lifetimes are in the form's units: access tokens in minutes, refresh tokens and personal
/// tokens in days.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgPolicyForm {
    pub mcp_enabled: bool,
    pub personal_tokens_enabled: bool,
    pub mcp_oauth_pats_enabled: bool,
    pub dynamic_registration_enabled: bool,
    /// One host per line.
    pub allowed_redirect_hosts: String,
    pub access_token_ttl_minutes: String,
    pub refresh_token_ttl_days: String,
    pub pat_max_ttl_days: String,
}

/// Everything `/admin/settings` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSettingsView {
    pub org: OrgView,
    /// The form: the current policy, or what the admin typed when it was refused (no JavaScript).
    pub form: OrgPolicyForm,
    /// The policy as saved (the switches' "On"/"Off" badges follow it, not a refused form).
    pub saved: OrgPolicyForm,
    /// The policy as it is now, in words (for the "now:" hints).
    pub allowed_redirect_hosts: Vec<String>,
    pub access_token_ttl: String,
    pub refresh_token_ttl: String,
    pub pat_max_ttl: String,
    /// What members are told when a switch is off (the wording of the docs).
    pub mcp_off_message: String,
    pub personal_tokens_off_message: String,
    pub mcp_oauth_pats_off_message: String,
    pub dynamic_registration_off_message: String,
    /// The org's MCP endpoint.
    pub mcp_url: String,
    /// Allowed ranges, in the form's units: (min, max).
    pub access_token_minutes: (i64, i64),
    pub refresh_token_days: (i64, i64),
    pub pat_days: (i64, i64),
    pub max_redirect_hosts: usize,
}

/// The audit log's filters, as in the page's query string. Empty strings mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilterForm {
    /// The actor's email.
    pub actor: String,
    /// An action or a prefix of one: `oauth`, `pat.created`.
    pub action: String,
    /// First day (YYYY-MM-DD, UTC), inclusive.
    pub from: String,
    /// Last day (YYYY-MM-DD, UTC), inclusive.
    pub to: String,
}

/// One audit event as an org admin reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEventView {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The actor's email (or label); `None` for the system or an anonymous caller.
    pub actor: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// The details in one short line, and in full (JSON) for the hover text.
    pub details: Option<String>,
    pub details_full: Option<String>,
    pub ip: Option<String>,
}

/// One page of the org's audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLogPage {
    pub org: OrgView,
    pub events: Vec<AuditEventView>,
    pub page: u64,
    pub pages: u64,
    pub total: u64,
    /// Filters that can't be used, as (field, message): shown next to the field.
    pub filter_errors: Vec<(String, String)>,
}

// ---- end org settings and audit log ----
