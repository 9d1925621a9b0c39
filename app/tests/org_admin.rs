//! What an org admin does across the org (`/admin/oauth-clients`, `/admin/tokens`): list and
//! filter every personal token, disable / re-enable / revoke them (and the bearer check and the
//! token endpoint follow at once), list and search the org's OAuth clients, and "revoke for this
//! org" (a block that never touches another org). Every test runs on SQLite and on PostgreSQL
//! (the PostgreSQL variant is skipped, with the reason printed, when no server is configured).

mod support;

use migration::on_both_backends;

use app::domain::Services;
use app::domain::access::Denial;
use app::domain::entities::{audit_event, organization, token, user};
use app::domain::oauth::clients::{self, ClientMetadata};
use app::domain::oauth::consent;
use app::domain::oauth::grants::{self, RefreshGrant, TokenResponse};
use app::domain::oauth_apps::{self, AppOwner, NewApp};
use app::domain::org_admin::{self, ClientFilter, TokenFilter};
use app::domain::pats::{self, NewPat};
use app::error::AppError;
use app::model::{ClientKind, ConnectionStatus, OrgTokenKind, Role, TokenStatus};
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    Set,
};
use support::*;
use uuid::Uuid;

on_both_backends!(
    tokens_page_lists_both_kinds_filters_and_paginates,
    disabling_a_pat_refuses_it_until_enabled_again,
    disabling_a_connection_refuses_bearer_and_refresh_until_enabled,
    revoked_tokens_cant_be_enabled_and_other_orgs_ids_are_not_found,
    blocking_a_client_revokes_it_in_this_org_only,
    clients_are_listed_searched_filtered_and_detailed_per_org,
);

async fn pat(
    s: &Services,
    who: &user::Model,
    org: &organization::Model,
    name: &str,
) -> (Uuid, String) {
    let created = pats::create(
        s,
        who,
        org,
        Role::Admin,
        &NewPat {
            name: name.into(),
            scopes: vec!["mcp:read".into()],
            expires_in_days: 30,
        },
        &meta(),
    )
    .await
    .unwrap();
    (created.token.id, created.secret)
}

async fn dynamic_client(s: &Services, name: &str) -> app::domain::entities::oauth_client::Model {
    clients::register_dynamic(
        s,
        ClientMetadata {
            redirect_uris: Some(vec![REDIRECT.into()]),
            token_endpoint_auth_method: Some("none".into()),
            client_name: Some(name.into()),
            ..Default::default()
        },
        &meta(),
    )
    .await
    .unwrap()
    .client
}
async fn refresh(
    s: &Services,
    client: &app::domain::entities::oauth_client::Model,
    refresh_token: &str,
) -> Result<TokenResponse, String> {
    grants::refresh(
        s,
        client,
        RefreshGrant {
            refresh_token: refresh_token.into(),
            resource: vec![],
            scope: None,
        },
        &meta(),
    )
    .await
    .map_err(|e| e.error.to_string())
}
fn filter(kind: &str, user: &str, status: &str) -> TokenFilter {
    TokenFilter {
        kind: Some(kind.into()),
        user: Some(user.into()),
        status: Some(status.into()),
    }
}

