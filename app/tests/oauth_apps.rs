//! A member's own OAuth apps (`/settings/oauth-apps`) and the apps connected to their account
//! (`/settings/connected-apps`): creation with the rules of dynamic registration, the secret
//! shown once and really accepted by client authentication, edits, rotation (the old secret
//! stops at once), deletion (connections and tokens go with it), ownership (anyone else's app is
//! "not found"), and the connected apps list and revocation. Every test runs on SQLite and on
//! PostgreSQL (the PostgreSQL variant is skipped, with the reason printed, when no server is
//! configured).

mod support;

use migration::on_both_backends;

use app::domain::connections;
use app::domain::entities::{audit_event, connection, oauth_client, organization, token};
use app::domain::oauth::client_auth::{self, ClientCredentials};
use app::domain::oauth::redirect_uri::MAX_URIS;
use app::domain::oauth::tokens;
use app::domain::oauth_apps::{self, AppChanges, AppOwner, NewApp};
use app::domain::org_policy::{self, PolicyChange};
use app::domain::secrets::sha256_hex;
use app::domain::{Services, members, orgs};
use app::error::AppError;
use app::model::{ClientKind, ConnectionStatus, OAuthAppStatus, Role};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use support::*;
use uuid::Uuid;

on_both_backends!(
    a_confidential_app_gets_a_secret_that_works_once_shown,
    a_public_app_has_no_secret,
    bad_input_is_refused_next_to_its_field_and_nothing_is_written,
    the_orgs_allowed_redirect_hosts_apply,
    anyone_elses_app_is_not_found_and_unchanged,
    editing_changes_the_settings_and_is_audited,
    rotating_the_secret_stops_the_old_one_at_once,
    deleting_an_app_ends_its_connections_and_tokens,
    apps_deleted_at_the_same_time_are_all_deleted,
    org_owned_apps_are_the_orgs_alone,
    the_list_is_newest_first_and_paginated,
    connected_apps_are_listed_per_org_and_revoked_by_their_user_only,
);

fn new_app(name: &str, confidential: bool, org: Option<&organization::Model>) -> NewApp {
    NewApp {
        name: name.into(),
        description: "Reports for the team".into(),
        redirect_uris: vec![REDIRECT.into(), "https://app.example.com/cb".into()],
        scopes: vec!["mcp:read".into()],
        confidential,
        org_id: org.map(|o| o.id),
        trust: Default::default(),
    }
}

async fn client_count(db: &DatabaseConnection) -> u64 {
    oauth_client::Entity::find().count(db).await.unwrap()
}
async fn authenticate(
    s: &Services,
    client_id: &str,
    secret: Option<&str>,
) -> Result<oauth_client::Model, String> {
    client_auth::authenticate(
        s,
        &ClientCredentials {
            client_id: client_id.into(),
            secret: secret.map(str::to_string),
            basic: true,
        },
        &Default::default(),
    )
    .await
    .map_err(|e| format!("{e:?}"))
}
fn field(e: &AppError) -> Option<&str> {
    e.field()
}

