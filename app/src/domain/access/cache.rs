//! A few seconds of memory for the access decision's database reads, owned by the services of
//! one process (never a static): a token's facts by its hash, the holder of a grant (user,
//! org, role, connection, client) by its key, client rows by `client_id`, each org's gateway
//! catalog, and when a token's use was last recorded.
//!
//! Every change to who may get in is published through [`Invalidations`] *after* its
//! transaction commits. Entries carry the generation they were read under: reading the
//! generation before the database means a change committed during the read leaves the entry
//! stale at once, so no request racing a revocation can cache "allowed" again. Other
//! processes subscribe to the same stream (a later step carries it through PostgreSQL); entries
//! also expire after [`TTL`], which bounds staleness until then.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use moka::sync::Cache;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::denial::Denial;
use super::gateway_catalog::OrgCatalog;
use super::principal::{Holder, Principal};
use crate::domain::entities::oauth_client;

/// The longest an entry lives without an invalidation.
pub const TTL: Duration = Duration::from_secs(5);
/// How long a token's last use stays recorded before the next use writes it again.
pub const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// A change that cached access decisions must not outlive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    /// Anything that can change who gets in (a revocation, a role, a membership, a policy, a
    /// client or an account): every cached entry becomes stale.
    All,
    /// One token changed state (rotated or revoked alone): forget it, by its hash.
    Token(String),
}

/// One generation-tagged cache.
pub struct Tagged<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    entries: Cache<K, (u64, V)>,
    /// The cache's label in metrics.
    name: &'static str,
}

impl<K, V> Tagged<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn new(name: &'static str, capacity: u64) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(TTL)
                .build(),
            name,
        }
    }

    fn get<Q>(&self, key: &Q, generation: u64) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        let found = self
            .entries
            .get(key)
            .and_then(|(tag, v)| (tag == generation).then_some(v));
        let result = if found.is_some() { "hit" } else { "miss" };
        metrics::counter!("gatehouse_access_cache_total", "cache" => self.name, "result" => result)
            .increment(1);
        found
    }

    fn put(&self, key: K, tag: u64, now: u64, value: V) {
        if tag == now {
            self.entries.insert(key, (tag, value));
        }
    }
}

/// Whose grant a [`Holder`] describes: an MCP OAuth grant by its connection, a PAT by the
/// membership it acts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HolderKey {
    Connection(Uuid),
    Member { user_id: Uuid, org_id: Uuid },
}

/// What a token hash was found to be: its facts, or why there is nothing to decide on.
pub type Lookup = Result<Arc<Principal>, Denial>;

pub struct AuthCaches {
    generation: AtomicU64,
    tokens: Tagged<String, Lookup>,
    holders: Tagged<HolderKey, Result<Arc<Holder>, Denial>>,
    clients: Tagged<String, Arc<oauth_client::Model>>,
    /// Each org's gateway catalog (its upstreams and their tools' policies), by org id.
    catalogs: Tagged<Uuid, Arc<OrgCatalog>>,
    /// Tokens whose use was recorded within [`TOUCH_EVERY`].
    touched: Cache<Uuid, ()>,
    published: broadcast::Sender<Invalidation>,
}

impl Default for AuthCaches {
    fn default() -> Self {
        Self {
            generation: AtomicU64::new(0),
            tokens: Tagged::new("tokens", 200_000),
            holders: Tagged::new("holders", 200_000),
            clients: Tagged::new("clients", 50_000),
            catalogs: Tagged::new("gateway_catalogs", 50_000),
            touched: Cache::builder()
                .max_capacity(200_000)
                .time_to_live(TOUCH_EVERY)
                .build(),
            published: broadcast::channel(1024).0,
        }
    }
}

