//! The MCP endpoint's HTTP side: rmcp's stateless Streamable HTTP service, with a direct lane for
//! the calls clients make all day.
//!
//! rmcp runs every stateless request through a one-shot service loop: three spawned tasks,
//! channels, cancellation tokens and a fresh peer, about a quarter of the server time of a
//! `tools/call` in `gatehouse bench`, and rmcp offers no public way around it. A request that is
//! plainly a `tools/call`, `tools/list` or `ping` at a pre-2026 protocol version is parsed once
//! here and given to the same rmcp handler (`Service::handle_request`), with the context the loop
//! would have built, and answered with the JSON the loop would have sent. Everything else
//! (initialize, discover, notifications, per-request protocol metadata, browser origins, odd
//! headers, large bodies, other methods) goes to rmcp untouched, so rmcp's checks and error
//! answers stay the only ones.

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use std::sync::Arc;

use app::domain::access::Principal;
use rmcp::model::{
    ClientCapabilities, ClientJsonRpcMessage, ClientNotification, ClientRequest, GetExtensions,
    GetMeta, Implementation, InitializeRequestParams, JsonRpcRequest, ProtocolVersion,
    ServerJsonRpcMessage,
};
use rmcp::service::{Peer, RequestContext, RoleServer, Service, serve_directly};
use rmcp::transport::streamable_http_server::StreamableHttpService;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;

use super::handler::GatehouseMcp;

/// Bodies above this go to rmcp, which applies its own (larger) limit and error.
const DIRECT_MAX_BODY: usize = 64 * 1024;

/// The protocol versions answered directly: those before per-request metadata (2026-07-28), where
/// a stateless request needs nothing but its body and the `MCP-Protocol-Version` header. Without
/// the header rmcp assumes 2025-03-26.
const DIRECT_VERSIONS: [ProtocolVersion; 4] = [
    ProtocolVersion::V_2025_03_26,
    ProtocolVersion::V_2024_11_05,
    ProtocolVersion::V_2025_06_18,
    ProtocolVersion::V_2025_11_25,
];

pub struct McpEndpoint {
    rmcp: StreamableHttpService<GatehouseMcp, NeverSessionManager>,
    handler: GatehouseMcp,
    /// One peer per direct version, in `DIRECT_VERSIONS` order: the handler reads the request's
    /// protocol version from its peer, as rmcp's stateless lane sets it.
    peers: Vec<Peer<RoleServer>>,
}

impl McpEndpoint {
    /// Needs a Tokio runtime: rmcp makes a peer only by starting a service.
    pub fn new(
        rmcp: StreamableHttpService<GatehouseMcp, NeverSessionManager>,
        handler: GatehouseMcp,
    ) -> Self {
        let peers = DIRECT_VERSIONS
            .iter()
            .map(|version| {
                let info = InitializeRequestParams::new(
                    ClientCapabilities::default(),
                    Implementation::default(),
                )
                .with_protocol_version(version.clone());
                // A connection that is already closed: its loop ends at once, the peer (and its
                // client info) lives on. Direct calls never send anything through it.
                let closed = (
                    futures::sink::drain(),
                    futures::stream::empty::<ClientJsonRpcMessage>(),
                );
                serve_directly(handler.clone(), closed, Some(info))
                    .peer()
                    .clone()
            })
            .collect();
        Self {
            rmcp,
            handler,
            peers,
        }
    }

    pub async fn handle(&self, req: Request) -> Response {
        let req = match self.handle_directly(req).await {
            Ok(response) => return response,
            Err(req) => req,
        };
        self.rmcp.handle(req).await.into_response()
    }

