use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub client_id: String,
    pub kind: crate::model::ClientKind,
    pub name: String,
    pub description: Option<String>,
    pub owner_user_id: Option<Uuid>,
    pub org_id: Option<Uuid>,
    pub redirect_uris: String,
    pub grant_types: String,
    pub response_types: String,
    pub token_endpoint_auth_method: String,
    pub secret_hash: Option<String>,
    pub secret_last_four: Option<String>,
    pub secret_rotated_at: Option<DateTimeUtc>,
    pub allowed_scopes: String,
    pub application_type: Option<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub contacts: Option<String>,
    pub software_id: Option<String>,
    pub software_version: Option<String>,
    pub extra_metadata: Option<String>,
    pub verified: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub first_authorized_at: Option<DateTimeUtc>,
    /// An org admin lets this (admin-created, confidential) client introspect the org's tokens.
    pub resource_server: bool,
    /// This client may leave out PKCE (a connector that can't send it); never set by itself.
    pub pkce_optional: bool,
    /// A metadata-document client: when its document was last fetched, and until when that
    /// copy may be used.
    pub metadata_fetched_at: Option<DateTimeUtc>,
    pub metadata_expires_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
