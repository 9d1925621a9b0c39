//! Standard personal access tokens (`/settings/tokens`): who may create them, what is checked,
//! what is stored, the list, and revocation. Every test runs on SQLite and on PostgreSQL (the
//! PostgreSQL variant is skipped, with the reason printed, when no server is configured).

mod support;

use migration::on_both_backends;

use app::domain::entities::{audit_event, token};
use app::domain::oauth::tokens;
use app::domain::org_policy::{self, PolicyChange};
use app::domain::pats::{self, NewPat};
use app::domain::secrets::sha256_hex;
use app::domain::{members, orgs};
use app::error::AppError;
use app::model::{Role, TokenStatus};
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, Set,
};
use support::*;
use uuid::Uuid;

on_both_backends!(
    only_restricted_queriers_and_up_may_create,
    org_policy_off_refuses_with_the_docs_wording,
    bad_input_is_refused_and_nothing_is_written,
    the_stored_token_is_a_hash_and_the_secret_is_shown_once,
    the_list_shows_own_tokens_newest_first_with_status_and_pages,
    revoking_someone_elses_token_is_not_found,
    revoking_own_token_revokes_it_once,
);

fn new_pat(name: &str, scopes: &[&str], days: i64) -> NewPat {
    NewPat {
        name: name.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        expires_in_days: days,
    }
}

