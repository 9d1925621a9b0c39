//! What the server's HTTP edge and the app agree on: session keys, request extensions, and
//! the one session authentication ([`session`]) every browser-facing door uses.

pub mod session;

/// Session key of the signed-in user's id.
pub const SESSION_USER: &str = "user_id";
/// Session key of when the user signed in on this session (Unix milliseconds).
pub const SESSION_SIGNED_IN: &str = "signed_in_at";
/// Session key of the org the user is working in.
pub const SESSION_ORG: &str = "org_id";
/// Session key of the per-session CSRF proof that every state-changing form carries.
pub const SESSION_CSRF: &str = "csrf";
/// Session key of a sign-in waiting for its second factor (see
/// [`session::PendingSecondFactor`]).
pub const SESSION_PENDING_2FA: &str = "pending_second_factor";
/// Session key of a message for the next page.
pub const SESSION_FLASH: &str = "flash";
/// Form field name of the CSRF proof.
pub const CSRF_FIELD: &str = "csrf";

/// Cookie of an anonymous visitor's CSRF proof (see [`session::PreSessionCsrf`]).
pub const CSRF_COOKIE: &str = "gatehouse_csrf";

/// The flash message popped from the session by the server for this page view.
#[derive(Debug, Clone)]
pub struct PoppedFlash(pub crate::model::Flash);

/// The Content-Security-Policy of Gatehouse's responses. Pages pass the per-response nonce that
/// Leptos puts on its inline scripts, so no other inline script can run; responses without a
/// nonce (errors, JSON) allow no inline script at all.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let scripts = match nonce {
        Some(n) => format!("'self' 'nonce-{n}' 'wasm-unsafe-eval'"),
        None => "'self' 'wasm-unsafe-eval'".to_string(),
    };
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
}
