//! Who is calling the REST API: a standard personal access token (`Authorization: Bearer
//! gate_pat_…`, judged by the access decision like every other door, org taken from the
//! token) or the browser session (the one session authentication of `app::web::session`, the
//! org chosen in the session). The role is read as it is now on every request.
//!
//! CSRF: a browser session's cookie goes along with any request the browser makes, so a
//! state-changing call authenticated by the session must also carry the session's CSRF token
//! (the one the pages put in their forms; `GET /api/v1/me` returns it) in `X-CSRF-Token`. A
//! bearer token is never sent by the browser on its own, so token calls need no such proof.

use std::sync::Arc;

use app::domain::access::{self, Denial, DenialKind, Principal, Purpose};
use app::domain::entities::organization;
use app::domain::oauth::scope::MCP_WRITE;
use app::domain::{RequestMeta, Services};
use app::error::AppError;
use app::model::Role;
use app::policy::Capability;
use app::web::session as web_session;
use axum::extract::FromRequestParts;
use http::request::Parts;
use http::{Method, header};
use tower_sessions::Session;
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use crate::mcp::auth::bearer_secret;
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
    /// The account has two-factor sign-in on (an org's policy may ask for it).
    pub two_factor: bool,
    pub via: Via,
    pub meta: RequestMeta,
}

/// What a call does, for the scope check of tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// A refusal of the access decision as the API says it.
fn denied(d: Denial) -> ApiError {
    let why = d.to_string();
    match d.kind() {
        DenialKind::Missing => ApiError::unauthorized(),
        DenialKind::Credential => ApiError::invalid_token(why),
        DenialKind::Scope => ApiError::insufficient_scope(
            match &d {
                Denial::ScopeTooNarrow { needed, .. } => needed.as_str(),
                _ => MCP_WRITE,
            },
            why,
        ),
        DenialKind::Policy => ApiError::forbidden(why),
    }
}

impl ApiCaller {
    /// The caller's org and role, refused unless the role has `capability` there and (for a
    /// token) the token has the scope `access` needs: the access decision's checks.
    pub fn require(
        &self,
        capability: Capability,
        access: Access,
    ) -> ApiResult<(&organization::Model, Role)> {
        let (org, role) = self.org.as_ref().ok_or(denied(Denial::NoOrganization))?;
        access::member(org, *role, self.two_factor).map_err(denied)?;
        match (&self.via, access) {
            (Via::Pat(p), Access::Write) => p.require(capability, MCP_WRITE).map_err(denied)?,
            _ => access::capability(*role, capability).map_err(denied)?,
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
            return from_token(parts, &state.services, meta).await;
        }
        let Some(session) = parts.extensions.get::<Session>().cloned() else {
            tracing::error!("no session layer on an API route");
            return Err(ApiError::unavailable());
        };
        from_session(parts, &state.services, session, meta).await
    }
}

async fn from_token(parts: &Parts, s: &Services, meta: RequestMeta) -> ApiResult<ApiCaller> {
    let Some(secret) = bearer_secret(&parts.headers) else {
        return Err(ApiError::invalid_token(
            "Send the token as Authorization: Bearer gate_pat_… (other schemes are not accepted).",
        ));
    };
    let principal = match s.access().check(secret, Purpose::Api).await {
        Ok(Ok(p)) => p,
        Ok(Err(d)) => return Err(denied(d)),
        Err(_) => return Err(ApiError::unavailable()),
    };
    match parts.extensions.get::<TouchAfter>() {
        Some(slot) => slot.set(principal.clone()),
        None => s.access().touch(&principal),
    }
    Ok(ApiCaller {
        user_id: principal.user_id(),
        email: principal.email().to_string(),
        name: principal.name().map(str::to_string),
        org: Some((principal.org().clone(), principal.role())),
        two_factor: principal.holder.user.two_factor,
        via: Via::Pat(principal),
        meta,
    })
}

async fn from_session(
    parts: &Parts,
    s: &Services,
    session: Session,
    meta: RequestMeta,
) -> ApiResult<ApiCaller> {
    let user = web_session::signed_in(s, &session)
        .await
        .map_err(session_err)?
        .ok_or_else(ApiError::unauthorized)?;
    if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let provided = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .trim();
        web_session::check_csrf(&session, None, provided)
            .await
            .map_err(|e| csrf_refused(e, provided.is_empty()))?;
    }
    let org = web_session::current_org(s, &session, user.id)
        .await
        .map_err(session_err)?;
    Ok(ApiCaller {
        user_id: user.id,
        email: user.email,
        name: user.name,
        org,
        two_factor: user.two_factor_enabled_at.is_some(),
        via: Via::Session(session),
        meta,
    })
}

fn csrf_refused(e: AppError, missing: bool) -> ApiError {
    if e != AppError::Csrf {
        return session_err(e);
    }
    ApiError::new(
        http::StatusCode::FORBIDDEN,
        "csrf_failed",
        if missing {
            "A change made with the browser session needs the session's CSRF token in the X-CSRF-Token header (GET /api/v1/me returns it as csrf_token), or authenticate with a personal access token instead."
        } else {
            "The X-CSRF-Token header doesn't match this session's CSRF token; fetch it again from GET /api/v1/me."
        },
    )
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
        state.services.access().touch(&p);
    }
    res
}

/// The session's CSRF token (created on first use), for `GET /api/v1/me`.
pub async fn csrf_token(session: &Session) -> ApiResult<String> {
    web_session::csrf_token(session, None)
        .await
        .map_err(session_err)
}

fn session_err(e: AppError) -> ApiError {
    match e {
        AppError::Internal => ApiError::unavailable(),
        other => other.into(),
    }
}
