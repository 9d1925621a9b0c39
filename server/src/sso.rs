//! The single sign-on doors of the browser: `/login/sso?email=` finds the org whose provider
//! an address signs in with, `/login/sso/{org}` sends the person there, and
//! `/login/sso/callback` takes them back, signs them in and goes on (to the consent screen of
//! an MCP client, when that is where they came from). Failures are a readable page; what the
//! provider said goes to the audit log only.

use app::domain::sso::flow;
use app::domain::sso_policy;
use app::domain::{RequestMeta, orgs, users};
use app::web::session::{self as web_session, safe_next, set_current_org, sign_in};
use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use serde::Deserialize;
use tower_sessions::Session;

use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct ByEmail {
    #[serde(default)]
    email: String,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Start {
    #[serde(default)]
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Back {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn with_next(path: &str, next: Option<&str>) -> String {
    match next.map(safe_next).filter(|n| n != "/") {
        Some(n) => format!("{path}?next={}", encode(&n)),
        None => path.to_string(),
    }
}

/// `GET /login/sso?email=…`: the org whose single sign-on covers the address.
pub async fn by_email(State(state): State<AppState>, Query(q): Query<ByEmail>) -> Response {
    let email = q.email.trim();
    if !email.contains('@') {
        return page(
            StatusCode::BAD_REQUEST,
            "Enter your work email address",
            "Single sign-on starts from your work email address, such as you@company.com.",
            q.next.as_deref(),
        );
    }
    let found = match sso_policy::org_for_email(&state.services.db, email).await {
        Ok(f) => f,
        Err(e) => return failure_of(e),
    };
    let org = match found {
        Some((org_id, _)) => orgs::find(&state.services.db, org_id).await,
        None => Ok(None),
    };
    match org {
        Ok(Some(org)) => Redirect::to(&with_next(
            &format!("/login/sso/{}", org.slug),
            q.next.as_deref(),
        ))
        .into_response(),
        Ok(None) => page(
            StatusCode::NOT_FOUND,
            "No single sign-on for this address",
            "No organization signs in with single sign-on for this address. Sign in with your password instead.",
            q.next.as_deref(),
        ),
        Err(e) => failure_of(e),
    }
}

/// `GET /login/sso/{org}`: to the org's provider.
pub async fn start(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    Path(slug): Path<String>,
    Query(q): Query<Start>,
) -> Response {
    let org = match orgs::find_by_slug(&state.services.db, &slug).await {
        Ok(Some(org)) => org,
        Ok(None) => {
            return page(
                StatusCode::NOT_FOUND,
                "Single sign-on isn't available",
                &flow::SsoFailure::NotSetUp.to_string(),
                q.next.as_deref(),
            );
        }
        Err(e) => return failure_of(e),
    };
    let next = q.next.as_deref().map(safe_next);
    match flow::begin(&state.services, &org, next.as_deref(), &meta).await {
        Ok(Ok(provider)) => Redirect::to(&provider).into_response(),
        Ok(Err(failure)) => refused(&failure, q.next.as_deref()),
        Err(e) => failure_of(e),
    }
}

/// `GET /login/sso/callback`: back from the provider.
pub async fn callback(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    session: Session,
    Query(q): Query<Back>,
) -> Response {
    let signed_in_as = match web_session::signed_in(&state.services, &session).await {
        Ok(user) => user.map(|u| u.id),
        Err(e) => return failure_of(e),
    };
    let cb = flow::Callback {
        state: q.state,
        code: q.code,
        error: q.error,
        signed_in_as,
    };
    let done = match flow::finish(&state.services, &cb, &meta).await {
        Ok(Ok(done)) => done,
        Ok(Err(failure)) => return refused(&failure, None),
        Err(e) => return failure_of(e),
    };
    let signed = async {
        sign_in(&session, done.user.id, None).await?;
        set_current_org(&session, done.org.id).await?;
        users::record_sign_in(&state.services, done.user.clone(), "sso", &meta).await
    };
    match signed.await {
        Ok(_) => Redirect::to(&safe_next(&done.return_to)).into_response(),
        Err(e) => failure_of(e),
    }
}

fn refused(failure: &flow::SsoFailure, next: Option<&str>) -> Response {
    let status = match failure {
        flow::SsoFailure::Unreachable(_) => StatusCode::BAD_GATEWAY,
        flow::SsoFailure::NotSetUp => StatusCode::NOT_FOUND,
        _ => StatusCode::FORBIDDEN,
    };
    page(
        status,
        "Single sign-on didn't sign you in",
        &failure.to_string(),
        next,
    )
}

fn failure_of(e: app::error::AppError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    page(
        status,
        "Single sign-on didn't sign you in",
        &e.to_string(),
        None,
    )
}

fn page(status: StatusCode, title: &str, message: &str, next: Option<&str>) -> Response {
    use crate::plain_page::escape;
    let back = with_next("/login", next);
    crate::plain_page::render(
        status,
        title,
        "sso-error",
        &format!(
            "<h1>{}</h1><p>{}</p><p><a href=\"{}\">Back to sign-in</a></p>",
            escape(title),
            escape(message),
            escape(&back)
        ),
    )
}
