//! Accounts: sign-up, sign-in (throttled, timing-safe), profile and password changes, and an
//! operator disabling or re-enabling an account.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::access::Invalidation;
use super::audit::{self, AuditEntry};
use super::email_links;
use super::entities::email_link::LinkPurpose;
use super::entities::{session, user};
use super::mail::{outbox, templates};
use super::validate::{Email, Password};
use super::{RequestMeta, Services, is_unique_violation};
use crate::domain::write_txn::BeginWrite;
use crate::error::{AppError, AppResult};
use crate::model::UserView;

pub fn view(u: &user::Model) -> UserView {
    UserView {
        id: u.id,
        email: u.email.clone(),
        name: u.name.clone(),
    }
}

pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.trim().to_lowercase()))
        .one(db)
        .await?)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id).one(db).await?)
}

/// Emails of the given users, by id.
pub async fn emails_of(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = Uuid>,
) -> AppResult<HashMap<Uuid, String>> {
    let mut ids: Vec<Uuid> = ids.into_iter().collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect())
}

/// Creates an account. The email must be unused; the password must meet the policy. An
/// account an operator creates (`verified`) counts as having proved its address; any other
/// gets a verification mail, queued with the account in one transaction.
pub async fn create_user(
    s: &Services,
    email: &Email,
    password: &Password,
    name: Option<String>,
    verified: bool,
    meta: &RequestMeta,
) -> AppResult<user::Model> {
    if find_by_email(&s.db, email.as_str()).await?.is_some() {
        return Err(duplicate_email());
    }
    let hash = s.passwords.hash(password.expose().to_string()).await?;
    let now = Utc::now();
    let txn = s.db.begin_write().await?;
    let created = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email.as_str().to_string()),
        name: Set(name),
        password_hash: Set(hash),
        created_at: Set(now),
        updated_at: Set(now),
        last_login_at: Set(None),
        disabled_at: Set(None),
        sessions_ended_at: Set(None),
        email_verified_at: Set(verified.then_some(now)),
        two_factor_enabled_at: Set(None),
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            duplicate_email()
        } else {
            e.into()
        }
    })?;
    audit::record(
        &txn,
        AuditEntry::new("user.signup")
            .actor(created.id)
            .target("user", created.id)
            .details(serde_json::json!({ "email_verified": verified })),
        meta,
    )
    .await?;
    if !verified {
        queue_verification(s, &txn, &created).await?;
    }
    txn.commit().await?;
    s.mail_queued();
    Ok(created)
}

/// Someone creating their own account from the sign-up page: throttled per client address
/// before any password is hashed. The account must verify its address.
pub async fn sign_up(
    s: &Services,
    email: &Email,
    password: &Password,
    name: Option<String>,
    meta: &RequestMeta,
) -> AppResult<user::Model> {
    s.throttle.sign_up_attempt(meta.ip.as_deref()).await?;
    create_user(s, email, password, name, false, meta).await
}

/// Queues the verification mail for `user`'s address, in the caller's transaction.
pub async fn queue_verification(
    s: &Services,
    txn: &impl ConnectionTrait,
    user: &user::Model,
) -> AppResult<()> {
    let link = email_links::issue(
        txn,
        &s.settings.public_url,
        user.id,
        LinkPurpose::Verify,
        &user.email,
    )
    .await?;
    outbox::enqueue(
        txn,
        &s.key,
        &templates::verify_email(s.site(), &user.email, &link),
    )
    .await?;
    Ok(())
}

