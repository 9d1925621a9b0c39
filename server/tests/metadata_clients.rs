//! Clients identified by a Client ID Metadata Document, through the real router and a real
//! HTTPS server for the documents (a CA the test makes, trusted through
//! GATEHOUSE_EXTRA_CA_FILE): the whole flow, every kind of bad document, caching, the org's
//! policy, and the 2026-07-28 rules around them (registration's application_type, the scopes
//! real connectors send, Origin on the MCP endpoint). Runs on SQLite, and on PostgreSQL when
//! `GATEHOUSE_TEST_POSTGRES_URL` is set.

mod support;

use migration::on_both_backends;

use std::time::Duration;

use app::domain::entities::oauth_client;
use app::model::ClientKind;
use axum::body::Body;
use http::{Request, StatusCode, header};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use support::flow::{CB, MCP, authorize, query, signed_in_with_org};
use support::https_docs::{DocServer, Reply};
use support::{Browser, Response, TestApp, assert_ok, org};

on_both_backends!(
    a_metadata_client_connects_refreshes_and_is_listed,
    bad_documents_are_refused_with_their_reason,
    documents_are_cached_by_their_headers_and_fetched_again_when_stale,
    the_org_decides_which_metadata_clients_may_connect,
    registration_honours_application_type,
);

const DOC: &str = "/apps/tool/client.json";

fn document(server: &DocServer) -> Value {
    json!({
        "client_id": server.url(DOC),
        "client_name": "Tool CLI",
        "client_uri": "https://tool.example",
        // Claude Code's style: loopback without a port, used with whatever port it got.
        "redirect_uris": ["http://127.0.0.1/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    })
}

async fn setup(db: DatabaseConnection) -> (TestApp, DocServer, Browser) {
    let server = DocServer::start().await;
    let env = server.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = TestApp::with_db(db, &env).await;
    let ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    server.set(DOC, Reply::json(&document(&server)));
    (app, server, ada)
}

fn pkce() -> (String, String) {
    let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
    (
        challenge.as_str().to_string(),
        verifier.secret().to_string(),
    )
}

fn auth_query(client_id: &str, challenge: &str, scope: &str) -> String {
    query(&[
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CB),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("state", "s1"),
        ("scope", scope),
        ("resource", MCP),
    ])
}

/// What `/oauth/authorize` shows for this query: the error page's text, or `None` when it
/// went on to consent.
async fn authorize_page(b: &mut Browser, q: &str) -> Option<String> {
    let res = b.get_raw(&format!("/oauth/authorize?{q}")).await;
    if res.status == StatusCode::SEE_OTHER {
        return None;
    }
    assert!(res.location().is_none(), "an error page never redirects");
    Some(res.body)
}

async fn exchange(app: &TestApp, client_id: &str, code: &str, verifier: &str) -> Response {
    app.post_form(
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", verifier),
            ("redirect_uri", CB),
            ("client_id", client_id),
            ("resource", MCP),
        ],
    )
    .await
}

/// Time passes: every stored document is stale.
async fn expire_documents(app: &TestApp) {
    oauth_client::Entity::update_many()
        .col_expr(
            oauth_client::Column::MetadataExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now()),
        )
        .exec(&app.db)
        .await
        .unwrap();
    app.services
        .invalidate(app::domain::access::Invalidation::All);
}

async fn metadata_rows(app: &TestApp) -> u64 {
    oauth_client::Entity::find()
        .filter(oauth_client::Column::Kind.eq(ClientKind::Metadata))
        .count(&app.db)
        .await
        .unwrap()
}

