//! What accounts you can trust need stored:
//! - `users.email_verified_at`: when the account proved it reads its mailbox (sign-up link,
//!   invitation link, password reset); `users.two_factor_enabled_at`: two-factor sign-in is on;
//! - `organizations.two_factor_policy`: `off`, `admins` or `everyone` must use two-factor;
//! - `email_links`: single-use links sent by mail (verify, change email, reset password),
//!   stored as SHA-256;
//! - `mail_outbox`: mail written in the transaction of the change that causes it, sent by a
//!   worker; the body is sealed under the instance key until it is sent, then dropped;
//! - `user_totp` / `recovery_codes`: the TOTP secret (sealed) and the last step it accepted;
//!   recovery codes as SHA-256;
//! - `instance_key`: which instance key the sealed values are sealed with, and a value sealed
//!   with it, so a wrong key stops start-up instead of producing garbage.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261124_000001_initial::{created_at, fk, index};
use crate::m20261129_000003_trust_core::{add, drop_col};

#[derive(DeriveMigrationName)]
pub struct Migration;

use ForeignKeyAction::Cascade;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add(
            m,
            "users",
            timestamp_with_time_zone_null("email_verified_at"),
        )
        .await?;
        add(
            m,
            "users",
            timestamp_with_time_zone_null("two_factor_enabled_at"),
        )
        .await?;
        add(
            m,
            "organizations",
            string("two_factor_policy").default("off"),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("email_links")
                .col(pk_uuid("id"))
                .col(uuid("user_id"))
                .col(string("purpose"))
                .col(string("email"))
                .col(string_uniq("token_hash"))
                .col(created_at())
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(&mut fk("email_links", "user_id", "users", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("email_links", &["user_id", "purpose"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("mail_outbox")
                .col(pk_uuid("id"))
                .col(string("kind"))
                .col(string("to_address"))
                .col(string("subject"))
                .col(text_null("sealed_body"))
                .col(created_at())
                .col(integer("attempts").default(0))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(timestamp_with_time_zone_null("claimed_until"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .col(timestamp_with_time_zone_null("printed_at"))
                .col(timestamp_with_time_zone_null("failed_at"))
                .col(text_null("last_error"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("mail_outbox", &["sent_at", "next_attempt_at"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("user_totp")
                .col(pk_uuid("user_id"))
                .col(text("secret_sealed"))
                .col(created_at())
                .col(timestamp_with_time_zone_null("confirmed_at"))
                .col(big_integer_null("last_used_step"))
                .foreign_key(&mut fk("user_totp", "user_id", "users", Cascade))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("recovery_codes")
                .col(pk_uuid("id"))
                .col(uuid("user_id"))
                .col(string_uniq("code_hash"))
                .col(created_at())
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(&mut fk("recovery_codes", "user_id", "users", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("recovery_codes", &["user_id"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("instance_key")
                .col(integer("id").primary_key())
                .col(string("key_id"))
                .col(text("check_sealed"))
                .col(created_at())
                .col(timestamp_with_time_zone_null("rotated_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "instance_key",
            "recovery_codes",
            "user_totp",
            "mail_outbox",
            "email_links",
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        drop_col(m, "organizations", "two_factor_policy").await?;
        drop_col(m, "users", "two_factor_enabled_at").await?;
        drop_col(m, "users", "email_verified_at").await
    }
}
