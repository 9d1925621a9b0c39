//! Memberships: listing, adding by email (or inviting), changing roles and removing, with the
//! rule that an organization always keeps at least one admin.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::access::Invalidation;
use super::audit::{self, AuditEntry};
use super::entities::{membership, organization, sso_identity, user};
use super::oauth::tokens::revoke_member_grants;
use super::orgs::lock;
use super::{RequestMeta, Services, is_unique_violation};
use crate::domain::write_txn::BeginWrite;
use crate::error::{AppError, AppResult};
use crate::model::{MemberView, Role};

pub async fn list(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    viewer_id: Uuid,
) -> AppResult<Vec<MemberView>> {
    let rows = membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org_id))
        .find_also_related(user::Entity)
        .all(db)
        .await?;
    let linked = sso_linked(db, org_id, None).await?;
    let mut members: Vec<MemberView> = rows
        .into_iter()
        .filter_map(|(m, u)| {
            u.map(|u| MemberView {
                two_factor: u.two_factor(),
                sso: linked.contains(&u.id),
                membership_id: m.id,
                user_id: u.id,
                email: u.email,
                name: u.name,
                role: m.role,
                joined_at: m.created_at,
                is_self: m.user_id == viewer_id,
            })
        })
        .collect();
    members.sort_by(|a, b| b.role.cmp(&a.role).then(a.email.cmp(&b.email)));
    Ok(members)
}

/// Members of `org_id` (or just `only`) whose accounts are linked to its SSO provider.
async fn sso_linked(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    only: Option<Uuid>,
) -> AppResult<std::collections::HashSet<Uuid>> {
    let mut q = sso_identity::Entity::find().filter(sso_identity::Column::OrgId.eq(org_id));
    if let Some(user_id) = only {
        q = q.filter(sso_identity::Column::UserId.eq(user_id));
    }
    Ok(q.all(db).await?.into_iter().map(|i| i.user_id).collect())
}

pub async fn admin_count(db: &impl ConnectionTrait, org_id: Uuid) -> AppResult<u64> {
    Ok(membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org_id))
        .filter(membership::Column::Role.eq(Role::Admin))
        .count(db)
        .await?)
}

/// Adds an existing user; refuses if they are already a member.
pub async fn add_user(
    db: &impl ConnectionTrait,
    actor_id: Uuid,
    org: &organization::Model,
    user: &user::Model,
    role: Role,
    meta: &RequestMeta,
) -> AppResult<membership::Model> {
    let already = || {
        AppError::invalid(
            "email",
            format!("{} is already a member of {}.", user.email, org.name),
        )
    };
    if super::orgs::role_in(db, org.id, user.id).await?.is_some() {
        return Err(already());
    }
    let now = Utc::now();
    let m = membership::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(org.id),
        user_id: Set(user.id),
        role: Set(role),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            already()
        } else {
            e.into()
        }
    })?;
    audit::record(
        db,
        AuditEntry::new("member.added")
            .org(org.id)
            .actor(actor_id)
            .target("user", user.id)
            .details(json!({ "email": user.email, "role": role.as_str() })),
        meta,
    )
    .await?;
    Ok(m)
}

async fn find_in_org(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    membership_id: Uuid,
) -> AppResult<membership::Model> {
    membership::Entity::find_by_id(membership_id)
        .filter(membership::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("That person is not a member of this organization."))
}

fn last_admin(org_name: &str, doing: &str) -> AppError {
    AppError::Conflict(format!(
        "You can't {doing} the last admin of {org_name}. Make another member an admin first."
    ))
}

pub async fn change_role(
    s: &Services,
    actor_id: Uuid,
    org: &organization::Model,
    membership_id: Uuid,
    role: Role,
    meta: &RequestMeta,
) -> AppResult<MemberView> {
    let txn = s.db.begin_write().await?;
    lock(&txn, org.id).await?;
    let m = find_in_org(&txn, org.id, membership_id).await?;
    let old = m.role;
    if old == Role::Admin && role != Role::Admin && admin_count(&txn, org.id).await? <= 1 {
        return Err(last_admin(&org.name, "demote"));
    }
    let user = super::users::find(&txn, m.user_id)
        .await?
        .ok_or(AppError::Internal)?;
    let mut active: membership::ActiveModel = m.into();
    active.role = Set(role);
    active.updated_at = Set(Utc::now());
    let m = active.update(&txn).await?;
    if old != role {
        audit::record(
            &txn,
            AuditEntry::new("member.role_changed")
                .org(org.id)
                .actor(actor_id)
                .target("user", user.id)
                .details(json!({ "email": user.email, "from": old.as_str(), "to": role.as_str() })),
            meta,
        )
        .await?;
    }
    txn.commit().await?;
    // Tokens act with the member's role as it is now: nothing cached may outlive the change.
    s.invalidate(Invalidation::All);
    Ok(MemberView {
        two_factor: user.two_factor(),
        sso: !sso_linked(&s.db, org.id, Some(user.id)).await?.is_empty(),
        membership_id: m.id,
        user_id: user.id,
        email: user.email,
        name: user.name,
        role,
        joined_at: m.created_at,
        is_self: user.id == actor_id,
    })
}

/// Removes a member. Everything they hold in the org ends with it (connections, PATs,
/// remembered consents), so nothing comes back if they are ever added again.
pub async fn remove(
    s: &Services,
    actor_id: Uuid,
    org: &organization::Model,
    membership_id: Uuid,
    meta: &RequestMeta,
) -> AppResult<String> {
    let txn = s.db.begin_write().await?;
    lock(&txn, org.id).await?;
    let m = find_in_org(&txn, org.id, membership_id).await?;
    if m.role == Role::Admin && admin_count(&txn, org.id).await? <= 1 {
        return Err(last_admin(&org.name, "remove"));
    }
    let user = super::users::find(&txn, m.user_id)
        .await?
        .ok_or(AppError::Internal)?;
    membership::Entity::delete_by_id(m.id).exec(&txn).await?;
    revoke_member_grants(&txn, user.id, org.id, Some(actor_id), "member_removed").await?;
    audit::record(
        &txn,
        AuditEntry::new("member.removed")
            .org(org.id)
            .actor(actor_id)
            .target("user", user.id)
            .details(json!({ "email": user.email, "role": m.role.as_str() })),
        meta,
    )
    .await?;
    txn.commit().await?;
    s.invalidate(Invalidation::All);
    Ok(user.email)
}
