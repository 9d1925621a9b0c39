//! Reading what the access decision needs: a token's row by its hash, and the holder of its
//! grant (account, org, role, connection, client, block), each cached for a few seconds in the
//! services' [`AuthCaches`](super::cache::AuthCaches).

use std::sync::Arc;

use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

use super::cache::{HolderKey, Lookup};
use super::decide;
use super::denial::Denial;
use super::principal::{ClientFacts, GrantFacts, Holder, Principal, TokenFacts, UserFacts};
use super::{Access, SignedInAt};
use crate::domain::entities::token::TokenKind;
use crate::domain::entities::{
    connection, membership, oauth_client, org_client_block, organization, token, user,
};
use crate::domain::oauth::scope::ScopeSet;
use crate::domain::oauth::token_format;
use crate::domain::secrets::sha256_hex;
use crate::error::AppResult;
use crate::model::Role;

impl TokenFacts {
    pub fn of(t: &token::Model) -> Self {
        Self {
            id: t.id,
            kind: t.kind,
            name: t.name.clone(),
            scopes: ScopeSet::parse_known(&t.scope),
            resource: t.resource.clone(),
            client_row: t.client_id,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked: t.revoked_at.is_some(),
            disabled: t.disabled_at.is_some(),
            rotated: t.rotated_at.is_some(),
        }
    }
}

impl Access<'_> {
    /// What `secret` is, from the cache when it is fresh. Malformed secrets never reach the
    /// database.
    pub async fn lookup(&self, secret: &str) -> AppResult<Lookup> {
        if token_format::parse(secret).is_none() {
            return Ok(Err(Denial::NotAToken));
        }
        let hash = sha256_hex(secret);
        if let Some(found) = self.caches.token(&hash) {
            return Ok(found);
        }
        let tag = self.caches.generation();
        let found = match find_by_hash(self.db, &hash).await? {
            None => Err(Denial::UnknownToken),
            Some(row) => self.principal_of(&row).await?,
        };
        self.caches.put_token(hash, tag, found.clone());
        Ok(found)
    }

    /// A token row (read just now by the caller, e.g. the refresh grant) with its holder.
    pub async fn principal_of(&self, row: &token::Model) -> AppResult<Lookup> {
        let key = match (row.kind, row.connection_id) {
            (TokenKind::Pat, _) => HolderKey::Member {
                user_id: row.user_id,
                org_id: row.org_id,
            },
            (_, Some(id)) => HolderKey::Connection(id),
            // An OAuth token bound to no connection is no grant at all.
            (_, None) => return Ok(Err(Denial::ConnectionGone)),
        };
        Ok(self
            .holder(key, row.user_id, row.org_id)
            .await?
            .map(|h| Arc::new(Principal::new(TokenFacts::of(row), h))))
    }

    /// The holder of the connection `connection_id` (of `user_id` in `org_id`), for the code
    /// exchange, which has no token yet.
    pub async fn grant_holder(
        &self,
        connection_id: Uuid,
        user_id: Uuid,
        org_id: Uuid,
    ) -> AppResult<Result<Arc<Holder>, Denial>> {
        self.holder(HolderKey::Connection(connection_id), user_id, org_id)
            .await
    }

    async fn holder(
        &self,
        key: HolderKey,
        user_id: Uuid,
        org_id: Uuid,
    ) -> AppResult<Result<Arc<Holder>, Denial>> {
        if let Some(found) = self.caches.holder(&key) {
            return Ok(found);
        }
        let tag = self.caches.generation();
        let found = read_holder(self.db, key, user_id, org_id)
            .await?
            .map(Arc::new);
        self.caches.put_holder(key, tag, found.clone());
        Ok(found)
    }

    /// The account behind a browser session signed in at `signed_in_at`, if the session may
    /// still be used: the account not deleted or disabled, and its sessions not ended since.
    pub async fn session_user(
        &self,
        user_id: Uuid,
        signed_in_at: SignedInAt,
    ) -> AppResult<Result<user::Model, Denial>> {
        Ok(
            match user::Entity::find_by_id(user_id).one(self.db).await? {
                None => Err(Denial::AccountGone),
                Some(u) if u.disabled_at.is_some() => Err(Denial::AccountDisabled),
                Some(u)
                    if u.sessions_ended_at
                        .is_some_and(|ended| signed_in_at.is_none_or(|at| at < ended)) =>
                {
                    Err(Denial::SessionEnded)
                }
                Some(u) => Ok(u),
            },
        )
    }

    /// May the member `user` (with `role` in `org`) connect `client` there, answering to
    /// `redirect_uri`?
    pub async fn consent(
        &self,
        org: &organization::Model,
        role: Role,
        user: &user::Model,
        client: &oauth_client::Model,
        redirect_uri: &str,
    ) -> AppResult<Result<(), Denial>> {
        let blocked = client_blocked(self.db, org.id, client.id).await?;
        Ok(decide::consent(
            org,
            role,
            user.two_factor(),
            client,
            blocked,
            redirect_uri,
        ))
    }

    /// May `user`, a `role` of `org`, be granted access for `client` by the org's identity
    /// provider? (see [`decide::assertion_grant`])
    pub async fn assertion_grant(
        &self,
        org: &organization::Model,
        role: Role,
        user: &user::Model,
        client: &oauth_client::Model,
    ) -> AppResult<Result<(), Denial>> {
        let blocked = client_blocked(self.db, org.id, client.id).await?;
        Ok(decide::assertion_grant(
            org,
            role,
            user.two_factor(),
            client,
            blocked,
        ))
    }

    /// Records that a token was used: at most once a minute per token, off the request path,
    /// so the bearer check stays a cache hit (and, per cached lookup, one atomic flag).
    pub fn touch(&self, p: &Principal) {
        if !p.first_use() || !self.caches.first_touch(p.token_id()) {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let db = self.db.clone();
        let token_id = p.token_id();
        let connection_id = p.grant().map(|g| g.connection_id);
        rt.spawn(async move {
            let now = Utc::now();
            let res = token::Entity::update_many()
                .col_expr(token::Column::LastUsedAt, Expr::value(now))
                .filter(token::Column::Id.eq(token_id))
                .exec(&db)
                .await;
            let res = match (res, connection_id) {
                (Ok(_), Some(id)) => connection::Entity::update_many()
                    .col_expr(connection::Column::LastUsedAt, Expr::value(now))
                    .filter(connection::Column::Id.eq(id))
                    .exec(&db)
                    .await
                    .map(|_| ()),
                (r, _) => r.map(|_| ()),
            };
            if let Err(e) = res {
                tracing::warn!(error = %e, "could not record token use");
            }
        });
    }
}

