//! Transactions that write.
//!
//! SQLite starts a plain `BEGIN` as a reader and upgrades it at the first write. In WAL mode
//! that upgrade fails at once with SQLITE_BUSY_SNAPSHOT ("database is locked", code 517)
//! when another connection committed in between, and the busy timeout does not help: the
//! request would fail under ordinary concurrency. `BEGIN IMMEDIATE` takes the write lock up
//! front, so writers queue behind the busy timeout instead. PostgreSQL ignores the option.
//! Clippy's `disallowed-methods` (clippy.toml) keeps plain `begin()` out of the code.

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

pub trait BeginWrite {
    /// Starts a transaction that will write (on SQLite, holding the write lock from the start).
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<DatabaseTransaction, DbErr>> + Send;
}

impl BeginWrite for DatabaseConnection {
    async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        self.begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await
    }
}
