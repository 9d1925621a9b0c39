//! What the server's HTTP edge and the app agree on: session keys and request extensions.

/// Session key of the signed-in user's id.
pub const SESSION_USER: &str = "user_id";
/// Session key of the org the user is working in.
pub const SESSION_ORG: &str = "org_id";
/// Session key of the per-session CSRF proof that every state-changing form carries.
pub const SESSION_CSRF: &str = "csrf";
/// Session key of a message for the next page.
pub const SESSION_FLASH: &str = "flash";
/// Form field name of the CSRF proof.
pub const CSRF_FIELD: &str = "csrf";

/// The flash message popped from the session by the server for this page view.
#[derive(Debug, Clone)]
pub struct PoppedFlash(pub crate::model::Flash);
