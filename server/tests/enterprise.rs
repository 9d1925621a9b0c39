//! Enterprise-managed authorization (MCP extension, ID-JAG): an org's identity provider grants
//! MCP access with identity assertions presented at `/oauth/token` as RFC 7523 jwt-bearer
//! grants. The provider is a real process (`end2end/support/id_jag_idp.mjs`, signing with the
//! `jose` library over HTTPS); the client is the real router and, in one test, the official MCP
//! Python SDK's identity-assertion provider against Gatehouse served over TCP.
//!
//! A member linked to the provider gets an access token for their live role (no refresh token
//! unless the org allows it), as a connection the person and admins see and can revoke; every
//! refusal names its check, issues nothing and is audited; switching the grants off ends what
//! they gave.

mod support;

use std::process::Command;

use app::domain::entities::{audit_event, connection, membership, sso_identity, token};
use app::domain::oauth_apps::{self, AppOwner, NewApp};
use app::domain::sso::connection::{self as sso, ConnectionChange};
use app::domain::validate::{Email, Password, Slug};
use app::domain::{members, orgs, users};
use app::model::{AssertionPolicy, Role};
use chrono::Utc;
use http::StatusCode;
use migration::on_both_backends;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use support::oidc::OidcProvider;
use support::{PASSWORD, TestApp, basic_auth, flow, meta};

