//! The door × denial table: every reason a credential is refused, sent through every door that
//! could let it through, through the real router. Each door answers in its own shape (a 401
//! challenge or a 403 at `/mcp`, a tool error, `invalid_grant` at the token endpoint,
//! `active: false` from introspection, the API's JSON error, a page), and wherever it shows a
//! reason it is the same words: the access decision's [`Denial`]. Runs on SQLite, and on
//! PostgreSQL when `GATEHOUSE_TEST_POSTGRES_URL` is set.

mod support;

use migration::on_both_backends;

use app::domain::access::Denial;
use app::domain::entities::{membership, org_client_block, token};
use app::domain::oauth::token_format::SecretKind;
use app::domain::oauth::tokens::{self, TokenSpec};
use app::domain::org_policy::{self, PolicyChange};
use app::domain::{RequestMeta, members, org_admin, users};
use app::model::Role;
use app::policy::Capability;
use axum::body::Body;
use http::{Request, StatusCode, header};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::json;
use support::flow::{self, connect, introspect_basic, org_resource_server, signed_in_with_org};
use support::{Browser, PASSWORD, TestApp, org, user_id};
use uuid::Uuid;

on_both_backends!(every_denial_through_every_door);

const ORG_MCP: &str = "http://127.0.0.1:3000/o/acme/mcp";
const MCP: &str = "http://127.0.0.1:3000/mcp";

/// What a door said.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Allowed,
    /// Refused with this status and these words.
    Refused(u16, String),
    /// Introspection: `{"active": false}` and nothing else.
    Inactive,
}

