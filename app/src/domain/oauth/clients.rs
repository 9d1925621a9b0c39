//! OAuth clients: dynamic registration (RFC 7591), lookup, client authentication at the token,
//! revocation and introspection endpoints, and reaping of registrations nobody ever used.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::error::OAuthError;
use super::redirect_uri::{self, ApplicationType};
use super::scope::ScopeSet;
use super::token_format::{SecretKind, generate, random_base62};
use crate::domain::access::Invalidation;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::entities::oauth_client;
use crate::domain::secrets::sha256_hex;
use crate::domain::{RequestMeta, Services};
use crate::model::ClientKind;

pub const AUTH_NONE: &str = "none";
pub const AUTH_BASIC: &str = "client_secret_basic";
pub const AUTH_POST: &str = "client_secret_post";
/// The RFC 7523 grant type (identity assertions), as registration, the token endpoint and
/// discovery name it.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// A registration request as RFC 7591 §2 defines it; unknown members are kept and echoed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClientMetadata {
    pub redirect_uris: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub client_name: Option<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub scope: Option<String>,
    pub contacts: Option<Vec<String>>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub software_id: Option<String>,
    pub software_version: Option<String>,
    pub application_type: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

pub fn list(stored: &str) -> Vec<String> {
    serde_json::from_str(stored).unwrap_or_default()
}

fn optional_url(field: &str, v: &Option<String>) -> Result<Option<String>, OAuthError> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s.len() > 2000 => Err(OAuthError::invalid_client_metadata(format!(
            "{field} is too long"
        ))),
        Some(s) => match url::Url::parse(s) {
            Ok(u) if matches!(u.scheme(), "https" | "http") => Ok(Some(s.to_string())),
            _ => Err(OAuthError::invalid_client_metadata(format!(
                "{field} must be an http(s) URL"
            ))),
        },
    }
}

/// The largest registration document read (RFC 7591 metadata is a few hundred bytes).
pub const MAX_REGISTRATION_BYTES: usize = 16 * 1024;
/// Bounds on the stored members: every one of them is echoed back and shown to admins.
const MAX_CONTACTS: usize = 10;
const MAX_SHORT_TEXT: usize = 200;
const MAX_CONTACT_LEN: usize = 320;
const MAX_SCOPE_LEN: usize = 1000;
const MAX_EXTRA_MEMBERS: usize = 32;
const MAX_EXTRA_BYTES: usize = 4096;