on_both_backends!(
    a_linked_member_gets_a_token_for_their_live_role,
    every_refusal_names_its_check_and_issues_nothing,
    switching_the_grants_off_ends_what_they_gave,
    the_mcp_python_sdk_connects_with_assertions_from_the_provider,
);

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Gatehouse reaching the provider; org acme (admin Ada, SSO through the provider with
/// assertions on), Bob a querier linked to the provider as `bob-sub`, and a confidential app
/// of acme's.
struct World {
    app: TestApp,
    idp: OidcProvider,
    acme: app::domain::entities::organization::Model,
    ada: uuid::Uuid,
    bob: uuid::Uuid,
    client_id: String,
    secret: String,
    /// Gatehouse's public URL: the assertions' `aud`.
    issuer: String,
}

impl World {
    async fn new(db: DatabaseConnection) -> Self {
        Self::build(db, false).await
    }

    async fn build(db: DatabaseConnection, served: bool) -> Self {
        let idp = OidcProvider::start_id_jag();
        let env = idp.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (app, issuer) = if served {
            TestApp::served(db, &env).await
        } else {
            (
                TestApp::with_db(db, &env).await,
                support::ORIGIN.to_string(),
            )
        };
        // Made through the domain: a browser of the router in-process would come from another
        // origin than the served app's.
        let ada = verified(&app, "ada@acme.example").await;
        orgs::create_org(
            &app.db,
            ada,
            &Slug::parse("acme").unwrap(),
            "Acme".into(),
            &meta(),
        )
        .await
        .unwrap();
        let acme = orgs::find_by_slug(&app.db, "acme").await.unwrap().unwrap();
        sso::save(
            &app.services,
            Some(ada),
            acme.id,
            &change(&idp.issuer, policy()),
            &meta(),
        )
        .await
        .unwrap();
        let bob = member(&app, &acme, ada, "bob@acme.example", Role::Querier).await;
        link(&app, &idp, acme.id, bob, "bob-sub").await;
        let made = oauth_apps::create(
            &app.services,
            ada,
            AppOwner::Org { org_id: acme.id },
            &NewApp {
                name: "Acme agent".into(),
                redirect_uris: vec!["https://agent.acme.example/cb".into()],
                scopes: vec!["mcp:read".into(), "mcp:write".into()],
                confidential: true,
                ..Default::default()
            },
            &meta(),
        )
        .await
        .unwrap();
        Self {
            app,
            idp,
            acme,
            ada,
            bob,
            client_id: made.client.client_id,
            secret: made.secret.unwrap(),
            issuer,
        }
    }

    /// An assertion for Bob, for acme's endpoint, issued to the app; `claims` over that.
    async fn assertion(&self, claims: Value) -> String {
        self.assertion_with(claims, json!({}), "rsa", &[]).await
    }

    async fn assertion_with(
        &self,
        claims: Value,
        header: Value,
        key: &str,
        omit: &[&str],
    ) -> String {
        let mut all = json!({
            "sub": "bob-sub",
            "aud": self.issuer,
            "resource": format!("{}/o/acme/mcp", self.issuer),
            "client_id": self.client_id,
            "scope": "mcp:read mcp:write",
        });
        for (k, v) in claims.as_object().unwrap() {
            all[k] = v.clone();
        }
        self.idp.mint(all, header, key, omit).await
    }

    /// The jwt-bearer grant at the token endpoint, the app authenticating with HTTP Basic.
    async fn grant(&self, assertion: &str, extra: &[(&str, &str)]) -> support::Response {
        self.grant_as(&self.client_id, &self.secret, assertion, extra)
            .await
    }

    async fn grant_as(
        &self,
        client_id: &str,
        secret: &str,
        assertion: &str,
        extra: &[(&str, &str)],
    ) -> support::Response {
        let mut fields = vec![("grant_type", JWT_BEARER), ("assertion", assertion)];
        fields.extend_from_slice(extra);
        self.token_endpoint(client_id, secret, &fields).await
    }

    /// A token request with `fields`, the client authenticating with HTTP Basic.
    async fn token_endpoint(
        &self,
        client_id: &str,
        secret: &str,
        fields: &[(&str, &str)],
    ) -> support::Response {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.app
            .call(
                http::Request::post("/oauth/token")
                    .header(
                        http::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .header(http::header::AUTHORIZATION, basic_auth(client_id, secret))
                    .body(axum::body::Body::from(body))
                    .unwrap(),
            )
            .await
    }

    async fn set_policy(&self, p: AssertionPolicy) {
        sso::save(
            &self.app.services,
            Some(self.ada),
            self.acme.id,
            &change(&self.idp.issuer, p),
            &meta(),
        )
        .await
        .unwrap();
    }

    async fn tokens(&self) -> usize {
        token::Entity::find()
            .filter(token::Column::UserId.eq(self.bob))
            .all(&self.app.db)
            .await
            .unwrap()
            .len()
    }
}

fn policy() -> AssertionPolicy {
    AssertionPolicy {
        enabled: true,
        ..AssertionPolicy::default()
    }
}

fn change(issuer: &str, assertions: AssertionPolicy) -> ConnectionChange {
    ConnectionChange {
        issuer: issuer.to_string(),
        client_id: "gatehouse-sso".into(),
        client_secret: Some("a-secret-the-provider-gave-gatehouse".into()),
        domains: vec!["acme.example".into()],
        default_role: Role::Querier,
        require_sso: false,
        enabled: true,
        assertions: Some(assertions),
    }
}

/// An account with `email` verified.
async fn verified(app: &TestApp, email: &str) -> uuid::Uuid {
    let parsed = Email::parse(email).unwrap();
    users::create_user(
        &app.services,
        &parsed,
        &Password::parse(PASSWORD, Some(&parsed)).unwrap(),
        None,
        true,
        &meta(),
    )
    .await
    .unwrap()
    .id
}

async fn member(
    app: &TestApp,
    org: &app::domain::entities::organization::Model,
    admin: uuid::Uuid,
    email: &str,
    role: Role,
) -> uuid::Uuid {
    let id = verified(app, email).await;
    let user = users::find(&app.db, id).await.unwrap().unwrap();
    members::add_user(&app.db, admin, org, &user, role, &meta())
        .await
        .unwrap();
    id
}

/// What a first single sign-on through the provider leaves: the provider's account `subject`
/// linked to `user`.
async fn link(app: &TestApp, idp: &OidcProvider, org: uuid::Uuid, user: uuid::Uuid, subject: &str) {
    sso_identity::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        user_id: Set(user),
        org_id: Set(org),
        issuer: Set(idp.issuer.clone()),
        subject: Set(subject.into()),
        email: Set(format!("{subject}@acme.example")),
        created_at: Set(Utc::now()),
        last_sign_in_at: Set(Some(Utc::now())),
    }
    .insert(&app.db)
    .await
    .unwrap();
}

fn token_of(res: &support::Response) -> String {
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.json()["access_token"].as_str().unwrap().to_string()
}

async fn whoami(app: &TestApp, token: &str) -> Value {
    let res = flow::tools_call(app, "/o/acme/mcp", token, "whoami").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let text = res
        .body
        .lines()
        .find_map(|l| {
            l.strip_prefix("data: ")
                .or(Some(l))
                .filter(|l| l.starts_with('{'))
        })
        .unwrap_or(&res.body)
        .to_string();
    let rpc: Value = serde_json::from_str(&text).unwrap();
    serde_json::from_str(rpc["result"]["content"][0]["text"].as_str().unwrap()).unwrap()
}

async fn a_linked_member_gets_a_token_for_their_live_role(db: DatabaseConnection) {
    let w = World::new(db).await;
    // Discovery says the grant is there.
    let meta_doc = w
        .app
        .get("/.well-known/oauth-authorization-server")
        .await
        .json();
    assert!(
        meta_doc["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(JWT_BEARER))
    );

    let res = w.grant(&w.assertion(json!({})).await, &[]).await;
    let body = res.json();
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(body["token_type"], "Bearer");
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert_eq!(body["scope"], "mcp:read mcp:write");
    assert!(body["expires_in"].as_i64().unwrap() <= 3600);
    let token = token_of(&res);
    let me = whoami(&w.app, &token).await;
    assert_eq!(me["user"]["email"], "bob@acme.example");
    assert_eq!(me["organization"]["slug"], "acme");
    assert_eq!(me["role"], "querier");
    assert_eq!(me["credential"]["client_id"], json!(w.client_id));

    // The role is read on every request: a demotion shows at once.
    let m = membership::Entity::find()
        .filter(membership::Column::UserId.eq(w.bob))
        .one(&w.app.db)
        .await
        .unwrap()
        .unwrap();
    members::change_role(&w.app.services, w.ada, &w.acme, m.id, Role::Viewer, &meta())
        .await
        .unwrap();
    assert_eq!(whoami(&w.app, &token).await["role"], "viewer");

    // A connection like any other, granted by the provider; a second assertion uses it again.
    let again = token_of(
        &w.grant(&w.assertion(json!({})).await, &[("scope", "mcp:read")])
            .await,
    );
    assert_eq!(whoami(&w.app, &again).await["scopes"], json!(["mcp:read"]));
    let conns = connection::Entity::find()
        .filter(connection::Column::UserId.eq(w.bob))
        .all(&w.app.db)
        .await
        .unwrap();
    assert_eq!(conns.len(), 1);
    assert!(conns[0].via_assertion);
    assert_eq!(conns[0].resource, format!("{}/o/acme/mcp", support::ORIGIN));
    let issued = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("oauth.token.issued"))
        .all(&w.app.db)
        .await
        .unwrap();
    assert!(
        issued
            .iter()
            .filter(|e| e
                .details
                .as_deref()
                .unwrap_or_default()
                .contains(JWT_BEARER))
            .count()
            == 2
    );

    // Bob revokes it on his connected-apps page: the token stops.
    app::domain::connections::revoke_own(&w.app.services, w.bob, conns[0].id, &meta())
        .await
        .unwrap();
    let res = flow::tools_call(&w.app, "/o/acme/mcp", &token, "whoami").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.body);

    // With refresh tokens allowed, one comes along, and it refreshes.
    w.set_policy(AssertionPolicy {
        refresh: true,
        access_ttl_secs: 600,
        ..policy()
    })
    .await;
    let res = w.grant(&w.assertion(json!({})).await, &[]).await;
    let body = res.json();
    assert_eq!(body["expires_in"], 600, "{body}");
    let refresh = body["refresh_token"].as_str().expect("a refresh token");
    let refreshed = w
        .token_endpoint(
            &w.client_id,
            &w.secret,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
    token_of(&refreshed);
}

/// The refusal, its `error_description` containing `words`, nothing issued, and an audit
/// entry with `reason`.
async fn refused(w: &World, res: support::Response, words: &str, reason: &str) {
    assert_eq!(
        res.status,
        StatusCode::BAD_REQUEST,
        "{reason}: {}",
        res.body
    );
    let body = res.json();
    assert_eq!(body["error"], "invalid_grant", "{reason}: {body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.contains(words),
        "{reason}: {description:?} lacks {words:?}"
    );
    let audited = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("oauth.assertion.refused"))
        .all(&w.app.db)
        .await
        .unwrap();
    assert!(
        audited.iter().any(|e| e
            .details
            .as_deref()
            .unwrap_or_default()
            .contains(&format!("\"reason\":\"{reason}\""))),
        "{reason} not audited"
    );
}

