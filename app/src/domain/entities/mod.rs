//! sea-orm entities, one module per table of the `migration` crate.

pub mod audit_event;
pub mod authorization_code;
pub mod authorization_request;
pub mod connection;
pub mod consent;
pub mod invitation;
pub mod membership;
pub mod oauth_client;
pub mod org_client_block;
pub mod organization;
pub mod session;
pub mod token;
pub mod user;
