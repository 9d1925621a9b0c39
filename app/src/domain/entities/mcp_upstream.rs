use sea_orm::entity::prelude::*;

/// An MCP server of an organization's own, served behind Gatehouse under the prefix `name`.
/// The secret header's value is sealed under the instance key.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mcp_upstreams")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    /// Its Streamable HTTP endpoint.
    pub url: String,
    pub auth_header_name: Option<String>,
    pub auth_header_sealed: Option<String>,
    pub timeout_ms: i32,
    pub enabled: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When its tools were last listed successfully.
    pub tools_refreshed_at: Option<DateTimeUtc>,
    /// Why the last listing failed (cleared by a successful one).
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
