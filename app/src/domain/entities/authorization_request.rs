use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "authorization_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub resource: String,
    pub org_id: Option<Uuid>,
    pub prompt: Option<String>,
    pub user_id: Option<Uuid>,
    pub status: RequestStatus,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Where the request came from: pending requests are bounded per client address.
    pub client_ip: Option<String>,
    /// The request named its `redirect_uri` (so the token request must repeat it).
    pub redirect_uri_sent: bool,
}

/// Where an authorization request stands. Stored in `authorization_requests.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum RequestStatus {
    /// Waiting for the user to sign in and decide.
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "approved")]
    Approved,
    #[sea_orm(string_value = "denied")]
    Denied,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
