//! Gatehouse's own signing keys (`signing_keys`): Ed25519 keys it signs short-lived assertions
//! with (to upstream MCP servers), published at `/.well-known/jwks.json`. The private key is
//! sealed under the instance key. A key is published from its creation, signs from
//! `sign_from` (after an overlap in which verifiers' caches learn it), and stays published
//! until `retire_at` plus a margin, so every assertion it signed can still be checked.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261124_000001_initial::created_at;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("signing_keys")
                .col(string("kid").primary_key())
                .col(string("alg"))
                .col(text("private_sealed"))
                .col(text("public_jwk"))
                .col(created_at())
                .col(timestamp_with_time_zone("sign_from"))
                .col(timestamp_with_time_zone_null("retire_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("signing_keys").to_owned())
            .await
    }
}
