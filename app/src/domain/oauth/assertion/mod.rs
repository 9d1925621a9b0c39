//! Enterprise-managed authorization: an organization's identity provider grants MCP access
//! with an Identity Assertion JWT Authorization Grant (ID-JAG), which its client presents to
//! the token endpoint as an RFC 7523 JWT bearer grant (MCP extension
//! `io.modelcontextprotocol/enterprise-managed-authorization`).
//!
//! The assertion is believed only after every check, in this order (each refusal is
//! `invalid_grant` naming the check, and audited): a JWS of `typ` `oauth-id-jag+jwt` signed
//! with a public-key algorithm; an issuer some org's SSO connection names; a signature by
//! that provider's published keys (fetched again once when none fits: it may have rotated
//! them); `aud` = our issuer exactly; a short life not over (`exp`, `iat`); `resource` one of
//! our MCP endpoints, of an org that trusts this issuer and lets it grant access; `client_id`
//! = the authenticated client, which that org allows; `sub` linked to an account through
//! single sign-on (or, where the org allows, a new member); then the same access decision as
//! the consent screen; and last, atomically with the issuance, a `jti` never used before.
//!
//! What it grants is a connection like any other (shown, revocable, the org's switches
//! apply), with an access token bound to the resource and carrying the user and org, never a
//! role: the member's role is read on every request.

pub mod jws;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use self::jws::Jws;
use super::error::OAuthError;
use super::grants::{self, GrantType, Pair, TokenResponse, prepare_pair};
use super::resource::McpResource;
use super::scope::ScopeSet;
use crate::domain::access::Denial;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::entities::{
    assertion_replay, connection, oauth_client, organization, sso_connection, sso_identity, token,
    user,
};
use crate::domain::secrets::sha256_hex;
use crate::domain::sso::connection::assertion_policy;
use crate::domain::sso::flow::{Identity, SsoFailure, account};
use crate::domain::sso::provider::{Keys, discover, fetcher};
use crate::domain::write_txn::BeginWrite;
use crate::domain::{RequestMeta, Services, orgs, users};

/// The header `typ` of an ID-JAG.
pub const ID_JAG_TYP: &str = "oauth-id-jag+jwt";
/// Clocks differ: this much either way is forgiven.
const SKEW: Duration = Duration::seconds(60);
/// The longest an assertion may still be good for: they are meant to last minutes (the
/// extension's examples say five), and each one is remembered until it expires.
pub const MAX_REMAINING: Duration = Duration::minutes(15);
/// The longest `jti` and `sub` kept or looked up.
const MAX_ID: usize = 255;

/// What the token endpoint received besides the client.
pub struct AssertionGrant {
    pub assertion: String,
    pub scope: Option<String>,
    pub resource: Vec<String>,
}

