//! Request context for server functions: the services handle, the session, the caller.

use http::StatusCode;
use leptos::prelude::*;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use tower_sessions::Session;
use uuid::Uuid;

use crate::domain::entities::{organization, user};
use crate::domain::oauth::scope::SCOPES;
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
pub fn plain_form_post() -> bool {
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

/// What a refused form had in it, kept in the session for the page the browser is sent back
/// to. `tied_to` is the org (or the record) the form belongs to, so no other page shows it.
#[derive(Serialize, Deserialize)]
struct Draft<T> {
    tied_to: Option<Uuid>,
    value: T,
}

fn draft_key(form: &str) -> String {
    format!("draft.{form}")
}

/// The longest text a draft keeps of one field (a field far over its limit is cut here, so a
/// refused form can't fill the session store).
pub const DRAFT_MAX_CHARS: usize = 4_000;

/// `text` as a draft keeps it: at most [`DRAFT_MAX_CHARS`] characters.
pub fn draft_text(text: &str) -> String {
    text.chars().take(DRAFT_MAX_CHARS).collect()
}

/// The scopes ticked in a form, as a draft keeps them: the known ones only.
pub fn draft_scopes(ticked: &[String]) -> Vec<String> {
    SCOPES
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| {
            ticked
                .iter()
                .flat_map(|t| t.split_whitespace())
                .any(|t| t == *s)
        })
        .map(str::to_string)
        .collect()
}

/// Keeps what was typed in a refused form, for the page a plain form post (no JavaScript) is
/// redirected back to, which shows it once with the error. With JavaScript the form stays on
/// the page as typed, so nothing is kept. `tied_to`: the org (or the record) the form is for;
/// a page of another one never shows it. Only call this once the CSRF proof has been checked
/// (another site must not be able to fill someone's form), and never put a secret or a
/// password in `value`: it is stored in the session.
pub async fn keep_draft<T: Serialize>(
    session: &Session,
    form: &'static str,
    tied_to: Option<Uuid>,
    value: &T,
) {
    if plain_form_post() {
        store_draft(session, form, tied_to, value).await;
    }
}

async fn store_draft<T: Serialize>(
    session: &Session,
    form: &'static str,
    tied_to: Option<Uuid>,
    value: &T,
) {
    if let Err(e) = session
        .insert(&draft_key(form), Draft { tied_to, value })
        .await
    {
        // The form comes back empty, with its message: worth a log line, not an error page.
        tracing::warn!(error = %e, form, "could not keep a form draft");
    }
}

/// Takes out the draft `form` left (it is shown once, whoever asks); `Some` only if it is
/// for `tied_to`.
pub async fn take_draft<T: DeserializeOwned>(
    session: &Session,
    form: &'static str,
    tied_to: Option<Uuid>,
) -> Option<T> {
    match session.remove::<Draft<T>>(&draft_key(form)).await {
        Ok(draft) => draft.filter(|d| d.tied_to == tied_to).map(|d| d.value),
        Err(e) => {
            tracing::warn!(error = %e, form, "could not read a form draft");
            None
        }
    }
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
    use std::sync::Arc;

    use tower_sessions::session::{Id, Record};
    use tower_sessions::{Session, session_store};
    use uuid::Uuid;

    use super::{draft_scopes, draft_text, keep_draft, safe_next, store_draft, take_draft};

    /// A store that is never reached: a session without an id lives in memory until saved.
    #[derive(Debug)]
    struct NoStore;

    #[async_trait::async_trait]
    impl session_store::SessionStore for NoStore {
        async fn save(&self, _: &Record) -> session_store::Result<()> {
            Ok(())
        }
        async fn load(&self, _: &Id) -> session_store::Result<Option<Record>> {
            Ok(None)
        }
        async fn delete(&self, _: &Id) -> session_store::Result<()> {
            Ok(())
        }
    }

    fn session() -> Session {
        Session::new(None, Arc::new(NoStore), None)
    }

    #[tokio::test]
    async fn a_draft_is_shown_once_and_only_for_its_org() {
        let s = session();
        let (acme, other) = (Uuid::new_v4(), Uuid::new_v4());
        let typed = ("CI deploy".to_string(), vec!["mcp:read".to_string()]);
        store_draft(&s, "test", Some(acme), &typed).await;
        assert_eq!(
            take_draft::<(String, Vec<String>)>(&s, "test", Some(acme)).await,
            Some(typed.clone())
        );
        // Shown once.
        assert_eq!(
            take_draft::<(String, Vec<String>)>(&s, "test", Some(acme)).await,
            None
        );
        // Another org's page doesn't show it, and it is gone after that too.
        store_draft(&s, "test", Some(acme), &typed).await;
        assert_eq!(
            take_draft::<(String, Vec<String>)>(&s, "test", Some(other)).await,
            None
        );
        assert_eq!(
            take_draft::<(String, Vec<String>)>(&s, "test", Some(acme)).await,
            None
        );
        // Each form has its own.
        store_draft(&s, "one", None, &1u32).await;
        assert_eq!(take_draft::<u32>(&s, "two", None).await, None);
        assert_eq!(take_draft::<u32>(&s, "one", None).await, Some(1));
    }

    #[tokio::test]
    async fn only_a_plain_form_post_keeps_a_draft() {
        // No request at all (and so no `Accept: text/html`): nothing is kept.
        let s = session();
        keep_draft(&s, "test", None, &"typed").await;
        assert_eq!(take_draft::<String>(&s, "test", None).await, None);
    }

    #[test]
    fn a_draft_keeps_known_scopes_only() {
        let ticked = ["mcp:write", "admin:all mcp:read", "mcp:write"].map(String::from);
        assert_eq!(draft_scopes(&ticked), ["mcp:read", "mcp:write"]);
        assert!(draft_scopes(&[]).is_empty());
    }

    #[test]
    fn draft_text_is_bounded() {
        assert_eq!(draft_text("  as typed \n"), "  as typed \n");
        let long = "é".repeat(super::DRAFT_MAX_CHARS + 10);
        assert_eq!(draft_text(&long).chars().count(), super::DRAFT_MAX_CHARS);
    }

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