/// The invalidation interface: the domain's mutating functions call [`publish`] after their
/// commit; another process's changes arrive through [`apply`].
///
/// [`publish`]: Invalidations::publish
/// [`apply`]: Invalidations::apply
pub trait Invalidations {
    /// A change committed here: drop what it makes stale, and tell the subscribers.
    fn publish(&self, change: Invalidation);
    /// A change committed elsewhere: drop what it makes stale, tell nobody.
    fn apply(&self, change: &Invalidation);
    /// Every change published from now on (for carrying them to other processes, and tests).
    fn subscribe(&self) -> broadcast::Receiver<Invalidation>;
}

impl Invalidations for AuthCaches {
    fn publish(&self, change: Invalidation) {
        self.apply(&change);
        // Nobody listening is fine: the local caches are already clean.
        let _ = self.published.send(change);
    }

    fn apply(&self, change: &Invalidation) {
        match change {
            Invalidation::All => {
                self.generation.fetch_add(1, Ordering::SeqCst);
            }
            Invalidation::Token(hash) => self.tokens.entries.invalidate(hash),
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Invalidation> {
        self.published.subscribe()
    }
}

impl AuthCaches {
    /// The generation to tag a value with: read it *before* reading the database.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub fn token(&self, hash: &str) -> Option<Lookup> {
        self.tokens.get(hash, self.generation())
    }

    pub fn put_token(&self, hash: String, tag: u64, found: Lookup) {
        self.tokens.put(hash, tag, self.generation(), found);
    }

    pub fn holder(&self, key: &HolderKey) -> Option<Result<Arc<Holder>, Denial>> {
        self.holders.get(key, self.generation())
    }

    pub fn put_holder(&self, key: HolderKey, tag: u64, found: Result<Arc<Holder>, Denial>) {
        self.holders.put(key, tag, self.generation(), found);
    }

    pub fn client(&self, client_id: &str) -> Option<Arc<oauth_client::Model>> {
        self.clients.get(client_id, self.generation())
    }

    pub fn put_client(&self, tag: u64, client: Arc<oauth_client::Model>) {
        self.clients
            .put(client.client_id.clone(), tag, self.generation(), client);
    }

    pub fn catalog(&self, org_id: &Uuid) -> Option<Arc<OrgCatalog>> {
        self.catalogs.get(org_id, self.generation())
    }

    pub fn put_catalog(&self, org_id: Uuid, tag: u64, catalog: Arc<OrgCatalog>) {
        self.catalogs.put(org_id, tag, self.generation(), catalog);
    }

    /// True the first time within [`TOUCH_EVERY`] that `token_id` is seen: its use should be
    /// recorded now.
    pub fn first_touch(&self, token_id: Uuid) -> bool {
        if self.touched.contains_key(&token_id) {
            return false;
        }
        self.touched.insert(token_id, ());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalidation_makes_entries_stale_even_mid_read() {
        let c = AuthCaches::default();
        let g = c.generation();
        c.put_token("a".into(), g, Err(Denial::UnknownToken));
        assert!(c.token("a").is_some());
        c.publish(Invalidation::All);
        assert!(c.token("a").is_none());
        // A value read before an invalidation is not stored after it.
        c.put_token("b".into(), g, Err(Denial::UnknownToken));
        assert!(c.token("b").is_none());
    }

    #[test]
    fn a_token_invalidation_forgets_one_entry_and_reaches_subscribers() {
        let c = AuthCaches::default();
        let mut rx = c.subscribe();
        let g = c.generation();
        c.put_token("a".into(), g, Err(Denial::UnknownToken));
        c.put_token("b".into(), g, Err(Denial::UnknownToken));
        c.publish(Invalidation::Token("a".into()));
        assert!(c.token("a").is_none());
        assert!(c.token("b").is_some());
        assert_eq!(rx.try_recv().unwrap(), Invalidation::Token("a".into()));
        // Applied from elsewhere: nobody is told again.
        c.apply(&Invalidation::All);
        assert!(rx.try_recv().is_err());
        assert!(c.token("b").is_none());
    }

    #[test]
    fn a_use_is_recorded_once_per_window() {
        let c = AuthCaches::default();
        let id = Uuid::new_v4();
        assert!(c.first_touch(id));
        assert!(!c.first_touch(id));
    }
}
