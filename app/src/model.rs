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
}
