//! The MCP server itself, on rmcp: tool declarations and argument decoding. Each tool takes the
//! caller the bearer middleware put on the request and calls `app::domain::mcp::tools`; a
//! refusal or bad argument comes back as a tool error in plain words, never a protocol error.

use std::sync::{Arc, LazyLock};

use app::domain::access::Principal;
use app::domain::mcp::tools::{self, ActivityQuery};
use app::domain::org_policy::PolicyChange;
use app::domain::{RequestMeta, Services};
use app::error::AppResult;
use http::request::Parts;
use rmcp::handler::server::common::{AsRequestContext, FromContextPart};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock,
    GetPromptRequestParams, GetPromptResponse, Implementation, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse, RequestId,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData, ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;

use super::gateway::{self, Relay, UpstreamHttp};
use super::inflight::InFlight;
use app::domain::gateway::catalog;

#[derive(Clone)]
pub struct GatehouseMcp {
    services: Services,
    router: Arc<ToolRouter<GatehouseMcp>>,
    /// Towards the org's upstream MCP servers (the gateway).
    upstreams: UpstreamHttp,
    /// The gateway calls running here, for clients' cancellations.
    inflight: InFlight,
}

/// Built once: every request gets a fresh handler (stateless HTTP), the tool table is shared.
static ROUTER: LazyLock<Arc<ToolRouter<GatehouseMcp>>> = LazyLock::new(|| {
    let mut router = GatehouseMcp::tool_router();
    for route in router.map.values_mut() {
        let needs = tools::requirement(&route.attr.name);
        let text = route.attr.description.as_deref().unwrap_or_default();
        // Leaked once per tool (eleven short strings for the life of the process): rmcp clones
        // the tool on every call to check SEP-2243 headers, and a borrowed description makes
        // that clone free of allocation.
        let full: &'static str = format!("{text} {needs}").trim().to_string().leak();
        route.attr.description = Some(full.into());
    }
    Arc::new(router)
});

impl GatehouseMcp {
    pub fn new(services: Services, upstreams: UpstreamHttp) -> Self {
        Self {
            services,
            router: ROUTER.clone(),
            upstreams,
            inflight: InFlight::default(),
        }
    }

    /// A client's `notifications/cancelled` for its request `id`: stops that gateway call if
    /// it runs here.
    pub fn cancel(&self, p: &Principal, id: RequestId) -> bool {
        self.inflight.cancel(p, id)
    }
}

/// The caller the bearer middleware attached to the HTTP request behind `context`.
fn principal_of(context: &RequestContext<RoleServer>) -> Option<(Arc<Principal>, RequestMeta)> {
    let parts = context.extensions.get::<Parts>()?;
    let p = parts.extensions.get::<Arc<Principal>>()?.clone();
    let meta = parts
        .extensions
        .get::<RequestMeta>()
        .cloned()
        .unwrap_or_default();
    Some((p, meta))
}

/// The caller of a request for a `what` (tool, prompt, resource) that must have one: the
/// bearer middleware lets nothing else through, so a miss is a server fault.
fn authenticated(
    context: &RequestContext<RoleServer>,
    what: &str,
) -> Result<(Arc<Principal>, RequestMeta), ErrorData> {
    principal_of(context).ok_or_else(|| {
        ErrorData::internal_error(format!("request reached a {what} unauthenticated"), None)
    })
}

/// An upstream's tool as clients see it: its name prefixed, its description, schemas and
/// annotations as the upstream listed them.
fn upstream_tool(e: &catalog::Exposed) -> Tool {
    let schema =
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&e.tool.input_schema)
            .unwrap_or_default();
    let description = format!(
        "{} (from {})",
        e.tool.description.as_deref().unwrap_or("").trim(),
        e.upstream.name
    );
    let mut tool = Tool::new(e.name(), description.trim().to_string(), Arc::new(schema));
    tool.title = e.tool.title.clone();
    tool.output_schema = e
        .tool
        .output_schema
        .as_deref()
        .and_then(|o| serde_json::from_str(o).ok())
        .map(Arc::new);
    tool.annotations = e
        .tool
        .annotations
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok());
    tool
}

/// The caller and request metadata the bearer middleware attached to this HTTP request.
/// Extracted by reference from the request parts rmcp keeps, instead of `Extension<Parts>`,
/// which would clone every header and extension on each tool call.
pub struct Caller(Arc<Principal>, RequestMeta);

impl<C: AsRequestContext> FromContextPart<C> for Caller {
    fn from_context_part(context: &mut C) -> Result<Self, ErrorData> {
        let (principal, meta) = authenticated(context.as_request_context(), "tool")?;
        Ok(Caller(principal, meta))
    }
}

