//! Connecting to SQLite or PostgreSQL and bringing the schema up to date.

use std::time::Duration;

use sea_orm_migration::MigratorTrait;
use sea_orm_migration::sea_orm::{self, ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::Migrator;

/// The WAL size, in pages, at which a committing SQLite connection checkpoints by itself (SQLite's
/// default is 1,000).
pub const SQLITE_AUTOCHECKPOINT_PAGES: u32 = 20_000;

pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_file(url)
        && let Some(dir) = std::path::Path::new(&path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbErr::Custom(format!("can't create {}: {e}", dir.display())))?;
    }
    let mut opts = ConnectOptions::new(url);
    opts.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        // WAL lets readers proceed during a write; the busy timeout queues writers instead of failing.
        opts.max_connections(if url.contains(":memory:") { 1 } else { 8 })
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    // A server checkpoints from a task of its own (app's `wal_checkpoints`);
                    // this is the backstop should that task fall behind.
                    .pragma(
                        "wal_autocheckpoint",
                        SQLITE_AUTOCHECKPOINT_PAGES.to_string(),
                    )
            });
    } else {
        // A request waits at most 3 s for a connection: while PostgreSQL is down or
        // restarting, callers get a quick "try again" (503) instead of a hang, and the pool
        // reconnects by itself once it is back.
        opts.max_connections(16)
            .acquire_timeout(Duration::from_secs(3))
            .connect_timeout(Duration::from_secs(3));
    }
    Database::connect(opts).await
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// The file behind a `sqlite://file?…` URL, if it is a file.
fn sqlite_file(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && !path.contains(":memory:")).then(|| path.to_string())
}
