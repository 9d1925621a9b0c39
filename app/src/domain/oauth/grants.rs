//! The token endpoint's grants (authorization_code, refresh_token), revocation (RFC 7009) and
//! introspection (RFC 7662). Every check reads the user's membership and the org's policy as
//! they are now.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use chrono::{Duration, Utc};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::clients::list;
use super::error::OAuthError;
use super::resource::McpResource;
use super::rotation_writer::{self, Rotation};
use super::scope::ScopeSet;
use super::token_format::SecretKind;
use super::tokens::{self, KIND_ACCESS, KIND_REFRESH, TokenSpec};
use crate::domain::audit::{self, AuditEntry};
use crate::domain::entities::{
    authorization_code, connection, oauth_client, org_client_block, organization, token,
};
use crate::domain::secrets::sha256_hex;
use crate::domain::{RequestMeta, Services, orgs};
use crate::model::Role;

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

/// The connection behind a grant, if it is still usable: not revoked or disabled, the user
/// still a member, the org still allowing MCP OAuth PATs and this client.
async fn live_connection(
    db: &impl ConnectionTrait,
    connection_id: Uuid,
) -> Result<(connection::Model, organization::Model, Role), OAuthError> {
    let key = connection_id.to_string();
    if let Some(live) = super::cache::LIVE_CONNECTIONS.get(&key) {
        return Ok((*live).clone());
    }
    let tag = super::cache::generation();
    let live = read_live_connection(db, connection_id).await?;
    super::cache::LIVE_CONNECTIONS.put(key, tag, std::sync::Arc::new(live.clone()));
    Ok(live)
}

async fn read_live_connection(
    db: &impl ConnectionTrait,
    connection_id: Uuid,
) -> Result<(connection::Model, organization::Model, Role), OAuthError> {
    let ended = |d: &str| OAuthError::invalid_grant(d.to_string());
    let conn = connection::Entity::find_by_id(connection_id)
        .one(db)
        .await?
        .ok_or_else(|| ended("This connection no longer exists."))?;
    if conn.revoked_at.is_some() {
        return Err(ended("This connection was revoked. Connect again."));
    }
    if conn.disabled_at.is_some() {
        return Err(ended("An admin disabled this connection."));
    }
    let org = orgs::find(db, conn.org_id)
        .await?
        .ok_or_else(|| ended("The organization no longer exists."))?;
    let role = orgs::role_in(db, org.id, conn.user_id)
        .await?
        .ok_or_else(|| ended("You are no longer a member of this organization."))?;
    if !org.mcp_oauth_pats_enabled {
        return Err(ended(
            "MCP OAuth PATs aren't enabled in this organization. Ask an admin to enable them.",
        ));
    }
    // An admin's "revoke for this org" blocks the client here (its connections were revoked
    // too; this also covers one made while the block was being written).
    let blocked = org_client_block::Entity::find()
        .filter(org_client_block::Column::OrgId.eq(org.id))
        .filter(org_client_block::Column::ClientId.eq(conn.client_id))
        .one(db)
        .await?;
    if blocked.is_some() {
        return Err(ended(
            "An admin of this organization has blocked this app. Ask them to allow it again.",
        ));
    }
    Ok((conn, org, role))
}

/// A new access token and, when the client may refresh, a refresh token of `family`: the
/// response and the rows to store (one multi-row insert).
fn prepare_pair(
    client: &oauth_client::Model,
    conn: &connection::Model,
    org: &organization::Model,
    family: Uuid,
    parent: Option<Uuid>,
) -> (TokenResponse, Vec<token::ActiveModel>) {
    let spec = TokenSpec {
        user_id: conn.user_id,
        org_id: org.id,
        client_id: Some(client.id),
        connection_id: Some(conn.id),
        family_id: Some(family),
        parent_id: parent,
        scope: &conn.scope,
        resource: Some(&conn.resource),
        name: None,
    };
    let access_ttl = Duration::seconds(org.access_token_ttl_secs.max(60));
    let (access, access_row) = tokens::prepare(SecretKind::AccessToken, Some(access_ttl), &spec);
    let mut rows = vec![access_row];
    let refresh = list(&client.grant_types)
        .iter()
        .any(|g| g == "refresh_token")
        .then(|| {
            let ttl = Duration::seconds(org.refresh_token_ttl_secs.max(300));
            let (secret, row) = tokens::prepare(SecretKind::RefreshToken, Some(ttl), &spec);
            rows.push(row);
            secret
        });
    let response = TokenResponse {
        access_token: access,
        token_type: "Bearer".into(),
        expires_in: access_ttl.num_seconds(),
        refresh_token: refresh,
        scope: conn.scope.clone(),
    };
    (response, rows)
}