async fn a_confidential_app_gets_a_secret_that_works_once_shown(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let acme = org_of(&s, &ada, "acme").await;
    let created = oauth_apps::create(
        &s,
        ada.id,
        AppOwner::User(ada.id),
        &new_app("  Acme reporting ", true, Some(&acme)),
        &meta(),
    )
    .await
    .unwrap();
    let secret = created
        .secret
        .clone()
        .expect("a confidential app has a secret");
    assert!(secret.starts_with("gate_cs_"), "{secret}");
    let app = &created.app;
    assert_eq!(app.name, "Acme reporting");
    assert_eq!(app.description.as_deref(), Some("Reports for the team"));
    assert_eq!(app.kind, ClientKind::User);
    assert!(app.confidential);
    assert_eq!(
        app.redirect_uris,
        vec![REDIRECT, "https://app.example.com/cb"]
    );
    assert_eq!(app.scopes, vec!["mcp:read"]);
    assert_eq!(app.org_name.as_deref(), Some("Org acme"));
    assert_eq!(app.status, OAuthAppStatus::Unused);
    assert_eq!(
        app.secret_hint.as_deref(),
        Some(format!("gate_cs_…{}", &secret[secret.len() - 4..]).as_str())
    );
    // Stored: the hash, never the secret.
    let row = oauth_client::Entity::find_by_id(app.id)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.secret_hash.as_deref(),
        Some(sha256_hex(&secret).as_str())
    );
    assert_eq!(row.owner_user_id, Some(ada.id));
    assert_eq!(row.org_id, Some(acme.id));
    assert_eq!(row.token_endpoint_auth_method, "client_secret_basic");
    // The secret is what the token endpoint accepts; anything else is refused.
    assert!(
        authenticate(&s, &app.client_id, Some(&secret))
            .await
            .is_ok()
    );
    assert!(
        authenticate(&s, &app.client_id, Some("gate_cs_wrong"))
            .await
            .is_err()
    );
    assert!(authenticate(&s, &app.client_id, None).await.is_err());
    // The page shows it without the secret.
    let again = oauth_apps::get(&s.db, AppOwner::User(ada.id), app.id)
        .await
        .unwrap();
    assert_eq!(&again, app);
    assert_eq!(audit_count(&s.db, "oauth_app.created").await, 1);

    // The real flow works with it, and the app shows as used.
    let (conn_id, t) = connect(&s, &ada, &row, &acme).await;
    assert!(bearer_ok(&s, &t.access_token, &acme).await.is_ok());
    // Use is recorded off the request path: it shows within moments.
    let mut used = oauth_apps::get(&s.db, AppOwner::User(ada.id), app.id)
        .await
        .unwrap();
    for _ in 0..50 {
        if used.last_used_at.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        used = oauth_apps::get(&s.db, AppOwner::User(ada.id), app.id)
            .await
            .unwrap();
    }
    assert_eq!(used.status, OAuthAppStatus::Active);
    assert_eq!(used.active_connections, 1);
    assert!(used.last_used_at.is_some());
    assert!(
        connection::Entity::find_by_id(conn_id)
            .one(&s.db)
            .await
            .unwrap()
            .is_some()
    );
}

async fn a_public_app_has_no_secret(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    // A member without any org may still register an app.
    let created = oauth_apps::create(
        &s,
        ada.id,
        AppOwner::User(ada.id),
        &new_app("CLI", false, None),
        &meta(),
    )
    .await
    .unwrap();
    assert!(created.secret.is_none());
    assert!(!created.app.confidential);
    assert!(created.app.secret_hint.is_none());
    assert_eq!(created.app.org_name, None);
    assert!(authenticate(&s, &created.app.client_id, None).await.is_ok());
    assert!(
        authenticate(&s, &created.app.client_id, Some("gate_cs_x"))
            .await
            .is_err()
    );
    let e = oauth_apps::rotate_secret(&s, ada.id, AppOwner::User(ada.id), created.app.id, &meta())
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Conflict(_)), "{e:?}");
    assert_eq!(audit_count(&s.db, "oauth_app.secret_rotated").await, 0);
}