    /// Answers a plain call, or gives the request back (body intact) for rmcp.
    async fn handle_directly(&self, req: Request) -> Result<Response, Request> {
        let peer = self.direct_peer(&req);
        if peer.is_none() && !may_be_notification(&req) {
            return Err(req);
        }
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, DIRECT_MAX_BODY).await else {
            return Ok((
                StatusCode::BAD_REQUEST,
                "Bad Request: unreadable request body",
            )
                .into_response());
        };
        let (request, peer) = match (serde_json::from_slice::<ClientJsonRpcMessage>(&bytes), peer) {
            (Ok(ClientJsonRpcMessage::Request(request)), Some(peer)) if is_direct(&request) => {
                (request, peer)
            }
            (Ok(ClientJsonRpcMessage::Notification(note)), _) => {
                self.pass_on_cancellation(&parts, note.notification);
                return Err(Request::from_parts(parts, Body::from(bytes)));
            }
            _ => return Err(Request::from_parts(parts, Body::from(bytes))),
        };
        let JsonRpcRequest {
            id, mut request, ..
        } = request;
        // The context rmcp's service loop builds: the request's `_meta`, and its extensions with
        // the HTTP parts (the bearer middleware's principal rides there) added.
        request.extensions_mut().insert(parts);
        let mut context = RequestContext::new(id.clone(), peer.clone());
        std::mem::swap(&mut context.meta, request.get_meta_mut());
        std::mem::swap(&mut context.extensions, request.extensions_mut());
        let message = match self.handler.handle_request(request, context).await {
            Ok(result) => ServerJsonRpcMessage::response(result, id),
            Err(error) => ServerJsonRpcMessage::error(error, Some(id)),
        };
        Ok(match serde_json::to_vec(&message) {
            Ok(body) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                Bytes::from(body),
            )
                .into_response(),
            Err(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error: the response could not be serialized",
            )
                .into_response(),
        })
    }

    /// A client's cancellation reaches the gateway call it names (rmcp's stateless lane, which
    /// still answers the notification, would drop it: it has no call to stop).
    fn pass_on_cancellation(&self, parts: &http::request::Parts, note: ClientNotification) {
        let ClientNotification::CancelledNotification(cancelled) = note else {
            return;
        };
        let (Some(p), Some(id)) = (
            parts.extensions.get::<Arc<Principal>>(),
            cancelled.params.request_id,
        ) else {
            return;
        };
        if self.handler.cancel(p, id.clone()) {
            tracing::debug!(%id, "a client cancelled a gateway call");
        }
    }

    fn direct_peer(&self, req: &Request) -> Option<&Peer<RoleServer>> {
        self.peers.get(direct_version(req)?)
    }
}

/// The index in `DIRECT_VERSIONS` of a request whose HTTP shape rmcp's stateless lane accepts
/// without a second look; `None` sends the request to rmcp. Stricter than rmcp on purpose.
fn direct_version(req: &Request) -> Option<usize> {
    let headers = req.headers();
    let plain = req.method() == Method::POST
        // Browser requests keep rmcp's origin check.
        && !headers.contains_key(header::ORIGIN)
        // A body of known, small size (chunked uploads go to rmcp).
        && req.body().size_hint().upper().is_some_and(|n| n <= DIRECT_MAX_BODY as u64)
        && is_json_content_type(headers)
        && accepts_json_and_event_stream(headers);
    if !plain {
        return None;
    }
    match headers.get("mcp-protocol-version") {
        None => Some(0),
        Some(value) => DIRECT_VERSIONS
            .iter()
            .position(|v| v.as_str().as_bytes() == value.as_bytes()),
    }
}

/// A small JSON POST of any protocol version: its body is read for a cancellation before rmcp
/// gets it.
fn may_be_notification(req: &Request) -> bool {
    req.method() == Method::POST
        && req
            .body()
            .size_hint()
            .upper()
            .is_some_and(|n| n <= DIRECT_MAX_BODY as u64)
        && is_json_content_type(req.headers())
}

/// The JSON-RPC requests served directly: the steady traffic of a connected client, never part
/// of a handshake, and without per-request protocol metadata or a progress token (progress
/// needs rmcp's event stream).
fn is_direct(request: &JsonRpcRequest<ClientRequest>) -> bool {
    let meta = request.request.get_meta();
    matches!(
        request.request,
        ClientRequest::CallToolRequest(_)
            | ClientRequest::ListToolsRequest(_)
            | ClientRequest::PingRequest(_)
    ) && meta.protocol_version().is_none()
        && meta.get_progress_token().is_none()
}

fn is_json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let essence = v.split_once(';').map_or(v, |(essence, _)| essence);
            essence.trim().eq_ignore_ascii_case("application/json")
        })
}