async fn find_by_hash(db: &impl ConnectionTrait, hash: &str) -> AppResult<Option<token::Model>> {
    Ok(token::Entity::find()
        .filter(token::Column::TokenHash.eq(hash))
        .one(db)
        .await?)
}

async fn read_holder(
    db: &impl ConnectionTrait,
    key: HolderKey,
    user_id: Uuid,
    org_id: Uuid,
) -> AppResult<Result<Holder, Denial>> {
    let Some(user) = user::Entity::find_by_id(user_id).one(db).await? else {
        return Ok(Err(Denial::AccountGone));
    };
    let Some(org) = organization::Entity::find_by_id(org_id).one(db).await? else {
        return Ok(Err(Denial::OrgGone));
    };
    let Some(role) = membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org.id))
        .filter(membership::Column::UserId.eq(user.id))
        .one(db)
        .await?
        .map(|m| m.role)
    else {
        return Ok(Err(Denial::NotMember { org_name: org.name }));
    };
    let grant = match key {
        HolderKey::Member { .. } => None,
        HolderKey::Connection(id) => match read_grant(db, id, &org).await? {
            Ok(g) => Some(g),
            Err(d) => return Ok(Err(d)),
        },
    };
    Ok(Ok(Holder {
        user: UserFacts {
            id: user.id,
            email: user.email,
            name: user.name,
            disabled: user.disabled_at.is_some(),
            two_factor: user.two_factor_enabled_at.is_some(),
        },
        org,
        role,
        grant,
    }))
}

async fn read_grant(
    db: &impl ConnectionTrait,
    connection_id: Uuid,
    org: &organization::Model,
) -> AppResult<Result<GrantFacts, Denial>> {
    let Some(conn) = connection::Entity::find_by_id(connection_id)
        .one(db)
        .await?
    else {
        return Ok(Err(Denial::ConnectionGone));
    };
    let Some(client) = oauth_client::Entity::find_by_id(conn.client_id)
        .one(db)
        .await?
    else {
        return Ok(Err(Denial::ClientGone));
    };
    Ok(Ok(GrantFacts {
        connection_id: conn.id,
        status: conn.status(),
        client: ClientFacts::of(&client),
        blocked: client_blocked(db, org.id, client.id).await?,
    }))
}

/// Whether an admin of `org_id` blocked the client (row id `client_row`) there.
pub async fn client_blocked(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    client_row: Uuid,
) -> AppResult<bool> {
    Ok(org_client_block::Entity::find()
        .filter(org_client_block::Column::OrgId.eq(org_id))
        .filter(org_client_block::Column::ClientId.eq(client_row))
        .one(db)
        .await?
        .is_some())
}
