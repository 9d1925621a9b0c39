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
    only_the_domain_of_the_admins_verified_address_can_be_claimed,
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
        assertions: None,
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
    // Eve works at acme.example too, and runs an org of her own.
    let eve = user(&s, "eve@acme.example").await;
    let acme = org_of(&s, &ada, "acme").await;
    let evil = org_of(&s, &eve, "evil").await;
    save(&s, &ada, &acme, &["acme.example"]).await.unwrap();
    let e = save(&s, &eve, &evil, &["acme.example"]).await.unwrap_err();
    assert_eq!(e.field(), Some("domains"));
    assert!(
        e.to_string()
            .contains("acme.example already signs in through another organization"),
        "{e}"
    );
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
    let bob = user(&s, "bob@acme.example").await;
    let other = org_of(&s, &bob, "other").await;
    save(&s, &bob, &other, &["acme.example"]).await.unwrap();
}

/// An admin proves a domain by a verified address there; otherwise any org's admin could send
/// another company's people to a provider of theirs from the sign-in page.
async fn only_the_domain_of_the_admins_verified_address_can_be_claimed(db: DatabaseConnection) {
    let s = services(db);
    let eve = user(&s, "eve@evil.example").await;
    let evil = org_of(&s, &eve, "evil").await;
    for (domains, words) in [
        (vec!["acme.example"], "acme.example isn't"),
        (vec!["evil.example", "acme.example"], "acme.example isn't"),
        // Ending in the same letters isn't being a subdomain.
        (vec!["notevil.example"], "notevil.example isn't"),
    ] {
        let e = save(&s, &eve, &evil, &domains).await.unwrap_err();
        assert_eq!(e.field(), Some("domains"), "{domains:?}");
        assert!(e.to_string().contains(words), "{domains:?}: {e}");
    }
    assert_eq!(connection::get(&s.db, evil.id).await.unwrap(), None);
    // Her own domain and its subdomains are hers.
    let saved = save(&s, &eve, &evil, &["evil.example", "eu.evil.example"])
        .await
        .unwrap();
    assert_eq!(saved.domains, vec!["evil.example", "eu.evil.example"]);

    // A public mail service is nobody's, even for an admin with an address there.
    let gus = user(&s, "gus@gmail.com").await;
    let gus_org = org_of(&s, &gus, "gus").await;
    let e = save(&s, &gus, &gus_org, &["gmail.com"]).await.unwrap_err();
    assert!(e.to_string().contains("public mail service"), "{e}");

    // An address not yet verified proves nothing.
    let email = app::domain::validate::Email::parse("una@una.example").unwrap();
    let password = app::domain::validate::Password::parse(PASSWORD, Some(&email)).unwrap();
    let una = app::domain::users::create_user(&s, &email, &password, None, false, &meta())
        .await
        .unwrap();
    let una_org = org_of(&s, &una, "una").await;
    let e = save(&s, &una, &una_org, &["una.example"])
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("Verify your own email address"),
        "{e}"
    );

    // The operator, at the command line, may name any domain (but no public one).
    connection::save(&s, None, una_org.id, &change(&["una.example"]), &meta())
        .await
        .unwrap();
    assert!(
        connection::save(&s, None, una_org.id, &change(&["gmail.com"]), &meta())
            .await
            .is_err()
    );
}