async fn every_refusal_names_its_check_and_issues_nothing(db: DatabaseConnection) {
    let w = World::new(db).await;
    let now = Utc::now().timestamp();

    // Each case: the claims over the defaults, the header over its defaults, the key, the
    // claims left out; the words of the refusal and the reason audited.
    type Case<'a> = (Value, Value, &'a str, &'a [&'a str], &'a str, &'a str);
    // Beta (its own admin, no trust in this provider) is out of this provider's reach.
    flow::verified_with_org(&w.app, "cy@beta.example", "beta").await;
    let none: &[&str] = &[];
    let cases: Vec<Case> = vec![
        // The JWT itself.
        (
            json!({}),
            json!({ "typ": "JWT" }),
            "rsa",
            none,
            "typ must be oauth-id-jag+jwt",
            "wrong_typ",
        ),
        (
            json!({}),
            json!({}),
            "other",
            none,
            "signature doesn't verify",
            "bad_signature",
        ),
        (
            json!({}),
            json!({}),
            "hmac",
            none,
            "public-key algorithm",
            "algorithm",
        ),
        (
            json!({}),
            json!({}),
            "none",
            none,
            "public-key algorithm",
            "algorithm",
        ),
        // Who vouches, and for whom.
        (
            json!({ "iss": "https://idp.elsewhere.example" }),
            json!({}),
            "rsa",
            none,
            "No organization here trusts the issuer",
            "unknown_issuer",
        ),
        (
            json!({ "aud": "https://other-as.example" }),
            json!({}),
            "rsa",
            none,
            "aud must be this authorization server's issuer",
            "wrong_audience",
        ),
        (
            json!({ "aud": format!("{}/", w.issuer) }),
            json!({}),
            "rsa",
            none,
            "aud must be",
            "wrong_audience",
        ),
        (
            json!({ "resource": "https://elsewhere.example/mcp" }),
            json!({}),
            "rsa",
            none,
            "not an MCP endpoint of this server",
            "wrong_resource",
        ),
        (
            json!({ "resource": format!("{}/o/beta/mcp", w.issuer) }),
            json!({}),
            "rsa",
            none,
            "doesn't trust the identity provider",
            "issuer_of_another_org",
        ),
        (
            json!({ "client_id": "gc_someone_else" }),
            json!({}),
            "rsa",
            none,
            "was issued to the client gc_someone_else",
            "client_mismatch",
        ),
        (
            json!({ "sub": "nobody-sub" }),
            json!({}),
            "rsa",
            none,
            "No member of",
            "unknown_subject",
        ),
        // When.
        (
            json!({ "iat": now - 900, "exp": now - 300 }),
            json!({}),
            "rsa",
            none,
            "expired",
            "expired",
        ),
        (
            json!({ "exp": now + 86_400 }),
            json!({}),
            "rsa",
            none,
            "good for too long",
            "lifetime_too_long",
        ),
        (
            json!({ "iat": now + 600 }),
            json!({}),
            "rsa",
            none,
            "iat is in the future",
            "issued_in_future",
        ),
        (
            json!({}),
            json!({}),
            "rsa",
            &["jti"],
            "lacks the jti claim",
            "missing_claim",
        ),
        (
            json!({}),
            json!({}),
            "rsa",
            &["exp"],
            "lacks the exp claim",
            "missing_claim",
        ),
        (
            json!({}),
            json!({}),
            "rsa",
            &["sub"],
            "lacks the sub claim",
            "missing_claim",
        ),
        (
            json!({}),
            json!({}),
            "rsa",
            &["client_id"],
            "lacks the client_id claim",
            "missing_claim",
        ),
        (
            json!({}),
            json!({}),
            "rsa",
            &["resource"],
            "lacks the resource claim",
            "missing_claim",
        ),
    ];
    for (claims, header, key, omit, words, reason) in cases {
        let a = w.assertion_with(claims, header, key, omit).await;
        refused(&w, w.grant(&a, &[]).await, words, reason).await;
    }
    refused(
        &w,
        w.grant("not.a-jwt", &[]).await,
        "can't be read",
        "malformed",
    )
    .await;
    // Signed with the provider's other published key (ES256): accepted, the control.
    let a = w.assertion_with(json!({}), json!({}), "ec", &[]).await;
    token_of(&w.grant(&a, &[]).await);

    // Once only.
    let a = w.assertion(json!({})).await;
    token_of(&w.grant(&a, &[]).await);
    refused(&w, w.grant(&a, &[]).await, "already used", "replayed").await;

    // The request must agree with it.
    let a = w.assertion(json!({})).await;
    let res = w
        .grant(&a, &[("resource", &format!("{}/mcp", w.issuer))])
        .await;
    assert_eq!(res.json()["error"], "invalid_target", "{}", res.body);

    // The org's policy: the client list, the switch, the member.
    w.set_policy(AssertionPolicy {
        clients: vec!["gc_only_this_one".into()],
        ..policy()
    })
    .await;
    refused(
        &w,
        w.grant(&w.assertion(json!({})).await, &[]).await,
        "doesn't let this client",
        "client_not_allowed",
    )
    .await;
    w.set_policy(AssertionPolicy {
        clients: vec![w.client_id.clone()],
        ..policy()
    })
    .await;
    token_of(&w.grant(&w.assertion(json!({})).await, &[]).await);
    w.set_policy(AssertionPolicy::default()).await;
    refused(
        &w,
        w.grant(&w.assertion(json!({})).await, &[]).await,
        "doesn't let its identity provider grant",
        "assertion_grants_off",
    )
    .await;
    w.set_policy(policy()).await;
    let still_valid = w.assertion(json!({})).await;
    let m = membership::Entity::find()
        .filter(membership::Column::UserId.eq(w.bob))
        .one(&w.app.db)
        .await
        .unwrap()
        .unwrap();
    members::remove(&w.app.services, w.ada, &w.acme, m.id, &meta())
        .await
        .unwrap();
    refused(
        &w,
        w.grant(&still_valid, &[]).await,
        "no longer a member of",
        "access_denied",
    )
    .await;

    // A public client can't present one (it proves nothing about who it is).
    let public = flow::public_client(&w.app).await;
    let a = w.assertion(json!({ "client_id": public })).await;
    let res = w
        .app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", JWT_BEARER),
                ("assertion", a.as_str()),
                ("client_id", public.as_str()),
            ],
        )
        .await;
    assert_eq!(res.json()["error"], "unauthorized_client", "{}", res.body);

    // Of all that, only the controls were granted.
    assert_eq!(w.tokens().await, 3);
}

