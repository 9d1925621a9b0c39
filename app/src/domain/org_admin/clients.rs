//! The OAuth clients an org admin answers for: the org's own (admin-created), its members'
//! (user-created), and every client a member connected to the org (dynamically registered or
//! metadata-document clients are global). "Revoke for this org" blocks a client in this org
//! only and ends its connections here, never touching another org.

use chrono::Utc;
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    ClientConnection, ClientFilter, ClientPage, OrgClient, OrgClientDetail, PAGE_SIZE, contains_ci,
    given, pages_for,
};
use crate::domain::access::Invalidation;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::connections::MAX_ROWS;
use crate::domain::entities::{connection, oauth_client, org_client_block, token, user};
use crate::domain::oauth::clients::list;
use crate::domain::users::emails_of;
use crate::domain::write_txn::BeginWrite;
use crate::domain::{RequestMeta, Services, is_unique_violation};
use crate::error::{AppError, AppResult};
use crate::model::{ClientKind, ConnectionStatus};

fn no_such_client() -> AppError {
    AppError::not_found("There is no such OAuth client in this organization.")
}

fn connected_here(org_id: Uuid) -> SelectStatement {
    Query::select()
        .column(connection::Column::ClientId)
        .from(connection::Entity)
        .and_where(connection::Column::OrgId.eq(org_id))
        .to_owned()
}

fn blocked_here(org_id: Uuid) -> SelectStatement {
    Query::select()
        .column(org_client_block::Column::ClientId)
        .from(org_client_block::Entity)
        .and_where(org_client_block::Column::OrgId.eq(org_id))
        .to_owned()
}

/// The clients an admin of `org_id` sees: registered in the org (admin-created, or created by
/// a member working in it), connected in it by a member, or blocked in it.
fn in_org(org_id: Uuid) -> Condition {
    Condition::any()
        .add(oauth_client::Column::OrgId.eq(org_id))
        .add(oauth_client::Column::Id.in_subquery(connected_here(org_id)))
        .add(oauth_client::Column::Id.in_subquery(blocked_here(org_id)))
}

/// A client by row id or by `client_id`, if the org's admins may see it.
pub async fn find_client(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    key: &str,
) -> AppResult<oauth_client::Model> {
    let key = key.trim();
    if key.is_empty() {
        return Err(no_such_client());
    }
    let mut by = Condition::any().add(oauth_client::Column::ClientId.eq(key));
    if let Ok(id) = Uuid::parse_str(key) {
        by = by.add(oauth_client::Column::Id.eq(id));
    }
    oauth_client::Entity::find()
        .filter(by)
        .filter(in_org(org_id))
        .one(db)
        .await?
        .ok_or_else(no_such_client)
}

/// Created by an admin for this org: the org may delete it.
pub fn owned_by(c: &oauth_client::Model, org_id: Uuid) -> bool {
    c.org_id == Some(org_id) && c.kind == ClientKind::Admin
}

/// How the org uses each of `rows`: connections, scopes, last use, block.
async fn describe(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    rows: Vec<oauth_client::Model>,
) -> AppResult<Vec<OrgClient>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
    let conns = connection::Entity::find()
        .filter(connection::Column::OrgId.eq(org_id))
        .filter(connection::Column::ClientId.is_in(ids.clone()))
        .all(db)
        .await?;
    let blocked: Vec<Uuid> = org_client_block::Entity::find()
        .filter(org_client_block::Column::OrgId.eq(org_id))
        .filter(org_client_block::Column::ClientId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|b| b.client_id)
        .collect();
    let owners = emails_of(db, rows.iter().filter_map(|c| c.owner_user_id)).await?;
    Ok(rows
        .into_iter()
        .map(|c| {
            let mine: Vec<&connection::Model> =
                conns.iter().filter(|k| k.client_id == c.id).collect();
            let mut scopes: Vec<String> = mine
                .iter()
                .filter(|k| k.revoked_at.is_none())
                .flat_map(|k| k.scope.split_whitespace().map(str::to_string))
                .collect();
            scopes.sort();
            scopes.dedup();
            OrgClient {
                id: c.id,
                active_connections: mine
                    .iter()
                    .filter(|k| k.status() == ConnectionStatus::Active)
                    .count() as u64,
                last_used_at: mine.iter().filter_map(|k| k.last_used_at).max(),
                granted_scopes: scopes,
                owner_email: c.owner_user_id.and_then(|o| owners.get(&o).cloned()),
                owned_by_org: owned_by(&c, org_id),
                redirect_uris: list(&c.redirect_uris),
                blocked_in_org: blocked.contains(&c.id),
                resource_server: owned_by(&c, org_id) && c.resource_server,
                created_at: c.created_at,
                metadata_fetched_at: c.metadata_fetched_at,
                client_id: c.client_id,
                name: c.name,
                source: c.kind,
            }
        })
        .collect())
}

