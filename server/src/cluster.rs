//! Makes the Gatehouse processes on one PostgreSQL database behave as one: every cache
//! invalidation this process publishes is carried to the others with `NOTIFY`, and theirs
//! arrive here through a `LISTEN` connection (sqlx's `PgListener`).
//!
//! Both directions run on their own tasks, so no request waits for them: the domain publishes
//! after its commit (`Invalidations::publish`), this bridge batches what is waiting into one
//! `pg_notify` and sends it. A notification is delivered only once its transaction commits,
//! which it does after the change it announces, so a receiving process never drops its cache
//! before the change is visible to its next read.
//!
//! Notifications are not stored: whatever is sent while the listener is disconnected is lost.
//! So each (re)connection, and every retry while disconnected, drops every cache entry of this
//! process; entries also expire after `access::cache::TTL` whatever happens.

use std::sync::Arc;
use std::time::Duration;

use app::domain::access::{AuthCaches, Invalidation, Invalidations};
use sea_orm::sqlx::postgres::{PgListener, PgPool};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use uuid::Uuid;

/// The notification channel every Gatehouse process of a database listens on.
pub const CHANNEL: &str = "gatehouse_invalidations";
/// Token hashes per notification: PostgreSQL takes payloads below 8000 bytes, a hash is 64.
const MAX_TOKENS: usize = 100;
/// The longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// One notification: whose it is, and what it makes stale.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Message {
    node: Uuid,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    all: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tokens: Vec<String>,
}

impl Message {
    fn new(node: Uuid) -> Self {
        Self {
            node,
            all: false,
            tokens: Vec::new(),
        }
    }

    fn add(&mut self, change: Invalidation) {
        match change {
            Invalidation::All => {
                self.all = true;
                // Everything goes anyway.
                self.tokens.clear();
            }
            Invalidation::Token(hash) if !self.all => self.tokens.push(hash),
            Invalidation::Token(_) => {}
        }
    }

    fn full(&self) -> bool {
        self.all || self.tokens.len() >= MAX_TOKENS
    }

    fn changes(self) -> Vec<Invalidation> {
        if self.all {
            vec![Invalidation::All]
        } else {
            self.tokens.into_iter().map(Invalidation::Token).collect()
        }
    }
}

/// Starts carrying invalidations between this process and the others on `db` (a PostgreSQL
/// connection). The listener holds one connection of the pool for as long as it runs.
pub fn spawn(db: DatabaseConnection, caches: Arc<AuthCaches>) {
    let node = Uuid::new_v4();
    let pool = db.get_postgres_connection_pool().clone();
    tokio::spawn(send(db, node, caches.clone()));
    tokio::spawn(listen(pool, node, caches));
    tracing::info!(%node, channel = CHANNEL, "sharing cache invalidations through PostgreSQL");
}

/// Sends this process's invalidations, batched: what queued while a notification was in flight
/// goes in the next one.
async fn send(db: DatabaseConnection, node: Uuid, caches: Arc<AuthCaches>) {
    let mut published = caches.subscribe();
    loop {
        let mut message = Message::new(node);
        match published.recv().await {
            Ok(change) => message.add(change),
            // More changes than the channel holds: the others must drop everything.
            Err(RecvError::Lagged(_)) => message.add(Invalidation::All),
            Err(RecvError::Closed) => return,
        }
        while !message.full() {
            match published.try_recv() {
                Ok(change) => message.add(change),
                Err(TryRecvError::Lagged(_)) => message.add(Invalidation::All),
                Err(_) => break,
            }
        }
        notify(&db, &message).await;
    }
}

