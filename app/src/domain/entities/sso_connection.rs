use sea_orm::entity::prelude::*;

use crate::model::Role;

/// An organization's OpenID Connect provider, and Gatehouse's client registration there. The
/// client secret is sealed under the instance key.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_connections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: Uuid,
    /// The provider's issuer identifier (`https://login.example.com`), as its discovery
    /// document and ID tokens must state it.
    pub issuer: String,
    pub client_id: String,
    pub client_secret_sealed: String,
    /// The role a person gets on their first sign-in through this connection.
    pub default_role: Role,
    /// Members with an address in the connection's domains can't sign in with a password.
    pub require_sso: bool,
    pub enabled: bool,
    /// The provider may grant MCP access with identity assertions (ID-JAG).
    pub assertion_grants: bool,
    /// The client IDs that may present them, as a JSON list; empty: any client.
    pub assertion_clients: String,
    /// The longest lifetime of an access token granted for an assertion.
    pub assertion_access_ttl_secs: i32,
    /// An assertion grant comes with a refresh token (else the client asks the provider for a
    /// fresh assertion).
    pub assertion_refresh: bool,
    /// A person the provider vouches for who isn't a member yet becomes one.
    pub assertion_create_members: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
