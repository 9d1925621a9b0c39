//! Signing in through an organization's OpenID Connect provider: authorization code with PKCE,
//! `state` and `nonce` (openidconnect does discovery and checks the ID token: signature by
//! the provider's published keys, issuer, audience, expiry, nonce).
//!
//! A sign-in under way is a row of `sso_logins` (its `state` hashed, the PKCE verifier sealed),
//! so any process can finish it, and each is good once for [`LOGIN_TTL`]. The provider's
//! documents are fetched through the same guarded HTTP client as metadata documents (an org
//! admin chooses the issuer URL, so it must not reach into Gatehouse's network) and kept for
//! a while ([`sso_providers`](crate::domain::sso_providers)); a rotated signing key is fetched as soon as an
//! ID token needs it.
//!
//! Who the person is: the provider account (issuer, subject) linked before; otherwise an
//! address the provider says is verified, in one of the connection's domains, which either
//! belongs to no account yet (one is created, with the first-time role in the org) or to a
//! member of this org already (linked; if it belongs to other orgs too, only from a browser
//! signed in as it). An address of an account outside the org is never linked: another org's
//! provider can't take over an account by claiming its address.

use chrono::Utc;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreUserInfoClaims};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use super::connection::secret_place;
use super::provider::{Http, Keys, chain, discover, fetcher};
use crate::domain::audit::{self, AuditEntry};
use crate::domain::entities::{organization, sso_connection, sso_identity, sso_login, user};
use crate::domain::oauth::client_domains::DomainList;
use crate::domain::secrets::sha256_hex;
use crate::domain::validate::{Email, Password};
use crate::domain::{RequestMeta, Services, members, orgs, sso_policy, users};
use crate::error::{AppError, AppResult};

/// How long a sign-in may stay at the provider.
pub const LOGIN_TTL: chrono::Duration = chrono::Duration::minutes(10);
/// Where providers send people back (registered with the provider as the redirect URI).
pub const CALLBACK_PATH: &str = "/login/sso/callback";

pub fn callback_url(s: &Services) -> String {
    format!("{}{CALLBACK_PATH}", s.settings.public_url)
}

fn login_place(id: Uuid) -> String {
    format!("sso_login:{id}")
}

/// Why a single sign-on didn't sign the person in. Its text is for the person (never the
/// provider's own words); [`code`](Self::code) and the detail go to the audit log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsoFailure {
    #[error("This organization has no single sign-on set up.")]
    NotSetUp,
    #[error("Single sign-on is switched off for this organization. Ask its administrator.")]
    Disabled,
    #[error(
        "Gatehouse couldn't reach your organization's sign-in provider. Try again in a minute; if it keeps happening, ask your administrator to check the single sign-on settings."
    )]
    Unreachable(String),
    #[error("This sign-in has expired or was already used. Start again.")]
    UnknownState,
    #[error("Your organization's sign-in provider did not sign you in.")]
    Refused(String),
    #[error(
        "Your organization's sign-in provider sent an answer Gatehouse can't trust, so you are not signed in. Ask your administrator to check the single sign-on settings."
    )]
    Untrusted(String),
    #[error("Your sign-in provider didn't tell Gatehouse your email address.")]
    NoEmail,
    #[error(
        "Your sign-in provider hasn't confirmed your email address ({0}), so Gatehouse can't use it. Ask your administrator."
    )]
    EmailNotVerified(String),
    #[error("{0} is not an address this organization's single sign-on covers.")]
    DomainNotCovered(String),
    #[error(
        "An account with {0} already exists and isn't a member of this organization. Sign in with its password, or ask an admin of the organization to invite it."
    )]
    AccountElsewhere(String),
    #[error("This account is disabled. Ask your administrator.")]
    AccountDisabled,
    #[error(
        "An account with {0} already exists and belongs to other organizations too, so Gatehouse connects it to this sign-in provider only when you ask from the account itself: sign in with its password, then choose “Continue with SSO” again."
    )]
    SignInToConnect(String),
}

