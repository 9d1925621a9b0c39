//! `GET|POST /oauth/authorize`: validates the request, then sends the browser to sign-in and
//! the consent screen (or straight back, when consent is remembered). Never CORS-enabled.

use app::domain::RequestMeta;
use app::domain::oauth::authorize::{self, AuthorizeRequest, Begin};
use app::domain::oauth::consent;
use app::web::session::signed_in;
use axum::body::Bytes;
use axum::extract::{Extension, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, Method, StatusCode};
use tower_sessions::Session;

use super::params::Params;
use crate::state::AppState;

const SINGULAR: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "prompt",
];

pub async fn authorize(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    session: Session,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = if method == Method::POST {
        match Params::from_body(&headers, &body) {
            Ok(p) => p,
            Err(e) => return error_page(StatusCode::BAD_REQUEST, &e.error_description),
        }
    } else {
        Params::from_pairs(
            url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned(),
        )
    };
    // The one session authentication: a disabled or deleted account is not signed in.
    let user = match signed_in(&state.services, &session).await {
        Ok(u) => u,
        Err(_) => return unavailable(),
    };
    let get = |n: &str| params.all(n).into_iter().next();
    let req = AuthorizeRequest {
        response_type: get("response_type"),
        client_id: get("client_id"),
        redirect_uri: get("redirect_uri"),
        scope: get("scope"),
        state: get("state"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
        resource: params.all("resource"),
        prompt: get("prompt"),
        repeated: params.first_duplicate(SINGULAR),
        signed_in: user.is_some(),
        client_ip: meta.ip.clone(),
    };
    let outcome = match authorize::begin(&state.services, req).await {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %e, "authorization request failed");
            return unavailable();
        }
    };
    match outcome {
        Begin::ErrorPage(msg) => error_page(StatusCode::BAD_REQUEST, &msg),
        Begin::TooMany(msg) => error_page(StatusCode::TOO_MANY_REQUESTS, &msg),
        Begin::RedirectError { location, .. } => Redirect::to(&location).into_response(),
        Begin::Pending { request, .. } => {
            let consent_page = format!("/oauth/consent/{}", request.id);
            let Some(user) = user else {
                return Redirect::to(&format!("/login?next={}", encode(&consent_page)))
                    .into_response();
            };
            match consent::try_remembered(&state.services, request.id, &user, &meta).await {
                Ok(Some(location)) => Redirect::to(&location).into_response(),
                _ => Redirect::to(&consent_page).into_response(),
            }
        }
    }
}

fn unavailable() -> Response {
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Something went wrong on our side. Try again from your app.",
    )
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A phase-1 error: shown to the person, never redirected.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    crate::plain_page::render(
        status,
        "Authorization failed",
        "authorize-error",
        &format!(
            "<h1>This app's request can't be completed</h1><p>{}</p><p class=\"muted\">You were not sent anywhere. \
             Close this tab and try connecting again from the app.</p>",
            crate::plain_page::escape(message)
        ),
    )
}
