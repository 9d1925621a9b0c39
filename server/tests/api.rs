//! The REST API under /api/v1 through the real router: PAT and session authentication, the
//! session's CSRF proof, roles read live, other orgs' ids, token disable/enable/revoke and
//! their effect at the MCP endpoint, policy validation, the OpenAPI document and the docs
//! page. Every test runs on SQLite, and on PostgreSQL when GATEHOUSE_TEST_POSTGRES_URL is set.

mod support;

use migration::on_both_backends;

use app::domain::entities::{audit_event, membership};
use app::domain::oauth::token_format::SecretKind;
use app::domain::oauth::tokens::{self, TokenSpec};
use app::domain::{RequestMeta, Services};
use app::model::Role;
use axum::body::Body;
use http::{Method, Request, StatusCode, header};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use support::flow::{MCP, connect, signed_in_with_org};
use support::{Browser, PASSWORD, Response, TestApp, org, user_id};
use uuid::Uuid;

on_both_backends!(
    without_credentials_every_endpoint_is_401,
    an_admin_pat_reads_everything_and_me_says_who,
    writes_need_mcp_write_and_roles_are_read_live,
    other_orgs_ids_are_not_found_and_nothing_changes,
    disable_enable_and_revoke_take_effect_at_the_mcp_endpoint,
    the_token_list_filters_and_pages,
    the_session_works_and_writes_need_its_csrf_token,
    policy_patches_are_validated_field_by_field,
    single_sign_on_is_set_up_read_and_removed_with_a_write_only_secret,
    openapi_json_is_3_1_and_lists_every_path,
    the_docs_page_and_its_assets_are_served_here,
    unknown_endpoints_and_methods_are_json_errors,
    switching_mcp_off_leaves_the_api_open_and_personal_tokens_off_closes_it,
);

const ENDPOINTS: [(&str, &str); 20] = [
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/tokens"),
    (
        "POST",
        "/api/v1/tokens/00000000-0000-0000-0000-000000000000/disable",
    ),
    (
        "POST",
        "/api/v1/tokens/00000000-0000-0000-0000-000000000000/enable",
    ),
    (
        "DELETE",
        "/api/v1/tokens/00000000-0000-0000-0000-000000000000",
    ),
    ("GET", "/api/v1/oauth-clients"),
    ("GET", "/api/v1/oauth-clients/some-client"),
    ("GET", "/api/v1/org/policy"),
    ("PATCH", "/api/v1/org/policy"),
    ("GET", "/api/v1/org/sso"),
    ("PUT", "/api/v1/org/sso"),
    ("DELETE", "/api/v1/org/sso"),
    ("GET", "/api/v1/members"),
    ("GET", "/api/v1/org/mcp-servers"),
    ("POST", "/api/v1/org/mcp-servers"),
    (
        "GET",
        "/api/v1/org/mcp-servers/00000000-0000-0000-0000-000000000000",
    ),
    (
        "PUT",
        "/api/v1/org/mcp-servers/00000000-0000-0000-0000-000000000000",
    ),
    (
        "DELETE",
        "/api/v1/org/mcp-servers/00000000-0000-0000-0000-000000000000",
    ),
    (
        "POST",
        "/api/v1/org/mcp-servers/00000000-0000-0000-0000-000000000000/refresh",
    ),
    (
        "PUT",
        "/api/v1/org/mcp-servers/00000000-0000-0000-0000-000000000000/tools/some-tool",
    ),
];

fn services(app: &TestApp) -> Services {
    app.services.clone()
}

