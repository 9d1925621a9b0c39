use sea_orm::entity::prelude::*;

/// A single-use link sent by mail. Only the SHA-256 of its secret is stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_links")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub purpose: LinkPurpose,
    /// The address the link was sent to (for a change of email, the new one).
    pub email: String,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

/// What following a link does. Stored in `email_links.purpose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum LinkPurpose {
    /// Proves the account's address (sent at sign-up, or when asked again).
    #[sea_orm(string_value = "verify")]
    Verify,
    /// Proves a new address and makes it the account's.
    #[sea_orm(string_value = "change_email")]
    ChangeEmail,
    /// Lets the mailbox's reader set a new password.
    #[sea_orm(string_value = "reset_password")]
    ResetPassword,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
