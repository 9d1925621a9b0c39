//! Invitations by email: a one-time link (stored as SHA-256) sent by mail to the invited
//! address, never shown to the admin. The person who follows it signs in or signs up with that
//! address and joins with the given role; having followed a link from that mailbox, the
//! account's address counts as verified.

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, AuditEntry};
use super::entities::{invitation, organization, user};
use super::mail::{outbox, templates};
use super::secrets::{random_urlsafe, sha256_hex};
use super::validate::Email;
use super::{RequestMeta, Services};
use crate::domain::write_txn::BeginWrite;
use crate::error::{AppError, AppResult};
use crate::model::{AddMemberOutcome, InvitationInfo, InvitationState, InvitationView, Role};

pub const VALID_FOR_DAYS: i64 = 7;

/// Adds the account with this email if it has proved its address; otherwise mails the address
/// an invitation, which only the reader of that mailbox can accept. (An account anyone could
/// sign up with someone else's address must not receive that person's role.)
pub async fn add_by_email(
    s: &Services,
    actor_id: Uuid,
    org: &organization::Model,
    email: &Email,
    role: Role,
    meta: &RequestMeta,
) -> AppResult<AddMemberOutcome> {
    match super::users::find_by_email(&s.db, email.as_str()).await? {
        Some(existing) if existing.email_verified() => {
            super::members::add_user(&s.db, actor_id, org, &existing, role, meta).await?;
            Ok(AddMemberOutcome::Added {
                email: existing.email,
                role,
            })
        }
        _ => {
            create(s, actor_id, org, email, role, meta).await?;
            Ok(AddMemberOutcome::Invited {
                email: email.as_str().to_string(),
                role,
            })
        }
    }
}

/// Creates an invitation (replacing a pending one for the same address) and mails its link.
pub async fn create(
    s: &Services,
    actor_id: Uuid,
    org: &organization::Model,
    email: &Email,
    role: Role,
    meta: &RequestMeta,
) -> AppResult<()> {
    let token = random_urlsafe(32);
    let now = Utc::now();
    let txn = s.db.begin_write().await?;
    invitation::Entity::update_many()
        .col_expr(
            invitation::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(invitation::Column::OrgId.eq(org.id))
        .filter(invitation::Column::Email.eq(email.as_str()))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    let inv = invitation::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(org.id),
        email: Set(email.as_str().to_string()),
        role: Set(role),
        token_hash: Set(sha256_hex(&token)),
        invited_by: Set(Some(actor_id)),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(VALID_FOR_DAYS)),
        accepted_at: Set(None),
        accepted_by: Set(None),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        AuditEntry::new("member.invited")
            .org(org.id)
            .actor(actor_id)
            .target("invitation", inv.id)
            .details(json!({ "email": email.as_str(), "role": role.as_str() })),
        meta,
    )
    .await?;
    queue_mail(s, &txn, actor_id, org, &inv, &token).await?;
    txn.commit().await?;
    s.mail_queued();
    Ok(())
}

/// Queues the invitation mail carrying `token`, in the caller's transaction.
async fn queue_mail(
    s: &Services,
    txn: &impl ConnectionTrait,
    actor_id: Uuid,
    org: &organization::Model,
    inv: &invitation::Model,
    token: &str,
) -> AppResult<()> {
    let inviter = super::users::find(txn, actor_id).await?.map(|u| u.email);
    let mail = templates::invitation(
        s.site(),
        &inv.email,
        &org.name,
        inviter.as_deref(),
        inv.role.label(),
        &format!("{}/invite/{token}", s.settings.public_url),
        VALID_FOR_DAYS,
    );
    outbox::enqueue(txn, &s.key, &mail).await?;
    Ok(())
}

