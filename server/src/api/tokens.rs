//! `/api/v1/tokens`: every personal token of the org — standard PATs and MCP OAuth PATs — with
//! disable, re-enable and revoke.

use app::domain::org_admin::{self, OrgToken, TokenFilter};
use app::policy::Capability;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::{Access, ApiCaller};
use super::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// What kind of personal token: a standard PAT (`gate_pat_…`, made at /settings/tokens) or an
/// MCP OAuth PAT (made when a member connects an MCP client with OAuth).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Pat,
    McpOauthPat,
}

impl From<app::model::OrgTokenKind> for TokenKind {
    fn from(k: app::model::OrgTokenKind) -> Self {
        match k {
            app::model::OrgTokenKind::Pat => TokenKind::Pat,
            app::model::OrgTokenKind::McpOauthPat => TokenKind::McpOauthPat,
        }
    }
}

/// `active`, `expired` (past its expiry), `disabled` (by an admin; can be re-enabled) or
/// `revoked` (for good).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    Active,
    Expired,
    Disabled,
    Revoked,
}

impl From<app::model::TokenStatus> for TokenStatus {
    fn from(s: app::model::TokenStatus) -> Self {
        match s {
            app::model::TokenStatus::Active => TokenStatus::Active,
            app::model::TokenStatus::Expired => TokenStatus::Expired,
            app::model::TokenStatus::Disabled => TokenStatus::Disabled,
            app::model::TokenStatus::Revoked => TokenStatus::Revoked,
        }
    }
}

/// One personal token of the org. Never the secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Token {
    /// The PAT's id, or the connection's id for an MCP OAuth PAT.
    pub id: Uuid,
    pub kind: TokenKind,
    /// The name its owner gave a standard PAT.
    pub name: Option<String>,
    /// The owner.
    pub user_id: Uuid,
    pub owner_email: String,
    /// The OAuth client's `client_id` (MCP OAuth PATs only).
    pub client_id: Option<String>,
    /// The OAuth client's name (MCP OAuth PATs only).
    pub client_name: Option<String>,
    /// `gate_pat_…abcd`: enough to tell standard PATs apart, never enough to use one.
    pub hint: Option<String>,
    /// Granted scopes, space-separated (`mcp:read mcp:write`).
    #[schema(example = "mcp:read mcp:write")]
    pub scope: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub status: TokenStatus,
}

impl From<OrgToken> for Token {
    fn from(t: OrgToken) -> Self {
        Self {
            id: t.id,
            kind: t.kind.into(),
            name: t.name,
            user_id: t.user_id,
            owner_email: t.owner_email,
            client_id: t.client_id,
            client_name: t.client_name,
            hint: t.hint,
            scope: t.scope,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            expires_at: t.expires_at,
            status: t.status.into(),
        }
    }
}

/// One page of the org's tokens, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<Token>,
    /// This page, from 1.
    pub page: u64,
    /// How many pages there are (at least 1).
    pub pages: u64,
    /// Rows per page.
    pub per_page: u64,
    /// Tokens matching the filters, on every page.
    pub total: u64,
}

/// Filters and page of the token list; each filter is optional.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// Only this kind of token.
    #[param(value_type = Option<TokenKind>)]
    pub kind: Option<String>,
    /// Only tokens of this owner: a user id, or part of the owner's email.
    pub user: Option<String>,
    /// Only tokens in this state.
    #[param(value_type = Option<TokenStatus>)]
    pub status: Option<String>,
    /// The page, from 1 (50 rows a page); a page past the end answers the last one.
    #[param(value_type = Option<u64>, minimum = 1)]
    pub page: Option<String>,
}

pub(super) fn parse_page(raw: Option<&str>) -> ApiResult<u64> {
    match raw.map(str::trim).filter(|p| !p.is_empty()) {
        None => Ok(1),
        Some(p) => {
            p.parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                ApiError::validation("page", "page must be a whole number from 1 up.")
            })
        }
    }
}

fn parse_id(raw: &str) -> ApiResult<Uuid> {
    // Not an id at all: nothing by that name here, as for any other unknown id.
    Uuid::parse_str(raw.trim())
        .map_err(|_| ApiError::not_found("There is no such token in this organization."))
}

