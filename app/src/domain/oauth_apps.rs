//! OAuth apps registered by people rather than by dynamic registration: a member's own apps
//! (`/settings/oauth-apps`, kind `user`) and an org's admin-created apps (`/admin/oauth-clients`,
//! kind `admin`). Create, list, edit, rotate the secret, delete. Ownership is checked here: an
//! app of another owner, or an unknown id, is "not found", with nothing changed or revealed.
//!
//! Redirect URIs follow the rules of dynamic registration ([`redirect_uri::validate`]) plus the
//! allowed redirect hosts of the org the app is registered in. A confidential app's secret is
//! shown once and stored as SHA-256, exactly as [`clients::authenticate`] checks it at the token
//! endpoint.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::access::{Denial, Invalidation};
use super::audit::{self, AuditEntry};
use super::entities::{
    authorization_code, authorization_request, connection, consent, oauth_client, org_client_block,
    organization, token,
};
use super::oauth::clients::{self, AUTH_BASIC, AUTH_NONE};
use super::oauth::redirect_uri::{self, RedirectAllowList};
use super::oauth::scope::{self, ScopeSet};
use super::oauth::token_format::{self, SecretKind, random_base62};
use super::secrets::sha256_hex;
use super::{RequestMeta, Services, validate};
use crate::domain::write_txn::BeginWrite;
use crate::error::{AppError, AppResult};
use crate::model::{ClientKind, OAuthAppList, OAuthAppStatus, OAuthAppView};

/// Rows per page of a list of apps.
pub const PAGE_SIZE: u64 = 50;
/// The longest description, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 1000;

/// Who an app belongs to. Every function here checks it: the wrong owner is "not found".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppOwner {
    /// A member's own app (kind `user`), whatever org it was registered in.
    User(Uuid),
    /// An org's app created by one of its admins (kind `admin`).
    Org { org_id: Uuid },
}

impl AppOwner {
    /// The client kind of the apps this owner has.
    pub fn kind(&self) -> ClientKind {
        match self {
            AppOwner::User(_) => ClientKind::User,
            AppOwner::Org { .. } => ClientKind::Admin,
        }
    }

    pub fn owns(&self, c: &oauth_client::Model) -> bool {
        match *self {
            AppOwner::User(user_id) => {
                c.kind == ClientKind::User && c.owner_user_id == Some(user_id)
            }
            AppOwner::Org { org_id } => c.kind == ClientKind::Admin && c.org_id == Some(org_id),
        }
    }
}

/// What a new app should be. Redirect URIs and scopes as the form sent them (blank entries are
/// ignored; scopes may be space-separated).
#[derive(Debug, Clone, Default)]
pub struct NewApp {
    pub name: String,
    pub description: String,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    /// Confidential (has a client secret) or public (native and browser apps, PKCE only).
    pub confidential: bool,
    /// For [`AppOwner::User`]: the org the member is working in, whose allowed redirect hosts
    /// apply and whose admins see the app. Ignored for [`AppOwner::Org`] (the owner's org).
    pub org_id: Option<Uuid>,
    /// What only an org admin may grant an org's own confidential app: see [`Trust`].
    pub trust: Trust,
}

/// What an org admin may let the org's own confidential app do beyond an ordinary client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trust {
    /// Introspect the org's tokens (a resource server of the org).
    pub resource_server: bool,
    /// Leave PKCE out (a connector that can't send it; the client secret still protects the
    /// code exchange).
    pub pkce_optional: bool,
}

impl Trust {
    /// Only an org's own confidential apps may be trusted more than any client.
    fn check(self, owner: AppOwner, confidential: bool) -> AppResult<()> {
        if self == Trust::default() {
            return Ok(());
        }
        let field = if self.resource_server {
            "resource_server"
        } else {
            "pkce_optional"
        };
        if !matches!(owner, AppOwner::Org { .. }) {
            return Err(AppError::invalid(
                field,
                "Only an organization's admins can give an app this permission, on the organization's own apps.",
            ));
        }
        if !confidential {
            return Err(AppError::invalid(
                field,
                "Only a confidential app (one with a client secret) can be a resource server or skip PKCE.",
            ));
        }
        Ok(())
    }
}

