//! Clients identified by a metadata document (an https URL as `client_id`):
//! - `oauth_clients.metadata_fetched_at` / `metadata_expires_at`: when the document was last
//!   fetched, and until when that copy may be used (from its HTTP caching headers);
//! - `organizations.metadata_clients_enabled`, `allowed_client_domains`,
//!   `blocked_client_domains`: whether such clients may connect to the org, and from which
//!   domains (JSON lists of host names; an empty allow list allows any).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261129_000003_trust_core::{add, drop_col};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add(
            m,
            "oauth_clients",
            timestamp_with_time_zone_null("metadata_fetched_at"),
        )
        .await?;
        add(
            m,
            "oauth_clients",
            timestamp_with_time_zone_null("metadata_expires_at"),
        )
        .await?;
        add(
            m,
            "organizations",
            boolean("metadata_clients_enabled").default(true),
        )
        .await?;
        add(
            m,
            "organizations",
            text("allowed_client_domains").default("[]"),
        )
        .await?;
        add(
            m,
            "organizations",
            text("blocked_client_domains").default("[]"),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_col(m, "organizations", "blocked_client_domains").await?;
        drop_col(m, "organizations", "allowed_client_domains").await?;
        drop_col(m, "organizations", "metadata_clients_enabled").await?;
        drop_col(m, "oauth_clients", "metadata_expires_at").await?;
        drop_col(m, "oauth_clients", "metadata_fetched_at").await
    }
}