/// List the org's tokens
///
/// Every standard PAT and MCP OAuth PAT of the organization, newest first, 50 a page.
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    operation_id = "list_tokens",
    tag = "tokens",
    params(TokenQuery),
    responses(
        (status = 200, description = "One page of tokens", body = TokenList),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Not an admin of the organization", body = ErrorBody),
        (status = 422, description = "A filter value this API doesn't know (`field` names it)", body = ErrorBody),
    ),
    security(("pat" = []), ("session" = []))
)]
pub async fn list(
    caller: ApiCaller,
    State(state): State<AppState>,
    query: Result<Query<TokenQuery>, QueryRejection>,
) -> ApiResult<Json<TokenList>> {
    let (org, _) = caller.require(Capability::AdministerOrg, Access::Read)?;
    let Query(q) = query?;
    let page = parse_page(q.page.as_deref())?;
    let filter = TokenFilter {
        kind: q.kind,
        user: q.user,
        status: q.status,
    };
    let p = org_admin::tokens_page(&state.services.db, org.id, &filter, page).await?;
    Ok(Json(TokenList {
        tokens: p.tokens.into_iter().map(Token::from).collect(),
        page: p.page,
        pages: p.pages,
        per_page: org_admin::PAGE_SIZE,
        total: p.total,
    }))
}

/// Disable a token
///
/// The token is refused everywhere (MCP endpoint, this API) until it is enabled again.
/// Disabling a disabled token changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/tokens/{id}/disable",
    operation_id = "disable_token",
    tag = "tokens",
    params(("id" = Uuid, Path, description = "The token's id, as listed")),
    responses(
        (status = 200, description = "The token as it now is", body = Token),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, a token without `mcp:write`, or a session call without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such token in this organization", body = ErrorBody),
        (status = 409, description = "The token was revoked", body = ErrorBody),
    ),
    security(("pat" = ["mcp:write"]), ("session" = [], "csrf" = []))
)]
pub async fn disable(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Token>> {
    set_disabled(caller, state, &id, true).await
}

/// Enable a disabled token
///
/// The token works again (unless it has expired). Enabling an active token changes nothing;
/// a revoked token can't be enabled.
#[utoipa::path(
    post,
    path = "/api/v1/tokens/{id}/enable",
    operation_id = "enable_token",
    tag = "tokens",
    params(("id" = Uuid, Path, description = "The token's id, as listed")),
    responses(
        (status = 200, description = "The token as it now is", body = Token),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, a token without `mcp:write`, or a session call without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such token in this organization", body = ErrorBody),
        (status = 409, description = "The token was revoked", body = ErrorBody),
    ),
    security(("pat" = ["mcp:write"]), ("session" = [], "csrf" = []))
)]
pub async fn enable(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Token>> {
    set_disabled(caller, state, &id, false).await
}

async fn set_disabled(
    caller: ApiCaller,
    state: AppState,
    id: &str,
    disabled: bool,
) -> ApiResult<Json<Token>> {
    let (org, _) = caller.require(Capability::AdministerOrg, Access::Write)?;
    let id = parse_id(id)?;
    let t = org_admin::set_token_disabled(
        &state.services,
        caller.user_id,
        org.id,
        id,
        disabled,
        &caller.meta,
    )
    .await?;
    Ok(Json(t.into()))
}

/// Revoke a token
///
/// Revokes a standard PAT or an MCP OAuth PAT (its connection and every token issued to it)
/// for good. Revoking a revoked token changes nothing and succeeds.
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    operation_id = "revoke_token",
    tag = "tokens",
    params(("id" = Uuid, Path, description = "The token's id, as listed")),
    responses(
        (status = 200, description = "The token as it now is (status `revoked`)", body = Token),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, a token without `mcp:write`, or a session call without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such token in this organization", body = ErrorBody),
    ),
    security(("pat" = ["mcp:write"]), ("session" = [], "csrf" = []))
)]
pub async fn revoke(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Token>> {
    let (org, _) = caller.require(Capability::AdministerOrg, Access::Write)?;
    let id = parse_id(&id)?;
    let t =
        org_admin::revoke_token(&state.services, caller.user_id, org.id, id, &caller.meta).await?;
    Ok(Json(t.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_start_at_one() {
        assert_eq!(parse_page(None).unwrap(), 1);
        assert_eq!(parse_page(Some(" 3 ")).unwrap(), 3);
        for bad in ["0", "-1", "x", "1.5"] {
            assert_eq!(
                parse_page(Some(bad)).unwrap_err().body.field.as_deref(),
                Some("page")
            );
        }
    }

    #[test]
    fn kinds_and_statuses_match_the_domain_words() {
        assert_eq!(
            serde_json::to_value(TokenKind::McpOauthPat).unwrap(),
            "mcp_oauth_pat"
        );
        assert_eq!(serde_json::to_value(TokenKind::Pat).unwrap(), "pat");
        assert_eq!(
            serde_json::to_value(TokenStatus::Disabled).unwrap(),
            "disabled"
        );
    }
}
