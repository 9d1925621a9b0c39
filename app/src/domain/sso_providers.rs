//! Single sign-on providers' discovery documents, with their signing keys, kept per process for
//! [`KEEP_FOR`]: a sign-in then fetches nothing before sending the person to the provider,
//! and finishing it needs only the token exchange. A provider that rotated its signing key is
//! asked again at once: an ID token whose signature the kept keys can't check makes the
//! finish fetch the document and keys afresh and check once more (see `sso::flow`). A leaf of the domain, so that
//! [`Services`](super::Services) can hold it.

use std::time::Duration;

use moka::sync::Cache;
use openidconnect::core::CoreProviderMetadata;

/// How long a provider's document and keys are used before they are fetched again.
pub const KEEP_FOR: Duration = Duration::from_secs(600);
/// Providers kept at most (one per org with single sign-on, at most).
const MAX_PROVIDERS: u64 = 10_000;

pub struct ProviderCache(Cache<String, CoreProviderMetadata>);

impl Default for ProviderCache {
    fn default() -> Self {
        Self(
            Cache::builder()
                .max_capacity(MAX_PROVIDERS)
                .time_to_live(KEEP_FOR)
                .build(),
        )
    }
}

impl ProviderCache {
    pub fn get(&self, issuer: &str) -> Option<CoreProviderMetadata> {
        self.0.get(issuer)
    }

    pub fn put(&self, issuer: &str, metadata: CoreProviderMetadata) {
        self.0.insert(issuer.to_string(), metadata);
    }
}
