//! The HTTP layer's one error type. Clients get `{"error":{"code","message","details"}}`
//! with a fitting status; internal causes are logged (inside the request's span, which
//! carries the request id) and never echoed.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
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

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// A field-level validation failure: 422 with `details.fields[{field, message}]`.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            format!("{field}: {message}"),
        )
        .with_details(json!({ "fields": [ { "field": field, "message": message } ] }))
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

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => ApiError::conflict(format!("{what} already exists")),
            StoreError::NotFound(what) => ApiError::not_found(what),
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::internal()
            }
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        tracing::error!(error = %e, "internal failure");
        ApiError::internal()
    }
}

/// Result of a JSON API handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<runtime::RuntimeError> for ApiError {
    fn from(e: runtime::RuntimeError) -> Self {
        use runtime::RuntimeError as R;
        let message = e.to_string();
        match e {
            R::UnknownObject { .. } | R::NotFound { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
            }
            R::Forbidden { .. } => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            R::Validation(fields) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", message)
                    .with_details(serde_json::json!({ "fields": fields }))
            }
            R::VersionConflict { current, .. } => {
                ApiError::new(StatusCode::CONFLICT, "version_conflict", message)
                    .with_details(serde_json::json!({ "currentVersion": current }))
            }
            R::InvalidTransition {
                state, transition, ..
            } => ApiError::new(StatusCode::CONFLICT, "invalid_transition", message)
                .with_details(serde_json::json!({ "state": state, "transition": transition })),
            R::Immutable { .. } => ApiError::new(StatusCode::CONFLICT, "immutable", message),
            R::Restricted {
                by_object,
                by_field,
                count,
                ..
            } => ApiError::new(StatusCode::CONFLICT, "restricted", message).with_details(
                serde_json::json!({ "referencedBy": by_object, "field": by_field, "count": count }),
            ),
            R::Storage(m) => {
                tracing::error!(error = %m, "record storage failure");
                ApiError::internal()
            }
        }
    }
}
