//! The authorization endpoint's checks (OAuth 2.1 §4.1.1–4.1.2.1). Phase 1 problems (unknown
//! client, redirect URI not registered) are shown to the user and never redirected; phase 2
//! problems go back to the client as `error=…`. A valid request is stored on the server and
//! only its id travels through sign-in and consent.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use uuid::Uuid;

use super::client_auth;
use super::clients::list;
use super::redirect_uri;
use super::resource::McpResource;
use super::scope::ScopeSet;
use crate::domain::entities::authorization_request::{self, RequestStatus};
use crate::domain::entities::oauth_client;
use crate::domain::{RequestMeta, Services, orgs};
use crate::model::ClientKind;

#[derive(Debug, Clone, Default)]
pub struct AuthorizeRequest {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub resource: Vec<String>,
    pub prompt: Option<String>,
    /// A singular parameter the request repeated (the edge sees the raw parameters).
    pub repeated: Option<String>,
    /// Whether the person is signed in: error redirects to apps nobody vouches for wait for it.
    pub signed_in: bool,
    /// The client address, to bound pending requests per address.
    pub client_ip: Option<String>,
}

#[derive(Debug)]
pub enum Begin {
    /// Phase 1: tell the user; redirecting could make us an open redirector.
    ErrorPage(String),
    /// Phase 2: send the error back to the (verified) redirect URI.
    RedirectError {
        client: Box<oauth_client::Model>,
        location: String,
    },
    /// Too many requests from this address are waiting: shown to the person (429).
    TooMany(String),
    /// Stored: continue with sign-in and consent.
    Pending {
        request: Box<authorization_request::Model>,
        client: Box<oauth_client::Model>,
    },
}

/// Whether Gatehouse may send an error straight back to this client's redirect URI before
/// the person has signed in. Only for apps someone vouches for: an instance-verified client,
/// or one an admin created for the org the request is for (or, at `/mcp`, any org). Anyone
/// can register a client or make an app of their own, so for those an early redirect would
/// make Gatehouse an open redirector to any address they chose.
pub fn trusted_redirect(client: &oauth_client::Model, org_id: Option<Uuid>) -> bool {
    client.verified
        || (client.kind == ClientKind::Admin
            && client.org_id.is_some()
            && org_id.is_none_or(|o| client.org_id == Some(o)))
}

/// The redirect back to the client: our issuer (RFC 9207) and the client's state, always.
pub fn client_redirect(
    s: &Services,
    redirect_uri: &str,
    state: Option<&str>,
    params: &[(&str, &str)],
) -> String {
    let mut all: Vec<(&str, &str)> = params.to_vec();
    if let Some(state) = state {
        all.push(("state", state));
    }
    all.push(("iss", &s.settings.public_url));
    super::with_query(redirect_uri, &all)
}

