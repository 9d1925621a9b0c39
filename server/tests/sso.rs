//! Single sign-on against a real OpenID Connect provider (node `oidc-provider`, over HTTPS,
//! started by the test), through the real router: a newcomer gets the first-time role, a
//! member is linked, `state` works once, an unverified address or one of an account outside
//! the org is never linked, an address outside the connection's domains is refused, a
//! provider whose stated issuer differs is not trusted, and "require SSO" stops password
//! sign-in for the org's members. A forging provider's ID tokens (wrong issuer, audience or
//! nonce, expired, unsigned, signed by a key it doesn't publish) and a provider's refusal sign
//! nobody in.

mod support;

use migration::on_both_backends;

use app::domain::entities::audit_event;
use app::domain::sso::connection::{self, ConnectionChange};
use app::domain::{orgs, users};
use app::model::Role;
use http::StatusCode;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use support::oidc::{CLIENT_ID, CLIENT_SECRET, OidcProvider};
use support::{Browser, ORIGIN, PASSWORD, TestApp, flow, redirected_error, user_id};

on_both_backends!(
    people_sign_in_through_their_orgs_provider,
    an_answer_that_cant_be_trusted_signs_nobody_in,
    an_mcp_clients_user_signs_in_through_sso_on_the_way_to_consent,
    the_providers_keys_are_kept_and_fetched_again_when_it_rotates_them,
    an_account_in_other_orgs_too_is_connected_only_from_itself,
);

const CALLBACK: &str = "http://127.0.0.1:3000/login/sso/callback";

async fn set_up(app: &TestApp, admin: uuid::Uuid, org: uuid::Uuid, issuer: &str, require: bool) {
    connection::save(
        &app.services,
        Some(admin),
        org,
        &ConnectionChange {
            issuer: issuer.to_string(),
            client_id: CLIENT_ID.into(),
            client_secret: Some(CLIENT_SECRET.into()),
            domains: vec!["acme.example".into()],
            default_role: Role::Querier,
            require_sso: require,
            enabled: true,
            assertions: None,
        },
        &support::meta(),
    )
    .await
    .unwrap();
}

/// Gatehouse able to reach `provider`, with org acme and its admin Ada (verified at
/// acme.example, so she may name that domain): (app, Ada's id, acme).
async fn acme_with_ada(
    db: DatabaseConnection,
    provider: &OidcProvider,
) -> (
    TestApp,
    uuid::Uuid,
    app::domain::entities::organization::Model,
) {
    let env = provider.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = TestApp::with_db(db, &env).await;
    flow::verified_with_org(&app, "ada@acme.example", "acme").await;
    let ada = user_id(&app, "ada@acme.example").await;
    let acme = orgs::find_by_slug(&app.db, "acme").await.unwrap().unwrap();
    (app, ada, acme)
}

/// Starts SSO at `/login/sso/acme`, signs `login` in at the provider and comes back: the
/// browser and Gatehouse's answer to the callback.
async fn through_provider(
    app: &TestApp,
    provider: &OidcProvider,
    login: &str,
) -> (Browser, support::Response, String) {
    let mut b = app.browser();
    let (res, path) = through_provider_in(app, provider, &mut b, login).await;
    (b, res, path)
}

/// As [`through_provider`], in the browser `b` (which may be signed in already).
async fn through_provider_in(
    app: &TestApp,
    provider: &OidcProvider,
    b: &mut Browser,
    login: &str,
) -> (support::Response, String) {
    let res = b.get_raw("/login/sso/acme?next=/account").await;
    assert_eq!(
        res.status,
        StatusCode::SEE_OTHER,
        "{}\nlast failure: {:?}",
        res.body,
        last_failure(app).await
    );
    let to_provider = res.location().unwrap().to_string();
    assert!(to_provider.starts_with(&provider.issuer), "{to_provider}");
    for p in [
        "code_challenge=",
        "code_challenge_method=S256",
        "nonce=",
        "state=",
    ] {
        assert!(to_provider.contains(p), "{p} missing: {to_provider}");
    }
    let back = provider.sign_in(&to_provider, login).await;
    let path = back
        .strip_prefix(ORIGIN)
        .unwrap_or_else(|| panic!("sent back elsewhere: {back}"))
        .to_string();
    let res = b.get_raw(&path).await;
    (res, path)
}

