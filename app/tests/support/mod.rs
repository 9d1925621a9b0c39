//! What the domain tests share: a database of each kind per test, and the people and
//! organizations most tests start from.
#![allow(dead_code)] // each test binary uses its own part of this

use app::domain::access::{Denial, Purpose};
use app::domain::entities::{audit_event, oauth_client, organization, user};
use app::domain::oauth::authorize::{self, AuthorizeRequest, Begin};
use app::domain::oauth::consent;
use app::domain::oauth::grants::{self, CodeGrant, TokenResponse};
use app::domain::oauth::resource::McpResource;
use app::domain::oauth::tokens::TokenSpec;
use app::domain::validate::{Email, Password, Slug};
use app::domain::{RequestMeta, Services, Settings, members, orgs, users};
use app::model::Role;
use base64::Engine;
use sea_orm::DatabaseConnection;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery staple";
/// The loopback redirect URI and PKCE verifier the OAuth flows here use.
pub const REDIRECT: &str = "http://127.0.0.1:33418/callback";
pub const VERIFIER: &str = "a-pkce-verifier-that-is-long-enough-0123456789abcdef";

pub fn services(db: DatabaseConnection) -> Services {
    Services::new(
        db,
        Settings::new("https://gate.test", true),
        app::domain::sealing::InstanceKey::generate().0,
    )
}

pub fn meta() -> RequestMeta {
    RequestMeta {
        ip: Some("203.0.113.7".into()),
        user_agent: Some("tests".into()),
    }
}

/// A token of `user_id` in `org_id` tied to no client or connection, with scope `mcp:read`
/// (override fields with `..loose_token(…)`).
pub fn loose_token(user_id: Uuid, org_id: Uuid) -> TokenSpec<'static> {
    TokenSpec {
        user_id,
        org_id,
        client_id: None,
        connection_id: None,
        family_id: None,
        parent_id: None,
        scope: "mcp:read",
        resource: None,
        name: None,
    }
}

pub async fn user(s: &Services, email: &str) -> user::Model {
    let email = Email::parse(email).unwrap();
    let password = Password::parse(PASSWORD, Some(&email)).unwrap();
    users::create_user(s, &email, &password, None, true, &meta())
        .await
        .unwrap()
}

/// An org named "Org {slug}" whose admin is `owner`.
pub async fn org_of(s: &Services, owner: &user::Model, slug: &str) -> organization::Model {
    orgs::create_org(
        &s.db,
        owner.id,
        &Slug::parse(slug).unwrap(),
        format!("Org {slug}"),
        &meta(),
    )
    .await
    .unwrap()
}

/// Adds `who` to `org` with `role`; the membership's id.
pub async fn member(
    s: &Services,
    admin: &user::Model,
    org: &organization::Model,
    who: &user::Model,
    role: Role,
) -> Uuid {
    members::add_user(&s.db, admin.id, org, who, role, &meta())
        .await
        .unwrap()
        .id
}

pub fn challenge() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()))
}

/// Starts an authorization of `client_id` for the org's MCP endpoint; the request id.
pub async fn begin(s: &Services, client_id: &str, org: &organization::Model) -> Uuid {
    let begun = authorize::begin(
        s,
        AuthorizeRequest {
            response_type: Some("code".into()),
            client_id: Some(client_id.into()),
            redirect_uri: Some(REDIRECT.into()),
            scope: Some("mcp:read".into()),
            state: Some("st".into()),
            code_challenge: Some(challenge()),
            code_challenge_method: Some("S256".into()),
            resource: vec![McpResource::Org(org.slug.clone()).url(&s.settings.public_url)],
            prompt: None,
            repeated: None,
            signed_in: true,
            client_ip: None,
        },
    )
    .await
    .unwrap();
    match begun {
        Begin::Pending { request, .. } => request.id,
        other => panic!("authorization refused: {other:?}"),
    }
}

/// The whole OAuth flow: consent in `org`, code exchange. The connection id and the tokens.
pub async fn connect(
    s: &Services,
    who: &user::Model,
    client: &oauth_client::Model,
    org: &organization::Model,
) -> (Uuid, TokenResponse) {
    let request = begin(s, &client.client_id, org).await;
    let location = consent::approve(s, request, who, &org.slug, &meta())
        .await
        .unwrap();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.to_string())
        .expect("a code");
    let tokens = grants::exchange_code(
        s,
        client,
        CodeGrant {
            code,
            redirect_uri: Some(REDIRECT.into()),
            code_verifier: Some(VERIFIER.into()),
            resource: vec![],
        },
        &meta(),
    )
    .await
    .unwrap();
    let access = app::domain::oauth::tokens::find_by_secret(&s.db, &tokens.access_token)
        .await
        .unwrap()
        .unwrap();
    (access.connection_id.unwrap(), tokens)
}

/// The access decision for `secret` at the org's MCP endpoint.
pub async fn bearer_ok(
    s: &Services,
    secret: &str,
    org: &organization::Model,
) -> Result<(), Denial> {
    s.access()
        .check(secret, Purpose::Mcp(&McpResource::Org(org.slug.clone())))
        .await
        .unwrap()
        .map(|_| ())
}

pub async fn audit_count(db: &DatabaseConnection, action: &str) -> u64 {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(action))
        .count(db)
        .await
        .unwrap()
}

/// The details of every audit event named `action`, as stored (to look for what must not be
/// there).
pub async fn audit_details(db: &DatabaseConnection, action: &str) -> String {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(action))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{:?}", e.details))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The link of the newest mail to `to` still in the outbox (what its reader would follow).
pub async fn mailed_link(s: &Services, to: &str) -> String {
    app::domain::mail::outbox::list(&s.db, &s.key, 100)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.to == to && m.link.is_some())
        .and_then(|m| m.link)
        .unwrap_or_else(|| panic!("no mail with a link to {to}"))
}

/// The secret at the end of a mailed link.
pub fn link_secret(link: &str) -> String {
    link.rsplit('/').next().unwrap().to_string()
}