fn valid_challenge(c: &str) -> bool {
    (43..=128).contains(&c.len())
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

pub async fn begin(s: &Services, req: AuthorizeRequest) -> Result<Begin, sea_orm::DbErr> {
    let Some(client_id) = req.client_id.as_deref().filter(|c| !c.is_empty()) else {
        return Ok(Begin::ErrorPage(
            "The request does not say which app is asking (client_id is missing).".into(),
        ));
    };
    if let Some(dup) = req
        .repeated
        .as_deref()
        .filter(|d| matches!(*d, "client_id" | "redirect_uri"))
    {
        return Ok(Begin::ErrorPage(format!(
            "The parameter {dup} was sent more than once, so the request can't be trusted."
        )));
    }
    let client = match client_auth::lookup(
        s,
        client_id,
        &RequestMeta::from_ip(req.client_ip.clone()),
    )
    .await
    {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Ok(Begin::ErrorPage(format!(
                "No app is registered with the client ID “{client_id}”. It may have been removed; reconnect from your app to register it again."
            )));
        }
        Err(e) if e.error == "server_error" => {
            return Err(sea_orm::DbErr::Custom("client lookup failed".into()));
        }
        // A metadata document that can't be fetched or used: the reason, to the person.
        Err(e) => return Ok(Begin::ErrorPage(e.error_description)),
    };
    let registered = list(&client.redirect_uris);
    let redirect = match req.redirect_uri.as_deref().filter(|r| !r.is_empty()) {
        Some(r) if redirect_uri::matches(&registered, r) => r.to_string(),
        Some(r) => {
            return Ok(Begin::ErrorPage(format!(
                "The redirect URI “{r}” is not registered for {}. Nothing was sent to it.",
                client.name
            )));
        }
        None if registered.len() == 1 => registered[0].clone(),
        None => {
            return Ok(Begin::ErrorPage(format!(
                "{} registered several redirect URIs, so the request must say which one to use (redirect_uri is missing).",
                client.name
            )));
        }
    };
    let mut resources: Vec<&str> = req
        .resource
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .collect();
    resources.dedup();
    let resource = match resources.as_slice() {
        [] => Some(McpResource::Instance),
        [one] => McpResource::parse(one, &s.settings.public_url),
        _ => None,
    };
    let org = match resource.as_ref().and_then(McpResource::org_slug) {
        Some(slug) => orgs::find_by_slug(&s.db, slug)
            .await
            .map_err(|_| sea_orm::DbErr::Custom("org lookup".into()))?,
        None => None,
    };

    // Phase 2: the redirect URI is the client's own; errors go back to it, but to an app
    // nobody vouches for only once the person has signed in.
    let vouched = req.signed_in || trusted_redirect(&client, org.as_ref().map(|o| o.id));
    let state = req.state.as_deref().filter(|s| !s.is_empty());
    let fail = |error: &str, description: &str| {
        if !vouched {
            return Ok(Begin::ErrorPage(format!(
                "{description} ({error}; Gatehouse sends errors back to {} only after you sign in.)",
                client.name
            )));
        }
        Ok(Begin::RedirectError {
            location: client_redirect(
                s,
                &redirect,
                state,
                &[("error", error), ("error_description", description)],
            ),
            client: Box::new(client.clone()),
        })
    };
    if let Some(dup) = &req.repeated {
        return fail(
            "invalid_request",
            &format!("The parameter {dup} was sent more than once."),
        );
    }
    if req.response_type.as_deref() != Some("code") {
        return fail(
            "unsupported_response_type",
            "Only response_type=code is supported.",
        );
    }
    match (
        req.code_challenge.as_deref().filter(|c| !c.is_empty()),
        req.code_challenge_method.as_deref(),
    ) {
        // Granted per client by an admin (a connector that can't send PKCE), never by itself.
        (None, _) if client.pkce_optional => {}
        (None, _) => {
            return fail(
                "invalid_request",
                "PKCE is required: send code_challenge with code_challenge_method=S256.",
            );
        }
        (Some(_), Some("S256")) => {}
        (Some(_), Some("plain")) => {
            return fail(
                "invalid_request",
                "code_challenge_method=plain is not allowed; use S256.",
            );
        }
        (Some(_), _) => return fail("invalid_request", "code_challenge_method must be S256."),
    }
    if let Some(c) = req.code_challenge.as_deref().filter(|c| !c.is_empty())
        && !valid_challenge(c)
    {
        return fail(
            "invalid_request",
            "code_challenge must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~.",
        );
    }
    if resources.len() > 1 {
        return fail("invalid_target", "Ask for one resource per authorization.");
    }
    let resource = match (resource, &org) {
        (Some(McpResource::Instance), _) => McpResource::Instance,
        (Some(r @ McpResource::Org(_)), Some(_)) => r,
        _ => {
            return fail(
                "invalid_target",
                "The resource is not an MCP endpoint of this server.",
            );
        }
    };
    let allowed = ScopeSet::parse_known(&client.allowed_scopes);
    let scope = match req
        .scope
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => allowed.clone(),
        Some(raw) => ScopeSet::parse_known(raw).intersect(&allowed),
    };
    if scope.is_empty() {
        return fail(
            "invalid_scope",
            "None of the requested scopes is available; use mcp:read and mcp:write.",
        );
    }
    let now = Utc::now();
    // Requests wait on the server for their person: bounded per address, so anonymous
    // traffic can't fill the table (they also expire, and housekeeping deletes them).
    let pending = authorization_request::Entity::find()
        .filter(match &req.client_ip {
            Some(ip) => authorization_request::Column::ClientIp.eq(ip.as_str()),
            None => authorization_request::Column::ClientIp.is_null(),
        })
        .filter(authorization_request::Column::Status.eq(RequestStatus::Pending))
        .filter(authorization_request::Column::ExpiresAt.gt(now))
        .count(&s.db)
        .await?;
    if pending >= s.settings.oauth.max_pending_requests_per_address {
        return Ok(Begin::TooMany(
            "Too many sign-in requests from your network are waiting to be answered. Finish or close the ones that are open, or try again in a few minutes.".into(),
        ));
    }
    let request = authorization_request::ActiveModel {
        id: Set(Uuid::new_v4()),
        client_id: Set(client.id),
        redirect_uri: Set(redirect),
        scope: Set(scope.to_string()),
        state: Set(state.map(str::to_string)),
        code_challenge: Set(req.code_challenge.filter(|c| !c.is_empty())),
        code_challenge_method: Set(req.code_challenge_method.filter(|c| !c.is_empty())),
        resource: Set(resource.url(&s.settings.public_url)),
        org_id: Set(org.map(|o| o.id)),
        prompt: Set(req.prompt.filter(|p| !p.is_empty())),
        user_id: Set(None),
        status: Set(RequestStatus::Pending),
        created_at: Set(now),
        expires_at: Set(now + s.settings.oauth.request_ttl),
        client_ip: Set(req.client_ip),
        redirect_uri_sent: Set(req.redirect_uri.is_some_and(|r| !r.is_empty())),
    }
    .insert(&s.db)
    .await?;
    Ok(Begin::Pending {
        request: Box::new(request),
        client: Box::new(client),
    })
}