/// A domain answer as a tool result: data as JSON, refusals and bad input as tool errors.
fn reply(result: AppResult<serde_json::Value>) -> Result<CallToolResult, ErrorData> {
    Ok(match result {
        Ok(value) => CallToolResult::structured(value),
        Err(e) => CallToolResult::error(vec![ContentBlock::text(e.to_string())]),
    })
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ConnectionArgs {
    /// The connection's id, as listed by list_my_connections.
    pub connection_id: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct TokenArgs {
    /// The token's id, as listed by list_tokens (a PAT's id or an MCP OAuth PAT's connection id).
    pub id: String,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct ActivityArgs {
    /// Only events by this user (email). Restricted queriers may only name themselves.
    pub actor: Option<String>,
    /// Only this action and the actions under it, e.g. `oauth` or `member.role_changed`.
    pub action: Option<String>,
    /// Only events at or after this time (RFC 3339, e.g. 2026-11-24T09:00:00Z).
    pub since: Option<String>,
    /// Only events before this time (RFC 3339).
    pub until: Option<String>,
    /// At most this many events, newest first (1 to 200; 50 when left out).
    pub limit: Option<u64>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct PolicyArgs {
    /// Whether the org's members may use the MCP server at all.
    pub mcp_enabled: Option<bool>,
    /// Whether standard personal access tokens work.
    pub personal_tokens_enabled: Option<bool>,
    /// Whether MCP clients may connect with OAuth (MCP OAuth PATs).
    pub mcp_oauth_pats_enabled: Option<bool>,
    /// Whether self-registered (dynamically registered) apps may connect.
    pub dynamic_registration_enabled: Option<bool>,
    /// Where OAuth apps may return members: `host` (https) or `scheme://host`; empty allows any.
    pub allowed_redirect_hosts: Option<Vec<String>>,
    /// Access token lifetime in seconds (60 to 86400).
    pub access_token_ttl_secs: Option<i64>,
    /// Refresh token lifetime in seconds (3600 to 31536000).
    pub refresh_token_ttl_secs: Option<i64>,
    /// The longest lifetime of a personal access token, in days (1 to 3650).
    pub pat_max_ttl_days: Option<i32>,
    /// Who must use two-factor sign-in to work in the org: `off`, `admins` or `everyone`.
    pub two_factor_policy: Option<String>,
    /// Whether apps identified by a client ID metadata document may connect.
    pub metadata_clients_enabled: Option<bool>,
    /// Metadata-document apps only from these domains (empty: any).
    pub allowed_client_domains: Option<Vec<String>>,
    /// Metadata-document apps never from these domains.
    pub blocked_client_domains: Option<Vec<String>>,
}

#[tool_router]
impl GatehouseMcp {
    #[tool(
        description = "Who you are here: your account, the organization, your role in it now, and the credential you are using."
    )]
    async fn whoami(&self, Caller(p, _): Caller) -> Result<CallToolResult, ErrorData> {
        reply(tools::whoami(&self.services, &p).await)
    }

    #[tool(
        description = "The apps you have connected to this organization with OAuth (MCP OAuth PATs), with scopes and last use."
    )]
    async fn list_my_connections(&self, Caller(p, _): Caller) -> Result<CallToolResult, ErrorData> {
        reply(tools::list_my_connections(&self.services, &p).await)
    }

    #[tool(
        description = "Disconnects one of your connected apps: the connection and all its tokens stop working at once."
    )]
    async fn revoke_my_connection(
        &self,
        Caller(p, meta): Caller,
        Parameters(args): Parameters<ConnectionArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        reply(tools::revoke_my_connection(&self.services, &p, &args.connection_id, &meta).await)
    }

    #[tool(description = "The organization's members with their roles.")]
    async fn list_members(&self, Caller(p, _): Caller) -> Result<CallToolResult, ErrorData> {
        reply(tools::list_members(&self.services, &p).await)
    }

    #[tool(
        description = "The organization's activity (audit log), newest first, filtered by actor, action and time. Restricted queriers see only their own activity."
    )]
    async fn query_activity(
        &self,
        Caller(p, _): Caller,
        Parameters(args): Parameters<ActivityArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let q = ActivityQuery {
            actor: args.actor,
            action: args.action,
            since: args.since,
            until: args.until,
            limit: args.limit,
        };
        reply(tools::query_activity(&self.services, &p, &q).await)
    }

    #[tool(
        description = "Every OAuth app used in or owned by the organization: source, owner, redirect URIs, granted scopes, active connections, last use."
    )]
    async fn list_oauth_clients(&self, Caller(p, _): Caller) -> Result<CallToolResult, ErrorData> {
        reply(tools::list_oauth_clients(&self.services, &p).await)
    }

    #[tool(
        description = "Every personal token in the organization, standard PATs and MCP OAuth PATs, with owner, scopes, last use, expiry and status."
    )]
    async fn list_tokens(&self, Caller(p, _): Caller) -> Result<CallToolResult, ErrorData> {
        reply(tools::list_tokens(&self.services, &p).await)
    }

    #[tool(
        description = "Revokes a personal token of the organization (a standard PAT, or an MCP OAuth PAT by its connection id)."
    )]
    async fn revoke_token(
        &self,
        Caller(p, meta): Caller,
        Parameters(args): Parameters<TokenArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        reply(tools::revoke_token(&self.services, &p, &args.id, &meta).await)
    }

    #[tool(
        description = "The organization's policy: MCP server, personal tokens, MCP OAuth PATs, dynamic registration, allowed redirect hosts, token lifetimes."
    )]
    async fn get_org_policy(&self, Caller(p, _): Caller) -> Result<CallToolResult, ErrorData> {
        reply(tools::get_org_policy(&self.services, &p).await)
    }

    #[tool(
        description = "Changes the organization's policy; settings left out keep their value. Takes effect on the next request and is audited."
    )]
    async fn set_org_policy(
        &self,
        Caller(p, meta): Caller,
        Parameters(args): Parameters<PolicyArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let two_factor_policy = match args
            .two_factor_policy
            .as_deref()
            .map(|v| {
                app::model::TwoFactorPolicy::parse(v).ok_or_else(|| {
                    app::error::AppError::invalid(
                        "two_factor_policy",
                        "Use off, admins or everyone.",
                    )
                })
            })
            .transpose()
        {
            Ok(p) => p,
            Err(e) => return reply(Err(e)),
        };
        let change = PolicyChange {
            two_factor_policy,
            metadata_clients_enabled: args.metadata_clients_enabled,
            allowed_client_domains: args.allowed_client_domains,
            blocked_client_domains: args.blocked_client_domains,
            mcp_enabled: args.mcp_enabled,
            personal_tokens_enabled: args.personal_tokens_enabled,
            mcp_oauth_pats_enabled: args.mcp_oauth_pats_enabled,
            dynamic_registration_enabled: args.dynamic_registration_enabled,
            allowed_redirect_hosts: args.allowed_redirect_hosts,
            access_token_ttl_secs: args.access_token_ttl_secs,
            refresh_token_ttl_secs: args.refresh_token_ttl_secs,
            pat_max_ttl_days: args.pat_max_ttl_days,
        };
        reply(tools::set_org_policy(&self.services, &p, &change, &meta).await)
    }
}

