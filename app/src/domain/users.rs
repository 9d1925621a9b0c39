//! Accounts: sign-up, sign-in (throttled, timing-safe), profile and password changes.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::audit::{self, AuditEntry};
use super::entities::user;
use super::passwords::{hash_password, verify_password};
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

/// Creates an account. The email must be unused; the password must meet the policy.
pub async fn create_user(
    db: &impl ConnectionTrait,
    email: &Email,
    password: &Password,
    name: Option<String>,
    meta: &RequestMeta,
) -> AppResult<user::Model> {
    if find_by_email(db, email.as_str()).await?.is_some() {
        return Err(duplicate_email());
    }
    let hash = hash_password(password.expose().to_string()).await?;
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
    }
    .insert(db)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            duplicate_email()
        } else {
            e.into()
        }
    })?;
    audit::record(
        db,
        AuditEntry::new("user.signup")
            .actor(created.id)
            .target("user", created.id),
        meta,
    )
    .await?;
    Ok(created)
}

fn duplicate_email() -> AppError {
    AppError::invalid(
        "email",
        "An account with this email already exists. Sign in instead.",
    )
}

/// Checks a sign-in attempt. Unknown emails, wrong passwords and disabled accounts all get
/// the same message and take the same time; the throttle counts every failure.
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
    s.login_throttle.check(&email, meta.ip.as_deref())?;
    let found = find_by_email(&s.db, &email).await?;
    let ok = verify_password(
        password.to_string(),
        found.as_ref().map(|u| u.password_hash.clone()),
    )
    .await;
    match found {
        Some(user) if ok && user.disabled_at.is_none() => {
            s.login_throttle.record_success(&email);
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
        _ => {
            s.login_throttle.record_failure(&email, meta.ip.as_deref());
            Err(AppError::Invalid {
                field: None,
                message: "Incorrect email or password.".into(),
            })
        }
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

pub async fn change_password(
    db: &impl ConnectionTrait,
    user: user::Model,
    current: &str,
    new: &str,
    meta: &RequestMeta,
) -> AppResult<user::Model> {
    if !verify_password(current.to_string(), Some(user.password_hash.clone())).await {
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
    let hash = hash_password(new.expose().to_string()).await?;
    let id = user.id;
    let mut active: user::ActiveModel = user.into();
    active.password_hash = Set(hash);
    active.updated_at = Set(Utc::now());
    let user = active.update(db).await?;
    audit::record(
        db,
        AuditEntry::new("user.password_changed")
            .actor(id)
            .target("user", id),
        meta,
    )
    .await?;
    Ok(user)
}
