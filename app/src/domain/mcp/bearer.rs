//! Who is calling the MCP endpoint: a bearer token (an MCP OAuth access token or a standard
//! PAT) checked on every request against the database as it is now — token, user, membership,
//! role, connection and org policy. The database state is cached for a few seconds (see
//! `oauth::cache`); expiry, audience and policy are checked on every request after that.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

use crate::domain::entities::{connection, oauth_client, org_client_block, organization, token};
use crate::domain::oauth::resource::McpResource;
use crate::domain::oauth::scope::ScopeSet;
use crate::domain::oauth::tokens::{self, KIND_ACCESS, KIND_PAT};
use crate::domain::oauth::{cache, token_format};
use crate::domain::secrets::sha256_hex;
use crate::domain::{Services, org_policy, orgs, users};
use crate::error::AppResult;
use crate::model::Role;

/// How the caller got in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// An MCP OAuth PAT: an access token of a connection (user, org, client).
    OAuth {
        connection_id: Uuid,
        client_id: String,
        client_name: String,
        /// The resource (audience) the token was issued for.
        resource: String,
    },
    /// A standard personal access token; its org is the one it was created in.
    Pat { name: Option<String> },
}

/// An authenticated caller with their role in the token's org as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub token_id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub name: Option<String>,
    pub org: organization::Model,
    pub role: Role,
    pub scopes: ScopeSet,
    pub credential: Credential,
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether this cached lookup already recorded the token's use (see [`touch`]).
    pub touched: TouchFlag,
}

/// Set once per cached [`Principal`]: the token's last use is written at most once per cache
/// lifetime (a few seconds) instead of looking up a second cache on every request. Not part
/// of what a principal *is*: equal whatever its value, and a clone starts unset.
#[derive(Debug, Default)]
pub struct TouchFlag(std::sync::atomic::AtomicBool);

impl Clone for TouchFlag {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PartialEq for TouchFlag {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for TouchFlag {}

impl Principal {
    pub fn kind(&self) -> &'static str {
        match self.credential {
            Credential::OAuth { .. } => "mcp_oauth_pat",
            Credential::Pat { .. } => "pat",
        }
    }
}

/// Why a request is refused before any tool runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No credentials at all (RFC 6750 §3.1: a challenge without an error code).
    Missing,
    /// A credential that is not, or no longer, valid: the client should refresh or sign in.
    InvalidToken(String),
    /// A valid credential the org's policy doesn't let in; signing in again won't help.
    Forbidden(String),
}

/// What the database said about a token hash (cached for a few seconds).
pub type Lookup = Result<Arc<Principal>, Refusal>;

/// Checks `secret` for a request to `endpoint`.
pub async fn authenticate(
    s: &Services,
    secret: &str,
    endpoint: &McpResource,
) -> AppResult<Result<Arc<Principal>, Refusal>> {
    Ok(lookup(s, secret)
        .await?
        .and_then(|p| admit(s, p, endpoint, Utc::now())))
}

/// Checks a standard PAT for the REST API. The API is not the MCP server, so switching the
/// MCP server off doesn't lock admins out of it (they may need it to switch MCP back on);
/// switching personal tokens off does.
pub async fn authenticate_api_pat(
    s: &Services,
    secret: &str,
) -> AppResult<Result<Arc<Principal>, Refusal>> {
    Ok(lookup(s, secret).await?.and_then(|p| {
        if p.expires_at.is_some_and(|e| e <= Utc::now()) {
            return Err(Refusal::InvalidToken("This token has expired.".into()));
        }
        match p.credential {
            Credential::OAuth { .. } => Err(Refusal::InvalidToken(
                "This API takes a personal access token (gate_pat_…); MCP OAuth access tokens work only at the MCP endpoint. Create a token at /settings/tokens.".into(),
            )),
            Credential::Pat { .. } if !p.org.personal_tokens_enabled => Err(Refusal::Forbidden(
                org_policy::personal_tokens_disabled_message(&p.org.name),
            )),
            Credential::Pat { .. } => Ok(p),
        }
    }))
}

/// The token's database state, from the cache when it is fresh.
async fn lookup(s: &Services, secret: &str) -> AppResult<Lookup> {
    if token_format::parse(secret).is_none() {
        return Ok(Err(Refusal::InvalidToken(
            "This is not a Gatehouse access token.".into(),
        )));
    }
    let key = sha256_hex(secret);
    Ok(match cache::BEARERS.get(&key) {
        Some(found) => found,
        None => {
            let tag = cache::generation();
            let found = read(s, secret).await?;
            cache::BEARERS.put(key, tag, found.clone());
            found
        }
    })
}

