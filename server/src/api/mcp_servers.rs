//! `/api/v1/org/mcp-servers`: the org's own MCP servers behind Gatehouse (the gateway). The
//! secret header's value is write-only. Each tool's least role and scope can be set; every
//! change is audited and applies to the next request.

use app::domain::gateway::{catalog, upstreams};
use app::model::{Role, UpstreamToolView, UpstreamView};
use app::policy::Capability;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::{Access, ApiCaller};
use super::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// An upstream MCP server, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct McpServer {
    pub id: Uuid,
    /// Its tools are offered as `{name}__{tool}` at the org's MCP endpoint.
    #[schema(example = "crm")]
    pub name: String,
    /// Its Streamable HTTP endpoint.
    #[schema(example = "https://crm.internal.example/mcp")]
    pub url: String,
    /// The header Gatehouse authenticates to it with (its value is never returned).
    pub auth_header_name: Option<String>,
    pub timeout_ms: i32,
    pub enabled: bool,
    /// When its tools were last listed.
    pub tools_refreshed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the last listing failed, if it did.
    pub last_error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<UpstreamView> for McpServer {
    fn from(v: UpstreamView) -> Self {
        Self {
            id: v.id,
            name: v.name,
            url: v.url,
            auth_header_name: v.auth_header_name,
            timeout_ms: v.timeout_ms,
            enabled: v.enabled,
            tools_refreshed_at: v.tools_refreshed_at,
            last_error: v.last_error,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// One of its tools and who may call it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct McpServerTool {
    /// Its name at the server.
    pub name: String,
    /// What clients call it.
    #[schema(example = "crm__find_contact")]
    pub exposed_as: String,
    pub description: Option<String>,
    /// Marked destructive by its annotations.
    pub destructive: bool,
    /// The least role that sees and may call it.
    #[schema(value_type = String, example = "querier")]
    pub min_role: Role,
    /// The scope a credential needs for it.
    #[schema(example = "mcp:read")]
    pub scope: String,
    /// An admin chose the role and scope (else they follow the annotations).
    pub policy_set: bool,
    /// The server's last listing had it.
    pub present: bool,
}

impl From<UpstreamToolView> for McpServerTool {
    fn from(t: UpstreamToolView) -> Self {
        Self {
            name: t.name,
            exposed_as: t.exposed_as,
            description: t.description,
            destructive: t.destructive,
            min_role: t.min_role,
            scope: t.scope,
            policy_set: t.policy_set,
            present: t.present,
        }
    }
}

/// An upstream with its tools.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct McpServerDetail {
    #[serde(flatten)]
    pub server: McpServer,
    pub tools: Vec<McpServerTool>,
}

/// The whole upstream. `auth_header_value` may be left out to keep the stored secret (it is
/// required when a header is first named); unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "crm",
    "url": "https://crm.internal.example/mcp",
    "auth_header_name": "X-Api-Key",
    "auth_header_value": "…",
    "timeout_ms": 30000,
    "enabled": true
}))]
pub struct McpServerPut {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub auth_header_name: Option<String>,
    #[serde(default)]
    pub auth_header_value: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout_ms: i32,
    #[serde(default = "on")]
    pub enabled: bool,
}

fn default_timeout() -> i32 {
    upstreams::DEFAULT_TIMEOUT_MS
}

fn on() -> bool {
    true
}

impl From<McpServerPut> for upstreams::UpstreamChange {
    fn from(p: McpServerPut) -> Self {
        Self {
            name: p.name,
            url: p.url,
            auth_header_name: p.auth_header_name,
            auth_header_value: p.auth_header_value,
            timeout_ms: p.timeout_ms,
            enabled: p.enabled,
        }
    }
}

/// Who may call one tool; `{"default": true}` goes back to what its annotations say.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "min_role": "admin", "scope": "mcp:write" }))]
pub struct ToolPolicyPut {
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "admin")]
    pub min_role: Option<Role>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub default: bool,
}

