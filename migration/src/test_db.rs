//! Fresh, migrated databases for tests: a SQLite file per test, and a PostgreSQL database per
//! test when `GATEHOUSE_TEST_POSTGRES_URL` names a server (e.g. postgres://postgres@127.0.0.1/test).

use std::sync::atomic::{AtomicU32, Ordering};

use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};

pub const POSTGRES_ENV: &str = "GATEHOUSE_TEST_POSTGRES_URL";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// `gh_test_<pid>_<start>_<n>`: the pid lets a later run sweep what an ended run left behind; the
/// process start time keeps names apart when a fresh container hands out the same pid again
/// over a /tmp (or a PostgreSQL server) that outlived the last run.
fn unique_name() -> String {
    static STARTED: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    let started = STARTED.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    });
    format!(
        "gh_test_{}_{:x}_{}",
        std::process::id(),
        started,
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// A migrated SQLite database in a temporary file, with the same pool settings as production.
pub async fn sqlite() -> Result<DatabaseConnection, DbErr> {
    let dir = std::env::temp_dir().join("gatehouse-tests");
    std::fs::create_dir_all(&dir).map_err(|e| DbErr::Custom(e.to_string()))?;
    let path = dir.join(format!("{}.db", unique_name()));
    // A file left by an earlier run under the same name would carry its rows into this test.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let db = crate::db::connect(&format!("sqlite://{}?mode=rwc", path.display())).await?;
    crate::db::migrate(&db).await?;
    Ok(db)
}

/// A migrated PostgreSQL database of its own, or `None` (with the reason printed) when no
/// server is configured.
pub async fn postgres() -> Result<Option<DatabaseConnection>, DbErr> {
    let Ok(base) = std::env::var(POSTGRES_ENV) else {
        eprintln!(
            "skipped: PostgreSQL variant needs {POSTGRES_ENV} (e.g. postgres://postgres@127.0.0.1:5432/test)"
        );
        return Ok(None);
    };
    let admin = crate::db::connect(&base).await?;
    sweep_stale(&admin).await?;
    let name = unique_name();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    let (prefix, _) = base
        .rsplit_once('/')
        .ok_or_else(|| DbErr::Custom(format!("{POSTGRES_ENV} must end with /database")))?;
    let db = crate::db::connect(&format!("{prefix}/{name}")).await?;
    crate::db::migrate(&db).await?;
    Ok(Some(db))
}

/// Drops test databases left by test processes that have ended. Databases of processes still
/// running (this one, or another test binary running at the same time) are kept.
async fn sweep_stale(admin: &DatabaseConnection) -> Result<(), DbErr> {
    static SWEPT: std::sync::Once = std::sync::Once::new();
    let mut first = false;
    SWEPT.call_once(|| first = true);
    if !first {
        return Ok(());
    }
    let rows = admin
        .query_all_raw(Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'gh\\_test\\_%'",
        ))
        .await?;
    for row in rows {
        let name: String = row.try_get("", "datname")?;
        if !owner_alive(&name) {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
    Ok(())
}

/// Whether the process that made `gh_test_<pid>_…` still runs. Where that can't be told
/// (no /proc), the database is kept: a leftover costs disk, a wrong drop fails a test.
fn owner_alive(name: &str) -> bool {
    let pid = name
        .strip_prefix("gh_test_")
        .and_then(|rest| rest.split('_').next())
        .and_then(|pid| pid.parse::<u32>().ok());
    match pid {
        Some(pid) if std::path::Path::new("/proc/self").exists() => {
            std::path::Path::new(&format!("/proc/{pid}")).exists()
        }
        _ => true,
    }
}

/// Runs each named `async fn(DatabaseConnection)` twice: on a fresh SQLite file, and on a fresh
/// PostgreSQL database when `GATEHOUSE_TEST_POSTGRES_URL` names a server (skipped with the
/// reason printed otherwise). For the test crates of every package.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let db = $crate::test_db::sqlite().await.expect("sqlite test database");
                super::$name(db).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(db) = $crate::test_db::postgres().await.expect("postgres test database") {
                    super::$name(db).await;
                }
            })*
        }
    };
}