/// Sends one notification, retrying briefly: a notification that can't be sent leaves the
/// others' caches stale until their entries expire.
async fn notify(db: &DatabaseConnection, message: &Message) {
    let payload = serde_json::to_string(message).expect("a message serializes");
    let mut wait = Duration::from_millis(50);
    for attempt in 1..=5 {
        let sent = db
            .execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), payload.clone().into()],
            ))
            .await;
        match sent {
            Ok(_) => {
                metrics::counter!("gatehouse_invalidations_sent_total").increment(1);
                return;
            }
            Err(e) if attempt == 5 => {
                metrics::counter!("gatehouse_invalidations_unsent_total").increment(1);
                tracing::error!(error = %e, "could not tell the other processes about a change; their caches expire within seconds");
            }
            Err(e) => {
                tracing::warn!(error = %e, attempt, "sending an invalidation failed; retrying")
            }
        }
        tokio::time::sleep(wait).await;
        wait *= 2;
    }
}

/// Applies the other processes' invalidations, reconnecting by itself.
async fn listen(pool: PgPool, node: Uuid, caches: Arc<AuthCaches>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match subscribe(&pool).await {
            Ok(mut listener) => {
                backoff = Duration::from_millis(100);
                // Changes made before LISTEN took effect were never announced to us.
                caches.apply(&Invalidation::All);
                tracing::info!("listening for other processes' invalidations");
                loop {
                    match listener.try_recv().await {
                        Ok(Some(notification)) => receive(node, &caches, notification.payload()),
                        Ok(None) => {
                            // sqlx has already reconnected and listens again; what was sent
                            // meanwhile is lost.
                            tracing::warn!(
                                "invalidation listener reconnected; dropping every cache entry"
                            );
                            caches.apply(&Invalidation::All);
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "invalidation listener lost its connection");
                            break;
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "invalidation listener can't connect; retrying"),
        }
        metrics::counter!("gatehouse_invalidation_listener_reconnects_total").increment(1);
        // Until it listens again, nothing cached here may be trusted for long.
        caches.apply(&Invalidation::All);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn subscribe(pool: &PgPool) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

fn receive(node: Uuid, caches: &AuthCaches, payload: &str) {
    match serde_json::from_str::<Message>(payload) {
        Ok(message) if message.node == node => {}
        Ok(message) => {
            metrics::counter!("gatehouse_invalidations_received_total").increment(1);
            for change in message.changes() {
                caches.apply(&change);
            }
        }
        Err(e) => {
            // Someone else on this channel, or a newer Gatehouse: be safe.
            tracing::warn!(error = %e, "unreadable invalidation; dropping every cache entry");
            caches.apply(&Invalidation::All);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_carries_tokens_until_everything_goes() {
        let node = Uuid::new_v4();
        let mut m = Message::new(node);
        m.add(Invalidation::Token("a".into()));
        m.add(Invalidation::Token("b".into()));
        let json = serde_json::to_string(&m).unwrap();
        let back: Message = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.changes(),
            vec![
                Invalidation::Token("a".into()),
                Invalidation::Token("b".into())
            ]
        );
        m.add(Invalidation::All);
        m.add(Invalidation::Token("c".into()));
        assert!(m.full());
        assert_eq!(m.changes(), vec![Invalidation::All]);
    }

    #[test]
    fn a_notification_stays_under_postgres_payload_limit() {
        let mut m = Message::new(Uuid::new_v4());
        while !m.full() {
            m.add(Invalidation::Token("f".repeat(64)));
        }
        assert!(serde_json::to_string(&m).unwrap().len() < 8000);
    }

    #[test]
    fn own_and_unreadable_messages() {
        let caches = AuthCaches::default();
        let node = Uuid::new_v4();
        let g = caches.generation();
        let own = serde_json::to_string(&Message {
            node,
            all: true,
            tokens: vec![],
        })
        .unwrap();
        receive(node, &caches, &own);
        assert_eq!(caches.generation(), g, "a process ignores its own changes");
        receive(node, &caches, "not json");
        assert!(
            caches.generation() > g,
            "an unreadable message drops everything"
        );
        let g = caches.generation();
        let theirs = own.replace(&node.to_string(), &Uuid::new_v4().to_string());
        receive(node, &caches, &theirs);
        assert!(caches.generation() > g);
    }
}