impl SsoFailure {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotSetUp => "not_set_up",
            Self::Disabled => "disabled",
            Self::Unreachable(_) => "provider_unreachable",
            Self::UnknownState => "unknown_state",
            Self::Refused(_) => "provider_refused",
            Self::Untrusted(_) => "untrusted_answer",
            Self::NoEmail => "no_email",
            Self::EmailNotVerified(_) => "email_not_verified",
            Self::DomainNotCovered(_) => "domain_not_covered",
            Self::AccountElsewhere(_) => "account_elsewhere",
            Self::AccountDisabled => "account_disabled",
            Self::SignInToConnect(_) => "sign_in_to_connect",
        }
    }

    /// What the audit log keeps beyond the code (never shown to the person).
    fn detail(&self) -> Option<&str> {
        match self {
            Self::Unreachable(d) | Self::Refused(d) | Self::Untrusted(d) => Some(d),
            _ => None,
        }
    }
}

type Outcome<T> = AppResult<Result<T, SsoFailure>>;

/// The connection of `org_id`, usable for a sign-in, with its secret opened.
async fn usable(s: &Services, org_id: Uuid) -> Outcome<(sso_connection::Model, String)> {
    let Some(conn) = sso_connection::Entity::find_by_id(org_id)
        .one(&s.db)
        .await?
    else {
        return Ok(Err(SsoFailure::NotSetUp));
    };
    if !conn.enabled {
        return Ok(Err(SsoFailure::Disabled));
    }
    let secret = s
        .key
        .open_str(&secret_place(org_id), &conn.client_secret_sealed)
        .map_err(|e| {
            tracing::error!(error = %e, %org_id, "SSO client secret does not open");
            AppError::Internal
        })?;
    Ok(Ok((conn, secret)))
}

/// Gatehouse as the provider's client: its metadata found by discovery, our redirect URI.
type ProviderClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

async fn provider_client(
    s: &Services,
    http: &Http,
    conn: &sso_connection::Model,
    secret: String,
    keys: Keys,
) -> Outcome<ProviderClient> {
    let metadata = match discover(s, http, &conn.issuer, keys).await {
        Ok(m) => m,
        Err(why) => return Ok(Err(SsoFailure::Unreachable(why))),
    };
    let redirect = RedirectUrl::new(callback_url(s)).map_err(|_| AppError::Internal)?;
    Ok(Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(conn.client_id.clone()),
        Some(ClientSecret::new(secret)),
    )
    .set_redirect_uri(redirect)))
}

