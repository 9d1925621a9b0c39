//! The token endpoint's grants (authorization_code, refresh_token), revocation (RFC 7009) and
//! introspection (RFC 7662). Every check reads the user's membership and the org's policy as
//! they are now.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use chrono::{Duration, Utc};
use rand::RngCore;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use super::clients::JWT_BEARER;
use super::clients::list;
use super::error::OAuthError;
use super::resource::McpResource;
use super::rotation_writer::{self, Rotation};
use super::scope::ScopeSet;
use super::token_format::SecretKind;
use super::tokens::{self, TokenSpec};
use crate::domain::access::{self, Denial, Invalidation, Principal, Purpose};
use crate::domain::audit::{self, AuditEntry};
use crate::domain::entities::token::TokenKind;
use crate::domain::entities::{authorization_code, connection, oauth_client, organization, token};
use crate::domain::secrets::sha256_hex;
use crate::domain::write_txn::BeginWrite;
use crate::domain::{RequestMeta, Services};
use crate::model::ClientKind;

/// The grant types the token endpoint takes (RFC 6749 §4.1.3, §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    /// RFC 7523 with an identity assertion (ID-JAG) from an org's identity provider.
    JwtBearer,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::JwtBearer => JWT_BEARER,
        }
    }

    /// `grant_type` as sent; anything else is `unsupported_grant_type`.
    pub fn parse(raw: &str) -> Result<Self, OAuthError> {
        match raw {
            "authorization_code" => Ok(GrantType::AuthorizationCode),
            "refresh_token" => Ok(GrantType::RefreshToken),
            JWT_BEARER => Ok(GrantType::JwtBearer),
            other => Err(OAuthError::unsupported_grant_type(format!(
                "grant_type {other:?} is not supported; use authorization_code, refresh_token or {JWT_BEARER}."
            ))),
        }
    }

    /// Whether `client` registered this grant type. An app made in the console registered
    /// none by choice, so a confidential one may also present identity assertions (whether it
    /// gets anything for them is the org's policy).
    pub fn check_registered(self, client: &oauth_client::Model) -> Result<(), OAuthError> {
        let console_app = matches!(client.kind, ClientKind::Admin | ClientKind::User)
            && client.token_endpoint_auth_method != super::clients::AUTH_NONE;
        if list(&client.grant_types).iter().any(|g| g == self.as_str())
            || (self == GrantType::JwtBearer && console_app)
        {
            Ok(())
        } else {
            Err(OAuthError::unauthorized_client(format!(
                "This client did not register the {} grant.",
                self.as_str()
            )))
        }
    }
}

/// A refusal of the access decision at the token endpoint: the grant is no longer good.
fn refused(d: Denial) -> OAuthError {
    OAuthError::invalid_grant(d.to_string())
}

/// RFC 6749 §5.1 success body. Optional members are omitted, never null.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The resource a token request names must be the one the grant is bound to.
fn check_resource(s: &Services, requested: &[String], bound: &str) -> Result<(), OAuthError> {
    for r in requested.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
        match McpResource::parse(r, &s.settings.public_url) {
            Some(res) if res.url(&s.settings.public_url) == bound => {}
            _ => {
                return Err(OAuthError::invalid_target(format!(
                    "This grant is for {bound}; it can't be used for {r}."
                )));
            }
        }
    }
    Ok(())
}

/// A new access token and, when the client may refresh, a refresh token of `family`: the
/// response and the rows to store (one multi-row insert). The access token carries
/// `access_scope` (a refresh may narrow it); a refresh token always carries the grant's whole
/// `refresh_scope` (RFC 6749 §6).
pub(super) struct Pair<'a> {
    pub(super) client: &'a oauth_client::Model,
    pub(super) user_id: Uuid,
    pub(super) org_id: Uuid,
    pub(super) access_ttl: Duration,
    /// A refresh token comes with the access token (with the org's refresh lifetime).
    pub(super) refresh_ttl: Option<Duration>,
    pub(super) connection_id: Uuid,
    pub(super) family: Uuid,
    pub(super) parent: Option<Uuid>,
    pub(super) access_scope: &'a str,
    pub(super) refresh_scope: &'a str,
    pub(super) resource: &'a str,
}