async fn bad_input_is_refused_next_to_its_field_and_nothing_is_written(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let acme = org_of(&s, &ada, "acme").await;
    let base = new_app("Good", true, Some(&acme));
    let too_many: Vec<String> = (0..=MAX_URIS)
        .map(|i| format!("https://app.example.com/cb{i}"))
        .collect();
    let cases: Vec<(NewApp, &str, &str)> = vec![
        (
            NewApp {
                name: "   ".into(),
                ..base.clone()
            },
            "name",
            "Give the app a name",
        ),
        (
            NewApp {
                name: "x".repeat(101),
                ..base.clone()
            },
            "name",
            "100 characters",
        ),
        (
            NewApp {
                name: "a\nb".into(),
                ..base.clone()
            },
            "name",
            "control",
        ),
        (
            NewApp {
                description: "d".repeat(1001),
                ..base.clone()
            },
            "description",
            "1000 characters",
        ),
        (
            NewApp {
                redirect_uris: vec![],
                ..base.clone()
            },
            "redirect_uris",
            "at least one redirect URI",
        ),
        (
            NewApp {
                redirect_uris: vec!["  ".into()],
                ..base.clone()
            },
            "redirect_uris",
            "at least one redirect URI",
        ),
        (
            NewApp {
                redirect_uris: vec!["http://example.com/cb".into()],
                ..base.clone()
            },
            "redirect_uris",
            "http is allowed only for loopback",
        ),
        (
            NewApp {
                redirect_uris: vec!["https://app.example.com/cb#x".into()],
                ..base.clone()
            },
            "redirect_uris",
            "fragment",
        ),
        (
            NewApp {
                redirect_uris: vec!["https://*.example.com/cb".into()],
                ..base.clone()
            },
            "redirect_uris",
            "wildcards",
        ),
        (
            NewApp {
                redirect_uris: vec!["javascript:alert(1)".into()],
                ..base.clone()
            },
            "redirect_uris",
            "not allowed",
        ),
        (
            NewApp {
                redirect_uris: vec!["/relative".into()],
                ..base.clone()
            },
            "redirect_uris",
            "not an absolute URI",
        ),
        (
            NewApp {
                redirect_uris: vec![format!("https://app.example.com/{}", "a".repeat(2001))],
                ..base.clone()
            },
            "redirect_uris",
            "longer than",
        ),
        (
            NewApp {
                redirect_uris: too_many,
                ..base.clone()
            },
            "redirect_uris",
            "at most",
        ),
        (
            NewApp {
                scopes: vec![],
                ..base.clone()
            },
            "scopes",
            "at least one permission",
        ),
        (
            NewApp {
                scopes: vec!["admin".into()],
                ..base.clone()
            },
            "scopes",
            "not a permission",
        ),
    ];
    for (new, want_field, want_text) in cases {
        let e = oauth_apps::create(&s, ada.id, AppOwner::User(ada.id), &new, &meta())
            .await
            .unwrap_err();
        assert_eq!(field(&e), Some(want_field), "{e:?}");
        assert!(
            e.to_string().contains(want_text),
            "{want_text:?} not in {e}"
        );
    }
    assert_eq!(client_count(&s.db).await, 0);
    assert_eq!(audit_count(&s.db, "oauth_app.created").await, 0);
}

async fn the_orgs_allowed_redirect_hosts_apply(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let acme = org_of(&s, &ada, "acme").await;
    org_policy::update(
        &s,
        ada.id,
        acme.id,
        &PolicyChange {
            allowed_redirect_hosts: Some(vec!["app.example.com".into()]),
            ..Default::default()
        },
        &meta(),
    )
    .await
    .unwrap();
    let acme = orgs::find(&s.db, acme.id).await.unwrap().unwrap();
    let e = oauth_apps::create(
        &s,
        ada.id,
        AppOwner::User(ada.id),
        &new_app("Hosted", true, Some(&acme)),
        &meta(),
    )
    .await
    .unwrap_err();
    assert_eq!(field(&e), Some("redirect_uris"));
    assert!(
        e.to_string()
            .contains("only allows apps that return to app.example.com"),
        "{e}"
    );
    assert_eq!(client_count(&s.db).await, 0);
    let ok = NewApp {
        redirect_uris: vec!["https://app.example.com/cb".into()],
        ..new_app("Hosted", true, Some(&acme))
    };
    let created = oauth_apps::create(&s, ada.id, AppOwner::User(ada.id), &ok, &meta())
        .await
        .unwrap();
    // Edits follow the same rule.
    let e = oauth_apps::update(
        &s,
        ada.id,
        AppOwner::User(ada.id),
        created.app.id,
        &AppChanges {
            name: "Hosted".into(),
            description: String::new(),
            redirect_uris: vec!["https://elsewhere.example/cb".into()],
            scopes: vec!["mcp:read".into()],
        },
        &meta(),
    )
    .await
    .unwrap_err();
    assert_eq!(field(&e), Some("redirect_uris"));
}

