//! An org's SSO connection as its admins set it up. The client secret is sealed under the
//! instance key and never shown again; each email domain belongs to one org at most (so an
//! address leads to one provider); the role a first-time member gets can't be admin (whoever
//! the provider lets in would administer the org). Every change is audited, and the access
//! caches are dropped since the connection decides who may sign in.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::domain::access::Invalidation;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::entities::{connection, sso_connection, sso_domain, user};
use crate::domain::oauth::client_domains::DomainList;
use crate::domain::oauth::tokens;
use crate::domain::users;
use crate::domain::write_txn::BeginWrite;
use crate::domain::{RequestMeta, Services};
use crate::error::{AppError, AppResult};
use crate::model::{AssertionPolicy, Role};

const MAX_ISSUER: usize = 2_000;
const MAX_CLIENT_ID: usize = 255;
const MAX_SECRET: usize = 1_000;

/// The connection as an admin sees it: everything but the secret.
pub use crate::model::SsoSaved as Connection;

/// What an admin saves. `client_secret`: `None` keeps the stored one (required the first time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionChange {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub domains: Vec<String>,
    pub default_role: Role,
    pub require_sso: bool,
    pub enabled: bool,
    /// Identity assertions; `None` keeps what is stored (the defaults, off, for a new one).
    pub assertions: Option<AssertionPolicy>,
}

/// Where the client secret is sealed (its associated data).
pub fn secret_place(org_id: Uuid) -> String {
    format!("sso_client_secret:{org_id}")
}

/// The org's connection, if it has one.
pub async fn get(db: &impl ConnectionTrait, org_id: Uuid) -> AppResult<Option<Connection>> {
    let Some(row) = sso_connection::Entity::find_by_id(org_id).one(db).await? else {
        return Ok(None);
    };
    Ok(Some(view(row, domains_of(db, org_id).await?)))
}

async fn domains_of(db: &impl ConnectionTrait, org_id: Uuid) -> AppResult<Vec<String>> {
    Ok(sso_domain::Entity::find()
        .filter(sso_domain::Column::OrgId.eq(org_id))
        .order_by_asc(sso_domain::Column::Domain)
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.domain)
        .collect())
}

/// Whether and how the connection's provider grants MCP access, as stored.
pub fn assertion_policy(row: &sso_connection::Model) -> AssertionPolicy {
    AssertionPolicy {
        enabled: row.assertion_grants,
        clients: serde_json::from_str(&row.assertion_clients).unwrap_or_default(),
        access_ttl_secs: row.assertion_access_ttl_secs,
        refresh: row.assertion_refresh,
        create_members: row.assertion_create_members,
    }
}

fn view(row: sso_connection::Model, domains: Vec<String>) -> Connection {
    Connection {
        assertions: assertion_policy(&row),
        issuer: row.issuer,
        client_id: row.client_id,
        domains,
        default_role: row.default_role,
        require_sso: row.require_sso,
        enabled: row.enabled,
        updated_at: row.updated_at,
    }
}