/// What may change after creation.
#[derive(Debug, Clone, Default)]
pub struct AppChanges {
    pub name: String,
    pub description: String,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
}

/// An app just created: `secret` (confidential apps) is shown once and never stored.
#[derive(Debug, Clone)]
pub struct CreatedApp {
    pub app: OAuthAppView,
    pub client: oauth_client::Model,
    pub secret: Option<String>,
}

/// A new secret, shown once; the old one stopped working.
#[derive(Debug, Clone)]
pub struct RotatedSecret {
    pub app: OAuthAppView,
    pub secret: String,
}

/// Splits a textarea of redirect URIs (one per line, or separated by spaces) into entries.
pub fn split_uris(raw: &str) -> Vec<String> {
    raw.split_whitespace().map(str::to_string).collect()
}

fn parse_name(raw: &str) -> AppResult<String> {
    validate::item_name(
        raw,
        "Give the app a name; people see it when they authorize it.",
    )
}

fn parse_scopes(raw: &[String]) -> AppResult<ScopeSet> {
    scope::parse_chosen(raw, "Choose at least one permission the app may ask for")
}

fn parse_description(raw: &str) -> AppResult<Option<String>> {
    let d = raw.trim();
    if d.chars().count() > DESCRIPTION_MAX_CHARS {
        return Err(AppError::invalid(
            "description",
            format!("Keep the description to {DESCRIPTION_MAX_CHARS} characters or fewer."),
        ));
    }
    if d.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(AppError::invalid(
            "description",
            "The description can't contain control characters.",
        ));
    }
    Ok((!d.is_empty()).then(|| d.to_string()))
}