async fn tokens_page_lists_both_kinds_filters_and_paginates(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let bob = user(&s, "bob@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    let other = org_of(&s, &bob, "other").await;
    member(&s, &ada, &org, &bob, Role::Querier).await;
    let (ada_pat, _) = pat(&s, &ada, &org, "ada laptop").await;
    let (bob_pat, _) = pat(&s, &bob, &org, "bob ci").await;
    let (expired_pat, _) = pat(&s, &bob, &org, "bob old").await;
    let mut row = token::Entity::find_by_id(expired_pat)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    row.expires_at = Set(Some(Utc::now() - Duration::days(1)));
    row.update(&s.db).await.unwrap();
    pat(&s, &bob, &other, "bob elsewhere").await;
    let client = dynamic_client(&s, "Claude").await;
    let (conn, _) = connect(&s, &bob, &client, &org).await;

    let all = org_admin::tokens_page(&s.db, org.id, &TokenFilter::default(), 1)
        .await
        .unwrap();
    assert_eq!(all.total, 4, "{all:?}");
    assert_eq!(all.pages, 1);
    assert_eq!(all.tokens[0].id, conn, "newest first");
    assert_eq!(all.tokens[0].kind, OrgTokenKind::McpOauthPat);
    assert_eq!(all.tokens[0].client_name.as_deref(), Some("Claude"));
    assert_eq!(
        all.tokens[0].client_id.as_deref(),
        Some(client.client_id.as_str())
    );
    assert_eq!(all.tokens[0].owner_email, "bob@example.com");
    assert_eq!(all.tokens[0].status, TokenStatus::Active);
    let ada_row = all.tokens.iter().find(|t| t.id == ada_pat).unwrap();
    assert_eq!(ada_row.kind, OrgTokenKind::Pat);
    assert_eq!(ada_row.name.as_deref(), Some("ada laptop"));
    assert!(ada_row.hint.as_deref().unwrap().starts_with("gate_pat_…"));
    assert!(ada_row.expires_at.is_some());
    assert!(
        !all.tokens
            .iter()
            .any(|t| t.name.as_deref() == Some("bob elsewhere"))
    );
    // The old listing used by the MCP tools agrees (but for when a token was last used: the
    // token exchange records that after answering, so it may land between the two reads).
    let unused = |tokens: Vec<app::model::OrgToken>| {
        tokens
            .into_iter()
            .map(|t| app::model::OrgToken {
                last_used_at: None,
                ..t
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        unused(org_admin::tokens(&s.db, org.id).await.unwrap()),
        unused(all.tokens.clone())
    );

    let ids = |p: app::model::TokenPage| p.tokens.into_iter().map(|t| t.id).collect::<Vec<_>>();
    let by = |f: TokenFilter| {
        let s = s.clone();
        async move { ids(org_admin::tokens_page(&s.db, org.id, &f, 1).await.unwrap()) }
    };
    assert_eq!(by(filter("mcp_oauth_pat", "", "")).await, vec![conn]);
    assert_eq!(by(filter("pat", "", "")).await.len(), 3);
    assert_eq!(by(filter("", "ADA@", "")).await, vec![ada_pat]);
    assert_eq!(by(filter("", &ada.id.to_string(), "")).await, vec![ada_pat]);
    assert_eq!(by(filter("", "bob", "")).await.len(), 3);
    assert_eq!(
        by(filter("", "%", "")).await,
        Vec::<Uuid>::new(),
        "LIKE wildcards are literal"
    );
    assert_eq!(by(filter("", "", "expired")).await, vec![expired_pat]);
    assert_eq!(by(filter("pat", "bob", "active")).await, vec![bob_pat]);

    org_admin::set_token_disabled(&s, ada.id, org.id, conn, true, &meta())
        .await
        .unwrap();
    org_admin::revoke_token(&s, ada.id, org.id, bob_pat, &meta())
        .await
        .unwrap();
    assert_eq!(by(filter("", "", "disabled")).await, vec![conn]);
    assert_eq!(by(filter("", "", "revoked")).await, vec![bob_pat]);
    assert_eq!(by(filter("", "", "active")).await, vec![ada_pat]);

    // Unknown filter values are field errors.
    let e = org_admin::tokens_page(&s.db, org.id, &filter("api", "", ""), 1)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("kind"));
    let e = org_admin::tokens_page(&s.db, org.id, &filter("", "", "gone"), 1)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("status"));

    // Pages of 50 across both kinds, newest first, nothing lost or repeated.
    for i in 0..50 {
        pat(&s, &ada, &org, &format!("bulk {i:02}")).await;
    }
    let p1 = org_admin::tokens_page(&s.db, org.id, &TokenFilter::default(), 1)
        .await
        .unwrap();
    let p2 = org_admin::tokens_page(&s.db, org.id, &TokenFilter::default(), 2)
        .await
        .unwrap();
    assert_eq!((p1.total, p1.pages, p1.tokens.len()), (54, 2, 50));
    assert_eq!((p2.page, p2.tokens.len()), (2, 4));
    assert_eq!(p1.tokens[0].name.as_deref(), Some("bulk 49"));
    let mut seen: Vec<Uuid> = p1.tokens.iter().chain(&p2.tokens).map(|t| t.id).collect();
    assert!(p2.tokens.iter().any(|t| t.id == conn));
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 54);
    // Past the end (a stale link): the last page.
    let last = org_admin::tokens_page(&s.db, org.id, &TokenFilter::default(), 9)
        .await
        .unwrap();
    assert_eq!(last, p2);
}

