//! MCP servers an organization serves behind Gatehouse (the gateway), as admins see them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Role;

/// An upstream MCP server: everything but its secret header's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamView {
    pub id: Uuid,
    /// The prefix of its tools (`{name}__{tool}`).
    pub name: String,
    pub url: String,
    /// The header Gatehouse authenticates to it with, if any (its value is write-only).
    pub auth_header_name: Option<String>,
    pub timeout_ms: i32,
    pub enabled: bool,
    pub tools_refreshed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One of an upstream's tools and who may call it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamToolView {
    /// Its name at the upstream.
    pub name: String,
    /// What clients call it: `{upstream}__{name}`.
    pub exposed_as: String,
    pub description: Option<String>,
    pub destructive: bool,
    pub min_role: Role,
    pub scope: String,
    /// An admin chose `min_role` and `scope` (else they follow the annotations).
    pub policy_set: bool,
    /// The upstream's last listing had it.
    pub present: bool,
}

/// One upstream with its tools, as `/admin/mcp-servers` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamPanel {
    pub server: UpstreamView,
    pub tools: Vec<UpstreamToolView>,
}

/// The add form's values, as typed (a refused form shows what was typed; never the secret).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamForm {
    pub name: String,
    pub url: String,
    pub auth_header_name: String,
    /// Seconds.
    pub timeout_secs: String,
}

/// Everything `/admin/mcp-servers` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpServersView {
    pub org: super::OrgView,
    pub servers: Vec<UpstreamPanel>,
    pub form: UpstreamForm,
    /// Where the org's members connect: its MCP endpoint.
    pub endpoint: String,
    /// The key set upstreams verify Gatehouse's assertions with.
    pub jwks_url: String,
    /// What the instance lets upstreams be at, in words.
    pub hosts_rule: String,
}
