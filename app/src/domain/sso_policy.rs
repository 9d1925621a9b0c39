//! Which organization's single sign-on covers an address, and whether it must be used: asked
//! by the password sign-in (which refuses members of an org that requires SSO) and by
//! `/login/sso?email=`. A leaf of the domain, so that accounts can ask it without depending on
//! the sign-in flow.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::entities::{organization, sso_connection, sso_domain, sso_identity, user};
use crate::error::AppResult;

/// The org whose connection covers `email`'s domain, if any (an address leads to one
/// provider): where `/login` sends an address that signs in through single sign-on.
pub async fn org_for_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> AppResult<Option<(Uuid, sso_connection::Model)>> {
    let email = email.trim().to_lowercase();
    let Some((_, domain)) = email.rsplit_once('@') else {
        return Ok(None);
    };
    // The domain itself or a parent domain (`eu.acme.example` is covered by `acme.example`).
    let mut candidates = vec![domain.to_string()];
    let mut rest = domain;
    while let Some((_, parent)) = rest.split_once('.') {
        if parent.contains('.') {
            candidates.push(parent.to_string());
        }
        rest = parent;
    }
    let Some(found) = sso_domain::Entity::find()
        .filter(sso_domain::Column::Domain.is_in(candidates))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let conn = sso_connection::Entity::find_by_id(found.org_id)
        .one(db)
        .await?
        .filter(|c| c.enabled);
    Ok(conn.map(|c| (found.org_id, c)))
}

/// Whether `user` must sign in through single sign-on: their address is covered by an org
/// that requires it and they are a member there. The org, to say where to sign in.
///
/// Except a member of other orgs too whose account isn't connected to this org's provider yet
/// (see [`links_only_from_itself`]): its password must still work until then.
pub async fn required_for(
    db: &impl ConnectionTrait,
    user: &user::Model,
) -> AppResult<Option<organization::Model>> {
    let Some((org_id, conn)) = org_for_email(db, &user.email).await? else {
        return Ok(None);
    };
    if !conn.require_sso || super::orgs::role_in(db, org_id, user.id).await?.is_none() {
        return Ok(None);
    }
    let connected = sso_identity::Entity::find()
        .filter(sso_identity::Column::UserId.eq(user.id))
        .filter(sso_identity::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .is_some();
    if !connected && links_only_from_itself(db, user.id, org_id).await? {
        return Ok(None);
    }
    super::orgs::find(db, org_id).await
}

/// Whether `user_id`'s account belongs to orgs other than `org_id` too: then `org_id`'s provider
/// may link it only from a browser signed in as the account (whoever runs that provider, an
/// admin of `org_id` who may have added the account there, could otherwise sign in as the
/// person in every org), and until it is linked a required SSO doesn't refuse its password.
pub async fn links_only_from_itself(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    org_id: Uuid,
) -> AppResult<bool> {
    Ok(super::orgs::orgs_of(db, user_id)
        .await?
        .iter()
        .any(|o| o.id != org_id))
}
