//! Who is calling the REST API: a standard personal access token (`Authorization: Bearer
//! gate_pat_…`, checked by the same live bearer check as the MCP endpoint, org taken from the
//! token) or the browser session (the org chosen in the session). The role is read as it is now
//! on every request.
//!
//! CSRF: a browser session's cookie goes along with any request the browser makes, so a
//! state-changing call authenticated by the session must also carry the session's CSRF token
//! (the one the pages put in their forms; `GET /api/v1/me` returns it) in `X-CSRF-Token`. A
//! bearer token is never sent by the browser on its own, so token calls need no such proof.

use std::sync::Arc;

use app::domain::entities::organization;
use app::domain::mcp::bearer::{self, Principal, Refusal};
use app::domain::oauth::scope::MCP_WRITE;
use app::domain::secrets::{constant_time_eq, random_urlsafe};

use crate::mcp::auth::bearer_secret;
use app::domain::{RequestMeta, orgs, users};
use app::model::Role;
use app::policy::Capability;
use app::web::{SESSION_CSRF, SESSION_ORG, SESSION_USER};
use axum::extract::FromRequestParts;
use http::request::Parts;
use http::{HeaderMap, Method, header};
use tower_sessions::Session;
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The request header that carries the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller authenticated.
#[derive(Debug, Clone)]
pub enum Via {
    /// A standard personal access token.
    Pat(Arc<Principal>),
    /// The browser session (cookie).
    Session(Session),
}

/// An authenticated caller, with their org and role there as they are now.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub user_id: Uuid,
    pub email: String,
    pub name: Option<String>,
    /// The org the call is about: the token's, or the one chosen in the session. `None` only
    /// for a signed-in user who belongs to no org.
    pub org: Option<(organization::Model, Role)>,
    pub via: Via,
    pub meta: RequestMeta,
}

/// What a call does, for the scope check of tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

impl ApiCaller {
    /// The caller's org and role, refused unless the role has `capability` there and (for a
    /// token) the token has the scope `access` needs.
    pub fn require(
        &self,
        capability: Capability,
        access: Access,
    ) -> ApiResult<(&organization::Model, Role)> {
        let Some((org, role)) = &self.org else {
            return Err(ApiError::forbidden(
                "You're not a member of any organization yet. Create one, or ask an admin to invite you.",
            ));
        };
        if !role.can(capability) {
            return Err(ApiError::forbidden(role.refusal(capability)));
        }
        if let (Access::Write, Via::Pat(p)) = (access, &self.via)
            && !p.scopes.contains(MCP_WRITE)
        {
            return Err(ApiError::insufficient_scope(
                MCP_WRITE,
                format!(
                    "This call changes data and needs a token with the {MCP_WRITE} permission; this token has {}. Create a token with {MCP_WRITE} at /settings/tokens.",
                    p.scopes
                ),
            ));
        }
        Ok((org, *role))
    }
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let meta = parts
            .extensions
            .get::<RequestMeta>()
            .cloned()
            .unwrap_or_default();
        // A request that names a token is judged by the token alone, cookie or not.
        if parts.headers.contains_key(header::AUTHORIZATION) {
            return from_token(parts, state, meta).await;
        }
        let Some(session) = parts.extensions.get::<Session>().cloned() else {
            tracing::error!("no session layer on an API route");
            return Err(ApiError::unavailable());
        };
        from_session(parts, state, session, meta).await
    }
}

async fn from_token(parts: &Parts, state: &AppState, meta: RequestMeta) -> ApiResult<ApiCaller> {
    let Some(secret) = bearer_secret(&parts.headers) else {
        return Err(ApiError::invalid_token(
            "Send the token as Authorization: Bearer gate_pat_… (other schemes are not accepted).",
        ));
    };
    let principal = match bearer::authenticate_api_pat(&state.services, secret).await {
        Ok(Ok(p)) => p,
        Ok(Err(Refusal::Missing)) => return Err(ApiError::unauthorized()),
        Ok(Err(Refusal::InvalidToken(why))) => return Err(ApiError::invalid_token(why)),
        Ok(Err(Refusal::Forbidden(why))) => return Err(ApiError::forbidden(why)),
        Err(_) => return Err(ApiError::unavailable()),
    };
    match parts.extensions.get::<TouchAfter>() {
        Some(slot) => slot.set(principal.clone()),
        None => bearer::touch(&state.services, &principal),
    }
    Ok(ApiCaller {
        user_id: principal.user_id,
        email: principal.email.clone(),
        name: principal.name.clone(),
        org: Some((principal.org.clone(), principal.role)),
        via: Via::Pat(principal),
        meta,
    })
}

