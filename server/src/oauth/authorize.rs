//! `GET|POST /oauth/authorize`: validates the request, then sends the browser to sign-in and
//! the consent screen (or straight back, when consent is remembered). Never CORS-enabled.

use app::domain::RequestMeta;
use app::domain::oauth::authorize::{self, AuthorizeRequest, Begin};
use app::domain::oauth::clients::KIND_DYNAMIC;
use app::domain::oauth::consent;
use app::web::SESSION_USER;
use axum::body::Bytes;
use axum::extract::{Extension, RawQuery, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use http::{HeaderMap, Method, StatusCode};
use tower_sessions::Session;
use uuid::Uuid;

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
            Err(e) => return error_page(&e.error_description),
        }
    } else {
        Params::from_pairs(
            url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned(),
        )
    };
    if let Some(dup) = params.first_duplicate(&["client_id", "redirect_uri"]) {
        return error_page(&format!(
            "The parameter {dup} was sent more than once, so the request can't be trusted."
        ));
    }
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
    };
    let user_id = session.get::<Uuid>(SESSION_USER).await.ok().flatten();
    let outcome = match authorize::begin(&state.services, req).await {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %e, "authorization request failed");
            return error_page("Something went wrong on our side. Try again from your app.");
        }
    };
    // A repeated singular parameter is a phase-2 error once the client and redirect are known.
    let outcome = match (outcome, params.first_duplicate(SINGULAR)) {
        (Begin::Pending { request, client }, Some(dup)) => Begin::RedirectError {
            location: authorize::client_redirect(
                &state.services,
                &request.redirect_uri,
                request.state.as_deref(),
                &[
                    ("error", "invalid_request"),
                    (
                        "error_description",
                        &format!("The parameter {dup} was sent more than once."),
                    ),
                ],
            ),
            client,
        },
        (o, _) => o,
    };
    match outcome {
        Begin::ErrorPage(msg) => error_page(&msg),
        Begin::RedirectError { client, location } => {
            // Errors go back to self-registered apps only after sign-in: otherwise anyone could
            // register a client and use us to bounce visitors to their site.
            if client.kind == KIND_DYNAMIC && user_id.is_none() {
                let here = format!("/oauth/authorize?{}", serialize(&params));
                return Redirect::to(&format!("/login?next={}", encode(&here))).into_response();
            }
            Redirect::to(&location).into_response()
        }
        Begin::Pending { request, .. } => {
            let consent_page = format!("/oauth/consent/{}", request.id);
            let Some(user_id) = user_id else {
                return Redirect::to(&format!("/login?next={}", encode(&consent_page)))
                    .into_response();
            };
            let user = match app::domain::users::find(&state.services.db, user_id).await {
                Ok(Some(u)) => u,
                _ => {
                    return Redirect::to(&format!("/login?next={}", encode(&consent_page)))
                        .into_response();
                }
            };
            match consent::try_remembered(&state.services, request.id, &user, &meta).await {
                Ok(Some(location)) => Redirect::to(&location).into_response(),
                _ => Redirect::to(&consent_page).into_response(),
            }
        }
    }
}

fn serialize(p: &Params) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for name in SINGULAR.iter().chain(["resource"].iter()) {
        for v in p.all(name) {
            s.append_pair(name, &v);
        }
    }
    s.finish()
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A phase-1 error: shown to the person, never redirected.
pub fn error_page(message: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Authorization failed · Gatehouse</title><link rel=\"stylesheet\" href=\"/pkg/gatehouse.css\"></head><body>\
         <main class=\"container\"><section class=\"panel error-panel\" role=\"alert\" data-testid=\"authorize-error\">\
         <h1>This app's request can't be completed</h1><p>{}</p><p class=\"muted\">You were not sent anywhere. \
         Close this tab and try connecting again from the app.</p></section></main></body></html>",
        escape(message)
    );
    let mut res = (StatusCode::BAD_REQUEST, Html(body)).into_response();
    res.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    res
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
