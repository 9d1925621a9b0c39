//! Single sign-on: an organization's members sign in through the org's own OpenID Connect
//! provider. [`connection`] holds what an admin sets up (the provider, Gatehouse's client
//! there, the email domains it covers, the first-time role, whether SSO is required, and
//! whether its identity assertions may grant MCP access); [`provider`] reaches the provider.

pub mod connection;
pub mod flow;
pub mod provider;