impl Pair<'_> {
    /// The lifetimes the org sets for `client`'s tokens: a refresh token only for a client
    /// that registered the refresh grant.
    fn lifetimes(
        org: &organization::Model,
        client: &oauth_client::Model,
    ) -> (Duration, Option<Duration>) {
        let refresh = GrantType::RefreshToken
            .check_registered(client)
            .is_ok()
            .then(|| Duration::seconds(org.refresh_token_ttl_secs.max(300)));
        (
            Duration::seconds(org.access_token_ttl_secs.max(60)),
            refresh,
        )
    }
}

pub(super) fn prepare_pair(p: Pair<'_>) -> (TokenResponse, Vec<token::ActiveModel>) {
    let spec = |scope| TokenSpec {
        user_id: p.user_id,
        org_id: p.org_id,
        client_id: Some(p.client.id),
        connection_id: Some(p.connection_id),
        family_id: Some(p.family),
        parent_id: p.parent,
        scope,
        resource: Some(p.resource),
        name: None,
    };
    let access_ttl = p.access_ttl;
    let (access, access_row) = tokens::prepare(
        SecretKind::AccessToken,
        Some(access_ttl),
        &spec(p.access_scope),
    );
    let mut rows = vec![access_row];
    let refresh = p.refresh_ttl.map(|ttl| {
        let (secret, row) =
            tokens::prepare(SecretKind::RefreshToken, Some(ttl), &spec(p.refresh_scope));
        rows.push(row);
        secret
    });
    let response = TokenResponse {
        access_token: access,
        token_type: "Bearer".into(),
        expires_in: access_ttl.num_seconds(),
        refresh_token: refresh,
        scope: p.access_scope.to_string(),
    };
    (response, rows)
}

