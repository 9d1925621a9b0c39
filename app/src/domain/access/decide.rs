//! The decision itself: pure functions of what the database said and what the caller wants.
//! The order of the checks is the order of the answer: a caller learns first what it can fix
//! (the token), then who it is (account, membership, connection), then what the org allows.

use chrono::{DateTime, Utc};

use super::denial::Denial;
use super::principal::{ClientFacts, Holder, Principal};
use crate::domain::entities::{oauth_client, organization, token::TokenKind};
use crate::domain::oauth::client_domains::DomainList;
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
    member(&holder.org, holder.role, holder.user.two_factor)?;
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
    oauth_grant_allowed(org, &g.client, g.blocked)
}

/// What an org allows of an MCP OAuth grant to a client, at consent and at every use of its
/// tokens alike: the MCP server and MCP OAuth PATs on, the client not blocked there,
/// self-registered clients allowed, and metadata-document clients allowed, from a domain the
/// org accepts.
fn oauth_grant_allowed(
    org: &organization::Model,
    client: &ClientFacts,
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
            client_name: client.name.clone(),
        });
    }
    match client.kind {
        ClientKind::Dynamic if !org.dynamic_registration_enabled => {
            Err(Denial::DynamicClientsDisabled {
                org_name: org_name(),
            })
        }
        ClientKind::Metadata => metadata_client_allowed(org, client.host.as_deref().unwrap_or("")),
        _ => Ok(()),
    }
}

/// A metadata-document client from `host`: the org's switch and its domain lists (a stored
/// list that can't be read lets none in).
fn metadata_client_allowed(org: &organization::Model, host: &str) -> Result<(), Denial> {
    let org_name = || org.name.clone();
    if !org.metadata_clients_enabled {
        return Err(Denial::MetadataClientsDisabled {
            org_name: org_name(),
        });
    }
    let list = |stored: &str| {
        DomainList::from_json(stored).map_err(|_| Denial::ClientDomainsUnreadable {
            org_name: org_name(),
        })
    };
    if list(&org.blocked_client_domains)?.covers(host) {
        return Err(Denial::ClientDomainBlocked {
            org_name: org_name(),
            domain: host.to_string(),
        });
    }
    let allowed = list(&org.allowed_client_domains)?;
    if !allowed.is_empty() && !allowed.covers(host) {
        return Err(Denial::ClientDomainNotAllowed {
            org_name: org_name(),
            allowed: allowed.entries().to_vec(),
            domain: host.to_string(),
        });
    }
    Ok(())
}

/// May a member with `role` (whose account has two-factor sign-in on or not) work in `org` at
/// all? Its pages, its consent, its tokens: the org's two-factor policy holds at every door.
pub fn member(org: &organization::Model, role: Role, two_factor: bool) -> Result<(), Denial> {
    if org.two_factor_policy.applies_to(role) && !two_factor {
        return Err(Denial::TwoFactorRequired {
            org_name: org.name.clone(),
        });
    }
    Ok(())
}

