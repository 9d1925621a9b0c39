use sea_orm::entity::prelude::*;

/// An MCP OAuth PAT: one user's authorization of one client in one org.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "connections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub org_id: Uuid,
    pub client_id: Uuid,
    pub scope: String,
    pub resource: String,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub disabled_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoked_by: Option<Uuid>,
    pub revoke_reason: Option<String>,
    /// Granted by the org's identity provider (an identity assertion), not on the consent
    /// screen.
    pub via_assertion: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The connection's state, from its row: revoked wins over disabled.
    pub fn status(&self) -> crate::model::ConnectionStatus {
        use crate::model::ConnectionStatus;
        if self.revoked_at.is_some() {
            ConnectionStatus::Revoked
        } else if self.disabled_at.is_some() {
            ConnectionStatus::Disabled
        } else {
            ConnectionStatus::Active
        }
    }
}
