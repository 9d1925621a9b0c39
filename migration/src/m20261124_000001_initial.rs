//! The whole first-cut data model of DESIGN.md, so later features add columns instead of
//! reworking tables: organizations (with policy), users, memberships, invitations, sessions,
//! OAuth clients and per-org blocks, authorization requests and codes, consents, connections
//! (MCP OAuth PATs), tokens and audit events.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) fn created_at() -> ColumnDef {
    timestamp_with_time_zone("created_at")
}

pub(crate) fn fk(
    table: &'static str,
    col: &'static str,
    to: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{col}"))
        .from(table, col)
        .to(to, "id")
        .on_delete(on_delete)
        .to_owned()
}

pub(crate) fn index(
    table: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("ix_{table}_{}", cols.join("_")))
        .table(table);
    for col in cols {
        stmt.col(*col);
    }
    if unique {
        stmt.unique();
    }
    stmt.to_owned()
}

use ForeignKeyAction::{Cascade, SetNull};

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("organizations")
                .col(pk_uuid("id"))
                .col(string_uniq("slug"))
                .col(string("name"))
                // Org policy (seed 000 settings); each switch takes effect on the next request.
                .col(boolean("mcp_enabled").default(true))
                .col(boolean("personal_tokens_enabled").default(true))
                .col(boolean("mcp_oauth_pats_enabled").default(true))
                .col(boolean("dynamic_registration_enabled").default(true))
                // JSON array of hosts; empty means any host allowed by the instance.
                .col(text("allowed_redirect_hosts").default("[]"))
                .col(big_integer("access_token_ttl_secs").default(3600))
                .col(big_integer("refresh_token_ttl_secs").default(30 * 24 * 3600))
                .col(integer("pat_max_ttl_days").default(365))
                .col(created_at())
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("users")
                .col(pk_uuid("id"))
                .col(string_uniq("email"))
                .col(string_null("name"))
                .col(string("password_hash"))
                .col(created_at())
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone_null("last_login_at"))
                .col(timestamp_with_time_zone_null("disabled_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("memberships")
                .col(pk_uuid("id"))
                .col(uuid("org_id"))
                .col(uuid("user_id"))
                .col(string("role"))
                .col(created_at())
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("memberships", "org_id", "organizations", Cascade))
                .foreign_key(&mut fk("memberships", "user_id", "users", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("memberships", &["org_id", "user_id"], true))
            .await?;
        m.create_index(index("memberships", &["user_id"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("invitations")
                .col(pk_uuid("id"))
                .col(uuid("org_id"))
                .col(string("email"))
                .col(string("role"))
                .col(string_uniq("token_hash"))
                .col(uuid_null("invited_by"))
                .col(created_at())
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("accepted_at"))
                .col(uuid_null("accepted_by"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut fk("invitations", "org_id", "organizations", Cascade))
                .foreign_key(&mut fk("invitations", "invited_by", "users", SetNull))
                .foreign_key(&mut fk("invitations", "accepted_by", "users", SetNull))
                .to_owned(),
        )
        .await?;
        m.create_index(index("invitations", &["org_id"], false))
            .await?;

        // tower-sessions records, written by the server's sea-orm session store.
        m.create_table(
            Table::create()
                .table("sessions")
                .col(string("id").primary_key())
                .col(blob("data"))
                .col(timestamp_with_time_zone("expiry_date"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("sessions", &["expiry_date"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("oauth_clients")
                .col(pk_uuid("id"))
                .col(string_uniq("client_id"))
                // admin | user | dynamic | metadata
                .col(string("kind"))
                .col(string("name"))
                .col(text_null("description"))
                .col(uuid_null("owner_user_id"))
                .col(uuid_null("org_id"))
                // JSON arrays
                .col(text("redirect_uris"))
                .col(text("grant_types"))
                .col(text("response_types"))
                // none | client_secret_basic | client_secret_post
                .col(string("token_endpoint_auth_method"))
                .col(string_null("secret_hash"))
                .col(string_null("secret_last_four"))
                .col(timestamp_with_time_zone_null("secret_rotated_at"))
                // space-separated scopes
                .col(text("allowed_scopes"))
                .col(string_null("application_type"))
                .col(text_null("client_uri"))
                .col(text_null("logo_uri"))
                .col(text_null("tos_uri"))
                .col(text_null("policy_uri"))
                .col(text_null("contacts"))
                .col(string_null("software_id"))
                .col(string_null("software_version"))
                // Any other registration metadata, echoed back as received (JSON object).
                .col(text_null("extra_metadata"))
                .col(boolean("verified").default(false))
                .col(created_at())
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone_null("last_used_at"))
                .col(timestamp_with_time_zone_null("first_authorized_at"))
                .foreign_key(&mut fk("oauth_clients", "owner_user_id", "users", SetNull))
                .foreign_key(&mut fk("oauth_clients", "org_id", "organizations", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("oauth_clients", &["org_id"], false))
            .await?;
        m.create_index(index("oauth_clients", &["owner_user_id"], false))
            .await?;
        m.create_index(index("oauth_clients", &["kind", "created_at"], false))
            .await?;

        // An org admin's "revoke" of a global (dynamic/metadata) client: blocked in that org only.
        m.create_table(
            Table::create()
                .table("org_client_blocks")
                .col(pk_uuid("id"))
                .col(uuid("org_id"))
                .col(uuid("client_id"))
                .col(uuid_null("blocked_by"))
                .col(created_at())
                .foreign_key(&mut fk(
                    "org_client_blocks",
                    "org_id",
                    "organizations",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "org_client_blocks",
                    "client_id",
                    "oauth_clients",
                    Cascade,
                ))
                .foreign_key(&mut fk("org_client_blocks", "blocked_by", "users", SetNull))
                .to_owned(),
        )
        .await?;
        m.create_index(index("org_client_blocks", &["org_id", "client_id"], true))
            .await?;

        // A pending /oauth/authorize request: lives on the server; forms carry only its id.
        m.create_table(
            Table::create()
                .table("authorization_requests")
                .col(pk_uuid("id"))
                .col(uuid("client_id"))
                .col(text("redirect_uri"))
                .col(text("scope"))
                .col(text_null("state"))
                .col(string_null("code_challenge"))
                .col(string_null("code_challenge_method"))
                .col(text("resource"))
                .col(uuid_null("org_id"))
                .col(string_null("prompt"))
                .col(uuid_null("user_id"))
                // pending | approved | denied | expired
                .col(string("status"))
                .col(created_at())
                .col(timestamp_with_time_zone("expires_at"))
                .foreign_key(&mut fk(
                    "authorization_requests",
                    "client_id",
                    "oauth_clients",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "authorization_requests",
                    "org_id",
                    "organizations",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "authorization_requests",
                    "user_id",
                    "users",
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("authorization_requests", &["expires_at"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("authorization_codes")
                .col(pk_uuid("id"))
                .col(string_uniq("code_hash"))
                .col(uuid_null("request_id"))
                .col(uuid("client_id"))
                .col(uuid("user_id"))
                .col(uuid("org_id"))
                .col(uuid_null("connection_id"))
                .col(text("redirect_uri"))
                .col(text("scope"))
                .col(text("resource"))
                .col(string_null("code_challenge"))
                .col(string_null("code_challenge_method"))
                .col(created_at())
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(&mut fk(
                    "authorization_codes",
                    "client_id",
                    "oauth_clients",
                    Cascade,
                ))
                .foreign_key(&mut fk("authorization_codes", "user_id", "users", Cascade))
                .foreign_key(&mut fk(
                    "authorization_codes",
                    "org_id",
                    "organizations",
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("authorization_codes", &["expires_at"], false))
            .await?;

        // Remembered consent per (user, org, client); re-asked when scopes grow or prompt=consent.
        m.create_table(
            Table::create()
                .table("consents")
                .col(pk_uuid("id"))
                .col(uuid("user_id"))
                .col(uuid("org_id"))
                .col(uuid("client_id"))
                .col(text("scope"))
                .col(created_at())
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("consents", "user_id", "users", Cascade))
                .foreign_key(&mut fk("consents", "org_id", "organizations", Cascade))
                .foreign_key(&mut fk("consents", "client_id", "oauth_clients", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("consents", &["user_id", "org_id", "client_id"], true))
            .await?;

        // A connection is an MCP OAuth PAT: the record an admin sees and revokes.
        m.create_table(
            Table::create()
                .table("connections")
                .col(pk_uuid("id"))
                .col(uuid("user_id"))
                .col(uuid("org_id"))
                .col(uuid("client_id"))
                .col(text("scope"))
                .col(text("resource"))
                .col(created_at())
                .col(timestamp_with_time_zone_null("last_used_at"))
                .col(timestamp_with_time_zone_null("disabled_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .col(uuid_null("revoked_by"))
                .col(string_null("revoke_reason"))
                .foreign_key(&mut fk("connections", "user_id", "users", Cascade))
                .foreign_key(&mut fk("connections", "org_id", "organizations", Cascade))
                .foreign_key(&mut fk(
                    "connections",
                    "client_id",
                    "oauth_clients",
                    Cascade,
                ))
                .foreign_key(&mut fk("connections", "revoked_by", "users", SetNull))
                .to_owned(),
        )
        .await?;
        m.create_index(index("connections", &["org_id", "created_at"], false))
            .await?;
        m.create_index(index("connections", &["user_id"], false))
            .await?;
        m.create_index(index("connections", &["client_id"], false))
            .await?;

        // Access tokens, refresh tokens and standard PATs. Only SHA-256 hashes are stored.
        m.create_table(
            Table::create()
                .table("tokens")
                .col(pk_uuid("id"))
                // access | refresh | pat
                .col(string("kind"))
                .col(string_uniq("token_hash"))
                .col(string("prefix"))
                .col(string("last_four"))
                .col(string_null("name"))
                .col(uuid("user_id"))
                .col(uuid("org_id"))
                .col(uuid_null("client_id"))
                .col(uuid_null("connection_id"))
                // Refresh-token family: every rotation keeps the family; reuse revokes it whole.
                .col(uuid_null("family_id"))
                .col(uuid_null("parent_id"))
                .col(text("scope"))
                .col(text_null("resource"))
                .col(created_at())
                .col(timestamp_with_time_zone_null("expires_at"))
                .col(timestamp_with_time_zone_null("last_used_at"))
                .col(timestamp_with_time_zone_null("rotated_at"))
                .col(timestamp_with_time_zone_null("disabled_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .col(string_null("revoke_reason"))
                .foreign_key(&mut fk("tokens", "user_id", "users", Cascade))
                .foreign_key(&mut fk("tokens", "org_id", "organizations", Cascade))
                .foreign_key(&mut fk("tokens", "client_id", "oauth_clients", Cascade))
                .foreign_key(&mut fk("tokens", "connection_id", "connections", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("tokens", &["org_id", "kind", "created_at"], false))
            .await?;
        m.create_index(index("tokens", &["user_id"], false)).await?;
        m.create_index(index("tokens", &["family_id"], false))
            .await?;
        m.create_index(index("tokens", &["connection_id"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("audit_events")
                .col(pk_uuid("id"))
                .col(uuid_null("org_id"))
                .col(uuid_null("actor_user_id"))
                .col(string_null("actor_label"))
                .col(string("action"))
                .col(string_null("target_type"))
                .col(string_null("target_id"))
                .col(text_null("details"))
                .col(string_null("ip"))
                .col(text_null("user_agent"))
                .col(created_at())
                .foreign_key(&mut fk("audit_events", "org_id", "organizations", Cascade))
                .foreign_key(&mut fk("audit_events", "actor_user_id", "users", SetNull))
                .to_owned(),
        )
        .await?;
        m.create_index(index("audit_events", &["org_id", "created_at"], false))
            .await?;
        m.create_index(index("audit_events", &["actor_user_id"], false))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "audit_events",
            "tokens",
            "connections",
            "consents",
            "authorization_codes",
            "authorization_requests",
            "org_client_blocks",
            "oauth_clients",
            "sessions",
            "invitations",
            "memberships",
            "users",
            "organizations",
        ] {
            m.drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
