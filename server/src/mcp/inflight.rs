//! The upstream calls in progress on this process, by the credential that made them and the
//! client's request id, so that a client's `notifications/cancelled` (its own POST, as every
//! message is in stateless HTTP) stops the call it names. A cancellation that lands on another
//! Gatehouse process finds nothing here; that call runs to its answer or its timeout.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use app::domain::access::Principal;
use rmcp::model::RequestId;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

type Key = (Uuid, RequestId);

#[derive(Clone, Default)]
pub struct InFlight {
    calls: Arc<Mutex<HashMap<Key, (u64, CancellationToken)>>>,
    serial: Arc<AtomicU64>,
}

/// Keeps a call findable until it is dropped (the call ended, however).
pub struct Registration {
    inflight: InFlight,
    key: Key,
    serial: u64,
}

/// Whose requests these are: one connected app (its connection, across refreshed tokens), or
/// one personal token. Nobody else can cancel them.
fn holder(p: &Principal) -> Uuid {
    p.grant()
        .map(|g| g.connection_id)
        .unwrap_or_else(|| p.token_id())
}

impl InFlight {
    pub fn register(&self, p: &Principal, id: RequestId, stop: CancellationToken) -> Registration {
        let serial = self.serial.fetch_add(1, Ordering::Relaxed);
        let key = (holder(p), id);
        self.lock().insert(key.clone(), (serial, stop));
        Registration {
            inflight: self.clone(),
            key,
            serial,
        }
    }

    /// Stops `p`'s call `id`, if it is running here. Whether it was.
    pub fn cancel(&self, p: &Principal, id: RequestId) -> bool {
        let found = self.lock().get(&(holder(p), id)).map(|(_, ct)| ct.clone());
        found.inspect(CancellationToken::cancel).is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, (u64, CancellationToken)>> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut calls = self.inflight.lock();
        // A client that reused the id for a later call keeps that one findable.
        if calls.get(&self.key).is_some_and(|(s, _)| *s == self.serial) {
            calls.remove(&self.key);
        }
    }
}
