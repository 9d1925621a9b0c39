//! Connections (MCP OAuth PATs): the record of one user having connected one app to one org.
//! Users see and end their own; admins see and end every one in their org.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, AuditEntry};
use super::entities::{connection, oauth_client, user};
use super::{RequestMeta, Services};
use crate::error::{AppError, AppResult};

/// The most rows one listing returns.
pub const MAX_ROWS: u64 = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionInfo {
    pub id: Uuid,
    pub user_id: Uuid,
    pub user_email: String,
    pub client_id: String,
    pub client_name: String,
    pub scope: String,
    pub resource: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// `active`, `disabled` or `revoked`.
    pub status: String,
}

pub fn status(c: &connection::Model) -> &'static str {
    if c.revoked_at.is_some() {
        "revoked"
    } else if c.disabled_at.is_some() {
        "disabled"
    } else {
        "active"
    }
}

/// Connections in `org_id`, newest first; only `user_id`'s when given.
pub async fn list(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    user_id: Option<Uuid>,
) -> AppResult<Vec<ConnectionInfo>> {
    let mut q = connection::Entity::find().filter(connection::Column::OrgId.eq(org_id));
    if let Some(u) = user_id {
        q = q.filter(connection::Column::UserId.eq(u));
    }
    let rows = q
        .order_by_desc(connection::Column::CreatedAt)
        .limit(MAX_ROWS)
        .all(db)
        .await?;
    let clients: HashMap<Uuid, oauth_client::Model> = oauth_client::Entity::find()
        .filter(oauth_client::Column::Id.is_in(rows.iter().map(|c| c.client_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let emails = emails_of(db, rows.iter().map(|c| c.user_id)).await?;
    Ok(rows
        .into_iter()
        .map(|c| {
            let client = clients.get(&c.client_id);
            ConnectionInfo {
                id: c.id,
                user_id: c.user_id,
                user_email: emails.get(&c.user_id).cloned().unwrap_or_default(),
                client_id: client.map(|k| k.client_id.clone()).unwrap_or_default(),
                client_name: client
                    .map(|k| k.name.clone())
                    .unwrap_or_else(|| "(deleted app)".into()),
                scope: c.scope.clone(),
                resource: c.resource.clone(),
                created_at: c.created_at,
                last_used_at: c.last_used_at,
                status: status(&c).into(),
            }
        })
        .collect())
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

/// Ends a connection and all its tokens. `owner`: only that user's connection (self-service);
/// `None`: any in the org (admins). Another org's or another user's id is "not found".
pub async fn revoke(
    s: &Services,
    actor_id: Uuid,
    org_id: Uuid,
    owner: Option<Uuid>,
    connection_id: Uuid,
    meta: &RequestMeta,
) -> AppResult<ConnectionInfo> {
    let not_found = || AppError::not_found("There is no such connection in this organization.");
    let conn = connection::Entity::find_by_id(connection_id)
        .one(&s.db)
        .await?
        .filter(|c| c.org_id == org_id && owner.is_none_or(|o| c.user_id == o))
        .ok_or_else(not_found)?;
    if conn.revoked_at.is_none() {
        super::oauth::tokens::revoke_connection(
            &s.db,
            conn.id,
            Some(actor_id),
            if owner.is_some() {
                "revoked_by_user"
            } else {
                "revoked_by_admin"
            },
        )
        .await?;
        audit::record(
            &s.db,
            AuditEntry::new("connection.revoked")
                .org(org_id)
                .actor(actor_id)
                .target("connection", conn.id)
                .details(json!({ "user_id": conn.user_id })),
            meta,
        )
        .await?;
    }
    list(&s.db, org_id, Some(conn.user_id))
        .await?
        .into_iter()
        .find(|c| c.id == conn.id)
        .ok_or_else(not_found)
}
