//! Personal access tokens: a member's own (`/settings/tokens`) and every one of an org as its
//! admins see them (`/admin/tokens`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::OrgView;

/// The state of a personal token (standard PAT or MCP OAuth PAT), derived from its row's
/// timestamps: revoked wins over disabled, disabled over expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    Active,
    Expired,
    Revoked,
    Disabled,
}

impl TokenStatus {
    pub const ALL: [TokenStatus; 4] = [
        TokenStatus::Active,
        TokenStatus::Disabled,
        TokenStatus::Expired,
        TokenStatus::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Expired => "expired",
            TokenStatus::Revoked => "revoked",
            TokenStatus::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<TokenStatus> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            TokenStatus::Active => "Active",
            TokenStatus::Expired => "Expired",
            TokenStatus::Revoked => "Revoked",
            TokenStatus::Disabled => "Disabled by an admin",
        }
    }
}

/// The two kinds of personal token an admin lists: a standard PAT, or an MCP OAuth PAT (the
/// connection an OAuth client got through consent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgTokenKind {
    Pat,
    McpOauthPat,
}

impl OrgTokenKind {
    pub const ALL: [OrgTokenKind; 2] = [OrgTokenKind::Pat, OrgTokenKind::McpOauthPat];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgTokenKind::Pat => "pat",
            OrgTokenKind::McpOauthPat => "mcp_oauth_pat",
        }
    }

    pub fn parse(s: &str) -> Option<OrgTokenKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            OrgTokenKind::Pat => "Standard PATs",
            OrgTokenKind::McpOauthPat => "MCP OAuth PATs",
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
    pub status: TokenStatus,
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

/// One personal token of an org as its admins see it: a standard PAT or an MCP OAuth PAT
/// (a connection). Never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgToken {
    /// The PAT's token id, or the connection's id for an MCP OAuth PAT.
    pub id: Uuid,
    pub kind: OrgTokenKind,
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
    pub status: TokenStatus,
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

/// `/admin/tokens`: the org and one page of its tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminTokens {
    pub org_name: String,
    pub list: TokenPage,
}
