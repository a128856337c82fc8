//! The HTTP layer's one error type and the one place where the application layer's
//! errors become HTTP answers. Clients get `{"error":{"code","message","details"}}`
//! with a fitting status; internal causes are logged (inside the request's span,
//! which carries the request id) and never echoed.

use app::AppError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Always an object (empty when there is nothing to add).
    pub details: Map<String, Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Map::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "log in first")
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{} not found", what.into()),
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the request id in the x-request-id header identifies it in the server log",
        )
    }

    pub fn body(&self) -> Value {
        json!({ "error": { "code": self.code, "message": self.message, "details": self.details } })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

/// The status an application error is answered with.
pub fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::NotFound { .. } => StatusCode::NOT_FOUND,
        AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
        AppError::Invalid(_) | AppError::NoAnswer(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
        AppError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
        AppError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
        AppError::Upstream(_) => StatusCode::BAD_GATEWAY,
        AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        if let AppError::Internal(cause) = &e {
            tracing::error!(error = %format!("{cause:#}"), "internal failure");
            return ApiError::internal();
        }
        ApiError {
            status: status_of(&e),
            code: e.code(),
            message: e.to_string(),
            details: e.details(),
        }
    }
}

/// Result of a JSON API handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_application_error_has_its_status_and_details_stay_objects() {
        let cases: Vec<(AppError, u16)> = vec![
            (AppError::not_found("user x"), 404),
            (AppError::bad_request("page: no"), 400),
            (AppError::invalid("name", "is required"), 422),
            (AppError::conflict("taken"), 409),
            (
                AppError::Forbidden {
                    code: "forbidden",
                    reason: "no".into(),
                },
                403,
            ),
            (
                AppError::Unauthenticated {
                    message: "no".into(),
                },
                401,
            ),
            (
                AppError::Throttled {
                    message: "wait".into(),
                    retry_after_secs: 3,
                },
                429,
            ),
            (
                AppError::PreconditionFailed {
                    message: "stale".into(),
                    current_version: 2,
                },
                412,
            ),
            (
                AppError::Upstream(llm::LlmError::new(llm::ErrorKind::Timeout, "slow")),
                502,
            ),
            (
                AppError::Unavailable {
                    message: "down".into(),
                },
                503,
            ),
            (AppError::Internal(anyhow::anyhow!("secret cause")), 500),
        ];
        for (e, status) in cases {
            let api = ApiError::from(e);
            assert_eq!(api.status.as_u16(), status, "{api}");
            assert!(api.body()["error"]["details"].is_object(), "{api}");
            assert!(!api.message.contains("secret cause"));
        }
    }
}
