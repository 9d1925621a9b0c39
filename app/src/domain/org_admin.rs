//! What an org admin sees across the org: the OAuth clients used in or owned by it, and every
//! personal token — standard PATs and MCP OAuth PATs (connections) — with revocation.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, AuditEntry};
use super::connections::{self, MAX_ROWS, emails_of};
use super::entities::{connection, oauth_client, org_client_block, token};
use super::oauth::tokens::{self, KIND_PAT};
use super::{RequestMeta, Services};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgClient {
    pub client_id: String,
    pub name: String,
    /// `admin`, `user`, `dynamic` or `metadata`.
    pub source: String,
    pub owner_email: Option<String>,
    pub redirect_uris: Vec<String>,
    pub granted_scopes: Vec<String>,
    pub active_connections: u64,
    pub last_used_at: Option<DateTime<Utc>>,
    pub blocked_in_org: bool,
}

/// Every client owned by the org or connected to it by one of its members.
pub async fn clients(db: &impl ConnectionTrait, org_id: Uuid) -> AppResult<Vec<OrgClient>> {
    let conns = connection::Entity::find()
        .filter(connection::Column::OrgId.eq(org_id))
        .all(db)
        .await?;
    let mut ids: Vec<Uuid> = conns.iter().map(|c| c.client_id).collect();
    ids.sort();
    ids.dedup();
    let rows = oauth_client::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(oauth_client::Column::OrgId.eq(org_id))
                .add(oauth_client::Column::Id.is_in(ids)),
        )
        .order_by_asc(oauth_client::Column::Name)
        .limit(MAX_ROWS)
        .all(db)
        .await?;
    let blocked: Vec<Uuid> = org_client_block::Entity::find()
        .filter(org_client_block::Column::OrgId.eq(org_id))
        .all(db)
        .await?
        .into_iter()
        .map(|b| b.client_id)
        .collect();
    let owners = emails_of(db, rows.iter().filter_map(|c| c.owner_user_id)).await?;
    Ok(rows
        .into_iter()
        .map(|c| {
            let mine = conns.iter().filter(|k| k.client_id == c.id);
            let mut scopes: Vec<String> = mine
                .clone()
                .flat_map(|k| k.scope.split_whitespace().map(str::to_string))
                .collect();
            scopes.sort();
            scopes.dedup();
            OrgClient {
                active_connections: mine
                    .clone()
                    .filter(|k| connections::status(k) == "active")
                    .count() as u64,
                last_used_at: mine.filter_map(|k| k.last_used_at).max(),
                granted_scopes: scopes,
                owner_email: c.owner_user_id.and_then(|o| owners.get(&o).cloned()),
                redirect_uris: super::oauth::clients::list(&c.redirect_uris),
                blocked_in_org: blocked.contains(&c.id),
                client_id: c.client_id,
                name: c.name,
                source: c.kind,
            }
        })
        .collect())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgToken {
    /// The PAT's token id, or the connection's id for an MCP OAuth PAT.
    pub id: Uuid,
    /// `pat` or `mcp_oauth_pat`.
    pub kind: String,
    pub name: Option<String>,
    pub owner_email: String,
    pub client_name: Option<String>,
    pub scope: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// `active`, `expired`, `disabled` or `revoked`.
    pub status: String,
}

pub fn pat_status(t: &token::Model, now: DateTime<Utc>) -> &'static str {
    if t.revoked_at.is_some() {
        "revoked"
    } else if t.disabled_at.is_some() {
        "disabled"
    } else if tokens::is_expired(t, now) {
        "expired"
    } else {
        "active"
    }
}

/// Every standard PAT and MCP OAuth PAT of the org, newest first.
pub async fn tokens(db: &impl ConnectionTrait, org_id: Uuid) -> AppResult<Vec<OrgToken>> {
    let now = Utc::now();
    let pats = token::Entity::find()
        .filter(token::Column::OrgId.eq(org_id))
        .filter(token::Column::Kind.eq(KIND_PAT))
        .order_by_desc(token::Column::CreatedAt)
        .limit(MAX_ROWS)
        .all(db)
        .await?;
    let owners: HashMap<Uuid, String> = emails_of(db, pats.iter().map(|t| t.user_id)).await?;
    let mut out: Vec<OrgToken> = pats
        .iter()
        .map(|t| OrgToken {
            id: t.id,
            kind: "pat".into(),
            name: t.name.clone(),
            owner_email: owners.get(&t.user_id).cloned().unwrap_or_default(),
            client_name: None,
            scope: t.scope.clone(),
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            expires_at: t.expires_at,
            status: pat_status(t, now).into(),
        })
        .collect();
    out.extend(
        connections::list(db, org_id, None)
            .await?
            .into_iter()
            .map(|c| OrgToken {
                id: c.id,
                kind: "mcp_oauth_pat".into(),
                name: None,
                owner_email: c.user_email,
                client_name: Some(c.client_name),
                scope: c.scope,
                created_at: c.created_at,
                last_used_at: c.last_used_at,
                expires_at: None,
                status: c.status,
            }),
    );
    out.sort_by_key(|t| std::cmp::Reverse(t.created_at));
    Ok(out)
}

/// Revokes a PAT or an MCP OAuth PAT (by connection id) of the org. Ids of other orgs are
/// "not found", with nothing changed.
pub async fn revoke_token(
    s: &Services,
    actor_id: Uuid,
    org_id: Uuid,
    id: Uuid,
    meta: &RequestMeta,
) -> AppResult<OrgToken> {
    let pat = token::Entity::find_by_id(id)
        .one(&s.db)
        .await?
        .filter(|t| t.org_id == org_id && t.kind == KIND_PAT);
    if let Some(t) = pat {
        if t.revoked_at.is_none() {
            let hash = t.token_hash.clone();
            let mut row: token::ActiveModel = t.into();
            row.revoked_at = Set(Some(Utc::now()));
            row.revoke_reason = Set(Some("revoked_by_admin".into()));
            row.update(&s.db).await?;
            super::oauth::cache::forget_token(&hash);
            audit::record(
                &s.db,
                AuditEntry::new("pat.revoked")
                    .org(org_id)
                    .actor(actor_id)
                    .target("token", id)
                    .details(json!({ "by": "admin" })),
                meta,
            )
            .await?;
        }
    } else {
        connections::revoke(s, actor_id, org_id, None, id, meta)
            .await
            .map_err(|e| match e {
                AppError::NotFound(_) => {
                    AppError::not_found("There is no such token in this organization.")
                }
                other => other,
            })?;
    }
    tokens(&s.db, org_id)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or_else(|| AppError::not_found("There is no such token in this organization."))
}
