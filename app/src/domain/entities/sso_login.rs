use sea_orm::entity::prelude::*;

/// A sign-in sent to a provider and not yet back. `state` is stored as SHA-256; the PKCE
/// verifier is sealed under the instance key. Good once, for a few minutes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_logins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub state_hash: String,
    pub org_id: Uuid,
    pub nonce: String,
    pub pkce_verifier_sealed: String,
    /// Where the person goes once signed in (a path of this site, such as a consent page).
    pub return_to: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
