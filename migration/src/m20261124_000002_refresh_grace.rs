//! Refresh-token grace replay: for a few seconds after a rotation, the old refresh token's row
//! keeps the new token pair, encrypted with a key derived from the old token itself, so a
//! client retrying a refresh it lost the answer to gets the same pair instead of a revocation.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("tokens")
                .add_column(text_null("grace_response"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("tokens")
                .drop_column("grace_response")
                .to_owned(),
        )
        .await
    }
}