/// Why an assertion was refused: its text is the `error_description`, its code goes to the
/// audit log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("The assertion can't be read: {0}.")]
    Malformed(String),
    #[error(
        "The assertion's JWT header typ must be {ID_JAG_TYP} (an Identity Assertion JWT Authorization Grant)."
    )]
    WrongType,
    #[error(
        "The assertion must be signed with a public-key algorithm (RS*, PS*, ES*, EdDSA); {0:?} is not accepted."
    )]
    Algorithm(String),
    #[error("The assertion lacks the {0} claim.")]
    MissingClaim(&'static str),
    #[error(
        "No organization here trusts the issuer {0}: its admins name their identity provider on the single sign-on page."
    )]
    UnknownIssuer(String),
    #[error(
        "Gatehouse couldn't reach the identity provider {0} to check the assertion's signature. Try again in a minute."
    )]
    ProviderUnreachable(String),
    #[error(
        "The assertion's signature doesn't verify with the keys the identity provider {0} publishes."
    )]
    BadSignature(String),
    #[error("The assertion's aud must be this authorization server's issuer, {want}; it is {got}.")]
    WrongAudience { want: String, got: String },
    #[error("The assertion expired. Ask the identity provider for a fresh one.")]
    Expired,
    #[error("The assertion is good for too long: at most {} minutes remain on one accepted here.", MAX_REMAINING.num_minutes())]
    TooLong,
    #[error("The assertion's iat is in the future; check the identity provider's clock.")]
    IssuedInFuture,
    #[error("The assertion's resource {0} is not an MCP endpoint of this server.")]
    WrongResource(String),
    #[error(
        "{org_name} doesn't trust the identity provider {issuer}: it may grant access only to its own organization's MCP endpoint."
    )]
    IssuerOfAnotherOrg { org_name: String, issuer: String },
    #[error(
        "Several organizations trust the identity provider {0}: name one's MCP endpoint (/o/<org>/mcp) as the resource."
    )]
    AmbiguousOrg(String),
    #[error("Single sign-on is switched off for {0}, so its identity provider grants nothing.")]
    SsoOff(String),
    #[error(
        "{0} doesn't let its identity provider grant MCP access. An admin can turn it on on the single sign-on page."
    )]
    GrantsOff(String),
    #[error("The assertion was issued to the client {claim}, not to {client}, which presented it.")]
    ClientMismatch { claim: String, client: String },
    #[error("This grant needs a client that authenticates (a confidential client).")]
    PublicClient,
    #[error(
        "{0} doesn't let this client use its identity provider's assertions. An admin can add it on the single sign-on page."
    )]
    ClientNotAllowed(String),
    #[error(
        "No member of {org_name} is linked to this identity-provider account ({subject}). They sign in once with single sign-on, or an admin lets the provider add members."
    )]
    UnknownSubject { org_name: String, subject: String },
    #[error("{0}")]
    Account(String),
    #[error("{0}")]
    Denied(String),
    #[error("This assertion was already used. Ask the identity provider for a fresh one.")]
    Replayed,
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::WrongType => "wrong_typ",
            Self::Algorithm(_) => "algorithm",
            Self::MissingClaim(_) => "missing_claim",
            Self::UnknownIssuer(_) => "unknown_issuer",
            Self::ProviderUnreachable(_) => "provider_unreachable",
            Self::BadSignature(_) => "bad_signature",
            Self::WrongAudience { .. } => "wrong_audience",
            Self::Expired => "expired",
            Self::TooLong => "lifetime_too_long",
            Self::IssuedInFuture => "issued_in_future",
            Self::WrongResource(_) => "wrong_resource",
            Self::IssuerOfAnotherOrg { .. } => "issuer_of_another_org",
            Self::AmbiguousOrg(_) => "ambiguous_org",
            Self::SsoOff(_) => "sso_disabled",
            Self::GrantsOff(_) => "assertion_grants_off",
            Self::ClientMismatch { .. } => "client_mismatch",
            Self::PublicClient => "public_client",
            Self::ClientNotAllowed(_) => "client_not_allowed",
            Self::UnknownSubject { .. } => "unknown_subject",
            Self::Account(_) => "account_refused",
            Self::Denied(_) => "access_denied",
            Self::Replayed => "replayed",
        }
    }
}

/// An audience: one string, or a list (RFC 7519 §4.1.3).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// The claims an ID-JAG carries (extension §4.3), plus what a provider may add about the
/// person. Times are NumericDate, which may have a fraction.
#[derive(Debug, Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Audience>,
    resource: Option<String>,
    client_id: Option<String>,
    jti: Option<String>,
    exp: Option<f64>,
    iat: Option<f64>,
    scope: Option<String>,
    email: Option<String>,
    email_verified: Option<bool>,
    name: Option<String>,
}

fn required<'a>(v: &'a Option<String>, name: &'static str) -> Result<&'a str, Refusal> {
    v.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(Refusal::MissingClaim(name))
}

