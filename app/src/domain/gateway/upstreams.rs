//! An org's upstream MCP servers as its admins set them up: a name (the prefix of its tools),
//! a Streamable HTTP URL on a host the instance allows, an optional secret header (sealed
//! under the instance key, write-only), a timeout, on or off. Every change is audited.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::domain::access::Invalidation;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::entities::{mcp_upstream, mcp_upstream_tool};
use crate::domain::upstream_hosts;
use crate::domain::write_txn::BeginWrite;
use crate::domain::{RequestMeta, Services};
use crate::error::{AppError, AppResult};
use crate::model::UpstreamView;

/// What separates an upstream's name from its tool's in the names clients see.
pub const SEPARATOR: &str = "__";
pub const MAX_NAME: usize = 32;
const MAX_URL: usize = 2_000;
const MAX_HEADER_VALUE: usize = 4_000;
/// The most upstreams one org may have.
pub const MAX_PER_ORG: u64 = 50;
/// Timeouts an admin may choose, in milliseconds.
pub const TIMEOUT_MS: std::ops::RangeInclusive<i32> = 1_000..=120_000;
pub const DEFAULT_TIMEOUT_MS: i32 = 30_000;

/// What an admin saves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpstreamChange {
    pub name: String,
    pub url: String,
    /// The header Gatehouse sends it (`X-Api-Key`); `None`: no header.
    pub auth_header_name: Option<String>,
    /// Its value; `None` keeps the stored one (required the first time a header is named).
    pub auth_header_value: Option<String>,
    pub timeout_ms: i32,
    pub enabled: bool,
}

fn secret_place(id: Uuid) -> String {
    format!("upstream_header:{id}")
}

pub fn view(u: &mcp_upstream::Model) -> UpstreamView {
    UpstreamView {
        id: u.id,
        name: u.name.clone(),
        url: u.url.clone(),
        auth_header_name: u.auth_header_name.clone(),
        timeout_ms: u.timeout_ms,
        enabled: u.enabled,
        tools_refreshed_at: u.tools_refreshed_at,
        last_error: u.last_error.clone(),
        created_at: u.created_at,
        updated_at: u.updated_at,
    }
}

/// A name clients see as the prefix of its tools: lower-case letters, digits and single
/// underscores, starting with a letter.
pub fn parse_name(raw: &str) -> AppResult<String> {
    let name = raw.trim().to_string();
    let ok = (1..=MAX_NAME).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.contains(SEPARATOR)
        && !name.ends_with('_');
    if ok {
        Ok(name)
    } else {
        Err(AppError::invalid(
            "name",
            format!(
                "Use 1 to {MAX_NAME} lower-case letters, digits and single underscores, starting with a letter (such as crm or billing_v2): it prefixes the server's tools."
            ),
        ))
    }
}

/// A Streamable HTTP endpoint on a host this instance allows.
pub fn parse_url(s: &Services, raw: &str) -> AppResult<String> {
    let bad = |why: String| AppError::invalid("url", why);
    let raw = raw.trim();
    if raw.len() > MAX_URL {
        return Err(bad(format!("At most {MAX_URL} characters.")));
    }
    let url = url::Url::parse(raw).map_err(|_| {
        bad("Enter the server's full MCP endpoint, such as https://mcp.example.com/mcp.".into())
    })?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(bad("The endpoint must be an http or https URL.".into()));
    }
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(bad(
            "The endpoint has no user name, password or fragment in it; use the secret header for credentials.".into(),
        ));
    }
    let host = url.host_str().unwrap_or_default();
    let allowed = s.settings.gateway.allowed_hosts.as_ref();
    if !upstream_hosts::allowed(allowed, host) {
        return Err(bad(match allowed {
            Some(list) => format!(
                "{host} is not among the hosts this Gatehouse may reach ({}). The operator sets them with GATEHOUSE_UPSTREAM_ALLOWED_HOSTS.",
                list.entries().join(", ")
            ),
            None => format!(
                "{host} is an internal address. The operator allows internal hosts by listing them in GATEHOUSE_UPSTREAM_ALLOWED_HOSTS."
            ),
        }));
    }
    Ok(url.to_string())
}

fn parse_header_name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    let valid = http::HeaderName::from_bytes(name.as_bytes()).is_ok() && name.len() <= 100;
    if !valid {
        return Err(AppError::invalid(
            "auth_header_name",
            "Enter a header name such as X-Api-Key.",
        ));
    }
    let lower = name.to_ascii_lowercase();
    // The assertion of who is calling travels in Authorization; the rest is the transport's.
    let reserved = [
        "authorization",
        "host",
        "content-type",
        "content-length",
        "accept",
        "mcp-session-id",
        "mcp-protocol-version",
        "connection",
        "transfer-encoding",
    ];
    if reserved.contains(&lower.as_str()) {
        return Err(AppError::invalid(
            "auth_header_name",
            format!(
                "{name} is Gatehouse's to send (Authorization carries the signed assertion of who is calling). Choose another header, such as X-Api-Key."
            ),
        ));
    }
    Ok(name.to_string())
}

