//! Security headers on every response (set only where a handler did not set its own).

use http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// Pages may not be framed (clickjacking), sniffed, or leak their URL to other sites. The
/// Referer is kept for same-origin requests: plain HTML forms need it to return to their page.
pub fn layers() -> Vec<SetResponseHeaderLayer<HeaderValue>> {
    let csp = "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; \
               style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
               frame-ancestors 'none'; base-uri 'none'; object-src 'none'";
    let headers: [(HeaderName, &str); 5] = [
        (header::CONTENT_SECURITY_POLICY, csp),
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
            SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
        })
        .collect()
}
