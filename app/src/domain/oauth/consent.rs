//! The consent step: what the user is shown, org policy, remembered consent, and turning an
//! approval into a connection (the MCP OAuth PAT) and a single-use authorization code.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};
use serde_json::json;
use uuid::Uuid;

use super::authorize::client_redirect;
use super::redirect_uri;
use super::scope::{ScopeSet, describe};
use crate::domain::audit::{self, AuditEntry};
use crate::domain::entities::authorization_request::RequestStatus;
use crate::domain::entities::{
    authorization_code, authorization_request, connection, consent, oauth_client, organization,
    user,
};
use crate::domain::secrets::{random_urlsafe, sha256_hex};
use crate::domain::write_txn::BeginWrite;
use crate::domain::{RequestMeta, Services, orgs};
use crate::error::{AppError, AppResult};
use crate::model::{ClientKind, ConsentOrg, ConsentView, Role};

/// Why this member can't connect the request's client to `org`, in words for the consent
/// screen (the access decision's).
async fn refusal(
    s: &Services,
    org: &organization::Model,
    role: Role,
    user: &user::Model,
    client: &oauth_client::Model,
    redirect_uri: &str,
) -> AppResult<Option<String>> {
    Ok(s.access()
        .consent(org, role, user, client, redirect_uri)
        .await?
        .err()
        .map(|d| d.to_string()))
}

/// The pending request, claimed by `user` (the first person to open it owns it).
async fn load_pending(
    db: &DatabaseConnection,
    request_id: Uuid,
    user: &user::Model,
) -> AppResult<(authorization_request::Model, oauth_client::Model)> {
    let gone = || {
        AppError::not_found(
            "This authorization request doesn't exist or was already answered. Start again from your app.",
        )
    };
    let req = authorization_request::Entity::find_by_id(request_id)
        .one(db)
        .await?
        .ok_or_else(gone)?;
    if req.status != RequestStatus::Pending {
        return Err(gone());
    }
    if req.expires_at <= Utc::now() {
        return Err(AppError::Conflict("This authorization request expired (it must be completed within 10 minutes). Start again from your app.".into()));
    }
    match req.user_id {
        Some(owner) if owner != user.id => return Err(gone()),
        Some(_) => {}
        None => {
            authorization_request::Entity::update_many()
                .col_expr(
                    authorization_request::Column::UserId,
                    sea_orm::sea_query::Expr::value(user.id),
                )
                .filter(authorization_request::Column::Id.eq(req.id))
                .filter(authorization_request::Column::UserId.is_null())
                .exec(db)
                .await?;
        }
    }
    let client = oauth_client::Entity::find_by_id(req.client_id)
        .one(db)
        .await?
        .ok_or_else(gone)?;
    Ok((req, client))
}

pub async fn view(s: &Services, request_id: Uuid, user: &user::Model) -> AppResult<ConsentView> {
    let (req, client) = load_pending(&s.db, request_id, user).await?;
    let mut choices: Vec<ConsentOrg> = Vec::new();
    let mut ids: Vec<Uuid> = Vec::new();
    let fixed = match req.org_id {
        Some(id) => orgs::find(&s.db, id).await?,
        None => None,
    };
    for o in orgs::orgs_of(&s.db, user.id).await? {
        if fixed.as_ref().is_some_and(|f| f.id != o.id) {
            continue;
        }
        let Some(org) = orgs::find(&s.db, o.id).await? else {
            continue;
        };
        let blocked = refusal(s, &org, o.role, user, &client, &req.redirect_uri).await?;
        choices.push(ConsentOrg {
            slug: o.slug,
            name: o.name,
            role: o.role,
            blocked,
        });
        ids.push(o.id);
    }
    if let Some(f) = &fixed
        && choices.is_empty()
    {
        return Err(AppError::forbidden(format!(
            "This MCP address belongs to {}, and you are not a member of it. Ask an admin of {} to invite you, or connect with your own organization's address.",
            f.name, f.name
        )));
    }
    // Preselect the org this user last approved this app for, else the first one allowed.
    let previous = consent::Entity::find()
        .filter(consent::Column::UserId.eq(user.id))
        .filter(consent::Column::ClientId.eq(client.id))
        .one(&s.db)
        .await?
        .and_then(|c| ids.iter().position(|id| *id == c.org_id))
        .map(|i| choices[i].slug.clone())
        .filter(|slug| {
            choices
                .iter()
                .any(|o| &o.slug == slug && o.blocked.is_none())
        });
    let preselected = previous.or_else(|| {
        choices
            .iter()
            .find(|o| o.blocked.is_none())
            .map(|o| o.slug.clone())
    });
    let redirect_url = url::Url::parse(&req.redirect_uri).ok();
    Ok(ConsentView {
        request_id: req.id,
        client_name: client.name.clone(),
        client_id: client.client_id.clone(),
        verified: client.verified,
        dynamic: client.kind == ClientKind::Dynamic,
        vouched_by: (client.kind == ClientKind::Metadata)
            .then(|| super::metadata_document::vouching_host(&client.client_id))
            .flatten(),
        redirect_host: redirect_uri::display_origin(&req.redirect_uri),
        localhost_redirect: redirect_url.as_ref().is_some_and(redirect_uri::is_loopback),
        user_email: user.email.clone(),
        scopes: ScopeSet::parse_known(&req.scope)
            .iter()
            .map(|sc| (sc.to_string(), describe(sc).to_string()))
            .collect(),
        resource: req.resource.clone(),
        fixed_org: fixed.map(|f| f.slug),
        preselected,
        orgs: choices,
        expires_at: req.expires_at,
    })
}

