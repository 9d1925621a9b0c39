//! Data shapes shared by the server and the browser: what pages render and forms return,
//! one module per feature, all re-exported here.

mod account;
mod clients;
mod consent;
mod gateway;
mod members;
mod settings;
mod sso;
mod tokens;

pub use account::*;
pub use clients::*;
pub use consent::*;
pub use gateway::*;
pub use members::*;
pub use settings::*;
pub use sso::*;
pub use tokens::*;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A member's role in one organization, from least to most privileged. Stored in
/// `memberships.role` and `invitations.role`; an unknown stored value is an error, never a
/// guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text"))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "viewer"))]
    Viewer,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "restricted_querier"))]
    RestrictedQuerier,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "querier"))]
    Querier,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "admin"))]
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
    /// The signed-in account has not yet proved its address (the frame shows what to do).
    pub email_unverified: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgOverview {
    pub org: OrgView,
    pub member_count: u64,
    pub created_at: DateTime<Utc>,
    pub is_current: bool,
}

/// A one-time message shown on the next page: after a form post without JavaScript, or as
/// the result of an action. `copy` holds a value shown once with a copy button (e.g. a link).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    pub text: String,
    pub copy: Option<String>,
}
