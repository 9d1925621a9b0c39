//! The outbox table: mail is written here in the caller's transaction and claimed by a worker
//! (of any process) for sending. A claim lasts [`CLAIM`]: a worker that dies mid-send leaves
//! the mail to the next one. Failed sends back off exponentially; after [`MAX_ATTEMPTS`] the
//! mail is marked failed and kept, with its error, for `gatehouse outbox`.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{Mail, MailBody};
use crate::domain::entities::mail_outbox;
use crate::domain::sealing::{InstanceKey, place};
use crate::error::{AppError, AppResult};

/// How long one worker holds a mail it is sending.
pub const CLAIM: Duration = Duration::minutes(2);
/// Attempts before a mail is given up.
pub const MAX_ATTEMPTS: i32 = 10;

/// Wait before attempt `attempts + 1`: 30 s doubling, at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 8) - 1;
    Duration::seconds(std::cmp::min(30i64 << exp, 3600))
}

/// Writes `mail` to the outbox in the caller's transaction. The caller wakes the worker
/// (`Services::mail_queued`) after committing.
pub async fn enqueue(db: &impl ConnectionTrait, key: &InstanceKey, mail: &Mail) -> AppResult<Uuid> {
    let id = Uuid::now_v7();
    let body = serde_json::to_string(&mail.body).map_err(|_| AppError::Internal)?;
    let now = Utc::now();
    mail_outbox::ActiveModel {
        id: Set(id),
        kind: Set(mail.kind.as_str().to_string()),
        to_address: Set(mail.to.clone()),
        subject: Set(mail.subject.clone()),
        sealed_body: Set(Some(key.seal_str(&place::mail(id), &body))),
        created_at: Set(now),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        sent_at: Set(None),
        printed_at: Set(None),
        failed_at: Set(None),
        last_error: Set(None),
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// A mail a worker claimed, with its body opened.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: Uuid,
    pub to: String,
    pub subject: String,
    pub attempts: i32,
    pub body: MailBody,
}

fn open_body(key: &InstanceKey, row: &mail_outbox::Model) -> Option<MailBody> {
    let sealed = row.sealed_body.as_deref()?;
    let text = key.open_str(&place::mail(row.id), sealed).ok()?;
    serde_json::from_str(&text).ok()
}

/// Claims up to `limit` mails due for sending at `now`.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    key: &InstanceKey,
    now: DateTime<Utc>,
    limit: u64,
) -> AppResult<Vec<Claimed>> {
    let due = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::SentAt.is_null())
        .filter(mail_outbox::Column::FailedAt.is_null())
        .filter(mail_outbox::Column::NextAttemptAt.lte(now))
        .filter(unclaimed(now))
        .order_by_asc(mail_outbox::Column::NextAttemptAt)
        .limit(limit)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(due.len());
    for row in due {
        // Of two workers, exactly one moves the claim.
        let won = mail_outbox::Entity::update_many()
            .col_expr(mail_outbox::Column::ClaimedUntil, Expr::value(now + CLAIM))
            .col_expr(
                mail_outbox::Column::Attempts,
                Expr::col(mail_outbox::Column::Attempts).add(1),
            )
            .filter(mail_outbox::Column::Id.eq(row.id))
            .filter(mail_outbox::Column::SentAt.is_null())
            .filter(unclaimed(now))
            .exec(db)
            .await?
            .rows_affected
            == 1;
        if !won {
            continue;
        }
        match open_body(key, &row) {
            Some(body) => out.push(Claimed {
                id: row.id,
                to: row.to_address,
                subject: row.subject,
                attempts: row.attempts + 1,
                body,
            }),
            None => {
                give_up(db, row.id, "the body does not open with the instance key").await?;
            }
        }
    }
    Ok(out)
}

fn unclaimed(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(mail_outbox::Column::ClaimedUntil.is_null())
        .add(mail_outbox::Column::ClaimedUntil.lt(now))
}

/// The SMTP server took the mail: its body (with any link) is dropped.
pub async fn mark_sent(db: &impl ConnectionTrait, id: Uuid) -> AppResult<()> {
    close(db, id, mail_outbox::Column::SentAt, None).await
}

