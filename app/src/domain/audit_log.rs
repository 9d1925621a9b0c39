//! Reading the audit log: an org's events filtered by actor, action and time, as people read
//! them (actor emails, details in one line). Writing is [`super::audit`]'s.

use chrono::Utc;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::entities::audit_event;
use crate::error::AppResult;

/// Which audit events to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_user_id: Option<Uuid>,
    /// Matches this action and every action under it (`oauth` matches `oauth.token.revoked`).
    pub action: Option<String>,
    pub since: Option<chrono::DateTime<Utc>>,
    pub until: Option<chrono::DateTime<Utc>>,
}

/// One audit event as people read it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditView {
    pub id: Uuid,
    pub at: chrono::DateTime<Utc>,
    pub actor_user_id: Option<Uuid>,
    pub actor: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub details: Option<serde_json::Value>,
    pub ip: Option<String>,
}

/// The org's events matching `filter`, newest first: `limit` rows after skipping `offset`.
pub async fn query(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    filter: &AuditFilter,
    offset: u64,
    limit: u64,
) -> AppResult<Vec<AuditView>> {
    use sea_orm::{QueryOrder, QuerySelect};
    let rows = select(org_id, filter)
        .order_by_desc(audit_event::Column::CreatedAt)
        .order_by_desc(audit_event::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    let emails = super::users::emails_of(db, rows.iter().filter_map(|r| r.actor_user_id)).await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditView {
            id: r.id,
            at: r.created_at,
            actor: r
                .actor_user_id
                .and_then(|id| emails.get(&id).cloned())
                .or(r.actor_label),
            actor_user_id: r.actor_user_id,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            details: r.details.and_then(|d| serde_json::from_str(&d).ok()),
            ip: r.ip,
        })
        .collect())
}

/// How many of the org's events match `filter` (for pages).
pub async fn count(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    filter: &AuditFilter,
) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(select(org_id, filter).count(db).await?)
}

/// Events per page of the audit log.
pub const PAGE_SIZE: u64 = 50;

/// One page of the org's events matching `filter`, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    pub events: Vec<AuditView>,
    /// This page, from 1 (a page past the end shows the last one).
    pub page: u64,
    /// How many pages there are (at least 1).
    pub pages: u64,
    pub total: u64,
}

/// Page `page` (from 1) of [`PAGE_SIZE`] events of the org matching `filter`, newest first.
pub async fn page(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    filter: &AuditFilter,
    page: u64,
) -> AppResult<AuditPage> {
    let total = count(db, org_id, filter).await?;
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let events = query(db, org_id, filter, (page - 1) * PAGE_SIZE, PAGE_SIZE).await?;
    Ok(AuditPage {
        events,
        page,
        pages,
        total,
    })
}

/// The user with this email (any case), for filtering by actor.
pub async fn actor_by_email(db: &impl ConnectionTrait, email: &str) -> AppResult<Option<Uuid>> {
    Ok(super::users::find_by_email(db, email).await?.map(|u| u.id))
}

/// True if `action` can name an action or a prefix of one (`oauth`, `pat.created`).
pub fn is_action_prefix(action: &str) -> bool {
    !action.is_empty()
        && action.len() <= 100
        && action
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_')
}

fn select(org_id: Uuid, filter: &AuditFilter) -> sea_orm::Select<audit_event::Entity> {
    use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let mut q = audit_event::Entity::find().filter(audit_event::Column::OrgId.eq(org_id));
    if let Some(a) = filter.actor_user_id {
        q = q.filter(audit_event::Column::ActorUserId.eq(a));
    }
    if let Some(action) = filter
        .action
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        // `oauth` matches `oauth` and `oauth.…`, never `oauthx`; `_` and `%` are literal.
        let escaped = action
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        q = q.filter(
            sea_orm::Condition::any()
                .add(audit_event::Column::Action.eq(action))
                .add(
                    Expr::col((audit_event::Entity, audit_event::Column::Action))
                        .like(LikeExpr::new(format!("{escaped}.%")).escape('\\')),
                ),
        );
    }
    if let Some(t) = filter.since {
        q = q.filter(audit_event::Column::CreatedAt.gte(t));
    }
    if let Some(t) = filter.until {
        q = q.filter(audit_event::Column::CreatedAt.lt(t));
    }
    q
}

/// Details in one short line: `mcp_enabled: true → false, pat_max_ttl_days: 365 → 90`.
pub fn summarize(details: &serde_json::Value) -> String {
    use serde_json::Value;
    fn scalar(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Null => "none".into(),
            Value::Array(items) if items.is_empty() => "[]".into(),
            Value::Array(items) => items.iter().map(scalar).collect::<Vec<_>>().join(", "),
            other => other.to_string(),
        }
    }
    match details {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                Value::Object(o) if o.contains_key("from") && o.contains_key("to") => {
                    format!("{k}: {} → {}", scalar(&o["from"]), scalar(&o["to"]))
                }
                Value::Object(_) => format!("{k}: {v}"),
                Value::Array(_) => format!("{k}: [{}]", scalar(v)),
                _ => format!("{k}: {}", scalar(v)),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Value::Null => String::new(),
        other => scalar(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn details_read_in_one_line() {
        assert_eq!(
            summarize(
                &json!({"mcp_enabled": {"from": true, "to": false}, "allowed_redirect_hosts": {"from": [], "to": ["a.test", "b.test"]}})
            ),
            "allowed_redirect_hosts: [] → a.test, b.test; mcp_enabled: true → false"
        );
        assert_eq!(
            summarize(&json!({"role": "admin", "scopes": ["mcp:read"]})),
            "role: admin; scopes: [mcp:read]"
        );
        assert_eq!(summarize(&json!(null)), "");
    }

    #[test]
    fn action_prefixes() {
        for ok in ["oauth", "pat.created", "oauth.refresh_token"] {
            assert!(is_action_prefix(ok), "{ok}");
        }
        for bad in ["", "OAuth", "pat%", "a b", "x'--"] {
            assert!(!is_action_prefix(bad), "{bad}");
        }
    }
}
