//! Enterprise-managed authorization (ID-JAG, the MCP extension on RFC 7523):
//! - `sso_connections.assertion_*`: whether the org's identity provider may grant MCP access
//!   with identity assertions (off until an admin turns it on), which clients may present
//!   them (a JSON list of client IDs; empty: any), the longest access-token lifetime for
//!   them, whether a refresh token comes with them, and whether a person the provider vouches
//!   for who isn't a member yet becomes one (with the connection's first-time role);
//! - `assertion_replays`: each assertion is good once: its issuer and `jti` (SHA-256 of both)
//!   until it expires, so any process sharing the database refuses a second use;
//! - `connections.via_assertion`: the connection was granted by the org's identity provider,
//!   not on the consent screen (shown to the person and to admins).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261129_000003_trust_core::{add, drop_col};

#[derive(DeriveMigrationName)]
pub struct Migration;

const CONNECTION_COLUMNS: [&str; 5] = [
    "assertion_grants",
    "assertion_clients",
    "assertion_access_ttl_secs",
    "assertion_refresh",
    "assertion_create_members",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let t = "sso_connections";
        add(m, t, boolean("assertion_grants").default(false)).await?;
        add(m, t, text("assertion_clients").default("[]")).await?;
        add(m, t, integer("assertion_access_ttl_secs").default(3600)).await?;
        add(m, t, boolean("assertion_refresh").default(false)).await?;
        add(m, t, boolean("assertion_create_members").default(false)).await?;
        add(m, "connections", boolean("via_assertion").default(false)).await?;
        m.create_table(
            Table::create()
                .table("assertion_replays")
                .col(string("key_hash").primary_key())
                .col(timestamp_with_time_zone("expires_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_assertion_replays_expires_at")
                .table("assertion_replays")
                .col("expires_at")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("assertion_replays").to_owned())
            .await?;
        drop_col(m, "connections", "via_assertion").await?;
        for col in CONNECTION_COLUMNS {
            drop_col(m, "sso_connections", col).await?;
        }
        Ok(())
    }
}
