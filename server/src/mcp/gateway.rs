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
use app::domain::gateway::catalog::{Exposed, ListedTool, exposed_name, exposed_uri};
use app::domain::gateway::{caller, upstreams};
use app::domain::upstream_client::UpstreamClient;
use futures::{FutureExt, StreamExt};
use http::{HeaderName, HeaderValue};
use rmcp::handler::client::progress::ProgressDispatcher;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResult, CancelledNotificationParam,
    ClientConfig, ClientRequest, ContentBlock, GetPromptRequestParams, GetPromptResult,
    Implementation, ProgressNotificationParam, ProgressToken, Prompt, ReadResourceRequestParams,
    ReadResourceResult, RequestId, Resource, ResourceContents, ResourceTemplate, ServerResult,
};
use rmcp::service::{NotificationContext, Peer, PeerRequestOptions, RoleServer, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// The HTTP client every upstream call goes through: rustls with the ring provider and the
/// web's roots (plus the operator's extra CA), no redirects (an upstream's address is what its
/// admin saved, nothing it points elsewhere), a bounded connect.
#[derive(Clone)]
pub struct UpstreamHttp {
    client: reqwest013::Client,
    sessions: SessionPool,
}

type Session = Arc<RunningService<RoleClient, GatewayClient>>;

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
/// Each key holds a cell that the first caller fills: an agent's parallel first calls share
/// one handshake instead of opening a session each.
#[derive(Clone)]
struct SessionPool(moka::sync::Cache<SessionKey, Arc<tokio::sync::OnceCell<Session>>>);

/// How long a session is reused: its assertion lives five minutes, a call may take two.
const SESSION_TTL: Duration = Duration::from_secs(150);
/// Calls in flight at once on one upstream session.
const MAX_CALLS_PER_SESSION: usize = 64;
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
    let cell = http.sessions.0.get_with_by_ref(key, Default::default);
    let session = cell
        .get_or_try_init(|| async {
            let bearer = caller::assertion(s, p, u)
                .await
                .map_err(|e| e.to_string())?;
            let secret = upstreams::secret_header(s, u).map_err(|e| e.to_string())?;
            Ok::<_, String>(Arc::new(connect(http, u, secret, bearer).await?))
        })
        .await?;
    Ok(session.clone())
}

/// Why an exchange with an upstream gave no answer.
enum Failure {
    /// Unreachable, refused, or an answer that isn't MCP.
    Upstream(String),
    Timeout,
    /// The client cancelled (or went away): the upstream was told to stop.
    Cancelled,
}

impl Failure {
    fn outcome(&self) -> &'static str {
        match self {
            Failure::Upstream(_) => "upstream_error",
            Failure::Timeout => "timeout",
            Failure::Cancelled => "cancelled",
        }
    }
}

/// Runs `ask` on the session with `u` for `p`, within `u`'s timeout and until `stop`: a
/// failure or timeout drops the session (the next exchange starts afresh); a stop drops the
/// exchange, whose request guard then tells the upstream to stop too.
async fn exchange<T, F, Fut>(
    s: &Services,
    http: &UpstreamHttp,
    p: &Principal,
    u: &mcp_upstream::Model,
    stop: Option<&CancellationToken>,
    ask: F,
) -> Result<T, Failure>
where
    F: FnOnce(Session) -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let key = SessionKey::of(p, u);
    let work = async {
        let session = session_for(s, http, p, u, &key).await?;
        ask(session).await
    };
    let stopped = async {
        match stop {
            Some(ct) => ct.cancelled().await,
            None => std::future::pending().await,
        }
    };
    let result = tokio::select! {
        done = tokio::time::timeout(upstreams::timeout(u), work) => match done {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(why)) => Failure::Upstream(why),
            Err(_) => Failure::Timeout,
        },
        () = stopped => return Err(Failure::Cancelled),
    };
    if let Failure::Upstream(why) = &result {
        tracing::info!(upstream = %u.id, error = %why, "an upstream exchange failed");
    }
    http.sessions.0.invalidate(&key);
    Err(result)
}

/// Tells the upstream to stop working on request `id` if the exchange is dropped before its
/// answer came (the client cancelled or went away, or the timeout passed), as rmcp's own
/// request helpers do.
struct CancelOnDrop {
    peer: Option<Peer<RoleClient>>,
    id: RequestId,
}

impl CancelOnDrop {
    fn disarm(&mut self) {
        self.peer = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let Some(peer) = self.peer.take() else {
            return;
        };
        let params = CancelledNotificationParam::new(
            Some(self.id.clone()),
            Some("cancelled by the client".into()),
        );
        tokio::spawn(async move {
            let _ = peer.notify_cancelled(params).await;
        });
    }
}

