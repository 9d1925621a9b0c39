//! A few seconds of memory for the hot paths (introspection, refresh, and next the MCP
//! endpoint's bearer check): a token's state, a client's row, a live connection with its org and
//! the member's role. Any change to authorization state (a revocation, a role change, a removed
//! member, an org policy, connection or client change) must call [`invalidate_all`], which makes
//! every entry stale at once; otherwise entries expire after [`TTL`], which also bounds
//! staleness between several Gatehouse processes.
//!
//! One cache per process: keys are SHA-256 hashes of secrets and random client ids, so entries
//! of different databases (tests) can't collide.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use moka::sync::Cache;

pub const TTL: Duration = Duration::from_secs(5);

pub struct AuthCache<V: Clone + Send + Sync + 'static> {
    entries: Cache<String, (u64, V)>,
}

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Makes every cached token and client state stale, immediately.
pub fn invalidate_all() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// The generation to tag a value with: read it *before* reading the database, so a change
/// that lands during the read leaves the entry already stale.
pub fn generation() -> u64 {
    GENERATION.load(Ordering::SeqCst)
}

impl<V: Clone + Send + Sync + 'static> AuthCache<V> {
    pub fn new(capacity: u64) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(TTL)
                .build(),
        }
    }

    pub fn get(&self, key: &str) -> Option<V> {
        let (tag, v) = self.entries.get(key)?;
        (tag == generation()).then_some(v)
    }

    /// Forgets one entry (a single token revoked or rotated).
    pub fn remove(&self, key: &str) {
        self.entries.invalidate(key);
    }

    pub fn put(&self, key: String, tag: u64, value: V) {
        if tag == generation() {
            self.entries.insert(key, (tag, value));
        }
    }
}

/// What introspection reports for a token hash, as of when it was read.
pub type TokenStates = AuthCache<Arc<serde_json::Value>>;
/// Client rows by client_id, for client authentication.
pub type Clients = AuthCache<Arc<crate::domain::entities::oauth_client::Model>>;

/// A connection that may be used, with its org and the member's current role.
pub type LiveConnections = AuthCache<
    Arc<(
        crate::domain::entities::connection::Model,
        crate::domain::entities::organization::Model,
        crate::model::Role,
    )>,
>;

pub static TOKEN_STATES: LazyLock<TokenStates> = LazyLock::new(|| AuthCache::new(200_000));
pub static LIVE_CONNECTIONS: LazyLock<LiveConnections> = LazyLock::new(|| AuthCache::new(200_000));
pub static CLIENTS: LazyLock<Clients> = LazyLock::new(|| AuthCache::new(50_000));

/// What the MCP endpoint's bearer check found for a token hash.
pub type Bearers = AuthCache<crate::domain::mcp::bearer::Lookup>;
pub static BEARERS: LazyLock<Bearers> = LazyLock::new(|| AuthCache::new(200_000));

/// Forgets everything cached about one token (it was revoked or rotated).
pub fn forget_token(token_hash: &str) {
    TOKEN_STATES.remove(token_hash);
    BEARERS.remove(token_hash);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidation_makes_entries_stale_even_mid_read() {
        let c: AuthCache<u32> = AuthCache::new(10);
        let g = generation();
        c.put("a".into(), g, 1);
        assert_eq!(c.get("a"), Some(1));
        invalidate_all();
        assert_eq!(c.get("a"), None);
        // A value read before an invalidation is not stored after it.
        c.put("b".into(), g, 2);
        assert_eq!(c.get("b"), None);
    }
}