async fn from_session(
    parts: &Parts,
    state: &AppState,
    session: Session,
    meta: RequestMeta,
) -> ApiResult<ApiCaller> {
    let db = &state.services.db;
    let user_id = session
        .get::<Uuid>(SESSION_USER)
        .await
        .map_err(session_err)?
        .ok_or_else(ApiError::unauthorized)?;
    let user = match users::find(db, user_id).await? {
        Some(u) if u.disabled_at.is_none() => u,
        // Deleted or disabled since sign-in: the session is worthless now.
        _ => {
            session.flush().await.map_err(session_err)?;
            return Err(ApiError::unauthorized());
        }
    };
    if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        check_csrf(&session, &parts.headers).await?;
    }
    let org = current_org(db, &session, user.id).await?;
    Ok(ApiCaller {
        user_id: user.id,
        email: user.email,
        name: user.name,
        org,
        via: Via::Session(session),
        meta,
    })
}

/// The org chosen in this session if the user still belongs to it, else their first org (as
/// the pages do).
async fn current_org(
    db: &sea_orm::DatabaseConnection,
    session: &Session,
    user_id: Uuid,
) -> ApiResult<Option<(organization::Model, Role)>> {
    if let Some(id) = session
        .get::<Uuid>(SESSION_ORG)
        .await
        .map_err(session_err)?
        && let Some(role) = orgs::role_in(db, id, user_id).await?
        && let Some(org) = orgs::find(db, id).await?
    {
        return Ok(Some((org, role)));
    }
    let Some(first) = orgs::orgs_of(db, user_id).await?.into_iter().next() else {
        return Ok(None);
    };
    Ok(orgs::find(db, first.id).await?.map(|org| (org, first.role)))
}

async fn check_csrf(session: &Session, headers: &HeaderMap) -> ApiResult<()> {
    let provided = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim();
    let expected = session
        .get::<String>(SESSION_CSRF)
        .await
        .map_err(session_err)?;
    match expected {
        Some(t) if !provided.is_empty() && constant_time_eq(&t, provided) => Ok(()),
        _ => Err(ApiError::new(
            http::StatusCode::FORBIDDEN,
            "csrf_failed",
            if provided.is_empty() {
                "A change made with the browser session needs the session's CSRF token in the X-CSRF-Token header (GET /api/v1/me returns it as csrf_token), or authenticate with a personal access token instead."
            } else {
                "The X-CSRF-Token header doesn't match this session's CSRF token; fetch it again from GET /api/v1/me."
            },
        )),
    }
}

/// Records a token's use (its "last used" time) once the call is answered, so that write does
/// not run beside the call's own transaction (on SQLite a write committed in between makes a
/// read-then-write transaction fail). Set by [`touch_after`], filled by the extractor.
#[derive(Debug, Clone, Default)]
pub struct TouchAfter(Arc<std::sync::Mutex<Option<Arc<Principal>>>>);

impl TouchAfter {
    fn set(&self, p: Arc<Principal>) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(p);
        }
    }

    fn take(&self) -> Option<Arc<Principal>> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// Middleware of the API routes: see [`TouchAfter`].
pub async fn touch_after(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let slot = TouchAfter::default();
    req.extensions_mut().insert(slot.clone());
    let res = next.run(req).await;
    if let Some(p) = slot.take() {
        bearer::touch(&state.services, &p);
    }
    res
}

/// The session's CSRF token, created on first use.
pub async fn csrf_token(session: &Session) -> ApiResult<String> {
    if let Some(t) = session
        .get::<String>(SESSION_CSRF)
        .await
        .map_err(session_err)?
    {
        return Ok(t);
    }
    let t = random_urlsafe(32);
    session
        .insert(SESSION_CSRF, &t)
        .await
        .map_err(session_err)?;
    Ok(t)
}

fn session_err(e: tower_sessions::session::Error) -> ApiError {
    tracing::error!(error = %e, "session store error");
    ApiError::unavailable()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn bearer_header_only_and_case_insensitive() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_secret(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc"),
        );
        assert_eq!(bearer_secret(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_secret(&h), None);
    }
}
