//! Clients that identify themselves by an OAuth Client ID Metadata Document
//! (draft-ietf-oauth-client-id-metadata-document, the way MCP 2026-07-28 recommends): the
//! `client_id` is an https URL, and the JSON document served there is the client's
//! registration. Gatehouse fetches it safely ([`fetch`]), checks it like a registration (its
//! `client_id` must be the URL, it is public: no secrets), and keeps it as a client row of kind
//! `metadata`, fetched again once its HTTP caching headers say it is stale. A document that
//! can't be fetched or used makes that client fail with words; nothing else is affected.

pub mod address;
pub mod fetch;

use std::time::Duration;

use chrono::Utc;
use sea_orm::ActiveValue::{NotSet, Set, Unchanged};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use super::clients::{self, AUTH_NONE, ClientMetadata};
use super::error::OAuthError;
use crate::domain::access::Invalidation;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::entities::oauth_client;
use crate::domain::{RequestMeta, Services, is_unique_violation};
use crate::model::ClientKind;

/// The longest `client_id` URL accepted.
const MAX_URL: usize = 2000;
/// A document is kept at least this long (also with `no-store`: each request must not fetch)…
pub const MIN_CACHE: Duration = Duration::from_secs(60);
/// …at most this long (a changed document reaches Gatehouse within a day)…
pub const MAX_CACHE: Duration = Duration::from_secs(24 * 3600);
/// …and this long when its answer says nothing.
pub const DEFAULT_CACHE: Duration = Duration::from_secs(3600);

/// Whether `client_id` is meant as a metadata document URL (ours are never URLs).
pub fn is_url(client_id: &str) -> bool {
    client_id.contains("://")
}

/// The host that vouches for a metadata-document client: its `client_id` URL's host.
pub fn vouching_host(client_id: &str) -> Option<String> {
    url::Url::parse(client_id)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
}

/// Checks a `client_id` URL as the draft requires: https, a host, a path beyond `/`, no
/// credentials, query or fragment, and already in normal form (no `.` or `..` segments, a
/// lowercase host, no default port), since the document's `client_id` must equal it exactly.
pub fn parse_url(raw: &str) -> Result<url::Url, String> {
    if raw.len() > MAX_URL {
        return Err(format!("it is longer than {MAX_URL} characters"));
    }
    let url = url::Url::parse(raw).map_err(|_| "it is not a URL".to_string())?;
    if url.scheme() != "https" {
        return Err("it must be an https URL".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it names no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("it must not contain credentials".into());
    }
    if url.query().is_some() || raw.contains('?') {
        return Err("it must not have a query".into());
    }
    if url.fragment().is_some() || raw.contains('#') {
        return Err("it must not have a fragment".into());
    }
    if url.path() == "/" || url.path().is_empty() {
        return Err("it must have a path (the document's own address, not the site's root)".into());
    }
    if url.as_str() != raw {
        return Err(format!(
            "it must be written in normal form ({url}): no . or .. segments, a lowercase host, no default port"
        ));
    }
    Ok(url)
}

/// How long a fetched document may be used, from its caching headers within our bounds.
pub fn cache_for(f: &fetch::Fetched) -> Duration {
    if f.no_store {
        return MIN_CACHE;
    }
    f.max_age
        .unwrap_or(DEFAULT_CACHE)
        .clamp(MIN_CACHE, MAX_CACHE)
}

/// Checks a fetched document for `url`: JSON, its `client_id` the URL itself, no shared
/// secret, and otherwise what a registration must be (redirect URIs, grant and response
/// types, bounded members).
pub(super) fn validate_document(url: &str, body: &[u8]) -> Result<clients::Validated, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| "the document is not valid JSON".to_string())?;
    let obj = value
        .as_object()
        .ok_or_else(|| "the document is not a JSON object".to_string())?;
    match obj.get("client_id").and_then(Value::as_str) {
        Some(id) if id == url => {}
        Some(id) => {
            return Err(format!(
                "its client_id is {id:?}, not the address it was fetched from"
            ));
        }
        None => return Err("it has no client_id".into()),
    }
    if obj.contains_key("client_secret") {
        return Err(
            "it contains a client_secret: a metadata document is public, so it can't carry a secret".into(),
        );
    }
    match obj.get("token_endpoint_auth_method") {
        None | Some(Value::Null) => {}
        Some(Value::String(m)) if m == AUTH_NONE => {}
        Some(Value::String(m)) if m.starts_with("client_secret") => {
            return Err(format!(
                "its token_endpoint_auth_method is {m}: shared secrets can't be used with a metadata document; use none"
            ));
        }
        Some(other) => {
            return Err(format!(
                "token_endpoint_auth_method {other} is not supported; use none"
            ));
        }
    }
    let m: ClientMetadata = serde_json::from_value(value.clone())
        .map_err(|e| format!("it is not valid client metadata ({e})"))?;
    let mut v = clients::validate(&m).map_err(|e| e.error_description)?;
    // The members the row stores apart, and the identifier itself, are not "other" metadata.
    v.extra.remove("client_id");
    if m.client_name.as_deref().is_none_or(|n| n.trim().is_empty()) {
        v.name = vouching_host(url).unwrap_or_else(|| url.to_string());
    }
    Ok(v)
}

