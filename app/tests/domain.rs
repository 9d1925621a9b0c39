//! Domain rules against real databases: every test runs on SQLite and on PostgreSQL
//! (the PostgreSQL variant is skipped, with the reason printed, when no server is configured).

mod support;

use migration::on_both_backends;

use std::time::Duration;
use support::*;

use app::domain::entities::{audit_event, user};
use app::domain::throttle::ThrottleLimits;
use app::domain::validate::{Email, Password, Slug};
use app::domain::{audit, invitations, members, orgs, users};
use app::error::AppError;
use app::model::{AddMemberOutcome, InvitationState, Role};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

on_both_backends!(
    accounts_sign_up_and_sign_in,
    sign_in_is_throttled_per_account_and_per_address,
    creating_an_org_makes_the_creator_its_admin,
    adding_members_and_inviting_by_email,
    invitations_are_single_use_and_bound_to_the_invited_address,
    an_org_always_keeps_one_admin,
    concurrent_demotions_leave_an_admin,
    membership_ids_of_other_orgs_are_not_found,
    parallel_wrong_passwords_are_throttled_like_sequential_ones,
    sign_ups_are_throttled_per_address,
    old_links_and_mail_are_swept,
);

async fn audit_actions(db: &DatabaseConnection) -> Vec<String> {
    audit_event::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

async fn accounts_sign_up_and_sign_in(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "Ada@Example.com").await;
    assert_eq!(ada.email, "ada@example.com");
    assert!(ada.password_hash.starts_with("$argon2id$"));

    // The same address again, in another case, is a duplicate.
    let email = Email::parse("ADA@example.com").unwrap();
    let password = Password::parse("another long passphrase", None).unwrap();
    let dup = users::create_user(&s, &email, &password, None, true, &meta())
        .await
        .unwrap_err();
    assert_eq!(dup.field(), Some("email"));
    assert_eq!(user::Entity::find().count(&s.db).await.unwrap(), 1);

    let signed = users::authenticate(
        &s,
        " ada@EXAMPLE.com ",
        "correct horse battery staple",
        &meta(),
    )
    .await
    .unwrap();
    assert_eq!(signed.id, ada.id);
    assert!(signed.last_login_at.is_some());

    let wrong = users::authenticate(&s, "ada@example.com", "wrong horse battery staple", &meta())
        .await
        .unwrap_err();
    let unknown = users::authenticate(
        &s,
        "nobody@example.com",
        "correct horse battery staple",
        &meta(),
    )
    .await
    .unwrap_err();
    assert_eq!(wrong.to_string(), "Incorrect email or password.");
    assert_eq!(
        wrong, unknown,
        "unknown accounts and wrong passwords must look the same"
    );

    let actions = audit_actions(&s.db).await;
    assert!(
        actions.contains(&"user.signup".to_string()) && actions.contains(&"user.login".to_string()),
        "{actions:?}"
    );
}

async fn sign_in_is_throttled_per_account_and_per_address(db: DatabaseConnection) {
    let s = services(db).with_throttle_limits(ThrottleLimits {
        per_account: 3,
        per_ip: 5,
        window: Duration::from_secs(600),
        ..Default::default()
    });
    user(&s, "ada@example.com").await;
    for _ in 0..3 {
        let e = users::authenticate(&s, "ada@example.com", "not the password", &meta())
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Invalid { .. }));
    }
    // Locked now: even the right password is refused, with a message that says why.
    let e = users::authenticate(
        &s,
        "ada@example.com",
        "correct horse battery staple",
        &meta(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, AppError::TooManyRequests(m) if m.contains("this account")),
        "{e:?}"
    );

    // The same address guessing other accounts hits the per-address limit.
    for i in 0..2 {
        let _ = users::authenticate(
            &s,
            &format!("x{i}@example.com"),
            "guess guess guess",
            &meta(),
        )
        .await;
    }
    let e = users::authenticate(&s, "other@example.com", "guess guess guess", &meta())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, AppError::TooManyRequests(m) if m.contains("your network")),
        "{e:?}"
    );
}