/// If this user already approved this client for the org with at least these scopes (and the
/// app didn't ask with `prompt=consent`), approve again without asking.
pub async fn try_remembered(
    s: &Services,
    request_id: Uuid,
    user: &user::Model,
    meta: &RequestMeta,
) -> AppResult<Option<String>> {
    let (req, client) = load_pending(&s.db, request_id, user).await?;
    if req
        .prompt
        .as_deref()
        .is_some_and(|p| p.split_whitespace().any(|w| w == "consent" || w == "login"))
    {
        return Ok(None);
    }
    let org_id = match req.org_id {
        Some(id) => id,
        None => {
            let mine = orgs::orgs_of(&s.db, user.id).await?;
            match mine.as_slice() {
                [only] => only.id,
                _ => return Ok(None),
            }
        }
    };
    // Remembered for this client, this org and this redirect URI; it ends with the
    // connection it was given for.
    let Some(previous) = consent::Entity::find()
        .filter(consent::Column::UserId.eq(user.id))
        .filter(consent::Column::OrgId.eq(org_id))
        .filter(consent::Column::ClientId.eq(client.id))
        .filter(consent::Column::RedirectUri.eq(req.redirect_uri.as_str()))
        .one(&s.db)
        .await?
    else {
        return Ok(None);
    };
    if !ScopeSet::parse_known(&req.scope).is_subset(&ScopeSet::parse_known(&previous.scope)) {
        return Ok(None);
    }
    let Some(org) = orgs::find(&s.db, org_id).await? else {
        return Ok(None);
    };
    approve(s, request_id, user, &org.slug, meta)
        .await
        .map(Some)
}