/// The issuer as OpenID Connect Discovery wants it: https, no query or fragment, no trailing
/// slash. Plain http only for a loopback provider where the instance allows fetching from
/// loopback (tests, local development).
pub fn parse_issuer(raw: &str, allow_loopback_http: bool) -> Result<String, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("Enter the provider's issuer URL.".into());
    }
    if raw.len() > MAX_ISSUER {
        return Err(format!("At most {MAX_ISSUER} characters."));
    }
    let url = url::Url::parse(raw).map_err(|_| {
        "Enter the issuer as a full URL, such as https://login.example.com.".to_string()
    })?;
    let loopback = matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
        || url.host_str() == Some("localhost");
    match url.scheme() {
        "https" => {}
        "http" if loopback && allow_loopback_http => {}
        _ => return Err("The issuer must be an https URL.".into()),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("The issuer has no query or fragment.".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("The issuer has no user name or password in it.".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

struct Valid {
    issuer: String,
    client_id: String,
    secret: Option<String>,
    domains: Vec<String>,
    assertions: Option<AssertionPolicy>,
}

/// The most client IDs an org may list for identity assertions.
const MAX_ASSERTION_CLIENTS: usize = 50;
/// The bounds of an assertion-granted access token's lifetime.
const ASSERTION_TTL_SECS: std::ops::RangeInclusive<i32> = 60..=86_400;

/// The clients listed once each, trimmed; the lifetime within its bounds.
fn validate_assertions(p: &AssertionPolicy) -> AppResult<AssertionPolicy> {
    let mut clients: Vec<String> = Vec::new();
    for c in p.clients.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        if c.len() > MAX_CLIENT_ID || c.chars().any(char::is_control) {
            return Err(AppError::invalid(
                "assertion_clients",
                format!("A client ID is at most {MAX_CLIENT_ID} printable characters."),
            ));
        }
        if !clients.iter().any(|k| k == c) {
            clients.push(c.to_string());
        }
    }
    if clients.len() > MAX_ASSERTION_CLIENTS {
        return Err(AppError::invalid(
            "assertion_clients",
            format!("List at most {MAX_ASSERTION_CLIENTS} clients, or none to allow any."),
        ));
    }
    if !ASSERTION_TTL_SECS.contains(&p.access_ttl_secs) {
        return Err(AppError::invalid(
            "assertion_ttl_mins",
            "An access token granted for an assertion lasts from 1 minute to 24 hours (1440 minutes).",
        ));
    }
    Ok(AssertionPolicy {
        clients,
        ..p.clone()
    })
}

fn validate(s: &Services, change: &ConnectionChange) -> AppResult<Valid> {
    let issuer = parse_issuer(
        &change.issuer,
        s.settings.oauth.metadata_fetch.allow_loopback,
    )
    .map_err(|why| AppError::invalid("issuer", why))?;
    let client_id = change.client_id.trim().to_string();
    if client_id.is_empty() {
        return Err(AppError::invalid(
            "client_id",
            "Enter the client ID the provider gave Gatehouse.",
        ));
    }
    if client_id.len() > MAX_CLIENT_ID || client_id.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "client_id",
            format!("At most {MAX_CLIENT_ID} printable characters."),
        ));
    }
    let secret = change
        .client_secret
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if secret.as_ref().is_some_and(|s| s.len() > MAX_SECRET) {
        return Err(AppError::invalid(
            "client_secret",
            format!("At most {MAX_SECRET} characters."),
        ));
    }
    let domains = DomainList::parse(&change.domains)
        .map_err(|why| AppError::invalid("domains", format!("Email domains: {why}.")))?
        .entries()
        .to_vec();
    if domains.is_empty() {
        return Err(AppError::invalid(
            "domains",
            "Name at least one email domain (example.com) whose people sign in here.",
        ));
    }
    if change.default_role == Role::Admin {
        return Err(AppError::invalid(
            "default_role",
            "A first-time member can't be an admin: anyone the provider lets in would administer this organization. Choose another role and promote people on the members page.",
        ));
    }
    let assertions = change
        .assertions
        .as_ref()
        .map(validate_assertions)
        .transpose()?;
    Ok(Valid {
        issuer,
        client_id,
        secret,
        domains,
        assertions,
    })
}

/// Mailbox providers whose addresses belong to the public, never to one organization: no
/// org's single sign-on may claim them (its provider would be offered to everyone there).
const PUBLIC_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.de",
    "web.de",
    "yandex.ru",
    "mail.ru",
    "qq.com",
    "163.com",
    "zoho.com",
    "fastmail.com",
];

/// The domain of `user`'s address if it is verified, else empty: the domains an admin may
/// claim for their org's single sign-on.
pub fn own_domain(user: &user::Model) -> String {
    match (user.email_verified(), user.email.rsplit_once('@')) {
        (true, Some((_, domain))) => domain.to_lowercase(),
        _ => String::new(),
    }
}

/// An admin proves a domain is their organization's by a verified address there: a domain
/// is theirs to claim when it is that address's domain or a subdomain of it. Without this,
/// an admin of any org could claim someone else's domain and have `/login` send its people
/// to a provider the admin runs. The operator (at the command line) may claim any domain.
async fn check_domains_owned(
    s: &Services,
    actor: Option<Uuid>,
    domains: &[String],
) -> AppResult<()> {
    if let Some(public) = domains
        .iter()
        .find(|d| PUBLIC_MAIL_DOMAINS.contains(&d.as_str()))
    {
        return Err(AppError::invalid(
            "domains",
            format!("{public} is a public mail service: its addresses aren't one organization's."),
        ));
    }
    let Some(actor) = actor else {
        return Ok(());
    };
    let own = match users::find(&s.db, actor).await? {
        Some(u) => own_domain(&u),
        None => String::new(),
    };
    if own.is_empty() {
        return Err(AppError::invalid(
            "domains",
            "Verify your own email address first: you can name only the domain of your verified address.",
        ));
    }
    let covered = |d: &String| *d == own || d.ends_with(&format!(".{own}"));
    if let Some(other) = domains.iter().find(|d| !covered(d)) {
        return Err(AppError::invalid(
            "domains",
            format!(
                "You can name only {own} and its subdomains, the domain of your verified address; {other} isn't. An admin with a verified address at {other} can add it, or the operator with `gatehouse set-sso`."
            ),
        ));
    }
    Ok(())
}