/// Records that the account proved it reads its mailbox (`via`: the kind of link it followed).
pub async fn mark_verified(
    db: &impl ConnectionTrait,
    user: &user::Model,
    via: &str,
    meta: &RequestMeta,
) -> AppResult<()> {
    let changed = user::Entity::update_many()
        .col_expr(
            user::Column::EmailVerifiedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(user::Column::Id.eq(user.id))
        .filter(user::Column::Email.eq(user.email.clone()))
        .filter(user::Column::EmailVerifiedAt.is_null())
        .exec(db)
        .await?
        .rows_affected;
    if changed == 1 {
        audit::record(
            db,
            AuditEntry::new("user.email_verified")
                .actor(user.id)
                .target("user", user.id)
                .details(serde_json::json!({ "email": user.email, "via": via })),
            meta,
        )
        .await?;
    }
    Ok(())
}

fn duplicate_email() -> AppError {
    AppError::invalid(
        "email",
        "An account with this email already exists. Sign in instead.",
    )
}

/// Checks the password step of a sign-in. Unknown emails, wrong passwords and disabled
/// accounts all get the same message and take the same time. The attempt is counted before
/// the password is checked, so parallel guesses are throttled like sequential ones. The
/// sign-in itself is recorded by [`record_sign_in`], after a second factor if the account has
/// one.
pub async fn check_password(
    s: &Services,
    email: &str,
    password: &str,
    meta: &RequestMeta,
) -> AppResult<user::Model> {
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        return Err(AppError::invalid("email", "Enter your email address."));
    }
    if password.is_empty() {
        return Err(AppError::invalid("password", "Enter your password."));
    }
    s.throttle
        .sign_in_attempt(&email, meta.ip.as_deref())
        .await?;
    let found = find_by_email(&s.db, &email).await?;
    let ok = s
        .passwords
        .verify(
            password.to_string(),
            found.as_ref().map(|u| u.password_hash.clone()),
        )
        .await?;
    match found {
        Some(user) if ok && user.disabled_at.is_none() => {
            s.throttle
                .sign_in_succeeded(&email, meta.ip.as_deref())
                .await?;
            // Told only to whoever knows the password: it says where the account belongs.
            if let Some(org) = super::sso_policy::required_for(&s.db, &user).await? {
                return Err(AppError::Invalid {
                    field: None,
                    message: format!(
                        "{} signs in through single sign-on: use “Continue with SSO” with your work address (or go to /login/sso/{}).",
                        org.name, org.slug
                    ),
                });
            }
            Ok(user)
        }
        _ => Err(AppError::Invalid {
            field: None,
            message: "Incorrect email or password.".into(),
        }),
    }
}

/// A complete sign-in (password, and the second factor when the account has one).
pub async fn record_sign_in(
    s: &Services,
    user: user::Model,
    method: &str,
    meta: &RequestMeta,
) -> AppResult<user::Model> {
    let mut active: user::ActiveModel = user.into();
    active.last_login_at = Set(Some(Utc::now()));
    let user = active.update(&s.db).await?;
    audit::record(
        &s.db,
        AuditEntry::new("user.login")
            .actor(user.id)
            .target("user", user.id)
            .details(serde_json::json!({ "method": method })),
        meta,
    )
    .await?;
    Ok(user)
}

/// Password and, for an account without two-factor sign-in, the whole sign-in: what tests
/// and the password-only paths use.
pub async fn authenticate(
    s: &Services,
    email: &str,
    password: &str,
    meta: &RequestMeta,
) -> AppResult<user::Model> {
    let user = check_password(s, email, password, meta).await?;
    if user.two_factor() {
        return Err(AppError::forbidden(
            "This account signs in with a second factor: use the sign-in page.",
        ));
    }
    record_sign_in(s, user, "password", meta).await
}

pub async fn update_name(
    db: &impl ConnectionTrait,
    user: user::Model,
    name: Option<String>,
) -> AppResult<user::Model> {
    let mut active: user::ActiveModel = user.into();
    active.name = Set(name);
    active.updated_at = Set(Utc::now());
    Ok(active.update(db).await?)
}

/// A signed-in person proves they know their password before a sensitive change (a new
/// password or address, two-factor off). Each try counts like a sign-in attempt, so a session
/// left open can't be used to guess it; `field` is the form field the message belongs to.
pub async fn confirm_password(
    s: &Services,
    user: &user::Model,
    password: &str,
    field: &str,
    meta: &RequestMeta,
) -> AppResult<()> {
    if password.is_empty() {
        return Err(AppError::invalid(field, "Enter your current password."));
    }
    s.throttle
        .sign_in_attempt(&user.email, meta.ip.as_deref())
        .await?;
    if !s
        .passwords
        .verify(password.to_string(), Some(user.password_hash.clone()))
        .await?
    {
        return Err(AppError::invalid(
            field,
            "Your current password is not correct.",
        ));
    }
    s.throttle
        .sign_in_succeeded(&user.email, meta.ip.as_deref())
        .await?;
    Ok(())
}