/// Sends `request` on `session` and waits for the answer, passing the upstream's progress
/// notifications on to the client under the client's own progress token (when it gave one).
async fn relayed(
    session: Session,
    request: ClientRequest,
    relay: &Relay,
) -> Result<ServerResult, String> {
    let peer = session.peer();
    let handle = peer
        .send_request_with_option(request, PeerRequestOptions::no_options())
        .await
        .map_err(|e| e.to_string())?;
    let mut guard = CancelOnDrop {
        peer: Some(peer.clone()),
        id: handle.id.clone(),
    };
    let answer = match &relay.progress {
        None => handle.await_response().await,
        Some(token) => {
            // Subscribed before the request can have reached the upstream: it is only queued
            // for the transport yet, and any progress needs a round trip.
            let mut progress = session
                .service()
                .progress
                .subscribe(handle.progress_token.clone())
                .await;
            let answer = handle.await_response();
            tokio::pin!(answer);
            let mut forward = ProgressForward::new(token.clone(), &relay.peer);
            let answer = loop {
                tokio::select! {
                    biased;
                    Some(step) = progress.next() => forward.send(step).await,
                    answer = &mut answer => break answer,
                }
            };
            // What was already on its way still goes before the answer.
            tokio::task::yield_now().await;
            while let Some(Some(step)) = progress.next().now_or_never() {
                forward.send(step).await;
            }
            answer
        }
    };
    guard.disarm();
    answer.map_err(|e| e.to_string())
}

/// Progress on its way to the client, under the client's token. rmcp hands each notification
/// it receives to a task of its own, so they can come out of order; progress must increase
/// (MCP), so one that comes after a greater one is dropped.
struct ProgressForward<'a> {
    token: ProgressToken,
    peer: &'a Peer<RoleServer>,
    last: Option<f64>,
}

impl<'a> ProgressForward<'a> {
    fn new(token: ProgressToken, peer: &'a Peer<RoleServer>) -> Self {
        Self {
            token,
            peer,
            last: None,
        }
    }

    async fn send(&mut self, mut step: ProgressNotificationParam) {
        if self.last.is_some_and(|last| step.progress <= last) {
            return;
        }
        self.last = Some(step.progress);
        step.progress_token = self.token.clone();
        // A client that went away is noticed by the stop token, not here.
        let _ = self.peer.notify_progress(step).await;
    }
}

/// What the client's request brings to a relayed call: where its progress goes, and the token
/// that stops the call when the client cancels.
pub struct Relay {
    pub peer: Peer<RoleServer>,
    pub progress: Option<ProgressToken>,
    pub stop: CancellationToken,
}

/// A listing of `u` for `p` (what `list` asks the session for), each item renamed by `expose`
/// as clients see it; `None` when `u` can't be asked now (down, slow, or it has none of these):
/// a listing shows what the other servers have.
async fn listing_of<T, F, Fut>(
    s: &Services,
    http: &UpstreamHttp,
    p: &Principal,
    u: &mcp_upstream::Model,
    list: F,
    expose: impl Fn(&mut T),
) -> Option<Vec<T>>
where
    F: FnOnce(Session) -> Fut,
    Fut: Future<Output = Result<Vec<T>, rmcp::ServiceError>>,
{
    let mut items = exchange(s, http, p, u, None, async |session: Session| {
        list(session).await.map_err(|e| e.to_string())
    })
    .await
    .ok()?;
    items.iter_mut().for_each(expose);
    Some(items)
}

/// The prompts of `u` for `p`, named `{server}__{prompt}`.
pub async fn prompts_of(
    s: &Services,
    http: &UpstreamHttp,
    p: &Principal,
    u: &mcp_upstream::Model,
) -> Option<Vec<Prompt>> {
    let list = async |session: Session| session.list_all_prompts().await;
    listing_of(s, http, p, u, list, |prompt: &mut Prompt| {
        prompt.name = exposed_name(&u.name, &prompt.name)
    })
    .await
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
    let mut params = GetPromptRequestParams::new(prompt);
    params.arguments = arguments;
    let mut result = exchange(s, http, p, u, None, async |session: Session| {
        session.get_prompt(params).await.map_err(|e| e.to_string())
    })
    .await
    .map_err(|_| {
        format!(
            "The MCP server {} could not give the prompt {prompt}. Try again later.",
            u.name
        )
    })?;
    for message in &mut result.messages {
        expose_content(&u.name, std::iter::once(&mut message.content));
    }
    Ok(result)
}

/// The resources of `u` for `p`, with URIs and names as clients see them.
pub async fn resources_of(
    s: &Services,
    http: &UpstreamHttp,
    p: &Principal,
    u: &mcp_upstream::Model,
) -> Option<Vec<Resource>> {
    let list = async |session: Session| session.list_all_resources().await;
    listing_of(s, http, p, u, list, |r| expose_resource(&u.name, r)).await
}

/// The resource templates of `u` for `p`, as clients see them.
pub async fn resource_templates_of(
    s: &Services,
    http: &UpstreamHttp,
    p: &Principal,
    u: &mcp_upstream::Model,
) -> Option<Vec<ResourceTemplate>> {
    let list = async |session: Session| session.list_all_resource_templates().await;
    listing_of(s, http, p, u, list, |t: &mut ResourceTemplate| {
        t.uri_template = exposed_uri(&u.name, &t.uri_template);
        t.name = exposed_name(&u.name, &t.name);
    })
    .await
}

