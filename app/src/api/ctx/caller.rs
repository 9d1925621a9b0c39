//! Who is calling a server function, through the one session authentication
//! (`web::session`): the signed-in account, their current org and role, the CSRF proof.

use tower_sessions::Session;
use uuid::Uuid;

use super::{parts, rendering_page, services};
use crate::domain::Services;
use crate::domain::entities::{organization, user};
use crate::error::{AppError, AppResult};
use crate::model::Role;
use crate::policy::Capability;
use crate::web::session::{self as web_session, PreSessionCsrf};

pub async fn session() -> AppResult<Session> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session layer on this route");
        AppError::Internal
    })
}

/// An anonymous visitor's CSRF proof, as the middleware put it on the request.
fn pre_session() -> Option<PreSessionCsrf> {
    parts().and_then(|p| p.extensions.get::<PreSessionCsrf>().cloned())
}

/// The session's CSRF proof (or an anonymous visitor's own).
pub async fn csrf_token(session: &Session) -> AppResult<String> {
    web_session::csrf_token(session, pre_session().as_ref()).await
}

/// Every state-changing server function starts here.
pub async fn check_csrf(session: &Session, provided: &str) -> AppResult<()> {
    web_session::check_csrf(session, pre_session().as_ref(), provided).await
}

pub async fn sign_in(session: &Session, user_id: Uuid) -> AppResult<()> {
    web_session::sign_in(session, user_id, pre_session().as_ref()).await
}

pub async fn set_current_org(session: &Session, org_id: Uuid) -> AppResult<()> {
    web_session::set_current_org(session, org_id).await
}

pub async fn sign_out(session: &Session) -> AppResult<()> {
    web_session::sign_out(session).await
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
    match web_session::signed_in(&s, &session).await? {
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

/// The org the caller is working in (see `web::session::current_org`).
pub async fn current_org(c: &Caller) -> AppResult<Option<(organization::Model, Role)>> {
    web_session::current_org(&c.s, &c.session, c.user.id).await
}

pub struct OrgCaller {
    pub caller: Caller,
    pub org: organization::Model,
    pub role: Role,
}

/// The caller in their current org, refused unless their role has `capability` there.
pub async fn require_org(capability: Capability) -> AppResult<OrgCaller> {
    let caller = require_user().await?;
    let (org, role) =
        web_session::require_org(&caller.s, &caller.session, &caller.user, Some(capability))
            .await?;
    Ok(OrgCaller { caller, org, role })
}

/// The caller in their current org, whatever their role there.
pub async fn require_member() -> AppResult<OrgCaller> {
    let caller = require_user().await?;
    let (org, role) =
        web_session::require_org(&caller.s, &caller.session, &caller.user, None).await?;
    Ok(OrgCaller { caller, org, role })
}
