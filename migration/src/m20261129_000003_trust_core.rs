//! What the trust core needs stored:
//! - `sessions.user_id`: whose session a row is, so disabling an account or changing a
//!   password can delete that account's sessions (existing rows are filled from their data);
//!   `users.sessions_ended_at`: sessions signed in before it are over, even one a request in
//!   flight saves again;
//! - `oauth_clients.resource_server`: an org admin lets this confidential client introspect the
//!   org's tokens; `oauth_clients.pkce_optional`: this client may omit PKCE (granted per client);
//! - `authorization_requests.client_ip`: pending requests are bounded per client address;
//!   `authorization_requests.redirect_uri_sent` / `authorization_codes.redirect_uri_required`:
//!   the token request must repeat `redirect_uri` when the authorization request named it;
//! - `consents.redirect_uri`: remembered consent holds for the redirect URI it was given for.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::entity::prelude::{Json, Uuid};
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite adds one column per ALTER TABLE.
pub(crate) async fn add(
    m: &SchemaManager<'_>,
    table: &'static str,
    col: impl IntoColumnDef,
) -> Result<(), DbErr> {
    m.alter_table(Table::alter().table(table).add_column(col).to_owned())
        .await
}

pub(crate) async fn drop_col(
    m: &SchemaManager<'_>,
    table: &'static str,
    col: &'static str,
) -> Result<(), DbErr> {
    m.alter_table(Table::alter().table(table).drop_column(col).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add(m, "sessions", uuid_null("user_id")).await?;
        m.create_index(
            Index::create()
                .name("ix_sessions_user_id")
                .table("sessions")
                .col("user_id")
                .to_owned(),
        )
        .await?;
        add(
            m,
            "users",
            timestamp_with_time_zone_null("sessions_ended_at"),
        )
        .await?;
        add(
            m,
            "oauth_clients",
            boolean("resource_server").default(false),
        )
        .await?;
        add(m, "oauth_clients", boolean("pkce_optional").default(false)).await?;
        add(m, "authorization_requests", string_null("client_ip")).await?;
        add(
            m,
            "authorization_requests",
            boolean("redirect_uri_sent").default(true),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_authorization_requests_client_ip_status")
                .table("authorization_requests")
                .col("client_ip")
                .col("status")
                .to_owned(),
        )
        .await?;
        add(
            m,
            "authorization_codes",
            boolean("redirect_uri_required").default(true),
        )
        .await?;
        add(m, "consents", text_null("redirect_uri")).await?;
        backfill_session_users(m).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_authorization_requests_client_ip_status")
                .table("authorization_requests")
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("ix_sessions_user_id")
                .table("sessions")
                .to_owned(),
        )
        .await?;
        drop_col(m, "consents", "redirect_uri").await?;
        drop_col(m, "authorization_codes", "redirect_uri_required").await?;
        drop_col(m, "authorization_requests", "redirect_uri_sent").await?;
        drop_col(m, "authorization_requests", "client_ip").await?;
        drop_col(m, "oauth_clients", "pkce_optional").await?;
        drop_col(m, "oauth_clients", "resource_server").await?;
        drop_col(m, "users", "sessions_ended_at").await?;
        drop_col(m, "sessions", "user_id").await
    }
}

/// Sessions signed in before this version: their user id lives only in the JSON data (key
/// `user_id`, written by tower-sessions). Copied into the column so "end this account's
/// sessions" reaches them too; rows that can't be read are left for expiry.
async fn backfill_session_users(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = m.get_connection();
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id, data FROM sessions",
        ))
        .await?;
    for row in rows {
        let id: String = row.try_get("", "id")?;
        let data: Vec<u8> = row.try_get("", "data")?;
        let Some(user) = std::str::from_utf8(&data)
            .ok()
            .and_then(|text| text.parse::<Json>().ok())
            .and_then(|json| json.get("user_id")?.as_str().map(str::to_string))
            .and_then(|u| Uuid::parse_str(&u).ok())
        else {
            continue;
        };
        let sql = match backend {
            sea_orm_migration::sea_orm::DatabaseBackend::Postgres => {
                "UPDATE sessions SET user_id = $1 WHERE id = $2"
            }
            _ => "UPDATE sessions SET user_id = ? WHERE id = ?",
        };
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [user.into(), id.into()],
        ))
        .await?;
    }
    Ok(())
}