/// Approves the request for `org_slug`: records the connection and the consent, issues a code,
/// and returns where to send the browser.
pub async fn approve(
    s: &Services,
    request_id: Uuid,
    user: &user::Model,
    org_slug: &str,
    meta: &RequestMeta,
) -> AppResult<String> {
    let (req, client) = load_pending(&s.db, request_id, user).await?;
    let (org, role) = orgs::member_org(&s.db, user.id, org_slug)
        .await
        .map_err(|_| AppError::invalid("org", "Choose one of your organizations."))?;
    if req.org_id.is_some_and(|fixed| fixed != org.id) {
        return Err(AppError::invalid(
            "org",
            "This MCP address belongs to another organization.",
        ));
    }
    if let Err(denial) = s
        .access()
        .consent(&org, role, user, &client, &req.redirect_uri)
        .await?
    {
        return Err(denial.into());
    }
    let now = Utc::now();
    let code = random_urlsafe(32);
    let txn = s.db.begin_write().await?;
    // Claim the request: a double submit or a second tab can't make a second code.
    let claimed = authorization_request::Entity::update_many()
        .col_expr(
            authorization_request::Column::Status,
            sea_orm::sea_query::Expr::value(RequestStatus::Approved),
        )
        .filter(authorization_request::Column::Id.eq(req.id))
        .filter(authorization_request::Column::Status.eq(RequestStatus::Pending))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::not_found(
            "This authorization request was already answered. Start again from your app.",
        ));
    }
    let conn = connection::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        org_id: Set(org.id),
        client_id: Set(client.id),
        scope: Set(req.scope.clone()),
        resource: Set(req.resource.clone()),
        created_at: Set(now),
        last_used_at: Set(None),
        disabled_at: Set(None),
        revoked_at: Set(None),
        revoked_by: Set(None),
        revoke_reason: Set(None),
        via_assertion: Set(false),
    }
    .insert(&txn)
    .await?;
    authorization_code::ActiveModel {
        id: Set(Uuid::now_v7()),
        code_hash: Set(sha256_hex(&code)),
        request_id: Set(Some(req.id)),
        client_id: Set(client.id),
        user_id: Set(user.id),
        org_id: Set(org.id),
        connection_id: Set(Some(conn.id)),
        redirect_uri: Set(req.redirect_uri.clone()),
        scope: Set(req.scope.clone()),
        resource: Set(req.resource.clone()),
        code_challenge: Set(req.code_challenge.clone()),
        code_challenge_method: Set(req.code_challenge_method.clone()),
        created_at: Set(now),
        expires_at: Set(now + s.settings.oauth.code_ttl),
        used_at: Set(None),
        redirect_uri_required: Set(req.redirect_uri_sent),
    }
    .insert(&txn)
    .await?;
    remember(
        &txn,
        user.id,
        org.id,
        client.id,
        &req.scope,
        &req.redirect_uri,
    )
    .await?;
    if client.first_authorized_at.is_none() {
        oauth_client::Entity::update_many()
            .col_expr(
                oauth_client::Column::FirstAuthorizedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(oauth_client::Column::Id.eq(client.id))
            .exec(&txn)
            .await?;
    }
    audit::record(
        &txn,
        AuditEntry::new("oauth.consent.granted")
            .org(org.id)
            .actor(user.id)
            .target("connection", conn.id)
            .details(json!({ "client_id": client.client_id, "client": client.name, "scope": req.scope, "role": role.as_str() })),
        meta,
    )
    .await?;
    txn.commit().await?;
    Ok(client_redirect(
        s,
        &req.redirect_uri,
        req.state.as_deref(),
        &[("code", &code)],
    ))
}

async fn remember(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    org_id: Uuid,
    client_id: Uuid,
    scope: &str,
    redirect_uri: &str,
) -> AppResult<()> {
    let now = Utc::now();
    let existing = consent::Entity::find()
        .filter(consent::Column::UserId.eq(user_id))
        .filter(consent::Column::OrgId.eq(org_id))
        .filter(consent::Column::ClientId.eq(client_id))
        .one(db)
        .await?;
    match existing {
        Some(c) => {
            // Another redirect URI starts over: what was approved for the old one doesn't
            // carry to the new one.
            let same_redirect = c.redirect_uri.as_deref() == Some(redirect_uri);
            let mut union: Vec<&str> = ScopeSet::parse_known(scope).iter().collect();
            if same_redirect {
                union.extend(ScopeSet::parse_known(&c.scope).iter());
            }
            union.sort();
            union.dedup();
            let mut active: consent::ActiveModel = c.into();
            active.scope = Set(union.join(" "));
            active.redirect_uri = Set(Some(redirect_uri.to_string()));
            active.updated_at = Set(now);
            active.update(db).await?;
        }
        None => {
            consent::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(user_id),
                org_id: Set(org_id),
                client_id: Set(client_id),
                scope: Set(scope.to_string()),
                created_at: Set(now),
                updated_at: Set(now),
                redirect_uri: Set(Some(redirect_uri.to_string())),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// The user said no: the client hears `access_denied`.
pub async fn deny(
    s: &Services,
    request_id: Uuid,
    user: &user::Model,
    meta: &RequestMeta,
) -> AppResult<String> {
    let (req, client) = load_pending(&s.db, request_id, user).await?;
    authorization_request::Entity::update_many()
        .col_expr(
            authorization_request::Column::Status,
            sea_orm::sea_query::Expr::value(RequestStatus::Denied),
        )
        .filter(authorization_request::Column::Id.eq(req.id))
        .filter(authorization_request::Column::Status.eq(RequestStatus::Pending))
        .exec(&s.db)
        .await?;
    audit::record(
        &s.db,
        AuditEntry {
            org_id: req.org_id,
            ..AuditEntry::new("oauth.consent.denied")
        }
        .actor(user.id)
        .target("oauth_client", &client.client_id)
        .details(json!({ "client": client.name, "scope": req.scope })),
        meta,
    )
    .await?;
    Ok(client_redirect(
        s,
        &req.redirect_uri,
        req.state.as_deref(),
        &[
            ("error", "access_denied"),
            ("error_description", "The user denied the request."),
        ],
    ))
}
