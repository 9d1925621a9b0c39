//! The gateway's transport: Gatehouse as an MCP client of an org's upstream servers, on rmcp's
//! Streamable HTTP client (JSON and SSE answers). Each call carries the caller's signed
//! assertion as its bearer token and the upstream's secret header, and is bounded by the
//! upstream's timeout: a server that is down, slow or answers garbage gives the client a tool
//! error in plain words, never a hang. The rules (who may call what, what the assertion says)
//! are the domain's (`app::domain::gateway`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::domain::RequestMeta;
use app::domain::Services;
use app::domain::access::Principal;
use app::domain::audit::{self, AuditEntry};
use app::domain::entities::mcp_upstream;
use app::domain::gateway::catalog::{Exposed, ListedTool, exposed_name};
use app::domain::gateway::{caller, upstreams};
use app::domain::upstream_client::UpstreamClient;
use http::{HeaderName, HeaderValue};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientConfig, ContentBlock, GetPromptRequestParams,
    GetPromptResult, Implementation, Prompt,
};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::json;

/// The HTTP client every upstream call goes through: rustls with the ring provider and the
/// web's roots (plus the operator's extra CA), no redirects (an upstream's address is what its
/// admin saved, nothing it points elsewhere), a bounded connect.
#[derive(Clone)]
pub struct UpstreamHttp {
    client: reqwest013::Client,
    sessions: SessionPool,
}

type Session = Arc<RunningService<RoleClient, ClientConfig>>;

/// Who an upstream session speaks for, as the upstream sees it: a change of any part (a new
/// role, a narrower token, the server's settings) makes a new session with a new assertion.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct SessionKey {
    upstream: uuid::Uuid,
    settings: i64,
    user: uuid::Uuid,
    org: uuid::Uuid,
    role: &'static str,
    scope: String,
    client: Option<String>,
}

/// Sessions with upstreams, kept so that a member's calls don't each pay the MCP handshake.
/// A session carries the assertion it was opened with, so it is kept for less than the
/// assertion lives minus the longest timeout ([`SESSION_TTL`]); one that failed is dropped.
#[derive(Clone)]
struct SessionPool(moka::sync::Cache<SessionKey, Session>);

/// How long a session is reused: its assertion lives five minutes, a call may take two.
const SESSION_TTL: Duration = Duration::from_secs(150);
/// Sessions kept at most per process.
const MAX_SESSIONS: u64 = 10_000;

impl SessionKey {
    fn of(p: &Principal, u: &mcp_upstream::Model) -> Self {
        Self {
            upstream: u.id,
            settings: u.updated_at.timestamp_micros(),
            user: p.user_id(),
            org: p.org().id,
            role: p.role().as_str(),
            scope: p.scopes().to_string(),
            client: p.grant().map(|g| g.client.client_id.clone()),
        }
    }
}

/// The kept session with `u` for `p`, or a new one (with a fresh assertion).
async fn session_for(
    s: &Services,
    http: &UpstreamHttp,
    p: &Principal,
    u: &mcp_upstream::Model,
    key: &SessionKey,
) -> Result<Session, String> {
    if let Some(kept) = http.sessions.0.get(key) {
        return Ok(kept);
    }
    let bearer = caller::assertion(s, p, u)
        .await
        .map_err(|e| e.to_string())?;
    let secret = upstreams::secret_header(s, u).map_err(|e| e.to_string())?;
    let fresh: Session = Arc::new(connect(http, u, secret, bearer).await?);
    http.sessions.0.insert(key.clone(), fresh.clone());
    Ok(fresh)
}

/// The prompts of `u` for `p`, named `{server}__{prompt}`; `None` when `u` can't be asked now
/// (down, slow, no prompts): a listing shows what the other servers have.
pub async fn prompts_of(
    s: &Services,
    http: &UpstreamHttp,
    p: &Principal,
    u: &mcp_upstream::Model,
) -> Option<Vec<Prompt>> {
    let key = SessionKey::of(p, u);
    let listing = async {
        let session = session_for(s, http, p, u, &key).await?;
        session.list_all_prompts().await.map_err(|e| format!("{e}"))
    };
    match tokio::time::timeout(upstreams::timeout(u), listing).await {
        Ok(Ok(prompts)) => Some(
            prompts
                .into_iter()
                .map(|mut prompt| {
                    prompt.name = exposed_name(&u.name, &prompt.name);
                    prompt
                })
                .collect(),
        ),
        Ok(Err(why)) => {
            // A server without prompts answers "method not found": nothing to show.
            tracing::debug!(upstream = %u.id, error = %why, "an upstream's prompts can't be listed");
            None
        }
        Err(_) => {
            http.sessions.0.invalidate(&key);
            None
        }
    }
}

/// The prompt `prompt` of `u` for `p` with `arguments`, or why not in words.
pub async fn get_prompt(
    s: &Services,
    http: &UpstreamHttp,
    p: &Principal,
    u: &mcp_upstream::Model,
    prompt: &str,
    arguments: Option<serde_json::Map<String, serde_json::Value>>,
) -> Result<GetPromptResult, String> {
    let key = SessionKey::of(p, u);
    let fetch = async {
        let session = session_for(s, http, p, u, &key).await?;
        let mut params = GetPromptRequestParams::new(prompt);
        params.arguments = arguments;
        session.get_prompt(params).await.map_err(|e| format!("{e}"))
    };
    let failed = |why: String| {
        http.sessions.0.invalidate(&key);
        tracing::info!(upstream = %u.id, error = %why, "an upstream prompt failed");
        Err(format!(
            "The MCP server {} could not give the prompt {prompt}. Try again later.",
            u.name
        ))
    };
    match tokio::time::timeout(upstreams::timeout(u), fetch).await {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(why)) => failed(why),
        Err(_) => failed("timeout".into()),
    }
}