/// List the org's MCP servers
#[utoipa::path(
    get,
    path = "/api/v1/org/mcp-servers",
    operation_id = "list_org_mcp_servers",
    tag = "organization",
    responses(
        (status = 200, description = "The org's MCP servers, by name", body = [McpServer]),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Not an admin of the organization", body = ErrorBody),
    ),
    security(("pat" = []), ("session" = []))
)]
pub async fn list(
    caller: ApiCaller,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<McpServer>>> {
    let (org, _) = caller.require(Capability::AdministerOrg, Access::Read)?;
    let all = upstreams::list(&state.services.db, org.id).await?;
    Ok(Json(
        all.iter().map(|u| upstreams::view(u).into()).collect(),
    ))
}

/// Add an MCP server to the org
///
/// Its tools are offered once they are listed (see the refresh). A bad value is refused with
/// 422 naming the field, and nothing is changed.
#[utoipa::path(
    post,
    path = "/api/v1/org/mcp-servers",
    operation_id = "add_org_mcp_server",
    tag = "organization",
    request_body(content = McpServerPut, content_type = "application/json"),
    responses(
        (status = 201, description = "Added", body = McpServer),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, a token without `mcp:write`, or a session call without its CSRF token", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A bad value or an unknown field (`field` names it)", body = ErrorBody),
    ),
    security(("pat" = ["mcp:write"]), ("session" = [], "csrf" = []))
)]
pub async fn create(
    caller: ApiCaller,
    State(state): State<AppState>,
    body: Result<Json<McpServerPut>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<McpServer>)> {
    let (org, _) = caller.require(Capability::AdministerOrg, Access::Write)?;
    let Json(put) = body?;
    let row = upstreams::create(
        &state.services,
        caller.user_id,
        org.id,
        &put.into(),
        &caller.meta,
    )
    .await?;
    // Its tools are listed at once; a failure is kept in `last_error` for the admin to see.
    catalog::refresh(&state.services, &row).await?.ok();
    let row = upstreams::find(&state.services.db, org.id, row.id).await?;
    Ok((StatusCode::CREATED, Json(upstreams::view(&row).into())))
}

/// List an MCP server's tools now
///
/// Asks the server for its tools and stores the answer: new tools get the default role and
/// scope from their annotations, tools it no longer lists are hidden. A server that can't be
/// reached leaves the previous listing in place and answers 502 with the reason.
#[utoipa::path(
    post,
    path = "/api/v1/org/mcp-servers/{id}/refresh",
    operation_id = "refresh_org_mcp_server",
    tag = "organization",
    params(("id" = Uuid, Path, description = "The server's id")),
    responses(
        (status = 200, description = "The server and its tools as now listed", body = McpServerDetail),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, a token without `mcp:write`, or a session call without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such server in this organization", body = ErrorBody),
        (status = 502, description = "The server could not be listed (the reason is given)", body = ErrorBody),
    ),
    security(("pat" = ["mcp:write"]), ("session" = [], "csrf" = []))
)]
pub async fn refresh(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<McpServerDetail>> {
    let (org, _) = caller.require(Capability::AdministerOrg, Access::Write)?;
    let id = parse_id(&id)?;
    let u = upstreams::find(&state.services.db, org.id, id).await?;
    if let Err(why) = catalog::refresh(&state.services, &u).await? {
        return Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "upstream_unavailable",
            why,
        ));
    }
    detail(caller, State(state), Path(id.to_string())).await
}

