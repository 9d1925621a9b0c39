//! Gatehouse's HTTP edge and command line. It parses, authenticates and calls `app`'s domain.

pub mod api;
pub mod assets;
pub mod bench;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod health;
pub mod instance_key;
pub mod login;
pub mod mcp;
pub mod metrics_endpoint;
pub mod middleware;
pub mod oauth;
pub mod plain_page;
pub mod router;
pub mod session_store;
pub mod sso;
pub mod state;
pub mod telemetry;
