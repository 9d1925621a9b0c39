//! Newtypes that parse user input once, at the edge of the domain, with the message a person
//! sees next to the field (zero2prod's "parse, don't validate").

use crate::error::{AppError, AppResult};

/// A normalised (trimmed, lower-cased) email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> AppResult<Self> {
        let email = raw.trim().to_lowercase();
        let bad = |msg: &str| Err(AppError::invalid("email", msg));
        if email.is_empty() {
            return bad("Enter your email address.");
        }
        if email.len() > 254 {
            return bad("That email address is too long.");
        }
        let Some((local, domain)) = email.split_once('@') else {
            return bad("Enter an email address like name@example.com.");
        };
        let domain_ok = !domain.is_empty()
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '@');
        if !domain_ok || !local_ok {
            return bad("Enter an email address like name@example.com.");
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that meets the policy. Never logged, never echoed.
pub struct Password(String);

impl Password {
    pub const MIN_LEN: usize = 12;
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str, email: Option<&Email>) -> AppResult<Self> {
        let bad = |msg: String| Err(AppError::invalid("password", msg));
        let chars = raw.chars().count();
        if chars < Self::MIN_LEN {
            return bad(format!(
                "Use at least {} characters for your password.",
                Self::MIN_LEN
            ));
        }
        if chars > Self::MAX_LEN {
            return bad(format!(
                "Use at most {} characters for your password.",
                Self::MAX_LEN
            ));
        }
        let lower = raw.to_lowercase();
        let first = lower.chars().next().unwrap_or_default();
        if lower.chars().all(|c| c == first)
            || COMMON
                .iter()
                .any(|c| lower.contains(c) && lower.len() <= c.len() + 4)
        {
            return bad(
                "That password is too easy to guess. Try a longer phrase of unrelated words."
                    .into(),
            );
        }
        if let Some(email) = email {
            let local = email.as_str().split('@').next().unwrap_or_default();
            if lower == email.as_str()
                || (local.len() >= 4 && lower.contains(local) && lower.len() < local.len() + 6)
            {
                return bad("Your password must not be based on your email address.".into());
            }
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

const COMMON: &[&str] = &[
    "password",
    "passw0rd",
    "123456",
    "qwerty",
    "letmein",
    "welcome",
    "admin",
    "iloveyou",
    "monkey",
    "dragon",
    "abc123",
    "football",
    "gatehouse",
    "changeme",
    "secret",
];

/// An optional display name.
pub fn display_name(raw: &str) -> AppResult<Option<String>> {
    let name = raw.trim();
    if name.is_empty() {
        return Ok(None);
    }
    if name.chars().count() > 100 {
        return Err(AppError::invalid(
            "name",
            "Use at most 100 characters for your name.",
        ));
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(AppError::invalid(
            "name",
            "Your name can't contain control characters.",
        ));
    }
    Ok(Some(name.to_string()))
}

/// An organization's URL name: 2–40 of a-z, 0-9 and '-', not starting or ending with '-'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> AppResult<Self> {
        let slug = raw.trim().to_lowercase();
        let bad = |msg: &str| Err(AppError::invalid("slug", msg));
        if slug.len() < 2 || slug.len() > 40 {
            return bad("Use 2 to 40 characters for the URL name.");
        }
        if !slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return bad("Use only lowercase letters, digits and dashes in the URL name.");
        }
        if slug.starts_with('-') || slug.ends_with('-') || slug.contains("--") {
            return bad(
                "The URL name can't start or end with a dash or contain two dashes in a row.",
            );
        }
        if RESERVED_SLUGS.contains(&slug.as_str()) {
            return bad("That URL name is reserved. Choose another.");
        }
        Ok(Self(slug))
    }

    /// A slug suggestion derived from an organization name ("Acme, Inc." → "acme-inc").
    pub fn suggest(name: &str) -> String {
        let mut out = String::new();
        for c in name.trim().to_lowercase().chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        let out = out.trim_end_matches('-');
        out.chars()
            .take(40)
            .collect::<String>()
            .trim_end_matches('-')
            .to_string()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

const RESERVED_SLUGS: &[&str] = &[
    "new", "admin", "api", "mcp", "oauth", "settings", "login", "signup", "logout", "static",
];

/// The longest name of a token or an app, in characters.
pub const ITEM_NAME_MAX_CHARS: usize = 100;

/// The required name of something a member creates (a personal token, an OAuth app), as field
/// `name`; `empty` says what the name is for when none is given.
pub fn item_name(raw: &str, empty: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name", empty));
    }
    if name.chars().count() > ITEM_NAME_MAX_CHARS {
        return Err(AppError::invalid(
            "name",
            format!("Keep the name to {ITEM_NAME_MAX_CHARS} characters or fewer."),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "name",
            "The name can't contain line breaks or control characters.",
        ));
    }
    Ok(name.to_string())
}

/// An organization's display name.
pub fn org_name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::invalid(
            "name",
            "Enter a name for the organization.",
        ));
    }
    if name.chars().count() > 100 {
        return Err(AppError::invalid(
            "name",
            "Use at most 100 characters for the name.",
        ));
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(AppError::invalid(
            "name",
            "The name can't contain control characters.",
        ));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_normalises_and_rejects() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@x.com",
            "a b@x.com",
            "ada@x..com",
            "ada@-x.com.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(Email::parse("nope").unwrap_err().field(), Some("email"));
    }

    #[test]
    fn password_policy() {
        let email = Email::parse("ada.lovelace@example.com").unwrap();
        assert!(Password::parse("short", None).is_err());
        assert!(Password::parse("aaaaaaaaaaaaaaaa", None).is_err());
        assert!(Password::parse("password1234", None).is_err());
        assert!(Password::parse("ada.lovelace@example.com", Some(&email)).is_err());
        assert!(Password::parse("analytical engine notes", Some(&email)).is_ok());
        assert_eq!(
            format!(
                "{:?}",
                Password::parse("analytical engine notes", None).unwrap()
            ),
            "Password(***)"
        );
    }

    #[test]
    fn slugs() {
        assert_eq!(Slug::parse(" Acme ").unwrap().as_str(), "acme");
        for bad in ["a", "-acme", "acme-", "ac--me", "ac me", "new", "Ünïcode"] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(Slug::suggest("Acme, Inc."), "acme-inc");
        assert_eq!(Slug::suggest("  --Hello   World-- "), "hello-world");
    }
}
