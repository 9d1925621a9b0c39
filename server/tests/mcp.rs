//! The MCP endpoint through the real router: challenges, audience, live roles, revocation, org
//! policy switches, scope step-up, standard PATs and every tool's permission rule.

mod support;

use app::domain::entities::membership;
use app::domain::oauth::token_format::SecretKind;
use app::domain::oauth::tokens::{self, TokenSpec};
use app::domain::org_policy::{self, PolicyChange};
use app::domain::{RequestMeta, Services};
use app::model::Role;
use axum::body::Body;
use http::{Request, StatusCode, header};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use support::flow::{MCP, connect, signed_in_with_org};
use support::{PASSWORD, Response, TestApp, org, user_id};

const ACME_MCP: &str = "http://127.0.0.1:3000/o/acme/mcp";

/// A JSON-RPC POST as SDK clients send it; `headers` replace the usual ones.
fn rpc_request(
    path: &str,
    token: Option<&str>,
    headers: &[(&'static str, &'static str)],
    body: &Value,
) -> Request<Body> {
    let mut req = Request::post(path)
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let map = req.headers_mut().unwrap();
    for (name, value) in headers {
        map.insert(*name, http::HeaderValue::from_static(value));
    }
    req.body(Body::from(body.to_string())).unwrap()
}

