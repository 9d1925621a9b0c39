//! Every personal token of an org: standard PATs (rows of `tokens` of kind `pat`) and MCP OAuth
//! PATs (rows of `connections`). Admins list, disable, re-enable and revoke them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{OrgToken, PAGE_SIZE, TokenFilter, TokenPage, contains_ci, given, pages_for};
use crate::domain::access::Invalidation;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::connections::{self, MAX_ROWS};
use crate::domain::entities::token::TokenKind;
use crate::domain::entities::{connection, oauth_client, token, user};
use crate::domain::oauth::tokens as oauth_tokens;
use crate::domain::users::emails_of;
use crate::domain::{RequestMeta, Services};
use crate::error::{AppError, AppResult};
use crate::model::{ConnectionStatus, OrgTokenKind, TokenStatus};

fn no_such_token() -> AppError {
    AppError::not_found("There is no such token in this organization.")
}

/// A connection as a token: it never expires (its access tokens do, and are refreshed).
fn connection_status(c: &connection::Model) -> TokenStatus {
    match c.status() {
        ConnectionStatus::Active => TokenStatus::Active,
        ConnectionStatus::Disabled => TokenStatus::Disabled,
        ConnectionStatus::Revoked => TokenStatus::Revoked,
    }
}

fn pat_view(t: &token::Model, owners: &HashMap<Uuid, String>, now: DateTime<Utc>) -> OrgToken {
    OrgToken {
        id: t.id,
        kind: OrgTokenKind::Pat,
        name: t.name.clone(),
        user_id: t.user_id,
        owner_email: owners.get(&t.user_id).cloned().unwrap_or_default(),
        client_id: None,
        client_name: None,
        hint: Some(t.hint()),
        scope: t.scope.clone(),
        created_at: t.created_at,
        last_used_at: t.last_used_at,
        expires_at: t.expires_at,
        status: t.status(now),
    }
}

fn connection_view(
    c: &connection::Model,
    owners: &HashMap<Uuid, String>,
    clients: &HashMap<Uuid, oauth_client::Model>,
) -> OrgToken {
    let client = clients.get(&c.client_id);
    OrgToken {
        id: c.id,
        kind: OrgTokenKind::McpOauthPat,
        name: None,
        user_id: c.user_id,
        owner_email: owners.get(&c.user_id).cloned().unwrap_or_default(),
        client_id: client.map(|k| k.client_id.clone()),
        client_name: Some(
            client
                .map(|k| k.name.clone())
                .unwrap_or_else(|| "(deleted app)".into()),
        ),
        hint: None,
        scope: c.scope.clone(),
        created_at: c.created_at,
        last_used_at: c.last_used_at,
        expires_at: None,
        status: connection_status(c),
    }
}

