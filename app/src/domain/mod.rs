//! The domain: everything that knows what a user, an organization or a membership is.
//! Server functions and the server's HTTP edge call into this; nothing here parses HTTP.

pub mod access;
pub mod audit;
pub mod audit_log;
pub mod audit_writer;
pub mod connections;
pub mod email_links;
pub mod entities;
pub mod gateway;
pub mod invitations;
pub mod mail;
pub mod mailer;
pub mod mcp;
pub mod members;
pub mod oauth;
pub mod oauth_apps;
pub mod org_admin;
pub mod org_policy;
pub mod orgs;
pub mod password_reset;
pub mod passwords;
pub mod pats;
pub mod sealing;
pub mod secrets;
pub mod services;
pub mod signing_key_cache;
pub mod signing_keys;
pub mod sso;
pub mod sso_policy;
pub mod sso_providers;
pub mod throttle;
pub mod two_factor;
pub mod upstream_client;
pub mod upstream_hosts;
pub mod users;
pub mod validate;
pub mod verification;
pub mod wal_checkpoints;
pub mod write_txn;

pub use services::{GatewaySettings, OAuthSettings, Services, Settings};

/// Who made a request and from where; recorded with audit events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl RequestMeta {
    /// What is known of a request that carried only its client address.
    pub fn from_ip(ip: Option<String>) -> Self {
        Self {
            ip,
            user_agent: None,
        }
    }
}

/// True when a database error is a unique-constraint violation (a lost race on an insert).
pub(crate) fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