/// The provider's answer `res` signed `b` in (the last failure, if not).
async fn signed_in(app: &TestApp, b: &mut Browser, res: &support::Response, what: &str) {
    assert_eq!(
        res.status,
        StatusCode::SEE_OTHER,
        "{what}: {:?}",
        last_failure(app).await
    );
    assert_eq!(b.get("/account").await.status, StatusCode::OK, "{what}");
}

fn refused(res: &support::Response, words: &str) {
    assert!(
        res.status == StatusCode::FORBIDDEN || res.status == StatusCode::BAD_GATEWAY,
        "{} {}",
        res.status,
        res.body
    );
    assert!(res.body.contains(words), "{words:?} not in {}", res.body);
    assert!(res.body.contains("data-testid=\"sso-error\""));
}

/// The details of every `sso.sign_in_failed` audit event, oldest first (what the person is
/// not shown).
async fn failure_details(app: &TestApp) -> Vec<String> {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("sso.sign_in_failed"))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| e.details)
        .collect()
}

async fn last_failure(app: &TestApp) -> Option<String> {
    failure_details(app).await.pop()
}

async fn failures(app: &TestApp, reason: &str) -> usize {
    failure_details(app)
        .await
        .iter()
        .filter(|d| d.contains(reason))
        .count()
}

