//! Organizations: creation (the creator becomes admin), lookup and the member's view of them.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::audit::{self, AuditEntry};
use super::entities::{membership, organization, user};
use super::validate::Slug;
use super::{RequestMeta, is_unique_violation};
use crate::domain::write_txn::BeginWrite;
use crate::error::{AppError, AppResult};
use crate::model::{OrgOverview, OrgView, Role};

pub async fn create_org(
    db: &DatabaseConnection,
    owner_id: Uuid,
    slug: &Slug,
    name: String,
    meta: &RequestMeta,
) -> AppResult<organization::Model> {
    let taken = || {
        AppError::invalid(
            "slug",
            format!("The URL name “{}” is taken. Choose another.", slug.as_str()),
        )
    };
    if find_by_slug(db, slug.as_str()).await?.is_some() {
        return Err(taken());
    }
    let txn = db.begin_write().await?;
    let now = Utc::now();
    let org = organization::ActiveModel {
        id: Set(Uuid::now_v7()),
        slug: Set(slug.as_str().to_string()),
        name: Set(name),
        mcp_enabled: Set(true),
        personal_tokens_enabled: Set(true),
        mcp_oauth_pats_enabled: Set(true),
        dynamic_registration_enabled: Set(true),
        allowed_redirect_hosts: Set("[]".into()),
        access_token_ttl_secs: Set(3600),
        refresh_token_ttl_secs: Set(30 * 24 * 3600),
        pat_max_ttl_days: Set(365),
        two_factor_policy: Set(crate::model::TwoFactorPolicy::Off),
        metadata_clients_enabled: Set(true),
        allowed_client_domains: Set("[]".into()),
        blocked_client_domains: Set("[]".into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            taken()
        } else {
            e.into()
        }
    })?;
    membership::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(org.id),
        user_id: Set(owner_id),
        role: Set(Role::Admin),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        AuditEntry::new("org.created")
            .org(org.id)
            .actor(owner_id)
            .target("org", org.id),
        meta,
    )
    .await?;
    txn.commit().await?;
    Ok(org)
}

pub async fn find_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> AppResult<Option<organization::Model>> {
    Ok(organization::Entity::find()
        .filter(organization::Column::Slug.eq(slug.trim().to_lowercase()))
        .one(db)
        .await?)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<organization::Model>> {
    Ok(organization::Entity::find_by_id(id).one(db).await?)
}

pub fn view(org: &organization::Model, role: Role) -> OrgView {
    OrgView {
        id: org.id,
        slug: org.slug.clone(),
        name: org.name.clone(),
        role,
    }
}

/// The user's role in the org as it is now, if they are a member.
pub async fn role_in(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    user_id: Uuid,
) -> AppResult<Option<Role>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org_id))
        .filter(membership::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .map(|m| m.role))
}

/// Every org the user belongs to, by name.
pub async fn orgs_of(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Vec<OrgView>> {
    let rows = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .find_also_related(organization::Entity)
        .all(db)
        .await?;
    let mut orgs: Vec<OrgView> = rows
        .into_iter()
        .filter_map(|(m, org)| org.map(|o| view(&o, m.role)))
        .collect();
    orgs.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.slug.cmp(&b.slug))
    });
    Ok(orgs)
}

/// The org behind `slug` if the user belongs to it. Unknown slugs and orgs the user is not in
/// get the same answer, so slugs can't be probed.
pub async fn member_org(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    slug: &str,
) -> AppResult<(organization::Model, Role)> {
    let not_found = || {
        AppError::not_found(format!(
            "There is no organization “{}” that you belong to.",
            slug.trim()
        ))
    };
    let org = find_by_slug(db, slug).await?.ok_or_else(not_found)?;
    let role = role_in(db, org.id, user_id).await?.ok_or_else(not_found)?;
    Ok((org, role))
}

/// The org's page, for a member the org lets in (its two-factor policy).
pub async fn overview(
    db: &impl ConnectionTrait,
    user: &user::Model,
    slug: &str,
    current_org: Option<Uuid>,
) -> AppResult<OrgOverview> {
    let (org, role) = member_org(db, user.id, slug).await?;
    super::access::member(&org, role, user.two_factor())?;
    let member_count = membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org.id))
        .count(db)
        .await?;
    Ok(OrgOverview {
        is_current: current_org == Some(org.id),
        member_count,
        created_at: org.created_at,
        org: view(&org, role),
    })
}

/// Takes the org's row lock (PostgreSQL) or the database write lock (SQLite) for the rest of
/// the transaction, so checks like "is this the last admin?" can't race.
pub(crate) async fn lock(txn: &impl ConnectionTrait, org_id: Uuid) -> AppResult<()> {
    organization::Entity::update_many()
        .col_expr(
            organization::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(organization::Column::Id.eq(org_id))
        .exec(txn)
        .await?;
    Ok(())
}
