//! The decision itself: pure functions of what the database said and what the caller wants.
//! The order of the checks is the order of the answer: a caller learns first what it can fix
//! (the token), then who it is (account, membership, connection), then what the org allows.

use chrono::{DateTime, Utc};

use super::denial::Denial;
use super::principal::{Holder, Principal};
use crate::domain::entities::{oauth_client, organization, token::TokenKind};
use crate::domain::oauth::redirect_uri::RedirectAllowList;
use crate::domain::oauth::resource::McpResource;
use crate::model::{ClientKind, ConnectionStatus, Role};
use crate::policy::Capability;

/// What a credential is presented for.
#[derive(Debug, Clone, Copy)]
pub enum Purpose<'a> {
    /// A request to one of Gatehouse's MCP endpoints.
    Mcp(&'a McpResource),
    /// A call to the REST API (`/api/v1`), which takes standard PATs.
    Api,
    /// The refresh grant, presented by this (authenticated) client.
    Refresh { client: &'a oauth_client::Model },
    /// An introspection answer for this (authenticated) caller.
    Introspection { caller: &'a oauth_client::Model },
}

/// May `p` be used for `purpose` at `now`? `public_url` is the issuer base that MCP resources
/// are named under.
pub fn decide(
    p: &Principal,
    purpose: Purpose<'_>,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<(), Denial> {
    token_fits(p, purpose, public_url, now)?;
    holder_allows(&p.holder, p.token.kind, purpose)
}

/// May the grant `holder` describes still get tokens for `client`? The code exchange's
/// question: the same as a refresh's, about the holder alone (there is no token yet).
pub fn decide_grant(holder: &Holder, client: &oauth_client::Model) -> Result<(), Denial> {
    if holder.grant.as_ref().map(|g| g.client.row_id) != Some(client.id) {
        return Err(Denial::WrongClient);
    }
    holder_allows(holder, TokenKind::Access, Purpose::Refresh { client })
}

/// The token itself: its kind for this purpose, whether this caller may present or inspect
/// it (before anything about it is revealed), its state, and its audience.
fn token_fits(
    p: &Principal,
    purpose: Purpose<'_>,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<(), Denial> {
    let t = &p.token;
    match purpose {
        Purpose::Mcp(_) if t.kind == TokenKind::Refresh => return Err(Denial::RefreshTokenHere),
        Purpose::Api if t.kind != TokenKind::Pat => return Err(Denial::OAuthTokenAtApi),
        Purpose::Refresh { .. } if t.kind != TokenKind::Refresh => {
            return Err(Denial::NotARefreshToken);
        }
        Purpose::Refresh { client } if t.client_row != Some(client.id) => {
            return Err(Denial::WrongClient);
        }
        Purpose::Introspection { caller } if !may_introspect(caller, p) => {
            return Err(Denial::NotEntitled);
        }
        _ => {}
    }
    if t.revoked {
        return Err(Denial::TokenRevoked);
    }
    if t.disabled {
        return Err(Denial::TokenDisabled);
    }
    if t.expires_at.is_some_and(|e| e <= now) {
        return Err(Denial::TokenExpired);
    }
    if t.rotated {
        return Err(Denial::TokenRotated);
    }
    if let Purpose::Mcp(endpoint) = purpose {
        audience(p, endpoint, public_url)?;
    }
    Ok(())
}

/// Who holds the grant, and what their org allows: the account, the connection, the org's
/// switches and blocks.
fn holder_allows(holder: &Holder, kind: TokenKind, purpose: Purpose<'_>) -> Result<(), Denial> {
    if holder.user.disabled {
        return Err(Denial::AccountDisabled);
    }
    if let Some(g) = &holder.grant {
        match g.status {
            ConnectionStatus::Revoked => return Err(Denial::ConnectionRevoked),
            ConnectionStatus::Disabled => return Err(Denial::ConnectionDisabled),
            ConnectionStatus::Active => {}
        }
    }
    org_allows(holder, kind, purpose)
}

/// The token's client itself (confidential: callers authenticate), or a confidential client
/// an admin of the token's org made a resource server of that org.
fn may_introspect(caller: &oauth_client::Model, p: &Principal) -> bool {
    let own = p.token.client_row == Some(caller.id);
    let resource_server = caller.resource_server
        && caller.kind == ClientKind::Admin
        && caller.org_id == Some(p.holder.org.id);
    own || resource_server
}

/// An OAuth token only at the endpoint it was issued for; a PAT only at its own org's.
fn audience(p: &Principal, endpoint: &McpResource, public_url: &str) -> Result<(), Denial> {
    match (&p.token.kind, &p.token.resource) {
        (TokenKind::Pat, _) => match endpoint.org_slug() {
            Some(slug) if slug != p.holder.org.slug => Err(Denial::WrongOrg {
                org_slug: p.holder.org.slug.clone(),
                use_url: McpResource::Org(p.holder.org.slug.clone()).url(public_url),
            }),
            _ => Ok(()),
        },
        (_, Some(resource)) if endpoint.is_url(public_url, resource) => Ok(()),
        (_, resource) => Err(Denial::WrongAudience {
            issued_for: resource.clone().unwrap_or_default(),
            here: endpoint.url(public_url),
        }),
    }
}

/// The org's switches. The REST API is not the MCP server: switching MCP off doesn't lock
/// admins out of the API they may need to switch it back on; switching personal tokens off
/// does. Everything about MCP OAuth grants follows the MCP switches wherever they are used.
fn org_allows(holder: &Holder, kind: TokenKind, purpose: Purpose<'_>) -> Result<(), Denial> {
    let org = &holder.org;
    if kind == TokenKind::Pat {
        if !matches!(purpose, Purpose::Api | Purpose::Introspection { .. }) && !org.mcp_enabled {
            return Err(Denial::McpDisabled {
                org_name: org.name.clone(),
            });
        }
        if !org.personal_tokens_enabled {
            return Err(Denial::PersonalTokensDisabled {
                org_name: org.name.clone(),
            });
        }
        return Ok(());
    }
    let g = holder.grant.as_ref().ok_or(Denial::ConnectionGone)?;
    oauth_grant_allowed(org, &g.client.name, g.client.kind, g.blocked)
}

/// What an org allows of an MCP OAuth grant to a client, at consent and at every use of its
/// tokens alike: the MCP server and MCP OAuth PATs on, the client not blocked there, and
/// self-registered clients allowed.
fn oauth_grant_allowed(
    org: &organization::Model,
    client_name: &str,
    client_kind: ClientKind,
    blocked: bool,
) -> Result<(), Denial> {
    let org_name = || org.name.clone();
    if !org.mcp_enabled {
        return Err(Denial::McpDisabled {
            org_name: org_name(),
        });
    }
    if !org.mcp_oauth_pats_enabled {
        return Err(Denial::McpOAuthPatsDisabled {
            org_name: org_name(),
        });
    }
    if blocked {
        return Err(Denial::ClientBlocked {
            org_name: org_name(),
            client_name: client_name.to_string(),
        });
    }
    if client_kind == ClientKind::Dynamic && !org.dynamic_registration_enabled {
        return Err(Denial::DynamicClientsDisabled {
            org_name: org_name(),
        });
    }
    Ok(())
}

/// May this member connect `client` to `org`, sending the answer to `redirect_uri`? What the
/// consent screen shows against each org, and what approving checks again.
pub fn consent(
    org: &organization::Model,
    role: Role,
    client: &oauth_client::Model,
    blocked: bool,
    redirect_uri: &str,
) -> Result<(), Denial> {
    let org_name = || org.name.clone();
    capability(role, Capability::UseMcpOAuth)?;
    oauth_grant_allowed(org, &client.name, client.kind, blocked)?;
    let allowed = RedirectAllowList::of(org).map_err(|_| Denial::RedirectPolicyUnreadable {
        org_name: org_name(),
    })?;
    if !allowed.allows(redirect_uri) {
        return Err(Denial::RedirectNotAllowed {
            org_name: org_name(),
            allowed: allowed.shown(),
            redirect: crate::domain::oauth::redirect_uri::display_origin(redirect_uri),
        });
    }
    Ok(())
}

/// May this member create a standard PAT in `org`? The role first.
pub fn create_pat(org: &organization::Model, role: Role) -> Result<(), Denial> {
    capability(role, Capability::CreatePersonalToken)?;
    if !org.personal_tokens_enabled {
        return Err(Denial::PersonalTokensDisabled {
            org_name: org.name.clone(),
        });
    }
    Ok(())
}

/// May this member do what `capability` covers in their org (pages, forms, the API)?
pub fn capability(role: Role, capability: Capability) -> Result<(), Denial> {
    if role.can(capability) {
        Ok(())
    } else {
        Err(Denial::RoleTooLow { role, capability })
    }
}