/// Records use without turning every grant into a write of the same hot rows: `last_used_at`
/// moves at most once a minute (after the grant's transaction, not inside it).
async fn note_use(
    db: &impl ConnectionTrait,
    client: &oauth_client::Model,
    conn: &connection::Model,
) -> Result<(), sea_orm::DbErr> {
    let stale =
        |t: Option<chrono::DateTime<Utc>>| t.is_none_or(|t| Utc::now() - t > Duration::seconds(60));
    if stale(conn.last_used_at) {
        connection::Entity::update_many()
            .col_expr(
                connection::Column::LastUsedAt,
                sea_orm::sea_query::Expr::value(Utc::now()),
            )
            .filter(connection::Column::Id.eq(conn.id))
            .exec(db)
            .await?;
    }
    if stale(client.last_used_at) {
        oauth_client::Entity::update_many()
            .col_expr(
                oauth_client::Column::LastUsedAt,
                sea_orm::sea_query::Expr::value(Utc::now()),
            )
            .filter(oauth_client::Column::Id.eq(client.id))
            .exec(db)
            .await?;
    }
    Ok(())
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
    if let Some(r) = g.redirect_uri.as_deref().filter(|r| !r.is_empty())
        && r != code.redirect_uri
    {
        return Err(bad(
            "redirect_uri differs from the one in the authorization request.",
        ));
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

    let txn = s.db.begin().await?;
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
    let (conn, org, _) = live_connection(&txn, connection_id).await?;
    let (response, rows) = prepare_pair(client, &conn, &org, Uuid::now_v7(), None);
    token::Entity::insert_many(rows).exec(&txn).await?;
    audit::record(
        &txn,
        AuditEntry::new("oauth.token.issued")
            .org(org.id)
            .actor(conn.user_id)
            .target("connection", conn.id)
            .details(json!({ "client_id": client.client_id, "grant_type": "authorization_code", "scope": conn.scope })),
        meta,
    )
    .await?;
    txn.commit().await?;
    note_use(&s.db, client, &conn).await?;
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
    let bad = |d: &str| OAuthError::invalid_grant(d.to_string());
    let presented = g.refresh_token.trim();
    let old = tokens::find_by_secret(&s.db, presented)
        .await?
        .filter(|t| t.kind == KIND_REFRESH)
        .ok_or_else(|| bad("The refresh token is not valid."))?;
    if old.client_id != Some(client.id) {
        return Err(bad("The refresh token was issued to another client."));
    }
    if old.revoked_at.is_some() {
        return Err(bad("The refresh token was revoked. Authorize again."));
    }
    if tokens::is_expired(&old, Utc::now()) {
        return Err(bad("The refresh token expired. Authorize again."));
    }
    let bound = old.resource.clone().unwrap_or_default();
    check_resource(s, &g.resource, &bound)?;
    if let Some(requested) = g.scope.as_deref().filter(|sc| !sc.trim().is_empty())
        && !ScopeSet::parse_known(requested).is_subset(&ScopeSet::parse_known(&old.scope))
    {
        return Err(OAuthError::invalid_scope(
            "A refresh can't add scopes; authorize again to get more.",
        ));
    }
    if let Some(rotated) = old.rotated_at {
        return replay_or_reuse(s, client, &old, rotated, presented, meta).await;
    }
    let connection_id = old
        .connection_id
        .ok_or_else(|| bad("The refresh token is not valid."))?;
    let family = old.family_id.unwrap_or_else(Uuid::now_v7);

    // Read the grant's state before the transaction: it stays short (on SQLite it holds the
    // database's write lock), and every later use of the new tokens re-reads the connection,
    // so a revocation landing in between still takes effect.
    let (conn, org, _) = live_connection(&s.db, connection_id).await?;
    let (response, rows) = prepare_pair(client, &conn, &org, family, Some(old.id));

    let audit_row = audit::row(
        AuditEntry::new("oauth.token.refreshed")
            .org(org.id)
            .actor(conn.user_id)
            .target("connection", conn.id)
            .details(json!({ "client_id": client.client_id })),
        meta,
    );
    let grace = seal(presented, &response);
    super::cache::forget_token(&old.token_hash);
    let rotation = Rotation {
        old_id: old.id,
        grace_response: grace,
        new_tokens: rows,
        audit: audit_row,
    };
    let claimed = match s.rotations() {
        // Committed together with the other waiting rotations (group commit).
        Some(writer) => writer.rotate(rotation).await?,
        None => rotation_writer::rotate_alone(&s.db, &rotation).await?,
    };
    if !claimed {
        // Another request rotated it first: the grace replay or reuse path.
        let current = token::Entity::find_by_id(old.id)
            .one(&s.db)
            .await?
            .ok_or_else(|| bad("The refresh token is not valid."))?;
        let at = current.rotated_at.unwrap_or_else(Utc::now);
        return replay_or_reuse(s, client, &current, at, presented, meta).await;
    }
    // Also after the commit: an introspection racing the rotation may have cached the old state.
    super::cache::forget_token(&old.token_hash);
    note_use(&s.db, client, &conn).await?;
    Ok(response)
}

/// An already-rotated refresh token came back. Within the grace period that is a client
/// retrying a refresh whose answer it lost (MCP clients race their refreshes): it gets the same
/// pair again. After it, it is reuse, a sign of theft: the whole family is revoked.
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
            return Ok(replay);
        }
    }
    if let Some(family) = old.family_id {
        tokens::revoke_family(&s.db, family, "refresh_token_reuse").await?;
    }
    if let Some(conn) = old.connection_id {
        tokens::revoke_connection(&s.db, conn, None, "refresh_token_reuse").await?;
    }
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
/// answered the same (success), so nothing is revealed.
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
    if t.kind == KIND_REFRESH
        && let Some(family) = t.family_id
    {
        // A refresh token's grant goes with it: its access tokens too (RFC 7009 §2.1).
        tokens::revoke_family(&s.db, family, "revoked_by_client").await?;
    } else {
        let mut active: token::ActiveModel = t.clone().into();
        active.revoked_at = Set(Some(Utc::now()));
        active.revoke_reason = Set(Some("revoked_by_client".into()));
        active.update(&s.db).await?;
        super::cache::forget_token(&t.token_hash);
    }
    audit::record(
        &s.db,
        AuditEntry::new("oauth.token.revoked")
            .org(t.org_id)
            .actor(t.user_id)
            .target("token", t.id)
            .details(json!({ "client_id": client.client_id, "kind": t.kind })),
        meta,
    )
    .await?;
    Ok(())
}

