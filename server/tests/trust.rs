//! The holes the trust core closes, each as an attacker or a careless client would find it,
//! through the real router: remembered consent outliving its connection, open redirects,
//! parallel password guessing, look-alike redirect schemes, revoked grants that still rotate,
//! a client choosing its own address, scope and client-authentication slips, anonymous traffic
//! filling the database, and sessions that survive a password change. Runs on SQLite, and on
//! PostgreSQL when `GATEHOUSE_TEST_POSTGRES_URL` is set.

mod support;

use migration::on_both_backends;

use std::net::SocketAddr;

use app::domain::RequestMeta;
use app::domain::access::{Denial, Invalidation, Invalidations, Purpose};
use app::domain::entities::{audit_event, connection, oauth_client, session, token};
use app::domain::oauth::resource::McpResource;
use app::domain::oauth::rotation_writer::{self, Rotation};
use app::domain::oauth::tokens;
use app::domain::org_policy::{self, PolicyChange};
use app::domain::users;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Request, StatusCode, header};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use serde_json::json;
use support::flow::{
    CB, auth_query, authorize, connect, public_client, query, register, signed_in_with_org,
};
use support::{Browser, ORIGIN, PASSWORD, Response, TestApp, org, redirected_error, user_id};

on_both_backends!(
    remembered_consent_ends_with_its_connection,
    remembered_consent_is_for_its_redirect_uri,
    errors_go_back_only_to_apps_someone_vouches_for,
    redirect_allow_lists_compare_scheme_and_host,
    a_revoked_grant_is_never_rotated,
    revoking_a_refresh_token_ends_its_connection,
    no_cache_outlives_a_revocation,
    a_refresh_can_narrow_its_scope,
    registration_documents_are_bounded,
    pending_authorizations_are_bounded_per_address,
    a_password_change_ends_the_other_sessions,
    a_disabled_account_is_out_everywhere,
);

const ORG_MCP: &str = "http://127.0.0.1:3000/o/acme/mcp";

/// What `/oauth/authorize` does with this query for browser `b`: the consent screen, or
/// (remembered) straight back to the app.
async fn asks_consent(b: &mut Browser, q: &str) -> bool {
    let res = b.get_raw(&format!("/oauth/authorize?{q}")).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let to = res.location().unwrap();
    if to.starts_with(CB) {
        assert!(res.location_param("code").is_some(), "{to}");
        return false;
    }
    assert!(to.starts_with("/oauth/consent/"), "{to}");
    true
}

fn fresh_query(client_id: &str) -> String {
    let (challenge, _) = oauth2::PkceCodeChallenge::new_random_sha256();
    auth_query(client_id, challenge.as_str(), &[("resource", ORG_MCP)]).replace(
        &format!(
            "resource={}&",
            url::form_urlencoded::byte_serialize(support::flow::MCP.as_bytes()).collect::<String>()
        ),
        "",
    )
}

async fn connection_of(app: &TestApp, access: &str) -> uuid::Uuid {
    tokens::find_by_secret(&app.db, access)
        .await
        .unwrap()
        .unwrap()
        .connection_id
        .unwrap()
}

async fn bearer(app: &TestApp, secret: &str, slug: &str) -> Result<(), Denial> {
    app.services
        .access()
        .check(secret, Purpose::Mcp(&McpResource::Org(slug.into())))
        .await
        .unwrap()
        .map(|_| ())
}