async fn pat_count(db: &DatabaseConnection) -> u64 {
    token::Entity::find()
        .filter(token::Column::Kind.eq(app::domain::entities::token::TokenKind::Pat))
        .count(db)
        .await
        .unwrap()
}
async fn only_restricted_queriers_and_up_may_create(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let vic = user(&s, "vic@example.com").await;
    let rita = user(&s, "rita@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    member(&s, &ada, &org, &vic, Role::Viewer).await;
    member(&s, &ada, &org, &rita, Role::RestrictedQuerier).await;

    let e = pats::create(
        &s,
        &vic,
        &org,
        Role::Viewer,
        &new_pat("laptop", &["mcp:read"], 30),
        &meta(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        e,
        AppError::Forbidden(
            "Your role viewer can't create personal access tokens; ask an admin of the organization for access."
                .into()
        )
    );
    assert_eq!(
        pats::refusal(&org, Role::Viewer, false),
        Some(e.to_string())
    );
    assert_eq!(pat_count(&s.db).await, 0, "nothing written for a viewer");
    assert_eq!(audit_count(&s.db, "pat.created").await, 0);

    // The least role that may: restricted querier; and admins.
    assert_eq!(pats::refusal(&org, Role::RestrictedQuerier, false), None);
    pats::create(
        &s,
        &rita,
        &org,
        Role::RestrictedQuerier,
        &new_pat("script", &["mcp:read"], 7),
        &meta(),
    )
    .await
    .unwrap();
    pats::create(
        &s,
        &ada,
        &org,
        Role::Admin,
        &new_pat("admin script", &["mcp:write"], 7),
        &meta(),
    )
    .await
    .unwrap();
    assert_eq!(pat_count(&s.db).await, 2);
    assert_eq!(audit_count(&s.db, "pat.created").await, 2);
}

async fn org_policy_off_refuses_with_the_docs_wording(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let quinn = user(&s, "quinn@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    member(&s, &ada, &org, &quinn, Role::Querier).await;
    let change = PolicyChange {
        personal_tokens_enabled: Some(false),
        ..Default::default()
    };
    org_policy::update(&s, ada.id, org.id, &change, &meta())
        .await
        .unwrap();
    let org = orgs::find(&s.db, org.id).await.unwrap().unwrap();

    let expected = "Personal Access Tokens aren't enabled: Org acme doesn't allow personal access tokens. Ask an admin to enable them in Settings > API access > Personal tokens.";
    for (who, role) in [(&quinn, Role::Querier), (&ada, Role::Admin)] {
        let e = pats::create(
            &s,
            who,
            &org,
            role,
            &new_pat("ci", &["mcp:read"], 30),
            &meta(),
        )
        .await
        .unwrap_err();
        assert_eq!(e, AppError::Forbidden(expected.into()), "{role:?}");
        assert_eq!(pats::refusal(&org, role, false).as_deref(), Some(expected));
    }
    // A viewer hears about their role first.
    assert!(
        pats::refusal(&org, Role::Viewer, false)
            .unwrap()
            .starts_with("Your role viewer")
    );
    assert_eq!(pat_count(&s.db).await, 0);
}

async fn bad_input_is_refused_and_nothing_is_written(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    let change = PolicyChange {
        pat_max_ttl_days: Some(60),
        ..Default::default()
    };
    org_policy::update(&s, ada.id, org.id, &change, &meta())
        .await
        .unwrap();
    let org = orgs::find(&s.db, org.id).await.unwrap().unwrap();

    let long_name = "x".repeat(101);
    let cases: Vec<(NewPat, &str)> = vec![
        (new_pat("too long", &["mcp:read"], 61), "expires_in_days"),
        (new_pat("zero", &["mcp:read"], 0), "expires_in_days"),
        (new_pat("negative", &["mcp:read"], -5), "expires_in_days"),
        (new_pat("", &["mcp:read"], 30), "name"),
        (new_pat("   ", &["mcp:read"], 30), "name"),
        (new_pat(&long_name, &["mcp:read"], 30), "name"),
        (new_pat("line\nbreak", &["mcp:read"], 30), "name"),
        (new_pat("bad scope", &["admin"], 30), "scopes"),
        (new_pat("mixed", &["mcp:read", "openid"], 30), "scopes"),
        (new_pat("no scope", &[], 30), "scopes"),
        (new_pat("blank scope", &[" "], 30), "scopes"),
    ];
    for (input, field) in cases {
        let e = pats::create(&s, &ada, &org, Role::Admin, &input, &meta())
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some(field), "{input:?}: {e}");
    }
    let e = pats::create(
        &s,
        &ada,
        &org,
        Role::Admin,
        &new_pat("over", &["mcp:read"], 61),
        &meta(),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("at most 60 days"), "{e}");
    assert_eq!(pat_count(&s.db).await, 0, "nothing written");
    assert_eq!(audit_count(&s.db, "pat.created").await, 0);

    // The edges are accepted: the org's maximum, one day, a 100-character name (trimmed).
    let hundred = format!("  {}  ", "é".repeat(100));
    for (name, days) in [("max", 60), ("one", 1), (hundred.as_str(), 30)] {
        pats::create(
            &s,
            &ada,
            &org,
            Role::Admin,
            &new_pat(name, &["mcp:read"], days),
            &meta(),
        )
        .await
        .unwrap();
    }
    assert_eq!(pat_count(&s.db).await, 3);
    assert!(
        token::Entity::find()
            .filter(token::Column::Name.eq("é".repeat(100)))
            .one(&s.db)
            .await
            .unwrap()
            .is_some(),
        "the name is stored trimmed"
    );

    // The form's choices follow the org's maximum.
    assert_eq!(pats::expiry_choices(60), vec![7, 30, 60]);
    assert_eq!(pats::default_expiry_days(60), 30);
    assert_eq!(pats::default_expiry_days(5), 5);
}

async fn the_stored_token_is_a_hash_and_the_secret_is_shown_once(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    let before = Utc::now();
    let created = pats::create(
        &s,
        &ada,
        &org,
        Role::Admin,
        &new_pat("  CI deploy ", &["mcp:write", "mcp:read", "mcp:read"], 90),
        &meta(),
    )
    .await
    .unwrap();
    let secret = &created.secret;
    assert!(secret.starts_with("gate_pat_"), "{secret}");
    assert_eq!(
        app::domain::oauth::token_format::parse(secret),
        Some(app::domain::oauth::token_format::SecretKind::PersonalToken)
    );

    let rows = token::Entity::find().all(&s.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.id, created.token.id);
    assert_eq!(row.kind, app::domain::entities::token::TokenKind::Pat);
    assert_eq!(row.token_hash, sha256_hex(secret));
    assert_ne!(row.token_hash, *secret);
    assert_eq!(row.prefix, "gate_pat_");
    assert_eq!(row.last_four, secret[secret.len() - 4..]);
    assert_eq!(row.name.as_deref(), Some("CI deploy"));
    assert_eq!(row.user_id, ada.id);
    assert_eq!(row.org_id, org.id);
    assert_eq!(row.resource, None);
    assert_eq!(row.client_id, None);
    assert_eq!(row.connection_id, None);
    assert_eq!(row.scope, "mcp:read mcp:write");
    let expires = row.expires_at.expect("a PAT always expires");
    assert!(expires >= before + Duration::days(90) && expires <= Utc::now() + Duration::days(90));
    assert_eq!(
        tokens::find_by_secret(&s.db, secret)
            .await
            .unwrap()
            .map(|t| t.id),
        Some(row.id)
    );

    // The secret is nowhere in the database: not in the row, not in the audit log.
    let event = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("pat.created"))
        .one(&s.db)
        .await
        .unwrap()
        .expect("pat.created audit event");
    assert_eq!(event.org_id, Some(org.id));
    assert_eq!(event.actor_user_id, Some(ada.id));
    assert_eq!(event.target_type.as_deref(), Some("token"));
    assert_eq!(event.target_id, Some(row.id.to_string()));
    assert_eq!(event.ip.as_deref(), Some("203.0.113.7"));
    let details = event.details.unwrap_or_default();
    assert!(
        details.contains("CI deploy") && !details.contains(secret.as_str()),
        "{details}"
    );
    assert!(!format!("{row:?}").contains(secret.as_str()));

    // What the page shows about it.
    assert_eq!(
        created.token.hint,
        format!("gate_pat_…{}", &secret[secret.len() - 4..])
    );
    assert_eq!(created.token.status, TokenStatus::Active);
    assert_eq!(created.token.scopes, vec!["mcp:read", "mcp:write"]);
}

async fn the_list_shows_own_tokens_newest_first_with_status_and_pages(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let bob = user(&s, "bob@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    let other = org_of(&s, &ada, "other").await;
    member(&s, &ada, &org, &bob, Role::Querier).await;

    let empty = pats::list_for_user(&s.db, ada.id, org.id, 1).await.unwrap();
    assert!(empty.tokens.is_empty());
    assert_eq!((empty.page, empty.pages, empty.total), (1, 1, 0));

    let first = pats::create(
        &s,
        &ada,
        &org,
        Role::Admin,
        &new_pat("first", &["mcp:read"], 30),
        &meta(),
    )
    .await
    .unwrap();
    let second = pats::create(
        &s,
        &ada,
        &org,
        Role::Admin,
        &new_pat("second", &["mcp:read"], 30),
        &meta(),
    )
    .await
    .unwrap();
    // Not listed: Bob's token in the same org, Ada's token in another org.
    pats::create(
        &s,
        &bob,
        &org,
        Role::Querier,
        &new_pat("bob's", &["mcp:read"], 30),
        &meta(),
    )
    .await
    .unwrap();
    pats::create(
        &s,
        &ada,
        &other,
        Role::Admin,
        &new_pat("elsewhere", &["mcp:read"], 30),
        &meta(),
    )
    .await
    .unwrap();

    let list = pats::list_for_user(&s.db, ada.id, org.id, 1).await.unwrap();
    assert_eq!(
        list.tokens
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        vec!["second", "first"]
    );
    assert_eq!(list.tokens[1], first.token);
    assert_eq!(list.tokens[0].id, second.token.id);
    assert!(list.tokens[0].hint.starts_with("gate_pat_…"));
    assert_eq!(
        list.tokens[0].hint.chars().count(),
        "gate_pat_…".chars().count() + 4
    );
    assert_eq!(list.tokens[0].last_used_at, None);
    assert_eq!(list.total, 2);

    // Expired and disabled tokens say so.
    let mut row = token::Entity::find_by_id(first.token.id)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    row.expires_at = Set(Some(Utc::now() - Duration::minutes(1)));
    row.update(&s.db).await.unwrap();
    let mut row = token::Entity::find_by_id(second.token.id)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    row.disabled_at = Set(Some(Utc::now()));
    row.update(&s.db).await.unwrap();
    let list = pats::list_for_user(&s.db, ada.id, org.id, 1).await.unwrap();
    assert_eq!(
        list.tokens.iter().map(|t| t.status).collect::<Vec<_>>(),
        vec![TokenStatus::Disabled, TokenStatus::Expired]
    );

    // Pages of 50, newest first; a page past the end shows the last one.
    let rows: Vec<token::ActiveModel> = (0..50)
        .map(|i| {
            let name = format!("bulk {i:02}");
            let (_, mut row) = tokens::prepare(
                app::domain::oauth::token_format::SecretKind::PersonalToken,
                Some(Duration::days(30)),
                &tokens::TokenSpec {
                    name: Some(name),
                    ..loose_token(ada.id, org.id)
                },
            );
            row.created_at = Set(Utc::now() + Duration::seconds(i + 1));
            row
        })
        .collect();
    token::Entity::insert_many(rows).exec(&s.db).await.unwrap();
    let p1 = pats::list_for_user(&s.db, ada.id, org.id, 1).await.unwrap();
    assert_eq!(
        (p1.page, p1.pages, p1.total, p1.tokens.len()),
        (1, 2, 52, 50)
    );
    assert_eq!(p1.tokens[0].name, "bulk 49");
    let p2 = pats::list_for_user(&s.db, ada.id, org.id, 2).await.unwrap();
    assert_eq!(
        p2.tokens
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        vec!["second", "first"]
    );
    let past = pats::list_for_user(&s.db, ada.id, org.id, 99)
        .await
        .unwrap();
    assert_eq!(past.page, 2);
    assert_eq!(
        pats::list_for_user(&s.db, ada.id, org.id, 0)
            .await
            .unwrap()
            .page,
        1
    );
}

async fn revoking_someone_elses_token_is_not_found(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let bob = user(&s, "bob@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    let other = org_of(&s, &bob, "other").await;
    member(&s, &ada, &org, &bob, Role::Querier).await;
    let bobs = pats::create(
        &s,
        &bob,
        &org,
        Role::Querier,
        &new_pat("bob's", &["mcp:read"], 30),
        &meta(),
    )
    .await
    .unwrap();

    let attempts = [
        (ada.id, org.id, bobs.token.id), // an admin of the org, but not the owner
        (bob.id, other.id, bobs.token.id), // the owner, in another org
        (bob.id, org.id, Uuid::now_v7()), // an unknown id
    ];
    let mut messages = Vec::new();
    for (user_id, org_id, token_id) in attempts {
        let e = pats::revoke_own(&s, user_id, org_id, token_id, &meta())
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{e:?}");
        messages.push(e.to_string());
    }
    messages.dedup();
    assert_eq!(
        messages.len(),
        1,
        "the same answer whether or not it exists"
    );

    let row = token::Entity::find_by_id(bobs.token.id)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.revoked_at, None, "unchanged");
    assert_eq!(row.revoke_reason, None);
    assert_eq!(audit_count(&s.db, "pat.revoked").await, 0);
}

async fn revoking_own_token_revokes_it_once(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    let keep = pats::create(
        &s,
        &ada,
        &org,
        Role::Admin,
        &new_pat("keep", &["mcp:read"], 30),
        &meta(),
    )
    .await
    .unwrap();
    let gone = pats::create(
        &s,
        &ada,
        &org,
        Role::Admin,
        &new_pat("gone", &["mcp:read"], 30),
        &meta(),
    )
    .await
    .unwrap();

    let revoked = pats::revoke_own(&s, ada.id, org.id, gone.token.id, &meta())
        .await
        .unwrap();
    assert_eq!(revoked.status, TokenStatus::Revoked);
    let row = tokens::find_by_secret(&s.db, &gone.secret)
        .await
        .unwrap()
        .unwrap();
    assert!(row.revoked_at.is_some());
    assert_eq!(row.revoke_reason.as_deref(), Some("revoked_by_user"));
    let kept = tokens::find_by_secret(&s.db, &keep.secret)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.revoked_at, None, "only that token");

    // Again: a no-op success, audited once.
    let at = row.revoked_at;
    let again = pats::revoke_own(&s, ada.id, org.id, gone.token.id, &meta())
        .await
        .unwrap();
    assert_eq!(again.status, TokenStatus::Revoked);
    let row = token::Entity::find_by_id(gone.token.id)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.revoked_at, at);
    assert_eq!(audit_count(&s.db, "pat.revoked").await, 1);
    let event = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("pat.revoked"))
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.target_id, Some(gone.token.id.to_string()));
    assert_eq!(event.actor_user_id, Some(ada.id));

    let list = pats::list_for_user(&s.db, ada.id, org.id, 1).await.unwrap();
    assert_eq!(
        list.tokens
            .iter()
            .map(|t| (t.name.as_str(), t.status))
            .collect::<Vec<_>>(),
        vec![
            ("gone", TokenStatus::Revoked),
            ("keep", TokenStatus::Active)
        ]
    );

    // A member demoted to viewer can't create tokens any more, but may still revoke their own.
    let bob = user(&s, "bob@example.com").await;
    let membership = member(&s, &ada, &org, &bob, Role::Querier).await;
    let bobs = pats::create(
        &s,
        &bob,
        &org,
        Role::Querier,
        &new_pat("bob's", &["mcp:read"], 30),
        &meta(),
    )
    .await
    .unwrap();
    members::change_role(&s, ada.id, &org, membership, Role::Viewer, &meta())
        .await
        .unwrap();
    let role = orgs::role_in(&s.db, org.id, bob.id).await.unwrap().unwrap();
    assert_eq!(role, Role::Viewer);
    assert!(pats::refusal(&org, role, false).is_some());
    let revoked = pats::revoke_own(&s, bob.id, org.id, bobs.token.id, &meta())
        .await
        .unwrap();
    assert_eq!(revoked.status, TokenStatus::Revoked);
}