async fn people_sign_in_through_their_orgs_provider(db: DatabaseConnection) {
    let provider = OidcProvider::start(CALLBACK);
    let (app, ada, acme) = acme_with_ada(db, &provider).await;

    // Not set up yet: a readable page.
    let mut anon = app.browser();
    let res = anon.get_raw("/login/sso/acme").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(
        res.body.contains("no single sign-on set up"),
        "{}",
        res.body
    );

    // A provider that states another issuer than the one configured is not trusted.
    let localhost = provider.issuer.replace("127.0.0.1", "localhost");
    set_up(&app, ada, acme.id, &localhost, false).await;
    let res = anon.get_raw("/login/sso/acme").await;
    refused(&res, "couldn't reach your organization's sign-in provider");
    assert_eq!(failures(&app, "provider_unreachable").await, 1);

    set_up(&app, ada, acme.id, &provider.issuer, false).await;

    // A newcomer with an address of the org's domain: an account, the first-time role.
    let (mut bob, res, callback) = through_provider(&app, &provider, "bob@acme.example").await;
    assert_eq!(
        res.status,
        StatusCode::SEE_OTHER,
        "{:?}",
        last_failure(&app).await
    );
    assert_eq!(res.location(), Some("/account"));
    let page = bob.get("/account").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("bob@acme.example"));
    let bob_id = user_id(&app, "bob@acme.example").await;
    assert_eq!(
        orgs::role_in(&app.db, acme.id, bob_id).await.unwrap(),
        Some(Role::Querier)
    );
    assert!(
        users::find(&app.db, bob_id)
            .await
            .unwrap()
            .unwrap()
            .email_verified()
    );

    // The same answer again (a replayed state) signs nobody in.
    let mut mallory = app.browser();
    let res = mallory.get_raw(&callback).await;
    refused(&res, "expired or was already used");
    assert_eq!(mallory.get("/account").await.status, StatusCode::FOUND);
    assert_eq!(failures(&app, "unknown_state").await, 1);

    // Bob again: the same account (linked by the provider's subject), no second membership.
    let (_, res, _) = through_provider(&app, &provider, "bob@acme.example").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(user_id(&app, "bob@acme.example").await, bob_id);

    // A member who had a password account is linked by their verified address.
    let (mut ada_b, res, _) = through_provider(&app, &provider, "ada@acme.example").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(ada_b.get("/account").await.status, StatusCode::OK);
    assert_eq!(
        orgs::role_in(&app.db, acme.id, ada).await.unwrap(),
        Some(Role::Admin),
        "an existing member keeps their role"
    );

    // An account with an address of the domain that isn't a member here is not taken over.
    flow::signed_in_with_org(&app, "carol@acme.example", "carols-own").await;
    let (mut carol, res, _) = through_provider(&app, &provider, "carol@acme.example").await;
    refused(
        &res,
        "already exists and isn't a member of this organization",
    );
    assert_eq!(carol.get("/account").await.status, StatusCode::FOUND);

    // An address the provider hasn't verified is never used.
    let (_, res, _) = through_provider(&app, &provider, "unverified-dan@acme.example").await;
    refused(&res, "hasn't confirmed your email address");
    assert!(
        users::find_by_email(&app.db, "unverified-dan@acme.example")
            .await
            .unwrap()
            .is_none()
    );

    // An address outside the connection's domains is refused.
    let (_, res, _) = through_provider(&app, &provider, "eve@elsewhere.example").await;
    refused(
        &res,
        "not an address this organization's single sign-on covers",
    );

    // The members page says who signs in through the provider.
    let page = ada_b.get("/admin/members").await.body;
    let row = page
        .split("<tr data-email=\"bob@acme.example\"")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .expect("bob's row");
    assert!(row.contains("data-testid=\"sso-badge\""), "{row}");
    let ada_row = page
        .split("<tr data-email=\"ada@acme.example\"")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .expect("ada's row");
    assert!(
        ada_row.contains("sso-badge"),
        "ada is linked too: {ada_row}"
    );

    // Every outcome is in the audit log.
    assert_eq!(support::audit_count(&app.db, "sso.sign_in").await, 3);
    assert_eq!(
        support::audit_count(&app.db, "org.sso.member_joined").await,
        1
    );

    // Required: the org's members can't sign in with a password any more, and are told where.
    set_up(&app, ada, acme.id, &provider.issuer, true).await;
    let mut b = app.browser();
    let res = b.log_in("ada@acme.example", PASSWORD).await;
    let e = redirected_error(&res).expect("password sign-in refused");
    assert!(e.to_string().contains("single sign-on"), "{e}");
    assert!(e.to_string().contains("/login/sso/acme"), "{e}");
    // ...but the address-first door leads there.
    let res = b
        .get_raw("/login/sso?email=ada%40acme.example&next=%2Faccount")
        .await;
    assert_eq!(res.location(), Some("/login/sso/acme?next=%2Faccount"));
    // Someone of another org with an address elsewhere is not affected.
    let res = b.get_raw("/login/sso?email=zed%40elsewhere.example").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

/// Starts SSO at `/login/sso/acme` and comes back from the forging provider with `flaw`.
async fn forged(
    app: &TestApp,
    provider: &OidcProvider,
    flaw: &str,
    email: &str,
) -> (Browser, support::Response) {
    let mut b = app.browser();
    let res = b.get_raw("/login/sso/acme?next=/account").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let to_provider = format!(
        "{}&flaw={flaw}&login_hint={}",
        res.location().unwrap(),
        email.replace('@', "%40")
    );
    let back = provider.sign_in(&to_provider, email).await;
    let path = back.strip_prefix(ORIGIN).unwrap().to_string();
    let res = b.get_raw(&path).await;
    (b, res)
}