async fn disabling_a_pat_refuses_it_until_enabled_again(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let bob = user(&s, "bob@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    member(&s, &ada, &org, &bob, Role::Querier).await;
    let (id, secret) = pat(&s, &bob, &org, "bob ci").await;
    assert_eq!(bearer_ok(&s, &secret, &org).await, Ok(()));

    let t = org_admin::set_token_disabled(&s, ada.id, org.id, id, true, &meta())
        .await
        .unwrap();
    assert_eq!(t.status, TokenStatus::Disabled);
    assert_eq!(
        bearer_ok(&s, &secret, &org).await,
        Err(Denial::TokenDisabled)
    );
    assert_eq!(audit_count(&s.db, "pat.disabled").await, 1);
    // Twice is the same; no second audit event.
    org_admin::set_token_disabled(&s, ada.id, org.id, id, true, &meta())
        .await
        .unwrap();
    assert_eq!(audit_count(&s.db, "pat.disabled").await, 1);
    // The owner sees it as disabled by an admin.
    let own = pats::list_for_user(&s.db, bob.id, org.id, 1).await.unwrap();
    assert_eq!(own.tokens[0].status, app::model::TokenStatus::Disabled);

    let t = org_admin::set_token_disabled(&s, ada.id, org.id, id, false, &meta())
        .await
        .unwrap();
    assert_eq!(t.status, TokenStatus::Active);
    assert_eq!(bearer_ok(&s, &secret, &org).await, Ok(()));
    assert_eq!(audit_count(&s.db, "pat.enabled").await, 1);
    let event = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("pat.enabled"))
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.org_id, Some(org.id));
    assert_eq!(event.actor_user_id, Some(ada.id));
}

