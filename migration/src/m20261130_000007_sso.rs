//! Single sign-on through an organization's own OpenID Connect provider:
//! - `sso_connections`: one per org: the provider (issuer), Gatehouse's client there (the
//!   secret sealed under the instance key), the role a first-time member gets, and whether
//!   members from its domains must sign in through it;
//! - `sso_domains`: the email domains a connection covers; a domain belongs to one org at most,
//!   so `/login` knows where to send an address;
//! - `sso_identities`: which provider account (issuer and subject) is which Gatehouse account;
//! - `sso_logins`: sign-ins under way (`state` as SHA-256, the `nonce`, the sealed PKCE
//!   verifier, where to go back to), in the database so any process can finish one.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261124_000001_initial::{created_at, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

use ForeignKeyAction::Cascade;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("sso_connections")
                .col(uuid("org_id").primary_key())
                .col(string("issuer"))
                .col(string("client_id"))
                .col(text("client_secret_sealed"))
                .col(string("default_role"))
                .col(boolean("require_sso").default(false))
                .col(boolean("enabled").default(true))
                .col(created_at())
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk(
                    "sso_connections",
                    "org_id",
                    "organizations",
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("sso_domains")
                .col(string("domain").primary_key())
                .col(uuid("org_id"))
                .foreign_key(&mut fk("sso_domains", "org_id", "organizations", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("sso_domains", &["org_id"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("sso_identities")
                .col(pk_uuid("id"))
                .col(uuid("user_id"))
                .col(uuid("org_id"))
                .col(string("issuer"))
                .col(string("subject"))
                .col(string("email"))
                .col(created_at())
                .col(timestamp_with_time_zone_null("last_sign_in_at"))
                .foreign_key(&mut fk("sso_identities", "user_id", "users", Cascade))
                .foreign_key(&mut fk(
                    "sso_identities",
                    "org_id",
                    "organizations",
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("sso_identities", &["issuer", "subject"], true))
            .await?;
        m.create_index(index("sso_identities", &["user_id"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("sso_logins")
                .col(pk_uuid("id"))
                .col(string_uniq("state_hash"))
                .col(uuid("org_id"))
                .col(string("nonce"))
                .col(text("pkce_verifier_sealed"))
                .col(text_null("return_to"))
                .col(created_at())
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(&mut fk("sso_logins", "org_id", "organizations", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("sso_logins", &["expires_at"], false))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "sso_logins",
            "sso_identities",
            "sso_domains",
            "sso_connections",
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