/// 5a: a remembered consent is worth nothing once the connection it was given for ends.
async fn remembered_consent_ends_with_its_connection(db: DatabaseConnection) {
    let app = TestApp::with_db(db, &[("GATEHOUSE_REFRESH_GRACE_SECS", "0")]).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let acme = org(&app, "acme").await.id;
    let ada_id = user_id(&app, "ada@example.com").await;
    let meta = RequestMeta::default();

    // Each way a connection ends, then the next authorization of the same app.
    for ending in [
        "the user disconnects",
        "an admin revokes it",
        "an admin revokes the app for the org",
        "its code is replayed",
        "its refresh token is reused",
    ] {
        let t = connect(&app, &mut ada, ORG_MCP, "mcp:read mcp:write", "acme").await;
        let client_id = t["client_id"].as_str().unwrap().to_string();
        let access = t["access_token"].as_str().unwrap().to_string();
        // Remembered while the connection stands.
        assert!(
            !asks_consent(&mut ada, &fresh_query(&client_id)).await,
            "{ending}: remembered before"
        );
        let conn = connection_of(&app, &access).await;
        match ending {
            "the user disconnects" => {
                app::domain::connections::revoke_own(&app.services, ada_id, conn, &meta)
                    .await
                    .unwrap();
            }
            "an admin revokes it" => {
                app::domain::org_admin::revoke_token(&app.services, ada_id, acme, conn, &meta)
                    .await
                    .unwrap();
            }
            "an admin revokes the app for the org" => {
                app::domain::org_admin::block_client(
                    &app.services,
                    ada_id,
                    acme,
                    &client_id,
                    &meta,
                )
                .await
                .unwrap();
                app::domain::org_admin::unblock_client(
                    &app.services,
                    ada_id,
                    acme,
                    &client_id,
                    &meta,
                )
                .await
                .unwrap();
            }
            "its code is replayed" => {
                // A fresh code (remembered consent), redeemed twice.
                let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
                let q = auth_query(&client_id, challenge.as_str(), &[("resource", ORG_MCP)])
                    .replace(
                        &format!(
                            "resource={}&",
                            url::form_urlencoded::byte_serialize(support::flow::MCP.as_bytes())
                                .collect::<String>()
                        ),
                        "",
                    );
                let res = authorize(&mut ada, &q, "acme", "approve").await;
                let code = res.location_param("code").unwrap();
                let form = [
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("client_id", client_id.as_str()),
                    ("code_verifier", verifier.secret().as_str()),
                    ("redirect_uri", CB),
                ];
                assert_eq!(
                    app.post_form("/oauth/token", &form).await.status,
                    StatusCode::OK
                );
                let again = app.post_form("/oauth/token", &form).await;
                assert_eq!(again.json()["error"], "invalid_grant");
            }
            _ => {
                let rt = t["refresh_token"].as_str().unwrap();
                let form = [
                    ("grant_type", "refresh_token"),
                    ("refresh_token", rt),
                    ("client_id", client_id.as_str()),
                ];
                assert_eq!(
                    app.post_form("/oauth/token", &form).await.status,
                    StatusCode::OK
                );
                tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
                let reuse = app.post_form("/oauth/token", &form).await;
                assert_eq!(reuse.json()["error"], "invalid_grant", "{}", reuse.body);
            }
        }
        assert!(
            asks_consent(&mut ada, &fresh_query(&client_id)).await,
            "{ending}: the consent screen again"
        );
    }
}

/// AZ-11: remembered consent is keyed by the redirect URI too.
async fn remembered_consent_is_for_its_redirect_uri(db: DatabaseConnection) {
    let app = TestApp::with_db(db, &[]).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let other = "http://127.0.0.1:7777/other-callback";
    let reg = register(
        &app,
        json!({ "client_name": "Two callbacks", "redirect_uris": [CB, other], "token_endpoint_auth_method": "none" }),
    )
    .await;
    let client_id = reg["client_id"].as_str().unwrap();
    let (challenge, _) = oauth2::PkceCodeChallenge::new_random_sha256();
    let q = auth_query(client_id, challenge.as_str(), &[]);
    authorize(&mut ada, &q, "acme", "approve").await;
    assert!(!asks_consent(&mut ada, &q).await, "remembered for CB");
    let elsewhere = q.replace(
        &url::form_urlencoded::byte_serialize(CB.as_bytes()).collect::<String>(),
        &url::form_urlencoded::byte_serialize(other.as_bytes()).collect::<String>(),
    );
    assert!(
        asks_consent(&mut ada, &elsewhere).await,
        "another redirect URI asks again"
    );
}