async fn anyone_elses_app_is_not_found_and_unchanged(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let bob = user(&s, "bob@example.com").await;
    let acme = org_of(&s, &ada, "acme").await;
    members::add_user(&s.db, ada.id, &acme, &bob, Role::Admin, &meta())
        .await
        .unwrap();
    let created = oauth_apps::create(
        &s,
        ada.id,
        AppOwner::User(ada.id),
        &new_app("Ada's", true, Some(&acme)),
        &meta(),
    )
    .await
    .unwrap();
    let secret = created.secret.unwrap();
    let id = created.app.id;
    let changes = AppChanges {
        name: "Bob's now".into(),
        description: String::new(),
        redirect_uris: vec![REDIRECT.into()],
        scopes: vec!["mcp:read".into()],
    };
    // Another member (even an admin of the org, through the user pages), the org as owner
    // (the app is a member's, not the org's), and unknown ids: all "not found".
    for owner in [AppOwner::User(bob.id), AppOwner::Org { org_id: acme.id }] {
        for unknown in [id, Uuid::now_v7()] {
            let not_found = |e: AppError| assert!(matches!(e, AppError::NotFound(_)), "{e:?}");
            not_found(oauth_apps::get(&s.db, owner, unknown).await.unwrap_err());
            not_found(
                oauth_apps::update(&s, bob.id, owner, unknown, &changes, &meta())
                    .await
                    .unwrap_err(),
            );
            not_found(
                oauth_apps::rotate_secret(&s, bob.id, owner, unknown, &meta())
                    .await
                    .unwrap_err(),
            );
            not_found(
                oauth_apps::delete(&s, bob.id, owner, unknown, &meta())
                    .await
                    .unwrap_err(),
            );
        }
        assert_eq!(oauth_apps::list(&s.db, owner, 1).await.unwrap().total, 0);
    }
    let still = oauth_apps::get(&s.db, AppOwner::User(ada.id), id)
        .await
        .unwrap();
    assert_eq!(still.name, "Ada's");
    assert!(
        authenticate(&s, &still.client_id, Some(&secret))
            .await
            .is_ok()
    );
    for action in [
        "oauth_app.updated",
        "oauth_app.secret_rotated",
        "oauth_app.deleted",
    ] {
        assert_eq!(audit_count(&s.db, action).await, 0, "{action}");
    }
}

async fn editing_changes_the_settings_and_is_audited(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let created = oauth_apps::create(
        &s,
        ada.id,
        AppOwner::User(ada.id),
        &new_app("Old name", false, None),
        &meta(),
    )
    .await
    .unwrap();
    let me = AppOwner::User(ada.id);
    // Bad input changes nothing.
    let e = oauth_apps::update(
        &s,
        ada.id,
        me,
        created.app.id,
        &AppChanges {
            name: "New name".into(),
            description: String::new(),
            redirect_uris: vec!["http://evil.example/cb".into()],
            scopes: vec!["mcp:read".into()],
        },
        &meta(),
    )
    .await
    .unwrap_err();
    assert_eq!(field(&e), Some("redirect_uris"));
    assert_eq!(
        oauth_apps::get(&s.db, me, created.app.id).await.unwrap(),
        created.app
    );
    let updated = oauth_apps::update(
        &s,
        ada.id,
        me,
        created.app.id,
        &AppChanges {
            name: "New name".into(),
            description: "  ".into(),
            redirect_uris: vec!["cursor://anysphere.cursor-mcp/oauth/callback".into()],
            scopes: vec!["mcp:read mcp:write".into()],
        },
        &meta(),
    )
    .await
    .unwrap();
    assert_eq!(updated.name, "New name");
    assert_eq!(updated.description, None);
    assert_eq!(
        updated.redirect_uris,
        vec!["cursor://anysphere.cursor-mcp/oauth/callback"]
    );
    assert_eq!(updated.scopes, vec!["mcp:read", "mcp:write"]);
    assert_eq!(updated.client_id, created.app.client_id);
    assert_eq!(audit_count(&s.db, "oauth_app.updated").await, 1);
    // Saving the same settings again is no change and no audit event.
    oauth_apps::update(
        &s,
        ada.id,
        me,
        created.app.id,
        &AppChanges {
            name: "New name".into(),
            description: String::new(),
            redirect_uris: vec!["cursor://anysphere.cursor-mcp/oauth/callback".into()],
            scopes: vec!["mcp:write".into(), "mcp:read".into()],
        },
        &meta(),
    )
    .await
    .unwrap();
    assert_eq!(audit_count(&s.db, "oauth_app.updated").await, 1);
}

