//! The gateway through the real router served over TCP, with an organization's own MCP server
//! written with the official MCP Python SDK (`MCPServer`, SSE answers) started by the test,
//! which checks Gatehouse's caller assertion with PyJWT against `/.well-known/jwks.json`.
//!
//! An admin adds the server over the REST API (its tools are listed at once, with roles and
//! scopes from their annotations); each member's `tools/list` at `/o/acme/mcp` shows Gatehouse's
//! tools plus the server's under its prefix as their role and scope allow, and `tools/call`
//! reaches the server as them (the server learns who, in which org, with which role) or is
//! refused in plain words; an admin opens a tool to viewers; every call is audited. A server
//! that is down, too slow or answers garbage gives a clear tool error, never a hang.

mod support;

use std::process::{Child, Command, Stdio};

use app::domain::entities::{audit_event, mcp_upstream, membership};
use app::domain::gateway::catalog::{self, ListedTool};
use app::domain::pats::{self, NewPat};
use app::domain::{members, orgs, users};
use app::model::Role;
use http::StatusCode;
use migration::on_both_backends;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use support::{Browser, TestApp, flow, meta};

on_both_backends!(
    an_orgs_own_mcp_server_is_served_behind_gatehouse_by_role,
    resources_progress_and_cancellation_pass_through,
    a_server_that_is_down_slow_or_garbled_gives_a_clear_tool_error,
);

/// The org's own MCP server (`end2end/support/upstream_mcpserver.py`), trusting `gatehouse`.
struct Upstream {
    child: Child,
    url: String,
}