/// Why a metadata-document client can't be used right now.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(
        "This Gatehouse doesn't accept apps that identify themselves with a metadata document ({0}). The app can register itself instead, or the operator can turn metadata documents on."
    )]
    Disabled(String),
    #[error("The app's client ID {url} can't be used: {why}.")]
    Invalid { url: String, why: String },
    #[error(
        "Gatehouse couldn't use the app's metadata document at {url}: {why}. Try again later; if it keeps failing, tell the app's developer."
    )]
    Fetch { url: String, why: String },
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
}

impl From<ResolveError> for OAuthError {
    fn from(e: ResolveError) -> Self {
        match e {
            ResolveError::Db(db) => db.into(),
            other => OAuthError::invalid_client(other.to_string()),
        }
    }
}

/// The client behind a metadata-document `client_id`: the stored copy while it is fresh,
/// else the document fetched and checked again (and stored).
pub async fn resolve(
    s: &Services,
    client_id: &str,
    meta: &RequestMeta,
) -> Result<oauth_client::Model, ResolveError> {
    if !s.settings.oauth.metadata_documents {
        return Err(ResolveError::Disabled(client_id.to_string()));
    }
    let invalid = |why: String| ResolveError::Invalid {
        url: client_id.to_string(),
        why,
    };
    let url = parse_url(client_id).map_err(invalid)?;
    let existing = oauth_client::Entity::find()
        .filter(oauth_client::Column::ClientId.eq(client_id))
        .one(&s.db)
        .await?;
    let now = Utc::now();
    if let Some(c) = &existing
        && c.kind == ClientKind::Metadata
        && c.metadata_expires_at.is_some_and(|e| e > now)
    {
        return Ok(c.clone());
    }
    let fetch_failed = |why: String| ResolveError::Fetch {
        url: client_id.to_string(),
        why,
    };
    let fetcher = s.metadata_fetcher().ok_or_else(|| {
        fetch_failed("fetching is not set up on this server (see its log)".into())
    })?;
    let fetched = fetcher
        .fetch(&url)
        .await
        .map_err(|e| fetch_failed(e.to_string()))?;
    let v = validate_document(client_id, &fetched.body).map_err(fetch_failed)?;
    let expires =
        now + chrono::Duration::from_std(cache_for(&fetched)).unwrap_or(chrono::Duration::hours(1));
    let redirect_uris = v.redirect_uris.clone();
    let mut row = clients::row_of(v, client_id.to_string(), ClientKind::Metadata, None);
    row.metadata_fetched_at = Set(Some(now));
    row.metadata_expires_at = Set(Some(expires));
    let client = match existing {
        Some(c) if c.kind != ClientKind::Metadata => {
            return Err(invalid("another client uses this identifier".into()));
        }
        Some(c) => {
            // What the document says, over what it said; what Gatehouse knows of the client
            // (its history, the admins' marks) stays.
            row.id = Unchanged(c.id);
            row.created_at = NotSet;
            row.last_used_at = NotSet;
            row.first_authorized_at = NotSet;
            row.verified = NotSet;
            row.resource_server = NotSet;
            row.pkce_optional = NotSet;
            let updated = row.update(&s.db).await?;
            s.invalidate(Invalidation::All);
            updated
        }
        None => match row.insert(&s.db).await {
            Ok(created) => {
                audit::record(
                    &s.db,
                    AuditEntry {
                        actor_label: Some(format!("client {client_id}")),
                        ..AuditEntry::new("oauth.client.metadata_document")
                    }
                    .target("oauth_client", client_id)
                    .details(json!({ "name": created.name, "redirect_uris": redirect_uris })),
                    meta,
                )
                .await
                .map_err(|_| sea_orm::DbErr::Custom("audit".into()))?;
                created
            }
            // Another request stored it first.
            Err(e) if is_unique_violation(&e) => oauth_client::Entity::find()
                .filter(oauth_client::Column::ClientId.eq(client_id))
                .one(&s.db)
                .await?
                .ok_or(e)?,
            Err(e) => return Err(e.into()),
        },
    };
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://app.example/oauth/client.json";

    #[test]
    fn client_id_urls_follow_the_draft() {
        assert!(parse_url(URL).is_ok());
        for (bad, why) in [
            ("http://app.example/c.json", "https"),
            ("https://app.example/", "path"),
            ("https://app.example", "path"),
            ("https://u:p@app.example/c", "credentials"),
            ("https://app.example/c?x=1", "query"),
            ("https://app.example/c#f", "fragment"),
            ("https://app.example/a/../c", "normal form"),
            ("https://APP.example/c", "normal form"),
            ("https://app.example:443/c", "normal form"),
            ("not a url", "not a URL"),
        ] {
            let e = parse_url(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn documents_must_name_themselves_and_carry_no_secret() {
        let doc = |v: Value| validate_document(URL, v.to_string().as_bytes());
        let good = json!({ "client_id": URL, "client_name": "App", "redirect_uris": ["http://127.0.0.1/callback"] });
        let v = doc(good.clone()).unwrap();
        assert_eq!(v.name, "App");
        assert_eq!(v.auth_method, AUTH_NONE);
        let unnamed =
            doc(json!({ "client_id": URL, "redirect_uris": ["https://app.example/cb"] })).unwrap();
        assert_eq!(unnamed.name, "app.example", "named by its host");
        for (bad, why) in [
            (
                json!({ "client_id": "https://evil.example/c.json", "redirect_uris": ["https://a.example/cb"] }),
                "not the address",
            ),
            (
                json!({ "redirect_uris": ["https://a.example/cb"] }),
                "no client_id",
            ),
            (
                json!({ "client_id": URL, "redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "client_secret_basic" }),
                "shared secrets",
            ),
            (
                json!({ "client_id": URL, "redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "private_key_jwt" }),
                "not supported",
            ),
            (
                json!({ "client_id": URL, "redirect_uris": ["https://a.example/cb"], "client_secret": "s" }),
                "client_secret",
            ),
            (json!({ "client_id": URL }), "redirect_uris"),
            (
                json!({ "client_id": URL, "redirect_uris": ["https://a.example/cb"], "grant_types": ["client_credentials"] }),
                "grant type",
            ),
            (
                json!({ "client_id": URL, "redirect_uris": ["https://a.example/cb"], "response_types": ["token"] }),
                "response type",
            ),
            (json!([1, 2]), "not a JSON object"),
        ] {
            let e = doc(bad.clone()).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(
            validate_document(URL, b"<html>")
                .unwrap_err()
                .contains("not valid JSON")
        );
    }

    #[test]
    fn caching_stays_within_bounds() {
        let f = |max_age: Option<u64>, no_store| fetch::Fetched {
            body: vec![],
            max_age: max_age.map(Duration::from_secs),
            no_store,
        };
        assert_eq!(cache_for(&f(None, false)), DEFAULT_CACHE);
        assert_eq!(cache_for(&f(Some(5), false)), MIN_CACHE);
        assert_eq!(cache_for(&f(Some(600), false)), Duration::from_secs(600));
        assert_eq!(cache_for(&f(Some(10_000_000), false)), MAX_CACHE);
        assert_eq!(cache_for(&f(Some(600), true)), MIN_CACHE);
    }
}