async fn rotating_the_secret_stops_the_old_one_at_once(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let created = oauth_apps::create(
        &s,
        ada.id,
        AppOwner::User(ada.id),
        &new_app("Server app", true, None),
        &meta(),
    )
    .await
    .unwrap();
    let old = created.secret.unwrap();
    let client_id = created.app.client_id.clone();
    // The client row is cached for a few seconds by client authentication: warm it.
    assert!(authenticate(&s, &client_id, Some(&old)).await.is_ok());
    let rotated =
        oauth_apps::rotate_secret(&s, ada.id, AppOwner::User(ada.id), created.app.id, &meta())
            .await
            .unwrap();
    assert_ne!(rotated.secret, old);
    assert!(rotated.secret.starts_with("gate_cs_"));
    assert!(rotated.app.secret_rotated_at.is_some());
    assert_eq!(
        rotated.app.secret_hint.as_deref(),
        Some(format!("gate_cs_…{}", &rotated.secret[rotated.secret.len() - 4..]).as_str())
    );
    assert!(authenticate(&s, &client_id, Some(&old)).await.is_err());
    assert!(
        authenticate(&s, &client_id, Some(&rotated.secret))
            .await
            .is_ok()
    );
    assert_eq!(audit_count(&s.db, "oauth_app.secret_rotated").await, 1);
}

/// Deleting reads (the live connections and tokens) before it writes. On SQLite a plain BEGIN
/// would fail such a transaction with "database is locked" whenever another one committed in
/// between; every concurrent delete must succeed instead.
async fn apps_deleted_at_the_same_time_are_all_deleted(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let acme = org_of(&s, &ada, "acme").await;
    let mut ids = Vec::new();
    for i in 0..16 {
        let created = oauth_apps::create(
            &s,
            ada.id,
            AppOwner::User(ada.id),
            &new_app(&format!("App {i}"), true, Some(&acme)),
            &meta(),
        )
        .await
        .unwrap();
        ids.push(created.app.id);
    }
    let mut deletes = tokio::task::JoinSet::new();
    for id in ids {
        let s = s.clone();
        deletes.spawn(async move {
            oauth_apps::delete(&s, ada.id, AppOwner::User(ada.id), id, &meta()).await
        });
    }
    while let Some(done) = deletes.join_next().await {
        if let Err(e) = done.unwrap() {
            panic!("a concurrent delete failed: {e:?}");
        }
    }
    assert_eq!(client_count(&s.db).await, 0);
}