/// Both media types listed without parameters (so no `q=0` can exclude them), as SDK clients
/// send them; any other form (quoted strings included) is left to rmcp's full Accept parsing.
fn accepts_json_and_event_stream(headers: &HeaderMap) -> bool {
    let mut json = false;
    let mut event_stream = false;
    for value in headers.get_all(header::ACCEPT) {
        let Ok(value) = value.to_str() else {
            return false;
        };
        if value.contains('"') {
            return false;
        }
        for entry in value.split(',') {
            let entry = entry.trim();
            json |= entry.eq_ignore_ascii_case("application/json");
            event_stream |= entry.eq_ignore_ascii_case("text/event-stream");
        }
    }
    json && event_stream
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn accept_needs_both_types_without_parameters() {
        assert!(accepts_json_and_event_stream(&headers(&[(
            "accept",
            "application/json, text/event-stream"
        )])));
        assert!(accepts_json_and_event_stream(&headers(&[
            ("accept", "text/event-stream"),
            ("accept", "Application/JSON"),
        ])));
        assert!(!accepts_json_and_event_stream(&headers(&[(
            "accept",
            "application/json"
        )])));
        assert!(!accepts_json_and_event_stream(&headers(&[(
            "accept",
            "application/json;q=0, text/event-stream"
        )])));
        assert!(!accepts_json_and_event_stream(&headers(&[(
            "accept",
            r#"application/json, text/plain;p="x,text/event-stream,y""#
        )])));
    }

    fn post(pairs: &[(&'static str, &'static str)], body: &'static str) -> Request {
        let mut req = Request::post("/mcp").body(Body::from(body)).unwrap();
        *req.headers_mut() = headers(pairs);
        req
    }

    const PLAIN: [(&str, &str); 2] = [
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
    ];

    #[test]
    fn only_plain_requests_at_older_versions_take_the_direct_lane() {
        let with = |extra: (&'static str, &'static str)| {
            let mut pairs = PLAIN.to_vec();
            pairs.push(extra);
            post(&pairs, "{}")
        };
        assert_eq!(
            direct_version(&post(&PLAIN, "{}")),
            Some(0),
            "no header: 2025-03-26"
        );
        assert_eq!(
            direct_version(&with(("mcp-protocol-version", "2025-06-18"))),
            Some(2)
        );
        assert_eq!(
            direct_version(&with(("mcp-protocol-version", "2025-11-25"))),
            Some(3)
        );
        for rmcp in [
            with(("mcp-protocol-version", "2026-07-28")),
            with(("mcp-protocol-version", "2099-01-01")),
            with(("origin", "http://localhost:6274")),
            post(&PLAIN[..1], "{}"),
            post(&PLAIN[1..], "{}"),
            post(
                &PLAIN,
                Box::leak("x".repeat(DIRECT_MAX_BODY + 1).into_boxed_str()),
            ),
        ] {
            assert_eq!(direct_version(&rmcp), None, "{:?}", rmcp.headers());
        }
        let mut get = post(&PLAIN, "");
        *get.method_mut() = Method::GET;
        assert_eq!(direct_version(&get), None);
    }

    #[test]
    fn only_steady_traffic_without_request_metadata_is_direct() {
        let direct = |body: serde_json::Value| match serde_json::from_value(body).unwrap() {
            ClientJsonRpcMessage::Request(r) => is_direct(&r),
            _ => false,
        };
        assert!(direct(
            serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": "whoami" } })
        ));
        assert!(direct(
            serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" })
        ));
        assert!(direct(
            serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" })
        ));
        assert!(!direct(
            serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } } })
        ));
        assert!(!direct(
            serde_json::json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })
        ));
        assert!(!direct(
            serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": { "_meta": { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } } })
        ));
        assert!(!direct(
            serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": "crm__count_to", "_meta": { "progressToken": "p1" } } })
        ));
    }

    #[test]
    fn content_type_essence_is_compared() {
        assert!(is_json_content_type(&headers(&[(
            "content-type",
            "application/json; charset=utf-8"
        )])));
        assert!(!is_json_content_type(&headers(&[(
            "content-type",
            "text/plain"
        )])));
        assert!(!is_json_content_type(&headers(&[])));
    }
}
