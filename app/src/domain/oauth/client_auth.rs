//! Which client is asking: the lookup of a `client_id` (a stored client, or a metadata
//! document fetched as needed) and client authentication at the token, revocation and
//! introspection endpoints.

use std::sync::Arc;

use chrono::Utc;

use super::clients::{AUTH_BASIC, AUTH_NONE, AUTH_POST, find};
use super::error::OAuthError;
use super::metadata_document;
use crate::domain::entities::oauth_client;
use crate::domain::secrets::{constant_time_eq, sha256_hex};
use crate::domain::{RequestMeta, Services};
use crate::model::ClientKind;

/// The client a `client_id` names: a stored one, or, for an https URL, the client its
/// metadata document describes (fetched when the stored copy is stale). `None` for an unknown
/// identifier; a document that can't be used is `invalid_client` with the reason.
pub async fn lookup(
    s: &Services,
    client_id: &str,
    meta: &RequestMeta,
) -> Result<Option<oauth_client::Model>, OAuthError> {
    if metadata_document::is_url(client_id) {
        return Ok(Some(metadata_document::resolve(s, client_id, meta).await?));
    }
    find(&s.db, client_id).await
}

/// A metadata-document client whose stored document may no longer be used.
fn stale(c: &oauth_client::Model) -> bool {
    c.kind == ClientKind::Metadata && c.metadata_expires_at.is_none_or(|e| e <= Utc::now())
}

/// How a client presented itself at the token, revocation or introspection endpoint.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: Option<String>,
    /// The credentials came in an `Authorization: Basic` header.
    pub basic: bool,
}

/// Authenticates a client by the method it registered, and only that one: a
/// `client_secret_basic` client must use the Authorization header, a `client_secret_post`
/// client the body, a public client neither. Any failure is `invalid_client`.
pub async fn authenticate(
    s: &Services,
    creds: &ClientCredentials,
    meta: &RequestMeta,
) -> Result<oauth_client::Model, OAuthError> {
    let fail = |d: &str| OAuthError {
        basic_challenge: creds.basic,
        ..OAuthError::invalid_client(d)
    };
    // Client rows change rarely; a few seconds of cache spares the hot paths a query. A
    // metadata-document client whose document went stale is looked up (fetched) again.
    let client = match s.caches.client(&creds.client_id) {
        Some(cached) if !stale(&cached) => cached,
        _ => {
            let tag = s.caches.generation();
            let found = Arc::new(
                lookup(s, &creds.client_id, meta)
                    .await
                    .map_err(|e| OAuthError {
                        basic_challenge: creds.basic,
                        ..e
                    })?
                    .ok_or_else(|| fail("Unknown client. Register again."))?,
            );
            s.caches.put_client(tag, found.clone());
            found
        }
    };
    let method = client.token_endpoint_auth_method.as_str();
    let secret = match (method, &creds.secret, creds.basic) {
        (AUTH_NONE, None, _) => return Ok((*client).clone()),
        (AUTH_NONE, Some(_), _) => {
            return Err(fail(
                "This is a public client; it must not send a client secret.",
            ));
        }
        (_, None, _) => return Err(fail("Client authentication is required for this client.")),
        (AUTH_BASIC, Some(_), false) => {
            return Err(fail(
                "This client registered client_secret_basic: send its credentials in the Authorization header (HTTP Basic), not in the body.",
            ));
        }
        (AUTH_POST, Some(_), true) => {
            return Err(fail(
                "This client registered client_secret_post: send client_id and client_secret in the body, not in an Authorization header.",
            ));
        }
        (_, Some(secret), _) => secret,
    };
    match &client.secret_hash {
        Some(hash) if constant_time_eq(&sha256_hex(secret), hash) => Ok((*client).clone()),
        _ => Err(fail("Client authentication failed.")),
    }
}
