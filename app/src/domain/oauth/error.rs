//! Protocol errors, as RFC 6749 §5.2 / RFC 7591 §3.2.2 / RFC 8707 name them. The server's
//! OAuth endpoints turn them into the JSON error body (`server::oauth::reply`), or the `error`
//! parameter of an authorization redirect.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OAuthError {
    pub error: &'static str,
    pub error_description: String,
    /// Client authentication failed with HTTP Basic: answer 401 with `WWW-Authenticate: Basic`.
    #[serde(skip)]
    pub basic_challenge: bool,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            error_description: description.into(),
            basic_challenge: false,
        }
    }

    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new("invalid_request", d)
    }
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new("invalid_client", d)
    }
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new("invalid_grant", d)
    }
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new("invalid_scope", d)
    }
    pub fn invalid_target(d: impl Into<String>) -> Self {
        Self::new("invalid_target", d)
    }
    pub fn unauthorized_client(d: impl Into<String>) -> Self {
        Self::new("unauthorized_client", d)
    }
    pub fn unsupported_grant_type(d: impl Into<String>) -> Self {
        Self::new("unsupported_grant_type", d)
    }
    pub fn access_denied(d: impl Into<String>) -> Self {
        Self::new("access_denied", d)
    }
    pub fn invalid_redirect_uri(d: impl Into<String>) -> Self {
        Self::new("invalid_redirect_uri", d)
    }
    pub fn invalid_client_metadata(d: impl Into<String>) -> Self {
        Self::new("invalid_client_metadata", d)
    }
    pub fn server_error() -> Self {
        Self::new(
            "server_error",
            "The server could not complete the request; try again.",
        )
    }

    /// The database can't be reached right now (RFC 6749 §4.1.2.1's `temporarily_unavailable`).
    pub fn temporarily_unavailable() -> Self {
        Self::new(
            "temporarily_unavailable",
            "The server can't reach its database right now; try again in a few seconds.",
        )
    }

    pub fn status(&self) -> u16 {
        match self.error {
            "invalid_client" => 401,
            "server_error" => 500,
            "temporarily_unavailable" => 503,
            "too_many_requests" => 429,
            _ => 400,
        }
    }
}

impl From<sea_orm::DbErr> for OAuthError {
    fn from(e: sea_orm::DbErr) -> Self {
        crate::error::AppError::from(e).into()
    }
}

impl From<crate::error::AppError> for OAuthError {
    fn from(e: crate::error::AppError) -> Self {
        match e {
            crate::error::AppError::Internal => OAuthError::server_error(),
            crate::error::AppError::Unavailable => OAuthError::temporarily_unavailable(),
            other => OAuthError::invalid_request(other.to_string()),
        }
    }
}
