//! An org's single sign-on connection as its admins see it (`/admin/sso`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{OrgView, Role};

/// The form's values, as typed (a refused form shows what was typed). The client secret is
/// never part of it: it is write-only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoForm {
    pub issuer: String,
    pub client_id: String,
    /// One domain per line.
    pub domains: String,
    /// A [`Role`] name.
    pub default_role: String,
    pub require_sso: bool,
    pub enabled: bool,
    pub assertion_grants: bool,
    /// One client ID per line; none: any client.
    pub assertion_clients: String,
    /// The longest access-token lifetime for an assertion, in minutes.
    pub assertion_ttl_mins: String,
    pub assertion_refresh: bool,
    pub assertion_create_members: bool,
}

/// Whether and how the org's identity provider grants MCP access with identity assertions
/// (ID-JAG, enterprise-managed authorization).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssertionPolicy {
    pub enabled: bool,
    /// The client IDs that may present assertions; empty: any client.
    pub clients: Vec<String>,
    /// The longest lifetime of an access token granted for an assertion.
    pub access_ttl_secs: i32,
    /// A refresh token comes with the access token (else the client asks the provider for a
    /// fresh assertion when it expires).
    pub refresh: bool,
    /// A person the provider vouches for who isn't a member yet becomes one, with the
    /// connection's first-time role (their address must be in its domains).
    pub create_members: bool,
}

impl Default for AssertionPolicy {
    fn default() -> Self {
        Self {
            enabled: false,
            clients: Vec::new(),
            access_ttl_secs: 3600,
            refresh: false,
            create_members: false,
        }
    }
}

/// The connection as saved: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoSaved {
    pub issuer: String,
    pub client_id: String,
    pub domains: Vec<String>,
    pub default_role: Role,
    pub require_sso: bool,
    pub enabled: bool,
    pub assertions: AssertionPolicy,
    pub updated_at: DateTime<Utc>,
}

/// Everything `/admin/sso` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoSettingsView {
    pub org: OrgView,
    pub form: SsoForm,
    /// `None` while the org has no connection.
    pub saved: Option<SsoSaved>,
    /// The redirect URI to register at the provider.
    pub redirect_uri: String,
    /// Where members start signing in through the provider.
    pub sign_in_url: String,
    /// The domain of the admin's own address: the domains they may name.
    pub own_domain: String,
    /// What the provider's identity assertions must name: this server's issuer (`aud`) and
    /// the org's MCP endpoint (`resource`).
    pub assertion_audience: String,
    pub assertion_resource: String,
}