/// Creates or replaces the org's connection; the connection as it now is. `actor`: the admin,
/// or `None` for the operator at the command line.
pub async fn save(
    s: &Services,
    actor: Option<Uuid>,
    org_id: Uuid,
    change: &ConnectionChange,
    meta: &RequestMeta,
) -> AppResult<Connection> {
    let v = validate(s, change)?;
    check_domains_owned(s, actor, &v.domains).await?;
    let txn = s.db.begin_write().await?;
    let existing = sso_connection::Entity::find_by_id(org_id).one(&txn).await?;
    let sealed = match (&v.secret, &existing) {
        (Some(secret), _) => s.key.seal_str(&secret_place(org_id), secret),
        (None, Some(row)) => row.client_secret_sealed.clone(),
        (None, None) => {
            return Err(AppError::invalid(
                "client_secret",
                "Enter the client secret the provider gave Gatehouse.",
            ));
        }
    };
    // Another org's domain stays theirs: an address leads to one provider.
    let taken = sso_domain::Entity::find()
        .filter(sso_domain::Column::Domain.is_in(v.domains.clone()))
        .filter(sso_domain::Column::OrgId.ne(org_id))
        .one(&txn)
        .await?;
    if let Some(d) = taken {
        return Err(AppError::invalid(
            "domains",
            format!(
                "{} already signs in through another organization's provider.",
                d.domain
            ),
        ));
    }
    let now = Utc::now();
    let before = match &existing {
        Some(row) => Some(view(row.clone(), domains_of(&txn, org_id).await?)),
        None => None,
    };
    let assertions = match (&v.assertions, &before) {
        (Some(a), _) => a.clone(),
        (None, Some(b)) => b.assertions.clone(),
        (None, None) => AssertionPolicy::default(),
    };
    let row = sso_connection::ActiveModel {
        assertion_grants: Set(assertions.enabled),
        assertion_clients: Set(serde_json::to_string(&assertions.clients).unwrap_or_default()),
        assertion_access_ttl_secs: Set(assertions.access_ttl_secs),
        assertion_refresh: Set(assertions.refresh),
        assertion_create_members: Set(assertions.create_members),
        org_id: Set(org_id),
        issuer: Set(v.issuer.clone()),
        client_id: Set(v.client_id.clone()),
        client_secret_sealed: Set(sealed),
        default_role: Set(change.default_role),
        require_sso: Set(change.require_sso),
        enabled: Set(change.enabled),
        created_at: Set(existing.as_ref().map_or(now, |r| r.created_at)),
        updated_at: Set(now),
    };
    let row = match existing {
        Some(_) => row.update(&txn).await?,
        None => row.insert(&txn).await?,
    };
    sso_domain::Entity::delete_many()
        .filter(sso_domain::Column::OrgId.eq(org_id))
        .exec(&txn)
        .await?;
    sso_domain::Entity::insert_many(v.domains.iter().map(|d| sso_domain::ActiveModel {
        domain: Set(d.clone()),
        org_id: Set(org_id),
    }))
    .exec(&txn)
    .await?;
    let after = view(row, v.domains.clone());
    audit::record(
        &txn,
        AuditEntry::new(if before.is_some() {
            "org.sso.updated"
        } else {
            "org.sso.created"
        })
        .org(org_id)
        .target("organization", org_id)
        .details(json!({
            "before": before.as_ref().map(|b| json!({
                "issuer": b.issuer, "client_id": b.client_id, "domains": b.domains,
                "default_role": b.default_role, "require_sso": b.require_sso, "enabled": b.enabled,
                "assertions": b.assertions,
            })),
            "after": {
                "issuer": after.issuer, "client_id": after.client_id, "domains": after.domains,
                "default_role": after.default_role, "require_sso": after.require_sso, "enabled": after.enabled,
                "assertions": after.assertions,
            },
            "secret_changed": v.secret.is_some(),
        }))
        .by(actor),
        meta,
    )
    .await?;
    let granting = |c: &Connection| c.enabled && c.assertions.enabled;
    if before.as_ref().is_some_and(granting) && !granting(&after) {
        end_assertion_grants(&txn, org_id, actor).await?;
    }
    txn.commit().await?;
    s.invalidate(Invalidation::All);
    Ok(after)
}

