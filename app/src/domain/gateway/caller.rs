//! Who is calling, as an upstream learns it: a short-lived JWT signed with Gatehouse's own key
//! ([`signing_keys`](crate::domain::signing_keys), published at `/.well-known/jwks.json`),
//! sent as `Authorization: Bearer`, so the upstream checks it offline with any JOSE library
//! (issuer, audience = its own URL, expiry). The client's own token is never forwarded.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::domain::Services;
use crate::domain::access::Principal;
use crate::domain::entities::mcp_upstream;
use crate::domain::signing_keys;
use crate::error::AppResult;

/// The header `typ` of a caller assertion.
pub const TYP: &str = "gatehouse-caller+jwt";
/// How long an assertion is good for: one call, with room for clock skew.
pub const TTL: Duration = Duration::minutes(5);

/// The claims for `p` calling `upstream`: the person (`sub` = their Gatehouse user id, email,
/// name), the org (`org_id`, `org` = its slug), their role in it *now*, the scopes their
/// credential was granted, and the client they came through, if any.
pub fn claims(s: &Services, p: &Principal, upstream: &mcp_upstream::Model) -> Value {
    let now = Utc::now();
    let org = p.org();
    let mut c = json!({
        "iss": s.settings.public_url,
        "aud": upstream.url,
        "sub": p.user_id().to_string(),
        "iat": now.timestamp(),
        "nbf": now.timestamp() - 30,
        "exp": (now + TTL).timestamp(),
        "jti": Uuid::new_v4().to_string(),
        "email": p.email(),
        "org_id": org.id.to_string(),
        "org": org.slug,
        "org_name": org.name,
        "role": p.role().as_str(),
        "scope": p.scopes().to_string(),
    });
    if let Some(name) = p.name() {
        c["name"] = json!(name);
    }
    if let Some(g) = p.grant() {
        c["client_id"] = json!(g.client.client_id);
    }
    c
}

/// The signed assertion for `p` calling `upstream`.
pub async fn assertion(
    s: &Services,
    p: &Principal,
    upstream: &mcp_upstream::Model,
) -> AppResult<String> {
    signing_keys::sign(s, TYP, &claims(s, p, upstream)).await
}

/// The assertion Gatehouse lists `upstream`'s tools with: nobody in particular is calling, so
/// it names no person and no role (`sub` is `gatehouse`, `purpose` says why).
pub async fn catalog_assertion(s: &Services, upstream: &mcp_upstream::Model) -> AppResult<String> {
    let now = Utc::now();
    let claims = json!({
        "iss": s.settings.public_url,
        "aud": upstream.url,
        "sub": "gatehouse",
        "iat": now.timestamp(),
        "nbf": now.timestamp() - 30,
        "exp": (now + TTL).timestamp(),
        "jti": Uuid::new_v4().to_string(),
        "org_id": upstream.org_id.to_string(),
        "purpose": "list_tools",
    });
    signing_keys::sign(s, TYP, &claims).await
}
