//! Issuing, finding and revoking tokens. Secrets are shown once; rows keep their SHA-256.
//!
//! The revocations here are plain statements, so they can run inside a caller's transaction;
//! the caller publishes the invalidation once its transaction has committed.

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::token_format::{self, SecretKind};
use crate::domain::entities::token::TokenKind;
use crate::domain::entities::{connection, consent, token};
use crate::domain::secrets::sha256_hex;

/// What a new token row belongs to.
pub struct TokenSpec<'a> {
    pub user_id: Uuid,
    pub org_id: Uuid,
    pub client_id: Option<Uuid>,
    pub connection_id: Option<Uuid>,
    pub family_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub scope: &'a str,
    pub resource: Option<&'a str>,
    pub name: Option<String>,
}

/// Creates a token of `kind` valid for `ttl`; returns the secret (shown once) and its row.
pub async fn issue(
    db: &impl ConnectionTrait,
    kind: SecretKind,
    ttl: Option<Duration>,
    spec: &TokenSpec<'_>,
) -> Result<(String, token::Model), sea_orm::DbErr> {
    let (secret, row) = prepare(kind, ttl, spec);
    Ok((secret, row.insert(db).await?))
}

/// A new token's secret and its row, not yet stored (so several can be inserted at once).
pub fn prepare(
    kind: SecretKind,
    ttl: Option<Duration>,
    spec: &TokenSpec<'_>,
) -> (String, token::ActiveModel) {
    let secret = token_format::generate(kind);
    let now = Utc::now();
    let row = token::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(match kind {
            SecretKind::AccessToken => TokenKind::Access,
            SecretKind::RefreshToken => TokenKind::Refresh,
            _ => TokenKind::Pat,
        }),
        token_hash: Set(sha256_hex(&secret)),
        prefix: Set(kind.prefix().into()),
        last_four: Set(token_format::last_four(&secret)),
        name: Set(spec.name.clone()),
        user_id: Set(spec.user_id),
        org_id: Set(spec.org_id),
        client_id: Set(spec.client_id),
        connection_id: Set(spec.connection_id),
        family_id: Set(spec.family_id),
        parent_id: Set(spec.parent_id),
        scope: Set(spec.scope.to_string()),
        resource: Set(spec.resource.map(str::to_string)),
        created_at: Set(now),
        expires_at: Set(ttl.map(|t| now + t)),
        last_used_at: Set(None),
        rotated_at: Set(None),
        disabled_at: Set(None),
        revoked_at: Set(None),
        revoke_reason: Set(None),
        grace_response: Set(None),
    };
    (secret, row)
}

/// The row of a well-formed secret, if it exists (no database lookup for malformed input).
pub async fn find_by_secret(
    db: &impl ConnectionTrait,
    secret: &str,
) -> Result<Option<token::Model>, sea_orm::DbErr> {
    if token_format::parse(secret).is_none() {
        return Ok(None);
    }
    token::Entity::find()
        .filter(token::Column::TokenHash.eq(sha256_hex(secret)))
        .one(db)
        .await
}

/// Revokes every live token matching `which`; how many changed.
pub(crate) async fn revoke_where(
    db: &impl ConnectionTrait,
    which: Condition,
    reason: &str,
) -> Result<u64, sea_orm::DbErr> {
    let res = token::Entity::update_many()
        .col_expr(token::Column::RevokedAt, Expr::value(Utc::now()))
        .col_expr(token::Column::RevokeReason, Expr::value(reason))
        .filter(which)
        .filter(token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if res.rows_affected > 0 {
        metrics::counter!("gatehouse_revocations_total", "reason" => reason.to_owned())
            .increment(res.rows_affected);
    }
    Ok(res.rows_affected)
}

/// Revokes one token (if it isn't already); whether it changed.
pub async fn revoke_one(
    db: &impl ConnectionTrait,
    token_id: Uuid,
    reason: &str,
) -> Result<bool, sea_orm::DbErr> {
    let which = Condition::all().add(token::Column::Id.eq(token_id));
    Ok(revoke_where(db, which, reason).await? > 0)
}

/// Revokes every live token of a refresh family (one authorization's chain of rotations).
pub async fn revoke_family(
    db: &impl ConnectionTrait,
    family_id: Uuid,
    reason: &str,
) -> Result<u64, sea_orm::DbErr> {
    revoke_where(
        db,
        Condition::all().add(token::Column::FamilyId.eq(family_id)),
        reason,
    )
    .await
}

/// Ends a connection (an MCP OAuth PAT) and every token issued for it. The consent it was
/// given under ends with it: the next authorization of that app in that org asks again.
pub async fn revoke_connection(
    db: &impl ConnectionTrait,
    connection_id: Uuid,
    by: Option<Uuid>,
    reason: &str,
) -> Result<(), sea_orm::DbErr> {
    let Some(conn) = connection::Entity::find_by_id(connection_id)
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let now = Utc::now();
    connection::Entity::update_many()
        .col_expr(connection::Column::RevokedAt, Expr::value(now))
        .col_expr(connection::Column::RevokedBy, Expr::value(by))
        .col_expr(connection::Column::RevokeReason, Expr::value(reason))
        .filter(connection::Column::Id.eq(connection_id))
        .filter(connection::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    revoke_where(
        db,
        Condition::all().add(token::Column::ConnectionId.eq(connection_id)),
        reason,
    )
    .await?;
    consent::Entity::delete_many()
        .filter(consent::Column::UserId.eq(conn.user_id))
        .filter(consent::Column::OrgId.eq(conn.org_id))
        .filter(consent::Column::ClientId.eq(conn.client_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends everything a member holds in an org: their connections (with their tokens and
/// consents) and their standard PATs. Used when they leave it: a token must not come back to
/// life if they are ever added again.
pub async fn revoke_member_grants(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    org_id: Uuid,
    by: Option<Uuid>,
    reason: &str,
) -> Result<(), sea_orm::DbErr> {
    let live = connection::Entity::find()
        .filter(connection::Column::UserId.eq(user_id))
        .filter(connection::Column::OrgId.eq(org_id))
        .filter(connection::Column::RevokedAt.is_null())
        .all(db)
        .await?;
    for c in live {
        revoke_connection(db, c.id, by, reason).await?;
    }
    revoke_where(
        db,
        Condition::all()
            .add(token::Column::UserId.eq(user_id))
            .add(token::Column::OrgId.eq(org_id)),
        reason,
    )
    .await?;
    Ok(())
}