/// The rules of dynamic registration, then the org's allowed redirect hosts (as the consent
/// screen applies them).
fn parse_redirect_uris(
    raw: &[String],
    org: Option<&organization::Model>,
) -> AppResult<Vec<String>> {
    let field = "redirect_uris";
    let mut uris: Vec<String> = Vec::new();
    for u in raw.iter().flat_map(|r| r.split_whitespace()) {
        if !uris.iter().any(|x| x == u) {
            uris.push(u.to_string());
        }
    }
    if uris.is_empty() {
        return Err(AppError::invalid(
            field,
            "Add at least one redirect URI: where the app receives the authorization code (e.g. https://app.example.com/oauth/callback).",
        ));
    }
    if uris.len() > redirect_uri::MAX_URIS {
        return Err(AppError::invalid(
            field,
            format!(
                "An app may have at most {} redirect URIs.",
                redirect_uri::MAX_URIS
            ),
        ));
    }
    for u in &uris {
        redirect_uri::validate(u).map_err(|why| AppError::invalid(field, why))?;
    }
    if let Some(org) = org {
        // Scheme and host, as at consent; a list that can't be read allows nothing.
        let allowed = RedirectAllowList::of(org).map_err(|_| {
            AppError::invalid(
                field,
                Denial::RedirectPolicyUnreadable {
                    org_name: org.name.clone(),
                }
                .to_string(),
            )
        })?;
        if let Some(u) = uris.iter().find(|u| !allowed.allows(u)) {
            return Err(AppError::invalid(
                field,
                format!(
                    "{} only allows apps that return to {}. {u} returns to {}.",
                    org.name,
                    allowed.shown().join(", "),
                    redirect_uri::display_origin(u)
                ),
            ));
        }
    }
    Ok(uris)
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// `gate_cs_…abcd`: enough to tell secrets apart, never enough to use one.
pub fn secret_hint(c: &oauth_client::Model) -> Option<String> {
    c.secret_last_four
        .as_ref()
        .map(|l| format!("{}…{l}", SecretKind::ClientSecret.prefix()))
}

/// Facts about a set of clients the views need: their orgs' names, active connections,
/// and whether their org blocked them.
struct Extras {
    org_names: HashMap<Uuid, String>,
    active: HashMap<Uuid, u64>,
    blocked: Vec<(Uuid, Uuid)>,
}

async fn extras(db: &impl ConnectionTrait, rows: &[oauth_client::Model]) -> AppResult<Extras> {
    let ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
    let org_ids: Vec<Uuid> = rows.iter().filter_map(|c| c.org_id).collect();
    let org_names = if org_ids.is_empty() {
        HashMap::new()
    } else {
        organization::Entity::find()
            .filter(organization::Column::Id.is_in(org_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect()
    };
    let mut active = HashMap::new();
    let mut blocked = Vec::new();
    if !ids.is_empty() {
        for c in connection::Entity::find()
            .filter(connection::Column::ClientId.is_in(ids.clone()))
            .filter(connection::Column::RevokedAt.is_null())
            .filter(connection::Column::DisabledAt.is_null())
            .all(db)
            .await?
        {
            *active.entry(c.client_id).or_insert(0u64) += 1;
        }
        blocked = org_client_block::Entity::find()
            .filter(org_client_block::Column::ClientId.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|b| (b.org_id, b.client_id))
            .collect();
    }
    Ok(Extras {
        org_names,
        active,
        blocked,
    })
}

fn view_with(c: &oauth_client::Model, x: &Extras) -> OAuthAppView {
    let blocked = c
        .org_id
        .is_some_and(|o| x.blocked.iter().any(|(bo, bc)| *bo == o && *bc == c.id));
    let status = if blocked {
        OAuthAppStatus::Blocked
    } else if c.first_authorized_at.is_some() || c.last_used_at.is_some() {
        OAuthAppStatus::Active
    } else {
        OAuthAppStatus::Unused
    };
    OAuthAppView {
        id: c.id,
        client_id: c.client_id.clone(),
        name: c.name.clone(),
        description: c.description.clone(),
        kind: c.kind,
        confidential: c.token_endpoint_auth_method != AUTH_NONE,
        redirect_uris: clients::list(&c.redirect_uris),
        scopes: c
            .allowed_scopes
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        secret_hint: secret_hint(c),
        secret_rotated_at: c.secret_rotated_at,
        org_name: c.org_id.and_then(|o| x.org_names.get(&o).cloned()),
        created_at: c.created_at,
        updated_at: c.updated_at,
        last_used_at: c.last_used_at,
        active_connections: x.active.get(&c.id).copied().unwrap_or(0),
        status,
    }
}

/// One app as its owner sees it.
pub async fn view(db: &impl ConnectionTrait, c: &oauth_client::Model) -> AppResult<OAuthAppView> {
    let x = extras(db, std::slice::from_ref(c)).await?;
    Ok(view_with(c, &x))
}

fn not_found() -> AppError {
    AppError::not_found("There is no such OAuth app among yours.")
}

/// The app `client_uuid` (the row id) if `owner` owns it; otherwise "not found".
pub async fn find_owned(
    db: &impl ConnectionTrait,
    owner: AppOwner,
    client_uuid: Uuid,
) -> AppResult<oauth_client::Model> {
    oauth_client::Entity::find_by_id(client_uuid)
        .one(db)
        .await?
        .filter(|c| owner.owns(c))
        .ok_or_else(not_found)
}

/// The app as its owner sees it.
pub async fn get(
    db: &impl ConnectionTrait,
    owner: AppOwner,
    client_uuid: Uuid,
) -> AppResult<OAuthAppView> {
    let c = find_owned(db, owner, client_uuid).await?;
    view(db, &c).await
}

/// The owner's apps, newest first, page `page` (from 1) of [`PAGE_SIZE`].
pub async fn list(
    db: &impl ConnectionTrait,
    owner: AppOwner,
    page: u64,
) -> AppResult<OAuthAppList> {
    let q = oauth_client::Entity::find().filter(oauth_client::Column::Kind.eq(owner.kind()));
    let q = match owner {
        AppOwner::User(u) => q.filter(oauth_client::Column::OwnerUserId.eq(u)),
        AppOwner::Org { org_id } => q.filter(oauth_client::Column::OrgId.eq(org_id)),
    };
    let total = q.clone().count(db).await?;
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let rows = q
        .order_by_desc(oauth_client::Column::CreatedAt)
        .order_by_desc(oauth_client::Column::Id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
        .all(db)
        .await?;
    let x = extras(db, &rows).await?;
    Ok(OAuthAppList {
        apps: rows.iter().map(|c| view_with(c, &x)).collect(),
        page,
        pages,
        total,
        notice: None,
    })
}

async fn org_of(
    db: &impl ConnectionTrait,
    id: Option<Uuid>,
) -> AppResult<Option<organization::Model>> {
    match id {
        Some(id) => Ok(organization::Entity::find_by_id(id).one(db).await?),
        None => Ok(None),
    }
}

/// Creates an app for `owner`. Nothing is written when the input is refused; the message names
/// the form field it belongs to (`name`, `description`, `redirect_uris`, `scopes`).
pub async fn create(
    s: &Services,
    actor_id: Uuid,
    owner: AppOwner,
    new: &NewApp,
    meta: &RequestMeta,
) -> AppResult<CreatedApp> {
    let (owner_user_id, org_id) = match owner {
        AppOwner::User(u) => (Some(u), new.org_id),
        AppOwner::Org { org_id } => (None, Some(org_id)),
    };
    let org = org_of(&s.db, org_id).await?;
    if org_id.is_some() && org.is_none() {
        return Err(AppError::not_found("That organization doesn't exist."));
    }
    let name = parse_name(&new.name)?;
    let description = parse_description(&new.description)?;
    let uris = parse_redirect_uris(&new.redirect_uris, org.as_ref())?;
    let scopes = parse_scopes(&new.scopes)?;
    new.trust.check(owner, new.confidential)?;
    let secret = new
        .confidential
        .then(|| token_format::generate(SecretKind::ClientSecret));
    let now = Utc::now();
    let txn = s.db.begin_write().await?;
    let client = oauth_client::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(format!("gc_{}", random_base62(24))),
        kind: Set(owner.kind()),
        name: Set(name),
        description: Set(description),
        owner_user_id: Set(owner_user_id),
        org_id: Set(org_id),
        redirect_uris: Set(json_list(&uris)),
        grant_types: Set(json_list(&[
            "authorization_code".into(),
            "refresh_token".into(),
        ])),
        response_types: Set(json_list(&["code".into()])),
        token_endpoint_auth_method: Set(if new.confidential {
            AUTH_BASIC
        } else {
            AUTH_NONE
        }
        .into()),
        secret_hash: Set(secret.as_deref().map(sha256_hex)),
        secret_last_four: Set(secret.as_deref().map(token_format::last_four)),
        secret_rotated_at: Set(None),
        allowed_scopes: Set(scopes.to_string()),
        application_type: Set(None),
        client_uri: Set(None),
        logo_uri: Set(None),
        tos_uri: Set(None),
        policy_uri: Set(None),
        contacts: Set(None),
        software_id: Set(None),
        software_version: Set(None),
        extra_metadata: Set(None),
        verified: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        last_used_at: Set(None),
        first_authorized_at: Set(None),
        resource_server: Set(new.trust.resource_server),
        pkce_optional: Set(new.trust.pkce_optional),
        metadata_fetched_at: Set(None),
        metadata_expires_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let mut entry = AuditEntry::new("oauth_app.created")
        .actor(actor_id)
        .target("oauth_client", &client.client_id)
        .details(json!({
            "name": client.name,
            "kind": client.kind,
            "confidential": new.confidential,
            "resource_server": new.trust.resource_server,
            "pkce_optional": new.trust.pkce_optional,
            "redirect_uris": uris,
            "scope": client.allowed_scopes,
        }));
    if let Some(o) = org_id {
        entry = entry.org(o);
    }
    audit::record(&txn, entry, meta).await?;
    txn.commit().await?;
    let app = view(&s.db, &client).await?;
    Ok(CreatedApp {
        app,
        client,
        secret,
    })
}

/// Changes the name, description, redirect URIs and scopes. Connections made before keep the
/// scopes they were granted; new authorizations follow the new settings at once.
pub async fn update(
    s: &Services,
    actor_id: Uuid,
    owner: AppOwner,
    client_uuid: Uuid,
    changes: &AppChanges,
    meta: &RequestMeta,
) -> AppResult<OAuthAppView> {
    let c = find_owned(&s.db, owner, client_uuid).await?;
    let org = org_of(&s.db, c.org_id).await?;
    let name = parse_name(&changes.name)?;
    let description = parse_description(&changes.description)?;
    let uris = parse_redirect_uris(&changes.redirect_uris, org.as_ref())?;
    let scopes = parse_scopes(&changes.scopes)?.to_string();
    let before = view(&s.db, &c).await?;
    let mut changed: Vec<&str> = Vec::new();
    if name != c.name {
        changed.push("name");
    }
    if description != c.description {
        changed.push("description");
    }
    if uris != before.redirect_uris {
        changed.push("redirect_uris");
    }
    if scopes != c.allowed_scopes {
        changed.push("scopes");
    }
    if changed.is_empty() {
        return Ok(before);
    }
    let txn = s.db.begin_write().await?;
    let mut row = c.clone().into_active_model();
    row.name = Set(name);
    row.description = Set(description);
    row.redirect_uris = Set(json_list(&uris));
    row.allowed_scopes = Set(scopes.clone());
    row.updated_at = Set(Utc::now());
    let updated = row.update(&txn).await?;
    let mut entry = AuditEntry::new("oauth_app.updated")
        .actor(actor_id)
        .target("oauth_client", &c.client_id)
        .details(json!({
            "changed": changed,
            "name": updated.name,
            "redirect_uris": uris,
            "scope": scopes,
            "before": {
                "name": before.name,
                "redirect_uris": before.redirect_uris,
                "scope": c.allowed_scopes,
            },
        }));
    if let Some(o) = c.org_id {
        entry = entry.org(o);
    }
    audit::record(&txn, entry, meta).await?;
    txn.commit().await?;
    // Redirect URIs and scopes decide who may get in: no cached client row may outlive this.
    s.invalidate(Invalidation::All);
    view(&s.db, &updated).await
}

/// Replaces a confidential app's secret. The old one stops working at once; the new one is
/// returned once and stored only as a hash.
pub async fn rotate_secret(
    s: &Services,
    actor_id: Uuid,
    owner: AppOwner,
    client_uuid: Uuid,
    meta: &RequestMeta,
) -> AppResult<RotatedSecret> {
    let c = find_owned(&s.db, owner, client_uuid).await?;
    if c.token_endpoint_auth_method == AUTH_NONE {
        return Err(AppError::Conflict(
            "This is a public app: it has no client secret to rotate.".into(),
        ));
    }
    let secret = token_format::generate(SecretKind::ClientSecret);
    let now = Utc::now();
    let txn = s.db.begin_write().await?;
    let changed = oauth_client::Entity::update_many()
        .col_expr(
            oauth_client::Column::SecretHash,
            Expr::value(sha256_hex(&secret)),
        )
        .col_expr(
            oauth_client::Column::SecretLastFour,
            Expr::value(token_format::last_four(&secret)),
        )
        .col_expr(oauth_client::Column::SecretRotatedAt, Expr::value(now))
        .col_expr(oauth_client::Column::UpdatedAt, Expr::value(now))
        .filter(oauth_client::Column::Id.eq(c.id))
        .exec(&txn)
        .await?
        .rows_affected;
    if changed == 0 {
        return Err(not_found());
    }
    let mut entry = AuditEntry::new("oauth_app.secret_rotated")
        .actor(actor_id)
        .target("oauth_client", &c.client_id)
        .details(json!({
            "name": c.name,
            "old_secret": secret_hint(&c),
            "new_secret": format!("{}…{}", SecretKind::ClientSecret.prefix(), token_format::last_four(&secret)),
        }));
    if let Some(o) = c.org_id {
        entry = entry.org(o);
    }
    audit::record(&txn, entry, meta).await?;
    txn.commit().await?;
    s.invalidate(Invalidation::All);
    let c = find_owned(&s.db, owner, client_uuid).await?;
    Ok(RotatedSecret {
        app: view(&s.db, &c).await?,
        secret,
    })
}

/// Deletes an app, and with it every connection to it and every token issued to it (they stop
/// working at once), its consents and pending authorizations. Returns the app as it was.
pub async fn delete(
    s: &Services,
    actor_id: Uuid,
    owner: AppOwner,
    client_uuid: Uuid,
    meta: &RequestMeta,
) -> AppResult<OAuthAppView> {
    let c = find_owned(&s.db, owner, client_uuid).await?;
    let was = view(&s.db, &c).await?;
    let txn = s.db.begin_write().await?;
    let live_connections = connection::Entity::find()
        .filter(connection::Column::ClientId.eq(c.id))
        .filter(connection::Column::RevokedAt.is_null())
        .count(&txn)
        .await?;
    let live_tokens = token::Entity::find()
        .filter(token::Column::ClientId.eq(c.id))
        .filter(token::Column::RevokedAt.is_null())
        .count(&txn)
        .await?;
    // Dependents first, so the outcome doesn't hang on the database enforcing its cascades.
    let conn_ids: Vec<Uuid> = connection::Entity::find()
        .filter(connection::Column::ClientId.eq(c.id))
        .select_only()
        .column(connection::Column::Id)
        .into_tuple()
        .all(&txn)
        .await?;
    token::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(token::Column::ClientId.eq(c.id))
                .add(token::Column::ConnectionId.is_in(conn_ids)),
        )
        .exec(&txn)
        .await?;
    connection::Entity::delete_many()
        .filter(connection::Column::ClientId.eq(c.id))
        .exec(&txn)
        .await?;
    authorization_code::Entity::delete_many()
        .filter(authorization_code::Column::ClientId.eq(c.id))
        .exec(&txn)
        .await?;
    authorization_request::Entity::delete_many()
        .filter(authorization_request::Column::ClientId.eq(c.id))
        .exec(&txn)
        .await?;
    consent::Entity::delete_many()
        .filter(consent::Column::ClientId.eq(c.id))
        .exec(&txn)
        .await?;
    org_client_block::Entity::delete_many()
        .filter(org_client_block::Column::ClientId.eq(c.id))
        .exec(&txn)
        .await?;
    let gone = oauth_client::Entity::delete_by_id(c.id)
        .exec(&txn)
        .await?
        .rows_affected;
    if gone == 0 {
        return Err(not_found());
    }
    let mut entry = AuditEntry::new("oauth_app.deleted")
        .actor(actor_id)
        .target("oauth_client", &c.client_id)
        .details(json!({
            "name": c.name,
            "kind": c.kind,
            "revoked_connections": live_connections,
            "revoked_tokens": live_tokens,
        }));
    if let Some(o) = c.org_id {
        entry = entry.org(o);
    }
    audit::record(&txn, entry, meta).await?;
    txn.commit().await?;
    s.invalidate(Invalidation::All);
    Ok(was)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_split_on_lines_and_spaces() {
        assert_eq!(
            split_uris(" https://a.example/cb\r\n\nhttp://127.0.0.1:9/cb  cursor://x/cb "),
            vec![
                "https://a.example/cb",
                "http://127.0.0.1:9/cb",
                "cursor://x/cb"
            ]
        );
    }

    #[test]
    fn input_rules() {
        assert!(parse_name("  ").is_err());
        assert!(parse_name(&"x".repeat(101)).is_err());
        assert_eq!(parse_name(" My app ").unwrap(), "My app");
        assert_eq!(parse_description("  ").unwrap(), None);
        assert!(parse_description(&"d".repeat(1001)).is_err());
        assert!(parse_scopes(&[]).is_err());
        assert!(parse_scopes(&["admin".into()]).is_err());
        assert_eq!(
            parse_scopes(&["mcp:write".into(), "mcp:read".into()])
                .unwrap()
                .to_string(),
            "mcp:read mcp:write"
        );
        let err = parse_redirect_uris(&["http://example.com/cb".into()], None).unwrap_err();
        assert_eq!(err.field(), Some("redirect_uris"));
        assert_eq!(
            parse_redirect_uris(&["https://a.example/cb https://a.example/cb".into()], None)
                .unwrap(),
            vec!["https://a.example/cb"]
        );
    }
}