/// Starts a sign-in at `org`'s provider; the provider URL to send the person to.
/// `return_to`: a path of this site to come back to (anything else becomes `/`).
pub async fn begin(
    s: &Services,
    org: &organization::Model,
    return_to: Option<&str>,
    meta: &RequestMeta,
) -> Outcome<String> {
    let (conn, secret) = match usable(s, org.id).await? {
        Ok(c) => c,
        Err(SsoFailure::NotSetUp) => return Ok(Err(SsoFailure::NotSetUp)),
        Err(f) => return failed(s, Some(org), f, meta).await,
    };
    let http = fetcher(s)?;
    let client = match provider_client(s, &http, &conn, secret, Keys::Kept).await? {
        Ok(c) => c,
        Err(f) => return failed(s, Some(org), f, meta).await,
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let id = Uuid::new_v4();
    let now = Utc::now();
    sso_login::ActiveModel {
        id: Set(id),
        state_hash: Set(sha256_hex(state.secret())),
        org_id: Set(org.id),
        nonce: Set(nonce.secret().clone()),
        pkce_verifier_sealed: Set(s.key.seal_str(&login_place(id), verifier.secret())),
        return_to: Set(return_to.filter(|p| local_path(p)).map(str::to_string)),
        created_at: Set(now),
        expires_at: Set(now + LOGIN_TTL),
        used_at: Set(None),
    }
    .insert(&s.db)
    .await?;
    Ok(Ok(url.to_string()))
}

/// A path of this site and nothing else (the caller makes it so with
/// `web::session::safe_next`; checked again here since it ends up in a redirect).
fn local_path(p: &str) -> bool {
    p.starts_with('/') && !p.starts_with("//") && !p.chars().any(|c| c.is_control() || c == '\\')
}

/// Deletes sign-ins that expired more than an hour ago (housekeeping); how many went.
pub async fn sweep(db: &impl sea_orm::ConnectionTrait) -> AppResult<u64> {
    Ok(sso_login::Entity::delete_many()
        .filter(sso_login::Column::ExpiresAt.lt(Utc::now() - chrono::Duration::hours(1)))
        .exec(db)
        .await?
        .rows_affected)
}

/// What the provider sent back to [`CALLBACK_PATH`].
#[derive(Debug, Clone, Default)]
pub struct Callback {
    pub state: Option<String>,
    pub code: Option<String>,
    /// The provider's refusal (`access_denied`, `login_required`, …).
    pub error: Option<String>,
    /// The account this browser is signed in as already, if any: the proof that an account
    /// which belongs to other organizations too wants to be connected to this provider.
    pub signed_in_as: Option<Uuid>,
}

/// A finished sign-in: who, in which org, and where to go now.
#[derive(Debug, Clone)]
pub struct Finished {
    pub user: user::Model,
    pub org: organization::Model,
    pub return_to: String,
}

/// Finishes a sign-in the provider sent back. Every outcome is audited.
pub async fn finish(s: &Services, cb: &Callback, meta: &RequestMeta) -> Outcome<Finished> {
    let Some(state) = cb.state.as_deref().filter(|v| !v.is_empty()) else {
        return failed(s, None, SsoFailure::UnknownState, meta).await;
    };
    // Good once: of two requests with the same state, one claims it.
    let now = Utc::now();
    let hash = sha256_hex(state);
    let claimed = sso_login::Entity::update_many()
        .col_expr(sso_login::Column::UsedAt, Expr::value(now))
        .filter(sso_login::Column::StateHash.eq(hash.clone()))
        .filter(sso_login::Column::UsedAt.is_null())
        .filter(sso_login::Column::ExpiresAt.gt(now))
        .exec(&s.db)
        .await?
        .rows_affected
        == 1;
    let login = match claimed {
        true => {
            sso_login::Entity::find()
                .filter(sso_login::Column::StateHash.eq(hash))
                .one(&s.db)
                .await?
        }
        false => None,
    };
    let Some(login) = login else {
        return failed(s, None, SsoFailure::UnknownState, meta).await;
    };
    let Some(org) = orgs::find(&s.db, login.org_id).await? else {
        return failed(s, None, SsoFailure::NotSetUp, meta).await;
    };
    match sign_in(s, &org, &login, cb, meta).await? {
        Ok(user) => {
            audit::record(
                &s.db,
                AuditEntry::new("sso.sign_in")
                    .org(org.id)
                    .actor(user.id)
                    .target("user", user.id),
                meta,
            )
            .await?;
            let return_to = login.return_to.clone().unwrap_or_else(|| "/".into());
            Ok(Ok(Finished {
                user,
                org,
                return_to,
            }))
        }
        Err(f) => failed(s, Some(&org), f, meta).await,
    }
}

async fn failed<T>(
    s: &Services,
    org: Option<&organization::Model>,
    failure: SsoFailure,
    meta: &RequestMeta,
) -> Outcome<T> {
    let mut entry = AuditEntry::new("sso.sign_in_failed")
        .details(json!({ "reason": failure.code(), "detail": failure.detail() }));
    if let Some(org) = org {
        entry = entry.org(org.id).target("organization", org.id);
    }
    audit::record(&s.db, entry, meta).await?;
    tracing::info!(
        reason = failure.code(),
        detail = failure.detail(),
        "SSO sign-in failed"
    );
    Ok(Err(failure))
}

/// The code exchange, the ID token's checks, and the account they lead to.
async fn sign_in(
    s: &Services,
    org: &organization::Model,
    login: &sso_login::Model,
    cb: &Callback,
    meta: &RequestMeta,
) -> Outcome<user::Model> {
    if let Some(error) = &cb.error {
        return Ok(Err(SsoFailure::Refused(format!("provider error: {error}"))));
    }
    let Some(code) = cb.code.as_deref().filter(|c| !c.is_empty()) else {
        return Ok(Err(SsoFailure::Refused("no code in the answer".into())));
    };
    let (conn, secret) = match usable(s, org.id).await? {
        Ok(c) => c,
        Err(f) => return Ok(Err(f)),
    };
    let verifier = s
        .key
        .open_str(&login_place(login.id), &login.pkce_verifier_sealed)
        .map_err(|_| AppError::Internal)?;
    let http = fetcher(s)?;
    let client = match provider_client(s, &http, &conn, secret.clone(), Keys::Kept).await? {
        Ok(c) => c,
        Err(f) => return Ok(Err(f)),
    };
    let request = match client.exchange_code(AuthorizationCode::new(code.to_string())) {
        Ok(r) => r,
        Err(e) => {
            return Ok(Err(SsoFailure::Unreachable(format!(
                "no token endpoint: {e}"
            ))));
        }
    };
    let tokens = match request
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&http)
        .await
    {
        Ok(t) => t,
        Err(e) => {
            let why = chain(&e);
            let failure = match e {
                openidconnect::RequestTokenError::Request(_) => SsoFailure::Unreachable(why),
                _ => SsoFailure::Refused(format!("token exchange: {why}")),
            };
            return Ok(Err(failure));
        }
    };
    let Some(id_token) = tokens.id_token() else {
        return Ok(Err(SsoFailure::Untrusted("no ID token".into())));
    };
    let nonce = Nonce::new(login.nonce.clone());
    let untrusted =
        |e: ClaimsVerificationError| SsoFailure::Untrusted(format!("ID token: {}", chain(&e)));
    let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
        Ok(c) => c.clone(),
        // Signed with a key the kept set lacks: the provider may have rotated its keys since
        // they were fetched. Fetch them afresh and check once more.
        Err(ClaimsVerificationError::SignatureVerification(_)) => {
            let fresh = match provider_client(s, &http, &conn, secret, Keys::Fresh).await? {
                Ok(c) => c,
                Err(f) => return Ok(Err(f)),
            };
            match id_token.claims(&fresh.id_token_verifier(), &nonce) {
                Ok(c) => c.clone(),
                Err(e) => return Ok(Err(untrusted(e))),
            }
        }
        Err(e) => return Ok(Err(untrusted(e))),
    };
    let subject = claims.subject().as_str().to_string();
    let mut email = claims.email().map(|e| e.as_str().trim().to_lowercase());
    let mut verified = claims.email_verified().unwrap_or(false);
    let mut name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.as_str().to_string());
    // A conforming provider may leave the scopes' claims to its userinfo endpoint (the code
    // flow's ID token need only identify the person); openidconnect checks there that the
    // subject is the ID token's.
    if email.is_none()
        && let Ok(request) = client.user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
    {
        let info: CoreUserInfoClaims = match request.request_async(&http).await {
            Ok(info) => info,
            Err(e) => {
                return Ok(Err(SsoFailure::Untrusted(format!(
                    "userinfo: {}",
                    chain(&e)
                ))));
            }
        };
        email = info.email().map(|e| e.as_str().trim().to_lowercase());
        verified = info.email_verified().unwrap_or(false);
        name = name.or_else(|| {
            info.name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_string())
        });
    }
    account(
        s,
        org,
        &conn,
        Identity {
            subject,
            email,
            verified,
            name,
        },
        cb.signed_in_as,
        meta,
    )
    .await
}

