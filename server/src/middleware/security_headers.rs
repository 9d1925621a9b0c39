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
