//! The OAuth 2.1 authorization server end to end through the real router, with the `oauth2`
//! crate as the client, and a negative test for each checklist rule.

mod support;

use http::StatusCode;
use migration::on_both_backends;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl,
    RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use sea_orm::DatabaseConnection;
use serde_json::json;
use support::flow::{
    CB, MCP, auth_query, authorize, hidden, introspect_basic, org_resource_server, public_client,
    query, register, signed_in_with_org,
};
use support::{Browser, ORIGIN, PASSWORD, Response, TestApp, basic_auth};

on_both_backends!(
    old_grace_replays_are_forgotten_in_chunks,
    concurrent_refreshes_are_each_stored,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_documents() {
    let app = TestApp::sqlite().await;
    signed_in_with_org(&app, "ada@example.com", "acme").await;
    let mut b = app.browser();
    let asm = b.get_raw("/.well-known/oauth-authorization-server").await;
    assert_eq!(asm.status, StatusCode::OK);
    let m = asm.json();
    assert_eq!(
        m["issuer"], ORIGIN,
        "issuer is the configured public URL, byte for byte"
    );
    assert_eq!(
        m["authorization_endpoint"],
        format!("{ORIGIN}/oauth/authorize")
    );
    assert_eq!(m["token_endpoint"], format!("{ORIGIN}/oauth/token"));
    assert_eq!(
        m["registration_endpoint"],
        format!("{ORIGIN}/oauth/register")
    );
    assert_eq!(m["revocation_endpoint"], format!("{ORIGIN}/oauth/revoke"));
    assert_eq!(
        m["introspection_endpoint"],
        format!("{ORIGIN}/oauth/introspect")
    );
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(m["response_types_supported"], json!(["code"]));
    assert!(
        m["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("none"))
    );
    assert_eq!(m["scopes_supported"], json!(["mcp:read", "mcp:write"]));
    assert_eq!(m["authorization_response_iss_parameter_supported"], true);
    assert!(!asm.body.contains("null"), "no null members: {}", asm.body);

    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let prm = b.get_raw(path).await.json();
        assert_eq!(prm["resource"], MCP, "{path}");
        assert_eq!(prm["authorization_servers"], json!([ORIGIN]));
        assert_eq!(prm["bearer_methods_supported"], json!(["header"]));
        assert_eq!(prm["scopes_supported"], json!(["mcp:read", "mcp:write"]));
    }
    let org = b
        .get_raw("/.well-known/oauth-protected-resource/o/acme/mcp")
        .await
        .json();
    assert_eq!(org["resource"], format!("{ORIGIN}/o/acme/mcp"));
    assert_eq!(
        b.get_raw("/.well-known/oauth-protected-resource/o/nope/mcp")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get_raw("/.well-known/openid-configuration").await.status,
        StatusCode::NOT_FOUND,
        "no partial OIDC document"
    );

    // CORS on discovery and token endpoints; never on the authorization endpoint.
    let with_origin = |path: &str| {
        http::Request::get(path)
            .header("origin", "http://localhost:6274")
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let res = app
        .call(with_origin("/.well-known/oauth-authorization-server"))
        .await;
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    let res = app.call(with_origin("/oauth/authorize?client_id=x")).await;
    assert_eq!(res.header("access-control-allow-origin"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_registration_echoes_metadata_and_refuses_bad_input() {
    let app = TestApp::sqlite().await;
    // Cursor's real registration: three redirect URIs, one a private-use scheme.
    let cursor = register(
        &app,
        json!({
            "client_name": "Cursor",
            "redirect_uris": ["cursor://anysphere.cursor-mcp/oauth/callback", "https://www.cursor.com/agents/mcp/oauth/callback", "http://localhost:8787/callback"],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "software_statement_extra": "kept"
        }),
    )
    .await;
    assert!(cursor["client_id"].as_str().unwrap().starts_with("gc_"));
    assert_eq!(
        cursor["redirect_uris"][0],
        "cursor://anysphere.cursor-mcp/oauth/callback"
    );
    assert_eq!(cursor["token_endpoint_auth_method"], "none");
    assert!(cursor.get("client_secret").is_none());
    assert_eq!(
        cursor["software_statement_extra"], "kept",
        "unknown members are echoed"
    );
    assert!(!cursor.to_string().contains("null"));

    // Omitted auth method: a public client, said explicitly (checklist DCR-5).
    let py = register(&app, json!({ "redirect_uris": [CB] })).await;
    assert_eq!(py["token_endpoint_auth_method"], "none");

    let conf = register(&app, json!({ "client_name": "Server app", "redirect_uris": ["https://app.example.com/cb"], "token_endpoint_auth_method": "client_secret_basic" })).await;
    let secret = conf["client_secret"].as_str().unwrap();
    assert!(
        secret.starts_with("gate_cs_")
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    );
    assert_eq!(conf["client_secret_expires_at"], 0);

    for (body, error) in [
        (
            json!({ "redirect_uris": ["http://example.com/cb"] }),
            "invalid_redirect_uri",
        ),
        (
            json!({ "redirect_uris": ["https://example.com/cb#x"] }),
            "invalid_redirect_uri",
        ),
        (
            json!({ "redirect_uris": ["javascript:alert(1)"] }),
            "invalid_redirect_uri",
        ),
        (json!({ "redirect_uris": [] }), "invalid_redirect_uri"),
        (json!({ "client_name": "no uris" }), "invalid_redirect_uri"),
        (
            json!({ "redirect_uris": [CB], "grant_types": ["client_credentials"] }),
            "invalid_client_metadata",
        ),
        (
            json!({ "redirect_uris": [CB], "token_endpoint_auth_method": "private_key_jwt" }),
            "invalid_client_metadata",
        ),
        (
            json!({ "redirect_uris": [CB], "client_uri": "javascript:x" }),
            "invalid_client_metadata",
        ),
    ] {
        let res = app.post_json("/oauth/register", body.clone()).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{body}: {}", res.body);
        assert_eq!(res.json()["error"], error, "{body}");
    }
    let res = app
        .post_form("/oauth/register", &[("redirect_uris", CB)])
        .await;
    assert_eq!(res.json()["error"], "invalid_client_metadata");

    let off = TestApp::with_env(&[("GATEHOUSE_DYNAMIC_REGISTRATION", "off")]).await;
    assert_eq!(
        off.post_json("/oauth/register", json!({ "redirect_uris": [CB] }))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let meta = off
        .browser()
        .get_raw("/.well-known/oauth-authorization-server")
        .await
        .json();
    assert!(meta.get("registration_endpoint").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_flow_with_the_oauth2_crate() {
    let app = TestApp::sqlite().await;
    let mut ada = app.browser();
    ada.sign_up("ada@example.com", PASSWORD).await;
    ada.submit(
        "/orgs/new",
        "/fn/create_org",
        &[("name", "Acme"), ("slug", "acme")],
    )
    .await;
    ada.submit("/", "/logout", &[]).await;

    let client_id = public_client(&app).await;
    let client = BasicClient::new(ClientId::new(client_id.clone()))
        .set_auth_type(AuthType::RequestBody)
        .set_auth_uri(AuthUrl::new(format!("{ORIGIN}/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(format!("{ORIGIN}/oauth/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(CB.to_string()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("mcp:read".into()))
        .add_scope(Scope::new("mcp:write".into()))
        .set_pkce_challenge(challenge)
        .add_extra_param("resource", MCP)
        .url();

    // Not signed in: the authorization endpoint sends the browser to sign in, then consent.
    let res = ada
        .get_raw(&format!(
            "{}?{}",
            auth_url.path(),
            auth_url.query().unwrap()
        ))
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let login = res.location().unwrap().to_string();
    assert!(
        login.starts_with("/login?next=%2Foauth%2Fconsent%2F"),
        "{login}"
    );
    let next = url::form_urlencoded::parse(login.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "next")
        .unwrap()
        .1
        .into_owned();
    let res = ada
        .submit(
            &login,
            "/fn/login",
            &[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("next", &next),
            ],
        )
        .await;
    assert_eq!(res.location(), Some(next.as_str()));
    let page = ada.get(&next).await;
    assert!(
        page.body
            .contains("Test MCP client wants to access your Gatehouse account"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Unverified app"));
    assert!(page.body.contains("127.0.0.1:7777"), "redirect host shown");
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(page.header("cache-control"), Some("no-store"));

    let res = ada
        .post_form(
            "/fn/decide_consent",
            &next,
            &[
                ("csrf", &hidden(&page.body, "csrf")),
                ("request_id", &hidden(&page.body, "request_id")),
                ("org", "acme"),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FOUND);
    assert!(
        res.location().unwrap().starts_with(CB),
        "{:?}",
        res.location()
    );
    assert_eq!(
        res.location_param("state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(res.location_param("iss").as_deref(), Some(ORIGIN));
    let code = res.location_param("code").unwrap();

    let http = app.oauth_http();
    let verifier_secret = verifier.secret().clone();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(verifier)
        .add_extra_param("resource", MCP)
        .request_async(&http)
        .await
        .expect("code exchange");
    let access = tokens.access_token().secret().clone();
    assert!(access.starts_with("gate_at_"));
    assert_eq!(tokens.expires_in().unwrap().as_secs(), 3600);
    let scopes: Vec<String> = tokens
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(scopes, vec!["mcp:read", "mcp:write"]);
    let rt1 = tokens.refresh_token().unwrap().clone();
    assert!(rt1.secret().starts_with("gate_rt_"));

    // The code is single use: a replay without the verifier is refused and changes nothing…
    let bad = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .request_async(&http)
        .await;
    assert!(
        matches!(bad, Err(RequestTokenError::ServerResponse(ref e)) if e.error().to_string() == "invalid_request"),
        "{bad:?}"
    );
    // …a valid replay is refused too, and revokes everything the code gave (checked below).
    let again = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(oauth2::PkceCodeVerifier::new(verifier_secret))
        .request_async(&http)
        .await;
    assert!(
        matches!(again, Err(RequestTokenError::ServerResponse(ref e)) if e.error().to_string() == "invalid_grant"),
        "{again:?}"
    );

    // Introspection (by the org's resource server) now says the replay revoked everything.
    let (rs_id, rs_secret) = org_resource_server(&app, "ada@example.com", "acme").await;
    let introspect = |token: String| {
        let (app, id, secret) = (&app, rs_id.clone(), rs_secret.clone());
        async move { introspect_basic(app, &id, &secret, &token).await }
    };
    // Any other confidential client learns nothing, even about a live token (below).
    let stranger = register(&app, json!({ "client_name": "Curious", "redirect_uris": ["https://rs.example.com/cb"], "token_endpoint_auth_method": "client_secret_post" })).await;
    let stranger_asks = |token: String| {
        let (id, secret) = (
            stranger["client_id"].as_str().unwrap().to_string(),
            stranger["client_secret"].as_str().unwrap().to_string(),
        );
        let app = &app;
        async move {
            app.post_form(
                "/oauth/introspect",
                &[
                    ("token", &token),
                    ("client_id", &id),
                    ("client_secret", &secret),
                ],
            )
            .await
            .json()
        }
    };
    assert_eq!(
        introspect(access.clone()).await,
        json!({ "active": false }),
        "code replay revokes what the code gave"
    );

    // A fresh authorization (the replay ended the remembered consent with the connection, so
    // it is asked again) and a refresh.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let res = authorize(
        &mut ada,
        &auth_query(&client_id, challenge.as_str(), &[]),
        "acme",
        "approve",
    )
    .await;
    assert!(
        res.location().unwrap().starts_with(CB),
        "remembered consent: {:?}",
        res.location()
    );
    let code = res.location_param("code").unwrap();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let access = tokens.access_token().secret().clone();
    assert_eq!(
        stranger_asks(access.clone()).await,
        json!({ "active": false }),
        "a client that is neither the token's nor a resource server of its org"
    );
    let info = introspect(access.clone()).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["client_id"], client_id);
    assert_eq!(info["org"], "acme");
    assert_eq!(info["role"], "admin");
    assert_eq!(info["aud"], MCP);
    assert_eq!(info["username"], "ada@example.com");
    assert_eq!(info["scope"], "mcp:read mcp:write");
    assert!(info["exp"].as_i64().unwrap() > info["iat"].as_i64().unwrap());

    let rt1 = tokens.refresh_token().unwrap().clone();
    let refreshed = client
        .exchange_refresh_token(&rt1)
        .add_extra_param("resource", MCP)
        .request_async(&http)
        .await
        .expect("refresh");
    let rt2 = refreshed
        .refresh_token()
        .expect("a new refresh token every time")
        .clone();
    assert_ne!(rt2.secret(), rt1.secret(), "rotated");
    assert_eq!(refreshed.scopes().unwrap().len(), 2, "same scope");

    // Revoking the refresh token ends its grant, access tokens included.
    let new_access = refreshed.access_token().secret().clone();
    assert_eq!(introspect(new_access.clone()).await["active"], true);
    let res = app
        .post_form(
            "/oauth/revoke",
            &[("token", rt2.secret()), ("client_id", &client_id)],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(introspect(new_access).await, json!({ "active": false }));
    let after = client
        .exchange_refresh_token(&rt2)
        .request_async(&http)
        .await;
    assert!(
        matches!(after, Err(RequestTokenError::ServerResponse(ref e)) if e.error().to_string() == "invalid_grant")
    );
    // Unknown tokens are "revoked" too, revealing nothing.
    assert_eq!(
        app.post_form(
            "/oauth/revoke",
            &[("token", "gate_rt_nope"), ("client_id", &client_id)]
        )
        .await
        .status,
        StatusCode::OK
    );
}

/// A full authorization for `client_id` in `org`, returning (access, refresh).
async fn tokens_for(
    app: &TestApp,
    b: &mut Browser,
    client_id: &str,
    org: &str,
    resource: &str,
) -> (String, String) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let res = authorize(
        b,
        &auth_query(client_id, challenge.as_str(), &[("resource", resource)]).replace(
            &format!(
                "resource={}&",
                url::form_urlencoded::byte_serialize(MCP.as_bytes()).collect::<String>()
            ),
            "",
        ),
        org,
        "approve",
    )
    .await;
    let code = res
        .location_param("code")
        .unwrap_or_else(|| panic!("no code: {:?} {}", res.location(), res.body));
    let res = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", client_id),
                ("code_verifier", verifier.secret()),
                ("redirect_uri", CB),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let t = res.json();
    (
        t["access_token"].as_str().unwrap().to_string(),
        t["refresh_token"].as_str().unwrap().to_string(),
    )
}

/// A refresh grant by a public client, with `extra` form fields.
async fn refresh_grant(
    app: &TestApp,
    client_id: &str,
    refresh_token: String,
    extra: &[(&str, &str)],
) -> Response {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.as_str()),
        ("client_id", client_id),
    ];
    form.extend_from_slice(extra);
    app.post_form("/oauth/token", &form).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotation_grace_and_reuse() {
    let app = TestApp::with_env(&[("GATEHOUSE_REFRESH_GRACE_SECS", "2")]).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let client_id = public_client(&app).await;
    let (_, rt1) = tokens_for(&app, &mut ada, &client_id, "acme", MCP).await;
    let refresh = |rt: String| refresh_grant(&app, &client_id, rt, &[("resource", MCP)]);
    let first = refresh(rt1.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    // A client that lost the answer retries within the grace period: the same pair again.
    let retry = refresh(rt1.clone()).await;
    assert_eq!(retry.status, StatusCode::OK, "{}", retry.body);
    assert_eq!(retry.json(), first.json());
    let rt2 = first.json()["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(
        refresh(rt2.clone()).await.status,
        StatusCode::OK,
        "the new token works"
    );

    // After the grace period the old token is reuse: the whole family is revoked.
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    let reuse = refresh(rt1).await;
    assert_eq!(reuse.status, StatusCode::BAD_REQUEST);
    assert_eq!(reuse.json()["error"], "invalid_grant");
    let latest = refresh(rt2).await;
    assert_eq!(latest.json()["error"], "invalid_grant", "family revoked");
    let page = ada.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    use app::domain::entities::token;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    // Every row of the family is revoked (through its connection), access tokens included.
    let family = token::Entity::find()
        .filter(token::Column::FamilyId.is_not_null())
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(family.len(), 6, "the first pair and two rotations");
    assert!(family.iter().all(|t| t.revoked_at.is_some()), "{family:?}");
    let events = app::domain::entities::audit_event::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.action == "oauth.refresh_token.reused"),
        "reuse is audited"
    );
}

/// The sweep forgets the sealed answers kept for grace replays once their window has passed,
/// in chunks (every old one, however many chunks it takes), and keeps those still in their
/// window: a client that lost the answer a moment ago still gets the same pair.
async fn old_grace_replays_are_forgotten_in_chunks(db: DatabaseConnection) {
    use app::domain::entities::token;
    use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
    let app = TestApp::with_db(db, &[]).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let client_id = public_client(&app).await;
    let (_, mut rt) = tokens_for(&app, &mut ada, &client_id, "acme", MCP).await;
    let refresh = |rt: String| refresh_grant(&app, &client_id, rt, &[("resource", MCP)]);
    for _ in 0..5 {
        let res = refresh(rt).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        rt = res.json()["refresh_token"].as_str().unwrap().to_string();
    }
    app.db
        .execute_unprepared(
            "UPDATE tokens SET rotated_at = '2000-01-01 00:00:00+00:00' WHERE rotated_at IS NOT NULL",
        )
        .await
        .unwrap();
    // One rotation inside its window.
    let recent = refresh(rt.clone()).await;
    assert_eq!(recent.status, StatusCode::OK, "{}", recent.body);

    let kept = || async {
        token::Entity::find()
            .filter(token::Column::GraceResponse.is_not_null())
            .all(&app.db)
            .await
            .unwrap()
    };
    assert_eq!(kept().await.len(), 6);
    let cutoff = chrono::Utc::now() - chrono::Duration::seconds(10);
    let cleared = app::domain::oauth::housekeeping::forget_grace_replays(&app.db, cutoff, 2)
        .await
        .unwrap();
    assert_eq!(cleared, 5, "five old answers, in three chunks");
    let left = kept().await;
    assert_eq!(left.len(), 1);
    assert!(left[0].rotated_at.unwrap() > cutoff, "{left:?}");
    let replay = refresh(rt).await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.body);
    assert_eq!(replay.json(), recent.json(), "the recent one still replays");
}

/// Refreshes arriving together are committed together (one writer per process, batched): each
/// still gets its own new pair, stored with its audit row, and a duplicate among them is the
/// grace replay of the same pair.
async fn concurrent_refreshes_are_each_stored(db: DatabaseConnection) {
    let app = TestApp::with_db(db, &[]).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let client_id = public_client(&app).await;
    let mut chains = Vec::new();
    for _ in 0..12 {
        chains.push(tokens_for(&app, &mut ada, &client_id, "acme", MCP).await.1);
    }
    let refresh = |rt: String| {
        let refreshed = refresh_grant(&app, &client_id, rt, &[]);
        async move {
            let res = refreshed.await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
            res.json()
        }
    };
    for round in 0..2 {
        let mut presented = chains.clone();
        presented.push(chains[0].clone());
        let answers = futures::future::join_all(presented.into_iter().map(refresh)).await;
        assert_eq!(
            answers[0], answers[12],
            "round {round}: the duplicate is the grace replay"
        );
        chains = answers[..12]
            .iter()
            .map(|t| t["refresh_token"].as_str().unwrap().to_string())
            .collect();
        let distinct: std::collections::HashSet<_> = chains.iter().collect();
        assert_eq!(distinct.len(), 12, "round {round}: a new pair each");
    }
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let refreshed = app::domain::entities::audit_event::Entity::find()
        .filter(app::domain::entities::audit_event::Column::Action.eq("oauth.token.refreshed"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(
        refreshed, 24,
        "one audit row per rotation, none for the replays"
    );
    // The last round's tokens were stored: each works once more.
    for rt in chains {
        refresh(rt).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_request_errors() {
    let app = TestApp::sqlite().await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let client_id = public_client(&app).await;
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let ch = challenge.as_str();

    // Phase 1: unknown client, unregistered redirect URIs: an error page, never a redirect.
    for q in [
        query(&[
            ("response_type", "code"),
            ("client_id", "gc_unknown"),
            ("redirect_uri", CB),
        ]),
        query(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", "https://evil.example/cb"),
        ]),
        query(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", "http://127.0.0.1:7777/callback/x"),
        ]),
        query(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", "http://localhost:7777/callback"),
        ]),
        query(&[("response_type", "code"), ("redirect_uri", CB)]),
    ] {
        let res = ada.get_raw(&format!("/oauth/authorize?{q}")).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{q}");
        assert!(res.location().is_none(), "{q}");
        assert!(res.body.contains("can't be completed"), "{q}: {}", res.body);
    }
    // Loopback on another port is the same redirect URI (RFC 8252).
    let other_port = auth_query(&client_id, ch, &[]).replace("7777", "51004");
    let res = ada.get_raw(&format!("/oauth/authorize?{other_port}")).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(res.location().unwrap().starts_with("/oauth/consent/"));

    // Phase 2: back to the app with the error, the state and our issuer.
    let cases = [
        (
            query(&[
                ("response_type", "code"),
                ("client_id", &client_id),
                ("redirect_uri", CB),
                ("state", "s1"),
            ]),
            "invalid_request",
        ),
        (
            query(&[
                ("response_type", "code"),
                ("client_id", &client_id),
                ("redirect_uri", CB),
                ("state", "s1"),
                ("code_challenge", ch),
                ("code_challenge_method", "plain"),
            ]),
            "invalid_request",
        ),
        (
            query(&[
                ("response_type", "code"),
                ("client_id", &client_id),
                ("redirect_uri", CB),
                ("state", "s1"),
                ("code_challenge", ch),
            ]),
            "invalid_request",
        ),
        (
            query(&[
                ("response_type", "code"),
                ("client_id", &client_id),
                ("redirect_uri", CB),
                ("state", "s1"),
                ("code_challenge", "short"),
                ("code_challenge_method", "S256"),
            ]),
            "invalid_request",
        ),
        (
            query(&[
                ("response_type", "token"),
                ("client_id", &client_id),
                ("redirect_uri", CB),
                ("state", "s1"),
                ("code_challenge", ch),
                ("code_challenge_method", "S256"),
            ]),
            "unsupported_response_type",
        ),
        (
            auth_query(&client_id, ch, &[])
                .replace("xyz-state", "s1")
                .replace(
                    &url::form_urlencoded::byte_serialize(MCP.as_bytes()).collect::<String>(),
                    "https%3A%2F%2Fother.example%2Fmcp",
                ),
            "invalid_target",
        ),
        (
            auth_query(&client_id, ch, &[])
                .replace("xyz-state", "s1")
                .replace("scope=mcp%3Aread+mcp%3Awrite", "scope=admin%3Aall"),
            "invalid_scope",
        ),
        (
            format!(
                "{}&state=again",
                auth_query(&client_id, ch, &[]).replace("xyz-state", "s1")
            ),
            "invalid_request",
        ),
    ];
    for (q, error) in cases {
        let res = ada.get_raw(&format!("/oauth/authorize?{q}")).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{q}: {}", res.body);
        assert!(res.location().unwrap().starts_with(CB), "{q}");
        assert_eq!(res.location_param("error").as_deref(), Some(error), "{q}");
        assert_eq!(res.location_param("state").as_deref(), Some("s1"), "{q}");
        assert_eq!(res.location_param("iss").as_deref(), Some(ORIGIN), "{q}");
    }

    // Signed out, an error for a self-registered app is shown, never sent to its redirect URI:
    // anyone can register a client, so that would make Gatehouse an open redirector.
    let mut anon = app.browser();
    let res = anon
        .get_raw(&format!(
            "/oauth/authorize?{}",
            query(&[
                ("response_type", "code"),
                ("client_id", &client_id),
                ("redirect_uri", CB)
            ])
        ))
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{:?}", res.location());
    assert!(res.location().is_none());
    assert!(res.body.contains("only after you sign in"), "{}", res.body);
}

/// A fresh code (consent asked again) and its PKCE verifier.
async fn code_for(b: &mut Browser, client_id: &str) -> (String, String) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let res = authorize(
        b,
        &auth_query(client_id, challenge.as_str(), &[("prompt", "consent")]),
        "acme",
        "approve",
    )
    .await;
    (
        res.location_param("code")
            .unwrap_or_else(|| panic!("no code: {:?}", res.location())),
        verifier.secret().clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_request_errors() {
    let app = TestApp::sqlite().await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let client_id = public_client(&app).await;
    let conf = register(
        &app,
        json!({ "redirect_uris": [CB], "token_endpoint_auth_method": "client_secret_basic" }),
    )
    .await;
    let (conf_id, conf_secret) = (
        conf["client_id"].as_str().unwrap(),
        conf["client_secret"].as_str().unwrap(),
    );

    let token = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.post_form("/oauth/token", &pairs).await
        }
    };

    // Wrong verifier: invalid_grant, and the code is not burnt by it.
    let (code, verifier) = code_for(&mut ada, &client_id).await;
    let with_redirect = |code: &str, v: &str, redirect: &str| {
        vec![
            ("grant_type", "authorization_code".to_string()),
            ("code", code.to_string()),
            ("client_id", client_id.clone()),
            ("code_verifier", v.to_string()),
            ("redirect_uri", redirect.to_string()),
        ]
    };
    let base = |code: &str, v: &str| with_redirect(code, v, CB);
    let res = token(base(&code, &"x".repeat(43))).await;
    assert_eq!(
        (res.status, res.json()["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
    let res = token(with_redirect(
        &code,
        &verifier,
        "http://127.0.0.1:9999/other",
    ))
    .await;
    assert_eq!(
        res.json()["error"],
        "invalid_grant",
        "redirect_uri must match"
    );
    // The authorization request named its redirect_uri, so the token request must too.
    let mut no_redirect = base(&code, &verifier);
    no_redirect.retain(|(k, _)| *k != "redirect_uri");
    let res = token(no_redirect).await;
    assert_eq!(
        (res.json()["error"].as_str(), res.status),
        (Some("invalid_request"), StatusCode::BAD_REQUEST),
        "redirect_uri is required: {}",
        res.body
    );
    let res = token(
        [
            base(&code, &verifier),
            vec![("resource", format!("{ORIGIN}/o/acme/mcp"))],
        ]
        .concat(),
    )
    .await;
    assert_eq!(res.json()["error"], "invalid_target");
    let res = token(vec![
        ("grant_type", "authorization_code".into()),
        ("code", code.clone()),
        ("client_id", client_id.clone()),
        ("redirect_uri", CB.into()),
    ])
    .await;
    assert_eq!(res.json()["error"], "invalid_request", "missing verifier");
    let res = token(base(&code, &verifier)).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "the code survived the bad attempts: {}",
        res.body
    );

    // Expired code.
    let (code, verifier) = code_for(&mut ada, &client_id).await;
    use sea_orm::{ConnectionTrait, Statement};
    app.db.execute_raw(Statement::from_string(app.db.get_database_backend(), "UPDATE authorization_codes SET expires_at = '2000-01-01 00:00:00+00:00' WHERE used_at IS NULL")).await.unwrap();
    assert_eq!(
        token(base(&code, &verifier)).await.json()["error"],
        "invalid_grant"
    );

    // Client authentication.
    let (code, verifier) = code_for(&mut ada, conf_id).await;
    let req = |auth: String, extra: &str| {
        http::Request::post("/oauth/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", auth)
            .body(axum::body::Body::from(format!(
                "grant_type=authorization_code&code={code}&code_verifier={verifier}&redirect_uri={}{extra}",
                url::form_urlencoded::byte_serialize(CB.as_bytes()).collect::<String>()
            )))
            .unwrap()
    };
    let res = app
        .call(req(basic_auth(conf_id, "gate_cs_wrong"), ""))
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.json()["error"], "invalid_client");
    assert!(res.header("www-authenticate").unwrap().starts_with("Basic"));
    let res = app
        .call(req(
            basic_auth(conf_id, conf_secret),
            &format!("&client_secret={conf_secret}"),
        ))
        .await;
    assert_eq!(
        res.json()["error"],
        "invalid_request",
        "secret in header and body"
    );
    let res = token(vec![
        ("grant_type", "authorization_code".into()),
        ("code", code.clone()),
        ("client_id", conf_id.into()),
        ("code_verifier", verifier.clone()),
    ])
    .await;
    assert_eq!(
        res.json()["error"],
        "invalid_client",
        "a confidential client must authenticate"
    );
    // It authenticates the way it registered (client_secret_basic), not another way.
    let res = token(vec![
        ("grant_type", "authorization_code".into()),
        ("code", code.clone()),
        ("client_id", conf_id.into()),
        ("client_secret", conf_secret.into()),
        ("code_verifier", verifier.clone()),
        ("redirect_uri", CB.into()),
    ])
    .await;
    assert_eq!(
        (res.status, res.json()["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client")),
        "client_secret_post by a client_secret_basic client: {}",
        res.body
    );
    assert!(
        res.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("client_secret_basic")
    );
    let res = app
        .call(req(
            basic_auth(conf_id, conf_secret),
            &format!("&client_id={conf_id}"),
        ))
        .await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "Basic with the same client_id in the body: {}",
        res.body
    );

    // A public client sending a secret, an unknown client, an unknown grant type, JSON bodies.
    let res = token(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", "x".into()),
        ("client_id", client_id.clone()),
        ("client_secret", "s".into()),
    ])
    .await;
    assert_eq!(res.json()["error"], "invalid_client");
    let res = token(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", "x".into()),
        ("client_id", "gc_nobody".into()),
    ])
    .await;
    assert_eq!(res.json()["error"], "invalid_client");
    let res = token(vec![
        ("grant_type", "password".into()),
        ("client_id", client_id.clone()),
    ])
    .await;
    assert_eq!(res.json()["error"], "unsupported_grant_type");
    let res = app.post_json("/oauth/token", json!({ "grant_type": "refresh_token", "refresh_token": "gate_rt_x", "client_id": client_id })).await;
    assert_eq!(
        res.json()["error"],
        "invalid_grant",
        "JSON bodies are understood"
    );
    let res = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("grant_type", "refresh_token"),
            ],
        )
        .await;
    assert_eq!(res.json()["error"], "invalid_request", "repeated parameter");
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert!(!res.body.contains("null"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_org_picker_policy_deny_and_cross_org() {
    let app = TestApp::sqlite().await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    ada.submit(
        "/orgs/new",
        "/fn/create_org",
        &[("name", "Beta"), ("slug", "beta")],
    )
    .await;
    let mut eve = signed_in_with_org(&app, "eve@example.com", "evil").await;
    let client_id = public_client(&app).await;
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();

    // Two orgs: a picker with both.
    let res = ada
        .get_raw(&format!(
            "/oauth/authorize?{}",
            auth_query(&client_id, challenge.as_str(), &[])
        ))
        .await;
    let page = ada.get(res.location().unwrap()).await;
    assert!(
        page.body.contains("id=\"org-acme\"") && page.body.contains("id=\"org-beta\""),
        "{}",
        page.body
    );

    // /o/acme/mcp preselects acme and offers nothing else.
    let acme_mcp = format!("{ORIGIN}/o/acme/mcp");
    let q = auth_query(&client_id, challenge.as_str(), &[]).replace(
        &url::form_urlencoded::byte_serialize(MCP.as_bytes()).collect::<String>(),
        &url::form_urlencoded::byte_serialize(acme_mcp.as_bytes()).collect::<String>(),
    );
    let res = ada.get_raw(&format!("/oauth/authorize?{q}")).await;
    let consent_url = res.location().unwrap().to_string();
    let page = ada.get(&consent_url).await;
    assert!(page.body.contains("id=\"org-acme\"") && !page.body.contains("id=\"org-beta\""));

    // Trying to approve it for another org is refused.
    let res = ada
        .post_form(
            "/fn/decide_consent",
            &consent_url,
            &[
                ("csrf", &hidden(&page.body, "csrf")),
                ("request_id", &hidden(&page.body, "request_id")),
                ("org", "beta"),
                ("decision", "approve"),
            ],
        )
        .await;
    assert!(
        support::redirected_error(&res).is_some(),
        "{:?}",
        res.location()
    );

    // Eve is not in acme: the consent page for /o/acme/mcp says so.
    let res = eve.get_raw(&format!("/oauth/authorize?{q}")).await;
    let page = eve.get(res.location().unwrap()).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains("you are not a member of it"),
        "{}",
        page.body
    );
    // And another user can't take over Ada's pending request.
    let page = eve.get(&consent_url).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    // Deny: access_denied back to the app.
    let res = authorize(
        &mut ada,
        &auth_query(&client_id, challenge.as_str(), &[]),
        "acme",
        "deny",
    )
    .await;
    assert_eq!(
        res.location_param("error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(res.location_param("state").as_deref(), Some("xyz-state"));

    // Org policy: MCP OAuth PATs off → the consent screen says so in seed 000's words.
    use sea_orm::{ConnectionTrait, Statement};
    app.db
        .execute_raw(Statement::from_string(
            app.db.get_database_backend(),
            "UPDATE organizations SET mcp_oauth_pats_enabled = false WHERE slug = 'acme'",
        ))
        .await
        .unwrap();
    let res = ada.get_raw(&format!("/oauth/authorize?{q}")).await;
    let page = ada.get(res.location().unwrap()).await;
    assert!(
        page.body.contains("MCP OAuth PATs aren&#x27;t enabled")
            || page.body.contains("MCP OAuth PATs aren't enabled"),
        "{}",
        page.body
    );
    app.db.execute_raw(Statement::from_string(app.db.get_database_backend(), "UPDATE organizations SET mcp_oauth_pats_enabled = true, mcp_enabled = false WHERE slug = 'acme'")).await.unwrap();
    let res = ada.get_raw(&format!("/oauth/authorize?{q}")).await;
    let page = ada.get(res.location().unwrap()).await;
    assert!(
        page.body.contains("MCP server access disabled"),
        "{}",
        page.body
    );
    assert!(page.body.contains("data-testid=\"policy-blocked\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_is_rate_limited_and_unused_clients_are_reaped() {
    let app = TestApp::with_env(&[("GATEHOUSE_UNUSED_CLIENT_TTL_HOURS", "1")]).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let used = public_client(&app).await;
    let (_, _) = tokens_for(&app, &mut ada, &used, "acme", MCP).await;
    for _ in 0..29 {
        public_client(&app).await;
    }
    let res = app
        .post_json("/oauth/register", json!({ "redirect_uris": [CB] }))
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.body);
    assert_eq!(res.json()["error"], "too_many_requests");
    assert!(res.header("retry-after").is_some());

    // Age every registration past the TTL: only the one somebody authorized survives.
    use sea_orm::{ConnectionTrait, EntityTrait, Statement};
    app.db
        .execute_raw(Statement::from_string(
            app.db.get_database_backend(),
            "UPDATE oauth_clients SET created_at = '2000-01-01 00:00:00+00:00'",
        ))
        .await
        .unwrap();
    let services = app::domain::Services::new(
        app.db.clone(),
        {
            let mut s = app::domain::Settings::new(ORIGIN, true);
            s.oauth.unused_client_ttl = chrono::Duration::hours(1);
            s
        },
        app::domain::sealing::InstanceKey::generate().0,
    );
    let swept = app::domain::oauth::housekeeping::sweep(&services)
        .await
        .unwrap();
    assert_eq!(swept.clients, 29);
    let left = app::domain::entities::oauth_client::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(
        left.iter()
            .map(|c| c.client_id.as_str())
            .collect::<Vec<_>>(),
        vec![used.as_str()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pkce_may_be_left_out_only_by_a_client_an_org_admin_allowed() {
    let no_pkce = |client_id: &str, redirect: &str| {
        query(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect),
            ("state", "s"),
            ("resource", MCP),
        ])
    };
    let app = TestApp::sqlite().await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    // Default: PKCE is required of everyone.
    let client_id = public_client(&app).await;
    let res = ada
        .get_raw(&format!("/oauth/authorize?{}", no_pkce(&client_id, CB)))
        .await;
    assert_eq!(
        res.location_param("error").as_deref(),
        Some("invalid_request")
    );

    // The org's own confidential connector, allowed by its admin on the client's page.
    let (conn_id, conn_secret) = org_resource_server(&app, "ada@example.com", "acme").await;
    let connector = app::domain::oauth::clients::find(&app.db, &conn_id)
        .await
        .unwrap()
        .unwrap();
    let page = format!("/admin/oauth-clients/{}", connector.id);
    let res = ada
        .submit(
            &page,
            "/fn/set_org_client_trust",
            &[
                ("client", &connector.id.to_string()),
                ("resource_server", "on"),
                ("pkce_optional", "on"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert!(ada.get(&page).await.body.contains("it may leave out PKCE"));
    let rs_cb = "https://rs.example.com/cb";
    let res = authorize(&mut ada, &no_pkce(&conn_id, rs_cb), "acme", "approve").await;
    let code = res
        .location_param("code")
        .expect("a code without PKCE for the allowed client");
    let exchange = |code: String, extra: &'static str| {
        http::Request::post("/oauth/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", basic_auth(&conn_id, &conn_secret))
            .body(axum::body::Body::from(format!(
                "grant_type=authorization_code&code={code}&redirect_uri={}{extra}",
                url::form_urlencoded::byte_serialize(rs_cb.as_bytes()).collect::<String>()
            )))
            .unwrap()
    };
    let res = app.call(exchange(code, "")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    // A code issued without PKCE can't be redeemed with a verifier (no downgrade games).
    let res = authorize(
        &mut ada,
        &format!("{}&prompt=consent", no_pkce(&conn_id, rs_cb)),
        "acme",
        "approve",
    )
    .await;
    let code = res.location_param("code").unwrap();
    let res = app
        .call(exchange(
            code,
            "&code_verifier=vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv",
        ))
        .await;
    assert_eq!(res.json()["error"], "invalid_grant");

    // Another client on the same redirect host still needs PKCE: the permission is the
    // client's, not the host's.
    let other = register(&app, json!({ "redirect_uris": [rs_cb] })).await;
    let res = ada
        .get_raw(&format!(
            "/oauth/authorize?{}",
            no_pkce(other["client_id"].as_str().unwrap(), rs_cb)
        ))
        .await;
    assert_eq!(
        res.location_param("error").as_deref(),
        Some("invalid_request"),
        "other clients still need PKCE"
    );
    // The old instance-wide exemption by host is refused at start-up, naming its successor.
    let e = server::config::Config::from_sources(
        &[(
            "GATEHOUSE_PKCE_EXEMPT_REDIRECT_HOSTS".to_string(),
            "rs.example.com".to_string(),
        )]
        .into_iter()
        .collect(),
        &Default::default(),
    )
    .unwrap_err();
    assert!(e.message.contains("per-client"), "{e}");
}