async fn an_answer_that_cant_be_trusted_signs_nobody_in(db: DatabaseConnection) {
    let provider = OidcProvider::start_forging(CALLBACK);
    let (app, ada, acme) = acme_with_ada(db, &provider).await;
    set_up(&app, ada, acme.id, &provider.issuer, false).await;

    let flaws = [
        "wrong_issuer",
        "wrong_audience",
        "expired",
        "unsigned",
        "wrong_nonce",
        "other_key",
    ];
    for flaw in flaws {
        // Ada is a member: a forged token naming her must not sign anyone in as her.
        let (mut b, res) = forged(&app, &provider, flaw, "ada@acme.example").await;
        refused(&res, "sent an answer Gatehouse can't trust");
        assert_eq!(b.get("/account").await.status, StatusCode::FOUND, "{flaw}");
        assert!(
            last_failure(&app)
                .await
                .unwrap()
                .contains("untrusted_answer"),
            "{flaw}: {:?}",
            last_failure(&app).await
        );
    }
    assert_eq!(failures(&app, "untrusted_answer").await, flaws.len());
    assert_eq!(support::audit_count(&app.db, "sso.sign_in").await, 0);

    // The provider refuses the person (disabled there): no sign-in, a readable page.
    let (mut b, res) = forged(&app, &provider, "refused", "ada@acme.example").await;
    refused(&res, "did not sign you in");
    assert_eq!(b.get("/account").await.status, StatusCode::FOUND);
    assert_eq!(failures(&app, "provider_refused").await, 1);
    assert!(
        !res.body.contains("User is disabled"),
        "the provider's own words stay in the audit log"
    );

    // The control: the same forger's correct answer signs in, so each refusal above was for
    // its flaw.
    let (mut b, res) = forged(&app, &provider, "none", "ada@acme.example").await;
    signed_in(&app, &mut b, &res, "the control").await;
    assert_eq!(support::audit_count(&app.db, "sso.sign_in").await, 1);
}

