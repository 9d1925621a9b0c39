use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "authorization_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub code_hash: String,
    pub request_id: Option<Uuid>,
    pub client_id: Uuid,
    pub user_id: Uuid,
    pub org_id: Uuid,
    pub connection_id: Option<Uuid>,
    pub redirect_uri: String,
    pub scope: String,
    pub resource: String,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    /// The authorization request named `redirect_uri`, so the token request must repeat it.
    pub redirect_uri_required: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
