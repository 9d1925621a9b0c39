//! The one session authentication: who a browser session belongs to (through the access
//! decision, so a deleted or disabled account's session is worthless at once), the org the
//! person is working in, and the CSRF proof every state-changing form and session-authenticated
//! API call carries. The server functions, the REST API and `/oauth/authorize` all use this.
//!
//! An anonymous visitor gets no session row: their forms (sign-in, sign-up) carry a proof kept
//! in a cookie of its own ([`PreSessionCsrf`]), which becomes the session's proof at sign-in.

use tower_sessions::Session;
use uuid::Uuid;

use super::{SESSION_CSRF, SESSION_ORG, SESSION_PENDING_2FA, SESSION_SIGNED_IN, SESSION_USER};
use crate::domain::access::{self, Denial};
use crate::domain::entities::{organization, user};
use crate::domain::secrets::{constant_time_eq, random_urlsafe};
use crate::domain::{Services, orgs};
use crate::error::{AppError, AppResult};
use crate::model::Role;
use crate::policy::Capability;

/// An anonymous visitor's CSRF proof, from their `gatehouse_csrf` cookie (or minted for this
/// response, which then sets the cookie). Put on the request by the server's middleware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreSessionCsrf(pub String);

impl PreSessionCsrf {
    /// A proof as a cookie may carry it: what [`random_urlsafe`] makes of 32 bytes.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = raw.len() == 43
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(raw.to_string()))
    }

    pub fn mint() -> Self {
        Self(random_urlsafe(32))
    }
}

fn store_err(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session store error");
    AppError::Internal
}

/// The account id a session was signed in with, as stored (not checked: see [`signed_in`]).
pub async fn user_id(session: &Session) -> AppResult<Option<Uuid>> {
    session.get::<Uuid>(SESSION_USER).await.map_err(store_err)
}

/// The signed-in account, if the session has one the access decision still accepts. A
/// session of a deleted or disabled account is ended here.
pub async fn signed_in(s: &Services, session: &Session) -> AppResult<Option<user::Model>> {
    let Some(id) = user_id(session).await? else {
        return Ok(None);
    };
    let signed_in_at = session
        .get::<i64>(SESSION_SIGNED_IN)
        .await
        .map_err(store_err)?
        .and_then(chrono::DateTime::from_timestamp_millis);
    match s.access().session_user(id, signed_in_at).await? {
        Ok(user) => Ok(Some(user)),
        Err(_) => {
            session.flush().await.map_err(store_err)?;
            Ok(None)
        }
    }
}

/// The org the person is working in: the one chosen in this session if they still belong to
/// it, else their first org; `None` when they belong to none.
pub async fn current_org(
    s: &Services,
    session: &Session,
    user_id: Uuid,
) -> AppResult<Option<(organization::Model, Role)>> {
    if let Some(id) = session.get::<Uuid>(SESSION_ORG).await.map_err(store_err)?
        && let Some(role) = orgs::role_in(&s.db, id, user_id).await?
        && let Some(org) = orgs::find(&s.db, id).await?
    {
        return Ok(Some((org, role)));
    }
    let Some(first) = orgs::orgs_of(&s.db, user_id).await?.into_iter().next() else {
        return Ok(None);
    };
    Ok(orgs::find(&s.db, first.id)
        .await?
        .map(|org| (org, first.role)))
}

/// The person's current org and role there, refused unless the org lets them work there (its
/// two-factor policy) and the role has `capability` (when one is named). One answer for "in
/// no org", whichever door asks: 403 with the same words.
pub async fn require_org(
    s: &Services,
    session: &Session,
    user: &user::Model,
    capability: Option<Capability>,
) -> AppResult<(organization::Model, Role)> {
    let (org, role) = current_org(s, session, user.id)
        .await?
        .ok_or(Denial::NoOrganization)?;
    access::member(&org, role, user.two_factor())?;
    if let Some(capability) = capability {
        access::capability(role, capability)?;
    }
    Ok((org, role))
}

/// The CSRF proof forms carry: the session's once signed in (created on first use), an
/// anonymous visitor's own cookie proof before that.
pub async fn csrf_token(session: &Session, pre: Option<&PreSessionCsrf>) -> AppResult<String> {
    if let Some(t) = session
        .get::<String>(SESSION_CSRF)
        .await
        .map_err(store_err)?
    {
        return Ok(t);
    }
    if user_id(session).await?.is_none()
        && let Some(pre) = pre
    {
        return Ok(pre.0.clone());
    }
    let t = random_urlsafe(32);
    session.insert(SESSION_CSRF, &t).await.map_err(store_err)?;
    Ok(t)
}

/// Every state-changing server function and session-authenticated API call starts here.
pub async fn check_csrf(
    session: &Session,
    pre: Option<&PreSessionCsrf>,
    provided: &str,
) -> AppResult<()> {
    let expected = match session
        .get::<String>(SESSION_CSRF)
        .await
        .map_err(store_err)?
    {
        Some(t) => Some(t),
        None => pre.map(|p| p.0.clone()),
    };
    match expected {
        Some(t) if !provided.is_empty() && constant_time_eq(&t, provided) => Ok(()),
        _ => Err(AppError::Csrf),
    }
}