/// Views of PAT rows and connection rows, with owners and clients looked up once.
async fn views(
    db: &impl ConnectionTrait,
    pats: &[token::Model],
    conns: &[connection::Model],
) -> AppResult<Vec<OrgToken>> {
    let now = Utc::now();
    let owners = emails_of(
        db,
        pats.iter()
            .map(|t| t.user_id)
            .chain(conns.iter().map(|c| c.user_id)),
    )
    .await?;
    let clients: HashMap<Uuid, oauth_client::Model> = if conns.is_empty() {
        HashMap::new()
    } else {
        oauth_client::Entity::find()
            .filter(oauth_client::Column::Id.is_in(conns.iter().map(|c| c.client_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect()
    };
    let mut out: Vec<OrgToken> = pats.iter().map(|t| pat_view(t, &owners, now)).collect();
    out.extend(conns.iter().map(|c| connection_view(c, &owners, &clients)));
    out.sort_by_key(|t| std::cmp::Reverse(t.created_at));
    Ok(out)
}

/// Every standard PAT and MCP OAuth PAT of the org, newest first (at most [`MAX_ROWS`] of each).
pub async fn tokens(db: &impl ConnectionTrait, org_id: Uuid) -> AppResult<Vec<OrgToken>> {
    let pats = token::Entity::find()
        .filter(token::Column::OrgId.eq(org_id))
        .filter(token::Column::Kind.eq(TokenKind::Pat))
        // Always true of a PAT; it lets the query use the index of unbound tokens.
        .filter(token::Column::ConnectionId.is_null())
        .order_by_desc(token::Column::CreatedAt)
        .limit(MAX_ROWS)
        .all(db)
        .await?;
    let conns = connection::Entity::find()
        .filter(connection::Column::OrgId.eq(org_id))
        .order_by_desc(connection::Column::CreatedAt)
        .limit(MAX_ROWS)
        .all(db)
        .await?;
    views(db, &pats, &conns).await
}

/// One token of the org by id (a PAT's token id or a connection id); other orgs' are "not found".
pub async fn token(db: &impl ConnectionTrait, org_id: Uuid, id: Uuid) -> AppResult<OrgToken> {
    if let Some(t) = token::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|t| t.org_id == org_id && t.kind == TokenKind::Pat)
    {
        return Ok(views(db, &[t], &[]).await?.remove(0));
    }
    let c = connection::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|c| c.org_id == org_id)
        .ok_or_else(no_such_token)?;
    Ok(views(db, &[], &[c]).await?.remove(0))
}

/// Which users the `user` filter means: a user id, or every user whose email contains it.
/// `None`: no user filter.
fn user_condition(filter: &TokenFilter) -> Option<sea_orm::sea_query::SelectStatement> {
    let needle = given(&filter.user)?;
    let mut q = sea_orm::sea_query::Query::select();
    q.column(user::Column::Id).from(user::Entity);
    match Uuid::parse_str(needle) {
        Ok(id) => q.and_where(user::Column::Id.eq(id)),
        Err(_) => q.and_where(contains_ci((user::Entity, user::Column::Email), needle)),
    };
    Some(q.to_owned())
}

fn pat_query(
    org_id: Uuid,
    filter: &TokenFilter,
    status: Option<TokenStatus>,
    now: DateTime<Utc>,
) -> Select<token::Entity> {
    let mut q = token::Entity::find()
        .filter(token::Column::OrgId.eq(org_id))
        .filter(token::Column::Kind.eq(TokenKind::Pat))
        // Always true of a PAT; it lets the query use the index of unbound tokens.
        .filter(token::Column::ConnectionId.is_null());
    if let Some(users) = user_condition(filter) {
        q = q.filter(token::Column::UserId.in_subquery(users));
    }
    let live = || {
        Condition::all()
            .add(token::Column::RevokedAt.is_null())
            .add(token::Column::DisabledAt.is_null())
    };
    match status {
        Some(TokenStatus::Revoked) => q.filter(token::Column::RevokedAt.is_not_null()),
        Some(TokenStatus::Disabled) => q
            .filter(token::Column::RevokedAt.is_null())
            .filter(token::Column::DisabledAt.is_not_null()),
        Some(TokenStatus::Expired) => q.filter(live().add(token::Column::ExpiresAt.lte(now))),
        Some(TokenStatus::Active) => q.filter(
            live().add(
                Condition::any()
                    .add(token::Column::ExpiresAt.is_null())
                    .add(token::Column::ExpiresAt.gt(now)),
            ),
        ),
        None => q,
    }
}

fn connection_query(
    org_id: Uuid,
    filter: &TokenFilter,
    status: Option<TokenStatus>,
) -> Option<Select<connection::Entity>> {
    let mut q = connection::Entity::find().filter(connection::Column::OrgId.eq(org_id));
    if let Some(users) = user_condition(filter) {
        q = q.filter(connection::Column::UserId.in_subquery(users));
    }
    Some(match status {
        Some(TokenStatus::Revoked) => q.filter(connection::Column::RevokedAt.is_not_null()),
        Some(TokenStatus::Disabled) => q
            .filter(connection::Column::RevokedAt.is_null())
            .filter(connection::Column::DisabledAt.is_not_null()),
        // Connections don't expire (their access tokens do, and are refreshed).
        Some(TokenStatus::Expired) => return None,
        Some(TokenStatus::Active) => q
            .filter(connection::Column::RevokedAt.is_null())
            .filter(connection::Column::DisabledAt.is_null()),
        None => q,
    })
}

/// One page (from 1, [`PAGE_SIZE`] rows; past the end: the last page) of the org's tokens
/// matching `filter`, newest first. Unknown filter values are refused with a field error.
pub async fn tokens_page(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    filter: &TokenFilter,
    page: u64,
) -> AppResult<TokenPage> {
    let kind = match given(&filter.kind) {
        None => None,
        Some(k) => Some(OrgTokenKind::parse(k).ok_or_else(|| {
            AppError::invalid(
                "kind",
                "Choose standard PATs (pat) or MCP OAuth PATs (mcp_oauth_pat).",
            )
        })?),
    };
    let status = match given(&filter.status) {
        None => None,
        Some(st) => Some(TokenStatus::parse(st).ok_or_else(|| {
            AppError::invalid("status", "Choose active, expired, disabled or revoked.")
        })?),
    };
    let now = Utc::now();
    let pats =
        (kind != Some(OrgTokenKind::McpOauthPat)).then(|| pat_query(org_id, filter, status, now));
    let conns = if kind == Some(OrgTokenKind::Pat) {
        None
    } else {
        connection_query(org_id, filter, status)
    };
    let pat_total = match &pats {
        Some(q) => q.clone().count(db).await?,
        None => 0,
    };
    let conn_total = match &conns {
        Some(q) => q.clone().count(db).await?,
        None => 0,
    };
    let total = pat_total + conn_total;
    let pages = pages_for(total);
    // Past the last page (a stale link): the last page.
    let page = page.clamp(1, pages);
    // The newest `page * PAGE_SIZE` of each kind hold this page of the merged list.
    let need = page.saturating_mul(PAGE_SIZE);
    let pat_rows = match pats {
        Some(q) if pat_total > 0 => {
            q.order_by_desc(token::Column::CreatedAt)
                .order_by_desc(token::Column::Id)
                .limit(need)
                .all(db)
                .await?
        }
        _ => vec![],
    };
    let conn_rows = match conns {
        Some(q) if conn_total > 0 => {
            q.order_by_desc(connection::Column::CreatedAt)
                .order_by_desc(connection::Column::Id)
                .limit(need)
                .all(db)
                .await?
        }
        _ => vec![],
    };
    // Only the rows of this page are worth describing.
    let mut keys: Vec<(DateTime<Utc>, Uuid, bool)> = pat_rows
        .iter()
        .map(|t| (t.created_at, t.id, true))
        .chain(conn_rows.iter().map(|c| (c.created_at, c.id, false)))
        .collect();
    keys.sort_by_key(|k| std::cmp::Reverse(*k));
    let start = ((page - 1) * PAGE_SIZE) as usize;
    let keep: Vec<(Uuid, bool)> = keys
        .into_iter()
        .skip(start)
        .take(PAGE_SIZE as usize)
        .map(|(_, id, pat)| (id, pat))
        .collect();
    let pat_rows: Vec<token::Model> = pat_rows
        .into_iter()
        .filter(|t| keep.contains(&(t.id, true)))
        .collect();
    let conn_rows: Vec<connection::Model> = conn_rows
        .into_iter()
        .filter(|c| keep.contains(&(c.id, false)))
        .collect();
    let mut tokens = views(db, &pat_rows, &conn_rows).await?;
    tokens.sort_by_key(|t| std::cmp::Reverse((t.created_at, t.id)));
    Ok(TokenPage {
        tokens,
        page,
        pages,
        total,
    })
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
        .filter(|t| t.org_id == org_id && t.kind == TokenKind::Pat);
    if let Some(t) = pat {
        if oauth_tokens::revoke_one(&s.db, t.id, "revoked_by_admin").await? {
            s.invalidate(Invalidation::Token(t.token_hash.clone()));
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
                AppError::NotFound(_) => no_such_token(),
                other => other,
            })?;
    }
    token(&s.db, org_id, id).await
}