impl SessionPool {
    fn new() -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(MAX_SESSIONS)
                .time_to_live(SESSION_TTL)
                .build(),
        )
    }
}

impl UpstreamHttp {
    pub fn new(extra_ca_pem: Option<&[u8]>) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(pem) = extra_ca_pem {
            use rustls::pki_types::pem::PemObject;
            for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| format!("extra CA: {e}"))?;
                roots.add(cert).map_err(|e| format!("extra CA: {e}"))?;
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let client = reqwest013::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest013::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("gatehouse-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            sessions: SessionPool::new(),
        })
    }
}

/// How Gatehouse introduces itself to upstreams.
fn client_info() -> ClientConfig {
    ClientConfig::new(
        Default::default(),
        Implementation::new("gatehouse-gateway", env!("CARGO_PKG_VERSION")),
    )
}

/// A session with `u`, as whoever `bearer` says is calling, with its secret header.
async fn connect(
    http: &UpstreamHttp,
    u: &mcp_upstream::Model,
    secret_header: Option<(String, String)>,
    bearer: String,
) -> Result<RunningService<RoleClient, ClientConfig>, String> {
    let mut headers = HashMap::new();
    if let Some((name, value)) = secret_header {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
        let value = HeaderValue::from_str(&value).map_err(|e| e.to_string())?;
        headers.insert(name, value);
    }
    let config = StreamableHttpClientTransportConfig::with_uri(u.url.as_str())
        .auth_header(bearer)
        .custom_headers(headers);
    let transport = StreamableHttpClientTransport::with_client(http.client.clone(), config);
    client_info()
        .serve(transport)
        .await
        .map_err(|e| format!("{e}"))
}

/// The domain lists upstreams' tools through this (`catalog::refresh`).
#[async_trait::async_trait]
impl UpstreamClient for UpstreamHttp {
    async fn list_tools(
        &self,
        u: &mcp_upstream::Model,
        secret_header: Option<(String, String)>,
        bearer: String,
    ) -> Result<Vec<ListedTool>, String> {
        let session = connect(self, u, secret_header, bearer).await?;
        let tools = session.list_all_tools().await.map_err(|e| format!("{e}"));
        let _ = session.cancel().await;
        Ok(tools?
            .into_iter()
            .map(|t| ListedTool {
                name: t.name.to_string(),
                title: t.title.clone(),
                description: t.description.as_ref().map(|d| d.to_string()),
                input_schema: serde_json::Value::Object((*t.input_schema).clone()),
                output_schema: t
                    .output_schema
                    .as_ref()
                    .map(|o| serde_json::Value::Object((**o).clone())),
                annotations: t
                    .annotations
                    .as_ref()
                    .and_then(|a| serde_json::to_value(a).ok()),
            })
            .collect())
    }
}

/// Calls the upstream tool `e` for `p` with `arguments`: its result as the upstream gave it,
/// or a tool error in plain words. Audited with the outcome and duration.
pub async fn call(
    s: &Services,
    http: &UpstreamHttp,
    p: &Principal,
    e: &Exposed,
    arguments: Option<serde_json::Map<String, serde_json::Value>>,
    meta: &RequestMeta,
) -> CallToolResult {
    let started = Instant::now();
    let u = &e.upstream;
    let key = SessionKey::of(p, u);
    let outcome = async {
        let session = session_for(s, http, p, u, &key).await?;
        let mut params = CallToolRequestParams::new(e.tool.name.clone());
        if let Some(args) = arguments {
            params = params.with_arguments(args);
        }
        session.call_tool(params).await.map_err(|e| format!("{e}"))
    };
    let (result, outcome) = match tokio::time::timeout(upstreams::timeout(u), outcome).await {
        Ok(Ok(result)) => {
            let o = if result.is_error == Some(true) {
                "tool_error"
            } else {
                "ok"
            };
            (result, o)
        }
        Ok(Err(why)) => {
            tracing::info!(upstream = %u.id, error = %why, "an upstream call failed");
            (
                CallToolResult::error(vec![ContentBlock::text(format!(
                    "The MCP server {} could not be reached or gave an answer Gatehouse can't read. Try again later; if it keeps happening, ask an admin to check it on the MCP servers page.",
                    u.name
                ))]),
                "upstream_error",
            )
        }
        Err(_) => (
            CallToolResult::error(vec![ContentBlock::text(format!(
                "The MCP server {} did not answer within {} seconds. Try again later.",
                u.name,
                upstreams::timeout(u).as_secs()
            ))]),
            "timeout",
        ),
    };
    if outcome != "ok" && outcome != "tool_error" {
        // Whatever broke, the next call starts a session afresh.
        http.sessions.0.invalidate(&key);
    }
    let elapsed = started.elapsed();
    metrics::histogram!("gatehouse_gateway_call_seconds", "outcome" => outcome)
        .record(elapsed.as_secs_f64());
    let entry = AuditEntry::new("mcp.gateway.call")
        .org(p.org().id)
        .actor(p.user_id())
        .target("mcp_server", u.id)
        .details(json!({
            "upstream": u.name,
            "tool": e.tool.name,
            "outcome": outcome,
            "duration_ms": elapsed.as_millis() as u64,
        }));
    if let Err(err) = audit::record(&s.db, entry, meta).await {
        tracing::warn!(error = %err, "a gateway call could not be audited");
    }
    result
}
