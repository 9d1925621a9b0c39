//! SQLite's WAL checkpoints, off the writers' path.
//!
//! By default the connection whose commit pushes the WAL past 1,000 pages copies the WAL back
//! into the database file, with two fsyncs, before its commit returns: under a stream of
//! refresh rotations that was half of a batch's COMMIT time in `gatehouse bench`. Here a task
//! checkpoints every [`EVERY`] instead (`PASSIVE`: it never waits for readers or writers), and
//! the connections' own automatic checkpoint only starts at a much larger WAL
//! (`migration::db::SQLITE_AUTOCHECKPOINT_PAGES`), should this task fall behind. SQLite starts
//! the WAL file over by itself once a checkpoint has copied all of it, so it stays small.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

/// How often the task checkpoints.
pub const EVERY: Duration = Duration::from_millis(100);

/// Starts the checkpoint task on the current runtime, for a SQLite database.
pub fn spawn(db: &DatabaseConnection) {
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let db = db.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(e) = db
                .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
                .await
            {
                tracing::debug!(error = %e, "WAL checkpoint skipped");
            }
        }
    });
}
