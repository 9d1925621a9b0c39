//! Accounts: sign-up, sign-in (throttled, timing-safe), profile and password changes, and an
//! operator disabling or re-enabling an account.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use uuid::Uuid;

use super::access::Invalidation;
use super::audit::{self, AuditEntry};
use super::entities::{session, user};
use super::validate::{Email, Password};
use super::{RequestMeta, Services, is_unique_violation};
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

/// Creates an account. The email must be unused; the password must meet the policy.
pub async fn create_user(
    s: &Services,
    email: &Email,
    password: &Password,
    name: Option<String>,
    meta: &RequestMeta,
) -> AppResult<user::Model> {
    if find_by_email(&s.db, email.as_str()).await?.is_some() {
        return Err(duplicate_email());
    }
    let hash = s.passwords.hash(password.expose().to_string()).await?;
    let now = Utc::now();
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
    }
    .insert(&s.db)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            duplicate_email()
        } else {
            e.into()
        }
    })?;
    audit::record(
        &s.db,
        AuditEntry::new("user.signup")
            .actor(created.id)
            .target("user", created.id),
        meta,
    )
    .await?;
    Ok(created)
}

/// Someone creating their own account from the sign-up page: throttled per client address
/// before any password is hashed.
pub async fn sign_up(
    s: &Services,
    email: &Email,
    password: &Password,
    name: Option<String>,
    meta: &RequestMeta,
) -> AppResult<user::Model> {
    s.throttle.sign_up_attempt(meta.ip.as_deref())?;
    create_user(s, email, password, name, meta).await
}

fn duplicate_email() -> AppError {
    AppError::invalid(
        "email",
        "An account with this email already exists. Sign in instead.",
    )
}

/// Checks a sign-in attempt. Unknown emails, wrong passwords and disabled accounts all get
/// the same message and take the same time. The attempt is counted before the password is
/// checked, so parallel guesses are throttled like sequential ones.
pub async fn authenticate(
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
    s.throttle.sign_in_attempt(&email, meta.ip.as_deref())?;
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
            s.throttle.sign_in_succeeded(&email, meta.ip.as_deref());
            let mut active: user::ActiveModel = user.into();
            active.last_login_at = Set(Some(Utc::now()));
            let user = active.update(&s.db).await?;
            audit::record(
                &s.db,
                AuditEntry::new("user.login")
                    .actor(user.id)
                    .target("user", user.id),
                meta,
            )
            .await?;
            Ok(user)
        }
        _ => Err(AppError::Invalid {
            field: None,
            message: "Incorrect email or password.".into(),
        }),
    }
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

/// Changes a password the user proved they know. Every session of the account ends (the
/// caller signs the current one in again on a new id).
pub async fn change_password(
    s: &Services,
    user: user::Model,
    current: &str,
    new: &str,
    meta: &RequestMeta,
) -> AppResult<user::Model> {
    if !s
        .passwords
        .verify(current.to_string(), Some(user.password_hash.clone()))
        .await?
    {
        return Err(AppError::invalid(
            "current_password",
            "Your current password is not correct.",
        ));
    }
    let email = Email::parse(&user.email)?;
    let new = Password::parse(new, Some(&email)).map_err(|e| match e {
        AppError::Invalid { message, .. } => AppError::invalid("new_password", message),
        other => other,
    })?;
    set_password(s, user, &new, "user.password_changed", meta).await
}

/// Sets a new password (already checked against the policy), ends every session of the
/// account, and records `action`. Used by a password change and by the operator's demo reset.
pub async fn set_password(
    s: &Services,
    user: user::Model,
    password: &Password,
    action: &'static str,
    meta: &RequestMeta,
) -> AppResult<user::Model> {
    let hash = s.passwords.hash(password.expose().to_string()).await?;
    let id = user.id;
    let txn = s.db.begin().await?;
    let mut active: user::ActiveModel = user.into();
    active.password_hash = Set(hash);
    active.updated_at = Set(Utc::now());
    let user = active.update(&txn).await?;
    end_sessions(&txn, id).await?;
    audit::record(
        &txn,
        AuditEntry::new(action).actor(id).target("user", id),
        meta,
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

/// Ends every browser session of an account: from now on the session authentication refuses
/// any session signed in before this moment (also one a request in flight saves again), and
/// the rows go at once.
async fn end_sessions(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<u64> {
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
    let txn = s.db.begin().await?;
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