/// A short printable text member (`software_id`, `software_version`), at most 200 characters.
fn short_text(field: &str, v: &Option<String>) -> Result<Option<String>, OAuthError> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s.chars().count() > MAX_SHORT_TEXT || s.chars().any(char::is_control) => {
            Err(OAuthError::invalid_client_metadata(format!(
                "{field} must be at most {MAX_SHORT_TEXT} printable characters"
            )))
        }
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// `list` without repeats, in order.
fn dedup(list: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in list {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// A validated registration (or metadata document), ready to store.
#[derive(Debug)]
pub(super) struct Validated {
    pub(super) redirect_uris: Vec<String>,
    application_type: Option<ApplicationType>,
    pub(super) auth_method: &'static str,
    grant_types: Vec<String>,
    response_types: Vec<String>,
    pub(super) name: String,
    scope: ScopeSet,
    client_uri: Option<String>,
    logo_uri: Option<String>,
    tos_uri: Option<String>,
    policy_uri: Option<String>,
    contacts: Option<Vec<String>>,
    software_id: Option<String>,
    software_version: Option<String>,
    pub(super) extra: Map<String, Value>,
}

pub(super) fn validate(m: &ClientMetadata) -> Result<Validated, OAuthError> {
    let uris = m.redirect_uris.clone().unwrap_or_default();
    // A client that only presents identity assertions (RFC 7523) never redirects anyone.
    let assertions_only = m.grant_types.as_ref().is_some_and(|g| {
        g.iter().any(|g| g == JWT_BEARER) && !g.iter().any(|g| g == "authorization_code")
    });
    if uris.is_empty() && !assertions_only {
        return Err(OAuthError::invalid_redirect_uri(
            "redirect_uris is required and must list at least one URI",
        ));
    }
    if uris.len() > redirect_uri::MAX_URIS {
        return Err(OAuthError::invalid_redirect_uri(format!(
            "at most {} redirect URIs may be registered",
            redirect_uri::MAX_URIS
        )));
    }
    let application_type = ApplicationType::parse(m.application_type.as_deref())
        .map_err(OAuthError::invalid_client_metadata)?;
    for (i, u) in uris.iter().enumerate() {
        let url = redirect_uri::validate(u)
            .map_err(|e| OAuthError::invalid_redirect_uri(format!("redirect_uris[{i}]: {e}")))?;
        if let Some(kind) = application_type {
            kind.allows(&url).map_err(|e| {
                OAuthError::invalid_redirect_uri(format!("redirect_uris[{i}]: {e}"))
            })?;
        }
    }
    // An omitted method means a public client here (checklist DCR-5): SDKs that omit it send no secret.
    let auth_method = match m.token_endpoint_auth_method.as_deref() {
        None | Some("none") => AUTH_NONE,
        Some("client_secret_basic") => AUTH_BASIC,
        Some("client_secret_post") => AUTH_POST,
        Some(other) => {
            return Err(OAuthError::invalid_client_metadata(format!(
                "token_endpoint_auth_method {other:?} is not supported; use none, client_secret_basic or client_secret_post"
            )));
        }
    };
    let grant_types = dedup(
        m.grant_types
            .clone()
            .unwrap_or_else(|| vec!["authorization_code".into(), "refresh_token".into()]),
    );
    if let Some(g) = grant_types.iter().find(|g| {
        !matches!(
            g.as_str(),
            "authorization_code" | "refresh_token" | JWT_BEARER
        )
    }) {
        return Err(OAuthError::invalid_client_metadata(format!(
            "grant type {g:?} is not supported; use authorization_code, refresh_token and {JWT_BEARER}"
        )));
    }
    if !grant_types
        .iter()
        .any(|g| g == "authorization_code" || g == JWT_BEARER)
    {
        return Err(OAuthError::invalid_client_metadata(format!(
            "grant_types must include authorization_code (or {JWT_BEARER})"
        )));
    }
    // An identity assertion is a bearer credential: only a client that proves who it is may
    // present one.
    if grant_types.iter().any(|g| g == JWT_BEARER) && auth_method == AUTH_NONE {
        return Err(OAuthError::invalid_client_metadata(format!(
            "{JWT_BEARER} needs a confidential client: register token_endpoint_auth_method client_secret_basic or client_secret_post"
        )));
    }
    let response_types = dedup(
        m.response_types
            .clone()
            .unwrap_or_else(|| vec!["code".into()]),
    );
    if response_types.iter().any(|r| r != "code") {
        return Err(OAuthError::invalid_client_metadata(
            "only the response type \"code\" is supported",
        ));
    }
    let name = m
        .client_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("Unnamed app");
    if name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(OAuthError::invalid_client_metadata(
            "client_name must be at most 200 printable characters",
        ));
    }
    // The registered scope is advisory (checklist DCR-7): clients register what they ask for
    // now and may ask for more later, so every client may be granted every scope.
    if m.scope.as_deref().is_some_and(|s| s.len() > MAX_SCOPE_LEN) {
        return Err(OAuthError::invalid_client_metadata(format!(
            "scope must be at most {MAX_SCOPE_LEN} characters"
        )));
    }
    let contacts = match &m.contacts {
        Some(c) if c.len() > MAX_CONTACTS => {
            return Err(OAuthError::invalid_client_metadata(format!(
                "contacts may list at most {MAX_CONTACTS} addresses"
            )));
        }
        Some(c)
            if c.iter().any(|a| {
                a.chars().count() > MAX_CONTACT_LEN || a.chars().any(char::is_control)
            }) =>
        {
            return Err(OAuthError::invalid_client_metadata(format!(
                "each contact must be at most {MAX_CONTACT_LEN} printable characters"
            )));
        }
        other => other.clone(),
    };
    // Registration metadata we don't model is echoed back as received (no nulls), within
    // bounds: it is stored with the client.
    let mut extra = m.extra.clone();
    extra.retain(|_, v| !v.is_null());
    if extra.len() > MAX_EXTRA_MEMBERS
        || Value::Object(extra.clone()).to_string().len() > MAX_EXTRA_BYTES
    {
        return Err(OAuthError::invalid_client_metadata(format!(
            "the registration carries too much other metadata (at most {MAX_EXTRA_MEMBERS} members and {MAX_EXTRA_BYTES} bytes besides the RFC 7591 fields)"
        )));
    }
    Ok(Validated {
        redirect_uris: uris,
        application_type,
        auth_method,
        grant_types,
        response_types,
        name: name.to_string(),
        scope: ScopeSet::all(),
        client_uri: optional_url("client_uri", &m.client_uri)?,
        logo_uri: optional_url("logo_uri", &m.logo_uri)?,
        tos_uri: optional_url("tos_uri", &m.tos_uri)?,
        policy_uri: optional_url("policy_uri", &m.policy_uri)?,
        contacts,
        software_id: short_text("software_id", &m.software_id)?,
        software_version: short_text("software_version", &m.software_version)?,
        extra,
    })
}

pub struct Registered {
    pub client: oauth_client::Model,
    /// The client secret, for confidential clients: returned once, stored only as a hash.
    pub secret: Option<String>,
}

/// Registers a client through RFC 7591 dynamic registration.
pub async fn register_dynamic(
    s: &Services,
    m: ClientMetadata,
    meta: &RequestMeta,
) -> Result<Registered, OAuthError> {
    let v = validate(&m)?;
    let secret = (v.auth_method != AUTH_NONE).then(|| generate(SecretKind::ClientSecret));
    let redirect_uris = v.redirect_uris.clone();
    let client = row_of(
        v,
        format!("gc_{}", random_base62(24)),
        ClientKind::Dynamic,
        secret.as_deref(),
    )
    .insert(&s.db)
    .await?;
    audit::record(
        &s.db,
        AuditEntry {
            actor_label: Some(format!("client {}", client.client_id)),
            ..AuditEntry::new("oauth.client.registered")
        }
        .target("oauth_client", &client.client_id)
        .details(json!({ "name": client.name, "redirect_uris": redirect_uris })),
        meta,
    )
    .await?;
    Ok(Registered { client, secret })
}

/// A new client row from validated metadata: a self-registered client, or one identified by
/// its metadata document (`client_id` is then the document's URL).
pub(super) fn row_of(
    v: Validated,
    client_id: String,
    kind: ClientKind,
    secret: Option<&str>,
) -> oauth_client::ActiveModel {
    let now = Utc::now();
    oauth_client::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(client_id),
        kind: Set(kind),
        name: Set(v.name),
        description: Set(None),
        owner_user_id: Set(None),
        org_id: Set(None),
        redirect_uris: Set(json_list(&v.redirect_uris)),
        grant_types: Set(json_list(&v.grant_types)),
        response_types: Set(json_list(&v.response_types)),
        token_endpoint_auth_method: Set(v.auth_method.into()),
        secret_hash: Set(secret.map(sha256_hex)),
        secret_last_four: Set(secret.map(super::token_format::last_four)),
        secret_rotated_at: Set(None),
        allowed_scopes: Set(v.scope.to_string()),
        application_type: Set(v.application_type.map(|a| a.as_str().to_string())),
        client_uri: Set(v.client_uri),
        logo_uri: Set(v.logo_uri),
        tos_uri: Set(v.tos_uri),
        policy_uri: Set(v.policy_uri),
        contacts: Set(v.contacts.as_ref().map(|c| json_list(c))),
        software_id: Set(v.software_id),
        software_version: Set(v.software_version),
        extra_metadata: Set((!v.extra.is_empty()).then(|| Value::Object(v.extra).to_string())),
        verified: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        last_used_at: Set(None),
        first_authorized_at: Set(None),
        resource_server: Set(false),
        pkce_optional: Set(false),
        metadata_fetched_at: Set(None),
        metadata_expires_at: Set(None),
    }
}

