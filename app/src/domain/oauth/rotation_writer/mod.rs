//! Group commit of refresh-token rotations. Every transaction pays its BEGIN and COMMIT (and on
//! PostgreSQL a WAL flush), and SQLite has one writer at a time anyway: under load, a writer
//! task takes the rotations that are waiting and commits them together (one task on SQLite,
//! [`POSTGRES_WRITERS`] on PostgreSQL, each taking the next batch while the others commit).
//! Each job still claims its own token (the claim can fail on its own, sending that request
//! down the grace/reuse path), writes its own new tokens and audit row, and gets its answer
//! only after the commit: nothing is acknowledged that isn't stored. A batch claims all its
//! tokens with one statement (an index scan over an id list, so in id order), so batches of
//! several processes don't deadlock each other; a batch that fails anyway (say it lost a
//! deadlock to a family revocation) is retried job by job, so one bad job fails alone.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::sea_query::UpdateStatement;
use sea_orm::sea_query::{CaseStatement, Expr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryTrait,
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::domain::entities::{audit_event, token};
use crate::domain::write_txn::BeginWrite;

mod sqlite;

/// At most this many rotations per transaction.
const MAX_BATCH: usize = 64;

/// Writer tasks on PostgreSQL, each committing its own batches on its own connection: a batch
/// mostly waits on round trips and on the server's work for its inserts, which the server does
/// for several connections at once (`gatehouse bench`, runs alternating: 1,860–2,390 refresh
/// grants/s with one writer, 2,740–2,830/s with three; the README has the final figures).
/// SQLite has one writer at a time anyway: a second would only wait in `BEGIN IMMEDIATE`.
const POSTGRES_WRITERS: usize = 3;

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

// Nearly every job is a rotation: boxing it would only add an allocation per refresh.
#[allow(clippy::large_enum_variant)]
enum Job {
    /// With the moment it was submitted, for the time it waited for its batch.
    Rotate(Rotation, Answer, Instant),
    /// Answered once everything queued before it is committed.
    Drain(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct RotationWriter {
    jobs: mpsc::Sender<Job>,
    timings: Arc<Timings>,
}

/// Where the writer's time goes, summed since it started (the bench reads it before and after a
/// run; `/metrics` has each batch's time as `gatehouse_rotation_commit_seconds`).
#[derive(Default)]
struct Timings {
    batches: AtomicU64,
    jobs: AtomicU64,
    /// Submitted until its batch began.
    queued_ns: AtomicU64,
    /// Transaction begin to commit, per batch.
    commit_ns: AtomicU64,
    /// Of that, each [`Step`]'s share.
    step_ns: [AtomicU64; Step::COUNT],
}

/// The steps of a batch's transaction, in order; each indexes its counter in `step_ns`.
#[derive(Clone, Copy)]
enum Step {
    Begin,
    Claim,
    Inserts,
    Commit,
}

impl Step {
    const COUNT: usize = 4;
}

/// A reading of [`Timings`].
#[derive(Clone, Copy, Debug, Default)]
pub struct WriterTimings {
    pub batches: u64,
    pub jobs: u64,
    pub queued: Duration,
    pub committing: Duration,
    /// Of `committing`, each step's share.
    pub steps: BatchSteps,
}

/// A batch transaction's time by step.
#[derive(Clone, Copy, Debug, Default)]
pub struct BatchSteps {
    pub begin: Duration,
    pub claim: Duration,
    pub inserts: Duration,
    pub commit: Duration,
}

impl BatchSteps {
    fn from_fn(f: impl Fn(Step) -> Duration) -> Self {
        Self {
            begin: f(Step::Begin),
            claim: f(Step::Claim),
            inserts: f(Step::Inserts),
            commit: f(Step::Commit),
        }
    }

    fn get(&self, step: Step) -> Duration {
        match step {
            Step::Begin => self.begin,
            Step::Claim => self.claim,
            Step::Inserts => self.inserts,
            Step::Commit => self.commit,
        }
    }
}

impl WriterTimings {
    /// What happened between `earlier` and `self`.
    pub fn since(self, earlier: WriterTimings) -> WriterTimings {
        WriterTimings {
            batches: self.batches - earlier.batches,
            jobs: self.jobs - earlier.jobs,
            queued: self.queued.saturating_sub(earlier.queued),
            committing: self.committing.saturating_sub(earlier.committing),
            steps: BatchSteps::from_fn(|s| self.steps.get(s).saturating_sub(earlier.steps.get(s))),
        }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl RotationWriter {
    /// Starts the writer task on the current tokio runtime.
    pub fn spawn(db: DatabaseConnection) -> Self {
        let (jobs, rx) = mpsc::channel(1024);
        let timings = Arc::new(Timings::default());
        let writers = match db.get_database_backend() {
            DbBackend::Postgres => POSTGRES_WRITERS,
            _ => 1,
        };
        let queue = Arc::new(Queue {
            jobs: tokio::sync::Mutex::new(rx),
            in_flight: tokio::sync::RwLock::new(()),
        });
        for _ in 0..writers {
            tokio::spawn(run(
                Target::of(&db),
                db.clone(),
                queue.clone(),
                timings.clone(),
            ));
        }
        Self { jobs, timings }
    }

    /// The writer's figures since it started.
    pub fn timings(&self) -> WriterTimings {
        let t = &self.timings;
        WriterTimings {
            batches: t.batches.load(Ordering::Relaxed),
            jobs: t.jobs.load(Ordering::Relaxed),
            queued: Duration::from_nanos(t.queued_ns.load(Ordering::Relaxed)),
            committing: Duration::from_nanos(t.commit_ns.load(Ordering::Relaxed)),
            steps: BatchSteps::from_fn(|s| {
                Duration::from_nanos(t.step_ns[s as usize].load(Ordering::Relaxed))
            }),
        }
    }

    /// Submits a rotation and waits until it is committed (or refused, or failed).
    pub async fn rotate(&self, rotation: Rotation) -> Result<bool, DbErr> {
        let (done, answer) = oneshot::channel();
        self.jobs
            .send(Job::Rotate(rotation, done, Instant::now()))
            .await
            .map_err(|_| DbErr::Custom("the rotation writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| DbErr::Custom("the rotation writer dropped a job".into()))?
    }

    /// Waits until every rotation submitted so far is committed (or refused): a stopping
    /// process calls it after its last request, so nothing is left half-done in the queue.
    pub async fn drain(&self) {
        let (done, drained) = oneshot::channel();
        if self.jobs.send(Job::Drain(done)).await.is_ok() {
            let _ = drained.await;
        }
    }
}

/// Where a writer commits its batches.
enum Target {
    /// Through sea-orm's pool: PostgreSQL (several writers, each taking a pooled connection per
    /// batch), and SQLite in memory (its one connection is the database).
    Pool(DatabaseConnection),
    /// SQLite on a file: a connection of the writer's own, beside the shared pool. SQLite
    /// empties a connection's page cache when another connection has written since its last
    /// read; with the writer nearly the only writer, its own connection keeps the index pages
    /// every batch touches and its prepared statements for every batch size, and it never
    /// waits for the shared pool.
    Sqlite(Box<sqlite::OwnConnection>),
}

impl Target {
    fn of(db: &DatabaseConnection) -> Self {
        if db.get_database_backend() != DbBackend::Sqlite {
            return Self::Pool(db.clone());
        }
        let shared = db.get_sqlite_connection_pool();
        if shared.options().get_max_connections() <= 1 {
            return Self::Pool(db.clone());
        }
        Self::Sqlite(Box::new(sqlite::OwnConnection::new(
            (*shared.connect_options()).clone(),
        )))
    }
}

/// A rotation in a transaction of its own: the writer's retry, and the only way where no writer
/// task runs (services made outside a runtime).
pub async fn rotate_alone(db: &DatabaseConnection, rotation: &Rotation) -> Result<bool, DbErr> {
    Ok(commit_pooled(db, std::slice::from_ref(rotation), None).await?[0])
}

/// What the writer tasks share: the jobs, taken by one writer at a time, and a lock each batch
/// holds (shared) while it commits, so that a drain can wait for the batches taken before it.
struct Queue {
    jobs: tokio::sync::Mutex<mpsc::Receiver<Job>>,
    in_flight: tokio::sync::RwLock<()>,
}

/// A writer: takes the waiting jobs, commits them to `target`, and retries a failed batch's
/// jobs one by one on `shared`.
async fn run(
    mut target: Target,
    shared: DatabaseConnection,
    queue: Arc<Queue>,
    timings: Arc<Timings>,
) {
    loop {
        let mut rx = queue.jobs.lock().await;
        let Some(first) = rx.recv().await else {
            return;
        };
        let mut batch = Vec::new();
        let mut drained = Vec::new();
        let mut next = Some(first);
        let began = Instant::now();
        let mut queued = Duration::ZERO;
        while let Some(job) = next.take() {
            match job {
                Job::Rotate(rotation, done, submitted) => {
                    queued += began.saturating_duration_since(submitted);
                    batch.push((rotation, done))
                }
                // Everything before it is in this batch: answer once the batch is stored.
                Job::Drain(done) => drained.push(done),
            }
            if batch.len() < MAX_BATCH && drained.is_empty() {
                next = rx.try_recv().ok();
            }
        }
        // Taken before the next writer can take jobs: a drain behind this batch waits for it.
        let in_flight = queue.in_flight.read().await;
        drop(rx);
        let away = if batch.is_empty() {
            None
        } else {
            let jobs = batch.len() as u64;
            let away = store(&mut target, &shared, batch, &timings).await;
            let committing = began.elapsed();
            metrics::histogram!("gatehouse_rotation_commit_seconds")
                .record(committing.as_secs_f64());
            timings.batches.fetch_add(1, Ordering::Relaxed);
            timings.jobs.fetch_add(jobs, Ordering::Relaxed);
            timings
                .queued_ns
                .fetch_add(nanos(queued), Ordering::Relaxed);
            timings
                .commit_ns
                .fetch_add(nanos(committing), Ordering::Relaxed);
            away
        };
        drop(in_flight);
        // The database is away: what queued meanwhile would each wait out the pool's timeout
        // in turn. It gets the same answer now; later jobs try again. (If another writer holds
        // the queue, that writer takes what waits and meets the same error: waiting for the
        // queue here could wait for the next job, and keep a drain in this batch unanswered.)
        if let Some(e) = away
            && let Ok(mut rx) = queue.jobs.try_lock()
        {
            while let Ok(job) = rx.try_recv() {
                match job {
                    Job::Rotate(_, done, _) => finish(done, Err(e.clone())),
                    Job::Drain(done) => drained.push(done),
                }
            }
        }
        if !drained.is_empty() {
            // Every batch taken before the drain has committed once no batch holds the lock.
            let _all_done = queue.in_flight.write().await;
        }
        for done in drained {
            let _ = done.send(());
        }
    }
}

/// Commits the batch and answers its jobs; the error when that failed because the database
/// can't be reached.
async fn store(
    target: &mut Target,
    shared: &DatabaseConnection,
    batch: Vec<(Rotation, Answer)>,
    timings: &Timings,
) -> Option<DbErr> {
    metrics::histogram!("gatehouse_rotation_batch_size").record(batch.len() as f64);
    let (rotations, answers): (Vec<Rotation>, Vec<Answer>) = batch.into_iter().unzip();
    let steps = Some(&timings.step_ns);
    let committed = match target {
        Target::Pool(db) => commit_pooled(db, &rotations, steps).await,
        Target::Sqlite(own) => commit_own(own, &rotations, steps).await,
    };
    match committed {
        Ok(claimed) => {
            for (done, ok) in answers.into_iter().zip(claimed) {
                finish(done, Ok(ok));
            }
            None
        }
        // One by one would wait out the pool's timeout once per job: when the database is
        // away, every job of the batch gets the answer now.
        Err(e) if rotations.len() > 1 && !crate::error::database_unavailable(&e) => {
            tracing::warn!(error = %e, jobs = rotations.len(), "refresh rotation batch failed; retrying one by one");
            for (rotation, done) in rotations.iter().zip(answers) {
                finish(done, rotate_alone(shared, rotation).await);
            }
            None
        }
        Err(e) => {
            for done in answers {
                finish(done, Err(e.clone()));
            }
            crate::error::database_unavailable(&e).then_some(e)
        }
    }
}

fn finish(done: Answer, result: Result<bool, DbErr>) {
    match &result {
        Err(e) if crate::error::database_unavailable(e) => {
            tracing::warn!(error = %e, "refresh rotation failed: database unavailable")
        }
        Err(e) => tracing::error!(error = %e, "refresh rotation failed"),
        Ok(_) => {}
    }
    let _ = done.send(result);
}

/// A batch's statements: one claim of all its tokens, returning those still unclaimed, then the
/// claimed jobs' new tokens and their audit rows. Whatever the batch size, that is three
/// statements in the transaction (every statement is a round trip while it holds its locks).
struct Plan<'a> {
    batch: &'a [Rotation],
    /// Whether each job is the first of the batch for its token: only that one may claim it;
    /// a duplicate takes the grace/reuse path.
    claimants: Vec<bool>,
    claim: UpdateStatement,
}

impl<'a> Plan<'a> {
    fn new(batch: &'a [Rotation]) -> Self {
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
        let mut claim = token::Entity::update_many()
            .col_expr(token::Column::RotatedAt, Expr::value(Utc::now()))
            .col_expr(token::Column::GraceResponse, grace.into())
            .filter(token::Column::Id.is_in(seen))
            .filter(token::Column::RotatedAt.is_null())
            // A token revoked since it was read (its connection ended, its family was revoked
            // for reuse) can't be rotated: the revocation wins.
            .filter(token::Column::RevokedAt.is_null())
            .into_query();
        // Only the ids come back (not whole rows with their sealed grace responses).
        claim.returning_col(token::Column::Id);
        Self {
            batch,
            claimants,
            claim,
        }
    }

    /// Which jobs won their claim, given the ids the claim returned.
    fn claimed(&self, ids: &HashSet<Uuid>) -> Vec<bool> {
        self.batch
            .iter()
            .zip(&self.claimants)
            .map(|(job, first)| *first && ids.contains(&job.old_id))
            .collect()
    }

    /// The inserts of the claimed jobs' rows (none when no job won its claim).
    fn inserts(&self, claimed: &[bool], backend: DbBackend) -> Vec<sea_orm::Statement> {
        let mut new_tokens = Vec::new();
        let mut audits = Vec::new();
        for (job, _) in self.batch.iter().zip(claimed).filter(|(_, ok)| **ok) {
            new_tokens.extend(job.new_tokens.iter().cloned());
            audits.push(job.audit.clone());
        }
        if new_tokens.is_empty() {
            return Vec::new();
        }
        vec![
            token::Entity::insert_many(new_tokens).build(backend),
            audit_event::Entity::insert_many(audits).build(backend),
        ]
    }
}

/// Claims and stores the batch in one transaction through sea-orm; nothing of it is stored if
/// any step fails.
async fn commit_pooled(
    db: &DatabaseConnection,
    batch: &[Rotation],
    steps: Option<&[AtomicU64; Step::COUNT]>,
) -> Result<Vec<bool>, DbErr> {
    let plan = Plan::new(batch);
    let mut clock = StepClock::start(steps);
    let txn = db.begin_write().await?;
    clock.lap(Step::Begin);
    let claimed_ids: HashSet<Uuid> = txn
        .query_all(&plan.claim)
        .await?
        .iter()
        .map(|row| row.try_get::<Uuid>("", "id"))
        .collect::<Result<_, _>>()?;
    clock.lap(Step::Claim);
    let claimed = plan.claimed(&claimed_ids);
    for insert in plan.inserts(&claimed, db.get_database_backend()) {
        txn.execute_raw(insert).await?;
    }
    clock.lap(Step::Inserts);
    txn.commit().await?;
    clock.lap(Step::Commit);
    Ok(claimed)
}

/// The same on the SQLite writer's own connection, in two trips: BEGIN with the claim, the
/// inserts with the COMMIT (so the step timings have the BEGIN in the claim and the COMMIT in
/// the inserts). Nothing is stored if any statement fails: the connection is closed, which
/// rolls the transaction back.
async fn commit_own(
    own: &mut sqlite::OwnConnection,
    batch: &[Rotation],
    steps: Option<&[AtomicU64; Step::COUNT]>,
) -> Result<Vec<bool>, DbErr> {
    let plan = Plan::new(batch);
    let mut clock = StepClock::start(steps);
    let claim = DbBackend::Sqlite.build(&plan.claim);
    let claimed_ids: HashSet<Uuid> = own.begin_and_claim(claim).await?.into_iter().collect();
    clock.lap(Step::Claim);
    let claimed = plan.claimed(&claimed_ids);
    own.insert_and_commit(plan.inserts(&claimed, DbBackend::Sqlite))
        .await?;
    clock.lap(Step::Inserts);
    Ok(claimed)
}

/// Adds the time since its last lap to one of a batch's step counters.
struct StepClock<'a> {
    steps: Option<&'a [AtomicU64; Step::COUNT]>,
    at: Instant,
}

impl<'a> StepClock<'a> {
    fn start(steps: Option<&'a [AtomicU64; Step::COUNT]>) -> Self {
        Self {
            steps,
            at: Instant::now(),
        }
    }

    fn lap(&mut self, step: Step) {
        if let Some(steps) = self.steps {
            let now = Instant::now();
            steps[step as usize].fetch_add(nanos(now - self.at), Ordering::Relaxed);
            self.at = now;
        }
    }
}