fn time(v: Option<f64>, name: &'static str) -> Result<DateTime<Utc>, Refusal> {
    v.filter(|t| t.is_finite())
        .and_then(|t| DateTime::from_timestamp(t.floor() as i64, 0))
        .ok_or(Refusal::MissingClaim(name))
}

/// Who may grant what: the org whose endpoint the assertion is for, and its connection.
struct Trusted {
    org: organization::Model,
    conn: sso_connection::Model,
    resource: McpResource,
}

/// What the checks established.
struct Accepted {
    trusted: Trusted,
    user: user::Model,
    scope: ScopeSet,
    issuer: String,
    jti_key: String,
    expires_at: DateTime<Utc>,
}

/// The RFC 7523 grant with an ID-JAG: a token response, or the refusal (audited).
pub async fn grant(
    s: &Services,
    client: &oauth_client::Model,
    g: AssertionGrant,
    meta: &RequestMeta,
) -> Result<TokenResponse, OAuthError> {
    let outcome = match check(s, client, &g, meta).await? {
        Ok(accepted) => issue(s, client, accepted, meta).await?,
        Err(refusal) => Err(refusal),
    };
    match outcome {
        Ok(response) => Ok(response),
        Err(refusal) => {
            let mut entry = AuditEntry::new("oauth.assertion.refused").details(json!({
                "reason": refusal.code(),
                "client_id": client.client_id,
                "description": refusal.to_string(),
            }));
            if let Some(org) = client.org_id {
                entry = entry.org(org);
            }
            audit::record(&s.db, entry, meta).await?;
            metrics::counter!("gatehouse_assertion_refusals_total", "reason" => refusal.code())
                .increment(1);
            Err(OAuthError::invalid_grant(refusal.to_string()))
        }
    }
}

type Checked<T> = Result<Result<T, Refusal>, OAuthError>;

macro_rules! refuse {
    ($r:expr) => {
        return Ok(Err($r))
    };
}

macro_rules! check {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return Ok(Err(r)),
        }
    };
}