impl Upstream {
    fn start(gatehouse: &str, secret: Option<&str>) -> Self {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../end2end/support/upstream_mcpserver.py");
        let mut cmd = Command::new("python3");
        cmd.arg(script)
            .env("GATEHOUSE", gatehouse)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(s) = secret {
            cmd.env("UPSTREAM_SECRET", s);
        }
        let mut child = cmd
            .spawn()
            .expect("python3 with the MCP Python SDK (`bash .ci/setup --test`)");
        let port = support::ready_port(&mut child, "the upstream MCP server");
        Self {
            child,
            url: format!("http://127.0.0.1:{port}/mcp"),
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Gatehouse served over TCP, allowed to reach loopback upstreams; acme with its admin Ada.
async fn acme(db: DatabaseConnection) -> (TestApp, Browser) {
    let (app, _) = TestApp::served(db, &[("GATEHOUSE_UPSTREAM_ALLOWED_HOSTS", "127.0.0.1")]).await;
    let ada = flow::verified_with_org(&app, "ada@acme.example", "acme").await;
    (app, ada)
}

/// `email` made a member of acme with `role`; their browser.
async fn member(app: &TestApp, email: &str, role: Role) -> Browser {
    let b = app.verified_browser(email).await;
    let acme = orgs::find_by_slug(&app.db, "acme").await.unwrap().unwrap();
    let ada = users::find_by_email(&app.db, "ada@acme.example")
        .await
        .unwrap()
        .unwrap();
    let e = app::domain::validate::Email::parse(email).unwrap();
    app::domain::invitations::add_by_email(&app.services, ada.id, &acme, &e, role, &meta())
        .await
        .unwrap();
    b
}

/// An access token for the signed-in `b` at acme's endpoint with `scope`.
async fn token(app: &TestApp, b: &mut Browser, scope: &str) -> String {
    let resource = format!("{}/o/acme/mcp", app.origin);
    let t = flow::connect(app, b, &resource, scope, "acme").await;
    t["access_token"].as_str().unwrap().to_string()
}

/// Ada's personal access token for the REST API.
async fn admin_pat(app: &TestApp) -> String {
    let ada = users::find_by_email(&app.db, "ada@acme.example")
        .await
        .unwrap()
        .unwrap();
    let acme = orgs::find_by_slug(&app.db, "acme").await.unwrap().unwrap();
    pats::create(
        &app.services,
        &ada,
        &acme,
        Role::Admin,
        &NewPat {
            name: "gateway admin".into(),
            scopes: vec!["mcp:read".into(), "mcp:write".into()],
            expires_in_days: 7,
        },
        &meta(),
    )
    .await
    .unwrap()
    .secret
}

async fn api(
    app: &TestApp,
    pat: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> support::Response {
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::AUTHORIZATION, format!("Bearer {pat}"));
    if body.is_some() {
        req = req.header(http::header::CONTENT_TYPE, "application/json");
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    app.call(req.body(axum::body::Body::from(body)).unwrap())
        .await
}

/// Adds the server at `url` as acme's `crm` (no secret header) with its admin's `pat`.
async fn add_crm(app: &TestApp, pat: &str, url: &str, timeout_ms: u32) {
    let res = api(
        app,
        pat,
        "POST",
        "/api/v1/org/mcp-servers",
        Some(json!({ "name": "crm", "url": url, "timeout_ms": timeout_ms })),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
}

/// A JSON-RPC message to acme's endpoint as a client sends it (with `version` in the
/// `MCP-Protocol-Version` header, or none): the raw response.
async fn send(
    app: &TestApp,
    token: &str,
    message: &Value,
    version: Option<&str>,
) -> support::Response {
    let mut req = http::Request::post("/o/acme/mcp")
        .header(http::header::HOST, app.origin.trim_start_matches("http://"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json, text/event-stream")
        .header(http::header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(v) = version {
        req = req.header("mcp-protocol-version", v);
    }
    app.call(
        req.body(axum::body::Body::from(message.to_string()))
            .unwrap(),
    )
    .await
}

async fn rpc(app: &TestApp, token: &str, method: &str, params: Value) -> Value {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    let res = send(app, token, &body, None).await;
    assert_eq!(res.status, StatusCode::OK, "{method}: {}", res.body);
    let v = res.json();
    assert!(v.get("error").is_none(), "{method}: {v}");
    v["result"].clone()
}

async fn tool_names(app: &TestApp, token: &str) -> Vec<String> {
    rpc(app, token, "tools/list", json!({})).await["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

/// A `tools/call`: (is_error, the text of its first content block).
async fn call(app: &TestApp, token: &str, tool: &str, args: Value) -> (bool, String) {
    let r = rpc(
        app,
        token,
        "tools/call",
        json!({ "name": tool, "arguments": args }),
    )
    .await;
    (
        r["isError"].as_bool().unwrap_or(false),
        r["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn upstream_tools(names: &[String]) -> Vec<&str> {
    names
        .iter()
        .filter(|n| n.starts_with("crm__"))
        .map(String::as_str)
        .collect()
}

async fn an_orgs_own_mcp_server_is_served_behind_gatehouse_by_role(db: DatabaseConnection) {
    let (app, mut ada) = acme(db).await;
    let upstream = Upstream::start(&app.origin, Some("the-crm-api-key"));
    let pat = admin_pat(&app).await;

    // Added over the REST API; listed at once, defaults from the annotations.
    let res = api(
        &app,
        &pat,
        "POST",
        "/api/v1/org/mcp-servers",
        Some(json!({
            "name": "crm",
            "url": upstream.url,
            "auth_header_name": "X-Api-Key",
            "auth_header_value": "the-crm-api-key",
            "timeout_ms": 10000,
        })),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let server = res.json();
    assert!(server.get("auth_header_value").is_none());
    assert_eq!(server["last_error"], Value::Null, "{server}");
    assert!(server["tools_refreshed_at"].is_string(), "{server}");
    let id = server["id"].as_str().unwrap().to_string();
    let detail = api(
        &app,
        &pat,
        "GET",
        &format!("/api/v1/org/mcp-servers/{id}"),
        None,
    )
    .await
    .json();
    let policy = |name: &str| {
        let t = detail["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} not listed: {detail}"))
            .clone();
        (t["min_role"].clone(), t["scope"].clone())
    };
    assert_eq!(policy("whoami"), (json!("querier"), json!("mcp:read")));
    assert_eq!(
        policy("delete_record"),
        (json!("admin"), json!("mcp:write"))
    );

    // What each member sees: their role and scope decide.
    let ada_token = token(&app, &mut ada, "mcp:read mcp:write").await;
    let mut quinn = member(&app, "quinn@acme.example", Role::Querier).await;
    let quinn_token = token(&app, &mut quinn, "mcp:read").await;
    let mut vera = member(&app, "vera@acme.example", Role::Viewer).await;
    let vera_token = token(&app, &mut vera, "mcp:read").await;
    let all = tool_names(&app, &ada_token).await;
    assert!(
        all.contains(&"whoami".to_string()),
        "Gatehouse's own tools stay: {all:?}"
    );
    assert_eq!(
        upstream_tools(&all),
        vec![
            "crm__calls",
            "crm__count_to",
            "crm__delete_record",
            "crm__find_record",
            "crm__slow",
            "crm__whoami"
        ]
    );
    assert_eq!(
        upstream_tools(&tool_names(&app, &quinn_token).await),
        vec![
            "crm__calls",
            "crm__count_to",
            "crm__find_record",
            "crm__slow",
            "crm__whoami"
        ]
    );
    assert!(upstream_tools(&tool_names(&app, &vera_token).await).is_empty());

    // A call reaches the server as the caller: it verified Gatehouse's assertion and learned
    // who, in which org, with which role; never the client's own token.
    let (err, text) = call(&app, &quinn_token, "crm__whoami", json!({})).await;
    assert!(!err, "{text}");
    let seen: Value = serde_json::from_str(&text).unwrap();
    let quinn_id = users::find_by_email(&app.db, "quinn@acme.example")
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(seen["sub"], quinn_id.to_string());
    assert_eq!(seen["email"], "quinn@acme.example");
    assert_eq!(seen["org"], "acme");
    assert_eq!(seen["role"], "querier");
    assert_eq!(seen["aud"], upstream.url);
    assert_eq!(seen["iss"], app.origin);

    // Its prompts come through too, for those who may have them, as the caller.
    let prompts = rpc(&app, &quinn_token, "prompts/list", json!({})).await;
    assert_eq!(prompts["prompts"][0]["name"], "crm__summarize", "{prompts}");
    let prompt = rpc(
        &app,
        &quinn_token,
        "prompts/get",
        json!({ "name": "crm__summarize", "arguments": { "topic": "renewals" } }),
    )
    .await;
    assert_eq!(
        prompt["messages"][0]["content"]["text"],
        "Summarize renewals for quinn@acme.example (querier).",
        "{prompt}"
    );
    let none = rpc(&app, &vera_token, "prompts/list", json!({})).await;
    assert_eq!(none["prompts"], json!([]), "a viewer: {none}");

    // Refusals in plain words, through the same decision.
    let (err, text) = call(
        &app,
        &quinn_token,
        "crm__delete_record",
        json!({ "record_id": "r1" }),
    )
    .await;
    assert!(err && text.contains("needs the admin role"), "{text}");
    let (err, text) = call(&app, &vera_token, "crm__whoami", json!({})).await;
    assert!(err && text.contains("needs the querier role"), "{text}");
    let (err, text) = call(
        &app,
        &ada_token,
        "crm__delete_record",
        json!({ "record_id": "r1" }),
    )
    .await;
    assert!(!err && text == "deleted r1 for ada@acme.example", "{text}");
    // The admin's app granted mcp:read only: the write tool is neither listed nor callable.
    let ada_read_token = token(&app, &mut ada, "mcp:read").await;
    assert!(
        !tool_names(&app, &ada_read_token)
            .await
            .contains(&"crm__delete_record".to_string())
    );
    let (err, text) = call(
        &app,
        &ada_read_token,
        "crm__delete_record",
        json!({ "record_id": "r2" }),
    )
    .await;
    assert!(
        err && text.contains("needs the mcp:write permission"),
        "{text}"
    );
    let (err, text) = call(&app, &quinn_token, "crm__count_to", json!({ "n": 3 })).await;
    assert!(!err && text == "counted to 3", "{text}");
    let (err, text) = call(&app, &ada_token, "crm__nothing", json!({})).await;
    assert!(err && text.contains("no tool crm__nothing"), "{text}");

    // A member's calls share one session (one assertion) with the server; a new role makes a
    // new one at once, so the server never acts on a role Gatehouse no longer gives.
    let (_, again) = call(&app, &quinn_token, "crm__whoami", json!({})).await;
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again["jti"], seen["jti"], "the session was not reused");
    let acme = orgs::find_by_slug(&app.db, "acme").await.unwrap().unwrap();
    let ada_id = users::find_by_email(&app.db, "ada@acme.example")
        .await
        .unwrap()
        .unwrap()
        .id;
    let m = membership::Entity::find()
        .filter(membership::Column::UserId.eq(quinn_id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    members::change_role(&app.services, ada_id, &acme, m.id, Role::Admin, &meta())
        .await
        .unwrap();
    let (_, promoted) = call(&app, &quinn_token, "crm__whoami", json!({})).await;
    let promoted: Value = serde_json::from_str(&promoted).unwrap();
    assert_eq!(promoted["role"], "admin");
    assert_ne!(promoted["jti"], seen["jti"]);
    members::change_role(&app.services, ada_id, &acme, m.id, Role::Querier, &meta())
        .await
        .unwrap();
    let (_, back) = call(&app, &quinn_token, "crm__whoami", json!({})).await;
    assert_eq!(
        serde_json::from_str::<Value>(&back).unwrap()["role"],
        "querier"
    );

    // An admin opens whoami to viewers; the next request sees it.
    let res = api(
        &app,
        &pat,
        "PUT",
        &format!("/api/v1/org/mcp-servers/{id}/tools/whoami"),
        Some(json!({ "min_role": "viewer", "scope": "mcp:read" })),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        upstream_tools(&tool_names(&app, &vera_token).await),
        vec!["crm__whoami"]
    );
    let (err, text) = call(&app, &vera_token, "crm__whoami", json!({})).await;
    assert!(!err, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["role"],
        "viewer"
    );

    // Every call is audited with its outcome.
    // Calls' rows are written by the batching writer, moments after the answers.
    app.services.audits().unwrap().drain().await;
    let calls = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("mcp.gateway.call"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(calls.len(), 7, "refusals before the call are not calls");
    assert!(
        calls
            .iter()
            .all(|c| c.details.as_deref().unwrap().contains("\"outcome\":\"ok\""))
    );

    // An agent's parallel first calls share one session: one handshake, one assertion.
    let mut rita = member(&app, "rita@acme.example", Role::Querier).await;
    let rita_token = token(&app, &mut rita, "mcp:read").await;
    let firsts = futures::future::join_all(
        (0..4).map(|_| call(&app, &rita_token, "crm__whoami", json!({}))),
    )
    .await;
    let jtis: std::collections::HashSet<String> = firsts
        .iter()
        .map(|(err, text)| {
            assert!(!err, "{text}");
            let seen: Value = serde_json::from_str(text).unwrap();
            seen["jti"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(jtis.len(), 1, "{jtis:?}");

    // Another org sees none of it, and can't reach the server's settings.
    let mut bob = flow::verified_with_org(&app, "bob@beta.example", "beta").await;
    let beta_resource = format!("{}/o/beta/mcp", app.origin);
    let t = flow::connect(&app, &mut bob, &beta_resource, "mcp:read mcp:write", "beta").await;
    let bob_token = t["access_token"].as_str().unwrap();
    let res = app
        .call(
            http::Request::post("/o/beta/mcp")
                .header(http::header::CONTENT_TYPE, "application/json")
                .header(http::header::ACCEPT, "application/json, text/event-stream")
                .header(http::header::AUTHORIZATION, format!("Bearer {bob_token}"))
                .body(axum::body::Body::from(
                    json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert!(!res.body.contains("crm__"), "{}", res.body);

    // A wrong secret: the server refuses Gatehouse; the refresh says so, calls fail clearly.
    let res = api(
        &app,
        &pat,
        "PUT",
        &format!("/api/v1/org/mcp-servers/{id}"),
        Some(json!({
            "name": "crm", "url": upstream.url, "auth_header_name": "X-Api-Key",
            "auth_header_value": "not-the-key", "timeout_ms": 10000,
        })),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = api(
        &app,
        &pat,
        "POST",
        &format!("/api/v1/org/mcp-servers/{id}/refresh"),
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_GATEWAY, "{}", res.body);
    let (err, text) = call(&app, &quinn_token, "crm__whoami", json!({})).await;
    assert!(err && text.contains("could not be reached"), "{text}");
}

/// A JSON-RPC message to acme's endpoint at protocol version 2025-11-25: the raw response.
async fn post_mcp(app: &TestApp, token: &str, message: Value) -> support::Response {
    send(app, token, &message, Some("2025-11-25")).await
}

/// The JSON-RPC messages of an event-stream answer, in order.
fn events(res: &support::Response) -> Vec<Value> {
    res.body
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_json::from_str(d.trim()).unwrap())
        .collect()
}

/// The JSON-RPC error of a request that should fail.
async fn rpc_error(app: &TestApp, token: &str, method: &str, params: Value) -> Value {
    let res = post_mcp(
        app,
        token,
        json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }),
    )
    .await;
    let v = res.json();
    assert!(v.get("result").is_none(), "{method}: {v}");
    v["error"].clone()
}

async fn resources_progress_and_cancellation_pass_through(db: DatabaseConnection) {
    let (app, _ada) = acme(db).await;
    let upstream = Upstream::start(&app.origin, None);
    let pat = admin_pat(&app).await;
    add_crm(&app, &pat, &upstream.url, 20_000).await;
    let mut quinn = member(&app, "quinn@acme.example", Role::Querier).await;
    let quinn_token = token(&app, &mut quinn, "mcp:read").await;
    let mut vera = member(&app, "vera@acme.example", Role::Viewer).await;
    let vera_token = token(&app, &mut vera, "mcp:read").await;

    // Resources under the server's prefix, read as the caller, by the URIs the client saw.
    let listed = rpc(&app, &quinn_token, "resources/list", json!({})).await;
    assert_eq!(
        listed["resources"][0]["uri"], "gatehouse://crm/crm://about",
        "{listed}"
    );
    assert_eq!(listed["resources"][0]["name"], "crm__about", "{listed}");
    let templates = rpc(&app, &quinn_token, "resources/templates/list", json!({})).await;
    assert_eq!(
        templates["resourceTemplates"][0]["uriTemplate"],
        "gatehouse://crm/crm://records/{record_id}",
        "{templates}"
    );
    let read = rpc(
        &app,
        &quinn_token,
        "resources/read",
        json!({ "uri": "gatehouse://crm/crm://records/7" }),
    )
    .await;
    assert_eq!(
        read["contents"][0]["uri"],
        "gatehouse://crm/crm://records/7"
    );
    assert_eq!(
        read["contents"][0]["text"],
        "Record 7, read by quinn@acme.example (querier)."
    );
    // A link in a tool's answer points back through the gateway.
    let found = rpc(
        &app,
        &quinn_token,
        "tools/call",
        json!({ "name": "crm__find_record", "arguments": { "record_id": "7" } }),
    )
    .await;
    assert_eq!(found["content"][0]["type"], "resource_link", "{found}");
    assert_eq!(
        found["content"][0]["uri"],
        "gatehouse://crm/crm://records/7"
    );
    // A viewer gets none of it; unknown servers and URIs are refused plainly.
    let none = rpc(&app, &vera_token, "resources/list", json!({})).await;
    assert_eq!(none["resources"], json!([]), "{none}");
    let refused = rpc_error(
        &app,
        &vera_token,
        "resources/read",
        json!({ "uri": "gatehouse://crm/crm://records/7" }),
    )
    .await;
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("needs the querier role"),
        "{refused}"
    );
    for uri in ["gatehouse://billing/x://1", "crm://records/7"] {
        let e = rpc_error(&app, &quinn_token, "resources/read", json!({ "uri": uri })).await;
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("There is no resource"),
            "{uri}: {e}"
        );
    }

    // Progress: the server's notifications reach the client under the client's own token,
    // on an event stream, before the result.
    let res = post_mcp(
        &app,
        &quinn_token,
        json!({ "jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {
            "name": "crm__count_to", "arguments": { "n": 3 }, "_meta": { "progressToken": "p-1" } } }),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("text/event-stream"),
        "{:?}",
        res.headers
    );
    let messages = events(&res);
    let progress: Vec<&Value> = messages
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .collect();
    assert_eq!(progress.len(), 3, "{messages:?}");
    for (i, p) in progress.iter().enumerate() {
        assert_eq!(p["params"]["progressToken"], "p-1", "{messages:?}");
        assert_eq!(
            p["params"]["progress"],
            json!(i as f64 + 1.0),
            "{messages:?}"
        );
        assert_eq!(p["params"]["total"], json!(3.0));
    }
    let last = messages.last().unwrap();
    assert_eq!(last["id"], 5);
    assert_eq!(
        last["result"]["content"][0]["text"], "counted to 3",
        "{last}"
    );

    // Cancellation: the client's notifications/cancelled (its own POST) stops the call here
    // and reaches the server, which stops too.
    let started = std::time::Instant::now();
    let done = std::sync::atomic::AtomicBool::new(false);
    let pending = async {
        let res = post_mcp(
            &app,
            &quinn_token,
            json!({ "jsonrpc": "2.0", "id": 42, "method": "tools/call", "params": {
                "name": "crm__slow", "arguments": { "seconds": 15, "tag": "c1" } } }),
        )
        .await;
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        res
    };
    let calls = || async {
        let (_, text) = call(&app, &quinn_token, "crm__calls", json!({})).await;
        serde_json::from_str::<Value>(&text).unwrap()
    };
    let cancelling = async {
        while !calls().await["started"]
            .as_array()
            .unwrap()
            .contains(&json!("c1"))
        {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // Someone else's cancellation of the same request id changes nothing.
        let other = post_mcp(
            &app,
            &vera_token,
            json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": 42 } }),
        )
        .await;
        assert_eq!(other.status, StatusCode::ACCEPTED, "{}", other.body);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(
            !done.load(std::sync::atomic::Ordering::SeqCst),
            "another caller's cancellation stopped the call"
        );
        let cancel = post_mcp(
            &app,
            &quinn_token,
            json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": 42, "reason": "user pressed stop" } }),
        )
        .await;
        assert_eq!(cancel.status, StatusCode::ACCEPTED, "{}", cancel.body);
    };
    let (answer, ()) = tokio::join!(pending, cancelling);
    let answer = answer.json();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "the call ran on"
    );
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert!(
        answer["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("was cancelled"),
        "{answer}"
    );
    let mut told = false;
    for _ in 0..100 {
        if calls().await["cancelled"]
            .as_array()
            .unwrap()
            .contains(&json!("c1"))
        {
            told = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(told, "the server was not told to stop");
    app.services.audits().unwrap().drain().await;
    let audited = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("mcp.gateway.call"))
        .all(&app.db)
        .await
        .unwrap();
    assert!(
        audited.iter().any(|c| c
            .details
            .as_deref()
            .unwrap()
            .contains("\"outcome\":\"cancelled\"")),
        "the cancelled call is audited as such"
    );
}

async fn a_server_that_is_down_slow_or_garbled_gives_a_clear_tool_error(db: DatabaseConnection) {
    let (app, mut ada) = acme(db).await;
    let mut upstream = Upstream::start(&app.origin, None);
    let pat = admin_pat(&app).await;
    add_crm(&app, &pat, &upstream.url, 1000).await;
    let token = token(&app, &mut ada, "mcp:read mcp:write").await;

    // Slow: the timeout ends it.
    let (err, text) = call(&app, &token, "crm__slow", json!({ "seconds": 30 })).await;
    assert!(
        err && text.contains("did not answer within 1 seconds"),
        "{text}"
    );
    let (err, text) = call(&app, &token, "crm__slow", json!({ "seconds": 0 })).await;
    assert!(!err && text == "done", "{text}");

    // Down.
    upstream.stop();
    let (err, text) = call(&app, &token, "crm__whoami", json!({})).await;
    assert!(err && text.contains("could not be reached"), "{text}");

    // Garbage: a server that answers anything but MCP.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let junk_url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let junk = axum::Router::new().fallback(|| async {
            (
                [(http::header::CONTENT_TYPE, "application/json")],
                "{\"this is\": not json-rpc",
            )
        });
        axum::serve(listener, junk).await.unwrap();
    });
    let res = api(
        &app,
        &pat,
        "POST",
        "/api/v1/org/mcp-servers",
        Some(json!({ "name": "junk", "url": junk_url, "timeout_ms": 2000 })),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert!(res.json()["last_error"].is_string(), "{}", res.body);
    // As if it had listed a tool before it broke.
    let junk = mcp_upstream::Entity::find()
        .filter(mcp_upstream::Column::Name.eq("junk"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    catalog::record_listing(
        &app.services,
        &junk,
        vec![ListedTool {
            name: "lookup".into(),
            title: None,
            description: None,
            input_schema: json!({ "type": "object" }),
            output_schema: None,
            annotations: None,
        }],
    )
    .await
    .unwrap();
    let (err, text) = call(&app, &token, "junk__lookup", json!({})).await;
    assert!(err && text.contains("can't read"), "{text}");
    app.services.audits().unwrap().drain().await;
    let outcomes: Vec<String> = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("mcp.gateway.call"))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| e.details)
        .collect();
    for outcome in ["timeout", "upstream_error", "ok"] {
        assert!(
            outcomes
                .iter()
                .any(|d| d.contains(&format!("\"outcome\":\"{outcome}\""))),
            "{outcome} not audited: {outcomes:?}"
        );
    }
}
