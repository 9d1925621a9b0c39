//! The refresh rotation writer against real databases: claims in one batch, duplicates, and a
//! job that fails on its own while the rest of its batch is stored.

mod support;

use app::domain::audit::{self, AuditEntry};
use app::domain::entities::{audit_event, token};
use app::domain::oauth::rotation_writer::{Rotation, RotationWriter};
use app::domain::oauth::token_format::SecretKind;
use app::domain::oauth::tokens;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use support::*;

// A current-thread runtime: the three jobs are all queued before the writer task first runs, so
// they land in one batch and that batch's failure takes the one-by-one retry.
#[tokio::test(flavor = "current_thread")]
async fn a_failing_job_fails_alone_on_sqlite() {
    let db = migration::test_db::sqlite()
        .await
        .expect("sqlite test database");
    a_failing_job_fails_alone(db).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_failing_job_fails_alone_on_postgres() {
    let db = migration::test_db::postgres()
        .await
        .expect("postgres test database");
    if let Some(db) = db {
        a_failing_job_fails_alone(db).await;
    }
}

async fn a_failing_job_fails_alone(db: DatabaseConnection) {
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    let spec = loose_token(ada.id, org.id);
    let refresh_token = || tokens::issue(&s.db, SecretKind::RefreshToken, None, &spec);
    let (_, a) = refresh_token().await.unwrap();
    let (_, b) = refresh_token().await.unwrap();
    let new_pair = || vec![tokens::prepare(SecretKind::AccessToken, None, &spec).1];
    let rotation = |old_id, grace: Option<&str>, new_tokens| Rotation {
        old_id,
        grace_response: grace.map(str::to_string),
        new_tokens,
        audit: audit::row(
            AuditEntry::new("oauth.token.refreshed").org(org.id),
            &meta(),
        ),
    };
    let a_new = new_pair();
    let writer = RotationWriter::spawn(s.db.clone());
    let before_audit = audit_event::Entity::find().count(&s.db).await.unwrap();

    let (first, clash, again) = tokio::join!(
        writer.rotate(rotation(a.id, Some("sealed"), a_new.clone())),
        // The same new row as the first job's: its insert breaks the batch's transaction.
        writer.rotate(rotation(b.id, None, a_new)),
        // The first job's token again: already claimed, so the grace/reuse path.
        writer.rotate(rotation(a.id, None, new_pair())),
    );
    assert!(first.unwrap(), "the first job is stored");
    assert!(clash.is_err(), "the clashing job fails on its own");
    assert!(!again.unwrap(), "a second claim of one token loses");

    let a = token::Entity::find_by_id(a.id)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert!(a.rotated_at.is_some());
    assert_eq!(a.grace_response.as_deref(), Some("sealed"));
    let b = token::Entity::find_by_id(b.id)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        b.rotated_at.is_none(),
        "nothing of the failed job is stored"
    );
    assert_eq!(token::Entity::find().count(&s.db).await.unwrap(), 3);
    assert_eq!(
        audit_event::Entity::find().count(&s.db).await.unwrap(),
        before_audit + 1,
        "one audit row: the stored rotation's"
    );

    // A batch that succeeds claims all its tokens in one statement: each keeps its own job's
    // sealed grace response.
    let (_, c) = refresh_token().await.unwrap();
    let (_, d) = refresh_token().await.unwrap();
    let (c_done, d_done) = tokio::join!(
        writer.rotate(rotation(c.id, Some("for c"), new_pair())),
        writer.rotate(rotation(d.id, Some("for d"), new_pair())),
    );
    assert!(c_done.unwrap() && d_done.unwrap());
    for (id, grace) in [(c.id, "for c"), (d.id, "for d")] {
        let t = token::Entity::find_by_id(id)
            .one(&s.db)
            .await
            .unwrap()
            .unwrap();
        assert!(t.rotated_at.is_some());
        assert_eq!(t.grace_response.as_deref(), Some(grace));
    }
    assert_eq!(token::Entity::find().count(&s.db).await.unwrap(), 7);
}

/// On SQLite the writer commits on a connection of its own (its page cache and prepared
/// statements survive other connections' work): a rotation is stored while every connection of
/// the shared pool is taken. (Before, it waited out the pool's acquire timeout and failed.)
#[tokio::test]
async fn sqlite_rotations_do_not_wait_for_the_shared_pool() {
    let db = migration::test_db::sqlite()
        .await
        .expect("sqlite test database");
    let s = services(db);
    let ada = user(&s, "ada@example.com").await;
    let org = org_of(&s, &ada, "acme").await;
    let spec = loose_token(ada.id, org.id);
    let (_, old) = tokens::issue(&s.db, SecretKind::RefreshToken, None, &spec)
        .await
        .unwrap();
    let writer = RotationWriter::spawn(s.db.clone());

    let pool = s.db.get_sqlite_connection_pool();
    let mut held = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        held.push(pool.acquire().await.expect("a shared connection"));
    }
    let stored = writer
        .rotate(Rotation {
            old_id: old.id,
            grace_response: None,
            new_tokens: vec![tokens::prepare(SecretKind::AccessToken, None, &spec).1],
            audit: audit::row(
                AuditEntry::new("oauth.token.refreshed").org(org.id),
                &meta(),
            ),
        })
        .await;
    assert!(stored.expect("stored on the writer's own connection"));
    drop(held);
    let old = token::Entity::find_by_id(old.id)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert!(old.rotated_at.is_some(), "the claim is committed");
}
