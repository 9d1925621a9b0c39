use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub mcp_enabled: bool,
    pub personal_tokens_enabled: bool,
    pub mcp_oauth_pats_enabled: bool,
    pub dynamic_registration_enabled: bool,
    pub allowed_redirect_hosts: String,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub pat_max_ttl_days: i32,
    /// Who must use two-factor sign-in to work in the org.
    pub two_factor_policy: crate::model::TwoFactorPolicy,
    /// Apps identified by a metadata document may connect.
    pub metadata_clients_enabled: bool,
    /// JSON lists of domains: metadata-document apps only from these (empty: any), never from
    /// the blocked ones. A domain covers its subdomains.
    pub allowed_client_domains: String,
    pub blocked_client_domains: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
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