async fn deleting_an_app_ends_its_connections_and_tokens(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let bob = user(&s, "bob@example.com").await;
    let acme = org_of(&s, &ada, "acme").await;
    members::add_user(&s.db, ada.id, &acme, &bob, Role::Viewer, &meta())
        .await
        .unwrap();
    let created = oauth_apps::create(
        &s,
        ada.id,
        AppOwner::User(ada.id),
        &new_app("Doomed", false, Some(&acme)),
        &meta(),
    )
    .await
    .unwrap();
    let row = oauth_client::Entity::find_by_id(created.app.id)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    let (_, ada_tokens) = connect(&s, &ada, &row, &acme).await;
    let (_, bob_tokens) = connect(&s, &bob, &row, &acme).await;
    // Warm the bearer cache: deletion must not wait for it to expire.
    assert!(bearer_ok(&s, &ada_tokens.access_token, &acme).await.is_ok());
    assert!(bearer_ok(&s, &bob_tokens.access_token, &acme).await.is_ok());
    assert_eq!(
        oauth_apps::get(&s.db, AppOwner::User(ada.id), row.id)
            .await
            .unwrap()
            .active_connections,
        2
    );
    let was = oauth_apps::delete(&s, ada.id, AppOwner::User(ada.id), row.id, &meta())
        .await
        .unwrap();
    assert_eq!(was.name, "Doomed");
    for t in [&ada_tokens, &bob_tokens] {
        assert!(bearer_ok(&s, &t.access_token, &acme).await.is_err());
        assert!(
            tokens::find_by_secret(&s.db, t.refresh_token.as_deref().unwrap())
                .await
                .unwrap()
                .is_none()
        );
    }
    assert!(authenticate(&s, &row.client_id, None).await.is_err());
    assert_eq!(client_count(&s.db).await, 0);
    assert_eq!(
        connection::Entity::find()
            .filter(connection::Column::ClientId.eq(row.id))
            .count(&s.db)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        token::Entity::find()
            .filter(token::Column::ClientId.eq(row.id))
            .count(&s.db)
            .await
            .unwrap(),
        0
    );
    assert!(matches!(
        oauth_apps::get(&s.db, AppOwner::User(ada.id), row.id)
            .await
            .unwrap_err(),
        AppError::NotFound(_)
    ));
    assert_eq!(audit_count(&s.db, "oauth_app.deleted").await, 1);
    assert!(
        connections::list_for_user(&s.db, bob.id, 1)
            .await
            .unwrap()
            .connections
            .is_empty()
    );
}

async fn org_owned_apps_are_the_orgs_alone(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let acme = org_of(&s, &ada, "acme").await;
    let beta = org_of(&s, &ada, "beta").await;
    let owner = AppOwner::Org { org_id: acme.id };
    let created = oauth_apps::create(
        &s,
        ada.id,
        owner,
        &NewApp {
            // Ignored for an org's app: it belongs to the owner's org.
            org_id: Some(beta.id),
            ..new_app("Acme's app", true, None)
        },
        &meta(),
    )
    .await
    .unwrap();
    assert_eq!(created.app.kind, ClientKind::Admin);
    assert_eq!(created.app.org_name.as_deref(), Some("Org acme"));
    let row = oauth_client::Entity::find_by_id(created.app.id)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.owner_user_id, None);
    assert_eq!(row.org_id, Some(acme.id));
    let audit = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("oauth_app.created"))
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(audit.org_id, Some(acme.id));
    assert_eq!(audit.actor_user_id, Some(ada.id));
    assert_eq!(oauth_apps::list(&s.db, owner, 1).await.unwrap().total, 1);
    // Not the creator's own app, and not another org's.
    assert_eq!(
        oauth_apps::list(&s.db, AppOwner::User(ada.id), 1)
            .await
            .unwrap()
            .total,
        0
    );
    for other in [AppOwner::User(ada.id), AppOwner::Org { org_id: beta.id }] {
        assert!(matches!(
            oauth_apps::delete(&s, ada.id, other, row.id, &meta())
                .await
                .unwrap_err(),
            AppError::NotFound(_)
        ));
    }
    oauth_apps::delete(&s, ada.id, owner, row.id, &meta())
        .await
        .unwrap();
    assert_eq!(client_count(&s.db).await, 0);
}

