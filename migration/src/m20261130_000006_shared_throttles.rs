//! Throttle counters in the database (`throttle_windows`), so every Gatehouse process sharing
//! it counts the same attempts: one row per counter (`signin:account:…`, `register:ip:…`),
//! when its window started (Unix milliseconds) and how many attempts it holds.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("throttle_windows")
                .col(string("name").primary_key())
                .col(big_integer("started_ms"))
                .col(integer("attempts"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_throttle_windows_started_ms")
                .table("throttle_windows")
                .col("started_ms")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("throttle_windows").to_owned())
            .await
    }
}
