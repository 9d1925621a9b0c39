//! Accounts you can trust, through the real router and a real SMTP server process: verified
//! email (and the attack it closes: an account signed up with someone else's address), mail
//! delivery, password reset, changing one's address, two-factor sign-in with codes computed
//! from the enrolled secret, and the org policy that requires it. Runs on SQLite, and on
//! PostgreSQL when `GATEHOUSE_TEST_POSTGRES_URL` is set.

mod support;

use migration::on_both_backends;

use std::time::Duration;

use app::domain::entities::{audit_event, user};
use app::domain::users;
use app::error::AppError;
use http::StatusCode;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use support::flow::{auth_query, public_client, signed_in_with_org};
use support::{
    Browser, PASSWORD, Response, TestApp, assert_ok, org, redirected_error, refused, testid_text,
    user_id,
};

on_both_backends!(
    an_unverified_address_is_invited_not_added,
    sign_up_mails_a_verification_link_that_works_once,
    a_password_reset_goes_through_the_mailbox,
    a_new_address_counts_once_its_mailbox_answers,
    two_factor_sign_in_takes_each_code_once,
    the_org_policy_sends_members_to_set_up_two_factor,
    mail_waits_for_the_smtp_server_and_survives_a_restart,
);

async fn audits(db: &DatabaseConnection, action: &str) -> u64 {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(action))
        .count(db)
        .await
        .unwrap()
}

async fn account(app: &TestApp, email: &str) -> user::Model {
    users::find_by_email(&app.db, email).await.unwrap().unwrap()
}

async fn role_in_acme(app: &TestApp, email: &str) -> Option<app::model::Role> {
    let acme = org(app, "acme").await;
    app::domain::orgs::role_in(&app.db, acme.id, user_id(app, email).await)
        .await
        .unwrap()
}

/// The attack of issue 13: sign up as cfo@victim.example (sign-up is open) and wait for an
/// admin of victim to add that address. The account must not get the role; only whoever reads
/// the mailbox may, through the invitation link mailed there.
async fn an_unverified_address_is_invited_not_added(db: DatabaseConnection) {
    let (app, mail) = TestApp::with_mail(db).await;
    let mut admin = signed_in_with_org(&app, "ada@victim.example", "acme").await;
    let mut impostor = app.browser();
    impostor.sign_up("cfo@victim.example", PASSWORD).await;
    assert!(!account(&app, "cfo@victim.example").await.email_verified());

    let res = admin
        .submit(
            "/admin/members",
            "/fn/add_member",
            &[("email", "cfo@victim.example"), ("role", "admin")],
        )
        .await;
    assert_ok(&res);
    assert_eq!(
        role_in_acme(&app, "cfo@victim.example").await,
        None,
        "not a member"
    );
    let page = admin.get("/admin/members").await;
    assert!(
        page.body.contains("so we mailed them an invitation"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("/invite/"),
        "the link is never shown to the admin"
    );
    // The impostor's own pages know nothing of the org.
    let res = impostor.get("/admin/members").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);

    // The invitation went to the mailbox, over SMTP.
    let invite = mail.wait_for("cfo@victim.example", "Join acme").await;
    assert_eq!(invite.from_header, "Gatehouse <no-reply@gate.test>");
    assert!(
        invite.text.contains("ada@victim.example invited you"),
        "{}",
        invite.text
    );
    assert!(
        invite.html.contains(&invite.link()),
        "the HTML body carries the link too"
    );

    // Someone else signed in can't take it.
    let mut mallory = app.browser();
    mallory.sign_up("mallory@evil.example", PASSWORD).await;
    let token = invite.secret();
    let res = mallory
        .submit(
            &invite.path(),
            "/fn/accept_invitation",
            &[("token", &token)],
        )
        .await;
    assert!(matches!(refused(&res), AppError::Forbidden(_)));
    assert_eq!(role_in_acme(&app, "mallory@evil.example").await, None);

    // Whoever reads the mailbox follows the link: the account joins, and its address counts
    // as proved from now on.
    let mut cfo = app.browser();
    cfo.log_in("cfo@victim.example", PASSWORD).await;
    let res = cfo
        .submit(
            &invite.path(),
            "/fn/accept_invitation",
            &[("token", &token)],
        )
        .await;
    assert_eq!(
        res.location(),
        Some("/o/acme"),
        "{:?}",
        redirected_error(&res)
    );
    assert_eq!(
        role_in_acme(&app, "cfo@victim.example").await,
        Some(app::model::Role::Admin)
    );
    assert!(account(&app, "cfo@victim.example").await.email_verified());
    assert_eq!(audits(&app.db, "user.email_verified").await, 1);
    // Used once.
    let res = cfo
        .submit(
            &invite.path(),
            "/fn/accept_invitation",
            &[("token", &token)],
        )
        .await;
    assert!(redirected_error(&res).is_some());
}

