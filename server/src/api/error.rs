//! The REST API's one error type: every refusal is JSON `{"error": code, "message": words}`
//! (plus `field` for bad input) with the status its cause names. Nothing secret goes in it.

use app::error::AppError;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;

/// The realm named in the API's `WWW-Authenticate` challenges.
pub const REALM: &str = "Gatehouse API";

/// An error as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"error": "forbidden", "message": "Your role viewer can't manage this organization; ask an admin of the organization for access."}))]
pub struct ErrorBody {
    /// A stable code for programs: `unauthorized`, `invalid_token`, `forbidden`,
    /// `insufficient_scope`, `csrf_failed`, `not_found`, `method_not_allowed`,
    /// `invalid_request`, `validation_failed`, `conflict`, `payload_too_large`,
    /// `unsupported_media_type`, `too_many_requests`, `internal_error`.
    pub error: String,
    /// What went wrong and what to do, in plain words.
    pub message: String,
    /// The request field the message is about (validation errors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    /// A `WWW-Authenticate` value (401, and 403 for a missing scope).
    pub challenge: Option<String>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, error: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                error: error.to_string(),
                message: message.into(),
                field: None,
            },
            challenge: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.body.field = Some(field.into());
        self
    }

    /// No credentials at all (RFC 6750 §3.1: a challenge without an error code).
    pub fn unauthorized() -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authenticate with a personal access token (Authorization: Bearer gate_pat_…) or sign in to Gatehouse in this browser.",
        );
        e.challenge = Some(format!(r#"Bearer realm="{REALM}""#));
        e
    }

    /// Credentials that are not, or no longer, valid.
    pub fn invalid_token(why: impl Into<String>) -> Self {
        let why = why.into();
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "invalid_token", why.clone());
        e.challenge = Some(format!(
            r#"Bearer realm="{REALM}", error="invalid_token", error_description="{}""#,
            quoted(&why)
        ));
        e
    }

    pub fn forbidden(why: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", why)
    }

    /// A valid token without the scope this call needs (RFC 6750 §3.1).
    pub fn insufficient_scope(scope: &str, why: impl Into<String>) -> Self {
        let why = why.into();
        let mut e = Self::new(StatusCode::FORBIDDEN, "insufficient_scope", why.clone());
        e.challenge = Some(format!(
            r#"Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}", error_description="{}""#,
            quoted(&why)
        ));
        e
    }

    pub fn not_found(why: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", why)
    }

    pub fn invalid_request(why: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", why)
    }

    pub fn validation(field: &str, why: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", why).with_field(field)
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "Gatehouse can't answer right now; try again in a moment.",
        )
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let message = e.to_string();
        match e {
            AppError::Unauthenticated => Self::unauthorized(),
            AppError::Forbidden(_) => Self::forbidden(message),
            AppError::TwoFactorRequired(_) => {
                Self::new(StatusCode::FORBIDDEN, "two_factor_required", message)
            }
            AppError::Csrf => Self::new(StatusCode::FORBIDDEN, "csrf_failed", message),
            AppError::NotFound(_) => Self::not_found(message),
            AppError::Invalid { field, .. } => {
                let e = Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    message,
                );
                match field {
                    Some(f) => e.with_field(f),
                    None => e,
                }
            }
            AppError::Conflict(_) => Self::new(StatusCode::CONFLICT, "conflict", message),
            AppError::TooManyRequests(_) => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message)
            }
            AppError::Unavailable => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                message,
            ),
            AppError::Internal | AppError::Transport(_) => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                AppError::Internal.to_string(),
            ),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                format!("The JSON body doesn't fit this call: {}", e.body_text()),
            ),
            JsonRejection::JsonSyntaxError(e) => {
                Self::invalid_request(format!("The body is not valid JSON: {}", e.body_text()))
            }
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON, with Content-Type: application/json.",
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                too_large()
            }
            other => Self::invalid_request(other.body_text()),
        }
    }
}

pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!(
            "The request body is larger than this API accepts ({} KiB).",
            super::MAX_BODY_BYTES / 1024
        ),
    )
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            format!("The query string doesn't fit this call: {}", r.body_text()),
        )
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::invalid_request(r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = %self.status, error = %self.body.error, "API request failed");
        } else {
            tracing::debug!(status = %self.status, error = %self.body.error, "API request refused");
        }
        let mut res = (self.status, Json(self.body)).into_response();
        if let Some(v) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        res
    }
}

/// A quoted-string parameter value: no quotes or backslashes, printable ASCII only.
fn quoted(v: &str) -> String {
    v.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => ' ',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_errors_keep_their_status_and_field() {
        let e: ApiError = AppError::invalid("pat_max_ttl_days", "too long").into();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.body.field.as_deref(), Some("pat_max_ttl_days"));
        let e: ApiError = AppError::Internal.into();
        assert_eq!(e.body.error, "internal_error");
        let e: ApiError = AppError::not_found("gone").into();
        assert_eq!(
            (e.status, e.body.message.as_str()),
            (StatusCode::NOT_FOUND, "gone")
        );
    }

    #[test]
    fn challenges_stay_quoted_strings() {
        let e = ApiError::invalid_token("a \"b\" é");
        assert_eq!(
            e.challenge.as_deref(),
            Some(
                r#"Bearer realm="Gatehouse API", error="invalid_token", error_description="a 'b'  ""#
            )
        );
    }
}