/// Every client owned by the org or connected to it (at most [`MAX_ROWS`]), by name.
pub async fn clients(db: &impl ConnectionTrait, org_id: Uuid) -> AppResult<Vec<OrgClient>> {
    let rows = oauth_client::Entity::find()
        .filter(in_org(org_id))
        .order_by_asc(oauth_client::Column::Name)
        .order_by_asc(oauth_client::Column::Id)
        .limit(MAX_ROWS)
        .all(db)
        .await?;
    describe(db, org_id, rows).await
}

/// One page (from 1, [`PAGE_SIZE`] rows; past the end: the last page) of the org's clients
/// matching `filter`, by name.
pub async fn clients_page(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    filter: &ClientFilter,
    page: u64,
) -> AppResult<ClientPage> {
    let mut q = oauth_client::Entity::find().filter(in_org(org_id));
    if let Some(needle) = given(&filter.q) {
        let owners = Query::select()
            .column(user::Column::Id)
            .from(user::Entity)
            .and_where(contains_ci((user::Entity, user::Column::Email), needle))
            .to_owned();
        q = q.filter(
            Condition::any()
                .add(contains_ci(
                    (oauth_client::Entity, oauth_client::Column::Name),
                    needle,
                ))
                .add(contains_ci(
                    (oauth_client::Entity, oauth_client::Column::ClientId),
                    needle,
                ))
                .add(oauth_client::Column::OwnerUserId.in_subquery(owners)),
        );
    }
    if let Some(source) = given(&filter.source) {
        let Some(kind) = ClientKind::parse(source) else {
            return Err(AppError::invalid(
                "source",
                "Choose admin-created, user-created, dynamically registered or metadata document.",
            ));
        };
        q = q.filter(oauth_client::Column::Kind.eq(kind));
    }
    match given(&filter.blocked) {
        None => {}
        Some("yes") => q = q.filter(oauth_client::Column::Id.in_subquery(blocked_here(org_id))),
        Some("no") => q = q.filter(oauth_client::Column::Id.not_in_subquery(blocked_here(org_id))),
        Some(_) => {
            return Err(AppError::invalid(
                "blocked",
                "Choose blocked (yes) or not blocked (no).",
            ));
        }
    }
    let total = q.clone().count(db).await?;
    let pages = pages_for(total);
    let page = page.clamp(1, pages);
    let rows = q
        .order_by_asc(oauth_client::Column::Name)
        .order_by_asc(oauth_client::Column::Id)
        .offset((page - 1).saturating_mul(PAGE_SIZE))
        .limit(PAGE_SIZE)
        .all(db)
        .await?;
    Ok(ClientPage {
        clients: describe(db, org_id, rows).await?,
        page,
        pages,
        total,
    })
}

/// One client as the org's admins see it, with the org's connections to it. Clients neither
/// owned by nor connected to the org are "not found".
pub async fn client_detail(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    client_id: &str,
) -> AppResult<OrgClientDetail> {
    let c = find_client(db, org_id, client_id).await?;
    let conns = connection::Entity::find()
        .filter(connection::Column::OrgId.eq(org_id))
        .filter(connection::Column::ClientId.eq(c.id))
        .order_by_desc(connection::Column::CreatedAt)
        .limit(MAX_ROWS)
        .all(db)
        .await?;
    let emails = emails_of(db, conns.iter().map(|k| k.user_id)).await?;
    let connections = conns
        .iter()
        .map(|k| ClientConnection {
            id: k.id,
            user_email: emails.get(&k.user_id).cloned().unwrap_or_default(),
            scope: k.scope.clone(),
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            status: k.status(),
        })
        .collect();
    let detail = OrgClientDetail {
        description: c.description.clone(),
        auth_method: c.token_endpoint_auth_method.clone(),
        grant_types: list(&c.grant_types),
        allowed_scopes: c
            .allowed_scopes
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        client_uri: c.client_uri.clone(),
        verified: c.verified,
        pkce_optional: c.pkce_optional,
        secret_last_four: c.secret_last_four.clone(),
        connections,
        client: describe(db, org_id, vec![c]).await?.remove(0),
    };
    Ok(detail)
}