async fn check(
    s: &Services,
    client: &oauth_client::Model,
    g: &AssertionGrant,
    meta: &RequestMeta,
) -> Checked<Accepted> {
    // The form of the thing, before anything is looked up for it.
    let jws = check!(Jws::parse(g.assertion.trim()).map_err(Refusal::Malformed));
    if !jws.typ_is(ID_JAG_TYP) {
        refuse!(Refusal::WrongType);
    }
    let Some(alg) = jws.algorithm() else {
        refuse!(Refusal::Algorithm(jws.header.alg.clone()));
    };
    let claims: Claims = check!(jws.claims().map_err(Refusal::Malformed));
    let iss = check!(required(&claims.iss, "iss")).trim_end_matches('/');

    // Who vouches: an issuer some org named, and a signature by its published keys.
    let trusting = sso_connection::Entity::find()
        .filter(sso_connection::Column::Issuer.eq(iss))
        .all(&s.db)
        .await?;
    let Some(first) = trusting.first() else {
        refuse!(Refusal::UnknownIssuer(iss.to_string()));
    };
    let issuer = first.issuer.clone();
    check!(verify_signature(s, &jws, &alg, &issuer).await?);

    // Meant for us, now.
    let ours = &s.settings.public_url;
    match &claims.aud {
        Some(Audience::One(a)) if a == ours => {}
        Some(Audience::Many(list)) if list.len() == 1 && &list[0] == ours => {}
        Some(other) => refuse!(Refusal::WrongAudience {
            want: ours.clone(),
            got: match other {
                Audience::One(a) => a.clone(),
                Audience::Many(l) => l.join(", "),
            },
        }),
        None => refuse!(Refusal::MissingClaim("aud")),
    }
    let now = Utc::now();
    let exp = check!(time(claims.exp, "exp"));
    let iat = check!(time(claims.iat, "iat"));
    if exp + SKEW <= now {
        refuse!(Refusal::Expired);
    }
    if exp > now + MAX_REMAINING + SKEW {
        refuse!(Refusal::TooLong);
    }
    if iat > now + SKEW {
        refuse!(Refusal::IssuedInFuture);
    }

    // For which endpoint, and so which org.
    let raw_resource = check!(required(&claims.resource, "resource"));
    let Some(resource) = McpResource::parse(raw_resource, ours) else {
        refuse!(Refusal::WrongResource(raw_resource.to_string()));
    };
    for asked in g
        .resource
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
    {
        if McpResource::parse(asked, ours).as_ref() != Some(&resource) {
            return Err(OAuthError::invalid_target(format!(
                "The assertion is for {}; it can't be used for {asked}.",
                resource.url(ours)
            )));
        }
    }
    let subject = check!(required(&claims.sub, "sub")).to_string();
    if subject.len() > MAX_ID {
        refuse!(Refusal::Malformed(format!(
            "its sub is longer than {MAX_ID} characters"
        )));
    }
    let trusted = check!(trusted_org(s, &trusting, &resource, &issuer, &subject).await?);
    let org_name = trusted.org.name.clone();
    if !trusted.conn.enabled {
        refuse!(Refusal::SsoOff(org_name));
    }
    if !trusted.conn.assertion_grants {
        refuse!(Refusal::GrantsOff(org_name));
    }

    // Presented by the client it was issued to, which the org lets use it.
    let claimed_client = check!(required(&claims.client_id, "client_id"));
    if claimed_client != client.client_id {
        refuse!(Refusal::ClientMismatch {
            claim: claimed_client.to_string(),
            client: client.client_id.clone(),
        });
    }
    if client.token_endpoint_auth_method == super::clients::AUTH_NONE {
        refuse!(Refusal::PublicClient);
    }
    let allowed = assertion_policy(&trusted.conn).clients;
    if !allowed.is_empty() && !allowed.iter().any(|c| c == &client.client_id) {
        refuse!(Refusal::ClientNotAllowed(org_name));
    }
    let jti = check!(required(&claims.jti, "jti"));
    if jti.len() > MAX_ID {
        refuse!(Refusal::Malformed(format!(
            "its jti is longer than {MAX_ID} characters"
        )));
    }

    // Who it is, and whether they may have this.
    let user = match linked_user(s, &issuer, &subject).await? {
        Some(u) => u,
        None if trusted.conn.assertion_create_members => {
            let who = Identity {
                subject: subject.clone(),
                email: claims.email.as_deref().map(|e| e.trim().to_lowercase()),
                // The provider vouches for the address unless it says otherwise.
                verified: claims.email_verified != Some(false),
                name: claims.name.clone(),
            };
            match account(s, &trusted.org, &trusted.conn, who, None, meta).await? {
                Ok(u) => u,
                Err(SsoFailure::NoEmail) => refuse!(Refusal::UnknownSubject { org_name, subject }),
                Err(f) => refuse!(Refusal::Account(f.to_string())),
            }
        }
        None => refuse!(Refusal::UnknownSubject { org_name, subject }),
    };
    check!(decide(s, &trusted.org, &user, client).await?);

    // No wider than the assertion, the client and the request.
    let mut scope = ScopeSet::parse_known(&client.allowed_scopes);
    if let Some(granted) = claims.scope.as_deref() {
        scope = scope.intersect(&ScopeSet::parse_known(granted));
    }
    if let Some(asked) = g.scope.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        scope = scope.intersect(&ScopeSet::parse_known(asked));
    }
    if scope.is_empty() {
        return Err(OAuthError::invalid_scope(
            "None of the requested scopes is both granted by the assertion and available to this client.",
        ));
    }
    Ok(Ok(Accepted {
        jti_key: sha256_hex(&format!("{issuer}\0{jti}")),
        issuer,
        trusted,
        user,
        scope,
        expires_at: exp + SKEW,
    }))
}

