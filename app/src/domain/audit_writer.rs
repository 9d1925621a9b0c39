//! The audit rows of calls made all day (each gateway call), written by one task per process
//! that commits the rows waiting together: a call doesn't wait for a transaction of its own
//! (on PostgreSQL, a WAL flush), and concurrent calls share one insert. A call's row is queued
//! before its answer leaves; a stopping process writes what is queued ([`AuditWriter::drain`]).
//! Rows of trust decisions (grants, revocations, policy) are never queued here: they commit
//! with the change they record.

use sea_orm::{DatabaseConnection, EntityTrait};
use tokio::sync::{mpsc, oneshot};

use crate::domain::entities::audit_event;

/// At most this many rows per insert.
const MAX_BATCH: usize = 256;

// Nearly every job is a row: boxing it would only add an allocation per call.
#[allow(clippy::large_enum_variant)]
enum Job {
    Row(audit_event::ActiveModel),
    /// Answered once everything queued before it is written.
    Drain(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct AuditWriter {
    jobs: mpsc::Sender<Job>,
}

impl AuditWriter {
    /// Starts the writer task on the current tokio runtime.
    pub fn spawn(db: DatabaseConnection) -> Self {
        let (jobs, rx) = mpsc::channel(8192);
        tokio::spawn(run(db, rx));
        Self { jobs }
    }

    /// Queues `row` (waiting only while the queue is full), or gives it back if the writer has
    /// stopped.
    pub async fn queue(
        &self,
        row: audit_event::ActiveModel,
    ) -> Result<(), audit_event::ActiveModel> {
        match self.jobs.send(Job::Row(row)).await {
            Ok(()) => Ok(()),
            Err(mpsc::error::SendError(Job::Row(row))) => Err(row),
            Err(mpsc::error::SendError(Job::Drain(_))) => Ok(()),
        }
    }

    /// Waits until every row queued so far is written.
    pub async fn drain(&self) {
        let (done, drained) = oneshot::channel();
        if self.jobs.send(Job::Drain(done)).await.is_ok() {
            let _ = drained.await;
        }
    }
}

async fn run(db: DatabaseConnection, mut rx: mpsc::Receiver<Job>) {
    let mut rows = Vec::with_capacity(MAX_BATCH);
    let mut drains = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Row(row) => rows.push(row),
                Job::Drain(done) => drains.push(done),
            }
            if rows.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        write(&db, std::mem::take(&mut rows)).await;
        for done in drains.drain(..) {
            let _ = done.send(());
        }
    }
}

/// One insert for the batch; if it fails (say one row is refused), row by row, so one bad
/// row is the only one lost, and said so in the log.
async fn write(db: &DatabaseConnection, rows: Vec<audit_event::ActiveModel>) {
    if rows.is_empty() {
        return;
    }
    // Nothing is read back: no RETURNING clause for the database to fill.
    if audit_event::Entity::insert_many(rows.clone())
        .exec_without_returning(db)
        .await
        .is_ok()
    {
        return;
    }
    for row in rows {
        if let Err(e) = audit_event::Entity::insert(row).exec(db).await {
            tracing::error!(error = %e, "an audit row could not be written");
        }
    }
}
