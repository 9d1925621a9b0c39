//! The mails Gatehouse sends, each in plain text and HTML. Every link is absolute, on the
//! instance's public URL; every mail says which Gatehouse sent it and why.

use super::{Mail, MailBody, MailKind};

/// What every mail needs from the instance.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    /// The public URL, e.g. `https://gatehouse.example.com`.
    pub url: &'a str,
}

impl Site<'_> {
    fn host(&self) -> &str {
        self.url
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(self.url)
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One mail from paragraphs (plain text), an optional button link, and a closing note.
fn compose(
    site: Site<'_>,
    kind: MailKind,
    to: &str,
    subject: String,
    paragraphs: &[String],
    action: Option<(&str, &str)>,
    after: &[String],
) -> Mail {
    let mut text = String::new();
    let mut html = String::from(
        "<!DOCTYPE html><html><body style=\"font-family:system-ui,sans-serif;line-height:1.5;color:#1f2328;max-width:560px;margin:0 auto;padding:24px\">",
    );
    for p in paragraphs {
        text.push_str(p);
        text.push_str("\n\n");
        html.push_str(&format!("<p>{}</p>", escape(p)));
    }
    if let Some((label, link)) = action {
        text.push_str(&format!("{label}:\n{link}\n\n"));
        html.push_str(&format!(
            "<p><a href=\"{href}\" style=\"display:inline-block;background:#0b57d0;color:#fff;padding:10px 16px;border-radius:6px;text-decoration:none\">{label}</a></p><p style=\"font-size:13px;color:#59636e\">Or open this address: <a href=\"{href}\">{href}</a></p>",
            href = escape(link),
            label = escape(label),
        ));
    }
    for p in after {
        text.push_str(p);
        text.push_str("\n\n");
        html.push_str(&format!(
            "<p style=\"font-size:13px;color:#59636e\">{}</p>",
            escape(p)
        ));
    }
    let footer = format!("Gatehouse at {}", site.url);
    text.push_str(&format!("-- \n{footer}\n"));
    html.push_str(&format!(
        "<hr style=\"border:none;border-top:1px solid #d1d9e0\"><p style=\"font-size:12px;color:#59636e\">Gatehouse at <a href=\"{url}\">{host}</a></p></body></html>",
        url = escape(site.url),
        host = escape(site.host()),
    ));
    Mail {
        kind,
        to: to.to_string(),
        subject,
        body: MailBody {
            text,
            html,
            link: action.map(|(_, l)| l.to_string()),
        },
    }
}

pub fn verify_email(site: Site<'_>, to: &str, link: &str) -> Mail {
    compose(
        site,
        MailKind::VerifyEmail,
        to,
        "Verify your email address for Gatehouse".into(),
        &[format!(
            "Someone created a Gatehouse account at {} with this address. Follow the link to confirm it is yours: until then the account can't join an organization.",
            site.host()
        )],
        Some(("Verify my email address", link)),
        &["The link works once, for 24 hours. If you didn't create this account, ignore this mail.".into()],
    )
}

pub fn confirm_new_email(site: Site<'_>, to: &str, old: &str, link: &str) -> Mail {
    compose(
        site,
        MailKind::ConfirmNewEmail,
        to,
        "Confirm your new email address for Gatehouse".into(),
        &[format!(
            "The Gatehouse account {old} at {} asked to use this address from now on. Follow the link to confirm it.",
            site.host()
        )],
        Some(("Use this address", link)),
        &["The link works once, for 24 hours. If you didn't ask for this, ignore this mail: nothing changes.".into()],
    )
}

pub fn email_changed(site: Site<'_>, to: &str, new: &str) -> Mail {
    compose(
        site,
        MailKind::EmailChanged,
        to,
        "Your Gatehouse email address was changed".into(),
        &[format!(
            "Your Gatehouse account at {} now uses {new} instead of this address. Mail about the account goes there from now on.",
            site.host()
        )],
        None,
        &["If you didn't make this change, reset your password and tell your organization's admin.".into()],
    )
}

pub fn password_reset(site: Site<'_>, to: &str, link: &str) -> Mail {
    compose(
        site,
        MailKind::PasswordReset,
        to,
        "Reset your Gatehouse password".into(),
        &[format!(
            "Someone asked to reset the password of the Gatehouse account {to} at {}. Follow the link to choose a new one; every session of the account ends when you do.",
            site.host()
        )],
        Some(("Choose a new password", link)),
        &["The link works once, for 30 minutes. If you didn't ask for this, ignore this mail: your password stays as it is.".into()],
    )
}

pub fn password_changed(site: Site<'_>, to: &str) -> Mail {
    compose(
        site,
        MailKind::PasswordChanged,
        to,
        "Your Gatehouse password was changed".into(),
        &[format!(
            "The password of your Gatehouse account at {} was changed, and every session of the account was ended.",
            site.host()
        )],
        None,
        &[format!(
            "If you didn't do this, reset your password at {}/forgot-password at once and tell your organization's admin.",
            site.url
        )],
    )
}

pub fn invitation(
    site: Site<'_>,
    to: &str,
    org_name: &str,
    invited_by: Option<&str>,
    role: &str,
    link: &str,
    valid_days: i64,
) -> Mail {
    let who = invited_by
        .map(|e| format!("{e} invited you"))
        .unwrap_or_else(|| "You are invited".into());
    compose(
        site,
        MailKind::Invitation,
        to,
        format!("Join {org_name} on Gatehouse"),
        &[format!(
            "{who} to join {org_name} on Gatehouse as {role}. Follow the link, then sign in or create an account with this address ({to}) to accept."
        )],
        Some(("Accept the invitation", link)),
        &[format!(
            "The link works once, for {valid_days} days, and only for {to}. If you don't know {org_name}, ignore this mail."
        )],
    )
}

pub fn two_factor_changed(site: Site<'_>, to: &str, on: bool) -> Mail {
    let (subject, what) = if on {
        (
            "Two-factor sign-in is on for your Gatehouse account",
            "Two-factor sign-in was turned on for your Gatehouse account",
        )
    } else {
        (
            "Two-factor sign-in was turned off for your Gatehouse account",
            "Two-factor sign-in was turned off for your Gatehouse account",
        )
    };
    compose(
        site,
        MailKind::TwoFactorChanged,
        to,
        subject.into(),
        &[format!("{what} at {}.", site.host())],
        None,
        &["If you didn't do this, reset your password at once and tell your organization's admin.".into()],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mails_carry_the_link_in_both_bodies_and_escape_html() {
        let site = Site {
            url: "https://gate.example.com",
        };
        let m = invitation(
            site,
            "cfo@victim.example",
            "Acme <R&D>",
            Some("ada@acme.example"),
            "Admin",
            "https://gate.example.com/invite/abc",
            7,
        );
        assert_eq!(m.subject, "Join Acme <R&D> on Gatehouse");
        assert!(
            m.body
                .text
                .contains("https://gate.example.com/invite/abc\n")
        );
        assert!(m.body.html.contains("Acme &lt;R&amp;D&gt;"));
        assert!(!m.body.html.contains("<R&D>"));
        assert!(
            m.body
                .html
                .contains("href=\"https://gate.example.com/invite/abc\"")
        );
        assert_eq!(
            m.body.link.as_deref(),
            Some("https://gate.example.com/invite/abc")
        );
        assert!(
            m.body
                .text
                .contains("Gatehouse at https://gate.example.com")
        );
        assert_eq!(password_changed(site, "a@b.example").body.link, None);
    }
}
