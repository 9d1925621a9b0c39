//! The SQLite writer's own connection, outside any pool, and a batch in two trips to it.
//!
//! sqlx runs every SQLite statement on the connection's own thread: each one is handed over
//! and its answer handed back, and on two busy cores each hand-off waits to be scheduled (a
//! `BEGIN IMMEDIATE` that did no work took 1.2 ms of a batch). Through sea-orm's pool a batch
//! made six of them (BEGIN, the claim, two inserts, COMMIT, and the pool's check of the
//! connection when it comes back, which the next batch waited for). Here the BEGIN goes with
//! the claim and the inserts with the COMMIT, one multi-statement query each (sqlx binds the
//! `?` parameters across a query's statements in order), and the connection stays the writer's.
//! sea-orm has no way to run a query on a connection outside its pool, so this speaks sqlx
//! directly, with the statements sea-orm builds.

use sea_orm::sea_query::Values;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sea_orm::sqlx::{self, ConnectOptions, Connection, Row};
use sea_orm::{DbErr, RuntimeErr, Statement};
use sea_query_sqlx::SqlxValues;
use uuid::Uuid;

pub(super) struct OwnConnection {
    options: SqliteConnectOptions,
    /// Opened for the first batch, and again after a batch that failed.
    conn: Option<SqliteConnection>,
}

impl OwnConnection {
    /// A connection like the shared pool's (the same file, pragmas and statement cache).
    pub(super) fn new(options: SqliteConnectOptions) -> Self {
        Self {
            options,
            conn: None,
        }
    }

    /// Begins a write transaction and runs `claim` in it: the ids it returns.
    pub(super) async fn begin_and_claim(&mut self, claim: Statement) -> Result<Vec<Uuid>, DbErr> {
        let conn = self.open().await?;
        let values = claim.values.unwrap_or(Values(Vec::new()));
        let rows = query(format!("BEGIN IMMEDIATE; {}", claim.sql), values)
            .fetch_all(&mut *conn)
            .await;
        let ids = rows.and_then(|rows| {
            rows.iter()
                .map(|row| row.try_get::<Uuid, _>(0))
                .collect::<Result<Vec<_>, _>>()
        });
        match ids {
            Ok(ids) => Ok(ids),
            Err(e) => Err(self.abandon(e).await),
        }
    }

    /// Runs `inserts` in the transaction [`Self::begin_and_claim`] began, and commits it.
    pub(super) async fn insert_and_commit(&mut self, inserts: Vec<Statement>) -> Result<(), DbErr> {
        let conn = self.open().await?;
        let mut sql = String::new();
        let mut values = Vec::new();
        for statement in inserts {
            sql.push_str(&statement.sql);
            sql.push_str("; ");
            values.extend(statement.values.map(|v| v.0).unwrap_or_default());
        }
        sql.push_str("COMMIT");
        let done = query(sql, Values(values)).execute(&mut *conn).await;
        match done {
            Ok(_) => Ok(()),
            Err(e) => Err(self.abandon(e).await),
        }
    }

    async fn open(&mut self) -> Result<&mut SqliteConnection, DbErr> {
        if self.conn.is_none() {
            let conn = self
                .options
                .connect()
                .await
                .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e.into())))?;
            self.conn = Some(conn);
        }
        Ok(self.conn.as_mut().expect("opened above"))
    }

    /// A statement failed inside the transaction: closing the connection rolls back whatever
    /// the transaction did, whichever of its statements failed, before anyone retries the
    /// batch's jobs. The next batch opens a new connection.
    async fn abandon(&mut self, e: sqlx::Error) -> DbErr {
        if let Some(conn) = self.conn.take()
            && let Err(close) = conn.close().await
        {
            tracing::warn!(error = %close, "closing the rotation writer's connection failed");
        }
        DbErr::Query(RuntimeErr::SqlxError(e.into()))
    }
}

/// One query of several statements; sqlx binds `values` to their `?` parameters in order.
fn query(sql: String, values: Values) -> sqlx::query::Query<'static, sqlx::Sqlite, SqlxValues> {
    sqlx::query_with(sqlx::AssertSqlSafe(sql), SqlxValues(values))
}