/// Disables (`disabled: true`) or re-enables a PAT or an MCP OAuth PAT (by connection id) of
/// the org. A disabled token is refused everywhere until re-enabled; a revoked one stays
/// revoked. Ids of other orgs are "not found", with nothing changed.
pub async fn set_token_disabled(
    s: &Services,
    actor_id: Uuid,
    org_id: Uuid,
    id: Uuid,
    disabled: bool,
    meta: &RequestMeta,
) -> AppResult<OrgToken> {
    let revoked = || {
        AppError::Conflict(if disabled {
            "This token was revoked; it can't be used anyway.".into()
        } else {
            "This token was revoked; a revoked token can't be enabled again. The owner can create a new one.".into()
        })
    };
    let now = Utc::now();
    let pat = token::Entity::find_by_id(id)
        .one(&s.db)
        .await?
        .filter(|t| t.org_id == org_id && t.kind == TokenKind::Pat);
    let (changed, action, target, owner) = if let Some(t) = pat {
        if t.revoked_at.is_some() {
            return Err(revoked());
        }
        let owner = t.user_id;
        let changed = t.disabled_at.is_some() != disabled;
        if changed {
            let mut row: token::ActiveModel = t.into();
            row.disabled_at = Set(disabled.then_some(now));
            row.update(&s.db).await?;
        }
        let action = if disabled {
            "pat.disabled"
        } else {
            "pat.enabled"
        };
        (changed, action, "token", owner)
    } else {
        let c = connection::Entity::find_by_id(id)
            .one(&s.db)
            .await?
            .filter(|c| c.org_id == org_id)
            .ok_or_else(no_such_token)?;
        if c.revoked_at.is_some() {
            return Err(revoked());
        }
        let owner = c.user_id;
        let changed = c.disabled_at.is_some() != disabled;
        if changed {
            let mut row: connection::ActiveModel = c.into();
            row.disabled_at = Set(disabled.then_some(now));
            row.update(&s.db).await?;
        }
        let action = if disabled {
            "connection.disabled"
        } else {
            "connection.enabled"
        };
        (changed, action, "connection", owner)
    };
    if changed {
        s.invalidate(Invalidation::All);
        audit::record(
            &s.db,
            AuditEntry::new(action)
                .org(org_id)
                .actor(actor_id)
                .target(target, id)
                .details(json!({ "user_id": owner, "by": "admin" })),
            meta,
        )
        .await?;
    }
    token(&s.db, org_id, id).await
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::Expr;
    use sea_orm::{DatabaseConnection, DbBackend, QueryTrait, Statement};

    use super::*;

    /// The steps of SQLite's plan for `stmt`.
    async fn plan(db: &DatabaseConnection, stmt: Statement) -> Vec<String> {
        use crate::domain::write_txn::BeginWrite;
        let explain = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!("EXPLAIN QUERY PLAN {}", stmt.sql),
            stmt.values.map(|v| v.0).unwrap_or_default(),
        );
        // EXPLAIN doesn't check the schema's version: a pool connection that hasn't read since
        // the migrations ran would plan with the indexes from before. A read first brings the
        // connection up to date.
        let txn = db.begin_write().await.expect("begin");
        txn.query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT count(*) FROM tokens",
        ))
        .await
        .expect("read");
        txn.query_all_raw(explain)
            .await
            .expect("query plan")
            .iter()
            .map(|row| row.try_get::<String>("", "detail").expect("detail"))
            .collect()
    }

    fn uses(steps: &[String], index: &str) -> bool {
        steps.iter().any(|s| s.contains(index))
    }

    /// The token indexes leave out the rows every refresh writes where they can: the org's PAT
    /// lists find their rows through the index of tokens not tied to a connection, and
    /// revocations by connection through the index of the others (no statistics: as a new
    /// database plans them).
    #[tokio::test]
    async fn token_queries_use_the_partial_indexes() {
        let db = migration::test_db::sqlite().await.expect("sqlite");
        let now = Utc::now();
        let org = Uuid::now_v7();
        for status in [None, Some(TokenStatus::Active), Some(TokenStatus::Revoked)] {
            let q = pat_query(org, &TokenFilter::default(), status, now)
                .order_by_desc(token::Column::CreatedAt)
                .build(DbBackend::Sqlite);
            let steps = plan(&db, q).await;
            assert!(
                uses(&steps, migration::UNBOUND_TOKENS_INDEX),
                "{status:?}: {steps:?}"
            );
        }
        let revoke = |which: Condition| {
            token::Entity::update_many()
                .col_expr(token::Column::RevokedAt, Expr::value(now))
                .filter(which)
                .filter(token::Column::RevokedAt.is_null())
                .build(DbBackend::Sqlite)
        };
        let ids = [Uuid::now_v7(), Uuid::now_v7()];
        for (which, index) in [
            (
                Condition::all().add(token::Column::ConnectionId.eq(ids[0])),
                migration::BOUND_TOKENS_INDEX,
            ),
            (
                Condition::all().add(token::Column::ConnectionId.is_in(ids)),
                migration::BOUND_TOKENS_INDEX,
            ),
            (
                Condition::all()
                    .add(token::Column::ConnectionId.is_null())
                    .add(token::Column::OrgId.eq(org))
                    .add(token::Column::ClientId.eq(ids[0])),
                migration::UNBOUND_TOKENS_INDEX,
            ),
        ] {
            let steps = plan(&db, revoke(which)).await;
            assert!(uses(&steps, index), "{index}: {steps:?}");
        }
    }
}
