//! Two-factor sign-in with TOTP: enrolment on `/account` (a QR code and the key as text,
//! confirmed with a code), ten single-use recovery codes shown once, turning it off with the
//! password and a code, and the code asked after the password at sign-in. Every code is good
//! once: a TOTP code's time step must be newer than the last one accepted (RFC 6238 §5.2),
//! a recovery code is marked used. Wrong codes are throttled like passwords.

pub mod qr;
pub mod totp;

use chrono::Utc;
use rand::Rng;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::access::Invalidation;
use super::audit::{self, AuditEntry};
use super::entities::{membership, organization, recovery_code, user, user_totp};
use super::mail::{outbox, templates};
use super::sealing::place;
use super::secrets::sha256_hex;
use super::{RequestMeta, Services};
use crate::domain::write_txn::BeginWrite;
use crate::error::{AppError, AppResult};
use crate::model::{TotpEnrolment, TwoFactorView};

pub const RECOVERY_CODES: usize = 10;

/// How a second factor was proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    Totp,
    RecoveryCode,
}

impl Proof {
    pub fn as_str(self) -> &'static str {
        match self {
            Proof::Totp => "totp",
            Proof::RecoveryCode => "recovery_code",
        }
    }
}

fn now_secs() -> u64 {
    u64::try_from(Utc::now().timestamp()).unwrap_or_default()
}

fn wrong_code() -> AppError {
    AppError::invalid(
        "code",
        "That code is not right. Type the current 6-digit code from your authenticator app (check that its clock is right), or one of your recovery codes.",
    )
}

fn totp_row_secret(s: &Services, row: &user_totp::Model) -> AppResult<String> {
    s.key
        .open_str(&place::totp(row.user_id), &row.secret_sealed)
        .map_err(|e| {
            tracing::error!(user = %row.user_id, error = %e, "a TOTP secret does not open");
            AppError::Internal
        })
}

/// What `/account` shows about the account's second factor.
pub async fn view(s: &Services, user: &user::Model) -> AppResult<TwoFactorView> {
    let row = user_totp::Entity::find_by_id(user.id).one(&s.db).await?;
    let enrolment = match &row {
        Some(r) if r.confirmed_at.is_none() => {
            let secret = totp_row_secret(s, r)?;
            let t = totp::totp(&secret, &user.email).ok_or(AppError::Internal)?;
            let url = t.to_url().map_err(|_| AppError::Internal)?;
            Some(TotpEnrolment {
                qr_svg: qr::svg(&url).ok_or(AppError::Internal)?,
                secret: totp::grouped(&secret),
                otpauth_url: url,
            })
        }
        _ => None,
    };
    let recovery_codes_left = if user.two_factor() {
        recovery_code::Entity::find()
            .filter(recovery_code::Column::UserId.eq(user.id))
            .filter(recovery_code::Column::UsedAt.is_null())
            .count(&s.db)
            .await?
    } else {
        0
    };
    Ok(TwoFactorView {
        enabled_at: user.two_factor_enabled_at,
        recovery_codes_left,
        enrolment,
        required_by: required_by(&s.db, user.id).await?,
    })
}