/// Changes a password the user proved they know. Every session of the account ends (the
/// caller signs the current one in again on a new id).
pub async fn change_password(
    s: &Services,
    user: user::Model,
    current: &str,
    new: &str,
    meta: &RequestMeta,
) -> AppResult<user::Model> {
    confirm_password(s, &user, current, "current_password", meta).await?;
    let email = Email::parse(&user.email)?;
    let new = Password::parse(new, Some(&email)).map_err(|e| match e {
        AppError::Invalid { message, .. } => AppError::invalid("new_password", message),
        other => other,
    })?;
    set_password(s, user, &new, PasswordChange::Changed, meta).await
}

/// Why a password is being set: the audit action, and whether the account's mailbox is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordChange {
    /// The person changed it, knowing the old one.
    Changed,
    /// The person followed a reset link from their mailbox.
    ResetByLink,
    /// The operator set it (the demo's fresh passwords): no mail.
    ResetByOperator,
}

impl PasswordChange {
    fn action(self) -> &'static str {
        match self {
            Self::Changed => "user.password_changed",
            Self::ResetByLink => "user.password_reset_by_link",
            Self::ResetByOperator => "user.password_reset",
        }
    }
}

/// Sets a new password (already checked against the policy), ends every session of the
/// account, records why, and (unless the operator did it) tells the account's mailbox.
pub async fn set_password(
    s: &Services,
    user: user::Model,
    password: &Password,
    why: PasswordChange,
    meta: &RequestMeta,
) -> AppResult<user::Model> {
    let hash = s.passwords.hash(password.expose().to_string()).await?;
    let txn = s.db.begin_write().await?;
    let user = set_password_in(s, &txn, user, hash, why, meta).await?;
    txn.commit().await?;
    s.mail_queued();
    Ok(user)
}

/// [`set_password`] inside the caller's transaction, with the hash already made.
pub(crate) async fn set_password_in(
    s: &Services,
    txn: &impl ConnectionTrait,
    user: user::Model,
    hash: String,
    why: PasswordChange,
    meta: &RequestMeta,
) -> AppResult<user::Model> {
    let id = user.id;
    let mut active: user::ActiveModel = user.into();
    active.password_hash = Set(hash);
    active.updated_at = Set(Utc::now());
    let user = active.update(txn).await?;
    end_sessions(txn, id).await?;
    audit::record(
        txn,
        AuditEntry::new(why.action()).actor(id).target("user", id),
        meta,
    )
    .await?;
    if why != PasswordChange::ResetByOperator {
        let mail = templates::password_changed(s.site(), &user.email);
        outbox::enqueue(txn, &s.key, &mail).await?;
    }
    Ok(user)
}

/// Ends every browser session of an account: from now on the session authentication refuses
/// any session signed in before this moment (also one a request in flight saves again), and
/// the rows go at once.
pub(crate) async fn end_sessions(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<u64> {
    // Whole milliseconds, as sessions record their sign-in: a session signed in after this
    // (the caller's own, signed in again) is never taken for an older one.
    let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 3);
    user::Entity::update_many()
        .col_expr(
            user::Column::SessionsEndedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// An operator turns an account off (`disabled: true`) or on again. A disabled account can't
/// sign in, its sessions end at once, and its tokens are refused on their next request (they
/// work again when it is re-enabled, unless revoked meanwhile). Returns whether it changed.
pub async fn set_disabled(
    s: &Services,
    user: &user::Model,
    disabled: bool,
    meta: &RequestMeta,
) -> AppResult<bool> {
    let txn = s.db.begin_write().await?;
    // Only a real change is written (and audited): decided by the row as it is now.
    let changed = user::Entity::update_many()
        .col_expr(
            user::Column::DisabledAt,
            sea_orm::sea_query::Expr::value(disabled.then(Utc::now)),
        )
        .col_expr(
            user::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(user::Column::Id.eq(user.id))
        .filter(if disabled {
            user::Column::DisabledAt.is_null()
        } else {
            user::Column::DisabledAt.is_not_null()
        })
        .exec(&txn)
        .await?
        .rows_affected;
    if changed == 0 {
        return Ok(false);
    }
    let sessions = if disabled {
        end_sessions(&txn, user.id).await?
    } else {
        0
    };
    audit::record(
        &txn,
        AuditEntry::new(if disabled {
            "user.disabled"
        } else {
            "user.enabled"
        })
        .target("user", user.id)
        .details(serde_json::json!({ "email": user.email, "sessions_ended": sessions })),
        meta,
    )
    .await?;
    txn.commit().await?;
    s.invalidate(Invalidation::All);
    Ok(true)
}
