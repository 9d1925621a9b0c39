//! The worker that empties the mail outbox ([`super::mail`]): woken when a request queues mail, and every few
//! seconds anyway (mail queued by another process, retries coming due).

use std::time::Duration;

use chrono::Utc;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::mail::MailSettings;
use super::mail::outbox::{self, Claimed};
use crate::domain::Services;
use crate::error::AppResult;

/// How often the worker looks at the outbox when nobody woke it.
const POLL: Duration = Duration::from_secs(5);
/// Mails claimed per round.
const BATCH: u64 = 20;

/// The SMTP side, built once per worker.
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(settings: &MailSettings) -> Self {
        let transport = settings.smtp.as_ref().and_then(|url| {
            match AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose()) {
                Ok(b) => Some(b.timeout(Some(Duration::from_secs(20))).build()),
                Err(e) => {
                    // Checked at start-up; kept as a log line rather than a panic.
                    tracing::error!(smtp = %url.shown(), error = %e, "the SMTP URL can't be used");
                    None
                }
            }
        });
        Self {
            transport,
            from: settings.from.clone(),
        }
    }

    async fn send(
        &self,
        transport: &AsyncSmtpTransport<Tokio1Executor>,
        m: &Claimed,
    ) -> Result<(), Failure> {
        let to: Mailbox =
            m.to.parse()
                .map_err(|e| Failure::Permanent(format!("bad recipient {:?}: {e}", m.to)))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                m.body.text.clone(),
                m.body.html.clone(),
            ))
            .map_err(|e| Failure::Permanent(e.to_string()))?;
        match transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(Failure::Permanent(e.to_string())),
            Err(e) => Err(Failure::Retry(e.to_string())),
        }
    }
}

enum Failure {
    /// The server refused the mail for good (5xx) or it can't be built.
    Permanent(String),
    /// Connection trouble or a 4xx: try again later.
    Retry(String),
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub failed: usize,
    pub printed: usize,
}

/// Sends (or, with no SMTP server, logs) every mail that is due.
pub async fn deliver_due(s: &Services, mailer: &Mailer) -> AppResult<Round> {
    let mut round = Round::default();
    let Some(transport) = &mailer.transport else {
        for m in outbox::claim_unprinted(&s.db, &s.key).await? {
            tracing::info!(
                to = %m.to,
                subject = %m.subject,
                link = m.body.link.as_deref().unwrap_or("(none)"),
                "mail kept in the outbox: no SMTP server is configured (GATEHOUSE_SMTP_URL)"
            );
            round.printed += 1;
        }
        return Ok(round);
    };
    loop {
        let batch = outbox::claim_due(&s.db, &s.key, Utc::now(), BATCH).await?;
        if batch.is_empty() {
            return Ok(round);
        }
        for m in batch {
            match mailer.send(transport, &m).await {
                Ok(()) => {
                    outbox::mark_sent(&s.db, m.id).await?;
                    round.sent += 1;
                }
                Err(Failure::Retry(error)) => {
                    tracing::warn!(mail = %m.id, attempt = m.attempts, %error, "mail not sent; will retry");
                    outbox::mark_failed(&s.db, m.id, m.attempts, &error).await?;
                    round.failed += 1;
                }
                Err(Failure::Permanent(error)) => {
                    tracing::warn!(mail = %m.id, %error, "mail refused; giving up");
                    outbox::mark_failed(&s.db, m.id, outbox::MAX_ATTEMPTS, &error).await?;
                    round.failed += 1;
                }
            }
        }
    }
}

/// Runs the worker on the current runtime until the process ends.
pub fn spawn_worker(s: Services) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mailer = Mailer::new(&s.settings.mail);
        let wake = s.mail_wake();
        loop {
            if let Err(e) = deliver_due(&s, &mailer).await {
                tracing::warn!(error = %e, "mail delivery round failed");
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    })
}
