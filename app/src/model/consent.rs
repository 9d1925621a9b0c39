//! The OAuth consent screen.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Role;

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
    /// A metadata-document app: the domain that serves its document and so vouches for it
    /// (its name is only what the document claims).
    pub vouched_by: Option<String>,
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
