//! Single sign-on: an organization's members sign in through the org's own OpenID Connect
//! provider. [`connection`] holds what an admin sets up (the provider, Gatehouse's client
//! there, the email domains it covers, the first-time role, whether SSO is required).

pub mod connection;
pub mod flow;