async fn creating_an_org_makes_the_creator_its_admin(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    assert_eq!(
        orgs::role_in(&s.db, org.id, ada.id).await.unwrap(),
        Some(Role::Admin)
    );
    // Policy defaults: everything on, documented lifetimes.
    assert!(org.mcp_enabled && org.personal_tokens_enabled && org.mcp_oauth_pats_enabled);
    assert_eq!(org.access_token_ttl_secs, 3600);

    let e = orgs::create_org(
        &s.db,
        ada.id,
        &Slug::parse("ACME").unwrap(),
        "Again".into(),
        &meta(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.field(), Some("slug"));

    let mine = orgs::orgs_of(&s.db, ada.id).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].slug, "acme");

    // A non-member and an unknown slug get the same answer.
    let bob = user(&s, "bob@example.com").await;
    let not_member = orgs::member_org(&s.db, bob.id, "acme").await.unwrap_err();
    let unknown = orgs::member_org(&s.db, bob.id, "nope").await.unwrap_err();
    assert!(
        matches!(not_member, AppError::NotFound(_)) && matches!(unknown, AppError::NotFound(_))
    );

    let created = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("org.created"))
        .one(&s.db)
        .await
        .unwrap()
        .expect("org.created audit event");
    assert_eq!(created.org_id, Some(org.id));
    assert_eq!(created.ip.as_deref(), Some("203.0.113.7"));
    let _ = audit::AuditEntry::new("noop");
}

async fn adding_members_and_inviting_by_email(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let bob = user(&s, "bob@example.com").await;
    let org = org_of(&s, &ada, "acme").await;

    let email = Email::parse("bob@example.com").unwrap();
    let out = invitations::add_by_email(&s, ada.id, &org, &email, Role::Querier, &meta())
        .await
        .unwrap();
    assert_eq!(
        out,
        AddMemberOutcome::Added {
            email: "bob@example.com".into(),
            role: Role::Querier
        }
    );
    assert_eq!(
        orgs::role_in(&s.db, org.id, bob.id).await.unwrap(),
        Some(Role::Querier)
    );

    let again = invitations::add_by_email(&s, ada.id, &org, &email, Role::Admin, &meta())
        .await
        .unwrap_err();
    assert_eq!(again.field(), Some("email"));
    assert_eq!(
        orgs::role_in(&s.db, org.id, bob.id).await.unwrap(),
        Some(Role::Querier),
        "nothing changed"
    );

    let carol = Email::parse("carol@example.com").unwrap();
    let AddMemberOutcome::Invited { role, .. } =
        invitations::add_by_email(&s, ada.id, &org, &carol, Role::Viewer, &meta())
            .await
            .unwrap()
    else {
        panic!("expected an invitation");
    };
    assert_eq!(role, Role::Viewer);
    let link = mailed_link(&s, "carol@example.com").await;
    assert!(link.starts_with("https://gate.test/invite/"), "{link}");
    let pending = invitations::list_pending(&s.db, org.id).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].invited_by.as_deref(), Some("ada@example.com"));

    let listed = members::list(&s.db, org.id, ada.id).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|m| (m.email.as_str(), m.role, m.is_self))
            .collect::<Vec<_>>(),
        vec![
            ("ada@example.com", Role::Admin, true),
            ("bob@example.com", Role::Querier, false)
        ]
    );
}

async fn invitations_are_single_use_and_bound_to_the_invited_address(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    let carol_email = Email::parse("carol@example.com").unwrap();
    invitations::create(&s, ada.id, &org, &carol_email, Role::Querier, &meta())
        .await
        .unwrap();
    let token = link_secret(&mailed_link(&s, "carol@example.com").await);

    let info = invitations::info(&s.db, &token, None).await.unwrap();
    assert_eq!(
        (info.state, info.role, info.email.as_str()),
        (InvitationState::Pending, Role::Querier, "carol@example.com")
    );
    assert!(matches!(
        invitations::info(&s.db, "forged-token", None).await,
        Err(AppError::NotFound(_))
    ));

    let mallory = user(&s, "mallory@example.com").await;
    let e = invitations::accept(&s.db, &token, &mallory, &meta())
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
    assert_eq!(
        orgs::role_in(&s.db, org.id, mallory.id).await.unwrap(),
        None
    );

    let carol = user(&s, "carol@example.com").await;
    let joined = invitations::accept(&s.db, &token, &carol, &meta())
        .await
        .unwrap();
    assert_eq!(joined.id, org.id);
    assert_eq!(
        orgs::role_in(&s.db, org.id, carol.id).await.unwrap(),
        Some(Role::Querier)
    );
    assert!(matches!(
        invitations::accept(&s.db, &token, &carol, &meta()).await,
        Err(AppError::Conflict(_))
    ));

    // Re-inviting replaces the pending invitation; revoking makes the link useless.
    let dave_email = Email::parse("dave@example.com").unwrap();
    invitations::create(&s, ada.id, &org, &dave_email, Role::Viewer, &meta())
        .await
        .unwrap();
    let first = link_secret(&mailed_link(&s, "dave@example.com").await);
    invitations::create(&s, ada.id, &org, &dave_email, Role::Viewer, &meta())
        .await
        .unwrap();
    let second = link_secret(&mailed_link(&s, "dave@example.com").await);
    assert_ne!(first, second);
    let first_token = first.as_str();
    assert_eq!(
        invitations::info(&s.db, first_token, None)
            .await
            .unwrap()
            .state,
        InvitationState::Revoked
    );
    let pending = invitations::list_pending(&s.db, org.id).await.unwrap();
    assert_eq!(pending.len(), 1);
    invitations::revoke(&s.db, ada.id, &org, pending[0].id, &meta())
        .await
        .unwrap();
    let dave = user(&s, "dave@example.com").await;
    let second_token = second.as_str();
    assert!(matches!(
        invitations::accept(&s.db, second_token, &dave, &meta()).await,
        Err(AppError::Conflict(_))
    ));
}

