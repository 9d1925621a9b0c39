//! Proving an address: the verification link sent at sign-up (and again on request), and a
//! change of address, which takes effect only when the link mailed to the new address is
//! followed (the old address is told).

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use super::access::Invalidation;
use super::audit::{self, AuditEntry};
use super::email_links::{self, unusable};
use super::entities::email_link::{self, LinkPurpose};
use super::entities::user;
use super::mail::{outbox, templates};
use super::validate::Email;
use super::{RequestMeta, Services, is_unique_violation};
use crate::domain::write_txn::BeginWrite;
use crate::error::{AppError, AppResult};

/// "Send the link again", from the account page: throttled per account.
pub async fn resend(s: &Services, user: &user::Model) -> AppResult<()> {
    if user.email_verified() {
        return Err(AppError::Conflict(
            "Your email address is already verified.".into(),
        ));
    }
    s.throttle.mail_to_account(&user.email).await?;
    let txn = s.db.begin_write().await?;
    super::users::queue_verification(s, &txn, user).await?;
    txn.commit().await?;
    s.mail_queued();
    Ok(())
}

/// What following a confirmation link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmed {
    /// The account's address is verified.
    Verified { email: String },
    /// The account now uses this (verified) address.
    Changed { email: String },
}

/// Follows a verification or change-of-address link.
pub async fn confirm(s: &Services, secret: &str, meta: &RequestMeta) -> AppResult<Confirmed> {
    let txn = s.db.begin_write().await?;
    let link = email_links::claim(
        &txn,
        secret,
        &[LinkPurpose::Verify, LinkPurpose::ChangeEmail],
    )
    .await?;
    let Some(user) = user::Entity::find_by_id(link.user_id).one(&txn).await? else {
        return Err(unusable(link.purpose));
    };
    let done = match link.purpose {
        LinkPurpose::Verify => {
            // The link proves the address it was sent to, only while the account still uses it.
            if user.email != link.email {
                return Err(unusable(link.purpose));
            }
            super::users::mark_verified(&txn, &user, "verification_link", meta).await?;
            Confirmed::Verified { email: user.email }
        }
        LinkPurpose::ChangeEmail => {
            let old = user.email.clone();
            let id = user.id;
            let mut active: user::ActiveModel = user.into();
            active.email = Set(link.email.clone());
            active.email_verified_at = Set(Some(Utc::now()));
            active.updated_at = Set(Utc::now());
            active.update(&txn).await.map_err(|e| {
                if is_unique_violation(&e) {
                    AppError::Conflict(
                        "Another account uses that address now, so yours was not changed.".into(),
                    )
                } else {
                    e.into()
                }
            })?;
            email_links::retire(&txn, id, LinkPurpose::Verify).await?;
            audit::record(
                &txn,
                AuditEntry::new("user.email_changed")
                    .actor(id)
                    .target("user", id)
                    .details(json!({ "from": old, "to": link.email })),
                meta,
            )
            .await?;
            outbox::enqueue(
                &txn,
                &s.key,
                &templates::email_changed(s.site(), &old, &link.email),
            )
            .await?;
            Confirmed::Changed { email: link.email }
        }
        LinkPurpose::ResetPassword => return Err(unusable(LinkPurpose::Verify)),
    };
    txn.commit().await?;
    s.mail_queued();
    if matches!(done, Confirmed::Changed { .. }) {
        // Tokens and the pages show the account's address.
        s.invalidate(Invalidation::All);
    }
    Ok(done)
}

/// Asks to use `new_email` from now on: the person proves they know the password, and the new
/// address gets a link. Nothing changes until the link is followed.
pub async fn request_change(
    s: &Services,
    user: &user::Model,
    new_email: &Email,
    password: &str,
    meta: &RequestMeta,
) -> AppResult<()> {
    if new_email.as_str() == user.email {
        return Err(AppError::invalid("email", "That is already your address."));
    }
    super::users::confirm_password(s, user, password, "password", meta).await?;
    if super::users::find_by_email(&s.db, new_email.as_str())
        .await?
        .is_some()
    {
        return Err(AppError::invalid(
            "email",
            "Another account uses that address.",
        ));
    }
    s.throttle.mail_to_account(&user.email).await?;
    let txn = s.db.begin_write().await?;
    let link = email_links::issue(
        &txn,
        &s.settings.public_url,
        user.id,
        LinkPurpose::ChangeEmail,
        new_email.as_str(),
    )
    .await?;
    outbox::enqueue(
        &txn,
        &s.key,
        &templates::confirm_new_email(s.site(), new_email.as_str(), &user.email, &link),
    )
    .await?;
    audit::record(
        &txn,
        AuditEntry::new("user.email_change_requested")
            .actor(user.id)
            .target("user", user.id)
            .details(json!({ "to": new_email.as_str() })),
        meta,
    )
    .await?;
    txn.commit().await?;
    s.mail_queued();
    Ok(())
}

/// The address a change is waiting to be confirmed for, if any.
pub async fn pending_change(
    db: &impl ConnectionTrait,
    user_id: uuid::Uuid,
) -> AppResult<Option<String>> {
    Ok(email_link::Entity::find()
        .filter(email_link::Column::UserId.eq(user_id))
        .filter(email_link::Column::Purpose.eq(LinkPurpose::ChangeEmail))
        .filter(email_link::Column::UsedAt.is_null())
        .filter(email_link::Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(email_link::Column::CreatedAt)
        .one(db)
        .await?
        .map(|l| l.email))
}
