use sea_orm::entity::prelude::*;

/// One of Gatehouse's own signing keys (Ed25519); the private key sealed under the instance key.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    /// The JWS algorithm (`EdDSA`).
    pub alg: String,
    pub private_sealed: String,
    /// The public key as a JWK (what `/.well-known/jwks.json` lists).
    pub public_jwk: String,
    pub created_at: DateTimeUtc,
    /// It signs from then on (until a newer key does).
    pub sign_from: DateTimeUtc,
    /// It stopped signing then; it stays published a while after.
    pub retire_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