/// Checks the signature with the provider's kept keys, and once more with freshly fetched
/// ones when none of the kept keys fits or verifies (the provider may have rotated them).
async fn verify_signature(
    s: &Services,
    jws: &Jws<'_>,
    alg: &openidconnect::core::CoreJwsSigningAlgorithm,
    issuer: &str,
) -> Checked<()> {
    let http = fetcher(s)?;
    for keys in [Keys::Kept, Keys::Fresh] {
        let metadata = match discover(s, &http, issuer, keys).await {
            Ok(m) => m,
            Err(why) => {
                tracing::info!(issuer, error = %why, "identity provider unreachable");
                refuse!(Refusal::ProviderUnreachable(issuer.to_string()));
            }
        };
        if jws.verify(alg, metadata.jwks()).is_ok() {
            return Ok(Ok(()));
        }
    }
    Ok(Err(Refusal::BadSignature(issuer.to_string())))
}

/// The org the assertion grants access in: the one whose endpoint it names, which must
/// trust `issuer`; for the instance-wide `/mcp`, the one org that trusts it (or, if several
/// do, the one the person's single sign-on link was made through).
async fn trusted_org(
    s: &Services,
    trusting: &[sso_connection::Model],
    resource: &McpResource,
    issuer: &str,
    subject: &str,
) -> Checked<Trusted> {
    let pick = |org_id: Uuid| trusting.iter().find(|c| c.org_id == org_id).cloned();
    let conn = match resource {
        McpResource::Org(slug) => {
            let Some(org) = orgs::find_by_slug(&s.db, slug).await? else {
                refuse!(Refusal::WrongResource(resource.url(&s.settings.public_url)));
            };
            match pick(org.id) {
                Some(c) => c,
                None => refuse!(Refusal::IssuerOfAnotherOrg {
                    org_name: org.name,
                    issuer: issuer.to_string(),
                }),
            }
        }
        McpResource::Instance => match trusting {
            [only] => only.clone(),
            _ => {
                let link = link_of(s, issuer, subject).await?;
                match link.and_then(|l| pick(l.org_id)) {
                    Some(c) => c,
                    None => refuse!(Refusal::AmbiguousOrg(issuer.to_string())),
                }
            }
        },
    };
    let Some(org) = orgs::find(&s.db, conn.org_id).await? else {
        refuse!(Refusal::UnknownIssuer(issuer.to_string()));
    };
    Ok(Ok(Trusted {
        org,
        conn,
        resource: resource.clone(),
    }))
}

async fn link_of(
    s: &Services,
    issuer: &str,
    subject: &str,
) -> Result<Option<sso_identity::Model>, OAuthError> {
    Ok(sso_identity::Entity::find()
        .filter(sso_identity::Column::Issuer.eq(issuer))
        .filter(sso_identity::Column::Subject.eq(subject))
        .one(&s.db)
        .await?)
}

/// The account the provider's `subject` was linked to by single sign-on.
async fn linked_user(
    s: &Services,
    issuer: &str,
    subject: &str,
) -> Result<Option<user::Model>, OAuthError> {
    match link_of(s, issuer, subject).await? {
        Some(link) => Ok(users::find(&s.db, link.user_id).await?),
        None => Ok(None),
    }
}

/// The access decision: the account usable, a member of the org now, and the org's rules.
async fn decide(
    s: &Services,
    org: &organization::Model,
    user: &user::Model,
    client: &oauth_client::Model,
) -> Checked<()> {
    let denied = |d: Denial| Ok(Err(Refusal::Denied(d.to_string())));
    if user.disabled_at.is_some() {
        return denied(Denial::AccountDisabled);
    }
    let Some(role) = orgs::role_in(&s.db, org.id, user.id).await? else {
        return denied(Denial::NotMember {
            org_name: org.name.clone(),
        });
    };
    match s.access().assertion_grant(org, role, user, client).await? {
        Ok(()) => Ok(Ok(())),
        Err(d) => denied(d),
    }
}