/// What the table expects of a door.
#[derive(Debug, Clone)]
enum Expect {
    Allowed,
    /// Refused with this status and exactly the denial's words.
    Denied(u16, Denial),
    /// Refused with this status, in words of the door's own that contain this.
    Says(u16, &'static str),
    Inactive,
    /// The door can't be reached this way (e.g. the browser session is over: the login page).
    SignIn,
}

/// Everything one row starts from: Ada administers acme; Bob is a member of it with an MCP
/// OAuth grant (at the org's endpoint and at `/mcp`), a standard PAT, and a browser session;
/// acme has a resource server.
struct World {
    app: TestApp,
    bob: Browser,
    client_id: String,
    org_access: String,
    instance_access: String,
    refresh: String,
    pat: String,
    pat_id: Uuid,
    connection_id: Uuid,
    rs: (String, String),
}

async fn world(db: DatabaseConnection, role: Role, scope: &str) -> World {
    let app = TestApp::with_db(db, &[]).await;
    signed_in_with_org(&app, "ada@example.com", "acme").await;
    let mut bob = app.browser();
    bob.sign_up("bob@example.com", PASSWORD).await;
    let acme = org(&app, "acme").await;
    let ada_id = user_id(&app, "ada@example.com").await;
    let bob_id = user_id(&app, "bob@example.com").await;
    let bob_row = users::find(&app.db, bob_id).await.unwrap().unwrap();
    members::add_user(
        &app.db,
        ada_id,
        &acme,
        &bob_row,
        Role::Querier,
        &RequestMeta::default(),
    )
    .await
    .unwrap();
    let t = connect(&app, &mut bob, ORG_MCP, scope, "acme").await;
    let client_id = t["client_id"].as_str().unwrap().to_string();
    let instance = connect(&app, &mut bob, MCP, scope, "acme").await;
    let connection_id = token_row(&app, t["access_token"].as_str().unwrap())
        .await
        .connection_id
        .unwrap();
    let (pat, row) = tokens::issue(
        &app.db,
        SecretKind::PersonalToken,
        Some(chrono::Duration::days(30)),
        &TokenSpec {
            user_id: bob_id,
            org_id: acme.id,
            client_id: None,
            connection_id: None,
            family_id: None,
            parent_id: None,
            scope,
            resource: None,
            name: Some("bob's script".into()),
        },
    )
    .await
    .unwrap();
    if role != Role::Querier {
        let m = membership::Entity::find()
            .filter(membership::Column::UserId.eq(bob_id))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        members::change_role(
            &app.services,
            ada_id,
            &acme,
            m.id,
            role,
            &RequestMeta::default(),
        )
        .await
        .unwrap();
    }
    let rs = org_resource_server(&app, "ada@example.com", "acme").await;
    World {
        app,
        bob,
        org_access: t["access_token"].as_str().unwrap().to_string(),
        instance_access: instance["access_token"].as_str().unwrap().to_string(),
        refresh: t["refresh_token"].as_str().unwrap().to_string(),
        client_id,
        pat,
        pat_id: row.id,
        connection_id,
        rs,
    }
}

async fn token_row(app: &TestApp, secret: &str) -> token::Model {
    tokens::find_by_secret(&app.db, secret)
        .await
        .unwrap()
        .unwrap()
}

// ---- the doors ----

/// A `tools/call` of `tool` at an MCP endpoint, as SDK clients send it.
async fn mcp(app: &TestApp, path: &str, token: &str, tool: &str) -> Verdict {
    let res = flow::tools_call(app, path, token, tool).await;
    if res.status != StatusCode::OK {
        let v = res.json();
        // A 401/403 names the reason in the body, and the 401 also in its challenge.
        if res.status == StatusCode::UNAUTHORIZED {
            let challenge = res.header("www-authenticate").unwrap_or_default();
            assert!(
                challenge.starts_with("Bearer resource_metadata="),
                "{challenge}"
            );
        }
        return Verdict::Refused(
            res.status.as_u16(),
            v["error_description"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    let v = res.json();
    match v["result"]["isError"].as_bool() {
        Some(true) => Verdict::Refused(
            200,
            v["result"]["content"][0]["text"]
                .as_str()
                .unwrap()
                .to_string(),
        ),
        _ => Verdict::Allowed,
    }
}

/// A REST API call with the PAT.
async fn api(app: &TestApp, method: &str, path: &str, token: &str) -> Verdict {
    let res = app
        .call(
            Request::builder()
                .method(method)
                .uri(path)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    if res.status.is_success() {
        return Verdict::Allowed;
    }
    Verdict::Refused(
        res.status.as_u16(),
        res.json()["message"].as_str().unwrap().to_string(),
    )
}

/// The refresh grant (optionally asking for `scope`); the rotated refresh token is kept.
async fn refresh(w: &mut World, scope: Option<&str>) -> Verdict {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", w.refresh.as_str()),
        ("client_id", w.client_id.as_str()),
    ];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    let res = w.app.post_form("/oauth/token", &form).await;
    if res.status == StatusCode::OK {
        w.refresh = res.json()["refresh_token"].as_str().unwrap().to_string();
        return Verdict::Allowed;
    }
    let v = res.json();
    assert_eq!(res.header("cache-control"), Some("no-store"));
    Verdict::Refused(
        res.status.as_u16(),
        format!(
            "{}: {}",
            v["error"].as_str().unwrap(),
            v["error_description"].as_str().unwrap()
        ),
    )
}

/// Introspection of `token` by the org's resource server.
async fn introspect(w: &World, token: &str) -> Verdict {
    let v = introspect_basic(&w.app, &w.rs.0, &w.rs.1, token).await;
    if v == json!({ "active": false }) {
        Verdict::Inactive
    } else {
        assert_eq!(v["active"], true, "{v}");
        Verdict::Allowed
    }
}

/// A new authorization of Bob's client for acme, with Bob's browser: the consent screen (or,
/// remembered, straight back to the app), or what refuses it.
async fn consent(w: &mut World) -> Verdict {
    let (challenge, _) = oauth2::PkceCodeChallenge::new_random_sha256();
    let q = support::flow::query(&[
        ("response_type", "code"),
        ("client_id", &w.client_id),
        ("redirect_uri", support::flow::CB),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("state", "s"),
        ("scope", "mcp:read"),
        ("resource", ORG_MCP),
    ]);
    let res = w.bob.get_raw(&format!("/oauth/authorize?{q}")).await;
    let to = res.location().unwrap_or_default().to_string();
    if to.starts_with("/login") {
        return Verdict::Refused(302, "sign in".into());
    }
    if to.starts_with(support::flow::CB) {
        return Verdict::Allowed;
    }
    let page = w.bob.get(&to).await;
    if page.status != StatusCode::OK {
        return Verdict::Refused(page.status.as_u16(), page.body);
    }
    // The org's line on the consent screen says why it can't be chosen, if it can't.
    match page.body.find("data-testid=\"policy-blocked\"") {
        Some(at) => Verdict::Refused(200, page.body[at..].chars().take(600).collect()),
        None => Verdict::Allowed,
    }
}

/// A console page in Bob's browser.
async fn console(w: &mut World, path: &str) -> Verdict {
    let page = w.bob.get(path).await;
    match page.status {
        StatusCode::OK => Verdict::Allowed,
        StatusCode::FOUND if page.location().is_some_and(|l| l.starts_with("/login")) => {
            Verdict::Refused(302, "sign in".into())
        }
        status => Verdict::Refused(status.as_u16(), page.body),
    }
}

/// The PAT's create form on `/settings/tokens`: its refusal, if any, is shown in place of it.
async fn pat_form(w: &mut World) -> Verdict {
    let page = w.bob.get("/settings/tokens").await;
    match page.body.find("data-testid=\"pat-refusal\"") {
        Some(at) => Verdict::Refused(200, page.body[at..].chars().take(600).collect()),
        None if page.status == StatusCode::OK => Verdict::Allowed,
        None => Verdict::Refused(page.status.as_u16(), page.body),
    }
}

/// The words as a page's text renders them (Leptos escapes `&`, `<` and `>` in text).
fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[track_caller]
fn check(row: &str, door: &str, got: &Verdict, want: &Expect) {
    let ok = match (got, want) {
        (Verdict::Allowed, Expect::Allowed) => true,
        (Verdict::Inactive, Expect::Inactive) => true,
        (Verdict::Refused(302, _), Expect::SignIn) => true,
        (Verdict::Refused(status, text), Expect::Denied(want_status, d)) => {
            let words = d.to_string();
            *status == *want_status
                && (text.contains(&words)
                    || text.contains(&html(&words))
                    || text.ends_with(&format!(": {words}")))
        }
        (Verdict::Refused(status, text), Expect::Says(want_status, words)) => {
            *status == *want_status && (text.contains(words) || text.contains(&html(words)))
        }
        _ => false,
    };
    assert!(ok, "{row} at {door}: got {got:?}, want {want:?}");
}

/// The doors of one row and what each must say.
struct Row {
    name: &'static str,
    mcp_org: Expect,
    mcp_instance: Expect,
    mcp_pat: Expect,
    api_pat: Expect,
    refresh: Expect,
    introspect_access: Expect,
    introspect_pat: Expect,
    consent: Expect,
    console: Expect,
}

async fn run(w: &mut World, row: Row, tool: &str, api_call: (&str, &str), console_page: &str) {
    let name = row.name;
    check(
        name,
        "/o/acme/mcp",
        &mcp(&w.app, "/o/acme/mcp", &w.org_access, tool).await,
        &row.mcp_org,
    );
    check(
        name,
        "/mcp",
        &mcp(&w.app, "/mcp", &w.instance_access, tool).await,
        &row.mcp_instance,
    );
    check(
        name,
        "/o/acme/mcp with a PAT",
        &mcp(&w.app, "/o/acme/mcp", &w.pat, tool).await,
        &row.mcp_pat,
    );
    check(
        name,
        "/api/v1",
        &api(&w.app, api_call.0, api_call.1, &w.pat).await,
        &row.api_pat,
    );
    check(name, "refresh grant", &refresh(w, None).await, &row.refresh);
    check(
        name,
        "introspection of the access token",
        &introspect(w, &w.org_access.clone()).await,
        &row.introspect_access,
    );
    check(
        name,
        "introspection of the PAT",
        &introspect(w, &w.pat.clone()).await,
        &row.introspect_pat,
    );
    check(name, "consent", &consent(w).await, &row.consent);
    let page = if console_page == "/settings/tokens" {
        pat_form(w).await
    } else {
        console(w, console_page).await
    };
    check(name, console_page, &page, &row.console);
}

async fn policy(w: &World, change: PolicyChange) {
    let acme = org(&w.app, "acme").await;
    let ada = user_id(&w.app, "ada@example.com").await;
    org_policy::update(
        &w.app.services,
        ada,
        acme.id,
        &change,
        &RequestMeta::default(),
    )
    .await
    .unwrap();
}

async fn every_denial_through_every_door(db: DatabaseConnection) {
    let fresh = || support::fresh_like(&db);
    use Expect::*;
    let acme_name = "acme".to_string();
    let any = || Allowed;

    // MCP server off: every MCP door and everything MCP OAuth; the REST API stays open.
    let mut w = world(fresh().await, Role::Querier, "mcp:read mcp:write").await;
    policy(
        &w,
        PolicyChange {
            mcp_enabled: Some(false),
            ..Default::default()
        },
    )
    .await;
    let d = Denial::McpDisabled {
        org_name: acme_name.clone(),
    };
    run(
        &mut w,
        Row {
            name: "MCP off",
            mcp_org: Denied(403, d.clone()),
            mcp_instance: Denied(403, d.clone()),
            mcp_pat: Denied(403, d.clone()),
            api_pat: any(),
            refresh: Denied(400, d.clone()),
            introspect_access: Inactive,
            introspect_pat: Allowed,
            consent: Denied(200, d.clone()),
            console: any(),
        },
        "whoami",
        ("GET", "/api/v1/me"),
        "/settings/tokens",
    )
    .await;

    // Personal tokens off: the PAT, wherever it is used; MCP OAuth is untouched.
    let mut w = world(fresh().await, Role::Querier, "mcp:read mcp:write").await;
    policy(
        &w,
        PolicyChange {
            personal_tokens_enabled: Some(false),
            ..Default::default()
        },
    )
    .await;
    let d = Denial::PersonalTokensDisabled {
        org_name: acme_name.clone(),
    };
    run(
        &mut w,
        Row {
            name: "personal tokens off",
            mcp_org: any(),
            mcp_instance: any(),
            mcp_pat: Denied(403, d.clone()),
            api_pat: Denied(403, d.clone()),
            refresh: any(),
            introspect_access: Allowed,
            introspect_pat: Inactive,
            consent: any(),
            console: Denied(200, d.clone()),
        },
        "whoami",
        ("GET", "/api/v1/me"),
        "/settings/tokens",
    )
    .await;

    // MCP OAuth PATs off: every door of the OAuth grant; standard PATs are untouched.
    let mut w = world(fresh().await, Role::Querier, "mcp:read mcp:write").await;
    policy(
        &w,
        PolicyChange {
            mcp_oauth_pats_enabled: Some(false),
            ..Default::default()
        },
    )
    .await;
    let d = Denial::McpOAuthPatsDisabled {
        org_name: acme_name.clone(),
    };
    run(
        &mut w,
        Row {
            name: "MCP OAuth PATs off",
            mcp_org: Denied(403, d.clone()),
            mcp_instance: Denied(403, d.clone()),
            mcp_pat: any(),
            api_pat: any(),
            refresh: Denied(400, d.clone()),
            introspect_access: Inactive,
            introspect_pat: Allowed,
            consent: Denied(200, d.clone()),
            console: any(),
        },
        "whoami",
        ("GET", "/api/v1/me"),
        "/settings/tokens",
    )
    .await;

    // The client blocked in the org (the block alone, as when a connection is made while an
    // admin's block is being written): every door of its grant.
    let mut w = world(fresh().await, Role::Querier, "mcp:read mcp:write").await;
    let acme = org(&w.app, "acme").await;
    let client = app::domain::oauth::clients::find(&w.app.db, &w.client_id)
        .await
        .unwrap()
        .unwrap();
    org_client_block::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(acme.id),
        client_id: Set(client.id),
        blocked_by: Set(None),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(&w.app.db)
    .await
    .unwrap();
    w.app
        .services
        .invalidate(app::domain::access::Invalidation::All);
    let d = Denial::ClientBlocked {
        org_name: acme_name.clone(),
        client_name: client.name.clone(),
    };
    run(
        &mut w,
        Row {
            name: "client blocked in the org",
            mcp_org: Denied(403, d.clone()),
            // Bob's grant at /mcp is another app's.
            mcp_instance: any(),
            mcp_pat: any(),
            api_pat: any(),
            refresh: Denied(400, d.clone()),
            introspect_access: Inactive,
            introspect_pat: Allowed,
            consent: Denied(200, d.clone()),
            console: any(),
        },
        "whoami",
        ("GET", "/api/v1/me"),
        "/settings/tokens",
    )
    .await;

    // An admin revokes the client for the org: its connections end too.
    let mut w = world(fresh().await, Role::Querier, "mcp:read mcp:write").await;
    let acme = org(&w.app, "acme").await;
    let ada = user_id(&w.app, "ada@example.com").await;
    org_admin::block_client(
        &w.app.services,
        ada,
        acme.id,
        &w.client_id,
        &RequestMeta::default(),
    )
    .await
    .unwrap();
    run(
        &mut w,
        Row {
            name: "client revoked for the org",
            mcp_org: Denied(401, Denial::TokenRevoked),
            mcp_instance: any(),
            mcp_pat: any(),
            api_pat: any(),
            refresh: Denied(400, Denial::TokenRevoked),
            introspect_access: Inactive,
            introspect_pat: Allowed,
            consent: Denied(
                200,
                Denial::ClientBlocked {
                    org_name: acme_name.clone(),
                    client_name: "Test MCP client".into(),
                },
            ),
            console: any(),
        },
        "whoami",
        ("GET", "/api/v1/me"),
        "/settings/tokens",
    )
    .await;

    // The member removed: everything they held ends, and their session finds no org.
    let mut w = world(fresh().await, Role::Querier, "mcp:read mcp:write").await;
    let acme = org(&w.app, "acme").await;
    let ada = user_id(&w.app, "ada@example.com").await;
    let bob = user_id(&w.app, "bob@example.com").await;
    let m = membership::Entity::find()
        .filter(membership::Column::UserId.eq(bob))
        .one(&w.app.db)
        .await
        .unwrap()
        .unwrap();
    members::remove(&w.app.services, ada, &acme, m.id, &RequestMeta::default())
        .await
        .unwrap();
    let d = Denial::NotMember {
        org_name: acme_name.clone(),
    };
    run(
        &mut w,
        Row {
            name: "member removed",
            mcp_org: Denied(401, d.clone()),
            mcp_instance: Denied(401, d.clone()),
            mcp_pat: Denied(401, d.clone()),
            api_pat: Denied(401, d.clone()),
            refresh: Denied(400, d.clone()),
            introspect_access: Inactive,
            introspect_pat: Inactive,
            consent: Says(403, "you are not a member of it"),
            console: Denied(403, Denial::NoOrganization),
        },
        "whoami",
        ("GET", "/api/v1/me"),
        "/admin/members",
    )
    .await;
    // Added again, nothing they held comes back.
    let bob_row = users::find(&w.app.db, bob).await.unwrap().unwrap();
    members::add_user(
        &w.app.db,
        ada,
        &acme,
        &bob_row,
        Role::Querier,
        &RequestMeta::default(),
    )
    .await
    .unwrap();
    w.app
        .services
        .invalidate(app::domain::access::Invalidation::All);
    check(
        "member added again",
        "/o/acme/mcp",
        &mcp(&w.app, "/o/acme/mcp", &w.org_access, "whoami").await,
        &Denied(401, Denial::TokenRevoked),
    );
    check(
        "member added again",
        "/api/v1",
        &api(&w.app, "GET", "/api/v1/me", &w.pat).await,
        &Denied(401, Denial::TokenRevoked),
    );
    check(
        "member added again",
        "refresh grant",
        &refresh(&mut w, None).await,
        &Denied(400, Denial::TokenRevoked),
    );

    // The membership gone without its grants (defence in depth: the decision reads the
    // membership itself on every request).
    let mut w = world(fresh().await, Role::Querier, "mcp:read mcp:write").await;
    let bob = user_id(&w.app, "bob@example.com").await;
    membership::Entity::delete_many()
        .filter(membership::Column::UserId.eq(bob))
        .exec(&w.app.db)
        .await
        .unwrap();
    w.app
        .services
        .invalidate(app::domain::access::Invalidation::All);
    let d = Denial::NotMember {
        org_name: acme_name.clone(),
    };
    run(
        &mut w,
        Row {
            name: "membership gone",
            mcp_org: Denied(401, d.clone()),
            mcp_instance: Denied(401, d.clone()),
            mcp_pat: Denied(401, d.clone()),
            api_pat: Denied(401, d.clone()),
            refresh: Denied(400, d.clone()),
            introspect_access: Inactive,
            introspect_pat: Inactive,
            consent: Says(403, "you are not a member of it"),
            console: Denied(403, Denial::NoOrganization),
        },
        "whoami",
        ("GET", "/api/v1/me"),
        "/admin/members",
    )
    .await;

    // Role too low: a viewer may use the tools about themselves only, and no admin door.
    let mut w = world(fresh().await, Role::Viewer, "mcp:read mcp:write").await;
    let viewer = |c| Denial::RoleTooLow {
        role: Role::Viewer,
        capability: c,
    };
    run(
        &mut w,
        Row {
            name: "role too low",
            mcp_org: Denied(200, viewer(Capability::ListMembers)),
            mcp_instance: Denied(200, viewer(Capability::ListMembers)),
            mcp_pat: Denied(200, viewer(Capability::ListMembers)),
            api_pat: Denied(403, viewer(Capability::AdministerOrg)),
            refresh: any(),
            introspect_access: Allowed,
            introspect_pat: Allowed,
            consent: any(),
            console: Denied(403, viewer(Capability::AdministerOrg)),
        },
        "list_members",
        ("GET", "/api/v1/tokens"),
        "/admin/members",
    )
    .await;

    // Scope too narrow: a read-only grant asks for a write.
    let mut w = world(fresh().await, Role::Admin, "mcp:read").await;
    let d = Denial::ScopeTooNarrow {
        granted: "mcp:read".into(),
        needed: "mcp:write".into(),
    };
    run(
        &mut w,
        Row {
            name: "scope too narrow",
            // The MCP layer answers with the step-up challenge a new consent can satisfy.
            mcp_org: Says(403, "needs the scopes mcp:read mcp:write"),
            mcp_instance: Says(403, "needs the scopes mcp:read mcp:write"),
            mcp_pat: Says(403, "needs the scopes mcp:read mcp:write"),
            api_pat: Denied(403, d.clone()),
            refresh: any(),
            introspect_access: Allowed,
            introspect_pat: Allowed,
            consent: any(),
            console: any(),
        },
        "revoke_my_connection",
        (
            "POST",
            "/api/v1/tokens/00000000-0000-0000-0000-000000000000/disable",
        ),
        "/admin/members",
    )
    .await;
    check(
        "scope too narrow",
        "refresh asking for more",
        &refresh(&mut w, Some("mcp:read mcp:write")).await,
        &Says(400, "invalid_scope"),
    );

    // The account disabled by the operator: every door, and its browser session is over.
    let mut w = world(fresh().await, Role::Querier, "mcp:read mcp:write").await;
    let bob = users::find_by_email(&w.app.db, "bob@example.com")
        .await
        .unwrap()
        .unwrap();
    users::set_disabled(&w.app.services, &bob, true, &RequestMeta::default())
        .await
        .unwrap();
    let d = Denial::AccountDisabled;
    run(
        &mut w,
        Row {
            name: "account disabled",
            mcp_org: Denied(401, d.clone()),
            mcp_instance: Denied(401, d.clone()),
            mcp_pat: Denied(401, d.clone()),
            api_pat: Denied(401, d.clone()),
            refresh: Denied(400, d.clone()),
            introspect_access: Inactive,
            introspect_pat: Inactive,
            consent: SignIn,
            console: SignIn,
        },
        "whoami",
        ("GET", "/api/v1/me"),
        "/settings/tokens",
    )
    .await;

    // The member disconnects the app: its grant ends everywhere (the PAT is untouched).
    let mut w = world(fresh().await, Role::Querier, "mcp:read mcp:write").await;
    let bob = user_id(&w.app, "bob@example.com").await;
    app::domain::connections::revoke_own(
        &w.app.services,
        bob,
        w.connection_id,
        &RequestMeta::default(),
    )
    .await
    .unwrap();
    run(
        &mut w,
        Row {
            name: "connection revoked",
            mcp_org: Denied(401, Denial::TokenRevoked),
            // The connection at /mcp is another one, still live.
            mcp_instance: any(),
            mcp_pat: any(),
            api_pat: any(),
            refresh: Denied(400, Denial::TokenRevoked),
            introspect_access: Inactive,
            introspect_pat: Allowed,
            // The consent it was given under ended with it: asked again, not remembered.
            consent: any(),
            console: any(),
        },
        "whoami",
        ("GET", "/api/v1/me"),
        "/settings/tokens",
    )
    .await;

    // Disabled by an admin: the PAT, and the connection (its every token).
    let mut w = world(fresh().await, Role::Querier, "mcp:read mcp:write").await;
    let acme = org(&w.app, "acme").await;
    let ada = user_id(&w.app, "ada@example.com").await;
    org_admin::set_token_disabled(
        &w.app.services,
        ada,
        acme.id,
        w.pat_id,
        true,
        &RequestMeta::default(),
    )
    .await
    .unwrap();
    org_admin::set_token_disabled(
        &w.app.services,
        ada,
        acme.id,
        w.connection_id,
        true,
        &RequestMeta::default(),
    )
    .await
    .unwrap();
    run(
        &mut w,
        Row {
            name: "token disabled",
            mcp_org: Denied(401, Denial::ConnectionDisabled),
            mcp_instance: any(),
            mcp_pat: Denied(401, Denial::TokenDisabled),
            api_pat: Denied(401, Denial::TokenDisabled),
            refresh: Denied(400, Denial::ConnectionDisabled),
            introspect_access: Inactive,
            introspect_pat: Inactive,
            consent: any(),
            console: any(),
        },
        "whoami",
        ("GET", "/api/v1/me"),
        "/settings/tokens",
    )
    .await;

    // Revoked: the PAT by an admin, the access token by its client (RFC 7009).
    let mut w = world(fresh().await, Role::Querier, "mcp:read mcp:write").await;
    let acme = org(&w.app, "acme").await;
    let ada = user_id(&w.app, "ada@example.com").await;
    org_admin::revoke_token(
        &w.app.services,
        ada,
        acme.id,
        w.pat_id,
        &RequestMeta::default(),
    )
    .await
    .unwrap();
    let res = w
        .app
        .post_form(
            "/oauth/revoke",
            &[("token", &w.org_access), ("client_id", &w.client_id)],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    run(
        &mut w,
        Row {
            name: "token revoked",
            mcp_org: Denied(401, Denial::TokenRevoked),
            mcp_instance: any(),
            mcp_pat: Denied(401, Denial::TokenRevoked),
            api_pat: Denied(401, Denial::TokenRevoked),
            // Revoking an access token leaves its grant (RFC 7009 §2.1 lets the refresh token live).
            refresh: any(),
            introspect_access: Inactive,
            introspect_pat: Inactive,
            consent: any(),
            console: any(),
        },
        "whoami",
        ("GET", "/api/v1/me"),
        "/settings/tokens",
    )
    .await;

    // Expired: every token of Bob's.
    let mut w = world(fresh().await, Role::Querier, "mcp:read mcp:write").await;
    let bob = user_id(&w.app, "bob@example.com").await;
    token::Entity::update_many()
        .col_expr(
            token::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .filter(token::Column::UserId.eq(bob))
        .exec(&w.app.db)
        .await
        .unwrap();
    w.app
        .services
        .invalidate(app::domain::access::Invalidation::All);
    let d = Denial::TokenExpired;
    run(
        &mut w,
        Row {
            name: "token expired",
            mcp_org: Denied(401, d.clone()),
            mcp_instance: Denied(401, d.clone()),
            mcp_pat: Denied(401, d.clone()),
            api_pat: Denied(401, d.clone()),
            refresh: Denied(400, d.clone()),
            introspect_access: Inactive,
            introspect_pat: Inactive,
            consent: any(),
            console: any(),
        },
        "whoami",
        ("GET", "/api/v1/me"),
        "/settings/tokens",
    )
    .await;

    // And the control row: nothing refused.
    let mut w = world(fresh().await, Role::Querier, "mcp:read mcp:write").await;
    run(
        &mut w,
        Row {
            name: "nothing wrong",
            mcp_org: any(),
            mcp_instance: any(),
            mcp_pat: any(),
            api_pat: any(),
            refresh: any(),
            introspect_access: Allowed,
            introspect_pat: Allowed,
            consent: any(),
            console: any(),
        },
        "whoami",
        ("GET", "/api/v1/me"),
        "/settings/tokens",
    )
    .await;
}