async fn switching_the_grants_off_ends_what_they_gave(db: DatabaseConnection) {
    let w = World::new(db).await;
    let token = token_of(&w.grant(&w.assertion(json!({})).await, &[]).await);
    assert_eq!(whoami(&w.app, &token).await["role"], "querier");
    w.set_policy(AssertionPolicy::default()).await;
    let res = flow::tools_call(&w.app, "/o/acme/mcp", &token, "whoami").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.body);
    let conn = connection::Entity::find()
        .filter(connection::Column::UserId.eq(w.bob))
        .one(&w.app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(conn.revoked_at.is_some());
    assert_eq!(
        conn.revoke_reason.as_deref(),
        Some("assertion_grants_ended")
    );

    // A client that registered itself for this grant alone (no redirect URIs) works too.
    w.set_policy(policy()).await;
    let reg = flow::register(
        &w.app,
        json!({
            "client_name": "Enterprise agent",
            "grant_types": [JWT_BEARER],
            "token_endpoint_auth_method": "client_secret_basic",
        }),
    )
    .await;
    let (id, secret) = (
        reg["client_id"].as_str().unwrap(),
        reg["client_secret"].as_str().unwrap(),
    );
    let a = w.assertion(json!({ "client_id": id })).await;
    let res = w.grant_as(id, secret, &a, &[]).await;
    assert_eq!(whoami(&w.app, &token_of(&res)).await["role"], "querier");
    // …but a public one may not register for it.
    let res = w
        .app
        .post_json(
            "/oauth/register",
            json!({ "grant_types": [JWT_BEARER], "token_endpoint_auth_method": "none" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    assert_eq!(res.json()["error"], "invalid_client_metadata");
}

async fn the_mcp_python_sdk_connects_with_assertions_from_the_provider(db: DatabaseConnection) {
    if Command::new("python3")
        .args(["-c", "import mcp.client.auth.extensions.identity_assertion"])
        .status()
        .map(|s| !s.success())
        .unwrap_or(true)
    {
        panic!("the MCP Python SDK 2.x is missing: run `bash .ci/setup --test`");
    }
    let w = World::build(db, true).await;
    w.idp
        .register_client("acme-agent", "agent-secret-at-the-idp", &w.client_id)
        .await;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../end2end/support/id_jag_client.py");
    let base = w.issuer.clone();
    let (client_id, secret) = (w.client_id.clone(), w.secret.clone());
    let (idp, ca) = (w.idp.issuer.clone(), w.idp.cert.ca_file.clone());
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .env("MCP_URL", format!("{base}/o/acme/mcp"))
            .env("AS_ISSUER", &base)
            .env("CLIENT_ID", client_id)
            .env("CLIENT_SECRET", secret)
            .env("IDP", idp)
            .env("IDP_CA", ca)
            .env("IDP_CLIENT_ID", "acme-agent")
            .env("IDP_CLIENT_SECRET", "agent-secret-at-the-idp")
            .env("SUB", "bob-sub")
            .env("EMAIL", "bob@acme.example")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "the SDK client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tools: Vec<&str> = result["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(tools.contains(&"whoami"), "{tools:?}");
    // Bob is a querier: an admin's tool is refused in plain words.
    assert_eq!(result["admin_tool"]["is_error"], true, "{result}");
    let words = result["admin_tool"]["text"].as_str().unwrap();
    assert!(words.contains("admin"), "{words}");
    assert_eq!(result["is_error"], false, "{result}");
    let me: Value = serde_json::from_str(result["text"].as_str().unwrap()).unwrap();
    assert_eq!(me["user"]["email"], "bob@acme.example");
    assert_eq!(me["role"], "querier");
    assert_eq!(me["organization"]["slug"], "acme");
    assert_eq!(result["assertions_asked"], 1);
    // What the person's connected-apps page lists.
    let conns = connection::Entity::find()
        .filter(connection::Column::UserId.eq(w.bob))
        .all(&w.app.db)
        .await
        .unwrap();
    assert_eq!(conns.len(), 1);
    assert!(conns[0].via_assertion);
}
