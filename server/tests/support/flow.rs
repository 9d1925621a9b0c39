//! The OAuth flow as a client and a person would drive it: sign up, register an app, consent,
//! all through the real router.

use http::StatusCode;
use serde_json::json;

use super::{Browser, PASSWORD, Response, TestApp};

pub const MCP: &str = "http://127.0.0.1:3000/mcp";
pub const CB: &str = "http://127.0.0.1:7777/callback";

pub async fn signed_in_with_org(app: &TestApp, email: &str, slug: &str) -> Browser {
    let mut b = app.browser();
    let res = b.sign_up(email, PASSWORD).await;
    assert_eq!(
        res.location(),
        Some("/"),
        "sign-up of {email} failed: {:?}",
        super::redirected_error(&res)
    );
    create_org(&mut b, slug).await;
    b
}

/// As [`signed_in_with_org`], with the address verified from the mailbox (an admin needs that
/// to name their domain for single sign-on).
pub async fn verified_with_org(app: &TestApp, email: &str, slug: &str) -> Browser {
    let mut b = app.verified_browser(email).await;
    create_org(&mut b, slug).await;
    b
}

async fn create_org(b: &mut Browser, slug: &str) {
    let res = b
        .submit(
            "/orgs/new",
            "/fn/create_org",
            &[("name", slug), ("slug", slug)],
        )
        .await;
    assert_eq!(res.location(), Some(format!("/o/{slug}").as_str()));
}

pub async fn register(app: &TestApp, body: serde_json::Value) -> serde_json::Value {
    let res = app.post_json("/oauth/register", body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.json()
}

pub async fn public_client(app: &TestApp) -> String {
    let reg = register(app, json!({ "client_name": "Test MCP client", "redirect_uris": [CB], "token_endpoint_auth_method": "none" })).await;
    reg["client_id"].as_str().unwrap().to_string()
}

pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in page:\n{html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// Follows /oauth/authorize through the consent screen and decides; returns the redirect to the app.
pub async fn authorize(b: &mut Browser, query: &str, org: &str, decision: &str) -> Response {
    let res = b.get_raw(&format!("/oauth/authorize?{query}")).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let consent_url = res.location().unwrap().to_string();
    if !consent_url.starts_with("/oauth/consent/") {
        return res; // remembered consent: straight back to the app
    }
    decide(b, &consent_url, org, decision).await
}

/// Opens the consent screen at `consent_url` and decides (`approve` or `deny`) for `org`;
/// returns the redirect to the app.
pub async fn decide(b: &mut Browser, consent_url: &str, org: &str, decision: &str) -> Response {
    let page = b.get(consent_url).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let fields = [
        ("csrf", hidden(&page.body, "csrf")),
        ("request_id", hidden(&page.body, "request_id")),
    ];
    let mut form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    form.push(("org", org));
    form.push(("decision", decision));
    b.post_form("/fn/decide_consent", consent_url, &form).await
}

pub fn query(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

pub fn auth_query(client_id: &str, challenge: &str, extra: &[(&str, &str)]) -> String {
    let mut p = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CB),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("state", "xyz-state"),
        ("scope", "mcp:read mcp:write"),
        ("resource", MCP),
    ];
    p.extend_from_slice(extra);
    query(&p)
}

/// Tokens from a full authorization: a new public client, consent by the signed-in browser
/// `b` for `org`, and the code exchanged with PKCE. Returns the token response.
pub async fn connect(
    app: &TestApp,
    b: &mut Browser,
    resource: &str,
    scope: &str,
    org: &str,
) -> serde_json::Value {
    let client_id = public_client(app).await;
    let mut t = connect_client(app, b, &client_id, resource, scope, org).await;
    t["client_id"] = json!(client_id);
    t
}

/// As [`connect`], for a client registered already (one client for several people).
pub async fn connect_client(
    app: &TestApp,
    b: &mut Browser,
    client_id: &str,
    resource: &str,
    scope: &str,
    org: &str,
) -> serde_json::Value {
    let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
    let q = query(&[
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CB),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("state", "s"),
        ("scope", scope),
        ("resource", resource),
    ]);
    let res = authorize(b, &q, org, "approve").await;
    exchange_code(app, client_id, &res, verifier.secret(), resource).await
}

/// The app's side after consent: the code from `redirect` (the redirect to the app),
/// exchanged with its PKCE verifier. Returns the token response.
pub async fn exchange_code(
    app: &TestApp,
    client_id: &str,
    redirect: &Response,
    verifier: &str,
    resource: &str,
) -> serde_json::Value {
    let code = redirect
        .location_param("code")
        .unwrap_or_else(|| panic!("no code: {:?} {}", redirect.location(), redirect.body));
    let res = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code_verifier", verifier),
                ("redirect_uri", CB),
                ("client_id", client_id),
                ("resource", resource),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.json()
}

/// A resource server of org `slug`: the org's own confidential app (created by its admin
/// `admin_email`) that the admin allowed to introspect the org's tokens. (client_id, secret).
pub async fn org_resource_server(app: &TestApp, admin_email: &str, slug: &str) -> (String, String) {
    use app::domain::oauth_apps::{self, AppOwner, NewApp, Trust};
    let s = &app.services;
    let admin = app::domain::users::find_by_email(&s.db, admin_email)
        .await
        .unwrap()
        .unwrap();
    let org = app::domain::orgs::find_by_slug(&s.db, slug)
        .await
        .unwrap()
        .unwrap();
    let made = oauth_apps::create(
        s,
        admin.id,
        AppOwner::Org { org_id: org.id },
        &NewApp {
            name: format!("{slug} resource server"),
            redirect_uris: vec!["https://rs.example.com/cb".into()],
            scopes: vec!["mcp:read".into()],
            confidential: true,
            trust: Trust {
                resource_server: true,
                pkce_optional: false,
            },
            ..Default::default()
        },
        &app::domain::RequestMeta::default(),
    )
    .await
    .unwrap();
    (made.client.client_id, made.secret.unwrap())
}

/// RFC 7662 introspection by a client that authenticates with HTTP Basic.
pub async fn introspect_basic(
    app: &TestApp,
    id: &str,
    secret: &str,
    token: &str,
) -> serde_json::Value {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("token", token)
        .finish();
    app.call(
        http::Request::post("/oauth/introspect")
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::AUTHORIZATION, super::basic_auth(id, secret))
            .body(axum::body::Body::from(body))
            .unwrap(),
    )
    .await
    .json()
}

/// A `tools/call` of `tool` at the MCP endpoint `path` (`/mcp`, `/o/acme/mcp` or a full URL),
/// as SDK clients send it, with `token` as the bearer.
pub async fn tools_call(app: &TestApp, path: &str, token: &str, tool: &str) -> Response {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": tool, "arguments": {} } });
    app.call(
        http::Request::post(path)
            .header(http::header::HOST, "127.0.0.1:3000")
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-06-18")
            .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
            .body(axum::body::Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}