async fn disabling_a_connection_refuses_bearer_and_refresh_until_enabled(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let bob = user(&s, "bob@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    member(&s, &ada, &org, &bob, Role::Querier).await;
    let client = dynamic_client(&s, "Cursor").await;
    let (conn, tokens) = connect(&s, &bob, &client, &org).await;
    assert_eq!(bearer_ok(&s, &tokens.access_token, &org).await, Ok(()));

    let t = org_admin::set_token_disabled(&s, ada.id, org.id, conn, true, &meta())
        .await
        .unwrap();
    assert_eq!(
        (t.kind.as_str(), t.status.as_str()),
        ("mcp_oauth_pat", "disabled")
    );
    assert_eq!(
        bearer_ok(&s, &tokens.access_token, &org).await,
        Err(Denial::ConnectionDisabled)
    );
    let refresh_token = tokens.refresh_token.clone().expect("a refresh token");
    assert_eq!(
        refresh(&s, &client, &refresh_token).await.unwrap_err(),
        "invalid_grant"
    );
    assert_eq!(audit_count(&s.db, "connection.disabled").await, 1);

    org_admin::set_token_disabled(&s, ada.id, org.id, conn, false, &meta())
        .await
        .unwrap();
    assert_eq!(audit_count(&s.db, "connection.enabled").await, 1);
    assert_eq!(bearer_ok(&s, &tokens.access_token, &org).await, Ok(()));
    let fresh = refresh(&s, &client, &refresh_token).await.unwrap();
    assert_eq!(bearer_ok(&s, &fresh.access_token, &org).await, Ok(()));
}

async fn revoked_tokens_cant_be_enabled_and_other_orgs_ids_are_not_found(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let eve = user(&s, "eve@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    let evil = org_of(&s, &eve, "evil").await;
    let (id, secret) = pat(&s, &ada, &org, "ada laptop").await;
    let client = dynamic_client(&s, "Claude").await;
    let (conn, tokens) = connect(&s, &ada, &client, &org).await;

    // Another org's admin: not found, nothing changed, nothing revealed.
    for target in [id, conn, Uuid::now_v7()] {
        for disabled in [true, false] {
            let e = org_admin::set_token_disabled(&s, eve.id, evil.id, target, disabled, &meta())
                .await
                .unwrap_err();
            assert!(matches!(e, AppError::NotFound(_)), "{e:?}");
        }
        let e = org_admin::revoke_token(&s, eve.id, evil.id, target, &meta())
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{e:?}");
        let e = org_admin::token(&s.db, evil.id, target).await.unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{e:?}");
    }
    assert_eq!(bearer_ok(&s, &secret, &org).await, Ok(()));
    assert_eq!(bearer_ok(&s, &tokens.access_token, &org).await, Ok(()));

    for target in [id, conn] {
        let t = org_admin::revoke_token(&s, ada.id, org.id, target, &meta())
            .await
            .unwrap();
        assert_eq!(t.status, TokenStatus::Revoked);
        let e = org_admin::set_token_disabled(&s, ada.id, org.id, target, false, &meta())
            .await
            .unwrap_err();
        assert!(
            matches!(&e, AppError::Conflict(m) if m.contains("can't be enabled again")),
            "{e:?}"
        );
        assert!(
            org_admin::set_token_disabled(&s, ada.id, org.id, target, true, &meta())
                .await
                .is_err()
        );
    }
    assert!(bearer_ok(&s, &secret, &org).await.is_err());
    assert!(bearer_ok(&s, &tokens.access_token, &org).await.is_err());
}

async fn blocking_a_client_revokes_it_in_this_org_only(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let bob = user(&s, "bob@example.com").await;
    let acme = org_of(&s, &ada, "acme").await;
    let beta = org_of(&s, &bob, "beta").await;
    member(&s, &ada, &acme, &bob, Role::Querier).await;
    let client = dynamic_client(&s, "ChatGPT").await;
    let (acme_conn, acme_tokens) = connect(&s, &bob, &client, &acme).await;
    let (beta_conn, beta_tokens) = connect(&s, &bob, &client, &beta).await;
    let (_, ada_tokens) = connect(&s, &ada, &client, &acme).await;
    let (ada_pat, ada_secret) = pat(&s, &ada, &acme, "not a client token").await;

    // Beta's admin can't touch it in acme; acme's admin blocks it by client_id.
    let blocked = org_admin::block_client(&s, ada.id, acme.id, &client.client_id, &meta())
        .await
        .unwrap();
    assert!(blocked.blocked_in_org);
    assert_eq!(blocked.active_connections, 0);
    assert_eq!(audit_count(&s.db, "client.blocked").await, 1);

    // In acme: every connection and token of the client is revoked and refused.
    for t in [&acme_tokens, &ada_tokens] {
        assert!(bearer_ok(&s, &t.access_token, &acme).await.is_err());
        assert_eq!(
            refresh(&s, &client, t.refresh_token.as_deref().unwrap())
                .await
                .unwrap_err(),
            "invalid_grant"
        );
    }
    assert_eq!(
        org_admin::token(&s.db, acme.id, acme_conn)
            .await
            .unwrap()
            .status,
        TokenStatus::Revoked
    );
    // A new authorization in acme is refused with a reason; a standard PAT is untouched.
    let request = begin(&s, &client.client_id, &acme).await;
    let e = consent::approve(&s, request, &bob, &acme.slug, &meta())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, AppError::Forbidden(m) if m.contains("blocked")),
        "{e:?}"
    );
    assert_eq!(bearer_ok(&s, &ada_secret, &acme).await, Ok(()));
    assert_eq!(
        org_admin::token(&s.db, acme.id, ada_pat)
            .await
            .unwrap()
            .status,
        TokenStatus::Active
    );

    // In beta: nothing changed.
    assert_eq!(
        bearer_ok(&s, &beta_tokens.access_token, &beta).await,
        Ok(())
    );
    let fresh = refresh(&s, &client, beta_tokens.refresh_token.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(bearer_ok(&s, &fresh.access_token, &beta).await, Ok(()));
    assert_eq!(
        org_admin::token(&s.db, beta.id, beta_conn)
            .await
            .unwrap()
            .status,
        TokenStatus::Active
    );
    let in_beta = org_admin::clients(&s.db, beta.id).await.unwrap();
    assert_eq!(in_beta.len(), 1);
    assert!(!in_beta[0].blocked_in_org);
    assert_eq!(in_beta[0].active_connections, 1);
    connect(&s, &bob, &client, &beta).await;

    // Blocking twice is harmless; an unrelated org can't see the client at all.
    org_admin::block_client(&s, ada.id, acme.id, &client.id.to_string(), &meta())
        .await
        .unwrap();
    assert_eq!(audit_count(&s.db, "client.blocked").await, 1);
    let eve = user(&s, "eve@example.com").await;
    let evil = org_of(&s, &eve, "evil").await;
    let e = org_admin::block_client(&s, eve.id, evil.id, &client.client_id, &meta())
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::NotFound(_)), "{e:?}");
    assert!(org_admin::clients(&s.db, evil.id).await.unwrap().is_empty());

    // Allowed again: old connections stay revoked, new ones work.
    let allowed = org_admin::unblock_client(&s, ada.id, acme.id, &client.client_id, &meta())
        .await
        .unwrap();
    assert!(!allowed.blocked_in_org);
    assert_eq!(audit_count(&s.db, "client.unblocked").await, 1);
    assert!(
        bearer_ok(&s, &acme_tokens.access_token, &acme)
            .await
            .is_err()
    );
    let (_, again) = connect(&s, &bob, &client, &acme).await;
    assert_eq!(bearer_ok(&s, &again.access_token, &acme).await, Ok(()));
}

