use sea_orm::entity::prelude::*;

use crate::model::Role;

/// A tool an upstream listed, and who may call it through Gatehouse.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mcp_upstream_tools")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub upstream_id: Uuid,
    /// The tool's name at the upstream (clients see `{upstream}__{name}`).
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// JSON Schema of the arguments, as listed.
    pub input_schema: String,
    pub output_schema: Option<String>,
    /// MCP tool annotations (`readOnlyHint`, `destructiveHint`, …), as listed.
    pub annotations: Option<String>,
    /// The least role that may see and call it.
    pub min_role: Role,
    /// The scope a credential needs for it (`mcp:read` or `mcp:write`).
    pub scope: String,
    /// An admin set `min_role` and `scope` (else they follow the annotations).
    pub policy_set: bool,
    /// The last listing had it (a tool that went away keeps its policy, hidden).
    pub present: bool,
    pub seen_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