async fn sign_up_mails_a_verification_link_that_works_once(db: DatabaseConnection) {
    let (app, mail) = TestApp::with_mail(db).await;
    let mut admin = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let mut bob = app.browser();
    bob.sign_up("bob@example.com", PASSWORD).await;
    let page = bob.get("/account").await;
    assert!(
        page.body.contains(r#"data-testid="verify-banner""#),
        "{}",
        page.body
    );
    assert!(page.body.contains("Not verified"));

    let verify = mail.wait_for("bob@example.com", "Verify your email").await;
    assert!(
        verify
            .link()
            .starts_with("http://127.0.0.1:3000/verify-email/")
    );
    // Opening the link changes nothing (mail scanners open links); the button does.
    let page = app.browser().get(&verify.path()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Confirm that bob@example.com is yours."),
        "{}",
        page.body
    );
    assert!(!account(&app, "bob@example.com").await.email_verified());
    // Followed in another browser (no session needed): verified, once.
    let mut other = app.browser();
    let res = other.confirm_email(&verify.path()).await;
    assert_eq!(
        res.location(),
        Some("/login"),
        "{:?}",
        redirected_error(&res)
    );
    assert!(account(&app, "bob@example.com").await.email_verified());
    let page = bob.get("/account").await;
    assert!(!page.body.contains(r#"data-testid="verify-banner""#));
    assert_eq!(testid_text(&page.body, "email-status"), "Verified");
    let res = other.get(&verify.path()).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(res.body.contains("not valid any more"), "{}", res.body);

    // A verified address is added at once.
    let res = admin
        .submit(
            "/admin/members",
            "/fn/add_member",
            &[("email", "bob@example.com"), ("role", "querier")],
        )
        .await;
    assert!(redirected_error(&res).is_none());
    assert_eq!(
        role_in_acme(&app, "bob@example.com").await,
        Some(app::model::Role::Querier)
    );

    // Asking again for an already verified address is refused in words; the link of an
    // unverified one can be sent again, within limits.
    let mut carol = app.browser();
    carol.sign_up("carol@example.com", PASSWORD).await;
    let first = mail
        .wait_for("carol@example.com", "Verify your email")
        .await;
    let res = carol
        .submit("/account", "/fn/resend_verification", &[])
        .await;
    assert_ok(&res);
    let second = mail
        .wait_for("carol@example.com", "Verify your email")
        .await;
    assert_ne!(first.secret(), second.secret());
    // Sending a new link retires the old one.
    let res = app.browser().get(&first.path()).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    for _ in 0..4 {
        carol
            .submit("/account", "/fn/resend_verification", &[])
            .await;
    }
    let res = carol
        .submit("/account", "/fn/resend_verification", &[])
        .await;
    assert!(matches!(refused(&res), AppError::TooManyRequests(_)));
}

async fn a_password_reset_goes_through_the_mailbox(db: DatabaseConnection) {
    let (app, mail) = TestApp::with_mail(db).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    mail.wait_for("ada@example.com", "Verify your email").await;

    // The same answer whether or not the address has an account; mail only for the account.
    let mut visitor = app.browser();
    let mut answers = Vec::new();
    for email in ["ada@example.com", "nobody@example.com"] {
        let res = visitor
            .submit(
                "/forgot-password",
                "/fn/forgot_password",
                &[("email", email)],
            )
            .await;
        assert_ok(&res);
        let page = visitor.get("/forgot-password").await;
        let start = page.body.find("If an account uses").expect("the answer");
        let answer = page.body[start..].split('<').next().unwrap();
        answers.push(answer.replace(email, "ADDRESS"));
    }
    assert_eq!(answers[0], answers[1]);
    let reset = mail
        .wait_for("ada@example.com", "Reset your Gatehouse password")
        .await;
    mail.assert_none_to("nobody@example.com", Duration::from_millis(300))
        .await;
    assert_eq!(audits(&app.db, "user.password_reset_requested").await, 1);

    // The link's page names the account; a weak password is refused and changes nothing.
    let page = visitor.get(&reset.path()).await;
    assert_eq!(testid_text(&page.body, "reset-email"), "ada@example.com");
    let token = reset.secret();
    let res = visitor
        .submit(
            &reset.path(),
            "/fn/reset_password",
            &[("token", &token), ("password", "short")],
        )
        .await;
    assert_eq!(refused(&res).field(), Some("password"));
    // A good one: every session of the account ends, the old password stops working.
    let new_password = "a brand new passphrase for ada";
    let res = visitor
        .submit(
            &reset.path(),
            "/fn/reset_password",
            &[("token", &token), ("password", new_password)],
        )
        .await;
    assert_eq!(
        res.location(),
        Some("/login?reset=1"),
        "{:?}",
        redirected_error(&res)
    );
    assert_eq!(
        ada.get("/account").await.status,
        StatusCode::FOUND,
        "signed out"
    );
    let res = app.browser().log_in("ada@example.com", PASSWORD).await;
    assert!(
        redirected_error(&res).is_some(),
        "the old password is refused"
    );
    let res = app.browser().log_in("ada@example.com", new_password).await;
    assert_eq!(res.location(), Some("/"), "{:?}", redirected_error(&res));
    assert!(
        account(&app, "ada@example.com").await.email_verified(),
        "the mailbox answered"
    );
    assert_eq!(audits(&app.db, "user.password_reset_by_link").await, 1);
    mail.wait_for("ada@example.com", "password was changed")
        .await;
    // The link works once.
    let res = visitor.get(&reset.path()).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    // Throttled per address: the answer then says so, for any address alike.
    for _ in 0..4 {
        visitor
            .submit(
                "/forgot-password",
                "/fn/forgot_password",
                &[("email", "ada@example.com")],
            )
            .await;
    }
    let res = visitor
        .submit(
            "/forgot-password",
            "/fn/forgot_password",
            &[("email", "ada@example.com")],
        )
        .await;
    assert!(matches!(refused(&res), AppError::TooManyRequests(_)));
}

async fn a_new_address_counts_once_its_mailbox_answers(db: DatabaseConnection) {
    let (app, mail) = TestApp::with_mail(db).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let res = ada
        .submit(
            "/account",
            "/fn/change_email",
            &[
                ("email", "ada@new.example"),
                ("password", "wrong password!!"),
            ],
        )
        .await;
    assert_eq!(refused(&res).field(), Some("password"));
    let res = ada
        .submit(
            "/account",
            "/fn/change_email",
            &[("email", "ada@new.example"), ("password", PASSWORD)],
        )
        .await;
    assert_ok(&res);
    // Nothing changes until the new mailbox answers.
    assert_eq!(
        account(&app, "ada@example.com").await.email,
        "ada@example.com"
    );
    let page = ada.get("/account").await;
    assert!(
        page.body.contains(r#"data-testid="pending-email""#),
        "{}",
        page.body
    );
    let confirm = mail
        .wait_for("ada@new.example", "Confirm your new email")
        .await;
    let page = app.browser().get(&confirm.path()).await;
    assert!(
        page.body.contains("ada@new.example is yours"),
        "{}",
        page.body
    );
    let res = ada.confirm_email(&confirm.path()).await;
    assert_eq!(
        res.location(),
        Some("/account"),
        "{:?}",
        redirected_error(&res)
    );
    let moved = account(&app, "ada@new.example").await;
    assert!(moved.email_verified());
    assert!(
        users::find_by_email(&app.db, "ada@example.com")
            .await
            .unwrap()
            .is_none()
    );
    mail.wait_for("ada@example.com", "email address was changed")
        .await;
    assert_eq!(audits(&app.db, "user.email_changed").await, 1);
    // The old address's verification link proves nothing any more.
    let old = mail.wait_for("ada@example.com", "Verify your email").await;
    assert_eq!(
        app.browser().get(&old.path()).await.status,
        StatusCode::NOT_FOUND
    );
    // Signing in takes the new address.
    let res = app.browser().log_in("ada@new.example", PASSWORD).await;
    assert_eq!(res.location(), Some("/"));
}

/// The enrolled secret as the account page shows it for typing into an app.
async fn enrolled_secret(b: &mut Browser) -> String {
    let page = b.get("/account").await;
    assert!(page.body.contains(r#"data-testid="totp-qr""#) && page.body.contains("<svg"));
    testid_text(&page.body, "totp-secret").replace(' ', "")
}

/// The code an authenticator app shows for `secret` at `offset` seconds from now.
fn code(secret: &str, offset: i64) -> String {
    let t = totp_rs::Builder::new()
        .with_secret(
            totp_rs::Secret::try_from_base32(secret)
                .unwrap()
                .as_bytes()
                .to_vec(),
        )
        .build()
        .unwrap();
    let now = chrono::Utc::now().timestamp() + offset;
    t.generate(u64::try_from(now).unwrap()).to_string()
}

/// The recovery codes shown once (in the flash of a form posted without JavaScript).
fn recovery_codes(page: &Response) -> Vec<String> {
    let codes: Vec<String> = testid_text(&page.body, "copy-value")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(codes.len(), 10, "{codes:?}");
    codes
}

/// Turns on two-factor sign-in for the signed-in `b`; the secret and the recovery codes.
async fn enrol(b: &mut Browser) -> (String, Vec<String>) {
    let res = b.submit("/account", "/fn/start_two_factor", &[]).await;
    assert_ok(&res);
    let secret = enrolled_secret(b).await;
    let res = b
        .submit("/account", "/fn/confirm_two_factor", &[("code", "000000")])
        .await;
    if code(&secret, 0) != "000000" {
        assert_eq!(refused(&res).field(), Some("code"));
    }
    let res = b
        .submit(
            "/account",
            "/fn/confirm_two_factor",
            &[("code", &code(&secret, 0))],
        )
        .await;
    assert_ok(&res);
    let page = b.get("/account").await;
    assert_eq!(testid_text(&page.body, "two-factor-status"), "On");
    (secret, recovery_codes(&page))
}

/// Signs in with the password; the response of the code step.
async fn sign_in_with_code(app: &TestApp, email: &str, code: &str) -> (Browser, Response) {
    let mut b = app.browser();
    let res = b.log_in(email, PASSWORD).await;
    assert_eq!(
        res.location(),
        Some("/login/two-factor"),
        "{:?}",
        redirected_error(&res)
    );
    // Only the code page: the rest of the site still sees nobody.
    assert_eq!(b.get("/account").await.status, StatusCode::FOUND);
    let res = b
        .submit(
            "/login/two-factor",
            "/fn/verify_second_factor",
            &[("code", code)],
        )
        .await;
    (b, res)
}

async fn two_factor_sign_in_takes_each_code_once(db: DatabaseConnection) {
    let (app, mail) = TestApp::with_mail(db).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let (secret, recovery) = enrol(&mut ada).await;
    mail.wait_for("ada@example.com", "Two-factor sign-in is on")
        .await;
    assert_eq!(audits(&app.db, "user.two_factor_enabled").await, 1);
    let stored = app::domain::entities::user_totp::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.secret_sealed.contains(&secret), "sealed at rest");

    // A code from a window long gone is refused.
    let (mut b, res) = sign_in_with_code(&app, "ada@example.com", &code(&secret, -300)).await;
    let e = refused(&res);
    assert_eq!(e.field(), Some("code"));
    // Said at once: the attempt is counted before the code's transaction takes SQLite's write
    // lock (counted inside it, it waited for that lock until the busy timeout, then failed).
    assert!(e.to_string().contains("That code is not right"), "{e}");
    assert_eq!(
        b.get("/account").await.status,
        StatusCode::FOUND,
        "not signed in"
    );
    // The next code works (the one used to enrol is spent)...
    let next = code(&secret, 30);
    let (mut b, res) = sign_in_with_code(&app, "ada@example.com", &next).await;
    assert_eq!(res.location(), Some("/"), "{:?}", redirected_error(&res));
    assert_eq!(b.get("/account").await.status, StatusCode::OK);
    // ...once: replayed, it is refused, and so is any older one.
    let (_, res) = sign_in_with_code(&app, "ada@example.com", &next).await;
    let e = refused(&res);
    assert!(e.to_string().contains("already used"), "{e}");
    let (_, res) = sign_in_with_code(&app, "ada@example.com", &code(&secret, 0)).await;
    assert!(redirected_error(&res).is_some());

    // A recovery code works once, typed any way.
    let typed = recovery[3].to_uppercase().replace('-', " ");
    let (mut b, res) = sign_in_with_code(&app, "ada@example.com", &typed).await;
    assert_eq!(res.location(), Some("/"), "{:?}", redirected_error(&res));
    let page = b.get("/account").await;
    assert!(page.body.contains("9 recovery codes left"), "{}", page.body);
    let (_, res) = sign_in_with_code(&app, "ada@example.com", &recovery[3]).await;
    assert!(redirected_error(&res).is_some(), "used twice");
    assert_eq!(audits(&app.db, "user.recovery_code_used").await, 1);

    // Turning it off takes the password and a code.
    let res = b
        .submit(
            "/account",
            "/fn/disable_two_factor",
            &[("password", PASSWORD), ("code", "")],
        )
        .await;
    assert_eq!(refused(&res).field(), Some("code"));
    let res = b
        .submit(
            "/account",
            "/fn/disable_two_factor",
            &[("password", PASSWORD), ("code", &recovery[0])],
        )
        .await;
    assert_ok(&res);
    assert!(!account(&app, "ada@example.com").await.two_factor());
    mail.wait_for("ada@example.com", "turned off").await;
    let mut again = app.browser();
    let res = again.log_in("ada@example.com", PASSWORD).await;
    assert_eq!(res.location(), Some("/"), "password only again");

    // Wrong codes are throttled like passwords (a right code then waits too).
    let (secret, _) = enrol(&mut again).await;
    let valid: Vec<String> = [-30, 0, 30].iter().map(|o| code(&secret, *o)).collect();
    let wrong = (0..10)
        .map(|n| format!("{n}{n}{n}{n}{n}{n}"))
        .find(|c| !valid.contains(c))
        .unwrap();
    let mut throttled = None;
    for _ in 0..6 {
        let (_, res) = sign_in_with_code(&app, "ada@example.com", &wrong).await;
        if let Some(AppError::TooManyRequests(m)) = redirected_error(&res) {
            throttled = Some(m);
            break;
        }
    }
    assert!(throttled.is_some(), "wrong codes were never throttled");
    let (_, res) = sign_in_with_code(&app, "ada@example.com", &code(&secret, 30)).await;
    assert!(matches!(
        redirected_error(&res),
        Some(AppError::TooManyRequests(_))
    ));
}

fn settings_form(policy: &str) -> Vec<(&'static str, String)> {
    vec![
        ("mcp_enabled", "on".into()),
        ("personal_tokens_enabled", "on".into()),
        ("mcp_oauth_pats_enabled", "on".into()),
        ("dynamic_registration_enabled", "on".into()),
        ("allowed_redirect_hosts", String::new()),
        ("access_token_ttl_minutes", "60".into()),
        ("refresh_token_ttl_days", "30".into()),
        ("pat_max_ttl_days", "365".into()),
        ("two_factor_policy", policy.into()),
    ]
}

async fn set_policy(b: &mut Browser, policy: &str) -> Response {
    let form = settings_form(policy);
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.submit("/admin/settings", "/fn/update_org_settings", &fields)
        .await
}

async fn the_org_policy_sends_members_to_set_up_two_factor(db: DatabaseConnection) {
    let app = TestApp::with_db(db, &[]).await;
    let mut ada = signed_in_with_org(&app, "ada@example.com", "acme").await;
    let mut bob = app.verified_browser("bob@example.com").await;
    ada.submit(
        "/admin/members",
        "/fn/add_member",
        &[("email", "bob@example.com"), ("role", "querier")],
    )
    .await;
    let res = bob
        .submit(
            "/settings/tokens",
            "/fn/create_pat",
            &[
                ("name", "script"),
                ("scopes[]", "mcp:read"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    assert_ok(&res);
    let pat = bob.get("/settings/tokens").await;
    let start = pat
        .body
        .find("gate_pat_")
        .expect("the new token, shown once");
    let pat = pat.body[start..].split('"').next().unwrap().to_string();
    assert_eq!(app.whoami("/o/acme/mcp", &pat).await.status, StatusCode::OK);

    // An admin without two-factor sign-in can't require it: it would lock them out.
    let res = set_policy(&mut ada, "everyone").await;
    assert_eq!(refused(&res).field(), Some("two_factor_policy"));
    let (_, _) = enrol(&mut ada).await;
    let res = set_policy(&mut ada, "everyone").await;
    assert_ok(&res);
    let page = ada.get("/admin/members").await;
    assert!(
        page.body.contains(r#"data-testid="two-factor-missing""#),
        "{}",
        page.body
    );
    assert!(page.body.contains("bob@example.com"));

    // Bob has no second factor: every door of acme sends him to set one up.
    for path in ["/o/acme", "/settings/tokens"] {
        let res = bob.get(path).await;
        assert_eq!(res.status, StatusCode::FOUND, "{path}");
        assert_eq!(
            res.location(),
            Some("/account?two_factor=required#two-factor"),
            "{path}"
        );
    }
    let page = bob.get("/account?two_factor=required").await;
    assert!(
        page.body.contains(r#"data-testid="two-factor-required""#),
        "{}",
        page.body
    );
    let res = bob
        .submit(
            "/account",
            "/fn/create_pat",
            &[
                ("name", "another"),
                ("scopes[]", "mcp:read"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    assert!(matches!(refused(&res), AppError::TwoFactorRequired(_)));
    let res = app.whoami("/o/acme/mcp", &pat).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    assert!(
        res.body.contains("Two-factor sign-in required"),
        "{}",
        res.body
    );
    // Consent for acme: shown as not possible, and refused if approved anyway.
    let client_id = public_client(&app).await;
    let (challenge, _) = oauth2::PkceCodeChallenge::new_random_sha256();
    let q = auth_query(&client_id, challenge.as_str(), &[]);
    let res = support::flow::authorize(&mut bob, &q, "acme", "approve").await;
    let e = redirected_error(&res).expect("refused");
    assert!(e.to_string().contains("Two-factor sign-in required"), "{e}");
    assert!(
        !res.location().unwrap_or_default().contains("code="),
        "no code was issued"
    );

    // Once Bob turns it on, acme is open to him again, his token included.
    enrol(&mut bob).await;
    assert_eq!(bob.get("/o/acme").await.status, StatusCode::OK);
    assert_eq!(app.whoami("/o/acme/mcp", &pat).await.status, StatusCode::OK);
}

/// Mail is written before anyone tries to send it: an SMTP server that is down only delays
/// it (with backoff), and a process that stops loses nothing: the next one sends it.
async fn mail_waits_for_the_smtp_server_and_survives_a_restart(db: DatabaseConnection) {
    use app::domain::entities::mail_outbox;
    use app::domain::mailer::{Mailer, Round, deliver_due};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("smtp://127.0.0.1:{port}");
    let app = TestApp::with_db(db, &[("GATEHOUSE_SMTP_URL", &url)]).await;
    let mut bob = app.browser();
    let res = bob.sign_up("bob@example.com", PASSWORD).await;
    assert_eq!(
        res.location(),
        Some("/"),
        "the request did not wait for SMTP"
    );
    let mailer = Mailer::new(&app.services.settings.mail);
    let round = deliver_due(&app.services, &mailer).await.unwrap();
    assert_eq!(
        round,
        Round {
            sent: 0,
            failed: 1,
            printed: 0
        }
    );
    let row = mail_outbox::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.attempts, 1);
    assert!(row.last_error.is_some() && row.sealed_body.is_some() && row.sent_at.is_none());
    assert!(
        row.next_attempt_at > chrono::Utc::now() + chrono::Duration::seconds(20),
        "backs off"
    );
    assert_eq!(
        deliver_due(&app.services, &mailer).await.unwrap(),
        Round::default(),
        "not due yet"
    );

    // The process stops; another starts (same database, same key), the SMTP server is back
    // and the retry is due.
    let sink = support::mail::MailSink::start_on(port);
    let next = app::domain::Services::new(
        app.db.clone(),
        app.services.settings.as_ref().clone(),
        (*app.services.key).clone(),
    );
    mail_outbox::Entity::update_many()
        .col_expr(
            mail_outbox::Column::NextAttemptAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now()),
        )
        .exec(&app.db)
        .await
        .unwrap();
    let round = deliver_due(&next, &Mailer::new(&next.settings.mail))
        .await
        .unwrap();
    assert_eq!(round.sent, 1);
    let mail = sink.wait_for("bob@example.com", "Verify your email").await;
    let res = app.browser().confirm_email(&mail.path()).await;
    assert_eq!(res.location(), Some("/login"));
    let row = mail_outbox::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        row.sent_at.is_some() && row.sealed_body.is_none(),
        "sent mail keeps no link"
    );
}