/// Who a provider says someone is.
pub(crate) struct Identity {
    pub(crate) subject: String,
    pub(crate) email: Option<String>,
    pub(crate) verified: bool,
    pub(crate) name: Option<String>,
}

/// The account a verified provider identity signs in as (see the module's rules).
pub(crate) async fn account(
    s: &Services,
    org: &organization::Model,
    conn: &sso_connection::Model,
    who: Identity,
    signed_in_as: Option<Uuid>,
    meta: &RequestMeta,
) -> Outcome<user::Model> {
    let now = Utc::now();
    let linked = sso_identity::Entity::find()
        .filter(sso_identity::Column::Issuer.eq(conn.issuer.clone()))
        .filter(sso_identity::Column::Subject.eq(who.subject.clone()))
        .one(&s.db)
        .await?;
    if let Some(link) = linked
        && let Some(user) = users::find(&s.db, link.user_id).await?
    {
        if user.disabled_at.is_some() {
            return Ok(Err(SsoFailure::AccountDisabled));
        }
        let mut link = sso_identity::ActiveModel::from(link);
        link.last_sign_in_at = Set(Some(now));
        if let Some(email) = &who.email {
            link.email = Set(email.clone());
        }
        link.update(&s.db).await?;
        return Ok(Ok(user));
    }
    let Some(email) = who.email else {
        return Ok(Err(SsoFailure::NoEmail));
    };
    if !who.verified {
        return Ok(Err(SsoFailure::EmailNotVerified(email)));
    }
    let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    let domains: Vec<String> = crate::domain::entities::sso_domain::Entity::find()
        .filter(crate::domain::entities::sso_domain::Column::OrgId.eq(org.id))
        .all(&s.db)
        .await?
        .into_iter()
        .map(|d| d.domain)
        .collect();
    let covered = DomainList::parse(&domains).is_ok_and(|l| l.covers(domain));
    if !covered {
        return Ok(Err(SsoFailure::DomainNotCovered(email)));
    }
    let user = match users::find_by_email(&s.db, &email).await? {
        Some(existing) => {
            if orgs::role_in(&s.db, org.id, existing.id).await?.is_none() {
                return Ok(Err(SsoFailure::AccountElsewhere(email)));
            }
            if existing.disabled_at.is_some() {
                return Ok(Err(SsoFailure::AccountDisabled));
            }
            if signed_in_as != Some(existing.id)
                && sso_policy::links_only_from_itself(&s.db, existing.id, org.id).await?
            {
                return Ok(Err(SsoFailure::SignInToConnect(email)));
            }
            existing
        }
        None => {
            let Ok(parsed) = Email::parse(&email) else {
                return Ok(Err(SsoFailure::NoEmail));
            };
            // Nobody knows this password: the account signs in through its provider (or sets
            // a password of its own with "forgot password").
            let unknown =
                Password::parse(&crate::domain::secrets::random_urlsafe(32), Some(&parsed))
                    .map_err(|_| AppError::Internal)?;
            let user =
                users::create_user(s, &parsed, &unknown, who.name.clone(), true, meta).await?;
            members::add_user(&s.db, user.id, org, &user, conn.default_role, meta).await?;
            audit::record(
                &s.db,
                AuditEntry::new("org.sso.member_joined")
                    .org(org.id)
                    .actor(user.id)
                    .target("user", user.id)
                    .details(json!({ "role": conn.default_role })),
                meta,
            )
            .await?;
            user
        }
    };
    sso_identity::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user.id),
        org_id: Set(org.id),
        issuer: Set(conn.issuer.clone()),
        subject: Set(who.subject),
        email: Set(email),
        created_at: Set(now),
        last_sign_in_at: Set(Some(now)),
    }
    .insert(&s.db)
    .await?;
    Ok(Ok(user))
}
