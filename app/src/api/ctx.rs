//! Request context for server functions: the services handle, the session, the caller.

use http::StatusCode;
use leptos::prelude::*;
use tower_sessions::Session;
use uuid::Uuid;

use crate::domain::entities::{organization, user};
use crate::domain::secrets::{constant_time_eq, random_urlsafe};
use crate::domain::{RequestMeta, Services, orgs, users};
use crate::error::{AppError, AppResult};
use crate::model::{Flash, Role};
use crate::policy::Capability;
use crate::web::*;

pub fn services() -> AppResult<Services> {
    use_context::<Services>().ok_or_else(|| {
        tracing::error!("Services are missing from the Leptos context");
        AppError::Internal
    })
}

fn parts() -> Option<http::request::Parts> {
    use_context::<http::request::Parts>()
}

pub fn meta() -> RequestMeta {
    parts()
        .and_then(|p| p.extensions.get::<RequestMeta>().cloned())
        .unwrap_or_default()
}

/// True while rendering a page (a GET of a page), as opposed to answering a server-function
/// call (a POST, or a GET under /fn/).
fn rendering_page() -> bool {
    parts().is_some_and(|p| p.method == http::Method::GET && !p.uri.path().starts_with("/fn/"))
}

/// True for a plain HTML form post (no JavaScript): the answer is a redirect, not data.
fn plain_form_post() -> bool {
    parts().is_some_and(|p| {
        p.headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
    })
}

pub async fn session() -> AppResult<Session> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session layer on this route");
        AppError::Internal
    })
}

fn session_err(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session store error");
    AppError::Internal
}

/// The session's CSRF proof, created on first use.
pub async fn csrf_token(session: &Session) -> AppResult<String> {
    if let Some(t) = session
        .get::<String>(SESSION_CSRF)
        .await
        .map_err(session_err)?
    {
        return Ok(t);
    }
    let t = random_urlsafe(32);
    session
        .insert(SESSION_CSRF, &t)
        .await
        .map_err(session_err)?;
    Ok(t)
}

/// Every state-changing server function starts here.
pub async fn check_csrf(session: &Session, provided: &str) -> AppResult<()> {
    let expected = session
        .get::<String>(SESSION_CSRF)
        .await
        .map_err(session_err)?;
    match expected {
        Some(t) if !provided.is_empty() && constant_time_eq(&t, provided) => Ok(()),
        _ => Err(AppError::Csrf),
    }
}

/// Runs a server function body and gives an error its status code: on a page render (so a
/// page can be a 403 or 404), and on a call from the hydrated app (so a refused form is a 4xx,
/// not a 500). A plain form post keeps the 302 back to its page, with the error in the URL.
pub async fn run<T>(body: impl Future<Output = AppResult<T>>) -> AppResult<T> {
    let result = body.await;
    if let Err(e) = &result {
        let page = rendering_page();
        // An anonymous visitor on a page gets the 302 to the login page instead.
        let status_applies = if page {
            *e != AppError::Unauthenticated
        } else {
            !plain_form_post()
        };
        if status_applies && let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            );
        }
    }
    result
}

pub async fn current_user(s: &Services, session: &Session) -> AppResult<Option<user::Model>> {
    let Some(id) = session
        .get::<Uuid>(SESSION_USER)
        .await
        .map_err(session_err)?
    else {
        return Ok(None);
    };
    match users::find(&s.db, id).await? {
        Some(u) if u.disabled_at.is_none() => Ok(Some(u)),
        // Deleted or disabled since sign-in: the session is worthless now.
        _ => {
            session.flush().await.map_err(session_err)?;
            Ok(None)
        }
    }
}

pub struct Caller {
    pub s: Services,
    pub session: Session,
    pub user: user::Model,
}

/// The signed-in caller; during a page render, an anonymous visitor is sent to the login page.
pub async fn require_user() -> AppResult<Caller> {
    let s = services()?;
    let session = session().await?;
    match current_user(&s, &session).await? {
        Some(user) => Ok(Caller { s, session, user }),
        None => {
            if rendering_page()
                && let Some(p) = parts()
            {
                let here = p.uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
                leptos_axum::redirect(&format!(
                    "/login?next={}",
                    url::form_urlencoded::byte_serialize(here.as_bytes()).collect::<String>()
                ));
            }
            Err(AppError::Unauthenticated)
        }
    }
}

/// The org the caller is working in: the one chosen in this session if they still belong to
/// it, else their first org.
pub async fn current_org(c: &Caller) -> AppResult<Option<(organization::Model, Role)>> {
    if let Some(id) = c
        .session
        .get::<Uuid>(SESSION_ORG)
        .await
        .map_err(session_err)?
        && let Some(role) = orgs::role_in(&c.s.db, id, c.user.id).await?
        && let Some(org) = orgs::find(&c.s.db, id).await?
    {
        return Ok(Some((org, role)));
    }
    let Some(first) = orgs::orgs_of(&c.s.db, c.user.id).await?.into_iter().next() else {
        return Ok(None);
    };
    Ok(orgs::find(&c.s.db, first.id)
        .await?
        .map(|org| (org, first.role)))
}

pub struct OrgCaller {
    pub caller: Caller,
    pub org: organization::Model,
    pub role: Role,
}

/// The caller in their current org, refused unless their role has `capability` there.
pub async fn require_org(capability: Capability) -> AppResult<OrgCaller> {
    let caller = require_user().await?;
    let Some((org, role)) = current_org(&caller).await? else {
        return Err(AppError::not_found(
            "You're not a member of any organization yet. Create one, or ask an admin to invite you.",
        ));
    };
    if !role.can(capability) {
        return Err(AppError::Forbidden(role.refusal(capability)));
    }
    Ok(OrgCaller { caller, org, role })
}

/// Signs `user` in on this session: a new session id (no fixation), same CSRF proof.
pub async fn sign_in(session: &Session, user_id: Uuid) -> AppResult<()> {
    session.cycle_id().await.map_err(session_err)?;
    session
        .insert(SESSION_USER, user_id)
        .await
        .map_err(session_err)?;
    Ok(())
}

pub async fn set_current_org(session: &Session, org_id: Uuid) -> AppResult<()> {
    session
        .insert(SESSION_ORG, org_id)
        .await
        .map_err(session_err)
}

pub async fn sign_out(session: &Session) -> AppResult<()> {
    session.flush().await.map_err(session_err)
}

/// A message for the next page. With JavaScript the page shows the action's result itself,
/// so only plain form posts (which end in a redirect) store it.
pub async fn flash(
    session: &Session,
    text: impl Into<String>,
    copy: Option<String>,
) -> AppResult<()> {
    if plain_form_post() {
        session
            .insert(
                SESSION_FLASH,
                Flash {
                    text: text.into(),
                    copy,
                },
            )
            .await
            .map_err(session_err)?;
    }
    Ok(())
}

/// `next` if it is a path on this site, else `/`: never an open redirect.
pub fn safe_next(next: &str) -> String {
    let next = next.trim();
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.contains(['\r', '\n']);
    if ok {
        next.to_string()
    } else {
        "/".to_string()
    }
}

pub fn parse_id(raw: &str, what: &str) -> AppResult<Uuid> {
    Uuid::parse_str(raw.trim())
        .map_err(|_| AppError::not_found(format!("That {what} doesn't exist.")))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_never_an_open_redirect() {
        assert_eq!(safe_next("/admin/members"), "/admin/members");
        assert_eq!(safe_next("/o/acme?x=1"), "/o/acme?x=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "/a\r\nSet-Cookie: x",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
}
