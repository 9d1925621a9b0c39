//! Org settings and the audit log (`/admin/settings`, `/admin/audit`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::OrgView;

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
    /// `off`, `admins` or `everyone`.
    pub two_factor_policy: String,
    pub metadata_clients_enabled: bool,
    /// One domain per line.
    pub allowed_client_domains: String,
    pub blocked_client_domains: String,
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
    pub metadata_clients_off_message: String,
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