/// Ends every connection the org's identity provider granted with assertions: switching its
/// grants off (or SSO, or removing the connection) stops what they gave, not only what they
/// would give. How many ended.
async fn end_assertion_grants(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    actor: Option<Uuid>,
) -> AppResult<usize> {
    let granted = connection::Entity::find()
        .filter(connection::Column::OrgId.eq(org_id))
        .filter(connection::Column::ViaAssertion.eq(true))
        .filter(connection::Column::RevokedAt.is_null())
        .all(db)
        .await?;
    for c in &granted {
        tokens::revoke_connection(db, c.id, actor, "assertion_grants_ended").await?;
    }
    Ok(granted.len())
}

/// Removes the org's connection: its members sign in with passwords again (an SSO-created
/// account sets one through "forgot password"). Their links to the provider are kept, so
/// setting the same provider up again finds them.
pub async fn remove(
    s: &Services,
    actor: Option<Uuid>,
    org_id: Uuid,
    meta: &RequestMeta,
) -> AppResult<()> {
    let txn = s.db.begin_write().await?;
    let removed = sso_connection::Entity::delete_by_id(org_id)
        .exec(&txn)
        .await?
        .rows_affected;
    if removed == 0 {
        return Err(AppError::not_found(
            "This organization has no single sign-on set up.",
        ));
    }
    sso_domain::Entity::delete_many()
        .filter(sso_domain::Column::OrgId.eq(org_id))
        .exec(&txn)
        .await?;
    end_assertion_grants(&txn, org_id, actor).await?;
    audit::record(
        &txn,
        AuditEntry::new("org.sso.removed")
            .org(org_id)
            .target("organization", org_id)
            .by(actor),
        meta,
    )
    .await?;
    txn.commit().await?;
    s.invalidate(Invalidation::All);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assertion_settings_are_bounded_and_tidied() {
        let p = |clients: Vec<&str>, ttl| AssertionPolicy {
            enabled: true,
            clients: clients.into_iter().map(str::to_string).collect(),
            access_ttl_secs: ttl,
            ..AssertionPolicy::default()
        };
        let ok = validate_assertions(&p(vec![" gc_a ", "", "gc_a", "gc_b"], 60)).unwrap();
        assert_eq!(ok.clients, vec!["gc_a", "gc_b"]);
        for ttl in [0, 59, 86_401, -60] {
            assert_eq!(
                validate_assertions(&p(vec![], ttl)).unwrap_err().field(),
                Some("assertion_ttl_mins")
            );
        }
        let many: Vec<String> = (0..=MAX_ASSERTION_CLIENTS)
            .map(|i| format!("gc_{i}"))
            .collect();
        let too_many = p(many.iter().map(String::as_str).collect(), 3600);
        assert_eq!(
            validate_assertions(&too_many).unwrap_err().field(),
            Some("assertion_clients")
        );
        let long = "x".repeat(MAX_CLIENT_ID + 1);
        assert!(validate_assertions(&p(vec![&long], 3600)).is_err());
    }

    #[test]
    fn issuers_are_https_urls_without_extras() {
        assert_eq!(
            parse_issuer(" https://login.example.com/ ", false).unwrap(),
            "https://login.example.com"
        );
        assert_eq!(
            parse_issuer("https://login.example.com/tenant/v2.0", false).unwrap(),
            "https://login.example.com/tenant/v2.0"
        );
        for bad in [
            "",
            "login.example.com",
            "http://login.example.com",
            "https://login.example.com/?a=b",
            "https://login.example.com/#x",
            "https://user:pw@login.example.com",
            "ftp://login.example.com",
        ] {
            assert!(parse_issuer(bad, false).is_err(), "{bad}");
        }
        assert!(parse_issuer("http://127.0.0.1:4000", false).is_err());
        assert_eq!(
            parse_issuer("http://127.0.0.1:4000", true).unwrap(),
            "http://127.0.0.1:4000"
        );
        assert!(parse_issuer("http://10.0.0.1:4000", true).is_err());
    }
}
