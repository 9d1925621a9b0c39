//! Single-use links sent by mail: verify an address, confirm a new one, reset a password. The
//! secret is 256 random bits in the URL; only its SHA-256 is stored. Issuing a link replaces
//! the account's earlier unused links of the same purpose; following one claims it
//! atomically, so of two clicks exactly one does anything.

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::entities::email_link::{self, LinkPurpose};
use super::secrets::{random_urlsafe, sha256_hex};
use crate::error::{AppError, AppResult};

impl LinkPurpose {
    /// How long a link of this purpose works.
    pub fn valid_for(self) -> Duration {
        match self {
            LinkPurpose::Verify | LinkPurpose::ChangeEmail => Duration::hours(24),
            LinkPurpose::ResetPassword => Duration::minutes(30),
        }
    }

    /// The page the link opens.
    fn path(self) -> &'static str {
        match self {
            LinkPurpose::Verify | LinkPurpose::ChangeEmail => "/verify-email",
            LinkPurpose::ResetPassword => "/reset-password",
        }
    }
}

/// Creates a link for `user_id` to `email` and returns its URL. Call inside the transaction
/// that queues the mail carrying it.
pub async fn issue(
    db: &impl ConnectionTrait,
    public_url: &str,
    user_id: Uuid,
    purpose: LinkPurpose,
    email: &str,
) -> AppResult<String> {
    let now = Utc::now();
    retire(db, user_id, purpose).await?;
    let secret = random_urlsafe(32);
    email_link::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        purpose: Set(purpose),
        email: Set(email.to_string()),
        token_hash: Set(sha256_hex(&secret)),
        created_at: Set(now),
        expires_at: Set(now + purpose.valid_for()),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(format!("{public_url}{}/{secret}", purpose.path()))
}

/// Ends the account's unused links of `purpose` (a new one was sent, or what they were for
/// happened another way).
pub async fn retire(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    purpose: LinkPurpose,
) -> AppResult<()> {
    email_link::Entity::update_many()
        .col_expr(email_link::Column::UsedAt, Expr::value(Utc::now()))
        .filter(email_link::Column::UserId.eq(user_id))
        .filter(email_link::Column::Purpose.eq(purpose))
        .filter(email_link::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The words for a link that can't be used: the same whether it never existed, was used or
/// expired, so a guess learns nothing.
pub fn unusable(purpose: LinkPurpose) -> AppError {
    AppError::not_found(match purpose {
        LinkPurpose::ResetPassword => {
            "This password reset link is not valid any more: links work once, for 30 minutes. Ask for a new one."
        }
        LinkPurpose::Verify | LinkPurpose::ChangeEmail => {
            "This confirmation link is not valid any more: links work once, for 24 hours. Ask for a new one from your account page."
        }
    })
}

/// The live link behind `secret`, if there is one (not claimed: for showing the page).
pub async fn peek(
    db: &impl ConnectionTrait,
    secret: &str,
    purposes: &[LinkPurpose],
) -> AppResult<Option<email_link::Model>> {
    let found = email_link::Entity::find()
        .filter(email_link::Column::TokenHash.eq(sha256_hex(secret.trim())))
        .filter(email_link::Column::UsedAt.is_null())
        .filter(email_link::Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?;
    Ok(found.filter(|l| purposes.contains(&l.purpose)))
}

/// Claims the link behind `secret` for one of `purposes`: marks it used and returns it, or
/// says it can't be used. Call inside the transaction that does what the link is for; the
/// claim writes first (on SQLite a transaction that reads first can't take the write lock
/// once another writer has committed), and of two clicks exactly one claims it.
pub async fn claim(
    db: &impl ConnectionTrait,
    secret: &str,
    purposes: &[LinkPurpose],
) -> AppResult<email_link::Model> {
    let first = purposes.first().copied().unwrap_or(LinkPurpose::Verify);
    let hash = sha256_hex(secret.trim());
    let now = Utc::now();
    let won = email_link::Entity::update_many()
        .col_expr(email_link::Column::UsedAt, Expr::value(now))
        .filter(email_link::Column::TokenHash.eq(hash.clone()))
        .filter(email_link::Column::Purpose.is_in(purposes.iter().copied()))
        .filter(email_link::Column::UsedAt.is_null())
        .filter(email_link::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?
        .rows_affected
        == 1;
    if !won {
        return Err(unusable(first));
    }
    email_link::Entity::find()
        .filter(email_link::Column::TokenHash.eq(hash))
        .one(db)
        .await?
        .ok_or_else(|| unusable(first))
}

/// Deletes links used or expired more than a week ago (nothing can follow them any more).
pub async fn sweep(db: &impl ConnectionTrait) -> AppResult<u64> {
    let week_ago = Utc::now() - Duration::days(7);
    Ok(email_link::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(email_link::Column::ExpiresAt.lt(week_ago))
                .add(email_link::Column::UsedAt.lt(week_ago)),
        )
        .exec(db)
        .await?
        .rows_affected)
}
