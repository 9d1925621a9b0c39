//! Standard personal access tokens (PATs, `gate_pat_…`): a member creates, lists and revokes
//! their own, one organization at a time. Admins see and manage every PAT of the org in
//! [`super::org_admin`]; the MCP endpoint checks them on every request ([`super::mcp::bearer`]).

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use super::access::{self, Invalidation};
use super::audit::{self, AuditEntry};
use super::entities::token::TokenKind;
use super::entities::{organization, token, user};
use super::oauth::scope;
use super::oauth::token_format::SecretKind;
use super::oauth::tokens::{self, TokenSpec};
use super::{RequestMeta, Services, validate};
use crate::domain::write_txn::BeginWrite;
use crate::error::{AppError, AppResult};
use crate::model::{CreatedPat, PatList, PatView, Role};

/// Rows per page of a user's token list.
pub const PAGE_SIZE: u64 = 50;
/// Lifetimes offered in the form (those within the org's maximum).
pub const EXPIRY_PRESETS_DAYS: [i32; 4] = [7, 30, 90, 365];
/// The lifetime preselected in the form (or the org's maximum when that is shorter).
pub const DEFAULT_EXPIRY_DAYS: i32 = 30;

/// What a new token should be.
#[derive(Debug, Clone, Default)]
pub struct NewPat {
    pub name: String,
    /// Scope names as the form sent them (`mcp:read`, `mcp:write`).
    pub scopes: Vec<String>,
    pub expires_in_days: i64,
}

/// Why this member can't create a token in this org, in plain words; `None` when they can.
/// The role comes first: a viewer learns about their role, not about the org's policy.
pub fn refusal(org: &organization::Model, role: Role, two_factor: bool) -> Option<String> {
    access::create_pat(org, role, two_factor)
        .err()
        .map(|d| d.to_string())
}

/// The lifetimes (days) the form offers: the presets within the org's maximum, plus the
/// maximum itself when it falls below the longest preset and is not one of them.
pub fn expiry_choices(max_days: i32) -> Vec<i32> {
    let max = max_days.max(1);
    let mut out: Vec<i32> = EXPIRY_PRESETS_DAYS
        .into_iter()
        .filter(|d| *d <= max)
        .collect();
    let longest = EXPIRY_PRESETS_DAYS[EXPIRY_PRESETS_DAYS.len() - 1];
    if max < longest && !out.contains(&max) {
        out.push(max);
    }
    out
}

pub fn default_expiry_days(max_days: i32) -> i32 {
    DEFAULT_EXPIRY_DAYS.min(max_days.max(1))
}

pub fn view(t: &token::Model) -> PatView {
    let status = t.status(Utc::now());
    PatView {
        id: t.id,
        name: t.name.clone().unwrap_or_default(),
        hint: t.hint(),
        scopes: t.scope.split_whitespace().map(str::to_string).collect(),
        created_at: t.created_at,
        last_used_at: t.last_used_at,
        expires_at: t.expires_at,
        status,
    }
}

fn parse_expiry(days: i64, org: &organization::Model) -> AppResult<i64> {
    let max = i64::from(org.pat_max_ttl_days.max(1));
    if !(1..=max).contains(&days) {
        return Err(AppError::invalid(
            "expires_in_days",
            format!(
                "Choose an expiry between 1 and {max} days; {} allows personal tokens to live at most {max} days.",
                org.name
            ),
        ));
    }
    Ok(days)
}