/// Sends a pending invitation again, with a new link (the old one stops working) and a new
/// expiry.
pub async fn resend(
    s: &Services,
    actor_id: Uuid,
    org: &organization::Model,
    invitation_id: Uuid,
    meta: &RequestMeta,
) -> AppResult<String> {
    let token = random_urlsafe(32);
    let now = Utc::now();
    let used = || AppError::Conflict("That invitation was already used or revoked.".into());
    let inv = invitation::Entity::find_by_id(invitation_id)
        .filter(invitation::Column::OrgId.eq(org.id))
        .one(&s.db)
        .await?
        .ok_or_else(|| {
            AppError::not_found("That invitation doesn't exist in this organization.")
        })?;
    if inv.accepted_at.is_some() || inv.revoked_at.is_some() {
        return Err(used());
    }
    let txn = s.db.begin_write().await?;
    // Still pending as it is written (an accept may have won meanwhile).
    let renewed = invitation::Entity::update_many()
        .col_expr(
            invitation::Column::TokenHash,
            sea_orm::sea_query::Expr::value(sha256_hex(&token)),
        )
        .col_expr(
            invitation::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(now + Duration::days(VALID_FOR_DAYS)),
        )
        .filter(invitation::Column::Id.eq(inv.id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if renewed != 1 {
        return Err(used());
    }
    let inv = invitation::Model {
        token_hash: sha256_hex(&token),
        expires_at: now + Duration::days(VALID_FOR_DAYS),
        ..inv
    };
    audit::record(
        &txn,
        AuditEntry::new("member.invitation_resent")
            .org(org.id)
            .actor(actor_id)
            .target("invitation", inv.id)
            .details(json!({ "email": inv.email })),
        meta,
    )
    .await?;
    queue_mail(s, &txn, actor_id, org, &inv, &token).await?;
    txn.commit().await?;
    s.mail_queued();
    Ok(inv.email)
}

pub async fn list_pending(
    db: &impl ConnectionTrait,
    org_id: Uuid,
) -> AppResult<Vec<InvitationView>> {
    let now = Utc::now();
    let rows = invitation::Entity::find()
        .filter(invitation::Column::OrgId.eq(org_id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .filter(invitation::Column::ExpiresAt.gt(now))
        .order_by_desc(invitation::Column::CreatedAt)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for inv in rows {
        let invited_by = match inv.invited_by {
            Some(id) => super::users::find(db, id).await?.map(|u| u.email),
            None => None,
        };
        out.push(InvitationView {
            id: inv.id,
            email: inv.email,
            role: inv.role,
            invited_by,
            created_at: inv.created_at,
            expires_at: inv.expires_at,
        });
    }
    Ok(out)
}

pub async fn revoke(
    db: &impl ConnectionTrait,
    actor_id: Uuid,
    org: &organization::Model,
    invitation_id: Uuid,
    meta: &RequestMeta,
) -> AppResult<String> {
    let inv = invitation::Entity::find_by_id(invitation_id)
        .filter(invitation::Column::OrgId.eq(org.id))
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::not_found("That invitation doesn't exist in this organization.")
        })?;
    if inv.accepted_at.is_some() || inv.revoked_at.is_some() {
        return Err(AppError::Conflict(
            "That invitation was already used or revoked.".into(),
        ));
    }
    let email = inv.email.clone();
    let mut active: invitation::ActiveModel = inv.into();
    active.revoked_at = Set(Some(Utc::now()));
    active.update(db).await?;
    audit::record(
        db,
        AuditEntry::new("member.invitation_revoked")
            .org(org.id)
            .actor(actor_id)
            .target("invitation", invitation_id)
            .details(json!({ "email": email })),
        meta,
    )
    .await?;
    Ok(email)
}

fn state_of(inv: &invitation::Model) -> InvitationState {
    if inv.accepted_at.is_some() {
        InvitationState::Accepted
    } else if inv.revoked_at.is_some() {
        InvitationState::Revoked
    } else if inv.expires_at <= Utc::now() {
        InvitationState::Expired
    } else {
        InvitationState::Pending
    }
}

async fn by_token(
    db: &impl ConnectionTrait,
    token: &str,
) -> AppResult<(invitation::Model, organization::Model)> {
    let not_found = || {
        AppError::not_found(
            "This invitation link is not valid. Ask the admin who invited you for a new one.",
        )
    };
    let inv = invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(sha256_hex(token.trim())))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let org = super::orgs::find(db, inv.org_id)
        .await?
        .ok_or_else(not_found)?;
    Ok((inv, org))
}

pub async fn info(
    db: &impl ConnectionTrait,
    token: &str,
    viewer: Option<&user::Model>,
) -> AppResult<InvitationInfo> {
    let (inv, org) = by_token(db, token).await?;
    let invited_by = match inv.invited_by {
        Some(id) => super::users::find(db, id).await?.map(|u| u.email),
        None => None,
    };
    let already_member = match viewer {
        Some(u) => super::orgs::role_in(db, org.id, u.id).await?.is_some(),
        None => false,
    };
    Ok(InvitationInfo {
        state: state_of(&inv),
        org_name: org.name,
        org_slug: org.slug,
        email: inv.email,
        role: inv.role,
        invited_by,
        expires_at: inv.expires_at,
        signed_in_as: viewer.map(|u| u.email.clone()),
        already_member,
    })
}

/// Accepts the invitation for `user`, whose email must be the invited one. Used once. The
/// link reached `user` through the invited mailbox, so the address counts as verified.
pub async fn accept(
    db: &DatabaseConnection,
    token: &str,
    user: &user::Model,
    meta: &RequestMeta,
) -> AppResult<organization::Model> {
    let (inv, org) = by_token(db, token).await?;
    match state_of(&inv) {
        InvitationState::Pending => {}
        InvitationState::Accepted => {
            return Err(AppError::Conflict(
                "This invitation has already been used.".into(),
            ));
        }
        InvitationState::Revoked => {
            return Err(AppError::Conflict(
                "This invitation was withdrawn by an admin.".into(),
            ));
        }
        InvitationState::Expired => {
            return Err(AppError::Conflict(
                "This invitation has expired. Ask the admin for a new one.".into(),
            ));
        }
    }
    if inv.email != user.email {
        return Err(AppError::forbidden(format!(
            "This invitation is for {}, but you are signed in as {}. Sign in with the invited address.",
            inv.email, user.email
        )));
    }
    let txn = db.begin_write().await?;
    // Claim the invitation atomically: of two concurrent accepts exactly one updates the row.
    let claimed = invitation::Entity::update_many()
        .col_expr(
            invitation::Column::AcceptedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .col_expr(
            invitation::Column::AcceptedBy,
            sea_orm::sea_query::Expr::value(user.id),
        )
        .filter(invitation::Column::Id.eq(inv.id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::Conflict(
            "This invitation has already been used.".into(),
        ));
    }
    if !user.email_verified() {
        super::users::mark_verified(&txn, user, "invitation", meta).await?;
    }
    if super::orgs::role_in(&txn, org.id, user.id).await?.is_none() {
        let actor = inv.invited_by.unwrap_or(user.id);
        super::members::add_user(&txn, actor, &org, user, inv.role, meta).await?;
    }
    audit::record(
        &txn,
        AuditEntry::new("member.invitation_accepted")
            .org(org.id)
            .actor(user.id)
            .target("invitation", inv.id),
        meta,
    )
    .await?;
    txn.commit().await?;
    Ok(org)
}