async fn a_metadata_client_connects_refreshes_and_is_listed(db: DatabaseConnection) {
    let (app, server, mut ada) = setup(db).await;
    let meta = app
        .call(
            Request::get("/.well-known/oauth-authorization-server")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .json();
    assert_eq!(meta["client_id_metadata_document_supported"], true);
    assert!(
        meta["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("none"))
    );

    let client_id = server.url(DOC);
    let (challenge, verifier) = pkce();
    // `mcp` is what some connectors send for full access: it means every scope.
    let q = auth_query(&client_id, &challenge, "mcp offline_access openid");
    let res = ada.get_raw(&format!("/oauth/authorize?{q}")).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let consent = ada.get(res.location().unwrap()).await;
    // Named by the domain that serves the document; the name is only its claim.
    assert!(
        consent
            .body
            .contains("localhost wants to access your Gatehouse account"),
        "{}",
        consent.body
    );
    assert_eq!(
        support::testid_text(&consent.body, "claimed-name"),
        "Tool CLI"
    );
    assert!(
        consent.body.contains("mcp:write"),
        "the full set was asked for"
    );

    let res = authorize(&mut ada, &q, "acme", "approve").await;
    let code = res
        .location_param("code")
        .unwrap_or_else(|| panic!("{:?}", res.location()));
    assert!(res.location().unwrap().starts_with(CB));
    let res = exchange(&app, &client_id, &code, &verifier).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let tokens = res.json();
    assert_eq!(tokens["scope"], "mcp:read mcp:write");
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(app.whoami("/mcp", access).await.status, StatusCode::OK);
    let res = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
                ("client_id", &client_id),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    // A secret is refused: the client is public.
    let res = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                (
                    "refresh_token",
                    res.json()["refresh_token"].as_str().unwrap(),
                ),
                ("client_id", &client_id),
                ("client_secret", "anything"),
            ],
        )
        .await;
    assert_eq!(res.json()["error"], "invalid_client");

    // The admin's list: source metadata, the document's URL, when it was fetched.
    let page = ada.get("/admin/oauth-clients?source=metadata").await;
    assert!(page.body.contains(&client_id), "{}", page.body);
    assert!(page.body.contains(r#"data-testid="metadata-fetched""#));
    assert_eq!(metadata_rows(&app).await, 1);
    assert_eq!(
        server.hits(DOC),
        1,
        "fetched once, then used from the store"
    );

    // Scopes nothing usable is left of are refused with invalid_scope, to the app.
    let (challenge, _) = pkce();
    let res = ada
        .get_raw(&format!(
            "/oauth/authorize?{}",
            auth_query(&client_id, &challenge, "openid offline_access")
        ))
        .await;
    assert_eq!(
        res.location_param("error").as_deref(),
        Some("invalid_scope")
    );
}

async fn bad_documents_are_refused_with_their_reason(db: DatabaseConnection) {
    let (app, server, mut ada) = setup(db).await;
    let good = document(&server);
    let with = |path: &str, change: &dyn Fn(&mut Value)| {
        let mut doc = good.clone();
        doc["client_id"] = json!(server.url(path));
        change(&mut doc);
        doc
    };
    let cases: Vec<(&str, Reply, &str)> = vec![
        (
            "/wrong-id.json",
            Reply::json(&with("/wrong-id.json", &|d| {
                d["client_id"] = json!("https://other.example/c.json")
            })),
            "not the address it was fetched from",
        ),
        (
            "/secret-method.json",
            Reply::json(&with("/secret-method.json", &|d| {
                d["token_endpoint_auth_method"] = json!("client_secret_basic")
            })),
            "shared secrets can't be used",
        ),
        (
            "/with-secret.json",
            Reply::json(&with("/with-secret.json", &|d| {
                d["client_secret"] = json!("s3cret")
            })),
            "it contains a client_secret",
        ),
        (
            "/no-uris.json",
            Reply::json(&with("/no-uris.json", &|d| {
                d.as_object_mut().unwrap().remove("redirect_uris");
            })),
            "redirect_uris is required",
        ),
        (
            "/too-large.json",
            Reply::json(&with("/too-large.json", &|d| {
                d["padding"] = json!("x".repeat(6000))
            })),
            "larger than 5120 bytes",
        ),
        (
            "/not-json.json",
            Reply::raw(200, "text/html", b"<html>hello</html>"),
            "not a JSON document",
        ),
        (
            "/broken.json",
            Reply::raw(200, "application/json", b"{\"client_id\": "),
            "not valid JSON",
        ),
        (
            "/moved.json",
            Reply::raw(302, "text/plain", b"")
                .header("location", "https://elsewhere.example/c.json"),
            "answered with a redirect",
        ),
        (
            "/missing.json",
            Reply::raw(404, "text/plain", b"no"),
            "HTTP 404",
        ),
        (
            "/slow.json",
            Reply::json(&with("/slow.json", &|_| {})).delayed(Duration::from_secs(8)),
            "longer than 5 seconds",
        ),
    ];
    for (path, reply, why) in cases {
        server.set(path, reply);
        let (challenge, _) = pkce();
        let page = authorize_page(
            &mut ada,
            &auth_query(&server.url(path), &challenge, "mcp:read"),
        )
        .await
        .unwrap_or_else(|| panic!("{path} was accepted"));
        assert!(page.contains(why), "{path}: expected “{why}” in\n{page}");
    }
    // A redirect URI the document doesn't list: the error page, never a redirect.
    let q = auth_query(&server.url(DOC), &pkce().0, "mcp:read").replace(
        &url::form_urlencoded::byte_serialize(CB.as_bytes()).collect::<String>(),
        &url::form_urlencoded::byte_serialize(b"https://evil.example/cb").collect::<String>(),
    );
    let page = authorize_page(&mut ada, &q).await.expect("refused");
    assert!(page.contains("is not registered for Tool CLI"), "{page}");
    // Client IDs that aren't proper document URLs.
    for (bad, why) in [
        ("http://localhost/c.json", "must be an https URL"),
        (&server.url("/")[..], "must have a path"),
        (
            &format!("{}?x=1", server.url(DOC))[..],
            "must not have a query",
        ),
    ] {
        let page = authorize_page(&mut ada, &auth_query(bad, &pkce().0, "mcp:read"))
            .await
            .expect("refused");
        assert!(page.contains(why), "{bad}: {page}");
    }
    let stored: Vec<String> = oauth_client::Entity::find()
        .filter(oauth_client::Column::Kind.eq(ClientKind::Metadata))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    assert_eq!(
        stored,
        [server.url(DOC)],
        "nothing was stored from a bad document"
    );

    // Without the unsafe setting, loopback (like any private address) is never fetched.
    let strict = TestApp::with_db(
        support::fresh_like(&app.db).await,
        &[("GATEHOUSE_EXTRA_CA_FILE", server.ca_file.to_str().unwrap())],
    )
    .await;
    let mut b = signed_in_with_org(&strict, "bob@example.com", "beta").await;
    let before = server.hits(DOC);
    for (url, why) in [
        (server.url(DOC), "localhost resolves to no public address"),
        (
            "https://10.1.2.3/c.json".to_string(),
            "10.1.2.3 is not a public address",
        ),
        (
            "https://169.254.169.254/latest/meta-data".to_string(),
            "169.254.169.254 is not a public address",
        ),
    ] {
        let page = authorize_page(&mut b, &auth_query(&url, &pkce().0, "mcp:read"))
            .await
            .expect("refused");
        assert!(page.contains(why), "{url}: {page}");
    }
    assert_eq!(server.hits(DOC), before, "no connection was made");

    // Metadata documents switched off for the instance: refused, and not advertised.
    let off = TestApp::with_db(
        support::fresh_like(&app.db).await,
        &[("GATEHOUSE_METADATA_DOCUMENTS", "off")],
    )
    .await;
    let meta = off
        .call(
            Request::get("/.well-known/oauth-authorization-server")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .json();
    assert_eq!(meta["client_id_metadata_document_supported"], false);
    let mut c = signed_in_with_org(&off, "cy@example.com", "gamma").await;
    let page = authorize_page(&mut c, &auth_query(&server.url(DOC), &pkce().0, "mcp:read"))
        .await
        .expect("refused");
    assert!(
        page.contains("doesn&#x27;t accept apps that identify themselves with a metadata document")
            || page
                .contains("doesn't accept apps that identify themselves with a metadata document"),
        "{page}"
    );
}

async fn documents_are_cached_by_their_headers_and_fetched_again_when_stale(
    db: DatabaseConnection,
) {
    let (app, server, mut ada) = setup(db).await;
    let client_id = server.url(DOC);
    for _ in 0..3 {
        assert!(
            authorize_page(&mut ada, &auth_query(&client_id, &pkce().0, "mcp:read"))
                .await
                .is_none()
        );
    }
    assert_eq!(server.hits(DOC), 1, "max-age=600: fetched once");
    let row = oauth_client::Entity::find()
        .filter(oauth_client::Column::ClientId.eq(&client_id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let ttl = row.metadata_expires_at.unwrap() - row.metadata_fetched_at.unwrap();
    assert_eq!(ttl.num_seconds(), 600);

    // The document changes its redirect URIs; once the stored copy is stale, the new list
    // holds (and the old one no longer does).
    let mut changed = document(&server);
    changed["redirect_uris"] = json!(["https://tool.example/callback"]);
    server.set(
        DOC,
        Reply::json(&changed).header("cache-control", "no-store"),
    );
    expire_documents(&app).await;
    let page = authorize_page(&mut ada, &auth_query(&client_id, &pkce().0, "mcp:read"))
        .await
        .expect("refused");
    assert!(page.contains("is not registered"), "{page}");
    assert_eq!(server.hits(DOC), 2);
    let row = oauth_client::Entity::find()
        .filter(oauth_client::Column::ClientId.eq(&client_id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.metadata_expires_at.unwrap() - row.metadata_fetched_at.unwrap()).num_seconds(),
        60,
        "no-store is kept as briefly as allowed"
    );
    assert_eq!(metadata_rows(&app).await, 1, "the same client, updated");

    // A document that disappears: the client fails with the reason, at the token endpoint as
    // invalid_client; nothing else is affected.
    server.set(DOC, Reply::raw(404, "text/plain", b"gone"));
    expire_documents(&app).await;
    let res = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", "gate_rt_whatever"),
                ("client_id", &client_id),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.json()["error"], "invalid_client");
    assert!(
        res.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("HTTP 404")
    );
    let reg = support::flow::public_client(&app).await;
    assert!(
        authorize_page(&mut ada, &support::flow::auth_query(&reg, &pkce().0, &[]))
            .await
            .is_none(),
        "other clients work"
    );
}

async fn set_policy(app: &TestApp, change: app::domain::org_policy::PolicyChange) {
    let acme = org(app, "acme").await;
    let ada = support::user_id(app, "ada@example.com").await;
    app::domain::org_policy::update(&app.services, ada, acme.id, &change, &Default::default())
        .await
        .unwrap();
}

async fn the_org_decides_which_metadata_clients_may_connect(db: DatabaseConnection) {
    use app::domain::org_policy::PolicyChange;
    let (app, server, mut ada) = setup(db).await;
    let client_id = server.url(DOC);
    let (challenge, verifier) = pkce();
    let q = auth_query(&client_id, &challenge, "mcp:read");
    let res = authorize(&mut ada, &q, "acme", "approve").await;
    let code = res.location_param("code").unwrap();
    let tokens = exchange(&app, &client_id, &code, &verifier).await.json();
    let access = tokens["access_token"].as_str().unwrap().to_string();
    assert_eq!(app.whoami("/mcp", &access).await.status, StatusCode::OK);

    for (change, words) in [
        (
            PolicyChange {
                metadata_clients_enabled: Some(false),
                ..Default::default()
            },
            "doesn't allow apps that identify themselves with a metadata document",
        ),
        (
            PolicyChange {
                blocked_client_domains: Some(vec!["localhost".into()]),
                ..Default::default()
            },
            "has blocked apps from localhost",
        ),
        (
            PolicyChange {
                allowed_client_domains: Some(vec!["claude.ai".into()]),
                ..Default::default()
            },
            "only allows apps from claude.ai. This app is from localhost.",
        ),
    ] {
        set_policy(&app, change).await;
        // Its token stops at once, with the words…
        let res = app.whoami("/mcp", &access).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
        assert!(res.body.contains(words), "{words}: {}", res.body);
        // …and the consent screen says so.
        let (challenge, _) = pkce();
        let res = authorize(
            &mut ada,
            &auth_query(&client_id, &challenge, "mcp:read"),
            "acme",
            "approve",
        )
        .await;
        let e = support::refused(&res);
        assert!(e.to_string().contains(words), "{words}: {e}");
        // Back to open for the next case.
        set_policy(
            &app,
            PolicyChange {
                metadata_clients_enabled: Some(true),
                allowed_client_domains: Some(vec![]),
                blocked_client_domains: Some(vec![]),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(app.whoami("/mcp", &access).await.status, StatusCode::OK);
    }
    // The settings form takes the lists, and names a bad entry.
    let res = ada
        .submit(
            "/admin/settings",
            "/fn/update_org_settings",
            &[
                ("mcp_enabled", "on"),
                ("personal_tokens_enabled", "on"),
                ("mcp_oauth_pats_enabled", "on"),
                ("dynamic_registration_enabled", "on"),
                ("metadata_clients_enabled", "on"),
                ("allowed_client_domains", "claude.ai\nhttps://bad.example/x"),
                ("blocked_client_domains", ""),
                ("allowed_redirect_hosts", ""),
                ("access_token_ttl_minutes", "60"),
                ("refresh_token_ttl_days", "30"),
                ("pat_max_ttl_days", "365"),
                ("two_factor_policy", "off"),
            ],
        )
        .await;
    assert_eq!(
        support::refused(&res).field(),
        Some("allowed_client_domains")
    );
    // And the REST API.
    let policy = app::domain::org_policy::of(&org(&app, "acme").await);
    assert!(policy.metadata_clients_enabled && policy.allowed_client_domains.is_empty());
    assert_ok(&ada.get("/admin/settings").await);
}

async fn registration_honours_application_type(db: DatabaseConnection) {
    let app = TestApp::with_db(db, &[]).await;
    for (body, error, words) in [
        (
            json!({ "redirect_uris": ["http://127.0.0.1:9/cb"], "application_type": "web" }),
            "invalid_redirect_uri",
            "redirect_uris[0]: http://127.0.0.1:9/cb: a web application's redirect URIs must use https",
        ),
        (
            json!({ "redirect_uris": ["https://ok.example/cb", "cursor://anysphere.cursor-mcp/cb"], "application_type": "web" }),
            "invalid_redirect_uri",
            "redirect_uris[1]",
        ),
        (
            json!({ "redirect_uris": ["https://ok.example/cb"], "application_type": "desktop" }),
            "invalid_client_metadata",
            "application_type \"desktop\" is not one of web, native",
        ),
    ] {
        let res = app.post_json("/oauth/register", body.clone()).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{body}: {}", res.body);
        assert_eq!(res.json()["error"], error, "{body}");
        let d = res.json()["error_description"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(d.contains(words), "{body}: {d}");
    }
    for body in [
        json!({ "redirect_uris": ["http://127.0.0.1:9/cb", "cursor://anysphere.cursor-mcp/cb"], "application_type": "native", "token_endpoint_auth_method": "none" }),
        json!({ "redirect_uris": ["https://app.example/cb"], "application_type": "web" }),
        json!({ "redirect_uris": ["http://localhost:9/cb"] }),
    ] {
        let res = app.post_json("/oauth/register", body.clone()).await;
        assert_eq!(res.status, StatusCode::CREATED, "{body}: {}", res.body);
        assert!(
            !res.json()["client_id"]
                .as_str()
                .unwrap()
                .starts_with("https://")
        );
        if let Some(t) = body.get("application_type") {
            assert_eq!(&res.json()["application_type"], t);
        }
    }
    // The MCP endpoint refuses a browser request from a foreign origin (before looking at a
    // token: the page learns nothing, not even 401); its own origin passes on to the bearer
    // check.
    for (origin, status) in [
        ("https://evil.example", StatusCode::FORBIDDEN),
        ("http://127.0.0.1:3000", StatusCode::UNAUTHORIZED),
    ] {
        let res = app
            .call(
                Request::post("/mcp")
                    .header(header::ORIGIN, origin)
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(header::ACCEPT, "application/json, text/event-stream")
                    .header(header::AUTHORIZATION, "Bearer gate_at_notreal")
                    .body(Body::from(
                        json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" }).to_string(),
                    ))
                    .unwrap(),
            )
            .await;
        assert_eq!(res.status, status, "{origin}: {}", res.body);
    }
}