/// The answer when the org's upstream servers can't be read from the database.
fn unreadable() -> ErrorData {
    ErrorData::internal_error("the organization's MCP servers can't be read now", None)
}

impl GatehouseMcp {
    /// The upstreams whose prompts or resources (`what`) `p` may have.
    async fn content_sources(
        &self,
        p: &Principal,
        what: &str,
    ) -> Result<Vec<Arc<app::domain::entities::mcp_upstream::Model>>, ErrorData> {
        catalog::content_sources(&self.services, p, what)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "the upstreams can't be read");
                unreadable()
            })
    }
}

#[tool_handler(router = self.router)]
impl ServerHandler for GatehouseMcp {
    fn get_info(&self) -> ServerConfig {
        SERVER_INFO.clone()
    }

    /// Gatehouse's own tools, then the upstream tools this caller's role and scope may use.
    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let mut tools = self.router.list_all();
        if let Some((p, _)) = principal_of(&context) {
            let visible = catalog::visible(&self.services, &p).await.map_err(|e| {
                tracing::error!(error = %e, "the upstream tools can't be read");
                unreadable()
            })?;
            tools.extend(visible.iter().map(upstream_tool));
        }
        let mut result = ListToolsResult::with_all_items(tools);
        // What is listed depends on who asks: never a shared cache.
        if context
            .protocol_version()
            .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28)
        {
            result.ttl_ms = Some(0);
            result.cache_scope = Some(CacheScope::Private);
        }
        Ok(result)
    }

    /// The prompts of the org's MCP servers the caller may have, named `{server}__{prompt}`
    /// (Gatehouse has none of its own). A server that can't be asked now is left out.
    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let Some((p, _)) = principal_of(&context) else {
            return Ok(ListPromptsResult::default());
        };
        let sources = self.content_sources(&p, "prompts").await?;
        let listings = futures::future::join_all(
            sources
                .iter()
                .map(|u| gateway::prompts_of(&self.services, &self.upstreams, &p, u)),
        )
        .await;
        Ok(ListPromptsResult::with_all_items(
            listings.into_iter().flatten().flatten().collect(),
        ))
    }

    /// A prompt of one of the org's MCP servers, through the gateway.
    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let (p, _) = authenticated(&context, "prompt")?;
        let (u, prompt) = match catalog::prompt_route(&self.services, &p, &request.name).await {
            Ok(Ok(found)) => found,
            Ok(Err(words)) => return Err(ErrorData::invalid_params(words, None)),
            Err(e) => {
                tracing::error!(error = %e, "an upstream prompt can't be looked up");
                return Err(unreadable());
            }
        };
        gateway::get_prompt(
            &self.services,
            &self.upstreams,
            &p,
            &u,
            &prompt,
            request.arguments,
        )
        .await
        .map(Into::into)
        .map_err(|words| ErrorData::internal_error(words, None))
    }

    /// Gatehouse's own tool, or an upstream's (`{server}__{tool}`) through the gateway.
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if self.router.has_route(request.name.as_ref()) || !catalog::is_upstream_name(&request.name)
        {
            let tcc = ToolCallContext::new(self, request, context);
            return self.router.call(tcc).await;
        }
        let (p, meta) = authenticated(&context, "tool")?;
        let exposed = match catalog::route(&self.services, &p, &request.name).await {
            Ok(Ok(e)) => e,
            Ok(Err(words)) => {
                return Ok(CallToolResult::error(vec![ContentBlock::text(words)]).into());
            }
            Err(e) => {
                tracing::error!(error = %e, "an upstream tool can't be looked up");
                return Err(unreadable());
            }
        };
        let _findable = self
            .inflight
            .register(&p, context.id.clone(), context.ct.clone());
        let relay = Relay {
            peer: context.peer.clone(),
            progress: context.meta.get_progress_token(),
            stop: context.ct.clone(),
        };
        Ok(gateway::call(
            &self.services,
            &self.upstreams,
            &p,
            &exposed,
            request.arguments,
            &relay,
            &meta,
        )
        .await
        .into())
    }

    /// The resources of the org's MCP servers the caller may read, as
    /// `gatehouse://{server}/{uri}` (Gatehouse has none of its own). A server that can't be
    /// asked now is left out.
    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let Some((p, _)) = principal_of(&context) else {
            return Ok(ListResourcesResult::default());
        };
        let sources = self.content_sources(&p, "resources").await?;
        let listings = futures::future::join_all(
            sources
                .iter()
                .map(|u| gateway::resources_of(&self.services, &self.upstreams, &p, u)),
        )
        .await;
        Ok(ListResourcesResult::with_all_items(
            listings.into_iter().flatten().flatten().collect(),
        ))
    }

    /// The resource templates of the org's MCP servers, as for resources.
    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let Some((p, _)) = principal_of(&context) else {
            return Ok(ListResourceTemplatesResult::default());
        };
        let sources = self.content_sources(&p, "resources").await?;
        let listings = futures::future::join_all(
            sources
                .iter()
                .map(|u| gateway::resource_templates_of(&self.services, &self.upstreams, &p, u)),
        )
        .await;
        Ok(ListResourceTemplatesResult::with_all_items(
            listings.into_iter().flatten().flatten().collect(),
        ))
    }

    /// A resource of one of the org's MCP servers, through the gateway.
    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let (p, _) = authenticated(&context, "resource")?;
        let (u, uri) = match catalog::resource_route(&self.services, &p, &request.uri).await {
            Ok(Ok(found)) => found,
            Ok(Err(words)) => {
                return Err(ErrorData::resource_not_found(
                    words,
                    Some(serde_json::json!({ "uri": request.uri })),
                ));
            }
            Err(e) => {
                tracing::error!(error = %e, "an upstream resource can't be looked up");
                return Err(unreadable());
            }
        };
        gateway::read_resource(&self.services, &self.upstreams, &p, &u, &uri)
            .await
            .map(Into::into)
            .map_err(|words| ErrorData::internal_error(words, None))
    }
}

/// Built once: rmcp asks for it several times while serving each stateless request.
static SERVER_INFO: LazyLock<ServerConfig> = LazyLock::new(|| {
    ServerConfig::new(
        ServerCapabilities::builder()
            .enable_tools()
            .enable_prompts()
            .enable_resources()
            .build(),
    )
        .with_server_info(Implementation::new("gatehouse", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "Gatehouse: your identity, connections and your organization's members, activity, apps, tokens and policy, with exactly the rights your role has now.",
        )
});

impl std::fmt::Debug for GatehouseMcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GatehouseMcp")
    }
}
