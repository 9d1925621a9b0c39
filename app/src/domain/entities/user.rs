use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub email: String,
    pub name: Option<String>,
    pub password_hash: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_login_at: Option<DateTimeUtc>,
    pub disabled_at: Option<DateTimeUtc>,
    /// Every session signed in before this moment is over (password changed, account
    /// disabled).
    pub sessions_ended_at: Option<DateTimeUtc>,
    /// When the account proved it reads mail sent to `email` (a link from that mailbox).
    pub email_verified_at: Option<DateTimeUtc>,
    /// When two-factor sign-in (TOTP) was turned on; `None` while it is off.
    pub two_factor_enabled_at: Option<DateTimeUtc>,
}

impl Model {
    pub fn email_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    pub fn two_factor(&self) -> bool {
        self.two_factor_enabled_at.is_some()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::membership::Entity")]
    Membership,
}

impl Related<super::membership::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Membership.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
