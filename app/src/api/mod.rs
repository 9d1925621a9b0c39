//! Server functions: the app's own HTTP API for its pages and forms. Each one is thin: it
//! checks the CSRF proof and the caller, then calls the domain.

pub mod account;
pub mod admin_audit;
pub mod admin_clients;
pub mod admin_mcp_servers;
pub mod admin_settings;
pub mod admin_sso;
pub mod admin_tokens;
pub mod connected_apps;
pub mod consent;
pub mod email;
pub mod invitations;
pub mod members;
pub mod oauth_apps;
pub mod orgs;
pub mod password_reset;
pub mod pats;
pub mod session;

#[cfg(feature = "ssr")]
pub(crate) mod ctx;