/// The RFC 7591 §3.2.1 response: the metadata as registered, every member present or omitted
/// (never null).
pub fn registration_response(c: &oauth_client::Model, secret: Option<&str>) -> Value {
    let mut out = match c
        .extra_metadata
        .as_deref()
        .and_then(|e| serde_json::from_str::<Value>(e).ok())
    {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_string(), v);
    };
    put("client_id", json!(c.client_id));
    put("client_id_issued_at", json!(c.created_at.timestamp()));
    put("client_name", json!(c.name));
    put("redirect_uris", json!(list(&c.redirect_uris)));
    put("grant_types", json!(list(&c.grant_types)));
    put("response_types", json!(list(&c.response_types)));
    put(
        "token_endpoint_auth_method",
        json!(c.token_endpoint_auth_method),
    );
    put("scope", json!(c.allowed_scopes));
    if let Some(secret) = secret {
        put("client_secret", json!(secret));
        put("client_secret_expires_at", json!(0));
    }
    for (k, v) in [
        ("client_uri", &c.client_uri),
        ("logo_uri", &c.logo_uri),
        ("tos_uri", &c.tos_uri),
        ("policy_uri", &c.policy_uri),
        ("software_id", &c.software_id),
        ("software_version", &c.software_version),
        ("application_type", &c.application_type),
    ] {
        if let Some(v) = v {
            put(k, json!(v));
        }
    }
    if let Some(contacts) = &c.contacts {
        put("contacts", json!(list(contacts)));
    }
    Value::Object(out)
}

pub async fn find(
    db: &impl ConnectionTrait,
    client_id: &str,
) -> Result<Option<oauth_client::Model>, OAuthError> {
    Ok(oauth_client::Entity::find()
        .filter(oauth_client::Column::ClientId.eq(client_id))
        .one(db)
        .await?)
}

/// Deletes clients that identified themselves (registered, or by a metadata document) and
/// that nobody authorized within `unused_for` (MCP clients register anew on every
/// connection; most registrations are never used, and anyone can point at a document).
pub async fn reap_unused_dynamic(s: &Services, unused_for: Duration) -> Result<u64, OAuthError> {
    let cutoff: DateTime<Utc> = Utc::now() - unused_for;
    let res = oauth_client::Entity::delete_many()
        .filter(oauth_client::Column::Kind.is_in([ClientKind::Dynamic, ClientKind::Metadata]))
        .filter(oauth_client::Column::FirstAuthorizedAt.is_null())
        .filter(oauth_client::Column::CreatedAt.lt(cutoff))
        .exec(&s.db)
        .await?;
    if res.rows_affected > 0 {
        s.invalidate(Invalidation::All);
    }
    Ok(res.rows_affected)
}
