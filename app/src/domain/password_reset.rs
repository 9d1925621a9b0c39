//! "Forgot your password?": a link valid once for 30 minutes, mailed to the account's address.
//! The answer to a request is the same whether or not the address has an account. Following
//! the link sets a new password, ends every session of the account, and (the link came from
//! the mailbox) verifies the address. A second factor is still asked at the next sign-in.

use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::json;

use super::audit::{self, AuditEntry};
use super::email_links::{self, unusable};
use super::entities::email_link::LinkPurpose;
use super::entities::user;
use super::mail::{outbox, templates};
use super::users::{self, PasswordChange};
use super::validate::{Email, Password};
use super::{RequestMeta, Services};
use crate::domain::write_txn::BeginWrite;
use crate::error::{AppError, AppResult};

/// What the person is told after asking, whatever the address.
pub fn answer(email: &str) -> String {
    format!(
        "If an account uses {email}, a link to choose a new password is on its way there. It works once, for 30 minutes."
    )
}

/// Mails a reset link if `email` belongs to an account that may sign in. Throttled per address
/// and per client address; the answer never says whether the account exists.
pub async fn request(s: &Services, email: &str, meta: &RequestMeta) -> AppResult<String> {
    let email = Email::parse(email)?;
    s.throttle
        .password_reset_attempt(email.as_str(), meta.ip.as_deref())
        .await?;
    if let Some(user) = users::find_by_email(&s.db, email.as_str()).await?
        && user.disabled_at.is_none()
    {
        let txn = s.db.begin_write().await?;
        let link = email_links::issue(
            &txn,
            &s.settings.public_url,
            user.id,
            LinkPurpose::ResetPassword,
            &user.email,
        )
        .await?;
        outbox::enqueue(
            &txn,
            &s.key,
            &templates::password_reset(s.site(), &user.email, &link),
        )
        .await?;
        audit::record(
            &txn,
            AuditEntry::new("user.password_reset_requested")
                .target("user", user.id)
                .details(json!({ "email": user.email })),
            meta,
        )
        .await?;
        txn.commit().await?;
        s.mail_queued();
    }
    Ok(answer(email.as_str()))
}

/// The address a live reset link is for (the page shows it), or why it can't be used.
pub async fn link_email(db: &impl ConnectionTrait, secret: &str) -> AppResult<String> {
    email_links::peek(db, secret, &[LinkPurpose::ResetPassword])
        .await?
        .map(|l| l.email)
        .ok_or_else(|| unusable(LinkPurpose::ResetPassword))
}

/// Sets `new_password` for the account the link was mailed to. Used once.
pub async fn reset(
    s: &Services,
    secret: &str,
    new_password: &str,
    meta: &RequestMeta,
) -> AppResult<user::Model> {
    let email = Email::parse(&link_email(&s.db, secret).await?)?;
    let password = Password::parse(new_password, Some(&email)).map_err(|e| match e {
        AppError::Invalid { message, .. } => AppError::invalid("password", message),
        other => other,
    })?;
    let hash = s.passwords.hash(password.expose().to_string()).await?;
    let txn = s.db.begin_write().await?;
    let link = email_links::claim(&txn, secret, &[LinkPurpose::ResetPassword]).await?;
    let user = match user::Entity::find_by_id(link.user_id).one(&txn).await? {
        // The link is for the address it was sent to, while the account still uses it.
        Some(u) if u.email == link.email && u.disabled_at.is_none() => u,
        _ => return Err(unusable(LinkPurpose::ResetPassword)),
    };
    users::mark_verified(&txn, &user, "password_reset", meta).await?;
    let user =
        users::set_password_in(s, &txn, user, hash, PasswordChange::ResetByLink, meta).await?;
    txn.commit().await?;
    s.mail_queued();
    s.throttle
        .sign_in_succeeded(&user.email, meta.ip.as_deref())
        .await?;
    Ok(user)
}