async fn rpc(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> Response {
    app.call(rpc_request(path, token, &[], &body)).await
}

async fn call_tool(app: &TestApp, path: &str, token: &str, name: &str, args: Value) -> Response {
    rpc(
        app,
        path,
        Some(token),
        json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": { "name": name, "arguments": args } }),
    )
    .await
}

/// The tool's result: (is_error, structured content or the error text).
async fn tool(app: &TestApp, path: &str, token: &str, name: &str, args: Value) -> (bool, Value) {
    let res = call_tool(app, path, token, name, args).await;
    assert_eq!(res.status, StatusCode::OK, "{name}: {}", res.body);
    let v = res.json();
    let result = &v["result"];
    assert!(result.is_object(), "{name}: not a result: {v}");
    let is_error = result["isError"].as_bool().unwrap_or(false);
    if is_error {
        (true, result["content"][0]["text"].clone())
    } else {
        (false, result["structuredContent"].clone())
    }
}

fn access(t: &Value) -> String {
    t["access_token"].as_str().unwrap().to_string()
}

fn services(app: &TestApp) -> Services {
    app.services.clone()
}

/// Adds `email` (signed up in its own browser) to acme with `role`; returns their browser.
async fn member(app: &TestApp, email: &str, role: Role) -> support::Browser {
    let b = app.verified_browser(email).await;
    let s = services(app);
    let acme = org(app, "acme").await;
    let admin = user_id(app, "ada@example.com").await;
    let e = app::domain::validate::Email::parse(email).unwrap();
    app::domain::invitations::add_by_email(&s, admin, &acme, &e, role, &RequestMeta::default())
        .await
        .unwrap();
    b
}

async fn set_role(app: &TestApp, email: &str, role: Role) {
    let acme = org(app, "acme").await;
    let uid = user_id(app, email).await;
    let m = membership::Entity::find()
        .filter(membership::Column::OrgId.eq(acme.id))
        .filter(membership::Column::UserId.eq(uid))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let admin = user_id(app, "ada@example.com").await;
    app::domain::members::change_role(
        &app.services,
        admin,
        &acme,
        m.id,
        role,
        &RequestMeta::default(),
    )
    .await
    .unwrap();
}

async fn set_policy(app: &TestApp, change: PolicyChange) {
    let acme = org(app, "acme").await;
    let admin = user_id(app, "ada@example.com").await;
    org_policy::update(
        &services(app),
        admin,
        acme.id,
        &change,
        &RequestMeta::default(),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_valid_token_get_the_challenge() {
    let app = TestApp::sqlite().await;
    signed_in_with_org(&app, "ada@example.com", "acme").await;

    for method in ["POST", "GET", "DELETE"] {
        let req = Request::builder()
            .method(method)
            .uri("/mcp")
            .header(header::ACCEPT, "application/json, text/event-stream")
            .body(Body::from("{}"))
            .unwrap();
        let res = app.call(req).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{method}");
        let h = res.header("www-authenticate").unwrap();
        assert_eq!(
            h,
            r#"Bearer resource_metadata="http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp", scope="mcp:read mcp:write""#,
            "{method}: no error code without credentials (RFC 6750 §3.1)"
        );
    }
    // The challenge's metadata URL answers with the matching resource.
    let prm = app
        .call(
            Request::get("/.well-known/oauth-protected-resource/mcp")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(prm.json()["resource"], MCP);

    let init = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } } });
    for bad in [
        "garbage",
        "gate_at_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let res = rpc(&app, "/mcp", Some(bad), init.clone()).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{bad}");
        let h = res.header("www-authenticate").unwrap();
        assert!(h.starts_with("Bearer resource_metadata=\""), "{h}");
        assert!(h.contains(r#"error="invalid_token""#), "{h}");
    }
    // Tokens are read from the Authorization header only.
    let res = app
        .call(
            Request::post("/mcp?access_token=gate_at_x")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(init.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);

    // Per-org endpoints point at their own metadata; unknown orgs have no endpoint at all.
    let res = rpc(&app, "/o/acme/mcp", None, init.clone()).await;
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .contains("/.well-known/oauth-protected-resource/o/acme/mcp\"")
    );
    assert_eq!(
        rpc(&app, "/o/nope/mcp", None, init.clone()).await.status,
        StatusCode::NOT_FOUND
    );
    // Never a redirect to the login page, even for a browser session.
    let mut ada = app.browser();
    ada.log_in("ada@example.com", PASSWORD).await;
    let res = ada
        .send(
            ada.with_cookie(Request::post("/mcp").header(header::CONTENT_TYPE, "application/json"))
                .body(Body::from(init.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNAUTHORIZED,
        "the session is not a credential"
    );

    // Browser clients can read the challenge: CORS preflight and exposed headers.
    let pre = app
        .call(
            Request::builder()
                .method("OPTIONS")
                .uri("/mcp")
                .header("origin", "http://localhost:6274")
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "authorization, content-type, mcp-protocol-version, mcp-session-id",
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(pre.status.is_success(), "{}", pre.status);
    let allowed = pre.header("access-control-allow-headers").unwrap();
    assert!(allowed.contains("authorization") && allowed.contains("mcp-session-id"));
    let res = app
        .call(
            Request::post("/mcp")
                .header("origin", "http://localhost:6274")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    let exposed = res.header("access-control-expose-headers").unwrap();
    assert!(exposed.contains("www-authenticate") && exposed.contains("mcp-session-id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oauth_token_lists_and_calls_tools_at_its_own_resource_only() {
    let app = TestApp::sqlite().await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let t = connect(&app, &mut ada, MCP, "mcp:read mcp:write", "acme").await;
    let at = access(&t);

    let init = rpc(
        &app,
        "/mcp",
        Some(&at),
        json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } } }),
    )
    .await;
    assert_eq!(init.status, StatusCode::OK, "{}", init.body);
    let init = init.json();
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(init["result"]["serverInfo"]["name"], "gatehouse");

    let list = rpc(
        &app,
        "/mcp",
        Some(&at),
        json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" }),
    )
    .await
    .json();
    let tools = list["result"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    for want in [
        "whoami",
        "list_my_connections",
        "revoke_my_connection",
        "list_members",
        "query_activity",
        "list_oauth_clients",
        "list_tokens",
        "revoke_token",
        "get_org_policy",
        "set_org_policy",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let query = tools
        .iter()
        .find(|t| t["name"] == "query_activity")
        .unwrap();
    assert!(
        query["description"]
            .as_str()
            .unwrap()
            .ends_with("Needs role restricted_querier or higher and scope mcp:read."),
        "{query}"
    );

    let (err, me) = tool(&app, "/mcp", &at, "whoami", json!({})).await;
    assert!(!err, "{me}");
    assert_eq!(me["user"]["email"], "ada@example.com");
    assert_eq!(me["organization"]["slug"], "acme");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["credential"]["kind"], "mcp_oauth_pat");
    assert_eq!(me["credential"]["resource"], MCP);

    // Audience: a token for /mcp is refused at an org endpoint, and the reverse.
    let res = call_tool(&app, "/o/acme/mcp", &at, "whoami", json!({})).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );
    let org_t = connect(&app, &mut ada, ACME_MCP, "mcp:read mcp:write", "acme").await;
    let (err, _) = tool(&app, "/o/acme/mcp", &access(&org_t), "whoami", json!({})).await;
    assert!(!err);
    assert_eq!(
        call_tool(&app, "/mcp", &access(&org_t), "whoami", json!({}))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Another org's endpoint: refused, even for a member of both.
    app.browser(); // (eve's org below)
    let mut ada2 = ada;
    let res = ada2
        .submit(
            "/orgs/new",
            "/fn/create_org",
            &[("name", "Other"), ("slug", "other")],
        )
        .await;
    assert_eq!(res.location(), Some("/o/other"));
    assert_eq!(
        call_tool(&app, "/o/other/mcp", &access(&org_t), "whoami", json!({}))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // A refresh token is not an access token.
    let rt = t["refresh_token"].as_str().unwrap();
    assert_eq!(
        call_tool(&app, "/mcp", rt, "whoami", json!({}))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_read_live_and_denials_are_tool_errors_in_plain_words() {
    let app = TestApp::sqlite().await;
    signed_in_with_org(&app, "ada@example.com", "acme").await;
    let mut vic = member(&app, "vic@example.com", Role::Viewer).await;
    let t = connect(&app, &mut vic, MCP, "mcp:read mcp:write", "acme").await;
    let at = access(&t);

    let (err, me) = tool(&app, "/mcp", &at, "whoami", json!({})).await;
    assert!(!err);
    assert_eq!(me["role"], "viewer");
    let (err, text) = tool(&app, "/mcp", &at, "query_activity", json!({})).await;
    assert!(err);
    assert_eq!(
        text,
        "Your role viewer can't query organization data; ask an admin of the organization for access."
    );
    let (err, text) = tool(&app, "/mcp", &at, "list_members", json!({})).await;
    assert!(err && text.as_str().unwrap().contains("viewer can't list"));
    let (err, text) = tool(
        &app,
        "/mcp",
        &at,
        "set_org_policy",
        json!({ "mcp_enabled": false }),
    )
    .await;
    assert!(
        err && text
            .as_str()
            .unwrap()
            .contains("can't manage this organization")
    );
    assert!(org(&app, "acme").await.mcp_enabled, "nothing changed");

    // Promoted to restricted querier: the next call sees it, and only their own activity.
    set_role(&app, "vic@example.com", Role::RestrictedQuerier).await;
    let (err, acts) = tool(&app, "/mcp", &at, "query_activity", json!({})).await;
    assert!(!err, "{acts}");
    assert_eq!(acts["scope"], "your own activity");
    let events = acts["events"].as_array().unwrap();
    assert!(!events.is_empty(), "vic's consent is in the log");
    assert!(
        events.iter().all(|e| e["actor"] == "vic@example.com"),
        "{acts}"
    );
    let (err, text) = tool(
        &app,
        "/mcp",
        &at,
        "query_activity",
        json!({ "actor": "ada@example.com" }),
    )
    .await;
    assert!(err && text.as_str().unwrap().contains("only your own activity"));
    let (err, members) = tool(&app, "/mcp", &at, "list_members", json!({})).await;
    assert!(!err);
    assert_eq!(members["members"].as_array().unwrap().len(), 2);

    // Querier: the whole org, filtered by actor and action.
    set_role(&app, "vic@example.com", Role::Querier).await;
    let (err, acts) = tool(
        &app,
        "/mcp",
        &at,
        "query_activity",
        json!({ "actor": "ada@example.com", "action": "org" }),
    )
    .await;
    assert!(!err, "{acts}");
    assert_eq!(acts["scope"], "organization");
    let events = acts["events"].as_array().unwrap();
    assert!(
        events.iter().any(|e| e["action"] == "org.created"),
        "{acts}"
    );
    assert!(events.iter().all(
        |e| e["actor"] == "ada@example.com" && e["action"].as_str().unwrap().starts_with("org")
    ));
    let (err, text) = tool(
        &app,
        "/mcp",
        &at,
        "query_activity",
        json!({ "since": "yesterday" }),
    )
    .await;
    assert!(err && text.as_str().unwrap().contains("since must be a time"));

    // Removed from the org: the token stops working at once.
    let acme = org(&app, "acme").await;
    let uid = user_id(&app, "vic@example.com").await;
    let m = membership::Entity::find()
        .filter(membership::Column::UserId.eq(uid))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let admin = user_id(&app, "ada@example.com").await;
    app::domain::members::remove(&app.services, admin, &acme, m.id, &RequestMeta::default())
        .await
        .unwrap();
    let res = call_tool(&app, "/mcp", &at, "whoami", json!({})).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .contains("no longer a member")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_and_org_policy_take_effect_on_the_next_request() {
    let app = TestApp::sqlite().await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let t = connect(&app, &mut ada, MCP, "mcp:read mcp:write", "acme").await;
    let at = access(&t);
    assert!(!tool(&app, "/mcp", &at, "whoami", json!({})).await.0);

    // The admin switches MCP off over MCP itself; the next call gets seed 000's 403.
    let (err, out) = tool(
        &app,
        "/mcp",
        &at,
        "set_org_policy",
        json!({ "mcp_enabled": false }),
    )
    .await;
    assert!(!err, "{out}");
    assert_eq!(out["policy"]["mcp_enabled"], false);
    let res = call_tool(&app, "/mcp", &at, "whoami", json!({})).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(
        res.header("www-authenticate").is_none(),
        "signing in again won't help"
    );
    assert!(
        res.json()["error_description"]
            .as_str()
            .unwrap()
            .starts_with(
                "MCP server access disabled: acme has disabled MCP server access. Ask an admin"
            )
    );
    set_policy(
        &app,
        PolicyChange {
            mcp_enabled: Some(true),
            mcp_oauth_pats_enabled: Some(false),
            ..Default::default()
        },
    )
    .await;
    let res = call_tool(&app, "/mcp", &at, "whoami", json!({})).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.body.contains("MCP OAuth PATs aren't enabled"));
    set_policy(
        &app,
        PolicyChange {
            mcp_oauth_pats_enabled: Some(true),
            ..Default::default()
        },
    )
    .await;
    assert!(!tool(&app, "/mcp", &at, "whoami", json!({})).await.0);

    // The policy change is in the audit log with what changed.
    let (_, acts) = tool(
        &app,
        "/mcp",
        &at,
        "query_activity",
        json!({ "action": "org.policy_changed" }),
    )
    .await;
    let changes = acts["events"].as_array().unwrap();
    assert_eq!(changes.len(), 3);
    assert_eq!(
        changes[2]["details"]["mcp_enabled"],
        json!({ "from": true, "to": false })
    );
    // Bad policy values change nothing.
    let (err, text) = tool(
        &app,
        "/mcp",
        &at,
        "set_org_policy",
        json!({ "access_token_ttl_secs": 5 }),
    )
    .await;
    assert!(err && text.as_str().unwrap().contains("between 1 minute"));
    assert_eq!(org(&app, "acme").await.access_token_ttl_secs, 3600);

    // Listing and revoking connections: the next request with that token is refused.
    let other = connect(&app, &mut ada, MCP, "mcp:read mcp:write", "acme").await;
    let (_, mine) = tool(&app, "/mcp", &at, "list_my_connections", json!({})).await;
    let conns = mine["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 2);
    let (_, me_other) = tool(&app, "/mcp", &access(&other), "whoami", json!({})).await;
    let other_conn = me_other["credential"]["connection_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (err, out) = tool(
        &app,
        "/mcp",
        &at,
        "revoke_my_connection",
        json!({ "connection_id": other_conn }),
    )
    .await;
    assert!(!err, "{out}");
    assert_eq!(out["revoked"]["status"], "revoked");
    let res = call_tool(&app, "/mcp", &access(&other), "whoami", json!({})).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(res.header("www-authenticate").unwrap().contains("revoked"));
    let (err, text) = tool(
        &app,
        "/mcp",
        &at,
        "revoke_my_connection",
        json!({ "connection_id": "not-an-id" }),
    )
    .await;
    assert!(
        err && text
            .as_str()
            .unwrap()
            .contains("connection_id must be an id")
    );

    // RFC 7009 revocation of the access token itself.
    let res = app
        .post_form(
            "/oauth/revoke",
            &[
                ("token", &at),
                ("client_id", t["client_id"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(
        call_tool(&app, "/mcp", &at, "whoami", json!({}))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_grant_gets_a_step_up_challenge_for_write_tools() {
    let app = TestApp::sqlite().await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let t = connect(&app, &mut ada, MCP, "mcp:read", "acme").await;
    let at = access(&t);
    assert!(!tool(&app, "/mcp", &at, "get_org_policy", json!({})).await.0);
    let res = call_tool(
        &app,
        "/mcp",
        &at,
        "set_org_policy",
        json!({ "mcp_enabled": false }),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let h = res.header("www-authenticate").unwrap();
    assert!(h.starts_with(r#"Bearer error="insufficient_scope", scope="mcp:read mcp:write", resource_metadata="http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp""#), "{h}");
    assert!(h.contains("error_description="));
    assert!(org(&app, "acme").await.mcp_enabled, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_pats_work_as_bearer_tokens_in_their_org_only() {
    let app = TestApp::sqlite().await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    ada.submit(
        "/orgs/new",
        "/fn/create_org",
        &[("name", "Other"), ("slug", "other")],
    )
    .await;
    let acme = org(&app, "acme").await;
    let uid = user_id(&app, "ada@example.com").await;
    let (pat, row) = tokens::issue(
        &app.db,
        SecretKind::PersonalToken,
        Some(chrono::Duration::days(30)),
        &TokenSpec {
            user_id: uid,
            org_id: acme.id,
            client_id: None,
            connection_id: None,
            family_id: None,
            parent_id: None,
            scope: "mcp:read mcp:write",
            resource: None,
            name: Some("ci".into()),
        },
    )
    .await
    .unwrap();
    assert!(pat.starts_with("gate_pat_"));
    for path in ["/mcp", "/o/acme/mcp"] {
        let (err, me) = tool(&app, path, &pat, "whoami", json!({})).await;
        assert!(!err, "{path}: {me}");
        assert_eq!(me["organization"]["slug"], "acme");
        assert_eq!(me["credential"], json!({ "kind": "pat", "name": "ci" }));
    }
    let res = call_tool(&app, "/o/other/mcp", &pat, "whoami", json!({})).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .contains("belongs to the organization acme")
    );

    // The admin's token list shows it; personal tokens off refuses it with seed 000's words.
    let (_, list) = tool(&app, "/mcp", &pat, "list_tokens", json!({})).await;
    assert!(
        list["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == json!(row.id) && t["kind"] == "pat" && t["status"] == "active")
    );
    set_policy(
        &app,
        PolicyChange {
            personal_tokens_enabled: Some(false),
            ..Default::default()
        },
    )
    .await;
    let res = call_tool(&app, "/mcp", &pat, "whoami", json!({})).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(
        res.body.contains("Personal Access Tokens aren't enabled"),
        "{}",
        res.body
    );
    set_policy(
        &app,
        PolicyChange {
            personal_tokens_enabled: Some(true),
            ..Default::default()
        },
    )
    .await;

    // An admin revokes it over MCP with an OAuth token; the PAT stops at once.
    let t = connect(&app, &mut ada, MCP, "mcp:read mcp:write", "acme").await;
    let (err, out) = tool(
        &app,
        "/mcp",
        &access(&t),
        "revoke_token",
        json!({ "id": row.id }),
    )
    .await;
    assert!(!err, "{out}");
    assert_eq!(out["revoked"]["status"], "revoked");
    assert_eq!(
        call_tool(&app, "/mcp", &pat, "whoami", json!({}))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Another org's ids are simply not found.
    let (err, text) = tool(
        &app,
        "/mcp",
        &access(&t),
        "revoke_token",
        json!({ "id": uuid::Uuid::now_v7() }),
    )
    .await;
    assert!(err && text.as_str().unwrap().contains("no such token"));
    let (err, clients) = tool(&app, "/mcp", &access(&t), "list_oauth_clients", json!({})).await;
    assert!(!err);
    assert_eq!(clients["clients"][0]["source"], "dynamic");
    assert_eq!(clients["clients"][0]["active_connections"], 1);
}

/// Plain calls (tools/call, tools/list, ping at a pre-2026 version) are answered by Gatehouse's
/// direct lane, everything else by rmcp's own stateless service: both must answer alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_direct_lane_answers_as_rmcp_does() {
    let app = TestApp::sqlite().await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let t = connect(&app, &mut ada, MCP, "mcp:read mcp:write", "acme").await;
    let at = access(&t);

    // The same JSON-RPC body, once in the plain shape SDK clients send and once with an Accept
    // header only rmcp's full parser takes (parameters on the media types).
    let both = |body: Value| {
        let (app, at) = (&app, at.clone());
        async move {
            let send = |accept| {
                let headers = [("accept", accept), ("mcp-protocol-version", "2025-11-25")];
                app.call(rpc_request("/mcp", Some(&at), &headers, &body))
            };
            let direct = send("application/json, text/event-stream").await;
            let rmcp = send("application/json;q=1, text/event-stream;q=0.9").await;
            (direct, rmcp)
        }
    };
    let calls = [
        json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": { "name": "whoami", "arguments": {} } }),
        json!({ "jsonrpc": "2.0", "id": "x", "method": "tools/list" }),
        json!({ "jsonrpc": "2.0", "id": 4, "method": "ping" }),
        // A tool error, an unknown tool, bad arguments: in-band answers either way.
        json!({ "jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": { "name": "revoke_token", "arguments": { "id": "nope" } } }),
        json!({ "jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": { "name": "no_such_tool", "arguments": {} } }),
        json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": { "name": "query_activity", "arguments": { "limit": "many" } } }),
    ];
    for call in calls {
        let (direct, rmcp) = both(call.clone()).await;
        assert_eq!(direct.status, StatusCode::OK, "{call}: {}", direct.body);
        assert_eq!(direct.status, rmcp.status, "{call}");
        assert_eq!(
            direct.header("content-type"),
            rmcp.header("content-type"),
            "{call}"
        );
        assert_eq!(direct.json(), rmcp.json(), "{call}");
        assert_eq!(direct.json()["id"], call["id"]);
    }

    // What the direct lane leaves to rmcp still gets rmcp's answers.
    let whoami = json!({ "jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": { "name": "whoami", "arguments": {} } });
    let post = |version, origin: Option<&'static str>| {
        let mut headers = vec![("mcp-protocol-version", version)];
        headers.extend(origin.map(|o| ("origin", o)));
        rpc_request("/mcp", Some(&at), &headers, &whoami)
    };
    let res = app.call(post("1999-01-01", None)).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    assert!(
        res.body.contains("Unsupported MCP-Protocol-Version"),
        "{}",
        res.body
    );
    let res = app
        .call(post("2025-11-25", Some("https://evil.example")))
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    let res = app
        .call(post("2025-11-25", Some("http://localhost:6274")))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["result"]["structuredContent"]["role"], "admin");
    // Not JSON at all, and a notification.
    let res = rpc(&app, "/mcp", Some(&at), json!("not a message")).await;
    assert!(res.status.is_client_error(), "{}: {}", res.status, res.body);
    let res = rpc(
        &app,
        "/mcp",
        Some(&at),
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
    )
    .await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
}

/// Reads one HTTP/1.1 response (headers and a `Content-Length` body) from `sock`: its status.
async fn read_response(sock: &mut (impl tokio::io::AsyncRead + Unpin)) -> Option<u16> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    head.split_whitespace().nth(1)?.parse().ok()
}

/// MCP clients send their first request without a token and retry on the same connection right
/// after the 401: the refusal must leave that connection usable, body and all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_request_leaves_its_connection_usable() {
    use tokio::io::AsyncWriteExt;
    let (_app, base) = TestApp::served(migration::test_db::sqlite().await.unwrap(), &[]).await;
    let addr = base.strip_prefix("http://").unwrap().to_string();
    let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // A body larger than one read, as a client's initialize with its capabilities can be.
    let body = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": { "padding": "x".repeat(256 * 1024) },
    })
    .to_string();
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    // Written while the answer is read: a server that doesn't read the body would stall us.
    let (mut reader, mut writer) = sock.split();
    let (written, status) = tokio::join!(
        writer.write_all(request.as_bytes()),
        read_response(&mut reader)
    );
    assert_eq!(status, Some(401));
    written.unwrap();
    sock.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(
        read_response(&mut sock).await,
        Some(200),
        "the connection was closed"
    );
}
