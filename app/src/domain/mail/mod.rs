//! Mail: written to the outbox in the transaction of the change that causes it, delivered by a
//! background worker over SMTP with retries and backoff. A request never waits for SMTP, and
//! a restart loses nothing (the outbox is a table). With no SMTP server configured (the
//! embedded default), mail stays in the outbox, each link is written to the log once, and
//! `gatehouse outbox` lists them. The worker itself is [`super::mailer`].

pub mod outbox;
pub mod templates;

use serde::{Deserialize, Serialize};

/// What a mail is about (`mail_outbox.kind`, shown by `gatehouse outbox`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    VerifyEmail,
    ConfirmNewEmail,
    EmailChanged,
    PasswordReset,
    PasswordChanged,
    Invitation,
    TwoFactorChanged,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ConfirmNewEmail => "confirm_new_email",
            Self::EmailChanged => "email_changed",
            Self::PasswordReset => "password_reset",
            Self::PasswordChanged => "password_changed",
            Self::Invitation => "invitation",
            Self::TwoFactorChanged => "two_factor_changed",
        }
    }
}

/// One mail, as the templates write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub kind: MailKind,
    pub to: String,
    pub subject: String,
    pub body: MailBody,
}

/// What is sealed in the outbox until the mail is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailBody {
    pub text: String,
    pub html: String,
    /// The link the mail carries, if any (written to the log when there is no SMTP server).
    pub link: Option<String>,
}

/// How mail leaves Gatehouse.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// The `From:` mailbox, e.g. `Gatehouse <no-reply@gatehouse.example.com>`.
    pub from: lettre::message::Mailbox,
    /// `None`: no SMTP server; mail stays in the outbox and links go to the log.
    pub smtp: Option<SmtpUrl>,
}

impl MailSettings {
    /// No SMTP server, and a `From:` address on the public URL's host.
    pub fn log_only(public_url: &str) -> Self {
        let host = url::Url::parse(public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .filter(|h| h.contains('.') && h.parse::<std::net::IpAddr>().is_err())
            .unwrap_or_else(|| "localhost".into());
        Self {
            from: format!("Gatehouse <no-reply@{host}>")
                .parse()
                .unwrap_or_else(|_| "Gatehouse <no-reply@localhost>".parse().expect("valid")),
            smtp: None,
        }
    }
}

/// `GATEHOUSE_SMTP_URL`: `smtp://host:port` (plain, for a relay on this machine or network),
/// `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtps://user:pass@host:465`. Its
/// password never reaches a log: `Debug` shows scheme, host and port only.
#[derive(Clone)]
pub struct SmtpUrl(String);

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpUrl({})", self.shown())
    }
}

impl SmtpUrl {
    /// Checks the URL as the SMTP transport will read it. A password over an unencrypted
    /// connection is refused: it would cross the network in the clear.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = url::Url::parse(raw.trim()).map_err(|e| format!("not a URL ({e})"))?;
        let tls = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.to_string());
        match (url.scheme(), tls.as_deref()) {
            ("smtps", None) | ("smtp", None | Some("required" | "opportunistic")) => {}
            _ => {
                return Err(
                    "expected smtp://host:port, smtp://user:pass@host:587?tls=required or smtps://user:pass@host:465"
                        .into(),
                );
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("names no host".into());
        }
        let encrypted = url.scheme() == "smtps" || tls.as_deref() == Some("required");
        if url.password().is_some() && !encrypted {
            return Err(
                "a password would be sent unencrypted: use smtps:// or add ?tls=required".into(),
            );
        }
        lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(raw.trim())
            .map_err(|e| e.to_string())?;
        Ok(Self(raw.trim().to_string()))
    }

    /// Scheme, host and port: what logs and messages may show.
    pub fn shown(&self) -> String {
        url::Url::parse(&self.0)
            .map(|u| {
                format!(
                    "{}://{}:{}",
                    u.scheme(),
                    u.host_str().unwrap_or_default(),
                    u.port().map(|p| p.to_string()).unwrap_or_default()
                )
            })
            .unwrap_or_default()
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_are_checked_and_never_shown_with_their_password() {
        assert!(SmtpUrl::parse("smtp://127.0.0.1:2525").is_ok());
        let tls = SmtpUrl::parse("smtp://me:s3cret@mail.example:587?tls=required").unwrap();
        assert!(!format!("{tls:?}").contains("s3cret"));
        assert_eq!(tls.shown(), "smtp://mail.example:587");
        assert!(SmtpUrl::parse("smtps://me:s3cret@mail.example").is_ok());
        assert!(
            SmtpUrl::parse("smtp://me:s3cret@mail.example:25")
                .unwrap_err()
                .contains("unencrypted")
        );
        assert!(SmtpUrl::parse("http://mail.example").is_err());
        assert!(SmtpUrl::parse("smtp://mail.example?tls=maybe").is_err());
    }

    #[test]
    fn the_default_sender_is_on_the_public_host() {
        assert_eq!(
            MailSettings::log_only("https://gate.example.com")
                .from
                .to_string(),
            "Gatehouse <no-reply@gate.example.com>"
        );
        assert_eq!(
            MailSettings::log_only("http://127.0.0.1:3000")
                .from
                .email
                .to_string(),
            "no-reply@localhost"
        );
    }
}