/// Ends a mail's time in the outbox at `when` (sent, or given up): the body goes, with the
/// link it carries.
async fn close(
    db: &impl ConnectionTrait,
    id: Uuid,
    when: mail_outbox::Column,
    error: Option<String>,
) -> AppResult<()> {
    mail_outbox::Entity::update_many()
        .col_expr(when, Expr::value(Utc::now()))
        .col_expr(
            mail_outbox::Column::SealedBody,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            mail_outbox::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(mail_outbox::Column::LastError, Expr::value(error))
        .filter(mail_outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A send failed: try again after a backoff, or give up after [`MAX_ATTEMPTS`].
pub async fn mark_failed(
    db: &impl ConnectionTrait,
    id: Uuid,
    attempts: i32,
    error: &str,
) -> AppResult<()> {
    if attempts >= MAX_ATTEMPTS {
        return give_up(db, id, error).await;
    }
    mail_outbox::Entity::update_many()
        .col_expr(
            mail_outbox::Column::NextAttemptAt,
            Expr::value(Utc::now() + backoff(attempts)),
        )
        .col_expr(
            mail_outbox::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(mail_outbox::Column::LastError, Expr::value(truncate(error)))
        .filter(mail_outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

async fn give_up(db: &impl ConnectionTrait, id: Uuid, error: &str) -> AppResult<()> {
    close(db, id, mail_outbox::Column::FailedAt, Some(truncate(error))).await
}

fn truncate(error: &str) -> String {
    error.chars().take(500).collect()
}

/// With no SMTP server: the mails not yet written to the log, each claimed for printing once
/// (by one process).
pub async fn claim_unprinted(
    db: &impl ConnectionTrait,
    key: &InstanceKey,
) -> AppResult<Vec<Claimed>> {
    let rows = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::SentAt.is_null())
        .filter(mail_outbox::Column::PrintedAt.is_null())
        .order_by_asc(mail_outbox::Column::CreatedAt)
        .limit(100)
        .all(db)
        .await?;
    let mut out = Vec::new();
    for row in rows {
        let won = mail_outbox::Entity::update_many()
            .col_expr(mail_outbox::Column::PrintedAt, Expr::value(Utc::now()))
            .filter(mail_outbox::Column::Id.eq(row.id))
            .filter(mail_outbox::Column::PrintedAt.is_null())
            .exec(db)
            .await?
            .rows_affected
            == 1;
        if won && let Some(body) = open_body(key, &row) {
            out.push(Claimed {
                id: row.id,
                to: row.to_address,
                subject: row.subject,
                attempts: row.attempts,
                body,
            });
        }
    }
    Ok(out)
}

/// One line of `gatehouse outbox`.
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub status: &'static str,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// The link of a mail not yet sent (sent mail keeps no body).
    pub link: Option<String>,
}

/// The newest `limit` mails, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    key: &InstanceKey,
    limit: u64,
) -> AppResult<Vec<OutboxEntry>> {
    let rows = mail_outbox::Entity::find()
        .order_by_desc(mail_outbox::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let status = if row.sent_at.is_some() {
                "sent"
            } else if row.failed_at.is_some() {
                "failed"
            } else if row.attempts > 0 {
                "retrying"
            } else {
                "waiting"
            };
            OutboxEntry {
                id: row.id,
                created_at: row.created_at,
                link: open_body(key, &row).and_then(|b| b.link),
                kind: row.kind,
                to: row.to_address,
                subject: row.subject,
                status,
                attempts: row.attempts,
                last_error: row.last_error,
            }
        })
        .collect())
}

/// Mail waiting to be sent (not sent, not given up): the outbox depth operators watch.
pub async fn depth(db: &impl ConnectionTrait) -> AppResult<u64> {
    Ok(mail_outbox::Entity::find()
        .filter(mail_outbox::Column::SentAt.is_null())
        .filter(mail_outbox::Column::FailedAt.is_null())
        .count(db)
        .await?)
}

/// How long sent and failed mail stays listed by `gatehouse outbox`.
pub const KEPT_FOR: Duration = Duration::days(30);

/// Deletes mail sent or given up more than [`KEPT_FOR`] ago, and mail never sent that old
/// (its links expired long since). Returns how many went.
pub async fn sweep(db: &impl ConnectionTrait) -> AppResult<u64> {
    let before = Utc::now() - KEPT_FOR;
    Ok(mail_outbox::Entity::delete_many()
        .filter(mail_outbox::Column::CreatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_thirty_seconds_to_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(5), Duration::seconds(480));
        assert_eq!(backoff(9), Duration::seconds(3600));
    }
}
