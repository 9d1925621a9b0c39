//! sea-orm entities, one module per table of the `migration` crate.

pub mod assertion_replay;
pub mod audit_event;
pub mod authorization_code;
pub mod authorization_request;
pub mod connection;
pub mod consent;
pub mod email_link;
pub mod instance_key;
pub mod invitation;
pub mod mail_outbox;
pub mod mcp_upstream;
pub mod mcp_upstream_tool;
pub mod membership;
pub mod oauth_client;
pub mod org_client_block;
pub mod organization;
pub mod recovery_code;
pub mod session;
pub mod signing_key;
pub mod sso_connection;
pub mod sso_domain;
pub mod sso_identity;
pub mod sso_login;
pub mod token;
pub mod user;
pub mod user_totp;
