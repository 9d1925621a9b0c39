//! Single sign-on set-up, as an org admin saves it: validation, the sealed secret, one org per
//! email domain, no admin as the first-time role, audit, removal.

mod support;

use migration::on_both_backends;

use app::domain::entities::sso_connection;
use app::domain::sso::connection::{self, ConnectionChange, secret_place};
use app::error::AppError;
use app::model::Role;
use sea_orm::{DatabaseConnection, EntityTrait};
use support::*;

on_both_backends!(
    a_connection_is_saved_with_its_secret_sealed,
    bad_settings_are_refused_naming_the_field_and_change_nothing,
    a_domain_belongs_to_one_org,
    a_connection_is_removed_and_audited,
);

fn change(domains: &[&str]) -> ConnectionChange {
    ConnectionChange {
        issuer: "https://login.acme.example/".into(),
        client_id: "gatehouse".into(),
        client_secret: Some("s3cret-from-the-provider".into()),
        domains: domains.iter().map(|d| d.to_string()).collect(),
        default_role: Role::Querier,
        require_sso: false,
        enabled: true,
    }
}

/// `who` saves `org`'s connection covering `domains`.
async fn save(
    s: &app::domain::Services,
    who: &app::domain::entities::user::Model,
    org: &app::domain::entities::organization::Model,
    domains: &[&str],
) -> Result<connection::Connection, AppError> {
    connection::save(s, Some(who.id), org.id, &change(domains), &meta()).await
}

fn field(e: AppError) -> String {
    e.field()
        .unwrap_or_else(|| panic!("no field: {e:?}"))
        .to_string()
}

async fn a_connection_is_saved_with_its_secret_sealed(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@acme.example").await;
    let org = org_of(&s, &ada, "acme").await;
    assert_eq!(connection::get(&s.db, org.id).await.unwrap(), None);

    let saved = save(&s, &ada, &org, &["ACME.example", "eu.acme.example"])
        .await
        .unwrap();
    assert_eq!(saved.issuer, "https://login.acme.example");
    assert_eq!(saved.domains, vec!["acme.example", "eu.acme.example"]);
    assert_eq!(connection::get(&s.db, org.id).await.unwrap(), Some(saved));
    let row = sso_connection::Entity::find_by_id(org.id)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !row.client_secret_sealed.contains("s3cret"),
        "sealed at rest"
    );
    assert_eq!(
        s.key
            .open_str(&secret_place(org.id), &row.client_secret_sealed)
            .unwrap(),
        "s3cret-from-the-provider"
    );

    // Saved again without a secret: the stored one stays; other fields change.
    let mut again = change(&["acme.example"]);
    again.client_secret = None;
    again.require_sso = true;
    let saved = connection::save(&s, Some(ada.id), org.id, &again, &meta())
        .await
        .unwrap();
    assert!(saved.require_sso);
    assert_eq!(saved.domains, vec!["acme.example"]);
    let kept = sso_connection::Entity::find_by_id(org.id)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.client_secret_sealed, row.client_secret_sealed);
    assert_eq!(audit_count(&s.db, "org.sso.created").await, 1);
    assert_eq!(audit_count(&s.db, "org.sso.updated").await, 1);
    let audited = audit_details(&s.db, "org.sso.updated").await;
    assert!(!audited.contains("s3cret"), "no secret in the audit log");
}

async fn bad_settings_are_refused_naming_the_field_and_change_nothing(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@acme.example").await;
    let org = org_of(&s, &ada, "acme").await;
    let mut first = change(&["acme.example"]);
    first.client_secret = None;
    let e = connection::save(&s, Some(ada.id), org.id, &first, &meta())
        .await
        .unwrap_err();
    assert_eq!(
        field(e),
        "client_secret",
        "a secret is needed the first time"
    );

    type Edit = Box<dyn Fn(&mut ConnectionChange)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "issuer",
            Box::new(|c| c.issuer = "http://login.acme.example".into()),
        ),
        ("issuer", Box::new(|c| c.issuer = "not a url".into())),
        ("client_id", Box::new(|c| c.client_id = "  ".into())),
        ("domains", Box::new(|c| c.domains = vec![])),
        (
            "domains",
            Box::new(|c| c.domains = vec!["not a domain!".into()]),
        ),
        ("default_role", Box::new(|c| c.default_role = Role::Admin)),
    ];
    for (want, edit) in cases {
        let mut c = change(&["acme.example"]);
        edit(&mut c);
        let e = connection::save(&s, Some(ada.id), org.id, &c, &meta())
            .await
            .unwrap_err();
        assert_eq!(field(e), want, "{c:?}");
    }
    assert_eq!(connection::get(&s.db, org.id).await.unwrap(), None);
    assert_eq!(audit_count(&s.db, "org.sso.created").await, 0);
}

async fn a_domain_belongs_to_one_org(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@acme.example").await;
    let eve = user(&s, "eve@evil.example").await;
    let acme = org_of(&s, &ada, "acme").await;
    let evil = org_of(&s, &eve, "evil").await;
    save(&s, &ada, &acme, &["acme.example"]).await.unwrap();
    let e = save(&s, &eve, &evil, &["evil.example", "acme.example"])
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("domains"));
    assert!(e.to_string().contains("acme.example"), "{e}");
    assert_eq!(connection::get(&s.db, evil.id).await.unwrap(), None);
    // The owner keeps saving it.
    save(&s, &ada, &acme, &["acme.example"]).await.unwrap();
}

async fn a_connection_is_removed_and_audited(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@acme.example").await;
    let acme = org_of(&s, &ada, "acme").await;
    let e = connection::remove(&s, Some(ada.id), acme.id, &meta())
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::NotFound(_)), "{e:?}");
    save(&s, &ada, &acme, &["acme.example"]).await.unwrap();
    connection::remove(&s, Some(ada.id), acme.id, &meta())
        .await
        .unwrap();
    assert_eq!(connection::get(&s.db, acme.id).await.unwrap(), None);
    assert_eq!(audit_count(&s.db, "org.sso.removed").await, 1);
    // The domain is free again.
    let bob = user(&s, "bob@other.example").await;
    let other = org_of(&s, &bob, "other").await;
    save(&s, &bob, &other, &["acme.example"]).await.unwrap();
}