/// Names of the person's orgs whose policy asks them for two-factor sign-in.
pub async fn required_by(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Vec<String>> {
    let mut names = Vec::new();
    for (m, org) in membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .find_also_related(organization::Entity)
        .all(db)
        .await?
    {
        if let Some(org) = org
            && org.two_factor_policy.applies_to(m.role)
        {
            names.push(org.name);
        }
    }
    names.sort();
    Ok(names)
}

/// Starts (or restarts) enrolment: a new secret, not in force until confirmed with a code.
pub async fn start_enrolment(s: &Services, user: &user::Model) -> AppResult<()> {
    if user.two_factor() {
        return Err(AppError::Conflict(
            "Two-factor sign-in is already on. Turn it off first to move it to another app.".into(),
        ));
    }
    let secret = totp::new_secret();
    let sealed = s.key.seal_str(&place::totp(user.id), &secret);
    let txn = s.db.begin_write().await?;
    user_totp::Entity::delete_by_id(user.id).exec(&txn).await?;
    user_totp::ActiveModel {
        user_id: Set(user.id),
        secret_sealed: Set(sealed),
        created_at: Set(Utc::now()),
        confirmed_at: Set(None),
        last_used_step: Set(None),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Abandons an enrolment that was not confirmed.
pub async fn cancel_enrolment(s: &Services, user: &user::Model) -> AppResult<()> {
    user_totp::Entity::delete_many()
        .filter(user_totp::Column::UserId.eq(user.id))
        .filter(user_totp::Column::ConfirmedAt.is_null())
        .exec(&s.db)
        .await?;
    Ok(())
}

/// Confirms enrolment with a code from the app: two-factor sign-in is on from now, and the
/// returned recovery codes are shown once.
pub async fn confirm_enrolment(
    s: &Services,
    user: &user::Model,
    code: &str,
    meta: &RequestMeta,
) -> AppResult<Vec<String>> {
    let Some(row) = user_totp::Entity::find_by_id(user.id).one(&s.db).await? else {
        return Err(AppError::Conflict(
            "Start the set-up again: no authenticator key is waiting for a code.".into(),
        ));
    };
    if row.confirmed_at.is_some() {
        return Err(AppError::Conflict(
            "Two-factor sign-in is already on.".into(),
        ));
    }
    s.throttle
        .second_factor_attempt(user.id, meta.ip.as_deref())
        .await?;
    let secret = totp_row_secret(s, &row)?;
    let t = totp::totp(&secret, &user.email).ok_or(AppError::Internal)?;
    let step = totp::step_of(&t, code, now_secs()).ok_or_else(wrong_code)?;
    s.throttle
        .second_factor_succeeded(&s.db, user.id, meta.ip.as_deref())
        .await?;
    let now = Utc::now();
    let txn = s.db.begin_write().await?;
    let confirmed = user_totp::Entity::update_many()
        .col_expr(user_totp::Column::ConfirmedAt, Expr::value(now))
        .col_expr(user_totp::Column::LastUsedStep, Expr::value(step as i64))
        .filter(user_totp::Column::UserId.eq(user.id))
        .filter(user_totp::Column::ConfirmedAt.is_null())
        .filter(user_totp::Column::SecretSealed.eq(row.secret_sealed.clone()))
        .exec(&txn)
        .await?
        .rows_affected;
    if confirmed != 1 {
        return Err(AppError::Conflict(
            "The set-up changed meanwhile (another tab?). Reload the page and start again.".into(),
        ));
    }
    user::Entity::update_many()
        .col_expr(user::Column::TwoFactorEnabledAt, Expr::value(now))
        .filter(user::Column::Id.eq(user.id))
        .exec(&txn)
        .await?;
    let codes = replace_recovery_codes(&txn, user.id).await?;
    audit::record(
        &txn,
        AuditEntry::new("user.two_factor_enabled")
            .actor(user.id)
            .target("user", user.id),
        meta,
    )
    .await?;
    outbox::enqueue(
        &txn,
        &s.key,
        &templates::two_factor_changed(s.site(), &user.email, true),
    )
    .await?;
    txn.commit().await?;
    s.mail_queued();
    s.invalidate(Invalidation::All);
    Ok(codes)
}

/// Turns two-factor sign-in off: the password and a current code (or a recovery code) first.
pub async fn disable(
    s: &Services,
    user: &user::Model,
    password: &str,
    code: &str,
    meta: &RequestMeta,
) -> AppResult<()> {
    if !user.two_factor() {
        return Err(AppError::Conflict(
            "Two-factor sign-in is already off.".into(),
        ));
    }
    super::users::confirm_password(s, user, password, "password", meta).await?;
    let row = confirmed_totp(s, user).await?;
    attempt(s, user, code, meta).await?;
    let txn = s.db.begin_write().await?;
    let proof = consume_code(s, &txn, user, row.as_ref(), code, meta).await?;
    user_totp::Entity::delete_by_id(user.id).exec(&txn).await?;
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?;
    user::Entity::update_many()
        .col_expr(
            user::Column::TwoFactorEnabledAt,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .filter(user::Column::Id.eq(user.id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        AuditEntry::new("user.two_factor_disabled")
            .actor(user.id)
            .target("user", user.id)
            .details(json!({ "proof": proof.as_str() })),
        meta,
    )
    .await?;
    outbox::enqueue(
        &txn,
        &s.key,
        &templates::two_factor_changed(s.site(), &user.email, false),
    )
    .await?;
    txn.commit().await?;
    s.mail_queued();
    s.invalidate(Invalidation::All);
    Ok(())
}

/// Ten new recovery codes (the old ones stop working), after a current code.
pub async fn regenerate_recovery_codes(
    s: &Services,
    user: &user::Model,
    code: &str,
    meta: &RequestMeta,
) -> AppResult<Vec<String>> {
    if !user.two_factor() {
        return Err(AppError::Conflict(
            "Turn on two-factor sign-in first.".into(),
        ));
    }
    let row = confirmed_totp(s, user).await?;
    attempt(s, user, code, meta).await?;
    let txn = s.db.begin_write().await?;
    consume_code(s, &txn, user, row.as_ref(), code, meta).await?;
    let codes = replace_recovery_codes(&txn, user.id).await?;
    audit::record(
        &txn,
        AuditEntry::new("user.recovery_codes_regenerated")
            .actor(user.id)
            .target("user", user.id),
        meta,
    )
    .await?;
    txn.commit().await?;
    Ok(codes)
}

/// The second step of signing in: a TOTP code or a recovery code for `user`, used up.
pub async fn verify_sign_in(
    s: &Services,
    user: &user::Model,
    code: &str,
    meta: &RequestMeta,
) -> AppResult<Proof> {
    let row = confirmed_totp(s, user).await?;
    attempt(s, user, code, meta).await?;
    let txn = s.db.begin_write().await?;
    let proof = consume_code(s, &txn, user, row.as_ref(), code, meta).await?;
    if proof == Proof::RecoveryCode {
        audit::record(
            &txn,
            AuditEntry::new("user.recovery_code_used")
                .actor(user.id)
                .target("user", user.id),
            meta,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(proof)
}

/// The account's confirmed TOTP row, read before a transaction starts: on SQLite a
/// transaction must begin with its write (one that reads first can't take the write lock
/// after another writer committed).
async fn confirmed_totp(s: &Services, user: &user::Model) -> AppResult<Option<user_totp::Model>> {
    Ok(user_totp::Entity::find_by_id(user.id)
        .filter(user_totp::Column::ConfirmedAt.is_not_null())
        .one(&s.db)
        .await?)
}

/// Counts an attempt at a code, before the transaction that checks it: the throttle writes on
/// a connection of its own, which a SQLite write transaction already open would block.
async fn attempt(
    s: &Services,
    user: &user::Model,
    code: &str,
    meta: &RequestMeta,
) -> AppResult<()> {
    if code.trim().is_empty() {
        return Err(AppError::invalid("code", "Enter the code."));
    }
    s.throttle
        .second_factor_attempt(user.id, meta.ip.as_deref())
        .await
}

/// Checks `code` (TOTP against `totp_row`, or a recovery code) and uses it up, in the
/// caller's transaction, whose first statement this is; [`attempt`] has counted it (per
/// account and client address). A right code clears the account's count.
async fn consume_code(
    s: &Services,
    txn: &impl ConnectionTrait,
    user: &user::Model,
    totp_row: Option<&user_totp::Model>,
    code: &str,
    meta: &RequestMeta,
) -> AppResult<Proof> {
    let code = code.trim();
    let proof = if code.chars().filter(|c| !c.is_whitespace()).count() == 6 {
        consume_totp(s, txn, user, totp_row, code).await?
    } else {
        consume_recovery(txn, user.id, code).await?
    };
    s.throttle
        .second_factor_succeeded(txn, user.id, meta.ip.as_deref())
        .await?;
    Ok(proof)
}

async fn consume_totp(
    s: &Services,
    txn: &impl ConnectionTrait,
    user: &user::Model,
    row: Option<&user_totp::Model>,
    code: &str,
) -> AppResult<Proof> {
    let row = row.ok_or_else(wrong_code)?;
    let secret = totp_row_secret(s, row)?;
    let t = totp::totp(&secret, &user.email).ok_or(AppError::Internal)?;
    let step = totp::step_of(&t, code, now_secs()).ok_or_else(wrong_code)? as i64;
    // Good once: only a step newer than the last accepted one moves it (and only for the
    // secret the code was checked against).
    let fresh = user_totp::Entity::update_many()
        .col_expr(user_totp::Column::LastUsedStep, Expr::value(step))
        .filter(user_totp::Column::UserId.eq(user.id))
        .filter(user_totp::Column::SecretSealed.eq(row.secret_sealed.clone()))
        .filter(
            Condition::any()
                .add(user_totp::Column::LastUsedStep.is_null())
                .add(user_totp::Column::LastUsedStep.lt(step)),
        )
        .exec(txn)
        .await?
        .rows_affected
        == 1;
    if !fresh {
        return Err(AppError::invalid(
            "code",
            "That code was already used. Wait for the next code in your authenticator app.",
        ));
    }
    Ok(Proof::Totp)
}

async fn consume_recovery(
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    code: &str,
) -> AppResult<Proof> {
    let hash = sha256_hex(&normalize_recovery(code));
    let used = recovery_code::Entity::update_many()
        .col_expr(recovery_code::Column::UsedAt, Expr::value(Utc::now()))
        .filter(recovery_code::Column::UserId.eq(user_id))
        .filter(recovery_code::Column::CodeHash.eq(hash))
        .filter(recovery_code::Column::UsedAt.is_null())
        .exec(txn)
        .await?
        .rows_affected
        == 1;
    if used {
        Ok(Proof::RecoveryCode)
    } else {
        Err(wrong_code())
    }
}

/// Letters and digits that can't be mistaken for one another when typed from paper.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A recovery code as typed: case, spaces and dashes don't matter.
fn normalize_recovery(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Sixteen characters (about 79 bits) in groups of four: `k3m9-…`.
fn new_recovery_code() -> String {
    let mut rng = rand::rngs::OsRng;
    let chars: Vec<char> = (0..16)
        .map(|_| RECOVERY_ALPHABET[rng.gen_range(0..RECOVERY_ALPHABET.len())] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

async fn replace_recovery_codes(
    txn: &impl ConnectionTrait,
    user_id: Uuid,
) -> AppResult<Vec<String>> {
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    let now = Utc::now();
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    recovery_code::Entity::insert_many(codes.iter().map(|c| recovery_code::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        code_hash: Set(sha256_hex(&normalize_recovery(c))),
        created_at: Set(now),
        used_at: Set(None),
    }))
    .exec(txn)
    .await?;
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_long_grouped_and_forgiving_to_type() {
        let c = new_recovery_code();
        assert_eq!(c.len(), 19);
        assert_eq!(c.matches('-').count(), 3);
        assert_eq!(
            normalize_recovery(&c.to_uppercase().replace('-', " ")),
            c.replace('-', "")
        );
        assert_ne!(c, new_recovery_code());
    }
}
