//! `/api/v1/me`: who the caller is, in which org, with which role — for scripts, and for the
//! browser to fetch the session's CSRF token.

use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::{ApiCaller, Via, csrf_token};
use super::error::{ApiResult, ErrorBody};
use super::members::RoleName;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeUser {
    pub id: Uuid,
    pub email: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeOrg {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

/// The personal access token this call was made with.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeToken {
    pub id: Uuid,
    pub name: Option<String>,
    /// Granted scopes: `mcp:read` lets a token read, `mcp:write` lets it change things.
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// How the call was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    Pat,
    Session,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Me {
    pub user: MeUser,
    /// The org calls are about: the token's, or the one chosen in the browser session.
    /// `null` for a signed-in user who belongs to no org.
    pub organization: Option<MeOrg>,
    /// The caller's role in that org, as it is now.
    #[schema(value_type = Option<RoleName>)]
    pub role: Option<String>,
    pub authenticated_with: AuthMethod,
    /// Set when authenticated with a token.
    pub token: Option<MeToken>,
    /// Set when authenticated with the browser session: send it as `X-CSRF-Token` with every
    /// call that changes something.
    pub csrf_token: Option<String>,
}

/// Who am I
///
/// The caller, their organization and their role there, as they are now. Any member may call
/// it, with any token.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    operation_id = "get_me",
    tag = "me",
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "The org's policy refuses this token", body = ErrorBody),
    ),
    security(("pat" = []), ("session" = []))
)]
pub async fn me(caller: ApiCaller) -> ApiResult<Json<Me>> {
    let (authenticated_with, token, csrf) = match &caller.via {
        Via::Pat(p) => (
            AuthMethod::Pat,
            Some(MeToken {
                id: p.token_id(),
                name: p.token.name.clone(),
                scopes: p.scopes().iter().map(str::to_string).collect(),
                expires_at: p.expires_at(),
            }),
            None,
        ),
        Via::Session(session) => (AuthMethod::Session, None, Some(csrf_token(session).await?)),
    };
    Ok(Json(Me {
        user: MeUser {
            id: caller.user_id,
            email: caller.email.clone(),
            name: caller.name.clone(),
        },
        organization: caller.org.as_ref().map(|(o, _)| MeOrg {
            id: o.id,
            slug: o.slug.clone(),
            name: o.name.clone(),
        }),
        role: caller.org.as_ref().map(|(_, r)| r.as_str().to_string()),
        authenticated_with,
        token,
        csrf_token: csrf,
    }))
}