/// Creates a PAT for `user` in `org`. Returns the secret (shown once, never stored) and the
/// token as the list shows it. Nothing is written when the role, the org's policy or the input
/// refuses it.
pub async fn create(
    s: &Services,
    user: &user::Model,
    org: &organization::Model,
    role: Role,
    new: &NewPat,
    meta: &RequestMeta,
) -> AppResult<CreatedPat> {
    if let Err(denial) = access::create_pat(org, role, user.two_factor()) {
        return Err(denial.into());
    }
    let user_id = user.id;
    let name = validate::item_name(
        &new.name,
        "Give the token a name, so you can recognise it later (e.g. “CI deploy” or “Cursor on my laptop”).",
    )?;
    let scopes = scope::parse_chosen(&new.scopes, "Choose at least one permission")?;
    let days = parse_expiry(new.expires_in_days, org)?;
    let scope = scopes.to_string();
    let txn = s.db.begin_write().await?;
    let (secret, row) = tokens::issue(
        &txn,
        SecretKind::PersonalToken,
        Some(Duration::days(days)),
        &TokenSpec {
            user_id,
            org_id: org.id,
            client_id: None,
            connection_id: None,
            family_id: None,
            parent_id: None,
            scope: &scope,
            resource: None,
            name: Some(name.clone()),
        },
    )
    .await?;
    audit::record(
        &txn,
        AuditEntry::new("pat.created")
            .org(org.id)
            .actor(user_id)
            .target("token", row.id)
            .details(json!({
                "name": name,
                "scope": scope,
                "expires_at": row.expires_at,
                "hint": row.hint(),
            })),
        meta,
    )
    .await?;
    txn.commit().await?;
    Ok(CreatedPat {
        secret,
        token: view(&row),
    })
}

/// `user_id`'s PATs in `org_id`, newest first, page `page` (from 1) of [`PAGE_SIZE`] rows.
pub async fn list_for_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    org_id: Uuid,
    page: u64,
) -> AppResult<PatList> {
    let q = token::Entity::find()
        .filter(token::Column::UserId.eq(user_id))
        .filter(token::Column::OrgId.eq(org_id))
        .filter(token::Column::Kind.eq(TokenKind::Pat));
    let total = q.clone().count(db).await?;
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let rows = q
        .order_by_desc(token::Column::CreatedAt)
        .order_by_desc(token::Column::Id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
        .all(db)
        .await?;
    Ok(PatList {
        tokens: rows.iter().map(view).collect(),
        page,
        pages,
        total,
    })
}

/// Revokes one of the caller's own PATs in `org_id`. Anyone else's token, another org's, or
/// an unknown id is "not found", with nothing changed or revealed. Revoking a revoked token
/// changes nothing and succeeds.
pub async fn revoke_own(
    s: &Services,
    user_id: Uuid,
    org_id: Uuid,
    token_id: Uuid,
    meta: &RequestMeta,
) -> AppResult<PatView> {
    let find = || async {
        token::Entity::find_by_id(token_id)
            .one(&s.db)
            .await
            .map(|t| {
                t.filter(|t| t.kind == TokenKind::Pat && t.user_id == user_id && t.org_id == org_id)
            })
    };
    let not_found = || AppError::not_found("There is no such token among yours.");
    let t = find().await?.ok_or_else(not_found)?;
    if t.revoked_at.is_some() {
        return Ok(view(&t));
    }
    let txn = s.db.begin_write().await?;
    let changed = token::Entity::update_many()
        .col_expr(token::Column::RevokedAt, Expr::value(Utc::now()))
        .col_expr(token::Column::RevokeReason, Expr::value("revoked_by_user"))
        .filter(token::Column::Id.eq(t.id))
        .filter(token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if changed > 0 {
        audit::record(
            &txn,
            AuditEntry::new("pat.revoked")
                .org(org_id)
                .actor(user_id)
                .target("token", t.id)
                .details(json!({ "by": "user", "name": t.name })),
            meta,
        )
        .await?;
    }
    txn.commit().await?;
    s.invalidate(Invalidation::Token(t.token_hash.clone()));
    find().await?.map(|t| view(&t)).ok_or_else(not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_choices_follow_the_org_maximum() {
        assert_eq!(expiry_choices(365), vec![7, 30, 90, 365]);
        assert_eq!(expiry_choices(3650), vec![7, 30, 90, 365]);
        assert_eq!(expiry_choices(90), vec![7, 30, 90]);
        assert_eq!(expiry_choices(60), vec![7, 30, 60]);
        assert_eq!(expiry_choices(3), vec![3]);
        assert_eq!(default_expiry_days(365), 30);
        assert_eq!(default_expiry_days(30), 30);
        assert_eq!(default_expiry_days(7), 7);
    }
}
