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
}