/// The resource `uri` (the upstream's own URI) of `u` for `p`, its contents named by the URIs
/// clients see, or why not in words.
pub async fn read_resource(
    s: &Services,
    http: &UpstreamHttp,
    p: &Principal,
    u: &mcp_upstream::Model,
    uri: &str,
) -> Result<ReadResourceResult, String> {
    let params = ReadResourceRequestParams::new(uri);
    let mut result = exchange(s, http, p, u, None, async |session: Session| {
        session
            .read_resource(params)
            .await
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|_| {
        format!(
            "The MCP server {} could not give the resource {}. Try again later.",
            u.name,
            exposed_uri(&u.name, uri)
        )
    })?;
    for contents in &mut result.contents {
        expose_contents(&u.name, contents);
    }
    Ok(result)
}

/// A resource (or a link to one) of upstream `server` as clients see it.
fn expose_resource(server: &str, r: &mut Resource) {
    r.uri = exposed_uri(server, &r.uri);
    r.name = exposed_name(server, &r.name);
}

fn expose_contents(server: &str, contents: &mut ResourceContents) {
    match contents {
        ResourceContents::TextResourceContents { uri, .. }
        | ResourceContents::BlobResourceContents { uri, .. } => *uri = exposed_uri(server, uri),
        // A kind of contents rmcp doesn't know yet keeps its URI.
        _ => {}
    }
}

/// Resource links and embedded resources in an upstream's answer, renamed so that the client
/// can read them back through the gateway.
fn expose_content<'a>(server: &str, blocks: impl IntoIterator<Item = &'a mut ContentBlock>) {
    for block in blocks {
        match block {
            ContentBlock::ResourceLink(link) => expose_resource(server, link),
            ContentBlock::Resource(embedded) => expose_contents(server, &mut embedded.resource),
            _ => {}
        }
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

/// Gatehouse as an upstream's client: it introduces itself and hands each progress
/// notification to the call waiting for it (by the progress token it sent).
#[derive(Clone, Default)]
struct GatewayClient {
    progress: ProgressDispatcher,
}

impl ClientHandler for GatewayClient {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            Default::default(),
            Implementation::new("gatehouse-gateway", env!("CARGO_PKG_VERSION")),
        )
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.handle_notification(params).await;
    }
}

/// A session with `u`, as whoever `bearer` says is calling, with its secret header.
async fn connect(
    http: &UpstreamHttp,
    u: &mcp_upstream::Model,
    secret_header: Option<(String, String)>,
    bearer: String,
) -> Result<RunningService<RoleClient, GatewayClient>, String> {
    let mut headers = HashMap::new();
    if let Some((name, value)) = secret_header {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
        let value = HeaderValue::from_str(&value).map_err(|e| e.to_string())?;
        headers.insert(name, value);
    }
    let mut config = StreamableHttpClientTransportConfig::with_uri(u.url.as_str())
        .auth_header(bearer)
        .custom_headers(headers)
        // One session carries all of a member's concurrent calls (an agent runs tools in
        // parallel): rmcp's default of 16 POSTs in flight would queue the rest.
        .max_concurrent_requests(MAX_CALLS_PER_SESSION);
    config.channel_buffer_capacity = MAX_CALLS_PER_SESSION;
    let transport = StreamableHttpClientTransport::with_client(http.client.clone(), config);
    GatewayClient::default()
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
    relay: &Relay,
    meta: &RequestMeta,
) -> CallToolResult {
    let started = Instant::now();
    let u = &e.upstream;
    let mut params = CallToolRequestParams::new(e.tool.name.clone());
    if let Some(args) = arguments {
        params = params.with_arguments(args);
    }
    let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
    let answer = exchange(
        s,
        http,
        p,
        u,
        Some(&relay.stop),
        async |session: Session| match relayed(session, request, relay).await? {
            ServerResult::CallToolResult(result) => Ok(result),
            _ => Err("the answer to tools/call was not a tool result".to_string()),
        },
    )
    .await;
    let (result, outcome) = match answer {
        Ok(mut result) => {
            expose_content(&u.name, &mut result.content);
            let o = if result.is_error == Some(true) {
                "tool_error"
            } else {
                "ok"
            };
            (result, o)
        }
        Err(failure) => {
            let words = match &failure {
                Failure::Upstream(_) => format!(
                    "The MCP server {} could not be reached or gave an answer Gatehouse can't read. Try again later; if it keeps happening, ask an admin to check it on the MCP servers page.",
                    u.name
                ),
                Failure::Timeout => format!(
                    "The MCP server {} did not answer within {} seconds. Try again later.",
                    u.name,
                    upstreams::timeout(u).as_secs()
                ),
                Failure::Cancelled => format!(
                    "The call to {} was cancelled; the MCP server was told to stop.",
                    e.name()
                ),
            };
            (
                CallToolResult::error(vec![ContentBlock::text(words)]),
                failure.outcome(),
            )
        }
    };
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
    if let Err(err) = audit::record_queued(s, entry, meta).await {
        tracing::warn!(error = %err, "a gateway call could not be audited");
    }
    result
}