/// Issues the grant: the assertion used up, a connection (this client's earlier live one from
/// the same provider, or a new one), the tokens and the audit entry, in one transaction.
async fn issue(
    s: &Services,
    client: &oauth_client::Model,
    a: Accepted,
    meta: &RequestMeta,
) -> Checked<TokenResponse> {
    let org = &a.trusted.org;
    let conn_policy = &a.trusted.conn;
    let resource = a.trusted.resource.url(&s.settings.public_url);
    let scope = a.scope.to_string();
    let txn = s.db.begin_write().await?;
    // Good once: of two requests with the same assertion, one inserts its row.
    let fresh = assertion_replay::Entity::insert(assertion_replay::ActiveModel {
        key_hash: Set(a.jti_key.clone()),
        expires_at: Set(a.expires_at),
    })
    .on_conflict(
        OnConflict::column(assertion_replay::Column::KeyHash)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if fresh != 1 {
        txn.rollback().await?;
        refuse!(Refusal::Replayed);
    }
    let existing = connection::Entity::find()
        .filter(connection::Column::UserId.eq(a.user.id))
        .filter(connection::Column::OrgId.eq(org.id))
        .filter(connection::Column::ClientId.eq(client.id))
        .filter(connection::Column::Resource.eq(resource.as_str()))
        .filter(connection::Column::ViaAssertion.eq(true))
        .filter(connection::Column::RevokedAt.is_null())
        .filter(connection::Column::DisabledAt.is_null())
        .one(&txn)
        .await?;
    let connection_id = match existing {
        Some(c) => {
            let id = c.id;
            let mut c: connection::ActiveModel = c.into();
            c.scope = Set(scope.clone());
            c.update(&txn).await?;
            id
        }
        None => {
            connection::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(a.user.id),
                org_id: Set(org.id),
                client_id: Set(client.id),
                scope: Set(scope.clone()),
                resource: Set(resource.clone()),
                created_at: Set(Utc::now()),
                last_used_at: Set(None),
                disabled_at: Set(None),
                revoked_at: Set(None),
                revoked_by: Set(None),
                revoke_reason: Set(None),
                via_assertion: Set(true),
            }
            .insert(&txn)
            .await?
            .id
        }
    };
    let access_ttl = Duration::seconds(
        i64::from(conn_policy.assertion_access_ttl_secs)
            .min(org.access_token_ttl_secs)
            .max(60),
    );
    let refresh_ttl = (conn_policy.assertion_refresh
        && GrantType::RefreshToken.check_registered(client).is_ok())
    .then(|| Duration::seconds(org.refresh_token_ttl_secs.max(300)));
    let (response, rows) = prepare_pair(Pair {
        client,
        user_id: a.user.id,
        org_id: org.id,
        access_ttl,
        refresh_ttl,
        connection_id,
        family: Uuid::now_v7(),
        parent: None,
        access_scope: &scope,
        refresh_scope: &scope,
        resource: &resource,
    });
    token::Entity::insert_many(rows).exec(&txn).await?;
    audit::record(
        &txn,
        AuditEntry::new("oauth.token.issued")
            .org(org.id)
            .actor(a.user.id)
            .target("connection", connection_id)
            .details(json!({
                "client_id": client.client_id,
                "grant_type": grants::JWT_BEARER,
                "issuer": a.issuer,
                "scope": scope,
            })),
        meta,
    )
    .await?;
    txn.commit().await?;
    metrics::counter!("gatehouse_grants_total", "grant_type" => "jwt_bearer").increment(1);
    grants::note_use(s, client.id, connection_id);
    Ok(Ok(response))
}

/// Deletes used assertions past their expiry (housekeeping); how many went.
pub async fn sweep(db: &impl sea_orm::ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
    Ok(assertion_replay::Entity::delete_many()
        .filter(assertion_replay::Column::ExpiresAt.lt(Utc::now()))
        .exec(db)
        .await?
        .rows_affected)
}
