//! Fewer index entries per refresh rotation. Every rotation inserts an access and a refresh
//! token row, and each secondary index of `tokens` is one more B-tree insert in the writer's
//! transaction, which bounds refresh grants per second (README, "Benchmark"):
//! - `family_id` goes: a refresh family never leaves its connection, and reuse revokes the
//!   whole connection (found through the connection index, below).
//! - `(org_id, kind, created_at)` only serves the lists of standard PATs (the org's OAuth tokens
//!   are listed through their connections) and the tokens not tied to a connection: it becomes a
//!   partial index over those rows alone, so the rows every rotation writes skip it. Its
//!   predicate has no parameter, so a query that says `connection_id IS NULL` can use it on
//!   both databases whatever values it binds.
//! - `connection_id` becomes partial the other way (`IS NOT NULL`): PATs leave it, and no
//!   planner, whatever its statistics, can look up `connection_id IS NULL` there (every unbound
//!   token of every org) instead of using the index above. `connection_id = ?` and `IN (…)`
//!   imply the predicate on both databases, so revocations by connection (and the cascade)
//!   still find their rows.

use sea_orm_migration::prelude::*;

use crate::m20261124_000001_initial::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The index of tokens not tied to a connection, by org; the query plan tests look for it.
pub const UNBOUND_TOKENS_INDEX: &str = "ix_tokens_unbound_org_id_kind_created_at";

/// The index of tokens tied to a connection, by connection. A new name: on SQLite another pool
/// connection may still hold the schema from before the drop of the old index when it prepares
/// the CREATE, and would refuse the old name as taken.
pub const BOUND_TOKENS_INDEX: &str = "ix_tokens_bound_connection_id";

fn drop(name: &str) -> IndexDropStatement {
    Index::drop().name(name).table("tokens").to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "ix_tokens_family_id",
            "ix_tokens_org_id_kind_created_at",
            "ix_tokens_connection_id",
        ] {
            m.drop_index(drop(name)).await?;
        }
        m.create_index(
            Index::create()
                .name(BOUND_TOKENS_INDEX)
                .table("tokens")
                .col("connection_id")
                .and_where(Expr::col("connection_id").is_not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(UNBOUND_TOKENS_INDEX)
                .table("tokens")
                .col("org_id")
                .col("kind")
                .col("created_at")
                .and_where(Expr::col("connection_id").is_null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in [UNBOUND_TOKENS_INDEX, BOUND_TOKENS_INDEX] {
            m.drop_index(drop(name)).await?;
        }
        m.create_index(index("tokens", &["connection_id"], false))
            .await?;
        m.create_index(index("tokens", &["org_id", "kind", "created_at"], false))
            .await?;
        m.create_index(index("tokens", &["family_id"], false)).await
    }
}
