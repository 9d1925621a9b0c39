//! The audit log: one row per security-relevant change, scoped to an org where there is one.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

use super::RequestMeta;
use super::entities::audit_event;
use crate::error::AppResult;

#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    pub org_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub actor_label: Option<String>,
    pub action: &'static str,
    pub target_type: Option<&'static str>,
    pub target_id: Option<String>,
    pub details: Option<serde_json::Value>,
}

impl AuditEntry {
    pub fn new(action: &'static str) -> Self {
        Self {
            action,
            ..Default::default()
        }
    }

    pub fn org(mut self, org_id: Uuid) -> Self {
        self.org_id = Some(org_id);
        self
    }

    pub fn actor(mut self, user_id: Uuid) -> Self {
        self.actor_user_id = Some(user_id);
        self
    }

    pub fn target(mut self, kind: &'static str, id: impl ToString) -> Self {
        self.target_type = Some(kind);
        self.target_id = Some(id.to_string());
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }
}

pub async fn record(
    db: &impl ConnectionTrait,
    entry: AuditEntry,
    meta: &RequestMeta,
) -> AppResult<()> {
    row(entry, meta).insert(db).await?;
    Ok(())
}

/// The row an entry becomes (for writers that batch inserts).
pub fn row(entry: AuditEntry, meta: &RequestMeta) -> audit_event::ActiveModel {
    audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(entry.org_id),
        actor_user_id: Set(entry.actor_user_id),
        actor_label: Set(entry.actor_label),
        action: Set(entry.action.to_string()),
        target_type: Set(entry.target_type.map(str::to_string)),
        target_id: Set(entry.target_id),
        details: Set(entry.details.map(|d| d.to_string())),
        ip: Set(meta.ip.clone()),
        user_agent: Set(meta
            .user_agent
            .as_ref()
            .map(|ua| ua.chars().take(512).collect())),
        created_at: Set(Utc::now()),
    }
}

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
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
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
        q = q.filter(
            sea_orm::Condition::any()
                .add(audit_event::Column::Action.eq(action))
                .add(audit_event::Column::Action.starts_with(format!("{action}."))),
        );
    }
    if let Some(t) = filter.since {
        q = q.filter(audit_event::Column::CreatedAt.gte(t));
    }
    if let Some(t) = filter.until {
        q = q.filter(audit_event::Column::CreatedAt.lt(t));
    }
    let rows = q
        .order_by_desc(audit_event::Column::CreatedAt)
        .order_by_desc(audit_event::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    let emails =
        super::connections::emails_of(db, rows.iter().filter_map(|r| r.actor_user_id)).await?;
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
