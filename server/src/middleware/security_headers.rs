//! Security headers on every response (set only where a handler did not set its own).

use http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// Pages may not be framed (clickjacking), sniffed, or leak their URL to other sites. The
/// Referer is kept for same-origin requests: plain HTML forms need it to return to their page.
pub fn layers() -> Vec<SetResponseHeaderLayer<HeaderValue>> {
    // Pages set their own, with their script nonce; this is for everything else.
    let csp = app::web::content_security_policy(None);
    let headers: [(HeaderName, &str); 5] = [
        (header::CONTENT_SECURITY_POLICY, csp.as_str()),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    headers
        .into_iter()
        .map(|(name, value)| {
            SetResponseHeaderLayer::if_not_present(
                name,
                HeaderValue::from_str(value).expect("valid header value"),
            )
        })
        .collect()
}

/// Where a page render leaves the nonce of its inline scripts, so that the response's CSP can
/// name it. Set from the Leptos render context (see `router::build_router`), read by
/// [`page_csp`]: the CSP no longer depends on headers the render hands back through
/// `ResponseOptions`, which now and then (about 1 page load in 30 under the browser tests)
/// reached the response without it, so the page's own scripts were blocked and it never
/// hydrated.
#[derive(Clone, Default)]
pub struct NonceSlot(std::sync::Arc<std::sync::OnceLock<String>>);

impl NonceSlot {
    /// Records the nonce of the page being rendered for this request.
    pub fn fill_from_render_context() {
        use leptos::prelude::use_context;
        if let (Some(parts), Some(nonce)) = (
            use_context::<http::request::Parts>(),
            leptos::nonce::use_nonce(),
        ) && let Some(slot) = parts.extensions.get::<NonceSlot>()
        {
            let _ = slot.0.set(nonce.to_string());
        }
    }
}

/// Browser routes: an HTML page rendered here gets the CSP naming its script nonce.
pub async fn page_csp(
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let slot = NonceSlot::default();
    req.extensions_mut().insert(slot.clone());
    let mut res = next.run(req).await;
    if let Some(nonce) = slot.0.get()
        && let Ok(value) = HeaderValue::from_str(&app::web::content_security_policy(Some(nonce)))
    {
        res.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    res
}