/// May this member connect `client` to `org`, sending the answer to `redirect_uri`? What the
/// consent screen shows against each org, and what approving checks again.
pub fn consent(
    org: &organization::Model,
    role: Role,
    two_factor: bool,
    client: &oauth_client::Model,
    blocked: bool,
    redirect_uri: &str,
) -> Result<(), Denial> {
    let org_name = || org.name.clone();
    assertion_grant(org, role, two_factor, client, blocked)?;
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

/// May this member be granted MCP access for `client` in `org` by the org's identity provider
/// (an identity assertion)? The consent screen's question without a redirect: the provider
/// stands in for the person's approval, never for the org's own rules.
pub fn assertion_grant(
    org: &organization::Model,
    role: Role,
    two_factor: bool,
    client: &oauth_client::Model,
    blocked: bool,
) -> Result<(), Denial> {
    member(org, role, two_factor)?;
    capability(role, Capability::UseMcpOAuth)?;
    oauth_grant_allowed(org, &ClientFacts::of(client), blocked)
}

/// May this member create a standard PAT in `org`? The two-factor policy, then the role.
pub fn create_pat(org: &organization::Model, role: Role, two_factor: bool) -> Result<(), Denial> {
    member(org, role, two_factor)?;
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Duration;
    use uuid::Uuid;

    use super::*;
    use crate::domain::access::principal::{ClientFacts, GrantFacts, TokenFacts, UserFacts};
    use crate::domain::oauth::scope::ScopeSet;

    const PUBLIC: &str = "https://gate.test";

    fn org() -> organization::Model {
        organization::Model {
            id: Uuid::new_v4(),
            slug: "acme".into(),
            name: "Acme".into(),
            mcp_enabled: true,
            personal_tokens_enabled: true,
            mcp_oauth_pats_enabled: true,
            dynamic_registration_enabled: true,
            allowed_redirect_hosts: "[]".into(),
            access_token_ttl_secs: 3600,
            refresh_token_ttl_secs: 86_400,
            pat_max_ttl_days: 365,
            two_factor_policy: crate::model::TwoFactorPolicy::Off,
            metadata_clients_enabled: true,
            allowed_client_domains: "[]".into(),
            blocked_client_domains: "[]".into(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn client(org: &organization::Model, kind: ClientKind) -> oauth_client::Model {
        oauth_client::Model {
            id: Uuid::new_v4(),
            client_id: "gc_x".into(),
            kind,
            name: "App".into(),
            description: None,
            owner_user_id: None,
            org_id: Some(org.id),
            redirect_uris: "[]".into(),
            grant_types: "[]".into(),
            response_types: "[]".into(),
            token_endpoint_auth_method: "client_secret_basic".into(),
            secret_hash: None,
            secret_last_four: None,
            secret_rotated_at: None,
            allowed_scopes: "mcp:read".into(),
            application_type: None,
            client_uri: None,
            logo_uri: None,
            tos_uri: None,
            policy_uri: None,
            contacts: None,
            software_id: None,
            software_version: None,
            extra_metadata: None,
            verified: false,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            last_used_at: None,
            first_authorized_at: None,
            resource_server: false,
            pkce_optional: false,
            metadata_fetched_at: None,
            metadata_expires_at: None,
        }
    }

    /// An access token of a live grant to `app` in `org`.
    fn access(org: &organization::Model, app: &oauth_client::Model) -> Principal {
        let token = TokenFacts {
            id: Uuid::new_v4(),
            kind: TokenKind::Access,
            name: None,
            scopes: ScopeSet::all(),
            resource: Some(format!("{PUBLIC}/o/acme/mcp")),
            client_row: Some(app.id),
            created_at: Utc::now(),
            expires_at: Some(Utc::now() + Duration::hours(1)),
            revoked: false,
            disabled: false,
            rotated: false,
        };
        let holder = Holder {
            user: UserFacts {
                id: Uuid::new_v4(),
                email: "ada@example.com".into(),
                name: None,
                disabled: false,
                two_factor: false,
            },
            org: org.clone(),
            role: Role::Querier,
            grant: Some(GrantFacts {
                connection_id: Uuid::new_v4(),
                status: ConnectionStatus::Active,
                client: ClientFacts::of(app),
                blocked: false,
            }),
        };
        Principal::new(token, Arc::new(holder))
    }

    fn at_mcp(p: &Principal) -> Result<(), Denial> {
        let here = McpResource::Org("acme".into());
        decide(p, Purpose::Mcp(&here), PUBLIC, Utc::now())
    }

    #[test]
    fn the_token_speaks_before_the_holder_and_the_holder_before_the_org() {
        let mut o = org();
        o.mcp_enabled = false;
        let app = client(&o, ClientKind::Dynamic);
        let mut p = access(&o, &app);
        assert_eq!(
            at_mcp(&p),
            Err(Denial::McpDisabled {
                org_name: "Acme".into()
            })
        );
        Arc::get_mut(&mut p.holder).unwrap().user.disabled = true;
        assert_eq!(at_mcp(&p), Err(Denial::AccountDisabled));
        p.token.revoked = true;
        assert_eq!(at_mcp(&p), Err(Denial::TokenRevoked));
    }

    #[test]
    fn introspection_reveals_nothing_to_a_stranger() {
        let o = org();
        let app = client(&o, ClientKind::Dynamic);
        let mut p = access(&o, &app);
        p.token.revoked = true;
        let mut stranger = client(&o, ClientKind::Admin);
        let asks = |caller: &oauth_client::Model, p: &Principal| {
            decide(p, Purpose::Introspection { caller }, PUBLIC, Utc::now())
        };
        // A stranger learns it may not ask, never that the token was revoked.
        assert_eq!(asks(&stranger, &p), Err(Denial::NotEntitled));
        // The org's resource server learns the token's state; another org's doesn't.
        stranger.resource_server = true;
        assert_eq!(asks(&stranger, &p), Err(Denial::TokenRevoked));
        stranger.org_id = Some(Uuid::new_v4());
        assert_eq!(asks(&stranger, &p), Err(Denial::NotEntitled));
        // The token's own client always may.
        assert_eq!(asks(&app, &p), Err(Denial::TokenRevoked));
    }

    #[test]
    fn consent_and_use_apply_the_same_grant_policy() {
        for change in ["mcp", "oauth pats", "dynamic"] {
            let mut o = org();
            match change {
                "mcp" => o.mcp_enabled = false,
                "oauth pats" => o.mcp_oauth_pats_enabled = false,
                _ => o.dynamic_registration_enabled = false,
            }
            let app = client(&o, ClientKind::Dynamic);
            let at_consent = consent(
                &o,
                Role::Querier,
                false,
                &app,
                false,
                "https://app.example/cb",
            );
            assert!(at_consent.is_err(), "{change}");
            assert_eq!(at_consent, at_mcp(&access(&o, &app)), "{change}");
        }
        let o = org();
        let app = client(&o, ClientKind::Dynamic);
        let mut p = access(&o, &app);
        Arc::get_mut(&mut p.holder)
            .unwrap()
            .grant
            .as_mut()
            .unwrap()
            .blocked = true;
        assert_eq!(
            at_mcp(&p),
            consent(
                &o,
                Role::Querier,
                false,
                &app,
                true,
                "https://app.example/cb"
            )
        );
    }
}