/// RFC 7662 for confidential clients (resource servers): the token's state as it is now,
/// including the member's current role. Inactive tokens reveal nothing but `active: false`.
pub async fn introspect(
    s: &Services,
    caller: &oauth_client::Model,
    secret: &str,
) -> Result<Value, OAuthError> {
    if caller.token_endpoint_auth_method == super::clients::AUTH_NONE {
        return Err(OAuthError::invalid_client(
            "Introspection is for confidential clients (resource servers).",
        ));
    }
    let secret = secret.trim();
    if super::token_format::parse(secret).is_none() {
        return Ok(json!({ "active": false }));
    }
    let key = sha256_hex(secret);
    if let Some(cached) = super::cache::TOKEN_STATES.get(&key) {
        // A cached answer still expires with its token.
        let expired = cached
            .get("exp")
            .and_then(Value::as_i64)
            .is_some_and(|exp| exp <= Utc::now().timestamp());
        return Ok(if expired {
            json!({ "active": false })
        } else {
            (*cached).clone()
        });
    }
    let tag = super::cache::generation();
    let state = introspect_now(s, secret).await?;
    super::cache::TOKEN_STATES.put(key, tag, std::sync::Arc::new(state.clone()));
    Ok(state)
}

/// The token's state read from the database.
async fn introspect_now(s: &Services, secret: &str) -> Result<Value, OAuthError> {
    let inactive = json!({ "active": false });
    let Some(t) = tokens::find_by_secret(&s.db, secret.trim()).await? else {
        return Ok(inactive);
    };
    let now = Utc::now();
    if t.revoked_at.is_some()
        || t.disabled_at.is_some()
        || tokens::is_expired(&t, now)
        || t.rotated_at.is_some()
    {
        return Ok(inactive);
    }
    if let Some(conn_id) = t.connection_id {
        match connection::Entity::find_by_id(conn_id).one(&s.db).await? {
            Some(c) if c.revoked_at.is_none() && c.disabled_at.is_none() => {}
            _ => return Ok(inactive),
        }
    }
    let Some(org) = orgs::find(&s.db, t.org_id).await? else {
        return Ok(inactive);
    };
    let Some(role) = orgs::role_in(&s.db, org.id, t.user_id).await? else {
        return Ok(inactive);
    };
    let client_id = match t.client_id {
        Some(id) => oauth_client::Entity::find_by_id(id)
            .one(&s.db)
            .await?
            .map(|c| c.client_id),
        None => None,
    };
    let user = crate::domain::users::find(&s.db, t.user_id).await?;
    let mut out = json!({
        "active": true,
        "scope": t.scope,
        "sub": t.user_id.to_string(),
        "iss": s.settings.public_url,
        "iat": t.created_at.timestamp(),
        "jti": t.id.to_string(),
        "token_type": if t.kind == KIND_ACCESS { "Bearer" } else { "refresh_token" },
        "org_id": org.id.to_string(),
        "org": org.slug,
        "role": role.as_str(),
    });
    let o = out.as_object_mut().expect("object");
    if let Some(cid) = client_id {
        o.insert("client_id".into(), json!(cid));
    }
    if let Some(exp) = t.expires_at {
        o.insert("exp".into(), json!(exp.timestamp()));
    }
    if let Some(aud) = &t.resource {
        o.insert("aud".into(), json!(aud));
    }
    if let Some(u) = user {
        o.insert("username".into(), json!(u.email));
    }
    Ok(out)
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