async fn an_org_always_keeps_one_admin(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let bob = user(&s, "bob@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    let ada_m = members::list(&s.db, org.id, ada.id).await.unwrap()[0].membership_id;

    let e = members::change_role(&s, ada.id, &org, ada_m, Role::Querier, &meta())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, AppError::Conflict(m) if m.contains("last admin")),
        "{e:?}"
    );
    let e = members::remove(&s, ada.id, &org, ada_m, &meta())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, AppError::Conflict(m) if m.contains("last admin")),
        "{e:?}"
    );
    assert_eq!(
        orgs::role_in(&s.db, org.id, ada.id).await.unwrap(),
        Some(Role::Admin)
    );

    let bob_m = members::add_user(&s.db, ada.id, &org, &bob, Role::Admin, &meta())
        .await
        .unwrap()
        .id;
    members::change_role(&s, ada.id, &org, ada_m, Role::Viewer, &meta())
        .await
        .unwrap();
    assert_eq!(
        orgs::role_in(&s.db, org.id, ada.id).await.unwrap(),
        Some(Role::Viewer)
    );
    assert!(
        members::remove(&s, bob.id, &org, bob_m, &meta())
            .await
            .is_err(),
        "bob is the last admin now"
    );
    members::remove(&s, bob.id, &org, ada_m, &meta())
        .await
        .unwrap();
    assert_eq!(orgs::role_in(&s.db, org.id, ada.id).await.unwrap(), None);
    let actions = audit_actions(&s.db).await;
    for a in ["member.added", "member.role_changed", "member.removed"] {
        assert!(
            actions.contains(&a.to_string()),
            "missing {a} in {actions:?}"
        );
    }
}

async fn concurrent_demotions_leave_an_admin(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let bob = user(&s, "bob@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    let bob_m = members::add_user(&s.db, ada.id, &org, &bob, Role::Admin, &meta())
        .await
        .unwrap()
        .id;
    let ada_m = members::list(&s.db, org.id, ada.id)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.is_self)
        .unwrap()
        .membership_id;

    // Each admin demotes the other at the same moment: exactly one may win.
    let m = meta();
    let (a, b) = tokio::join!(
        members::change_role(&s, ada.id, &org, bob_m, Role::Viewer, &m),
        members::change_role(&s, bob.id, &org, ada_m, Role::Viewer, &m),
    );
    let wins = [a.is_ok(), b.is_ok()].iter().filter(|w| **w).count();
    assert!(wins >= 1, "one demotion must succeed: {a:?} {b:?}");
    assert_eq!(
        members::admin_count(&s.db, org.id).await.unwrap(),
        1,
        "{a:?} {b:?}"
    );
}

async fn membership_ids_of_other_orgs_are_not_found(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let eve = user(&s, "eve@example.com").await;
    let acme = org_of(&s, &ada, "acme").await;
    let evil = org_of(&s, &eve, "evil").await;
    let ada_m = members::list(&s.db, acme.id, ada.id).await.unwrap()[0].membership_id;

    // Eve, admin of her own org, aims at a membership of acme through her org.
    let e = members::change_role(&s, eve.id, &evil, ada_m, Role::Viewer, &meta())
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::NotFound(_)), "{e:?}");
    let e = members::remove(&s, eve.id, &evil, ada_m, &meta())
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::NotFound(_)), "{e:?}");
    assert_eq!(
        orgs::role_in(&s.db, acme.id, ada.id).await.unwrap(),
        Some(Role::Admin)
    );
}

