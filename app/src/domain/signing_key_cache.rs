//! The key this process signs with, kept for [`KEEP_FOR`] so that signing an assertion reads
//! nothing from the database. A rotation takes effect at the key's `sign_from`, an hour after
//! it was made, so a process that keeps the old key a minute longer signs with a key that is
//! still published. A leaf of the domain, so that [`Services`](super::Services) can hold it.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use openidconnect::core::CoreEdDsaPrivateSigningKey;

/// How long the active key is used before the database is asked again.
pub const KEEP_FOR: Duration = Duration::from_secs(60);

/// A signing key ready to sign: its `kid` and the opened private key.
#[derive(Clone)]
pub struct ActiveKey {
    pub kid: String,
    pub key: Arc<CoreEdDsaPrivateSigningKey>,
}

#[derive(Default)]
pub struct SigningKeyCache(RwLock<Option<(ActiveKey, Instant)>>);

impl SigningKeyCache {
    pub fn get(&self) -> Option<ActiveKey> {
        let kept = self.0.read().ok()?;
        kept.as_ref()
            .filter(|(_, at)| at.elapsed() < KEEP_FOR)
            .map(|(k, _)| k.clone())
    }

    pub fn put(&self, key: ActiveKey) {
        if let Ok(mut kept) = self.0.write() {
            *kept = Some((key, Instant::now()));
        }
    }

    /// Forgets the kept key (after a rotation on this process).
    pub fn clear(&self) {
        if let Ok(mut kept) = self.0.write() {
            *kept = None;
        }
    }
}
