//! Request context for server functions: the services handle, the request, the caller and
//! the forms' session state. The rules themselves live in the domain and in `web::session`.

mod caller;
mod forms;

use http::StatusCode;
use leptos::prelude::*;
use uuid::Uuid;

use crate::domain::{RequestMeta, Services};
use crate::error::{AppError, AppResult};

pub use caller::{
    Caller, OrgCaller, check_csrf, csrf_token, current_org, require_member, require_org,
    require_user, session, set_current_org, sign_in, sign_out,
};
pub use forms::{draft_scopes, draft_text, flash, keep_draft, take_draft};

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

/// Runs a server function body and gives an error its status code: on a page render (so a
/// page can be a 403 or 404), and on a call from the hydrated app (so a refused form is a 4xx,
/// not a 500). A plain form post keeps the 302 back to its page, with the error in the URL.
pub async fn run<T>(body: impl Future<Output = AppResult<T>>) -> AppResult<T> {
    let result = body.await;
    if let Err(e) = &result {
        let page = rendering_page();
        // An org that asks for two-factor sign-in sends the member to set it up.
        if page && matches!(e, AppError::TwoFactorRequired(_)) {
            leptos_axum::redirect("/account?two_factor=required#two-factor");
            return result;
        }
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

pub fn parse_id(raw: &str, what: &str) -> AppResult<Uuid> {
    Uuid::parse_str(raw.trim())
        .map_err(|_| AppError::not_found(format!("That {what} doesn't exist.")))
}

/// `next` if it is a path on this site, else `/`: never an open redirect.
pub fn safe_next(next: &str) -> String {
    crate::web::session::safe_next(next)
}
