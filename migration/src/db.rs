//! Connecting to SQLite or PostgreSQL and bringing the schema up to date.

use std::time::Duration;

use sea_orm_migration::MigratorTrait;
use sea_orm_migration::sea_orm::{self, ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::Migrator;

/// The WAL size, in pages, at which a committing SQLite connection checkpoints by itself (SQLite's
/// default is 1,000).
pub const SQLITE_AUTOCHECKPOINT_PAGES: u32 = 20_000;

/// Prepared statements each connection keeps (sqlx's default is 100). Batched writes make one
/// statement per batch size (the rotation writer alone up to three per size, 64 sizes), so at
/// 100 the cache keeps evicting and the database parses and plans those statements again.
pub const STATEMENT_CACHE_CAPACITY: usize = 512;

/// A PostgreSQL connection idle this long is pinged before it is handed out.
pub const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

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
            // sqlx pings a connection before handing it out: on SQLite that is a round trip to
            // the connection's worker thread per query, and a file connection can't go stale.
            .test_before_acquire(false)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    .statement_cache_capacity(STATEMENT_CACHE_CAPACITY)
                    // A statement that writes many rows in a transaction keeps a journal of its
                    // own (to undo just that statement on a constraint error); past 64 KiB
                    // SQLite spills it to a temporary file, which a batch of refresh rotations
                    // created, wrote and deleted every time. Kept in memory instead.
                    .pragma("temp_store", "memory")
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
            // Not a round trip per query to ask whether the connection still works: only one
            // idle long enough to have been dropped by the server or a proxy is pinged. A hot
            // connection broken by a restart fails its one statement (a 503) and is replaced.
            .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
            .acquire_timeout(Duration::from_secs(3))
            .connect_timeout(Duration::from_secs(3))
            .map_sqlx_postgres_opts(|o| o.statement_cache_capacity(STATEMENT_CACHE_CAPACITY));
        if let Some(port) = tcp_port(url) {
            opts.map_sqlx_postgres_pool_opts(move |pool| {
                pool.after_connect(move |_, _| {
                    Box::pin(async move {
                        crate::tcp_nodelay::set_for_peer_port(port);
                        Ok(())
                    })
                })
            });
        }
    }
    Database::connect(opts).await
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// The port of a PostgreSQL URL that connects over TCP (not through a Unix socket).
fn tcp_port(url: &str) -> Option<u16> {
    use std::str::FromStr;
    let opts = sea_orm::sqlx::postgres::PgConnectOptions::from_str(url).ok()?;
    opts.get_socket().is_none().then(|| opts.get_port())
}

/// The file behind a `sqlite://file?…` URL, if it is a file.
fn sqlite_file(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && !path.contains(":memory:")).then(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use sea_orm_migration::sea_orm::ConnectionTrait;

    /// A batch's statement journal (and any other temporary file) stays in memory: no file in
    /// the temporary directory is created and deleted per batch.
    #[tokio::test]
    async fn sqlite_keeps_temporary_files_in_memory() {
        let db = crate::test_db::sqlite().await.unwrap();
        let row = db
            .query_one_raw(super::sea_orm::Statement::from_string(
                db.get_database_backend(),
                "PRAGMA temp_store",
            ))
            .await
            .unwrap()
            .expect("a row");
        // 2 = MEMORY
        assert_eq!(row.try_get_by_index::<i32>(0).unwrap(), 2);
    }

    /// SQLite is built so that a plan never depends on bound values (`.cargo/config.toml`):
    /// otherwise every statement with `LIMIT ?` is parsed and planned again on every run.
    #[tokio::test]
    async fn sqlite_plans_do_not_depend_on_bound_values() {
        let db = crate::test_db::sqlite().await.unwrap();
        let options: Vec<String> = db
            .query_all_raw(super::sea_orm::Statement::from_string(
                db.get_database_backend(),
                "PRAGMA compile_options",
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index::<String>(0).unwrap())
            .collect();
        assert!(options.iter().any(|o| o == "ENABLE_QPSG"), "{options:?}");
    }

    /// A query on SQLite is one round trip to its connection's thread, not two: sqlx doesn't
    /// ping the connection before handing it out.
    #[tokio::test]
    async fn sqlite_hands_out_connections_without_a_ping() {
        let db = crate::test_db::sqlite().await.unwrap();
        let options = db.get_sqlite_connection_pool().options();
        assert!(!options.get_test_before_acquire());
        assert_eq!(options.get_max_connections(), 8);
    }

    /// sqlx 0.9.0 leaves Nagle's algorithm on (its statements then wait for delayed ACKs):
    /// every connection of the pool must have it off.
    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_connections_have_nagle_off() {
        let Ok(url) = std::env::var(crate::test_db::POSTGRES_ENV) else {
            eprintln!("skipped: needs {}", crate::test_db::POSTGRES_ENV);
            return;
        };
        let Some(port) = super::tcp_port(&url) else {
            eprintln!(
                "skipped: {} connects through a Unix socket",
                crate::test_db::POSTGRES_ENV
            );
            return;
        };
        let db = super::connect(&url).await.unwrap();
        // Two statements at once, so that the pool holds more than its first connection.
        let sleep = "SELECT pg_sleep(0.05)";
        let (a, b) = tokio::join!(db.execute_unprepared(sleep), db.execute_unprepared(sleep));
        a.unwrap();
        b.unwrap();
        let nodelay = crate::tcp_nodelay::nodelay_of_sockets_to(port);
        assert!(
            nodelay.len() >= 2,
            "connections to port {port}: {nodelay:?}"
        );
        assert!(
            nodelay.iter().all(|off| *off),
            "Nagle still on: {nodelay:?}"
        );
    }
}