async fn the_list_is_newest_first_and_paginated(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let bob = user(&s, "bob@example.com").await;
    let me = AppOwner::User(ada.id);
    let empty = oauth_apps::list(&s.db, me, 1).await.unwrap();
    assert_eq!(
        (empty.apps.len(), empty.page, empty.pages, empty.total),
        (0, 1, 1, 0)
    );
    for i in 0..(oauth_apps::PAGE_SIZE + 2) {
        oauth_apps::create(
            &s,
            ada.id,
            me,
            &new_app(&format!("App {i}"), false, None),
            &meta(),
        )
        .await
        .unwrap();
    }
    oauth_apps::create(
        &s,
        bob.id,
        AppOwner::User(bob.id),
        &new_app("Bob's", false, None),
        &meta(),
    )
    .await
    .unwrap();
    let first = oauth_apps::list(&s.db, me, 1).await.unwrap();
    assert_eq!(first.total, oauth_apps::PAGE_SIZE + 2);
    assert_eq!(first.pages, 2);
    assert_eq!(first.apps.len() as u64, oauth_apps::PAGE_SIZE);
    assert_eq!(
        first.apps[0].name,
        format!("App {}", oauth_apps::PAGE_SIZE + 1)
    );
    let second = oauth_apps::list(&s.db, me, 2).await.unwrap();
    assert_eq!(
        second
            .apps
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        vec!["App 1", "App 0"]
    );
    // Out of range: the last page.
    assert_eq!(oauth_apps::list(&s.db, me, 99).await.unwrap().page, 2);
    assert!(first.apps.iter().all(|a| a.name != "Bob's"));
}

async fn connected_apps_are_listed_per_org_and_revoked_by_their_user_only(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let bob = user(&s, "bob@example.com").await;
    let zeta = org_of(&s, &ada, "zeta").await;
    let acme = org_of(&s, &ada, "acme").await;
    members::add_user(&s.db, ada.id, &acme, &bob, Role::Viewer, &meta())
        .await
        .unwrap();
    let app = oauth_apps::create(
        &s,
        bob.id,
        AppOwner::User(bob.id),
        &new_app("Bob's tool", false, Some(&acme)),
        &meta(),
    )
    .await
    .unwrap()
    .client;
    let (in_zeta, zeta_tokens) = connect(&s, &ada, &app, &zeta).await;
    let (in_acme, acme_tokens) = connect(&s, &ada, &app, &acme).await;
    let (bobs, _) = connect(&s, &bob, &app, &acme).await;

    let mine = connections::list_for_user(&s.db, ada.id, 1).await.unwrap();
    assert_eq!(mine.total, 2);
    // By org name: Org acme before Org zeta.
    assert_eq!(
        mine.connections
            .iter()
            .map(|c| (c.id, c.org_slug.as_str()))
            .collect::<Vec<_>>(),
        vec![(in_acme, "acme"), (in_zeta, "zeta")]
    );
    let c = &mine.connections[0];
    assert_eq!(c.client_name, "Bob's tool");
    assert_eq!(c.client_kind, ClientKind::User);
    assert_eq!(c.scopes, vec!["mcp:read"]);
    assert_eq!(c.status, ConnectionStatus::Active);
    assert!(c.last_used_at.is_some());

    // Someone else's connection, or an unknown id: not found, nothing ends.
    for id in [bobs, Uuid::now_v7()] {
        assert!(matches!(
            connections::revoke_own(&s, ada.id, id, &meta())
                .await
                .unwrap_err(),
            AppError::NotFound(_)
        ));
    }
    assert!(
        bearer_ok(&s, &acme_tokens.access_token, &acme)
            .await
            .is_ok()
    );
    // Revoking ends that connection and its tokens at once, and nothing else.
    let revoked = connections::revoke_own(&s, ada.id, in_acme, &meta())
        .await
        .unwrap();
    assert_eq!(revoked.status, ConnectionStatus::Revoked);
    assert!(
        bearer_ok(&s, &acme_tokens.access_token, &acme)
            .await
            .is_err()
    );
    assert!(
        bearer_ok(&s, &zeta_tokens.access_token, &zeta)
            .await
            .is_ok()
    );
    let after = connections::list_for_user(&s.db, ada.id, 1).await.unwrap();
    assert_eq!(
        after.connections.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![in_zeta]
    );
    assert_eq!(
        connections::list_for_user(&s.db, bob.id, 1)
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(audit_count(&s.db, "connection.revoked").await, 1);
    // Again: nothing more happens.
    connections::revoke_own(&s, ada.id, in_acme, &meta())
        .await
        .unwrap();
    assert_eq!(audit_count(&s.db, "connection.revoked").await, 1);
}
