//! Connections (MCP OAuth PATs): the record of one user having connected one app to one org.
//! Users see and end their own; admins see and end every one in their org.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, AuditEntry};
use super::entities::{connection, oauth_client};
use super::{RequestMeta, Services};
use crate::domain::access::Invalidation;
use crate::error::{AppError, AppResult};
use crate::model::ConnectionStatus;

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
    pub status: ConnectionStatus,
    /// Granted by the org's identity provider, not on the consent screen.
    pub via_assertion: bool,
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
    let emails = super::users::emails_of(db, rows.iter().map(|c| c.user_id)).await?;
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
                status: c.status(),
                via_assertion: c.via_assertion,
            }
        })
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
        s.invalidate(Invalidation::All);
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

/// Rows per page of a user's connected apps.
pub const PAGE_SIZE: u64 = 50;

/// Every live (not revoked) connection of `user_id`, in every org: by org name, then newest
/// first; page `page` (from 1) of [`PAGE_SIZE`].
pub async fn list_for_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    page: u64,
) -> AppResult<crate::model::ConnectedAppList> {
    use super::entities::organization;
    use sea_orm::PaginatorTrait;
    let q = connection::Entity::find()
        .filter(connection::Column::UserId.eq(user_id))
        .filter(connection::Column::RevokedAt.is_null());
    let total = q.clone().count(db).await?;
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    // Few orgs per user: order by org name in memory, then page.
    let mut rows = q
        .order_by_desc(connection::Column::CreatedAt)
        .order_by_desc(connection::Column::Id)
        .all(db)
        .await?;
    let mut org_ids: Vec<Uuid> = rows.iter().map(|c| c.org_id).collect();
    org_ids.sort();
    org_ids.dedup();
    let orgs: HashMap<Uuid, organization::Model> = if org_ids.is_empty() {
        HashMap::new()
    } else {
        organization::Entity::find()
            .filter(organization::Column::Id.is_in(org_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect()
    };
    let org_name = |id: &Uuid| {
        orgs.get(id)
            .map(|o| o.name.to_lowercase())
            .unwrap_or_default()
    };
    rows.sort_by(|a, b| {
        org_name(&a.org_id)
            .cmp(&org_name(&b.org_id))
            .then(a.org_id.cmp(&b.org_id))
            .then(b.created_at.cmp(&a.created_at))
            .then(b.id.cmp(&a.id))
    });
    let rows: Vec<connection::Model> = rows
        .into_iter()
        .skip(((page - 1) * PAGE_SIZE) as usize)
        .take(PAGE_SIZE as usize)
        .collect();
    let clients: HashMap<Uuid, oauth_client::Model> = if rows.is_empty() {
        HashMap::new()
    } else {
        oauth_client::Entity::find()
            .filter(oauth_client::Column::Id.is_in(rows.iter().map(|c| c.client_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect()
    };
    let connections = rows
        .into_iter()
        .map(|c| {
            let client = clients.get(&c.client_id);
            let org = orgs.get(&c.org_id);
            crate::model::ConnectedAppView {
                id: c.id,
                org_name: org.map(|o| o.name.clone()).unwrap_or_default(),
                org_slug: org.map(|o| o.slug.clone()).unwrap_or_default(),
                client_id: client.map(|k| k.client_id.clone()).unwrap_or_default(),
                client_name: client
                    .map(|k| k.name.clone())
                    .unwrap_or_else(|| "(deleted app)".into()),
                client_kind: client.map_or(crate::model::ClientKind::Dynamic, |k| k.kind),
                verified: client.is_some_and(|k| k.verified),
                scopes: c.scope.split_whitespace().map(str::to_string).collect(),
                created_at: c.created_at,
                last_used_at: c.last_used_at,
                status: c.status(),
                via_assertion: c.via_assertion,
            }
        })
        .collect();
    Ok(crate::model::ConnectedAppList {
        connections,
        page,
        pages,
        total,
    })
}

/// Ends one of `user_id`'s own connections, in whatever org it is, and all its tokens.
/// Anyone else's connection, or an unknown id, is "not found".
pub async fn revoke_own(
    s: &Services,
    user_id: Uuid,
    connection_id: Uuid,
    meta: &RequestMeta,
) -> AppResult<ConnectionInfo> {
    let conn = connection::Entity::find_by_id(connection_id)
        .one(&s.db)
        .await?
        .filter(|c| c.user_id == user_id)
        .ok_or_else(|| AppError::not_found("There is no such connection among yours."))?;
    revoke(s, user_id, conn.org_id, Some(user_id), conn.id, meta).await
}