struct Valid {
    name: String,
    url: String,
    header: Option<String>,
    value: Option<String>,
}

fn validate(s: &Services, c: &UpstreamChange) -> AppResult<Valid> {
    let name = parse_name(&c.name)?;
    let url = parse_url(s, &c.url)?;
    let header = c
        .auth_header_name
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(parse_header_name)
        .transpose()?;
    let value = c
        .auth_header_value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string);
    if let Some(v) = &value {
        if header.is_none() {
            return Err(AppError::invalid(
                "auth_header_name",
                "Name the header the secret goes in.",
            ));
        }
        if v.len() > MAX_HEADER_VALUE || http::HeaderValue::from_str(v).is_err() {
            return Err(AppError::invalid(
                "auth_header_value",
                format!("At most {MAX_HEADER_VALUE} printable characters."),
            ));
        }
    }
    if !TIMEOUT_MS.contains(&c.timeout_ms) {
        return Err(AppError::invalid(
            "timeout_ms",
            "The timeout is from 1 to 120 seconds.",
        ));
    }
    Ok(Valid {
        name,
        url,
        header,
        value,
    })
}

/// The org's upstreams, by name.
pub async fn list(db: &impl ConnectionTrait, org_id: Uuid) -> AppResult<Vec<mcp_upstream::Model>> {
    Ok(mcp_upstream::Entity::find()
        .filter(mcp_upstream::Column::OrgId.eq(org_id))
        .order_by_asc(mcp_upstream::Column::Name)
        .all(db)
        .await?)
}

/// Every upstream that is on, in every org (the periodic refresh of their tools).
pub async fn all_enabled(db: &impl ConnectionTrait) -> AppResult<Vec<mcp_upstream::Model>> {
    Ok(mcp_upstream::Entity::find()
        .filter(mcp_upstream::Column::Enabled.eq(true))
        .all(db)
        .await?)
}

