//! The authorization endpoint's checks (OAuth 2.1 §4.1.1–4.1.2.1). Phase 1 problems (unknown
//! client, redirect URI not registered) are shown to the user and never redirected; phase 2
//! problems go back to the client as `error=…`. A valid request is stored on the server and
//! only its id travels through sign-in and consent.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, Set};
use uuid::Uuid;

use super::clients::{self, list};
use super::redirect_uri;
use super::resource::McpResource;
use super::scope::ScopeSet;
use crate::domain::entities::{authorization_request, oauth_client};
use crate::domain::{Services, orgs};

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
    /// Stored: continue with sign-in and consent.
    Pending {
        request: Box<authorization_request::Model>,
        client: Box<oauth_client::Model>,
    },
}

pub const STATUS_PENDING: &str = "pending";
pub const STATUS_APPROVED: &str = "approved";
pub const STATUS_DENIED: &str = "denied";

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
    let client = match clients::find(&s.db, client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Ok(Begin::ErrorPage(format!(
                "No app is registered with the client ID “{client_id}”. It may have been removed; reconnect from your app to register it again."
            )));
        }
        Err(_) => return Err(sea_orm::DbErr::Custom("client lookup failed".into())),
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

    // Phase 2: the redirect URI is the client's own; errors go back to it.
    let state = req.state.as_deref().filter(|s| !s.is_empty());
    let fail = |error: &str, description: &str| {
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
    if req.response_type.as_deref() != Some("code") {
        return fail(
            "unsupported_response_type",
            "Only response_type=code is supported.",
        );
    }
    let exempt = redirect_uri::display_host(&redirect);
    let pkce_exempt = s
        .settings
        .oauth
        .pkce_exempt_redirect_hosts
        .iter()
        .any(|h| h.eq_ignore_ascii_case(&exempt));
    match (
        req.code_challenge.as_deref().filter(|c| !c.is_empty()),
        req.code_challenge_method.as_deref(),
    ) {
        (None, _) if pkce_exempt => {}
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
    let mut resources: Vec<&str> = req
        .resource
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .collect();
    resources.dedup();
    let resource = match resources.as_slice() {
        [] => McpResource::Instance,
        [one] => match McpResource::parse(one, &s.settings.public_url) {
            Some(r) => r,
            None => {
                return fail(
                    "invalid_target",
                    "The resource is not an MCP endpoint of this server.",
                );
            }
        },
        _ => return fail("invalid_target", "Ask for one resource per authorization."),
    };
    let org_id = match resource.org_slug() {
        Some(slug) => match orgs::find_by_slug(&s.db, slug)
            .await
            .map_err(|_| sea_orm::DbErr::Custom("org lookup".into()))?
        {
            Some(org) => Some(org.id),
            None => {
                return fail(
                    "invalid_target",
                    "The resource is not an MCP endpoint of this server.",
                );
            }
        },
        None => None,
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
    let request = authorization_request::ActiveModel {
        id: Set(Uuid::new_v4()),
        client_id: Set(client.id),
        redirect_uri: Set(redirect),
        scope: Set(scope.to_string()),
        state: Set(state.map(str::to_string)),
        code_challenge: Set(req.code_challenge.filter(|c| !c.is_empty())),
        code_challenge_method: Set(req.code_challenge_method.filter(|c| !c.is_empty())),
        resource: Set(resource.url(&s.settings.public_url)),
        org_id: Set(org_id),
        prompt: Set(req.prompt.filter(|p| !p.is_empty())),
        user_id: Set(None),
        status: Set(STATUS_PENDING.into()),
        created_at: Set(now),
        expires_at: Set(now + s.settings.oauth.request_ttl),
    }
    .insert(&s.db)
    .await?;
    Ok(Begin::Pending {
        request: Box::new(request),
        client: Box::new(client),
    })
}