/// "Revoke for this org": blocks the client in `org_id` (new authorizations and token requests
/// are refused there) and revokes every connection and token it has in this org. Other orgs
/// are untouched. Blocking a blocked client revokes anything left.
pub async fn block_client(
    s: &Services,
    actor_id: Uuid,
    org_id: Uuid,
    client_uuid_or_client_id: &str,
    meta: &RequestMeta,
) -> AppResult<OrgClient> {
    let c = find_client(&s.db, org_id, client_uuid_or_client_id).await?;
    let txn = s.db.begin_write().await?;
    let existing = org_client_block::Entity::find()
        .filter(org_client_block::Column::OrgId.eq(org_id))
        .filter(org_client_block::Column::ClientId.eq(c.id))
        .one(&txn)
        .await?;
    let newly = existing.is_none();
    if newly {
        let row = org_client_block::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(org_id),
            client_id: Set(c.id),
            blocked_by: Set(Some(actor_id)),
            created_at: Set(Utc::now()),
        };
        match org_client_block::Entity::insert(row).exec(&txn).await {
            Ok(_) => {}
            // Another admin blocked it at the same moment: blocked either way.
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let live = connection::Entity::find()
        .filter(connection::Column::OrgId.eq(org_id))
        .filter(connection::Column::ClientId.eq(c.id))
        .filter(connection::Column::RevokedAt.is_null())
        .all(&txn)
        .await?;
    for conn in &live {
        crate::domain::oauth::tokens::revoke_connection(
            &txn,
            conn.id,
            Some(actor_id),
            "client_blocked_by_admin",
        )
        .await?;
    }
    // Any token of the client in this org not tied to a connection (the tokens index keeps
    // only those by org), and any a rotation committed for the connections just ended while
    // this transaction ended them (on PostgreSQL a later statement sees it). Two statements:
    // each finds its rows through an index.
    let ended: Vec<Uuid> = live.iter().map(|conn| conn.id).collect();
    let unbound = Condition::all()
        .add(token::Column::ConnectionId.is_null())
        .add(token::Column::OrgId.eq(org_id))
        .add(token::Column::ClientId.eq(c.id));
    for which in [
        unbound,
        Condition::all().add(token::Column::ConnectionId.is_in(ended)),
    ] {
        crate::domain::oauth::tokens::revoke_where(&txn, which, "client_blocked_by_admin").await?;
    }
    if newly || !live.is_empty() {
        audit::record(
            &txn,
            AuditEntry::new("client.blocked")
                .org(org_id)
                .actor(actor_id)
                .target("client", c.id)
                .details(json!({
                    "client_id": c.client_id,
                    "name": c.name,
                    "revoked_connections": live.len(),
                })),
            meta,
        )
        .await?;
    }
    txn.commit().await?;
    s.invalidate(Invalidation::All);
    Ok(describe(&s.db, org_id, vec![c]).await?.remove(0))
}

/// Allows a blocked client in `org_id` again. Its revoked connections stay revoked: members
/// connect again.
pub async fn unblock_client(
    s: &Services,
    actor_id: Uuid,
    org_id: Uuid,
    client_uuid_or_client_id: &str,
    meta: &RequestMeta,
) -> AppResult<OrgClient> {
    let c = find_client(&s.db, org_id, client_uuid_or_client_id).await?;
    let gone = org_client_block::Entity::delete_many()
        .filter(org_client_block::Column::OrgId.eq(org_id))
        .filter(org_client_block::Column::ClientId.eq(c.id))
        .exec(&s.db)
        .await?;
    if gone.rows_affected > 0 {
        s.invalidate(Invalidation::All);
        audit::record(
            &s.db,
            AuditEntry::new("client.unblocked")
                .org(org_id)
                .actor(actor_id)
                .target("client", c.id)
                .details(json!({ "client_id": c.client_id, "name": c.name })),
            meta,
        )
        .await?;
    }
    Ok(describe(&s.db, org_id, vec![c]).await?.remove(0))
}

/// What an org admin lets one of the org's own confidential apps do beyond any client:
/// introspect the org's tokens (a resource server of the org), and leave PKCE out.
pub async fn set_client_trust(
    s: &Services,
    actor_id: Uuid,
    org_id: Uuid,
    client_uuid_or_client_id: &str,
    trust: crate::domain::oauth_apps::Trust,
    meta: &RequestMeta,
) -> AppResult<OrgClientDetail> {
    let c = find_client(&s.db, org_id, client_uuid_or_client_id).await?;
    if !owned_by(&c, org_id) {
        return Err(AppError::Forbidden(
            "Only the organization's own apps (created on this page) can be trusted this way."
                .into(),
        ));
    }
    if trust != crate::domain::oauth_apps::Trust::default()
        && c.token_endpoint_auth_method == crate::domain::oauth::clients::AUTH_NONE
    {
        return Err(AppError::invalid(
            "resource_server",
            "Only a confidential app (one with a client secret) can be a resource server or skip PKCE.",
        ));
    }
    if c.resource_server != trust.resource_server || c.pkce_optional != trust.pkce_optional {
        let txn = s.db.begin_write().await?;
        oauth_client::Entity::update_many()
            .col_expr(
                oauth_client::Column::ResourceServer,
                sea_orm::sea_query::Expr::value(trust.resource_server),
            )
            .col_expr(
                oauth_client::Column::PkceOptional,
                sea_orm::sea_query::Expr::value(trust.pkce_optional),
            )
            .filter(oauth_client::Column::Id.eq(c.id))
            .exec(&txn)
            .await?;
        audit::record(
            &txn,
            AuditEntry::new("client.trust_changed")
                .org(org_id)
                .actor(actor_id)
                .target("client", c.id)
                .details(json!({
                    "client_id": c.client_id,
                    "name": c.name,
                    "resource_server": { "from": c.resource_server, "to": trust.resource_server },
                    "pkce_optional": { "from": c.pkce_optional, "to": trust.pkce_optional },
                })),
            meta,
        )
        .await?;
        txn.commit().await?;
        s.invalidate(Invalidation::All);
    }
    client_detail(&s.db, org_id, &c.id.to_string()).await
}