/// One of the org's upstreams; another org's is "not found".
pub async fn find(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> AppResult<mcp_upstream::Model> {
    mcp_upstream::Entity::find_by_id(id)
        .filter(mcp_upstream::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("This organization has no such MCP server."))
}

async fn name_taken(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    name: &str,
    except: Option<Uuid>,
) -> AppResult<bool> {
    let mut q = mcp_upstream::Entity::find()
        .filter(mcp_upstream::Column::OrgId.eq(org_id))
        .filter(mcp_upstream::Column::Name.eq(name));
    if let Some(id) = except {
        q = q.filter(mcp_upstream::Column::Id.ne(id));
    }
    Ok(q.one(db).await?.is_some())
}

fn taken(name: &str) -> AppError {
    AppError::invalid(
        "name",
        format!("This organization already has an MCP server named {name}."),
    )
}

fn audit_view(u: &mcp_upstream::Model) -> serde_json::Value {
    json!({
        "name": u.name, "url": u.url, "auth_header_name": u.auth_header_name,
        "timeout_ms": u.timeout_ms, "enabled": u.enabled,
    })
}

/// Adds an upstream to `org_id`. Its tools are listed by a refresh.
pub async fn create(
    s: &Services,
    actor: Uuid,
    org_id: Uuid,
    c: &UpstreamChange,
    meta: &RequestMeta,
) -> AppResult<mcp_upstream::Model> {
    let v = validate(s, c)?;
    if v.header.is_some() && v.value.is_none() {
        return Err(AppError::invalid(
            "auth_header_value",
            "Enter the secret the server expects in this header.",
        ));
    }
    let id = Uuid::now_v7();
    let now = Utc::now();
    let txn = s.db.begin_write().await?;
    if name_taken(&txn, org_id, &v.name, None).await? {
        return Err(taken(&v.name));
    }
    let count = mcp_upstream::Entity::find()
        .filter(mcp_upstream::Column::OrgId.eq(org_id))
        .count(&txn)
        .await?;
    if count >= MAX_PER_ORG {
        return Err(AppError::invalid(
            "name",
            format!("An organization has at most {MAX_PER_ORG} MCP servers."),
        ));
    }
    let row = mcp_upstream::ActiveModel {
        id: Set(id),
        org_id: Set(org_id),
        name: Set(v.name),
        url: Set(v.url),
        auth_header_name: Set(v.header),
        auth_header_sealed: Set(v.value.map(|val| s.key.seal_str(&secret_place(id), &val))),
        timeout_ms: Set(c.timeout_ms),
        enabled: Set(c.enabled),
        created_at: Set(now),
        updated_at: Set(now),
        tools_refreshed_at: Set(None),
        last_error: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        AuditEntry::new("org.mcp_server.added")
            .org(org_id)
            .actor(actor)
            .target("mcp_server", row.id)
            .details(audit_view(&row)),
        meta,
    )
    .await?;
    txn.commit().await?;
    catalog_changed(s);
    Ok(row)
}

/// Changes an upstream; the secret is kept unless a new one is given (and dropped with the
/// header).
pub async fn update(
    s: &Services,
    actor: Uuid,
    org_id: Uuid,
    id: Uuid,
    c: &UpstreamChange,
    meta: &RequestMeta,
) -> AppResult<mcp_upstream::Model> {
    let v = validate(s, c)?;
    let txn = s.db.begin_write().await?;
    let before = find(&txn, org_id, id).await?;
    if name_taken(&txn, org_id, &v.name, Some(id)).await? {
        return Err(taken(&v.name));
    }
    let sealed = match (&v.header, v.value) {
        (None, _) => None,
        (Some(_), Some(val)) => Some(s.key.seal_str(&secret_place(id), &val)),
        (Some(_), None) => match &before.auth_header_sealed {
            Some(kept) => Some(kept.clone()),
            None => {
                return Err(AppError::invalid(
                    "auth_header_value",
                    "Enter the secret the server expects in this header.",
                ));
            }
        },
    };
    let mut row: mcp_upstream::ActiveModel = before.clone().into();
    row.name = Set(v.name);
    row.url = Set(v.url);
    row.auth_header_name = Set(v.header);
    row.auth_header_sealed = Set(sealed);
    row.timeout_ms = Set(c.timeout_ms);
    row.enabled = Set(c.enabled);
    row.updated_at = Set(Utc::now());
    let after = row.update(&txn).await?;
    audit::record(
        &txn,
        AuditEntry::new("org.mcp_server.updated")
            .org(org_id)
            .actor(actor)
            .target("mcp_server", id)
            .details(json!({
                "before": audit_view(&before),
                "after": audit_view(&after),
                "secret_changed": c.auth_header_value.as_deref().is_some_and(|v| !v.trim().is_empty()),
            })),
        meta,
    )
    .await?;
    txn.commit().await?;
    catalog_changed(s);
    Ok(after)
}

/// Removes an upstream and what Gatehouse knew of its tools: clients stop seeing them at once.
pub async fn delete(
    s: &Services,
    actor: Uuid,
    org_id: Uuid,
    id: Uuid,
    meta: &RequestMeta,
) -> AppResult<()> {
    let txn = s.db.begin_write().await?;
    let gone = find(&txn, org_id, id).await?;
    mcp_upstream_tool::Entity::delete_many()
        .filter(mcp_upstream_tool::Column::UpstreamId.eq(id))
        .exec(&txn)
        .await?;
    mcp_upstream::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        AuditEntry::new("org.mcp_server.removed")
            .org(org_id)
            .actor(actor)
            .target("mcp_server", id)
            .details(audit_view(&gone)),
        meta,
    )
    .await?;
    txn.commit().await?;
    catalog_changed(s);
    Ok(())
}

/// After a committed change to an upstream or a tool's policy: clients' listings and calls
/// follow at once, on every node (the catalog is cached with the access decision's entries).
pub(super) fn catalog_changed(s: &Services) {
    s.invalidate(Invalidation::All);
}

/// How long Gatehouse waits for `u` (a listing or a call).
pub fn timeout(u: &mcp_upstream::Model) -> std::time::Duration {
    std::time::Duration::from_millis(u64::try_from(u.timeout_ms).unwrap_or(30_000))
}

/// The secret header to send `u`, opened.
pub fn secret_header(s: &Services, u: &mcp_upstream::Model) -> AppResult<Option<(String, String)>> {
    match (&u.auth_header_name, &u.auth_header_sealed) {
        (Some(name), Some(sealed)) => {
            let value = s.key.open_str(&secret_place(u.id), sealed).map_err(|e| {
                tracing::error!(error = %e, upstream = %u.id, "an upstream's secret does not open");
                AppError::Internal
            })?;
            Ok(Some((name.clone(), value)))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_prefixes_clients_can_split() {
        for ok in ["crm", "billing_v2", "a1"] {
            assert_eq!(parse_name(ok).unwrap(), ok);
        }
        for bad in [
            "",
            "Crm",
            "1crm",
            "crm__x",
            "crm_",
            "crm-x",
            "c r m",
            &"a".repeat(33),
        ] {
            assert!(parse_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_assertion_header_is_not_the_admins_to_choose() {
        assert!(parse_header_name("X-Api-Key").is_ok());
        for bad in ["Authorization", "mcp-session-id", "bad header", ""] {
            assert!(parse_header_name(bad).is_err(), "{bad}");
        }
    }
}
