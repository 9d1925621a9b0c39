//! `gatehouse login` / `gatehouse token` against a real Gatehouse on a loopback port: discovery,
//! registration, PKCE with the CLI's loopback redirect, a browser (a cookie-keeping HTTP client)
//! signing in and approving, tokens stored with mode 0600, and refresh when expired.

use app::domain::validate::{Email, Password, Slug};
use app::domain::{RequestMeta, Services, orgs, users};
use server::config::Config;
use server::router::build_router;
use server::state::AppState;

const PASSWORD: &str = "correct horse battery staple";

/// Plays the person at the browser: signs in, approves, and follows the redirect to the CLI.
async fn browser(start: String, base: String) {
    let web = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let hidden = |html: &str, name: &str| {
        let m = format!("name=\"{name}\" value=\"");
        let i = html.find(&m).unwrap_or_else(|| panic!("no {name}: {html}")) + m.len();
        html[i..].split('"').next().unwrap().to_string()
    };
    let loc = |r: &reqwest::Response| {
        r.headers()
            .get("location")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    };
    let res = web.get(&start).send().await.unwrap();
    let login = loc(&res);
    let next = login.split("next=").nth(1).unwrap().to_string();
    let page = web
        .get(format!("{base}{login}"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let next_decoded: String = url::form_urlencoded::parse(format!("n={next}").as_bytes())
        .next()
        .unwrap()
        .1
        .into_owned();
    let res = web
        .post(format!("{base}/fn/login"))
        .header("accept", "text/html")
        .header("origin", &base)
        .header("referer", format!("{base}{login}"))
        .form(&[
            ("csrf", hidden(&page, "csrf")),
            ("email", "ada@example.com".into()),
            ("password", PASSWORD.into()),
            ("next", next_decoded.clone()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(loc(&res), next_decoded);
    let page = web
        .get(format!("{base}{next_decoded}"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Gatehouse CLI wants to access your Gatehouse account"),
        "{page}"
    );
    let res = web
        .post(format!("{base}/fn/decide_consent"))
        .header("accept", "text/html")
        .header("origin", &base)
        .header("referer", format!("{base}{next_decoded}"))
        .form(&[
            ("csrf", hidden(&page, "csrf")),
            ("request_id", hidden(&page, "request_id")),
            ("org", "acme".into()),
            ("decision", "approve".into()),
        ])
        .send()
        .await
        .unwrap();
    let callback = loc(&res);
    assert!(callback.starts_with("http://127.0.0.1:"), "{callback}");
    let done = web
        .get(&callback)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(done.contains("you are signed in"), "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_then_token_with_refresh() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let db = migration::test_db::sqlite().await.unwrap();
    let env = [("GATEHOUSE_PUBLIC_URL".to_string(), base.clone())]
        .into_iter()
        .collect();
    let config = Config::from_sources(&env, &Default::default()).unwrap();
    let services = Services::new(
        db.clone(),
        config.domain_settings(),
        app::domain::sealing::InstanceKey::generate().0,
    );
    let meta = RequestMeta::default();
    let email = Email::parse("ada@example.com").unwrap();
    let ada = users::create_user(
        &services,
        &email,
        &Password::parse(PASSWORD, None).unwrap(),
        None,
        true,
        &meta,
    )
    .await
    .unwrap();
    orgs::create_org(
        &db,
        ada.id,
        &Slug::parse("acme").unwrap(),
        "Acme".into(),
        &meta,
    )
    .await
    .unwrap();
    let app = build_router(AppState::new(config, services));
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });

    let dir = std::env::temp_dir().join(format!("gh-login-{}", uuid::Uuid::new_v4()));
    let store = dir.join("gatehouse").join("credentials.json");
    // SAFETY: this test binary has this one test; nothing else reads the environment meanwhile.
    unsafe { std::env::set_var("GATEHOUSE_CREDENTIALS", &store) };

    let mcp = format!("{base}/o/acme/mcp");
    let b = base.clone();
    let creds = server::login::login(&mcp, move |url| {
        tokio::spawn(browser(url.to_string(), b));
        true
    })
    .await
    .expect("login");
    assert_eq!(creds.resource, mcp);
    assert_eq!(creds.issuer, base);
    assert!(creds.access_token.starts_with("gate_at_"));
    assert_eq!(creds.scope, "mcp:read mcp:write");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&store).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "credentials are private");
    }
    // Valid: printed as is.
    assert_eq!(
        server::login::token(None).await.unwrap(),
        creds.access_token
    );

    // Expired: refreshed (rotating the refresh token) and saved.
    let mut all: std::collections::BTreeMap<String, server::login::Credentials> =
        serde_json::from_slice(&std::fs::read(&store).unwrap()).unwrap();
    all.get_mut(&mcp).unwrap().expires_at = 0;
    std::fs::write(&store, serde_json::to_vec(&all).unwrap()).unwrap();
    let fresh = server::login::token(Some(&mcp)).await.unwrap();
    assert!(fresh.starts_with("gate_at_") && fresh != creds.access_token);
    let saved: std::collections::BTreeMap<String, server::login::Credentials> =
        serde_json::from_slice(&std::fs::read(&store).unwrap()).unwrap();
    assert_eq!(saved[&mcp].access_token, fresh);
    assert_ne!(
        saved[&mcp].refresh_token, creds.refresh_token,
        "the rotated refresh token was saved"
    );
    assert!(
        server::login::token(Some("https://unknown.example/mcp"))
            .await
            .unwrap_err()
            .0
            .contains("gatehouse login")
    );
    let _ = std::fs::remove_dir_all(dir);
}
