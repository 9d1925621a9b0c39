//! An organization's identity provider as Gatehouse reaches it: its discovery document and
//! signing keys, fetched through the guarded HTTP client (an org admin chooses the issuer URL,
//! so it must not reach into Gatehouse's network) and kept for a while
//! ([`sso_providers`](crate::domain::sso_providers)). Used by single sign-on and by the
//! identity-assertion grant.

use openidconnect::IssuerUrl;
use openidconnect::core::CoreProviderMetadata;

use crate::domain::Services;
use crate::domain::oauth::metadata_document::fetch::{DocumentFetcher, FetchError};
use crate::error::{AppError, AppResult};

/// The most Gatehouse reads of one answer from a provider (discovery, keys, tokens).
const MAX_ANSWER: usize = 256 * 1024;

/// The guarded HTTP client, as openidconnect calls it.
pub(crate) struct Http(DocumentFetcher);

impl<'c> openidconnect::AsyncHttpClient<'c> for Http {
    type Error = FetchError;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<openidconnect::HttpResponse, FetchError>>
                + Send
                + 'c,
        >,
    >;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(self.0.exchange(request, MAX_ANSWER))
    }
}

pub(crate) fn fetcher(s: &Services) -> AppResult<Http> {
    s.metadata_fetcher().cloned().map(Http).ok_or_else(|| {
        tracing::error!("no outbound HTTP client: the fetch settings were refused at start");
        AppError::Internal
    })
}

/// Whether [`discover`] may answer from what this process kept.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keys {
    Kept,
    Fresh,
}

/// The provider's metadata (and keys) by OpenID Connect Discovery; the issuer it states must
/// be the configured one. Why it couldn't be had, in words for logs and the audit trail.
pub(crate) async fn discover(
    s: &Services,
    http: &Http,
    issuer: &str,
    keys: Keys,
) -> Result<CoreProviderMetadata, String> {
    if keys == Keys::Kept
        && let Some(kept) = s.sso_providers.get(issuer)
    {
        return Ok(kept);
    }
    let url = IssuerUrl::new(issuer.to_string()).map_err(|e| format!("issuer URL: {e}"))?;
    let metadata = CoreProviderMetadata::discover_async(url, http)
        .await
        .map_err(|e| format!("discovery: {}", chain(&e)))?;
    s.sso_providers.put(issuer, metadata.clone());
    Ok(metadata)
}

/// An error with its causes, for logs and the audit trail.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
