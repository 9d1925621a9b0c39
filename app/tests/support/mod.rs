//! What the domain tests share: a database of each kind per test, and the people and
//! organizations most tests start from.
#![allow(dead_code)] // each test binary uses its own part of this

use app::domain::entities::{organization, user};
use app::domain::validate::{Email, Password, Slug};
use app::domain::{RequestMeta, Services, Settings, members, orgs, users};
use app::model::Role;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery staple";

/// Runs each named `async fn(DatabaseConnection)` twice: on a fresh SQLite file, and on a fresh
/// PostgreSQL database when `GATEHOUSE_TEST_POSTGRES_URL` names a server (skipped with the
/// reason printed otherwise).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let db = migration::test_db::sqlite().await.expect("sqlite test database");
                super::$name(db).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(db) = migration::test_db::postgres().await.expect("postgres test database") {
                    super::$name(db).await;
                }
            })*
        }
    };
}

pub fn services(db: DatabaseConnection) -> Services {
    Services::new(db, Settings::new("https://gate.test", true))
}

pub fn meta() -> RequestMeta {
    RequestMeta {
        ip: Some("203.0.113.7".into()),
        user_agent: Some("tests".into()),
    }
}

pub async fn user(s: &Services, email: &str) -> user::Model {
    let email = Email::parse(email).unwrap();
    let password = Password::parse(PASSWORD, Some(&email)).unwrap();
    users::create_user(&s.db, &email, &password, None, &meta())
        .await
        .unwrap()
}

/// An org named "Org {slug}" whose admin is `owner`.
pub async fn org_of(s: &Services, owner: &user::Model, slug: &str) -> organization::Model {
    orgs::create_org(
        &s.db,
        owner.id,
        &Slug::parse(slug).unwrap(),
        format!("Org {slug}"),
        &meta(),
    )
    .await
    .unwrap()
}

/// Adds `who` to `org` with `role`; the membership's id.
pub async fn member(
    s: &Services,
    admin: &user::Model,
    org: &organization::Model,
    who: &user::Model,
    role: Role,
) -> Uuid {
    members::add_user(&s.db, admin.id, org, who, role, &meta())
        .await
        .unwrap()
        .id
}
