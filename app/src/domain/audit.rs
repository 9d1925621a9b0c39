//! The audit log: one row per security-relevant change, scoped to an org where there is one.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

use super::entities::audit_event;
use super::{RequestMeta, Services};
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

    /// By an account, or (`None`) by the operator at the command line.
    pub fn by(mut self, actor: Option<Uuid>) -> Self {
        match actor {
            Some(id) => self.actor_user_id = Some(id),
            None => self.actor_label = Some("operator (command line)".into()),
        }
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

/// Records `entry` through the services' batching writer (see `audit_writer`), or at once where
/// there is none (outside a runtime).
pub async fn record_queued(s: &Services, entry: AuditEntry, meta: &RequestMeta) -> AppResult<()> {
    let mut row = row(entry, meta);
    if let Some(writer) = s.audits() {
        match writer.queue(row).await {
            Ok(()) => return Ok(()),
            Err(back) => row = back,
        }
    }
    row.insert(&s.db).await?;
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