/// Signs `email` up in a browser of their own and adds them to `slug` with `role`.
async fn member(app: &TestApp, email: &str, slug: &str, role: Role) -> Browser {
    let b = app.verified_browser(email).await;
    let o = org(app, slug).await;
    let admin = membership::Entity::find()
        .filter(membership::Column::OrgId.eq(o.id))
        .filter(membership::Column::Role.eq("admin"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .user_id;
    let e = app::domain::validate::Email::parse(email).unwrap();
    app::domain::invitations::add_by_email(
        &services(app),
        admin,
        &o,
        &e,
        role,
        &RequestMeta::default(),
    )
    .await
    .unwrap();
    b
}

async fn set_role(app: &TestApp, email: &str, slug: &str, role: Role) {
    let o = org(app, slug).await;
    let uid = user_id(app, email).await;
    let m = membership::Entity::find()
        .filter(membership::Column::OrgId.eq(o.id))
        .filter(membership::Column::UserId.eq(uid))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let admin = user_id(app, "ada@example.com").await;
    app::domain::members::change_role(
        &app.services,
        admin,
        &o,
        m.id,
        role,
        &RequestMeta::default(),
    )
    .await
    .unwrap();
}

/// A standard PAT of `email` in `slug` with `scope`: (secret, token id).
async fn pat(app: &TestApp, email: &str, slug: &str, scope: &str) -> (String, Uuid) {
    let (secret, row) = tokens::issue(
        &app.db,
        SecretKind::PersonalToken,
        Some(chrono::Duration::days(30)),
        &TokenSpec {
            user_id: user_id(app, email).await,
            org_id: org(app, slug).await.id,
            client_id: None,
            connection_id: None,
            family_id: None,
            parent_id: None,
            scope,
            resource: None,
            name: Some(format!("{email} script")),
        },
    )
    .await
    .unwrap();
    (secret, row.id)
}

/// Waits until the token's use is recorded (`last_used_at`, written off the request path).
async fn used(app: &TestApp, id: Uuid) {
    for _ in 0..100 {
        let t = app::domain::entities::token::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        if t.last_used_at.is_some() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the token's use was never recorded");
}

/// How a test request authenticates.
enum Auth<'a> {
    None,
    Pat(&'a str),
    /// The browser's cookie, with this X-CSRF-Token (if any).
    Session(&'a mut Browser, Option<&'a str>),
}

async fn api(
    app: &TestApp,
    method: &str,
    path: &str,
    auth: Auth<'_>,
    body: Option<Value>,
) -> Response {
    let mut req = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(path)
        .header(header::ACCEPT, "application/json");
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let body = body
        .map(|b| Body::from(b.to_string()))
        .unwrap_or_else(Body::empty);
    match auth {
        Auth::None => app.call(req.body(body).unwrap()).await,
        Auth::Pat(t) => {
            app.call(
                req.header(header::AUTHORIZATION, format!("Bearer {t}"))
                    .body(body)
                    .unwrap(),
            )
            .await
        }
        Auth::Session(b, csrf) => {
            if let Some(c) = csrf {
                req = req.header("x-csrf-token", c);
            }
            let req = b.with_cookie(req).body(body).unwrap();
            b.send(req).await
        }
    }
}

fn assert_error(res: &Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status, status, "{}", res.body);
    assert!(
        res.header("content-type")
            .unwrap_or("")
            .starts_with("application/json"),
        "{:?}",
        res.headers
    );
    let v = res.json();
    assert_eq!(v["error"], code, "{v}");
    assert!(
        v["message"].as_str().is_some_and(|m| m.len() > 10),
        "a message in words: {v}"
    );
    v
}

/// The MCP `whoami` tool at /o/{slug}/mcp with a bearer token: the status code.
async fn mcp_status(app: &TestApp, slug: &str, token: &str) -> StatusCode {
    support::flow::tools_call(app, &format!("/o/{slug}/mcp"), token, "whoami")
        .await
        .status
}

async fn app_on(db: DatabaseConnection) -> TestApp {
    TestApp::with_db(db, &[]).await
}

async fn without_credentials_every_endpoint_is_401(db: DatabaseConnection) {
    let app = app_on(db).await;
    signed_in_with_org(&app, "ada@example.com", "acme").await;
    for (method, path) in ENDPOINTS {
        let res = api(&app, method, path, Auth::None, None).await;
        assert_error(&res, StatusCode::UNAUTHORIZED, "unauthorized");
        assert_eq!(
            res.header("www-authenticate"),
            Some(r#"Bearer realm="Gatehouse API""#),
            "{method} {path}"
        );
        assert_eq!(res.header("cache-control"), Some("no-store"));
    }
    // A bad token, another scheme, or an empty one: invalid_token, with the reason.
    let res = api(
        &app,
        "GET",
        "/api/v1/me",
        Auth::Pat("gate_pat_nonsense"),
        None,
    )
    .await;
    let v = assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .contains(r#"error="invalid_token""#)
    );
    assert!(!v["message"].as_str().unwrap().contains("nonsense"));
    let res = app
        .call(
            Request::get("/api/v1/me")
                .header(header::AUTHORIZATION, "Basic YWRhOnB3")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    // A signed-out browser is not a session.
    let mut anon = app.browser();
    anon.get("/login").await;
    let res = api(
        &app,
        "GET",
        "/api/v1/tokens",
        Auth::Session(&mut anon, None),
        None,
    )
    .await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "unauthorized");
}

async fn an_admin_pat_reads_everything_and_me_says_who(db: DatabaseConnection) {
    let app = app_on(db).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let (secret, id) = pat(&app, "ada@example.com", "acme", "mcp:read").await;
    // An MCP OAuth PAT in the org too (an OAuth client connected by ada).
    let t = connect(&app, &mut ada, MCP, "mcp:read mcp:write", "acme").await;
    let client_id = t["client_id"].as_str().unwrap().to_string();

    let res = api(&app, "GET", "/api/v1/me", Auth::Pat(&secret), None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let me = res.json();
    assert_eq!(me["user"]["email"], "ada@example.com");
    assert_eq!(me["organization"]["slug"], "acme");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["authenticated_with"], "pat");
    assert_eq!(me["token"]["id"], json!(id));
    assert_eq!(me["token"]["scopes"], json!(["mcp:read"]));
    assert_eq!(me["csrf_token"], Value::Null);

    let res = api(&app, "GET", "/api/v1/tokens", Auth::Pat(&secret), None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let list = res.json();
    assert_eq!(list["total"], 2, "{list}");
    assert_eq!(
        (list["page"].as_u64(), list["pages"].as_u64()),
        (Some(1), Some(1))
    );
    let tokens = list["tokens"].as_array().unwrap();
    let mine = tokens.iter().find(|t| t["id"] == json!(id)).unwrap();
    assert_eq!(mine["kind"], "pat");
    assert_eq!(mine["status"], "active");
    assert_eq!(mine["owner_email"], "ada@example.com");
    assert!(mine["hint"].as_str().unwrap().starts_with("gate_pat_"));
    assert!(!res.body.contains(&secret), "never the secret");
    let oauth = tokens
        .iter()
        .find(|t| t["kind"] == "mcp_oauth_pat")
        .unwrap();
    assert_eq!(oauth["client_id"], json!(client_id));
    assert_eq!(oauth["scope"], "mcp:read mcp:write");

    let res = api(
        &app,
        "GET",
        "/api/v1/oauth-clients",
        Auth::Pat(&secret),
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let clients = res.json();
    assert_eq!(clients["clients"][0]["client_id"], json!(client_id));
    assert_eq!(clients["clients"][0]["source"], "dynamic");
    assert_eq!(clients["clients"][0]["active_connections"], 1);

    let res = api(
        &app,
        "GET",
        &format!("/api/v1/oauth-clients/{client_id}"),
        Auth::Pat(&secret),
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let d = res.json();
    assert_eq!(d["client_id"], json!(client_id));
    assert_eq!(d["redirect_uris"], json!([support::flow::CB]));
    assert_eq!(d["token_endpoint_auth_method"], "none");
    assert_eq!(d["connections"][0]["user_email"], "ada@example.com");
    assert_eq!(d["connections"][0]["id"], oauth["id"]);

    let res = api(&app, "GET", "/api/v1/org/policy", Auth::Pat(&secret), None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let p = res.json();
    assert_eq!(p["mcp_enabled"], true);
    assert!(p["pat_max_ttl_days"].as_i64().unwrap() >= 1);

    let res = api(&app, "GET", "/api/v1/members", Auth::Pat(&secret), None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let m = res.json();
    assert_eq!(m["members"][0]["email"], "ada@example.com");
    assert_eq!(m["members"][0]["role"], "admin");
    assert_eq!(m["members"][0]["is_you"], true);

    // An MCP OAuth access token is not a key to this API.
    let access = t["access_token"].as_str().unwrap();
    let res = api(&app, "GET", "/api/v1/me", Auth::Pat(access), None).await;
    let v = assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("personal access token"),
        "{v}"
    );
}

async fn writes_need_mcp_write_and_roles_are_read_live(db: DatabaseConnection) {
    let app = app_on(db).await;
    signed_in_with_org(&app, "ada@example.com", "acme").await;
    member(&app, "quinn@example.com", "acme", Role::Querier).await;
    let (read_only, ro_id) = pat(&app, "ada@example.com", "acme", "mcp:read").await;
    let (quinn, _) = pat(&app, "quinn@example.com", "acme", "mcp:read mcp:write").await;

    // A read-only token of an admin: reads yes, every write refused with the scope it lacks.
    for (method, path, body) in [
        ("POST", format!("/api/v1/tokens/{ro_id}/disable"), None),
        ("POST", format!("/api/v1/tokens/{ro_id}/enable"), None),
        ("DELETE", format!("/api/v1/tokens/{ro_id}"), None),
        (
            "PATCH",
            "/api/v1/org/policy".to_string(),
            Some(json!({ "mcp_enabled": false })),
        ),
        ("PUT", "/api/v1/org/sso".to_string(), Some(sso_body())),
        ("DELETE", "/api/v1/org/sso".to_string(), None),
    ] {
        let res = api(&app, method, &path, Auth::Pat(&read_only), body).await;
        let v = assert_error(&res, StatusCode::FORBIDDEN, "insufficient_scope");
        assert!(v["message"].as_str().unwrap().contains("mcp:write"), "{v}");
        assert!(
            res.header("www-authenticate")
                .unwrap()
                .contains(r#"error="insufficient_scope", scope="mcp:write""#)
        );
    }
    assert!(org(&app, "acme").await.mcp_enabled, "nothing changed");
    let res = api(&app, "GET", "/api/v1/tokens", Auth::Pat(&read_only), None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json()["tokens"][0]["status"], "active");

    // A querier: who am I and the member list yes; admin calls are 403 in plain words.
    let res = api(&app, "GET", "/api/v1/me", Auth::Pat(&quinn), None).await;
    assert_eq!(res.json()["role"], "querier");
    let res = api(&app, "GET", "/api/v1/members", Auth::Pat(&quinn), None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json()["members"].as_array().unwrap().len(), 2);
    for (method, path) in ENDPOINTS
        .into_iter()
        .filter(|(_, p)| !p.ends_with("/me") && !p.ends_with("/members"))
    {
        let body = match method {
            "PATCH" => Some(json!({ "mcp_enabled": false })),
            "PUT" => Some(sso_body()),
            _ => None,
        };
        let res = api(&app, method, path, Auth::Pat(&quinn), body).await;
        let v = assert_error(&res, StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(
            v["message"],
            "Your role querier can't manage this organization; ask an admin of the organization for access.",
            "{method} {path}"
        );
    }

    // Promoted: admin calls work on the next request; demoted to viewer, even the member list
    // is refused.
    set_role(&app, "quinn@example.com", "acme", Role::Admin).await;
    let res = api(&app, "GET", "/api/v1/tokens", Auth::Pat(&quinn), None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    set_role(&app, "quinn@example.com", "acme", Role::Viewer).await;
    let res = api(&app, "GET", "/api/v1/members", Auth::Pat(&quinn), None).await;
    assert_error(&res, StatusCode::FORBIDDEN, "forbidden");
    let res = api(&app, "GET", "/api/v1/me", Auth::Pat(&quinn), None).await;
    assert_eq!(res.json()["role"], "viewer");
}

async fn other_orgs_ids_are_not_found_and_nothing_changes(db: DatabaseConnection) {
    let app = app_on(db).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    signed_in_with_org(&app, "bob@example.com", "other").await;
    let (_, ada_pat) = pat(&app, "ada@example.com", "acme", "mcp:read").await;
    let t = connect(&app, &mut ada, MCP, "mcp:read", "acme").await;
    let acme_client = t["client_id"].as_str().unwrap().to_string();
    let (bob, _) = pat(&app, "bob@example.com", "other", "mcp:read mcp:write").await;

    let not_found = "There is no such token in this organization.";
    for (method, path) in [
        ("POST", format!("/api/v1/tokens/{ada_pat}/disable")),
        ("POST", format!("/api/v1/tokens/{ada_pat}/enable")),
        ("DELETE", format!("/api/v1/tokens/{ada_pat}")),
        ("DELETE", format!("/api/v1/tokens/{}", Uuid::now_v7())),
        ("DELETE", "/api/v1/tokens/not-an-id".to_string()),
    ] {
        let res = api(&app, method, &path, Auth::Pat(&bob), None).await;
        let v = assert_error(&res, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(v["message"], not_found, "{method} {path}");
    }
    let res = api(
        &app,
        "GET",
        &format!("/api/v1/oauth-clients/{acme_client}"),
        Auth::Pat(&bob),
        None,
    )
    .await;
    let v = assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    assert!(!v["message"].as_str().unwrap().contains("acme"), "{v}");
    // Bob's lists show his org only.
    let res = api(&app, "GET", "/api/v1/tokens", Auth::Pat(&bob), None).await;
    assert_eq!(res.json()["total"], 1);
    let res = api(&app, "GET", "/api/v1/oauth-clients", Auth::Pat(&bob), None).await;
    assert_eq!(res.json()["total"], 0);
    // Ada's token is untouched.
    let res = api(
        &app,
        "GET",
        "/api/v1/tokens?kind=pat",
        Auth::Session(&mut ada, None),
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["tokens"][0]["status"], "active");
}

async fn disable_enable_and_revoke_take_effect_at_the_mcp_endpoint(db: DatabaseConnection) {
    let app = app_on(db).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    member(&app, "quinn@example.com", "acme", Role::Querier).await;
    let (admin, _) = pat(&app, "ada@example.com", "acme", "mcp:read mcp:write").await;
    let (quinn, qid) = pat(&app, "quinn@example.com", "acme", "mcp:read").await;
    assert_eq!(mcp_status(&app, "acme", &quinn).await, StatusCode::OK);

    let res = api(
        &app,
        "POST",
        &format!("/api/v1/tokens/{qid}/disable"),
        Auth::Pat(&admin),
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["status"], "disabled");
    assert_eq!(
        mcp_status(&app, "acme", &quinn).await,
        StatusCode::UNAUTHORIZED
    );
    let res = api(&app, "GET", "/api/v1/me", Auth::Pat(&quinn), None).await;
    let v = assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    assert_eq!(v["message"], "An admin disabled this token.");
    // Twice changes nothing.
    let res = api(
        &app,
        "POST",
        &format!("/api/v1/tokens/{qid}/disable"),
        Auth::Pat(&admin),
        None,
    )
    .await;
    assert_eq!(res.json()["status"], "disabled");

    let res = api(
        &app,
        "POST",
        &format!("/api/v1/tokens/{qid}/enable"),
        Auth::Pat(&admin),
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["status"], "active");
    assert_eq!(mcp_status(&app, "acme", &quinn).await, StatusCode::OK);

    let res = api(
        &app,
        "DELETE",
        &format!("/api/v1/tokens/{qid}"),
        Auth::Pat(&admin),
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["status"], "revoked");
    assert_eq!(
        mcp_status(&app, "acme", &quinn).await,
        StatusCode::UNAUTHORIZED
    );
    let res = api(
        &app,
        "DELETE",
        &format!("/api/v1/tokens/{qid}"),
        Auth::Pat(&admin),
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "revoking twice is fine");
    let res = api(
        &app,
        "POST",
        &format!("/api/v1/tokens/{qid}/enable"),
        Auth::Pat(&admin),
        None,
    )
    .await;
    assert_error(&res, StatusCode::CONFLICT, "conflict");

    // An MCP OAuth PAT (a connection) is disabled and revoked the same way.
    let t = connect(&app, &mut ada, MCP, "mcp:read", "acme").await;
    let access = t["access_token"].as_str().unwrap().to_string();
    let list = api(
        &app,
        "GET",
        "/api/v1/tokens?kind=mcp_oauth_pat",
        Auth::Pat(&admin),
        None,
    )
    .await
    .json();
    let cid = list["tokens"][0]["id"].as_str().unwrap().to_string();
    let res = api(
        &app,
        "POST",
        &format!("/api/v1/tokens/{cid}/disable"),
        Auth::Pat(&admin),
        None,
    )
    .await;
    assert_eq!(res.json()["status"], "disabled", "{}", res.body);
    let res = app
        .call(
            Request::post("/mcp")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ACCEPT, "application/json, text/event-stream")
                .header(header::AUTHORIZATION, format!("Bearer {access}"))
                .body(Body::from(
                    r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.body);
    let res = api(
        &app,
        "DELETE",
        &format!("/api/v1/tokens/{cid}"),
        Auth::Pat(&admin),
        None,
    )
    .await;
    assert_eq!(res.json()["status"], "revoked", "{}", res.body);

    // Each change is in the audit log, with the admin as its actor.
    let acme_id = org(&app, "acme").await.id;
    let actions: Vec<String> = audit_event::Entity::find()
        .filter(audit_event::Column::OrgId.eq(acme_id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in ["pat.disabled", "pat.enabled", "pat.revoked"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}

async fn the_token_list_filters_and_pages(db: DatabaseConnection) {
    let app = app_on(db).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    member(&app, "quinn@example.com", "acme", Role::Querier).await;
    let (admin, _) = pat(&app, "ada@example.com", "acme", "mcp:read mcp:write").await;
    let (_, qid) = pat(&app, "quinn@example.com", "acme", "mcp:read").await;
    connect(&app, &mut ada, MCP, "mcp:read", "acme").await;
    api(
        &app,
        "POST",
        &format!("/api/v1/tokens/{qid}/disable"),
        Auth::Pat(&admin),
        None,
    )
    .await;
    let quid = user_id(&app, "quinn@example.com").await;

    let ids = |res: &Response| -> Vec<(String, String)> {
        res.json()["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["kind"].as_str().unwrap().into(),
                    t["owner_email"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let get = |q: String| {
        let app = &app;
        let admin = admin.clone();
        async move {
            api(
                app,
                "GET",
                &format!("/api/v1/tokens{q}"),
                Auth::Pat(&admin),
                None,
            )
            .await
        }
    };
    let all = get(String::new()).await;
    assert_eq!(all.json()["total"], 3, "{}", all.body);
    let res = get("?kind=mcp_oauth_pat".into()).await;
    assert_eq!(
        ids(&res),
        vec![("mcp_oauth_pat".to_string(), "ada@example.com".to_string())]
    );
    let res = get("?user=QUINN".into()).await;
    assert_eq!(
        ids(&res),
        vec![("pat".to_string(), "quinn@example.com".to_string())]
    );
    let res = get(format!("?user={quid}")).await;
    assert_eq!(res.json()["total"], 1);
    let res = get("?status=disabled".into()).await;
    assert_eq!(
        ids(&res),
        vec![("pat".to_string(), "quinn@example.com".to_string())]
    );
    let res = get("?status=active&kind=pat".into()).await;
    assert_eq!(
        ids(&res),
        vec![("pat".to_string(), "ada@example.com".to_string())]
    );
    // A page past the end answers the last one.
    let res = get("?page=2".into()).await;
    assert_eq!(res.status, StatusCode::OK);
    let v = res.json();
    assert_eq!(
        (
            v["page"].as_u64(),
            v["pages"].as_u64(),
            v["per_page"].as_u64()
        ),
        (Some(1), Some(1), Some(50))
    );
    assert_eq!(v["tokens"].as_array().unwrap().len(), 3);

    for (q, field) in [
        ("?kind=api_key", "kind"),
        ("?status=paused", "status"),
        ("?page=0", "page"),
        ("?page=x", "page"),
    ] {
        let res = get(q.into()).await;
        let v = assert_error(&res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(v["field"], field, "{q}: {v}");
    }
    let res = api(
        &app,
        "GET",
        "/api/v1/oauth-clients?source=nope",
        Auth::Pat(&admin),
        None,
    )
    .await;
    let v = assert_error(&res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(v["field"], "source");
    let res = api(
        &app,
        "GET",
        "/api/v1/oauth-clients?source=dynamic&blocked=no&q=test",
        Auth::Pat(&admin),
        None,
    )
    .await;
    assert_eq!(res.json()["total"], 1, "{}", res.body);
}

async fn the_session_works_and_writes_need_its_csrf_token(db: DatabaseConnection) {
    let app = app_on(db).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let (_, id) = pat(&app, "ada@example.com", "acme", "mcp:read").await;

    let res = api(
        &app,
        "GET",
        "/api/v1/me",
        Auth::Session(&mut ada, None),
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let me = res.json();
    assert_eq!(me["authenticated_with"], "session");
    assert_eq!(me["organization"]["slug"], "acme");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["token"], Value::Null);
    let csrf = me["csrf_token"].as_str().unwrap().to_string();
    // The same proof the pages put in their forms.
    assert_eq!(csrf, ada.get("/account").await.csrf());

    let res = api(
        &app,
        "GET",
        "/api/v1/tokens",
        Auth::Session(&mut ada, None),
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["total"], 1);

    // Writes without the proof, or with a wrong one, change nothing.
    let disable = format!("/api/v1/tokens/{id}/disable");
    let res = api(&app, "POST", &disable, Auth::Session(&mut ada, None), None).await;
    let v = assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");
    assert!(
        v["message"].as_str().unwrap().contains("X-CSRF-Token"),
        "{v}"
    );
    let res = api(
        &app,
        "POST",
        &disable,
        Auth::Session(&mut ada, Some("forged")),
        None,
    )
    .await;
    assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");
    let res = api(
        &app,
        "PATCH",
        "/api/v1/org/policy",
        Auth::Session(&mut ada, None),
        Some(json!({ "mcp_enabled": false })),
    )
    .await;
    assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");
    assert!(org(&app, "acme").await.mcp_enabled);
    let res = api(
        &app,
        "GET",
        "/api/v1/tokens",
        Auth::Session(&mut ada, None),
        None,
    )
    .await;
    assert_eq!(res.json()["tokens"][0]["status"], "active");

    // With it, they go through.
    let res = api(
        &app,
        "POST",
        &disable,
        Auth::Session(&mut ada, Some(&csrf)),
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["status"], "disabled");
    let res = api(
        &app,
        "PATCH",
        "/api/v1/org/policy",
        Auth::Session(&mut ada, Some(&csrf)),
        Some(json!({ "dynamic_registration_enabled": false })),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["dynamic_registration_enabled"], false);

    // Another browser's proof is not this session's.
    let mut bob = signed_in_with_org(&app, "bob@example.com", "bobs").await;
    let bob_csrf = api(
        &app,
        "GET",
        "/api/v1/me",
        Auth::Session(&mut bob, None),
        None,
    )
    .await
    .json()["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    let res = api(
        &app,
        "DELETE",
        &format!("/api/v1/tokens/{id}"),
        Auth::Session(&mut ada, Some(&bob_csrf)),
        None,
    )
    .await;
    assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");

    // The session's org is the one chosen in it; a viewer there is refused.
    member(&app, "vic@example.com", "acme", Role::Viewer).await;
    let mut vic = app.browser();
    vic.log_in("vic@example.com", PASSWORD).await;
    let res = api(
        &app,
        "GET",
        "/api/v1/tokens",
        Auth::Session(&mut vic, None),
        None,
    )
    .await;
    assert_error(&res, StatusCode::FORBIDDEN, "forbidden");

    // Signed out: the cookie is worth nothing.
    ada.submit("/", "/logout", &[]).await;
    let res = api(
        &app,
        "GET",
        "/api/v1/tokens",
        Auth::Session(&mut ada, None),
        None,
    )
    .await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "unauthorized");
}

/// A whole single sign-on connection for an admin at example.com.
fn sso_body() -> Value {
    json!({
        "issuer": "https://login.example.com/realms/acme",
        "client_id": "gatehouse",
        "client_secret": "the-providers-secret",
        "domains": ["example.com"],
        "default_role": "querier",
        "require_sso": false,
        "enabled": true,
    })
}

async fn single_sign_on_is_set_up_read_and_removed_with_a_write_only_secret(
    db: DatabaseConnection,
) {
    let app = app_on(db).await;
    let mut ada = support::flow::verified_with_org(&app, "ada@example.com", "acme").await;
    let (admin, _) = pat(&app, "ada@example.com", "acme", "mcp:read mcp:write").await;
    let acme = org(&app, "acme").await;
    let sso = |method: &'static str, body: Option<Value>| {
        let admin = admin.clone();
        let app = &app;
        async move { api(app, method, "/api/v1/org/sso", Auth::Pat(&admin), body).await }
    };
    let sealed = || async {
        app::domain::entities::sso_connection::Entity::find_by_id(acme.id)
            .one(&app.db)
            .await
            .unwrap()
            .map(|c| c.client_secret_sealed)
    };

    assert_error(&sso("GET", None).await, StatusCode::NOT_FOUND, "not_found");
    assert_error(
        &sso("DELETE", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // Bad values: 422 naming the field, nothing saved.
    let mut no_secret = sso_body();
    no_secret.as_object_mut().unwrap().remove("client_secret");
    for (body, field) in [
        (no_secret.clone(), "client_secret"),
        (json!({ "issuer": "http://login.example.com" }), "issuer"),
        (json!({ "domains": ["victim.example"] }), "domains"),
        (json!({ "domains": [] }), "domains"),
        (json!({ "default_role": "admin" }), "default_role"),
    ] {
        let body = match field {
            "client_secret" => body,
            _ => merged(sso_body(), body),
        };
        let res = sso("PUT", Some(body.clone())).await;
        let v = assert_error(&res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(v["field"], field, "{body}: {v}");
    }
    let res = sso("PUT", Some(merged(sso_body(), json!({ "secret": "x" })))).await;
    assert_error(&res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(sealed().await, None);

    // Saved: the answer has everything but the secret, and the redirect URI to register.
    let res = sso("PUT", Some(sso_body())).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let saved = res.json();
    assert_eq!(saved["issuer"], "https://login.example.com/realms/acme");
    assert_eq!(saved["domains"], json!(["example.com"]));
    assert_eq!(saved["default_role"], "querier");
    assert_eq!(
        saved["redirect_uri"],
        "http://127.0.0.1:3000/login/sso/callback"
    );
    assert!(!res.body.contains("the-providers-secret"));
    assert!(saved.get("client_secret").is_none());
    let res = sso("GET", None).await;
    assert_eq!(res.json(), saved);
    let stored = sealed().await.unwrap();
    assert!(!stored.contains("the-providers-secret"));

    // Without a secret the stored one is kept; with one, it is replaced.
    let res = sso(
        "PUT",
        Some(merged(no_secret, json!({ "require_sso": true }))),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["require_sso"], true);
    assert_eq!(sealed().await.unwrap(), stored);
    let res = sso("PUT", Some(sso_body())).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_ne!(sealed().await.unwrap(), stored);

    // The browser session needs its CSRF token to change it.
    let res = api(
        &app,
        "DELETE",
        "/api/v1/org/sso",
        Auth::Session(&mut ada, None),
        None,
    )
    .await;
    assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");
    assert!(sealed().await.is_some());

    let res = sso("DELETE", None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    assert_eq!(sealed().await, None);
    assert_error(&sso("GET", None).await, StatusCode::NOT_FOUND, "not_found");
    for (action, n) in [
        ("org.sso.created", 1),
        ("org.sso.updated", 2),
        ("org.sso.removed", 1),
    ] {
        assert_eq!(support::audit_count(&app.db, action).await, n, "{action}");
    }
}

/// `base` with `changes`' fields put over it.
fn merged(mut base: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

async fn policy_patches_are_validated_field_by_field(db: DatabaseConnection) {
    let app = app_on(db).await;
    signed_in_with_org(&app, "ada@example.com", "acme").await;
    let (admin, admin_id) = pat(&app, "ada@example.com", "acme", "mcp:read mcp:write").await;
    let before = api(&app, "GET", "/api/v1/org/policy", Auth::Pat(&admin), None)
        .await
        .json();

    for (body, field) in [
        (
            json!({ "access_token_ttl_secs": 10 }),
            "access_token_ttl_secs",
        ),
        (
            json!({ "refresh_token_ttl_secs": 60 }),
            "refresh_token_ttl_secs",
        ),
        (json!({ "pat_max_ttl_days": 0 }), "pat_max_ttl_days"),
        (
            json!({ "allowed_redirect_hosts": ["https://claude.ai/cb"] }),
            "allowed_redirect_hosts",
        ),
        (
            json!({ "mcp_enabled": false, "pat_max_ttl_days": 5000 }),
            "pat_max_ttl_days",
        ),
        (json!({}), "policy"),
    ] {
        let res = api(
            &app,
            "PATCH",
            "/api/v1/org/policy",
            Auth::Pat(&admin),
            Some(body.clone()),
        )
        .await;
        let v = assert_error(&res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(v["field"], field, "{body}: {v}");
    }
    // Unknown fields and wrong types are 422 too; bad JSON is 400, no JSON type 415.
    let res = api(
        &app,
        "PATCH",
        "/api/v1/org/policy",
        Auth::Pat(&admin),
        Some(json!({ "mcp_enable": false })),
    )
    .await;
    let v = assert_error(&res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(v["message"].as_str().unwrap().contains("mcp_enable"), "{v}");
    let res = api(
        &app,
        "PATCH",
        "/api/v1/org/policy",
        Auth::Pat(&admin),
        Some(json!({ "mcp_enabled": "no" })),
    )
    .await;
    assert_error(&res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let raw = |ct: Option<&str>, body: Vec<u8>| {
        let mut req = Request::patch("/api/v1/org/policy")
            .header(header::AUTHORIZATION, format!("Bearer {admin}"));
        if let Some(ct) = ct {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        req.body(Body::from(body)).unwrap()
    };
    let res = app
        .call(raw(
            Some("application/json"),
            b"{\"mcp_enabled\": tru".to_vec(),
        ))
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_request");
    let res = app
        .call(raw(None, b"{\"mcp_enabled\": true}".to_vec()))
        .await;
    assert_error(
        &res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let mut big = b"{\"allowed_redirect_hosts\": [".to_vec();
    big.extend(std::iter::repeat_n(b"\"a.example\",".as_slice(), 10_000).flatten());
    big.extend(b"\"b.example\"]}");
    let res = app.call(raw(Some("application/json"), big)).await;
    assert_error(&res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let after = api(&app, "GET", "/api/v1/org/policy", Auth::Pat(&admin), None)
        .await
        .json();
    assert_eq!(before, after, "nothing changed");

    // The token's first use was recorded in the background; let that write land first (on
    // SQLite a write committed in the middle of the policy transaction makes it fail).
    used(&app, admin_id).await;

    // A good change applies only the named fields and takes effect at once.
    let res = api(
        &app,
        "PATCH",
        "/api/v1/org/policy",
        Auth::Pat(&admin),
        Some(
            json!({ "pat_max_ttl_days": 90, "allowed_redirect_hosts": ["Claude.AI", "cursor://anysphere.cursor-mcp"] }),
        ),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let p = res.json();
    assert_eq!(p["pat_max_ttl_days"], 90);
    assert_eq!(
        p["allowed_redirect_hosts"],
        json!(["https://claude.ai", "cursor://anysphere.cursor-mcp"])
    );
    assert_eq!(p["mcp_enabled"], before["mcp_enabled"]);
    assert_eq!(org(&app, "acme").await.pat_max_ttl_days, 90);
    // Personal tokens off: this very token is refused on the next call, in seed 000's words.
    let res = api(
        &app,
        "PATCH",
        "/api/v1/org/policy",
        Auth::Pat(&admin),
        Some(json!({ "personal_tokens_enabled": false })),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = api(&app, "GET", "/api/v1/org/policy", Auth::Pat(&admin), None).await;
    let v = assert_error(&res, StatusCode::FORBIDDEN, "forbidden");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("Personal Access Tokens aren't enabled"),
        "{v}"
    );
}

async fn openapi_json_is_3_1_and_lists_every_path(db: DatabaseConnection) {
    let app = app_on(db).await;
    let res = api(&app, "GET", "/api/v1/openapi.json", Auth::None, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let doc = res.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "Gatehouse REST API");
    assert!(
        doc["info"]["description"]
            .as_str()
            .unwrap()
            .contains("X-CSRF-Token")
    );
    assert_eq!(doc["servers"][0]["url"], "http://127.0.0.1:3000");
    let paths = doc["paths"].as_object().unwrap();
    let mut listed: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(p, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), p.clone()))
        })
        .collect();
    listed.sort();
    let mut expected: Vec<(String, String)> = ENDPOINTS
        .iter()
        .map(|(m, p)| {
            let p = p
                .replace("00000000-0000-0000-0000-000000000000", "{id}")
                .replace("some-client", "{client_id}")
                .replace("some-tool", "{tool}");
            (m.to_string(), p)
        })
        .collect();
    expected.sort();
    assert_eq!(listed, expected);
    // Every operation has its own id, says how to authenticate, and every error is the one
    // error shape.
    let mut ids = std::collections::BTreeSet::new();
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            assert!(
                ids.insert(op["operationId"].as_str().unwrap().to_string()),
                "{method} {path}: operationId taken"
            );
            assert!(
                op["security"].as_array().is_some_and(|s| !s.is_empty()),
                "{method} {path}"
            );
            assert!(op["summary"].is_string(), "{method} {path}");
            assert_eq!(
                op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path}"
            );
        }
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["pat"],
        json!({ "type": "http", "scheme": "bearer", "bearerFormat": "gate_pat_…", "description": schemes["pat"]["description"] })
    );
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["session"]["name"], "gatehouse_session");
    assert_eq!(schemes["csrf"]["in"], "header");
    // Every $ref resolves.
    let text = res.body.clone();
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = part.split('"').next().unwrap();
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "unresolved $ref {name}"
        );
    }
}

async fn the_docs_page_and_its_assets_are_served_here(db: DatabaseConnection) {
    let app = app_on(db).await;
    let res = api(&app, "GET", "/api/v1/docs", Auth::None, None).await;
    assert_eq!(res.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(res.location(), Some("/api/v1/docs/"));
    let page = api(&app, "GET", "/api/v1/docs/", Auth::None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(
        !csp.contains("unsafe-eval") && !csp.contains("script-src 'self' 'unsafe-inline'"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert!(!page.body.contains("<script>"), "no inline script");
    assert!(
        !page.body.contains("http://") && !page.body.contains("https://"),
        "nothing from elsewhere"
    );
    // Every file the page names is served here.
    let mut names: Vec<&str> = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in page.body.split(attr).skip(1) {
            names.push(part.split('"').next().unwrap());
        }
    }
    for name in names {
        if name.starts_with('/') {
            continue; // the site's own files (favicon, the description)
        }
        let path = format!("/api/v1/docs/{name}");
        let res = api(&app, "GET", &path, Auth::None, None).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
        if path.ends_with(".js") {
            assert!(
                res.header("content-type").unwrap().contains("javascript"),
                "{path}"
            );
        }
    }
    let bundle = api(
        &app,
        "GET",
        "/api/v1/docs/swagger-ui-bundle.js",
        Auth::None,
        None,
    )
    .await;
    assert!(bundle.body.len() > 500_000, "the whole Swagger UI bundle");
    assert!(bundle.body.contains("SwaggerUIBundle"));
    let init = api(
        &app,
        "GET",
        "/api/v1/docs/gatehouse-docs.js",
        Auth::None,
        None,
    )
    .await;
    assert!(init.body.contains("/api/v1/openapi.json") && init.body.contains("X-CSRF-Token"));
    let res = api(&app, "GET", "/api/v1/docs/index.html.map", Auth::None, None).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
}

async fn unknown_endpoints_and_methods_are_json_errors(db: DatabaseConnection) {
    let app = app_on(db).await;
    signed_in_with_org(&app, "ada@example.com", "acme").await;
    let (admin, _) = pat(&app, "ada@example.com", "acme", "mcp:read mcp:write").await;
    for path in ["/api/v1/nope", "/api/v1", "/api/v1/tokens/a/b/c"] {
        let res = api(&app, "GET", path, Auth::Pat(&admin), None).await;
        assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    }
    let res = api(
        &app,
        "PUT",
        "/api/v1/org/policy",
        Auth::Pat(&admin),
        Some(json!({})),
    )
    .await;
    assert_error(&res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let res = api(&app, "POST", "/api/v1/tokens", Auth::Pat(&admin), None).await;
    assert_error(&res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

async fn switching_mcp_off_leaves_the_api_open_and_personal_tokens_off_closes_it(
    db: DatabaseConnection,
) {
    let app = app_on(db).await;
    signed_in_with_org(&app, "ada@example.com", "acme").await;
    let (token, _) = pat(&app, "ada@example.com", "acme", "mcp:read mcp:write").await;
    let patch = |body: Value| {
        api(
            &app,
            "PATCH",
            "/api/v1/org/policy",
            Auth::Pat(&token),
            Some(body),
        )
    };

    // MCP off: the MCP endpoint refuses the token, the API still takes it, so the admin can
    // switch MCP back on from a script.
    assert_eq!(
        patch(json!({ "mcp_enabled": false })).await.status,
        StatusCode::OK
    );
    assert_eq!(
        mcp_status(&app, "acme", &token).await,
        StatusCode::FORBIDDEN
    );
    let res = api(&app, "GET", "/api/v1/org/policy", Auth::Pat(&token), None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["mcp_enabled"], false);
    assert_eq!(
        patch(json!({ "mcp_enabled": true })).await.status,
        StatusCode::OK
    );
    assert_eq!(mcp_status(&app, "acme", &token).await, StatusCode::OK);

    // Personal tokens off: the API refuses every PAT with the words members know.
    assert_eq!(
        patch(json!({ "personal_tokens_enabled": false }))
            .await
            .status,
        StatusCode::OK
    );
    let res = api(&app, "GET", "/api/v1/me", Auth::Pat(&token), None).await;
    let v = assert_error(&res, StatusCode::FORBIDDEN, "forbidden");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("Personal Access Tokens aren't enabled"),
        "{v}"
    );
    assert!(!org(&app, "acme").await.personal_tokens_enabled);
}
