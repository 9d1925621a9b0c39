use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub org_id: Uuid,
    pub client_id: Uuid,
    pub scope: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The redirect URI the consent was given for: another one asks again.
    pub redirect_uri: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