/// 5d: the attempt is counted before the password is hashed, so guesses sent all at once are
/// throttled exactly like guesses sent one after another.
async fn parallel_wrong_passwords_are_throttled_like_sequential_ones(db: DatabaseConnection) {
    let s = services(db).with_throttle_limits(ThrottleLimits {
        per_account: 3,
        per_ip: 100,
        window: Duration::from_secs(600),
        ..Default::default()
    });
    user(&s, "ada@example.com").await;
    let guesses: Vec<_> = (0..12)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                users::authenticate(&s, "ada@example.com", &format!("guess number {i}"), &meta())
                    .await
            })
        })
        .collect();
    let mut checked = 0;
    let mut throttled = 0;
    for g in guesses {
        match g.await.unwrap().unwrap_err() {
            AppError::Invalid { .. } => checked += 1,
            AppError::TooManyRequests(_) => throttled += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        (checked, throttled),
        (3, 9),
        "only the account's limit got a password check"
    );
}

/// 5d: accounts created from one address are limited; the operator's command line is not.
async fn sign_ups_are_throttled_per_address(db: DatabaseConnection) {
    let mut settings = app::domain::Settings::new("https://gate.test", true);
    settings.signups_per_hour = 2;
    let s = app::domain::Services::new(
        db,
        settings,
        app::domain::sealing::InstanceKey::generate().0,
    );
    let from = |ip: &str| app::domain::RequestMeta {
        ip: Some(ip.into()),
        user_agent: None,
    };
    let password = Password::parse(PASSWORD, None).unwrap();
    for i in 0..2 {
        let email = Email::parse(&format!("u{i}@example.com")).unwrap();
        users::sign_up(&s, &email, &password, None, &from("198.51.100.9"))
            .await
            .unwrap();
    }
    let email = Email::parse("u2@example.com").unwrap();
    let e = users::sign_up(&s, &email, &password, None, &from("198.51.100.9"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, AppError::TooManyRequests(m) if m.contains("created from your network")),
        "{e:?}"
    );
    assert!(
        users::find_by_email(&s.db, "u2@example.com")
            .await
            .unwrap()
            .is_none()
    );
    users::sign_up(&s, &email, &password, None, &from("203.0.113.5"))
        .await
        .unwrap();
    let email = Email::parse("u3@example.com").unwrap();
    users::create_user(&s, &email, &password, None, true, &from("198.51.100.9"))
        .await
        .unwrap();
}

/// Housekeeping: mailed links used or expired a week ago and mail a month old go; what may
/// still be followed or listed stays.
async fn old_links_and_mail_are_swept(db: DatabaseConnection) {
    use app::domain::entities::{email_link, mail_outbox};
    use sea_orm::sea_query::Expr;
    let s = services(db);
    let email = Email::parse("new@example.com").unwrap();
    let password = Password::parse(PASSWORD, Some(&email)).unwrap();
    users::sign_up(&s, &email, &password, None, &meta())
        .await
        .unwrap();
    let link = mailed_link(&s, "new@example.com").await;
    assert_eq!(app::domain::email_links::sweep(&s.db).await.unwrap(), 0);
    assert_eq!(app::domain::mail::outbox::sweep(&s.db).await.unwrap(), 0);
    let long_ago = chrono::Utc::now() - chrono::Duration::days(40);
    email_link::Entity::update_many()
        .col_expr(email_link::Column::ExpiresAt, Expr::value(long_ago))
        .exec(&s.db)
        .await
        .unwrap();
    mail_outbox::Entity::update_many()
        .col_expr(mail_outbox::Column::CreatedAt, Expr::value(long_ago))
        .exec(&s.db)
        .await
        .unwrap();
    assert_eq!(app::domain::email_links::sweep(&s.db).await.unwrap(), 1);
    assert_eq!(app::domain::mail::outbox::sweep(&s.db).await.unwrap(), 1);
    assert!(
        app::domain::verification::confirm(&s, &link_secret(&link), &meta())
            .await
            .is_err()
    );
}