/// The checks that depend on the moment and the endpoint: expiry, audience, org policy.
fn admit(
    s: &Services,
    p: Arc<Principal>,
    endpoint: &McpResource,
    now: DateTime<Utc>,
) -> Result<Arc<Principal>, Refusal> {
    if p.expires_at.is_some_and(|e| e <= now) {
        return Err(Refusal::InvalidToken("This token has expired.".into()));
    }
    match &p.credential {
        Credential::OAuth { resource, .. }
            if !endpoint.is_url(&s.settings.public_url, resource) =>
        {
            let here = endpoint.url(&s.settings.public_url);
            return Err(Refusal::InvalidToken(format!(
                "This token was issued for {resource}, not {here}."
            )));
        }
        Credential::Pat { .. } if endpoint.org_slug().is_some_and(|o| o != p.org.slug) => {
            return Err(Refusal::InvalidToken(format!(
                "This token belongs to the organization {}; use {}.",
                p.org.slug,
                McpResource::Org(p.org.slug.clone()).url(&s.settings.public_url)
            )));
        }
        _ => {}
    }
    if !p.org.mcp_enabled {
        return Err(Refusal::Forbidden(org_policy::mcp_disabled_message(
            &p.org.name,
        )));
    }
    match p.credential {
        Credential::Pat { .. } if !p.org.personal_tokens_enabled => Err(Refusal::Forbidden(
            org_policy::personal_tokens_disabled_message(&p.org.name),
        )),
        Credential::OAuth { .. } if !p.org.mcp_oauth_pats_enabled => Err(Refusal::Forbidden(
            org_policy::mcp_oauth_pats_disabled_message(&p.org.name),
        )),
        _ => Ok(p),
    }
}

/// The token's state in the database: who, which org, which role, through what.
async fn read(s: &Services, secret: &str) -> AppResult<Lookup> {
    let invalid = |why: &str| Ok(Err(Refusal::InvalidToken(why.to_string())));
    let Some(t) = tokens::find_by_secret(&s.db, secret).await? else {
        return invalid("This token is not known here.");
    };
    if t.kind != KIND_ACCESS && t.kind != KIND_PAT {
        return invalid("This is a refresh token; send the access token instead.");
    }
    if t.revoked_at.is_some() {
        return invalid("This token was revoked.");
    }
    if t.disabled_at.is_some() {
        return invalid("An admin disabled this token.");
    }
    let Some(user) = users::find(&s.db, t.user_id).await? else {
        return invalid("This account no longer exists.");
    };
    if user.disabled_at.is_some() {
        return invalid("This account is disabled.");
    }
    let Some(org) = orgs::find(&s.db, t.org_id).await? else {
        return invalid("This organization no longer exists.");
    };
    let Some(role) = orgs::role_in(&s.db, org.id, user.id).await? else {
        return invalid(&format!("You are no longer a member of {}.", org.name));
    };
    let credential = if t.kind == KIND_PAT {
        Credential::Pat {
            name: t.name.clone(),
        }
    } else {
        match oauth_credential(s, &t, &org).await? {
            Ok(c) => c,
            Err(refusal) => return Ok(Err(refusal)),
        }
    };
    Ok(Ok(Arc::new(Principal {
        token_id: t.id,
        user_id: user.id,
        email: user.email,
        name: user.name,
        role,
        scopes: ScopeSet::parse_known(&t.scope),
        credential,
        expires_at: t.expires_at,
        org,
        touched: TouchFlag::default(),
    })))
}

/// The connection and client behind an access token, if they still stand.
async fn oauth_credential(
    s: &Services,
    t: &token::Model,
    org: &organization::Model,
) -> AppResult<Result<Credential, Refusal>> {
    let invalid = |why: String| Ok(Err(Refusal::InvalidToken(why)));
    let (Some(connection_id), Some(client_row_id), Some(resource)) =
        (t.connection_id, t.client_id, t.resource.clone())
    else {
        return invalid("This token is not bound to an MCP resource.".into());
    };
    let Some(conn) = connection::Entity::find_by_id(connection_id)
        .one(&s.db)
        .await?
    else {
        return invalid("This connection no longer exists.".into());
    };
    if conn.revoked_at.is_some() {
        return invalid("This connection was revoked. Connect again.".into());
    }
    if conn.disabled_at.is_some() {
        return invalid("An admin disabled this connection.".into());
    }
    let Some(client) = oauth_client::Entity::find_by_id(client_row_id)
        .one(&s.db)
        .await?
    else {
        return invalid("The app behind this token was deleted.".into());
    };
    let blocked = org_client_block::Entity::find()
        .filter(org_client_block::Column::OrgId.eq(org.id))
        .filter(org_client_block::Column::ClientId.eq(client.id))
        .one(&s.db)
        .await?;
    if blocked.is_some() {
        return Ok(Err(Refusal::Forbidden(format!(
            "An admin of {} has blocked {}. Ask them to allow it again.",
            org.name, client.name
        ))));
    }
    Ok(Ok(Credential::OAuth {
        connection_id,
        client_id: client.client_id,
        client_name: client.name,
        resource,
    }))
}

/// Records that a token was used: at most once a minute per token, off the request path, so
/// the bearer check stays a cache hit (and, per cached lookup, one atomic flag).
pub fn touch(s: &Services, p: &Principal) {
    // Fast path: this cached lookup has been through here already.
    if p.touched.0.swap(true, std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    static RECENT: LazyLock<moka::sync::Cache<Uuid, ()>> = LazyLock::new(|| {
        moka::sync::Cache::builder()
            .max_capacity(200_000)
            .time_to_live(Duration::from_secs(60))
            .build()
    });
    if RECENT.contains_key(&p.token_id) {
        return;
    }
    RECENT.insert(p.token_id, ());
    let db = s.db.clone();
    let token_id = p.token_id;
    let connection_id = match p.credential {
        Credential::OAuth { connection_id, .. } => Some(connection_id),
        Credential::Pat { .. } => None,
    };
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
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