async fn clients_are_listed_searched_filtered_and_detailed_per_org(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let bob = user(&s, "bob@example.com").await;
    let eve = user(&s, "eve@example.com").await;
    let acme = org_of(&s, &ada, "acme").await;
    let evil = org_of(&s, &eve, "evil").await;
    member(&s, &ada, &acme, &bob, Role::Querier).await;
    let app = |name: &str, org: Option<Uuid>| NewApp {
        name: name.into(),
        description: "Reports".into(),
        redirect_uris: vec!["https://reports.example.com/cb".into()],
        scopes: vec!["mcp:read".into()],
        confidential: true,
        org_id: org,
        trust: Default::default(),
    };
    let admin_made = oauth_apps::create(
        &s,
        ada.id,
        AppOwner::Org { org_id: acme.id },
        &app("Reporting bot", None),
        &meta(),
    )
    .await
    .unwrap();
    assert!(admin_made.secret.is_some());
    let user_made = oauth_apps::create(
        &s,
        bob.id,
        AppOwner::User(bob.id),
        &app("Bob's script", Some(acme.id)),
        &meta(),
    )
    .await
    .unwrap();
    let evil_made = oauth_apps::create(
        &s,
        eve.id,
        AppOwner::Org { org_id: evil.id },
        &app("Evil tool", None),
        &meta(),
    )
    .await
    .unwrap();
    let connected = dynamic_client(&s, "Claude Desktop").await;
    let (_, _) = connect(&s, &bob, &connected, &acme).await;
    let _unused = dynamic_client(&s, "Never connected").await;

    let all = org_admin::clients_page(&s.db, acme.id, &ClientFilter::default(), 1)
        .await
        .unwrap();
    let names: Vec<&str> = all.clients.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["Bob's script", "Claude Desktop", "Reporting bot"]
    );
    assert_eq!((all.total, all.pages), (3, 1));
    let by_name = |n: &str| all.clients.iter().find(|c| c.name == n).unwrap().clone();
    let bot = by_name("Reporting bot");
    assert_eq!(bot.source, ClientKind::Admin);
    assert!(bot.owned_by_org);
    assert_eq!(bot.redirect_uris, vec!["https://reports.example.com/cb"]);
    let script = by_name("Bob's script");
    assert_eq!(script.source, ClientKind::User);
    assert!(!script.owned_by_org);
    assert_eq!(script.owner_email.as_deref(), Some("bob@example.com"));
    let claude = by_name("Claude Desktop");
    assert_eq!(claude.source, ClientKind::Dynamic);
    assert_eq!(claude.granted_scopes, vec!["mcp:read"]);
    assert_eq!(claude.active_connections, 1);
    assert!(claude.last_used_at.is_some());
    assert_eq!(
        org_admin::clients(&s.db, acme.id).await.unwrap(),
        all.clients
    );

    let search = |q: &str, source: &str, blocked: &str| {
        let s = s.clone();
        let f = ClientFilter {
            q: Some(q.into()),
            source: Some(source.into()),
            blocked: Some(blocked.into()),
        };
        async move {
            org_admin::clients_page(&s.db, acme.id, &f, 1)
                .await
                .unwrap()
                .clients
                .into_iter()
                .map(|c| c.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("claude", "", "").await, vec!["Claude Desktop"]);
    assert_eq!(
        search(&connected.client_id, "", "").await,
        vec!["Claude Desktop"]
    );
    assert_eq!(search("BOB@example", "", "").await, vec!["Bob's script"]);
    assert_eq!(search("", "admin", "").await, vec!["Reporting bot"]);
    assert_eq!(search("", "dynamic", "").await, vec!["Claude Desktop"]);
    assert_eq!(search("evil", "", "").await, Vec::<String>::new());
    assert_eq!(search("%", "", "").await, Vec::<String>::new());
    org_admin::block_client(&s, ada.id, acme.id, &connected.id.to_string(), &meta())
        .await
        .unwrap();
    assert_eq!(search("", "", "yes").await, vec!["Claude Desktop"]);
    assert_eq!(
        search("", "", "no").await,
        vec!["Bob's script", "Reporting bot"]
    );
    let e = org_admin::clients_page(
        &s.db,
        acme.id,
        &ClientFilter {
            source: Some("martian".into()),
            ..Default::default()
        },
        1,
    )
    .await
    .unwrap_err();
    assert_eq!(e.field(), Some("source"));

    // Details: by row id or client_id; other orgs' clients and unused globals are not found.
    let d = org_admin::client_detail(&s.db, acme.id, &connected.client_id)
        .await
        .unwrap();
    assert_eq!(d.client.name, "Claude Desktop");
    assert!(d.client.blocked_in_org);
    assert_eq!(d.connections.len(), 1);
    assert_eq!(d.connections[0].user_email, "bob@example.com");
    assert_eq!(d.connections[0].status, ConnectionStatus::Revoked);
    assert_eq!(d.auth_method, "none");
    let d = org_admin::client_detail(&s.db, acme.id, &admin_made.client.id.to_string())
        .await
        .unwrap();
    assert_eq!(d.description.as_deref(), Some("Reports"));
    assert_eq!(d.allowed_scopes, vec!["mcp:read"]);
    assert!(d.connections.is_empty());
    for key in [
        evil_made.client.id.to_string(),
        evil_made.client.client_id.clone(),
        _unused.client_id.clone(),
        "nope".to_string(),
        Uuid::now_v7().to_string(),
    ] {
        let e = org_admin::client_detail(&s.db, acme.id, &key)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{key}: {e:?}");
    }
    let e = org_admin::client_detail(&s.db, evil.id, &user_made.client.client_id)
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::NotFound(_)), "{e:?}");

    // Pages of 50, by name; the search applies before paging.
    for i in 0..50 {
        oauth_apps::create(
            &s,
            ada.id,
            AppOwner::Org { org_id: acme.id },
            &app(&format!("Bulk {i:02}"), None),
            &meta(),
        )
        .await
        .unwrap();
    }
    let p1 = org_admin::clients_page(&s.db, acme.id, &ClientFilter::default(), 1)
        .await
        .unwrap();
    let p2 = org_admin::clients_page(&s.db, acme.id, &ClientFilter::default(), 2)
        .await
        .unwrap();
    assert_eq!((p1.total, p1.pages, p1.clients.len()), (53, 2, 50));
    assert_eq!(p1.clients[0].name, "Bob's script");
    assert_eq!(p1.clients[1].name, "Bulk 00");
    assert_eq!(
        p2.clients
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Bulk 49", "Claude Desktop", "Reporting bot"]
    );
    let bulk = org_admin::clients_page(
        &s.db,
        acme.id,
        &ClientFilter {
            q: Some("bulk 4".into()),
            ..Default::default()
        },
        1,
    )
    .await
    .unwrap();
    assert_eq!((bulk.total, bulk.pages), (10, 1));
}
