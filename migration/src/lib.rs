//! Database migrations. One schema for SQLite (embedded default) and PostgreSQL (production);
//! everything goes through sea-query so both get the same tables, keys and indexes.

pub use sea_orm_migration::prelude::*;

pub mod db;
mod m20261124_000001_initial;
mod m20261124_000002_refresh_grace;
mod m20261129_000003_trust_core;
mod m20261130_000004_accounts;
mod m20261130_000005_metadata_clients;
mod m20261130_000006_shared_throttles;
mod m20261130_000007_sso;
mod m20261130_000008_enterprise_grants;
mod m20261130_000009_signing_keys;
mod m20261130_000010_gateway;
mod m20261130_000011_lean_token_indexes;
pub use m20261130_000011_lean_token_indexes::{BOUND_TOKENS_INDEX, UNBOUND_TOKENS_INDEX};
mod tcp_nodelay;
pub mod test_db;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_initial::Migration),
            Box::new(m20261124_000002_refresh_grace::Migration),
            Box::new(m20261129_000003_trust_core::Migration),
            Box::new(m20261130_000004_accounts::Migration),
            Box::new(m20261130_000005_metadata_clients::Migration),
            Box::new(m20261130_000006_shared_throttles::Migration),
            Box::new(m20261130_000007_sso::Migration),
            Box::new(m20261130_000008_enterprise_grants::Migration),
            Box::new(m20261130_000009_signing_keys::Migration),
            Box::new(m20261130_000010_gateway::Migration),
            Box::new(m20261130_000011_lean_token_indexes::Migration),
        ]
    }
}