/// Signs `user_id` in on this session: a new session id (no fixation); the forms already on
/// the page keep working (the anonymous proof becomes the session's).
pub async fn sign_in(
    session: &Session,
    user_id: Uuid,
    pre: Option<&PreSessionCsrf>,
) -> AppResult<()> {
    session.cycle_id().await.map_err(store_err)?;
    session
        .remove::<PendingSecondFactor>(SESSION_PENDING_2FA)
        .await
        .map_err(store_err)?;
    session
        .insert(SESSION_USER, user_id)
        .await
        .map_err(store_err)?;
    session
        .insert(SESSION_SIGNED_IN, chrono::Utc::now().timestamp_millis())
        .await
        .map_err(store_err)?;
    if let Some(pre) = pre
        && session
            .get::<String>(SESSION_CSRF)
            .await
            .map_err(store_err)?
            .is_none()
    {
        session
            .insert(SESSION_CSRF, &pre.0)
            .await
            .map_err(store_err)?;
    }
    Ok(())
}

/// A sign-in whose password was right, waiting for the second factor. It is not a signed-in
/// session: nothing but the code page accepts it, and it lapses after
/// [`SECOND_FACTOR_WAIT_SECS`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingSecondFactor {
    pub user_id: Uuid,
    /// When the password was checked (Unix milliseconds).
    pub at: i64,
    /// Where to go once signed in (already made safe).
    pub next: String,
}

/// How long the code may take after the password.
pub const SECOND_FACTOR_WAIT_SECS: i64 = 5 * 60;

/// The password was right: the session waits for the second factor.
pub async fn begin_second_factor(session: &Session, user_id: Uuid, next: &str) -> AppResult<()> {
    session
        .insert(
            SESSION_PENDING_2FA,
            PendingSecondFactor {
                user_id,
                at: chrono::Utc::now().timestamp_millis(),
                next: safe_next(next),
            },
        )
        .await
        .map_err(store_err)
}

/// The sign-in waiting for its second factor, if it has not lapsed.
pub async fn pending_second_factor(session: &Session) -> AppResult<Option<PendingSecondFactor>> {
    let Some(p) = session
        .get::<PendingSecondFactor>(SESSION_PENDING_2FA)
        .await
        .map_err(store_err)?
    else {
        return Ok(None);
    };
    if chrono::Utc::now().timestamp_millis() - p.at > SECOND_FACTOR_WAIT_SECS * 1000 {
        session
            .remove::<PendingSecondFactor>(SESSION_PENDING_2FA)
            .await
            .map_err(store_err)?;
        return Ok(None);
    }
    Ok(Some(p))
}

pub async fn set_current_org(session: &Session, org_id: Uuid) -> AppResult<()> {
    session.insert(SESSION_ORG, org_id).await.map_err(store_err)
}

pub async fn sign_out(session: &Session) -> AppResult<()> {
    session.flush().await.map_err(store_err)
}

/// Where to go after signing in: `next` if it is a path on this site, else `/`. Parsed, not
/// pattern-matched: control characters, backslashes, a scheme or an authority (`//host`, which
/// browsers also make of `/\host` or `/\t/host`) all give `/`, so it is never an open redirect.
pub fn safe_next(next: &str) -> String {
    let next = next.trim();
    let plain = next.starts_with('/')
        && !next.starts_with("//")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    if !plain {
        return "/".to_string();
    }
    // Resolved against a base of our own: anything that leaves it is not a local path.
    let Ok(base) = url::Url::parse("http://gatehouse.invalid/") else {
        return "/".to_string();
    };
    match base.join(next) {
        Ok(u) if u.origin() == base.origin() => {
            let mut out = u.path().to_string();
            if let Some(q) = u.query() {
                out.push('?');
                out.push_str(q);
            }
            if let Some(f) = u.fragment() {
                out.push('#');
                out.push_str(f);
            }
            out
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_never_an_open_redirect() {
        assert_eq!(safe_next("/admin/members"), "/admin/members");
        assert_eq!(safe_next("/o/acme?x=1"), "/o/acme?x=1");
        assert_eq!(
            safe_next("/oauth/consent/0192f3c4-aaaa?x=%2F%2Fevil"),
            "/oauth/consent/0192f3c4-aaaa?x=%2F%2Fevil"
        );
        assert_eq!(safe_next(" /account "), "/account");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "\\\\evil.example",
            "/a\\b",
            "javascript:alert(1)",
            "evil.example/x",
            "",
            "/a\r\nSet-Cookie: x",
            "/\u{0}x",
            "///evil.example",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }

    #[test]
    fn pre_session_proofs_must_look_like_ours() {
        let minted = PreSessionCsrf::mint();
        assert_eq!(PreSessionCsrf::parse(&minted.0), Some(minted.clone()));
        for bad in [
            "",
            "short",
            &"x".repeat(44),
            &format!("{}!", &minted.0[..42]),
        ] {
            assert_eq!(PreSessionCsrf::parse(bad), None, "{bad}");
        }
    }
}
