//! The application's one error type. It crosses the wire (server functions return it) so pages
//! can show precise messages; server-only conversions live behind `ssr`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in to continue.")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    /// The org asks for two-factor sign-in and the account doesn't have it: pages send the
    /// person to set it up.
    #[error("{0}")]
    TwoFactorRequired(String),
    #[error("{0}")]
    NotFound(String),
    /// Bad input; `field` names the form field the message belongs next to.
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("This form has expired or was sent from another site. Reload the page and try again.")]
    Csrf,
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The database can't be reached right now: try again in a few seconds (503).
    #[error("Gatehouse can't reach its database right now. Please try again in a few seconds.")]
    Unavailable,
    /// Transport-level failures reported by the server-function machinery.
    #[error("{0}")]
    Transport(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }

    /// The form field this error belongs to, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthenticated => 401,
            Self::Forbidden(_) | Self::TwoFactorRequired(_) | Self::Csrf => 403,
            Self::NotFound(_) => 404,
            Self::Invalid { .. } => 422,
            Self::Conflict(_) => 409,
            Self::TooManyRequests(_) => 429,
            Self::Internal => 500,
            Self::Unavailable => 503,
            Self::Transport(_) => 502,
        }
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            // Arguments that fail to parse are bad input, not a server fault.
            E::Args(msg) => Self::Invalid {
                field: None,
                message: format!("The form was incomplete: {msg}"),
            },
            other => Self::Transport(other.to_string()),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(feature = "ssr")]
pub use ssr::database_unavailable;

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;

    impl From<sea_orm::DbErr> for AppError {
        fn from(err: sea_orm::DbErr) -> Self {
            if database_unavailable(&err) {
                tracing::warn!(error = %err, "database unavailable");
                return AppError::Unavailable;
            }
            tracing::error!(error = %err, "database error");
            AppError::Internal
        }
    }

    /// Whether `err` says the database can't be reached (down, restarting, pool exhausted)
    /// rather than that a statement was wrong: the first is worth a retry, the second is a bug.
    pub fn database_unavailable(err: &sea_orm::DbErr) -> bool {
        use sea_orm::sqlx::Error as S;
        use sea_orm::{DbErr, RuntimeErr};
        let e = match err {
            DbErr::ConnectionAcquire(_) => return true,
            DbErr::Conn(RuntimeErr::SqlxError(e))
            | DbErr::Exec(RuntimeErr::SqlxError(e))
            | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
            DbErr::Conn(_) => return true,
            _ => return false,
        };
        match e.as_ref() {
            S::Io(_) | S::Tls(_) | S::Protocol(_) | S::PoolTimedOut | S::PoolClosed => true,
            S::WorkerCrashed => true,
            // Class 08 (connection exception) and 57P0x (the server shutting down or starting).
            S::Database(d) => d
                .code()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57P0")),
            _ => false,
        }
    }

    impl From<sea_orm::TransactionError<AppError>> for AppError {
        fn from(err: sea_orm::TransactionError<AppError>) -> Self {
            match err {
                sea_orm::TransactionError::Connection(db) => db.into(),
                sea_orm::TransactionError::Transaction(app) => app,
            }
        }
    }
}
