//! Group commit of refresh-token rotations. Every transaction pays its BEGIN and COMMIT (and on
//! PostgreSQL a WAL flush), and SQLite has one writer at a time anyway: under load, one writer
//! task per process takes the rotations that are waiting and commits them together. Each job
//! still claims its own token (the claim can fail on its own, sending that request down the
//! grace/reuse path), writes its own new tokens and audit row, and gets its answer only after
//! the commit: nothing is acknowledged that isn't stored. A batch claims all its tokens with one
//! statement (an index scan over an id list, so in id order), so batches of several processes
//! don't deadlock each other; a batch that fails anyway (say it lost a deadlock to a family
//! revocation) is retried job by job, so one bad job fails alone.

use std::collections::HashSet;

use chrono::Utc;
use sea_orm::sea_query::{CaseStatement, Expr};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, TransactionTrait};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::domain::entities::{audit_event, token};

/// At most this many rotations per transaction.
const MAX_BATCH: usize = 64;

/// One refresh token's rotation: claim `old_id` (storing its sealed grace response), then store
/// the new tokens and the audit row.
pub struct Rotation {
    pub old_id: Uuid,
    pub grace_response: Option<String>,
    pub new_tokens: Vec<token::ActiveModel>,
    pub audit: audit_event::ActiveModel,
}

/// `Ok(true)`: stored; `Ok(false)`: another request rotated this token first, or it was
/// revoked meanwhile.
type Answer = oneshot::Sender<Result<bool, DbErr>>;

#[derive(Clone)]
pub struct RotationWriter {
    jobs: mpsc::Sender<(Rotation, Answer)>,
}

impl RotationWriter {
    /// Starts the writer task on the current tokio runtime.
    pub fn spawn(db: DatabaseConnection) -> Self {
        let (jobs, rx) = mpsc::channel(1024);
        tokio::spawn(run(db, rx));
        Self { jobs }
    }

    /// Submits a rotation and waits until it is committed (or refused, or failed).
    pub async fn rotate(&self, rotation: Rotation) -> Result<bool, DbErr> {
        let (done, answer) = oneshot::channel();
        self.jobs
            .send((rotation, done))
            .await
            .map_err(|_| DbErr::Custom("the rotation writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| DbErr::Custom("the rotation writer dropped a job".into()))?
    }
}

/// A rotation in a transaction of its own: the writer's retry, and the only way where no writer
/// task runs (services made outside a runtime).
pub async fn rotate_alone(db: &DatabaseConnection, rotation: &Rotation) -> Result<bool, DbErr> {
    Ok(commit(db, std::slice::from_ref(rotation)).await?[0])
}

async fn run(db: DatabaseConnection, mut rx: mpsc::Receiver<(Rotation, Answer)>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (rotations, answers): (Vec<Rotation>, Vec<Answer>) = batch.into_iter().unzip();
        match commit(&db, &rotations).await {
            Ok(claimed) => {
                for (done, ok) in answers.into_iter().zip(claimed) {
                    finish(done, Ok(ok));
                }
            }
            Err(e) if rotations.len() > 1 => {
                tracing::warn!(error = %e, jobs = rotations.len(), "refresh rotation batch failed; retrying one by one");
                for (rotation, done) in rotations.iter().zip(answers) {
                    finish(done, rotate_alone(&db, rotation).await);
                }
            }
            Err(e) => {
                for done in answers {
                    finish(done, Err(e.clone()));
                }
            }
        }
    }
}

fn finish(done: Answer, result: Result<bool, DbErr>) {
    if let Err(e) = &result {
        tracing::error!(error = %e, "refresh rotation failed");
    }
    let _ = done.send(result);
}

/// Claims and stores the batch in one transaction; nothing of it is stored if any step fails.
/// Four statements whatever the batch size (every statement is a round trip while the
/// transaction holds its locks): one claim of all tokens, returning those still unclaimed, then
/// the claimed jobs' new tokens and their audit rows.
async fn commit(db: &DatabaseConnection, batch: &[Rotation]) -> Result<Vec<bool>, DbErr> {
    // Only the first job for a token may claim it; a duplicate takes the grace/reuse path.
    let mut seen = HashSet::new();
    let claimants: Vec<bool> = batch.iter().map(|job| seen.insert(job.old_id)).collect();
    // Each claimed token keeps its own job's sealed grace response.
    let grace = batch
        .iter()
        .zip(&claimants)
        .filter(|(_, first)| **first)
        .fold(CaseStatement::new(), |case, (job, _)| {
            case.case(
                token::Column::Id.eq(job.old_id),
                Expr::val(job.grace_response.clone()),
            )
        })
        .finally(Expr::val(Option::<String>::None));
    let txn = db.begin().await?;
    let claimed_ids: HashSet<Uuid> = token::Entity::update_many()
        .col_expr(token::Column::RotatedAt, Expr::value(Utc::now()))
        .col_expr(token::Column::GraceResponse, grace.into())
        .filter(token::Column::Id.is_in(seen))
        .filter(token::Column::RotatedAt.is_null())
        // A token revoked since it was read (its connection ended, its family was revoked for
        // reuse) can't be rotated: the revocation wins.
        .filter(token::Column::RevokedAt.is_null())
        .exec_with_returning(&txn)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    let claimed: Vec<bool> = batch
        .iter()
        .zip(claimants)
        .map(|(job, first)| first && claimed_ids.contains(&job.old_id))
        .collect();
    let mut new_tokens = Vec::new();
    let mut audits = Vec::new();
    for (job, _) in batch.iter().zip(&claimed).filter(|(_, ok)| **ok) {
        new_tokens.extend(job.new_tokens.iter().cloned());
        audits.push(job.audit.clone());
    }
    if !new_tokens.is_empty() {
        token::Entity::insert_many(new_tokens).exec(&txn).await?;
        audit_event::Entity::insert_many(audits).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(claimed)
}