/// Get one of the org's MCP servers, with its tools
#[utoipa::path(
    get,
    path = "/api/v1/org/mcp-servers/{id}",
    operation_id = "get_org_mcp_server",
    tag = "organization",
    params(("id" = Uuid, Path, description = "The server's id")),
    responses(
        (status = 200, description = "The server and its tools", body = McpServerDetail),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Not an admin of the organization", body = ErrorBody),
        (status = 404, description = "No such server in this organization", body = ErrorBody),
    ),
    security(("pat" = []), ("session" = []))
)]
pub async fn detail(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<McpServerDetail>> {
    let (org, _) = caller.require(Capability::AdministerOrg, Access::Read)?;
    let id = parse_id(&id)?;
    let u = upstreams::find(&state.services.db, org.id, id).await?;
    let tools = catalog::tools_of(&state.services, org.id, id).await?;
    Ok(Json(McpServerDetail {
        server: upstreams::view(&u).into(),
        tools: tools.into_iter().map(Into::into).collect(),
    }))
}

/// Change one of the org's MCP servers
#[utoipa::path(
    put,
    path = "/api/v1/org/mcp-servers/{id}",
    operation_id = "put_org_mcp_server",
    tag = "organization",
    params(("id" = Uuid, Path, description = "The server's id")),
    request_body(content = McpServerPut, content_type = "application/json"),
    responses(
        (status = 200, description = "The server as it now is", body = McpServer),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, a token without `mcp:write`, or a session call without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such server in this organization", body = ErrorBody),
        (status = 422, description = "A bad value or an unknown field (`field` names it)", body = ErrorBody),
    ),
    security(("pat" = ["mcp:write"]), ("session" = [], "csrf" = []))
)]
pub async fn update(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<McpServerPut>, JsonRejection>,
) -> ApiResult<Json<McpServer>> {
    let (org, _) = caller.require(Capability::AdministerOrg, Access::Write)?;
    let id = parse_id(&id)?;
    let Json(put) = body?;
    let row = upstreams::update(
        &state.services,
        caller.user_id,
        org.id,
        id,
        &put.into(),
        &caller.meta,
    )
    .await?;
    Ok(Json(upstreams::view(&row).into()))
}

/// Remove one of the org's MCP servers
///
/// Its tools disappear from the org's MCP endpoint at once.
#[utoipa::path(
    delete,
    path = "/api/v1/org/mcp-servers/{id}",
    operation_id = "delete_org_mcp_server",
    tag = "organization",
    params(("id" = Uuid, Path, description = "The server's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, a token without `mcp:write`, or a session call without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such server in this organization", body = ErrorBody),
    ),
    security(("pat" = ["mcp:write"]), ("session" = [], "csrf" = []))
)]
pub async fn delete(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let (org, _) = caller.require(Capability::AdministerOrg, Access::Write)?;
    let id = parse_id(&id)?;
    upstreams::delete(&state.services, caller.user_id, org.id, id, &caller.meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set who may call one tool of an MCP server
#[utoipa::path(
    put,
    path = "/api/v1/org/mcp-servers/{id}/tools/{tool}",
    operation_id = "put_org_mcp_server_tool",
    tag = "organization",
    params(
        ("id" = Uuid, Path, description = "The server's id"),
        ("tool" = String, Path, description = "The tool's name at the server"),
    ),
    request_body(content = ToolPolicyPut, content_type = "application/json"),
    responses(
        (status = 200, description = "The tool as it now is", body = McpServerTool),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, a token without `mcp:write`, or a session call without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such server or tool", body = ErrorBody),
        (status = 422, description = "A bad value (`field` names it)", body = ErrorBody),
    ),
    security(("pat" = ["mcp:write"]), ("session" = [], "csrf" = []))
)]
pub async fn set_tool(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path((id, tool)): Path<(String, String)>,
    body: Result<Json<ToolPolicyPut>, JsonRejection>,
) -> ApiResult<Json<McpServerTool>> {
    let (org, _) = caller.require(Capability::AdministerOrg, Access::Write)?;
    let id = parse_id(&id)?;
    let Json(put) = body?;
    let policy = match (put.default, put.min_role, put.scope) {
        (true, None, None) => None,
        (false, Some(role), Some(scope)) => Some((role, scope)),
        _ => {
            return Err(ApiError::invalid_request(
                "Send min_role and scope, or {\"default\": true} to follow the tool's annotations.",
            ));
        }
    };
    let t = catalog::set_tool_policy(
        &state.services,
        caller.user_id,
        org.id,
        id,
        &tool,
        policy,
        &caller.meta,
    )
    .await?;
    Ok(Json(t.into()))
}

fn parse_id(raw: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw)
        .map_err(|_| ApiError::not_found("This organization has no such MCP server."))
}