async fn an_mcp_clients_user_signs_in_through_sso_on_the_way_to_consent(db: DatabaseConnection) {
    let provider = OidcProvider::start(CALLBACK);
    let (app, ada, acme) = acme_with_ada(db, &provider).await;
    set_up(&app, ada, acme.id, &provider.issuer, true).await;
    let client_id = flow::public_client(&app).await;
    let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
    let authorize = format!(
        "/oauth/authorize?{}",
        flow::auth_query(&client_id, challenge.as_str(), &[])
    );

    // Someone not signed in is sent to sign in, and from there (address first) to the org's
    // provider, keeping where they were going.
    let mut bob = app.browser();
    let res = bob.get_raw(&authorize).await;
    let login = res
        .location()
        .unwrap_or_else(|| panic!("{}", res.body))
        .to_string();
    assert!(login.starts_with("/login?"), "{login}");
    let next: String = url::Url::parse(&format!("{ORIGIN}{login}"))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert!(next.starts_with("/oauth/consent/"), "{next}");
    let res = bob
        .get_raw(&format!(
            "/login/sso?{}",
            flow::query(&[("email", "bob@acme.example"), ("next", &next)])
        ))
        .await;
    let start = res.location().unwrap().to_string();
    assert!(start.starts_with("/login/sso/acme?"), "{start}");
    let res = bob.get_raw(&start).await;
    let back = provider
        .sign_in(res.location().unwrap(), "bob@acme.example")
        .await;
    let res = bob.get_raw(back.strip_prefix(ORIGIN).unwrap()).await;
    assert_eq!(
        res.status,
        StatusCode::SEE_OTHER,
        "{:?}",
        last_failure(&app).await
    );
    // Back where the MCP client sent them: the consent screen, now signed in.
    assert_eq!(res.location(), Some(next.as_str()));
    let page = bob.get(&next).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Test MCP client"), "{}", page.body);

    // Consenting gives the client a working token, with the first-time role.
    let res = flow::decide(&mut bob, &next, "acme", "approve").await;
    let t = flow::exchange_code(&app, &client_id, &res, verifier.secret(), flow::MCP).await;
    let token = t["access_token"].as_str().unwrap().to_string();
    let bob_id = user_id(&app, "bob@acme.example").await;
    assert_eq!(
        orgs::role_in(&app.db, acme.id, bob_id).await.unwrap(),
        Some(Role::Querier)
    );
    let whoami = flow::tools_call(&app, "/mcp", &token, "whoami").await;
    assert_eq!(whoami.status, StatusCode::OK, "{}", whoami.body);

    // Removed by an admin like any member: the token stops on the next request.
    let membership = app::domain::entities::membership::Entity::find()
        .filter(app::domain::entities::membership::Column::UserId.eq(bob_id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    app::domain::members::remove(&app.services, ada, &acme, membership.id, &support::meta())
        .await
        .unwrap();
    let whoami = flow::tools_call(&app, "/mcp", &token, "whoami").await;
    assert_eq!(whoami.status, StatusCode::UNAUTHORIZED, "{}", whoami.body);
}

async fn the_providers_keys_are_kept_and_fetched_again_when_it_rotates_them(
    db: DatabaseConnection,
) {
    let provider = OidcProvider::start_forging(CALLBACK);
    let (app, ada, acme) = acme_with_ada(db, &provider).await;
    set_up(&app, ada, acme.id, &provider.issuer, false).await;
    let signs_in = |what: &'static str| {
        let (app, provider) = (&app, &provider);
        async move {
            let (mut b, res) = forged(app, provider, "none", "ada@acme.example").await;
            signed_in(app, &mut b, &res, what).await;
        }
    };

    signs_in("first").await;
    assert_eq!(provider.fetched().await, (1, 1));
    // Kept: the next sign-ins fetch neither the document nor the keys.
    signs_in("second").await;
    signs_in("third").await;
    assert_eq!(provider.fetched().await, (1, 1));
    // The provider rotates its key: the first ID token signed with it makes Gatehouse fetch
    // the keys again, and the sign-in goes through.
    provider.rotate_keys().await;
    signs_in("after the rotation").await;
    assert_eq!(provider.fetched().await, (2, 2));
    signs_in("after that").await;
    assert_eq!(provider.fetched().await, (2, 2));
}

/// Dora is a member of acme and runs an org of her own. Whoever runs acme's provider must not
/// be able to sign in as her (and so into her own org) on the provider's word: her account is
/// connected only from a browser signed in as her.
async fn an_account_in_other_orgs_too_is_connected_only_from_itself(db: DatabaseConnection) {
    let provider = OidcProvider::start(CALLBACK);
    let (app, ada, acme) = acme_with_ada(db, &provider).await;
    flow::signed_in_with_org(&app, "dora@acme.example", "doras-own").await;
    let dora = users::find_by_email(&app.db, "dora@acme.example")
        .await
        .unwrap()
        .unwrap();
    app::domain::members::add_user(&app.db, ada, &acme, &dora, Role::Viewer, &support::meta())
        .await
        .unwrap();
    set_up(&app, ada, acme.id, &provider.issuer, true).await;

    // The provider's word alone doesn't sign her in.
    let (mut b, res, _) = through_provider(&app, &provider, "dora@acme.example").await;
    refused(&res, "belongs to other organizations too");
    assert_eq!(b.get("/account").await.status, StatusCode::FOUND);
    assert_eq!(failures(&app, "sign_in_to_connect").await, 1);

    // Her password still works while her account isn't connected (even though acme requires
    // single sign-on), so that she can connect it: signed in, through the provider once more.
    let res = b.log_in("dora@acme.example", PASSWORD).await;
    assert!(
        redirected_error(&res).is_none(),
        "{:?}",
        redirected_error(&res)
    );
    let (res, _) = through_provider_in(&app, &provider, &mut b, "dora@acme.example").await;
    signed_in(&app, &mut b, &res, "connecting").await;

    // Connected: the provider signs her in from any browser, and her password no longer does.
    let (mut fresh, res, _) = through_provider(&app, &provider, "dora@acme.example").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(fresh.get("/account").await.status, StatusCode::OK);
    let res = app.browser().log_in("dora@acme.example", PASSWORD).await;
    let e = redirected_error(&res).expect("password sign-in refused");
    assert!(e.to_string().contains("/login/sso/acme"), "{e}");
}
