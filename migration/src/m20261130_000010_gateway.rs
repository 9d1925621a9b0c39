//! The gateway: MCP servers an organization already has, served behind Gatehouse.
//! - `mcp_upstreams`: per org, a name (the prefix of its tools), its Streamable HTTP URL, an
//!   optional secret header Gatehouse sends it (the value sealed under the instance key), a
//!   timeout, whether it is on, and how its last tool listing went;
//! - `mcp_upstream_tools`: what its last listing said of each tool (description, schemas,
//!   annotations), and the least role and scope a caller needs, defaulted from the
//!   annotations until an admin sets them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261124_000001_initial::{created_at, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

use ForeignKeyAction::Cascade;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("mcp_upstreams")
                .col(pk_uuid("id"))
                .col(uuid("org_id"))
                .col(string("name"))
                .col(text("url"))
                .col(string_null("auth_header_name"))
                .col(text_null("auth_header_sealed"))
                .col(integer("timeout_ms"))
                .col(boolean("enabled").default(true))
                .col(created_at())
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone_null("tools_refreshed_at"))
                .col(text_null("last_error"))
                .foreign_key(&mut fk("mcp_upstreams", "org_id", "organizations", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("mcp_upstreams", &["org_id", "name"], true))
            .await?;
        m.create_table(
            Table::create()
                .table("mcp_upstream_tools")
                .col(pk_uuid("id"))
                .col(uuid("upstream_id"))
                .col(string("name"))
                .col(text_null("title"))
                .col(text_null("description"))
                .col(text("input_schema"))
                .col(text_null("output_schema"))
                .col(text_null("annotations"))
                .col(string("min_role"))
                .col(string("scope"))
                .col(boolean("policy_set").default(false))
                .col(boolean("present").default(true))
                .col(timestamp_with_time_zone("seen_at"))
                .foreign_key(&mut fk(
                    "mcp_upstream_tools",
                    "upstream_id",
                    "mcp_upstreams",
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("mcp_upstream_tools", &["upstream_id", "name"], true))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["mcp_upstream_tools", "mcp_upstreams"] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