/// 5c: no open redirects: `next` after sign-in stays on the site, and `/oauth/authorize`
/// sends a signed-out visitor's errors only to apps someone vouches for.
async fn errors_go_back_only_to_apps_someone_vouches_for(db: DatabaseConnection) {
    let app = TestApp::with_db(db, &[]).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    ada.submit("/", "/logout", &[]).await;
    for next in [
        "/\t/evil.example",
        "/\\evil.example",
        "//evil.example",
        "https://evil.example",
        "/%0d%0aSet-Cookie:x",
    ] {
        let decoded: String = url::form_urlencoded::parse(format!("n={next}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned();
        let res = ada
            .submit(
                "/login",
                "/fn/login",
                &[
                    ("email", "ada@example.com"),
                    ("password", PASSWORD),
                    ("next", &decoded),
                ],
            )
            .await;
        assert_eq!(res.location(), Some("/"), "{next:?}");
        ada.submit("/", "/logout", &[]).await;
    }

    // Ada's own OAuth app (any member can make one, with any https redirect URI).
    let ada_again = {
        let mut b = app.browser();
        b.log_in("ada@example.com", PASSWORD).await;
        b
    };
    let mut ada = ada_again;
    let res = ada
        .submit(
            "/settings/oauth-apps/new",
            "/fn/create_oauth_app",
            &[
                ("name", "Phishing helper"),
                ("redirect_uris", "https://evil.example/cb"),
                ("scopes[]", "mcp:read"),
                ("client_type", "public"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert!(
        redirected_error(&res).is_none(),
        "{:?}",
        redirected_error(&res)
    );
    let user_app = oauth_client::Entity::find()
        .filter(oauth_client::Column::Name.eq("Phishing helper"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let dynamic = public_client(&app).await;
    let (org_app, _) = support::flow::org_resource_server(&app, "ada@example.com", "acme").await;
    let bad = |client_id: &str, redirect: &str| {
        query(&[
            ("response_type", "token"),
            ("client_id", client_id),
            ("redirect_uri", redirect),
            ("state", "s"),
        ])
    };
    let mut anon = app.browser();
    for (who, q) in [
        (
            "a member's own app",
            bad(&user_app.client_id, "https://evil.example/cb"),
        ),
        ("a self-registered app", bad(&dynamic, CB)),
    ] {
        let res = anon.get_raw(&format!("/oauth/authorize?{q}")).await;
        assert_eq!(
            res.status,
            StatusCode::BAD_REQUEST,
            "{who}: {:?}",
            res.location()
        );
        assert!(res.location().is_none(), "{who}");
        assert!(
            res.body.contains("only after you sign in"),
            "{who}: {}",
            res.body
        );
        // Signed in, the app gets its error as OAuth says.
        let res = ada.get_raw(&format!("/oauth/authorize?{q}")).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{who}");
        assert_eq!(
            res.location_param("error").as_deref(),
            Some("unsupported_response_type")
        );
    }
    // The org's own app (its admins entered its redirect URIs) gets its error at once.
    let res = anon
        .get_raw(&format!(
            "/oauth/authorize?{}",
            bad(&org_app, "https://rs.example.com/cb")
        ))
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(
        res.location()
            .unwrap()
            .starts_with("https://rs.example.com/cb?error=unsupported_response_type")
    );
}

/// 5e: an org's allowed redirect hosts compare the scheme as well: `evil://claude.ai` is not
/// `https://claude.ai`.
async fn redirect_allow_lists_compare_scheme_and_host(db: DatabaseConnection) {
    let app = TestApp::with_db(db, &[]).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    org_policy::update(
        &app.services,
        user_id(&app, "ada@example.com").await,
        org(&app, "acme").await.id,
        &PolicyChange {
            allowed_redirect_hosts: Some(vec!["claude.ai".into()]),
            ..Default::default()
        },
        &RequestMeta::default(),
    )
    .await
    .unwrap();
    for (redirect, allowed) in [
        ("https://claude.ai/api/mcp/auth_callback", true),
        ("evil://claude.ai/cb", false),
        ("http://127.0.0.1:7777/callback", false),
    ] {
        let reg = register(
            &app,
            json!({ "client_name": "App", "redirect_uris": [redirect] }),
        )
        .await;
        let (challenge, _) = oauth2::PkceCodeChallenge::new_random_sha256();
        let q = auth_query(reg["client_id"].as_str().unwrap(), challenge.as_str(), &[]).replace(
            &url::form_urlencoded::byte_serialize(CB.as_bytes()).collect::<String>(),
            &url::form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>(),
        );
        let res = ada.get_raw(&format!("/oauth/authorize?{q}")).await;
        let page = ada.get(res.location().unwrap()).await;
        assert_eq!(
            !page
                .body
                .contains("only allows apps that return to claude.ai"),
            allowed,
            "{redirect}: {}",
            page.body
        );
        if !allowed {
            // The screen names where the app really goes, scheme included.
            let shown = app::domain::oauth::redirect_uri::display_origin(redirect);
            assert!(
                page.body.contains(&format!("This app returns to {shown}")),
                "{}",
                page.body
            );
        }
    }
}

/// 5f: a refresh token revoked after it was read is never rotated.
async fn a_revoked_grant_is_never_rotated(db: DatabaseConnection) {
    let app = TestApp::with_db(db, &[]).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let t = connect(&app, &mut ada, ORG_MCP, "mcp:read", "acme").await;
    let rt = tokens::find_by_secret(&app.db, t["refresh_token"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    // The grant read (as a refresh reads it), then the connection revoked, then the claim.
    let rotation = Rotation {
        old_id: rt.id,
        grace_response: None,
        new_tokens: vec![],
        audit: app::domain::audit::row(
            app::domain::audit::AuditEntry::new("oauth.token.refreshed"),
            &RequestMeta::default(),
        ),
    };
    tokens::revoke_connection(&app.db, rt.connection_id.unwrap(), None, "test")
        .await
        .unwrap();
    let claimed = rotation_writer::rotate_alone(&app.db, &rotation)
        .await
        .unwrap();
    assert!(!claimed, "a revoked token is not claimed");
    let row = token::Entity::find_by_id(rt.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.rotated_at.is_none());
    // Through the token endpoint: the revocation is the answer, not a reuse alarm.
    let res = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", t["refresh_token"].as_str().unwrap()),
                ("client_id", t["client_id"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(
        res.json()["error_description"],
        Denial::TokenRevoked.to_string()
    );
}

/// 5f: RFC 7009 revocation of a refresh token ends its connection, and so its consent.
async fn revoking_a_refresh_token_ends_its_connection(db: DatabaseConnection) {
    let app = TestApp::with_db(db, &[]).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let t = connect(&app, &mut ada, ORG_MCP, "mcp:read", "acme").await;
    let access = t["access_token"].as_str().unwrap();
    let client_id = t["client_id"].as_str().unwrap();
    assert_eq!(bearer(&app, access, "acme").await, Ok(()));
    let res = app
        .post_form(
            "/oauth/revoke",
            &[
                ("token", t["refresh_token"].as_str().unwrap()),
                ("token_type_hint", "refresh_token"),
                ("client_id", client_id),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let conn = connection::Entity::find_by_id(connection_of(&app, access).await)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(conn.revoked_at.is_some(), "the connection ended");
    assert_eq!(
        bearer(&app, access, "acme").await,
        Err(Denial::TokenRevoked)
    );
    assert!(asks_consent(&mut ada, &fresh_query(client_id)).await);
}

/// 3 and 5f: caches are emptied after the change commits, so no request racing a revocation
/// can cache "allowed" again; and every published change reaches subscribers (other
/// processes) only once it can be read.
async fn no_cache_outlives_a_revocation(db: DatabaseConnection) {
    let app = TestApp::with_db(db, &[]).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let ada_id = user_id(&app, "ada@example.com").await;
    let mut grants = Vec::new();
    for _ in 0..12 {
        let t = connect(&app, &mut ada, ORG_MCP, "mcp:read", "acme").await;
        let access = t["access_token"].as_str().unwrap().to_string();
        grants.push((connection_of(&app, &access).await, access));
    }
    // A subscriber reads each change back the moment it is told.
    let mut told = app.services.caches.subscribe();
    let db = app.db.clone();
    let watcher = tokio::spawn(async move {
        let mut seen = 0;
        while seen < 12 {
            if told.recv().await.unwrap() != Invalidation::All {
                continue;
            }
            seen += 1;
            let live = connection::Entity::find()
                .filter(connection::Column::RevokedAt.is_null())
                .count(&db)
                .await
                .unwrap() as usize;
            if live > 12 - seen {
                return Err(format!(
                    "told of change {seen} while {live} connections were live"
                ));
            }
        }
        Ok(seen)
    });
    // Readers hammer the bearer check while the connections are revoked one by one.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for r in 0..3 {
        let (s, stop, tokens) = (
            app.services.clone(),
            stop.clone(),
            grants.iter().map(|g| g.1.clone()).collect::<Vec<_>>(),
        );
        readers.push(tokio::spawn(async move {
            let mut i = r;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = s
                    .access()
                    .check(
                        &tokens[i % tokens.len()],
                        Purpose::Mcp(&McpResource::Org("acme".into())),
                    )
                    .await;
                i += 1;
                tokio::task::yield_now().await;
            }
        }));
    }
    for (conn, access) in &grants {
        app::domain::connections::revoke_own(&app.services, ada_id, *conn, &RequestMeta::default())
            .await
            .unwrap();
        // The very next check, and every one after it, is refused.
        for _ in 0..3 {
            assert_eq!(
                bearer(&app, access, "acme").await,
                Err(Denial::TokenRevoked)
            );
            tokio::task::yield_now().await;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        r.await.unwrap();
    }
    for (_, access) in &grants {
        assert_eq!(
            bearer(&app, access, "acme").await,
            Err(Denial::TokenRevoked)
        );
    }
    let seen = tokio::time::timeout(std::time::Duration::from_secs(30), watcher)
        .await
        .expect("every change was published")
        .unwrap()
        .unwrap();
    assert_eq!(seen, 12);
}

/// 5h: a refresh may ask for less than the grant: the new access token carries only that,
/// the new refresh token the whole grant (RFC 6749 §6).
async fn a_refresh_can_narrow_its_scope(db: DatabaseConnection) {
    let app = TestApp::with_db(db, &[]).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let t = connect(&app, &mut ada, ORG_MCP, "mcp:read mcp:write", "acme").await;
    let client_id = t["client_id"].as_str().unwrap();
    let res = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", t["refresh_token"].as_str().unwrap()),
                ("client_id", client_id),
                ("scope", "mcp:read"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let narrow = res.json();
    assert_eq!(narrow["scope"], "mcp:read");
    let access = narrow["access_token"].as_str().unwrap();
    let p = app
        .services
        .access()
        .check(access, Purpose::Mcp(&McpResource::Org("acme".into())))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.scopes().to_string(), "mcp:read");
    let rt = tokens::find_by_secret(&app.db, narrow["refresh_token"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        rt.scope, "mcp:read mcp:write",
        "the refresh token keeps the grant"
    );
    let res = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", narrow["refresh_token"].as_str().unwrap()),
                ("client_id", client_id),
            ],
        )
        .await;
    assert_eq!(res.json()["scope"], "mcp:read mcp:write");
    // Nothing usable left: invalid_scope, and the token isn't spent.
    let rt = res.json()["refresh_token"].as_str().unwrap().to_string();
    let res = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
                ("client_id", client_id),
                ("scope", "openid"),
            ],
        )
        .await;
    assert_eq!(res.json()["error"], "invalid_scope");
    let res = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
                ("client_id", client_id),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

/// 5i: dynamic registration bounds every member and the whole document; nothing is stored
/// when it refuses.
async fn registration_documents_are_bounded(db: DatabaseConnection) {
    let app = TestApp::with_db(db, &[]).await;
    let base = json!({ "client_name": "App", "redirect_uris": [CB] });
    let with = |k: &str, v: serde_json::Value| {
        let mut doc = base.clone();
        doc[k] = v;
        doc
    };
    let mut extra = base.clone();
    for i in 0..33 {
        extra[format!("x_{i}")] = json!(i);
    }
    let cases = [
        (
            "contacts",
            with("contacts", json!(vec!["a@example.com"; 11])),
        ),
        ("contact", with("contacts", json!(["a".repeat(400)]))),
        ("software_id", with("software_id", json!("s".repeat(201)))),
        ("software_version", with("software_version", json!("1\n2"))),
        ("scope", with("scope", json!("mcp:read ".repeat(200)))),
        ("many extra members", extra),
        (
            "one big extra member",
            with("x_notes", json!("n".repeat(5000))),
        ),
        ("redirect_uris", with("redirect_uris", json!(vec![CB; 11]))),
        ("client_name", with("client_name", json!("n".repeat(201)))),
    ];
    for (what, doc) in cases {
        let res = app.post_json("/oauth/register", doc).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{what}: {}", res.body);
        let error = res.json()["error"].as_str().unwrap().to_string();
        assert!(
            matches!(
                error.as_str(),
                "invalid_client_metadata" | "invalid_redirect_uri"
            ),
            "{what}: {error}"
        );
    }
    // The whole document: 16 KiB at most, before it is even parsed.
    let mut huge = base.clone();
    huge["client_uri"] = json!(format!("https://example.com/{}", "a".repeat(17_000)));
    let res = app.post_json("/oauth/register", huge).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(
        res.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("16 KiB")
    );
    assert_eq!(
        oauth_client::Entity::find().count(&app.db).await.unwrap(),
        0,
        "nothing stored"
    );
    // Within the bounds, the extra members come back as sent.
    let ok = with("x_notes", json!("n".repeat(100)));
    let res = app.post_json("/oauth/register", ok).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.json()["x_notes"], "n".repeat(100));
}

/// A request as it arrives from `peer` (the router sees its address through `ConnectInfo`).
fn from(peer: &str, b: &Browser, path: &str) -> Request<Body> {
    let mut req = b
        .with_cookie(Request::get(path))
        .body(Body::empty())
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    req
}

/// 5i: authorization requests wait on the server for their person, so each client address may
/// have only so many waiting.
async fn pending_authorizations_are_bounded_per_address(db: DatabaseConnection) {
    let app = TestApp::with_db(db, &[]).await;
    signed_in_with_org(&app, "ada@example.com", "acme").await;
    let client_id = public_client(&app).await;
    let mut anon = app.browser();
    let limit = app.services.settings.oauth.max_pending_requests_per_address;
    for _ in 0..limit {
        let (challenge, _) = oauth2::PkceCodeChallenge::new_random_sha256();
        let q = auth_query(&client_id, challenge.as_str(), &[]);
        let res = anon
            .send(from(
                "198.51.100.9:4000",
                &anon,
                &format!("/oauth/authorize?{q}"),
            ))
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
    }
    let (challenge, _) = oauth2::PkceCodeChallenge::new_random_sha256();
    let q = auth_query(&client_id, challenge.as_str(), &[]);
    let res = anon
        .send(from(
            "198.51.100.9:4001",
            &anon,
            &format!("/oauth/authorize?{q}"),
        ))
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.body);
    assert!(res.body.contains("Too many sign-in requests"));
    // Another address is not held up by this one.
    let res = anon
        .send(from(
            "203.0.113.5:4000",
            &anon,
            &format!("/oauth/authorize?{q}"),
        ))
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app::domain::entities::authorization_request::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        limit + 1
    );
}

/// 5g and 5j: a password change ends every other session of the account, and the audit log
/// records the client's address as the proxies saw it, not as the client claimed it.
async fn a_password_change_ends_the_other_sessions(db: DatabaseConnection) {
    let app = TestApp::with_db(
        db,
        &[
            ("GATEHOUSE_TRUST_FORWARDED_FOR", "on"),
            ("GATEHOUSE_TRUSTED_PROXIES", "10.0.0.0/8"),
        ],
    )
    .await;
    let mut laptop = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let mut phone = app.browser();
    phone.log_in("ada@example.com", PASSWORD).await;
    assert_eq!(phone.get("/account").await.status, StatusCode::OK);
    // The change, from the laptop, through two proxies; the client claims another address.
    let csrf = laptop.get("/account").await.csrf();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("csrf", csrf.as_str()),
            ("current_password", PASSWORD),
            ("new_password", "an entirely new passphrase"),
        ])
        .finish();
    let mut req = laptop
        .with_cookie(Request::post("/fn/change_password"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .header(header::ORIGIN, ORIGIN)
        .header(header::REFERER, format!("{ORIGIN}/account"))
        .header("x-forwarded-for", "1.2.3.4, 198.51.100.9, 10.1.1.1")
        .body(Body::from(body))
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo("10.0.0.2:5555".parse::<SocketAddr>().unwrap()));
    let res: Response = laptop.send(req).await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert!(redirected_error(&res).is_none(), "{:?}", res.location());
    // The laptop stays signed in (on a new session id); the phone is signed out.
    assert_eq!(laptop.get("/account").await.status, StatusCode::OK);
    let res = phone.get("/account").await;
    assert_eq!(res.status, StatusCode::FOUND);
    assert_eq!(res.location(), Some("/login?next=%2Faccount"));
    let event = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("user.password_changed"))
        .order_by_desc(audit_event::Column::CreatedAt)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.ip.as_deref(), Some("198.51.100.9"));
}

/// 2: an operator disables an account: its sessions end, its tokens stop, it can't sign in;
/// enabled again, its tokens work again.
async fn a_disabled_account_is_out_everywhere(db: DatabaseConnection) {
    let app = TestApp::with_db(db, &[]).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let t = connect(&app, &mut ada, ORG_MCP, "mcp:read", "acme").await;
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(bearer(&app, access, "acme").await, Ok(()));
    let user = users::find_by_email(&app.db, "ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(
        users::set_disabled(&app.services, &user, true, &RequestMeta::default())
            .await
            .unwrap()
    );
    assert_eq!(
        session::Entity::find()
            .filter(session::Column::UserId.eq(user.id))
            .count(&app.db)
            .await
            .unwrap(),
        0,
        "its sessions are gone"
    );
    assert_eq!(ada.get("/account").await.status, StatusCode::FOUND);
    assert_eq!(
        bearer(&app, access, "acme").await,
        Err(Denial::AccountDisabled)
    );
    let mut again = app.browser();
    let res = again.log_in("ada@example.com", PASSWORD).await;
    assert_eq!(
        redirected_error(&res).unwrap().to_string(),
        "Incorrect email or password."
    );
    assert!(
        users::set_disabled(&app.services, &user, false, &RequestMeta::default())
            .await
            .unwrap()
    );
    assert_eq!(bearer(&app, access, "acme").await, Ok(()));
    assert_eq!(
        again.log_in("ada@example.com", PASSWORD).await.location(),
        Some("/")
    );
}