/// Records use without turning every grant into a write of the same hot rows: a connection's
/// and its client's `last_used_at` move at most once a minute, off the request path.
pub(super) fn note_use(s: &Services, client_row: Uuid, connection_id: Uuid) {
    if !s.caches.first_touch(connection_id) {
        return;
    }
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let db = s.db.clone();
    rt.spawn(async move {
        let now = sea_orm::sea_query::Expr::value(Utc::now());
        let res = connection::Entity::update_many()
            .col_expr(connection::Column::LastUsedAt, now.clone())
            .filter(connection::Column::Id.eq(connection_id))
            .exec(&db)
            .await;
        let res = match res {
            Ok(_) => oauth_client::Entity::update_many()
                .col_expr(oauth_client::Column::LastUsedAt, now)
                .filter(oauth_client::Column::Id.eq(client_row))
                .exec(&db)
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = res {
            tracing::warn!(error = %e, "could not record a grant's use");
        }
    });
}

pub struct CodeGrant {
    pub code: String,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub resource: Vec<String>,
}

pub async fn exchange_code(
    s: &Services,
    client: &oauth_client::Model,
    g: CodeGrant,
    meta: &RequestMeta,
) -> Result<TokenResponse, OAuthError> {
    let bad = |d: &str| OAuthError::invalid_grant(d.to_string());
    let code = authorization_code::Entity::find()
        .filter(authorization_code::Column::CodeHash.eq(sha256_hex(g.code.trim())))
        .one(&s.db)
        .await?
        .ok_or_else(|| bad("The authorization code is not valid."))?;
    // Checks that fail here change nothing: a replay with wrong parameters revokes nothing.
    if code.client_id != client.id {
        return Err(bad("The authorization code was issued to another client."));
    }
    match g.redirect_uri.as_deref().filter(|r| !r.is_empty()) {
        Some(r) if r != code.redirect_uri => {
            return Err(bad(
                "redirect_uri differs from the one in the authorization request.",
            ));
        }
        None if code.redirect_uri_required => {
            return Err(OAuthError::invalid_request(
                "redirect_uri is required: the authorization request named one, so the token request must repeat it.",
            ));
        }
        _ => {}
    }
    match (
        &code.code_challenge,
        g.code_verifier.as_deref().filter(|v| !v.is_empty()),
    ) {
        (Some(challenge), Some(v)) if valid_verifier(v) && &s256(v) == challenge => {}
        (Some(_), Some(_)) => {
            return Err(bad("The code_verifier does not match the code_challenge."));
        }
        (Some(_), None) => {
            return Err(OAuthError::invalid_request(
                "code_verifier is required (PKCE).",
            ));
        }
        (None, Some(_)) => {
            return Err(bad(
                "This code was issued without PKCE; a code_verifier can't be used with it.",
            ));
        }
        (None, None) => {}
    }
    check_resource(s, &g.resource, &code.resource)?;
    if code.expires_at <= Utc::now() && code.used_at.is_none() {
        return Err(bad(
            "The authorization code expired. Start the authorization again.",
        ));
    }
    let connection_id = code
        .connection_id
        .ok_or_else(|| bad("The authorization code is not valid."))?;

    let txn = s.db.begin_write().await?;
    // Single use, atomically: of two concurrent redemptions exactly one updates the row.
    let consumed = authorization_code::Entity::update_many()
        .col_expr(
            authorization_code::Column::UsedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(authorization_code::Column::Id.eq(code.id))
        .filter(authorization_code::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if consumed.rows_affected != 1 {
        txn.rollback().await?;
        // A valid code presented twice: someone else may hold it. End everything it gave.
        tokens::revoke_connection(&s.db, connection_id, None, "authorization_code_replay").await?;
        s.invalidate(Invalidation::All);
        audit::record(
            &s.db,
            AuditEntry::new("oauth.code.replayed")
                .org(code.org_id)
                .actor(code.user_id)
                .target("connection", connection_id)
                .details(json!({ "client_id": client.client_id })),
            meta,
        )
        .await?;
        return Err(bad(
            "The authorization code was already used; everything issued from it is now revoked.",
        ));
    }
    // The grant as it is now: the consent may have been given two minutes ago.
    let holder = s
        .access()
        .grant_holder(connection_id, code.user_id, code.org_id)
        .await?
        .map_err(refused)?;
    access::decide_grant(&holder, client).map_err(refused)?;
    let (access_ttl, refresh_ttl) = Pair::lifetimes(&holder.org, client);
    let (response, rows) = prepare_pair(Pair {
        client,
        user_id: holder.user.id,
        org_id: holder.org.id,
        access_ttl,
        refresh_ttl,
        connection_id,
        family: Uuid::now_v7(),
        parent: None,
        access_scope: &code.scope,
        refresh_scope: &code.scope,
        resource: &code.resource,
    });
    token::Entity::insert_many(rows).exec(&txn).await?;
    audit::record(
        &txn,
        AuditEntry::new("oauth.token.issued")
            .org(code.org_id)
            .actor(code.user_id)
            .target("connection", connection_id)
            .details(json!({ "client_id": client.client_id, "grant_type": "authorization_code", "scope": code.scope })),
        meta,
    )
    .await?;
    txn.commit().await?;
    metrics::counter!("gatehouse_grants_total", "grant_type" => "authorization_code").increment(1);
    note_use(s, client.id, connection_id);
    Ok(response)
}

/// The grace replay is sealed with a key only the holder of the old refresh token can derive.
fn grace_cipher(old_refresh: &str) -> ChaCha20Poly1305 {
    let mut h = Sha256::new();
    h.update(b"gatehouse refresh grace v1\0");
    h.update(old_refresh.as_bytes());
    ChaCha20Poly1305::new(Key::from_slice(&h.finalize()))
}

fn seal(old_refresh: &str, response: &TokenResponse) -> Option<String> {
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let plain = serde_json::to_vec(response).ok()?;
    let sealed = grace_cipher(old_refresh)
        .encrypt(Nonce::from_slice(&nonce), plain.as_slice())
        .ok()?;
    Some(STANDARD.encode([nonce.as_slice(), sealed.as_slice()].concat()))
}

fn open(old_refresh: &str, stored: &str) -> Option<TokenResponse> {
    let bytes = STANDARD.decode(stored).ok()?;
    if bytes.len() < 12 {
        return None;
    }
    let (nonce, sealed) = bytes.split_at(12);
    let plain = grace_cipher(old_refresh)
        .decrypt(Nonce::from_slice(nonce), sealed)
        .ok()?;
    serde_json::from_slice(&plain).ok()
}

pub struct RefreshGrant {
    pub refresh_token: String,
    pub resource: Vec<String>,
    pub scope: Option<String>,
}

pub async fn refresh(
    s: &Services,
    client: &oauth_client::Model,
    g: RefreshGrant,
    meta: &RequestMeta,
) -> Result<TokenResponse, OAuthError> {
    let presented = g.refresh_token.trim();
    let old = tokens::find_by_secret(&s.db, presented)
        .await?
        .ok_or_else(|| refused(Denial::UnknownToken))?;
    let p = s.access().principal_of(&old).await?.map_err(refused)?;
    let decision = s.access().decide(&p, Purpose::Refresh { client });
    match decision {
        // Exchanged before: a retry within the grace period, or reuse.
        Err(Denial::TokenRotated) => {
            let at = old.rotated_at.unwrap_or_else(Utc::now);
            return replay_or_reuse(s, client, &old, at, presented, meta).await;
        }
        Err(d) => return Err(refused(d)),
        Ok(()) => {}
    }
    let bound = old.resource.clone().unwrap_or_default();
    check_resource(s, &g.resource, &bound)?;
    let access_scope = narrowed_scope(&p, g.scope.as_deref())?;
    let grant = p.grant().ok_or_else(|| refused(Denial::ConnectionGone))?;
    let family = old.family_id.unwrap_or_else(Uuid::now_v7);
    let (access_ttl, refresh_ttl) = Pair::lifetimes(p.org(), client);
    let (response, rows) = prepare_pair(Pair {
        client,
        user_id: p.user_id(),
        org_id: p.org().id,
        access_ttl,
        refresh_ttl,
        connection_id: grant.connection_id,
        family,
        parent: Some(old.id),
        access_scope: &access_scope.to_string(),
        refresh_scope: &old.scope,
        resource: &bound,
    });
    let audit_row = audit::row(
        AuditEntry::new("oauth.token.refreshed")
            .org(p.org().id)
            .actor(p.user_id())
            .target("connection", grant.connection_id)
            .details(json!({ "client_id": client.client_id, "scope": response.scope })),
        meta,
    );
    let rotation = Rotation {
        old_id: old.id,
        grace_response: seal(presented, &response),
        new_tokens: rows,
        audit: audit_row,
    };
    // The claim itself checks that the token is neither rotated nor revoked: a revocation
    // committed since the read above wins.
    let claimed = match s.rotations() {
        // Committed together with the other waiting rotations (group commit).
        Some(writer) => writer.rotate(rotation).await?,
        None => rotation_writer::rotate_alone(&s.db, &rotation).await?,
    };
    // After the commit: nothing may keep the old token's cached state.
    s.invalidate(Invalidation::Token(old.token_hash.clone()));
    if !claimed {
        // Another request rotated it first, or it was revoked meanwhile.
        let current = token::Entity::find_by_id(old.id)
            .one(&s.db)
            .await?
            .ok_or_else(|| refused(Denial::UnknownToken))?;
        if current.revoked_at.is_some() {
            return Err(refused(Denial::TokenRevoked));
        }
        let at = current.rotated_at.unwrap_or_else(Utc::now);
        return replay_or_reuse(s, client, &current, at, presented, meta).await;
    }
    metrics::counter!("gatehouse_grants_total", "grant_type" => "refresh_token").increment(1);
    note_use(s, client.id, grant.connection_id);
    Ok(response)
}

/// The scope a refresh asks for: none means the grant's; otherwise it may only narrow it, and
/// must leave something.
fn narrowed_scope(p: &Principal, requested: Option<&str>) -> Result<ScopeSet, OAuthError> {
    let granted = p.scopes();
    let Some(raw) = requested.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(granted.clone());
    };
    let asked = ScopeSet::parse_known(raw);
    if asked.is_empty() {
        return Err(OAuthError::invalid_scope(format!(
            "None of the requested scopes was granted; this grant has {granted}."
        )));
    }
    if !asked.is_subset(granted) {
        return Err(OAuthError::invalid_scope(
            "A refresh can't add scopes; authorize again to get more.",
        ));
    }
    Ok(asked)
}

/// An already-rotated refresh token came back. Within the grace period that is a client
/// retrying a refresh whose answer it lost (MCP clients race their refreshes): it gets the same
/// pair again. After it, it is reuse, a sign of theft: the connection and everything it gave
/// are revoked.
async fn replay_or_reuse(
    s: &Services,
    client: &oauth_client::Model,
    old: &token::Model,
    rotated_at: chrono::DateTime<Utc>,
    presented: &str,
    meta: &RequestMeta,
) -> Result<TokenResponse, OAuthError> {
    if Utc::now() - rotated_at <= s.settings.oauth.refresh_grace
        && let Some(replay) = old
            .grace_response
            .as_deref()
            .and_then(|sealed| open(presented, sealed))
    {
        // Only if the pair it points to is still alive (not revoked since).
        let still_live = match &replay.refresh_token {
            Some(rt) => tokens::find_by_secret(&s.db, rt)
                .await?
                .is_some_and(|t| t.revoked_at.is_none()),
            None => true,
        };
        if still_live {
            metrics::counter!("gatehouse_refresh_reuse_total", "outcome" => "grace_replay")
                .increment(1);
            return Ok(replay);
        }
    }
    // A family never leaves its connection: ending the connection revokes the whole family.
    match (old.connection_id, old.family_id) {
        (Some(conn), _) => {
            tokens::revoke_connection(&s.db, conn, None, "refresh_token_reuse").await?
        }
        (None, Some(family)) => {
            tokens::revoke_family(&s.db, family, "refresh_token_reuse").await?;
        }
        (None, None) => {
            tokens::revoke_one(&s.db, old.id, "refresh_token_reuse").await?;
        }
    }
    s.invalidate(Invalidation::All);
    metrics::counter!("gatehouse_refresh_reuse_total", "outcome" => "family_revoked").increment(1);
    audit::record(
        &s.db,
        AuditEntry::new("oauth.refresh_token.reused")
            .org(old.org_id)
            .actor(old.user_id)
            .target("token", old.id)
            .details(json!({ "client_id": client.client_id, "connection_id": old.connection_id })),
        meta,
    )
    .await?;
    Err(OAuthError::invalid_grant(
        "This refresh token was already used. For your safety the connection is revoked; authorize again.",
    ))
}

/// RFC 7009: revokes a token of this client. Unknown tokens and other clients' tokens are
/// answered the same (success), so nothing is revealed. A refresh token takes its whole grant
/// with it (RFC 7009 §2.1): the connection and every token it gave.
pub async fn revoke(
    s: &Services,
    client: &oauth_client::Model,
    secret: &str,
    meta: &RequestMeta,
) -> Result<(), OAuthError> {
    let Some(t) = tokens::find_by_secret(&s.db, secret.trim()).await? else {
        return Ok(());
    };
    if t.client_id != Some(client.id) || t.revoked_at.is_some() {
        return Ok(());
    }
    match (t.kind, t.connection_id) {
        (TokenKind::Refresh, Some(connection_id)) => {
            tokens::revoke_connection(&s.db, connection_id, None, "revoked_by_client").await?;
            s.invalidate(Invalidation::All);
        }
        _ => {
            tokens::revoke_one(&s.db, t.id, "revoked_by_client").await?;
            s.invalidate(Invalidation::Token(t.token_hash.clone()));
        }
    }
    audit::record(
        &s.db,
        AuditEntry::new("oauth.token.revoked")
            .org(t.org_id)
            .actor(t.user_id)
            .target("token", t.id)
            .details(json!({ "client_id": client.client_id, "kind": t.kind.as_str() })),
        meta,
    )
    .await?;
    Ok(())
}

/// RFC 7662 for confidential clients: the token's state as it is now, through the access
/// decision (its own client, or a resource server of its org; a token its org's policy, an
/// admin or its holder has stopped is inactive). `None`: answer only `active: false`.
pub async fn introspect(
    s: &Services,
    caller: &oauth_client::Model,
    secret: &str,
) -> Result<Option<Arc<Principal>>, OAuthError> {
    if caller.token_endpoint_auth_method == super::clients::AUTH_NONE {
        return Err(OAuthError::invalid_client(
            "Introspection is for confidential clients (resource servers).",
        ));
    }
    Ok(s.access()
        .check(secret.trim(), Purpose::Introspection { caller })
        .await?
        .ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_is_unpadded_base64url_of_sha256() {
        // Vector computed independently (Python: urlsafe_b64encode(sha256(v)).rstrip("=")).
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU2p1r2ZaW7DKmjR1sM"),
            "lgXkWnGQWjUG9Q0QMRP6BdM9wrfjERoEo67MO1a6lAc"
        );
    }

    #[test]
    fn grace_replay_opens_only_with_the_old_token() {
        let r = TokenResponse {
            access_token: "a".into(),
            token_type: "Bearer".into(),
            expires_in: 3600,
            refresh_token: Some("r".into()),
            scope: "mcp:read".into(),
        };
        let sealed = seal("gate_rt_old", &r).unwrap();
        assert_eq!(open("gate_rt_old", &sealed), Some(r));
        assert_eq!(open("gate_rt_other", &sealed), None);
    }
}
