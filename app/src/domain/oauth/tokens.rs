//! Issuing, finding and revoking tokens. Secrets are shown once; rows keep their SHA-256.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::token_format::{self, SecretKind};
use crate::domain::entities::{connection, token};
use crate::domain::secrets::sha256_hex;

pub const KIND_ACCESS: &str = "access";
pub const KIND_REFRESH: &str = "refresh";
pub const KIND_PAT: &str = "pat";

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
            SecretKind::AccessToken => KIND_ACCESS,
            SecretKind::RefreshToken => KIND_REFRESH,
            _ => KIND_PAT,
        }
        .into()),
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

pub fn is_expired(t: &token::Model, now: DateTime<Utc>) -> bool {
    t.expires_at.is_some_and(|e| e <= now)
}

/// Revokes every live token of a refresh family (one authorization's chain of rotations).
pub async fn revoke_family(
    db: &impl ConnectionTrait,
    family_id: Uuid,
    reason: &str,
) -> Result<u64, sea_orm::DbErr> {
    super::cache::invalidate_all();
    let res = token::Entity::update_many()
        .col_expr(
            token::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .col_expr(
            token::Column::RevokeReason,
            sea_orm::sea_query::Expr::value(reason),
        )
        .filter(token::Column::FamilyId.eq(family_id))
        .filter(token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Ends a connection (an MCP OAuth PAT) and every token issued for it.
pub async fn revoke_connection(
    db: &impl ConnectionTrait,
    connection_id: Uuid,
    by: Option<Uuid>,
    reason: &str,
) -> Result<(), sea_orm::DbErr> {
    super::cache::invalidate_all();
    let now = Utc::now();
    connection::Entity::update_many()
        .col_expr(
            connection::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .col_expr(
            connection::Column::RevokedBy,
            sea_orm::sea_query::Expr::value(by),
        )
        .col_expr(
            connection::Column::RevokeReason,
            sea_orm::sea_query::Expr::value(reason),
        )
        .filter(connection::Column::Id.eq(connection_id))
        .filter(connection::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    token::Entity::update_many()
        .col_expr(
            token::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .col_expr(
            token::Column::RevokeReason,
            sea_orm::sea_query::Expr::value(reason),
        )
        .filter(token::Column::ConnectionId.eq(connection_id))
        .filter(token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
