//! The one access decision. Every door asks it: the MCP endpoints, the REST API, the refresh
//! grant, introspection, the consent screen and the server functions. A credential (an access
//! token, a refresh token, a standard PAT, or a browser session) and a purpose give either a
//! live principal or a [`Denial`]; the door only chooses how to say no on its wire.
//!
//! - [`Access::check`]: a bearer secret for a [`Purpose`] (MCP call, REST call,
//!   introspection answer);
//! - [`Access::principal_of`] + [`Access::decide`]: the refresh grant, on the row it has just
//!   read; [`Access::grant_holder`] + [`decide_grant`]: the code exchange;
//! - [`Access::session_user`]: whose browser session this is, if it may still be used;
//! - [`member`], [`Access::consent`], [`create_pat`], [`capability`]: whether a signed-in
//!   member may work in an org at all (its two-factor policy), and what they may do there.
//!
//! The decision reads the database only through entities, so every other domain module may
//! depend on it and it depends on none of them.

pub mod cache;
mod decide;
mod denial;
pub mod gateway_catalog;
mod lookup;
mod principal;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

pub use cache::{AuthCaches, Invalidation, Invalidations};
pub use decide::{
    Purpose, capability, consent as decide_consent, create_pat, decide, decide_grant, member,
};
pub use denial::{Denial, DenialKind};
pub use lookup::client_blocked;
pub use principal::{ClientFacts, GrantFacts, Holder, Principal, TokenFacts, UserFacts};

/// The decision's view of one process: the database, that process's caches, and the issuer
/// base MCP resources are named under. `Services::access()` hands it out.
#[derive(Clone, Copy)]
pub struct Access<'a> {
    pub db: &'a DatabaseConnection,
    pub caches: &'a AuthCaches,
    pub public_url: &'a str,
}

impl Access<'_> {
    /// The decision for a bearer secret presented for `purpose`, now.
    pub async fn check(
        &self,
        secret: &str,
        purpose: Purpose<'_>,
    ) -> crate::error::AppResult<Result<std::sync::Arc<Principal>, Denial>> {
        let answer = self.lookup(secret).await?.and_then(|p| {
            decide(&p, purpose, self.public_url, Utc::now())?;
            Ok(p)
        });
        if let Err(denial) = &answer {
            count_denial(denial);
        }
        Ok(answer)
    }

    /// The decision for `p` (a principal read by [`Access::principal_of`]) now.
    pub fn decide(&self, p: &Principal, purpose: Purpose<'_>) -> Result<(), Denial> {
        decide(p, purpose, self.public_url, Utc::now()).inspect_err(count_denial)
    }
}

/// Refusals by reason, for operators (`gatehouse_denials_total`).
fn count_denial(denial: &Denial) {
    metrics::counter!("gatehouse_denials_total", "reason" => denial.code()).increment(1);
}

/// When a browser session signed in, as the session records it.
pub type SignedInAt = Option<DateTime<Utc>>;
