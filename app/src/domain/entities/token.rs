use sea_orm::entity::prelude::*;

/// An access token, refresh token or standard PAT. Only the SHA-256 of the secret is stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: TokenKind,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub prefix: String,
    pub last_four: String,
    pub name: Option<String>,
    pub user_id: Uuid,
    pub org_id: Uuid,
    pub client_id: Option<Uuid>,
    pub connection_id: Option<Uuid>,
    pub family_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub scope: String,
    pub resource: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
    pub rotated_at: Option<DateTimeUtc>,
    pub disabled_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoke_reason: Option<String>,
    pub grace_response: Option<String>,
}

/// What a token row is. Stored in `tokens.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum TokenKind {
    /// An MCP OAuth access token (`gate_at_`).
    #[sea_orm(string_value = "access")]
    Access,
    /// An MCP OAuth refresh token (`gate_rt_`).
    #[sea_orm(string_value = "refresh")]
    Refresh,
    /// A standard personal access token (`gate_pat_`).
    #[sea_orm(string_value = "pat")]
    Pat,
}

impl Model {
    /// The token's state at `now`: revoked wins over disabled, disabled over expired.
    pub fn status(&self, now: DateTimeUtc) -> crate::model::TokenStatus {
        use crate::model::TokenStatus;
        if self.revoked_at.is_some() {
            TokenStatus::Revoked
        } else if self.disabled_at.is_some() {
            TokenStatus::Disabled
        } else if self.expires_at.is_some_and(|e| e <= now) {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        }
    }

    /// `gate_pat_…abcd`: enough to tell tokens apart, never enough to use one.
    pub fn hint(&self) -> String {
        format!("{}…{}", self.prefix, self.last_four)
    }
}

impl TokenKind {
    /// The stored value, for audit details.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
            TokenKind::Pat => "pat",
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
