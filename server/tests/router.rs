//! The real axum router, driven like a browser: pages, forms with and without JavaScript,
//! sessions, CSRF, roles, and every bad input of the foundation issue.

mod support;

use app::error::AppError;
use http::StatusCode;
use support::{PASSWORD, TestApp, redirected_error};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_answer() {
    let app = TestApp::sqlite().await;
    let mut b = app.browser();
    let res = b.get("/healthz").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body, r#"{"status":"ok"}"#);
    let res = b.get("/readyz").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(
        res.header("x-request-id").is_some(),
        "every response carries a request id"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_rendered_on_the_server_with_security_headers_and_no_session_for_visitors() {
    let app = TestApp::sqlite().await;
    let mut b = app.browser();
    let res = b.get("/login").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body.contains("Sign in to Gatehouse"), "{}", res.body);
    // An anonymous visitor's form proof lives in a cookie of its own: no session row.
    let cookie = res.header("set-cookie").expect("the CSRF cookie");
    assert!(cookie.starts_with("gatehouse_csrf="), "{cookie}");
    assert_eq!(res.headers.get_all("set-cookie").iter().count(), 1);
    assert!(b.cookie.is_none(), "no session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain-http default must not set Secure: {cookie}"
    );
    assert_eq!(res.header("x-frame-options"), Some("DENY"));
    assert!(
        res.header("content-security-policy")
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(res.csrf(), b.csrf_cookie.clone().unwrap());
    // More anonymous page views, found or not, store nothing either.
    for page in [
        "/",
        "/signup",
        "/login?next=%2Fadmin",
        "/no/such/page",
        "/account",
    ] {
        b.get(page).await;
    }
    assert_eq!(sessions(&app).await, 0, "no session row for a page view");
    // The proof works: signing up is the first thing that stores a session.
    let res = b.sign_up("ada@example.com", PASSWORD).await;
    assert_eq!(res.location(), Some("/"), "{}", res.body);
    assert_eq!(sessions(&app).await, 1);
}

async fn sessions(app: &TestApp) -> u64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    app::domain::entities::session::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_cookies_when_configured() {
    let app = TestApp::with_env(&[("GATEHOUSE_COOKIE_SECURE", "on")]).await;
    let res = app.browser().get("/login").await;
    assert!(res.header("set-cookie").unwrap().contains("Secure"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_without_javascript_then_account_page() {
    let app = TestApp::sqlite().await;
    let mut b = app.browser();
    let res = b.sign_up("Ada@Example.com", PASSWORD).await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert_eq!(res.location(), Some("/"));
    let res = b.get("/account").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body.contains("ada@example.com"), "{}", res.body);
    // The no-JS flash message shows once.
    let home = b.get("/").await;
    assert!(
        !home.body.contains("Welcome to Gatehouse! Create"),
        "flash already shown on /account"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_with_javascript_answers_with_data() {
    let app = TestApp::sqlite().await;
    let mut b = app.browser();
    b.js = true;
    let res = b.sign_up("ada@example.com", PASSWORD).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(
        res.header("serverfnredirect").is_some(),
        "the client is told to navigate"
    );
    assert_eq!(res.location(), Some("/"));
    let res = b.get("/account").await;
    assert!(res.body.contains("ada@example.com"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sign_ups_say_why_and_change_nothing() {
    let app = TestApp::sqlite().await;
    let mut b = app.browser();
    let res = b.sign_up("ada@example.com", "short").await;
    assert_eq!(res.status, StatusCode::FOUND);
    let err = redirected_error(&res).expect("error in redirect");
    assert_eq!(err.field(), Some("password"));
    assert!(err.to_string().contains("at least 12 characters"), "{err}");
    assert_eq!(
        b.get("/account").await.status,
        StatusCode::FOUND,
        "no account was created, nobody signed in"
    );

    let err = redirected_error(&b.sign_up("not-an-email", PASSWORD).await).unwrap();
    assert_eq!(err.field(), Some("email"));

    b.sign_up("ada@example.com", PASSWORD).await;
    let mut other = app.browser();
    let err = redirected_error(&other.sign_up("ADA@example.com", PASSWORD).await).unwrap();
    assert_eq!(
        err.to_string(),
        "An account with this email already exists. Sign in instead."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_can_be_switched_off() {
    let app = TestApp::with_env(&[("GATEHOUSE_SIGNUP", "off")]).await;
    let mut b = app.browser();
    let page = b.get("/signup").await;
    assert!(page.body.contains("Sign-up is turned off"), "{}", page.body);
    let err = redirected_error(&b.sign_up("ada@example.com", PASSWORD).await).unwrap();
    assert!(
        matches!(err, AppError::Forbidden(ref m) if m.contains("turned off")),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_in_rotates_the_session_and_log_out_ends_it() {
    let app = TestApp::sqlite().await;
    let mut b = app.browser();
    b.sign_up("ada@example.com", PASSWORD).await;
    b.submit("/", "/logout", &[]).await;
    assert_eq!(
        b.get("/account").await.status,
        StatusCode::FOUND,
        "signed out"
    );

    let res = b.log_in("ada@example.com", "wrong password here").await;
    assert_eq!(
        redirected_error(&res).unwrap().to_string(),
        "Incorrect email or password."
    );
    let res = b.log_in("ada@example.com", PASSWORD).await;
    assert_eq!(res.location(), Some("/"));
    let before = b.cookie.clone().unwrap();
    // Signing in on a session that exists gives it a new id (no fixation).
    let res = b.log_in("ada@example.com", PASSWORD).await;
    assert_eq!(res.location(), Some("/"));
    let after = b.cookie.clone().unwrap();
    assert_ne!(before, after, "the session id changes at sign-in");
    assert_eq!(b.get("/account").await.status, StatusCode::OK);

    let res = b.submit("/account", "/logout", &[]).await;
    assert_eq!(res.location(), Some("/login?signed_out=1"));
    let res = b.get("/account").await;
    assert_eq!(res.status, StatusCode::FOUND);
    assert_eq!(res.location(), Some("/login?next=%2Faccount"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_in_redirects_only_inside_the_site() {
    let app = TestApp::sqlite().await;
    let mut b = app.browser();
    b.sign_up("ada@example.com", PASSWORD).await;
    b.submit("/", "/logout", &[]).await;
    let res = b
        .submit(
            "/login",
            "/fn/login",
            &[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("next", "//evil.example/x"),
            ],
        )
        .await;
    assert_eq!(res.location(), Some("/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_is_throttled_with_a_clear_message() {
    let app = TestApp::sqlite().await;
    let mut b = app.browser();
    b.sign_up("ada@example.com", PASSWORD).await;
    b.submit("/", "/logout", &[]).await;
    for _ in 0..5 {
        b.log_in("ada@example.com", "wrong password here").await;
    }
    let err = redirected_error(&b.log_in("ada@example.com", PASSWORD).await).unwrap();
    assert!(
        matches!(&err, AppError::TooManyRequests(m) if m.contains("Too many failed sign-in attempts")),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_a_valid_csrf_proof_change_nothing() {
    let app = TestApp::sqlite().await;
    let mut b = app.browser();
    b.get("/signup").await;
    let res = b
        .post_form(
            "/fn/signup",
            "/signup",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(redirected_error(&res), Some(AppError::Csrf));
    let res = b
        .post_form(
            "/fn/signup",
            "/signup",
            &[
                ("csrf", "forged"),
                ("email", "ada@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(redirected_error(&res), Some(AppError::Csrf));
    b.js = true;
    let res = b
        .post_form(
            "/fn/signup",
            "/signup",
            &[
                ("csrf", "forged"),
                ("email", "ada@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_ne!(res.status, StatusCode::OK);
    assert!(res.body.contains("Csrf"), "{}", res.body);
    // No account was created by any of them.
    let mut fresh = app.browser();
    let err = redirected_error(&fresh.log_in("ada@example.com", PASSWORD).await).unwrap();
    assert_eq!(err.to_string(), "Incorrect email or password.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_posts_are_refused() {
    let app = TestApp::sqlite().await;
    let mut b = app.browser();
    let csrf = b.get("/signup").await.csrf();
    let req = b
        .with_cookie(http::Request::post("/fn/signup"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html")
        .header("origin", "https://evil.example")
        .body(axum::body::Body::from(format!(
            "csrf={csrf}&email=ada%40example.com&password=correct+horse+battery+staple"
        )))
        .unwrap();
    let res = b.send(req).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.body.contains("https://evil.example"), "{}", res.body);
    assert!(res.body.contains("Nothing was changed."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_session_cookie_is_a_signed_out_visitor() {
    let app = TestApp::sqlite().await;
    let mut b = app.browser();
    b.sign_up("ada@example.com", PASSWORD).await;
    let real = b.cookie.clone().unwrap();
    let mut chars: Vec<char> = real.chars().collect();
    chars[3] = if chars[3] == 'A' { 'B' } else { 'A' };
    b.cookie = Some(chars.into_iter().collect());
    let res = b.get("/account").await;
    assert_eq!(res.status, StatusCode::FOUND);
    assert_eq!(res.location(), Some("/login?next=%2Faccount"));
    b.cookie = Some("not even base64!".into());
    assert_eq!(b.get("/account").await.status, StatusCode::FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_members_and_roles() {
    let app = TestApp::sqlite().await;
    // Bob has proved his address: adding him by it adds his account.
    let mut bob = app.verified_browser("bob@example.com").await;

    let mut ada = app.browser();
    ada.sign_up("ada@example.com", PASSWORD).await;
    let res = ada
        .submit(
            "/orgs/new",
            "/fn/create_org",
            &[("name", "Acme Inc."), ("slug", "")],
        )
        .await;
    assert_eq!(
        res.location(),
        Some("/o/acme-inc"),
        "slug made from the name"
    );
    let page = ada.get("/o/acme-inc").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Admin"));
    let res = ada
        .submit(
            "/orgs/new",
            "/fn/create_org",
            &[("name", "Beta"), ("slug", "beta")],
        )
        .await;
    assert_eq!(res.location(), Some("/o/beta"));

    // Switch back to acme: the home page follows.
    let res = ada
        .submit("/", "/fn/switch_org", &[("org", "acme-inc"), ("next", "/")])
        .await;
    assert_eq!(res.location(), Some("/o/acme-inc"));
    assert!(
        ada.get("/")
            .await
            .body
            .contains(r#"data-testid="current-org">Acme Inc.<"#)
    );

    // Add bob as viewer, then make him a querier.
    let res = ada
        .submit(
            "/admin/members",
            "/fn/add_member",
            &[("email", "bob@example.com"), ("role", "viewer")],
        )
        .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert!(
        redirected_error(&res).is_none(),
        "{:?}",
        redirected_error(&res)
    );
    let page = ada.get("/admin/members").await;
    assert!(
        page.body.contains("Added bob@example.com as viewer."),
        "flash shown: {}",
        page.body
    );
    let bob_id = membership_id(&page.body, "bob@example.com");
    ada.submit(
        "/admin/members",
        "/fn/change_role",
        &[("membership_id", &bob_id), ("role", "querier")],
    )
    .await;
    let page = ada.get("/admin/members").await;
    assert!(
        page.body.contains("bob@example.com is now querier."),
        "{}",
        page.body
    );

    // An unknown address gets an invitation by mail; its link is never shown to the admin.
    ada.submit(
        "/admin/members",
        "/fn/add_member",
        &[("email", "carol@example.com"), ("role", "viewer")],
    )
    .await;
    let page = ada.get("/admin/members").await;
    assert!(
        page.body.contains("so we mailed them an invitation"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("/invite/"), "{}", page.body);
    assert!(
        app.outbox_link("carol@example.com")
            .await
            .starts_with("/invite/")
    );

    // The last admin can't be demoted.
    let ada_id = membership_id(&page.body, "ada@example.com");
    let res = ada
        .submit(
            "/admin/members",
            "/fn/change_role",
            &[("membership_id", &ada_id), ("role", "viewer")],
        )
        .await;
    let err = redirected_error(&res).unwrap();
    assert!(err.to_string().contains("last admin"), "{err}");

    // Bob is a querier: the admin page is closed to him, with a 403 that says why.
    let res = bob.get("/admin/members").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(
        res.body
            .contains("Your role querier can&#x27;t manage this organization")
            || res
                .body
                .contains("Your role querier can't manage this organization"),
        "{}",
        res.body
    );
    let res = bob
        .submit(
            "/",
            "/fn/change_role",
            &[("membership_id", &ada_id), ("role", "viewer")],
        )
        .await;
    assert!(matches!(
        redirected_error(&res),
        Some(AppError::Forbidden(_))
    ));

    // Unknown org and an org bob is not in: the same 404.
    let unknown = bob.get("/o/nope").await;
    let not_member = bob.get("/o/beta").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(not_member.status, StatusCode::NOT_FOUND);
    assert!(not_member.body.contains("that you belong to"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_pages_are_404() {
    let app = TestApp::sqlite().await;
    let res = app.browser().get("/no/such/page").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(res.body.contains("There is no page at this address."));
}

/// The membership id in the members table row of `email` (from its hidden form field).
fn membership_id(html: &str, email: &str) -> String {
    let row = html
        .split(&format!("data-email=\"{email}\""))
        .nth(1)
        .expect("row for email");
    let marker = "name=\"membership_id\" value=\"";
    let start = row.find(marker).unwrap() + marker.len();
    row[start..].split('"').next().unwrap().to_string()
}
