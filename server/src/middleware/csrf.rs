//! Cross-site request forgery, first line: a state-changing browser request must come from
//! our own origin. (The second line, the per-session proof in every form, is checked by each
//! server function, so both JS and no-JS forms get the same readable error.)

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{Method, StatusCode, header};

use crate::state::AppState;

pub async fn same_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // The authorization endpoint takes cross-site form posts by design (OAuth clients); it only
    // records a pending request, and consent has its own CSRF proof.
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || req.uri().path() == "/oauth/authorize"
    {
        return next.run(req).await;
    }
    let headers = req.headers();
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
        return refuse("This form was sent from another site.".into());
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
        && origin != state.config.public_url
    {
        return refuse(format!(
            "This form was sent from {origin}, but this Gatehouse is configured for {} (GATEHOUSE_PUBLIC_URL). \
             Open Gatehouse at that address and try again.",
            state.config.public_url
        ));
    }
    next.run(req).await
}

fn refuse(reason: String) -> Response {
    tracing::warn!(%reason, "refused a cross-origin state-changing request");
    crate::plain_page::render(
        StatusCode::FORBIDDEN,
        "Request refused",
        "request-refused",
        &format!(
            "<h1>Request refused</h1><p>{}</p><p>Nothing was changed.</p>\
             <a class=\"button secondary\" href=\"/\">Go home</a>",
            crate::plain_page::escape(&reason)
        ),
    )
}
